/* tests/ref/test_ref_float.c -- float ops of ref on all four float dtypes.
 * Two kinds of checks:
 *  - every pair of a set of adversarial values (NaN, +-inf, -0, subnormals,
 *    extremes) through every op, against an independent oracle: C's own
 *    float/double arithmetic, rounded to float16/bfloat16 with
 *    dtype_util.h's float->half/bf16 conversions (ref rounds from double);
 *  - special cases and rounding ties of OPS.md written out by hand. */
#include <float.h>
#include <stdint.h>

#include <tg/dtype_util.h>
#include "ref_harness.h"

/* ------------------------------------------- test-side encode/decode */

static double get(uint32_t dt, const void *p, int i) {
    switch (dt) {
    case TG_FLOAT16: return tgp_half_to_float(((const uint16_t *)p)[i]);
    case TG_BFLOAT16: return tgp_bf16_to_float(((const uint16_t *)p)[i]);
    case TG_FLOAT32: return ((const float *)p)[i];
    default: return ((const double *)p)[i];
    }
}

/* Bit pattern of a value representable in dt, as a sign-magnitude integer. */
static uint64_t bits_of(uint32_t dt, double v) {
    switch (dt) {
    case TG_FLOAT16: return tgp_float_to_half((float)v);
    case TG_BFLOAT16: return tgp_float_to_bf16((float)v);
    case TG_FLOAT32: return refh_f32_bits((float)v);
    default: return refh_f64_bits(v);
    }
}

static int64_t ordered(uint32_t dt, double v) {
    int width = (int)refh_dtype_size(dt) * 8;
    uint64_t b = bits_of(dt, v), sign = b >> (width - 1), mag = b & ((1ull << (width - 1)) - 1);
    return sign ? -(int64_t)mag : (int64_t)mag;
}

/* got matches want: NaN exactly where want is NaN; else within `ulps`
 * (ordered distance), and bit-identical (zero sign included) when ulps == 0
 * unless zero_sign_free. */
static int matches(uint32_t dt, double got, double want, int ulps, int zero_sign_free) {
    if (isnan(want) || isnan(got)) return isnan(want) && isnan(got);
    if (ulps == 0 && !zero_sign_free) return bits_of(dt, got) == bits_of(dt, want);
    int64_t d = ordered(dt, got) - ordered(dt, want);
    return (d < 0 ? -d : d) <= ulps;
}

/* The oracle: the op in float (float16/bfloat16/float32) or double
 * (float64), then rounded to the dtype by dtype_util.h's float paths. */
static double round_float(uint32_t dt, float f) {
    if (dt == TG_FLOAT16) return tgp_half_to_float(tgp_float_to_half(f));
    if (dt == TG_BFLOAT16) return tgp_bf16_to_float(tgp_float_to_bf16(f));
    return f;
}

static double max_nan(double a, double b) { return isnan(a) || isnan(b) ? NAN : (a > b ? a : b); }

static double oracle(uint32_t op, uint32_t dt, double a, double b, double c) {
    if (dt == TG_FLOAT64) {
        switch (op) {
        case TG_OP_ADD: return a + b;
        case TG_OP_SUB: return a - b;
        case TG_OP_MUL: return a * b;
        case TG_OP_DIV: return a / b;
        case TG_OP_MOD: return fmod(a, b);
        case TG_OP_MAX: return max_nan(a, b);
        case TG_OP_NEG: return -a;
        case TG_OP_SQRT: return sqrt(a);
        case TG_OP_RECIP: return 1.0 / a;
        case TG_OP_EXP2: return exp2(a);
        case TG_OP_LOG2: return log2(a);
        case TG_OP_SIN: return sin(a);
        default: return fma(a, b, c); /* MULACC */
        }
    }
    float x = (float)a, y = (float)b, z = (float)c, r;
    switch (op) {
    case TG_OP_ADD: r = x + y; break;
    case TG_OP_SUB: r = x - y; break;
    case TG_OP_MUL: r = x * y; break;
    case TG_OP_DIV: r = x / y; break;
    case TG_OP_MOD: r = fmodf(x, y); break;
    case TG_OP_MAX: r = (float)max_nan(x, y); break;
    case TG_OP_NEG: r = -x; break;
    case TG_OP_SQRT: r = sqrtf(x); break;
    case TG_OP_RECIP: r = 1.0f / x; break;
    case TG_OP_EXP2: r = exp2f(x); break;
    case TG_OP_LOG2: r = log2f(x); break;
    case TG_OP_SIN: r = sinf(x); break;
    default: r = fmaf(x, y, z); break;
    }
    return round_float(dt, r);
}

