/* Element values: conversion to and from double with one rounding to the
 * dtype, ULP distances, test input generation. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <tg/conform.h>

/* Precision (bits, with the implicit one), smallest and largest normal
 * exponent of the float dtypes. */
typedef struct fmt { int p, emin, emax, bits; } fmt;

static fmt float_fmt(tg_dtype dt) {
    switch (dt) {
    case TG_FLOAT16: return (fmt){11, -14, 15, 16};
    case TG_BFLOAT16: return (fmt){8, -126, 127, 16};
    case TG_FLOAT32: return (fmt){24, -126, 127, 32};
    default: return (fmt){53, -1022, 1023, 64};
    }
}

/* Round x once to the format, nearest even; overflow gives inf. */
static double round_to(fmt f, double x) {
    if (isnan(x) || isinf(x) || x == 0) return x;
    int e;
    frexp(x, &e);
    int E = e - 1 < f.emin ? f.emin : e - 1;
    double q = ldexp(1.0, E - (f.p - 1));
    double r = nearbyint(x / q) * q;
    double maxf = ldexp(2.0 - ldexp(1.0, 1 - f.p), f.emax);
    if (fabs(r) > maxf) return copysign(INFINITY, x);
    return r;
}

static uint16_t half_bits(double r) { /* r exactly representable */
    uint16_t s = signbit(r) ? 0x8000u : 0;
    double a = fabs(r);
    if (isnan(r)) return 0x7e00u;
    if (isinf(r)) return s | 0x7c00u;
    if (a < ldexp(1.0, -14)) return s | (uint16_t)(a * ldexp(1.0, 24));
    int e;
    double m = frexp(a, &e); /* a = m * 2^e, m in [0.5, 1) */
    return s | (uint16_t)((e - 1 + 15) << 10) | (uint16_t)((m * 2 - 1) * 1024);
}

static double half_value(uint16_t h) {
    int s = h >> 15, e = (h >> 10) & 0x1f, m = h & 0x3ff;
    double v;
    if (e == 0x1f) v = m ? NAN : INFINITY;
    else if (e == 0) v = ldexp(m, -24);
    else v = ldexp(1024 + m, e - 25);
    return s ? -v : v;
}

uint64_t tgc_bits(const void *buf, tg_dtype dt, int64_t i) {
    const uint8_t *p = (const uint8_t *)buf + (size_t)i * tg_dtype_size(dt);
    switch (tg_dtype_size(dt)) {
    case 1: return p[0];
    case 2: { uint16_t v; memcpy(&v, p, 2); return v; }
    case 4: { uint32_t v; memcpy(&v, p, 4); return v; }
    default: { uint64_t v; memcpy(&v, p, 8); return v; }
    }
}

static void put_bits(void *buf, tg_dtype dt, int64_t i, uint64_t v) {
    uint8_t *p = (uint8_t *)buf + (size_t)i * tg_dtype_size(dt);
    switch (tg_dtype_size(dt)) {
    case 1: p[0] = (uint8_t)v; break;
    case 2: { uint16_t w = (uint16_t)v; memcpy(p, &w, 2); break; }
    case 4: { uint32_t w = (uint32_t)v; memcpy(p, &w, 4); break; }
    default: memcpy(p, &v, 8); break;
    }
}

double tgc_get(const void *buf, tg_dtype dt, int64_t i) {
    uint64_t b = tgc_bits(buf, dt, i);
    switch (dt) {
    case TG_BOOL: return b != 0;
    case TG_INT8: return (int8_t)b;
    case TG_INT16: return (int16_t)b;
    case TG_INT32: return (int32_t)b;
    case TG_INT64: return (double)(int64_t)b;
    case TG_UINT8: case TG_UINT16: case TG_UINT32: case TG_UINT64: return (double)b;
    case TG_FLOAT16: return half_value((uint16_t)b);
    case TG_BFLOAT16: { uint32_t u = (uint32_t)b << 16; float f; memcpy(&f, &u, 4); return f; }
    case TG_FLOAT32: { uint32_t u = (uint32_t)b; float f; memcpy(&f, &u, 4); return f; }
    default: { double d; memcpy(&d, &b, 8); return d; }
    }
}

