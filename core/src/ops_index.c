/* Indexing writes (scatter, scatter_reduce, index_add, setitem,
 * masked_fill) and einsum. Writes are composed as tg_gather is: a one-hot
 * match of the index against arange along a new last axis, reduced over
 * the written axis; no new primitives, so gradients come free. */
#include <ctype.h>
#include <math.h>
#include <string.h>
#include "tensor_internal.h"

static bool int_dtype(tg_dtype dt) { return !tg_dtype_is_float(dt) && dt != TG_BOOL; }

/* torch's rules for scatter's operands; normalises *axis, checks the index. */
static bool scatter_ok(const char *op, tg_tensor *x, int *axis, tg_tensor *index, tg_tensor *src) {
    char sa[128], sb[128], sc[128];
    bool ok = true;
    if (!x || !index || !src) return tg__null_arg(op) != NULL;
    int a = tg__norm_axis(*axis, x->ndim, op, &ok);
    if (!ok) return false;
    if (!int_dtype(index->dtype))
        return tg__fail(TG_ERR_DTYPE, "%s: index must be an integer dtype, not %s", op, tg_dtype_name(index->dtype));
    if (src->dtype != x->dtype || x->dtype == TG_BOOL)
        return tg__fail(TG_ERR_DTYPE, "%s: input %s and src %s (need one dtype, not bool)", op, tg_dtype_name(x->dtype),
                        tg_dtype_name(src->dtype));
    bool fits = x->ndim >= 1 && index->ndim == x->ndim && src->ndim == x->ndim && x->ndim < TG_MAX_DIMS;
    for (int d = 0; fits && d < x->ndim; d++)
        fits = index->shape[d] <= src->shape[d] && (d == a || index->shape[d] <= x->shape[d]);
    if (!fits)
        return tg__fail(TG_ERR_SHAPE, "%s: index %s does not fit src %s and input %s on axis %d", op,
                        tg__shape_str(index, sa, sizeof sa), tg__shape_str(src, sb, sizeof sb),
                        tg__shape_str(x, sc, sizeof sc), *axis);
    *axis = a;
    return tg__check_index(op, index, x->shape[a]) == TG_OK;
}

/* r: index.shape with axis a reduced to 1, plus a last axis of x's size on
 * a -> x's shape: the last axis moves to a, the rest is padded with 0. */
static tg_tensor *place(tg_tensor *r, int a, const tg_tensor *x) {
    int nd = x->ndim;
    int64_t perm[TG_MAX_DIMS], lo[TG_MAX_DIMS] = {0}, hi[TG_MAX_DIMS];
    for (int q = 0; q <= nd; q++) perm[q] = q == a ? nd : q == nd ? a : q;
    r = tg__permute(r, perm);
    if (!r || !(r = tg__reshape(r, nd, r->shape))) return NULL;
    for (int d = 0; d < nd; d++) hi[d] = x->shape[d] - r->shape[d];
    return tg__pad(r, lo, hi);
}

