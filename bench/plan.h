/*
 * plan.h -- a benchmark workload as a plan: float32 buffers and a sequence
 * of hand-built kernels launched on them, run on one plugin's device 0.
 */
#ifndef TG_BENCH_PLAN_H
#define TG_BENCH_PLAN_H

#include <tg/runtime.h>
#include "kir.h"
#include "tgbench.h"

#define PLAN_MAX_BUFS 48
#define PLAN_MAX_STEPS 48

/* One plugin's device, with the bytes of buffers the harness holds on it. */
typedef struct bdev {
    char name[64];       /* the plugin's own name (its table's), for labels  */
    const char *path;    /* how it was given (a name or a path); borrowed    */
    tg_plugin *plugin;
    const tg_plugin_api *api;
    tg_device *dev;
    tg_caps caps;
    uint64_t live_bytes, peak_bytes;
    char error[512];
} bdev;

tg_status bdev_open(const char *plugin, bdev *out);
void bdev_close(bdev *d);
tg_buffer *bdev_alloc(bdev *d, int64_t count, unsigned seed); /* floats in [-1, 1); NULL on failure */
/* How a plan buffer is filled (mod: the "m" below). */
enum {
    PLAN_RANDOM = 0, /* uniform in [-1, 1)                                 */
    PLAN_IOTA = 1,   /* i % m: 0, 1, ..., m-1, 0, ...                      */
    PLAN_INDEX = 2,  /* random integers in [0, m), e.g. token ids          */
    PLAN_ONEHOT = 3  /* rows of m with a single 1 (labels)                  */
};
tg_buffer *bdev_alloc_init(bdev *d, int64_t count, unsigned seed, int init, int64_t mod);
void bdev_free(bdev *d, tg_buffer *buf, int64_t count);
/* Compile after checking the kernel against the caps; NULL with d->error set. */
tg_program *bdev_compile(bdev *d, const tg_kernel *k);
int bdev_sync(bdev *d);

typedef struct plan {
    char name[96];       /* "<class>/<workload>", e.g. "matmul/mm_512"       */
    int nbufs;
    int64_t buf_count[PLAN_MAX_BUFS];
    int buf_init[PLAN_MAX_BUFS];     /* PLAN_RANDOM etc. */
    int64_t buf_mod[PLAN_MAX_BUFS];
    int nsteps;
    kir *steps[PLAN_MAX_STEPS];
    int bind[PLAN_MAX_STEPS][KIR_MAX_PARAMS]; /* kernel param -> plan buffer */
    double flops, bytes;  /* per run of all steps, for GFLOP/s and GB/s      */
    double cost;          /* rough ref-seconds estimate, for skipping        */
} plan;

plan *plan_new(const char *name);
void plan_free(plan *p);
int plan_buf(plan *p, int64_t count);
int plan_buf_init(plan *p, int64_t count, int init, int64_t mod);
/* Start a step; returns its builder (kir_init already called). */
kir *plan_step(plan *p, const char *kname, uint32_t ndim, const int64_t *shape, uint32_t reduce_axes);
/* Add a parameter of the current step bound to plan buffer `buf`. */
int plan_param(plan *p, int buf, uint32_t access);

/* The benchmark function for a plan: arg is a plan_case. */
typedef struct plan_case {
    bdev *dev;
    plan *plan;
} plan_case;
void plan_bench(tgb_state *s, void *arg);
/* Release whatever plan_bench keeps prepared between calls. */
void plan_bench_release(void);
/* The same steps without timing, for tests: prepare (allocate, fill,
 * compile), run once, read a buffer back (count floats). 0 or -1 with
 * c->dev->error set. plan_bench_release frees. */
int plan_exec_prepare(plan_case *c);
int plan_exec_run(plan_case *c);
int plan_exec_read(plan_case *c, int buf, float *host);

#endif
