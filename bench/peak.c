/* The host's peak FLOP/s and memory bandwidth, measured (see peak.h). */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "peak.h"

enum { LANES = 64, STREAM_N = 1 << 22 }; /* 16 MiB per array: past the caches */

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* LANES independent chains x = x * a + b: the compiler vectorises the inner
 * loop; independent chains hide the FMA latency. Returns a value to keep. */
#define FMA_BODY                                                              \
    float x[LANES];                                                           \
    for (int i = 0; i < LANES; i++) x[i] = (float)i * 1e-3f;                  \
    for (long r = 0; r < reps; r++)                                           \
        for (int i = 0; i < LANES; i++) x[i] = x[i] * 0.999999f + 1e-7f;      \
    float s = 0;                                                              \
    for (int i = 0; i < LANES; i++) s += x[i];                                \
    return s;

#if defined(__x86_64__) && defined(__GNUC__)
__attribute__((target("avx2,fma"))) static float fma_loop_avx2(long reps) { FMA_BODY }
#endif
static float fma_loop_plain(long reps) { FMA_BODY }

typedef struct job {
    int kind;       /* 0 FMA, 1 triad */
    long reps;
    float *a, *b, *c;
    float sink;
    pthread_barrier_t *start;
} job;

static void *work(void *arg) {
    job *j = arg;
    pthread_barrier_wait(j->start);
    if (j->kind == 0) {
#if defined(__x86_64__) && defined(__GNUC__)
        if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) j->sink = fma_loop_avx2(j->reps);
        else
#endif
            j->sink = fma_loop_plain(j->reps);
    } else {
        for (long r = 0; r < j->reps; r++)
            for (long i = 0; i < STREAM_N; i++) j->a[i] = j->b[i] + 3.0f * j->c[i];
        j->sink = j->a[j->reps % STREAM_N];
    }
    return NULL;
}

/* Seconds for `threads` threads to each run `reps` repetitions of kind. */
static double timed(int kind, int threads, long reps, float *mem) {
    pthread_t tid[64];
    job jobs[64];
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, (unsigned)threads + 1);
    for (int t = 0; t < threads; t++) {
        jobs[t] = (job){kind, reps, NULL, NULL, NULL, 0, &start};
        if (kind == 1) {
            jobs[t].a = mem + (size_t)t * 3 * STREAM_N;
            jobs[t].b = jobs[t].a + STREAM_N;
            jobs[t].c = jobs[t].b + STREAM_N;
        }
        pthread_create(&tid[t], NULL, work, &jobs[t]);
    }
    pthread_barrier_wait(&start);
    double t0 = now();
    for (int t = 0; t < threads; t++) pthread_join(tid[t], NULL);
    double dt = now() - t0;
    pthread_barrier_destroy(&start);
    return dt;
}

void bench_measure_peaks(double seconds, bench_peaks *out) {
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    int threads = ncpu < 1 ? 1 : ncpu > 64 ? 64 : (int)ncpu;
    double budget = (seconds > 0 ? seconds : 0.3) / 6; /* 3 trials of each */
    memset(out, 0, sizeof *out);
    out->threads = threads;

    long reps = 1000;
    while (timed(0, 1, reps, NULL) < budget / 4 && reps < (1L << 30)) reps *= 2;
    for (int trial = 0; trial < 3; trial++) {
        double g = 2.0 * LANES * reps * threads / timed(0, threads, reps, NULL) * 1e-9;
        if (g > out->gflops) out->gflops = g;
    }

    float *mem = calloc((size_t)threads * 3 * STREAM_N, sizeof *mem);
    if (!mem) return;
    for (size_t i = 0; i < (size_t)threads * 3 * STREAM_N; i++) mem[i] = 1.0f; /* touch every page */
    reps = 1;
    while (timed(1, threads, reps, mem) < budget && reps < 64) reps *= 2;
    for (int trial = 0; trial < 3; trial++) {
        double g = 12.0 * STREAM_N * reps * threads / timed(1, threads, reps, mem) * 1e-9;
        if (g > out->gbps) out->gbps = g;
    }
    free(mem);
}
