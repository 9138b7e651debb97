/* tg bench: run the benchmark suites on plugins and print them side by side. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tg/runtime.h>
#include "plot.h"
#include "report.h"
#include "runner.h"

int tg_cmd_bench(int argc, char **argv);

#define MAX_PLUGINS 16

static void usage(FILE *f) {
    fprintf(f,
            "usage: tg bench [--plugin NAME|--all] [--suite S[,S]] [--filter REGEX] [--json FILE]\n"
            "                [--quick] [--min-time SECONDS] [--plot FILE.svg] [--verbose]\n\n"
            "Runs the benchmark suites (op, overhead, model, tensor) on each plugin, in a child process\n"
            "per plugin, and prints the figures side by side. --all (the default) takes every\n"
            "plugin that loads; --plugin may be repeated. --filter matches '<class>/<workload>'.\n"
            "--json writes Google Benchmark's JSON (names '<plugin>/<class>/<workload>'; compare\n"
            "two plugins with its compare.py: 'compare.py filters FILE ref/ cpu/').\n"
            "--plot writes an SVG: a roofline of each plugin's kernels against this host's\n"
            "measured peak FLOP/s and bandwidth, and a bar chart of the ranking.\n");
}

int tg_cmd_bench(int argc, char **argv) {
    char *plugins[MAX_PLUGINS];
    int nplugins = 0, all = 0;
    const char *plot_path = NULL;
    bench_opts o = {0};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int has_val = i + 1 < argc;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--all")) {
            all = 1;
        } else if (!strcmp(a, "--quick")) {
            o.quick = 1;
        } else if (!strcmp(a, "--verbose") || !strcmp(a, "-v")) {
            o.verbose = 1;
        } else if (!strcmp(a, "--plugin") && has_val) {
            if (nplugins < MAX_PLUGINS) plugins[nplugins++] = strdup(argv[++i]);
        } else if (!strcmp(a, "--suite") && has_val) {
            o.suites = argv[++i];
        } else if (!strcmp(a, "--filter") && has_val) {
            o.filter = argv[++i];
        } else if (!strcmp(a, "--json") && has_val) {
            o.json_path = argv[++i];
        } else if (!strcmp(a, "--plot") && has_val) {
            plot_path = argv[++i];
        } else if (!strcmp(a, "--min-time") && has_val) {
            o.min_time = atof(argv[++i]);
        } else {
            fprintf(stderr, "tg bench: unknown or incomplete option '%s'\n", a);
            usage(stderr);
            return 2;
        }
    }
    if (o.suites) {
        for (const char *p = o.suites; *p;) {
            size_t len = strcspn(p, ",");
            if (!((len == 2 && !strncmp(p, "op", 2)) || (len == 8 && !strncmp(p, "overhead", 8)) ||
                  (len == 5 && !strncmp(p, "model", 5)) || (len == 6 && !strncmp(p, "tensor", 6)))) {
                fprintf(stderr, "tg bench: unknown suite '%.*s' (op, overhead, model, tensor)\n", (int)len, p);
                return 2;
            }
            p += len + (p[len] == ',');
        }
    }
    if (all || nplugins == 0) nplugins += bench_all_plugins(plugins + nplugins, MAX_PLUGINS - nplugins);
    if (nplugins == 0) {
        fprintf(stderr, "tg bench: no plugin found (searched %s)\n", tg_plugin_search_path());
        return 1;
    }
    o.timeout_s = o.quick ? 120 : 0;
    bench_plugin_run runs[MAX_PLUGINS];
    int rc = bench_run_plugins((const char *const *)plugins, nplugins, &o, runs);
    if (rc != 0) fprintf(stderr, "tg bench: could not write %s\n", o.json_path);
    bench_print_table(stdout, runs, nplugins);
    if (plot_path) {
        if (bench_plot_write(plot_path, runs, nplugins, NULL) != 0) {
            fprintf(stderr, "tg bench: %s\n", tg_last_error());
            rc = -1;
        } else {
            printf("plot written to %s\n", plot_path);
        }
    }
    int all_ok = 1; /* a plugin that failed to load, crashed, timed out or exited fails the command */
    for (int i = 0; i < nplugins; i++) all_ok &= runs[i].ok;
    bench_plugin_run_free(runs, nplugins);
    for (int i = 0; i < nplugins; i++) free(plugins[i]);
    return rc != 0 || !all_ok ? 1 : 0;
}
