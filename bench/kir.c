/* Hand-built kernel IR for the benchmarks (see kir.h). */
#include <stdio.h>
#include <string.h>
#include <tg/runtime.h>
#include "kir.h"

void kir_init(kir *b, const char *name, uint32_t ndim, const int64_t *shape, uint32_t reduce_axes) {
    memset(b, 0, sizeof *b);
    snprintf(b->name, sizeof b->name, "%s", name);
    b->k.struct_size = sizeof(tg_kernel);
    b->k.ndim = ndim;
    for (uint32_t d = 0; d < ndim; d++) b->k.shape[d] = shape[d];
    b->k.reduce_axes = reduce_axes;
}

int kir_param(kir *b, uint32_t access, int64_t count) {
    if (b->k.nparams == KIR_MAX_PARAMS) return b->bad = 1, 0;
    tg_param *p = &b->params[b->k.nparams];
    p->dtype = TG_FLOAT32;
    p->access = access;
    p->count = count;
    return (int)b->k.nparams++;
}

static int add_node(kir *b, tg_op op, tg_dtype dt) {
    if (b->k.nnodes == KIR_MAX_NODES) return b->bad = 1, 0;
    tg_node *n = &b->nodes[b->k.nnodes];
    memset(n, 0, sizeof *n);
    n->op = op;
    n->dtype = dt;
    n->src[0] = n->src[1] = n->src[2] = -1;
    return (int)b->k.nnodes++;
}

static uint32_t add_view(kir *b, const int64_t *strides, int64_t offset, int reduced) {
    tg_view *v = &b->views[b->k.nviews];
    memset(v, 0, sizeof *v);
    v->ndim = b->k.ndim;
    v->offset = offset;
    for (uint32_t d = 0; d < v->ndim; d++) {
        v->shape[d] = reduced && (b->k.reduce_axes >> d & 1) ? 1 : b->k.shape[d];
        v->strides[d] = v->shape[d] == 1 ? 0 : strides[d];
    }
    return b->k.nviews++;
}

int kir_load(kir *b, int param, const int64_t *strides, int64_t offset, int reduced) {
    int n = add_node(b, TG_OP_LOAD, TG_FLOAT32);
    b->nodes[n].buffer = (uint32_t)param;
    b->nodes[n].view = add_view(b, strides, offset, reduced);
    b->nodes[n].nviews = 1;
    return n;
}

int kir_load2(kir *b, int param, const tg_view *lower, const int64_t *strides, int64_t offset, int reduced) {
    int n = add_node(b, TG_OP_LOAD, TG_FLOAT32);
    b->nodes[n].buffer = (uint32_t)param;
    b->nodes[n].view = b->k.nviews;
    b->views[b->k.nviews++] = *lower;
    add_view(b, strides, offset, reduced);
    b->nodes[n].nviews = 2;
    return n;
}

int kir_const(kir *b, double value) {
    int n = add_node(b, TG_OP_CONST, TG_FLOAT32);
    b->nodes[n].value.f = (double)(float)value;
    return n;
}

int kir_op(kir *b, tg_op op, int a, int c, int d) {
    int n = add_node(b, op, op == TG_OP_CMPLT ? TG_BOOL : TG_FLOAT32);
    if (op == TG_OP_WHERE && c >= 0) b->nodes[n].dtype = b->nodes[c].dtype;
    b->nodes[n].src[0] = a;
    b->nodes[n].src[1] = c;
    b->nodes[n].src[2] = d;
    return n;
}

int kir_reduce(kir *b, tg_op op, int src) { return kir_op(b, op, src, -1, -1); }

void kir_store(kir *b, int param, const int64_t *strides, int src) {
    int n = add_node(b, TG_OP_STORE, TG_FLOAT32);
    b->nodes[n].buffer = (uint32_t)param;
    b->nodes[n].view = add_view(b, strides, 0, 1);
    b->nodes[n].nviews = 1;
    b->nodes[n].src[0] = src;
}

void kir_rowmajor(uint32_t ndim, const int64_t *shape, int64_t *out) {
    int64_t s = 1;
    for (int d = (int)ndim - 1; d >= 0; d--) {
        out[d] = s;
        s *= shape[d];
    }
}

const tg_kernel *kir_finish(kir *b) {
    if (b->bad) return NULL;
    b->k.nodes = b->nodes;
    b->k.views = b->views;
    b->k.params = b->params;
    b->k.name = b->name;
    b->k.hash = tg_kernel_hash(&b->k);
    return &b->k;
}
