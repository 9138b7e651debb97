/* plugins/vulkan/spv_math.c -- float helpers emitted inline, branch-free:
 * EXP2/LOG2/SIN in double precision (GLSL.std.450 has no 64-bit versions,
 * and its 32-bit ones are looser than OPS.md allows), NaN-propagating MAX,
 * and rounding to float16/bfloat16. */
#include <math.h>
#include "spv_gen.h"

#define OP(name, t, ...) gen_op(g, name, t, __VA_ARGS__)
#define K(v) gen_const_f(g, CT_F64, v)

static int f_add(gen *g, int a, int b) { return OP("OpFAdd", CT_F64, 2, a, b); }
static int f_mul(gen *g, int a, int b) { return OP("OpFMul", CT_F64, 2, a, b); }

/* Horner: c[0] + x*(c[1] + x*(... c[n-1])) */
static int horner(gen *g, int x, const double *c, int n) {
    int acc = K(c[n - 1]);
    for (int i = n - 2; i >= 0; i--) acc = f_add(g, f_mul(g, acc, x), K(c[i]));
    return acc;
}

/* 2^n for an integer n (u32 holding a signed value) in [-1022, 1023]. */
static int pow2i(gen *g, int n) {
    int n64 = OP("OpSConvert", CT_U64, 1, n);
    int e = OP("OpIAdd", CT_U64, 2, n64, gen_const_bits(g, CT_U64, 1023));
    int bits = OP("OpShiftLeftLogical", CT_U64, 2, e, gen_const_bits(g, CT_U64, 52));
    return OP("OpBitcast", CT_F64, 1, bits);
}

static int exp2_f64(gen *g, int x) {
    int lo = K(-1100.0), hi = K(1100.0);
    int xc = gen_select(g, CT_F64, OP("OpFOrdLessThan", CT_BOOL, 2, x, lo), lo, x);
    xc = gen_select(g, CT_F64, OP("OpFOrdGreaterThan", CT_BOOL, 2, xc, hi), hi, xc);
    int n = gen_glsl(g, "RoundEven", CT_F64, 1, xc);
    int f = OP("OpFSub", CT_F64, 2, xc, n);       /* exact, |f| <= 0.5 */
    int y = f_mul(g, f, K(0.69314718055994530942)); /* f * ln 2 */
    double c[15];
    c[0] = 1.0;
    for (int i = 1; i < 15; i++) c[i] = c[i - 1] / i; /* exp(y) Taylor */
    int p = horner(g, y, c, 15);
    int ni = OP("OpConvertFToS", CT_U32, 1, n);
    int n1 = OP("OpShiftRightArithmetic", CT_U32, 2, ni, gen_const_bits(g, CT_U32, 1));
    int n2 = OP("OpISub", CT_U32, 2, ni, n1);
    int r = f_mul(g, f_mul(g, p, pow2i(g, n1)), pow2i(g, n2));
    return gen_select(g, CT_F64, OP("OpIsNan", CT_BOOL, 1, x), x, r);
}

