/* Movement ops: views only (RESHAPE PERMUTE EXPAND SHRINK PAD FLIP STRIDE),
 * and cat/stack/split/repeat/gather composed from them. */
#include <stdlib.h>
#include <string.h>
#include "tensor_internal.h"

/* A NULL array argument where entries are needed is an error, not a crash. */
static bool have(const char *op, const void *p, bool needed, const char *what) {
    if (p || !needed) return true;
    return tg__fail(TG_ERR_INVALID, "%s: %s is NULL", op, what) != NULL;
}

tg_tensor *tg_reshape(tg_tensor *x, int ndim, const int64_t *shape) {
    char sa[128], sb[128];
    if (!x) return tg__null_arg("reshape");
    if (!have("reshape", shape, ndim > 0, "shape")) return NULL;
    if (ndim < 0 || ndim > TG_MAX_DIMS) return tg__fail(TG_ERR_SHAPE, "reshape: %d dims (at most %d)", ndim, TG_MAX_DIMS);
    int64_t s[TG_MAX_DIMS], known = 1;
    int infer = -1;
    for (int d = 0; d < ndim; d++) {
        s[d] = shape[d] == -1 ? 1 : shape[d];
        if (shape[d] == -1 && infer < 0) infer = d;
        else if (shape[d] < 0)
            return tg__fail(TG_ERR_SHAPE, "reshape: bad size %lld in %s", (long long)shape[d],
                            tg_shape_format(ndim, shape, sb, sizeof sb));
        else if (!tg__shape_ok("reshape", d + 1, s)) return NULL; /* known cannot overflow */
        else known *= shape[d];
    }
    int64_t n = tg__numel(x->ndim, x->shape);
    if (infer >= 0) {
        if (known == 0 || n % known)
            return tg__fail(TG_ERR_SHAPE, "reshape: cannot reshape %s into %s", tg__shape_str(x, sa, sizeof sa),
                            tg_shape_format(ndim, shape, sb, sizeof sb));
        s[infer] = n / known;
    }
    OP_BEGIN;
    OP_END(tg__reshape(x, ndim, s));
}

tg_tensor *tg_permute(tg_tensor *x, const int *perm) {
    if (!x) return tg__null_arg("permute");
    if (!have("permute", perm, x->ndim > 0, "perm")) return NULL;
    int64_t p[TG_MAX_DIMS];
    for (int d = 0; d < x->ndim; d++) p[d] = perm[d] < 0 ? perm[d] + x->ndim : perm[d];
    OP_BEGIN;
    OP_END(tg__permute(x, p));
}

tg_tensor *tg_transpose(tg_tensor *x, int a0, int a1) {
    bool ok = true;
    if (!x) return tg__null_arg("transpose");
    int a = tg__norm_axis(a0, x->ndim, "transpose", &ok), b = tg__norm_axis(a1, x->ndim, "transpose", &ok);
    if (!ok) return NULL;
    int perm[TG_MAX_DIMS];
    for (int d = 0; d < x->ndim; d++) perm[d] = d == a ? b : d == b ? a : d;
    return tg_permute(x, perm);
}

tg_tensor *tg_expand(tg_tensor *x, int ndim, const int64_t *shape) {
    char sa[128], sb[128];
    if (!x) return tg__null_arg("expand");
    if (!have("expand", shape, ndim > 0, "shape")) return NULL;
    if (ndim < x->ndim || ndim > TG_MAX_DIMS)
        return tg__fail(TG_ERR_SHAPE, "expand: cannot expand %s to %s", tg__shape_str(x, sa, sizeof sa),
                        tg_shape_format(ndim, shape, sb, sizeof sb));
    int64_t r[TG_MAX_DIMS], s[TG_MAX_DIMS];
    for (int d = 0; d < ndim; d++) {
        int dx = d - (ndim - x->ndim);
        r[d] = dx >= 0 ? x->shape[dx] : 1;
        s[d] = shape[d] == -1 && dx >= 0 ? r[d] : shape[d];
        if (s[d] < 0)
            return tg__fail(TG_ERR_SHAPE, "expand: cannot expand %s to %s (size %lld)", tg__shape_str(x, sa, sizeof sa),
                            tg_shape_format(ndim, shape, sb, sizeof sb), (long long)shape[d]);
    }
    OP_BEGIN;
    OP_END(tg__expand(tg__reshape(x, ndim, r), s));
}

