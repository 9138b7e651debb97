/*
 * tg/lower.h -- the optional lowering library of the tg SDK (libtg-lower.a).
 *
 * A plugin that has its own compiler takes a tg_kernel whole and needs none
 * of this. A plugin without one links this library (`pkg-config --libs
 * tg-plugin` lists it) and writes only a dialect table and a runtime:
 *
 *     tgl_target t = {.kind = TGL_GPU, .max_group = 256, ...};
 *     tgl_prog *p;
 *     tgl_lower(kernel, &t, NULL, &p, err, sizeof err);   plan + index math
 *     tgl_sb src = {0};
 *     tgl_render(p, &tgl_dialect_opencl, &src);             C-family source
 *     ... compile src.s; launch p->pass[0..npasses-1] ...
 *     tgl_sb_free(&src); tgl_prog_free(p);
 *
 * Stages are values: tgl_lower returns a lowered program (a plan, a launch
 * geometry, one index expression and one mask predicate per LOAD/STORE);
 * tgl_render only prints it. A plan is a small struct: tgl_plan_variants
 * enumerates the layouts a kernel can take, so a plugin's tuning searches the
 * same space as every other plugin's.
 *
 * The library relies on the core's validation (plugin.h, tg_kernel): it does
 * not re-check kernels. It is plain C11, allocates with malloc, keeps no
 * global state and is safe to call from several threads on different
 * kernels. It depends on plugin.h and dtype_util.h only; it never links libtg.
 *
 * Semantics: the generated code honours every rule of sdk/docs/OPS.md that
 * code must (float16/bfloat16 values live in float and are rounded after
 * every op, integer arithmetic wraps without undefined behaviour, division
 * by zero and INT_MIN / -1 give 0, out-of-range float -> int casts give 0,
 * NaN-propagating MAX, constants keep their exact bits, signed zeros). A
 * dialect only spells things; it cannot change a result.
 */
#ifndef TG_LOWER_H
#define TG_LOWER_H

#include <stddef.h>
#include <stdint.h>
#include <tg/plugin.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------- string builder */

/* A growing string. Zero-initialise; after an allocation failure `oom` is
 * set and later appends do nothing. Free with tgl_sb_free.                */
