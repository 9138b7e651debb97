/* Indexing writes, einsum, interpolation, N-d convolution and pooling, and
 * tg_grad (issue 17):
 *  - forward values against torch's (tests/core/golden/ops_index.txt, made
 *    by gen_golden_index.py) on ref and cpu;
 *  - gradients by tg_grad (inputs that are not requires_grad leaves)
 *    against central differences in float64, on ref;
 *  - tg_grad against tg_backward, on an intermediate, with a seed;
 *  - bad input refused with a message naming the call.
 * Usage: test_ops_index GOLDEN_FILE */
#include "golden.h"

static int iarg(const gcase *c, int i) { return (int)c->args[i]; }

static tg_tensor *run(const gcase *c, tg_tensor **in) {
    const char *op = c->op;
    tg_tensor *x = in[0];
    if (!strncmp(op, "einsum:", 7)) return tg_einsum(op + 7, c->nin, in);
    if (!strcmp(op, "scatter")) return tg_scatter(x, iarg(c, 0), in[1], in[2]);
    if (!strcmp(op, "scatter_reduce"))
        return tg_scatter_reduce(x, iarg(c, 0), in[1], in[2], (tg_scatter_op)iarg(c, 1), iarg(c, 2));
    if (!strcmp(op, "index_add")) return tg_index_add(x, iarg(c, 0), in[1], in[2], c->args[1]);
    if (!strcmp(op, "masked_fill")) return tg_masked_fill(x, in[1], c->args[0]);
    if (!strcmp(op, "setitem")) {
        int64_t b[TG_MAX_DIMS], e[TG_MAX_DIMS], s[TG_MAX_DIMS];
        for (int d = 0; d < iarg(c, 0); d++) {
            b[d] = (int64_t)c->args[1 + 3 * d], e[d] = (int64_t)c->args[2 + 3 * d], s[d] = (int64_t)c->args[3 + 3 * d];
            if (b[d] == 1000000000) b[d] = INT64_MAX; /* the generator's open ends */
            if (e[d] == 1000000000) e[d] = INT64_MAX;
            if (e[d] == -1000000000) e[d] = INT64_MIN;
        }
        return tg_setitem(x, iarg(c, 0), b, e, s, in[1]);
    }
    if (!strcmp(op, "interpolate")) {
        int64_t size[3];
        double scale[3];
        for (int i = 0; i < 3 && 3 + i < c->nargs; i++) size[i] = iarg(c, 3 + i), scale[i] = c->args[3 + i];
        return tg_interpolate(x, iarg(c, 2) ? NULL : size, scale, (tg_interp_mode)iarg(c, 0), iarg(c, 1));
    }
    if (!strncmp(op, "conv", 4)) {
        tg_convnd_opts o = {.groups = iarg(c, 9)};
        for (int i = 0; i < 3; i++)
            o.stride[i] = iarg(c, i), o.padding[i] = iarg(c, 3 + i), o.dilation[i] = iarg(c, 6 + i), o.output_padding[i] = iarg(c, 10 + i);
        tg_tensor *(*f)(tg_tensor *, tg_tensor *, tg_tensor *, const tg_convnd_opts *) =
            !strcmp(op, "conv1d") ? tg_conv1d : !strcmp(op, "conv3d") ? tg_conv3d
            : !strcmp(op, "conv_transpose1d") ? tg_conv_transpose1d : tg_conv_transpose3d;
        return f(x, in[1], in[2], &o);
    }
    if (!strcmp(op, "max_pool") || !strcmp(op, "avg_pool")) {
        tg_pool_opts o = {.ceil_mode = iarg(c, 12), .exclude_pad = iarg(c, 13)};
        for (int i = 0; i < 3; i++)
            o.kernel[i] = iarg(c, i), o.stride[i] = iarg(c, 3 + i), o.padding[i] = iarg(c, 6 + i), o.dilation[i] = iarg(c, 9 + i);
        return op[0] == 'm' ? tg_max_pool(x, &o) : tg_avg_pool(x, &o);
    }
    if (!strncmp(op, "adaptive", 8)) {
        int64_t size[3] = {iarg(c, 0), c->nargs > 1 ? iarg(c, 1) : 0, c->nargs > 2 ? iarg(c, 2) : 0};
        return !strcmp(op, "adaptive_avg_pool") ? tg_adaptive_avg_pool(x, size) : tg_adaptive_max_pool(x, size);
    }
    if (!strcmp(op, "unfold")) return tg_unfold(x, iarg(c, 0), iarg(c, 1), iarg(c, 2));
    if (!strcmp(op, "im2col")) {
        tg_conv_opts o = {{iarg(c, 2), iarg(c, 3)}, {iarg(c, 4), iarg(c, 5)}, {iarg(c, 6), iarg(c, 7)}, 0, {0, 0}};
        return tg_im2col(x, iarg(c, 0), iarg(c, 1), &o);
    }
    return NULL;
}

