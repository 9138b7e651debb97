/* Reductions over any set of axes, with keepdim: composed from REDUCE_SUM,
 * REDUCE_MAX and elementwise primitives. */
#include <math.h>
#include "tensor_internal.h"

/* Axes list -> bitmask; naxes == 0 means all. false on a bad axis. */
static bool axes_mask(const char *op, const tg_tensor *x, int naxes, const int *axes, uint32_t *out) {
    uint32_t m = 0;
    bool ok = true;
    if (naxes == 0 || !axes) {
        *out = x->ndim ? (1u << x->ndim) - 1 : 0;
        return true;
    }
    for (int i = 0; i < naxes && ok; i++) {
        int a = tg__norm_axis(axes[i], x->ndim, op, &ok);
        if (ok && x->ndim > 0) m |= 1u << a;
    }
    *out = m;
    return ok;
}

/* Drop the reduced (size-1) axes unless keepdim. */
static tg_tensor *finish(tg_tensor *r, uint32_t mask, bool keepdim) {
    if (!r || keepdim) return r ? tg__ref(r) : NULL;
    int64_t shape[TG_MAX_DIMS];
    int n = 0;
    for (int d = 0; d < r->ndim; d++)
        if (!(mask & (1u << d))) shape[n++] = r->shape[d];
    return tg__reshape(r, n, shape);
}

static int64_t count_of(const tg_tensor *x, uint32_t mask) {
    int64_t n = 1;
    for (int d = 0; d < x->ndim; d++)
        if (mask & (1u << d)) n *= x->shape[d];
    return n;
}

tg_tensor *tg_sum(tg_tensor *x, int naxes, const int *axes, bool keepdim) {
    uint32_t m;
    if (!x) return tg__null_arg("sum");
    if (!axes_mask("sum", x, naxes, axes, &m)) return NULL;
    OP_BEGIN;
    tg_tensor *v = x->dtype == TG_BOOL ? tg__cast(x, TG_INT32) : x;
    OP_END(finish(tg__reduce(TG_OP_REDUCE_SUM, v, m), m, keepdim));
}

tg_tensor *tg_max(tg_tensor *x, int naxes, const int *axes, bool keepdim) {
    uint32_t m;
    if (!x) return tg__null_arg("max");
    if (!axes_mask("max", x, naxes, axes, &m)) return NULL;
    OP_BEGIN;
    OP_END(finish(tg__reduce(TG_OP_REDUCE_MAX, x, m), m, keepdim));
}

/* An order-reversing map that is its own inverse: -x (floats, signed), ~x
 * (unsigned, as all-ones - x), !x (bool). */
static tg_tensor *flip_order(tg_tensor *x) {
    if (x->dtype == TG_BOOL) return tg_logical_not(x);
    if (tg_dtype_is_signed(x->dtype)) return tg_neg(x);
    double ones = x->dtype == TG_UINT64 ? 18446744073709551615.0 : ldexp(1, (int)tg_dtype_size(x->dtype) * 8) - 1;
    return tg_rsubs(x, ones);
}

tg_tensor *tg_min(tg_tensor *x, int naxes, const int *axes, bool keepdim) {
    if (!x) return tg__null_arg("min");
    OP_BEGIN;
    tg_tensor *r = tg_max(flip_order(x), naxes, axes, keepdim);
    OP_END(r ? flip_order(r) : NULL);
}

static tg_tensor *need_float(const char *op, tg_tensor *x) {
    if (!x) return tg__null_arg(op);
    if (!tg_dtype_is_float(x->dtype)) return tg__fail(TG_ERR_DTYPE, "%s: needs a float dtype, not %s", op, tg_dtype_name(x->dtype));
    return x;
}

tg_tensor *tg_mean(tg_tensor *x, int naxes, const int *axes, bool keepdim) {
    uint32_t m;
    if (!need_float("mean", x) || !axes_mask("mean", x, naxes, axes, &m)) return NULL;
    OP_BEGIN;
    int64_t n = count_of(x, m);
    OP_END(tg_muls(tg_sum(x, naxes, axes, keepdim), n ? 1.0 / (double)n : NAN));
}

