/* Gradients of every op against central finite differences in float64:
 * L = sum(f(x) * R) with fixed random weights R, dL/dx from tg_backward vs
 * (L(x + h e_i) - L(x - h e_i)) / 2h. Runs on ref (and cpu with TG_GRAD_ALL=1). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tg/tg.h>
#include "tap.h"

#define T TG_FLOAT64

typedef tg_tensor *(*fn_t)(tg_tensor **in, tg_dev *dev);

typedef struct gcase {
    const char *name;
    fn_t fn;
    int nin;
    int ndim[3];
    int64_t shape[3][4];
    double lo, hi;
    int int_in; /* index of an integer input (no gradient), -1 if none */
} gcase;

static tg_dev *gdev;
static tg_tensor *I32(const int32_t *v, int64_t n) { return tg_from_data(gdev, TG_INT32, 1, &n, v); }

#define F(name, expr) static tg_tensor *name(tg_tensor **x, tg_dev *dev) { (void)dev; return expr; }
F(f_neg, tg_neg(x[0]))
F(f_exp, tg_exp(x[0]))
F(f_log, tg_log(x[0]))
F(f_sqrt, tg_sqrt(x[0]))
F(f_rsqrt, tg_rsqrt(x[0]))
F(f_sin, tg_sin(x[0]))
F(f_cos, tg_cos(x[0]))
F(f_tan, tg_tan(x[0]))
F(f_tanh, tg_tanh(x[0]))
F(f_sigmoid, tg_sigmoid(x[0]))
F(f_relu, tg_relu(x[0]))
F(f_leaky, tg_leaky_relu(x[0], 0.2))
F(f_gelu, tg_gelu(x[0]))
F(f_silu, tg_silu(x[0]))
F(f_softplus, tg_softplus(x[0]))
F(f_abs, tg_abs(x[0]))
F(f_recip, tg_recip(x[0]))
F(f_add, tg_add(x[0], x[1]))
F(f_sub, tg_sub(x[0], x[1]))
F(f_mul, tg_mul(x[0], x[1]))
F(f_div, tg_div(x[0], x[1]))
F(f_pow, tg_pow(x[0], x[1]))
F(f_maximum, tg_maximum(x[0], x[1]))
F(f_minimum, tg_minimum(x[0], x[1]))
F(f_where, tg_where(tg_gt(x[0], x[1]), tg_mul(x[0], x[1]), x[1]))
F(f_clamp, tg_clamp(x[0], -0.5, 0.5))
F(f_sum, tg_sum(x[0], TG_AXES(1), false))
F(f_mean, tg_mean(x[0], TG_AXES(0, 2), true))
F(f_max, tg_max(x[0], TG_AXES(1), false))
F(f_min, tg_min(x[0], TG_ALL_AXES, false))
F(f_prod, tg_prod(x[0], TG_AXES(1), false))
F(f_var, tg_var(x[0], TG_AXES(1), false, 1))
F(f_std, tg_std(x[0], TG_AXES(0), false, 0))
F(f_lse, tg_logsumexp(x[0], TG_AXES(1), false))
F(f_reshape, tg_reshape(tg_permute(x[0], (int[]){2, 0, 1}), TG_SHAPE(4, 6)))
F(f_expand, tg_mul(tg_expand(x[0], TG_SHAPE(2, 3, 4)), tg_expand(x[1], TG_SHAPE(2, 3, 4))))
F(f_slice, tg_slice(tg_slice(x[0], 0, 5, 0, -2), 1, 0, 3, 2))
F(f_pad, tg_pad(x[0], (int64_t[]){1, 0, 2, 1}, 0.5))
F(f_flip, tg_flip(x[0], TG_AXES(0, 1)))
F(f_cat, tg_cat(2, (tg_tensor *[]){x[0], tg_exp(x[1])}, 1))
F(f_stack, tg_stack(2, (tg_tensor *[]){x[0], x[1]}, 0))
F(f_repeat, tg_repeat(x[0], (int64_t[]){2, 3}))
F(f_gather, tg_gather(x[0], 1, tg_reshape(I32((int32_t[]){2, 0, 0, 1, 3, 3}, 6), TG_SHAPE(3, 2))))
F(f_matmul, tg_matmul(x[0], x[1]))
F(f_conv, tg_conv2d(x[0], x[1], x[2], &(tg_conv_opts){{2, 1}, {1, 1}, {1, 2}, 2, {0, 0}}))
F(f_convt, tg_conv_transpose2d(x[0], x[1], NULL, &(tg_conv_opts){{2, 1}, {1, 0}, {1, 1}, 1, {1, 0}}))
F(f_maxpool, tg_max_pool2d(x[0], 2, 2, 1, 2, 1, 0))
F(f_avgpool, tg_avg_pool2d(x[0], 2, 3, 1, 1, 0, 1))
F(f_softmax, tg_softmax(x[0], 1))
F(f_logsoftmax, tg_log_softmax(x[0], 0))
F(f_ce, tg_cross_entropy(x[0], I32((int32_t[]){1, 0, 3}, 3), 0.1))
F(f_nll, tg_nll(tg_log_softmax(x[0], 1), I32((int32_t[]){2, 2, 0}, 3)))
F(f_mse, tg_mse(x[0], x[1]))
F(f_layernorm, tg_layernorm(x[0], 1, x[1], x[2], 1e-5))
F(f_batchnorm, tg_batchnorm(x[0], x[1], x[2], NULL, NULL, true, 0.1, 1e-5))
F(f_embedding, tg_embedding(x[0], tg_reshape(I32((int32_t[]){3, 0, 3, 1}, 4), TG_SHAPE(2, 2))))
F(f_sdpa, tg_sdpa(x[0], x[1], x[2], NULL, true))
F(f_chain, tg_sum(tg_mul(tg_relu(tg_matmul(x[0], x[1])), tg_relu(tg_matmul(x[0], x[1]))), TG_AXES(0), true))