tg_tensor *tg_unsqueeze(tg_tensor *x, int axis) {
    if (!x) return tg__null_arg("unsqueeze");
    int a = axis < 0 ? axis + x->ndim + 1 : axis;
    if (a < 0 || a > x->ndim || x->ndim >= TG_MAX_DIMS)
        return tg__fail(TG_ERR_SHAPE, "unsqueeze: axis %d out of range for %d dims", axis, x->ndim);
    int64_t s[TG_MAX_DIMS];
    for (int d = 0, j = 0; d <= x->ndim; d++) s[d] = d == a ? 1 : x->shape[j++];
    return tg_reshape(x, x->ndim + 1, s);
}

tg_tensor *tg_squeeze(tg_tensor *x, int axis) {
    char sa[128];
    bool ok = true;
    if (!x) return tg__null_arg("squeeze");
    int a = tg__norm_axis(axis, x->ndim, "squeeze", &ok);
    if (!ok) return NULL;
    if (x->shape[a] != 1)
        return tg__fail(TG_ERR_SHAPE, "squeeze: dim %d of %s is not 1", axis, tg__shape_str(x, sa, sizeof sa));
    int64_t s[TG_MAX_DIMS];
    for (int d = 0, j = 0; d < x->ndim; d++)
        if (d != a) s[j++] = x->shape[d];
    return tg_reshape(x, x->ndim - 1, s);
}

tg_tensor *tg_flatten(tg_tensor *x, int start, int end) {
    bool ok = true;
    if (!x) return tg__null_arg("flatten");
    if (x->ndim == 0) return tg_reshape(x, 1, (int64_t[]){1});
    int a = tg__norm_axis(start, x->ndim, "flatten", &ok), b = tg__norm_axis(end, x->ndim, "flatten", &ok);
    if (!ok) return NULL;
    if (b < a) return tg__fail(TG_ERR_SHAPE, "flatten: end axis %d before start axis %d", end, start);
    int64_t s[TG_MAX_DIMS];
    int n = 0;
    for (int d = 0; d < x->ndim; d++) {
        if (d <= a || d > b) s[n++] = x->shape[d];
        else s[n - 1] *= x->shape[d];
    }
    return tg_reshape(x, n, s);
}

tg_tensor *tg_shrink(tg_tensor *x, const int64_t *lo, const int64_t *hi) {
    if (!x) return tg__null_arg("shrink");
    if (!have("shrink", lo, x->ndim > 0, "lo") || !have("shrink", hi, x->ndim > 0, "hi")) return NULL;
    OP_BEGIN;
    OP_END(tg__shrink(x, lo, hi));
}

tg_tensor *tg_flip(tg_tensor *x, int naxes, const int *axes) {
    if (!x) return tg__null_arg("flip");
    int64_t f[TG_MAX_DIMS] = {0};
    bool ok = true;
    for (int i = 0; axes && i < naxes; i++) f[tg__norm_axis(axes[i], x->ndim, "flip", &ok)] = 1;
    if (naxes == 0 || !axes)
        for (int d = 0; d < x->ndim; d++) f[d] = 1;
    if (!ok) return NULL;
    OP_BEGIN;
    OP_END(tg__flip(x, f));
}

