/* Kernel checks: every rule plugin.h states for tg_kernel, tg_node, tg_view
 * and tg_param, plus the device's caps; and the kernel's content hash. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <tg/runtime.h>

#define BIT(d) (1u << (d))
#define ALL_INTS (BIT(TG_INT8) | BIT(TG_UINT8) | BIT(TG_INT16) | BIT(TG_UINT16) | BIT(TG_INT32) | \
                  BIT(TG_UINT32) | BIT(TG_INT64) | BIT(TG_UINT64))
#define ALL_FLOATS (BIT(TG_FLOAT16) | BIT(TG_BFLOAT16) | BIT(TG_FLOAT32) | BIT(TG_FLOAT64))
#define ALL_DTYPES (BIT(TG_BOOL) | ALL_INTS | ALL_FLOATS)

/* Per node kind: operand count and the dtypes it is defined on (for CMPLT
 * and CAST: the operands' dtype), from sdk/docs/OPS.md. */
static const struct { int arity; uint32_t dtypes; } node_rules[TG_NODE_OP_COUNT] = {
    [TG_OP_EXP2] = {1, ALL_FLOATS},
    [TG_OP_LOG2] = {1, ALL_FLOATS},
    [TG_OP_SQRT] = {1, ALL_FLOATS},
    [TG_OP_RECIP] = {1, ALL_FLOATS},
    [TG_OP_NEG] = {1, ALL_INTS | ALL_FLOATS},
    [TG_OP_SIN] = {1, ALL_FLOATS},
    [TG_OP_CAST] = {1, ALL_DTYPES},
    [TG_OP_ADD] = {2, ALL_INTS | ALL_FLOATS},
    [TG_OP_SUB] = {2, ALL_INTS | ALL_FLOATS},
    [TG_OP_MUL] = {2, ALL_DTYPES},
    [TG_OP_DIV] = {2, ALL_INTS | ALL_FLOATS},
    [TG_OP_MOD] = {2, ALL_INTS | ALL_FLOATS},
    [TG_OP_MAX] = {2, ALL_DTYPES},
    [TG_OP_CMPLT] = {2, ALL_DTYPES},
    [TG_OP_WHERE] = {3, ALL_DTYPES},
    [TG_OP_MULACC] = {3, ALL_INTS | ALL_FLOATS},
    [TG_OP_REDUCE_SUM] = {1, ALL_INTS | ALL_FLOATS},
    [TG_OP_REDUCE_MAX] = {1, ALL_DTYPES},
    [TG_OP_LOAD] = {0, ALL_DTYPES},
    [TG_OP_CONST] = {0, ALL_DTYPES},
    [TG_OP_STORE] = {1, ALL_DTYPES},
    [TG_OP_ARG] = {0, ALL_DTYPES},
};

static int is_movement(uint32_t op) { return op >= TG_OP_RESHAPE && op <= TG_OP_STRIDE; }
static int is_reduce(uint32_t op) { return op == TG_OP_REDUCE_SUM || op == TG_OP_REDUCE_MAX; }
static int is_compute(uint32_t op) { return op < TG_OP_COUNT && !is_reduce(op); }
static int is_memory(uint32_t op) { return op == TG_OP_LOAD || op == TG_OP_STORE; }

/* 1.1 appended the argument fields; a kernel of 1.0's size has none. */
#define KERNEL_1_0_SIZE offsetof(tg_kernel, nargs)

/* k with every 1.1 field readable: a 1.0-sized kernel is copied into tmp
 * with them zero. */
static const tg_kernel *kernel_whole(const tg_kernel *k, tg_kernel *tmp) {
    if (k->struct_size >= sizeof *k) return k;
    memset(tmp, 0, sizeof *tmp);
    memcpy(tmp, k, KERNEL_1_0_SIZE);
    return tmp;
}

/* The check context: the kernel, its caps and per-node facts. */
typedef struct check {
    const tg_kernel *k;
    const tg_caps *caps;
    int64_t out_shape[TG_MAX_DIMS];
    int reduce;                /* index of the reduce node, -1 if none */
    unsigned char *in_cone;    /* [nnodes]: node feeds the reduction   */
} check;

#define FAIL(...) return tg_error(TG_ERR_INVALID, __VA_ARGS__)
#define UNSUP(...) return tg_error(TG_ERR_UNSUPPORTED, __VA_ARGS__)

/* ------------------------------------------------------------------ views */

static int64_t elements(const int64_t *shape, uint32_t ndim) {
    int64_t n = 1;
    for (uint32_t d = 0; d < ndim; d++)
        if (__builtin_mul_overflow(n, shape[d], &n)) return -1;
    return n;
}

/* The smallest and largest address a valid point of `v` reaches; returns 0
 * if no point is valid, -1 on overflow, 1 otherwise. */
