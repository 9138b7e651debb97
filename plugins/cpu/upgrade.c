/* plugins/cpu/upgrade.c -- the second tier: full (-O3) builds of programs
 * that already run on the fast compiler's code, made by one thread per
 * device in the order they were queued. A build lands in the cache first
 * (jit.c: whole entries only), then the program switches over under the
 * lock, so a program destroyed meanwhile is never touched. */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cpu.h"

typedef struct cpu_upgrade {
    struct cpu_upgrade *next;
    uint32_t n;
    tg_program **progs; /* NULL where the program was destroyed meanwhile */
    cpu_jit_job *jobs;  /* sources are our copies                         */
} cpu_upgrade;

struct cpu_upgrader {
    cpu_jit *jit;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cv;
    cpu_upgrade *head, *tail, *busy; /* queued; being built            */
    int stop;
    uint64_t upgraded, failed;
};

static void upgrade_free(cpu_upgrade *b) {
    if (!b) return;
    for (uint32_t i = 0; b->jobs && i < b->n; i++) free((char *)b->jobs[i].src);
    free(b->progs);
    free(b->jobs);
    free(b);
}

static void *upgrader_main(void *arg) {
    cpu_upgrader *u = arg;
    /* the compilers it starts inherit this thread's niceness (Linux): they
     * yield to the program, which runs on the fast tier meanwhile */
    setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), 10);
    pthread_mutex_lock(&u->lock);
    for (;;) {
        while (!u->head && !u->stop) pthread_cond_wait(&u->cv, &u->lock);
        cpu_upgrade *b = u->head;
        if (!b) break;
        u->head = b->next;
        if (!u->head) u->tail = NULL;
        u->busy = b;
        pthread_mutex_unlock(&u->lock);
        cpu_jit_build(u->jit, b->jobs, b->n);
        pthread_mutex_lock(&u->lock);
        for (uint32_t i = 0; i < b->n; i++) {
            cpu_jit_job *job = &b->jobs[i];
            int ok = b->progs[i] && job->st == TG_OK && job->handle && cpu_program_upgrade(b->progs[i], job) == TG_OK;
            if (!ok && job->handle) dlclose(job->handle);
            if (ok) u->upgraded++;
            else if (b->progs[i]) u->failed++;
            if (!ok && b->progs[i] && job->st != TG_OK) /* correct still, only slower: say why */
                fprintf(stderr, "tg cpu: a kernel stays on the fast tier, its full build failed: %.300s\n", job->err);
        }
        u->busy = NULL;
        upgrade_free(b);
        pthread_cond_broadcast(&u->cv);
    }
    pthread_mutex_unlock(&u->lock);
    return NULL;
}

tg_status cpu_upgrader_create(cpu_jit *jit, cpu_upgrader **out) {
    cpu_upgrader *u = calloc(1, sizeof *u);
    if (!u) return TG_ERR_NO_MEMORY;
    u->jit = jit;
    pthread_mutex_init(&u->lock, NULL);
    pthread_cond_init(&u->cv, NULL);
    if (pthread_create(&u->thread, NULL, upgrader_main, u) != 0) {
        pthread_cond_destroy(&u->cv);
        pthread_mutex_destroy(&u->lock);
        free(u);
        return TG_ERR_NO_MEMORY;
    }
    *out = u;
    return TG_OK;
}

void cpu_upgrader_destroy(cpu_upgrader *u) {
    if (!u) return;
    pthread_mutex_lock(&u->lock);
    u->stop = 1;
    pthread_cond_broadcast(&u->cv);
    pthread_mutex_unlock(&u->lock);
    pthread_join(u->thread, NULL);
    pthread_cond_destroy(&u->cv);
    pthread_mutex_destroy(&u->lock);
    free(u);
}

tg_status cpu_upgrader_add(cpu_upgrader *u, tg_program *const *progs, const cpu_jit_job *jobs, uint32_t n) {
    cpu_upgrade *b = calloc(1, sizeof *b);
    if (b) {
        b->progs = calloc(n, sizeof *b->progs);
        b->jobs = calloc(n, sizeof *b->jobs);
    }
    if (!b || !b->progs || !b->jobs) {
        upgrade_free(b);
        return TG_ERR_NO_MEMORY;
    }
    b->n = n;
    for (uint32_t i = 0; i < n; i++) {
        b->progs[i] = progs[i];
        b->jobs[i].small = jobs[i].small;
        b->jobs[i].src = strdup(jobs[i].src);
        if (!b->jobs[i].src) {
            upgrade_free(b);
            return TG_ERR_NO_MEMORY;
        }
    }
    pthread_mutex_lock(&u->lock);
    if (u->tail) u->tail->next = b;
    else u->head = b;
    u->tail = b;
    pthread_cond_broadcast(&u->cv);
    pthread_mutex_unlock(&u->lock);
    return TG_OK;
}

static void forget_in(cpu_upgrade *b, tg_program *p) {
    for (uint32_t i = 0; i < b->n; i++)
        if (b->progs[i] == p) b->progs[i] = NULL;
}

void cpu_upgrader_forget(cpu_upgrader *u, tg_program *p) {
    if (!u) return;
    pthread_mutex_lock(&u->lock);
    if (u->busy) forget_in(u->busy, p);
    for (cpu_upgrade *b = u->head; b; b = b->next) forget_in(b, p);
    pthread_mutex_unlock(&u->lock);
}

void cpu_upgrader_wait(cpu_upgrader *u, uint64_t *upgraded, uint64_t *failed) {
    pthread_mutex_lock(&u->lock);
    while (u->head || u->busy) pthread_cond_wait(&u->cv, &u->lock);
    *upgraded = u->upgraded;
    *failed = u->failed;
    pthread_mutex_unlock(&u->lock);
}
