/*
 * runner.h -- run the suites on several plugins, each in a child process
 * (a crash or a hang costs that plugin's remaining results, not the run),
 * and gather the results and Google Benchmark JSON of all.
 */
#ifndef TG_BENCH_RUNNER_H
#define TG_BENCH_RUNNER_H

#include "tgbench.h"

typedef struct bench_opts {
    const char *suites;    /* "op,overhead,model"; NULL = all  */
    const char *filter;    /* regex over "<class>/<workload>"; NULL = all */
    const char *json_path; /* merged Google Benchmark JSON; NULL = none */
    int quick;
    double min_time;       /* seconds per benchmark; 0: 0.05 quick, 0.2 otherwise */
    int timeout_s;         /* per plugin; 0 = none */
    int verbose;
} bench_opts;

typedef struct bench_plugin_run {
    char name[64];
    int ok;                /* 1: the child ran to the end  */
    char error[512];       /* why not (open failure, crash, timeout) */
    tgb_result *results;
    size_t count;
} bench_plugin_run;

/* Runs every plugin in turn; out[i] for plugins[i]. Returns 0, or -1 if the
 * JSON file could not be written (the runs are still filled in). */
int bench_run_plugins(const char *const *plugins, int n, const bench_opts *o, bench_plugin_run *out);
void bench_plugin_run_free(bench_plugin_run *runs, int n);

/* The result of plugin run r for workload "<class>/<workload>"; NULL if none. */
const tgb_result *bench_find(const bench_plugin_run *r, const char *workload);
/* "<class>/<workload>" of a result name "<plugin>/<class>/<workload>". */
const char *bench_workload(const char *name);

/* Names of the plugins tg_plugin_scan finds loadable, deduplicated, ref
 * first; returns the count (at most max). Each name is malloc'd. */
int bench_all_plugins(char **out, int max);

#endif
