/* bench/gpu/bench_cuda.c -- the workloads of the GPU targets (issue 12) on
 * the cuda plugin, through the plugin ABI: bench/gpu/peers.py builds and
 * runs it beside torch on the same GPU.
 *
 *   bench_cuda PLUGIN.so [workload...]   workloads: relu sum copy copy_kernel
 *       matmul_f32 matmul_f16 matmul_bf16 launch   (default: all)
 *
 * Prints one line per workload: "name seconds figure unit". Device work is
 * timed as `inner` launches then a synchronize, the best of `reps` tries
 * after a warm-up (which also compiles). Exit 77 without a device. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <time.h>

#include "kit.h"

static kit_plugin P;

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Fill a device buffer with small values of its dtype, 16 MiB at a time. */
static int fill(tg_buffer *b, uint32_t dt, uint64_t bytes) {
    enum { CHUNK = 16 << 20 };
    static unsigned char host[CHUNK];
    size_t es = kit_size(dt);
    for (size_t i = 0; i < CHUNK / es; i++) {
        float f = (float)((i * 7919) % 1000) * 0.001f - 0.5f;
        if (dt == TG_FLOAT32) memcpy(host + i * 4, &f, 4);
        else if (dt == TG_FLOAT16 || dt == TG_BFLOAT16) { /* 0.25 .. 1.0: exact in both */
            uint16_t h = dt == TG_FLOAT16 ? (uint16_t)(0x3400 + (i % 512)) : (uint16_t)(0x3e80 + (i % 64));
            memcpy(host + i * 2, &h, 2);
        } else host[i] = 0;
    }
    for (uint64_t off = 0; off < bytes; off += CHUNK) {
        uint64_t n = bytes - off < CHUNK ? bytes - off : CHUNK;
        if (P.api->buffer_write(P.dev, b, off, host, n) != TG_OK) return -1;
    }
    return 0;
}

/* Best seconds per launch of kernel k. */
static double time_kernel(const tg_kernel *k, int reps, int inner) {
    tg_buffer *bufs[8] = {0};
    tg_program *prog = NULL;
    double best = -1;
    if (P.api->program_create(P.dev, k, &prog) != TG_OK) {
        fprintf(stderr, "%s: program_create: %s\n", k->name, P.api->device_error(P.dev));
        return -1;
    }
    for (uint32_t i = 0; i < k->nparams; i++) {
        uint64_t bytes = (uint64_t)k->params[i].count * kit_size(k->params[i].dtype);
        if (P.api->buffer_create(P.dev, bytes, &bufs[i]) != TG_OK) goto out;
        if (k->params[i].access == TG_ACCESS_READ && fill(bufs[i], k->params[i].dtype, bytes) != 0) goto out;
    }
    if (P.api->program_launch(P.dev, prog, bufs, k->nparams) != TG_OK || P.api->synchronize(P.dev) != TG_OK) goto out;
    for (int r = 0; r < reps; r++) {
        double t0 = now();
        for (int i = 0; i < inner; i++) P.api->program_launch(P.dev, prog, bufs, k->nparams);
        if (P.api->synchronize(P.dev) != TG_OK) { best = -1; goto out; }
        double t = (now() - t0) / inner;
        if (best < 0 || t < best) best = t;
    }
out:
    if (best < 0) fprintf(stderr, "%s: %s\n", k->name, P.api->device_error(P.dev));
    for (uint32_t i = 0; i < k->nparams; i++) P.api->buffer_destroy(P.dev, bufs[i]);
    P.api->program_destroy(P.dev, prog);
    return best;
}

static void report(const char *name, double t, double figure, const char *unit) {
    if (t > 0) printf("%s %.9f %.2f %s\n", name, t, figure, unit);
    else printf("%s failed\n", name);
    fflush(stdout);
}