/* ------------------------------------------------------------ gradients */

static tg_dev *gdev;
static tg_tensor *I32(int64_t n, const int32_t *v) { return tg_from_data(gdev, TG_INT32, 1, &n, v); }
static tg_tensor *I32_2(int64_t r, int64_t c, const int32_t *v) { return tg_reshape(I32(r * c, v), TG_SHAPE(r, c)); }

typedef tg_tensor *(*fn_t)(tg_tensor **x);
#define F(name, expr) static tg_tensor *name(tg_tensor **x) { return expr; }
static const int32_t DUP[] = {2, 0, 1, 2, 2, 1, 0, 2, 1, 3, 2, 1}; /* (4, 3): duplicates in every column */
F(g_scatter, tg_scatter(x[0], 1, I32_2(2, 2, (int32_t[]){3, 0, 1, 2}), x[1]))
F(g_sr_sum, tg_scatter_reduce(x[0], 0, I32_2(4, 3, DUP), x[1], TG_SCATTER_SUM, false))
F(g_sr_prod, tg_scatter_reduce(x[0], 0, I32_2(4, 3, DUP), x[1], TG_SCATTER_PROD, true))
F(g_sr_mean, tg_scatter_reduce(x[0], 0, I32_2(4, 3, DUP), x[1], TG_SCATTER_MEAN, false))
F(g_sr_mean_self, tg_scatter_reduce(x[0], 0, I32_2(4, 3, DUP), x[1], TG_SCATTER_MEAN, true))
F(g_sr_amax, tg_scatter_reduce(x[0], 0, I32_2(4, 3, DUP), x[1], TG_SCATTER_AMAX, true))
F(g_sr_amin, tg_scatter_reduce(x[0], 0, I32_2(4, 3, DUP), x[1], TG_SCATTER_AMIN, false))
F(g_index_add, tg_index_add(x[0], 1, I32(3, (int32_t[]){1, 1, 0}), x[1], 1.5))
F(g_setitem, tg_setitem(x[0], 2, (int64_t[]){3, 0}, (int64_t[]){0, 4}, (int64_t[]){-2, 3}, x[1]))
F(g_masked, tg_masked_fill(x[0], tg_gt(x[0], tg_zeros_like(x[0])), 0.5))
F(g_ein_mm, tg_einsum("ij,jk->ik", 2, x))
F(g_ein_trace, tg_einsum("iji,j", 2, x))
F(g_ein_3, tg_einsum("ij,jk,k->i", 3, x))
F(g_nearest, tg_interpolate(x[0], (int64_t[]){5, 3}, NULL, TG_INTERP_NEAREST, false))
F(g_bilinear, tg_interpolate(x[0], (int64_t[]){5, 7}, NULL, TG_INTERP_LINEAR, false))
F(g_linear_al, tg_interpolate(x[0], NULL, (double[]){2.5}, TG_INTERP_LINEAR, true))
F(g_conv1d, tg_conv1d(x[0], x[1], x[2], &(tg_convnd_opts){.stride = {2}, .padding = {2}, .dilation = {2}, .groups = 2}))
F(g_conv3d, tg_conv3d(x[0], x[1], x[2], &(tg_convnd_opts){.stride = {1, 2, 1}, .padding = {1, 0, 1}, .dilation = {1, 1, 2}, .groups = 2}))
F(g_convt1d, tg_conv_transpose1d(x[0], x[1], x[2], &(tg_convnd_opts){.stride = {2}, .padding = {1}, .output_padding = {1}, .groups = 2}))
F(g_convt3d, tg_conv_transpose3d(x[0], x[1], NULL, &(tg_convnd_opts){.stride = {2, 1, 1}, .padding = {1, 0, 1}, .dilation = {1, 2, 1}}))
F(g_maxpool, tg_max_pool(x[0], &(tg_pool_opts){.kernel = {2, 3}, .stride = {2, 2}, .padding = {1, 1}, .dilation = {1, 2}, .ceil_mode = true}))
F(g_avgpool, tg_avg_pool(x[0], &(tg_pool_opts){.kernel = {3}, .stride = {2}, .padding = {1}, .ceil_mode = true, .exclude_pad = true}))
F(g_maxpool3d, tg_max_pool(x[0], &(tg_pool_opts){.kernel = {2, 2, 2}, .stride = {1, 2, 1}}))
F(g_adavg, tg_adaptive_avg_pool(x[0], (int64_t[]){3, 2}))
F(g_admax, tg_adaptive_max_pool(x[0], (int64_t[]){3}))
F(g_unfold, tg_unfold(x[0], 0, 3, 2))
F(g_im2col, tg_im2col(x[0], 2, 2, &(tg_conv_opts){.stride = {2, 1}, .padding = {1, 0}, .dilation = {1, 2}}))

