/* Convolution, pooling, unfolding and resampling over 1 to 3 spatial dims,
 * one N-d code for each. Windows are views made by expand/reshape/shrink/
 * stride/permute; resampling and adaptive pools pick taps by a one-hot
 * match. No new primitives, so gradients come free. */
#include <math.h>
#include <stdlib.h>
#include "tensor_internal.h"

#define NSP 3 /* most spatial dims */

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

/* (N, C, d1..dn) padded by lo/hi with `fill` -> (N, C, o1..on, k1..kn).
 * Kernel dims stay apart: merged they would need a second view. */
static tg_tensor *windows(const char *op, tg_tensor *x, int n, const int *k, const int *s, const int *d,
                          const int64_t *lo, const int64_t *hi, double fill, int64_t *o) {
    int64_t pads[2 * TG_MAX_DIMS] = {0}, perm[TG_MAX_DIMS] = {0, 1};
    for (int i = 0; i < n; i++) pads[4 + 2 * i] = lo[i], pads[5 + 2 * i] = hi[i];
    tg_tensor *v = tg_pad(x, pads, fill);
    for (int i = 0; v && i < n; i++) {
        int64_t len = v->shape[2 + i], span = (int64_t)d[i] * (k[i] - 1) + 1;
        if (len < span)
            return tg__fail(TG_ERR_SHAPE, "%s: window of %lld on spatial dim %d is larger than the padded input (%lld)",
                            op, (long long)span, i, (long long)len);
        o[i] = (len - span) / s[i] + 1;
    }
    for (int i = n; i-- > 0 && v;) v = window_axis(v, 2 + i, k[i], s[i], d[i], o[i]); /* .. o_i k_i .. */
    for (int i = 0; i < n; i++) perm[2 + i] = 2 + 2 * i, perm[2 + n + i] = 3 + 2 * i;
    return v ? tg__permute(v, perm) : NULL;
}

/* opts with defaults filled in, or false (error set) for bad values. */
static bool conv_opts(const char *op, int n, const tg_convnd_opts *in, tg_convnd_opts *o, bool transposed) {
    *o = in ? *in : (tg_convnd_opts){0};
    for (int i = 0; i < n; i++) {
        if (!o->stride[i]) o->stride[i] = 1;
        if (!o->dilation[i]) o->dilation[i] = 1;
        int s = o->stride[i], d = o->dilation[i], p = o->padding[i], op_ = o->output_padding[i];
        if (s < 1 || d < 1 || p < 0 || (transposed && (op_ < 0 || (op_ >= s && op_ >= d))))
            return tg__fail(TG_ERR_INVALID, "%s: stride %d, dilation %d, padding %d, output_padding %d on dim %d "
                            "(needs stride, dilation >= 1, padding >= 0%s)", op, s, d, p, op_, i,
                            transposed ? ", 0 <= output_padding < stride or dilation" : "") != NULL;
    }
    if (!o->groups) o->groups = 1;
    if (o->groups < 1) return tg__fail(TG_ERR_INVALID, "%s: groups %d (needs >= 1)", op, o->groups) != NULL;
    return true;
}

