/* plugins/vulkan/spv_kgen.h -- the state of one kernel's SPIR-V generation
 * (spv_gen.c): the lowered program it prints and what it has emitted. */
#ifndef TG_VULKAN_SPV_KGEN_H
#define TG_VULKAN_SPV_KGEN_H

#include <tg/lower.h>
#include "spv_gen.h"

typedef struct kgen {
    gen g;
    bool st_used[CT_COUNT];     /* storage types of descriptor buffers     */
    bool st_pp[CT_COUNT];       /* storage types reached through addresses */
    int red;                    /* index of the REDUCE node, -1 if none    */
    tgl_prog *lp;               /* the kernel lowered by the SDK's library  */
    const uint8_t *cone;        /* nodes evaluated per reduced point (lp's) */
    int *val;                   /* value id of each node                   */
    ct act;                     /* accumulator type                        */
    int zero32;                 /* a u32 zero pushed at run time (opaque)  */
    uint64_t bda;               /* params reached through device addresses */
    bool *vo;                   /* LOAD/STORE nodes moving 4 neighbours (THREAD block) as a vec4 */
    bool *vr;                   /* loads reading 4 reduced points per loop step as a vec4 */
    int *vpart;                 /* their vec4 loads or stored values (8 per node) */
    bool pvec[64];              /* params reached as vec4 arrays too (aliased binding) */
    int u;                      /* the neighbour being emitted             */
    int q4;                     /* i_oin / 4 of the first neighbour (vo)   */
    int rq, q;                  /* reduced points per loop step (1 or 4); the one being emitted */
    int base[64];               /* device addresses of params (u64 ids)    */
    char *err;
    size_t errcap;
} kgen;

#endif
