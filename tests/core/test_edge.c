/* Edge cases found by a differential run against numpy/torch, a misuse run
 * and fault injection (issue 16): size-0 dims, NaN and IEEE comparisons,
 * unsigned and INT_MIN ordering, losses with -inf/NaN, saturating
 * gradients, errors that must not stick, kernels over many buffers,
 * float16 accumulation, accuracy at extreme arguments, bad input. On every
 * plugin that opens. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tg/tg.h>
#include "tap.h"

static tg_dev *dev;
static const char *dn;

static tg_tensor *f32(int n, const double *v) { return tg_from_f64(dev, TG_FLOAT32, 1, (int64_t[]){n}, v); }
#define F32(...) f32((int)(sizeof((double[]){__VA_ARGS__}) / sizeof(double)), (double[]){__VA_ARGS__})

static bool same(double got, double want, double rel) {
    if (isnan(want)) return isnan(got);
    if (isinf(want) || rel == 0) return got == want;
    return fabs(got - want) <= rel * fabs(want);
}

/* t holds want[0..n) within relative error rel (NaN for NaN, inf exactly). */
static bool vals(tg_tensor *t, int n, const double *want, double rel, const char *what) {
    double got[64];
    if (!t || tg_tensor_numel(t) != n || tg_to_f64(t, got, (size_t)n) != TG_OK) {
        tap_ok(0, "%s: %s (%s)", dn, what, t ? tg_last_error() : tg_last_error());
        tg_clear_error();
        return false;
    }
    bool ok = true;
    for (int i = 0; i < n; i++)
        if (!same(got[i], want[i], rel)) {
            tap_diag("%s: element %d is %.9g, want %.9g", what, i, got[i], want[i]);
            ok = false;
        }
    return tap_ok(ok, "%s: %s", dn, what);
}
#define VALS(t, rel, what, ...) \
    vals(t, (int)(sizeof((double[]){__VA_ARGS__}) / sizeof(double)), (double[]){__VA_ARGS__}, rel, what)

/* f(...) fails with status st and a message containing `word`. */
static void fails(tg_tensor *t, tg_status st, const char *word, const char *what) {
    tg_status got = tg_last_status();
    tap_ok(!t && got == st && strstr(tg_last_error(), word), "%s: %s is refused (%s: %s)", dn, what,
           tg_status_name(got), tg_last_error());
    tg_clear_error();
}

