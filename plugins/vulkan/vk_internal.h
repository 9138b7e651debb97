/* plugins/vulkan/vk_internal.h -- shared declarations of the vulkan plugin:
 * the SPIR-V generator (spv_gen*.c), SPIRV-Tools glue (spv_tools.c,
 * spv_opt.cpp) and the Vulkan runtime (vk_plugin.c, vk_run.c). */
#ifndef TG_VK_INTERNAL_H
#define TG_VK_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <tg/plugin.h>
#include <tg/lower.h>

/* What the target device supports; decides capabilities, execution modes
 * and how some ops are computed. */
typedef struct vk_spv_target {
    bool int8, int16, int64, float16, float64; /* shader arithmetic types    */
    bool storage8, storage16;                  /* 8/16-bit storage buffers   */
    bool float_controls;                       /* SPV_KHR_float_controls     */
    bool denorm_preserve[3];                   /* per width 16, 32, 64       */
    bool szinp[3];                             /* SignedZeroInfNanPreserve   */
    bool rte16;                                /* RoundingModeRTE for f16    */
    uint32_t wg_size;                          /* work-group size, power of 2 */
    bool bda;                                  /* buffer device addresses    */
    uint64_t max_range;                        /* maxStorageBufferRange      */
    uint32_t max_bindings;                     /* storage buffers per kernel */
    uint32_t tree_outputs;                     /* most outputs of a tree
                                                  reduction (0: 16384)       */
} vk_spv_target;

/* How a program is dispatched: the lowered program's geometry. */
typedef struct vk_spv_plan {
    tgl_plan layout;     /* the lowering library's plan                     */
    uint32_t wg_size;    /* local size x (tgl_pass.local)                   */
    uint32_t npasses;    /* 1, or 2 for a split reduction: pass 0 writes the
                            partials to a scratch buffer bound after the
                            params, pass 1 combines them; push constant 3
                            is the pass                                     */
    uint64_t groups[2];  /* work groups of each pass (0: nothing to run)    */
    uint64_t scratch_bytes; /* of the partials                              */
    bool idx64;          /* 64-bit index arithmetic                          */
    uint64_t bda;        /* bit i: param i is larger than a storage-buffer
                            binding reaches and is addressed through its
                            device address, pushed after vk_push         */
} vk_spv_plan;

/* The push constants every kernel takes: the linear index of the first work
 * group of this dispatch (a dispatch covers at most maxCount x * y groups)
 * and the x count of the dispatch. Then one uint64 device address per param
 * of vk_spv_plan.bda, in param order (from byte 24), then each kernel
 * argument's word (tgl_args_pack) as two uint32s, low first. */
typedef struct vk_push {
    uint32_t base_lo, base_hi, count_x;
    uint32_t pass; /* of a split reduction: 0 partial results, 1 the rest   */
    uint32_t zero; /* 0, which the compiler cannot see (see const_node)     */
    uint32_t pad;
} vk_push;

static inline uint32_t vk_nargs(const tg_kernel *k) { /* 1.1 */
    return k->struct_size >= offsetof(tg_kernel, args) + sizeof k->args ? k->nargs : 0;
}

/* Which dtypes a target can run (bit per tg_dtype). */
uint32_t vk_spv_dtypes(const vk_spv_target *t);

/* Render a kernel as SPIR-V assembly text (malloc'd, *out_text). On failure
 * returns a status and writes a message into err. */
tg_status vk_spv_generate(const tg_kernel *k, const vk_spv_target *t,
                          char **out_text, vk_spv_plan *out_plan,
                          char *err, size_t errcap);

/* Assemble and validate (text -> words). On a validation failure the
 * message includes the diagnostic and the disassembly. words: malloc'd. */
tg_status vk_spv_assemble(const char *text, uint32_t **out_words, size_t *out_count,
                          char **out_msg);
/* Disassemble words into malloc'd text; NULL on failure. */
char *vk_spv_disassemble(const uint32_t *words, size_t count);
/* Optimise in place (performance passes); false if the optimizer is not
 * built in or failed (then the words are left as they were). */
bool vk_spv_optimize(uint32_t **words, size_t *count);

#endif
