/* plugins/vulkan/spv_gen.h -- the SPIR-V text emitter shared by spv_gen.c
 * (kernel structure, views, ops) and spv_math.c (float helpers).
 *
 * Values are SPIR-V ids named %vN; types are named after their kind (%u32,
 * %f64, ...). Sections are collected in separate buffers and joined in
 * module order at the end, so types and constants can be asked for at any
 * point of the body. */
#ifndef TG_VK_SPV_GEN_H
#define TG_VK_SPV_GEN_H

#include <stdarg.h>
#include "vk_internal.h"

/* Computation types: what a node's value is held in. */
typedef enum ct {
    CT_BOOL, CT_U8, CT_U16, CT_U32, CT_U64, CT_F16, CT_F32, CT_F64, CT_COUNT
} ct;

typedef struct sbuf {
    char *s;
    size_t n, cap;
    bool oom;
} sbuf;

void sb_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define GEN_NCONST 512

typedef struct gen {
    const tg_kernel *k;
    const vk_spv_target *t;
    sbuf consts, fvars, body;  /* constants; function variables; code       */
    bool used[CT_COUNT];       /* scalar types asked for                     */
    bool glsl;                 /* GLSL.std.450 imported                      */
    int next;                  /* next value id                              */
    int cur;                   /* id of the current block's label           */
    ct it;                     /* index type: CT_U32 or CT_U64               */
    struct { ct t; uint64_t bits; int id; } cache[GEN_NCONST];
    int ncache;
} gen;

extern const char *const ct_name[CT_COUNT];
int ct_bits(ct t);
bool ct_is_float(ct t);

int gen_id(gen *g);
void gen_use(gen *g, ct t);
/* Start a new block with a fresh label (returns the label id). */
int gen_label(gen *g);
void gen_label_at(gen *g, int label);
int gen_const_bits(gen *g, ct t, uint64_t bits);   /* integer or raw float bits */
int gen_const_f(gen *g, ct t, double v);           /* float constant            */
int gen_const_bool(gen *g, bool v);
/* Emit "%vN = OP %type a b ..." with n operands; returns N. */
int gen_op(gen *g, const char *op, ct t, int n, ...);
int gen_glsl(gen *g, const char *fn, ct t, int n, ...); /* GLSL.std.450 call */
int gen_select(gen *g, ct t, int cond, int a, int b);
int gen_fvar(gen *g, ct t); /* a Function variable (declared in the entry block) */
int gen_convert(gen *g, ct to, ct from, bool from_signed, bool to_signed, int v);

/* spv_ops.c: dtypes and the arithmetic of the IR. */
ct ct_of(uint32_t dt);                   /* how a dtype's values are computed */
ct st_of(uint32_t dt);                   /* how they are stored              */
bool is_signed_int(uint32_t dt);
int zero_of(gen *g, ct t);
int round_to(gen *g, uint32_t dt, int x); /* f32 value to f16/bf16 precision */
int combine(gen *g, uint32_t op, uint32_t dt, ct act, int a, int b); /* a reduction step */
int identity(gen *g, uint32_t op, uint32_t dt, ct act);
tg_status ops_alu(gen *g, uint32_t op, uint32_t dt, uint32_t sdt, int a, int b, int c, int *out);

/* spv_math.c: float helpers (f64 math is computed without GLSL.std.450,
 * which has no 64-bit EXP2/LOG2/SIN). */
int math_exp2(gen *g, ct t, int x);
int math_log2(gen *g, ct t, int x);
int math_sin(gen *g, ct t, int x);
int math_fmod(gen *g, ct t, int a, int b);         /* C fmod, exact           */
int math_max(gen *g, ct t, int a, int b);          /* NaN-propagating        */
int math_round_f16(gen *g, int x32);               /* f32 -> f16 -> f32      */
int math_bf16_bits(gen *g, int x32);               /* f32 -> bf16 bits (u32) */
int math_round_bf16(gen *g, int x32);              /* f32 -> bf16 -> f32     */
int math_f64_to_bf16(gen *g, int x64);             /* -> f32 holding a bf16  */
int math_f64_to_f32_odd(gen *g, int x64);          /* rounded to odd         */
int math_i64_to_f32_odd(gen *g, int x, bool is_signed); /* x: u64 id, to odd */

#endif