/* ------------------------------------------------ all-pairs sweep */

#define NV 20
#define NP (NV * NV)

static const uint16_t half_vals[NV] = {0x0000, 0x8000, 0x3c00, 0xbc00, 0x3e00, 0x4248, 0x0001, 0x8001, 0x03ff, 0x0400,
                                       0x7bff, 0xfbff, 0x7c00, 0xfc00, 0x7e00, 0x6800, 0x3555, 0x5640, 0xc700, 0x1234};
static const uint16_t bf16_vals[NV] = {0x0000, 0x8000, 0x3f80, 0xbf80, 0x3fc0, 0x4049, 0x0001, 0x8001, 0x007f, 0x0080,
                                       0x7f7f, 0xff7f, 0x7f80, 0xff80, 0x7fc0, 0x4380, 0x3eab, 0x42c8, 0xc0e0, 0x2345};
static const float f32_vals[NV] = {0.0f, -0.0f, 1.0f, -1.0f, 1.5f, 3.14159274f, 1e-45f, -1e-45f, 1e-40f, FLT_MIN,
                                   FLT_MAX, -FLT_MAX, INFINITY, -INFINITY, NAN, 16777216.0f, 0.1f, 100.0f, -7.0f, 1e30f};
static const double f64_vals[NV] = {0.0, -0.0, 1.0, -1.0, 1.5, 3.141592653589793, 5e-324, -5e-324, 1e-310, DBL_MIN,
                                    DBL_MAX, -DBL_MAX, INFINITY, -INFINITY, NAN, 9007199254740992.0, 0.1, 100.0, -7.0, 1e300};

static void fill(uint32_t dt, void *p, int i, int k) {
    switch (dt) {
    case TG_FLOAT16: ((uint16_t *)p)[i] = half_vals[k]; break;
    case TG_BFLOAT16: ((uint16_t *)p)[i] = bf16_vals[k]; break;
    case TG_FLOAT32: ((float *)p)[i] = f32_vals[k]; break;
    default: ((double *)p)[i] = f64_vals[k]; break;
    }
}