#define S1(a) 1, {1}, {{a}}
#define C(name, f, nin, ...) {name, f, nin, __VA_ARGS__}
static const gcase cases[] = {
    {"neg", f_neg, 1, {2}, {{3, 4}}, -2, 2, -1},
    {"exp", f_exp, 1, {2}, {{3, 4}}, -2, 2, -1},
    {"log", f_log, 1, {2}, {{3, 4}}, 0.3, 3, -1},
    {"sqrt", f_sqrt, 1, {2}, {{3, 4}}, 0.3, 3, -1},
    {"rsqrt", f_rsqrt, 1, {2}, {{3, 4}}, 0.3, 3, -1},
    {"sin", f_sin, 1, {2}, {{3, 4}}, -3, 3, -1},
    {"cos", f_cos, 1, {2}, {{3, 4}}, -3, 3, -1},
    {"tan", f_tan, 1, {2}, {{3, 4}}, -1, 1, -1},
    {"tanh", f_tanh, 1, {2}, {{3, 4}}, -2, 2, -1},
    {"sigmoid", f_sigmoid, 1, {2}, {{3, 4}}, -3, 3, -1},
    {"relu", f_relu, 1, {2}, {{3, 4}}, -2, 2, -1},
    {"leaky_relu", f_leaky, 1, {2}, {{3, 4}}, -2, 2, -1},
    {"gelu", f_gelu, 1, {2}, {{3, 4}}, -2, 2, -1},
    {"silu", f_silu, 1, {2}, {{3, 4}}, -2, 2, -1},
    {"softplus", f_softplus, 1, {2}, {{3, 4}}, -2, 2, -1},
    {"abs", f_abs, 1, {2}, {{3, 4}}, -2, 2, -1},
    {"recip", f_recip, 1, {2}, {{3, 4}}, 0.5, 2, -1},
    {"add_bcast", f_add, 2, {2, 1}, {{3, 4}, {4}}, -2, 2, -1},
    {"sub_bcast", f_sub, 2, {2, 2}, {{3, 1}, {1, 4}}, -2, 2, -1},
    {"mul_bcast", f_mul, 2, {3, 2}, {{2, 3, 4}, {3, 1}}, -2, 2, -1},
    {"div", f_div, 2, {2, 2}, {{3, 4}, {3, 4}}, 0.5, 2, -1},
    {"pow", f_pow, 2, {2, 2}, {{2, 3}, {2, 3}}, 0.5, 2, -1},
    {"maximum", f_maximum, 2, {2, 2}, {{3, 4}, {3, 4}}, -2, 2, -1},
    {"minimum", f_minimum, 2, {2, 2}, {{3, 4}, {3, 4}}, -2, 2, -1},
    {"where", f_where, 2, {2, 2}, {{3, 4}, {3, 4}}, -2, 2, -1},
    {"clamp", f_clamp, 1, {2}, {{3, 4}}, -2, 2, -1},
    {"sum", f_sum, 1, {3}, {{2, 3, 4}}, -2, 2, -1},
    {"mean", f_mean, 1, {3}, {{2, 3, 4}}, -2, 2, -1},
    {"max", f_max, 1, {3}, {{2, 3, 4}}, -2, 2, -1},
    {"min", f_min, 1, {2}, {{3, 4}}, -2, 2, -1},
    {"prod", f_prod, 1, {2}, {{3, 4}}, 0.5, 2, -1},
    {"var", f_var, 1, {2}, {{3, 4}}, -2, 2, -1},
    {"std", f_std, 1, {2}, {{3, 4}}, -2, 2, -1},
    {"logsumexp", f_lse, 1, {2}, {{3, 4}}, -2, 2, -1},
    {"permute_reshape", f_reshape, 1, {3}, {{2, 3, 4}}, -2, 2, -1},
    {"expand", f_expand, 2, {2, 3}, {{3, 1}, {2, 1, 4}}, -2, 2, -1},
    {"slice_step", f_slice, 1, {2}, {{6, 4}}, -2, 2, -1},
    {"pad_value", f_pad, 1, {2}, {{3, 4}}, -2, 2, -1},
    {"flip", f_flip, 1, {2}, {{3, 4}}, -2, 2, -1},
    {"cat", f_cat, 2, {2, 2}, {{3, 2}, {3, 3}}, -2, 2, -1},
    {"stack", f_stack, 2, {2, 2}, {{3, 2}, {3, 2}}, -2, 2, -1},
    {"repeat", f_repeat, 1, {2}, {{2, 3}}, -2, 2, -1},
    {"gather", f_gather, 1, {2}, {{3, 4}}, -2, 2, -1},
    {"matmul_batch", f_matmul, 2, {3, 2}, {{2, 3, 4}, {4, 2}}, -2, 2, -1},
    {"conv2d", f_conv, 3, {4, 4, 1}, {{1, 4, 5, 5}, {4, 2, 2, 2}, {4}}, -1, 1, -1},
    {"conv_transpose2d", f_convt, 2, {4, 4}, {{1, 2, 3, 3}, {2, 3, 2, 2}}, -1, 1, -1},
    {"max_pool2d", f_maxpool, 1, {4}, {{1, 2, 4, 5}}, -2, 2, -1},
    {"avg_pool2d", f_avgpool, 1, {4}, {{1, 2, 4, 5}}, -2, 2, -1},
    {"softmax", f_softmax, 1, {2}, {{3, 4}}, -2, 2, -1},
    {"log_softmax", f_logsoftmax, 1, {2}, {{3, 4}}, -2, 2, -1},
    {"cross_entropy", f_ce, 1, {2}, {{3, 4}}, -2, 2, -1},
    {"nll", f_nll, 1, {2}, {{3, 4}}, -2, 2, -1},
    {"mse", f_mse, 2, {2, 2}, {{3, 4}, {3, 4}}, -2, 2, -1},
    {"layernorm", f_layernorm, 3, {2, 1, 1}, {{3, 4}, {4}, {4}}, -2, 2, -1},
    {"batchnorm", f_batchnorm, 3, {4, 1, 1}, {{3, 2, 2, 2}, {2}, {2}}, -2, 2, -1},
    {"embedding", f_embedding, 1, {2}, {{4, 3}}, -2, 2, -1},
    {"sdpa_causal", f_sdpa, 3, {3, 3, 3}, {{1, 3, 2}, {1, 4, 2}, {1, 4, 3}}, -1, 1, -1},
    {"reuse_chain", f_chain, 2, {2, 2}, {{3, 4}, {4, 2}}, -1, 1, -1},
};

