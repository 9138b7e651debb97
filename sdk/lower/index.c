/* sdk/lower/index.c -- the one view-stack walk: for every LOAD and STORE an
 * element index and a validity predicate as expressions over the loop
 * indices, affine wherever the stack allows (unravelling without div/mod when
 * no dimension can carry), div/mod only where it must; then range analysis
 * decides whether 32-bit index arithmetic is safe. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lower_internal.h"

typedef struct aff { /* c0 + sum_j c[j] * i_j */
    int64_t c0, c[TG_MAX_DIMS];
} aff;

typedef struct builder {
    tgl_prog *p;
    uint32_t cap;
    int oom;
} builder;

static int64_t sat_add(int64_t a, int64_t b) {
    int64_t r;
    return __builtin_add_overflow(a, b, &r) ? (a > 0 ? INT64_MAX : INT64_MIN) : r;
}
static int64_t sat_mul(int64_t a, int64_t b) {
    int64_t r;
    return __builtin_mul_overflow(a, b, &r) ? ((a < 0) != (b < 0) ? INT64_MIN : INT64_MAX) : r;
}

/* Append a node, with its range; -1 when out of memory. */
static int32_t ex(builder *b, uint32_t kind, int32_t x, int32_t y, int64_t v) {
    tgl_prog *p = b->p;
    if (b->oom) return -1;
    if (p->nexpr == b->cap) {
        uint32_t cap = b->cap ? b->cap * 2 : 64;
        tgl_expr *e = realloc(p->expr, cap * sizeof *e);
        if (!e) { b->oom = 1; return -1; }
        p->expr = e;
        b->cap = cap;
    }
    tgl_expr e = {kind, x, y, v, 0, 0};
    const tgl_expr *A = x >= 0 ? &p->expr[x] : NULL, *B = y >= 0 ? &p->expr[y] : NULL;
    switch (kind) {
    case TGL_E_CONST: e.lo = e.hi = v; break;
    case TGL_E_VAR: e.lo = 0; e.hi = p->kernel->shape[v] > 0 ? p->kernel->shape[v] - 1 : 0; break;
    case TGL_E_ARG: e.lo = 0; e.hi = p->kernel->args[v].max; break;
    case TGL_E_ADD: e.lo = sat_add(A->lo, B->lo); e.hi = sat_add(A->hi, B->hi); break;
    case TGL_E_MUL:
        e.lo = sat_mul(v < 0 ? A->hi : A->lo, v);
        e.hi = sat_mul(v < 0 ? A->lo : A->hi, v);
        break;
    case TGL_E_DIV: e.lo = A->lo / v; e.hi = A->hi / v; break;
    case TGL_E_MOD:
        if (A->lo >= 0 && A->hi < v) e.lo = A->lo, e.hi = A->hi;
        else e.lo = A->lo >= 0 ? 0 : -(v - 1), e.hi = v - 1;
        break;
    default: e.lo = 0; e.hi = 1; break;
    }
    p->expr[p->nexpr] = e;
    return (int32_t)p->nexpr++;
}

static int32_t aff_expr(builder *b, const aff *a, uint32_t ndim) {
    int32_t e = -1;
    for (uint32_t j = 0; j < ndim; j++) {
        if (!a->c[j]) continue;
        int32_t t = ex(b, TGL_E_VAR, -1, -1, j);
        if (a->c[j] != 1) t = ex(b, TGL_E_MUL, t, -1, a->c[j]);
        e = e < 0 ? t : ex(b, TGL_E_ADD, e, t, 0);
    }
    if (e < 0) return ex(b, TGL_E_CONST, -1, -1, a->c0);
    return a->c0 ? ex(b, TGL_E_ADD, e, ex(b, TGL_E_CONST, -1, -1, a->c0), 0) : e;
}

/* Unravel an affine address into the row-major shape of view v without div/mod:
 * possible when every term lands in one dimension and no dimension can carry
 * over the whole iteration box. */
static int aff_unravel(const tg_kernel *k, const aff *addr, const tg_view *v, aff *u) {
    int64_t P[TG_MAX_DIMS], off = addr->c0;
    int nl = (int)v->ndim;
    if (off < 0 || nl == 0) return 0;
    for (int d = nl - 1; d >= 0; d--) {
        if (v->shape[d] <= 0) return 0;
        P[d] = d == nl - 1 ? 1 : P[d + 1] * v->shape[d + 1];
        memset(&u[d], 0, sizeof u[d]);
    }
    for (int d = nl - 1; d > 0; d--) {
        u[d].c0 = off % v->shape[d];
        off /= v->shape[d];
    }
    u[0].c0 = off;
    for (uint32_t j = 0; j < k->ndim; j++) {
        int64_t s = addr->c[j];
        if (!s) continue;
        int d = 0;
        while (s % P[d] != 0) d++;
        u[d].c[j] += s / P[d];
    }
    for (int d = 0; d < nl; d++) {
        int64_t lo = u[d].c0, hi = u[d].c0;
        for (uint32_t j = 0; j < k->ndim; j++) {
            int64_t r = u[d].c[j] * (k->shape[j] > 0 ? k->shape[j] - 1 : 0);
            if (r < 0) lo += r;
            else hi += r;
        }
        if (lo < 0 || hi >= v->shape[d]) return 0;
    }
    return 1;
}