static void sweep(refh *r, uint32_t dt, const char *name) {
    static double a[NP], b[NP], c[NP], out[NP]; /* big enough for any dtype */
    static uint8_t flag[NP], cond[NP];
    for (int i = 0; i < NP; i++) {
        fill(dt, a, i, i / NV);
        fill(dt, b, i, i % NV);
        fill(dt, c, i, (i * 7 + 3) % NV);
        cond[i] = (uint8_t)(i % 2);
    }
    static const struct { uint32_t op; int nsrc, ulps; const char *name; } ops[] = {
        {TG_OP_ADD, 2, 0, "ADD"}, {TG_OP_SUB, 2, 0, "SUB"}, {TG_OP_MUL, 2, 0, "MUL"}, {TG_OP_DIV, 2, 0, "DIV"},
        {TG_OP_MOD, 2, 0, "MOD"}, {TG_OP_MAX, 2, 0, "MAX"}, {TG_OP_NEG, 1, 0, "NEG"}, {TG_OP_SQRT, 1, 0, "SQRT"},
        {TG_OP_RECIP, 1, 0, "RECIP"}, {TG_OP_EXP2, 1, 1, "EXP2"}, {TG_OP_LOG2, 1, 1, "LOG2"},
        {TG_OP_SIN, 1, 1, "SIN"}, {TG_OP_MULACC, 3, 1, "MULACC"}};
    for (size_t o = 0; o < sizeof ops / sizeof ops[0]; o++) {
        tg_status st = refh_elementwise(r, ops[o].op, dt, dt, NP, a, ops[o].nsrc > 1 ? b : NULL,
                                        ops[o].nsrc > 2 ? c : NULL, out);
        int ok = st == TG_OK, bad = 0;
        for (int i = 0; ok && i < (ops[o].nsrc == 1 ? NV : NP); i++) {
            int p = ops[o].nsrc == 1 ? i * NV : i; /* unary: each value once */
            double x = get(dt, a, p), y = get(dt, b, p), z = get(dt, c, p);
            double want = oracle(ops[o].op, dt, x, y, z), got = get(dt, out, p);
            int zero_free = ops[o].op == TG_OP_MAX || ops[o].op == TG_OP_MULACC;
            if (!matches(dt, got, want, ops[o].ulps, zero_free)) {
                if (bad++ < 3) tap_diag("%s %s(%g, %g, %g) = %.9g, want %.9g", name, ops[o].name, x, y, z, got, want);
                ok = 0;
            }
        }
        tap_ok(ok, "%s %s over %d adversarial operand pairs", name, ops[o].name, NP);
    }
    /* CMPLT and WHERE */
    int ok = refh_elementwise(r, TG_OP_CMPLT, dt, TG_BOOL, NP, a, b, NULL, flag) == TG_OK;
    for (int i = 0; ok && i < NP; i++) ok = flag[i] == (get(dt, a, i) < get(dt, b, i));
    tap_ok(ok, "%s CMPLT (false on NaN, -0 < +0 false)", name);
    ok = refh_elementwise(r, TG_OP_WHERE, dt, dt, NP, cond, a, b, out) == TG_OK;
    for (int i = 0; ok && i < NP; i++) {
        size_t sz = refh_dtype_size(dt);
        ok = memcmp((char *)out + i * sz, (char *)(cond[i] ? (void *)a : (void *)b) + i * sz, sz) == 0;
    }
    tap_ok(ok, "%s WHERE selects bit for bit", name);
}

/* ---------------------------------------------------- by hand */

typedef struct hcase {
    uint32_t op;
    double a, b;     /* operands (b unused for unary) */
    uint64_t want;   /* result bits in the dtype */
    const char *what;
} hcase;

static void by_hand(refh *r, uint32_t dt, const char *name, const hcase *cs, int n) {
    for (int i = 0; i < n; i++) {
        union { double d; float f; uint16_t h; } a, b, out;
        int unary = cs[i].op <= TG_OP_SIN;
        /* operands written as doubles; each converts to the dtype exactly */
        if (dt == TG_FLOAT16) a.h = tgp_float_to_half((float)cs[i].a), b.h = tgp_float_to_half((float)cs[i].b);
        else if (dt == TG_BFLOAT16) a.h = tgp_float_to_bf16((float)cs[i].a), b.h = tgp_float_to_bf16((float)cs[i].b);
        else if (dt == TG_FLOAT32) a.f = (float)cs[i].a, b.f = (float)cs[i].b;
        else a.d = cs[i].a, b.d = cs[i].b;
        tg_status st = refh_elementwise(r, cs[i].op, dt, dt, 1, &a, unary ? NULL : &b, NULL, &out);
        uint64_t got = bits_of(dt, get(dt, &out, 0));
        int want_nan = cs[i].want == UINT64_MAX;
        tap_ok(st == TG_OK && (want_nan ? isnan(get(dt, &out, 0)) : got == cs[i].want), "%s %s (got 0x%llx)", name,
               cs[i].what, (unsigned long long)got);
    }
}

#define NANB UINT64_MAX