static uint64_t rng = 88172645463325252ull;
static double urand(double lo, double hi) {
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return lo + (hi - lo) * (double)(rng >> 11) / 9007199254740992.0;
}

static int64_t numel(int nd, const int64_t *s) {
    int64_t n = 1;
    for (int d = 0; d < nd; d++) n *= s[d];
    return n;
}

/* L = sum(f(x) * R); R is made from the output's size with a fixed seed. */
static int loss(const gcase *c, double **data, bool grad, double *out_l, double **out_g) {
    int ok = 1;
    tg_scope_begin();
    tg_tensor *in[3];
    for (int i = 0; i < c->nin; i++) {
        in[i] = tg_from_f64(gdev, T, c->ndim[i], c->shape[i], data[i]);
        if (grad) tg_set_requires_grad(in[i], true);
    }
    tg_tensor *y = c->fn(in, gdev);
    tg_tensor *R = y ? tg_uniform(gdev, T, tg_tensor_ndim(y), tg_tensor_shape(y), -1, 1, 7) : NULL;
    tg_tensor *L = tg_sum(tg_mul(y, R), TG_ALL_AXES, false);
    if (!L || tg_item(L, out_l) != TG_OK) ok = 0;
    if (ok && grad) {
        if (tg_backward(L) != TG_OK) ok = 0;
        for (int i = 0; ok && i < c->nin; i++) {
            tg_tensor *g = tg_tensor_grad(in[i]);
            int64_t n = numel(c->ndim[i], c->shape[i]);
            if (!g) memset(out_g[i], 0, (size_t)n * sizeof(double));
            else if (tg_to_f64(g, out_g[i], (size_t)n) != TG_OK) ok = 0;
        }
    }
    tg_scope_end();
    return ok;
}