void tgc_set(void *buf, tg_dtype dt, int64_t i, double v) {
    if (dt == TG_BOOL) { put_bits(buf, dt, i, v != 0); return; }
    if (!tg_dtype_is_float(dt)) {
        /* integers: the caller passes values in range; wrap through int64 */
        uint64_t u = v < 0 ? (uint64_t)(int64_t)v : (uint64_t)v;
        put_bits(buf, dt, i, u);
        return;
    }
    double r = round_to(float_fmt(dt), v);
    switch (dt) {
    case TG_FLOAT16: put_bits(buf, dt, i, half_bits(r)); break;
    case TG_BFLOAT16: {
        float f = isnan(r) ? NAN : (float)r;
        uint32_t u; memcpy(&u, &f, 4);
        put_bits(buf, dt, i, u >> 16);
        break;
    }
    case TG_FLOAT32: { float f = (float)r; uint32_t u; memcpy(&u, &f, 4); put_bits(buf, dt, i, u); break; }
    default: { uint64_t u; memcpy(&u, &r, 8); put_bits(buf, dt, i, u); break; }
    }
}

uint64_t tgc_ulp_distance(tg_dtype dt, uint64_t a, uint64_t b) {
    int n = float_fmt(dt).bits;
    uint64_t sign = 1ull << (n - 1), mag = sign - 1;
    uint64_t am = a & mag, bm = b & mag;
    if ((a & sign) == (b & sign)) return am > bm ? am - bm : bm - am;
    return am + bm;
}

double tgc_ulp(tg_dtype dt, double x) {
    fmt f = float_fmt(dt);
    if (isinf(x) || isnan(x)) return INFINITY;
    int e = f.emin + 1;
    if (x != 0) frexp(x, &e);
    int E = e - 1 < f.emin ? f.emin : e - 1;
    return ldexp(1.0, E - (f.p - 1));
}

void tgc_format(char *out, size_t cap, const void *buf, tg_dtype dt, int64_t i) {
    uint64_t b = tgc_bits(buf, dt, i);
    if (dt == TG_BOOL) snprintf(out, cap, "%s (0x%02llx)", b == 1 ? "true" : b == 0 ? "false" : "?", (unsigned long long)b);
    else if (tg_dtype_is_float(dt))
        snprintf(out, cap, "%.17g (0x%0*llx)", tgc_get(buf, dt, i), (int)tg_dtype_size(dt) * 2, (unsigned long long)b);
    else if (dt == TG_INT64) snprintf(out, cap, "%lld", (long long)(int64_t)b);
    else if (dt == TG_UINT64) snprintf(out, cap, "%llu", (unsigned long long)b);
    else snprintf(out, cap, "%.0f", tgc_get(buf, dt, i));
}

/* ------------------------------------------------------------- inputs */

