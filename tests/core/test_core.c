/* Tensor core behaviour: fusion (kernel counts), laziness, memory (a 1,000
 * step training loop stays flat, compiles nothing new), error messages,
 * autograd bookkeeping, seeded random numbers, device copies. On ref, and
 * the device-independent checks also on every other plugin that opens. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tg/tg.h>
#include "tap.h"

static tg_dev *dev;

static int64_t kernels(void) {
    tg_stats s;
    tg_stats_get(&s);
    return s.kernels_launched;
}

static tg_tensor *rnd(int ndim, const int64_t *shape, uint64_t seed) {
    return tg_uniform(dev, TG_FLOAT32, ndim, shape, -1, 1, seed);
}

/* Kernels launched to realize t. */
static int64_t count(tg_tensor *t) {
    int64_t k0 = kernels();
    if (tg_realize(t) != TG_OK) {
        tap_diag("realize failed: %s", tg_last_error());
        return -1;
    }
    return kernels() - k0;
}

static void test_fusion(void) {
    const char *d = tg_device_name(dev);
    tg_scope_begin();
    tg_tensor *a = rnd(TG_SHAPE(64, 32), 1), *b = rnd(TG_SHAPE(64, 32), 2), *c = rnd(TG_SHAPE(32), 3);
    tg_stats s0, s1;
    tg_stats_get(&s0);
    tg_tensor *y = tg_relu(tg_add(tg_mul(a, b), c));
    tap_ok(kernels() == s0.kernels_launched, "%s: ops are lazy (no kernel before realize)", d);
    tap_ok(count(y) == 1, "%s: relu(a*b+c) is one kernel", d);
    tg_stats_get(&s1);
    tap_ok(s1.live_buffers - s0.live_buffers == 1, "%s: relu(a*b+c) allocates only its output buffer (%lld)", d,
           (long long)(s1.live_buffers - s0.live_buffers));
    int64_t k = count(tg_softmax(a, -1));
    tap_ok(k >= 1 && k <= 3, "%s: softmax over the last axis is %lld kernels (<= 3)", d, (long long)k);
    tap_ok(count(tg_sum(tg_mul(a, b), TG_AXES(1), false)) == 1, "%s: sum(a*b) is one kernel", d);
    tap_ok(count(tg_sqrt(tg_adds(tg_sum(a, TG_AXES(1), false), 100))) == 1,
           "%s: elementwise work after a reduction fuses into it", d);
    tap_ok(count(tg_matmul(a, tg_transpose(b, 0, 1))) == 1, "%s: matmul is one kernel", d);
    tap_ok(count(tg_transpose(a, 0, 1)) == 1, "%s: a realized view is one copy kernel", d);
    tap_ok(count(tg_add(tg_detach(tg_mul(a, b)), c)) == 1, "%s: detach fuses like an elementwise op", d);
    {
        tg_tensor *x3 = rnd(TG_SHAPE(4, 5, 6), 9);
        tg_tensor *sm = tg_sum(x3, TG_AXES(2), false);
        double w[20], g[20];
        bool ok = tg_to_f64(sm, w, 20) == TG_OK; /* (4,5) */
        tg_tensor *t = tg_transpose(tg_sum(x3, TG_AXES(2), false), 0, 1);
        ok = ok && count(t) == 1 && tg_to_f64(t, g, 20) == TG_OK;
        for (int i = 0; ok && i < 4; i++)
            for (int j = 0; ok && j < 5; j++) ok = g[j * 4 + i] == w[i * 5 + j];
        tap_ok(ok, "%s: a transposed reduction is one kernel storing through the permutation", d);
    }
    tg_tensor *m = tg_mean(a, TG_ALL_AXES, false);
    tap_ok(count(tg_sub(a, m)) == 2, "%s: x - mean(x) is two kernels (reduce, then broadcast)", d);
    /* without fusion caps the same graphs still compute, one op per kernel */
    tg_caps *caps = (tg_caps *)tg_device_caps(dev), saved = *caps;
    double want[4], got[4];
    tg_tensor *ref_y = tg_shrink(tg_softmax(tg_relu(tg_add(tg_mul(a, b), c)), -1), (int64_t[]){0, 0}, (int64_t[]){2, 2});
    bool ok = tg_to_f64(ref_y, want, 4) == TG_OK;
    caps->fusion = 0;
    tg_tensor *y0 = tg_shrink(tg_softmax(tg_relu(tg_add(tg_mul(a, b), c)), -1), (int64_t[]){0, 0}, (int64_t[]){2, 2});
    int64_t k0 = kernels();
    ok = ok && tg_to_f64(y0, got, 4) == TG_OK;
    int64_t k1 = kernels() - k0;
    for (int i = 0; ok && i < 4; i++) ok = fabs(got[i] - want[i]) <= 1e-6 * fabs(want[i]) + 1e-12;
    tap_ok(ok && k1 > 5, "%s: with no fusion caps softmax(relu(a*b+c)) still computes (%lld kernels) %s", d,
           (long long)k1, ok ? "" : tg_last_error());
    *caps = saved;
    /* a device that takes at most 3 buffers and 6 nodes per kernel */
    tg_tensor *terms[6];
    for (int i = 0; i < 6; i++) terms[i] = tg_muls(rnd(TG_SHAPE(4, 4), 20 + (uint64_t)i), i + 1);
    tg_tensor *sum6 = terms[0];
    for (int i = 1; i < 6; i++) sum6 = tg_add(sum6, terms[i]);
    tg_tensor *tot = tg_sum(tg_exp(sum6), TG_ALL_AXES, false);
    double w1, w2;
    ok = tg_item(tot, &w1) == TG_OK;
    caps->max_params = 3, caps->max_nodes = 6;
    for (int i = 0; i < 6; i++) terms[i] = tg_muls(rnd(TG_SHAPE(4, 4), 20 + (uint64_t)i), i + 1);
    sum6 = terms[0];
    for (int i = 1; i < 6; i++) sum6 = tg_add(sum6, terms[i]);
    tot = tg_sum(tg_exp(sum6), TG_ALL_AXES, false);
    k0 = kernels();
    ok = ok && tg_item(tot, &w2) == TG_OK && fabs(w1 - w2) <= 1e-5 * fabs(w1);
    k1 = kernels() - k0;
    tap_ok(ok && k1 > 1, "%s: kernels split to fit max_params 3 / max_nodes 6 (%lld kernels) %s", d, (long long)k1,
           ok ? "" : tg_last_error());
    *caps = saved;
    tg_scope_end();
}

