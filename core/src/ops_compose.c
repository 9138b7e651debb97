/* Compositions of views and reductions: matmul, linear, conv2d,
 * conv_transpose2d, max/avg pooling. No new primitives: windows are views
 * made by expand/reshape/shrink/stride/permute, so gradients come free. */
#include <math.h>
#include "tensor_internal.h"

/* sum(a * b) over axes; float16/bfloat16 products are formed and summed in
 * float32 and the sum rounded once (as every peer does). */
static tg_tensor *sum_products(tg_tensor *a, tg_tensor *b, int naxes, const int *axes) {
    if (!a || !b) return tg__null_arg("sum");
    tg_dtype dt = a->dtype;
    if (dt != TG_FLOAT16 && dt != TG_BFLOAT16) return tg_sum(tg_mul(a, b), naxes, axes, false);
    return tg_cast(tg_sum(tg_mul(tg_cast(a, TG_FLOAT32), tg_cast(b, TG_FLOAT32)), naxes, axes, false), dt);
}

/* (..., n, k) @ (..., k, m): broadcast multiply over (..., n, m, k) and sum
 * the last axis. 1-d operands as numpy. */
tg_tensor *tg_matmul(tg_tensor *a, tg_tensor *b) {
    char sa[128], sb[128];
    if (!a || !b) return tg__null_arg("matmul");
    if (a->ndim == 0 || b->ndim == 0)
        return tg__fail(TG_ERR_SHAPE, "matmul: shapes %s and %s: operands must have at least 1 dim",
                        tg__shape_str(a, sa, sizeof sa), tg__shape_str(b, sb, sizeof sb));
    int64_t ka = a->shape[a->ndim - 1], kb = b->shape[b->ndim >= 2 ? b->ndim - 2 : 0];
    if (ka != kb)
        return tg__fail(TG_ERR_SHAPE, "matmul: shapes %s and %s do not match (%lld != %lld)",
                        tg__shape_str(a, sa, sizeof sa), tg__shape_str(b, sb, sizeof sb), (long long)ka, (long long)kb);
    if (a->ndim > TG_MAX_DIMS - 1 || b->ndim > TG_MAX_DIMS - 1)
        return tg__fail(TG_ERR_SHAPE, "matmul: shapes %s and %s: at most %d dims", tg__shape_str(a, sa, sizeof sa),
                        tg__shape_str(b, sb, sizeof sb), TG_MAX_DIMS - 1);
    for (int i = 3; i <= a->ndim && i <= b->ndim; i++) { /* batch dims broadcast */
        int64_t da = a->shape[a->ndim - i], db = b->shape[b->ndim - i];
        if (da != db && da != 1 && db != 1)
            return tg__fail(TG_ERR_SHAPE, "matmul: batch dims of %s and %s do not broadcast",
                            tg__shape_str(a, sa, sizeof sa), tg__shape_str(b, sb, sizeof sb));
    }
    OP_BEGIN;
    tg_tensor *x = a->ndim == 1 ? tg_unsqueeze(a, 0) : a;                /* (.., n, k) */
    tg_tensor *y = b->ndim == 1 ? tg_unsqueeze(b, 1) : b;                /* (.., k, m) */
    tg_tensor *xe = tg_unsqueeze(x, -2);                                 /* (.., n, 1, k) */
    tg_tensor *ye = tg_unsqueeze(tg_transpose(y, -1, -2), -3);           /* (.., 1, m, k) */
    tg_tensor *r = sum_products(xe, ye, TG_AXES(-1));                    /* (.., n, m) */
    if (r && b->ndim == 1) r = tg_squeeze(r, -1);
    if (r && a->ndim == 1) r = tg_squeeze(r, r->ndim - (b->ndim == 1 ? 1 : 2));
    OP_END(r);
}

tg_tensor *tg_linear(tg_tensor *x, tg_tensor *w, tg_tensor *b) {
    if (!x || !w) return tg__null_arg("linear");
    OP_BEGIN;
    tg_tensor *r = tg_matmul(x, tg_transpose(w, 0, 1));
    OP_END(b ? tg_add(r, b) : r);
}

