/*
 * rank.h -- scores from benchmark results and this host's ranking file.
 *
 * A plugin's score on a workload is the baseline's time over its own (2 =
 * twice as fast as the baseline); per class, the geometric mean over the
 * workloads both ran; overall, the geometric mean of its class scores.
 */
#ifndef TG_BENCH_RANK_H
#define TG_BENCH_RANK_H

#include <stdio.h>
#include <tg/runtime.h>
#include "runner.h"

#define RANK_CLASSES 5 /* tg_bench_classes */

typedef struct bench_score {
    char name[64];
    char sha256[65];
    double cls[RANK_CLASSES];   /* 0 where no workload of the class ran */
    int nwork[RANK_CLASSES];    /* workloads scored per class */
    double overall;             /* 0 if nothing could be compared */
} bench_score;

/* Scores of runs[0..n) against runs[baseline]; out[i] for runs[i]. */
void bench_score_runs(const bench_plugin_run *runs, int n, int baseline, bench_score *out);
/* Sort scores best first (by overall). */
void bench_score_sort(bench_score *s, int n);

/* A plugin left out of the ranking: failed = 1 when it failed conformance
 * or the benchmarks (a "failed" line: device "auto" never falls back to
 * that build), 0 when it merely has no certificate ("unranked", ignored). */
typedef struct bench_unranked {
    int failed;
    char name[64];
    char sha256[65];
    char reason[256];
} bench_unranked;

/* Write this host's ranking file (tg_ranking_path), creating the cache
 * directory; scores sorted best first. Returns TG_OK or TG_ERR_IO. */
tg_status bench_ranking_write(const char *path, const char *baseline, const bench_score *s, int n,
                              const bench_unranked *failed, int nfailed);
/* mkdir -p of the directories leading to path; 0 or -1. */
int bench_make_parent_dirs(const char *path);
void bench_print_ranking(FILE *f, const char *baseline, const bench_score *s, int n);

#endif
