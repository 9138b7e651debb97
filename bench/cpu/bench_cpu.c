/* bench/cpu/bench_cpu.c -- kernel-level benchmarks of the cpu plugin, with the
 * machine's C baselines (STREAM triad, read loop) measured in the same run.
 *
 *   bench_cpu PLUGIN.so [workload...]     workloads: matmul1024 matmul2048
 *       relu sum conv tiny triad read   (default: all)
 *
 * Prints one line per workload: "name seconds figure unit". Built by meson
 * (bench/cpu/meson.build) or directly by bench/cpu/peers.py. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include "kit.h"
#include "peak.h"

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static kit_plugin P;

/* Best (least) seconds per launch of kernel k over `reps` timed launches, after
 * one warm-up: on a shared machine the minimum is the figure least disturbed
 * by other processes; peers.py measures the peers the same way. */
static double time_kernel(const tg_kernel *k, int reps, int inner) {
    tg_buffer *bufs[32] = {0};
    tg_program *prog = NULL;
    double t[64], med = -1;
    if (P.api->program_create(P.dev, k, &prog) != TG_OK) {
        fprintf(stderr, "program_create: %s\n", P.api->device_error(P.dev));
        return -1;
    }
    for (uint32_t i = 0; i < k->nparams; i++) {
        uint64_t bytes = (uint64_t)k->params[i].count * kit_size(k->params[i].dtype);
        if (P.api->buffer_create(P.dev, bytes, &bufs[i]) != TG_OK) goto out;
        void *m = NULL;
        P.api->buffer_map(P.dev, bufs[i], &m);
        if (k->params[i].dtype == TG_FLOAT32)
            for (uint64_t j = 0; j < bytes / 4; j++) ((float *)m)[j] = (float)((j * 7919) % 1000) * 0.001f - 0.5f;
        else memset(m, 0, bytes);
    }
    P.api->program_launch(P.dev, prog, bufs, k->nparams);
    if (reps > 64) reps = 64;
    for (int r = 0; r < reps; r++) {
        double t0 = now();
        for (int i = 0; i < inner; i++) P.api->program_launch(P.dev, prog, bufs, k->nparams);
        t[r] = (now() - t0) / inner;
    }
    qsort(t, (size_t)reps, sizeof *t, cmp_d);
    med = t[0];
out:
    for (uint32_t i = 0; i < k->nparams; i++) P.api->buffer_destroy(P.dev, bufs[i]);
    P.api->program_destroy(P.dev, prog);
    return med;
}

static void bench_matmul(int64_t N) {
    kit_kernel kk;
    int64_t shape[3] = {N, N, N}, oshape[3] = {N, N, 1};
    int64_t as[3] = {N, 0, 1}, bs[3] = {0, 1, N}, cs[3] = {N, 1, 0};
    kit_init(&kk, 3, shape, 4, "bench_matmul");
    uint32_t va = kit_view(&kk, 3, shape, as, 0), vb = kit_view(&kk, 3, shape, bs, 0), vc = kit_view(&kk, 3, oshape, cs, 0);
    int32_t a = kit_load(&kk, kit_param(&kk, TG_FLOAT32, TG_ACCESS_READ, N * N), va, 1);
    int32_t b = kit_load(&kk, kit_param(&kk, TG_FLOAT32, TG_ACCESS_READ, N * N), vb, 1);
    int32_t r = kit_node(&kk, TG_OP_REDUCE_SUM, TG_FLOAT32, kit_node(&kk, TG_OP_MUL, TG_FLOAT32, a, b, -1), -1, -1);
    kit_store(&kk, kit_param(&kk, TG_FLOAT32, TG_ACCESS_WRITE, N * N), vc, r);
    double t = time_kernel(&kk.k, N >= 2048 ? 5 : 11, 1);
    printf("matmul%lld %.6f %.1f GFLOP/s\n", (long long)N, t, 2.0 * N * N * N / t * 1e-9);
}

#define BIG (16ll << 20)

