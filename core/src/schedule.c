/* The scheduler: walks the pending graph of the tensors to realize, decides
 * which nodes get a buffer (everything else is fused into the kernel of a
 * consumer), and lowers each such node into one tg_kernel.
 *
 * Fusion rules (within the device's tg_caps.fusion):
 *  - elementwise nodes and movement nodes are inlined into their consumers
 *    (movement becomes the views of the LOADs);
 *  - a reduction takes its whole elementwise input cone, and the elementwise
 *    work after it as long as only reshapes lie between (the post stage is
 *    indexed by out_shape);
 *  - a node whose cone holds a reduction gets a buffer if it has more than
 *    one consumer, or is read through a non-reshape movement, or meets a
 *    second reduction;
 *  - a PAD over a computed node needs that node in a buffer (a masked LOAD
 *    gives 0, an inlined expression would not). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tensor_internal.h"

static _Thread_local uint64_t epoch;

#define RETRY (TG_ERR_UNSUPPORTED + 1000) /* internal: rebuild after a new buffer */
#define TOO_BIG (TG_ERR_UNSUPPORTED + 1001) /* internal: more buffers or arguments than a kernel takes */

static bool is_scalar(int op) { return op == TG_N_CONST || op == TG_N_ARG; }

/* ------------------------------------------------------ the decision pass */

/* A growing list of nodes; the first 64 live in the list itself. */
typedef struct nodelist {
    tg_tensor **v;
    size_t n, cap;
    tg_tensor *small[64];
} nodelist;

static void list_init(nodelist *l) { l->v = l->small, l->n = 0, l->cap = 64; }

static void list_free(nodelist *l) {
    if (l->v != l->small) free(l->v);
}

static bool list_push(nodelist *l, tg_tensor *t) {
    if (l->n == l->cap) {
        tg_tensor **v = malloc(l->cap * 2 * sizeof *v);
        if (!v) return false;
        memcpy(v, l->v, l->n * sizeof *v);
        list_free(l);
        l->v = v, l->cap *= 2;
    }
    l->v[l->n++] = t;
    return true;
}

static bool is_leaf(const tg_tensor *t) { return t->buf != NULL; }

static void visit(tg_tensor *t, int consumers) {
    t->mark = epoch, t->consumers = consumers, t->walk = 0, t->mat = false, t->red = NULL;
}

/* Post-order (topological) list of the unrealized nodes under the targets,
 * counting each node's consumers; takes a reference on each listed node so
 * that nothing is freed mid-schedule. */
static tg_status collect(size_t n, tg_tensor *const *ts, nodelist *order) {
    nodelist stack;
    list_init(&stack);
    tg_status st = TG_OK;
    for (size_t i = 0; i < n && !st; i++) {
        if (is_leaf(ts[i]) || ts[i]->mark == epoch) continue;
        visit(ts[i], 0);
        if (!list_push(&stack, ts[i])) st = TG_ERR_NO_MEMORY;
        while (stack.n > 0 && !st) {
            tg_tensor *t = stack.v[stack.n - 1];
            if (t->walk >= t->nsrc) { /* children done */
                stack.n--;
                tg_retain(t);
                if (!list_push(order, t)) st = TG_ERR_NO_MEMORY;
                continue;
            }
            tg_tensor *c = t->src[t->walk++];
            if (is_leaf(c)) continue;
            if (c->mark == epoch) { /* finished already (a DAG has no path back) */
                c->consumers++;
                continue;
            }
            visit(c, 1);
            if (!list_push(&stack, c)) st = TG_ERR_NO_MEMORY;
        }
    }
    list_free(&stack);
    if (st) return tg_error(st, "schedule: out of host memory");
    return TG_OK;
}

static bool is_elementwise(int op) { return op < TG_OP_COUNT && !tg__is_movement(op) && !tg__is_reduce(op); }

/* The node that holds the data a chain of movement nodes reads. */
static tg_tensor *base_of(tg_tensor *t) {
    while (tg__is_movement(t->op) && !t->buf && !t->mat) t = t->src[0];
    return t;
}

static void materialize(tg_tensor *t) {
    if (!t->buf) t->mat = true;
}

static tg_tensor *red_of(const tg_tensor *t) { return t->buf || t->mat ? NULL : t->red; }

/* Elementwise ops in t's unmaterialized cone, counted up to `limit` (a
 * node reached twice counts twice; the limit bounds the walk). */
static int cone_ops(const tg_tensor *t, int limit) {
    if (t->buf || t->mat || is_scalar(t->op)) return 0;
    int n = is_elementwise(t->op) ? 1 : 0;
    for (int s = 0; s < t->nsrc && n < limit; s++) n += cone_ops(t->src[s], limit - n);
    return n;
}

#define EXPANDED_OPS_MAX 8 /* ops worth recomputing per expanded copy */

/* A reduction's input cone that reads a computed chain through an EXPAND
 * (a matmul's operand, once per column of the other) computes the chain
 * again for every copy: past a few ops the chain gets a buffer instead. */
