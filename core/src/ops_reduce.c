/* Reductions over any set of axes, with keepdim: composed from REDUCE_SUM,
 * REDUCE_MAX and elementwise primitives. */
#include <math.h>
#include <stdlib.h>
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

tg_tensor *tg__max(tg_tensor *x, int naxes, const int *axes, bool keepdim) {
    uint32_t m;
    if (!x) return tg__null_arg("max");
    if (!axes_mask("max", x, naxes, axes, &m)) return NULL;
    OP_BEGIN;
    OP_END(finish(tg__reduce(TG_OP_REDUCE_MAX, x, m), m, keepdim));
}

/* max/min/argmax/argmin have no identity to give for an empty slice. */
static bool check_nonempty(const char *op, const tg_tensor *x, int naxes, const int *axes) {
    char sa[128];
    uint32_t m;
    if (!x || !axes_mask(op, x, naxes, axes, &m)) return false;
    int empty = -1;
    for (int d = 0; d < x->ndim; d++) {
        if (!(m >> d & 1) && x->shape[d] == 0) return true; /* the result is empty too */
        if ((m >> d & 1) && x->shape[d] == 0) empty = d;
    }
    if (empty < 0) return true;
    tg__fail(TG_ERR_SHAPE, "%s: reduces over dim %d of %s, which is empty", op, empty, tg__shape_str(x, sa, sizeof sa));
    return false;
}

tg_tensor *tg_max(tg_tensor *x, int naxes, const int *axes, bool keepdim) {
    if (!x) return tg__null_arg("max");
    return check_nonempty("max", x, naxes, axes) ? tg__max(x, naxes, axes, keepdim) : NULL;
}

tg_tensor *tg_min(tg_tensor *x, int naxes, const int *axes, bool keepdim) {
    if (!x) return tg__null_arg("min");
    if (!check_nonempty("min", x, naxes, axes)) return NULL;
    OP_BEGIN;
    tg_tensor *r = tg__max(tg__flip_order(x), naxes, axes, keepdim);
    OP_END(r ? tg__flip_order(r) : NULL);
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
    tg_tensor *mx = tg_detach(tg__max(x, naxes, axes, true));
    /* a slice whose max is +-inf or NaN: subtract 0 instead (all -inf gives
     * -inf, any +inf gives +inf, not NaN) */
    mx = tg_where(tg_lt(tg_abs(mx), tg__const_like(mx, INFINITY)), mx, tg__const_like(mx, 0));
    tg_tensor *s = tg_log(tg_sum(tg_exp(tg_sub(x, mx)), naxes, axes, true));
    tg_tensor *r = tg_add(s, mx);
    uint32_t m;
    if (!axes_mask("logsumexp", x, naxes, axes, &m)) OP_END(NULL);
    OP_END(finish(r, m, keepdim));
}

/* prod = sign * exp2(sum(log2|x|)), summed in a wider dtype (tg__wider),
 * 0 if any element is 0; the sign from an integer count of negatives. */
tg_tensor *tg_prod(tg_tensor *x, int naxes, const int *axes, bool keepdim) {
    if (!need_float("prod", x)) return NULL;
    OP_BEGIN;
    tg_tensor *z = tg__const_like(x, 0);
    tg_tensor *mag = tg_exp2(tg_sum(tg_log2(tg_cast(tg_abs(x), tg__wider(x))), naxes, axes, keepdim));
    tg_tensor *nneg = tg_sum(tg_lt(x, z), naxes, axes, keepdim); /* int32 */
    tg_tensor *sign = tg_cast(tg_rsubs(tg_muls(tg_mod(nneg, tg__const_like(nneg, 2)), 2), 1), tg__wider(x));
    tg_tensor *anyzero = tg__max(tg_eq(x, z), naxes, axes, keepdim);
    tg_tensor *z0 = anyzero ? tg__const_dt(anyzero, x->dtype, 0) : NULL;
    OP_END(tg_where(anyzero, z0, tg_cast(tg_mul(sign, mag), x->dtype)));
}