/* 1. size-0 dims beside larger dims */
static void test_empty(void) {
    tg_tensor *a = tg_zeros(dev, TG_FLOAT32, TG_SHAPE(3, 0)), *b = tg_zeros(dev, TG_FLOAT32, TG_SHAPE(0, 3));
    tap_ok(tg_realize(tg_exp(a)) == TG_OK, "%s: exp of a (3,0) tensor realizes (%s)", dn, tg_last_error());
    tap_ok(tg_realize(tg_contiguous(tg_transpose(b, 0, 1))) == TG_OK, "%s: a (3,0) transpose realizes (%s)", dn,
           tg_last_error());
    tap_ok(tg_realize(tg_add(tg_reshape(a, TG_SHAPE(3, 1, 0)), tg_zeros(dev, TG_FLOAT32, TG_SHAPE(3, 2, 1)))) == TG_OK,
           "%s: broadcast add to (3,2,0) realizes (%s)", dn, tg_last_error());
    VALS(tg_sum(a, TG_AXES(1), false), 0, "sum over an empty axis is 0", 0, 0, 0);
    VALS(tg_mean(b, TG_AXES(0), false), 0, "mean over an empty axis is NaN", NAN, NAN, NAN);
    VALS(tg_reshape(tg_matmul(a, b), TG_SHAPE(9)), 0, "(3,0) @ (0,3) is zeros", 0, 0, 0, 0, 0, 0, 0, 0, 0);
    tg_tensor *c = tg_cat(2, (tg_tensor *[]){b, tg_ones(dev, TG_FLOAT32, TG_SHAPE(1, 3))}, 0);
    VALS(tg_reshape(c, TG_SHAPE(3)), 0, "cat of (0,3) and (1,3)", 1, 1, 1);
    tg_tensor *s = tg_softmax(a, 1);
    tap_ok(s && tg_realize(s) == TG_OK, "%s: softmax over an empty axis realizes (%s)", dn, tg_last_error());
    tg_clear_error();
    /* every kind of op on a (2,0,3) tensor */
    tg_tensor *(*un[])(tg_tensor *) = {tg_exp, tg_log, tg_tanh, tg_sigmoid, tg_gelu, tg_relu, tg_softplus, tg_abs,
                                       tg_cos, tg_sqrt, tg_neg, tg_sign};
    tg_tensor *e = tg_zeros(dev, TG_FLOAT32, TG_SHAPE(2, 0, 3));
    bool ok = true;
    for (size_t i = 0; i < sizeof un / sizeof un[0]; i++) ok &= tg_realize(un[i](e)) == TG_OK;
    tg_tensor *more[] = {tg_flip(e, TG_ALL_AXES), tg_pad(e, (int64_t[]){0, 0, 1, 1, 0, 0}, 2),
                         tg_slice(e, 2, 0, 3, 2), tg_repeat(e, (int64_t[]){2, 3, 1}), tg_permute(e, (int[]){2, 0, 1}),
                         tg_prod(e, TG_AXES(1), false), tg_var(e, TG_AXES(1), false, 1),
                         tg_logsumexp(e, TG_AXES(1), false), tg_matmul(e, tg_zeros(dev, TG_FLOAT32, TG_SHAPE(3, 4))),
                         tg_log_softmax(e, 1), tg_max(e, TG_AXES(2), false), tg_argmax(e, 2, false),
                         tg_where(tg_lt(e, e), e, e), tg_cast(e, TG_INT32), tg_maximum(e, e), tg_pow(e, e)};
    for (size_t i = 0; i < sizeof more / sizeof more[0]; i++) {
        if (!more[i] || tg_realize(more[i]) != TG_OK) tap_diag("op %zu on (2,0,3): %s", i, tg_last_error());
        ok &= more[i] && tg_realize(more[i]) == TG_OK;
    }
    tap_ok(ok, "%s: unary, movement, reduction and matmul ops on (2,0,3) realize (%s)", dn, tg_last_error());
    VALS(tg_reshape(tg_pad(e, (int64_t[]){0, 0, 1, 0, 0, 0}, 2), TG_SHAPE(6)), 0, "pad of an empty dim", 2, 2, 2, 2, 2, 2);
    VALS(tg_reshape(tg_prod(e, TG_AXES(1), false), TG_SHAPE(6)), 0, "prod over an empty axis is 1", 1, 1, 1, 1, 1, 1);
    VALS(tg_reshape(tg_logsumexp(e, TG_AXES(1), false), TG_SHAPE(6)), 0, "logsumexp over an empty axis is -inf",
         -INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY);
    tg_clear_error();
}

/* 2. NaN: IEEE comparisons, NaN-propagating max/argmax */
static void test_nan(void) {
    tg_tensor *a = F32(1, NAN, NAN, 2, -0.0), *b = F32(1, NAN, 1, 3, 0);
    VALS(tg_cast(tg_eq(a, b), TG_FLOAT32), 0, "eq with NaN is false", 1, 0, 0, 0, 1);
    VALS(tg_cast(tg_ne(a, b), TG_FLOAT32), 0, "ne with NaN is true", 0, 1, 1, 1, 0);
    VALS(tg_cast(tg_le(a, b), TG_FLOAT32), 0, "le with NaN is false", 1, 0, 0, 1, 1);
    VALS(tg_cast(tg_ge(a, b), TG_FLOAT32), 0, "ge with NaN is false", 1, 0, 0, 0, 1);
    tg_tensor *x = F32(1, NAN, 3, NAN);
    VALS(tg_argmax(x, 0, false), 0, "argmax is the first NaN", 1);
    VALS(tg_argmin(x, 0, false), 0, "argmin is the first NaN", 1);
    VALS(tg_max(x, TG_ALL_AXES, false), 0, "max with a NaN is NaN", NAN);
    VALS(tg_min(x, TG_ALL_AXES, false), 0, "min with a NaN is NaN", NAN);
    VALS(tg_prod(F32(2, NAN), TG_ALL_AXES, false), 0, "prod([2, NaN]) is NaN", NAN);
    VALS(tg_pow(F32(NAN, NAN, 1, -1, -1, -0.0, -0.0, -0.0, -2, -8), F32(NAN, 0, NAN, INFINITY, -INFINITY, -1, 3, 0.5, INFINITY, 1.0 / 3)),
         1e-6, "pow special cases as C99 pow", NAN, 1, 1, 1, 1, -INFINITY, -0.0, 0, INFINITY, NAN);
    double r[1];
    tg_tensor *pz = tg_pow(F32(-0.0), F32(3));
    tap_ok(tg_to_f64(pz, r, 1) == TG_OK && r[0] == 0 && signbit(r[0]), "%s: pow(-0, 3) is -0", dn);
    VALS(tg_maximum(F32(NAN, 1), F32(1, NAN)), 0, "maximum propagates NaN", NAN, NAN);
    VALS(tg_minimum(F32(NAN, 1), F32(1, NAN)), 0, "minimum propagates NaN", NAN, NAN);
    VALS(tg_relu(F32(NAN, -1, 2)), 0, "relu keeps NaN", NAN, 0, 2);
    VALS(tg_sign(F32(NAN, -3, 0, 2)), 0, "sign keeps NaN", NAN, -1, 0, 1);
}