/* Python slice semantics on one axis. */
tg_tensor *tg_slice(tg_tensor *x, int axis, int64_t start, int64_t stop, int64_t step) {
    bool ok = true;
    if (!x) return tg__null_arg("slice");
    int a = tg__norm_axis(axis, x->ndim, "slice", &ok);
    if (!ok) return NULL;
    if (step == 0) return tg__fail(TG_ERR_INVALID, "slice: step is 0");
    int64_t n = x->shape[a];
    /* clip as Python's slice.indices does */
    int64_t lo_lim = step > 0 ? 0 : -1, hi_lim = step > 0 ? n : n - 1;
    if (start < 0) start += n;
    if (stop < 0) stop += n;
    start = start < lo_lim ? lo_lim : start > hi_lim ? hi_lim : start;
    stop = stop < lo_lim ? lo_lim : stop > hi_lim ? hi_lim : stop;
    OP_BEGIN;
    tg_tensor *v = x;
    int64_t flip[TG_MAX_DIMS] = {0};
    if (step < 0) { /* flip, then step forward */
        flip[a] = 1;
        v = tg__flip(v, flip);
        start = n - 1 - start, stop = n - 1 - stop, step = -step;
    }
    int64_t count = stop > start ? (stop - start + step - 1) / step : 0;
    int64_t lo[TG_MAX_DIMS] = {0}, hi[TG_MAX_DIMS];
    for (int d = 0; d < x->ndim; d++) hi[d] = x->shape[d];
    lo[a] = count ? start : 0;
    hi[a] = count ? start + (count - 1) * step + 1 : 0;
    v = tg__shrink(v, lo, hi);
    if (step > 1 && count > 1) {
        int64_t st[TG_MAX_DIMS];
        for (int d = 0; d < x->ndim; d++) st[d] = d == a ? step : 1;
        v = tg__stride(v, st);
    }
    OP_END(v);
}

/* Arguments of a moving slice: start is an integer variable of x's device,
 * length fits axis (normalized into *a). */
static bool moving_ok(const char *op, tg_tensor *x, int axis, tg_tensor *start, int64_t length, int *a) {
    bool ok = true;
    *a = tg__norm_axis(axis, x->ndim, op, &ok);
    if (!ok) return false;
    if (start->op != TG_N_ARG || tg_dtype_is_float(start->dtype) || start->dtype == TG_BOOL || start->dev != x->dev)
        return tg__fail(TG_ERR_INVALID, "%s: start must be an integer tg_variable on the tensor's device", op) != NULL;
    if (length < 0 || length > x->shape[*a])
        return tg__fail(TG_ERR_SHAPE, "%s: length %lld does not fit axis %d of size %lld", op, (long long)length, *a,
                        (long long)x->shape[*a]) != NULL;
    return true;
}

tg_tensor *tg_slice_at(tg_tensor *x, int axis, tg_tensor *start, int64_t length) {
    int a;
    if (!x || !start) return tg__null_arg("slice_at");
    if (!moving_ok("slice_at", x, axis, start, length, &a)) return NULL;
    return tg__slice_at(x, start, a, length, 0, 1);
}