static void test_values_and_views(void) {
    const char *d = tg_device_name(dev);
    tg_scope_begin();
    float v[24];
    for (int i = 0; i < 24; i++) v[i] = (float)i;
    tg_tensor *x = tg_from_data(dev, TG_FLOAT32, TG_SHAPE(2, 3, 4), v);
    /* a reshape of a permuted, padded, flipped view needs a view stack */
    tg_tensor *y = tg_reshape(tg_flip(tg_pad(tg_permute(x, (int[]){2, 0, 1}), (int64_t[]){0, 0, 1, 0, 0, 1}, 0),
                                      TG_AXES(2)),
                              TG_SHAPE(-1));
    double out[64];
    int64_t n = tg_tensor_numel(y);
    bool ok = n == 48 && tg_to_f64(y, out, 48) == TG_OK;
    /* check against a direct evaluation */
    for (int64_t i = 0; ok && i < n; i++) {
        int64_t p0 = i / 12, p1 = (i / 4) % 3, p2 = 3 - (i % 4); /* (4,3,4) after pad+flip */
        double want = 0;
        if (p1 >= 1 && p2 < 3) want = v[(p1 - 1) * 12 + p2 * 4 + p0];
        ok = out[i] == want;
    }
    tap_ok(ok, "%s: reshape of a permuted, padded, flipped view", d);
    /* the same with the device limited to one view per load: the core must
     * copy into a contiguous buffer where a stack would be needed */
    tg_caps *caps = (tg_caps *)tg_device_caps(dev), saved = *caps;
    caps->max_view_depth = 1;
    tg_tensor *y1 = tg_reshape(tg_flip(tg_pad(tg_permute(x, (int[]){2, 0, 1}), (int64_t[]){0, 0, 1, 0, 0, 1}, 0),
                                       TG_AXES(2)),
                               TG_SHAPE(-1));
    double out1[48];
    int64_t k0 = kernels();
    bool same = tg_to_f64(y1, out1, 48) == TG_OK && memcmp(out, out1, sizeof out1) == 0;
    int64_t k1 = kernels() - k0;
    tap_ok(same && k1 == 2, "%s: with max_view_depth 1 the view stack becomes a copy (%lld kernels)", d, (long long)k1);
    *caps = saved;
    double it;
    tap_ok(tg_item(tg_sum(x, TG_ALL_AXES, false), &it) == TG_OK && it == 276, "%s: sum of 0..23 is 276", d);
    tg_tensor *e = tg_eye(dev, TG_FLOAT32, 3), *ar = tg_arange(dev, TG_INT32, 5, 0, -2);
    double ev[9], av[3];
    tap_ok(tg_to_f64(e, ev, 9) == TG_OK && ev[0] == 1 && ev[1] == 0 && ev[4] == 1 && ev[8] == 1, "%s: eye", d);
    tap_ok(tg_to_f64(ar, av, 3) == TG_OK && av[0] == 5 && av[1] == 3 && av[2] == 1, "%s: arange 5,3,1", d);
    double fv[4];
    tap_ok(tg_to_f64(tg_full(dev, TG_FLOAT16, TG_SHAPE(2, 2), 1.0 / 3), fv, 4) == TG_OK &&
               fabs(fv[3] - 0.333251953125) < 1e-12,
           "%s: full in float16 is rounded to the dtype (%.12g)", d, fv[3]);
    /* conv2d's windows (strided, dilated) fold into one view: one kernel even
     * when the device takes a single view per load */
    tg_tensor *cx = rnd(TG_SHAPE(2, 3, 9, 8), 30), *cw = rnd(TG_SHAPE(4, 3, 3, 2), 31);
    tg_conv_opts co = {.stride = {2, 1}, .dilation = {1, 2}};
    double c1[192], c2[192];
    tg_tensor *cy = tg_conv2d(cx, cw, NULL, &co);
    bool cok = tg_tensor_numel(cy) == 192 && tg_to_f64(cy, c1, 192) == TG_OK;
    caps->max_view_depth = 1;
    cy = tg_conv2d(cx, cw, NULL, &co);
    k0 = kernels();
    cok = cok && tg_to_f64(cy, c2, 192) == TG_OK && memcmp(c1, c2, sizeof c1) == 0;
    k1 = kernels() - k0;
    *caps = saved;
    tap_ok(cok && k1 == 1, "%s: conv2d windows are one view (%lld kernels at max_view_depth 1)", d, (long long)k1);
    tg_scope_end();
}

