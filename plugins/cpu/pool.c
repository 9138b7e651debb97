/* plugins/cpu/pool.c -- a persistent pool of worker threads. The caller runs
 * part 0 of each job itself; workers spin briefly for the next job, then sleep. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "cpu.h"

#define CPU_SPIN 20000

struct cpu_pool {
    int size; /* threads including the caller */
    pthread_t *threads;
    pthread_mutex_t lock;
    pthread_cond_t wake, done;
    atomic_uint gen;     /* bumped per job */
    atomic_int pending;  /* worker parts not finished */
    int stop;
    cpu_task_fn fn;
    void *ctx;
    int nparts;
};

typedef struct worker_arg {
    cpu_pool *pool;
    int index;
} worker_arg;

static void *worker(void *p) {
    worker_arg *wa = p;
    cpu_pool *pool = wa->pool;
    int me = wa->index;
    free(wa);
    unsigned seen = 0;
    for (;;) {
        unsigned g;
        int spins = 0;
        while ((g = atomic_load_explicit(&pool->gen, memory_order_acquire)) == seen && spins < CPU_SPIN) spins++;
        if (g == seen) {
            pthread_mutex_lock(&pool->lock);
            while ((g = atomic_load(&pool->gen)) == seen && !pool->stop) pthread_cond_wait(&pool->wake, &pool->lock);
            pthread_mutex_unlock(&pool->lock);
        }
        if (pool->stop) return NULL;
        seen = g;
        if (me < pool->nparts) {
            pool->fn(pool->ctx, me, pool->nparts);
            if (atomic_fetch_sub_explicit(&pool->pending, 1, memory_order_acq_rel) == 1) {
                pthread_mutex_lock(&pool->lock);
                pthread_cond_signal(&pool->done);
                pthread_mutex_unlock(&pool->lock);
            }
        }
    }
}

tg_status cpu_pool_create(int nthreads, cpu_pool **out) {
    if (nthreads < 1) nthreads = 1;
    cpu_pool *p = calloc(1, sizeof *p);
    if (!p) return TG_ERR_NO_MEMORY;
    p->size = nthreads;
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->wake, NULL);
    pthread_cond_init(&p->done, NULL);
    p->threads = calloc((size_t)nthreads, sizeof *p->threads);
    if (!p->threads) { free(p); return TG_ERR_NO_MEMORY; }
    for (int i = 1; i < nthreads; i++) {
        worker_arg *wa = malloc(sizeof *wa);
        if (wa) {
            wa->pool = p;
            wa->index = i;
        }
        if (!wa || pthread_create(&p->threads[i], NULL, worker, wa) != 0) {
            free(wa);
            p->size = i; /* fewer threads: still correct */
            break;
        }
    }
    *out = p;
    return TG_OK;
}

void cpu_pool_destroy(cpu_pool *p) {
    if (!p) return;
    pthread_mutex_lock(&p->lock);
    p->stop = 1;
    atomic_fetch_add(&p->gen, 1);
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->lock);
    for (int i = 1; i < p->size; i++) pthread_join(p->threads[i], NULL);
    pthread_cond_destroy(&p->wake);
    pthread_cond_destroy(&p->done);
    pthread_mutex_destroy(&p->lock);
    free(p->threads);
    free(p);
}

int cpu_pool_size(const cpu_pool *p) { return p->size; }

void cpu_pool_run(cpu_pool *p, cpu_task_fn fn, void *ctx, int nparts) {
    if (nparts > p->size) nparts = p->size;
    if (nparts <= 1) {
        fn(ctx, 0, 1);
        return;
    }
    p->fn = fn;
    p->ctx = ctx;
    p->nparts = nparts;
    atomic_store(&p->pending, nparts - 1);
    pthread_mutex_lock(&p->lock);
    atomic_fetch_add_explicit(&p->gen, 1, memory_order_release);
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->lock);
    fn(ctx, 0, nparts);
    int spins = 0;
    while (atomic_load_explicit(&p->pending, memory_order_acquire) > 0 && spins < CPU_SPIN) spins++;
    if (atomic_load(&p->pending) > 0) {
        pthread_mutex_lock(&p->lock);
        while (atomic_load(&p->pending) > 0) pthread_cond_wait(&p->done, &p->lock);
        pthread_mutex_unlock(&p->lock);
    }
}