static const hcase f32_cases[] = {
    {TG_OP_NEG, 0.0, 0, 0x80000000u, "NEG(+0) = -0"},
    {TG_OP_ADD, -0.0, -0.0, 0x80000000u, "-0 + -0 = -0"},
    {TG_OP_ADD, -0.0, 0.0, 0, "-0 + +0 = +0"},
    {TG_OP_SUB, 5.0, 5.0, 0, "5 - 5 = +0"},
    {TG_OP_MUL, -0.0, 5.0, 0x80000000u, "-0 * 5 = -0"},
    {TG_OP_MUL, 0.0, INFINITY, NANB, "0 * inf = NaN"},
    {TG_OP_ADD, INFINITY, -INFINITY, NANB, "inf + -inf = NaN"},
    {TG_OP_DIV, 1.0, 0.0, 0x7f800000u, "1 / +0 = +inf"},
    {TG_OP_DIV, 1.0, -0.0, 0xff800000u, "1 / -0 = -inf"},
    {TG_OP_DIV, 0.0, 0.0, NANB, "0 / 0 = NaN"},
    {TG_OP_DIV, -3.0, INFINITY, 0x80000000u, "-3 / inf = -0"},
    {TG_OP_DIV, 1.0, 3.0, 0x3eaaaaabu, "1 / 3 rounds to nearest"},
    {TG_OP_RECIP, -0.0, 0, 0xff800000u, "RECIP(-0) = -inf"},
    {TG_OP_RECIP, 3.0, 0, 0x3eaaaaabu, "RECIP(3)"},
    {TG_OP_RECIP, -INFINITY, 0, 0x80000000u, "RECIP(-inf) = -0"},
    {TG_OP_SQRT, -0.0, 0, 0x80000000u, "SQRT(-0) = -0"},
    {TG_OP_SQRT, -1.0, 0, NANB, "SQRT(-1) = NaN"},
    {TG_OP_SQRT, 2.0, 0, 0x3fb504f3u, "SQRT(2)"},
    {TG_OP_SQRT, INFINITY, 0, 0x7f800000u, "SQRT(inf) = inf"},
    {TG_OP_LOG2, 0.0, 0, 0xff800000u, "LOG2(+0) = -inf"},
    {TG_OP_LOG2, -0.0, 0, 0xff800000u, "LOG2(-0) = -inf"},
    {TG_OP_LOG2, -1.0, 0, NANB, "LOG2(-1) = NaN"},
    {TG_OP_LOG2, 8.0, 0, 0x40400000u, "LOG2(8) = 3"},
    {TG_OP_LOG2, 1.0, 0, 0, "LOG2(1) = +0"},
    {TG_OP_LOG2, INFINITY, 0, 0x7f800000u, "LOG2(inf) = inf"},
    {TG_OP_EXP2, -INFINITY, 0, 0, "EXP2(-inf) = +0"},
    {TG_OP_EXP2, INFINITY, 0, 0x7f800000u, "EXP2(inf) = inf"},
    {TG_OP_EXP2, -0.0, 0, 0x3f800000u, "EXP2(-0) = 1"},
    {TG_OP_EXP2, 3.0, 0, 0x41000000u, "EXP2(3) = 8"},
    {TG_OP_EXP2, 128.0, 0, 0x7f800000u, "EXP2(128) overflows to inf"},
    {TG_OP_EXP2, -149.0, 0, 0x00000001u, "EXP2(-149) = smallest subnormal"},
    {TG_OP_EXP2, -150.0, 0, 0, "EXP2(-150) = +0 (tie to even)"},
    {TG_OP_SIN, -0.0, 0, 0x80000000u, "SIN(-0) = -0"},
    {TG_OP_SIN, INFINITY, 0, NANB, "SIN(inf) = NaN"},
    {TG_OP_MOD, -7.0, 2.0, 0xbf800000u, "MOD(-7, 2) = -1 (dividend's sign)"},
    {TG_OP_MOD, 7.0, -2.0, 0x3f800000u, "MOD(7, -2) = 1"},
    {TG_OP_MOD, 5.5, INFINITY, 0x40b00000u, "MOD(5.5, inf) = 5.5"},
    {TG_OP_MOD, INFINITY, 2.0, NANB, "MOD(inf, 2) = NaN"},
    {TG_OP_MOD, 1.0, 0.0, NANB, "MOD(1, 0) = NaN"},
    {TG_OP_MOD, -0.0, 3.0, 0x80000000u, "MOD(-0, 3) = -0"},
    {TG_OP_MAX, NAN, 1.0, NANB, "MAX(NaN, 1) = NaN"},
    {TG_OP_MAX, 1.0, NAN, NANB, "MAX(1, NaN) = NaN"},
    {TG_OP_MAX, -INFINITY, -5.0, 0xc0a00000u, "MAX(-inf, -5) = -5"},
    {TG_OP_MUL, 1.1754943508222875e-38, 1.1920928955078125e-07, 0x00000001u, "FLT_MIN * 2^-23 = subnormal 2^-149"},
    {TG_OP_MUL, 1e-45, 0.5, 0, "2^-149 * 0.5 = +0 (tie to even)"},
    {TG_OP_MUL, 1e-45, 0.75, 0x00000001u, "2^-149 * 0.75 = 2^-149"},
    {TG_OP_ADD, 3e38, 3e38, 0x7f800000u, "3e38 + 3e38 overflows to inf"},
    {TG_OP_ADD, 16777216.0, 1.0, 0x4b800000u, "2^24 + 1 = 2^24 (tie to even)"},
    {TG_OP_ADD, 16777218.0, 1.0, 0x4b800002u, "(2^24+2) + 1 = 2^24+4 (tie to even)"},
};