tg_status tg_assign_at(tg_tensor *dst, int axis, tg_tensor *start, tg_tensor *src) {
    char sa[128], sb[128];
    bool ok = true;
    if (!dst || !start || !src) return tg_realize(NULL);
    int a = tg__norm_axis(axis, dst->ndim, "assign_at", &ok);
    for (int d = 0; ok && d < dst->ndim; d++) ok = src->ndim == dst->ndim && (d == a || src->shape[d] == dst->shape[d]);
    if (!ok || src->dtype != dst->dtype || src->dev != dst->dev)
        return tg_error(src->dtype != dst->dtype ? TG_ERR_DTYPE : TG_ERR_SHAPE, "assign_at: source %s %s is no slice of "
                        "destination %s %s along axis %d", tg_dtype_name(src->dtype), tg__shape_str(src, sa, sizeof sa),
                        tg_dtype_name(dst->dtype), tg__shape_str(dst, sb, sizeof sb), axis);
    if (!moving_ok("assign_at", dst, a, start, src->shape[a], &a)) return tg_last_status();
    tg_scalar sv = start->value;
    int64_t v = tg_dtype_is_signed(start->dtype) ? sv.i : sv.u > INT64_MAX ? INT64_MAX : (int64_t)sv.u;
    if (v < 0 || v > dst->shape[a] - src->shape[a])
        return tg_error(TG_ERR_INVALID, "assign_at: start %lld is outside [0, %lld] (%lld of %lld on axis %d)", (long long)v,
                        (long long)(dst->shape[a] - src->shape[a]), (long long)src->shape[a], (long long)dst->shape[a], a);
    tg_scope_begin(); /* owns the temporaries */
    tg_status st = tg_realize(dst);
    if (!st && dst->buf->refs > 1) { /* shared (tg_assign, detach): write a copy of its own */
        tg_tensor *c = tg_contiguous(dst);
        if (!(st = tg_realize(c))) tg__buf_release(dst->buf), dst->buf = tg__buf_retain(c->buf);
    }
    tg_tensor *srcs[3] = {src, start, dst}, *n = NULL;
    if (!st) tg__drop_sources(dst); /* its contents change: it forgets its graph, as with tg_assign */
    if (!st) n = tg__node(dst->dev, TG_N_STORE_AT, dst->dtype, dst->ndim, dst->shape, 3, srcs);
    if (!st && !n) st = tg_last_status();
    if (n) n->arg[0] = a;
    if (n) st = tg_realize(n); /* stores into dst's own buffer (realize.c) */
    tg_scope_end();
    return st;
}

tg_tensor *tg_pad(tg_tensor *x, const int64_t *pads, double value) {
    if (!x) return tg__null_arg("pad");
    if (!have("pad", pads, x->ndim > 0, "pads")) return NULL;
    int64_t lo[TG_MAX_DIMS], hi[TG_MAX_DIMS];
    for (int d = 0; d < x->ndim; d++) lo[d] = pads[2 * d], hi[d] = pads[2 * d + 1];
    OP_BEGIN;
    tg_tensor *p = tg__pad(x, lo, hi);
    if (value != 0 && p) { /* fill: where(pad(true), padded, value) */
        tg_tensor *inside = tg__pad(tg__const_dt(x, TG_BOOL, 1), lo, hi);
        p = tg__where(inside, p, tg__const_like(p, value));
    }
    OP_END(p);
}

tg_tensor *tg_cat(size_t n, tg_tensor *const *xs, int axis) {
    char sa[128], sb[128];
    bool ok = true;
    if (n == 0 || !xs) return tg__fail(TG_ERR_INVALID, "cat: no tensors");
    for (size_t i = 0; i < n; i++)
        if (!xs[i]) return tg__null_arg("cat");
    tg_tensor *x0 = xs[0];
    int a = tg__norm_axis(axis, x0->ndim, "cat", &ok);
    if (!ok) return NULL;
    int64_t total = 0;
    for (size_t i = 0; i < n; i++) {
        bool match = xs[i]->ndim == x0->ndim && xs[i]->dtype == x0->dtype;
        for (int d = 0; match && d < x0->ndim; d++) match = d == a || xs[i]->shape[d] == x0->shape[d];
        if (!match)
            return tg__fail(xs[i]->dtype != x0->dtype ? TG_ERR_DTYPE : TG_ERR_SHAPE,
                            "cat: %s %s and %s %s do not match along axes other than %d", tg_dtype_name(x0->dtype),
                            tg__shape_str(x0, sa, sizeof sa), tg_dtype_name(xs[i]->dtype),
                            tg__shape_str(xs[i], sb, sizeof sb), axis);
        total += xs[i]->shape[a];
    }
    OP_BEGIN;
    /* each piece padded to the full length, selected where it lies (WHERE
     * keeps every bit, -0 included; adding the zeros would not) */
    tg_tensor *acc = NULL;
    int64_t off = 0;
    for (size_t i = 0; i < n; i++) {
        int64_t lo[TG_MAX_DIMS] = {0}, hi[TG_MAX_DIMS] = {0};
        lo[a] = off, hi[a] = total - off - xs[i]->shape[a];
        off += xs[i]->shape[a];
        tg_tensor *p = tg__pad(xs[i], lo, hi);
        acc = acc ? tg__where(tg__pad(tg__const_dt(xs[i], TG_BOOL, 1), lo, hi), p, acc) : p;
    }
    OP_END(acc);
}

