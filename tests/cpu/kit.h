/* tests/cpu/kit.h -- build kernel IR by hand and run it on a plugin loaded
 * with dlopen (header only; used by tests/cpu and bench/cpu). */
#ifndef TG_TESTS_CPU_KIT_H
#define TG_TESTS_CPU_KIT_H

#include <dlfcn.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tg/plugin.h>

#define KIT_MAX 64

typedef struct kit_plugin {
    void *dl;
    const tg_plugin_api *api;
    tg_device *dev;
} kit_plugin;

static inline int kit_open(kit_plugin *p, const char *path) {
    memset(p, 0, sizeof *p);
    p->dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!p->dl) { fprintf(stderr, "dlopen %s: %s\n", path, dlerror()); return -1; }
    tg_plugin_entry_fn entry = (tg_plugin_entry_fn)dlsym(p->dl, TG_PLUGIN_ENTRY_NAME);
    const char *why = NULL;
    p->api = entry ? entry(TG_ABI_MAJOR, TG_ABI_MINOR, &why) : NULL;
    if (!p->api || p->api->device_create(0, &p->dev) != TG_OK) {
        fprintf(stderr, "%s: no device: %s\n", path, p->api ? p->api->plugin_error() : why ? why : "no entry");
        return -1;
    }
    return 0;
}

static inline void kit_close(kit_plugin *p) {
    if (p->api) p->api->device_destroy(p->dev);
    /* the plugin stays loaded: its pool threads are joined, but unloading is not needed */
}

typedef struct kit_kernel {
    tg_kernel k;
    tg_node nodes[KIT_MAX];
    tg_view views[KIT_MAX];
    tg_param params[32];
    tg_arg args[8];
} kit_kernel;

static inline size_t kit_size(uint32_t dt) {
    static const unsigned char s[TG_DTYPE_COUNT] = {1, 1, 1, 2, 2, 4, 4, 8, 8, 2, 2, 4, 8};
    return s[dt];
}

static inline void kit_init(kit_kernel *kk, uint32_t ndim, const int64_t *shape, uint32_t reduce_axes, const char *name) {
    memset(kk, 0, sizeof *kk);
    kk->k.struct_size = sizeof(tg_kernel);
    kk->k.ndim = ndim;
    for (uint32_t d = 0; d < ndim; d++) kk->k.shape[d] = shape[d];
    kk->k.reduce_axes = reduce_axes;
    kk->k.nodes = kk->nodes;
    kk->k.views = kk->views;
    kk->k.params = kk->params;
    kk->k.args = kk->args;
    kk->k.name = name;
}

/* A view (no mask). strides NULL: contiguous row-major. */
static inline uint32_t kit_view(kit_kernel *kk, uint32_t ndim, const int64_t *shape, const int64_t *strides, int64_t offset) {
    tg_view *v = &kk->views[kk->k.nviews];
    memset(v, 0, sizeof *v);
    v->ndim = ndim;
    v->offset = offset;
    int64_t st = 1;
    for (int d = (int)ndim - 1; d >= 0; d--) {
        v->shape[d] = shape[d];
        v->strides[d] = strides ? strides[d] : (shape[d] == 1 ? 0 : st);
        st *= shape[d];
    }
    return kk->k.nviews++;
}

__attribute__((unused)) static void kit_mask(kit_kernel *kk, uint32_t view, const int64_t *lo, const int64_t *hi) {
    tg_view *v = &kk->views[view];
    v->has_mask = 1;
    for (uint32_t d = 0; d < v->ndim; d++) { v->mask_lo[d] = lo[d]; v->mask_hi[d] = hi[d]; }
}

static inline uint32_t kit_param(kit_kernel *kk, uint32_t dtype, uint32_t access, int64_t count) {
    tg_param *p = &kk->params[kk->k.nparams];
    p->dtype = dtype;
    p->access = access;
    p->count = count;
    return kk->k.nparams++;
}