static void split_expanded(tg_tensor *t, bool expanded, uint64_t mark) {
    if (t->buf || t->mat || t->mark == mark || is_scalar(t->op)) return;
    t->mark = mark;
    if (t->op == TG_OP_EXPAND)
        for (int d = 0; d < t->ndim; d++) expanded |= t->src[0]->shape[d] != t->shape[d];
    if (expanded && is_elementwise(t->op) && !t->red && cone_ops(t, EXPANDED_OPS_MAX) >= EXPANDED_OPS_MAX) {
        materialize(t);
        return;
    }
    for (int s = 0; s < t->nsrc; s++) split_expanded(t->src[s], expanded, mark);
}

static void decide(tg_tensor *n, uint32_t fusion) {
    tg_tensor *r = NULL;
    if (is_scalar(n->op)) {
        r = NULL;
    } else if (tg__is_movement(n->op)) {
        if (n->op == TG_N_SLICE_AT) materialize(n->src[0]); /* its argument moves a buffer's view */
        r = red_of(n->src[0]);
        /* a permuted reduction that is itself realized stores through the
         * permutation (build_and_run); anything else gets a buffer first */
        if (r && n->op != TG_OP_RESHAPE && !(n->mat && n->op == TG_OP_PERMUTE)) {
            materialize(base_of(n->src[0]));
            r = NULL;
        }
        if (n->op == TG_OP_PAD) {
            tg_tensor *b = base_of(n->src[0]);
            if (!b->buf) materialize(b);
        }
    } else if (n->op == TG_N_STORE_AT) { /* stores the value as it is, computed in a kernel of its own */
        if (red_of(n->src[0])) materialize(base_of(n->src[0]));
        n->mat = true;
    } else if (tg__is_reduce(n->op)) {
        tg_tensor *b = base_of(n->src[0]);
        if (red_of(n->src[0]) || (!(fusion & TG_FUSE_REDUCE_INPUT) && !b->buf && !is_scalar(b->op)))
            materialize(b);
        split_expanded(n->src[0], false, ++epoch);
        r = n;
    } else { /* elementwise, CONTIG, DETACH */
        int nred = 0;
        for (int s = 0; s < n->nsrc; s++) {
            tg_tensor *rs = red_of(n->src[s]);
            if (rs && rs != r) nred++, r = rs;
        }
        if (nred > 1 || (r && !(fusion & TG_FUSE_REDUCE_OUTPUT))) {
            for (int s = 0; s < n->nsrc; s++)
                if (red_of(n->src[s])) materialize(base_of(n->src[s]));
            r = NULL;
        }
        if (!(fusion & TG_FUSE_ELEMENTWISE) || n->op == TG_N_CONTIG) n->mat = true;
    }
    n->red = r;
    if (r && n->consumers > 1) n->mat = true;
}

/* --------------------------------------------------------- kernel building */

/* A movement op still to apply to a LOAD's views (a persistent list: the
 * head is applied first). */
typedef struct tnode {
    int op, ndim;
    const int64_t *shape, *arg;
    struct tnode *next;
    tg_tensor *var; /* TG_N_SLICE_AT: the variable that moves it */
} tnode;

typedef struct memo {
    tg_tensor *t;
    const tnode *T;
    int stage, idx;
} memo;

/* The kernel being built. Its arrays start in the small_* storage at the
 * end (not zeroed: used up to the counts) and move to the heap only when a
 * kernel outgrows it, so a small kernel costs no allocation. */
typedef struct kb {
    tg_dev *dev;
    tg_tensor *root, *red;
    int ndim;
    int64_t shape[TG_MAX_DIMS], out[TG_MAX_DIMS];
    tg_node *nodes;
    size_t nnodes, cap_nodes;
    tg_view *views;
    size_t nviews, cap_views;
    uint32_t nparams;
    memo *memo;
    size_t nmemo, cap_memo;
    tnode **arena; /* tnodes past the pool, one allocation each */
    size_t narena, cap_arena, npool;
    tg_status err;
    uint64_t mark;
    bool retry; /* a node was given a buffer to keep view stacks shallow */
    uint32_t nargs, noffsets;
    tg_tensor *argt[TG_KERNEL_MAX_ARGS];
    int64_t argmax[TG_KERNEL_MAX_ARGS]; /* -1: moves no view */
    tg_arg_offset offsets[TG_KERNEL_MAX_ARGS];
    tg_param params[TG_KERNEL_MAX_PARAMS]; /* kb_init zeroes what lies before */
    tg_tensor *ptensor[TG_KERNEL_MAX_PARAMS];
    tg_node small_nodes[32];
    tg_view small_views[8];
    memo small_memo[32];
    tnode pool[32];
} kb;

static void kb_init(kb *b, tg_tensor *root, uint64_t mark) {
    memset(b, 0, offsetof(kb, params));
    b->dev = root->dev, b->root = root, b->mark = mark;
    b->nodes = b->small_nodes, b->cap_nodes = 32;
    b->views = b->small_views, b->cap_views = 8;
    b->memo = b->small_memo, b->cap_memo = 32;
}