tg_tensor *tg_stack(size_t n, tg_tensor *const *xs, int axis) {
    char sa[128], sb[128];
    if (n == 0 || !xs) return tg__fail(TG_ERR_INVALID, "stack: no tensors");
    for (size_t i = 0; i < n; i++) {
        if (!xs[i]) return tg__null_arg("stack");
        bool same = xs[i]->ndim == xs[0]->ndim && xs[i]->dtype == xs[0]->dtype;
        for (int d = 0; same && d < xs[0]->ndim; d++) same = xs[i]->shape[d] == xs[0]->shape[d];
        if (!same)
            return tg__fail(xs[i]->dtype != xs[0]->dtype ? TG_ERR_DTYPE : TG_ERR_SHAPE,
                            "stack: tensor %zu is %s %s, tensor 0 is %s %s (they must match)", i,
                            tg_dtype_name(xs[i]->dtype), tg__shape_str(xs[i], sa, sizeof sa),
                            tg_dtype_name(xs[0]->dtype), tg__shape_str(xs[0], sb, sizeof sb));
    }
    int a = axis < 0 ? axis + xs[0]->ndim + 1 : axis;
    if (a < 0 || a > xs[0]->ndim || xs[0]->ndim >= TG_MAX_DIMS)
        return tg__fail(TG_ERR_SHAPE, "stack: axis %d out of range for %d dims", axis, xs[0]->ndim);
    tg_tensor **u = calloc(n, sizeof *u);
    if (!u) return tg__fail(TG_ERR_NO_MEMORY, "out of host memory");
    OP_BEGIN;
    for (size_t i = 0; i < n; i++) u[i] = tg_unsqueeze(xs[i], axis);
    tg_tensor *r = NULL;
    bool all = true;
    for (size_t i = 0; i < n; i++) all &= u[i] != NULL;
    if (all) r = tg_cat(n, u, a);
    free(u);
    OP_END(r);
}

int tg_split(tg_tensor *x, int axis, int64_t size, tg_tensor **out, int cap) {
    bool ok = true;
    if (!x) return tg__null_arg("split") ? -1 : -1;
    int a = tg__norm_axis(axis, x->ndim, "split", &ok);
    if (!ok) return -1;
    if (!have("split", out, cap > 0, "out")) return -1;
    if (size <= 0) {
        tg__fail(TG_ERR_INVALID, "split: size %lld must be positive", (long long)size);
        return -1;
    }
    int64_t n = x->shape[a];
    int count = (int)((n + size - 1) / size);
    for (int i = 0; i < count && i < cap; i++) {
        out[i] = tg_slice(x, a, i * size, (i + 1) * size < n ? (i + 1) * size : n, 1);
        if (!out[i]) return -1;
    }
    return count;
}