/* The checked scatter of src (read where index is) into x along axis a. */
static tg_tensor *scatter(tg_tensor *x, int a, tg_tensor *index, tg_tensor *src, tg_scatter_op op, bool self, bool last) {
    int nd = x->ndim;
    int64_t n = x->shape[a], lo[TG_MAX_DIMS] = {0}, ps[TG_MAX_DIMS + 1];
    if (tg__numel(index->ndim, index->shape) == 0) return tg__ref(x);
    tg_tensor *s = tg_unsqueeze(tg__shrink(src, lo, index->shape), -1); /* I + (1) */
    tg_tensor *hit = tg_eq(tg_unsqueeze(tg_cast(index, TG_INT32), -1), tg_arange(x->dev, TG_INT32, 0, (double)n, 1));
    if (last && hit) { /* of duplicates, the last along a writes */
        for (int q = 0; q <= nd; q++) ps[q] = q == a ? index->shape[a] : 1;
        tg_tensor *pos = tg_reshape(tg_arange(x->dev, TG_INT32, 0, (double)index->shape[a], 1), nd + 1, ps);
        tg_tensor *top = tg_max(tg_where(hit, pos, tg__const_dt(hit, TG_INT32, -1)), 1, &a, true);
        hit = tg_logical_and(hit, tg_eq(pos, top));
    }
    /* each target's hits reduced over a, the others holding the identity
     * (for an integer amax/amin: src's own extreme) */
    bool fl = tg_dtype_is_float(x->dtype);
    tg_tensor *fill, *r, *v;
    switch (op) {
    case TG_SCATTER_PROD: fill = tg__const_like(s, 1); break;
    case TG_SCATTER_AMAX: fill = fl ? tg__const_like(s, -INFINITY) : tg_detach(tg_min(s, TG_ALL_AXES, false)); break;
    case TG_SCATTER_AMIN: fill = fl ? tg__const_like(s, INFINITY) : tg_detach(tg_max(s, TG_ALL_AXES, false)); break;
    default: fill = tg__const_like(s, 0); break;
    }
    tg_tensor *c = tg_where(hit, s, fill); /* I + (n) */
    tg_tensor *cnt = place(tg_sum(tg_cast(hit, x->dtype), 1, &a, true), a, x); /* writes per target */
    switch (op) {
    case TG_SCATTER_PROD: r = place(tg_prod(c, 1, &a, true), a, x), v = self ? tg_mul(x, r) : r; break;
    case TG_SCATTER_AMAX: r = place(tg_max(c, 1, &a, true), a, x), v = self ? tg_maximum(x, r) : r; break;
    case TG_SCATTER_AMIN: r = place(tg_min(c, 1, &a, true), a, x), v = self ? tg_minimum(x, r) : r; break;
    case TG_SCATTER_MEAN: /* no target divides by 0: the gradient of the unused branch stays finite */
        r = place(tg_sum(c, 1, &a, true), a, x);
        v = self ? tg_div(tg_add(x, r), tg_adds(cnt, 1)) : tg_div(r, tg_maximums(cnt, 1));
        break;
    default: r = place(tg_sum(c, 1, &a, true), a, x), v = self ? tg_add(x, r) : r; break;
    }
    return cnt ? tg_where(tg_eq(cnt, tg__const_like(cnt, 0)), x, v) : NULL;
}

tg_tensor *tg_scatter(tg_tensor *x, int axis, tg_tensor *index, tg_tensor *src) {
    if (!scatter_ok("scatter", x, &axis, index, src)) return NULL;
    OP_BEGIN;
    OP_END(scatter(x, axis, index, src, TG_SCATTER_SUM, false, true));
}

tg_tensor *tg_scatter_reduce(tg_tensor *x, int axis, tg_tensor *index, tg_tensor *src, tg_scatter_op reduce,
                             bool include_self) {
    if ((unsigned)reduce > TG_SCATTER_AMIN) return tg__fail(TG_ERR_INVALID, "scatter_reduce: unknown reduction %d", (int)reduce);
    if (x && (reduce == TG_SCATTER_PROD || reduce == TG_SCATTER_MEAN) && !tg_dtype_is_float(x->dtype))
        return tg__fail(TG_ERR_DTYPE, "scatter_reduce: prod and mean need a float dtype, not %s", tg_dtype_name(x->dtype));
    if (!scatter_ok("scatter_reduce", x, &axis, index, src)) return NULL;
    OP_BEGIN;
    OP_END(scatter(x, axis, index, src, reduce, include_self, false));
}

tg_tensor *tg_index_add(tg_tensor *x, int axis, tg_tensor *index, tg_tensor *src, double alpha) {
    char sa[128], sb[128], sc[128];
    bool ok = true;
    if (!x || !index || !src) return tg__null_arg("index_add");
    int a = tg__norm_axis(axis, x->ndim, "index_add", &ok);
    if (!ok) return NULL;
    if (!int_dtype(index->dtype) || src->dtype != x->dtype || x->dtype == TG_BOOL)
        return tg__fail(TG_ERR_DTYPE, "index_add: index %s (needs an integer dtype), input %s and src %s (need one "
                        "dtype, not bool)", tg_dtype_name(index->dtype), tg_dtype_name(x->dtype), tg_dtype_name(src->dtype));
    bool fits = index->ndim == 1 && src->ndim == x->ndim && x->ndim < TG_MAX_DIMS;
    for (int d = 0; fits && d < x->ndim; d++) fits = src->shape[d] == (d == a ? index->shape[0] : x->shape[d]);
    if (!fits)
        return tg__fail(TG_ERR_SHAPE, "index_add: src %s does not match input %s with index %s on axis %d",
                        tg__shape_str(src, sa, sizeof sa), tg__shape_str(x, sb, sizeof sb),
                        tg__shape_str(index, sc, sizeof sc), axis);
    if (tg__check_index("index_add", index, x->shape[a]) != TG_OK) return NULL;
    int64_t shape[TG_MAX_DIMS];
    for (int d = 0; d < x->ndim; d++) shape[d] = d == a ? index->shape[0] : 1;
    OP_BEGIN;
    tg_tensor *idx = tg_expand(tg_reshape(index, x->ndim, shape), src->ndim, src->shape);
    OP_END(idx ? scatter(x, a, idx, alpha == 1 ? src : tg_muls(src, alpha), TG_SCATTER_SUM, true, false) : NULL);
}

