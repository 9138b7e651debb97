/* Random valid kernels for differential fuzzing, and the shrinker that
 * turns a failing one into a small reproducer.
 *
 * Judging random kernels needs care: a chain of ops can only be compared
 * bit-exactly when every op in it is exact (correctly rounded, one result
 * allowed), so inexact ops (EXP2, LOG2, SIN, MULACC, float MAX's zero sign,
 * f32 DIV/SQRT/RECIP, float->int casts, integer x/0) appear only as the last
 * node, judged by its own rule with its operands from a probe. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "build.h"

typedef struct gen {
    tgc_case *c;
    uint64_t s;
    int pool[TGC_MAX_NODES];
    int npool;
} gen;

static uint64_t rnd(gen *g) {
    uint64_t z = (g->s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static int below(gen *g, int n) { return (int)(rnd(g) % (uint64_t)n); }

static tg_dtype dt_of(gen *g, int node) { return (tg_dtype)g->c->nodes[node].dtype; }

static int is_float(tg_dtype t) { return tg_dtype_is_float(t); }

static void add_pool(gen *g, int n) {
    if (g->npool < TGC_MAX_NODES) g->pool[g->npool++] = n;
}

static int make_const(gen *g, tg_dtype t) {
    tg_scalar v;
    v.u = 0;
    if (t == TG_BOOL) v.i = below(g, 2);
    else if (is_float(t)) {
        static const double fv[] = {1, -1, 0.5, 2, 3, -0.0, 0, 0.25, INFINITY, -2};
        v.f = fv[below(g, 10)];
    } else if (tg_dtype_is_signed(t)) v.i = below(g, 15) - 7;
    else v.u = (uint64_t)below(g, 9);
    return tgc_b_const(g->c, t, v);
}

static int nonzero_const(gen *g, tg_dtype t) {
    tg_scalar v;
    v.u = 0;
    if (tg_dtype_is_signed(t)) v.i = below(g, 2) ? 2 + below(g, 5) : -(2 + below(g, 5));
    else v.u = (uint64_t)(2 + below(g, 5));
    return tgc_b_const(g->c, t, v);
}

/* A pool node of dtype t, or a new CONST. */
static int operand(gen *g, tg_dtype t) {
    int cand[TGC_MAX_NODES], n = 0;
    for (int i = 0; i < g->npool; i++)
        if (dt_of(g, g->pool[i]) == t) cand[n++] = g->pool[i];
    if (n == 0 || below(g, 6) == 0) return make_const(g, t);
    return cand[below(g, n)];
}

static int bool_operand(gen *g, int x) {
    for (int i = g->npool - 1; i >= 0; i--)
        if (dt_of(g, g->pool[i]) == TG_BOOL && below(g, 2)) return g->pool[i];
    tg_dtype t = dt_of(g, x);
    if (t == TG_BOOL) return x;
    int lt = tgc_b_op(g->c, TG_OP_CMPLT, TG_BOOL, x, operand(g, t), -1);
    add_pool(g, lt);
    return lt;
}

static tg_dtype random_dtype(gen *g) { return (tg_dtype)below(g, TG_DTYPE_COUNT); }

/* One exact op on a pool node; returns the new node. */
static int chain_step(gen *g) {
    int x = g->pool[below(g, g->npool)];
    tg_dtype t = dt_of(g, x);
    tgc_case *c = g->c;
    int f = is_float(t), exact_div = t == TG_FLOAT16 || t == TG_BFLOAT16 || t == TG_FLOAT64;
    for (int tries = 0; tries < 8; tries++) {
        switch (below(g, 10)) {
        case 0:
            if (t == TG_BOOL) break;
            return tgc_b_op(c, TG_OP_NEG, t, x, -1, -1);
        case 1: case 2: {
            static const tg_op ops[] = {TG_OP_ADD, TG_OP_SUB, TG_OP_MUL};
            tg_op op = ops[below(g, 3)];
            if (t == TG_BOOL && op != TG_OP_MUL) break;
            return tgc_b_op(c, op, t, x, operand(g, t), -1);
        }
        case 3:
            if (f) break; /* float MAX: zero sign is free, so it comes last only */
            return tgc_b_op(c, TG_OP_MAX, t, x, operand(g, t), -1);
        case 4:
            if (t == TG_BOOL || (f && !exact_div)) break;
            return tgc_b_op(c, below(g, 2) ? TG_OP_DIV : TG_OP_MOD, t, x, f ? operand(g, t) : nonzero_const(g, t), -1);
        case 5:
            if (!exact_div) break;
            return tgc_b_op(c, below(g, 2) ? TG_OP_SQRT : TG_OP_RECIP, t, x, -1, -1);
        case 6:
            return tgc_b_op(c, TG_OP_CMPLT, TG_BOOL, x, operand(g, t), -1);
        case 7: {
            int cond = bool_operand(g, x);
            return tgc_b_op(c, TG_OP_WHERE, t, cond, x, operand(g, t));
        }
        default: { /* a cast that is exact: not float -> int */
            tg_dtype to = random_dtype(g);
            if (f && !is_float(to) && to != TG_BOOL) break;
            return tgc_b_op(c, TG_OP_CAST, to, x, -1, -1);
        }
        }
    }
    return tgc_b_op(c, TG_OP_CMPLT, TG_BOOL, x, operand(g, t), -1);
}