static void bench_relu(void) {
    kit_kernel kk;
    int64_t shape[1] = {BIG};
    kit_init(&kk, 1, shape, 0, "bench_relu");
    uint32_t v = kit_view(&kk, 1, shape, NULL, 0);
    int32_t a = kit_load(&kk, kit_param(&kk, TG_FLOAT32, TG_ACCESS_READ, BIG), v, 1);
    int32_t b = kit_load(&kk, kit_param(&kk, TG_FLOAT32, TG_ACCESS_READ, BIG), v, 1);
    int32_t c = kit_load(&kk, kit_param(&kk, TG_FLOAT32, TG_ACCESS_READ, BIG), v, 1);
    tg_scalar z = {.f = 0};
    int32_t x = kit_node(&kk, TG_OP_ADD, TG_FLOAT32, kit_node(&kk, TG_OP_MUL, TG_FLOAT32, a, b, -1), c, -1);
    x = kit_node(&kk, TG_OP_MAX, TG_FLOAT32, x, kit_const(&kk, TG_FLOAT32, z), -1);
    kit_store(&kk, kit_param(&kk, TG_FLOAT32, TG_ACCESS_WRITE, BIG), v, x);
    double t = time_kernel(&kk.k, 15, 1);
    printf("relu %.6f %.2f GB/s\n", t, 16.0 * BIG / t * 1e-9);
}

static void bench_sum(void) {
    int64_t n = 4 * BIG;
    kit_kernel kk;
    int64_t shape[1] = {n}, os[1] = {1};
    kit_init(&kk, 1, shape, 1, "bench_sum");
    uint32_t v = kit_view(&kk, 1, shape, NULL, 0), vo = kit_view(&kk, 1, os, NULL, 0);
    int32_t a = kit_load(&kk, kit_param(&kk, TG_FLOAT32, TG_ACCESS_READ, n), v, 1);
    kit_store(&kk, kit_param(&kk, TG_FLOAT32, TG_ACCESS_WRITE, 1), vo, kit_node(&kk, TG_OP_REDUCE_SUM, TG_FLOAT32, a, -1, -1));
    double t = time_kernel(&kk.k, 15, 1);
    printf("sum %.6f %.2f GB/s\n", t, 4.0 * n / t * 1e-9);
}

/* conv2d as a reduction: iteration [N, CO, H, W, CI, KH, KW], reduce CI, KH, KW.
 * x is read through a stack: a padded view of x, then a window view of it. */
static void bench_conv(void) {
    const int64_t N = 32, C = 64, O = 64, H = 56, W = 56, R = 3;
    kit_kernel kk;
    int64_t shape[7] = {N, O, H, W, C, R, R}, os[7] = {N, O, H, W, 1, 1, 1};
    kit_init(&kk, 7, shape, (1u << 4) | (1u << 5) | (1u << 6), "bench_conv");
    int64_t ps[4] = {N, C, H + 2, W + 2}, pst[4] = {C * H * W, H * W, W, 1};
    uint32_t v0 = kit_view(&kk, 4, ps, pst, -(W + 1));
    int64_t lo[4] = {0, 0, 1, 1}, hi[4] = {N, C, H + 1, W + 1};
    kit_mask(&kk, v0, lo, hi);
    int64_t wst[7] = {C * (H + 2) * (W + 2), 0, W + 2, 1, (H + 2) * (W + 2), W + 2, 1};
    kit_view(&kk, 7, shape, wst, 0);
    int64_t fst[7] = {0, C * R * R, 0, 0, R * R, R, 1};
    uint32_t vf = kit_view(&kk, 7, shape, fst, 0);
    int64_t ost[7] = {O * H * W, H * W, W, 1, 0, 0, 0};
    uint32_t vo = kit_view(&kk, 7, os, ost, 0);
    int32_t x = kit_load(&kk, kit_param(&kk, TG_FLOAT32, TG_ACCESS_READ, N * C * H * W), v0, 2);
    int32_t f = kit_load(&kk, kit_param(&kk, TG_FLOAT32, TG_ACCESS_READ, O * C * R * R), vf, 1);
    int32_t r = kit_node(&kk, TG_OP_REDUCE_SUM, TG_FLOAT32, kit_node(&kk, TG_OP_MUL, TG_FLOAT32, x, f, -1), -1, -1);
    kit_store(&kk, kit_param(&kk, TG_FLOAT32, TG_ACCESS_WRITE, N * O * H * W), vo, r);
    double t = time_kernel(&kk.k, 3, 1);
    printf("conv %.6f %.1f GFLOP/s\n", t, 2.0 * N * O * H * W * C * R * R / t * 1e-9);
}

static void bench_tiny(void) {
    kit_kernel kk;
    int64_t shape[1] = {1};
    kit_init(&kk, 1, shape, 0, "bench_tiny");
    uint32_t v = kit_view(&kk, 1, shape, NULL, 0);
    int32_t a = kit_load(&kk, kit_param(&kk, TG_FLOAT32, TG_ACCESS_READ, 1), v, 1);
    int32_t b = kit_load(&kk, kit_param(&kk, TG_FLOAT32, TG_ACCESS_READ, 1), v, 1);
    kit_store(&kk, kit_param(&kk, TG_FLOAT32, TG_ACCESS_WRITE, 1), v, kit_node(&kk, TG_OP_ADD, TG_FLOAT32, a, b, -1));
    double t = time_kernel(&kk.k, 21, 10000);
    printf("tiny_launch %.9f %.3f us\n", t, t * 1e6);
}

