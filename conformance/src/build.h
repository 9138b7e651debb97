/* Internal: helpers that assemble a case's kernel node by node, and the view
 * kinds the catalog applies to loads and stores. */
#ifndef TGC_BUILD_H
#define TGC_BUILD_H

#include <tg/conform.h>

/* View kinds for LOADs (TGC_VK_*) and STOREs (contig, permute, flip, stride). */
enum {
    TGC_VK_CONTIG = 0,
    TGC_VK_EXPAND,
    TGC_VK_PERMUTE,
    TGC_VK_SHRINK,
    TGC_VK_PAD,
    TGC_VK_FLIP,
    TGC_VK_STRIDE,
    TGC_VK_STACK,   /* a reshape of a transposed view: two views */
    TGC_VK_COUNT
};
extern const char *const tgc_view_kind_names[TGC_VK_COUNT];

void tgc_b_init(tgc_case *c, uint32_t ndim, const int64_t *shape, uint32_t reduce_axes);
/* A new READ param of `dt` read through a view of kind `vk` of shape `vshape`
 * (ndim = c->ndim); returns the LOAD node. */
int tgc_b_load(tgc_case *c, tg_dtype dt, int vk, const int64_t *vshape, int values);
int tgc_b_const(tgc_case *c, tg_dtype dt, tg_scalar v);
int tgc_b_op(tgc_case *c, tg_op op, tg_dtype dt, int s0, int s1, int s2);
/* A new WRITE param stored through a view of kind `vk` of shape `vshape`. */
void tgc_b_store(tgc_case *c, int src, int vk, const int64_t *vshape);
/* The kernel's out_shape. */
void tgc_b_out_shape(const tgc_case *c, int64_t *out);
/* Evaluate a view stack at a point; returns 1 if valid and sets *addr. */
int tgc_view_addr(const tg_view *views, uint32_t n, const int64_t *point, int64_t *addr);
int64_t tgc_numel(uint32_t ndim, const int64_t *shape);

#endif