/* Any op OPS.md defines on x's dtype: the node the judge checks. */
static int final_step(gen *g) {
    int x = g->pool[below(g, g->npool)];
    tg_dtype t = dt_of(g, x);
    tgc_case *c = g->c;
    for (int tries = 0; tries < 16; tries++) {
        tg_op op = (tg_op)below(g, 16);
        int f = is_float(t);
        if (t == TG_BOOL && !(op == TG_OP_CAST || op == TG_OP_CMPLT || op == TG_OP_MAX || op == TG_OP_MUL || op == TG_OP_WHERE)) continue;
        if (!f && (op == TG_OP_EXP2 || op == TG_OP_LOG2 || op == TG_OP_SQRT || op == TG_OP_RECIP || op == TG_OP_SIN)) continue;
        switch (op) {
        case TG_OP_CAST: return tgc_b_op(c, op, random_dtype(g), x, -1, -1);
        case TG_OP_CMPLT: return tgc_b_op(c, op, TG_BOOL, x, operand(g, t), -1);
        case TG_OP_WHERE: return tgc_b_op(c, op, t, bool_operand(g, x), x, operand(g, t));
        case TG_OP_MULACC: if (t == TG_BOOL) continue; return tgc_b_op(c, op, t, x, operand(g, t), operand(g, t));
        case TG_OP_ADD: case TG_OP_SUB: case TG_OP_MUL: case TG_OP_DIV: case TG_OP_MOD: case TG_OP_MAX:
            return tgc_b_op(c, op, t, x, operand(g, t), -1);
        default: return tgc_b_op(c, op, t, x, -1, -1);
        }
    }
    return tgc_b_op(c, TG_OP_CMPLT, TG_BOOL, x, operand(g, t), -1);
}

static int values_for(gen *g, tg_dtype t) {
    if (is_float(t)) {
        static const int v[] = {TGC_V_RANDOM, TGC_V_RANDOM, TGC_V_SPECIAL, TGC_V_SUBNORMAL, TGC_V_LARGE, TGC_V_POSITIVE};
        return v[below(g, 6)];
    }
    static const int v[] = {TGC_V_RANDOM, TGC_V_SPECIAL, TGC_V_SMALL};
    return v[below(g, 3)];
}

static void generate(gen *g, uint64_t seed) {
    tgc_case *c = g->c;
    int64_t dims[TG_MAX_DIMS];
    uint32_t ndim = 1 + (uint32_t)below(g, 4), axes = 0;
    for (uint32_t d = 0; d < ndim; d++) dims[d] = below(g, 40) == 0 ? 0 : 1 + below(g, 6);
    if (below(g, 3) == 0) axes = 1u + (uint32_t)below(g, (1 << ndim) - 1);
    tgc_b_init(c, ndim, dims, axes);
    int64_t out[TG_MAX_DIMS];
    tgc_b_out_shape(c, out);
    tg_dtype main_dt = random_dtype(g);
    int nloads = 1 + below(g, 3);
    for (int i = 0; i < nloads; i++) {
        tg_dtype t = i == 0 || below(g, 3) ? main_dt : random_dtype(g);
        add_pool(g, tgc_b_load(c, t, below(g, 8), c->shape, values_for(g, t)));
    }
    int steps = below(g, 6);
    for (int i = 0; i < steps && c->nnodes < 16; i++) add_pool(g, chain_step(g));
    int last = g->pool[g->npool - 1];
    c->rule = TGC_RULE_CHAIN;
    c->tol_ulp = 0;
    if (axes) {
        tg_dtype t = dt_of(g, last);
        tg_op op = t == TG_BOOL || below(g, 2) ? TG_OP_REDUCE_MAX : TG_OP_REDUCE_SUM;
        int r = tgc_b_op(c, op, t, last, -1, -1);
        if (is_float(t)) { /* judged by its own rule; nothing after it */
            c->rule = TGC_RULE_NODE;
            c->judge = (uint8_t)r;
        } else {
            g->npool = 0;
            add_pool(g, r);
            for (int i = below(g, 3); i > 0 && c->nnodes < 16; i--) add_pool(g, chain_step(g));
            r = g->pool[g->npool - 1];
        }
        tgc_b_store(c, r, below(g, 2) ? TGC_VK_CONTIG : TGC_VK_FLIP, out);
    } else if (below(g, 2)) {
        int n = final_step(g);
        c->rule = TGC_RULE_NODE;
        c->judge = (uint8_t)n;
        tgc_b_store(c, n, below(g, 4), out);
    } else {
        tgc_b_store(c, last, below(g, 4), out);
        if (g->npool > 1 && below(g, 3) == 0) {
            int other = g->pool[below(g, g->npool - 1)];
            if (c->nodes[other].op != TG_OP_LOAD) tgc_b_store(c, other, TGC_VK_CONTIG, out);
        }
    }
    c->row = TGC_ROW_FUSION;
    c->dtype = (uint8_t)main_dt;
    c->levels = TGC_LEVEL_FUSION;
    c->seed = seed;
}

