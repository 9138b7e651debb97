/* tg/dtype_util.h -- optional helpers for plugins and the core: dtype sizes
 * and names, op names, exact float16/bfloat16 conversions, and filling
 * tg_caps by its struct_size protocol (header only, static inline, no ABI:
 * nothing here crosses the plugin boundary). It needs only plugin.h; an
 * out-of-tree plugin may include it or bring its own. */
#ifndef TG_DTYPE_UTIL_H
#define TG_DTYPE_UTIL_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <tg/plugin.h>

/* The one rule for where tg caches compiled code: $XDG_CACHE_HOME/tg/SUB
 * (an absolute XDG_CACHE_HOME only, as the XDG spec says), else
 * $HOME/.cache/tg/SUB (SUB "" for tg/ itself); created if missing. Returns
 * 1 with the path in out when it is usable: a directory owned by this user
 * and writable by nobody else (a cache others can write would load their
 * code). Returns 0 with out "" when no absolute base is known or the
 * directory cannot be made, -1 with the path in out when it exists but is
 * not private. */
static inline int tgp_cache_dir(const char *sub, char *out, size_t cap) {
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    int n = -1;
    if (xdg && xdg[0] == '/') n = snprintf(out, cap, "%s/tg%s%s", xdg, *sub ? "/" : "", sub);
    else if (home && home[0] == '/') n = snprintf(out, cap, "%s/.cache/tg%s%s", home, *sub ? "/" : "", sub);
    if (n < 0 || (size_t)n >= cap) {
        if (cap) out[0] = 0;
        return 0;
    }
    for (char *p = out + 1;; p++) { /* mkdir -p */
        char c = *p;
        if (c != '/' && c != 0) continue;
        *p = 0;
        int bad = mkdir(out, 0755) != 0 && errno != EEXIST;
        *p = c;
        if (bad) {
            out[0] = 0;
            return 0;
        }
        if (!c) break;
    }
    struct stat st;
    if (stat(out, &st) != 0 || !S_ISDIR(st.st_mode)) {
        out[0] = 0;
        return 0;
    }
    return st.st_uid == geteuid() && !(st.st_mode & (S_IWGRP | S_IWOTH)) ? 1 : -1;
}

/* Names as OPS.md, certificates and messages spell them; "?" out of range. */
static inline const char *tgp_dtype_name(uint32_t dt) {
    static const char *const names[TG_DTYPE_COUNT] = {"bool", "int8", "uint8", "int16", "uint16", "int32",
        "uint32", "int64", "uint64", "float16", "bfloat16", "float32", "float64"};
    return dt < TG_DTYPE_COUNT ? names[dt] : "?";
}

static inline const char *tgp_op_name(uint32_t op) {
    static const char *const names[TG_NODE_OP_COUNT] = {"EXP2", "LOG2", "SQRT", "RECIP", "NEG", "SIN", "CAST",
        "ADD", "SUB", "MUL", "DIV", "MOD", "MAX", "CMPLT", "WHERE", "MULACC", "REDUCE_SUM", "REDUCE_MAX",
        "RESHAPE", "PERMUTE", "EXPAND", "SHRINK", "PAD", "FLIP", "STRIDE", "LOAD", "CONST", "STORE", "ARG"};
    return op < TG_NODE_OP_COUNT ? names[op] : "?";
}

/* device_caps by the struct_size protocol: copy into *dst only the fields of
 * *src that lie wholly within min(dst->struct_size, sizeof(tg_caps)), never a
 * part of one; dst->struct_size is left as the caller set it. */