static int log2_f64(gen *g, int x) {
    int tiny = OP("OpFOrdLessThan", CT_BOOL, 2, x, K(0x1p-1022));
    int xs = gen_select(g, CT_F64, tiny, f_mul(g, x, K(0x1p54)), x);
    int bits = OP("OpBitcast", CT_U64, 1, xs);
    int eb = OP("OpShiftRightLogical", CT_U64, 2, bits, gen_const_bits(g, CT_U64, 52));
    eb = OP("OpBitwiseAnd", CT_U64, 2, eb, gen_const_bits(g, CT_U64, 0x7ff));
    int mb = OP("OpBitwiseAnd", CT_U64, 2, bits, gen_const_bits(g, CT_U64, 0x000fffffffffffffull));
    mb = OP("OpBitwiseOr", CT_U64, 2, mb, gen_const_bits(g, CT_U64, 0x3ff0000000000000ull));
    int m = OP("OpBitcast", CT_F64, 1, mb); /* [1, 2) */
    int e = OP("OpConvertSToF", CT_F64, 1, OP("OpISub", CT_U64, 2, eb, gen_const_bits(g, CT_U64, 1023)));
    e = f_add(g, e, gen_select(g, CT_F64, tiny, K(-54.0), K(0.0)));
    int big = OP("OpFOrdGreaterThan", CT_BOOL, 2, m, K(1.41421356237309504880));
    m = gen_select(g, CT_F64, big, f_mul(g, m, K(0.5)), m);
    e = f_add(g, e, gen_select(g, CT_F64, big, K(1.0), K(0.0)));
    /* log(m) = 2 atanh(s), s = (m-1)/(m+1), |s| <= 0.172 */
    int s = OP("OpFDiv", CT_F64, 2, f_add(g, m, K(-1.0)), f_add(g, m, K(1.0)));
    int z = f_mul(g, s, s);
    double c[12];
    for (int i = 0; i < 12; i++) c[i] = 1.0 / (2 * i + 1);
    int tail = f_mul(g, f_mul(g, z, horner(g, z, c + 1, 11)), s); /* s*(z/3 + z^2/5 ...) */
    const double inv_ln2x2 = 2.0 / 0.69314718055994530942;
    int l = f_add(g, f_mul(g, s, K(inv_ln2x2)), f_mul(g, tail, K(inv_ln2x2)));
    int r = f_add(g, e, l);
    /* specials */
    r = gen_select(g, CT_F64, OP("OpFOrdEqual", CT_BOOL, 2, x, K(INFINITY)), x, r);
    r = gen_select(g, CT_F64, OP("OpFOrdEqual", CT_BOOL, 2, x, K(0.0)), K(-INFINITY), r);
    int bad = OP("OpLogicalOr", CT_BOOL, 2, OP("OpIsNan", CT_BOOL, 1, x), OP("OpFOrdLessThan", CT_BOOL, 2, x, K(0.0)));
    return gen_select(g, CT_F64, bad, K(NAN), r);
}

static int sin_f64(gen *g, int x) {
    int k = gen_glsl(g, "RoundEven", CT_F64, 1, f_mul(g, x, K(0.63661977236758134308)));
    /* pi/2 in three parts, the first two with 33 significant bits, so that
     * k * part is exact for |k| < 2^20 */
    int r = OP("OpFSub", CT_F64, 2, x, f_mul(g, k, K(1.57079632673412561417e+00)));
    r = OP("OpFSub", CT_F64, 2, r, f_mul(g, k, K(6.07710050630396597660e-11)));
    r = OP("OpFSub", CT_F64, 2, r, f_mul(g, k, K(2.02226624879595063154e-21)));
    int z = f_mul(g, r, r);
    double cs[9], cc[10];
    double f = 1.0;
    for (int i = 0; i < 9; i++) { cs[i] = (i & 1 ? -1.0 : 1.0) / f; f *= (2 * i + 2) * (2 * i + 3); }
    f = 1.0;
    for (int i = 0; i < 10; i++) { cc[i] = (i & 1 ? -1.0 : 1.0) / f; f *= (2 * i + 1) * (2 * i + 2); }
    int sv = f_mul(g, r, horner(g, z, cs, 9));
    int cv = horner(g, z, cc, 10);
    int q = OP("OpBitwiseAnd", CT_U32, 2, OP("OpConvertFToS", CT_U32, 1, k), gen_const_bits(g, CT_U32, 3));
    int odd = OP("OpINotEqual", CT_BOOL, 2, OP("OpBitwiseAnd", CT_U32, 2, q, gen_const_bits(g, CT_U32, 1)), gen_const_bits(g, CT_U32, 0));
    int neg = OP("OpINotEqual", CT_BOOL, 2, OP("OpBitwiseAnd", CT_U32, 2, q, gen_const_bits(g, CT_U32, 2)), gen_const_bits(g, CT_U32, 0));
    int v = gen_select(g, CT_F64, odd, cv, sv);
    v = gen_select(g, CT_F64, neg, OP("OpFNegate", CT_F64, 1, v), v);
    /* far outside the accurate range only |v| <= 1 is promised */
    v = gen_select(g, CT_F64, OP("OpFOrdGreaterThan", CT_BOOL, 2, v, K(1.0)), K(1.0), v);
    v = gen_select(g, CT_F64, OP("OpFOrdLessThan", CT_BOOL, 2, v, K(-1.0)), K(-1.0), v);
    v = gen_select(g, CT_F64, OP("OpIsNan", CT_BOOL, 1, v), K(0.0), v);
    v = gen_select(g, CT_F64, OP("OpFOrdEqual", CT_BOOL, 2, x, K(0.0)), x, v); /* keeps -0 */
    int bad = OP("OpLogicalOr", CT_BOOL, 2, OP("OpIsNan", CT_BOOL, 1, x), OP("OpIsInf", CT_BOOL, 1, x));
    return gen_select(g, CT_F64, bad, K(NAN), v);
}

