/* plugins/cpu/cpu.h -- internals of the cpu plugin (C JIT), shared by its files. */
#ifndef TG_CPU_H
#define TG_CPU_H

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include <tg/lower.h>
#include <tg/plugin.h>

/* -------------------------------------------------------------------- jit */
typedef struct cpu_jit cpu_jit;
tg_status cpu_jit_create(cpu_jit **out, char *err, size_t errcap);
void cpu_jit_destroy(cpu_jit *jit);
/* One kernel to find in the cache or compile, and dlopen. */
typedef struct cpu_jit_job {
    const char *src; /* the rendered C source; NULL: not a job (skipped)      */
    int small;       /* 1: a kernel with little work (compiled at -O1)        */
    int fast;        /* 1: the fast tier: the fast compiler, no flags         */
    void *handle;    /* out: for dlsym and dlclose                            */
    char key[40];    /* out: its cache key, also its symbols' suffix: tgk_<key> */
    tg_status st;    /* out: TG_OK, or why not (err says)                     */
    char err[1024];
} cpu_jit_job;
/* Find or compile the jobs' kernels: those not in the cache compile in one
 * compiler invocation per optimisation level (one shared object); if that
 * fails, one by one, so a bad kernel fails alone. Returns the first failing
 * job's status. */
tg_status cpu_jit_build(cpu_jit *jit, cpu_jit_job *jobs, uint32_t n);
/* Only look the jobs up in the cache: key always, handle where cached. Jobs
 * with a handle are skipped by both calls. */
void cpu_jit_probe(cpu_jit *jit, cpu_jit_job *jobs, uint32_t n);
/* 1 if a fast compiler was found (TG_CC_FAST, default tcc; "" for none). */
int cpu_jit_has_fast(const cpu_jit *jit);
const char *cpu_jit_cache_dir(cpu_jit *jit);
/* fopen(path, "r") of a regular file in the cache, NULL for anything else
 * (a FIFO there would block the read forever). */
FILE *cpu_jit_open_record(const char *path);
/* Hash of the compiler's identity, flags and host CPU (for per-host caches). */
uint64_t cpu_jit_ident(const cpu_jit *jit);
/* Counters for tests: compiler invocations, cache hits (kernels). */
void cpu_jit_stats(const cpu_jit *jit, uint64_t *compiles, uint64_t *hits);

/* ------------------------------------------------------------------- pool */
typedef void (*cpu_task_fn)(void *ctx, int part, int nparts);
typedef struct cpu_pool cpu_pool;
tg_status cpu_pool_create(int nthreads, cpu_pool **out);
void cpu_pool_destroy(cpu_pool *pool);
int cpu_pool_size(const cpu_pool *pool);
/* Run fn(ctx, i, nparts) for every i < nparts (nparts <= size); returns when all ended. */
void cpu_pool_run(cpu_pool *pool, cpu_task_fn fn, void *ctx, int nparts);

/* ---------------------------------------------------------------- upgrade */
/* One thread per device compiles the full (-O3) build of programs that run
 * on the fast tier meanwhile, batch by batch in order, and switches each
 * program over when its build is loaded. */
typedef struct cpu_upgrader cpu_upgrader;
tg_status cpu_upgrader_create(cpu_jit *jit, cpu_upgrader **out);
/* Builds every queued batch, then ends the thread (the cache keeps them). */
void cpu_upgrader_destroy(cpu_upgrader *u);
/* Queue the full builds jobs[i] of progs[i] (n of each; both copied; the
 * jobs' sources are copied too). */
tg_status cpu_upgrader_add(cpu_upgrader *u, tg_program *const *progs, const cpu_jit_job *jobs, uint32_t n);
/* The program is going away: drop it from the queue (its build still
 * lands in the cache). */
void cpu_upgrader_forget(cpu_upgrader *u, tg_program *p);
/* Wait until nothing is queued or building; counts of programs switched
 * over and of full builds that failed (the program kept its fast code). */
void cpu_upgrader_wait(cpu_upgrader *u, uint64_t *upgraded, uint64_t *failed);
/* plugin.c: take a loaded full build (job->handle) as the program's code
 * from its next launch on; TG_OK, else the handle is not taken. */
tg_status cpu_program_upgrade(tg_program *p, cpu_jit_job *job);

/* ---------------------------------------------------------- plugin.c, tune */
/* Build a program with a given plan; run it; free it (used by tuning). */
tg_status cpu_program_build(tg_device *d, const tg_kernel *k, const tgl_plan *plan, tg_program **out);
tg_status cpu_program_run(tg_device *d, tg_program *p, tg_buffer *const *bufs, uint32_t n);
void cpu_program_free(tg_device *d, tg_program *p);
cpu_jit *cpu_device_jit(tg_device *d);
tg_status cpu_buffer_new(tg_device *d, uint64_t bytes, tg_buffer **out);
void *cpu_buffer_data(tg_buffer *b);
void cpu_buffer_free(tg_device *d, tg_buffer *b);
int cpu_device_threads(tg_device *d);
/* Use the cached winner for this kernel on this host if one was searched with
 * at least `beam` candidates; else, if beam > 0, search by measurement and cache it. */
tg_status cpu_tune(tg_device *d, const tg_kernel *k, tgl_plan *plan, int beam);
/* The lowering target of this host with nthreads threads. */
void cpu_target(int nthreads, tgl_target *out);

/* 64-bit FNV-1a, continued from h (start with CPU_FNV_SEED). */
#define CPU_FNV_SEED 0xcbf29ce484222325ull
uint64_t cpu_hash(uint64_t h, const void *data, size_t n);

#endif