static inline void tgp_caps_copy(tg_caps *dst, const tg_caps *src) {
    static const size_t ends[] = {
        offsetof(tg_caps, dtypes) + 4, offsetof(tg_caps, fusion) + 4, offsetof(tg_caps, flags) + 4,
        offsetof(tg_caps, max_dims) + 4, offsetof(tg_caps, max_nodes) + 4, offsetof(tg_caps, max_params) + 4,
        offsetof(tg_caps, max_view_depth) + 4, offsetof(tg_caps, vector_width) + 4, offsetof(tg_caps, reserved) + 4,
        offsetof(tg_caps, memory_bytes) + 8, offsetof(tg_caps, max_buffer_bytes) + 8,
        offsetof(tg_caps, name) + sizeof(char *), offsetof(tg_caps, vendor) + sizeof(char *),
        offsetof(tg_caps, version) + sizeof(char *), offsetof(tg_caps, driver) + sizeof(char *),
        offsetof(tg_caps, compute_units) + 4, offsetof(tg_caps, max_group_size) + 4, /* 1.1 */
        offsetof(tg_caps, local_memory_bytes) + 8, offsetof(tg_caps, emulated_dtypes) + 4,
        offsetof(tg_caps, reserved2) + 4};
    size_t n = sizeof dst->struct_size;
    for (size_t i = 0; i < sizeof ends / sizeof ends[0]; i++)
        if (ends[i] <= dst->struct_size) n = ends[i];
    memcpy((char *)dst + sizeof dst->struct_size, (const char *)src + sizeof dst->struct_size, n - sizeof dst->struct_size);
}

static inline size_t tgp_dtype_size(uint32_t dt) {
    static const unsigned char size[TG_DTYPE_COUNT] = {1, 1, 1, 2, 2, 4, 4, 8, 8, 2, 2, 4, 8};
    return dt < TG_DTYPE_COUNT ? size[dt] : 0;
}

static inline int tgp_dtype_is_float(uint32_t dt) {
    return dt == TG_FLOAT16 || dt == TG_BFLOAT16 || dt == TG_FLOAT32 || dt == TG_FLOAT64;
}

static inline int tgp_dtype_is_unsigned(uint32_t dt) {
    return dt == TG_BOOL || dt == TG_UINT8 || dt == TG_UINT16 || dt == TG_UINT32 || dt == TG_UINT64;
}

static inline uint32_t tgp_f32_bits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static inline float tgp_bits_f32(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }

/* binary16 -> binary32, exact. */
static inline float tgp_half_to_float(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16, exp = (h >> 10) & 0x1fu, man = h & 0x3ffu;
    if (exp == 0x1f) return tgp_bits_f32(sign | 0x7f800000u | (man << 13)); /* inf, nan */
    if (exp == 0) { /* zero or subnormal: man * 2^-24 */
        float f = (float)man * (1.0f / 16777216.0f);
        return sign ? -f : f;
    }
    return tgp_bits_f32(sign | ((exp + 112u) << 23) | (man << 13));
}

/* binary32 -> binary16, round to nearest even; NaN stays NaN. */
static inline uint16_t tgp_float_to_half(float f) {
    uint32_t u = tgp_f32_bits(f), sign = (u >> 16) & 0x8000u, a = u & 0x7fffffffu;
    if (a > 0x7f800000u) return (uint16_t)(sign | 0x7e00u);           /* NaN */
    if (a >= 0x477ff000u) return (uint16_t)(sign | 0x7c00u);          /* rounds to inf */
    if (a < 0x38800000u) {                                            /* subnormal half */
        /* value * 2^24 rounded to an integer, nearest even (float add does it) */
        float v = tgp_bits_f32(a) * 16777216.0f;                      /* exact scaling */
        float r = (v + 8388608.0f) - 8388608.0f;                      /* RNE to integer */
        return (uint16_t)(sign | (uint32_t)r);
    }
    uint32_t h = ((a - 0x38000000u) >> 13);                          /* rebias, truncate */
    uint32_t rest = a & 0x1fffu;
    if (rest > 0x1000u || (rest == 0x1000u && (h & 1u))) h++;          /* RNE */
    return (uint16_t)(sign | h);
}

static inline float tgp_bf16_to_float(uint16_t b) { return tgp_bits_f32((uint32_t)b << 16); }