static const hcase half_cases[] = {
    {TG_OP_ADD, 2048.0, 1.0, 0x6800, "2048 + 1 = 2048 (tie to even)"},
    {TG_OP_ADD, 2050.0, 1.0, 0x6802, "2050 + 1 = 2052 (tie to even)"},
    {TG_OP_ADD, 2048.0, 1.5, 0x6801, "2048 + 1.5 = 2050"},
    {TG_OP_MUL, 5.960464477539063e-08, 0.5, 0, "2^-24 * 0.5 = +0 (tie to even)"},
    {TG_OP_MUL, 5.960464477539063e-08, 0.75, 0x0001, "2^-24 * 0.75 = 2^-24"},
    {TG_OP_MUL, 6.103515625e-05, 0.5, 0x0200, "2^-14 * 0.5 = subnormal 2^-15"},
    {TG_OP_ADD, 65504.0, 16.0, 0x7c00, "65504 + 16 = inf (tie rounds to even = inf)"},
    {TG_OP_ADD, 65504.0, 15.0, 0x7bff, "65504 + 15 = 65504"},
    {TG_OP_NEG, 0.0, 0, 0x8000, "NEG(+0) = -0"},
    {TG_OP_SQRT, -0.0, 0, 0x8000, "SQRT(-0) = -0"},
    {TG_OP_RECIP, 0.0, 0, 0x7c00, "RECIP(+0) = +inf"},
    {TG_OP_LOG2, 0.0, 0, 0xfc00, "LOG2(0) = -inf"},
    {TG_OP_EXP2, 16.0, 0, 0x7c00, "EXP2(16) = inf"},
    {TG_OP_EXP2, -24.0, 0, 0x0001, "EXP2(-24) = smallest subnormal"},
    {TG_OP_DIV, 1.0, 3.0, 0x3555, "1 / 3"},
    {TG_OP_SIN, -0.0, 0, 0x8000, "SIN(-0) = -0"},
};