static uint64_t next(uint64_t *s) { /* splitmix64 */
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static double uniform(uint64_t *s) { return (double)(next(s) >> 11) * 0x1p-53; }

static double float_max(tg_dtype dt) {
    fmt f = float_fmt(dt);
    return ldexp(2.0 - ldexp(1.0, 1 - f.p), f.emax);
}

static double random_float(uint64_t *s) {
    double m = 1 + uniform(s);
    int k = (int)(next(s) % 17) - 8;
    double v = (next(s) % 4 == 0) ? (double)((int)(next(s) % 9) - 4) : ldexp(m, k);
    if (v != 0 && uniform(s) < 0.5) v = -v;
    return v;
}

/* A quiet NaN with a payload, as the dtype's bits (1 for +NaN, 5 for -NaN):
 * movement and WHERE must keep it bit for bit. (No signalling NaNs: see
 * "Judging" in conformance/README.md.) */
static uint64_t nan_payload(fmt f, int negative) {
    uint64_t quiet = 1ull << (f.p - 2), expo = ((1ull << (f.bits - f.p)) - 1) << (f.p - 1);
    uint64_t v = expo | (negative ? 0x5u : quiet | 0x1u); /* the negative one signalling */
    return negative ? v | 1ull << (f.bits - 1) : v;
}

/* A float of large magnitude: exponent in [emax/4, emax], every other one in
 * the top three binades (a divisor whose reciprocal is subnormal). */
static double wide_float(fmt f, int64_t i, uint64_t *s) {
    int lo = i % 2 ? f.emax - 2 : f.emax / 4;
    int e = lo + (int)(next(s) % (uint64_t)(f.emax - lo + 1));
    double v = ldexp(1 + uniform(s), e);
    return next(s) % 2 ? -v : v;
}

/* A value at or one unit of the source beside a rounding tie of a narrower
 * format of t bits (t in 8, 11, 24, 53, below the source's precision): a
 * conversion that rounds twice (through a format in between) gets it wrong. */
static const int tie_bits[] = {8, 11, 24, 53};

static int tie_delta(int64_t i) { return i % 3 == 0 ? 0 : i % 3 == 1 ? 1 : -1; }

static double tie_float(fmt f, int64_t i, uint64_t *s) {
    int nt = 0;
    while (nt < 4 && tie_bits[nt] < f.p - 1) nt++;
    if (nt == 0) return random_float(s);
    if (i % 16 == 15) { /* the ties at the top of float16 and bfloat16 */
        double top = (i / 16) % 2 || f.emax < 127 ? 65520.0 : ldexp(2.0 - ldexp(1.0, -8), 127);
        return ((i / 32) % 2 ? -1 : 1) * (top - ((i / 64) % 2 ? ldexp(1.0, (int)floor(log2(top)) - (f.p - 1)) : 0));
    }
    int t = tie_bits[(i / 3) % nt];
    uint64_t M = (1ull << (t - 1)) | (next(s) & ((1ull << (t - 1)) - 1));
    double sig = ldexp((double)(2 * M + 1), f.p - t - 1);         /* P bits, the tie at bit t */
    sig += (double)tie_delta(i);
    int e = (int)(next(s) % 21) - 10;
    double v = ldexp(sig, e - (f.p - 1));
    return next(s) % 2 ? -v : v;
}

static uint64_t tie_int(int bits, int sgn, int64_t i, uint64_t *s) {
    int avail = bits - sgn, nt = 0;
    while (nt < 4 && tie_bits[nt] + 2 <= avail) nt++;
    uint64_t v;
    if (i % 16 == 15 && avail >= 17) v = 65520 - (uint64_t)((i / 16) % 2);
    else if (nt == 0) v = next(s);
    else {
        int t = tie_bits[(i / 3) % nt], lo = avail - 12 > t + 2 ? avail - 12 : t + 2;
        int b = lo + (int)(next(s) % (uint64_t)(avail - lo + 1)); /* bit length */
        uint64_t M = (1ull << (t - 1)) | (next(s) & ((1ull << (t - 1)) - 1));
        v = ((2 * M + 1) << (b - t - 1)) + (uint64_t)(int64_t)tie_delta(i);
    }
    return sgn && next(s) % 2 ? 0 - v : v;
}

static void fill_float(void *buf, tg_dtype dt, int64_t n, int cls, uint64_t *s) {
    fmt f = float_fmt(dt);
    double maxf = float_max(dt), minn = ldexp(1.0, f.emin), mins = ldexp(1.0, f.emin - (f.p - 1));
    const double specials[] = {NAN, INFINITY, -INFINITY, 0.0, -0.0, 1.0, -1.0, maxf, -maxf,
                               minn, -minn, 0.5, 2.0, -3.0, maxf / 2, 1.0 / 3.0, -NAN};
    const double bounds[] = {127, 128, 255, 256, 32767, 32768, 65535, 65536, 2147483647.0,
                             2147483648.0, 4294967295.0, 4294967296.0, 9223372036854775807.0,
                             18446744073709551615.0, 1e30};
    size_t nspec = sizeof specials / sizeof specials[0], nb = sizeof bounds / sizeof bounds[0];
    uint64_t rot = next(s) % nspec;
    for (int64_t i = 0; i < n; i++) {
        double v;
        switch (cls) {
        case TGC_V_SPECIAL:
            v = (i % 2 == 0) ? specials[(size_t)(i / 2 + rot) % nspec] : random_float(s);
            break;
        case TGC_V_SUBNORMAL:
            if (i % 5 == 4) v = (i % 10 == 4) ? minn : -minn * 1.5;
            else v = mins * (double)(1 + next(s) % ((1ull << (f.p - 1)) - 1));
            if (i % 5 != 4 && next(s) % 2) v = -v;
            break;
        case TGC_V_POSITIVE: v = 0.5 + 1.5 * uniform(s); break;
        case TGC_V_LARGE: v = pow(10.0, 6 * uniform(s)) * (next(s) % 2 ? -1 : 1); break;
        case TGC_V_BOUNDARY: {
            uint64_t r = next(s) % 4;
            if (r == 0) v = (uniform(s) - 0.5) * 600;
            else {
                v = bounds[next(s) % nb] + (double)((int)(next(s) % 5) - 2) * 0.5;
                if (r == 1) v = -v;
            }
            if (i % 17 == 3) v = NAN;
            if (i % 17 == 7) v = -0.99;
            break;
        }
        case TGC_V_SMALL: v = (double)((int)(next(s) % 41) - 20); break;
        case TGC_V_PAIRS_A: v = specials[(size_t)i % nspec]; break;
        case TGC_V_PAIRS_B: v = specials[(size_t)(i / (int64_t)nspec) % nspec]; break;
        case TGC_V_WIDE: v = wide_float(f, i, s); break;
        case TGC_V_TIES: v = tie_float(f, i, s); break;
        default: v = random_float(s); break;
        }
        if (fabs(v) > maxf && !isinf(v)) v = copysign(maxf, v);
        tgc_set(buf, dt, i, v);
        if (isnan(v)) put_bits(buf, dt, i, nan_payload(f, signbit(v) != 0));
    }
}

static void fill_int(void *buf, tg_dtype dt, int64_t n, int cls, uint64_t *s) {
    int bits = (int)tg_dtype_size(dt) * 8;
    int sgn = tg_dtype_is_signed(dt);
    uint64_t mask = bits == 64 ? ~0ull : (1ull << bits) - 1;
    uint64_t top = 1ull << (bits - 1);
    const uint64_t specials[] = {0, 1, mask /* -1 or max */, top /* min or 2^(w-1) */,
                                 top - 1, top + 1, mask - 1, 2, 7, 3};
    size_t nspec = sizeof specials / sizeof specials[0];
    uint64_t rot = next(s) % nspec;
    for (int64_t i = 0; i < n; i++) {
        uint64_t v;
        switch (cls) {
        case TGC_V_SPECIAL:
            v = (i % 2 == 0) ? specials[(size_t)(i / 2 + rot) % nspec] : next(s);
            break;
        case TGC_V_POSITIVE: v = 1 + next(s) % 9; break;
        case TGC_V_SMALL:
            v = sgn ? (uint64_t)((int64_t)(next(s) % 41) - 20) : next(s) % 41;
            break;
        case TGC_V_PAIRS_A: v = specials[(size_t)i % nspec]; break;
        case TGC_V_PAIRS_B: v = specials[(size_t)(i / (int64_t)nspec) % nspec]; break;
        case TGC_V_TIES: v = tie_int(bits, sgn, i, s); break;
        default: v = next(s); break;
        }
        put_bits(buf, dt, i, v & mask);
    }
}

void tgc_fill(void *buf, tg_dtype dt, int64_t n, int cls, uint64_t seed) {
    uint64_t s = seed * 0x2545f4914f6cdd1dull + (uint64_t)cls * 7919 + dt;
    if (dt == TG_BOOL) {
        for (int64_t i = 0; i < n; i++) put_bits(buf, dt, i, next(&s) & 1);
    } else if (cls == TGC_V_RANDOM && !tg_dtype_is_float(dt) && n >= (1 << 20)) {
        /* a big buffer of random integers: all bits random, a word at a time */
        size_t bytes = (size_t)n * tg_dtype_size(dt);
        for (size_t b = 0; b < bytes; b += 8) {
            uint64_t w = next(&s);
            memcpy((char *)buf + b, &w, bytes - b < 8 ? bytes - b : 8);
        }
    } else if (tg_dtype_is_float(dt)) {
        fill_float(buf, dt, n, cls, &s);
    } else {
        fill_int(buf, dt, n, cls, &s);
    }
}
