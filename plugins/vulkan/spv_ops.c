/* plugins/vulkan/spv_ops.c -- the arithmetic of the kernel IR in SPIR-V:
 * dtypes to computation types, casts, integer DIV/MOD without traps, the
 * combining steps of reductions, and every elementwise op. */
#include <stdio.h>
#include "spv_gen.h"
#include <tg/dtype_util.h>

#define OP(name, t, ...) gen_op(g, name, t, __VA_ARGS__)

ct ct_of(uint32_t dt) {
    switch (dt) {
    case TG_BOOL: return CT_BOOL;
    case TG_INT8: case TG_UINT8: return CT_U8;
    case TG_INT16: case TG_UINT16: return CT_U16;
    case TG_INT32: case TG_UINT32: return CT_U32;
    case TG_INT64: case TG_UINT64: return CT_U64;
    case TG_FLOAT64: return CT_F64;
    default: return CT_F32; /* float16, bfloat16, float32 */
    }
}

/* How a dtype is held in a storage buffer. */
ct st_of(uint32_t dt) {
    switch (dt) {
    case TG_BOOL: return CT_U8;
    case TG_FLOAT16: return CT_F16;
    case TG_BFLOAT16: return CT_U16;
    default: return ct_of(dt);
    }
}

bool is_signed_int(uint32_t dt) {
    return dt == TG_INT8 || dt == TG_INT16 || dt == TG_INT32 || dt == TG_INT64;
}

int zero_of(gen *g, ct t) {
    if (t == CT_BOOL) return gen_const_bool(g, false);
    if (ct_is_float(t)) return gen_const_f(g, t, 0.0);
    return gen_const_bits(g, t, 0);
}

/* Round a float computed in f32 to the node's 16-bit dtype. */
int round_to(gen *g, uint32_t dt, int x) {
    if (dt == TG_FLOAT16) return math_round_f16(g, x);
    if (dt == TG_BFLOAT16) return math_round_bf16(g, x);
    return x;
}

static int emit_cast(gen *g, uint32_t to, uint32_t from, int x) {
    ct tt = ct_of(to), tf = ct_of(from);
    if (to == from) return x;
    if (to == TG_BOOL) {
        if (ct_is_float(tf)) return OP("OpFUnordNotEqual", CT_BOOL, 2, x, zero_of(g, tf));
        return OP("OpINotEqual", CT_BOOL, 2, x, zero_of(g, tf));
    }
    if (from == TG_BOOL) {
        int one = ct_is_float(tt) ? gen_const_f(g, tt, 1.0) : gen_const_bits(g, tt, 1);
        return gen_select(g, tt, x, one, zero_of(g, tt));
    }
    bool fs = is_signed_int(from);
    if (to == TG_FLOAT16) { /* one rounding: from float64 through f32 rounded to odd */
        if (tf == CT_F64) x = math_f64_to_f32_odd(g, x);
        int h = ct_is_float(tf) ? OP("OpFConvert", CT_F16, 1, x) : gen_convert(g, CT_F16, tf, fs, true, x);
        return OP("OpFConvert", CT_F32, 1, h);
    }
    if (to == TG_BFLOAT16) {
        if (tf == CT_U64) return math_round_bf16(g, math_i64_to_f32_odd(g, x, fs));
        if (tf == CT_F32) return math_round_bf16(g, x);
        if (tf == CT_F64) return math_f64_to_bf16(g, x);
        if (g->t->float64) return math_f64_to_bf16(g, gen_convert(g, CT_F64, tf, fs, true, x));
        return math_round_bf16(g, gen_convert(g, CT_F32, tf, fs, true, x));
    }
    return gen_convert(g, tt, tf, fs, is_signed_int(to), x);
}