/* Windows along one axis: the axis of length i becomes (o, k) with
 * element [p, q] = x[p*s + q*d]. Repeat x e times so that reshaping the
 * flat repeat to (k, i+d) shifts each row by d; take every s-th column. */
static tg_tensor *window_axis(tg_tensor *x, int a, int64_t k, int64_t s, int64_t d, int64_t o) {
    int64_t i = x->shape[a], sh[TG_MAX_DIMS], lo[TG_MAX_DIMS] = {0}, hi[TG_MAX_DIMS];
    int nd = x->ndim;
    int64_t e = (k * (i + d) + i - 1) / i;
    tg_tensor *v = tg_unsqueeze(x, a); /* (.., 1, i, ..) */
    if (!v) return NULL;
    for (int q = 0; q <= nd; q++) sh[q] = q == a ? e : v->shape[q];
    if (!(v = tg__expand(v, sh))) return NULL;
    for (int q = 0, j = 0; q <= nd; q++) {
        if (q == a + 1) continue;
        sh[j++] = q == a ? e * i : v->shape[q];
    }
    if (!(v = tg__reshape(v, nd, sh))) return NULL; /* (.., e*i, ..) */
    for (int q = 0; q < nd; q++) hi[q] = q == a ? k * (i + d) : v->shape[q];
    if (!(v = tg__shrink(v, lo, hi))) return NULL;
    for (int q = 0, j = 0; q < nd; q++) {
        if (q == a) sh[j++] = k, sh[j++] = i + d;
        else sh[j++] = v->shape[q];
    }
    if (!(v = tg__reshape(v, nd + 1, sh))) return NULL; /* (.., k, i+d, ..) */
    int64_t lo2[TG_MAX_DIMS] = {0}, hi2[TG_MAX_DIMS], st[TG_MAX_DIMS];
    for (int q = 0; q <= nd; q++) hi2[q] = v->shape[q], st[q] = 1;
    hi2[a + 1] = (o - 1) * s + 1;
    st[a + 1] = s;
    v = tg__stride(tg__shrink(v, lo2, hi2), st); /* (.., k, o, ..) */
    int64_t perm[TG_MAX_DIMS];
    for (int q = 0; q <= nd; q++) perm[q] = q == a ? a + 1 : q == a + 1 ? a : q;
    return tg__permute(v, perm); /* (.., o, k, ..) */
}

/* (N, C, H, W) -> (N, C, oh, ow, kh, kw) windows after padding with `fill`.
 * kh and kw stay apart: merged they would need a second view. */
static tg_tensor *windows2d(tg_tensor *x, const int *k, const int *s, const int *p, const int *d, double fill,
                            int64_t *oh, int64_t *ow) {
    int64_t pads[8] = {0, 0, 0, 0, p[0], p[0], p[1], p[1]};
    tg_tensor *xp = tg_pad(x, pads, fill);
    if (!xp) return NULL;
    int64_t H = xp->shape[2], W = xp->shape[3];
    *oh = (H - (int64_t)d[0] * (k[0] - 1) - 1) / s[0] + 1;
    *ow = (W - (int64_t)d[1] * (k[1] - 1) - 1) / s[1] + 1;
    if (*oh <= 0 || *ow <= 0) return tg__fail(TG_ERR_SHAPE, "window %dx%d larger than the padded input %lldx%lld", k[0], k[1], (long long)H, (long long)W);
    tg_tensor *v = window_axis(xp, 2, k[0], s[0], d[0], *oh);        /* N C oh kh W */
    v = v ? window_axis(v, 4, k[1], s[1], d[1], *ow) : NULL;        /* N C oh kh ow kw */
    if (!v) return NULL;
    int64_t perm[6] = {0, 1, 2, 4, 3, 5};
    return tg__permute(v, perm);                                      /* N C oh ow kh kw */
}

static void opts_of(const tg_conv_opts *o, int *s, int *p, int *d, int *g, int *op) {
    for (int i = 0; i < 2; i++) {
        s[i] = o && o->stride[i] ? o->stride[i] : 1;
        p[i] = o ? o->padding[i] : 0;
        d[i] = o && o->dilation[i] ? o->dilation[i] : 1;
        op[i] = o ? o->output_padding[i] : 0;
    }
    *g = o && o->groups ? o->groups : 1;
}

