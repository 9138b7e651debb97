/* tests/cpu/check.h -- inputs with special values, and comparison of a
 * plugin's output with ref's within the tolerances of OPS semantics. */
#ifndef TG_TESTS_CPU_CHECK_H
#define TG_TESTS_CPU_CHECK_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#include <tg/dtype_util.h>
#include "kit.h"

static uint64_t chk_rng = 0x2545F4914F6CDD1Dull;
static uint64_t chk_next(void) {
    chk_rng ^= chk_rng << 13;
    chk_rng ^= chk_rng >> 7;
    chk_rng ^= chk_rng << 17;
    return chk_rng;
}
static double chk_uniform(void) { return (double)(chk_next() >> 11) * (1.0 / 9007199254740992.0); }

/* Store double x into element i of a buffer of dtype dt (rounded as the dtype). */
static void chk_put(void *buf, uint32_t dt, int64_t i, double x) {
    switch (dt) {
    case TG_BOOL: ((uint8_t *)buf)[i] = x != 0; break;
    case TG_INT8: ((int8_t *)buf)[i] = (int8_t)(int64_t)x; break;
    case TG_UINT8: ((uint8_t *)buf)[i] = (uint8_t)(int64_t)x; break;
    case TG_INT16: ((int16_t *)buf)[i] = (int16_t)(int64_t)x; break;
    case TG_UINT16: ((uint16_t *)buf)[i] = (uint16_t)(int64_t)x; break;
    case TG_INT32: ((int32_t *)buf)[i] = (int32_t)(int64_t)x; break;
    case TG_UINT32: ((uint32_t *)buf)[i] = (uint32_t)(int64_t)x; break;
    case TG_INT64: ((int64_t *)buf)[i] = (int64_t)x; break;
    case TG_UINT64: ((uint64_t *)buf)[i] = (uint64_t)(int64_t)x; break;
    case TG_FLOAT16: ((uint16_t *)buf)[i] = tgp_float_to_half((float)x); break;
    case TG_BFLOAT16: ((uint16_t *)buf)[i] = tgp_float_to_bf16((float)x); break;
    case TG_FLOAT32: ((float *)buf)[i] = (float)x; break;
    case TG_FLOAT64: ((double *)buf)[i] = x; break;
    }
}

static double chk_get(const void *buf, uint32_t dt, int64_t i) {
    switch (dt) {
    case TG_BOOL: return ((const uint8_t *)buf)[i];
    case TG_INT8: return ((const int8_t *)buf)[i];
    case TG_UINT8: return ((const uint8_t *)buf)[i];
    case TG_INT16: return ((const int16_t *)buf)[i];
    case TG_UINT16: return ((const uint16_t *)buf)[i];
    case TG_INT32: return ((const int32_t *)buf)[i];
    case TG_UINT32: return ((const uint32_t *)buf)[i];
    case TG_INT64: return (double)((const int64_t *)buf)[i];
    case TG_UINT64: return (double)((const uint64_t *)buf)[i];
    case TG_FLOAT16: return tgp_half_to_float(((const uint16_t *)buf)[i]);
    case TG_BFLOAT16: return tgp_bf16_to_float(((const uint16_t *)buf)[i]);
    case TG_FLOAT32: return ((const float *)buf)[i];
    default: return ((const double *)buf)[i];
    }
}

/* Fill n elements: mostly ordinary values of the dtype, with its special values
 * mixed in (kind: 0 general, 1 small magnitudes for reductions, 2 positive). */
static void chk_fill(void *buf, uint32_t dt, int64_t n, int kind) {
    static const double fspecial[] = {0.0, -0.0, 1.0, -1.0, INFINITY, -INFINITY, NAN, 0.5, 3.0, -2.5, 1e-40, 65504.0,
                                      1e30, -1e-30};
    for (int64_t i = 0; i < n; i++) {
        uint64_t r = chk_next();
        if (dt == TG_BOOL) { ((uint8_t *)buf)[i] = r & 1; continue; }
        if (!tgp_dtype_is_float(dt)) {
            size_t sz = kit_size(dt);
            if (kind == 1) r = (r % 200) - 100; /* small values: sums stay meaningful */
            else if ((r & 7) == 0) r = (r >> 8) % 5 == 0 ? 0 : (r >> 8) % 5 == 1 ? (uint64_t)-1 : (r >> 8) % 5 == 2 ? 1
                                        : (r >> 8) % 5 == 3 ? (1ull << (sz * 8 - 1)) : (1ull << (sz * 8 - 1)) - 1;
            else if ((r & 7) < 4) r = (r >> 8) % 17 - 8;
            memcpy((char *)buf + i * sz, &r, sz);
            continue;
        }
        double x;
        if (kind == 1) x = chk_uniform() * 2 - 1;
        else if ((r & 7) == 0) x = fspecial[(r >> 8) % (sizeof fspecial / sizeof *fspecial)];
        else x = (chk_uniform() * 2 - 1) * pow(2.0, (double)((int)((r >> 8) % 24) - 8));
        if (kind == 2) x = fabs(x);
        chk_put(buf, dt, i, x);
    }
}

/* Ordered integer of a float's bits: ULP distance is the difference. */
static int64_t chk_ordered(const void *buf, uint32_t dt, int64_t i) {
    int64_t v;
    if (dt == TG_FLOAT64) {
        uint64_t u;
        memcpy(&u, (const char *)buf + i * 8, 8);
        v = (int64_t)(u & 0x7fffffffffffffffull);
        return (u >> 63) ? -v : v;
    }
    if (dt == TG_FLOAT32) {
        uint32_t u;
        memcpy(&u, (const char *)buf + i * 4, 4);
        v = u & 0x7fffffff;
        return (u >> 31) ? -v : v;
    }
    uint16_t u = ((const uint16_t *)buf)[i];
    v = u & 0x7fff;
    return (u >> 15) ? -v : v;
}

/* ULP tolerance of an op on a float dtype (OPS semantics). */
static int64_t chk_ulps(uint32_t op, uint32_t dt) {
    int half = dt == TG_FLOAT16 || dt == TG_BFLOAT16, f64 = dt == TG_FLOAT64;
    switch (op) {
    case TG_OP_DIV: case TG_OP_RECIP: case TG_OP_SQRT: return half || f64 ? 0 : 2;
    case TG_OP_EXP2: case TG_OP_LOG2: return half ? 1 : 3;
    case TG_OP_SIN: return half ? 1 : 4;
    case TG_OP_MULACC: return 1; /* a simplification of the 1 ulp + 1 ulp(a*b) rule */
    default: return 0;
    }
}

/* Compare element i of got/want (dtype dt) produced by op. Returns 1 if it passes. */
static int chk_elem(uint32_t op, uint32_t dt, const void *got, const void *want, int64_t i, int64_t ulps,
                    int zero_sign) {
    if (!tgp_dtype_is_float(dt)) {
        size_t sz = kit_size(dt);
        if (dt == TG_BOOL) return (((const uint8_t *)got)[i] != 0) == (((const uint8_t *)want)[i] != 0) &&
                                  ((const uint8_t *)got)[i] <= 1;
        return memcmp((const char *)got + i * sz, (const char *)want + i * sz, sz) == 0;
    }
    double g = chk_get(got, dt, i), w = chk_get(want, dt, i);
    if (isnan(w) || isnan(g)) return isnan(w) && isnan(g);
    if (g == 0 && w == 0) return !zero_sign || signbit(g) == signbit(w);
    int64_t d = chk_ordered(got, dt, i) - chk_ordered(want, dt, i);
    (void)op;
    return (d < 0 ? -d : d) <= ulps;
}

#endif