/* ---------------------------------------------------- C baselines, 2 threads */

typedef struct span {
    float *a, *b, *c;
    int64_t lo, hi;
    double sum;
} span;

static void *triad_part(void *p) {
    span *s = p;
    float *restrict a = s->a;
    const float *restrict b = s->b, *restrict c = s->c;
    for (int64_t i = s->lo; i < s->hi; i++) a[i] = b[i] + 3.0f * c[i];
    return NULL;
}

static void *read_part(void *p) {
    span *s = p;
    const float *restrict a = s->a;
    float acc[32] = {0};
    int64_t i = s->lo;
    for (; i + 32 <= s->hi; i += 32)
        for (int j = 0; j < 32; j++) acc[j] += a[i + j];
    for (; i < s->hi; i++) acc[0] += a[i];
    double t = 0;
    for (int j = 0; j < 32; j++) t += acc[j];
    s->sum = t;
    return NULL;
}

static double run_threads(void *(*fn)(void *), float *a, float *b, float *c, int64_t n, int nt) {
    pthread_t th[64];
    span s[64];
    double t0 = now();
    for (int i = 0; i < nt; i++) {
        s[i] = (span){a, b, c, n * i / nt, n * (i + 1) / nt, 0};
        if (i) pthread_create(&th[i], NULL, fn, &s[i]);
    }
    fn(&s[0]);
    for (int i = 1; i < nt; i++) pthread_join(th[i], NULL);
    return now() - t0;
}

static int nthreads(void) {
    const char *e = getenv("TG_THREADS");
    int n = e ? atoi(e) : (int)sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > 64 ? 64 : n;
}

static void bench_c(int triad) {
    int64_t n = triad ? BIG : 4 * BIG;
    float *a = aligned_alloc(64, (size_t)n * 4), *b = triad ? aligned_alloc(64, (size_t)n * 4) : NULL;
    float *c = triad ? aligned_alloc(64, (size_t)n * 4) : NULL;
    for (int64_t i = 0; i < n; i++) {
        a[i] = 1.0f;
        if (triad) b[i] = c[i] = 2.0f;
    }
    double t[15];
    for (int r = 0; r < 15; r++) t[r] = run_threads(triad ? triad_part : read_part, a, b, c, n, nthreads());
    qsort(t, 15, sizeof *t, cmp_d);
    if (triad) printf("c_triad %.6f %.2f GB/s\n", t[0], 12.0 * n / t[0] * 1e-9);
    else printf("c_read %.6f %.2f GB/s\n", t[0], 4.0 * n / t[0] * 1e-9);
    free(a);
    free(b);
    free(c);
}

/* The FMA peak of this host on every core (bench/peak.c, compiled in by peers.py). */
static void bench_peak(void) {
    bench_peaks pk;
    bench_measure_peaks(0.6, &pk);
    printf("fma_peak %.6f %.2f GFLOP/s\n", 1.0 / pk.gflops, pk.gflops);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s PLUGIN.so [matmul1024|matmul2048|relu|sum|conv|tiny|triad|read|peak]...\n", argv[0]);
        return 2;
    }
    if (kit_open(&P, argv[1]) != 0) return 1;
    const char *all[] = {"triad", "relu", "read", "sum", "matmul1024", "matmul2048", "conv", "tiny"};
    int n = argc > 2 ? argc - 2 : 8;
    for (int i = 0; i < n; i++) {
        const char *w = argc > 2 ? argv[i + 2] : all[i];
        if (!strcmp(w, "matmul1024")) bench_matmul(1024);
        else if (!strcmp(w, "matmul2048")) bench_matmul(2048);
        else if (!strcmp(w, "relu")) bench_relu();
        else if (!strcmp(w, "sum")) bench_sum();
        else if (!strcmp(w, "conv")) bench_conv();
        else if (!strcmp(w, "tiny")) bench_tiny();
        else if (!strcmp(w, "triad")) bench_c(1);
        else if (!strcmp(w, "read")) bench_c(0);
        else if (!strcmp(w, "peak")) bench_peak();
        else { fprintf(stderr, "unknown workload %s\n", w); return 2; }
        fflush(stdout);
    }
    kit_close(&P);
    return 0;
}