tg_tensor *tg_repeat(tg_tensor *x, const int64_t *reps) {
    if (!x) return tg__null_arg("repeat");
    if (!have("repeat", reps, x->ndim > 0, "reps")) return NULL;
    OP_BEGIN;
    tg_tensor *v = x;
    for (int d = 0; d < x->ndim && v; d++) {
        if (reps[d] < 0) OP_END(tg__fail(TG_ERR_SHAPE, "repeat: negative count on dim %d", d));
        if (reps[d] == 1) continue;
        if (v->ndim >= TG_MAX_DIMS) OP_END(tg__fail(TG_ERR_SHAPE, "repeat: needs fewer than %d dims", TG_MAX_DIMS));
        /* (.., s, ..) -> (.., 1, s, ..) -> (.., r, s, ..) -> (.., r*s, ..) */
        int64_t s1[TG_MAX_DIMS], s2[TG_MAX_DIMS], s3[TG_MAX_DIMS];
        for (int i = 0, j = 0; i <= v->ndim; i++) {
            s1[i] = i == d ? 1 : v->shape[j];
            s2[i] = i == d ? reps[d] : v->shape[j];
            if (i != d) j++;
        }
        for (int i = 0; i < v->ndim; i++) s3[i] = i == d ? reps[d] * v->shape[d] : v->shape[i];
        v = tg__reshape(tg__expand(tg__reshape(v, v->ndim + 1, s1), s2), v->ndim, s3);
    }
    OP_END(v);
}

/* out[p] = x[p with axis replaced by index[p]]: a one-hot match against
 * arange along a new last axis, summed away. */
tg_tensor *tg_gather(tg_tensor *x, int axis, tg_tensor *index) {
    char sa[128], sb[128];
    bool ok = true;
    if (!x || !index) return tg__null_arg("gather");
    int a = tg__norm_axis(axis, x->ndim, "gather", &ok);
    if (!ok) return NULL;
    if (tg_dtype_is_float(index->dtype) || index->dtype == TG_BOOL)
        return tg__fail(TG_ERR_DTYPE, "gather: index must be an integer dtype, not %s", tg_dtype_name(index->dtype));
    bool fits = index->ndim == x->ndim && x->ndim < TG_MAX_DIMS;
    for (int d = 0; fits && d < x->ndim; d++) fits = d == a || index->shape[d] <= x->shape[d];
    if (!fits)
        return tg__fail(TG_ERR_SHAPE, "gather: index %s does not fit input %s on axis %d",
                        tg__shape_str(index, sb, sizeof sb), tg__shape_str(x, sa, sizeof sa), axis);
    if (tg__check_index("gather", index, x->shape[a]) != TG_OK) return NULL;
    OP_BEGIN;
    int nd = x->ndim;
    int64_t n = x->shape[a], lo[TG_MAX_DIMS] = {0}, hi[TG_MAX_DIMS], shape[TG_MAX_DIMS];
    for (int d = 0; d < nd; d++) hi[d] = d == a ? n : index->shape[d];
    tg_tensor *xs = tg__shrink(x, lo, hi);
    /* move axis a last, then put a size-1 axis in its place */
    int64_t perm[TG_MAX_DIMS];
    for (int d = 0, j = 0; d < nd; d++)
        if (d != a) perm[j++] = d;
    perm[nd - 1] = a;
    tg_tensor *moved = tg__permute(xs, perm);
    if (!moved) OP_END(NULL);
    for (int d = 0, j = 0; d < nd; d++) shape[d] = d == a ? 1 : moved->shape[j++];
    shape[nd] = n;
    tg_tensor *X = tg__reshape(moved, nd + 1, shape);
    for (int d = 0; d < nd; d++) shape[d] = index->shape[d];
    X = tg__expand(X, shape);
    tg_tensor *idx = tg_unsqueeze(tg_cast(index, TG_INT32), -1);
    tg_tensor *ar = tg_arange(x->dev, TG_INT32, 0, (double)n, 1);
    tg_tensor *hit = tg_eq(idx, ar);
    tg_tensor *picked = tg_where(hit, X, tg__const_like(X, 0));
    int last = nd; /* one hit per point: bool takes "any", other dtypes the sum */
    OP_END(x->dtype == TG_BOOL ? tg__max(picked, 1, &last, false) : tg_sum(picked, 1, &last, false));
}