typedef struct tgl_sb {
    char *s;
    size_t len, cap;
    int oom;
} tgl_sb;
void tgl_sb_printf(tgl_sb *sb, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
void tgl_sb_free(tgl_sb *sb);

/* --------------------------------------------------------------- target */

enum {
    TGL_CPU = 0, /* one C function over a range [lo, hi) of one axis; the
                    plugin calls it from its threads (C dialect only)       */
    TGL_GPU = 1  /* a grid of work-groups of work-items (OpenCL C, CUDA C)  */
};

/* What the device is. Zero-initialise, then fill what you know; a field
 * left 0 takes the default beside it.                                     */
typedef struct tgl_target {
    uint32_t kind;         /* TGL_CPU or TGL_GPU                               */
    uint32_t threads;      /* CPU: threads a launch is split over; 0 = 1      */
    uint32_t vector_bytes; /* preferred vector width in bytes; 0 = 16         */
    uint32_t local_bytes;  /* GPU: local (shared) memory per work-group in
                              bytes; 0 = none, so no work-group reductions    */
    uint32_t max_group;    /* GPU: most work-items in one group; 0 = 64       */
    uint32_t warp;         /* GPU: SIMD width (32 on NVIDIA); 0 = 1           */
    uint32_t native;       /* bit (1u << dtype) for each of TG_FLOAT64 and
                              TG_INT64/TG_UINT64 the device computes; a kernel
                              that needs a missing one is refused with
                              TG_ERR_UNSUPPORTED. float16/bfloat16 are always
                              computed in float. 0 = all                      */
    uint32_t index_bits;   /* 32: index arithmetic in 32 bits wherever range
                              analysis proves it cannot overflow; 0 or 64:
                              always 64 bits                                  */
    uint32_t group_outputs; /* GPU: most outputs a GROUP (work-group per output)
                              layout takes by default; 0 = 16383             */
    uint32_t item_outputs; /* GPU: most outputs one THREAD work-item computes
                              by default (plan.block; a reduction takes half);
                              0 = 1                                           */
    uint32_t part_points;  /* GPU: reduced points per work-item that make a
                              part of a split GROUP reduction worth its tree;
                              0 = 64                                          */
} tgl_target;

/* ----------------------------------------------------------------- plan */

/* Layouts. The CPU ones need TGL_CPU, the GPU ones TGL_GPU. */
enum {
    TGL_FLAT = 0,   /* CPU: loops over outputs; a reduction innermost, in
                       `lanes` independent accumulators                      */
    TGL_OUTER = 1,  /* CPU: the innermost output axis runs inside the reduce
                       loops, `block` outputs at a time                      */
    TGL_MATMUL = 2, /* CPU: a register tile of `mr` x (block * vector) outputs
                       over packed panels of `nc` columns (matrix products)  */
    TGL_THREAD = 3, /* GPU: a work-item per output; reductions serial      */
    TGL_GROUP = 4,  /* GPU: a work-group of `group` items per output; each
                       reduces a strided share, then a tree in local memory  */
    TGL_TILE = 5    /* GPU: a matrix product in `block` x `block` output
                       tiles; per step of `nc` reduced points both factors
                       are staged in local memory; each of the
                       (block/mr)^2 = `group` work-items holds mr x mr outputs */
};

/* A plan: one layout of a kernel. tgl_plan_default picks one; variants come
 * from tgl_plan_variants. Fields a layout does not use are 0.              */
typedef struct tgl_plan {
    int32_t mode;     /* TGL_FLAT .. TGL_TILE                                */
    int32_t lanes;    /* FLAT: accumulators on the innermost reduce axis     */
    int32_t block;    /* OUTER: outputs per block; MATMUL: vectors per row;
                         TILE: outputs per side of a work-group's tile;
                         THREAD: outputs per work-item (0 or 1: one),
                         neighbours along the innermost output axis (oin),
                         whose length it divides                             */
    int32_t mr;       /* MATMUL: rows per register tile; TILE: its side      */
    int32_t nc;       /* MATMUL: columns of B packed per panel block; TILE:
                         reduced points staged per step                      */
    int32_t split;    /* CPU: 1 = the reduction is split over threads;
                         GPU GROUP: the number of parts (>= 2) each output's
                         reduction is split into; 0 = none. Split programs
                         run as two passes, tgk_part then tgk_fin            */
    int32_t par_axis; /* CPU: the axis split over threads, -1 = none         */
    int32_t group;    /* GPU: work-items per group                           */
} tgl_plan;

/* --------------------------------------------------- the lowered program */

/* An index expression: a node of tgl_prog.expr. Operands a, b are indices
 * of earlier nodes; v is a constant. Every value is an integer; lo..hi is the
 * range the node takes over the iteration space (range analysis).         */
enum {
    TGL_E_CONST = 0, /* v                                                    */
    TGL_E_VAR = 1,   /* the index along kernel axis v (i0, i1, ...)          */
    TGL_E_ADD = 2,   /* a + b                                                */
    TGL_E_MUL = 3,   /* a * v                                                */
    TGL_E_DIV = 4,   /* a / v (a >= 0, v > 0)                                */
    TGL_E_MOD = 5,   /* a % v (a >= 0, v > 0)                                */
    TGL_E_GE = 6,    /* a >= v ? 1 : 0                                       */
    TGL_E_LT = 7,    /* a < v ? 1 : 0                                        */
    TGL_E_AND = 8,   /* a && b                                               */
    TGL_E_ARG = 9    /* 1.1: the value of kernel argument v (a moving view's
                        offset term, multiplied by its stride)               */
};
typedef struct tgl_expr {
    uint32_t kind;
    int32_t a, b;
    int64_t v;
    int64_t lo, hi;
} tgl_expr;

/* Where a LOAD or STORE reads or writes: element index `addr` of its buffer,
 * valid where `valid` is non-zero (-1: everywhere; a TGL_E_CONST 0 node:
 * nowhere; a LOAD yields 0 where it is not valid and touches no memory).
 * Indices into tgl_prog.expr.                                             */
typedef struct tgl_access {
    int32_t addr;
    int32_t valid;
} tgl_access;

/* One launch of a lowered program. A program has one pass, or two for a
 * split reduction: tgk_part (on every thread of a CPU; a work-group per part
 * of each output on a GPU) then tgk_fin, in order.                        */
typedef struct tgl_pass {
    const char *fn;     /* the function's name in the rendered source        */
    uint64_t global;    /* GPU: work-items in all (a multiple of local; 0:
                           nothing to launch)                                */
    uint32_t local;     /* GPU: work-items per group                         */
} tgl_pass;

/* The lowered program: read-only for the plugin, freed by tgl_prog_free. */
typedef struct tgl_prog {
    const tg_kernel *kernel;  /* borrowed: must outlive the tgl_prog           */
    tgl_target target;
    tgl_plan plan;
    int32_t reduce_node;      /* index of the REDUCE node, -1 if none          */
    int64_t out_count;        /* points of out_shape                           */
    int64_t red_count;        /* reduced points per output (1 without)         */
    uint32_t acc_size;        /* bytes of one accumulator (split partials)     */
    int32_t oin, rin;         /* innermost output / reduce axis longer than 1  */
    int32_t mm_m, mm_n;       /* a matrix product's row and column axes, -1
                                 when the kernel is not one (MATMUL, TILE)     */
    int32_t mm_a, mm_b;       /* its two factors' nodes                        */
    int64_t mm_sak;           /* MATMUL: A's stride along the flattened reduce
                                 axes when read in place, 0 when packed        */
    uint8_t *cone;            /* [nnodes]: 1 if in the reduction's input cone  */
    tgl_access *access;       /* [nnodes]: LOAD/STORE entries are meaningful   */
    tgl_expr *expr;           /* [nexpr]                                       */
    uint32_t nexpr;
    int32_t index32;          /* 1: every index fits 32-bit arithmetic         */
    uint32_t npasses;
    tgl_pass pass[2];
    uint64_t scratch_bytes;   /* GPU: a buffer of this many bytes the plugin
                                 allocates (contents undefined) and passes to
                                 both passes after the kernel's buffers, as
                                 part_; 0 = none                               */
} tgl_prog;

/* The default plan of a kernel on a target. */
void tgl_plan_default(const tg_kernel *kernel, const tgl_target *target, tgl_plan *out_plan);

/* Up to `max` plans for the kernel, the default first, the most promising
 * next; returns how many it wrote. Each renders to correct code.          */
int tgl_plan_variants(const tg_kernel *kernel, const tgl_target *target, tgl_plan *out_plans, int max);

/* Lower a validated kernel for a target with a plan (NULL: the default).
 * On failure returns TG_ERR_UNSUPPORTED (the target lacks a dtype the kernel
 * needs), TG_ERR_INVALID (a plan the kernel cannot take) or
 * TG_ERR_NO_MEMORY, with a message in err[errcap]. The kernel is borrowed
 * for the life of the tgl_prog.                                           */
tg_status tgl_lower(const tg_kernel *kernel, const tgl_target *target, const tgl_plan *plan,
                    tgl_prog **out_prog, char *err, size_t errcap);
/* 1.1: bounded axes (tg_kernel.extent_arg) loop to the argument's value,
 * read at run time; on a GPU the launch geometry stays that of the max and
 * points past the value do nothing. Moving views add TGL_E_ARG * stride to
 * their address; ranges use the argument's max. Such kernels take no
 * MATMUL or TILE plan.                                                   */
void tgl_prog_free(tgl_prog *prog);

/* -------------------------------------------------------------- dialects */

/* How a C-family language spells what the renderer prints. Every result a
 * program computes is decided by the renderer; a dialect only spells it.
 * sdk/docs/WRITING_A_PLUGIN.md walks through the OpenCL table.            */
typedef struct tgl_dialect {
    const char *name;      /* "c", "opencl", "cuda"                            */
    /* Text before everything: it must define the fixed-width integer types
     * (int8_t .. uint64_t), the restrict qualifier as R, the math names the
     * renderer calls (exp2f log2f sinf sqrtf fmaf fmodf and the double ones
     * without f, nextafterf), and static-inline functions
     *   uint32_t tg_fbits(float); float tg_bitsf(uint32_t);
     *   int tg_clz64(uint64_t)  (x != 0)
     * and, where TG_F64 is defined, double tg_bitsd(uint64_t). The renderer
     * defines TG_F64 before it when the target computes float64.          */
    const char *prelude;
    const char *fn;        /* before a helper function ("static inline")      */
    const char *kernel;    /* before a kernel function ("", "__kernel",
                              "extern \"C\" __global__")                     */
    const char *global;    /* before a buffer parameter's type ("__global")   */
    const char *local;     /* before a work-group array ("__local",
                              "__shared__"); GPU dialects only               */
    const char *barrier;   /* a work-group barrier statement                   */
    const char *group_id;  /* expression: index of this work-group            */
    const char *local_id;  /* expression: index of this item in its group     */
    const char *u64;       /* suffix of an unsigned 64-bit literal ("ull")    */
    /* 1.1, kernel arguments: the type of one parameter through which a
       kernel function reads every argument's word, indexed ("const
       uint64_t *R"); NULL: one `uint64_t aK_` parameter per argument,
       passed by value (OpenCL, CUDA).                                    */
    const char *args;
} tgl_dialect;

extern const tgl_dialect tgl_dialect_c;      /* C11 with GCC/Clang builtins  */
extern const tgl_dialect tgl_dialect_opencl; /* OpenCL C 1.2                 */
extern const tgl_dialect tgl_dialect_cuda;   /* CUDA C++ for NVRTC           */

/* 1.1: the words through which a program reads a launch's argument values
 * (tg_launch.args; args: the kernel's tg_kernel.args): out[i] holds argument i as a float32's bits (float32,
 * float16, bfloat16: they are computed in float), a float64's bits, or the
 * integer (bool 0/1) zero- or sign-extended, the value's low bits read.   */
void tgl_args_pack(uint32_t nargs, const tg_arg *args, const tg_scalar *values, uint64_t *out);

/* Print a lowered program in a dialect. Kernel functions are named as in
 * prog->pass[].fn. Parameters: the kernel's buffers p0..pN-1 in order (the
 * read ones const), then where the kernel has arguments (tg_kernel.nargs,
 * ARG nodes) their words (tgl_args_pack): `dialect->args a_` or one
 * `uint64_t aK_` per argument (see tgl_dialect.args), then on a GPU target the scratch buffer when
 * scratch_bytes > 0, and on a CPU target `int64_t lo, int64_t hi` (the range
 * of plan.par_axis this call computes; the whole axis when par_axis < 0),
 * tgk_part adding `acc_t *part` (its partials: out_count accumulators), and
 * tgk_fin taking the buffers, `const acc_t *part, int64_t nparts`. A CPU
 * MATMUL program also defines `int tgk_oom`, set to 1 when its scratch
 * memory could not be allocated (the plugin clears it before a launch).
 * Returns TG_ERR_NO_MEMORY if the text could not be built.                */
tg_status tgl_render(const tgl_prog *prog, const tgl_dialect *dialect, tgl_sb *out);

#ifdef __cplusplus
}
#endif

#endif /* TG_LOWER_H */