/* 3. unsigned and INT_MIN ordering */
static void test_int_order(void) {
    tg_tensor *u = tg_from_f64(dev, TG_UINT8, 1, (int64_t[]){3}, (double[]){0, 5, 200});
    tg_tensor *v = tg_from_f64(dev, TG_UINT8, 1, (int64_t[]){3}, (double[]){5, 0, 100});
    VALS(tg_abs(u), 0, "abs on uint8 is the identity", 0, 5, 200);
    VALS(tg_minimum(u, v), 0, "minimum on uint8 with 0", 0, 0, 100);
    VALS(tg_minimums(u, 3), 0, "minimums on uint8", 0, 3, 3);
    VALS(tg_clamp(u, 1, 100), 0, "clamp on uint8", 1, 5, 100);
    VALS(tg_min(u, TG_ALL_AXES, false), 0, "min on uint8 with 0", 0);
    tg_tensor *i = tg_from_f64(dev, TG_INT32, 1, (int64_t[]){3}, (double[]){3, -2147483648.0, 7});
    tg_tensor *j = tg_from_f64(dev, TG_INT32, 1, (int64_t[]){3}, (double[]){-2147483648.0, 5, 2147483647.0});
    VALS(tg_minimum(i, j), 0, "minimum on int32 with INT_MIN", -2147483648.0, -2147483648.0, 7);
    VALS(tg_min(i, TG_ALL_AXES, false), 0, "min on int32 with INT_MIN", -2147483648.0);
    VALS(tg_argmin(i, 0, false), 0, "argmin on int32 with INT_MIN", 1);
    VALS(tg_clamp(j, -5, 5), 0, "clamp on int32 extremes", -5, 5, 5);
    VALS(tg_abs(tg_from_f64(dev, TG_INT32, 1, (int64_t[]){2}, (double[]){-3, 3})), 0, "abs on int32", 3, 3);
    uint64_t w[3] = {5, 0, UINT64_MAX}, got = 1;
    tg_tensor *q = tg_from_data(dev, TG_UINT64, 1, (int64_t[]){3}, w);
    tap_ok(tg_to_host(tg_min(q, TG_ALL_AXES, false), &got, 8) == TG_OK && got == 0, "%s: min on uint64 with 0 (%llu)",
           dn, (unsigned long long)got);
    tap_ok(tg_to_host(tg_max(q, TG_ALL_AXES, false), &got, 8) == TG_OK && got == UINT64_MAX, "%s: max on uint64", dn);
    VALS(tg_argmin(q, 0, false), 0, "argmin on uint64 with 0", 1);
    int64_t m[2] = {INT64_MIN, 1}, g2 = 0;
    tg_tensor *q2 = tg_from_data(dev, TG_INT64, 1, (int64_t[]){2}, m);
    tap_ok(tg_to_host(tg_min(q2, TG_ALL_AXES, false), &g2, 8) == TG_OK && g2 == INT64_MIN, "%s: min on int64 with INT64_MIN", dn);
}

