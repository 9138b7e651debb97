/* tests/ref/test_ref_cast.c -- CAST between every pair of the 13 dtypes
 * (OPS.md section 7), against C's own conversions where C rounds once and
 * by hand where it cannot (double -> float16/bfloat16, large int ->
 * bfloat16: a detour through float would round twice). Out-of-range
 * float -> int casts run (they must not trap) but are not checked. */
#include <stdint.h>

#include <tg/dtype_util.h>
#include "ref_harness.h"

#define NV 20

static const double float_vals[NV] = {0.0, -0.0, 1.0, -1.0, 0.5, -0.9, 1.5, -128.7, 127.9, 255.9, 65504.0,
                                      65519.0, 1e10, -3e9, INFINITY, -INFINITY, NAN, 1e-45, 2049.0, 1e-3};
static const int64_t int_vals[NV] = {0, 1, -1, 2, 127, 128, 255, 256, -128, -129, 32767, 32768, 65535, 65536,
                                     INT32_MIN, 0xffffffffll, INT64_MIN, INT64_MAX, 0x123456789abcdef0ll, 16777217};

static int is_float(uint32_t dt) { return dt >= TG_FLOAT16; }
static int is_signed(uint32_t dt) { return dt == TG_INT8 || dt == TG_INT16 || dt == TG_INT32 || dt == TG_INT64; }

/* Store a C value into element i of an array of dtype dt (C conversions). */
static void put_int(uint32_t dt, void *p, int i, uint64_t v) {
    switch (dt) {
    case TG_BOOL: ((uint8_t *)p)[i] = v != 0; break;
    case TG_INT8: ((int8_t *)p)[i] = (int8_t)v; break;
    case TG_UINT8: ((uint8_t *)p)[i] = (uint8_t)v; break;
    case TG_INT16: ((int16_t *)p)[i] = (int16_t)v; break;
    case TG_UINT16: ((uint16_t *)p)[i] = (uint16_t)v; break;
    case TG_INT32: ((int32_t *)p)[i] = (int32_t)v; break;
    case TG_UINT32: ((uint32_t *)p)[i] = (uint32_t)v; break;
    case TG_INT64: ((int64_t *)p)[i] = (int64_t)v; break;
    default: ((uint64_t *)p)[i] = v; break;
    }
}

/* Integer element as its 64-bit two's complement pattern (sign-extended). */
static uint64_t get_int(uint32_t dt, const void *p, int i) {
    switch (dt) {
    case TG_BOOL: return ((const uint8_t *)p)[i];
    case TG_INT8: return (uint64_t)(int64_t)((const int8_t *)p)[i];
    case TG_UINT8: return ((const uint8_t *)p)[i];
    case TG_INT16: return (uint64_t)(int64_t)((const int16_t *)p)[i];
    case TG_UINT16: return ((const uint16_t *)p)[i];
    case TG_INT32: return (uint64_t)(int64_t)((const int32_t *)p)[i];
    case TG_UINT32: return ((const uint32_t *)p)[i];
    case TG_INT64: return ((const uint64_t *)p)[i];
    default: return ((const uint64_t *)p)[i];
    }
}

static double get_float(uint32_t dt, const void *p, int i) {
    switch (dt) {
    case TG_FLOAT16: return tgp_half_to_float(((const uint16_t *)p)[i]);
    case TG_BFLOAT16: return tgp_bf16_to_float(((const uint16_t *)p)[i]);
    case TG_FLOAT32: return ((const float *)p)[i];
    default: return ((const double *)p)[i];
    }
}

/* Float value d into dtype dt; only called where one rounding of d (a
 * float-representable value unless dt is float32/float64) is correct. */
static void put_float(uint32_t dt, void *p, int i, double d) {
    switch (dt) {
    case TG_FLOAT16: ((uint16_t *)p)[i] = tgp_float_to_half((float)d); break;
    case TG_BFLOAT16: ((uint16_t *)p)[i] = tgp_float_to_bf16((float)d); break;
    case TG_FLOAT32: ((float *)p)[i] = (float)d; break;
    default: ((double *)p)[i] = d; break;
    }
}

/* Expected element i of CAST(from -> to); 0 if OPS.md leaves it undefined
 * or C cannot compute it in one rounding (those have hand cases below). */