/* Room for `need` elements in p (capacity *cap, starting as `small`). */
static void *grow(void *p, const void *small, size_t *cap, size_t need, size_t elem) {
    if (need <= *cap) return p;
    size_t c = *cap ? *cap * 2 : 32;
    while (c < need) c *= 2;
    void *q = p == small ? malloc(c * elem) : realloc(p, c * elem);
    if (q && p && p == small) memcpy(q, p, *cap * elem);
    if (q) *cap = c;
    return q;
}

static int fail(kb *b, tg_status s, const char *msg) {
    if (!b->err) b->err = tg_error(s, "schedule: %s", msg);
    return -1;
}

static int add_node(kb *b, int op, tg_dtype dt, int s0, int s1, int s2) {
    tg_node *n = grow(b->nodes, b->small_nodes, &b->cap_nodes, b->nnodes + 1, sizeof *n);
    if (!n) return fail(b, TG_ERR_NO_MEMORY, "out of host memory");
    b->nodes = n;
    n = &b->nodes[b->nnodes];
    memset(n, 0, sizeof *n);
    n->op = (uint32_t)op, n->dtype = (uint32_t)dt;
    n->src[0] = s0, n->src[1] = s1, n->src[2] = s2;
    return (int)b->nnodes++;
}

static bool same_T(const tnode *a, const tnode *c) {
    for (; a && c; a = a->next, c = c->next) {
        if (a == c) return true;
        if (a->op != c->op || a->ndim != c->ndim || a->var != c->var || memcmp(a->shape, c->shape, (size_t)a->ndim * 8) ||
            (a->arg != c->arg && (!a->arg || !c->arg || memcmp(a->arg, c->arg, sizeof(int64_t) * 2 * TG_MAX_DIMS))))
            return false;
    }
    return a == c;
}

static int memo_find(kb *b, tg_tensor *t, const tnode *T, int stage) {
    for (size_t i = b->nmemo; i-- > 0;)
        if (b->memo[i].t == t && b->memo[i].stage == stage && same_T(b->memo[i].T, T)) return b->memo[i].idx;
    return -1;
}

static int memo_add(kb *b, tg_tensor *t, const tnode *T, int stage, int idx) {
    if (idx < 0) return idx;
    memo *m = grow(b->memo, b->small_memo, &b->cap_memo, b->nmemo + 1, sizeof *m);
    if (!m) return fail(b, TG_ERR_NO_MEMORY, "out of host memory");
    b->memo = m;
    b->memo[b->nmemo++] = (memo){t, T, stage, idx};
    return idx;
}

static tnode *prepend(kb *b, int op, int ndim, const int64_t *shape, const int64_t *arg, tnode *next) {
    if (b->npool < sizeof b->pool / sizeof b->pool[0]) {
        b->pool[b->npool] = (tnode){op, ndim, shape, arg, next, NULL};
        return &b->pool[b->npool++];
    }
    tnode **a = grow(b->arena, NULL, &b->cap_arena, b->narena + 1, sizeof *a);
    tnode *n = malloc(sizeof *n);
    if (!a || !n) {
        free(n);
        if (a) b->arena = a;
        fail(b, TG_ERR_NO_MEMORY, "out of host memory");
        return NULL;
    }
    b->arena = a;
    b->arena[b->narena++] = n;
    *n = (tnode){op, ndim, shape, arg, next, NULL};
    return n;
}

static int param_of(kb *b, tg_tensor *t, uint32_t access) {
    for (uint32_t i = 0; i < b->nparams; i++)
        if (b->ptensor[i] == t) return (int)i;
    if (b->nparams == TG_KERNEL_MAX_PARAMS) { /* split below (plan_kernel), not an error */
        if (!b->err) b->err = TOO_BIG;
        return -1;
    }
    b->ptensor[b->nparams] = t;
    b->params[b->nparams] = (tg_param){(uint32_t)t->dtype, access, tg__numel(t->ndim, t->shape)};
    return (int)b->nparams++;
}

static int arg_of(kb *b, tg_tensor *t) {
    for (uint32_t i = 0; i < b->nargs; i++)
        if (b->argt[i] == t) return (int)i;
    if (b->nargs == TG_KERNEL_MAX_ARGS) { /* split below, as for buffers */
        if (!b->err) b->err = TOO_BIG;
        return -1;
    }
    b->argt[b->nargs] = t;
    b->argmax[b->nargs] = -1;
    return (int)b->nargs++;
}

/* View `view` (the bottom of a stack) moves by stride elements per unit of
 * variable var, whose launches may pass 0..max. */