/* 4., 5. gather dtype, losses and embedding with inf/NaN elsewhere */
static void test_pick(void) {
    tg_tensor *bx = tg_from_f64(dev, TG_BOOL, 2, (int64_t[]){2, 2}, (double[]){1, 0, 0, 1});
    tg_tensor *idx = tg_from_f64(dev, TG_INT32, 2, (int64_t[]){2, 1}, (double[]){1, 1});
    tg_tensor *g = tg_gather(bx, 1, idx);
    tap_ok(g && tg_tensor_dtype(g) == TG_BOOL, "%s: gather on bool gives bool", dn);
    VALS(tg_reshape(tg_cast(g, TG_FLOAT32), TG_SHAPE(2)), 0, "gather on bool values", 0, 1);
    tg_tensor *logits = tg_from_f64(dev, TG_FLOAT32, 2, (int64_t[]){2, 3}, (double[]){0, -INFINITY, 1, 2, 0, -INFINITY});
    tg_tensor *t = tg_from_f64(dev, TG_INT32, 1, (int64_t[]){2}, (double[]){0, 1});
    double l0 = log(1 + exp(1.0)), l1 = 2 + log(1 + exp(-2.0));
    VALS(tg_cross_entropy(logits, t, 0), 1e-5, "cross_entropy with a -inf non-target logit is finite", (l0 + l1) / 2);
    tg_tensor *logp = tg_from_f64(dev, TG_FLOAT32, 2, (int64_t[]){2, 2}, (double[]){-1, NAN, -INFINITY, -2});
    VALS(tg_nll(logp, tg_from_f64(dev, TG_INT32, 1, (int64_t[]){2}, (double[]){0, 1})), 1e-6,
         "nll ignores NaN/-inf in other classes", 1.5);
    tg_tensor *table = tg_from_f64(dev, TG_FLOAT32, 2, (int64_t[]){3, 2}, (double[]){1, 2, INFINITY, 4, 5, -0.0});
    tg_tensor *e = tg_embedding(table, tg_from_f64(dev, TG_INT32, 1, (int64_t[]){3}, (double[]){2, 0, 1}));
    VALS(tg_reshape(e, TG_SHAPE(6)), 0, "embedding with an inf in the table", 5, 0, 1, 2, INFINITY, 4);
}

/* 6. gradients of saturating activations */
static double grad_at(tg_tensor *(*f)(tg_tensor *), double x) {
    double g = NAN;
    tg_scope_begin();
    tg_tensor *v = F32(x);
    tg_set_requires_grad(v, true);
    if (tg_backward(tg_sum(f(v), TG_ALL_AXES, false)) != TG_OK || tg_to_f64(tg_tensor_grad(v), &g, 1) != TG_OK)
        tap_diag("backward: %s", tg_last_error());
    tg_scope_end();
    return g;
}

static void test_saturating_grads(void) {
    struct { const char *name; tg_tensor *(*f)(tg_tensor *); double x, want; } c[] = {
        {"gelu", tg_gelu, -20, 0},          {"tanh", tg_tanh, -50, 0},           {"sigmoid", tg_sigmoid, -100, 0},
        {"silu", tg_silu, -100, 0},         {"sigmoid", tg_sigmoid, 0, 0.25},   {"tanh", tg_tanh, 0, 1},
        {"relu", tg_relu, 0, 0},            {"relu", tg_relu, 1, 1},            {"softplus", tg_softplus, 0, 0.5},
        {"softplus", tg_softplus, -100, 0}, {"silu", tg_silu, 0, 0.5},          {"gelu", tg_gelu, 0, 0.5},
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        double g = grad_at(c[i].f, c[i].x);
        tap_ok(fabs(g - c[i].want) <= 1e-6, "%s: %s'(%g) = %g (want %g)", dn, c[i].name, c[i].x, g, c[i].want);
    }
}

/* 7. a failed op does not make later backward passes fail; a NULL seed
 * (any failure inside) is an error */
