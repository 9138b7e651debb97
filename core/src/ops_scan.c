/* Scans, sorting, randperm and padding modes (issue 17), composed from the
 * primitives: a scan doubles its reach each step (Hillis and Steele: log2 n
 * steps of x[i] = op(x[i - s], x[i]), each a shifted view, so memory stays
 * O(n)); a sort ranks each element by counting the ones before it (O(n^2)
 * work, meant for short axes) and picks values by rank. */
#include <math.h>
#include <stdlib.h>
#include "tensor_internal.h"

/* ---------------------------------------------------------------- scans */

enum { SCAN_SUM, SCAN_PROD, SCAN_MAX, SCAN_MIN, SCAN_LSE };

/* log(exp(a) + exp(b)) = m + softplus(min - m), m = max(a, b); an
 * infinite or NaN m is the result (no inf - inf). */
static tg_tensor *logaddexp(tg_tensor *a, tg_tensor *b) {
    tg_tensor *m = tg_maximum(a, b), *fin = tg_isfinite(m);
    tg_tensor *d = tg_where(fin, tg_sub(tg_minimum(a, b), m), tg__const_like(m, 0));
    return tg_where(fin, tg_add(m, tg_softplus(d)), m);
}

static tg_tensor *scan(const char *name, int kind, tg_tensor *x, int axis) {
    bool ok = true;
    if (!x) return tg__null_arg(name);
    int a = tg__norm_axis(axis, x->ndim, name, &ok);
    if (!ok) return NULL;
    if (kind == SCAN_LSE && !tg_dtype_is_float(x->dtype))
        return tg__fail(TG_ERR_DTYPE, "%s: needs a float dtype, not %s", name, tg_dtype_name(x->dtype));
    OP_BEGIN;
    if (x->dtype == TG_BOOL && (kind == SCAN_SUM || kind == SCAN_PROD)) x = tg_cast(x, TG_INT32); /* as tg_sum */
    int64_t n = x->ndim ? x->shape[a] : 1, lo[TG_MAX_DIMS] = {0}, hi[TG_MAX_DIMS] = {0}, end[TG_MAX_DIMS];
    for (int d = 0; d < x->ndim; d++) end[d] = x->shape[d];
    tg_tensor *v = x;
    for (int64_t s = 1; s < n && v; s *= 2) {
        lo[a] = s; /* shifted[i] = v[i - s]; valid where i >= s */
        tg_tensor *sh = tg__shrink(tg__pad(v, lo, hi), hi, end);
        tg_tensor *valid = tg__shrink(tg__pad(tg__const_dt(v, TG_BOOL, 1), lo, hi), hi, end);
        tg_tensor *r = kind == SCAN_SUM ? tg_add(sh, v) : kind == SCAN_PROD ? tg_mul(sh, v)
                     : kind == SCAN_MAX ? tg_maximum(sh, v) : kind == SCAN_MIN ? tg_minimum(sh, v) : logaddexp(sh, v);
        v = tg_where(valid, r, v);
    }
    OP_END(v ? tg__ref(v) : NULL);
}
tg_tensor *tg_cumsum(tg_tensor *x, int axis) { return scan("cumsum", SCAN_SUM, x, axis); }
tg_tensor *tg_cumprod(tg_tensor *x, int axis) { return scan("cumprod", SCAN_PROD, x, axis); }
tg_tensor *tg_cummax(tg_tensor *x, int axis) { return scan("cummax", SCAN_MAX, x, axis); }
tg_tensor *tg_cummin(tg_tensor *x, int axis) { return scan("cummin", SCAN_MIN, x, axis); }
tg_tensor *tg_logcumsumexp(tg_tensor *x, int axis) { return scan("logcumsumexp", SCAN_LSE, x, axis); }

/* -------------------------------------------------------------- sorting */

/* a before b in ascending order: a < b, a NaN after every number. */
static tg_tensor *before(tg_tensor *a, tg_tensor *b) {
    tg_tensor *lt = tg_lt(a, b);
    if (!tg_dtype_is_float(a->dtype)) return lt;
    return tg_logical_or(lt, tg_logical_and(tg__isnan(b), tg_logical_not(tg__isnan(a))));
}
static tg_tensor *same(tg_tensor *a, tg_tensor *b) {
    return tg_logical_or(tg_eq(a, b), tg_logical_and(tg__isnan(a), tg__isnan(b)));
}
static double lowest(tg_dtype dt) {
    if (tg_dtype_is_float(dt)) return -INFINITY;
    return tg_dtype_is_signed(dt) ? -ldexp(1, (int)tg_dtype_size(dt) * 8 - 1) : 0;
}

/* rank[i] = #{j: x[j] before x[i]} + #{j < i: x[j] same as x[i]} (stable);
 * out[r] = the x[i] of rank r (a max over a one-hot mask keeps every bit). */