static int view_range(const tg_view *v, int64_t *out_min, int64_t *out_max) {
    int64_t lo = v->offset, hi = v->offset;
    for (uint32_t d = 0; d < v->ndim; d++) {
        int64_t a = v->has_mask ? v->mask_lo[d] : 0, b = v->has_mask ? v->mask_hi[d] : v->shape[d];
        if (a >= b) return 0;
        int64_t first, last;
        if (__builtin_mul_overflow(a, v->strides[d], &first) || __builtin_mul_overflow(b - 1, v->strides[d], &last))
            return -1;
        if (__builtin_add_overflow(lo, first < last ? first : last, &lo) ||
            __builtin_add_overflow(hi, first < last ? last : first, &hi))
            return -1;
    }
    *out_min = lo;
    *out_max = hi;
    return 1;
}

/* A sufficient test that a view without mask maps distinct points to
 * distinct addresses: sorted by |stride|, each stride exceeds the largest
 * reach of the smaller ones. */
static int view_injective(const tg_view *v) {
    int64_t strides[TG_MAX_DIMS], extent[TG_MAX_DIMS];
    uint32_t n = 0;
    for (uint32_t d = 0; d < v->ndim; d++) {
        if (v->shape[d] <= 1) continue;
        if (v->strides[d] == INT64_MIN) return 0; /* |INT64_MIN| does not exist */
        strides[n] = v->strides[d] < 0 ? -v->strides[d] : v->strides[d];
        extent[n++] = v->shape[d] - 1;
    }
    for (uint32_t i = 1; i < n; i++) /* insertion sort by stride */
        for (uint32_t j = i; j > 0 && strides[j] < strides[j - 1]; j--) {
            int64_t s = strides[j], e = extent[j];
            strides[j] = strides[j - 1], extent[j] = extent[j - 1];
            strides[j - 1] = s, extent[j - 1] = e;
        }
    int64_t reach = 0;
    for (uint32_t i = 0; i < n; i++) {
        int64_t r;
        if (strides[i] <= reach || __builtin_mul_overflow(strides[i], extent[i], &r) ||
            __builtin_add_overflow(reach, r, &reach))
            return 0;
    }
    return 1;
}

/* Every view of the kernel is well formed, whether a node uses it or not (a
 * plugin may walk the whole array): ndim <= TG_MAX_DIMS, shapes >= 0,
 * masks inside the shape, no stride of INT64_MIN (whose negation, as a
 * flip takes it, overflows). */
static tg_status check_all_views(const tg_kernel *k) {
    for (uint32_t v = 0; v < k->nviews; v++) {
        const tg_view *w = &k->views[v];
        if (w->ndim > TG_MAX_DIMS) FAIL("view %u: ndim %u > %d", v, w->ndim, TG_MAX_DIMS);
        for (uint32_t d = 0; d < w->ndim; d++) {
            if (w->shape[d] < 0) FAIL("view %u: shape[%u] is %lld < 0", v, d, (long long)w->shape[d]);
            if (w->strides[d] == INT64_MIN) FAIL("view %u: stride[%u] is INT64_MIN (its negation overflows)", v, d);
            if (w->has_mask && !(0 <= w->mask_lo[d] && w->mask_lo[d] <= w->mask_hi[d] && w->mask_hi[d] <= w->shape[d]))
                FAIL("view %u: mask [%lld, %lld) on dim %u is not within [0, %lld]", v, (long long)w->mask_lo[d],
                     (long long)w->mask_hi[d], d, (long long)w->shape[d]);
        }
    }
    return TG_OK;
}

/* Check the view stack of LOAD/STORE node i: each view well formed, each
 * view's addresses inside the next lower view (or the buffer), the top view
 * of shape `top`, stores without masks and one-to-one. */