static int move_view(kb *b, int view, tg_tensor *var, int64_t stride, int64_t max) {
    int a = arg_of(b, var);
    if (a < 0) return -1;
    if (b->noffsets == TG_KERNEL_MAX_ARGS) { /* split below, as for buffers */
        if (!b->err) b->err = TOO_BIG;
        return -1;
    }
    if (b->argmax[a] < 0 || max < b->argmax[a]) b->argmax[a] = max;
    b->offsets[b->noffsets++] = (tg_arg_offset){(uint32_t)view, (uint32_t)a, stride};
    return 0;
}

/* Elements between consecutive indices of axis in a contiguous buffer of t. */
static int64_t contiguous_stride(const tg_tensor *t, int axis) {
    int64_t s = 1;
    for (int d = axis + 1; d < t->ndim; d++) s *= t->shape[d];
    return s;
}

/* Apply one movement to a stack; a moving slice applies its shrink at its
 * base (the argument moves the bottom view's offset at launch). */
static bool apply_T(tg_vstack *s, const tnode *T) {
    if (T->op != TG_N_SLICE_AT) return tg_vstack_apply(s, T->op, T->arg, T->ndim, T->shape);
    int64_t lo[TG_MAX_DIMS] = {0}, hi[TG_MAX_DIMS];
    memcpy(hi, T->shape, sizeof hi);
    lo[T->arg[0]] = T->arg[2], hi[T->arg[0]] = T->arg[2] + T->arg[1];
    tg_vstack_shrink(s, lo, hi);
    return true;
}

static int add_views(kb *b, const tg_vstack *s) {
    tg_view *v = grow(b->views, b->small_views, &b->cap_views, b->nviews + (size_t)s->n, sizeof *v);
    if (!v) return fail(b, TG_ERR_NO_MEMORY, "out of host memory");
    b->views = v;
    memcpy(&b->views[b->nviews], s->v, (size_t)s->n * sizeof *v);
    b->nviews += (size_t)s->n;
    return (int)(b->nviews - (size_t)s->n);
}

static int emit_load(kb *b, tg_tensor *t, const tnode *T) {
    const tnode *head = T; /* a moving slice is always first: its source has a buffer (decide) */
    tg_vstack s;
    s.n = 1;
    tg_view_contiguous(&s.v[0], t->ndim, t->shape);
    for (; T; T = T->next)
        if (!apply_T(&s, T)) return fail(b, TG_ERR_UNSUPPORTED, "view stack too deep");
    tg_vstack_simplify(&s);
    uint32_t depth = b->dev->caps.max_view_depth ? b->dev->caps.max_view_depth : 1;
    if ((uint32_t)s.n > depth) return fail(b, TG_ERR_UNSUPPORTED, "view stack deeper than the device allows");
    int p = param_of(b, t, TG_ACCESS_READ);
    if (p < 0) return -1;
    int v = add_views(b, &s);
    if (v < 0) return -1;
    int axis = head && head->op == TG_N_SLICE_AT ? (int)head->arg[0] : -1;
    if (axis >= 0 && move_view(b, v, head->var, head->arg[3] * contiguous_stride(t, axis), t->shape[axis] - head->arg[1]) < 0)
        return -1;
    int i = add_node(b, TG_OP_LOAD, t->dtype, -1, -1, -1);
    if (i < 0) return -1;
    b->nodes[i].buffer = (uint32_t)p, b->nodes[i].view = (uint32_t)v, b->nodes[i].nviews = (uint32_t)s.n;
    return i;
}

/* Would T on a contiguous view of t need more views than the device takes? */
static bool too_deep(const kb *b, const tg_tensor *t, const tnode *T) {
    tg_vstack s;
    s.n = 1;
    tg_view_contiguous(&s.v[0], t->ndim, t->shape);
    for (; T; T = T->next)
        if (!apply_T(&s, T)) return true;
    tg_vstack_simplify(&s);
    uint32_t depth = b->dev->caps.max_view_depth ? b->dev->caps.max_view_depth : 1;
    return (uint32_t)s.n > depth;
}