static int32_t and_of(builder *b, int32_t valid, int32_t cond) {
    return valid < 0 ? cond : ex(b, TGL_E_AND, valid, cond, 0);
}

/* The access of LOAD/STORE node n; post: evaluated after the reduction, where
 * the reduced axes are 0. */
static void access_build(builder *b, uint32_t n, int post) {
    const tg_kernel *k = b->p->kernel;
    const tg_node *nd = &k->nodes[n];
    int is_aff = 1;
    aff ix[TG_MAX_DIMS], addr;
    int32_t name[TG_MAX_DIMS], cur = -1, valid = -1;
    int empty = 0; /* a mask with no valid index: the access never happens */
    for (int vi = (int)nd->nviews - 1; vi >= 0; vi--) {
        const tg_view *v = &k->views[nd->view + vi];
        if (vi == (int)nd->nviews - 1) {
            for (uint32_t d = 0; d < v->ndim; d++) {
                memset(&ix[d], 0, sizeof ix[d]);
                int reduced = post && b->p->reduce_node >= 0 && (k->reduce_axes >> d & 1u);
                if (!reduced && v->shape[d] != 1) ix[d].c[d] = 1;
            }
        } else if (!(is_aff && aff_unravel(k, &addr, v, ix))) {
            int32_t t = is_aff ? aff_expr(b, &addr, k->ndim) : cur;
            is_aff = 0;
            int64_t P = 1;
            for (int d = (int)v->ndim - 1; d >= 0; d--) {
                if (v->shape[d] <= 1) name[d] = ex(b, TGL_E_CONST, -1, -1, 0);
                else name[d] = ex(b, TGL_E_MOD, P == 1 ? t : ex(b, TGL_E_DIV, t, -1, P), -1, v->shape[d]);
                if (v->shape[d] > 0) P *= v->shape[d];
            }
        }
        if (is_aff) {
            memset(&addr, 0, sizeof addr);
            addr.c0 = v->offset;
            for (uint32_t d = 0; d < v->ndim; d++) {
                addr.c0 += ix[d].c0 * v->strides[d];
                for (uint32_t j = 0; j < k->ndim; j++) addr.c[j] += ix[d].c[j] * v->strides[d];
            }
        } else {
            cur = ex(b, TGL_E_CONST, -1, -1, v->offset);
            for (uint32_t d = 0; d < v->ndim; d++)
                if (v->strides[d] != 0 && v->shape[d] > 1)
                    cur = ex(b, TGL_E_ADD, cur, ex(b, TGL_E_MUL, name[d], -1, v->strides[d]), 0);
        }
        if (!v->has_mask) continue;
        for (uint32_t d = 0; d < v->ndim; d++) {
            if (v->mask_lo[d] >= v->mask_hi[d]) empty = 1;
            for (int side = 0; side < 2; side++) {
                if (side ? v->mask_hi[d] >= v->shape[d] : v->mask_lo[d] <= 0) continue;
                int32_t i = is_aff ? aff_expr(b, &ix[d], k->ndim) : name[d];
                int32_t cond = side ? ex(b, TGL_E_LT, i, -1, v->mask_hi[d]) : ex(b, TGL_E_GE, i, -1, v->mask_lo[d]);
                valid = and_of(b, valid, cond);
            }
        }
    }
    b->p->access[n].addr = is_aff ? aff_expr(b, &addr, k->ndim) : cur;
    for (uint32_t o = 0; tgl_arg_bounds(k) && o < k->noffsets; o++) /* 1.1: a moving bottom view */
        if (k->offsets[o].view == nd->view)
            b->p->access[n].addr = ex(b, TGL_E_ADD, b->p->access[n].addr,
                                      ex(b, TGL_E_MUL, ex(b, TGL_E_ARG, -1, -1, k->offsets[o].arg), -1, k->offsets[o].stride), 0);
    b->p->access[n].valid = empty ? ex(b, TGL_E_CONST, -1, -1, 0) : valid;
}

static int fits32(int64_t x) { return x >= INT32_MIN && x <= INT32_MAX; }

tg_status tgl_index_build(tgl_prog *p) {
    builder b = {p, 0, 0};
    const tg_kernel *k = p->kernel;
    for (uint32_t n = 0; n < k->nnodes; n++) {
        p->access[n].addr = p->access[n].valid = -1;
        uint32_t op = k->nodes[n].op;
        if (op == TG_OP_LOAD || op == TG_OP_STORE) access_build(&b, n, op == TG_OP_STORE || !p->cone[n]);
    }
    if (b.oom) return TG_ERR_NO_MEMORY;
    int ok = p->target.index_bits == 32 && fits32(p->out_count) && fits32(p->red_count) &&
             p->pass[0].global <= INT32_MAX;
    for (uint32_t d = 0; d < k->ndim && ok; d++) ok = fits32(k->shape[d]);
    for (uint32_t e = 0; e < p->nexpr && ok; e++) ok = fits32(p->expr[e].lo) && fits32(p->expr[e].hi) && fits32(p->expr[e].v);
    p->index32 = ok;
    return TG_OK;
}