typedef struct gcase2 {
    const char *name;
    fn_t fn;
    int nin;
    int ndim[3];
    int64_t shape[3][5];
} gcase2;

static const gcase2 gcases[] = {
    {"scatter", g_scatter, 2, {2, 2}, {{2, 4}, {2, 3}}},
    {"scatter_reduce sum dup", g_sr_sum, 2, {2, 2}, {{4, 3}, {5, 3}}},
    {"scatter_reduce prod self dup", g_sr_prod, 2, {2, 2}, {{4, 3}, {4, 3}}},
    {"scatter_reduce mean dup", g_sr_mean, 2, {2, 2}, {{4, 3}, {4, 3}}},
    {"scatter_reduce mean self dup", g_sr_mean_self, 2, {2, 2}, {{4, 3}, {4, 3}}},
    {"scatter_reduce amax self dup", g_sr_amax, 2, {2, 2}, {{4, 3}, {4, 3}}},
    {"scatter_reduce amin dup", g_sr_amin, 2, {2, 2}, {{4, 3}, {4, 3}}},
    {"index_add dup", g_index_add, 2, {2, 2}, {{2, 3}, {2, 3}}},
    {"setitem steps", g_setitem, 2, {2, 1}, {{5, 6}, {2}}},
    {"masked_fill", g_masked, 1, {2}, {{3, 4}}},
    {"einsum matmul", g_ein_mm, 2, {2, 2}, {{2, 3}, {3, 2}}},
    {"einsum diagonal", g_ein_trace, 2, {3, 1}, {{3, 2, 3}, {2}}},
    {"einsum 3 operands", g_ein_3, 3, {2, 2, 1}, {{2, 3}, {3, 2}, {2}}},
    {"interpolate nearest", g_nearest, 1, {4}, {{1, 2, 3, 4}}},
    {"interpolate bilinear", g_bilinear, 1, {4}, {{1, 1, 3, 4}}},
    {"interpolate linear align scale", g_linear_al, 1, {3}, {{2, 1, 3}}},
    {"conv1d groups dilation", g_conv1d, 3, {3, 3, 1}, {{1, 4, 7}, {4, 2, 2}, {4}}},
    {"conv3d groups dilation", g_conv3d, 3, {5, 5, 1}, {{1, 2, 3, 4, 4}, {2, 1, 2, 2, 2}, {2}}},
    {"conv_transpose1d", g_convt1d, 3, {3, 3, 1}, {{1, 2, 3}, {2, 2, 3}, {4}}},
    {"conv_transpose3d", g_convt3d, 2, {5, 5}, {{1, 1, 2, 2, 2}, {1, 2, 2, 2, 2}}},
    {"max_pool2d ceil dilation", g_maxpool, 1, {4}, {{1, 1, 5, 6}}},
    {"avg_pool1d ceil exclude_pad", g_avgpool, 1, {3}, {{1, 2, 6}}},
    {"max_pool3d", g_maxpool3d, 1, {5}, {{1, 1, 3, 4, 3}}},
    {"adaptive_avg_pool2d", g_adavg, 1, {4}, {{1, 2, 5, 3}}},
    {"adaptive_max_pool1d", g_admax, 1, {3}, {{1, 2, 7}}},
    {"unfold", g_unfold, 1, {2}, {{7, 2}}},
    {"im2col", g_im2col, 1, {4}, {{1, 2, 4, 5}}},
};

