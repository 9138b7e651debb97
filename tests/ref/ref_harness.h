/* tests/ref/ref_harness.h -- load tg-ref.so with dlopen (not through the
 * core's loader), build kernels by hand and run them on host arrays. */
#ifndef TG_TESTS_REF_HARNESS_H
#define TG_TESTS_REF_HARNESS_H

#include <dlfcn.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tg/plugin.h>

#include "tap.h"

typedef struct refh {
    void *so;
    tg_plugin_entry_fn entry;
    const tg_plugin_api *api;
    tg_device *dev;
} refh;

/* Open $TG_REF_PLUGIN and device 0; 0 on failure (after a failed TAP point). */
static inline int refh_open(refh *r) {
    const char *path = getenv("TG_REF_PLUGIN");
    memset(r, 0, sizeof *r);
    if (!tap_ok(path != NULL, "TG_REF_PLUGIN is set")) return 0;
    r->so = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!tap_ok(r->so != NULL, "dlopen %s", path)) {
        tap_diag("%s", dlerror());
        return 0;
    }
    void *sym = dlsym(r->so, TG_PLUGIN_ENTRY_NAME);
    if (!tap_ok(sym != NULL, "exports " TG_PLUGIN_ENTRY_NAME)) return 0;
    memcpy(&r->entry, &sym, sizeof sym);
    const char *reason = NULL;
    r->api = r->entry(TG_ABI_MAJOR, TG_ABI_MINOR, &reason);
    if (!tap_ok(r->api != NULL, "entry accepts ABI %d.%d", TG_ABI_MAJOR, TG_ABI_MINOR)) return 0;
    if (!tap_ok(r->api->device_create(0, &r->dev) == TG_OK, "device_create(0)")) return 0;
    return 1;
}

static inline void refh_close(refh *r) {
    if (r->api && r->dev) r->api->device_destroy(r->dev);
    if (r->so) dlclose(r->so);
}

/* ---------------------------------------------------------- building */

typedef struct kb {
    tg_kernel k;
    tg_node nodes[64];
    tg_view views[32];
    tg_param params[8];
} kb;

static inline void kb_init(kb *b, uint32_t ndim, const int64_t *shape, uint32_t reduce_axes) {
    memset(b, 0, sizeof *b);
    b->k.struct_size = sizeof(tg_kernel);
    b->k.ndim = ndim;
    for (uint32_t d = 0; d < ndim; d++) b->k.shape[d] = shape[d];
    b->k.reduce_axes = reduce_axes;
    b->k.nodes = b->nodes;
    b->k.views = b->views;
    b->k.params = b->params;
    b->k.name = "test";
}

/* A view; strides NULL means row-major contiguous. Returns its index. */
static inline uint32_t kb_view(kb *b, uint32_t ndim, const int64_t *shape, const int64_t *strides, int64_t offset) {
    tg_view *v = &b->views[b->k.nviews];
    memset(v, 0, sizeof *v);
    v->ndim = ndim;
    v->offset = offset;
    int64_t st = 1;
    for (uint32_t d = ndim; d-- > 0;) {
        v->shape[d] = shape[d];
        v->strides[d] = strides ? strides[d] : st;
        st *= shape[d];
    }
    return b->k.nviews++;
}

static inline void kb_mask(kb *b, uint32_t view, const int64_t *lo, const int64_t *hi) {
    tg_view *v = &b->views[view];
    v->has_mask = 1;
    for (uint32_t d = 0; d < v->ndim; d++) v->mask_lo[d] = lo[d], v->mask_hi[d] = hi[d];
}

static inline uint32_t kb_param(kb *b, uint32_t dtype, uint32_t access, int64_t count) {
    b->params[b->k.nparams] = (tg_param){dtype, access, count};
    return b->k.nparams++;
}

static inline int32_t kb_node(kb *b, uint32_t op, uint32_t dtype, int32_t s0, int32_t s1, int32_t s2) {
    tg_node *n = &b->nodes[b->k.nnodes];
    memset(n, 0, sizeof *n);
    n->op = op;
    n->dtype = dtype;
    n->src[0] = s0, n->src[1] = s1, n->src[2] = s2;
    return (int32_t)b->k.nnodes++;
}

/* LOAD/STORE through views [view, view+nviews). */
static inline int32_t kb_load(kb *b, uint32_t dtype, uint32_t buffer, uint32_t view, uint32_t nviews) {
    int32_t i = kb_node(b, TG_OP_LOAD, dtype, -1, -1, -1);
    b->nodes[i].buffer = buffer, b->nodes[i].view = view, b->nodes[i].nviews = nviews;
    return i;
}

