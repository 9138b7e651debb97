/* bench/cpu/bench_tg.c -- tensor-level figures for a device (default "cpu"):
 *
 *   bench_tg tiny      a cached 1-element add, end to end (op + realize), us/call
 *   bench_tg mlp       MLP 784-128-10 training step, batch 128, SGD: steps/s
 *   bench_tg expr      one small fused expression, then exit (time the process)
 *   bench_tg first     the first MLP step of this process, ms (run it with an
 *                      empty XDG_CACHE_HOME for the cold start)
 *
 * TG_DEVICE or argv[2] picks the device. Built by bench/cpu/peers.py. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <tg/tg.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int fail(const char *what) {
    fprintf(stderr, "bench_tg: %s: %s\n", what, tg_last_error());
    return 1;
}

static int bench_tiny(tg_dev *dev) {
    float one = 1.0f;
    int64_t shape[1] = {1};
    tg_tensor *a = tg_from_data(dev, TG_FLOAT32, 1, shape, &one), *b = tg_from_data(dev, TG_FLOAT32, 1, shape, &one);
    if (!a || !b) return fail("inputs");
    double best = 1e9;
    for (int r = 0; r < 7; r++) {
        int n = 20000;
        double t0 = now();
        for (int i = 0; i < n; i++) {
            tg_scope_begin();
            tg_tensor *c = tg_add(a, b);
            if (!c || tg_realize(c) != TG_OK) return fail("add");
            tg_scope_end();
        }
        double t = (now() - t0) / n;
        if (t < best) best = t;
    }
    printf("tg_tiny %.9f %.3f us\n", best, best * 1e6);
    tg_release(a);
    tg_release(b);
    return 0;
}

/* x (B, in) @ w^T (w: (out, in)) + b, from primitives (mul, sum). */
static tg_tensor *dense(tg_tensor *x, tg_tensor *w, tg_tensor *b) {
    int64_t B = tg_tensor_dim(x, 0), in = tg_tensor_dim(x, 1), out = tg_tensor_dim(w, 0);
    int64_t xs[3] = {B, 1, in}, ws[3] = {1, out, in};
    int ax[1] = {2};
    return tg_add(tg_sum(tg_mul(tg_reshape(x, 3, xs), tg_reshape(w, 3, ws)), 1, ax, false), b);
}

/* MLP 784-128-10, batch 128: dense, relu, dense, softmax cross-entropy, SGD;
 * first: time only the first step (compiles included), else steps/s. */
static int bench_mlp(tg_dev *dev, int first) {
    const int64_t B = 128;
    int64_t s1[2] = {128, 784}, s2[2] = {10, 128}, b1s[1] = {128}, b2s[1] = {10}, xs[2] = {B, 784}, ys[2] = {B, 10};
    tg_tensor *w1 = tg_uniform(dev, TG_FLOAT32, 2, s1, -0.035, 0.035, 1), *b1 = tg_zeros(dev, TG_FLOAT32, 1, b1s);
    tg_tensor *w2 = tg_uniform(dev, TG_FLOAT32, 2, s2, -0.088, 0.088, 2), *b2 = tg_zeros(dev, TG_FLOAT32, 1, b2s);
    tg_tensor *x = tg_rand(dev, TG_FLOAT32, 2, xs, 7);
    float onehot[128 * 10] = {0};
    for (int i = 0; i < B; i++) onehot[i * 10 + i % 10] = 1.0f;
    tg_tensor *y = tg_from_data(dev, TG_FLOAT32, 2, ys, onehot);
    tg_tensor *params[4] = {w1, b1, w2, b2};
    if (!w1 || !b1 || !w2 || !b2 || !x || !y || tg_realize_many(4, params) || tg_realize(x)) return fail("data");
    for (int i = 0; i < 4; i++) tg_set_requires_grad(params[i], true);
    double best = 1e9, loss = 0;
    int ax1[1] = {1};
    for (int r = 0; r < (first ? 1 : 5); r++) {
        int n = first ? 1 : r == 0 ? 3 : 20;
        double t0 = now();
        for (int i = 0; i < n; i++) {
            tg_scope_begin();
            for (int j = 0; j < 4; j++) tg_zero_grad(params[j]);
            tg_tensor *z = dense(tg_relu(dense(x, w1, b1)), w2, b2);
            tg_tensor *nll = tg_sub(tg_logsumexp(z, 1, ax1, false), tg_sum(tg_mul(z, y), 1, ax1, false));
            tg_tensor *l = tg_mean(nll, 0, NULL, false);
            if (!l || tg_backward(l)) return fail("step");
            tg_no_grad_begin();
            tg_tensor *upd[4];
            for (int j = 0; j < 4; j++) {
                upd[j] = tg_sub(params[j], tg_muls(tg_tensor_grad(params[j]), 0.01));
                if (!upd[j] || tg_assign(params[j], upd[j])) return fail("sgd");
            }
            tg_realize_many(4, params);
            tg_no_grad_end();
            if (i == n - 1) tg_item(l, &loss);
            tg_scope_end();
        }
        double t = (now() - t0) / n;
        if ((r > 0 || first) && t < best) best = t;
    }
    if (first) printf("tg_first %.6f %.1f ms (loss %.4f)\n", best, best * 1e3, loss);
    else printf("tg_mlp %.6f %.1f steps/s (loss %.4f)\n", best, 1.0 / best, loss);
    for (int i = 0; i < 4; i++) tg_release(params[i]);
    tg_release(x);
    tg_release(y);
    return 0;
}

/* relu(a * b + c) on 1000 floats and one sum: what a short script does. */
static int bench_expr(tg_dev *dev) {
    int64_t s[1] = {1000};
    tg_tensor *a = tg_rand(dev, TG_FLOAT32, 1, s, 1), *b = tg_rand(dev, TG_FLOAT32, 1, s, 2);
    tg_tensor *c = tg_rand(dev, TG_FLOAT32, 1, s, 3);
    tg_tensor *r = tg_sum(tg_relu(tg_add(tg_mul(a, b), c)), 0, NULL, false);
    double v = 0;
    if (!r || tg_item(r, &v)) return fail("expr");
    printf("tg_expr %.6f\n", v);
    return 0;
}

int main(int argc, char **argv) {
    const char *w = argc > 1 ? argv[1] : "tiny";
    const char *name = argc > 2 ? argv[2] : getenv("TG_DEVICE") ? getenv("TG_DEVICE") : "cpu";
    tg_dev *dev = NULL;
    if (tg_device_open(name, &dev) != TG_OK) return fail("device_open");
    int rc;
    if (!strcmp(w, "tiny")) rc = bench_tiny(dev);
    else if (!strcmp(w, "mlp")) rc = bench_mlp(dev, 0);
    else if (!strcmp(w, "first")) rc = bench_mlp(dev, 1);
    else if (!strcmp(w, "expr")) rc = bench_expr(dev);
    else { fprintf(stderr, "usage: bench_tg tiny|mlp|first|expr [DEVICE]\n"); rc = 2; }
    tg_device_close(dev);
    return rc;
}
