/* plugins/vulkan/spv_kgen.h -- the state of one kernel's SPIR-V generation,
 * shared by spv_gen.c (emitting) and spv_plan.c (deciding: index width,
 * vector mode, the reduction's input cone). */
#ifndef TG_VULKAN_SPV_KGEN_H
#define TG_VULKAN_SPV_KGEN_H

#include <tg/lower.h>
#include "spv_gen.h"

typedef struct kgen {
    gen g;
    bool st_used[CT_COUNT];     /* storage types of descriptor buffers     */
    bool st_pp[CT_COUNT];       /* storage types reached through addresses */
    int red;                    /* index of the REDUCE node, -1 if none    */
    tgl_prog *lp;               /* the kernel lowered by the SDK's library: index
                                   expressions of every LOAD/STORE, the cone   */
    const uint8_t *cone;        /* nodes evaluated at every point of shape (lp's) */
    int *val;                   /* value id of each node                   */
    ct act;                     /* accumulator type                        */
    uint64_t bda;               /* params reached through device addresses */
    bool *vnode;                /* vector mode: LOAD/STORE nodes that move 4 points as a vec4 */
    int *vpart;                 /* their vec4 load (4i) or the 4 stored values (4i..4i+3) */
    bool pvec[64];              /* params reached as vec4 arrays too (aliased binding) */
    int u, vlin;                /* vector mode: the point of the 4 being emitted; vec4 index */
    int rq, q;                  /* reduced points per loop step (1 or 4); the one being emitted */
    bool *rnode;                /* loads that read those 4 as a vec4 (rpart[4i + u]: per neighbour) */
    int *rpart;
    int base[64];               /* their addresses (u64 ids)               */
    char *err;
    size_t errcap;
} kgen;

static inline int64_t spv_prod(const int64_t *s, uint32_t n) {
    int64_t p = 1;
    for (uint32_t i = 0; i < n; i++) p *= s[i];
    return p;
}

/* Does a linear work index need 64 bits? (Addresses: tgl_prog.index32.) */
bool spv_needs_idx64(const tg_kernel *k, uint64_t n_out, uint64_t n_red, uint64_t invocations);
/* Vector mode for an elementwise kernel: false if a STORE cannot take it. */
bool spv_vec_plan(kgen *kg);
/* Mark the reduction's loads that can read 4 points along axis a as a vec4. */
void spv_vec_plan_reduce(kgen *kg, int a, bool *mark);

#endif