static tg_status check_views(const check *c, uint32_t i, const int64_t *top, const char *stage) {
    const tg_kernel *k = c->k;
    const tg_node *n = &k->nodes[i];
    const char *op = tg_op_name((tg_op)n->op);
    uint32_t depth_limit = !c->caps ? UINT32_MAX : c->caps->max_view_depth ? c->caps->max_view_depth : 1;
    uint32_t max_dims = c->caps && c->caps->max_dims ? c->caps->max_dims : TG_MAX_DIMS;
    if (n->nviews == 0) FAIL("node %u (%s): nviews is 0 (a stack has at least one view)", i, op);
    if (n->view >= k->nviews || n->nviews > k->nviews - n->view)
        FAIL("node %u (%s): views [%u, %u+%u) lie outside the kernel's %u views", i, op, n->view, n->view,
             n->nviews, k->nviews);
    const tg_view *views = k->views + n->view;
    const tg_view *tv = &views[n->nviews - 1];
    if (tv->ndim != k->ndim) FAIL("node %u (%s): top view has %u dims, the kernel %u", i, op, tv->ndim, k->ndim);
    for (uint32_t d = 0; d < k->ndim; d++)
        if (tv->shape[d] != top[d])
            FAIL("node %u (%s): top view's shape[%u] is %lld, %s has %lld", i, op, d, (long long)tv->shape[d],
                 stage, (long long)top[d]);
    for (uint32_t v = 0; v < n->nviews; v++) {
        const tg_view *w = &views[v]; /* well formed: check_all_views */
        if (w->ndim > max_dims)
            UNSUP("node %u (%s): view %u has %u dims, the device takes %u", i, op, n->view + v, w->ndim, max_dims);
        if (n->op == TG_OP_STORE) {
            if (w->has_mask) FAIL("node %u (STORE): store view %u has a mask", i, n->view + v);
            if (!view_injective(w))
                FAIL("node %u (STORE): store view %u is not one-to-one (a stride repeats or overlaps)", i,
                     n->view + v);
        }
    }
    /* From the top down: the addresses a view reaches index the view below. */
    for (uint32_t v = n->nviews; v-- > 0;) {
        int64_t lo, hi, limit;
        int r = view_range(&views[v], &lo, &hi);
        if (r == 0) break; /* no valid point: nothing below is reached */
        if (r < 0) FAIL("node %u (%s): view %u's addresses overflow int64", i, op, n->view + v);
        limit = v > 0 ? elements(views[v - 1].shape, views[v - 1].ndim) : k->params[n->buffer].count;
        if (limit < 0) FAIL("node %u (%s): view %u's element count overflows int64", i, op, n->view + v - 1);
        if (lo < 0 || hi >= limit)
            FAIL("node %u (%s): view %u reaches addresses [%lld, %lld], outside [0, %lld) of %s", i, op,
                 n->view + v, (long long)lo, (long long)hi, (long long)limit,
                 v > 0 ? "the view below it" : "its buffer");
    }
    if (n->nviews > depth_limit)
        UNSUP("node %u (%s): a stack of %u views, the device takes %u", i, op, n->nviews, depth_limit);
    return TG_OK;
}

/* ------------------------------------------------------------------ nodes */

/* Is a CONST's value exactly representable in its dtype? */
static int const_fits(uint32_t dt, tg_scalar v) {
    static const int64_t imin[] = {[TG_INT8] = INT8_MIN, [TG_INT16] = INT16_MIN, [TG_INT32] = INT32_MIN};
    static const int64_t imax[] = {[TG_INT8] = INT8_MAX, [TG_INT16] = INT16_MAX, [TG_INT32] = INT32_MAX};
    int bits = 0, emin = 0, emax = 0;
    switch (dt) {
    case TG_BOOL: return v.i == 0 || v.i == 1;
    case TG_INT8: case TG_INT16: case TG_INT32: return v.i >= imin[dt] && v.i <= imax[dt];
    case TG_UINT8: return v.u <= UINT8_MAX;
    case TG_UINT16: return v.u <= UINT16_MAX;
    case TG_UINT32: return v.u <= UINT32_MAX;
    case TG_INT64: case TG_UINT64: case TG_FLOAT64: return 1;
    case TG_FLOAT16: bits = 11, emin = -14, emax = 15; break;
    case TG_BFLOAT16: bits = 8, emin = -126, emax = 127; break;
    case TG_FLOAT32: bits = 24, emin = -126, emax = 127; break;
    default: return 0;
    }
    if (!isfinite(v.f) || v.f == 0) return 1;
    int e;
    double m = frexp(v.f, &e); /* v = m * 2^e, 0.5 <= |m| < 1 */
    if (e - 1 > emax) return 0;
    double scaled = e - 1 >= emin ? ldexp(m, bits) : ldexp(v.f, bits - 1 - emin);
    return scaled == floor(scaled);
}

static uint32_t src_dtype(const tg_kernel *k, const tg_node *n, int s) { return k->nodes[n->src[s]].dtype; }