static uint64_t rng = 88172645463325252ull;
static double urand(void) {
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return -1 + 2 * (double)(rng >> 11) / 9007199254740992.0;
}

static int64_t numel(int nd, const int64_t *s) {
    int64_t n = 1;
    for (int d = 0; d < nd; d++) n *= s[d];
    return n;
}

/* L = sum(f(x) * R) with fixed random weights R; the gradient by tg_grad
 * (the inputs are plain tensors, not requires_grad leaves). */
static int loss(const gcase2 *c, double **data, double *out_l, double **out_g) {
    int ok = 1;
    tg_scope_begin();
    tg_tensor *in[3], *g[3];
    for (int i = 0; i < c->nin; i++) in[i] = tg_from_f64(gdev, TG_FLOAT64, c->ndim[i], c->shape[i], data[i]);
    tg_tensor *y = c->fn(in);
    tg_tensor *R = y ? tg_uniform(gdev, TG_FLOAT64, tg_tensor_ndim(y), tg_tensor_shape(y), -1, 1, 7) : NULL;
    tg_tensor *L = tg_sum(tg_mul(y, R), TG_ALL_AXES, false);
    /* tg_grad before realizing L: a realized L would forget its graph */
    if (!L || (out_g && tg_grad(1, &L, NULL, c->nin, in, g) != TG_OK) || tg_item(L, out_l) != TG_OK) ok = 0;
    for (int i = 0; ok && out_g && i < c->nin; i++)
        if (tg_to_f64(g[i], out_g[i], (size_t)numel(c->ndim[i], c->shape[i])) != TG_OK) ok = 0;
    tg_scope_end();
    return ok;
}

static void check_grad(const gcase2 *c) {
    double *x[3], *g[3], l0, worst = 0;
    int at = 0;
    for (int i = 0; i < c->nin; i++) {
        int64_t n = numel(c->ndim[i], c->shape[i]);
        x[i] = malloc((size_t)n * sizeof(double)), g[i] = malloc((size_t)n * sizeof(double));
        for (int64_t j = 0; j < n; j++) x[i][j] = urand();
    }
    if (!loss(c, x, &l0, g)) {
        tap_ok(0, "ref: grad %s: %s", c->name, tg_last_error());
        tg_clear_error();
    } else {
        const double h = 1e-6;
        for (int i = 0; i < c->nin; i++)
            for (int64_t j = 0; j < numel(c->ndim[i], c->shape[i]); j++) {
                double keep = x[i][j], lp, lm;
                x[i][j] = keep + h;
                loss(c, x, &lp, NULL);
                x[i][j] = keep - h;
                loss(c, x, &lm, NULL);
                x[i][j] = keep;
                double fd = (lp - lm) / (2 * h), err = fabs(fd - g[i][j]) / (1e-3 + fabs(fd));
                if (err > worst) worst = err, at = i;
            }
        tap_ok(worst < 1e-4, "ref: grad %s by tg_grad (worst relative error %.2g at input %d)", c->name, worst, at);
    }
    for (int i = 0; i < c->nin; i++) free(x[i]), free(g[i]);
}

static bool close_to(tg_tensor *t, const double *want, int n) {
    double got[64];
    if (!t || n > 64 || tg_to_f64(t, got, (size_t)n) != TG_OK) return false;
    for (int i = 0; i < n; i++)
        if (fabs(got[i] - want[i]) > 1e-9 * (1 + fabs(want[i]))) return false;
    return true;
}