static void test_random(tg_dev *other) {
    const char *d = tg_device_name(dev);
    tg_scope_begin();
    double a[1000], b[1000], c[1000];
    tg_tensor *r = tg_randn(dev, TG_FLOAT32, TG_SHAPE(1000), 42);
    tap_ok(tg_to_f64(r, a, 1000) == TG_OK, "%s: randn", d);
    double mean = 0, var = 0;
    for (int i = 0; i < 1000; i++) mean += a[i] / 1000;
    for (int i = 0; i < 1000; i++) var += (a[i] - mean) * (a[i] - mean) / 999;
    tap_ok(fabs(mean) < 0.15 && fabs(var - 1) < 0.2, "%s: randn mean %.3f var %.3f", d, mean, var);
    tg_to_f64(tg_randn(dev, TG_FLOAT32, TG_SHAPE(1000), 42), b, 1000);
    tg_to_f64(tg_randn(dev, TG_FLOAT32, TG_SHAPE(1000), 43), c, 1000);
    tap_ok(memcmp(a, b, sizeof a) == 0 && memcmp(a, c, sizeof a) != 0, "%s: same seed, same numbers", d);
    if (other) {
        tg_to_f64(tg_randn(other, TG_FLOAT32, TG_SHAPE(1000), 42), b, 1000);
        tap_ok(memcmp(a, b, sizeof a) == 0, "randn(seed) is the same on %s and %s", d, tg_device_name(other));
        tg_tensor *moved = tg_to_device(tg_muls(r, 2), other);
        tap_ok(moved && tg_tensor_device(moved) == other && tg_to_f64(moved, b, 1000) == TG_OK && b[7] == 2 * a[7],
               "to_device %s -> %s", d, tg_device_name(other));
    }
    tg_tensor *u = tg_uniform(dev, TG_FLOAT32, TG_SHAPE(1000), 2, 3, 1);
    double mn, mx;
    tg_item(tg_min(u, TG_ALL_AXES, false), &mn);
    tg_item(tg_max(u, TG_ALL_AXES, false), &mx);
    tap_ok(mn >= 2 && mx < 3 && mx - mn > 0.9, "%s: uniform in [2, 3)", d);
    tg_tensor *x = tg_ones(dev, TG_FLOAT32, TG_SHAPE(1000));
    double kept;
    tg_item(tg_sum(tg_dropout(x, 0.25, 9), TG_ALL_AXES, false), &kept);
    tap_ok(fabs(kept - 1000) < 120, "%s: dropout keeps the expected sum (%.1f)", d, kept);
    tg_scope_end();
}

