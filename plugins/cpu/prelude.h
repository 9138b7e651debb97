/* plugins/cpu/prelude.h -- the text every generated kernel starts with:
 * dtype conversions (float16/bfloat16 <-> float, rounding helpers) as static
 * inline C. Included once, by render.c, as a string. */
#ifndef TG_CPU_PRELUDE_H
#define TG_CPU_PRELUDE_H

static const char cpu_prelude[] =
    "#include <stdint.h>\n"
    "#include <string.h>\n"
    "#include <math.h>\n"
    "#define R restrict\n"
    "static inline uint32_t tg_fbits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }\n"
    "static inline float tg_bitsf(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }\n"
    "#if defined(__FLT16_MAX__) && (defined(__x86_64__) || defined(__aarch64__))\n"
    "static inline float tg_h2f(uint16_t h) { _Float16 x; memcpy(&x, &h, 2); return (float)x; }\n"
    "static inline uint16_t tg_f2h(float f) { _Float16 x = (_Float16)f; uint16_t h; memcpy(&h, &x, 2); return h; }\n"
    "#else\n"
    "static inline float tg_h2f(uint16_t h) {\n"
    "  uint32_t s = (uint32_t)(h & 0x8000u) << 16, e = (h >> 10) & 0x1fu, m = h & 0x3ffu;\n"
    "  if (e == 0x1f) return tg_bitsf(s | 0x7f800000u | (m << 13));\n"
    "  if (e == 0) { float f = (float)m * (1.0f / 16777216.0f); return s ? -f : f; }\n"
    "  return tg_bitsf(s | ((e + 112u) << 23) | (m << 13));\n"
    "}\n"
    "static inline uint16_t tg_f2h(float f) {\n"
    "  uint32_t u = tg_fbits(f), s = (u >> 16) & 0x8000u, a = u & 0x7fffffffu;\n"
    "  if (a > 0x7f800000u) return (uint16_t)(s | 0x7e00u);\n"
    "  if (a >= 0x477ff000u) return (uint16_t)(s | 0x7c00u);\n"
    "  if (a < 0x38800000u) { float v = tg_bitsf(a) * 16777216.0f; float r = (v + 8388608.0f) - 8388608.0f;\n"
    "    return (uint16_t)(s | (uint32_t)r); }\n"
    "  uint32_t h = (a - 0x38000000u) >> 13, rest = a & 0x1fffu;\n"
    "  if (rest > 0x1000u || (rest == 0x1000u && (h & 1u))) h++;\n"
    "  return (uint16_t)(s | h);\n"
    "}\n"
    "#endif\n"
    "static inline float tg_b2f(uint16_t b) { return tg_bitsf((uint32_t)b << 16); }\n"
    "static inline uint16_t tg_f2b(float f) {\n"
    "  uint32_t u = tg_fbits(f);\n"
    "  if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40u);\n"
    "  u += 0x7fffu + ((u >> 16) & 1u);\n"
    "  return (uint16_t)(u >> 16);\n"
    "}\n"
    /* round a float to the nearest float16 / bfloat16 value, kept as float */
    /* float16 rounding without _Float16: GCC 12 vectorises (float)(_Float16)x with
     * AVX512-FP16 and drops the rounding, so this is done in bits: subnormal halves
     * by adding and removing 0.5 (quantum 2^-24), normal ones at 13 dropped bits. */
    "static inline float tg_rh(float f) {\n"
    "  uint32_t u = tg_fbits(f), s = u & 0x80000000u, a = u ^ s;\n"
    "  float small = (tg_bitsf(a) + 0.5f) - 0.5f;\n"
    "  uint32_t n = (a + 0xfffu + ((a >> 13) & 1u)) & ~0x1fffu;\n"
    "  uint32_t r = a < 0x38800000u ? tg_fbits(small) : a > 0x7f800000u ? (a | 0x400000u)\n"
    "             : a >= 0x477ff000u ? 0x7f800000u : n;\n"
    "  return tg_bitsf(s | r);\n"
    "}\n"
    "static inline float tg_rb(float f) { return tg_b2f(tg_f2b(f)); }\n"
    /* double -> float rounded to odd: a later rounding to <= 22 bits is then correct */
    "static inline float tg_d2f_odd(double d) {\n"
    "  float f = (float)d;\n"
    "  if ((double)f != d && d == d && !(tg_fbits(f) & 1u))\n"
    "    f = nextafterf(f, (double)f < d ? __builtin_inff() : -__builtin_inff());\n"
    "  return f;\n"
    "}\n"
    /* uint64 -> float rounded to odd */
    "static inline float tg_u2f_odd(uint64_t x) {\n"
    "  if (x < (1ull << 24)) return (float)x;\n"
    "  int sh = 64 - __builtin_clzll(x) - 24;\n"
    "  uint64_t m = x >> sh; if (x & ((1ull << sh) - 1)) m |= 1;\n"
    "  return (float)m * tg_bitsf((uint32_t)(127 + sh) << 23);\n"
    "}\n"
    "static inline float tg_i2f_odd(int64_t x) {\n"
    "  return x < 0 ? -tg_u2f_odd(0ull - (uint64_t)x) : tg_u2f_odd((uint64_t)x);\n"
    "}\n"
    "static inline float tg_maxf(float a, float b) { return (a > b || a != a) ? a : b; }\n"
    "static inline double tg_maxd(double a, double b) { return (a > b || a != a) ? a : b; }\n";

#endif