static inline int32_t kit_node(kit_kernel *kk, uint32_t op, uint32_t dtype, int32_t a, int32_t b, int32_t c) {
    tg_node *n = &kk->nodes[kk->k.nnodes];
    memset(n, 0, sizeof *n);
    n->op = op;
    n->dtype = dtype;
    n->src[0] = a;
    n->src[1] = b;
    n->src[2] = c;
    return (int32_t)kk->k.nnodes++;
}

static inline int32_t kit_load(kit_kernel *kk, uint32_t buf, uint32_t view, uint32_t nviews) {
    int32_t n = kit_node(kk, TG_OP_LOAD, kk->params[buf].dtype, -1, -1, -1);
    kk->nodes[n].buffer = buf;
    kk->nodes[n].view = view;
    kk->nodes[n].nviews = nviews;
    return n;
}

static inline int32_t kit_const(kit_kernel *kk, uint32_t dtype, tg_scalar v) {
    int32_t n = kit_node(kk, TG_OP_CONST, dtype, -1, -1, -1);
    kk->nodes[n].value = v;
    return n;
}

static inline int32_t kit_store(kit_kernel *kk, uint32_t buf, uint32_t view, int32_t src) {
    int32_t n = kit_node(kk, TG_OP_STORE, kk->params[buf].dtype, src, -1, -1);
    kk->nodes[n].buffer = buf;
    kk->nodes[n].view = view;
    kk->nodes[n].nviews = 1;
    return n;
}

/* 1.1: an ARG node reading a new kernel argument of `dtype` (max 0). */
__attribute__((unused)) static int32_t kit_arg(kit_kernel *kk, uint32_t dtype) {
    kk->args[kk->k.nargs] = (tg_arg){dtype, 0, 0};
    int32_t n = kit_node(kk, TG_OP_ARG, dtype, -1, -1, -1);
    kk->nodes[n].buffer = kk->k.nargs++;
    return n;
}

/* Run a program of kernel k on plugin p: data[i] holds params[i].count
 * elements, uploaded for read params, read back for write params. 0 on success. */
static inline int kit_launch(kit_plugin *p, tg_program *prog, const tg_kernel *k, void *const *data, int reps,
                             char *err, size_t errcap) {
    tg_buffer *bufs[32] = {0};
    tg_status st;
    int rc = -1;
    for (uint32_t i = 0; i < k->nparams; i++) {
        uint64_t bytes = (uint64_t)k->params[i].count * kit_size(k->params[i].dtype);
        if (p->api->buffer_create(p->dev, bytes, &bufs[i]) != TG_OK) goto out;
        if (k->params[i].access == TG_ACCESS_READ && p->api->buffer_write(p->dev, bufs[i], 0, data[i], bytes) != TG_OK)
            goto out;
    }
    for (int r = 0; r < reps; r++)
        if ((st = p->api->program_launch(p->dev, prog, bufs, k->nparams)) != TG_OK) {
            snprintf(err, errcap, "launch: %s", p->api->device_error(p->dev));
            goto out;
        }
    for (uint32_t i = 0; i < k->nparams; i++) {
        uint64_t bytes = (uint64_t)k->params[i].count * kit_size(k->params[i].dtype);
        if (k->params[i].access == TG_ACCESS_WRITE && p->api->buffer_read(p->dev, bufs[i], 0, data[i], bytes) != TG_OK)
            goto out;
    }
    rc = 0;
out:
    for (uint32_t i = 0; i < k->nparams; i++) p->api->buffer_destroy(p->dev, bufs[i]);
    return rc;
}

/* kit_launch of a program created for the call. */
static inline int kit_run(kit_plugin *p, const tg_kernel *k, void *const *data, int reps, char *err, size_t errcap) {
    tg_program *prog = NULL;
    tg_status st = p->api->program_create(p->dev, k, &prog);
    if (st != TG_OK) { snprintf(err, errcap, "program_create: %s", p->api->device_error(p->dev)); return -(int)st; }
    int rc = kit_launch(p, prog, k, data, reps, err, errcap);
    p->api->program_destroy(p->dev, prog);
    return rc;
}

#endif
