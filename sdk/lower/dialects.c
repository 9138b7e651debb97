/* sdk/lower/dialects.c -- how C, OpenCL C and CUDA C spell what the renderer
 * prints. A new C-family language is one more table like these. */
#include "lower_internal.h"

const tgl_dialect tgl_dialect_c = {
    .name = "c",
    .prelude =
        "#include <stdint.h>\n#include <string.h>\n#include <math.h>\n"
        "#define R restrict\n"
        "static inline uint32_t tg_fbits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }\n"
        "static inline float tg_bitsf(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }\n"
        "static inline double tg_bitsd(uint64_t u) { double d; memcpy(&d, &u, 8); return d; }\n"
        "#ifdef __TINYC__\n" /* tcc (the cpu plugin's fast tier) has no __builtin_clzll */
        "static inline int tg_clz64(uint64_t x) { int n = 0; while (!(x >> 63)) { x <<= 1; n++; } return n; }\n"
        "#else\n"
        "static inline int tg_clz64(uint64_t x) { return __builtin_clzll(x); }\n"
        "#endif\n",
    .fn = "static inline",
    .kernel = "",
    .global = "",
    .local = NULL,
    .barrier = NULL,
    .group_id = NULL,
    .local_id = NULL,
    .u64 = "ull",
    .args = "const uint64_t *R",
};

const tgl_dialect tgl_dialect_opencl = {
    .name = "opencl",
    .prelude =
        "#ifdef TG_F64\n#pragma OPENCL EXTENSION cl_khr_fp64 : enable\n#endif\n"
        "#define int8_t char\n#define uint8_t uchar\n#define int16_t short\n#define uint16_t ushort\n"
        "#define int32_t int\n#define uint32_t uint\n#define int64_t long\n#define uint64_t ulong\n"
        "#define R restrict\n"
        "#define exp2f exp2\n#define log2f log2\n#define sinf sin\n#define sqrtf sqrt\n"
        "#define fmaf fma\n#define fmodf fmod\n#define nextafterf nextafter\n"
        "static inline uint32_t tg_fbits(float f) { return as_uint(f); }\n"
        "static inline float tg_bitsf(uint32_t u) { return as_float(u); }\n"
        "static inline int tg_clz64(uint64_t x) { return (int)clz(x); }\n"
        "#ifdef TG_F64\nstatic inline double tg_bitsd(uint64_t u) { return as_double(u); }\n#endif\n",
    .fn = "static inline",
    .kernel = "__kernel",
    .global = "__global ",
    .local = "__local",
    .barrier = "barrier(CLK_LOCAL_MEM_FENCE)",
    .group_id = "get_group_id(0)",
    .local_id = "get_local_id(0)",
    .u64 = "ul",
};

const tgl_dialect tgl_dialect_cuda = {
    .name = "cuda",
    .prelude =
        "typedef signed char int8_t;\ntypedef unsigned char uint8_t;\ntypedef short int16_t;\n"
        "typedef unsigned short uint16_t;\ntypedef int int32_t;\ntypedef unsigned int uint32_t;\n"
        "typedef long long int64_t;\ntypedef unsigned long long uint64_t;\n"
        "#define R __restrict__\n"
        "static __device__ inline uint32_t tg_fbits(float f) { return __float_as_uint(f); }\n"
        "static __device__ inline float tg_bitsf(uint32_t u) { return __uint_as_float(u); }\n"
        "static __device__ inline double tg_bitsd(uint64_t u) { return __longlong_as_double((long long)u); }\n"
        "static __device__ inline int tg_clz64(uint64_t x) { return __clzll((long long)x); }\n",
    .fn = "static __device__ inline",
    .kernel = "extern \"C\" __global__",
    .global = "",
    .local = "__shared__",
    .barrier = "__syncthreads()",
    .group_id = "blockIdx.x",
    .local_id = "threadIdx.x",
    .u64 = "ull",
};