static tg_tensor *conv_nd(const char *op, int n, tg_tensor *x, tg_tensor *w, tg_tensor *bias, const tg_convnd_opts *opts) {
    char sa[128], sb[128];
    tg_convnd_opts o;
    if (!x || !w) return tg__null_arg(op);
    if (!conv_opts(op, n, opts, &o, false)) return NULL;
    int g = o.groups;
    if (x->ndim != n + 2 || w->ndim != n + 2 || g < 1 || x->shape[1] != w->shape[1] * g || w->shape[0] % g ||
        (bias && (bias->ndim != 1 || bias->shape[0] != w->shape[0])))
        return tg__fail(TG_ERR_SHAPE, "%s: input %s, weight %s and bias do not match (groups %d)", op,
                        tg__shape_str(x, sa, sizeof sa), tg__shape_str(w, sb, sizeof sb), g);
    OP_BEGIN;
    int k[NSP], na = 1, nd = 4, axes[TG_MAX_DIMS] = {3};
    int64_t pad[NSP], on[NSP], N = x->shape[0], cg = w->shape[1], og = w->shape[0] / g, K = 1;
    for (int i = 0; i < n; i++) k[i] = (int)w->shape[2 + i], pad[i] = o.padding[i], K *= k[i];
    tg_tensor *win = windows(op, x, n, k, o.stride, o.dilation, pad, pad, 0, on); /* N C o.. k.. */
    if (!win) OP_END(NULL);
    /* N g og cg o.. k.. summed to N g og o..; 3-d merges the kernel dims to fit 8 */
    int64_t xs[TG_MAX_DIMS] = {N, g, 1, cg}, ws[TG_MAX_DIMS] = {1, g, og, cg}, rs[TG_MAX_DIMS] = {N, g * og};
    int64_t bs[TG_MAX_DIMS] = {1, -1};
    bool merge = 4 + 2 * n > TG_MAX_DIMS;
    for (int i = 0; i < n; i++) xs[nd] = rs[2 + i] = on[i], ws[nd++] = bs[2 + i] = 1;
    for (int i = 0; i < (merge ? 1 : n); i++) axes[na++] = nd, xs[nd] = ws[nd] = merge ? K : k[i], nd++;
    tg_tensor *r = tg__sum_products(tg_reshape(win, nd, xs), tg_reshape(w, nd, ws), na, axes);
    r = tg_reshape(r, n + 2, rs);
    if (bias) r = tg_add(r, tg_reshape(bias, n + 2, bs));
    OP_END(r);
}

/* As the gradient of conv: dilate the input by the stride, pad by
 * d*(k-1)-p (plus output_padding at the end; negative crops), convolve with
 * the flipped, transposed weight. */
static tg_tensor *conv_transpose_nd(const char *op, int n, tg_tensor *x, tg_tensor *w, tg_tensor *bias,
                                    const tg_convnd_opts *opts) {
    char sa[128], sb[128];
    tg_convnd_opts o;
    if (!x || !w) return tg__null_arg(op);
    if (!conv_opts(op, n, opts, &o, true)) return NULL;
    int g = o.groups;
    if (x->ndim != n + 2 || w->ndim != n + 2 || x->shape[1] != w->shape[0] || w->shape[0] % g)
        return tg__fail(TG_ERR_SHAPE, "%s: input %s and weight %s do not match (groups %d)", op,
                        tg__shape_str(x, sa, sizeof sa), tg__shape_str(w, sb, sizeof sb), g);
    OP_BEGIN;
    int64_t N = x->shape[0], C = x->shape[1], og = w->shape[1], cg = C / g;
    int64_t sh[TG_MAX_DIMS] = {N, C}, flat[TG_MAX_DIMS] = {N, C}, pads[2 * TG_MAX_DIMS] = {0};
    int64_t lo[TG_MAX_DIMS] = {0}, hi[TG_MAX_DIMS] = {0}, a[TG_MAX_DIMS] = {0}, b[TG_MAX_DIMS] = {N, C};
    int64_t wsh[TG_MAX_DIMS] = {g, cg, og}, wfl[TG_MAX_DIMS] = {g * og, cg};
    int flip[NSP];
    for (int i = 0; i < n; i++) { /* each L -> (L, 1) -> (L, s) -> L*s, then pad or crop */
        int64_t L = x->shape[2 + i], s = o.stride[i], e = o.dilation[i] * (w->shape[2 + i] - 1) - o.padding[i];
        sh[2 + 2 * i] = L, sh[3 + 2 * i] = 1, pads[7 + 4 * i] = s - 1, flat[2 + i] = L * s;
        int64_t end = e + o.output_padding[i] - (s - 1); /* after the s-1 trailing zeros */
        lo[2 + i] = e > 0 ? e : 0, hi[2 + i] = end > 0 ? end : 0;
        a[2 + i] = e < 0 ? -e : 0, b[2 + i] = L * s + lo[2 + i] + hi[2 + i] - (end < 0 ? -end : 0);
        wsh[3 + i] = wfl[2 + i] = w->shape[2 + i], flip[i] = 2 + i;
    }
    tg_tensor *v = tg_reshape(tg_pad(tg_reshape(x, 2 + 2 * n, sh), pads, 0), 2 + n, flat);
    v = tg_shrink(v ? tg__pad(v, lo, hi) : NULL, a, b);
    /* weight (C, og, k..) -> (g, cg, og, k..) -> (g, og, cg, k..) -> (g*og, cg, k..), flipped */
    tg_tensor *wt = tg_reshape(tg_transpose(tg_reshape(w, 3 + n, wsh), 1, 2), 2 + n, wfl);
    tg_convnd_opts co = {.groups = g};
    for (int i = 0; i < n; i++) co.dilation[i] = o.dilation[i];
    OP_END(conv_nd(op, n, v, tg_flip(wt, n, flip), bias, &co));
}

