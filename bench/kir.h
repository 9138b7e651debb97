/*
 * kir.h -- build tg_kernel IR by hand, for benchmarks that talk to a plugin
 * directly (no tensor core). All indices are node/param indices; a builder
 * error (too many nodes) is sticky and reported by kir_finish.
 */
#ifndef TG_BENCH_KIR_H
#define TG_BENCH_KIR_H

#include <tg/plugin.h>

#define KIR_MAX_NODES 48
#define KIR_MAX_PARAMS 8

typedef struct kir {
    tg_kernel k;
    tg_node nodes[KIR_MAX_NODES];
    tg_view views[KIR_MAX_NODES * 2];
    tg_param params[KIR_MAX_PARAMS];
    char name[64];
    int bad;
} kir;

/* Start a kernel over `shape` (ndim dims), reducing the axes in the bitmask. */
void kir_init(kir *b, const char *name, uint32_t ndim, const int64_t *shape, uint32_t reduce_axes);
/* A float32 buffer parameter holding `count` elements; access TG_ACCESS_*. */
int kir_param(kir *b, uint32_t access, int64_t count);
/* LOAD param through one view with these strides over the iteration shape
 * (reduced = 0: the full shape, the reduction's input; 1: the out shape). */
int kir_load(kir *b, int param, const int64_t *strides, int64_t offset, int reduced);
/* LOAD through a two-view stack: `lower` (any shape, may have a mask) read
 * through a top view of strides over the iteration/out shape. */
int kir_load2(kir *b, int param, const tg_view *lower, const int64_t *strides, int64_t offset, int reduced);
int kir_const(kir *b, double value);
int kir_op(kir *b, tg_op op, int a, int c, int d); /* unused sources: -1; dtype float32, bool for CMPLT */
int kir_reduce(kir *b, tg_op op, int src);
/* STORE src to param through strides over the out shape. */
void kir_store(kir *b, int param, const int64_t *strides, int src);
/* Contiguous (row-major) strides of the out shape, or of `shape`. */
void kir_rowmajor(uint32_t ndim, const int64_t *shape, int64_t *out_strides);
/* Fill counts and hash; NULL if the builder overflowed. */
const tg_kernel *kir_finish(kir *b);

#endif