static int expect(uint32_t from, uint32_t to, const void *src, int i, void *want) {
    if (is_float(from)) {
        double d = get_float(from, src, i);
        if (to == TG_BOOL) return put_int(to, want, 0, d != 0.0 || isnan(d)), 1;
        if (is_float(to)) {
            if (from == TG_FLOAT64 && (to == TG_FLOAT16 || to == TG_BFLOAT16)) return 0;
            return put_float(to, want, 0, d), 1;
        }
        double t = trunc(d);
        int bits = (int)refh_dtype_size(to) * 8;
        double lo = is_signed(to) ? -ldexp(1, bits - 1) : 0, hi = is_signed(to) ? ldexp(1, bits - 1) : ldexp(1, bits);
        if (isnan(t) || t < lo || t >= hi) return 0; /* unspecified */
        put_int(to, want, 0, t < 0 ? (uint64_t)(int64_t)t : (uint64_t)t);
        return 1;
    }
    uint64_t v = get_int(from, src, i);
    if (!is_float(to)) return put_int(to, want, 0, v), 1;
    double d;
    if (to == TG_FLOAT32) d = is_signed(from) ? (double)(float)(int64_t)v : (double)(float)v;
    else if (to == TG_FLOAT64) d = is_signed(from) ? (double)(int64_t)v : (double)v;
    else {
        int64_t s = (int64_t)v;
        if (is_signed(from) ? (s > (1 << 24) || s < -(1 << 24)) : v > (1u << 24)) return 0;
        d = is_signed(from) ? (double)s : (double)v; /* exact in float */
    }
    put_float(to, want, 0, d);
    return 1;
}

static void test_all_pairs(refh *r) {
    for (uint32_t from = 0; from < TG_DTYPE_COUNT; from++) {
        uint64_t src[NV], out[NV];
        for (int i = 0; i < NV; i++) {
            if (is_float(from)) put_float(from, src, i, float_vals[i]);
            else put_int(from, src, i, (uint64_t)int_vals[i]);
        }
        for (uint32_t to = 0; to < TG_DTYPE_COUNT; to++) {
            memset(out, 0, sizeof out);
            tg_status st = refh_elementwise(r, TG_OP_CAST, from, to, NV, src, NULL, NULL, out);
            int ok = st == TG_OK, checked = 0;
            size_t sz = refh_dtype_size(to);
            for (int i = 0; ok && i < NV; i++) {
                uint64_t want = 0;
                if (!expect(from, to, src, i, &want)) continue;
                checked++;
                if (is_float(to) && isnan(get_float(to, &want, 0))) ok = isnan(get_float(to, out, i));
                else ok = memcmp((char *)out + i * sz, &want, sz) == 0;
                if (!ok) tap_diag("element %d", i);
            }
            tap_ok(ok, "CAST %u -> %u (%d values checked)", from, to, checked);
        }
    }
}

typedef struct hcast {
    uint32_t from, to;
    uint64_t src, want; /* bit patterns */
    const char *what;
} hcast;

static uint64_t dbits(double d) { return refh_f64_bits(d); }