static int emit(kb *b, tg_tensor *t, tnode *T, int stage) {
    int m = memo_find(b, t, T, stage), idx = -1;
    if (m >= 0 || b->err) return b->err ? -1 : m;
    if (t != b->root && (t->buf || t->mat)) {
        idx = emit_load(b, t, T);
    } else if (t->op == TG_N_CONST) {
        idx = add_node(b, TG_OP_CONST, t->dtype, -1, -1, -1);
        if (idx >= 0) b->nodes[idx].value = t->value;
    } else if (t->op == TG_N_ARG) {
        int a = arg_of(b, t);
        idx = a < 0 ? -1 : add_node(b, TG_OP_ARG, t->dtype, -1, -1, -1);
        if (idx >= 0) b->nodes[idx].buffer = (uint32_t)a;
    } else if (tg__is_movement(t->op)) {
        tnode *n = prepend(b, t->op, t->ndim, t->shape, t->arg, T);
        if (n && t->op == TG_N_SLICE_AT) n->var = t->src[1];
        if (n && t != b->root && too_deep(b, t->src[0], n)) {
            t->mat = true; /* copy t into a buffer first, then load it */
            b->retry = true;
            if (!b->err) b->err = RETRY;
            return -1;
        }
        idx = n ? emit(b, t->src[0], n, stage) : -1;
    } else if (t->op == TG_N_CONTIG || t->op == TG_N_DETACH) {
        idx = emit(b, t->src[0], T, stage);
    } else if (tg__is_reduce(t->op)) {
        if (t != b->red || stage != 1) return fail(b, TG_ERR_INTERNAL, "a second reduction in one kernel");
        for (const tnode *x = T; x; x = x->next)
            if (x->op != TG_OP_RESHAPE) return fail(b, TG_ERR_INTERNAL, "movement after a fused reduction");
        int s = emit(b, t->src[0], NULL, 0);
        idx = s < 0 ? -1 : add_node(b, t->op, t->dtype, s, -1, -1);
    } else if (is_elementwise(t->op)) {
        int s[3] = {-1, -1, -1};
        for (int i = 0; i < t->nsrc; i++)
            if ((s[i] = emit(b, t->src[i], T, stage)) < 0) return -1;
        idx = add_node(b, t->op, t->dtype, s[0], s[1], s[2]);
    } else {
        return fail(b, TG_ERR_INTERNAL, "unknown node kind");
    }
    return memo_add(b, t, T, stage, idx);
}

/* The one reduction in t's kernel cone (through unmaterialized nodes). */
static tg_status find_reduce(kb *b, tg_tensor *t, bool top) {
    if (!top && (t->buf || t->mat)) return TG_OK;
    if (t->mark == b->mark) return TG_OK;
    t->mark = b->mark;
    if (tg__is_reduce(t->op)) {
        if (b->red && b->red != t) return tg_error(TG_ERR_INTERNAL, "schedule: two reductions in one kernel");
        b->red = t;
        return TG_OK; /* its input cone holds no other (by the decisions) */
    }
    for (int s = 0; s < t->nsrc; s++) {
        tg_status st = find_reduce(b, t->src[s], false);
        if (st) return st;
    }
    return TG_OK;
}

/* "E_4_5" / "r_4_5_sum": kind, shape, reduction (written by hand: this
 * runs on every realize, snprintf would cost more than the launch). */
static void kernel_name(const kb *b, char *name) {
    char *p = name;
    *p++ = b->red ? 'r' : 'E';
    for (int d = 0; d < b->ndim; d++) {
        char digits[24];
        int n = 0;
        uint64_t v = (uint64_t)b->shape[d];
        do digits[n++] = (char)('0' + v % 10); while (v /= 10);
        *p++ = '_';
        while (n > 0) *p++ = digits[--n];
    }
    if (b->red) memcpy(p, b->red->op == TG_OP_REDUCE_SUM ? "_sum" : "_max", 4), p += 4;
    *p = 0;
}

static void kb_free(kb *b) {
    if (b->nodes != b->small_nodes) free(b->nodes);
    if (b->views != b->small_views) free(b->views);
    if (b->memo != b->small_memo) free(b->memo);
    for (size_t i = 0; i < b->narena; i++) free(b->arena[i]);
    free(b->arena);
}

/* Mark the computed nodes feeding root (through elementwise nodes that are
 * not yet materialized, one level down) for their own kernels; false if
 * there is nothing left to split. */
static bool split_inputs(tg_tensor *root) {
    bool changed = false;
    for (int i = 0; i < root->nsrc; i++) {
        tg_tensor *b = base_of(root->src[i]);
        if (b->buf || b->mat || is_scalar(b->op)) continue;
        if (tg__is_reduce(root->op) || b != root->src[i] || is_elementwise(b->op) || tg__is_reduce(b->op)) {
            b->mat = true;
            changed = true;
        }
    }
    if (!changed && root->nsrc > 0) /* a single chain: split below the first source */
        for (int i = 0; i < root->nsrc && !changed; i++)
            if (!root->src[i]->buf && !root->src[i]->mat && !is_scalar(root->src[i]->op))
                changed = split_inputs(root->src[i]);
    return changed;
}

/* The view (stack) of red's shape that addresses root's contiguous buffer,
 * when root is a chain of reshapes and permutes of red; false otherwise or
 * when it is deeper than the device takes. */
static bool store_view(const tg_tensor *root, const tg_tensor *red, tg_vstack *s) {
    s->n = 1;
    tg_view_contiguous(&s->v[0], root->ndim, root->shape);
    for (const tg_tensor *t = root; t != red; t = t->src[0]) {
        if (t->op == TG_OP_PERMUTE) {
            int64_t inv[TG_MAX_DIMS];
            for (int d = 0; d < t->ndim; d++) inv[t->arg[d]] = d;
            tg_vstack_permute(s, inv);
        } else if (t->op != TG_OP_RESHAPE || !tg_vstack_reshape(s, t->src[0]->ndim, t->src[0]->shape)) {
            return false;
        }
    }
    tg_vstack_simplify(s);
    uint32_t depth = root->dev->caps.max_view_depth ? root->dev->caps.max_view_depth : 1;
    return (uint32_t)s->n <= depth;
}