static const hcase bf16_cases[] = {
    {TG_OP_ADD, 256.0, 1.0, 0x4380, "256 + 1 = 256 (tie to even)"},
    {TG_OP_ADD, 258.0, 1.0, 0x4382, "258 + 1 = 260 (tie to even)"},
    {TG_OP_ADD, 256.0, 1.5, 0x4381, "256 + 1.5 = 258"},
    {TG_OP_MUL, 9.183549615799121e-41, 0.5, 0, "2^-133 * 0.5 = +0 (tie to even)"},
    {TG_OP_MUL, 9.183549615799121e-41, 0.75, 0x0001, "2^-133 * 0.75 = 2^-133"},
    {TG_OP_ADD, 3.3895313892515355e38, 3.3895313892515355e38, 0x7f80, "max + max = inf"},
    {TG_OP_NEG, 0.0, 0, 0x8000, "NEG(+0) = -0"},
    {TG_OP_DIV, 1.0, 3.0, 0x3eab, "1 / 3"},
    {TG_OP_DIV, -1.0, 0.0, 0xff80, "-1 / 0 = -inf"},
    {TG_OP_SQRT, 2.0, 0, 0x3fb5, "SQRT(2)"},
};

static const hcase f64_cases[] = {
    {TG_OP_NEG, 0.0, 0, 0x8000000000000000ull, "NEG(+0) = -0"},
    {TG_OP_DIV, 1.0, 3.0, 0x3fd5555555555555ull, "1 / 3"},
    {TG_OP_SQRT, 2.0, 0, 0x3ff6a09e667f3bcdull, "SQRT(2)"},
    {TG_OP_ADD, 9007199254740992.0, 1.0, 0x4340000000000000ull, "2^53 + 1 = 2^53 (tie to even)"},
    {TG_OP_MUL, 4.9406564584124654e-324, 0.5, 0, "2^-1074 * 0.5 = +0 (tie to even)"},
    {TG_OP_EXP2, -1074.0, 0, 1, "EXP2(-1074) = smallest subnormal"},
    {TG_OP_EXP2, 1024.0, 0, 0x7ff0000000000000ull, "EXP2(1024) = inf"},
    {TG_OP_LOG2, 0.25, 0, 0xc000000000000000ull, "LOG2(0.25) = -2"},
    {TG_OP_MOD, -7.5, 2.0, 0xbff8000000000000ull, "MOD(-7.5, 2) = -1.5"},
    {TG_OP_SIN, -0.0, 0, 0x8000000000000000ull, "SIN(-0) = -0"},
};

/* MULACC a*b+c: ref fuses, so a case where the unfused product would lose
 * the answer shows it: (1+2^-12)(1-2^-12) - 1 = -2^-24 exactly. */
static void test_mulacc(refh *r) {
    float a[1] = {1.0f + 0x1p-12f}, b[1] = {1.0f - 0x1p-12f}, c[1] = {-1.0f}, o[1];
    tap_ok(refh_elementwise(r, TG_OP_MULACC, TG_FLOAT32, TG_FLOAT32, 1, a, b, c, o) == TG_OK && o[0] == -0x1p-24f,
           "float32 MULACC is fused in ref: (1+2^-12)(1-2^-12) - 1 = -2^-24");
}

int main(void) {
    refh r;
    if (refh_open(&r)) {
        sweep(&r, TG_FLOAT32, "float32");
        sweep(&r, TG_FLOAT64, "float64");
        sweep(&r, TG_FLOAT16, "float16");
        sweep(&r, TG_BFLOAT16, "bfloat16");
        by_hand(&r, TG_FLOAT32, "float32", f32_cases, (int)(sizeof f32_cases / sizeof f32_cases[0]));
        by_hand(&r, TG_FLOAT16, "float16", half_cases, (int)(sizeof half_cases / sizeof half_cases[0]));
        by_hand(&r, TG_BFLOAT16, "bfloat16", bf16_cases, (int)(sizeof bf16_cases / sizeof bf16_cases[0]));
        by_hand(&r, TG_FLOAT64, "float64", f64_cases, (int)(sizeof f64_cases / sizeof f64_cases[0]));
        test_mulacc(&r);
    }
    refh_close(&r);
    return tap_done();
}