static int int_div(gen *g, uint32_t dt, bool mod, int a, int b) {
    ct t = ct_of(dt);
    int zero = gen_const_bits(g, t, 0), one = gen_const_bits(g, t, 1);
    int bad = OP("OpIEqual", CT_BOOL, 2, b, zero);
    if (is_signed_int(dt)) {
        int ovf = OP("OpLogicalAnd", CT_BOOL, 2,
                     OP("OpIEqual", CT_BOOL, 2, a, gen_const_bits(g, t, UINT64_C(1) << (ct_bits(t) - 1))),
                     OP("OpIEqual", CT_BOOL, 2, b, gen_const_bits(g, t, UINT64_MAX)));
        bad = OP("OpLogicalOr", CT_BOOL, 2, bad, ovf);
    }
    int d = gen_select(g, t, bad, one, b);
    if (is_signed_int(dt)) return OP(mod ? "OpSRem" : "OpSDiv", t, 2, a, d);
    return OP(mod ? "OpUMod" : "OpUDiv", t, 2, a, d);
}

static int int_max(gen *g, uint32_t dt, int a, int b) {
    ct t = ct_of(dt);
    int gt = OP(is_signed_int(dt) ? "OpSGreaterThan" : "OpUGreaterThan", CT_BOOL, 2, a, b);
    return gen_select(g, t, gt, a, b);
}

/* The combining step of a reduction (also used by the shared-memory tree). */
int combine(gen *g, uint32_t op, uint32_t dt, ct act, int a, int b) {
    if (op == TG_OP_REDUCE_SUM) return OP(ct_is_float(act) ? "OpFAdd" : "OpIAdd", act, 2, a, b);
    if (dt == TG_BOOL) return OP("OpLogicalOr", CT_BOOL, 2, a, b);
    if (ct_is_float(act)) return math_max(g, act, a, b);
    return int_max(g, dt, a, b);
}

int identity(gen *g, uint32_t op, uint32_t dt, ct act) {
    if (op == TG_OP_REDUCE_SUM || dt == TG_BOOL || tgp_dtype_is_unsigned(dt)) return zero_of(g, act);
    if (ct_is_float(act)) return gen_const_f(g, act, -1.0 / 0.0);
    return gen_const_bits(g, act, UINT64_C(1) << (ct_bits(act) - 1));
}

/* a*b+c without an intermediate overflow or a double rounding beyond what
 * OPS.md allows: in double (a*b is exact there for every narrower type),
 * else with a fused multiply-add. */
static int emit_mulacc(gen *g, uint32_t dt, int a, int b, int c) {
    if (dt == TG_FLOAT64 || !g->t->float64) {
        int r = gen_glsl(g, "Fma", ct_of(dt), 3, a, b, c);
        return round_to(g, dt, r);
    }
    int x = OP("OpFConvert", CT_F64, 1, a), y = OP("OpFConvert", CT_F64, 1, b), z = OP("OpFConvert", CT_F64, 1, c);
    int r = OP("OpFAdd", CT_F64, 2, OP("OpFMul", CT_F64, 2, x, y), z);
    if (dt == TG_BFLOAT16) return math_f64_to_bf16(g, r);
    if (dt == TG_FLOAT16) return OP("OpFConvert", CT_F32, 1, OP("OpFConvert", CT_F16, 1, r));
    return OP("OpFConvert", CT_F32, 1, r);
}

/* DIV, RECIP, SQRT of float16/bfloat16 computed in double and rounded once
 * to the dtype: exact on any device whose double ops are within a few ulps
 * (Vulkan lets 32-bit OpFDiv be 2.5 ulps off, enough to misround a half). */
static int emit_narrow_f64(gen *g, uint32_t op, uint32_t dt, int a, int b) {
    int x = OP("OpFConvert", CT_F64, 1, a), r;
    if (op == TG_OP_SQRT) r = gen_glsl(g, "Sqrt", CT_F64, 1, x);
    else if (op == TG_OP_RECIP) r = OP("OpFDiv", CT_F64, 2, gen_const_f(g, CT_F64, 1.0), x);
    else r = OP("OpFDiv", CT_F64, 2, x, OP("OpFConvert", CT_F64, 1, b));
    if (dt == TG_BFLOAT16) return math_f64_to_bf16(g, r);
    return OP("OpFConvert", CT_F32, 1, OP("OpFConvert", CT_F16, 1, r));
}