/* --------------------------------------------------- multi-output fusion */

/* Can the nodes a sibling added since `n0` nodes and `p0` params run in
 * this kernel: no LOAD of a buffer the kernel writes, every new input
 * realized or planned before, and something shared with what was there? */
static bool sibling_fits(const kb *b, size_t n0, uint32_t p0) {
    bool shared = false;
    for (size_t i = n0; i < b->nnodes; i++) {
        const tg_node *n = &b->nodes[i];
        if (n->op == TG_OP_LOAD) {
            const tg_tensor *t = b->ptensor[n->buffer];
            if (b->params[n->buffer].access == TG_ACCESS_WRITE || (n->buffer >= p0 && !t->buf && !t->planned))
                return false;
            shared |= n->buffer < p0;
        }
        for (int s = 0; s < 3; s++)
            shared |= n->src[s] >= 0 && (size_t)n->src[s] < n0 && b->nodes[n->src[s]].op != TG_OP_CONST;
    }
    return shared;
}

/* Add to b's elementwise kernel the later nodes of `cand` that get a buffer,
 * have its shape and share its inputs (an optimiser's updates of one
 * parameter): one STORE each, one launch, inputs read once. */
static void fuse_siblings(kb *b, tg_tensor *const *cand, size_t n) {
    for (size_t j = 0; j < n && b->nparams + 1 < TG_KERNEL_MAX_PARAMS; j++) {
        tg_tensor *u = cand[j];
        if (!u || !u->mat || u->buf || u->planned || u->dev != b->dev || u->ndim != b->ndim || u->op == TG_N_STORE_AT ||
            memcmp(u->shape, b->out, (size_t)b->ndim * 8))
            continue;
        b->mark = ++epoch; /* b has no reduction: does u's cone? */
        if (find_reduce(b, u, true) != TG_OK || b->red) {
            b->red = NULL;
            continue;
        }
        size_t n0 = b->nnodes, v0 = b->nviews, m0 = b->nmemo, pool0 = b->npool;
        uint32_t p0 = b->nparams, a0 = b->nargs, o0 = b->noffsets;
        tg_tensor *root = b->root;
        b->root = u;
        int v = emit(b, u, NULL, 1);
        b->root = root;
        int out = v < 0 ? -1 : param_of(b, u, TG_ACCESS_WRITE);
        tg_vstack sv;
        sv.n = 1;
        tg_view_contiguous(&sv.v[0], b->ndim, b->out);
        int vi = out < 0 ? -1 : add_views(b, &sv);
        int si = vi < 0 ? -1 : add_node(b, TG_OP_STORE, u->dtype, v, -1, -1);
        if (b->err == RETRY || (b->err && b->err != TOO_BIG)) return; /* plan again, or fail */
        const tg_caps *caps = &b->dev->caps;
        bool small = (!caps->max_params || b->nparams <= caps->max_params) && (!caps->max_nodes || b->nnodes <= caps->max_nodes);
        if (si >= 0 && small && sibling_fits(b, n0, p0)) {
            b->nodes[si].buffer = (uint32_t)out, b->nodes[si].view = (uint32_t)vi, b->nodes[si].nviews = 1;
            continue;
        }
        b->nnodes = n0, b->nviews = v0, b->nmemo = m0, b->npool = pool0, b->nparams = p0, b->nargs = a0, b->noffsets = o0;
        b->err = TG_OK;
    }
}

/* Build root's kernel and append it to the plan (its arrays copied); on a
 * device that fuses outputs, later nodes in `cand` may join it. */