tg_status tg_sort(tg_tensor *x, int axis, bool descending, tg_tensor **out_values, tg_tensor **out_indices) {
    bool ok = true;
    if (out_values) *out_values = NULL;
    if (out_indices) *out_indices = NULL;
    if (!x) return tg__null_arg("sort"), tg_last_status() ? tg_last_status() : TG_ERR_INVALID;
    int a = tg__norm_axis(axis, x->ndim, "sort", &ok);
    if (!ok) return tg_last_status();
    tg_scope_begin();
    tg_tensor *v = x->ndim ? tg_transpose(x, a, -1) : tg_reshape(x, TG_SHAPE(1));
    int64_t n = x->ndim ? x->shape[a] : 1;
    tg_tensor *ar = tg_arange(x->dev, TG_INT32, 0, (double)n, 1), *col = tg_reshape(ar, TG_SHAPE(n, 1));
    tg_tensor *xi = tg_unsqueeze(v, -1), *xj = tg_unsqueeze(v, -2); /* [.., i, j] */
    /* x[j] before x[i] or tied with it: not (x[i] before x[j]); a tie with j >= i does not count */
    tg_tensor *not_after = tg_logical_not(descending ? before(xj, xi) : before(xi, xj));
    tg_tensor *tie_after = tg_logical_and(same(xi, xj), tg_le(col, ar));
    tg_tensor *rank = tg_sum(tg_logical_and(not_after, tg_logical_not(tie_after)), TG_AXES(-1), false);
    tg_tensor *hit = tg_eq(tg_unsqueeze(rank, -2), col); /* [.., r, i] */
    tg_tensor *vals = out_values ? tg__max(tg_where(hit, xj, tg_const(x->dev, x->dtype, lowest(x->dtype))), TG_AXES(-1), false) : NULL;
    tg_tensor *idx = tg_sum(tg_where(hit, ar, tg_const(x->dev, TG_INT32, 0)), TG_AXES(-1), false);
    if (x->ndim) {
        vals = vals ? tg_transpose(vals, a, -1) : NULL;
        idx = tg_transpose(idx, a, -1);
    } else {
        vals = vals ? tg_reshape(vals, 0, NULL) : NULL;
        idx = tg_reshape(idx, 0, NULL);
    }
    tg_status st = idx && (vals || !out_values) ? TG_OK : tg_last_status();
    if (!st && out_values) *out_values = tg_keep(vals);
    if (!st && out_indices) *out_indices = tg_keep(idx);
    tg_scope_end();
    return st;
}

tg_tensor *tg_argsort(tg_tensor *x, int axis, bool descending) {
    tg_tensor *idx;
    return tg_sort(x, axis, descending, NULL, &idx) == TG_OK ? idx : NULL;
}

/* Fisher-Yates on the host with a splitmix64 stream of the seed. */
tg_tensor *tg_randperm(tg_dev *dev, int64_t n, uint64_t seed) {
    if (n < 0 || n > INT32_MAX) return tg__fail(TG_ERR_INVALID, "randperm: n = %lld outside [0, 2^31)", (long long)n);
    int32_t *p = malloc((size_t)n * sizeof *p + 1);
    if (!p) return tg__fail(TG_ERR_NO_MEMORY, "out of host memory");
    for (int64_t i = 0; i < n; i++) p[i] = (int32_t)i;
    for (int64_t i = n - 1; i > 0; i--) {
        uint64_t z = (seed += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        int64_t j = (int64_t)((z ^ (z >> 31)) % (uint64_t)(i + 1));
        int32_t t = p[i];
        p[i] = p[j], p[j] = t;
    }
    return tg__from_owned(dev, TG_INT32, 1, &n, p);
}

/* ------------------------------------------------------- padding modes */

/* Per dim: the pieces before and after x (slices of x, flipped for
 * reflect, its edge stretched for replicate), joined by cat. */
tg_tensor *tg_pad_mode(tg_tensor *x, const int64_t *pads, tg_pad_kind mode) {
    static const char *const names[] = {"constant", "reflect", "replicate", "circular"};
    if (!x) return tg__null_arg("pad_mode");
    if ((unsigned)mode > TG_PAD_CIRCULAR) return tg__fail(TG_ERR_INVALID, "pad_mode: unknown mode %d", (int)mode);
    if (!pads && x->ndim) return tg__fail(TG_ERR_INVALID, "pad_mode: pads is NULL");
    if (mode == TG_PAD_CONSTANT) return tg_pad(x, pads, 0);
    for (int d = 0; d < x->ndim; d++) {
        int64_t n = x->shape[d], l = pads[2 * d], h = pads[2 * d + 1];
        int64_t lim = mode == TG_PAD_REFLECT ? n - 1 : mode == TG_PAD_CIRCULAR ? n : (l || h) && n ? INT64_MAX : 0;
        if (l < 0 || h < 0 || l > lim || h > lim)
            return tg__fail(TG_ERR_SHAPE, "pad_mode: %s pads %lld, %lld on dim %d of size %lld (needs 0 <= pad %s)",
                            names[mode], (long long)l, (long long)h, d, (long long)n,
                            mode == TG_PAD_REFLECT ? "< size" : mode == TG_PAD_CIRCULAR ? "<= size" : "and size > 0");
    }
    OP_BEGIN;
    tg_tensor *v = x;
    for (int d = 0; d < x->ndim && v; d++) {
        int64_t n = v->shape[d], shape[TG_MAX_DIMS];
        tg_tensor *parts[3], *piece[2] = {NULL, NULL};
        for (int side = 0; side < 2; side++) {
            int64_t p = pads[2 * d + side];
            if (!p) continue;
            if (mode == TG_PAD_REFLECT)
                piece[side] = tg_flip(side ? tg_slice(v, d, n - 1 - p, n - 1, 1) : tg_slice(v, d, 1, p + 1, 1), TG_AXES(d));
            else if (mode == TG_PAD_CIRCULAR) piece[side] = side ? tg_slice(v, d, 0, p, 1) : tg_slice(v, d, n - p, n, 1);
            else {
                for (int e = 0; e < v->ndim; e++) shape[e] = e == d ? p : v->shape[e];
                piece[side] = tg_expand(side ? tg_slice(v, d, n - 1, n, 1) : tg_slice(v, d, 0, 1, 1), v->ndim, shape);
            }
            if (!piece[side]) OP_END(NULL);
        }
        size_t k = 0;
        if (piece[0]) parts[k++] = piece[0];
        parts[k++] = v;
        if (piece[1]) parts[k++] = piece[1];
        if (k > 1) v = tg_cat(k, parts, d);
    }
    OP_END(v);
}