/* Operand count, operand order and dtype rules of node i. */
static tg_status check_node(const check *c, uint32_t i) {
    const tg_kernel *k = c->k;
    const tg_node *n = &k->nodes[i];
    if (n->op >= TG_NODE_OP_COUNT || is_movement(n->op))
        FAIL("node %u: op %u is not a kernel node (movement ops are views; valid: 0..17, 25..28)", i, n->op);
    const char *op = tg_op_name((tg_op)n->op);
    if (n->dtype >= TG_DTYPE_COUNT) FAIL("node %u (%s): dtype %u is not a dtype", i, op, n->dtype);
    int arity = node_rules[n->op].arity;
    for (int s = 0; s < 3; s++) {
        if (s >= arity) {
            if (n->src[s] != -1) FAIL("node %u (%s): src[%d] is %d, must be -1 (the op takes %d)", i, op, s, n->src[s], arity);
            continue;
        }
        if (n->src[s] < 0 || (uint32_t)n->src[s] >= i)
            FAIL("node %u (%s): src[%d] is %d, must be an earlier node (0..%d)", i, op, s, n->src[s], (int)i - 1);
        if (k->nodes[n->src[s]].op == TG_OP_STORE) FAIL("node %u (%s): src[%d] is a STORE", i, op, s);
    }
    uint32_t dt = n->dtype, operand = arity ? src_dtype(k, n, 0) : dt;
    switch (n->op) {
    case TG_OP_CAST: operand = dt; break; /* any -> any */
    case TG_OP_CMPLT:
        if (dt != TG_BOOL) FAIL("node %u (CMPLT): result dtype is %s, must be bool", i, tg_dtype_name(dt));
        if (src_dtype(k, n, 1) != operand) FAIL("node %u (CMPLT): operands of different dtypes", i);
        break;
    case TG_OP_WHERE:
        if (operand != TG_BOOL) FAIL("node %u (WHERE): condition src[0] is %s, must be bool", i, tg_dtype_name(operand));
        operand = dt;
        if (src_dtype(k, n, 1) != dt || src_dtype(k, n, 2) != dt)
            FAIL("node %u (WHERE): src[1], src[2] and the result must share one dtype", i);
        break;
    case TG_OP_STORE:
        if (operand != dt) FAIL("node %u (STORE): stores %s into a %s buffer", i, tg_dtype_name(operand), tg_dtype_name(dt));
        break;
    default:
        for (int s = 0; s < arity; s++)
            if (src_dtype(k, n, s) != dt)
                FAIL("node %u (%s): src[%d] is %s, the result %s (must be equal)", i, op, s,
                     tg_dtype_name(src_dtype(k, n, s)), tg_dtype_name(dt));
    }
    if (!(node_rules[n->op].dtypes & BIT(operand)))
        FAIL("node %u (%s): not defined on %s (see OPS.md)", i, op, tg_dtype_name(operand));
    if (n->op == TG_OP_CONST && !const_fits(dt, n->value))
        FAIL("node %u (CONST): value is not exactly representable in %s", i, tg_dtype_name(dt));
    if (n->op == TG_OP_ARG && (n->buffer >= k->nargs || k->args[n->buffer].dtype != dt))
        FAIL("node %u (ARG): argument %u of %u, or not of the node's dtype %s", i, n->buffer, k->nargs,
             tg_dtype_name(dt));
    if (n->op == TG_OP_LOAD || n->op == TG_OP_STORE) {
        if (n->buffer >= k->nparams) FAIL("node %u (%s): buffer %u, the kernel has %u params", i, op, n->buffer, k->nparams);
        const tg_param *p = &k->params[n->buffer];
        uint32_t want = n->op == TG_OP_LOAD ? TG_ACCESS_READ : TG_ACCESS_WRITE;
        if (p->access != want)
            FAIL("node %u (%s): param %u is %s; a %s needs a %s param", i, op, n->buffer,
                 p->access == TG_ACCESS_READ ? "read-only" : "written", op, want == TG_ACCESS_READ ? "read" : "write");
        if (p->dtype != dt)
            FAIL("node %u (%s): dtype %s, param %u holds %s", i, op, tg_dtype_name(dt), n->buffer, tg_dtype_name(p->dtype));
    }
    if (c->caps && !(c->caps->dtypes & BIT(dt)))
        UNSUP("node %u (%s): the device does not support %s", i, op, tg_dtype_name(dt));
    return TG_OK;
}

/* ---------------------------------------------------------------- kernel */

static tg_status check_header(check *c) {
    const tg_kernel *k = c->k;
    if (k->struct_size < KERNEL_1_0_SIZE)
        FAIL("kernel: struct_size %u is smaller than ABI 1.0's %zu", k->struct_size, KERNEL_1_0_SIZE);
    if (k->ndim > TG_MAX_DIMS) FAIL("kernel: ndim %u > %d", k->ndim, TG_MAX_DIMS);
    for (uint32_t d = 0; d < k->ndim; d++)
        if (k->shape[d] < 0) FAIL("kernel: shape[%u] is %lld < 0", d, (long long)k->shape[d]);
    if (k->reduce_axes >> k->ndim)
        FAIL("kernel: reduce_axes 0x%x names axes past ndim %u", k->reduce_axes, k->ndim);
    if (k->nnodes == 0 || !k->nodes) FAIL("kernel: no nodes");
    if (k->nviews && !k->views) FAIL("kernel: nviews is %u but views is NULL", k->nviews);
    if (k->nparams && !k->params) FAIL("kernel: nparams is %u but params is NULL", k->nparams);
    if (!k->name || !*k->name) FAIL("kernel: no name");
    for (const char *s = k->name; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '_'))
            FAIL("kernel: name '%.64s' has a character outside [A-Za-z0-9_]", k->name);
    for (uint32_t p = 0; p < k->nparams; p++) {
        const tg_param *q = &k->params[p];
        if (q->dtype >= TG_DTYPE_COUNT) FAIL("param %u: dtype %u is not a dtype", p, q->dtype);
        if (q->access != TG_ACCESS_READ && q->access != TG_ACCESS_WRITE)
            FAIL("param %u: access %u is neither TG_ACCESS_READ nor TG_ACCESS_WRITE", p, q->access);
        if (q->count < 0) FAIL("param %u: count %lld < 0", p, (long long)q->count);
        if (q->count > INT64_MAX / (int64_t)tg_dtype_size((tg_dtype)q->dtype))
            FAIL("param %u: count %lld of %s overflows int64 bytes", p, (long long)q->count,
                 tg_dtype_name((tg_dtype)q->dtype));
    }
    for (uint32_t d = 0; d < k->ndim; d++) c->out_shape[d] = (k->reduce_axes & BIT(d)) ? 1 : k->shape[d];
    return TG_OK;
}