tg_status tgc_fuzz_case(uint64_t seed, tgc_case *out) {
    for (int attempt = 0; attempt < 100; attempt++) {
        gen g = {.c = out, .s = seed * 0x9e3779b97f4a7c15ull + (uint64_t)attempt};
        generate(&g, seed);
        snprintf(out->id, sizeof out->id, "fuzz.%llu", (unsigned long long)seed);
        tg_kernel k;
        tgc_case_kernel(out, &k);
        if (tg_kernel_validate(&k, NULL) == TG_OK) return TG_OK;
    }
    return tg_error(TG_ERR_INTERNAL, "fuzz: no valid kernel from seed %llu: %s", (unsigned long long)seed, tg_last_error());
}

/* ------------------------------------------------------------ shrink */

/* Drop nodes no STORE needs and params no node uses; renumber. Returns -1
 * if the judged node would go. */
static int compact(tgc_case *c) {
    int live[TGC_MAX_NODES] = {0}, map[TGC_MAX_NODES], pmap[TGC_MAX_PARAMS];
    for (int i = (int)c->nnodes - 1; i >= 0; i--) {
        if (c->nodes[i].op == TG_OP_STORE) live[i] = 1;
        if (!live[i]) continue;
        for (int s = 0; s < 3; s++)
            if (c->nodes[i].src[s] >= 0) live[c->nodes[i].src[s]] = 1;
    }
    if (c->rule == TGC_RULE_NODE && !live[c->judge]) return -1;
    int used[TGC_MAX_PARAMS] = {0};
    uint32_t n = 0;
    for (uint32_t i = 0; i < c->nnodes; i++) {
        map[i] = -1;
        if (!live[i]) continue;
        map[i] = (int)n;
        tg_node x = c->nodes[i];
        for (int s = 0; s < 3; s++)
            if (x.src[s] >= 0) x.src[s] = map[x.src[s]];
        if (x.op == TG_OP_LOAD || x.op == TG_OP_STORE) used[x.buffer] = 1;
        c->nodes[n++] = x;
    }
    if (c->rule == TGC_RULE_NODE) c->judge = (uint8_t)map[c->judge];
    int has_reduce = 0;
    c->nnodes = n;
    uint32_t np = 0;
    for (uint32_t p = 0; p < c->nparams; p++) {
        pmap[p] = -1;
        if (!used[p]) continue;
        pmap[p] = (int)np;
        c->values[np] = c->values[p];
        c->params[np++] = c->params[p];
    }
    c->nparams = np;
    for (uint32_t i = 0; i < n; i++) {
        if (c->nodes[i].op == TG_OP_LOAD || c->nodes[i].op == TG_OP_STORE) c->nodes[i].buffer = (uint32_t)pmap[c->nodes[i].buffer];
        has_reduce |= c->nodes[i].op == TG_OP_REDUCE_SUM || c->nodes[i].op == TG_OP_REDUCE_MAX;
    }
    if (!has_reduce) c->reduce_axes = 0;
    return 0;
}

static int valid(const tgc_case *c) {
    tg_kernel k;
    tgc_case_kernel(c, &k);
    return tg_kernel_validate(&k, NULL) == TG_OK;
}

/* Node i's uses now point at node `by`. */
static void bypass(tgc_case *c, int i, int by) {
    for (uint32_t j = (uint32_t)i + 1; j < c->nnodes; j++)
        for (int s = 0; s < 3; s++)
            if (c->nodes[j].src[s] == i) c->nodes[j].src[s] = by;
}