tg_tensor *tg_conv2d(tg_tensor *x, tg_tensor *w, tg_tensor *bias, const tg_conv_opts *opts) {
    char sa[128], sb[128];
    int s[2], p[2], d[2], g, op[2];
    if (!x || !w) return tg__null_arg("conv2d");
    opts_of(opts, s, p, d, &g, op);
    if (x->ndim != 4 || w->ndim != 4 || g < 1 || x->shape[1] != w->shape[1] * g || w->shape[0] % g)
        return tg__fail(TG_ERR_SHAPE, "conv2d: input %s and weight %s do not match (groups %d)",
                        tg__shape_str(x, sa, sizeof sa), tg__shape_str(w, sb, sizeof sb), g);
    for (int i = 0; i < 2; i++)
        if (s[i] < 1 || d[i] < 1 || p[i] < 0)
            return tg__fail(TG_ERR_INVALID, "conv2d: stride %d, dilation %d, padding %d on dim %d (needs stride, "
                            "dilation >= 1, padding >= 0)", s[i], d[i], p[i], i);
    OP_BEGIN;
    int k[2] = {(int)w->shape[2], (int)w->shape[3]};
    int64_t oh, ow, N = x->shape[0], cg = w->shape[1], og = w->shape[0] / g;
    tg_tensor *win = windows2d(x, k, s, p, d, 0, &oh, &ow); /* N C oh ow kh kw */
    if (!win) OP_END(NULL);
    int64_t xs[8] = {N, g, 1, cg, oh, ow, k[0], k[1]}, ws[8] = {1, g, og, cg, 1, 1, k[0], k[1]};
    /* N g og cg oh ow kh kw, summed to N g og oh ow */
    tg_tensor *r = sum_products(tg_reshape(win, 8, xs), tg_reshape(w, 8, ws), TG_AXES(3, 6, 7));
    r = tg_reshape(r, TG_SHAPE(N, (int64_t)g * og, oh, ow));
    if (bias) r = tg_add(r, tg_reshape(bias, TG_SHAPE(1, -1, 1, 1)));
    OP_END(r);
}

/* As the gradient of conv2d: dilate the input by the stride, pad by
 * d*(k-1)-p (plus output_padding at the end), convolve with the flipped,
 * transposed weight. */