/* 1.1: arguments are well formed; those that bound an axis or move a view
 * are integers whose max fits what they bound. */
static tg_status check_args(const tg_kernel *k) {
    if ((k->nargs && !k->args) || (k->noffsets && !k->offsets)) FAIL("kernel: nargs or noffsets without an array");
    for (uint32_t a = 0; a < k->nargs; a++) {
        if (k->args[a].dtype >= TG_DTYPE_COUNT) FAIL("arg %u: dtype %u is not a dtype", a, k->args[a].dtype);
        if (k->args[a].reserved || k->args[a].max < 0) FAIL("arg %u: reserved is not 0 or max < 0", a);
    }
    for (uint32_t d = 0; d < TG_MAX_DIMS; d++) {
        uint32_t e = k->extent_arg[d];
        if (!e) continue;
        if (d >= k->ndim || e > k->nargs) FAIL("kernel: extent_arg[%u] is %u, past ndim %u or nargs %u", d, e, k->ndim, k->nargs);
        if (!(ALL_INTS & BIT(k->args[e - 1].dtype)) || k->args[e - 1].max != k->shape[d])
            FAIL("kernel: axis %u is bounded by arg %u, which must be an integer with max == shape[%u] (%lld)", d,
                 e - 1, d, (long long)k->shape[d]);
    }
    for (uint32_t o = 0; o < k->noffsets; o++) {
        const tg_arg_offset *off = &k->offsets[o];
        bool bottom = false;
        for (uint32_t i = 0; i < k->nnodes; i++)
            bottom |= is_memory(k->nodes[i].op) && k->nodes[i].view == off->view;
        if (!bottom) FAIL("offset %u: view %u is not the first view of a LOAD or STORE", o, off->view);
        if (off->arg >= k->nargs || !(ALL_INTS & BIT(k->args[off->arg].dtype)))
            FAIL("offset %u: arg %u is not an integer argument of the kernel", o, off->arg);
        for (uint32_t p = 0; p < o; p++)
            if (k->offsets[p].view == off->view) FAIL("offset %u: view %u already moves (offset %u)", o, off->view, p);
    }
    return TG_OK;
}

/* cone[i] = 1 for every node the reduction node `reduce` reads (transitively). */
static void mark_cone(const tg_kernel *k, int reduce, unsigned char *cone) {
    if (reduce < 0) return;
    cone[k->nodes[reduce].src[0]] = 1;
    for (int i = reduce; i-- > 0;)
        for (int s = 0; s < 3 && cone[i]; s++)
            if (k->nodes[i].src[s] >= 0) cone[k->nodes[i].src[s]] = 1;
}

/* Which nodes feed the reduction, and nothing after it reads them. */
static tg_status check_stages(check *c) {
    const tg_kernel *k = c->k;
    c->reduce = -1;
    for (uint32_t i = 0; i < k->nnodes; i++) {
        if (!is_reduce(k->nodes[i].op)) continue;
        if (c->reduce >= 0) FAIL("node %u (%s): a second reduction (node %d is the first)", i,
                                 tg_op_name((tg_op)k->nodes[i].op), c->reduce);
        c->reduce = (int)i;
    }
    if (c->reduce < 0 && k->reduce_axes) FAIL("kernel: reduce_axes is 0x%x but no node reduces", k->reduce_axes);
    if (c->reduce < 0) return TG_OK;
    mark_cone(k, c->reduce, c->in_cone);
    for (uint32_t i = 0; i < k->nnodes; i++)
        for (int s = 0; s < 3 && !c->in_cone[i] && i != (uint32_t)c->reduce; s++) {
            int src = k->nodes[i].src[s];
            if (src >= 0 && c->in_cone[src] && k->nodes[src].op != TG_OP_CONST)
                FAIL("node %u (%s): src[%d] is node %d, which feeds the reduction (node %d); only CONSTs are "
                     "shared between the stages", i, tg_op_name((tg_op)k->nodes[i].op), s, src, c->reduce);
        }
    return TG_OK;
}

