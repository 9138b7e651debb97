/* tg fuzz: differential fuzzing of a plugin against ref with random valid
 * kernels; each failure is shrunk and saved as a case file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <tg/conform.h>
#include "commands.h"

static void usage(FILE *f) {
    fprintf(f,
            "usage: tg fuzz --plugin NAME|PATH [--seconds N] [--seed S] [--out DIR] [--jobs N]\n"
            "               [--timeout S] [--max-failures N] [--ref NAME|PATH]\n\n"
            "Runs random valid kernels (op DAGs over every dtype, views, reductions, fusion)\n"
            "on the plugin and on ref and judges them like the conformance suite. Each\n"
            "failing kernel is shrunk and written to DIR/fuzz-SEED.case (default DIR: .);\n"
            "'tg conform --plugin X --case-file F' replays it. Defaults: 10 seconds, seed\n"
            "from the clock, stop after 3 failures. Exit status 1 if anything failed.\n");
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int is_bad(tgc_result r) { return r == TGC_FAIL || r == TGC_CRASH || r == TGC_TIMEOUT; }

typedef struct shrink_ctx {
    const tgc_options *opt;
    tgc_result want;
} shrink_ctx;

/* Run one case in a child; returns its outcome's result (detail freed). */
static tgc_result run_one(const tgc_case *c, const tgc_options *opt, char **detail) {
    tgc_catalog cat = {0};
    tgc_outcome out = {0};
    size_t sel = 0;
    tgc_result r = TGC_NOTRUN;
    if (tgc_catalog_add(&cat, c) == TG_OK && tgc_run(&cat, &sel, 1, opt, NULL, &out) == TG_OK) r = out.result;
    if (detail) *detail = out.detail;
    else free(out.detail);
    tgc_catalog_free(&cat);
    return r;
}

static int still_fails(const tgc_case *c, void *p) {
    const shrink_ctx *ctx = p;
    return run_one(c, ctx->opt, NULL) == ctx->want;
}

int tg_cmd_fuzz(int argc, char **argv) {
    const char *plugin = NULL, *ref = "ref", *dir = ".";
    double seconds = 10, timeout = 20;
    unsigned long long seed = (unsigned long long)time(NULL);
    int jobs = 1, max_fail = 3;
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(o, "--help") || !strcmp(o, "-h")) { usage(stdout); return 0; }
        if (!v) { fprintf(stderr, "tg fuzz: '%s' needs a value (or is unknown); see 'tg fuzz --help'\n", o); return 2; }
        if (!strcmp(o, "--plugin")) plugin = v;
        else if (!strcmp(o, "--ref")) ref = v;
        else if (!strcmp(o, "--out")) dir = v;
        else if (!strcmp(o, "--seconds")) seconds = atof(v);
        else if (!strcmp(o, "--timeout")) timeout = atof(v);
        else if (!strcmp(o, "--seed")) seed = strtoull(v, NULL, 10);
        else if (!strcmp(o, "--jobs")) jobs = atoi(v);
        else if (!strcmp(o, "--max-failures")) max_fail = atoi(v);
        else { fprintf(stderr, "tg fuzz: unknown option '%s' (see 'tg fuzz --help')\n", o); return 2; }
        i++;
    }
    if (!plugin || seconds <= 0 || timeout <= 0 || jobs < 1 || max_fail < 1) {
        fprintf(stderr, "tg fuzz: --plugin is required; --seconds, --timeout, --jobs and --max-failures must be positive\n");
        return 2;
    }
    tgc_options opt = {.plugin = plugin, .ref = ref, .jobs = jobs, .timeout_s = timeout};
    enum { BATCH = 64 };
    size_t sel[BATCH];
    tgc_outcome out[BATCH];
    long kernels = 0, fails = 0, unsupported = 0;
    double t0 = now();
    printf("tg fuzz: plugin %s, seed %llu, %.0f s\n", plugin, seed, seconds);
    for (unsigned long long base = seed; now() - t0 < seconds && fails < max_fail; base += BATCH) {
        tgc_catalog cat = {0};
        for (int i = 0; i < BATCH; i++) {
            tgc_case c;
            if (tgc_fuzz_case(base + (unsigned long long)i, &c) != TG_OK) {
                fprintf(stderr, "tg fuzz: %s\n", tg_last_error());
                continue;
            }
            c.group = (uint32_t)(i / 16);
            if (tgc_catalog_add(&cat, &c) != TG_OK) break;
        }
        for (size_t i = 0; i < cat.count; i++) sel[i] = i;
        if (tgc_run(&cat, sel, cat.count, &opt, NULL, out) != TG_OK) {
            fprintf(stderr, "tg fuzz: %s\n", tg_last_error());
            tgc_catalog_free(&cat);
            return 1;
        }
        for (size_t i = 0; i < cat.count; i++) {
            kernels++;
            unsupported += out[i].result == TGC_UNSUPPORTED;
            if (is_bad(out[i].result) && fails < max_fail) {
                tgc_case c = cat.cases[i];
                unsigned nodes = c.nnodes;
                shrink_ctx ctx = {&opt, out[i].result};
                int steps = tgc_fuzz_shrink(&c, still_fails, &ctx);
                char *detail = NULL;
                run_one(&c, &opt, &detail);
                char path[1024];
                snprintf(path, sizeof path, "%s/fuzz-%llu.case", dir, (unsigned long long)c.seed);
                FILE *f = fopen(path, "w");
                if (!f || tgc_casefile_write(f, &c) != TG_OK) fprintf(stderr, "tg fuzz: cannot write '%s'\n", path);
                if (f) fclose(f);
                fails++;
                printf("\n%s %s: %u nodes, shrunk in %d steps to %u nodes; saved %s\n%s\n"
                       "replay: tg conform --plugin %s --case-file %s\n",
                       tgc_result_name(out[i].result), c.id, nodes, steps, c.nnodes, path, detail ? detail : "", plugin, path);
                free(detail);
            }
            free(out[i].detail);
            free(out[i].xfail_reason);
        }
        tgc_catalog_free(&cat);
    }
    printf("tg fuzz: %ld kernels in %.1f s, %ld failing, %ld unsupported\n", kernels, now() - t0, fails, unsupported);
    return fails ? 1 : 0;
}
