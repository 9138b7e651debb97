/* The lazy graph's primitive nodes: one constructor per primitive op, each
 * checking shapes and dtypes. Every higher-level op is built from these. */
#include <string.h>
#include "tensor_internal.h"

#define BIT(d) (1u << (d))
#define INTS (BIT(TG_INT8) | BIT(TG_UINT8) | BIT(TG_INT16) | BIT(TG_UINT16) | BIT(TG_INT32) | BIT(TG_UINT32) | \
              BIT(TG_INT64) | BIT(TG_UINT64))
#define FLOATS (BIT(TG_FLOAT16) | BIT(TG_BFLOAT16) | BIT(TG_FLOAT32) | BIT(TG_FLOAT64))
#define ALL (BIT(TG_BOOL) | INTS | FLOATS)

bool tg__dtype_has_op(tg_dtype dt, int op) {
    uint32_t m;
    switch (op) {
    case TG_OP_EXP2: case TG_OP_LOG2: case TG_OP_SQRT: case TG_OP_RECIP: case TG_OP_SIN: m = FLOATS; break;
    case TG_OP_NEG: case TG_OP_ADD: case TG_OP_SUB: case TG_OP_DIV: case TG_OP_MOD:
    case TG_OP_MULACC: case TG_OP_REDUCE_SUM: m = INTS | FLOATS; break;
    default: m = ALL; break;
    }
    return (m & BIT(dt)) != 0;
}

static bool same_shape(const tg_tensor *a, const tg_tensor *b) {
    if (a->ndim != b->ndim) return false;
    for (int d = 0; d < a->ndim; d++)
        if (a->shape[d] != b->shape[d]) return false;
    return true;
}

static bool check_dev(const char *op, const tg_tensor *a, const tg_tensor *b) {
    if (a->dev == b->dev) return true;
    tg__fail(TG_ERR_INVALID, "%s: operands on different devices ('%s' and '%s'); use tg_to_device", op,
             a->dev->name, b->dev->name);
    return false;
}

static const char *opname(int op) { return tg_op_name((tg_op)op); }

tg_tensor *tg__unary(int op, tg_tensor *x) {
    if (!x) return tg__null_arg(opname(op));
    if (!tg__dtype_has_op(x->dtype, op))
        return tg__fail(TG_ERR_DTYPE, "%s is not defined on %s", opname(op), tg_dtype_name(x->dtype));
    return tg__node(x->dev, op, x->dtype, x->ndim, x->shape, 1, &x);
}

tg_tensor *tg__binary(int op, tg_tensor *a, tg_tensor *b) {
    char sa[128], sb[128];
    if (!a || !b) return tg__null_arg(opname(op));
    if (!check_dev(opname(op), a, b)) return NULL;
    if (a->dtype != b->dtype)
        return tg__fail(TG_ERR_DTYPE, "%s: dtypes %s %s and %s %s differ", opname(op), tg_dtype_name(a->dtype),
                        tg__shape_str(a, sa, sizeof sa), tg_dtype_name(b->dtype), tg__shape_str(b, sb, sizeof sb));
    if (!same_shape(a, b))
        return tg__fail(TG_ERR_SHAPE, "%s: shapes %s and %s differ", opname(op), tg__shape_str(a, sa, sizeof sa),
                        tg__shape_str(b, sb, sizeof sb));
    if (!tg__dtype_has_op(a->dtype, op))
        return tg__fail(TG_ERR_DTYPE, "%s is not defined on %s", opname(op), tg_dtype_name(a->dtype));
    tg_tensor *src[2] = {a, b};
    return tg__node(a->dev, op, op == TG_OP_CMPLT ? TG_BOOL : a->dtype, a->ndim, a->shape, 2, src);
}

tg_tensor *tg__where(tg_tensor *c, tg_tensor *a, tg_tensor *b) {
    char s1[128], s2[128], s3[128];
    if (!c || !a || !b) return tg__null_arg("WHERE");
    if (!check_dev("where", c, a) || !check_dev("where", a, b)) return NULL;
    if (c->dtype != TG_BOOL) return tg__fail(TG_ERR_DTYPE, "where: condition is %s, not bool", tg_dtype_name(c->dtype));
    if (a->dtype != b->dtype)
        return tg__fail(TG_ERR_DTYPE, "where: dtypes %s and %s differ", tg_dtype_name(a->dtype), tg_dtype_name(b->dtype));
    if (!same_shape(a, b) || !same_shape(a, c))
        return tg__fail(TG_ERR_SHAPE, "where: shapes %s, %s and %s differ", tg__shape_str(c, s1, sizeof s1),
                        tg__shape_str(a, s2, sizeof s2), tg__shape_str(b, s3, sizeof s3));
    tg_tensor *src[3] = {c, a, b};
    return tg__node(a->dev, TG_OP_WHERE, a->dtype, a->ndim, a->shape, 3, src);
}