typedef int (*f64_fn)(gen *g, int x);

static int via_f64(gen *g, ct t, int x, f64_fn fn, const char *glsl_name) {
    if (t == CT_F64) return fn(g, x);
    if (g->t->float64) return gen_op(g, "OpFConvert", t, 1, fn(g, gen_op(g, "OpFConvert", CT_F64, 1, x)));
    return gen_glsl(g, glsl_name, t, 1, x);
}

int math_exp2(gen *g, ct t, int x) { return via_f64(g, t, x, exp2_f64, "Exp2"); }
int math_log2(gen *g, ct t, int x) { return via_f64(g, t, x, log2_f64, "Log2"); }
int math_sin(gen *g, ct t, int x) { return via_f64(g, t, x, sin_f64, "Sin"); }

int math_max(gen *g, ct t, int a, int b) {
    int r = gen_select(g, t, OP("OpFOrdGreaterThan", CT_BOOL, 2, a, b), a, b);
    r = gen_select(g, t, OP("OpIsNan", CT_BOOL, 1, a), a, r);
    return gen_select(g, t, OP("OpIsNan", CT_BOOL, 1, b), b, r);
}

int math_round_f16(gen *g, int x32) {
    return OP("OpFConvert", CT_F32, 1, OP("OpFConvert", CT_F16, 1, x32));
}

/* f32 -> bf16, round to nearest even, NaN kept quiet: the 16 bits in a u32 */
int math_bf16_bits(gen *g, int x32) {
    int u = OP("OpBitcast", CT_U32, 1, x32);
    int lsb = OP("OpBitwiseAnd", CT_U32, 2, OP("OpShiftRightLogical", CT_U32, 2, u, gen_const_bits(g, CT_U32, 16)),
                 gen_const_bits(g, CT_U32, 1));
    int r = OP("OpIAdd", CT_U32, 2, OP("OpIAdd", CT_U32, 2, u, gen_const_bits(g, CT_U32, 0x7fff)), lsb);
    r = OP("OpShiftRightLogical", CT_U32, 2, r, gen_const_bits(g, CT_U32, 16));
    int nan = OP("OpBitwiseOr", CT_U32, 2, OP("OpShiftRightLogical", CT_U32, 2, u, gen_const_bits(g, CT_U32, 16)),
                 gen_const_bits(g, CT_U32, 0x40));
    return gen_select(g, CT_U32, OP("OpIsNan", CT_BOOL, 1, x32), nan, r);
}

int math_round_bf16(gen *g, int x32) {
    int b = math_bf16_bits(g, x32);
    return OP("OpBitcast", CT_F32, 1, OP("OpShiftLeftLogical", CT_U32, 2, b, gen_const_bits(g, CT_U32, 16)));
}

#define U32(v) gen_const_bits(g, CT_U32, v)

/* f64 -> f32 rounded to odd: where the nearest f32 is inexact and even, step
 * one ulp towards the true value; a later rounding to f16 or bf16 is then
 * correct (no double rounding). */
int math_f64_to_f32_odd(gen *g, int x64) {
    int f = OP("OpFConvert", CT_F32, 1, x64);
    int u = OP("OpBitcast", CT_U32, 1, f);
    int even = OP("OpIEqual", CT_BOOL, 2, OP("OpBitwiseAnd", CT_U32, 2, u, U32(1)), U32(0));
    int back = OP("OpFConvert", CT_F64, 1, f);
    int inexact = OP("OpFOrdNotEqual", CT_BOOL, 2, back, x64);
    int up = OP("OpFOrdLessThan", CT_BOOL, 2, gen_glsl(g, "FAbs", CT_F64, 1, back), gen_glsl(g, "FAbs", CT_F64, 1, x64));
    int adj = gen_select(g, CT_U32, up, OP("OpIAdd", CT_U32, 2, u, U32(1)), OP("OpISub", CT_U32, 2, u, U32(1)));
    u = gen_select(g, CT_U32, OP("OpLogicalAnd", CT_BOOL, 2, even, inexact), adj, u);
    return OP("OpBitcast", CT_F32, 1, u);
}