/* Fusion, node and param limits of the device. */
static tg_status check_caps(const check *c, uint32_t stores) {
    const tg_kernel *k = c->k;
    const tg_caps *caps = c->caps;
    uint32_t max_dims = caps->max_dims ? caps->max_dims : TG_MAX_DIMS;
    if (k->ndim > max_dims) UNSUP("kernel: %u dims, the device takes %u", k->ndim, max_dims);
    if (caps->max_nodes && k->nnodes > caps->max_nodes)
        UNSUP("kernel: %u nodes, the device takes %u", k->nnodes, caps->max_nodes);
    if (caps->max_params && k->nparams > caps->max_params)
        UNSUP("kernel: %u params, the device takes %u", k->nparams, caps->max_params);
    for (uint32_t p = 0; p < k->nparams; p++) {
        if (!(caps->dtypes & BIT(k->params[p].dtype)))
            UNSUP("param %u: the device does not support %s", p, tg_dtype_name(k->params[p].dtype));
        uint64_t size = tg_dtype_size(k->params[p].dtype), count = (uint64_t)k->params[p].count;
        if (caps->max_buffer_bytes && count > caps->max_buffer_bytes / size) /* count * size, without overflow */
            UNSUP("param %u: %llu elements of %llu bytes (%llu bytes), the device's largest buffer is %llu", p,
                  (unsigned long long)count, (unsigned long long)size, (unsigned long long)(count * size),
                  (unsigned long long)caps->max_buffer_bytes);
    }
    uint32_t lacks = tg_kernel_arg_needs(k) & ~caps->flags;
    if (lacks)
        UNSUP("kernel: takes arguments (%s) the device does not (the core binds them for it: tg_kernel_bind)",
              lacks & TG_CAP_ARG_VALUES ? "ARG nodes" : "bounded axes or moving views");
    if (stores > 1 && !(caps->fusion & TG_FUSE_MULTI_OUTPUT))
        UNSUP("kernel: %u STOREs, the device does not fuse multiple outputs", stores);
    uint32_t before = 0, after = 0; /* elementwise nodes in each stage */
    for (uint32_t i = 0; i < k->nnodes; i++)
        if (is_compute(k->nodes[i].op)) {
            if (c->in_cone[i]) before++;
            else after++;
        }
    if ((before > 1 || after > 1) && !(caps->fusion & TG_FUSE_ELEMENTWISE))
        UNSUP("kernel: a chain of %u elementwise nodes, the device does not fuse elementwise ops",
              before > after ? before : after);
    if (c->reduce >= 0 && before && !(caps->fusion & TG_FUSE_REDUCE_INPUT))
        UNSUP("node %d: elementwise nodes before the reduction, the device does not fuse them", c->reduce);
    if (c->reduce >= 0 && after && !(caps->fusion & TG_FUSE_REDUCE_OUTPUT))
        UNSUP("node %d: elementwise nodes after the reduction, the device does not fuse them", c->reduce);
    return TG_OK;
}

static tg_status validate(check *c) {
    const tg_kernel *k = c->k;
    tg_status st = check_header(c);
    if (!st) st = check_args(k);
    if (!st) st = check_all_views(k);
    for (uint32_t i = 0; !st && i < k->nnodes; i++) st = check_node(c, i);
    if (!st) st = check_stages(c);
    uint32_t stores = 0;
    for (uint32_t i = 0; !st && i < k->nnodes; i++) {
        const tg_node *n = &k->nodes[i];
        if (n->op == TG_OP_STORE) stores++;
        if (n->op == TG_OP_LOAD && c->in_cone[i]) st = check_views(c, i, k->shape, "the kernel's shape");
        else if (n->op == TG_OP_LOAD || n->op == TG_OP_STORE) st = check_views(c, i, c->out_shape, "out_shape");
    }
    if (st) return st;
    if (!stores) FAIL("kernel: no STORE");
    for (uint32_t p = 0; p < k->nparams; p++) {
        if (k->params[p].access != TG_ACCESS_WRITE) continue;
        uint32_t n = 0, last = 0;
        for (uint32_t i = 0; i < k->nnodes; i++)
            if (k->nodes[i].op == TG_OP_STORE && k->nodes[i].buffer == p) n++, last = i;
        if (n == 0) FAIL("param %u: written, but no STORE writes it (must be exactly one)", p);
        if (n > 1) FAIL("node %u (STORE): param %u is stored by %u STOREs, must be exactly one", last, p, n);
    }
    if (c->caps) st = check_caps(c, stores);
    if (!st && k->hash != tg_kernel_hash(k))
        FAIL("kernel: hash 0x%016llx does not match its content (set it with tg_kernel_hash)",
             (unsigned long long)k->hash);
    return st;
}

static tg_status validate_one(const tg_kernel *kernel, const tg_caps *caps) {
    unsigned char small[256];
    check c = {.k = kernel, .caps = caps, .reduce = -1};
    memset(small, 0, sizeof small);
    c.in_cone = kernel->nnodes <= sizeof small ? small : calloc(kernel->nnodes, 1);
    if (!c.in_cone) return tg_error(TG_ERR_NO_MEMORY, "kernel: out of memory for %u nodes", kernel->nnodes);
    tg_status st = validate(&c);
    if (c.in_cone != small) free(c.in_cone);
    return st;
}

/* Valid at the arguments' 0 (the kernel as it is) and, where views move,
 * at their max too: addresses are affine in each moving argument, so every
 * value between is in range as well. */