static tg_convnd_opts from_2d(const tg_conv_opts *o) {
    tg_convnd_opts r = {.groups = o ? o->groups : 0};
    for (int i = 0; o && i < 2; i++) {
        r.stride[i] = o->stride[i], r.padding[i] = o->padding[i], r.dilation[i] = o->dilation[i];
        r.output_padding[i] = o->output_padding[i];
    }
    return r;
}

tg_tensor *tg_conv2d(tg_tensor *x, tg_tensor *w, tg_tensor *bias, const tg_conv_opts *opts) {
    tg_convnd_opts o = from_2d(opts);
    return conv_nd("conv2d", 2, x, w, bias, &o);
}
tg_tensor *tg_conv_transpose2d(tg_tensor *x, tg_tensor *w, tg_tensor *bias, const tg_conv_opts *opts) {
    tg_convnd_opts o = from_2d(opts);
    return conv_transpose_nd("conv_transpose2d", 2, x, w, bias, &o);
}
tg_tensor *tg_conv1d(tg_tensor *x, tg_tensor *w, tg_tensor *bias, const tg_convnd_opts *opts) {
    return conv_nd("conv1d", 1, x, w, bias, opts);
}
tg_tensor *tg_conv3d(tg_tensor *x, tg_tensor *w, tg_tensor *bias, const tg_convnd_opts *opts) {
    return conv_nd("conv3d", 3, x, w, bias, opts);
}
tg_tensor *tg_conv_transpose1d(tg_tensor *x, tg_tensor *w, tg_tensor *bias, const tg_convnd_opts *opts) {
    return conv_transpose_nd("conv_transpose1d", 1, x, w, bias, opts);
}
tg_tensor *tg_conv_transpose3d(tg_tensor *x, tg_tensor *w, tg_tensor *bias, const tg_convnd_opts *opts) {
    return conv_transpose_nd("conv_transpose3d", 3, x, w, bias, opts);
}

/* The number of spatial dims of a float (N, C, d1..dk) input, or 0 (error set). */
static int spatial(const char *op, tg_tensor *x) {
    char sa[128];
    if (!x) return tg__null_arg(op) ? 0 : 0;
    if (!tg_dtype_is_float(x->dtype))
        return tg__fail(TG_ERR_DTYPE, "%s: needs a float dtype, not %s", op, tg_dtype_name(x->dtype)) ? 0 : 0;
    if (x->ndim < 3 || x->ndim > 2 + NSP)
        return tg__fail(TG_ERR_SHAPE, "%s: input %s needs (N, C, d1..dk) with 1 to %d spatial dims", op,
                        tg__shape_str(x, sa, sizeof sa), NSP) ? 0 : 0;
    return x->ndim - 2;
}