static void test_errors(void) {
    const char *d = tg_device_name(dev);
    tg_scope_begin();
    tg_tensor *a = rnd(TG_SHAPE(2, 3), 1), *b = rnd(TG_SHAPE(4, 3), 2);
    tg_clear_error();
    tg_tensor *y = tg_add(a, b);
    tap_ok(!y && tg_last_status() == TG_ERR_SHAPE && strstr(tg_last_error(), "(2,3)") &&
               strstr(tg_last_error(), "(4,3)"),
           "%s: add mismatch names both shapes: %s", d, tg_last_error());
    tg_clear_error();
    y = tg_matmul(a, b);
    tap_ok(!y && tg_last_status() == TG_ERR_SHAPE && strstr(tg_last_error(), "(2,3)") &&
               strstr(tg_last_error(), "(4,3)"),
           "%s: matmul mismatch names both shapes: %s", d, tg_last_error());
    tg_clear_error();
    y = tg_relu(tg_exp(tg_mul(tg_add(a, b), a)));
    tap_ok(!y && strstr(tg_last_error(), "add:"), "%s: a failing chain keeps the first message: %s", d,
           tg_last_error());
    tg_clear_error();
    y = tg_add(a, tg_cast(a, TG_FLOAT64));
    tap_ok(!y && tg_last_status() == TG_ERR_DTYPE && strstr(tg_last_error(), "float32") &&
               strstr(tg_last_error(), "float64"),
           "%s: dtype mismatch: %s", d, tg_last_error());
    tg_clear_error();
    y = tg_exp(tg_ones(dev, TG_INT32, TG_SHAPE(2)));
    tap_ok(!y && tg_last_status() == TG_ERR_DTYPE, "%s: exp on int32 is refused: %s", d, tg_last_error());
    tg_clear_error();
    y = tg_reshape(a, TG_SHAPE(5));
    tap_ok(!y && strstr(tg_last_error(), "(2,3)") && strstr(tg_last_error(), "(5)"), "%s: reshape: %s", d,
           tg_last_error());
    tg_clear_error();
    y = tg_sum(a, TG_AXES(2), false);
    tap_ok(!y && tg_last_status() == TG_ERR_SHAPE, "%s: bad axis: %s", d, tg_last_error());
    tg_clear_error();
    tap_ok(tg_realize(NULL) != TG_OK && tg_add(NULL, a) == NULL, "%s: NULL inputs fail cleanly", d);
    tg_clear_error();
    tg_scope_end();
}