static void test_by_hand(refh *r) {
    const hcast cs[] = {
        {TG_FLOAT64, TG_FLOAT16, dbits(1.0 + 0x1p-11), 0x3c00, "f64 1+2^-11 -> f16 1 (tie to even)"},
        {TG_FLOAT64, TG_FLOAT16, dbits(1.0 + 0x1p-11 + 0x1p-40), 0x3c01, "f64 1+2^-11+2^-40 -> f16 rounds up (once, from double)"},
        {TG_FLOAT64, TG_FLOAT16, dbits(1.0 + 3 * 0x1p-11), 0x3c02, "f64 1+3*2^-11 -> f16 tie to even (up)"},
        {TG_FLOAT64, TG_FLOAT16, dbits(0x1p-25), 0x0000, "f64 2^-25 -> f16 +0 (tie to even)"},
        {TG_FLOAT64, TG_FLOAT16, dbits(0x1p-25 + 0x1p-60), 0x0001, "f64 2^-25+2^-60 -> f16 smallest subnormal"},
        {TG_FLOAT64, TG_FLOAT16, dbits(-0x1p-26), 0x8000, "f64 -2^-26 -> f16 -0"},
        {TG_FLOAT64, TG_FLOAT16, dbits(65519.99), 0x7bff, "f64 65519.99 -> f16 65504"},
        {TG_FLOAT64, TG_FLOAT16, dbits(65520.0), 0x7c00, "f64 65520 -> f16 inf"},
        {TG_FLOAT64, TG_FLOAT16, dbits(-1e300), 0xfc00, "f64 -1e300 -> f16 -inf"},
        {TG_FLOAT64, TG_FLOAT16, dbits(NAN), 0x7e00, "f64 NaN -> f16 NaN"},
        {TG_FLOAT64, TG_BFLOAT16, dbits(1.0 + 0x1p-8), 0x3f80, "f64 1+2^-8 -> bf16 1 (tie to even)"},
        {TG_FLOAT64, TG_BFLOAT16, dbits(1.0 + 0x1p-8 + 0x1p-40), 0x3f81, "f64 1+2^-8+2^-40 -> bf16 rounds up"},
        {TG_FLOAT64, TG_BFLOAT16, dbits(1.0 + 3 * 0x1p-8), 0x3f82, "f64 1+3*2^-8 -> bf16 tie to even (up)"},
        {TG_FLOAT64, TG_BFLOAT16, dbits(1e39), 0x7f80, "f64 1e39 -> bf16 inf"},
        {TG_FLOAT64, TG_BFLOAT16, dbits(0x1p-134 + 0x1p-160), 0x0001, "f64 2^-134+2^-160 -> bf16 smallest subnormal"},
        {TG_FLOAT64, TG_FLOAT32, dbits(1.0 + 0x1p-24 + 0x1p-50), 0x3f800001, "f64 1+2^-24+2^-50 -> f32 rounds up"},
        {TG_FLOAT64, TG_FLOAT32, dbits(0x1p-150), 0, "f64 2^-150 -> f32 +0 (tie to even)"},
        {TG_FLOAT32, TG_FLOAT16, 0x3f801000, 0x3c00, "f32 1+2^-11 -> f16 1 (tie to even)"},
        {TG_FLOAT16, TG_FLOAT32, 0x0001, 0x33800000, "f16 smallest subnormal -> f32 2^-24"},
        {TG_BFLOAT16, TG_FLOAT16, 0x4780, 0x7c00, "bf16 65536 -> f16 inf"},
        {TG_INT64, TG_BFLOAT16, (1ull << 60) + (1ull << 52) + 1, 0x5d81, "int64 2^60+2^52+1 -> bf16 2^60+2^53 (no double rounding)"},
        {TG_INT64, TG_BFLOAT16, (1ull << 60) + (1ull << 52), 0x5d80, "int64 2^60+2^52 -> bf16 2^60 (tie to even)"},
        {TG_UINT64, TG_BFLOAT16, UINT64_MAX, 0x5f80, "uint64 max -> bf16 2^64"},
        {TG_INT64, TG_FLOAT16, (uint64_t)-70000ll, 0xfc00, "int64 -70000 -> f16 -inf"},
        {TG_INT32, TG_FLOAT16, 65519, 0x7bff, "int32 65519 -> f16 65504"},
        {TG_INT32, TG_FLOAT16, 65520, 0x7c00, "int32 65520 -> f16 inf"},
        {TG_INT32, TG_FLOAT16, 2049, 0x6800, "int32 2049 -> f16 2048 (tie to even)"},
        {TG_INT32, TG_FLOAT16, 2051, 0x6802, "int32 2051 -> f16 2052 (tie to even)"},
        {TG_INT64, TG_FLOAT32, (1ull << 24) + 1, 0x4b800000, "int64 2^24+1 -> f32 2^24"},
        {TG_INT64, TG_FLOAT64, (1ull << 53) + 1, dbits(0x1p53), "int64 2^53+1 -> f64 2^53"},
        {TG_FLOAT32, TG_INT8, 0xc300b333 /* -128.7 */, 0x80, "f32 -128.7 -> int8 -128"},
        {TG_FLOAT32, TG_UINT8, 0xbf666666 /* -0.9 */, 0, "f32 -0.9 -> uint8 0"},
        {TG_FLOAT32, TG_UINT8, 0x437fe666 /* 255.9 */, 255, "f32 255.9 -> uint8 255"},
        {TG_FLOAT32, TG_BOOL, 0x80000000, 0, "f32 -0 -> bool false"},
        {TG_FLOAT32, TG_BOOL, 0x7fc00000, 1, "f32 NaN -> bool true"},
        {TG_INT32, TG_UINT8, 0xffffffff, 255, "int32 -1 -> uint8 255"},
        {TG_UINT8, TG_INT8, 200, 0xc8, "uint8 200 -> int8 -56"},
        {TG_INT64, TG_INT32, (1ull << 40) + 5, 5, "int64 2^40+5 -> int32 5"},
        {TG_BOOL, TG_FLOAT32, 1, 0x3f800000, "bool true -> f32 1"},
    };
    for (size_t i = 0; i < sizeof cs / sizeof cs[0]; i++) {
        uint64_t in = cs[i].src, out = 0;
        size_t fs = refh_dtype_size(cs[i].from), ts = refh_dtype_size(cs[i].to);
        if (fs < 8) in &= (1ull << (8 * fs)) - 1;
        tg_status st = refh_elementwise(r, TG_OP_CAST, cs[i].from, cs[i].to, 1, &in, NULL, NULL, &out);
        uint64_t want = cs[i].want;
        tap_ok(st == TG_OK && memcmp(&out, &want, ts) == 0, "%s (got 0x%llx)", cs[i].what, (unsigned long long)out);
    }
    /* out of range float -> int: unspecified, but must run */
    float bad[4] = {NAN, INFINITY, -1e30f, 3e9f};
    int32_t o[4];
    uint64_t o64[4];
    tap_ok(refh_elementwise(r, TG_OP_CAST, TG_FLOAT32, TG_INT32, 4, bad, NULL, NULL, o) == TG_OK &&
               refh_elementwise(r, TG_OP_CAST, TG_FLOAT32, TG_UINT64, 4, bad, NULL, NULL, o64) == TG_OK,
           "out-of-range float -> int casts do not trap");
}

int main(void) {
    refh r;
    if (refh_open(&r)) {
        test_all_pairs(&r);
        test_by_hand(&r);
    }
    refh_close(&r);
    return tap_done();
}