/* relu(a * b + c) on 64M float32: 16 bytes moved per element. */
static void bench_relu(void) {
    const int64_t n = 64ll << 20;
    kit_kernel kk;
    kit_init(&kk, 1, &n, 0, "bench_relu_fma");
    uint32_t v = kit_view(&kk, 1, &n, NULL, 0);
    int32_t a = kit_load(&kk, kit_param(&kk, TG_FLOAT32, TG_ACCESS_READ, n), v, 1);
    int32_t b = kit_load(&kk, kit_param(&kk, TG_FLOAT32, TG_ACCESS_READ, n), v, 1);
    int32_t c = kit_load(&kk, kit_param(&kk, TG_FLOAT32, TG_ACCESS_READ, n), v, 1);
    tg_scalar z = {.f = 0};
    int32_t m = kit_node(&kk, TG_OP_ADD, TG_FLOAT32, kit_node(&kk, TG_OP_MUL, TG_FLOAT32, a, b, -1), c, -1);
    kit_store(&kk, kit_param(&kk, TG_FLOAT32, TG_ACCESS_WRITE, n), v,
              kit_node(&kk, TG_OP_MAX, TG_FLOAT32, m, kit_const(&kk, TG_FLOAT32, z), -1));
    double t = time_kernel(&kk.k, 5, 10);
    report("relu", t, 16.0 * n / t * 1e-9, "GB/s");
}

/* The sum of 256M float32: 4 bytes read per element. */
static void bench_sum(void) {
    const int64_t n = 256ll << 20, one = 1;
    kit_kernel kk;
    kit_init(&kk, 1, &n, 1, "bench_sum");
    uint32_t vin = kit_view(&kk, 1, &n, NULL, 0), vout = kit_view(&kk, 1, &one, NULL, 0);
    int32_t l = kit_load(&kk, kit_param(&kk, TG_FLOAT32, TG_ACCESS_READ, n), vin, 1);
    kit_store(&kk, kit_param(&kk, TG_FLOAT32, TG_ACCESS_WRITE, 1), vout,
              kit_node(&kk, TG_OP_REDUCE_SUM, TG_FLOAT32, l, -1, -1));
    double t = time_kernel(&kk.k, 5, 10);
    report("sum", t, 4.0 * n / t * 1e-9, "GB/s");
}

/* y = a on 64M float32, as a kernel: 8 bytes moved per element. */
static void bench_copy_kernel(void) {
    const int64_t n = 64ll << 20;
    kit_kernel kk;
    kit_init(&kk, 1, &n, 0, "bench_copy");
    uint32_t v = kit_view(&kk, 1, &n, NULL, 0);
    int32_t a = kit_load(&kk, kit_param(&kk, TG_FLOAT32, TG_ACCESS_READ, n), v, 1);
    kit_store(&kk, kit_param(&kk, TG_FLOAT32, TG_ACCESS_WRITE, n), v, a);
    double t = time_kernel(&kk.k, 5, 10);
    report("copy_kernel", t, 8.0 * n / t * 1e-9, "GB/s");
}

/* buffer_copy of 1 GiB (bytes read and written counted). */
static void bench_copy(void) {
    const uint64_t bytes = 1ull << 30;
    tg_buffer *a = NULL, *b = NULL;
    double best = -1;
    if (P.api->buffer_create(P.dev, bytes, &a) == TG_OK && P.api->buffer_create(P.dev, bytes, &b) == TG_OK &&
        P.api->buffer_copy(P.dev, b, 0, a, 0, bytes) == TG_OK && P.api->synchronize(P.dev) == TG_OK)
        for (int r = 0; r < 5; r++) {
            double t0 = now();
            for (int i = 0; i < 10; i++) P.api->buffer_copy(P.dev, b, 0, a, 0, bytes);
            P.api->synchronize(P.dev);
            double t = (now() - t0) / 10;
            if (best < 0 || t < best) best = t;
        }
    P.api->buffer_destroy(P.dev, a);
    P.api->buffer_destroy(P.dev, b);
    report("copy", best, 2.0 * (double)bytes / best * 1e-9, "GB/s");
}