static inline int32_t kb_store(kb *b, uint32_t dtype, uint32_t buffer, uint32_t view, int32_t src) {
    int32_t i = kb_node(b, TG_OP_STORE, dtype, src, -1, -1);
    b->nodes[i].buffer = buffer, b->nodes[i].view = view, b->nodes[i].nviews = 1;
    return i;
}

static inline int32_t kb_const(kb *b, uint32_t dtype, tg_scalar value) {
    int32_t i = kb_node(b, TG_OP_CONST, dtype, -1, -1, -1);
    b->nodes[i].value = value;
    return i;
}

/* ----------------------------------------------------------- running */

static inline size_t refh_dtype_size(uint32_t dt) {
    static const size_t size[TG_DTYPE_COUNT] = {1, 1, 1, 2, 2, 4, 4, 8, 8, 2, 2, 4, 8};
    return size[dt];
}

/* Compile and run; host[i] holds params[i].count elements and receives the
 * result for written params. Returns the first failing status. */
static inline tg_status refh_run(refh *r, const tg_kernel *k, void **host) {
    const tg_plugin_api *a = r->api;
    tg_program *prog = NULL;
    tg_buffer *bufs[8] = {0};
    tg_status st = a->program_create(r->dev, k, &prog);
    if (st != TG_OK) {
        tap_diag("program_create: %s", a->device_error(r->dev));
        return st;
    }
    for (uint32_t i = 0; i < k->nparams && st == TG_OK; i++) {
        uint64_t bytes = (uint64_t)k->params[i].count * refh_dtype_size(k->params[i].dtype);
        st = a->buffer_create(r->dev, bytes, &bufs[i]);
        if (st == TG_OK && k->params[i].access == TG_ACCESS_READ)
            st = a->buffer_write(r->dev, bufs[i], 0, host[i], bytes);
    }
    if (st == TG_OK) st = a->program_launch(r->dev, prog, bufs, k->nparams);
    if (st != TG_OK) tap_diag("run: %s", a->device_error(r->dev));
    for (uint32_t i = 0; i < k->nparams && st == TG_OK; i++) {
        uint64_t bytes = (uint64_t)k->params[i].count * refh_dtype_size(k->params[i].dtype);
        if (k->params[i].access == TG_ACCESS_WRITE) st = a->buffer_read(r->dev, bufs[i], 0, host[i], bytes);
    }
    for (uint32_t i = 0; i < k->nparams; i++) a->buffer_destroy(r->dev, bufs[i]);
    a->program_destroy(r->dev, prog);
    return st;
}

/* An elementwise kernel over n points: out[i] = op(in0[i], in1[i], in2[i]).
 * src_dtype: dtype of in1/in2 (and of in0 unless op is WHERE: then bool). */
static inline tg_status refh_elementwise(refh *r, uint32_t op, uint32_t src_dtype, uint32_t out_dtype, int64_t n,
                                  const void *in0, const void *in1, const void *in2, void *out) {
    kb b;
    int64_t shape[1] = {n};
    int nsrc = op == TG_OP_WHERE || op == TG_OP_MULACC ? 3 : (in1 ? 2 : 1);
    kb_init(&b, 1, shape, 0);
    uint32_t v = kb_view(&b, 1, shape, NULL, 0);
    int32_t src[3] = {-1, -1, -1};
    const void *ins[3] = {in0, in1, in2};
    void *host[4];
    for (int s = 0; s < nsrc; s++) {
        uint32_t dt = (op == TG_OP_WHERE && s == 0) ? TG_BOOL : src_dtype;
        uint32_t p = kb_param(&b, dt, TG_ACCESS_READ, n);
        src[s] = kb_load(&b, dt, p, v, 1);
        host[s] = (void *)ins[s];
    }
    int32_t node = kb_node(&b, op, out_dtype, src[0], src[1], src[2]);
    uint32_t po = kb_param(&b, out_dtype, TG_ACCESS_WRITE, n);
    kb_store(&b, out_dtype, po, v, node);
    host[nsrc] = out;
    return refh_run(r, &b.k, host);
}

/* Bit patterns of floats, for exact comparisons (NaN: any NaN matches). */
static inline uint64_t refh_f64_bits(double d) { uint64_t u; memcpy(&u, &d, 8); return u; }
static inline uint32_t refh_f32_bits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }

#endif