static tg_tensor *pool(const char *op, tg_tensor *x, const tg_pool_opts *po, bool is_max) {
    int n = spatial(op, x), k[NSP] = {0}, s[NSP] = {0}, d[NSP] = {0}, axes[NSP] = {0};
    int64_t lo[NSP] = {0}, hi[NSP] = {0}, zero[NSP] = {0}, o[NSP];
    if (!n) return NULL;
    if (!po) return tg__fail(TG_ERR_INVALID, "%s: opts is NULL (the kernel size is needed)", op);
    for (int i = 0; i < n; i++) {
        k[i] = po->kernel[i], s[i] = po->stride[i] ? po->stride[i] : k[i], d[i] = po->dilation[i] ? po->dilation[i] : 1;
        int64_t p = po->padding[i], span = (int64_t)d[i] * (k[i] - 1) + 1, L = x->shape[2 + i];
        if (k[i] < 1 || s[i] < 1 || d[i] < 1 || p < 0 || 2 * p > span)
            return tg__fail(TG_ERR_INVALID, "%s: kernel %d, stride %d, dilation %d, padding %lld on spatial dim %d (needs "
                            "kernel, stride, dilation >= 1, 0 <= padding <= half the dilated window)", op, k[i], s[i],
                            d[i], (long long)p, i);
        int64_t room = L + 2 * p - span, out = (po->ceil_mode ? (room + s[i] - 1) / s[i] : room / s[i]) + 1;
        if (po->ceil_mode && room >= 0 && (out - 1) * s[i] >= L + p) out--; /* no window starts in the right padding */
        int64_t extra = (out - 1) * s[i] + span - (L + 2 * p);
        lo[i] = p, hi[i] = p + (room >= 0 && extra > 0 ? extra : 0), axes[i] = 2 + n + i;
    }
    bool full = true; /* every window's taps all count: a plain mean */
    for (int i = 0; i < n; i++) full &= hi[i] == lo[i] && (lo[i] == 0 || !po->exclude_pad);
    OP_BEGIN;
    if (is_max) OP_END(tg_max(windows(op, x, n, k, s, d, lo, hi, -INFINITY, o), n, axes, false));
    if (full) OP_END(tg_mean(windows(op, x, n, k, s, d, lo, hi, 0, o), n, axes, false));
    tg_tensor *sum = tg_sum(windows(op, x, n, k, s, d, lo, hi, 0, o), n, axes, false);
    /* the divisor: taps of each window inside the input, or inside the padded input */
    int64_t one[TG_MAX_DIMS] = {1, 1}, pads[2 * TG_MAX_DIMS] = {0}, ext[NSP];
    for (int i = 0; i < n; i++) one[2 + i] = x->shape[2 + i], pads[4 + 2 * i] = pads[5 + 2 * i] = lo[i], ext[i] = hi[i] - lo[i];
    tg_tensor *in = tg_ones(x->dev, x->dtype, n + 2, one);
    tg_tensor *cnt = po->exclude_pad ? windows(op, in, n, k, s, d, lo, hi, 0, o)
                                     : windows(op, tg_pad(in, pads, 1), n, k, s, d, zero, ext, 0, o);
    OP_END(tg_div(sum, tg_sum(cnt, n, axes, false)));
}

tg_tensor *tg_max_pool(tg_tensor *x, const tg_pool_opts *opts) { return pool("max_pool", x, opts, true); }
tg_tensor *tg_avg_pool(tg_tensor *x, const tg_pool_opts *opts) { return pool("avg_pool", x, opts, false); }
static tg_tensor *pool2d(const char *op, tg_tensor *x, int kh, int kw, int sh, int sw, int ph, int pw, bool is_max) {
    tg_pool_opts o = {.kernel = {kh, kw}, .stride = {sh, sw}, .padding = {ph, pw}};
    if (x && x->ndim != 4) return tg__fail(TG_ERR_SHAPE, "%s: input needs (N, C, H, W), has %d dims", op, x->ndim);
    return pool(op, x, &o, is_max);
}
tg_tensor *tg_max_pool2d(tg_tensor *x, int kh, int kw, int sh, int sw, int ph, int pw) {
    return pool2d("max_pool2d", x, kh, kw, sh, sw, ph, pw, true);
}
tg_tensor *tg_avg_pool2d(tg_tensor *x, int kh, int kw, int sh, int sw, int ph, int pw) {
    return pool2d("avg_pool2d", x, kh, kw, sh, sw, ph, pw, false);
}

/* Resample axis a to n places: place i combines the k taps idx[i*k + t]
 * of x along a, by their max or by their sum weighted by w[i*k + t]. A
 * one-hot (n*k, L) picks the taps (WHERE, so an inf elsewhere stays out). */