/* tg_grad beside tg_backward: the same numbers; .grad untouched; an
 * intermediate as input; a seed; two outputs; an unused input refused. */
static void test_grad_call(void) {
    tg_scope_begin();
    double av[6] = {0.5, -1, 2, 1.5, -0.25, 3}, bv[6] = {1, 2, -1, 0.5, 1, -2};
    tg_tensor *a = tg_from_f64(gdev, TG_FLOAT64, TG_SHAPE(2, 3), av), *b = tg_from_f64(gdev, TG_FLOAT64, TG_SHAPE(3, 2), bv);
    tg_set_requires_grad(a, true);
    tg_tensor *h = tg_matmul(a, b), *y = tg_sum(tg_mul(h, h), TG_ALL_AXES, false), *g[2];
    tap_ok(tg_grad(1, &y, NULL, 2, (tg_tensor *[]){a, b}, g) == TG_OK && !tg_tensor_grad(a),
           "grad: of a and a plain tensor, a.grad untouched (%s)", tg_last_error());
    double ga[6], gh[4], hv[4];
    tg_to_f64(g[0], ga, 6);
    tap_ok(tg_backward(y) == TG_OK && close_to(tg_tensor_grad(a), ga, 6), "grad: matches tg_backward's a.grad");
    tg_to_f64(h, hv, 4);
    for (int i = 0; i < 4; i++) gh[i] = 2 * hv[i];
    tap_ok(tg_grad(1, &y, NULL, 1, &h, g) == TG_OK && close_to(g[0], gh, 4), "grad: an intermediate (d sum(h^2)/dh = 2h)");
    tg_tensor *seed = tg_full(gdev, TG_FLOAT64, TG_SHAPE(2, 2), 3);
    double gs[6];
    for (int i = 0; i < 6; i++) gs[i] = 3 * (bv[2 * (i % 3)] + bv[2 * (i % 3) + 1]);
    tap_ok(tg_grad(1, &h, &seed, 1, &a, g) == TG_OK && close_to(g[0], gs, 6), "grad: a seed of 3s (3 * row sums of b)");
    double g2[6];
    for (int i = 0; i < 6; i++) g2[i] = 3 * bv[2 * (i % 3)] + 1;
    tap_ok(tg_grad(2, (tg_tensor *[]){tg_slice(h, 1, 0, 1, 1), tg_sum(a, TG_ALL_AXES, false)},
                   (tg_tensor *[]){tg_full(gdev, TG_FLOAT64, TG_SHAPE(2, 1), 3), NULL}, 1, &a, g) == TG_OK &&
               close_to(g[0], g2, 6), "grad: two outputs add up");
    tg_tensor *c3 = tg_sum(tg_mul(a, tg_mul(a, a)), TG_ALL_AXES, false), *d1, *d2;
    double d2want[6];
    for (int i = 0; i < 6; i++) d2want[i] = 6 * av[i];
    tap_ok(tg_grad(1, &c3, NULL, 1, &a, &d1) == TG_OK && tg_grad(1, (tg_tensor *[]){tg_sum(d1, TG_ALL_AXES, false)}, NULL, 1, &a, &d2) == TG_OK &&
               close_to(d2, d2want, 6), "grad: of a gradient (d/da sum(3a^2) = 6a)");
    tg_tensor *unused = tg_ones(gdev, TG_FLOAT64, TG_SHAPE(2));
    g[0] = g[1] = a;
    tap_ok(tg_grad(1, &y, NULL, 2, (tg_tensor *[]){a, unused}, g) == TG_ERR_INVALID && !g[0] && !g[1] &&
               strstr(tg_last_error(), "grad: input 1"), "grad: an unused input is refused (%s)", tg_last_error());
    tg_clear_error();
    tap_ok(tg_grad(1, &y, NULL, 1, (tg_tensor *[]){tg_detach(a)}, g) == TG_ERR_INVALID, "grad: through tg_detach is refused");
    tg_clear_error();
    tap_ok(tg_grad(1, &y, (tg_tensor *[]){seed}, 1, &a, g) == TG_ERR_SHAPE && strstr(tg_last_error(), "seed"),
           "grad: a seed of the wrong shape is refused (%s)", tg_last_error());
    tg_clear_error();
    tg_scope_end();
}

