/* Runs the suites plugin by plugin in child processes (see runner.h). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "cert.h"
#include "runner.h"
#include "suites.h"

static void send_result(const tgb_result *r, void *ctx) {
    int fd = *(int *)ctx;
    const char *p = (const char *)r;
    size_t left = sizeof *r;
    while (left > 0) {
        ssize_t n = write(fd, p, left);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;
        p += n, left -= (size_t)n;
    }
}

/* The child: open the device, register, run; results stream through fd. */
static int child_main(const char *plugin, const bench_opts *o, const char *json, int fd) {
    bdev d;
    char filter[600];
    tgb_result *res;
    size_t n;
    if (bdev_open(plugin, &d) != TG_OK) {
        tgb_result r;
        memset(&r, 0, sizeof r);
        snprintf(r.name, sizeof r.name, "%s/-/open", plugin);
        r.error = 1;
        snprintf(r.message, sizeof r.message, "%s", tg_last_error());
        send_result(&r, &fd);
        return 3;
    }
    suites_register(&d, o->suites, o->quick);
    if (o->filter) snprintf(filter, sizeof filter, "^%s/(%s)", d.name, o->filter);
    tgb_options to = {o->filter ? filter : NULL, json, o->min_time > 0 ? o->min_time : o->quick ? 0.05 : 0.2,
                      o->verbose, send_result, &fd};
    int rc = tgb_run(&to, &res, &n);
    if (rc == 0) tgb_results_free(res);
    suites_release();
    bdev_close(&d);
    return rc == 0 ? 0 : 1;
}

static int run_one(const char *plugin, const bench_opts *o, const char *json, bench_plugin_run *out) {
    int fds[2];
    memset(out, 0, sizeof *out);
    snprintf(out->name, sizeof out->name, "%s", plugin);
    if (pipe(fds) != 0) return snprintf(out->error, sizeof out->error, "pipe: %s", strerror(errno)), -1;
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]), close(fds[1]);
        return snprintf(out->error, sizeof out->error, "fork: %s", strerror(errno)), -1;
    }
    if (pid == 0) {
        close(fds[0]);
        if (o->timeout_s > 0) alarm((unsigned)o->timeout_s);
        _exit(child_main(plugin, o, json, fds[1]));
    }
    close(fds[1]);
    size_t cap = 0;
    tgb_result r;
    for (;;) {
        size_t got = 0;
        while (got < sizeof r) {
            ssize_t n = read(fds[0], (char *)&r + got, sizeof r - got);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) break;
            got += (size_t)n;
        }
        if (got < sizeof r) break;
        if (out->count == 0 && !r.error) /* label the run by the plugin's own name, not its path */
            snprintf(out->name, sizeof out->name, "%.*s", (int)strcspn(r.name, "/"), r.name);
        if (out->count == cap) {
            tgb_result *grown = realloc(out->results, (cap = cap ? 2 * cap : 32) * sizeof r);
            if (!grown) break;
            out->results = grown;
        }
        out->results[out->count++] = r;
    }
    close(fds[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        out->ok = 1;
    } else if (WIFEXITED(status) && WEXITSTATUS(status) == 3 && out->count == 1) {
        snprintf(out->error, sizeof out->error, "%s", out->results[0].message);
        out->count = 0;
    } else if (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM) {
        snprintf(out->error, sizeof out->error, "timed out after %d s (%zu results kept)", o->timeout_s, out->count);
    } else if (WIFSIGNALED(status)) {
        snprintf(out->error, sizeof out->error, "crashed with signal %d (%s) after %zu results", WTERMSIG(status),
                 strsignal(WTERMSIG(status)), out->count);
    } else {
        snprintf(out->error, sizeof out->error, "exited with status %d after %zu results (its messages are above)",
                 WEXITSTATUS(status), out->count);
    }
    return 0;
}

/* Google Benchmark's JSON is {"context": {...}, "benchmarks": [ ... ]}: keep
 * the first file's context and concatenate every file's benchmarks. */
static int merge_json(const char *path, char **parts, int n) {
    FILE *f = fopen(path, "w");
    int first = 1, wrote_head = 0;
    if (!f) return -1;
    for (int i = 0; i < n; i++) {
        char *s = parts[i] ? bench_read_file(parts[i]) : NULL;
        char *open = s ? strstr(s, "\"benchmarks\": [") : NULL, *close = s ? strrchr(s, ']') : NULL;
        if (!open || !close || close < open) {
            free(s);
            continue;
        }
        open += strlen("\"benchmarks\": [");
        if (!wrote_head) fprintf(f, "%.*s", (int)(open - s), s), wrote_head = 1;
        *close = '\0';
        char *body = open + strspn(open, " \r\n\t");
        if (*body) fprintf(f, "%s%s", first ? "\n    " : ",\n    ", body), first = 0;
        free(s);
    }
    if (!wrote_head) fprintf(f, "{\n  \"context\": {},\n  \"benchmarks\": [");
    fprintf(f, "\n  ]\n}\n");
    return fclose(f) == 0 ? 0 : -1;
}

int bench_run_plugins(const char *const *plugins, int n, const bench_opts *o, bench_plugin_run *out) {
    char **parts = calloc((size_t)n + 1, sizeof *parts);
    int rc = 0;
    for (int i = 0; i < n; i++) {
        if (o->json_path && parts) {
            size_t len = strlen(o->json_path) + 32; /* by index: a plugin may be given as a path */
            if ((parts[i] = malloc(len))) snprintf(parts[i], len, "%s.%d.part", o->json_path, i);
        }
        if (o->verbose) fprintf(stderr, "tg bench: %s\n", plugins[i]);
        run_one(plugins[i], o, parts ? parts[i] : NULL, &out[i]);
    }
    if (o->json_path) rc = parts && merge_json(o->json_path, parts, n) == 0 ? 0 : -1;
    for (int i = 0; parts && i < n; i++) {
        if (parts[i]) remove(parts[i]);
        free(parts[i]);
    }
    free(parts);
    return rc;
}

void bench_plugin_run_free(bench_plugin_run *runs, int n) {
    for (int i = 0; runs && i < n; i++) {
        free(runs[i].results);
        runs[i].results = NULL;
        runs[i].count = 0;
    }
}

const char *bench_workload(const char *name) {
    const char *slash = strchr(name, '/');
    return slash ? slash + 1 : name;
}

const tgb_result *bench_find(const bench_plugin_run *r, const char *workload) {
    for (size_t i = 0; i < r->count; i++)
        if (!strcmp(bench_workload(r->results[i].name), workload)) return &r->results[i];
    return NULL;
}

int bench_all_plugins(char **out, int max) {
    tg_plugin_info *list = NULL;
    size_t count = 0;
    int n = 0;
    if (tg_plugin_scan(&list, &count) != TG_OK) return 0;
    for (int pass = 0; pass < 2; pass++) /* ref first: it is the baseline */
        for (size_t i = 0; i < count; i++) {
            int dup = 0, is_ref = !strcmp(list[i].name, "ref");
            if (list[i].status != TG_OK || is_ref != (pass == 0)) continue;
            for (int j = 0; j < n; j++) dup |= !strcmp(out[j], list[i].name);
            if (!dup && n < max && (out[n] = strdup(list[i].name))) n++;
        }
    tg_plugin_scan_free(list, count);
    return n;
}
