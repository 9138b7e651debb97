/*
 * tgbench.h -- Google Benchmark behind a C interface, so that every
 * benchmark of tg is written in C. tgbench.cc is the only C++ source.
 *
 *   static void bm(tgb_state *s, void *arg) {
 *       ...set up (not timed)...
 *       while (tgb_keep_running(s)) { ...the work... }
 *       tgb_counter(s, "GFLOP/s", flops_per_iteration * 1e-9, TGB_RATE);
 *   }
 *   tgb_register("suite/name", bm, arg);
 *   tgb_run(&options, &results, &count);
 *
 * Times are wall-clock (UseRealTime): plugins run threads and devices.
 */
#ifndef TG_BENCH_TGBENCH_H
#define TG_BENCH_TGBENCH_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct tgb_state tgb_state;
typedef void (*tgb_fn)(tgb_state *state, void *arg);

/* Counter flags. */
enum {
    TGB_PLAIN = 0, /* reported as given                                  */
    TGB_RATE = 1   /* value per iteration, reported per second (x iters/s) */
};

#define TGB_MAX_COUNTERS 8

/* Register a benchmark; `arg` is borrowed until tgb_run returns. Names are
 * copied. Returns 0, or -1 if the name is empty. */
int tgb_register(const char *name, tgb_fn fn, void *arg);

/* The benchmark loop: true while more iterations are wanted. */
int tgb_keep_running(tgb_state *state);
void tgb_pause_timing(tgb_state *state);
void tgb_resume_timing(tgb_state *state);
int64_t tgb_iterations(const tgb_state *state);
void tgb_counter(tgb_state *state, const char *name, double value, unsigned flags);
void tgb_label(tgb_state *state, const char *label);
/* Mark the run as failed/skipped with a reason; the caller then returns
 * without entering (or after leaving) the loop. */
void tgb_skip(tgb_state *state, const char *message);

typedef struct tgb_result tgb_result;

typedef struct tgb_options {
    const char *filter;    /* regex over names; NULL = all               */
    const char *json_path; /* Google Benchmark JSON written here; NULL: none */
    double min_time;       /* seconds per benchmark; 0 = library default */
    int verbose;           /* 1: print each result as it comes, to stderr */
    /* Called with each result as soon as it is measured; may be NULL. */
    void (*on_result)(const tgb_result *result, void *ctx);
    void *ctx;
} tgb_options;

typedef struct tgb_result {
    char name[160];
    double real_ns;        /* wall time per iteration                     */
    int64_t iterations;
    int error;             /* 1: skipped with tgb_skip                    */
    char message[256];     /* the skip reason                             */
    char label[96];
    int ncounters;
    char counter_name[TGB_MAX_COUNTERS][24];
    double counter_value[TGB_MAX_COUNTERS]; /* rates already per second */
} tgb_result;

/* Run every registered benchmark that matches; results in registration
 * order (free with tgb_results_free). Returns 0, or -1 with a message on
 * stderr (bad filter, unwritable JSON file). Call once per process: Google
 * Benchmark keeps its registrations and flags in globals. */
int tgb_run(const tgb_options *options, tgb_result **out_results, size_t *out_count);
void tgb_results_free(tgb_result *results);

/* A counter of a result by name; `fallback` if it has none. */
double tgb_result_counter(const tgb_result *result, const char *name, double fallback);

#ifdef __cplusplus
}
#endif

#endif