/* One node (not LOAD/STORE/REDUCE/CONST) of dtype dt on values a, b, c
 * (-1 where unused) of source dtype sdt. TG_ERR_UNSUPPORTED: the op is not
 * defined on the dtype. */
tg_status ops_alu(gen *g, uint32_t op, uint32_t dt, uint32_t sdt, int a, int b, int c, int *out) {
    ct t = ct_of(dt), st = ct_of(sdt);
    bool fl = ct_is_float(t), fsrc = ct_is_float(st);
    int r = -1;
    switch (op) {
    case TG_OP_CAST: *out = emit_cast(g, dt, sdt, a); return TG_OK;
    case TG_OP_WHERE: *out = gen_select(g, t, a, b, c); return TG_OK;
    case TG_OP_CMPLT:
        if (sdt == TG_BOOL) r = OP("OpLogicalAnd", CT_BOOL, 2, OP("OpLogicalNot", CT_BOOL, 1, a), b);
        else if (fsrc) r = OP("OpFOrdLessThan", CT_BOOL, 2, a, b);
        else r = OP(is_signed_int(sdt) ? "OpSLessThan" : "OpULessThan", CT_BOOL, 2, a, b);
        *out = r;
        return TG_OK;
    default: break;
    }
    if (dt == TG_BOOL) {
        if (op == TG_OP_MAX) r = OP("OpLogicalOr", CT_BOOL, 2, a, b);
        else if (op == TG_OP_MUL) r = OP("OpLogicalAnd", CT_BOOL, 2, a, b);
    } else if (fl && (dt == TG_FLOAT16 || dt == TG_BFLOAT16) && g->t->float64 &&
               (op == TG_OP_DIV || op == TG_OP_RECIP || op == TG_OP_SQRT)) {
        r = emit_narrow_f64(g, op, dt, a, b); /* rounded once, as OPS.md wants */
    } else if (fl) {
        switch (op) {
        case TG_OP_EXP2: r = math_exp2(g, t, a); break;
        case TG_OP_LOG2: r = math_log2(g, t, a); break;
        case TG_OP_SIN: r = math_sin(g, t, a); break;
        case TG_OP_SQRT: r = gen_glsl(g, "Sqrt", t, 1, a); break;
        case TG_OP_RECIP: r = OP("OpFDiv", t, 2, gen_const_f(g, t, 1.0), a); break;
        case TG_OP_NEG: r = OP("OpFNegate", t, 1, a); break;
        case TG_OP_ADD: r = OP("OpFAdd", t, 2, a, b); break;
        case TG_OP_SUB: r = OP("OpFSub", t, 2, a, b); break;
        case TG_OP_MUL: r = OP("OpFMul", t, 2, a, b); break;
        case TG_OP_DIV: r = OP("OpFDiv", t, 2, a, b); break;
        case TG_OP_MOD: r = math_fmod(g, t, a, b); break;
        case TG_OP_MAX: r = math_max(g, t, a, b); break;
        case TG_OP_MULACC: *out = emit_mulacc(g, dt, a, b, c); return TG_OK;
        default: break;
        }
        if (r >= 0) r = round_to(g, dt, r);
    } else {
        switch (op) {
        case TG_OP_NEG: r = OP("OpSNegate", t, 1, a); break;
        case TG_OP_ADD: r = OP("OpIAdd", t, 2, a, b); break;
        case TG_OP_SUB: r = OP("OpISub", t, 2, a, b); break;
        case TG_OP_MUL: r = OP("OpIMul", t, 2, a, b); break;
        case TG_OP_DIV: r = int_div(g, dt, false, a, b); break;
        case TG_OP_MOD: r = int_div(g, dt, true, a, b); break;
        case TG_OP_MAX: r = int_max(g, dt, a, b); break;
        case TG_OP_MULACC: r = OP("OpIAdd", t, 2, OP("OpIMul", t, 2, a, b), c); break;
        default: break;
        }
    }
    if (r < 0) return TG_ERR_UNSUPPORTED;
    *out = r;
    return TG_OK;
}