tg_status tg_kernel_validate(const tg_kernel *kernel, const tg_caps *caps) {
    if (!kernel) FAIL("kernel: NULL");
    tg_kernel whole;
    kernel = kernel_whole(kernel, &whole);
    tg_status st = validate_one(kernel, caps);
    if (st || !kernel->noffsets) return st;
    tg_scalar *max = calloc(kernel->nargs, sizeof *max);
    if (!max) return tg_error(TG_ERR_NO_MEMORY, "kernel: out of memory");
    for (uint32_t a = 0; a < kernel->nargs; a++) max[a].i = kernel->args[a].max; /* as .u too: max >= 0 */
    tg_kernel_bound b;
    st = tg_kernel_bind(kernel, max, TG_CAP_ARG_BOUNDS, &b);
    if (!st) {
        st = validate_one(&b.kernel, caps);
        if (st) tg_error(st, "with every moving argument at its max: %s", tg_last_error());
    }
    tg_kernel_bound_free(&b);
    free(max);
    return st;
}

/* ------------------------------------------------------------- arguments */

uint32_t tg_kernel_arg_needs(const tg_kernel *k) {
    tg_kernel whole;
    k = kernel_whole(k, &whole);
    uint32_t needs = k->noffsets ? TG_CAP_ARG_BOUNDS : 0;
    for (uint32_t d = 0; d < TG_MAX_DIMS; d++)
        if (k->extent_arg[d]) needs |= TG_CAP_ARG_BOUNDS;
    for (uint32_t i = 0; i < k->nnodes; i++)
        if (k->nodes[i].op == TG_OP_ARG) needs |= TG_CAP_ARG_VALUES;
    return needs;
}

/* Is args[a] an argument that bounds an axis or moves a view? */
static bool arg_bounds(const tg_kernel *k, uint32_t a) {
    for (uint32_t d = 0; d < TG_MAX_DIMS; d++)
        if (k->extent_arg[d] == a + 1) return true;
    for (uint32_t o = 0; o < k->noffsets; o++)
        if (k->offsets[o].arg == a) return true;
    return false;
}

tg_status tg_kernel_check_args(const tg_kernel *k, const tg_scalar *values) {
    tg_kernel whole;
    k = kernel_whole(k, &whole);
    if (k->nargs && !values) FAIL("launch: the kernel takes %u arguments, no values given", k->nargs);
    for (uint32_t a = 0; a < k->nargs; a++) {
        const tg_arg *g = &k->args[a];
        if (!arg_bounds(k, a)) continue;
        bool is_signed = tg_dtype_is_signed((tg_dtype)g->dtype); /* an integer: check_args */
        if (is_signed ? values[a].i < 0 || values[a].i > g->max : values[a].u > (uint64_t)g->max)
            FAIL("launch: argument %u is %lld, outside [0, %lld]", a,
                 is_signed ? (long long)values[a].i : (long long)values[a].u, (long long)g->max);
    }
    return TG_OK;
}

void tg_kernel_bound_free(tg_kernel_bound *b) {
    if (!b) return;
    free(b->nodes);
    free(b->views);
    b->nodes = NULL, b->views = NULL;
}

tg_status tg_kernel_bind(const tg_kernel *kernel, const tg_scalar *values, uint32_t what, tg_kernel_bound *out) {
    tg_kernel whole;
    const tg_kernel *k = kernel_whole(kernel, &whole);
    memset(out, 0, sizeof *out);
    tg_status st = tg_kernel_check_args(k, values);
    if (st) return st;
    out->kernel = *k;
    out->kernel.struct_size = sizeof out->kernel;
    out->nodes = malloc(k->nnodes * sizeof *out->nodes + 1);
    out->views = malloc(k->nviews * sizeof *out->views + 1);
    if (!out->nodes || !out->views) {
        tg_kernel_bound_free(out);
        return tg_error(TG_ERR_NO_MEMORY, "kernel: out of memory");
    }
    memcpy(out->nodes, k->nodes, k->nnodes * sizeof *out->nodes);
    if (k->nviews) memcpy(out->views, k->views, k->nviews * sizeof *out->views);
    tg_kernel *b = &out->kernel;
    b->nodes = out->nodes, b->views = out->views;
    for (uint32_t i = 0; (what & TG_CAP_ARG_VALUES) && i < k->nnodes; i++)
        if (out->nodes[i].op == TG_OP_ARG)
            out->nodes[i].op = TG_OP_CONST, out->nodes[i].value = values[out->nodes[i].buffer], out->nodes[i].buffer = 0;
    if (what & TG_CAP_ARG_BOUNDS) {
        for (uint32_t o = 0; o < k->noffsets; o++) {
            int64_t move, v = values[k->offsets[o].arg].i;
            tg_view *w = &out->views[k->offsets[o].view];
            if (__builtin_mul_overflow(v, k->offsets[o].stride, &move) || __builtin_add_overflow(w->offset, move, &w->offset)) {
                tg_kernel_bound_free(out);
                FAIL("offset %u: the view's offset overflows int64", o);
            }
        }
        int reduce = -1; /* the reduction's input cone has the kernel's shape, the rest out_shape */
        unsigned char *cone = calloc(k->nnodes, 1);
        for (uint32_t i = 0; i < k->nnodes; i++)
            if (is_reduce(k->nodes[i].op)) reduce = (int)i;
        if (cone) mark_cone(k, reduce, cone);
        for (uint32_t d = 0; cone && d < k->ndim; d++) {
            if (!k->extent_arg[d]) continue;
            int64_t n = values[k->extent_arg[d] - 1].i;
            b->shape[d] = n;
            for (uint32_t i = 0; i < k->nnodes; i++) { /* cut each top view to n */
                if (!is_memory(k->nodes[i].op) || k->nodes[i].nviews == 0) continue;
                tg_view *t = &out->views[k->nodes[i].view + k->nodes[i].nviews - 1];
                if (d >= t->ndim || ((k->reduce_axes & BIT(d)) && !cone[i])) continue;
                t->shape[d] = n;
                if (t->mask_hi[d] > n) t->mask_hi[d] = n;
                if (t->mask_lo[d] > n) t->mask_lo[d] = n;
            }
            b->extent_arg[d] = 0;
        }
        free(cone);
        if (!cone) {
            tg_kernel_bound_free(out);
            return tg_error(TG_ERR_NO_MEMORY, "kernel: out of memory");
        }
        b->noffsets = 0, b->offsets = NULL;
    }
    if (!tg_kernel_arg_needs(b)) b->nargs = 0, b->args = NULL; /* nothing reads an argument any more */
    b->hash = tg_kernel_hash(b);
    return TG_OK;
}