tg_tensor *tg__cast(tg_tensor *x, tg_dtype dtype) {
    if (!x) return tg__null_arg("cast");
    if ((unsigned)dtype >= TG_DTYPE_COUNT) return tg__fail(TG_ERR_DTYPE, "cast: bad dtype %d", dtype);
    if (x->dtype == dtype) return tg__ref(x); /* the same tensor, a new reference */
    return tg__node(x->dev, TG_OP_CAST, dtype, x->ndim, x->shape, 1, &x);
}

tg_tensor *tg__reduce(int op, tg_tensor *x, uint32_t axes) {
    if (!x) return tg__null_arg(opname(op));
    if (!tg__dtype_has_op(x->dtype, op))
        return tg__fail(TG_ERR_DTYPE, "%s is not defined on %s", opname(op), tg_dtype_name(x->dtype));
    int64_t shape[TG_MAX_DIMS];
    axes &= (1u << x->ndim) - 1;
    for (int d = 0; d < x->ndim; d++) shape[d] = axes & (1u << d) ? 1 : x->shape[d];
    if (axes == 0) return tg__ref(x);
    tg_tensor *t = tg__node(x->dev, op, x->dtype, x->ndim, shape, 1, &x);
    if (t) t->arg[0] = axes;
    return t;
}

/* A movement node with its argument block. */
static tg_tensor *movement(int op, tg_tensor *x, int ndim, const int64_t *shape, const int64_t *arg, int narg) {
    tg_tensor *t = tg__node(x->dev, op, x->dtype, ndim, shape, 1, &x);
    if (t && arg) memcpy(t->arg, arg, (size_t)narg * sizeof *arg);
    return t;
}

tg_tensor *tg__reshape(tg_tensor *x, int ndim, const int64_t *shape) {
    char sa[128], sb[128];
    if (!x) return tg__null_arg("reshape");
    if (ndim < 0 || ndim > TG_MAX_DIMS) return tg__fail(TG_ERR_SHAPE, "reshape: %d dims (at most %d)", ndim, TG_MAX_DIMS);
    if (tg__numel(ndim, shape) != tg__numel(x->ndim, x->shape))
        return tg__fail(TG_ERR_SHAPE, "reshape: cannot reshape %s into %s", tg__shape_str(x, sa, sizeof sa),
                        tg_shape_format(ndim, shape, sb, sizeof sb));
    if (ndim == x->ndim && memcmp(shape, x->shape, (size_t)ndim * sizeof *shape) == 0) return tg__ref(x);
    return movement(TG_OP_RESHAPE, x, ndim, shape, NULL, 0);
}

tg_tensor *tg__permute(tg_tensor *x, const int64_t *perm) {
    if (!x) return tg__null_arg("permute");
    int64_t shape[TG_MAX_DIMS];
    unsigned seen = 0;
    bool ident = true;
    for (int d = 0; d < x->ndim; d++) {
        if (perm[d] < 0 || perm[d] >= x->ndim || (seen & (1u << perm[d])))
            return tg__fail(TG_ERR_SHAPE, "permute: not a permutation of %d axes", x->ndim);
        seen |= 1u << perm[d];
        shape[d] = x->shape[perm[d]];
        ident &= perm[d] == d;
    }
    if (ident) return tg__ref(x);
    return movement(TG_OP_PERMUTE, x, x->ndim, shape, perm, x->ndim);
}

tg_tensor *tg__expand(tg_tensor *x, const int64_t *shape) {
    char sa[128], sb[128];
    if (!x) return tg__null_arg("expand");
    bool ident = true;
    for (int d = 0; d < x->ndim; d++) {
        if (x->shape[d] != shape[d] && x->shape[d] != 1)
            return tg__fail(TG_ERR_SHAPE, "expand: cannot expand %s to %s", tg__shape_str(x, sa, sizeof sa),
                            tg_shape_format(x->ndim, shape, sb, sizeof sb));
        ident &= x->shape[d] == shape[d];
    }
    if (ident) return tg__ref(x);
    return movement(TG_OP_EXPAND, x, x->ndim, shape, NULL, 0);
}

tg_tensor *tg__shrink(tg_tensor *x, const int64_t *lo, const int64_t *hi) {
    char sa[128];
    if (!x) return tg__null_arg("shrink");
    int64_t shape[TG_MAX_DIMS], arg[2 * TG_MAX_DIMS] = {0};
    bool ident = true;
    for (int d = 0; d < x->ndim; d++) {
        if (lo[d] < 0 || hi[d] < lo[d] || hi[d] > x->shape[d])
            return tg__fail(TG_ERR_SHAPE, "shrink: range [%lld, %lld) outside dim %d of %s", (long long)lo[d],
                            (long long)hi[d], d, tg__shape_str(x, sa, sizeof sa));
        shape[d] = hi[d] - lo[d];
        arg[d] = lo[d], arg[TG_MAX_DIMS + d] = hi[d];
        ident &= lo[d] == 0 && hi[d] == x->shape[d];
    }
    if (ident) return tg__ref(x);
    return movement(TG_OP_SHRINK, x, x->ndim, shape, arg, 2 * TG_MAX_DIMS);
}