int math_f64_to_bf16(gen *g, int x64) { return math_round_bf16(g, math_f64_to_f32_odd(g, x64)); }

/* A 64-bit integer (u64 id) -> f32 rounded to odd: its top 24 significant
 * bits, the lowest set if any bit below them is, scaled by a power of two. */
int math_i64_to_f32_odd(gen *g, int x, bool is_signed) {
    int neg = is_signed ? OP("OpSLessThan", CT_BOOL, 2, x, gen_const_bits(g, CT_U64, 0)) : gen_const_bool(g, false);
    int ax = gen_select(g, CT_U64, neg, OP("OpSNegate", CT_U64, 1, x), x);
    int hi = OP("OpUConvert", CT_U32, 1, OP("OpShiftRightLogical", CT_U64, 2, ax, gen_const_bits(g, CT_U64, 32)));
    int lo = OP("OpUConvert", CT_U32, 1, ax);
    int msb = gen_select(g, CT_U32, OP("OpINotEqual", CT_BOOL, 2, hi, U32(0)),
                         OP("OpIAdd", CT_U32, 2, gen_glsl(g, "FindUMsb", CT_U32, 1, hi), U32(32)),
                         gen_glsl(g, "FindUMsb", CT_U32, 1, lo));
    int big = OP("OpSGreaterThan", CT_BOOL, 2, msb, U32(23));
    int sh = OP("OpUConvert", CT_U64, 1, gen_select(g, CT_U32, big, OP("OpISub", CT_U32, 2, msb, U32(23)), U32(0)));
    int one = gen_const_bits(g, CT_U64, 1), zero = gen_const_bits(g, CT_U64, 0);
    int rest = OP("OpBitwiseAnd", CT_U64, 2, ax, OP("OpISub", CT_U64, 2, OP("OpShiftLeftLogical", CT_U64, 2, one, sh), one));
    int m = OP("OpBitwiseOr", CT_U64, 2, OP("OpShiftRightLogical", CT_U64, 2, ax, sh),
               gen_select(g, CT_U64, OP("OpINotEqual", CT_BOOL, 2, rest, zero), one, zero));
    int scale = OP("OpBitcast", CT_F32, 1, OP("OpShiftLeftLogical", CT_U32, 2,
                   OP("OpIAdd", CT_U32, 2, OP("OpUConvert", CT_U32, 1, sh), U32(127)), U32(23)));
    int f = OP("OpFMul", CT_F32, 2, OP("OpConvertUToF", CT_F32, 1, m), scale);
    return gen_select(g, CT_F32, neg, OP("OpFNegate", CT_F32, 1, f), f);
}

/* |x| = m * 2^e with m an integer below 2^53 (u64 ids; e signed in a u64) */
static void split_f64(gen *g, int ax, int *m, int *e) {
    int bits = OP("OpBitcast", CT_U64, 1, ax);
    int be = OP("OpShiftRightLogical", CT_U64, 2, bits, gen_const_bits(g, CT_U64, 52));
    int man = OP("OpBitwiseAnd", CT_U64, 2, bits, gen_const_bits(g, CT_U64, 0x000fffffffffffffull));
    int sub = OP("OpIEqual", CT_BOOL, 2, be, gen_const_bits(g, CT_U64, 0));
    *m = gen_select(g, CT_U64, sub, man, OP("OpBitwiseOr", CT_U64, 2, man, gen_const_bits(g, CT_U64, 1ull << 52)));
    *e = OP("OpISub", CT_U64, 2, gen_select(g, CT_U64, sub, gen_const_bits(g, CT_U64, 1), be),
            gen_const_bits(g, CT_U64, 1075));
}

/* fmod by integer long division: with x = mx 2^ex, y = my 2^ey and
 * ex >= ey, fmod = 2^ey ((mx 2^(ex-ey)) mod my), taken 10 bits at a time. */