tg_tensor *tg_var(tg_tensor *x, int naxes, const int *axes, bool keepdim, int correction) {
    uint32_t m;
    if (!need_float("var", x) || !axes_mask("var", x, naxes, axes, &m)) return NULL;
    OP_BEGIN;
    int64_t n = count_of(x, m);
    tg_tensor *d = tg_sub(x, tg_mean(x, naxes, axes, true));
    double div = (double)(n - correction);
    OP_END(tg_muls(tg_sum(tg_square(d), naxes, axes, keepdim), div > 0 ? 1.0 / div : NAN));
}

tg_tensor *tg_std(tg_tensor *x, int naxes, const int *axes, bool keepdim, int correction) {
    OP_BEGIN;
    OP_END(tg_sqrt(tg_var(x, naxes, axes, keepdim, correction)));
}

tg_tensor *tg_logsumexp(tg_tensor *x, int naxes, const int *axes, bool keepdim) {
    if (!need_float("logsumexp", x)) return NULL;
    OP_BEGIN;
    tg_tensor *mx = tg_detach(tg_max(x, naxes, axes, true));
    /* an all -inf slice: subtract 0 instead of -inf (gives -inf, not NaN) */
    mx = tg_where(tg_eq(mx, tg__const_like(mx, -INFINITY)), tg__const_like(mx, 0), mx);
    tg_tensor *s = tg_log(tg_sum(tg_exp(tg_sub(x, mx)), naxes, axes, true));
    tg_tensor *r = tg_add(s, mx);
    uint32_t m;
    if (!axes_mask("logsumexp", x, naxes, axes, &m)) OP_END(NULL);
    OP_END(finish(r, m, keepdim));
}

/* prod = sign * exp(sum(log|x|)), 0 if any element is 0. */
tg_tensor *tg_prod(tg_tensor *x, int naxes, const int *axes, bool keepdim) {
    if (!need_float("prod", x)) return NULL;
    OP_BEGIN;
    tg_tensor *z = tg__const_like(x, 0);
    tg_tensor *mag = tg_exp2(tg_sum(tg_log2(tg_abs(x)), naxes, axes, keepdim));
    tg_tensor *nneg = tg_sum(tg_cast(tg_lt(x, z), x->dtype), naxes, axes, keepdim);
    tg_tensor *sign = tg_rsubs(tg_muls(tg_mod(nneg, tg__const_like(nneg, 2)), 2), 1);
    tg_tensor *anyzero = tg_max(tg_eq(x, z), naxes, axes, keepdim);
    OP_END(tg_where(anyzero, tg__const_like(mag, 0), tg_mul(sign, mag)));
}

/* First index of the maximum along one axis (TG_INT32): among the places
 * equal to the max, the largest (n - i) wins. */
tg_tensor *tg_argmax(tg_tensor *x, int axis, bool keepdim) {
    bool ok = true;
    if (!x) return tg__null_arg("argmax");
    int a = tg__norm_axis(axis, x->ndim, "argmax", &ok);
    if (!ok) return NULL;
    if (x->ndim == 0) {
        OP_BEGIN;
        OP_END(tg_cast(tg__const_like(x, 0), TG_INT32));
    }
    OP_BEGIN;
    int64_t n = x->shape[a];
    tg_tensor *hit = tg_eq(x, tg_max(x, 1, &a, true));
    tg_tensor *rev = tg_arange(x->dev, TG_INT32, (double)n, 0, -1);
    int64_t shape[TG_MAX_DIMS];
    for (int d = 0; d < x->ndim; d++) shape[d] = d == a ? n : 1;
    rev = tg_reshape(rev, x->ndim, shape);
    tg_tensor *score = tg_where(hit, rev, tg_cast(tg__const_like(x, 0), TG_INT32));
    OP_END(tg_rsubs(tg_max(score, 1, &a, keepdim), (double)n));
}

tg_tensor *tg_argmin(tg_tensor *x, int axis, bool keepdim) {
    if (!x) return tg__null_arg("argmin");
    OP_BEGIN;
    OP_END(tg_argmax(flip_order(x), axis, keepdim));
}