/* First index of the maximum along one axis (TG_INT32; the first NaN if
 * any): among the places
 * equal to the max, the largest (n - i) wins. */
tg_tensor *tg_argmax(tg_tensor *x, int axis, bool keepdim) {
    bool ok = true;
    if (!x) return tg__null_arg("argmax");
    int a = tg__norm_axis(axis, x->ndim, "argmax", &ok);
    if (!ok || !check_nonempty("argmax", x, 1, &a)) return NULL;
    if (x->ndim == 0) {
        OP_BEGIN;
        OP_END(tg_cast(tg__const_like(x, 0), TG_INT32));
    }
    OP_BEGIN;
    int64_t n = x->shape[a];
    /* a NaN is the maximum, as in torch */
    tg_tensor *hit = tg_logical_or(tg_eq(x, tg_max(x, 1, &a, true)), tg__isnan(x));
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
    OP_END(tg_argmax(tg__flip_order(x), axis, keepdim));
}

/* k rounds of: the largest value not yet taken (a NaN first), and the first
 * place that holds it. Gradients reach the picked values through max. */
tg_status tg_topk(tg_tensor *x, int64_t k, tg_tensor **out_values, tg_tensor **out_indices) {
    char sa[128];
    if (!out_values || !out_indices) return tg_error(TG_ERR_INVALID, "topk: out_values or out_indices is NULL");
    *out_values = *out_indices = NULL;
    if (!x) return tg__null_arg("topk"), tg_last_status() ? tg_last_status() : TG_ERR_INVALID;
    if (!tg_dtype_is_float(x->dtype)) return tg_error(TG_ERR_DTYPE, "topk: needs a float dtype, not %s", tg_dtype_name(x->dtype));
    int64_t n = x->ndim ? x->shape[x->ndim - 1] : -1;
    if (k < 0 || k > n)
        return tg_error(TG_ERR_SHAPE, "topk: k = %lld outside [0, %lld] for input %s", (long long)k, (long long)n,
                          tg__shape_str(x, sa, sizeof sa));
    tg_tensor **parts = malloc((size_t)(2 * k + 2) * sizeof *parts);
    if (!parts) return tg_error(TG_ERR_NO_MEMORY, "out of host memory");
    tg_scope_begin();
    int axis = -1;
    tg_tensor *taken = tg__const_dt(x, TG_BOOL, 0), *ar = tg_arange(x->dev, TG_INT32, 0, (double)n, 1);
    tg_tensor *rev = tg_arange(x->dev, TG_INT32, (double)n, 0, -1), *izero = tg_cast(tg__const_like(x, 0), TG_INT32);
    tg_tensor **vals = parts, **idxs = parts + k + 1;
    vals[0] = tg_slice(x, -1, 0, 0, 1); /* (..., 0): the result when k == 0 */
    idxs[0] = tg_cast(vals[0], TG_INT32);
    for (int64_t r = 0; r < k; r++) {
        tg_tensor *m = tg__max(tg_where(taken, tg__const_like(x, -INFINITY), x), 1, &axis, true);
        tg_tensor *hit = tg_logical_and(tg_logical_not(taken), tg_logical_or(tg_eq(x, m), tg__isnan(x)));
        tg_tensor *i = tg_rsubs(tg__max(tg_where(hit, rev, izero), 1, &axis, true), (double)n);
        taken = tg_logical_or(taken, tg_eq(ar, i));
        vals[r + 1] = m;
        idxs[r + 1] = i;
    }
    tg_tensor *v = tg_cat(k ? (size_t)k : 1, vals + (k > 0), -1), *ix = tg_cat(k ? (size_t)k : 1, idxs + (k > 0), -1);
    tg_status st = v && ix ? TG_OK : tg_last_status();
    if (!st) {
        *out_values = tg_keep(v);
        *out_indices = tg_keep(ix);
    }
    tg_scope_end();
    free(parts);
    return st;
}
