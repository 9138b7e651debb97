/* The ops a language model needs (issue 15): erf and the exact GELU (values
 * against C's erf, gradients against the analytic ones), top-k (ties, NaN,
 * -inf, k = 0 and k = n, its gradient), multinomial sampling (frequencies,
 * zero weights, seeds, bad rows, no program per seed) and cross-entropy
 * over (B, T, V) with an ignore index (values, smoothing, gradient, bad
 * targets); on ref and, where it opens, cpu. */
#include <math.h>
#include <string.h>
#include <tg/tg.h>
#include "tap.h"

static tg_dev *dev;

static tg_tensor *vec(int n, const float *v) { return tg_from_data(dev, TG_FLOAT32, 1, (int64_t[]){n}, v); }

static int64_t compiled(void) {
    tg_stats s;
    tg_stats_get(&s);
    return s.programs_compiled;
}

static void test_erf(const char *d) {
    tg_scope_begin();
    const float xs[] = {0, 1e-8f, -1e-8f, 0.3f, -0.49f, 0.5f, 0.51f, 1, -2, 3.5f, 5, 30, INFINITY, -INFINITY, NAN};
    enum { N = sizeof xs / sizeof xs[0] };
    float got[N], gg[N], ge[N];
    tg_tensor *x = vec(N, xs);
    tg_set_requires_grad(x, true);
    tg_tensor *y = tg_erf(x);
    int ok = tg_to_host(y, got, sizeof got) == TG_OK && tg_backward(tg_sum(y, TG_ALL_AXES, false)) == TG_OK &&
             tg_to_host(tg_tensor_grad(x), gg, sizeof gg) == TG_OK;
    double worst = 0, worst_g = 0;
    for (int i = 0; ok && i < N - 1; i++) {
        double want = erf((double)xs[i]), wg = 2 / sqrt(M_PI) * exp(-(double)xs[i] * xs[i]);
        double e = fabs(got[i] - want) / fmax(fabs(want), 1e-30), eg = fabs(gg[i] - wg) / fmax(wg, 1e-30);
        if (e > worst) worst = e;
        if (isfinite(xs[i]) && wg > 1e-30 && eg > worst_g) worst_g = eg;
        ok &= e < 3e-7 && isfinite(gg[i]) && (wg < 1e-30 ? fabs(gg[i]) < 1e-30 : eg < 1e-5);
    }
    tap_ok(ok && isnan(got[N - 1]), "%s: erf at 0, +-1e-8, ..., 30, +-inf within 3e-7 relative (%.2g), NaN stays NaN; "
           "gradient 2/sqrt(pi) exp(-x^2) within 1e-5 (%.2g), finite at +-inf", d, worst, worst_g);
    /* gelu_erf = x Phi(x); its gradient Phi(x) + x phi(x) */
    tg_tensor *g = tg_from_data(dev, TG_FLOAT32, TG_SHAPE(6), ((float[]){-3, -1, -0.2f, 0, 0.7f, 4}));
    tg_set_requires_grad(g, true);
    tg_tensor *gy = tg_gelu_erf(g);
    ok = tg_to_host(gy, got, 6 * sizeof(float)) == TG_OK && tg_backward(tg_sum(gy, TG_ALL_AXES, false)) == TG_OK &&
         tg_to_host(tg_tensor_grad(g), ge, 6 * sizeof(float)) == TG_OK;
    const double gx[6] = {-3, -1, -0.2, 0, 0.7, 4};
    for (int i = 0; ok && i < 6; i++) {
        double cdf = 0.5 * (1 + erf(gx[i] / sqrt(2))), pdf = exp(-gx[i] * gx[i] / 2) / sqrt(2 * M_PI);
        ok &= fabs(got[i] - gx[i] * cdf) < 1e-6 && fabs(ge[i] - (cdf + gx[i] * pdf)) < 1e-6;
    }
    tap_ok(ok, "%s: gelu_erf(x) = x Phi(x) and its gradient Phi + x phi within 1e-6 (gelu_erf(-1) = %.7f)", d, got[1]);
    tap_ok(!tg_erf(tg_zeros(dev, TG_INT32, TG_SHAPE(2))) && tg_last_status() == TG_ERR_DTYPE &&
               strstr(tg_last_error(), "erf"), "%s: erf of int32 is refused: %s", d, tg_last_error());
    tg_clear_error();
    tg_scope_end();
}