/* binary32 -> bfloat16, round to nearest even; NaN stays NaN. */
static inline uint16_t tgp_float_to_bf16(float f) {
    uint32_t u = tgp_f32_bits(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40u);
    u += 0x7fffu + ((u >> 16) & 1u);
    return (uint16_t)(u >> 16);
}

/* ---- exact conversions from double (added for the ref plugin) ---------- */

static inline uint64_t tgp_f64_bits(double d) { uint64_t u; memcpy(&u, &d, 8); return u; }
static inline double tgp_bits_f64(uint64_t u) { double d; memcpy(&d, &u, 8); return d; }

/* Round a double to a binary interchange-style format with `ebits` exponent
 * bits and `mbits` fraction bits (ebits <= 8, mbits <= 23), to nearest even,
 * in one step; returns the format's bit pattern. Overflow gives inf, NaN a
 * quiet NaN with the same sign, values below half the smallest subnormal 0. */
static inline uint32_t tgp_double_to_bits(double d, int ebits, int mbits) {
    uint64_t u = tgp_f64_bits(d), a = u & 0x7fffffffffffffffull;
    uint32_t sign = (uint32_t)(u >> 63) << (ebits + mbits);
    int32_t expmax = (1 << ebits) - 1, bias = (1 << (ebits - 1)) - 1;
    if (a > 0x7ff0000000000000ull) return sign | ((uint32_t)expmax << mbits) | (1u << (mbits - 1));
    if (a == 0x7ff0000000000000ull) return sign | ((uint32_t)expmax << mbits);
    int32_t e = (int32_t)(a >> 52);                 /* biased double exponent */
    if (e == 0) return sign;                        /* double subnormal (or 0): far below */
    uint64_t m = (a & 0xfffffffffffffull) | (1ull << 52);  /* value = m * 2^(e-1075) */
    int32_t te = e - 1023 + bias;                   /* target biased exponent if normal */
    if (te >= expmax) return sign | ((uint32_t)expmax << mbits);
    int32_t tl = te < 1 ? 1 : te;                   /* subnormals share exponent 1's ulp */
    int32_t shift = (tl - bias - mbits) - (e - 1075); /* bits of m below the target ulp */
    if (shift > 60) return sign;                    /* below half the smallest subnormal */
    uint64_t q = m >> shift, rest = m & ((1ull << shift) - 1), half = 1ull << (shift - 1);
    if (rest > half || (rest == half && (q & 1u))) q++;
    uint64_t bits = ((uint64_t)(tl - 1) << mbits) + q; /* a carry moves into the exponent */
    if (bits >= ((uint64_t)expmax << mbits)) bits = (uint64_t)expmax << mbits;
    return sign | (uint32_t)bits;
}

/* double -> binary16 / bfloat16 bits, rounded once (no detour through float). */
static inline uint16_t tgp_double_to_half(double d) { return (uint16_t)tgp_double_to_bits(d, 5, 10); }
static inline uint16_t tgp_double_to_bf16(double d) { return (uint16_t)tgp_double_to_bits(d, 8, 7); }
static inline double tgp_half_to_double(uint16_t h) { return (double)tgp_half_to_float(h); }
static inline double tgp_bf16_to_double(uint16_t b) { return (double)tgp_bf16_to_float(b); }

/* An integer magnitude as a double rounded to odd: exact below 2^53, else
 * truncated to 53 bits with the lowest bit set if anything was dropped. A
 * second rounding to 51 or fewer bits is then correct (no double rounding). */
static inline double tgp_u64_to_double_odd(uint64_t m) {
    if (m < (1ull << 53)) return (double)m;
    int shift = 0;
    while ((m >> shift) >= (1ull << 53)) shift++;
    uint64_t kept = m >> shift;
    if (m & ((1ull << shift) - 1)) kept |= 1u;
    return (double)kept * (double)(1ull << shift);
}

#endif