tg_tensor *tg_conv_transpose2d(tg_tensor *x, tg_tensor *w, tg_tensor *bias, const tg_conv_opts *opts) {
    char sa[128], sb[128];
    int s[2], p[2], d[2], g, op[2];
    if (!x || !w) return tg__null_arg("conv_transpose2d");
    opts_of(opts, s, p, d, &g, op);
    if (x->ndim != 4 || w->ndim != 4 || x->shape[1] != w->shape[0] || g < 1 || w->shape[0] % g)
        return tg__fail(TG_ERR_SHAPE, "conv_transpose2d: input %s and weight %s do not match (groups %d)",
                        tg__shape_str(x, sa, sizeof sa), tg__shape_str(w, sb, sizeof sb), g);
    for (int i = 0; i < 2; i++)
        if (s[i] < 1 || d[i] < 1 || p[i] < 0 || op[i] < 0 || (op[i] >= s[i] && op[i] >= d[i]))
            return tg__fail(TG_ERR_INVALID, "conv_transpose2d: stride %d, dilation %d, padding %d, output_padding %d "
                            "on dim %d (needs stride, dilation >= 1, padding >= 0, 0 <= output_padding < stride "
                            "or dilation)", s[i], d[i], p[i], op[i], i);
    OP_BEGIN;
    int64_t N = x->shape[0], C = x->shape[1], H = x->shape[2], W = x->shape[3];
    int64_t kh = w->shape[2], kw = w->shape[3], og = w->shape[1], cg = C / g;
    /* dilate: (N,C,H,W) -> (N,C,H,1,W,1) -> pad -> (N,C,H*s0,W*s1) -> shrink */
    tg_tensor *v = tg_reshape(x, TG_SHAPE(N, C, H, 1, W, 1));
    int64_t pads[12] = {0, 0, 0, 0, 0, 0, 0, s[0] - 1, 0, 0, 0, s[1] - 1};
    v = tg_reshape(tg_pad(v, pads, 0), TG_SHAPE(N, C, H * s[0], W * s[1]));
    v = tg_shrink(v, (int64_t[]){0, 0, 0, 0}, (int64_t[]){N, C, (H - 1) * s[0] + 1, (W - 1) * s[1] + 1});
    /* pad (or crop) each side */
    int64_t lo[2], hi[2];
    for (int i = 0; i < 2; i++) {
        int64_t k = i ? kw : kh;
        lo[i] = d[i] * (k - 1) - p[i];
        hi[i] = lo[i] + op[i];
    }
    if (!v) OP_END(NULL);
    int64_t pl[8] = {0, 0, 0, 0, lo[0] > 0 ? lo[0] : 0, hi[0] > 0 ? hi[0] : 0, lo[1] > 0 ? lo[1] : 0, hi[1] > 0 ? hi[1] : 0};
    v = tg_pad(v, pl, 0);
    if (!v) OP_END(NULL);
    int64_t a[4] = {0, 0, lo[0] < 0 ? -lo[0] : 0, lo[1] < 0 ? -lo[1] : 0};
    int64_t b[4] = {N, C, v->shape[2] - (hi[0] < 0 ? -hi[0] : 0), v->shape[3] - (hi[1] < 0 ? -hi[1] : 0)};
    v = tg_shrink(v, a, b);
    /* weight (C, og, kh, kw) -> (g, cg, og, kh, kw) -> (g, og, cg, kh, kw) -> (g*og, cg, kh, kw), flipped */
    tg_tensor *wt = tg_reshape(w, TG_SHAPE(g, cg, og, kh, kw));
    wt = tg_reshape(tg_transpose(wt, 1, 2), TG_SHAPE((int64_t)g * og, cg, kh, kw));
    wt = tg_flip(wt, TG_AXES(2, 3));
    tg_conv_opts co = {.stride = {1, 1}, .dilation = {d[0], d[1]}, .groups = g};
    OP_END(tg_conv2d(v, wt, bias, &co));
}

static tg_tensor *pool(const char *name, tg_tensor *x, int kh, int kw, int sh, int sw, int ph, int pw, bool is_max) {
    char sa[128];
    if (!x) return tg__null_arg(name);
    if (x->ndim != 4 || kh < 1 || kw < 1)
        return tg__fail(TG_ERR_SHAPE, "%s: input %s (needs N,C,H,W) or window %dx%d", name,
                        tg__shape_str(x, sa, sizeof sa), kh, kw);
    if (sh < 0 || sw < 0 || ph < 0 || pw < 0)
        return tg__fail(TG_ERR_INVALID, "%s: stride %dx%d, padding %dx%d (needs stride >= 0, 0 meaning the window, "
                        "and padding >= 0)", name, sh, sw, ph, pw);
    int k[2] = {kh, kw}, s[2] = {sh ? sh : kh, sw ? sw : kw}, p[2] = {ph, pw}, d[2] = {1, 1};
    int64_t oh, ow;
    OP_BEGIN;
    tg_tensor *win = windows2d(x, k, s, p, d, is_max ? -INFINITY : 0, &oh, &ow);
    OP_END(is_max ? tg_max(win, TG_AXES(4, 5), false) : tg_mean(win, TG_AXES(4, 5), false));
}

tg_tensor *tg_max_pool2d(tg_tensor *x, int kh, int kw, int sh, int sw, int ph, int pw) {
    return pool("max_pool2d", x, kh, kw, sh, sw, ph, pw, true);
}
tg_tensor *tg_avg_pool2d(tg_tensor *x, int kh, int kw, int sh, int sw, int ph, int pw) {
    return pool("avg_pool2d", x, kh, kw, sh, sw, ph, pw, false);
}