static tg_status plan_kernel(tg_tensor *root, uint64_t mark, tg_tensor *const *cand, size_t ncand, tg_planned *pk) {
    kb b;
    kb_init(&b, root, mark);
    tg_status st = find_reduce(&b, root, true);
    if (st) return tg__set_status(st);
    bool store_at = root->op == TG_N_STORE_AT; /* its value's shape, stored into its target's buffer */
    const tg_tensor *shape_src = b.red ? b.red->src[0] : store_at ? root->src[0] : root;
    b.ndim = shape_src->ndim;
    for (int d = 0; d < b.ndim; d++) {
        b.shape[d] = shape_src->shape[d];
        b.out[d] = b.red ? b.red->shape[d] : shape_src->shape[d];
    }
    int out = param_of(&b, root, TG_ACCESS_WRITE);
    tnode *T = NULL;
    tg_tensor *top = root;
    tg_vstack sv; /* not zeroed: 4 KB; views past n are never read */
    sv.n = 1;
    tg_view_contiguous(&sv.v[0], b.ndim, b.out);
    if (store_at) { /* the slice of root's (the target's) buffer at the variable's value */
        int64_t lo[TG_MAX_DIMS] = {0};
        tg_view_contiguous(&sv.v[0], root->ndim, root->shape);
        tg_vstack_shrink(&sv, lo, b.out);
        top = root->src[0];
    } else if (b.red && tg__is_movement(root->op)) {
        /* root is reshapes/permutes of the reduction: store each reduced
         * value where root keeps it (the inverse chain on root's layout) */
        if (!store_view(root, b.red, &sv)) {
            kb_free(&b);
            b.red->mat = true;
            return RETRY;
        }
        top = b.red;
    } else if (b.red && (root->ndim != b.ndim || memcmp(root->shape, b.out, (size_t)b.ndim * 8) != 0)) {
        T = prepend(&b, TG_OP_RESHAPE, b.ndim, b.out, NULL, NULL);
    }
    int v = emit(&b, top, T, 1);
    if (v >= 0) {
        int vi = add_views(&b, &sv);
        int si = vi < 0 ? -1 : add_node(&b, TG_OP_STORE, root->dtype, v, -1, -1);
        if (si >= 0) b.nodes[si].buffer = (uint32_t)out, b.nodes[si].view = (uint32_t)vi, b.nodes[si].nviews = (uint32_t)sv.n;
        if (si >= 0 && store_at) {
            int a = (int)root->arg[0];
            move_view(&b, vi, root->src[1], contiguous_stride(root, a), root->shape[a] - b.out[a]);
        }
    }
    for (uint32_t p = 1; store_at && !b.err && p < b.nparams; p++) /* a buffer is read or written, never both */
        if (b.ptensor[p]->buf == root->src[2]->buf)
            b.err = root->src[0]->buf ? tg_error(TG_ERR_INTERNAL, "assign_at: the source shares the target's buffer")
                                       : (root->src[0]->mat = true, RETRY);
    const tg_caps *caps = &b.dev->caps;
    if (!b.err && !b.red && !store_at && (caps->fusion & TG_FUSE_MULTI_OUTPUT) && (caps->fusion & TG_FUSE_ELEMENTWISE))
        fuse_siblings(&b, cand, ncand);
    if ((!b.err && ((caps->max_params && b.nparams > caps->max_params) ||
                    (caps->max_nodes && b.nnodes > caps->max_nodes))) || b.err == TOO_BIG) {
        /* too big for the device: give the root's computed inputs buffers */
        if (split_inputs(root)) b.err = RETRY;
        else {
            char params[40] = "any number of buffers", nodes[40] = "any number of nodes"; /* 0: no limit */
            if (caps->max_params) snprintf(params, sizeof params, "at most %u buffers", caps->max_params);
            if (caps->max_nodes) snprintf(nodes, sizeof nodes, "at most %u nodes", caps->max_nodes);
            b.err = tg_error(TG_ERR_UNSUPPORTED, "schedule: a kernel needs %u buffers and %zu nodes, the device "
                               "takes %s and %s", b.nparams, b.nnodes, params, nodes);
        }
    }
    if (b.err) {
        kb_free(&b);
        return b.err;
    }
    memset(pk, 0, offsetof(tg_planned, params));
    pk->dev = b.dev;
    pk->nodes = malloc(b.nnodes * sizeof *pk->nodes);
    pk->views = malloc(b.nviews * sizeof *pk->views + 1);
    if (!pk->nodes || !pk->views) {
        kb_free(&b);
        free(pk->nodes), free(pk->views);
        return tg_error(TG_ERR_NO_MEMORY, "schedule: out of host memory");
    }
    memcpy(pk->nodes, b.nodes, b.nnodes * sizeof *pk->nodes);
    memcpy(pk->views, b.views, b.nviews * sizeof *pk->views);
    memcpy(pk->params, b.params, b.nparams * sizeof *pk->params);
    memcpy(pk->tensors, b.ptensor, b.nparams * sizeof *pk->tensors);
    for (uint32_t p = 0; p < b.nparams; p++) /* places in the graph's signature (tg__sig_make) */
        pk->where[p] = b.ptensor[p]->buf ? -1 - b.ptensor[p]->walk : b.ptensor[p]->walk;
    for (uint32_t a = 0; a < b.nargs; a++) {
        pk->args[a] = (tg_arg){.dtype = (uint32_t)b.argt[a]->dtype, .max = b.argmax[a] < 0 ? 0 : b.argmax[a]};
        pk->values[a] = b.argt[a]->value;
        pk->argpos[a] = b.argt[a]->buf ? -1 - b.argt[a]->walk : b.argt[a]->walk; /* as where */
    }
    memcpy(pk->offsets, b.offsets, b.noffsets * sizeof *pk->offsets);
    kernel_name(&b, pk->name);
    tg_kernel *k = &pk->k;
    k->struct_size = sizeof *k;
    k->ndim = (uint32_t)b.ndim;
    memcpy(k->shape, b.shape, sizeof k->shape);
    k->reduce_axes = b.red ? (uint32_t)b.red->arg[0] : 0;
    k->nnodes = (uint32_t)b.nnodes, k->nodes = pk->nodes;
    k->nviews = (uint32_t)b.nviews, k->views = pk->views;
    k->nparams = b.nparams, k->params = pk->params;
    k->nargs = b.nargs, k->args = b.nargs ? pk->args : NULL;
    k->noffsets = b.noffsets, k->offsets = b.noffsets ? pk->offsets : NULL;
    k->name = pk->name;
    k->hash = tg_kernel_hash(k);
    kb_free(&b);
    return TG_OK;
}