/* Make a LOAD/STORE's stack one contiguous view of its top shape. */
static int flatten_view(tgc_case *c, int i) {
    tg_node *n = &c->nodes[i];
    tg_view top = c->views[n->view + n->nviews - 1];
    if (n->nviews == 1 && !top.has_mask && top.offset == 0) {
        int64_t s = 1, contiguous = 1;
        for (int d = (int)top.ndim - 1; d >= 0; d--) {
            if (top.shape[d] > 1 && top.strides[d] != s) contiguous = 0;
            s *= top.shape[d];
        }
        if (contiguous) return -1;
    }
    tg_view *v = &c->views[n->view];
    memset(v, 0, sizeof *v);
    v->ndim = top.ndim;
    int64_t s = 1;
    for (int d = (int)top.ndim - 1; d >= 0; d--) {
        v->shape[d] = top.shape[d];
        v->strides[d] = s;
        s *= top.shape[d] > 0 ? top.shape[d] : 1;
    }
    n->nviews = 1;
    c->params[n->buffer].count = tgc_numel(top.ndim, top.shape);
    return 0;
}

/* Axis d of the iteration space becomes `len` long (len < shape[d]). */
static void shrink_axis(tgc_case *c, uint32_t d, int64_t len) {
    for (uint32_t i = 0; i < c->nnodes; i++) {
        tg_node *n = &c->nodes[i];
        if (n->op != TG_OP_LOAD && n->op != TG_OP_STORE) continue;
        tg_view *top = &c->views[n->view + n->nviews - 1];
        if (top->shape[d] != c->shape[d]) continue; /* a reduced axis of the output stage */
        top->shape[d] = len;
        if (top->mask_hi[d] > len) top->mask_hi[d] = len;
        if (top->mask_lo[d] > len) top->mask_lo[d] = len;
    }
    c->shape[d] = len;
}

int tgc_fuzz_shrink(tgc_case *c, tgc_fail_fn still_fails, void *ctx) {
    tgc_case *t = malloc(sizeof *t);
    int accepted = 0, progress = 1, budget = 200;
    if (!t) return 0;
#define TRY(edit)                                                              \
    do {                                                                       \
        *t = *c;                                                               \
        if ((edit) == 0 && compact(t) == 0 && valid(t) && budget-- > 0 &&      \
            still_fails(t, ctx)) {                                             \
            *c = *t;                                                           \
            accepted++;                                                        \
            progress = 1;                                                      \
        }                                                                      \
    } while (0)
    while (progress && budget > 0) {
        progress = 0;
        /* bypass an op: its uses take one of its same-dtype operands */
        for (int i = (int)c->nnodes - 1; i >= 0; i--) {
            tg_node n = c->nodes[i];
            if (n.op == TG_OP_LOAD || n.op == TG_OP_STORE || n.op == TG_OP_CONST) continue;
            if (c->rule == TGC_RULE_NODE && i == c->judge) continue;
            for (int s = 0; s < 3 && i < (int)c->nnodes; s++)
                if (n.src[s] >= 0 && c->nodes[n.src[s]].dtype == n.dtype) TRY((bypass(t, i, n.src[s]), 0));
        }
        /* plain views */
        for (int i = 0; i < (int)c->nnodes; i++)
            if (c->nodes[i].op == TG_OP_LOAD || c->nodes[i].op == TG_OP_STORE) TRY(flatten_view(t, i));
        /* smaller iteration space */
        for (uint32_t d = 0; d < c->ndim; d++) {
            if (c->shape[d] > 1) TRY((shrink_axis(t, d, 1), 0));
            if (c->shape[d] > 2) TRY((shrink_axis(t, d, c->shape[d] / 2), 0));
        }
        /* plain values */
        for (uint32_t p = 0; p < c->nparams; p++)
            if (c->params[p].access == TG_ACCESS_READ && c->values[p] != TGC_V_RANDOM) TRY((t->values[p] = TGC_V_RANDOM, 0));
        /* one output */
        for (int i = 0; i < (int)c->nnodes; i++) {
            int stores = 0;
            for (uint32_t j = 0; j < c->nnodes; j++) stores += c->nodes[j].op == TG_OP_STORE;
            if (c->nodes[i].op == TG_OP_STORE && stores > 1) TRY((t->nodes[i].op = TG_OP_CONST, t->nodes[i].src[0] = -1, 0));
        }
    }
#undef TRY
    free(t);
    return accepted;
}