static tg_tensor *taps(tg_tensor *x, int a, int64_t n, int k, const int64_t *idx, const double *w, bool is_max) {
    int64_t L = x->shape[a], nk = n * k, perm[TG_MAX_DIMS], shape[TG_MAX_DIMS];
    int nd = x->ndim, last = -1;
    bool *hit = calloc((size_t)(nk * L) + 1, 1);
    if (!hit) return tg__fail(TG_ERR_NO_MEMORY, "out of host memory");
    for (int64_t r = 0; r < nk; r++) hit[r * L + idx[r]] = true;
    tg_tensor *h = tg_from_data(x->dev, TG_BOOL, 2, (int64_t[]){nk, L}, hit);
    free(hit);
    for (int q = 0; q < nd; q++) perm[q] = q == a ? nd - 1 : q == nd - 1 ? a : q; /* swap a and the last */
    tg_tensor *v = tg_unsqueeze(tg__permute(x, perm), -2);                       /* (.., 1, L) */
    tg_tensor *p = v ? tg_sum(tg_where(h, v, tg__const_like(v, 0)), 1, &last, false) : NULL; /* (.., n*k) */
    if (!p) return NULL;
    for (int q = 0; q < nd - 1; q++) shape[q] = p->shape[q];
    shape[nd - 1] = n, shape[nd] = k;
    p = tg_reshape(p, nd + 1, shape);
    if (w) p = tg_mul(p, tg_reshape(tg_from_f64(x->dev, x->dtype, 1, &nk, w), TG_SHAPE(n, k)));
    p = is_max ? tg_max(p, 1, &last, false) : tg_sum(p, 1, &last, false);
    return p ? tg__permute(p, perm) : NULL;
}

static tg_tensor *adaptive(const char *op, tg_tensor *x, const int64_t *size, bool is_max) {
    int n = spatial(op, x);
    if (!n) return NULL;
    for (int i = 0; i < n; i++)
        if (!size || size[i] < 1 || x->shape[2 + i] < 1)
            return tg__fail(TG_ERR_SHAPE, "%s: output size %lld for input size %lld on spatial dim %d (both need >= 1)",
                            op, size ? (long long)size[i] : 0LL, (long long)x->shape[2 + i], i);
    OP_BEGIN;
    tg_tensor *v = x;
    for (int i = 0; i < n && v; i++) {
        int64_t L = x->shape[2 + i], m = size[i], K = 1;
        for (int64_t j = 0; j < m; j++) {
            int64_t c = ((j + 1) * L + m - 1) / m - j * L / m;
            K = c > K ? c : K;
        }
        int64_t *idx = malloc((size_t)(m * K) * sizeof *idx);
        double *w = malloc((size_t)(m * K) * sizeof *w);
        for (int64_t j = 0; idx && w && j < m; j++) { /* short windows repeat their last tap (weight 0) */
            int64_t st = j * L / m, c = ((j + 1) * L + m - 1) / m - st;
            for (int64_t t = 0; t < K; t++) idx[j * K + t] = st + (t < c ? t : c - 1), w[j * K + t] = t < c ? 1.0 / (double)c : 0;
        }
        v = idx && w ? taps(v, 2 + i, m, (int)K, idx, is_max ? NULL : w, is_max) : tg__fail(TG_ERR_NO_MEMORY, "out of host memory");
        free(idx), free(w);
    }
    OP_END(v);
}

tg_tensor *tg_adaptive_avg_pool(tg_tensor *x, const int64_t *size) { return adaptive("adaptive_avg_pool", x, size, false); }
tg_tensor *tg_adaptive_max_pool(tg_tensor *x, const int64_t *size) { return adaptive("adaptive_max_pool", x, size, true); }