/* ------------------------------------------------------------- the driver */

/* Plan a kernel for every node that gets a buffer, in order; a RETRY (a
 * node newly given a buffer) plans again from the start, skipping nodes
 * planned already: the kernels planned before it computed it inline. */
static tg_status plan_all(nodelist *order, tg_planned ***plan, size_t *nplan) {
    size_t cap = 0;
    for (size_t i = 0; i < order->n; i++) {
        tg_tensor *t = order->v[i];
        if (!t->mat || t->buf || t->planned) continue;
        if (*nplan == cap) {
            tg_planned **p = realloc(*plan, (cap ? cap * 2 : 8) * sizeof *p);
            if (!p) return tg_error(TG_ERR_NO_MEMORY, "schedule: out of host memory");
            *plan = p, cap = cap ? cap * 2 : 8;
        }
        tg_planned *pk = malloc(sizeof *pk);
        if (!pk) return tg_error(TG_ERR_NO_MEMORY, "schedule: out of host memory");
        tg_status st = plan_kernel(t, ++epoch, order->v + i + 1, order->n - i - 1, pk);
        if (st) free(pk);
        if (st == RETRY) {
            i = (size_t)-1;
            continue;
        }
        if (st) return st;
        (*plan)[(*nplan)++] = pk;
        for (uint32_t p = 0; p < pk->k.nparams; p++)
            if (pk->params[p].access == TG_ACCESS_WRITE) pk->tensors[p]->planned = true;
    }
    return TG_OK;
}

tg_status tg__schedule_run(size_t n, tg_tensor *const *ts) {
    nodelist order;
    list_init(&order);
    for (size_t i = 0; i < n; i++) {
        if (!ts[i]) return tg__null_arg("realize") ? TG_ERR_INVALID : tg_last_status();
        if (!tg__live(ts[i], "realize")) return TG_ERR_INVALID;
    }
    epoch++;
    tg_status st = collect(n, ts, &order);
    for (size_t i = 0; i < n; i++)
        if (!ts[i]->buf) ts[i]->mat = true;
    tg_graph_sig sig = {0};
    if (!st) st = tg__sig_make(order.v, order.n, ++epoch, &sig);
    tg_dev *dev = order.n ? order.v[0]->dev : NULL;
    tg_planned **plan = NULL;
    size_t nplan = 0;
    bool kept = !st && dev && (plan = tg__plans_find(dev, &sig, order.v, &nplan)) != NULL;
    for (size_t i = 0; kept && i < nplan; i++)
        for (uint32_t p = 0; p < plan[i]->k.nparams; p++)
            if (plan[i]->params[p].access == TG_ACCESS_WRITE) plan[i]->tensors[p]->planned = true;
    for (size_t i = 0; i < order.n && !st && !kept; i++) decide(order.v[i], order.v[i]->dev->caps.fusion);
    if (!st && !kept) st = plan_all(&order, &plan, &nplan);
    if (!st && !kept) st = tg__plan_compile(plan, nplan);
    if (!st && !kept) kept = tg__plans_keep(dev, &sig, plan, nplan);
    tg__sig_free(&sig);
    /* run the plan in order; after each kernel, free the nodes only the
     * schedule still holds (later kernels reach their inputs through graph
     * edges, so nothing later needs them) */
    for (size_t i = 0; i < nplan && !st; i++) {
        st = tg__plan_launch(plan[i]);
        if (st) break;
        for (uint32_t p = 0; p < plan[i]->k.nparams; p++) {
            tg_tensor *t = plan[i]->tensors[p];
            if (plan[i]->params[p].access != TG_ACCESS_WRITE) continue;
            t->mat = false, t->planned = false;
            if (!t->requires_grad) tg__drop_sources(t);
        }
        for (size_t j = 0; j < order.n; j++) {
            tg_tensor *u = order.v[j];
            if (!u || u->refs != 1 || u->planned) continue;
            u->mat = false, u->red = NULL, u->mark = 0;
            order.v[j] = NULL;
            tg_release(u);
        }
    }
    for (size_t i = 0; i < nplan && !kept; i++) tg__planned_free(plan[i]);
    if (!kept) free(plan);
    /* reset scratch and drop the schedule's references */
    for (size_t i = 0; i < order.n; i++) {
        if (!order.v[i]) continue;
        order.v[i]->mat = false;
        order.v[i]->planned = false;
        order.v[i]->red = NULL;
        order.v[i]->mark = 0;
    }
    for (size_t i = order.n; i-- > 0;) tg_release(order.v[i]);
    list_free(&order);
    if (!st) tg__stats_realize();
    return st;
}