/* ----------------------------------------------------------- bad input */

static void fails(tg_tensor *t, tg_status st, const char *word, const char *what) {
    tg_status got = tg_last_status();
    tap_ok(!t && got == st && strstr(tg_last_error(), word), "%s is refused (%s: %s)", what, tg_status_name(got),
           tg_last_error());
    tg_clear_error();
}

static void test_errors(void) {
    tg_scope_begin();
    tg_tensor *x = tg_zeros(gdev, TG_FLOAT32, TG_SHAPE(3, 4)), *s = tg_ones(gdev, TG_FLOAT32, TG_SHAPE(3, 4));
    tg_tensor *bad = I32_2(1, 2, (int32_t[]){1, 4}), *neg = I32_2(1, 2, (int32_t[]){-1, 0});
    fails(tg_scatter(x, 1, bad, s), TG_ERR_INVALID, "scatter: index 4", "scatter with index 4 on an axis of 4");
    fails(tg_scatter_reduce(x, 1, neg, s, TG_SCATTER_SUM, true), TG_ERR_INVALID, "scatter_reduce: index -1",
          "scatter_reduce with index -1");
    fails(tg_index_add(x, 0, I32(2, (int32_t[]){0, 3}), tg_ones(gdev, TG_FLOAT32, TG_SHAPE(2, 4)), 1), TG_ERR_INVALID,
          "index_add: index 3", "index_add with index 3 on an axis of 3");
    fails(tg_scatter(x, 1, I32_2(4, 1, (int32_t[]){0, 0, 0, 0}), s), TG_ERR_SHAPE, "scatter:", "scatter with an index longer than src");
    fails(tg_scatter(x, 1, tg_cast(bad, TG_FLOAT32), s), TG_ERR_DTYPE, "scatter:", "scatter with a float index");
    fails(tg_scatter_reduce(tg_cast(x, TG_INT32), 1, neg, tg_cast(s, TG_INT32), TG_SCATTER_MEAN, true), TG_ERR_DTYPE,
          "scatter_reduce:", "scatter_reduce mean on int32");
    fails(tg_scatter_reduce(x, 1, bad, s, (tg_scatter_op)9, true), TG_ERR_INVALID, "scatter_reduce:", "reduction 9");
    fails(tg_setitem(x, 1, (int64_t[]){0}, (int64_t[]){3}, (int64_t[]){0}, s), TG_ERR_INVALID, "setitem: step 0", "setitem step 0");
    fails(tg_setitem(x, 1, (int64_t[]){0}, (int64_t[]){2}, NULL, s), TG_ERR_SHAPE, "setitem:", "setitem value (3,4) into (2,4)");
    fails(tg_masked_fill(x, tg_cast(x, TG_INT32), 1), TG_ERR_DTYPE, "masked_fill:", "masked_fill with an int mask");
    const char *specs[] = {"ij,jk", "ij->k", "i1,jk", "ij,jk->ii", "ij,jk->ik,", "ijk,jk->ik", "ij;jk"};
    for (int i = 0; i < 7; i++)
        fails(tg_einsum(specs[i], i == 0 ? 1 : 2, (tg_tensor *[]){x, tg_ones(gdev, TG_FLOAT32, TG_SHAPE(4, 2))}),
              i == 5 ? TG_ERR_SHAPE : TG_ERR_INVALID, "einsum:", specs[i]);
    fails(tg_einsum("ij,ij->i", 2, (tg_tensor *[]){x, tg_ones(gdev, TG_FLOAT32, TG_SHAPE(3, 2))}), TG_ERR_SHAPE,
          "label 'j'", "einsum with sizes 4 and 2 for one label");
    fails(tg_einsum("ii", 1, (tg_tensor *[]){x}), TG_ERR_SHAPE, "einsum:", "einsum trace of a (3,4)");
    tg_tensor *x1 = tg_zeros(gdev, TG_FLOAT32, TG_SHAPE(1, 4, 9));
    fails(tg_conv1d(x1, tg_zeros(gdev, TG_FLOAT32, TG_SHAPE(6, 4, 3)), NULL, &(tg_convnd_opts){.groups = 2}),
          TG_ERR_SHAPE, "conv1d:", "conv1d with Cin/groups 2 and a weight of 4");
    fails(tg_conv3d(x1, x1, NULL, NULL), TG_ERR_SHAPE, "conv3d:", "conv3d of a 3-d input");
    fails(tg_conv1d(x1, tg_zeros(gdev, TG_FLOAT32, TG_SHAPE(2, 4, 3)), NULL, &(tg_convnd_opts){.dilation = {-1}}),
          TG_ERR_INVALID, "dilation", "conv1d dilation -1");
    fails(tg_max_pool(x1, &(tg_pool_opts){.kernel = {2}, .padding = {2}}), TG_ERR_INVALID, "padding", "max_pool padding 2 for kernel 2");
    fails(tg_avg_pool(x1, NULL), TG_ERR_INVALID, "avg_pool:", "avg_pool without opts");
    fails(tg_max_pool(x, &(tg_pool_opts){.kernel = {2}}), TG_ERR_SHAPE, "max_pool:", "max_pool of a 2-d input");
    fails(tg_adaptive_avg_pool(x1, (int64_t[]){0}), TG_ERR_SHAPE, "adaptive_avg_pool:", "adaptive pool to size 0");
    fails(tg_interpolate(x1, NULL, NULL, TG_INTERP_LINEAR, false), TG_ERR_SHAPE, "interpolate:", "interpolate without size or scale");
    fails(tg_interpolate(tg_cast(x1, TG_INT32), (int64_t[]){3}, NULL, TG_INTERP_NEAREST, false), TG_ERR_DTYPE,
          "interpolate:", "interpolate of int32");
    fails(tg_unfold(x, 1, 5, 1), TG_ERR_SHAPE, "unfold:", "unfold size 5 of an axis of 4");
    fails(tg_im2col(x1, 2, 2, NULL), TG_ERR_SHAPE, "im2col:", "im2col of a 3-d input");
    int64_t n;
    tap_ok(tg_realize(tg_scatter(x, 1, I32_2(1, 0, NULL), s)) == TG_OK, "scatter with an empty index gives x");
    tg_tensor *sr = tg_scatter(x, 1, I32_2(1, 3, (int32_t[]){2, 2, 0}), tg_reshape(tg_arange(gdev, TG_FLOAT32, 1, 4, 1), TG_SHAPE(1, 3)));
    tap_ok(close_to(tg_cast(tg_slice(sr, 0, 0, 1, 1), TG_FLOAT64), (double[]){3, 0, 2, 0}, 4),
           "scatter: of duplicate indices the last writes");
    n = tg_tensor_numel(tg_setitem(x, 1, (int64_t[]){5}, (int64_t[]){9}, NULL, tg_const(gdev, TG_FLOAT32, 1)));
    tap_ok(n == 12, "setitem of an empty region gives x (%lld elements)", (long long)n);
    tg_scope_end();
}

int main(int argc, char **argv) {
    if (argc < 2) {
        tap_ok(0, "usage: test_ops_index GOLDEN_FILE");
        return tap_done();
    }
    const char *names[] = {"ref", "cpu"};
    for (int p = 0; p < 2; p++) {
        tg_dev *dev;
        if (tg_device_open(names[p], &dev) != TG_OK) {
            if (p == 0) tap_ok(0, "open ref: %s", tg_last_error());
            else tap_diag("skip %s: %s", names[p], tg_last_error());
            tg_clear_error();
            continue;
        }
        int n = golden_file(dev, argv[1], run);
        tap_ok(n >= 50, "%s: read %d golden cases", names[p], n);
        tg_device_close(dev);
    }
    if (tg_device_open("ref", &gdev) != TG_OK) return tap_done();
    for (size_t i = 0; i < sizeof gcases / sizeof gcases[0]; i++) check_grad(&gcases[i]);
    test_grad_call();
    test_errors();
    tg_device_close(gdev);
    return tap_done();
}