int math_fmod(gen *g, ct t, int a, int b) {
    if (!g->t->float64 || !g->t->int64) return OP("OpFRem", t, 2, a, b);
    int x = t == CT_F64 ? a : OP("OpFConvert", CT_F64, 1, a);
    int y = t == CT_F64 ? b : OP("OpFConvert", CT_F64, 1, b);
    int ax = gen_glsl(g, "FAbs", CT_F64, 1, x), ay = gen_glsl(g, "FAbs", CT_F64, 1, y);
    int mx, ex, my, ey;
    split_f64(g, ax, &mx, &ex);
    split_f64(g, ay, &my, &ey);
    int zero = gen_const_bits(g, CT_U64, 0), ten = gen_const_bits(g, CT_U64, 10);
    my = gen_select(g, CT_U64, OP("OpIEqual", CT_BOOL, 2, my, zero), gen_const_bits(g, CT_U64, 1), my);
    int smaller = OP("OpSLessThan", CT_BOOL, 2, ex, ey);
    int rv = gen_fvar(g, CT_U64), dv = gen_fvar(g, CT_U64);
    sb_printf(&g->body, "OpStore %%v%d %%v%d\n", rv, OP("OpUMod", CT_U64, 2, mx, my));
    sb_printf(&g->body, "OpStore %%v%d %%v%d\n", dv, gen_select(g, CT_U64, smaller, zero, OP("OpISub", CT_U64, 2, ex, ey)));
    int lh = gen_id(g), lb = gen_id(g), lc = gen_id(g), lm = gen_id(g);
    sb_printf(&g->body, "OpBranch %%v%d\n", lh);
    gen_label_at(g, lh);
    int d = OP("OpLoad", CT_U64, 1, dv);
    sb_printf(&g->body, "OpLoopMerge %%v%d %%v%d None\nOpBranchConditional %%v%d %%v%d %%v%d\n", lm, lc,
              OP("OpUGreaterThan", CT_BOOL, 2, d, zero), lb, lm);
    gen_label_at(g, lb);
    int k = gen_select(g, CT_U64, OP("OpULessThan", CT_BOOL, 2, d, ten), d, ten);
    int r = OP("OpLoad", CT_U64, 1, rv);
    r = OP("OpUMod", CT_U64, 2, OP("OpShiftLeftLogical", CT_U64, 2, r, k), my);
    sb_printf(&g->body, "OpStore %%v%d %%v%d\nOpStore %%v%d %%v%d\nOpBranch %%v%d\n", rv, r, dv,
              OP("OpISub", CT_U64, 2, d, k), lc);
    gen_label_at(g, lc);
    sb_printf(&g->body, "OpBranch %%v%d\n", lh);
    gen_label_at(g, lm);
    r = OP("OpConvertUToF", CT_F64, 1, OP("OpLoad", CT_U64, 1, rv));
    int e32 = OP("OpUConvert", CT_U32, 1, ey);
    int e1 = OP("OpShiftRightArithmetic", CT_U32, 2, e32, gen_const_bits(g, CT_U32, 1));
    int res = f_mul(g, f_mul(g, r, pow2i(g, e1)), pow2i(g, OP("OpISub", CT_U32, 2, e32, e1)));
    res = gen_select(g, CT_F64, smaller, ax, res);
    int neg = OP("OpSLessThan", CT_BOOL, 2, OP("OpBitcast", CT_U64, 1, x), zero);
    res = gen_select(g, CT_F64, neg, OP("OpFNegate", CT_F64, 1, res), res);
    res = gen_select(g, CT_F64, OP("OpLogicalOr", CT_BOOL, 2, OP("OpIsInf", CT_BOOL, 1, y),
                                   OP("OpFOrdEqual", CT_BOOL, 2, x, K(0.0))), x, res);
    int bad = OP("OpLogicalOr", CT_BOOL, 2, OP("OpLogicalOr", CT_BOOL, 2, OP("OpIsNan", CT_BOOL, 1, x), OP("OpIsNan", CT_BOOL, 1, y)),
                 OP("OpLogicalOr", CT_BOOL, 2, OP("OpIsInf", CT_BOOL, 1, x), OP("OpFOrdEqual", CT_BOOL, 2, y, K(0.0))));
    res = gen_select(g, CT_F64, bad, K(NAN), res);
    return t == CT_F64 ? res : OP("OpFConvert", t, 1, res);
}
