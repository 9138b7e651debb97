/* Assemble case kernels: params, views of each kind, nodes. */
#include <string.h>
#include "build.h"

const char *const tgc_view_kind_names[TGC_VK_COUNT] = {
    "contig", "expand", "permute", "shrink", "pad", "flip", "stride", "stack", "mixed", "stackpad"};

int64_t tgc_numel(uint32_t ndim, const int64_t *shape) {
    int64_t n = 1;
    for (uint32_t d = 0; d < ndim; d++) n *= shape[d];
    return n;
}

void tgc_case_kernel(const tgc_case *c, tg_kernel *k) {
    memset(k, 0, sizeof *k);
    k->struct_size = sizeof *k;
    k->ndim = c->ndim;
    memcpy(k->shape, c->shape, sizeof k->shape);
    k->reduce_axes = c->reduce_axes;
    k->nnodes = c->nnodes;
    k->nodes = c->nodes;
    k->nviews = c->nviews;
    k->views = c->views;
    k->nparams = c->nparams;
    k->params = c->params;
    k->name = "conform";
    k->nargs = c->nargs; /* 1.1 */
    k->args = c->args;
    memcpy(k->extent_arg, c->extent_arg, sizeof k->extent_arg);
    k->noffsets = c->noffsets;
    k->offsets = c->offsets;
    k->hash = tg_kernel_hash(k);
}

void tgc_b_init(tgc_case *c, uint32_t ndim, const int64_t *shape, uint32_t reduce_axes) {
    memset(c, 0, sizeof *c);
    c->ndim = ndim;
    for (uint32_t d = 0; d < ndim; d++) c->shape[d] = shape[d];
    c->reduce_axes = reduce_axes;
}

void tgc_b_out_shape(const tgc_case *c, int64_t *out) {
    memset(out, 0, sizeof(int64_t) * TG_MAX_DIMS);
    for (uint32_t d = 0; d < c->ndim; d++) out[d] = (c->reduce_axes >> d & 1) ? 1 : c->shape[d];
}

static void row_major(uint32_t ndim, const int64_t *shape, int64_t *strides) {
    int64_t s = 1;
    for (int d = (int)ndim - 1; d >= 0; d--) {
        strides[d] = s;
        s *= shape[d] > 0 ? shape[d] : 1;
    }
}

static tg_view *new_view(tgc_case *c) {
    tg_view *v = &c->views[c->nviews++];
    memset(v, 0, sizeof *v);
    v->ndim = c->ndim;
    return v;
}

/* Make the view stack of kind vk for shape sh; returns the element count the
 * buffer needs and sets *first and *n. */
static int64_t make_view(tgc_case *c, int vk, const int64_t *sh, uint32_t *first, uint32_t *n) {
    uint32_t nd = c->ndim;
    int64_t base[TG_MAX_DIMS], bs[TG_MAX_DIMS];
    *first = c->nviews;
    *n = 1;
    tg_view *v = new_view(c);
    memcpy(v->shape, sh, sizeof(int64_t) * nd);
    int64_t numel = tgc_numel(nd, sh);
    switch (vk) {
    case TGC_VK_EXPAND: /* broadcast along every even axis */
        for (uint32_t d = 0; d < nd; d++) base[d] = (d % 2 == 0) ? 1 : sh[d];
        row_major(nd, base, bs);
        for (uint32_t d = 0; d < nd; d++) v->strides[d] = (d % 2 == 0) ? 0 : bs[d];
        return numel == 0 ? 0 : tgc_numel(nd, base);
    case TGC_VK_PERMUTE: /* buffer holds the axes reversed */
        for (uint32_t d = 0; d < nd; d++) base[d] = sh[nd - 1 - d];
        row_major(nd, base, bs);
        for (uint32_t d = 0; d < nd; d++) v->strides[d] = bs[nd - 1 - d];
        return numel;
    case TGC_VK_SHRINK: /* a window [1, n+1) of a buffer two larger per axis */
        for (uint32_t d = 0; d < nd; d++) base[d] = sh[d] + 2;
        row_major(nd, base, bs);
        for (uint32_t d = 0; d < nd; d++) {
            v->strides[d] = bs[d];
            v->offset += bs[d];
        }
        return tgc_numel(nd, base);
    case TGC_VK_PAD: /* one zero on each side of a buffer two smaller */
        for (uint32_t d = 0; d < nd; d++) base[d] = sh[d] >= 2 ? sh[d] - 2 : 0;
        row_major(nd, base, bs);
        v->has_mask = 1;
        for (uint32_t d = 0; d < nd; d++) {
            v->strides[d] = bs[d];
            v->offset -= bs[d];
            v->mask_lo[d] = 1;
            v->mask_hi[d] = 1 + base[d];
        }
        if (nd == 0) v->has_mask = 0;
        return tgc_numel(nd, base);
    case TGC_VK_FLIP: /* every axis reversed */
        row_major(nd, sh, bs);
        for (uint32_t d = 0; d < nd; d++) {
            v->strides[d] = -bs[d];
            if (sh[d] > 0) v->offset += (sh[d] - 1) * bs[d];
        }
        return numel;
    case TGC_VK_STRIDE: /* every other element; the last axis backwards */
        for (uint32_t d = 0; d < nd; d++) base[d] = 2 * sh[d];
        row_major(nd, base, bs);
        for (uint32_t d = 0; d < nd; d++) v->strides[d] = 2 * bs[d];
        if (nd > 0 && sh[nd - 1] > 0) {
            v->strides[nd - 1] = -2 * bs[nd - 1];
            v->offset = (2 * sh[nd - 1] - 1) * bs[nd - 1];
        }
        return tgc_numel(nd, base);
    case TGC_VK_MIXED: /* axes reversed, a window [1, n+1) of each, axis 0 backwards */
        for (uint32_t d = 0; d < nd; d++) base[d] = sh[nd - 1 - d] + 1;
        row_major(nd, base, bs);
        for (uint32_t d = 0; d < nd; d++) {
            v->strides[d] = bs[nd - 1 - d];
            v->offset += bs[d];
        }
        if (nd > 0 && sh[0] > 0) {
            v->offset += (sh[0] - 1) * bs[nd - 1];
            v->strides[0] = -bs[nd - 1];
        }
        return tgc_numel(nd, base);
    case TGC_VK_STACK:
    case TGC_VK_STACKPAD: { /* [r, c] transposed (strides [1, r]), reshaped to sh */
        int64_t r = nd > 0 ? sh[nd - 1] : 1, cc = r > 0 ? numel / r : 0;
        if (r == 0) cc = 0;
        tg_view *lo = v; /* views[first] is the bottom of the stack */
        lo->ndim = 2;
        memset(lo->shape, 0, sizeof lo->shape);
        lo->shape[0] = r;
        lo->shape[1] = cc;
        lo->strides[0] = 1;
        lo->strides[1] = r;
        tg_view *top = new_view(c);
        memcpy(top->shape, sh, sizeof(int64_t) * nd);
        row_major(nd, sh, top->strides);
        *n = 2;
        if (vk == TGC_VK_STACKPAD && nd > 0) { /* top: axis 0 from 1; bottom: not its last column */
            top->has_mask = lo->has_mask = 1;
            for (uint32_t d = 0; d < nd; d++) top->mask_hi[d] = sh[d];
            top->mask_lo[0] = sh[0] > 0 ? 1 : 0;
            lo->mask_hi[0] = r;
            lo->mask_hi[1] = cc > 0 ? cc - 1 : 0;
        }
        return numel;
    }
    default:
        row_major(nd, sh, v->strides);
        return numel;
    }
}