static void test_sticky_error(void) {
    tg_tensor *w = F32(1, 2);
    tg_set_requires_grad(w, true);
    tap_ok(tg_add(w, F32(1, 2, 3)) == NULL, "%s: a bad add fails", dn);
    tg_status st = tg_backward(tg_sum(tg_mul(w, w), TG_ALL_AXES, false));
    tap_ok(st == TG_OK, "%s: backward after an earlier failed op succeeds (%s)", dn, tg_last_error());
    VALS(tg_tensor_grad(w), 0, "and gives the gradient", 2, 4);
    tg_clear_error();
}

/* 8. more than 64 realized inputs in one expression */
static void test_many_buffers(void) {
    enum { N = 150 };
    tg_tensor *xs[N], *sum = NULL;
    for (int i = 0; i < N; i++) {
        xs[i] = tg_full(dev, TG_FLOAT32, 1, (int64_t[]){1}, i);
        tg_realize(xs[i]);
        sum = sum ? tg_add(sum, xs[i]) : xs[i];
    }
    VALS(sum, 0, "a chain of 150 adds of realized tensors", N * (N - 1) / 2.0);
    tg_tensor *c = tg_cat(N, xs, 0);
    double got[N];
    bool ok = c && tg_to_f64(c, got, N) == TG_OK;
    for (int i = 0; ok && i < N; i++) ok = got[i] == i;
    tap_ok(ok, "%s: cat of 150 realized tensors (%s)", dn, ok ? "" : tg_last_error());
    tg_clear_error();
    double r[2];
    tg_tensor *z = tg_cat(2, (tg_tensor *[]){F32(-0.0), F32(-0.0)}, 0);
    tap_ok(tg_to_f64(z, r, 2) == TG_OK && signbit(r[0]) && signbit(r[1]), "%s: cat keeps -0", dn);
}

/* 9. float16 matmul/conv accumulate in float32 */
static void test_half_accumulation(void) {
    if (!(tg_device_caps(dev)->dtypes & (1u << TG_FLOAT16))) {
        tap_skip("no float16");
        return;
    }
    tg_tensor *a = tg_from_f64(dev, TG_FLOAT16, 2, (int64_t[]){1, 2}, (double[]){300, 300});
    tg_tensor *b = tg_from_f64(dev, TG_FLOAT16, 2, (int64_t[]){2, 1}, (double[]){300, -300});
    VALS(tg_reshape(tg_matmul(a, b), TG_SHAPE(1)), 0, "float16 [300,300].[300,-300] is 0", 0);
    tg_tensor *x = tg_from_f64(dev, TG_FLOAT16, 4, (int64_t[]){1, 2, 1, 1}, (double[]){300, 300});
    tg_tensor *w = tg_from_f64(dev, TG_FLOAT16, 4, (int64_t[]){1, 2, 1, 1}, (double[]){300, -300});
    VALS(tg_reshape(tg_conv2d(x, w, NULL, NULL), TG_SHAPE(1)), 0, "float16 conv2d accumulates in float32", 0);
}

