/* The host's peak FLOP/s and memory bandwidth, measured (see peak.h). */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "peak.h"

enum { STREAM_N = 1 << 22 }; /* 16 MiB per array: past the caches */

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* CHAINS independent accumulators x = x * m + c in vector registers (GCC
 * vector types): enough chains to hide the FMA latency on two FMA units.
 * Returns a value to keep; flops per rep: 2 * CHAINS * lanes. */
typedef float v4 __attribute__((vector_size(16)));
typedef float v8 __attribute__((vector_size(32)));
typedef float v16 __attribute__((vector_size(64)));
#define FMA_BODY(VT, LANES_, CHAINS)                                          \
    VT x[CHAINS], m, c;                                                       \
    for (int l = 0; l < LANES_; l++) m[l] = 0.999999f, c[l] = 1e-7f;          \
    for (int k = 0; k < CHAINS; k++)                                          \
        for (int l = 0; l < LANES_; l++) x[k][l] = (float)(k + l) * 1e-3f;    \
    for (long r = 0; r < reps; r++) {                                         \
        _Pragma("GCC unroll 16") /* unrolled, x[] lives in registers */       \
        for (int k = 0; k < CHAINS; k++) x[k] = x[k] * m + c;                 \
    }                                                                         \
    float s = 0;                                                              \
    for (int k = 0; k < CHAINS; k++)                                          \
        for (int l = 0; l < LANES_; l++) s += x[k][l];                        \
    *flops_per_rep = 2.0 * CHAINS * LANES_;                                   \
    return s;

#if defined(__x86_64__) && defined(__GNUC__)
__attribute__((target("avx512f"), optimize("fp-contract=fast"))) static float fma_avx512(long reps, double *flops_per_rep) { FMA_BODY(v16, 16, 12) }
__attribute__((target("avx2,fma"), optimize("fp-contract=fast"))) static float fma_avx2(long reps, double *flops_per_rep) { FMA_BODY(v8, 8, 10) }
#endif
static float fma_plain(long reps, double *flops_per_rep) { FMA_BODY(v4, 4, 8) }

/* The widest variant this CPU runs. */
static float fma_loop(long reps, double *flops_per_rep) {
#if defined(__x86_64__) && defined(__GNUC__)
    if (__builtin_cpu_supports("avx512f")) return fma_avx512(reps, flops_per_rep);
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return fma_avx2(reps, flops_per_rep);
#endif
    return fma_plain(reps, flops_per_rep);
}

typedef struct job {
    int kind;       /* 0 FMA, 1 triad */
    long reps;
    float *a, *b, *c;
    float sink;
    double flops_per_rep;
    double t0, t1;  /* this thread's own start and end */
    pthread_barrier_t *start;
} job;

static void *work(void *arg) {
    job *j = arg;
    pthread_barrier_wait(j->start);
    j->t0 = now();
    if (j->kind == 0) {
        j->sink = fma_loop(j->reps, &j->flops_per_rep);
    } else {
        for (long r = 0; r < j->reps; r++)
            for (long i = 0; i < STREAM_N; i++) j->a[i] = j->b[i] + 3.0f * j->c[i];
        j->sink = j->a[j->reps % STREAM_N];
    }
    j->t1 = now();
    return NULL;
}

/* Seconds for `threads` threads to each run `reps` repetitions of kind. */
static double timed(int kind, int threads, long reps, float *mem) {
    pthread_t tid[64];
    job jobs[64];
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, (unsigned)threads + 1);
    for (int t = 0; t < threads; t++) {
        jobs[t] = (job){kind, reps, NULL, NULL, NULL, 0, 0, 0, 0, &start};
        if (kind == 1) {
            jobs[t].a = mem + (size_t)t * 3 * STREAM_N;
            jobs[t].b = jobs[t].a + STREAM_N;
            jobs[t].c = jobs[t].b + STREAM_N;
        }
        pthread_create(&tid[t], NULL, work, &jobs[t]);
    }
    pthread_barrier_wait(&start);
    /* first start to last end, as the threads saw them */
    double t0 = 0, t1 = 0;
    for (int t = 0; t < threads; t++) {
        pthread_join(tid[t], NULL);
        if (t == 0 || jobs[t].t0 < t0) t0 = jobs[t].t0;
        if (t == 0 || jobs[t].t1 > t1) t1 = jobs[t].t1;
    }
    double dt = t1 - t0;
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
    double per_rep = 0;
    fma_loop(1, &per_rep);
    while (timed(0, 1, reps, NULL) < budget / 4 && reps < (1L << 30)) reps *= 2;
    for (int trial = 0; trial < 3; trial++) {
        double g = per_rep * reps * threads / timed(0, threads, reps, NULL) * 1e-9;
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