static int add_node(tgc_case *c, tg_op op, tg_dtype dt) {
    tg_node *n = &c->nodes[c->nnodes];
    memset(n, 0, sizeof *n);
    n->op = op;
    n->dtype = dt;
    n->src[0] = n->src[1] = n->src[2] = -1;
    return (int)c->nnodes++;
}

int tgc_b_load(tgc_case *c, tg_dtype dt, int vk, const int64_t *vshape, int values) {
    uint32_t p = c->nparams++, first, n;
    int64_t count = make_view(c, vk, vshape, &first, &n);
    c->params[p] = (tg_param){.dtype = dt, .access = TG_ACCESS_READ, .count = count};
    c->values[p] = (uint8_t)values;
    int id = add_node(c, TG_OP_LOAD, dt);
    c->nodes[id].buffer = p;
    c->nodes[id].view = first;
    c->nodes[id].nviews = n;
    return id;
}

int tgc_b_load_view(tgc_case *c, tg_dtype dt, const tg_view *v, int64_t count, int values) {
    uint32_t p = c->nparams++;
    c->views[c->nviews] = *v;
    c->params[p] = (tg_param){.dtype = dt, .access = TG_ACCESS_READ, .count = count};
    c->values[p] = (uint8_t)values;
    int id = add_node(c, TG_OP_LOAD, dt);
    c->nodes[id].buffer = p;
    c->nodes[id].view = c->nviews++;
    c->nodes[id].nviews = 1;
    return id;
}

int tgc_b_const(tgc_case *c, tg_dtype dt, tg_scalar v) {
    int id = add_node(c, TG_OP_CONST, dt);
    c->nodes[id].value = v;
    return id;
}

int tgc_b_op(tgc_case *c, tg_op op, tg_dtype dt, int s0, int s1, int s2) {
    int id = add_node(c, op, dt);
    c->nodes[id].src[0] = s0;
    c->nodes[id].src[1] = s1;
    c->nodes[id].src[2] = s2;
    return id;
}

/* Guard elements before and after every output's stored region: they hold
 * the sentinel and must keep it, so a stray write shows (even from a kernel
 * that stores nothing). */
enum { GUARD = 4 };

void tgc_b_store(tgc_case *c, int src, int vk, const int64_t *vshape) {
    uint32_t p = c->nparams++, first, n;
    tg_dtype dt = (tg_dtype)c->nodes[src].dtype;
    int64_t count = make_view(c, vk, vshape, &first, &n) + 2 * GUARD;
    c->views[first].offset += GUARD; /* the bottom view gives the element index */
    c->params[p] = (tg_param){.dtype = dt, .access = TG_ACCESS_WRITE, .count = count};
    int id = add_node(c, TG_OP_STORE, dt);
    c->nodes[id].src[0] = src;
    c->nodes[id].buffer = p;
    c->nodes[id].view = first;
    c->nodes[id].nviews = n;
}

int tgc_view_addr(const tg_view *views, uint32_t n, const int64_t *point, int64_t *addr) {
    int64_t idx[TG_MAX_DIMS];
    memcpy(idx, point, sizeof idx);
    for (int k = (int)n - 1; k >= 0; k--) {
        const tg_view *v = &views[k];
        int64_t a = v->offset;
        for (uint32_t d = 0; d < v->ndim; d++) {
            if (v->has_mask && (idx[d] < v->mask_lo[d] || idx[d] >= v->mask_hi[d])) return 0;
            a += idx[d] * v->strides[d];
        }
        if (k == 0) {
            *addr = a;
            return 1;
        }
        const tg_view *lo = &views[k - 1];
        for (int d = (int)lo->ndim - 1; d >= 0; d--) {
            int64_t s = lo->shape[d];
            idx[d] = s > 0 ? a % s : 0;
            a = s > 0 ? a / s : 0;
        }
    }
    return 0;
}