/* 11., 12. accuracy at extreme arguments, minor cases */
static void test_accuracy(void) {
    /* float32 ulp: 2^-23 relative at most; the targets in tg.h */
    const double ulp = ldexp(1, -23);
    bool f64 = tg_device_caps(dev)->dtypes & (1u << TG_FLOAT64);
    VALS(tg_tanh(F32(1e-8, -1e-8, 0.5, -20, 3e-3)), 8 * ulp, "tanh at tiny and large x", 1e-8, -1e-8, tanh(0.5), -1,
         tanh(3e-3));
    /* (float) rounds the subnormal results as the device must */
    VALS(tg_softplus(F32(-20, 0, 30, -100)), 8 * ulp, "softplus at -20", log1p(exp(-20.0)), log(2.0), 30,
         (float)3.720075976020836e-44);
    VALS(tg_sigmoid(F32(-100, -20, 0, 20)), 8 * ulp, "sigmoid at -100", (float)3.720075976020836e-44,
         1 / (1 + exp(20.0)), 0.5, 1 / (1 + exp(-20.0)));
    VALS(tg_exp(F32(78, -80, 88, 89, -87, -INFINITY, INFINITY, 1e-3)), 8 * ulp, "exp within 8 ulp at large |x|",
         exp(78.0), exp(-80.0), exp(88.0), INFINITY, exp(-87.0), 0, INFINITY, exp(1e-3));
    VALS(tg_pow(F32(3, 2, 0.5), F32(70, -100, 120)), f64 ? 8 * ulp : 128 * ulp, "pow at large results", pow(3, 70),
         pow(2, -100), pow(0.5, 120));
    tg_tensor *big = tg_full(dev, TG_FLOAT32, 1, (int64_t[]){100}, 2.0);
    VALS(tg_prod(big, TG_ALL_AXES, false), f64 ? 8 * ulp : 128 * ulp, "prod of 100 twos", ldexp(1, 100));
    if (tg_device_caps(dev)->dtypes & (1u << TG_FLOAT16)) {
        tg_tensor *h = tg_from_f64(dev, TG_FLOAT16, 1, (int64_t[]){2}, (double[]){1000, -1000});
        VALS(tg_cast(tg_cos(h), TG_FLOAT32), 2e-3, "float16 cos(1000)", cos(1000.0), cos(1000.0));
    }
    VALS(tg_logsumexp(F32(INFINITY, 1), TG_ALL_AXES, false), 0, "logsumexp([inf, 1]) is inf", INFINITY);
    VALS(tg_logsumexp(F32(-INFINITY, -INFINITY), TG_ALL_AXES, false), 0, "logsumexp of -infs is -inf", -INFINITY);
    tg_tensor *s = tg_const(dev, TG_FLOAT32, 3);
    VALS(tg_sum(s, TG_AXES(-1), false), 0, "a 0-d tensor takes axis -1", 3);
    VALS(tg_argmax(s, -1, false), 0, "argmax of a 0-d tensor with axis -1", 0);
}