static void test_autograd(void) {
    const char *d = tg_device_name(dev);
    tg_scope_begin();
    tg_tensor *w = tg_keep(tg_from_f64(dev, TG_FLOAT32, TG_SHAPE(3), (double[]){1, 2, 3}));
    tg_set_requires_grad(w, true);
    double g[3];
    for (int i = 0; i < 2; i++) {
        tg_scope_begin();
        tg_backward(tg_sum(tg_mul(w, w), TG_ALL_AXES, false));
        tg_scope_end();
    }
    tap_ok(tg_tensor_grad(w) && tg_to_f64(tg_tensor_grad(w), g, 3) == TG_OK && g[0] == 4 && g[2] == 12,
           "%s: gradients accumulate over two backward passes (%g %g %g)", d, g[0], g[1], g[2]);
    tg_zero_grad(w);
    tap_ok(tg_tensor_grad(w) == NULL, "%s: zero_grad forgets the gradient", d);
    tg_no_grad_begin();
    tg_tensor *n = tg_mul(w, w);
    tg_no_grad_end();
    tap_ok(!tg_requires_grad(n) && tg_grad_enabled(), "%s: no-grad mode records no gradient", d);
    tg_tensor *l = tg_sum(tg_mul(tg_detach(w), w), TG_ALL_AXES, false);
    tg_backward(l);
    tap_ok(tg_to_f64(tg_tensor_grad(w), g, 3) == TG_OK && g[1] == 2, "%s: detach stops the gradient (%g)", d, g[1]);
    tg_release(w);
    tg_scope_end();
}

static bool close_all(const double *a, const double *b, int n, double tol) {
    for (int i = 0; i < n; i++)
        if (!(fabs(a[i] - b[i]) <= tol * (1 + fabs(b[i])))) return false;
    return true;
}