static void test_topk(const char *d) {
    tg_scope_begin();
    /* row 0: ties and -inf; row 1: a NaN (the largest, as torch) */
    const float xs[2][6] = {{3, -INFINITY, 7, 3, -INFINITY, 7}, {1, NAN, -2, 5, 0, 5}};
    tg_tensor *x = tg_from_data(dev, TG_FLOAT32, TG_SHAPE(2, 6), xs), *v = NULL, *ix = NULL;
    tg_set_requires_grad(x, true);
    float vals[2][6];
    int32_t idx[2][6];
    int ok = tg_topk(x, 6, &v, &ix) == TG_OK && tg_to_host(v, vals, sizeof vals) == TG_OK &&
             tg_to_host(ix, idx, sizeof idx) == TG_OK;
    const int32_t want_i[2][6] = {{2, 5, 0, 3, 1, 4}, {1, 3, 5, 0, 4, 2}};
    const float want_v0[6] = {7, 7, 3, 3, -INFINITY, -INFINITY}, want_v1[5] = {5, 5, 1, 0, -2};
    ok &= !memcmp(idx, want_i, sizeof idx) && !memcmp(vals[0], want_v0, sizeof want_v0) && isnan(vals[1][0]) &&
          !memcmp(&vals[1][1], want_v1, sizeof want_v1);
    tap_ok(ok, "%s: topk k = n orders ties by index, keeps each -inf once, puts NaN first (indices %d %d %d %d %d %d)",
           d, idx[0][0], idx[0][1], idx[0][2], idx[0][3], idx[0][4], idx[0][5]);
    tg_tensor *v2 = NULL, *i2 = NULL;
    tg_tensor *y = tg_from_data(dev, TG_FLOAT32, TG_SHAPE(2, 3), ((float[]){0.5f, 2, 1, 4, -1, 9}));
    tg_set_requires_grad(y, true);
    ok = tg_topk(y, 2, &v2, &i2) == TG_OK && tg_backward(tg_sum(tg_muls(v2, 3), TG_ALL_AXES, false)) == TG_OK;
    float g[6] = {0}, vv[4] = {0};
    int32_t ii[4] = {0};
    ok &= tg_to_host(tg_tensor_grad(y), g, sizeof g) == TG_OK && tg_to_host(v2, vv, sizeof vv) == TG_OK &&
          tg_to_host(i2, ii, sizeof ii) == TG_OK;
    const float want_g[6] = {0, 3, 3, 3, 0, 3};
    tap_ok(ok && !memcmp(g, want_g, sizeof g) && vv[0] == 2 && vv[1] == 1 && vv[2] == 9 && vv[3] == 4 && ii[0] == 1 &&
               ii[1] == 2 && ii[2] == 2 && ii[3] == 0,
           "%s: topk k = 2 of (2,3): values, indices, gradient 3 at the picked places", d);
    tg_tensor *v0 = NULL, *i0 = NULL;
    ok = tg_topk(y, 0, &v0, &i0) == TG_OK && tg_tensor_dim(v0, -1) == 0 && tg_tensor_dim(i0, 0) == 2 &&
         tg_tensor_dtype(i0) == TG_INT32 && tg_realize(v0) == TG_OK;
    tap_ok(ok, "%s: topk k = 0 gives (2,0) values and indices", d);
    tap_ok(tg_topk(y, 4, &v0, &i0) == TG_ERR_SHAPE && !v0 && strstr(tg_last_error(), "k = 4"),
           "%s: topk k = 4 of 3 is refused: %s", d, tg_last_error());
    tap_ok(tg_topk(y, 1, NULL, &i0) == TG_ERR_INVALID, "%s: topk without out_values is refused", d);
    tg_clear_error();
    tg_scope_end();
}

static void test_multinomial(const char *d) {
    tg_scope_begin();
    enum { S = 4000 };
    /* row 0: weights 1:2:7:0 (not normalised); row 1: one weight */
    tg_tensor *p = tg_from_data(dev, TG_FLOAT32, TG_SHAPE(2, 4), ((float[]){0.5f, 1, 3.5f, 0, 0, 0, 2, 0}));
    static int32_t s[2][S], s2[2][S];
    int ok = tg_to_host(tg_multinomial(p, S, 7), s, sizeof s) == TG_OK;
    int count[4] = {0}, row1 = 1;
    for (int i = 0; ok && i < S; i++) {
        ok &= s[0][i] >= 0 && s[0][i] < 4;
        if (ok) count[s[0][i]]++;
        row1 &= s[1][i] == 2;
    }
    tap_ok(ok && row1 && count[3] == 0 && fabs(count[0] / (double)S - 0.1) < 0.03 &&
               fabs(count[1] / (double)S - 0.2) < 0.03 && fabs(count[2] / (double)S - 0.7) < 0.03,
           "%s: multinomial 4000 draws from 1:2:7:0 give %d %d %d %d; a one-weight row always its index", d, count[0],
           count[1], count[2], count[3]);
    int64_t c0 = compiled();
    ok = tg_to_host(tg_multinomial(p, S, 7), s2, sizeof s2) == TG_OK && !memcmp(s, s2, sizeof s);
    int differ = tg_to_host(tg_multinomial(p, S, 8), s2, sizeof s2) == TG_OK && memcmp(s, s2, sizeof s) != 0;
    tap_ok(ok && differ && compiled() == c0, "%s: the same seed gives the same draws, another seed others, and "
           "compiles nothing new (%lld)", d, (long long)(compiled() - c0));
    tg_tensor *bad = tg_from_data(dev, TG_FLOAT32, TG_SHAPE(3, 2), ((float[]){1, -1, 0, 0, NAN, 1}));
    int32_t b[3] = {0};
    ok = tg_to_host(tg_multinomial(bad, 1, 1), b, sizeof b) == TG_OK;
    tap_ok(ok && b[0] == -1 && b[1] == -1 && b[2] == -1, "%s: rows with a negative weight, all zeros or NaN give -1", d);
    tap_ok(!tg_multinomial(tg_const(dev, TG_FLOAT32, 1), 1, 1) && tg_last_status() == TG_ERR_SHAPE,
           "%s: multinomial of a scalar is refused: %s", d, tg_last_error());
    tg_clear_error();
    tg_scope_end();
}