tg_tensor *tg_interpolate(tg_tensor *x, const int64_t *size, const double *scale, tg_interp_mode mode, bool align) {
    int n = spatial("interpolate", x);
    int64_t out[NSP];
    if (!n) return NULL;
    if (mode != TG_INTERP_NEAREST && mode != TG_INTERP_LINEAR)
        return tg__fail(TG_ERR_INVALID, "interpolate: unknown mode %d", (int)mode);
    for (int i = 0; i < n; i++) {
        out[i] = size ? size[i] : scale ? (int64_t)floor((double)x->shape[2 + i] * scale[i]) : 0;
        if (out[i] < 1 || x->shape[2 + i] < 1 || (!size && !(scale[i] > 0)))
            return tg__fail(TG_ERR_SHAPE, "interpolate: output size %lld (scale %g) for input size %lld on spatial dim %d "
                            "(needs a size or a positive scale giving >= 1, and input size >= 1)", (long long)out[i],
                            scale && !size ? scale[i] : 0.0, (long long)x->shape[2 + i], i);
    }
    OP_BEGIN;
    tg_tensor *v = x;
    int k = mode == TG_INTERP_NEAREST ? 1 : 2;
    for (int i = 0; i < n && v; i++) {
        int64_t L = x->shape[2 + i], m = out[i], *idx = malloc((size_t)(2 * m) * sizeof *idx);
        double r = size ? (double)L / (double)m : 1 / scale[i], *w = malloc((size_t)(2 * m) * sizeof *w);
        for (int64_t j = 0; idx && w && j < m; j++) {
            if (mode == TG_INTERP_NEAREST) { /* in float, as torch */
                int64_t t = (int64_t)floorf((float)j * (float)r);
                idx[j] = t < L - 1 ? t : L - 1;
                continue;
            }
            double src = align ? (m > 1 ? (double)j * (double)(L - 1) / (double)(m - 1) : 0) : ((double)j + 0.5) * r - 0.5;
            src = src > 0 ? src : 0;
            int64_t i0 = (int64_t)src < L - 1 ? (int64_t)src : L - 1;
            idx[2 * j] = i0, idx[2 * j + 1] = i0 + (i0 < L - 1);
            w[2 * j + 1] = src - (double)i0, w[2 * j] = 1 - w[2 * j + 1];
        }
        v = idx && w ? taps(v, 2 + i, m, k, idx, k == 2 ? w : NULL, false) : tg__fail(TG_ERR_NO_MEMORY, "out of host memory");
        free(idx), free(w);
    }
    OP_END(v);
}

tg_tensor *tg_unfold(tg_tensor *x, int axis, int64_t size, int64_t step) {
    bool ok = true;
    if (!x) return tg__null_arg("unfold");
    int a = tg__norm_axis(axis, x->ndim, "unfold", &ok);
    if (!ok) return NULL;
    if (x->ndim == 0 || x->ndim >= TG_MAX_DIMS || size < 1 || step < 1 || size > x->shape[a])
        return tg__fail(TG_ERR_SHAPE, "unfold: size %lld, step %lld on axis %d of size %lld (needs 1 <= size <= the "
                        "axis, step >= 1, 1 to %d dims)", (long long)size, (long long)step, axis,
                        (long long)(x->ndim ? x->shape[a] : 0), TG_MAX_DIMS - 1);
    int64_t perm[TG_MAX_DIMS];
    for (int q = 0; q <= x->ndim; q++) perm[q] = q < a + 1 ? q : q == x->ndim ? a + 1 : q + 1;
    OP_BEGIN;
    tg_tensor *v = window_axis(x, a, size, step, 1, (x->shape[a] - size) / step + 1); /* (.., o, size, ..) */
    OP_END(v ? tg__permute(v, perm) : NULL);
}

tg_tensor *tg_im2col(tg_tensor *x, int kh, int kw, const tg_conv_opts *opts) {
    char sa[128];
    tg_convnd_opts o, o2 = from_2d(opts);
    if (!x) return tg__null_arg("im2col");
    if (x->ndim != 4 || kh < 1 || kw < 1)
        return tg__fail(TG_ERR_SHAPE, "im2col: input %s (needs N, C, H, W) or kernel %dx%d", tg__shape_str(x, sa, sizeof sa), kh, kw);
    if (!conv_opts("im2col", 2, &o2, &o, false)) return NULL;
    int k[2] = {kh, kw};
    int64_t p[2] = {o.padding[0], o.padding[1]}, on[2], perm[6] = {0, 1, 4, 5, 2, 3};
    OP_BEGIN;
    tg_tensor *win = windows("im2col", x, 2, k, o.stride, o.dilation, p, p, 0, on); /* N C oh ow kh kw */
    OP_END(tg_reshape(win ? tg__permute(win, perm) : NULL, TG_SHAPE(x->shape[0], x->shape[1] * kh * kw, on[0] * on[1])));
}