static void check(const gcase *c) {
    double *x[3], *g[3];
    for (int i = 0; i < c->nin; i++) {
        int64_t n = numel(c->ndim[i], c->shape[i]);
        x[i] = malloc((size_t)n * sizeof(double));
        g[i] = malloc((size_t)n * sizeof(double));
        for (int64_t j = 0; j < n; j++) x[i][j] = urand(c->lo, c->hi);
    }
    double l0, worst = 0;
    const char *where = "";
    if (!loss(c, x, true, &l0, g)) {
        tap_ok(0, "%s: %s: %s", tg_device_name(gdev), c->name, tg_last_error());
        tg_clear_error();
    } else {
        const double h = 1e-6;
        for (int i = 0; i < c->nin; i++) {
            int64_t n = numel(c->ndim[i], c->shape[i]);
            for (int64_t j = 0; j < n; j++) {
                double keep = x[i][j], lp, lm;
                x[i][j] = keep + h;
                loss(c, x, false, &lp, NULL);
                x[i][j] = keep - h;
                loss(c, x, false, &lm, NULL);
                x[i][j] = keep;
                double fd = (lp - lm) / (2 * h), err = fabs(fd - g[i][j]) / (1e-3 + fabs(fd));
                if (err > worst) worst = err, where = i == 0 ? "input 0" : i == 1 ? "input 1" : "input 2";
            }
        }
        tap_ok(worst < 1e-4, "%s: grad %s (worst relative error %.2g at %s)", tg_device_name(gdev), c->name, worst,
               where);
    }
    for (int i = 0; i < c->nin; i++) free(x[i]), free(g[i]);
}

int main(void) {
    /* Autograd is the core's: one device is enough (plugins are covered by
     * the forward tests); TG_GRAD_ALL=1 adds cpu. */
    const char *names[] = {"ref", "cpu"};
    int ndev = getenv("TG_GRAD_ALL") ? 2 : 1;
    for (int p = 0; p < ndev; p++) {
        if (tg_device_open(names[p], &gdev) != TG_OK) {
            if (p == 0) tap_ok(0, "open ref: %s", tg_last_error());
            else tap_diag("skip %s: %s", names[p], tg_last_error());
            tg_clear_error();
            continue;
        }
        if (!(tg_device_caps(gdev)->dtypes & (1u << T))) {
            tap_diag("skip %s: no float64", names[p]);
            tg_device_close(gdev);
            continue;
        }
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) check(&cases[i]);
        tg_device_close(gdev);
    }
    return tap_done();
}
