/* plugins/cpu/cpu.h -- internals of the cpu plugin (C JIT), shared by its files. */
#ifndef TG_CPU_H
#define TG_CPU_H

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include <tg/plugin.h>

/* ---------------------------------------------------------- string builder */
typedef struct cpu_sb {
    char *s;
    size_t len, cap;
    int oom;
} cpu_sb;
void cpu_sb_printf(cpu_sb *sb, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
void cpu_sb_free(cpu_sb *sb);

/* ----------------------------------------------------------------- render */

/* How a kernel is laid out in C; chosen by cpu_plan_default, varied by tuning. */
enum { CPU_MODE_FLAT = 0, CPU_MODE_OUTER = 1, CPU_MODE_MATMUL = 2 };

typedef struct cpu_opts {
    int mode;       /* CPU_MODE_FLAT: reduce loop innermost (lanes of accumulators);
                       CPU_MODE_OUTER: innermost output axis inside the reduce loops;
                       CPU_MODE_MATMUL: register/cache-blocked [M,N,K] product */
    int lanes;      /* accumulators on the innermost reduce axis (FLAT)        */
    int block;      /* output block of the inner axis (OUTER); NR (MATMUL)      */
    int mr;         /* MATMUL: rows per register tile                          */
    int nc;         /* MATMUL: columns of B packed per block                   */
    int split;      /* 1: split the reduction over threads, combine partials   */
    int par_axis;   /* axis split over threads (-1: none)                      */
} cpu_opts;

/* Facts about a kernel the renderer and the launcher share. */
typedef struct cpu_info {
    int reduce_node;        /* index of the REDUCE node, -1 if none            */
    int64_t out_count;      /* elements of out_shape                            */
    int64_t red_count;      /* elements reduced per output                      */
    int acc_size;           /* bytes of one accumulator (split mode)            */
    int mm_m, mm_n, mm_k;   /* MATMUL axes, -1 if the kernel is not a product  */
    int mm_a, mm_b;         /* node indices of the two factors                  */
    int64_t mm_sak;         /* A is a plain load read with this stride along the
                               flattened reduce axes (0: A is packed)            */
    int oin, rin;           /* innermost non-trivial out / reduce axis, -1     */
} cpu_info;

/* Check what the renderer relies on; fill *info. TG_ERR_INVALID/UNSUPPORTED
 * with a message in err. */
tg_status cpu_analyze(const tg_kernel *k, cpu_info *info, char *err, size_t errcap);
/* Bytes of the accumulator of a reduction (op, dtype). */
int cpu_acc_size(uint32_t op, uint32_t dt);
/* Default options for a kernel run on nthreads threads; fills info->mm_* when
 * the kernel is a matrix product. */
void cpu_plan_default(const tg_kernel *k, cpu_info *info, int nthreads, cpu_opts *o);
/* Render C source: functions tgk (main, args: params..., lo, hi), and in split
 * mode tgk_part (params..., lo, hi, acc*) and tgk_fin (params..., acc*, nparts). */
tg_status cpu_render(const tg_kernel *k, const cpu_info *info, const cpu_opts *o, cpu_sb *out);

/* -------------------------------------------------------------------- jit */
typedef struct cpu_jit cpu_jit;
tg_status cpu_jit_create(cpu_jit **out, char *err, size_t errcap);
void cpu_jit_destroy(cpu_jit *jit);
/* Compile (or find in the cache) and dlopen the source; small: a kernel with
 * little work (compiled at -O1). *out_handle for dlsym/dlclose. */
tg_status cpu_jit_load(cpu_jit *jit, const char *src, int small, void **out_handle, char *err, size_t errcap);
const char *cpu_jit_cache_dir(const cpu_jit *jit);
/* fopen(path, "r") of a regular file in the cache, NULL for anything else
 * (a FIFO there would block the read forever). */
FILE *cpu_jit_open_record(const char *path);
/* Hash of the compiler's identity, flags and host CPU (for per-host caches). */
uint64_t cpu_jit_ident(const cpu_jit *jit);
/* Counters for tests: compiles run, cache hits. */
void cpu_jit_stats(const cpu_jit *jit, uint64_t *compiles, uint64_t *hits);

/* ------------------------------------------------------------------- pool */
typedef void (*cpu_task_fn)(void *ctx, int part, int nparts);
typedef struct cpu_pool cpu_pool;
tg_status cpu_pool_create(int nthreads, cpu_pool **out);
void cpu_pool_destroy(cpu_pool *pool);
int cpu_pool_size(const cpu_pool *pool);
/* Run fn(ctx, i, nparts) for every i < nparts (nparts <= size); returns when all ended. */
void cpu_pool_run(cpu_pool *pool, cpu_task_fn fn, void *ctx, int nparts);

/* ---------------------------------------------------------- plugin.c, tune */
/* Build a program with given options; run it; free it (used by tuning). */
tg_status cpu_program_build(tg_device *d, const tg_kernel *k, const cpu_info *info, const cpu_opts *o,
                            tg_program **out);
tg_status cpu_program_run(tg_device *d, tg_program *p, tg_buffer *const *bufs, uint32_t n);
void cpu_program_free(tg_device *d, tg_program *p);
cpu_jit *cpu_device_jit(tg_device *d);
tg_status cpu_buffer_new(tg_device *d, uint64_t bytes, tg_buffer **out);
void *cpu_buffer_data(tg_buffer *b);
void cpu_buffer_free(tg_device *d, tg_buffer *b);
int cpu_device_threads(tg_device *d);
/* Use the cached winner for this kernel on this host if one was searched with
 * at least `beam` candidates; else, if beam > 0, search by measurement and cache it. */
tg_status cpu_tune(tg_device *d, const tg_kernel *k, const cpu_info *info, cpu_opts *opts, int beam);

/* 64-bit FNV-1a, continued from h (start with CPU_FNV_SEED). */
#define CPU_FNV_SEED 0xcbf29ce484222325ull
uint64_t cpu_hash(uint64_t h, const void *data, size_t n);

#endif