/* C = A @ B, N x N, in dtype dt (float16/bfloat16 accumulate in float). */
static void bench_matmul(const char *name, uint32_t dt, int64_t N) {
    kit_kernel kk;
    int64_t shape[3] = {N, N, N}, oshape[3] = {N, N, 1};
    int64_t as[3] = {N, 0, 1}, bs[3] = {0, 1, N}, cs[3] = {N, 1, 0};
    kit_init(&kk, 3, shape, 4, "bench_matmul");
    uint32_t va = kit_view(&kk, 3, shape, as, 0), vb = kit_view(&kk, 3, shape, bs, 0);
    uint32_t vc = kit_view(&kk, 3, oshape, cs, 0);
    int32_t a = kit_load(&kk, kit_param(&kk, dt, TG_ACCESS_READ, N * N), va, 1);
    int32_t b = kit_load(&kk, kit_param(&kk, dt, TG_ACCESS_READ, N * N), vb, 1);
    int32_t r = kit_node(&kk, TG_OP_REDUCE_SUM, dt, kit_node(&kk, TG_OP_MUL, dt, a, b, -1), -1, -1);
    kit_store(&kk, kit_param(&kk, dt, TG_ACCESS_WRITE, N * N), vc, r);
    double t = time_kernel(&kk.k, 3, 3);
    report(name, t, 2.0 * N * N * N / t * 1e-12, "TFLOP/s");
}

/* Launch + synchronize of a 1-element kernel, the best of 2000. */
static void bench_launch(void) {
    const int64_t n = 1;
    kit_kernel kk;
    kit_init(&kk, 1, &n, 0, "bench_tiny");
    uint32_t v = kit_view(&kk, 1, &n, NULL, 0);
    tg_scalar one = {.f = 1};
    int32_t a = kit_load(&kk, kit_param(&kk, TG_FLOAT32, TG_ACCESS_READ, 1), v, 1);
    kit_store(&kk, kit_param(&kk, TG_FLOAT32, TG_ACCESS_WRITE, 1), v,
              kit_node(&kk, TG_OP_ADD, TG_FLOAT32, a, kit_const(&kk, TG_FLOAT32, one), -1));
    double t = time_kernel(&kk.k, 2000, 1);
    report("launch", t, t * 1e6, "us");
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s PLUGIN.so [workload...]\n", argv[0]);
        return 2;
    }
    if (kit_open(&P, argv[1]) != 0) return 77;
    tg_caps caps = {.struct_size = sizeof caps};
    P.api->device_caps(P.dev, &caps);
    printf("# device %s (%s, %s)\n", caps.name, caps.version, caps.driver);
    static const char *all[] = {"relu", "sum", "copy", "copy_kernel", "matmul_f32", "matmul_f16", "matmul_bf16",
                                "launch"};
    int n = argc > 2 ? argc - 2 : (int)(sizeof all / sizeof all[0]);
    for (int i = 0; i < n; i++) {
        const char *w = argc > 2 ? argv[i + 2] : all[i];
        if (!strcmp(w, "relu")) bench_relu();
        else if (!strcmp(w, "sum")) bench_sum();
        else if (!strcmp(w, "copy")) bench_copy();
        else if (!strcmp(w, "copy_kernel")) bench_copy_kernel();
        else if (!strcmp(w, "matmul_f32")) bench_matmul(w, TG_FLOAT32, 4096);
        else if (!strcmp(w, "matmul_f16")) bench_matmul(w, TG_FLOAT16, 4096);
        else if (!strcmp(w, "matmul_bf16")) bench_matmul(w, TG_BFLOAT16, 4096);
        else if (!strcmp(w, "launch")) bench_launch();
        else fprintf(stderr, "unknown workload %s\n", w);
    }
    kit_close(&P);
    return 0;
}
