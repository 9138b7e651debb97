/* Repeated graphs and the program cache: a repeated graph reuses its
 * program and follows its inputs when they change; graphs that differ only
 * in a constant, a shape, a dtype or a view get programs of their own and
 * right results; kernels bigger than the scheduler's inline storage (nodes,
 * views, movement chains, graph lists) still compute right. On ref and on
 * every other plugin that opens here. */
#include <math.h>
#include <stdio.h>
#include <threads.h>
#include <tg/tg.h>
#include "tap.h"

static tg_dev *dev;

static int64_t compiled(void) {
    tg_stats s;
    tg_stats_get(&s);
    return s.programs_compiled;
}

static tg_tensor *vec(int64_t n, const float *v) { return tg_from_data(dev, TG_FLOAT32, TG_SHAPE(n), v); }

/* The first n values of t (realized), or NaN on failure. */
static double at(tg_tensor *t, int64_t i) {
    double v[64];
    int64_t n = 1;
    for (int d = 0; d < tg_tensor_ndim(t); d++) n *= tg_tensor_dim(t, d);
    if (n > 64 || i >= n || tg_to_f64(t, v, (size_t)n) != TG_OK) return NAN;
    return v[i];
}

static void test_repeat(const char *d) {
    tg_scope_begin();
    float one = 1, two = 2, ten = 10;
    tg_tensor *a = vec(1, &one), *b = vec(1, &two);
    int ok = 1;
    for (int i = 0; i < 3; i++) ok &= at(tg_add(a, b), 0) == 3; /* first may compile */
    int64_t c0 = compiled();
    for (int i = 0; i < 50; i++) ok &= at(tg_add(a, b), 0) == 3;
    tap_ok(ok && compiled() == c0, "%s: a repeated add gives 3 each time and compiles nothing new", d);
    tap_ok(tg_assign(a, vec(1, &ten)) == TG_OK && at(tg_add(a, b), 0) == 12 && compiled() == c0,
           "%s: after new data in an input the same program gives 12", d);
    tg_scope_end();
}

static void test_differ(const char *d) {
    tg_scope_begin();
    float x[6] = {1, 2, 3, 4, 5, 6};
    tg_tensor *a = vec(4, x), *b = vec(4, x + 2);
    int64_t c0 = compiled();
    double p1 = at(tg_adds(a, 1), 3), p2 = at(tg_adds(a, 2), 3);
    tap_ok(p1 == 5 && p2 == 6 && compiled() - c0 == 2, "%s: x+1 and x+2 get a program each (%g, %g)", d, p1, p2);
    c0 = compiled();
    double s3 = at(tg_adds(vec(3, x), 1), 2), s5 = at(tg_adds(vec(5, x), 1), 4);
    tap_ok(s3 == 4 && s5 == 6 && compiled() - c0 == 2, "%s: shapes 3 and 5 get a program each (%g, %g)", d, s3, s5);
    double i4 = at(tg_adds(tg_cast(a, TG_INT32), 1), 3);
    tap_ok(i4 == 5, "%s: the same add on int32 gives 5 (%g)", d, i4);
    tg_tensor *m = tg_reshape(a, TG_SHAPE(2, 2)), *n = tg_reshape(b, TG_SHAPE(2, 2));
    int perm[2] = {1, 0};
    double plain = at(tg_add(m, n), 1), tr = at(tg_add(tg_permute(m, perm), n), 1);
    tap_ok(plain == 6 && tr == 7, "%s: a transposed operand is not mistaken for a plain one (%g, %g)", d, plain, tr);
    tg_scope_end();
}

/* Kernels and graphs past the inline sizes of the scheduler. */
static void test_big(const char *d) {
    tg_scope_begin();
    float x[4] = {1, 2, 3, 4};
    tg_tensor *s = vec(4, x); /* 40 distinct inputs: up to 40 loads and views in a kernel */
    for (int i = 1; i < 40; i++) s = tg_add(s, tg_muls(vec(4, x), i + 1));
    double want = 4.0 * (40 * 41 / 2);
    tap_ok(at(s, 3) == want, "%s: 40 inputs summed give %g (%g)", d, want, at(s, 3));
    tg_tensor *t = vec(4, x); /* 40 movement nodes on one load */
    int perm[2] = {1, 0};
    for (int i = 0; i < 20; i++) t = tg_reshape(tg_permute(tg_reshape(t, TG_SHAPE(2, 2)), perm), TG_SHAPE(4));
    tap_ok(at(t, 1) == 2 && at(t, 2) == 3, "%s: 20 transposes back and forth leave x as it was", d);
    tg_tensor *c = vec(4, x); /* a chain of 100 nodes (through 100 kernels where the device fuses none) */
    for (int i = 0; i < 100; i++) c = tg_adds(c, 1);
    tap_ok(at(c, 0) == 101, "%s: 100 chained adds give 101 (%g)", d, at(c, 0));
    tg_scope_end();
}

/* A plan kept for a graph of one shape (a training or decode step) must
 * follow everything that differs between graphs of that shape: the data
 * of the inputs, which inputs are the same tensor, the order of the
 * targets, constants, and variables. */