/* -log softmax(row)[t] in double */
static double ce_row(const float *row, int c, int t) {
    double m = -INFINITY, s = 0;
    for (int i = 0; i < c; i++) m = fmax(m, row[i]);
    for (int i = 0; i < c; i++) s += exp(row[i] - m);
    return -(row[t] - m - log(s));
}

static void test_cross_entropy(const char *d) {
    tg_scope_begin();
    enum { B = 2, T = 3, V = 4 };
    float lg[B * T * V];
    for (int i = 0; i < B * T * V; i++) lg[i] = (float)sin(1.7 * i) * 3;
    const int64_t tg_[B * T] = {1, -100, 3, 0, 2, -100};
    tg_tensor *logits = tg_from_data(dev, TG_FLOAT32, TG_SHAPE(B, T, V), lg);
    tg_tensor *target = tg_from_data(dev, TG_INT64, TG_SHAPE(B, T), tg_);
    tg_set_requires_grad(logits, true);
    double want = 0, got = NAN;
    int n = 0;
    for (int i = 0; i < B * T; i++)
        if (tg_[i] != -100) want += ce_row(lg + i * V, V, (int)tg_[i]), n++;
    want /= n;
    tg_tensor *loss = tg_cross_entropy_ex(logits, target, 0, -100);
    int ok = tg_item(loss, &got) == TG_OK && fabs(got - want) < 1e-5 && tg_backward(loss) == TG_OK;
    float g[B * T * V];
    ok &= tg_to_host(tg_tensor_grad(logits), g, sizeof g) == TG_OK;
    double gsum = 0;
    for (int i = 0; ok && i < B * T; i++)
        for (int v = 0; v < V; v++) {
            if (tg_[i] == -100) ok &= g[i * V + v] == 0;
            gsum += g[i * V + v];
        }
    tap_ok(ok && fabs(gsum) < 1e-6, "%s: cross_entropy_ex over (2,3,4) with 2 of 6 targets ignored: %.6f (want %.6f), "
           "ignored rows get no gradient, each row's gradient sums to 0", d, got, want);
    /* label smoothing: the (N, C) loss over the kept rows */
    const int32_t kept[4] = {1, 3, 0, 2};
    float rows[4 * V];
    int k = 0;
    for (int i = 0; i < B * T; i++)
        if (tg_[i] != -100) memcpy(rows + V * k++, lg + i * V, sizeof(float) * V);
    double a = NAN, b = NAN;
    ok = tg_item(tg_cross_entropy_ex(logits, target, 0.2, -100), &a) == TG_OK &&
         tg_item(tg_cross_entropy(tg_from_data(dev, TG_FLOAT32, TG_SHAPE(4, V), rows),
                                  tg_from_data(dev, TG_INT32, TG_SHAPE(4), kept), 0.2), &b) == TG_OK;
    tap_ok(ok && fabs(a - b) < 1e-6, "%s: with label smoothing 0.2 it equals cross_entropy over the kept rows (%.6f, %.6f)",
           d, a, b);
    tg_tensor *all = tg_full(dev, TG_INT64, TG_SHAPE(B, T), -1);
    ok = tg_item(tg_cross_entropy_ex(logits, all, 0, -1), &a) == TG_OK;
    tap_ok(ok && isnan(a), "%s: every target ignored gives NaN (as torch)", d);
    tap_ok(!tg_cross_entropy_ex(logits, tg_full(dev, TG_INT64, TG_SHAPE(B, T), 4), 0, -100) &&
               tg_last_status() == TG_ERR_INVALID && strstr(tg_last_error(), "index 4"),
           "%s: a target of 4 for 4 classes is refused: %s", d, tg_last_error());
    tap_ok(!tg_cross_entropy_ex(logits, tg_zeros(dev, TG_INT64, TG_SHAPE(B, V)), 0, -100) &&
               tg_last_status() == TG_ERR_SHAPE, "%s: target (2,4) for logits (2,3,4) is refused: %s", d, tg_last_error());
    tg_clear_error();
    tg_scope_end();
}

int main(void) {
    const char *names[] = {"ref", "cpu"};
    for (int p = 0; p < 2; p++) {
        if (tg_device_open(names[p], &dev) != TG_OK) {
            if (p == 0) tap_ok(0, "open ref: %s", tg_last_error());
            else tap_diag("skip %s: %s", names[p], tg_last_error());
            tg_clear_error();
            continue;
        }
        test_erf(names[p]);
        test_topk(names[p]);
        test_multinomial(names[p]);
        test_cross_entropy(names[p]);
        tg_device_close(dev);
    }
    return tap_done();
}