/* v's axis a (c entries) spread to n places: entry j at low + j*st, 0
 * (false) elsewhere. */
static tg_tensor *spread(tg_tensor *v, int a, int64_t low, int64_t st, int64_t n) {
    int nd = v->ndim;
    int64_t c = v->shape[a], s1[TG_MAX_DIMS], lo[TG_MAX_DIMS] = {0}, hi[TG_MAX_DIMS] = {0};
    if (st > 1) { /* (c) -> (c, 1) -> (c, st) -> (c*st) -> the first (c-1)*st+1 */
        for (int q = 0, j = 0; q <= nd; q++) s1[q] = q == a + 1 ? 1 : v->shape[j++];
        hi[a + 1] = st - 1;
        v = tg__pad(tg__reshape(v, nd + 1, s1), lo, hi);
        for (int q = 0; q < nd; q++) s1[q] = q == a ? c * st : v ? v->shape[q < a ? q : q + 1] : 0;
        v = tg__reshape(v, nd, s1);
        for (int q = 0; q < nd; q++) s1[q] = q == a ? (c - 1) * st + 1 : s1[q];
        v = tg__shrink(v, lo, s1);
        hi[a + 1] = 0;
    }
    lo[a] = low, hi[a] = n - low - ((c - 1) * st + 1);
    return tg__pad(v, lo, hi);
}

tg_tensor *tg_setitem(tg_tensor *x, int naxes, const int64_t *starts, const int64_t *stops, const int64_t *steps,
                      tg_tensor *value) {
    char sa[128], sb[128];
    if (!x || !value) return tg__null_arg("setitem");
    int nd = x->ndim;
    if (naxes < 0 || naxes > nd || nd >= TG_MAX_DIMS || (naxes > 0 && (!starts || !stops)))
        return tg__fail(TG_ERR_INVALID, "setitem: %d sliced axes for %d dims (starts and stops need that many entries)", naxes, nd);
    if (value->dtype != x->dtype)
        return tg__fail(TG_ERR_DTYPE, "setitem: value %s and input %s differ", tg_dtype_name(value->dtype), tg_dtype_name(x->dtype));
    int64_t region[TG_MAX_DIMS], low[TG_MAX_DIMS], step[TG_MAX_DIMS];
    int flip[TG_MAX_DIMS], nflip = 0;
    bool empty = false;
    for (int d = 0; d < nd; d++) {
        int64_t n = x->shape[d], st = d < naxes && steps ? steps[d] : 1, b = d < naxes ? starts[d] : 0;
        int64_t e = d < naxes ? stops[d] : n, lim0 = st > 0 ? 0 : -1, lim1 = st > 0 ? n : n - 1;
        if (st == 0) return tg__fail(TG_ERR_INVALID, "setitem: step 0 on axis %d", d);
        b = b < 0 ? (b < -n ? lim0 : b + n) : b; /* Python's slice.indices */
        e = e < 0 ? (e < -n ? lim0 : e + n) : e;
        b = b < lim0 ? lim0 : b > lim1 ? lim1 : b;
        e = e < lim0 ? lim0 : e > lim1 ? lim1 : e;
        int64_t c = st > 0 ? (e > b ? (e - b + st - 1) / st : 0) : (b > e ? (b - e - st - 1) / -st : 0);
        region[d] = c, step[d] = st > 0 ? st : -st, low[d] = st > 0 ? b : b + (c - 1) * st, empty |= c == 0;
        if (st < 0) flip[nflip++] = d;
    }
    bool fits = value->ndim <= nd;
    for (int d = 0; fits && d < value->ndim; d++) {
        int64_t v = value->shape[value->ndim - 1 - d];
        fits = v == 1 || v == region[nd - 1 - d];
    }
    if (!fits)
        return tg__fail(TG_ERR_SHAPE, "setitem: value %s does not broadcast to the region %s", tg__shape_str(value, sa, sizeof sa),
                        tg_shape_format(nd, region, sb, sizeof sb));
    OP_BEGIN;
    if (empty) OP_END(tg__ref(x));
    tg_tensor *v = tg_expand(value, nd, region);
    if (nflip) v = tg_flip(v, nflip, flip); /* ascending index order */
    tg_tensor *m = v ? tg__const_dt(v, TG_BOOL, 1) : NULL;
    for (int d = 0; d < naxes && m; d++) v = spread(v, d, low[d], step[d], x->shape[d]), m = spread(m, d, low[d], step[d], x->shape[d]);
    OP_END(tg_where(m, v, x));
}