static void test_plans(const char *d) {
    tg_scope_begin();
    float x[4] = {1, 2, 3, 4}, y[4] = {10, 20, 30, 40};
    tg_tensor *a = vec(4, x), *b = vec(4, y);
    int axes[1] = {0};
    int ok = 1;
    for (int i = 0; i < 3; i++) { /* the same shape each time: f(p, q) = sum(p * q + p) */
        tg_tensor *p = i == 1 ? b : a, *q = i == 2 ? a : b;
        double want = 0;
        for (int j = 0; j < 4; j++) {
            double pj = i == 1 ? y[j] : x[j], qj = i == 2 ? x[j] : y[j];
            want += pj * qj + pj;
        }
        ok &= at(tg_sum(tg_add(tg_mul(p, q), p), 1, axes, false), 0) == want;
    }
    tap_ok(ok, "%s: sum(p*q+p) on (a, b), (b, b), (a, a): each right (leaves and shared leaves follow)", d);
    tg_tensor *u = tg_adds(a, 1), *w = tg_muls(b, 2);
    tg_tensor *both[2] = {u, w};
    ok = tg_realize_many(2, both) == TG_OK && at(u, 0) == 2 && at(w, 0) == 20;
    tg_tensor *u2 = tg_adds(b, 1), *w2 = tg_muls(a, 2);
    tg_tensor *swapped[2] = {w2, u2};
    ok &= tg_realize_many(2, swapped) == TG_OK && at(u2, 0) == 11 && at(w2, 0) == 2;
    tap_ok(ok, "%s: two targets realized together, then the same graph with the targets swapped", d);
    ok = at(tg_adds(tg_muls(a, 3), 1), 1) == 7 && at(tg_adds(tg_muls(a, 5), 1), 1) == 11;
    tap_ok(ok, "%s: graphs that differ in a constant each get their own result", d);
    tg_tensor *v = tg_variable(dev, TG_FLOAT32, 2);
    for (int i = 0; i < 3; i++) {
        tg_variable_set(v, i);
        ok &= at(tg_sum(tg_mul(a, v), 1, axes, false), 0) == 10.0 * i;
    }
    tap_ok(ok, "%s: a kept plan reads each new value of a variable", d);
    tg_scope_end();
}

static int64_t kernels(void) {
    tg_stats s;
    tg_stats_get(&s);
    return s.kernels_launched;
}

/* A matmul whose operand is a long elementwise chain would compute the
 * chain once per column of the other operand: the chain gets a kernel of
 * its own; a short one stays fused. */
static void test_expanded(const char *d) {
    tg_scope_begin();
    tg_tensor *a = tg_rand(dev, TG_FLOAT32, TG_SHAPE(8, 16), 1), *w = tg_rand(dev, TG_FLOAT32, TG_SHAPE(16, 8), 2);
    tg_realize(a), tg_realize(w);
    tg_tensor *cheap = tg_adds(tg_muls(a, 2), 1), *dear = a;
    for (int i = 0; i < 6; i++) dear = tg_adds(tg_muls(tg_sin(dear), 0.5), 0.25); /* 18 ops */
    int64_t k0 = kernels();
    double x = at(tg_matmul(cheap, w), 0);
    int64_t k1 = kernels();
    double y = at(tg_matmul(dear, w), 0);
    int64_t k2 = kernels();
    tap_ok(k1 - k0 == 1 && k2 - k1 == 2 && x == x && y == y,
           "%s: a 2-op operand fuses into its matmul (%lld kernel), an 18-op one gets its own (%lld kernels)", d,
           (long long)(k1 - k0), (long long)(k2 - k1));
    tg_scope_end();
}

/* Scoped work on a thread of its own (each thread keeps its own scope
 * storage, freed when the thread exits). */
static int scoped_worker(void *arg) {
    double *out = arg;
    for (int i = 0; i < 3; i++) {
        tg_scope_begin();
        float one = 1;
        tg_tensor *a = vec(1, &one);
        tg_scope_begin();
        *out = at(tg_adds(a, i), 0);
        tg_scope_end();
        tg_scope_end();
    }
    return 0;
}

static void test_thread(const char *d) {
    thrd_t th;
    double v = 0;
    int ok = thrd_create(&th, scoped_worker, &v) == thrd_success && thrd_join(th, NULL) == thrd_success;
    tap_ok(ok && v == 3, "%s: scopes on another thread work and give 3 (%g)", d, v);
}

int main(void) {
    const char *names[] = {"ref", "cpu", "vulkan"};
    for (int p = 0; p < 3; p++) {
        if (tg_device_open(names[p], &dev) != TG_OK) {
            if (p == 0) tap_ok(0, "open ref: %s", tg_last_error());
            else tap_diag("skip %s: %s", names[p], tg_last_error());
            tg_clear_error();
            continue;
        }
        test_repeat(names[p]);
        test_differ(names[p]);
        test_big(names[p]);
        test_plans(names[p]);
        test_expanded(names[p]);
        test_thread(names[p]);
        tg_device_close(dev);
    }
    return tap_done();
}