tg_tensor *tg__pad(tg_tensor *x, const int64_t *lo, const int64_t *hi) {
    if (!x) return tg__null_arg("pad");
    int64_t shape[TG_MAX_DIMS], arg[2 * TG_MAX_DIMS] = {0};
    bool ident = true;
    for (int d = 0; d < x->ndim; d++) {
        if (lo[d] < 0 || hi[d] < 0) return tg__fail(TG_ERR_SHAPE, "pad: negative padding on dim %d", d);
        shape[d] = x->shape[d] + lo[d] + hi[d];
        arg[d] = lo[d], arg[TG_MAX_DIMS + d] = hi[d];
        ident &= lo[d] == 0 && hi[d] == 0;
    }
    if (ident) return tg__ref(x);
    return movement(TG_OP_PAD, x, x->ndim, shape, arg, 2 * TG_MAX_DIMS);
}

tg_tensor *tg__flip(tg_tensor *x, const int64_t *flip) {
    if (!x) return tg__null_arg("flip");
    bool any = false;
    for (int d = 0; d < x->ndim; d++) any |= flip[d] != 0 && x->shape[d] > 1;
    if (!any) return tg__ref(x);
    return movement(TG_OP_FLIP, x, x->ndim, x->shape, flip, x->ndim);
}

tg_tensor *tg__stride(tg_tensor *x, const int64_t *step) {
    if (!x) return tg__null_arg("stride");
    int64_t shape[TG_MAX_DIMS];
    bool ident = true;
    for (int d = 0; d < x->ndim; d++) {
        if (step[d] < 1) return tg__fail(TG_ERR_SHAPE, "stride: step %lld on dim %d", (long long)step[d], d);
        shape[d] = (x->shape[d] + step[d] - 1) / step[d];
        ident &= step[d] == 1;
    }
    if (ident) return tg__ref(x);
    return movement(TG_OP_STRIDE, x, x->ndim, shape, step, x->ndim);
}

tg_tensor *tg__slice_at(tg_tensor *x, tg_tensor *start, int axis, int64_t length, int64_t base, int64_t sign) {
    int64_t shape[TG_MAX_DIMS];
    memcpy(shape, x->shape, sizeof shape);
    shape[axis] = length;
    tg_tensor *src[2] = {x, start};
    tg_tensor *t = tg__node(x->dev, TG_N_SLICE_AT, x->dtype, x->ndim, shape, 2, src);
    if (t) t->arg[0] = axis, t->arg[1] = length, t->arg[2] = base, t->arg[3] = sign;
    return t;
}

tg_tensor *tg__const_dt(tg_tensor *x, tg_dtype dt, double v) {
    if (!x) return tg__null_arg("const");
    int64_t ones[TG_MAX_DIMS];
    for (int d = 0; d < x->ndim; d++) ones[d] = 1;
    tg_scope_begin();
    tg_tensor *c = tg_const(x->dev, dt, v);
    tg_tensor *r = tg_keep(tg__expand(tg__reshape(c, x->ndim, ones), x->shape));
    tg_scope_end();
    return r;
}

tg_tensor *tg__const_like(tg_tensor *x, double v) { return x ? tg__const_dt(x, x->dtype, v) : tg__null_arg("const"); }

/* numpy broadcasting: align trailing dims, size-1 dims stretch. */
tg_status tg__broadcast(const char *op, tg_tensor *a, tg_tensor *b, tg_tensor **oa, tg_tensor **ob) {
    char sa[128], sb[128];
    int n = a->ndim > b->ndim ? a->ndim : b->ndim;
    int64_t shape[TG_MAX_DIMS], ra[TG_MAX_DIMS], rb[TG_MAX_DIMS];
    for (int d = 0; d < n; d++) {
        int da = d - (n - a->ndim), db = d - (n - b->ndim);
        ra[d] = da >= 0 ? a->shape[da] : 1;
        rb[d] = db >= 0 ? b->shape[db] : 1;
        if (ra[d] != rb[d] && ra[d] != 1 && rb[d] != 1)
            return tg_error(TG_ERR_SHAPE, "%s: shapes %s and %s do not broadcast", op, tg__shape_str(a, sa, sizeof sa),
                              tg__shape_str(b, sb, sizeof sb));
        shape[d] = ra[d] == 1 ? rb[d] : ra[d];
    }
    tg_scope_begin();
    *oa = tg_keep(tg__expand(tg__reshape(a, n, ra), shape));
    *ob = tg_keep(tg__expand(tg__reshape(b, n, rb), shape));
    tg_scope_end();
    if (!*oa || !*ob) return tg_last_status();
    return TG_OK;
}
