/* Internal: the view kinds the catalog applies to loads and stores (the
 * builder itself is declared in tg/conform.h). */
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
    TGC_VK_MIXED,   /* permuted, shrunk and flipped in one view */
    TGC_VK_STACKPAD,/* a two-view stack with a mask in each view */
    TGC_VK_COUNT
};
extern const char *const tgc_view_kind_names[TGC_VK_COUNT];

/* A new READ param of `count` elements read through the one view `v`
 * (ndim = c->ndim); returns the LOAD node. */
int tgc_b_load_view(tgc_case *c, tg_dtype dt, const tg_view *v, int64_t count, int values);

#endif