/* Ops the golden file does not cover directly. */
static void test_misc(void) {
    const char *d = tg_device_name(dev);
    tg_scope_begin();
    double xv[6] = {1, -2, 3, 0.5, 4, -1}, out[6], want[6];
    tg_tensor *x = tg_from_f64(dev, TG_FLOAT32, TG_SHAPE(2, 3), xv);
    tap_ok(tg_to_f64(tg_contiguous(tg_transpose(x, 0, 1)), out, 6) == TG_OK && out[1] == 0.5 && out[2] == -2,
           "%s: contiguous of a transpose", d);
    for (int i = 0; i < 6; i++) want[i] = 3 - xv[i];
    tap_ok(tg_to_f64(tg_rsubs(x, 3), out, 6) == TG_OK && close_all(out, want, 6, 0), "%s: rsubs", d);
    for (int i = 0; i < 6; i++) want[i] = pow(fabs(xv[i]), 3) * (xv[i] < 0 ? -1 : 1);
    tap_ok(tg_to_f64(tg_pows(x, 3), out, 6) == TG_OK && close_all(out, want, 6, 1e-5), "%s: pows 3 (odd power of negatives)", d);
    tap_ok(tg_to_f64(tg_full_like(x, 7), out, 6) == TG_OK && out[5] == 7, "%s: full_like", d);
    /* linear: x (2,3) @ w^T (w is (2,3)) + b */
    double wv[6] = {1, 0, 1, 0, 1, 0}, bv[2] = {10, 20};
    tg_tensor *w = tg_from_f64(dev, TG_FLOAT32, TG_SHAPE(2, 3), wv), *b = tg_from_f64(dev, TG_FLOAT32, TG_SHAPE(2), bv);
    double lw[4] = {1 + 3 + 10, -2 + 20, 0.5 - 1 + 10, 4 + 20};
    tap_ok(tg_to_f64(tg_linear(x, w, b), out, 4) == TG_OK && close_all(out, lw, 4, 1e-6), "%s: linear", d);
    /* batchnorm in training updates the running statistics */
    double bx[8] = {1, 2, 3, 4, 5, 6, 7, 9}; /* (4, 2): channel 0 = 1,3,5,7; channel 1 = 2,4,6,9 */
    tg_tensor *in = tg_from_f64(dev, TG_FLOAT32, TG_SHAPE(4, 2), bx);
    tg_tensor *rm = tg_zeros(dev, TG_FLOAT32, TG_SHAPE(2)), *rv = tg_ones(dev, TG_FLOAT32, TG_SHAPE(2));
    tg_tensor *y = tg_batchnorm(in, NULL, NULL, rm, rv, true, 0.1, 1e-5);
    double m[2], v[2], rmv[2], rvv[2];
    for (int c = 0; c < 2; c++) {
        m[c] = 0, v[c] = 0;
        for (int i = 0; i < 4; i++) m[c] += bx[2 * i + c] / 4;
        for (int i = 0; i < 4; i++) v[c] += (bx[2 * i + c] - m[c]) * (bx[2 * i + c] - m[c]) / 3;
        m[c] *= 0.1, v[c] = 0.9 + 0.1 * v[c];
    }
    bool ok = y && tg_realize(y) == TG_OK && tg_to_f64(rm, rmv, 2) == TG_OK && tg_to_f64(rv, rvv, 2) == TG_OK;
    tap_ok(ok && close_all(rmv, m, 2, 1e-6) && close_all(rvv, v, 2, 1e-6),
           "%s: batchnorm updates running mean/var (%g %g / %g %g)", d, rmv[0], rmv[1], rvv[0], rvv[1]);
    /* sdpa with an explicit lower-triangular mask equals causal */
    tg_tensor *q = rnd(TG_SHAPE(2, 4, 3), 40), *k = rnd(TG_SHAPE(2, 4, 3), 41), *vv = rnd(TG_SHAPE(2, 4, 5), 42);
    tg_tensor *i = tg_reshape(tg_arange(dev, TG_INT32, 0, 4, 1), TG_SHAPE(4, 1));
    tg_tensor *j = tg_reshape(tg_arange(dev, TG_INT32, 0, 4, 1), TG_SHAPE(1, 4));
    double s1[40], s2[40];
    ok = tg_to_f64(tg_sdpa(q, k, vv, tg_le(j, i), false), s1, 40) == TG_OK &&
         tg_to_f64(tg_sdpa(q, k, vv, NULL, true), s2, 40) == TG_OK;
    tap_ok(ok && close_all(s1, s2, 40, 1e-6), "%s: sdpa with a tril mask equals causal", d);
    tg_scope_end();
}

/* Resident set size in bytes (Linux), 0 if unknown. */
static int64_t rss_bytes(void) {
    FILE *f = fopen("/proc/self/statm", "r");
    long long pages = 0, res = 0;
    if (!f) return 0;
    if (fscanf(f, "%lld %lld", &pages, &res) != 2) res = 0;
    fclose(f);
    return res * 4096;
}