tg_tensor *tg_masked_fill(tg_tensor *x, tg_tensor *mask, double value) {
    char sa[128], sb[128];
    if (!x || !mask) return tg__null_arg("masked_fill");
    if (mask->dtype != TG_BOOL) return tg__fail(TG_ERR_DTYPE, "masked_fill: mask must be bool, not %s", tg_dtype_name(mask->dtype));
    bool fits = mask->ndim <= x->ndim;
    for (int d = 1; fits && d <= mask->ndim; d++)
        fits = mask->shape[mask->ndim - d] == 1 || mask->shape[mask->ndim - d] == x->shape[x->ndim - d];
    if (!fits)
        return tg__fail(TG_ERR_SHAPE, "masked_fill: mask %s does not broadcast to input %s", tg__shape_str(mask, sa, sizeof sa),
                        tg__shape_str(x, sb, sizeof sb));
    OP_BEGIN;
    OP_END(tg_where(mask, tg__const_like(x, value), x));
}

/* ---------------------------------------------------------------- einsum */

#define EINSUM_MAX_OPS 16

/* Reads one term's labels (letters; spaces skipped) into lab; returns
 * their count, or -1 past TG_MAX_DIMS. */
static int read_term(const char **p, char *lab) {
    int n = 0;
    for (; isalpha((unsigned char)**p) || **p == ' '; (*p)++) {
        if (**p == ' ') continue;
        if (n == TG_MAX_DIMS) return -1;
        lab[n++] = **p;
    }
    return n;
}

/* x's diagonal over its dims i < j (equal sizes m): both become one, last. */
static tg_tensor *diagonal(tg_tensor *x, int i, int j) {
    int64_t perm[TG_MAX_DIMS], shape[TG_MAX_DIMS], step[TG_MAX_DIMS];
    int nd = x->ndim, k = 0;
    for (int q = 0; q < nd; q++)
        if (q != i && q != j) step[k] = 1, shape[k] = x->shape[q], perm[k++] = q;
    int64_t m = x->shape[i];
    perm[k] = i, perm[k + 1] = j, shape[k] = m * m, step[k] = m + 1;
    return tg__stride(tg__reshape(tg__permute(x, perm), nd - 1, shape), step);
}