/* Bad input: a clear error at the call. */
static void test_bad_input(void) {
    int64_t big[2] = {(int64_t)1 << 32, (int64_t)1 << 32};
    fails(tg_reshape(tg_zeros(dev, TG_FLOAT32, TG_SHAPE(0)), 2, big), TG_ERR_SHAPE, "reshape", "reshape (0,) to (2^32,2^32)");
    fails(tg_full(dev, TG_FLOAT32, 2, big, 1), TG_ERR_SHAPE, "2^60", "full((2^32,2^32))");
    fails(tg_eye(dev, TG_FLOAT32, (int64_t)1 << 32), TG_ERR_SHAPE, "eye", "eye(2^32) (n*n wrapped and crashed)");
    fails(tg_rand(dev, TG_FLOAT32, 2, (int64_t[]){(int64_t)1 << 31, (int64_t)1 << 31}, 1), TG_ERR_SHAPE, "2^60",
          "rand((2^31,2^31))");
    fails(tg_from_data(dev, TG_FLOAT32, 2, big, NULL), TG_ERR_SHAPE, "2^60", "from_data((2^32,2^32))");
    fails(tg_expand(tg_zeros(dev, TG_FLOAT32, TG_SHAPE(1, 1)), 2, (int64_t[]){1, -3}), TG_ERR_SHAPE, "expand",
          "expand to a negative size");
    tg_tensor *x = tg_zeros(dev, TG_FLOAT32, TG_SHAPE(1, 1, 4, 4)), *w = tg_zeros(dev, TG_FLOAT32, TG_SHAPE(1, 1, 3, 3));
    fails(tg_conv_transpose2d(x, w, NULL, &(tg_conv_opts){.padding = {-1, 0}}), TG_ERR_INVALID, "padding",
          "conv_transpose2d with negative padding");
    fails(tg_max_pool2d(x, 2, 2, -1, 1, 0, 0), TG_ERR_INVALID, "stride", "max_pool2d with stride -1");
    fails(tg_matmul(tg_zeros(dev, TG_FLOAT32, TG_SHAPE(2, 3, 4)), tg_zeros(dev, TG_FLOAT32, TG_SHAPE(5, 4, 6))),
          TG_ERR_SHAPE, "matmul", "batched matmul with mismatched batch dims");
    fails(tg_stack(2, (tg_tensor *[]){tg_zeros(dev, TG_FLOAT32, TG_SHAPE(2)), tg_zeros(dev, TG_FLOAT32, TG_SHAPE(3))}, 0),
          TG_ERR_SHAPE, "stack", "stack of different shapes");
    fails(tg_permute(x, NULL), TG_ERR_INVALID, "perm", "permute with a NULL perm");
    fails(tg_reshape(x, 2, NULL), TG_ERR_INVALID, "shape", "reshape with a NULL shape");
    fails(tg_expand(x, 4, NULL), TG_ERR_INVALID, "shape", "expand with a NULL shape");
    fails(tg_shrink(x, NULL, NULL), TG_ERR_INVALID, "lo", "shrink with NULL bounds");
    fails(tg_pad(x, NULL, 0), TG_ERR_INVALID, "pads", "pad with NULL pads");
    fails(tg_repeat(x, NULL), TG_ERR_INVALID, "reps", "repeat with NULL reps");
    tap_ok(tg_split(x, 0, 1, NULL, 4) == -1 && tg_last_status() == TG_ERR_INVALID, "%s: split into a NULL array is refused", dn);
    tg_clear_error();
    tap_ok(tg_to_host(x, NULL, 64) == TG_ERR_INVALID && tg_to_f64(x, NULL, 16) == TG_ERR_INVALID &&
           tg_item(tg_const(dev, TG_FLOAT32, 1), NULL) == TG_ERR_INVALID, "%s: NULL destinations are refused", dn);
    tg_clear_error();
    tg_tensor *logits = tg_zeros(dev, TG_FLOAT32, TG_SHAPE(2, 3));
    fails(tg_cross_entropy(logits, tg_from_f64(dev, TG_INT32, 1, (int64_t[]){2}, (double[]){0, 3}), 0), TG_ERR_INVALID,
          "index 3", "cross_entropy with target 3 of 3 classes");
    fails(tg_nll(logits, tg_from_f64(dev, TG_INT32, 1, (int64_t[]){2}, (double[]){-1, 0})), TG_ERR_INVALID, "index -1",
          "nll with target -1");
    fails(tg_gather(logits, 1, tg_from_f64(dev, TG_INT32, 2, (int64_t[]){2, 1}, (double[]){0, 5})), TG_ERR_INVALID,
          "index 5", "gather with index 5 on an axis of 3");
    fails(tg_embedding(logits, tg_from_f64(dev, TG_INT64, 1, (int64_t[]){1}, (double[]){2})), TG_ERR_INVALID, "index 2",
          "embedding with row 2 of 2");
    tg_tensor *e = tg_zeros(dev, TG_FLOAT32, TG_SHAPE(2, 0));
    fails(tg_max(e, TG_AXES(1), false), TG_ERR_SHAPE, "empty", "max over an empty axis");
    fails(tg_argmax(e, 1, false), TG_ERR_SHAPE, "empty", "argmax over an empty axis");
    fails(tg_min(e, TG_ALL_AXES, false), TG_ERR_SHAPE, "empty", "min over all of an empty tensor");
    tap_ok(tg_max(e, TG_AXES(0), false) != NULL, "%s: max over a non-empty axis of an empty tensor is fine", dn);
}

/* Outside every scope: the caller owns r. */
static void test_released(void) {
#ifndef NDEBUG
    tg_tensor *r = tg_zeros(dev, TG_FLOAT32, TG_SHAPE(2));
    tg_retain(r);
    tg_release(r);
    tg_release(r);
    fails(tg_add(r, r), TG_ERR_INVALID, "released", "use after release (debug build)");
    tg_release(r);
    tap_ok(tg_last_status() == TG_ERR_INVALID && strstr(tg_last_error(), "released"), "%s: a double release is reported (%s)",
           dn, tg_last_error());
    tg_clear_error();
#endif
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
        dn = names[p];
        tg_scope_begin();
        test_empty();
        test_nan();
        test_int_order();
        test_pick();
        test_saturating_grads();
        test_sticky_error();
        test_many_buffers();
        test_half_accumulation();
        test_accuracy();
        test_bad_input();
        tg_scope_end();
        test_released();
        tg_device_close(dev);
    }
    tg_stats s;
    tg_stats_get(&s);
    tap_ok(s.live_tensors == 0 && s.live_buffers == 0, "nothing left alive (%lld tensors, %lld buffers)",
           (long long)s.live_tensors, (long long)s.live_buffers);
    return tap_done();
}