/* A small MLP trained with plain SGD: 1,000 steps, each in a scope. */
static void test_memory(void) {
    const char *d = tg_device_name(dev);
    tg_scope_begin();
    tg_tensor *w1 = rnd(TG_SHAPE(8, 16), 11), *b1 = tg_zeros(dev, TG_FLOAT32, TG_SHAPE(16));
    tg_tensor *w2 = rnd(TG_SHAPE(16, 4), 12), *b2 = tg_zeros(dev, TG_FLOAT32, TG_SHAPE(4));
    tg_tensor *x = rnd(TG_SHAPE(32, 8), 13);
    tg_tensor *yt = tg_cast(tg_argmax(tg_matmul(x, rnd(TG_SHAPE(8, 4), 14)), 1, false), TG_INT32);
    tg_tensor *params[4] = {w1, b1, w2, b2};
    for (int i = 0; i < 4; i++) tg_set_requires_grad(params[i], true);
    tg_stats s10 = {0}, s999 = {0}, s1000;
    int64_t rss100 = 0;
    double first = 0, last = 0;
    bool ok = true;
    for (int step = 1; step <= 1000 && ok; step++) {
        tg_scope_begin();
        tg_tensor *h = tg_relu(tg_add(tg_matmul(x, w1), b1));
        tg_tensor *loss = tg_cross_entropy(tg_add(tg_matmul(h, w2), b2), yt, 0);
        ok = tg_backward(loss) == TG_OK;
        if (step == 1) tg_item(loss, &first);
        if (step == 1000) tg_item(loss, &last);
        tg_no_grad_begin();
        for (int i = 0; i < 4 && ok; i++) {
            ok = tg_assign(params[i], tg_sub(params[i], tg_muls(tg_tensor_grad(params[i]), 0.1))) == TG_OK;
            tg_zero_grad(params[i]);
        }
        tg_no_grad_end();
        tg_scope_end();
        if (step == 10) tg_stats_get(&s10);
        if (step == 100) rss100 = rss_bytes();
        if (step == 999) tg_stats_get(&s999);
    }
    tg_stats_get(&s1000);
    tap_ok(ok, "%s: 1,000 training steps ran (%s)", d, ok ? "ok" : tg_last_error());
    tap_ok(last < first * 0.5, "%s: the loss fell from %.4f to %.4f", d, first, last);
    tap_ok(s1000.live_buffers == s10.live_buffers && s1000.live_tensors == s10.live_tensors &&
               s1000.live_bytes == s10.live_bytes,
           "%s: live buffers %lld -> %lld, tensors %lld -> %lld from step 10 to 1000", d, (long long)s10.live_buffers,
           (long long)s1000.live_buffers, (long long)s10.live_tensors, (long long)s1000.live_tensors);
#if defined(__SANITIZE_ADDRESS__)
    tap_skip("resident memory under ASan (its quarantine grows by design)");
#else
    int64_t grow = rss_bytes() - rss100;
    tap_ok(rss100 > 0 && grow < (1 << 20), "%s: resident memory grew %lld bytes from step 100 to 1000", d,
           (long long)grow);
#endif
    tap_ok(s1000.programs_compiled == s10.programs_compiled, "%s: steps 11..1000 compiled nothing new (%lld)", d,
           (long long)(s1000.programs_compiled - s10.programs_compiled));
    tap_ok((s999.kernels_launched - s10.kernels_launched) % 989 == 0, "%s: %lld kernels per step", d,
           (long long)((s999.kernels_launched - s10.kernels_launched) / 989));
    tg_scope_end();
}

int main(void) {
    const char *names[] = {"ref", "cpu", "vulkan"};
    tg_stats s0;
    tg_stats_get(&s0);
    for (int p = 0; p < 3; p++) {
        if (tg_device_open(names[p], &dev) != TG_OK) {
            if (p == 0) tap_ok(0, "open ref: %s", tg_last_error());
            else tap_diag("skip %s: %s", names[p], tg_last_error());
            tg_clear_error();
            continue;
        }
        tg_dev *other = NULL;
        if (p == 0 && tg_device_open("cpu", &other) != TG_OK) other = NULL, tg_clear_error();
        test_fusion(); 
        test_values_and_views(); 
        test_random(other); 
        test_errors(); 
        test_autograd();
        test_misc(); 
        if (p == 0) test_memory();
        tg_device_close(other);
        tg_device_close(dev);
    }
    tg_dev *autodev = NULL;
    tg_status ast = tg_device_open("auto", &autodev);
    tap_ok(ast == TG_OK, "device \"auto\" opens (%s)", autodev ? tg_device_name(autodev) : tg_last_error());
    tg_device_close(autodev);
    tg_stats s;
    tg_stats_get(&s);
    tap_ok(s.live_tensors == s0.live_tensors && s.live_buffers == 0, "nothing left alive at the end (%lld tensors, %lld buffers)",
           (long long)s.live_tensors, (long long)s.live_buffers);
    return tap_done();
}