tg_tensor *tg_einsum(const char *spec, int n, tg_tensor *const *ops) {
    char lab[EINSUM_MAX_OPS][TG_MAX_DIMS], out[TG_MAX_DIMS], all[TG_MAX_DIMS];
    int nlab[EINSUM_MAX_OPS], nout = 0, nall = 0, seen[128] = {0};
    int64_t size[128];
    const char *p = spec;
    if (!spec || !ops || n < 1 || n > EINSUM_MAX_OPS)
        return tg__fail(TG_ERR_INVALID, "einsum: needs a spec and 1 to %d operands (got %d)", EINSUM_MAX_OPS, n);
    for (int t = 0; t < n; t++)
        if (!ops[t]) return tg__null_arg("einsum");
    for (int t = 0; t < n; t++) {
        nlab[t] = read_term(&p, lab[t]);
        if (nlab[t] < 0 || (t < n - 1 && *p++ != ','))
            return tg__fail(TG_ERR_INVALID, "einsum: spec \"%s\" does not name %d terms of at most %d letters", spec, n, TG_MAX_DIMS);
        if (nlab[t] != ops[t]->ndim || ops[t]->dtype != ops[0]->dtype)
            return tg__fail(nlab[t] != ops[t]->ndim ? TG_ERR_SHAPE : TG_ERR_DTYPE, "einsum: operand %d (%s, %d dims) "
                            "does not match term %d of \"%s\" (%d labels) or operand 0's dtype", t,
                            tg_dtype_name(ops[t]->dtype), ops[t]->ndim, t, spec, nlab[t]);
        for (int d = 0; d < nlab[t]; d++) {
            int c = lab[t][d];
            int64_t sz = ops[t]->shape[d];
            if (seen[c] && size[c] != sz && size[c] != 1 && sz != 1)
                return tg__fail(TG_ERR_SHAPE, "einsum: label '%c' has sizes %lld and %lld in \"%s\"", c, (long long)size[c],
                                (long long)sz, spec);
            if (!seen[c] || size[c] == 1) size[c] = sz;
            seen[c]++;
        }
    }
    bool arrow = p[0] == '-' && p[1] == '>';
    if (arrow) {
        p += 2;
        nout = read_term(&p, out);
    } else {
        for (int c = 'A'; c <= 'z' && nout < TG_MAX_DIMS; c++)
            if (seen[c] == 1) out[nout++] = (char)c;
    }
    for (int i = 0; nout >= 0 && i < nout; i++)
        if (!seen[(int)out[i]] || memchr(out, out[i], (size_t)i)) nout = -1;
    if (*p || nout < 0)
        return tg__fail(TG_ERR_INVALID, "einsum: bad spec \"%s\" (output labels must be letters, used in an input, once)", spec);
    /* every label: the output's first, then the summed ones */
    memcpy(all, out, (size_t)nout), nall = nout;
    for (int t = 0; t < n; t++)
        for (int d = 0; d < nlab[t]; d++)
            if (!memchr(all, lab[t][d], (size_t)nall)) {
                if (nall == TG_MAX_DIMS) return tg__fail(TG_ERR_SHAPE, "einsum: \"%s\" has more than %d labels", spec, TG_MAX_DIMS);
                all[nall++] = lab[t][d];
            }
    OP_BEGIN;
    tg_tensor *acc = NULL;
    int sum_axes[TG_MAX_DIMS];
    for (int i = nout; i < nall; i++) sum_axes[i - nout] = i;
    for (int t = 0; t < n; t++) {
        tg_tensor *x = ops[t];
        char *l = lab[t];
        int nl = nlab[t], perm[TG_MAX_DIMS], k = 0;
        for (int i = 0; x && i < nl; i++) /* a repeated label: the diagonal */
            for (int j = i + 1; x && j < nl; j++)
                if (l[i] == l[j]) {
                    if (x->shape[i] != x->shape[j]) OP_END(tg__fail(TG_ERR_SHAPE, "einsum: label '%c' repeats with sizes %lld and %lld in term %d",
                                                                    l[i], (long long)x->shape[i], (long long)x->shape[j], t));
                    x = diagonal(x, i, j);
                    char c = l[i];
                    memmove(l + i, l + i + 1, (size_t)(j - i - 1)), memmove(l + j - 1, l + j + 1, (size_t)(nl - j - 1));
                    l[nl - 2] = c, nl--, i = -1;
                    break;
                }
        int64_t shape[TG_MAX_DIMS];
        for (int i = 0; i < nall; i++) {
            const char *f = memchr(l, all[i], (size_t)nl);
            if (f) perm[k++] = (int)(f - l);
            shape[i] = f && x ? x->shape[f - l] : 1;
        }
        x = tg_reshape(tg_permute(x, perm), nall, shape);
        bool final = t == n - 1 && nall > nout && acc;
        acc = final ? tg__sum_products(acc, x, nall - nout, sum_axes) : acc ? tg_mul(acc, x) : x;
    }
    if (n == 1 && nall > nout) acc = tg_sum(acc, nall - nout, sum_axes, false);
    OP_END(acc);
}