/* ------------------------------------------------------------------- hash */

/* Each value enters as one 64-bit word: xor, multiply by an odd constant,
 * fold the high bits down (each step a bijection of the state), so the hash
 * is the same on every host and cheap enough to take on every realize.
 * Unused fields (entries past ndim, a CONST's buffer, a LOAD's value, ...)
 * do not enter. */
typedef struct hasher { uint64_t h; } hasher;

static void mix(hasher *s, uint64_t v) {
    s->h = (s->h ^ v) * 0x9e3779b97f4a7c15ull;
    s->h ^= s->h >> 29;
}

static void mix_dims(hasher *s, const int64_t *a, uint32_t n) {
    for (uint32_t d = 0; d < n && d < TG_MAX_DIMS; d++) mix(s, (uint64_t)a[d]);
}

/* Two 32-bit fields as one word (no information lost, half the steps). */
static uint64_t pair(uint32_t lo, uint32_t hi) { return lo | (uint64_t)hi << 32; }

uint64_t tg_kernel_hash(const tg_kernel *k) {
    hasher s = {0xcbf29ce484222325ull};
    if (!k) return s.h;
    mix(&s, pair(k->ndim, k->reduce_axes));
    mix_dims(&s, k->shape, k->ndim);
    mix(&s, pair(k->nnodes, k->nviews));
    mix(&s, k->nparams);
    for (uint32_t i = 0; k->nodes && i < k->nnodes; i++) {
        const tg_node *n = &k->nodes[i];
        bool mem = n->op == TG_OP_LOAD || n->op == TG_OP_STORE;
        mix(&s, pair(n->op, n->dtype));
        mix(&s, pair((uint32_t)n->src[0], (uint32_t)n->src[1]));
        mix(&s, pair((uint32_t)n->src[2], mem ? n->buffer : 0));
        if (mem) mix(&s, pair(n->view, n->nviews));
        if (n->op == TG_OP_CONST) mix(&s, n->value.u);
        if (n->op == TG_OP_ARG) mix(&s, n->buffer);
    }
    for (uint32_t i = 0; k->views && i < k->nviews; i++) {
        const tg_view *v = &k->views[i];
        mix(&s, pair(v->ndim, v->has_mask != 0));
        mix(&s, (uint64_t)v->offset);
        mix_dims(&s, v->shape, v->ndim);
        mix_dims(&s, v->strides, v->ndim);
        if (v->has_mask) {
            mix_dims(&s, v->mask_lo, v->ndim);
            mix_dims(&s, v->mask_hi, v->ndim);
        }
    }
    for (uint32_t i = 0; k->params && i < k->nparams; i++) {
        mix(&s, pair(k->params[i].dtype, k->params[i].access));
        mix(&s, (uint64_t)k->params[i].count);
    }
    if (k->struct_size < sizeof *k) return s.h; /* 1.0: no arguments */
    for (uint32_t a = 0; k->args && a < k->nargs; a++) mix(&s, pair(k->args[a].dtype, (uint32_t)k->args[a].max)), mix(&s, (uint64_t)k->args[a].max);
    for (uint32_t d = 0; d < TG_MAX_DIMS; d++)
        if (k->extent_arg[d]) mix(&s, pair(d, k->extent_arg[d]));
    for (uint32_t o = 0; k->offsets && o < k->noffsets; o++)
        mix(&s, pair(k->offsets[o].view, k->offsets[o].arg)), mix(&s, (uint64_t)k->offsets[o].stride);
    return s.h;
}
