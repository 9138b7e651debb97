/* plugins/cpu/plugin.c -- the cpu plugin's table: devices, buffers, programs.
 * A program is the kernel lowered and rendered to C by the SDK's lowering
 * library, compiled and cached (jit.c), called through libffi with the
 * arguments the kernel declares, split over a persistent thread pool
 * (pool.c). Two tiers: a kernel not in the cache first compiles with a fast
 * compiler (tcc, milliseconds) in a plain layout and runs at once, while
 * its full -O3 build is made in the background (upgrade.c) and takes over
 * from the next launch on. TG_CPU_TIER=fast or full keeps one tier only. */
#include <dlfcn.h>
#include <ffi.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cpu.h"
#include <tg/dtype_util.h>

#define CPU_MAX_PARAMS 64
#define CPU_MAX_ARGS 64
#define CPU_SMALL_WORK 32768 /* points below which a launch stays on one thread */
#define CPU_SMALL_OPT 4096   /* points below which a kernel is compiled at -O1 */

struct tg_device {
    cpu_pool *pool;
    cpu_jit *jit;
    int fast;               /* 1: kernels not cached start on the fast tier */
    cpu_upgrader *upgrader; /* their full builds; NULL: fast tier only     */
    cpu_jit_job *jobs; /* of the last program_create_batch: its messages */
    char error[2048];
};

struct tg_buffer {
    void *data;
    uint64_t bytes;
    bool wrapped; /* data is the caller's (buffer_wrap): never freed here */
};

/* One compiled form of a program: a layout and its entry points. */
typedef struct cpu_code {
    void *dl;
    void (*fn_main)(void);
    void (*fn_fin)(void);
    int *oom; /* the kernel's scratch-allocation failure flag, if it has one */
    ffi_cif cif_main, cif_fin;
    ffi_type *types[CPU_MAX_PARAMS + 4];
    ffi_type *types_fin[CPU_MAX_PARAMS + 3];
    tgl_plan plan;
    int64_t out_count;   /* points of the output                            */
    uint32_t acc_size;   /* bytes of one partial accumulator (split)         */
    int64_t par_size; /* extent of the axis split over threads (1: none)   */
    int par_align;    /* split points are multiples of this                */
    int64_t work;     /* points evaluated per launch                       */
    char *source;
} cpu_code;

struct tg_program {
    uint32_t nparams;
    uint32_t nargs;           /* kernel arguments: one pointer to their words */
    tg_arg args[CPU_MAX_ARGS];
    cpu_code code[2]; /* [0]: the fast tier's, or the only one; [1]: the full build */
    int cur;          /* the code launches run (atomic: upgrade.c sets it to 1) */
};

static char plugin_err[512];

static tg_status dev_fail(tg_device *d, tg_status st, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->error, sizeof d->error, fmt, ap);
    va_end(ap);
    return st;
}

static const char *cpu_plugin_error(void) { return plugin_err; }

static tg_status cpu_device_count(uint32_t *out) {
    plugin_err[0] = 0;
    *out = 1;
    return TG_OK;
}

static int env_threads(void) {
    const char *e = getenv("TG_THREADS");
    if (e && *e) {
        int n = atoi(e);
        if (n >= 1 && n <= 1024) return n;
    }
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n >= 1 ? (int)(n > 256 ? 256 : n) : 1;
}

static tg_status cpu_device_create(uint32_t index, tg_device **out) {
    plugin_err[0] = 0;
    if (!out) { snprintf(plugin_err, sizeof plugin_err, "device_create: out is NULL"); return TG_ERR_INVALID; }
    if (index != 0) {
        snprintf(plugin_err, sizeof plugin_err, "cpu: no device %u (there is one)", index);
        return TG_ERR_NOT_FOUND;
    }
    tg_device *d = calloc(1, sizeof *d);
    if (!d) return TG_ERR_NO_MEMORY;
    tg_status st = cpu_jit_create(&d->jit, plugin_err, sizeof plugin_err);
    if (st == TG_OK) st = cpu_pool_create(env_threads(), &d->pool);
    const char *tier = getenv("TG_CPU_TIER"); /* "fast" or "full": that tier only */
    d->fast = st == TG_OK && cpu_jit_has_fast(d->jit) && !(tier && !strcmp(tier, "full"));
    if (d->fast && !(tier && !strcmp(tier, "fast"))) st = cpu_upgrader_create(d->jit, &d->upgrader);
    if (st != TG_OK) {
        if (!plugin_err[0]) snprintf(plugin_err, sizeof plugin_err, "cpu: cannot start the device");
        cpu_pool_destroy(d->pool);
        cpu_jit_destroy(d->jit);
        free(d);
        return st;
    }
    *out = d;
    return TG_OK;
}

static void cpu_device_destroy(tg_device *d) {
    if (!d) return;
    cpu_upgrader_destroy(d->upgrader);
    cpu_pool_destroy(d->pool);
    cpu_jit_destroy(d->jit);
    free(d->jobs);
    free(d);
}

static const char *cpu_device_error(tg_device *d) { return d ? d->error : ""; }

static tg_status cpu_device_caps(tg_device *d, tg_caps *caps) {
    if (!caps) return dev_fail(d, TG_ERR_INVALID, "device_caps: caps is NULL");
    tg_caps c;
    memset(&c, 0, sizeof c);
    c.struct_size = sizeof c;
    c.dtypes = (1u << TG_DTYPE_COUNT) - 1;
    c.fusion = TG_FUSE_ELEMENTWISE | TG_FUSE_REDUCE_INPUT | TG_FUSE_REDUCE_OUTPUT | TG_FUSE_MULTI_OUTPUT;
    c.flags = TG_CAP_HOST_VISIBLE | TG_CAP_UNIFIED | TG_CAP_ARG_VALUES | TG_CAP_ARG_BOUNDS;
    c.max_dims = TG_MAX_DIMS;
    c.max_params = CPU_MAX_PARAMS;
    c.max_view_depth = 16;
    __builtin_cpu_init();
    c.vector_width = __builtin_cpu_supports("avx512f") ? 64 : __builtin_cpu_supports("avx2") ? 32 : 16;
    long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE);
    c.memory_bytes = pages > 0 && psize > 0 ? (uint64_t)pages * (uint64_t)psize : 0;
    c.compute_units = (uint32_t)cpu_pool_size(d->pool);
    c.emulated_dtypes = 1u << TG_FLOAT16 | 1u << TG_BFLOAT16; /* computed in float (sdk/lower) */
    c.name = "host CPU (C JIT)";
    c.vendor = "tg";
    c.version = "1";
    c.driver = "cc";
    tgp_caps_copy(caps, &c);
    return TG_OK;
}

static tg_status cpu_buffer_create(tg_device *d, uint64_t bytes, tg_buffer **out) {
    if (!out) return dev_fail(d, TG_ERR_INVALID, "buffer_create: out is NULL");
    tg_buffer *b = calloc(1, sizeof *b);
    uint64_t cap = (bytes + 63) / 64 * 64;
    if (cap == 0) cap = 64;
    if (b && cap >= bytes) b->data = aligned_alloc(64, cap);
    if (!b || !b->data) {
        free(b);
        return dev_fail(d, TG_ERR_NO_MEMORY, "buffer_create: cannot allocate %llu bytes", (unsigned long long)bytes);
    }
    b->bytes = bytes;
    *out = b;
    return TG_OK;
}

/* Kernels need only element alignment (the core's promise); launches are
 * synchronous, so destroy never waits. */
static tg_status cpu_buffer_wrap(tg_device *d, void *host, uint64_t bytes, tg_buffer **out) {
    if (!out || !host || !bytes) return dev_fail(d, TG_ERR_INVALID, "buffer_wrap: NULL argument or 0 bytes");
    if (!(*out = calloc(1, sizeof **out))) return dev_fail(d, TG_ERR_NO_MEMORY, "buffer_wrap: out of host memory");
    **out = (tg_buffer){.data = host, .bytes = bytes, .wrapped = true};
    return TG_OK;
}

static void cpu_buffer_destroy(tg_device *d, tg_buffer *b) {
    (void)d;
    if (!b) return;
    if (!b->wrapped) free(b->data);
    free(b);
}

static tg_status range_ok(tg_device *d, tg_buffer *b, uint64_t off, uint64_t bytes, const char *what) {
    if (!b) return dev_fail(d, TG_ERR_INVALID, "%s: buffer is NULL", what);
    if (off > b->bytes || bytes > b->bytes - off)
        return dev_fail(d, TG_ERR_INVALID, "%s: range [%llu, +%llu) outside a buffer of %llu bytes", what,
                        (unsigned long long)off, (unsigned long long)bytes, (unsigned long long)b->bytes);
    return TG_OK;
}

static tg_status cpu_buffer_write(tg_device *d, tg_buffer *b, uint64_t off, const void *src, uint64_t bytes) {
    tg_status st = range_ok(d, b, off, bytes, "buffer_write");
    if (st) return st;
    if (bytes) memcpy((char *)b->data + off, src, bytes);
    return TG_OK;
}

static tg_status cpu_buffer_read(tg_device *d, tg_buffer *b, uint64_t off, void *dst, uint64_t bytes) {
    tg_status st = range_ok(d, b, off, bytes, "buffer_read");
    if (st) return st;
    if (bytes) memcpy(dst, (char *)b->data + off, bytes);
    return TG_OK;
}

static tg_status cpu_buffer_copy(tg_device *d, tg_buffer *dst, uint64_t doff, tg_buffer *src, uint64_t soff,
                                 uint64_t bytes) {
    tg_status st = range_ok(d, dst, doff, bytes, "buffer_copy");
    if (!st) st = range_ok(d, src, soff, bytes, "buffer_copy");
    if (st) return st;
    if (bytes) memmove((char *)dst->data + doff, (char *)src->data + soff, bytes);
    return TG_OK;
}

static tg_status cpu_buffer_map(tg_device *d, tg_buffer *b, void **out) {
    if (!b || !out) return dev_fail(d, TG_ERR_INVALID, "buffer_map: NULL argument");
    *out = b->data;
    return TG_OK;
}

static tg_status cpu_buffer_map_range(tg_device *d, tg_buffer *b, uint64_t off, uint64_t bytes, uint32_t flags,
                                      void **out) {
    tg_status st = range_ok(d, b, off, bytes, "buffer_map_range");
    if (!st && (!out || !flags || flags > (TG_MAP_READ | TG_MAP_WRITE)))
        st = dev_fail(d, TG_ERR_INVALID, "buffer_map_range: out is NULL or flags %u are not TG_MAP_*", flags);
    if (!st) *out = (char *)b->data + off;
    return st;
}

/* Mappings are the buffer's memory itself: nothing to copy back. */
static tg_status cpu_buffer_unmap(tg_device *d, tg_buffer *b, void *ptr) {
    if (!b || !ptr) return dev_fail(d, TG_ERR_INVALID, "buffer_unmap: NULL argument");
    return TG_OK;
}

static void code_free(cpu_code *c) {
    if (c->dl) dlclose(c->dl);
    free(c->source);
}

static void cpu_program_destroy(tg_device *d, tg_program *p) {
    if (!p) return;
    cpu_upgrader_forget(d->upgrader, p);
    code_free(&p->code[0]);
    code_free(&p->code[1]);
    free(p);
}

void cpu_target(int nthreads, tgl_target *t) {
    memset(t, 0, sizeof *t);
    t->kind = TGL_CPU;
    t->threads = (uint32_t)nthreads;
    __builtin_cpu_init();
    t->vector_bytes = __builtin_cpu_supports("avx512f") ? 64 : __builtin_cpu_supports("avx2") ? 32 : 16;
}

/* Lower and render a kernel's code for a plan (not compiled yet). */
static tg_status code_render(tg_device *d, const tg_kernel *k, const tgl_plan *plan, cpu_code *c) {
    tgl_target t;
    cpu_target(cpu_pool_size(d->pool), &t);
    tgl_prog *lp = NULL;
    tg_status st = tgl_lower(k, &t, plan, &lp, d->error, sizeof d->error);
    if (st != TG_OK) return st;
    tgl_sb sb = {0};
    if (tgl_render(lp, &tgl_dialect_c, &sb) != TG_OK) {
        tgl_sb_free(&sb);
        tgl_prog_free(lp);
        return dev_fail(d, TG_ERR_NO_MEMORY, "program_create: out of memory rendering %s", k->name);
    }
    c->plan = lp->plan;
    c->out_count = lp->out_count;
    c->acc_size = lp->acc_size;
    c->source = sb.s;
    c->work = lp->out_count * lp->red_count;
    const tgl_plan *o = &c->plan;
    c->par_size = 1;
    c->par_align = 1;
    if (o->par_axis >= 0) {
        c->par_size = k->shape[o->par_axis];
        if (o->mode == TGL_OUTER && o->par_axis == lp->oin) c->par_align = 16;
        if (o->mode == TGL_MATMUL && !o->split && o->par_axis == lp->mm_m) c->par_align = o->mr;
    }
    tgl_prog_free(lp);
    return TG_OK;
}

/* A program with its (full) code rendered for a plan. */
static tg_status program_prepare(tg_device *d, const tg_kernel *k, const tgl_plan *plan, tg_program **out) {
    tg_program *p = calloc(1, sizeof *p);
    if (!p) return dev_fail(d, TG_ERR_NO_MEMORY, "program_create: out of memory");
    p->nparams = k->nparams;
    p->nargs = k->struct_size >= offsetof(tg_kernel, args) + sizeof k->args ? k->nargs : 0;
    if (p->nargs) memcpy(p->args, k->args, p->nargs * sizeof *k->args);
    tg_status st = code_render(d, k, plan, &p->code[0]);
    if (st != TG_OK) {
        free(p);
        return st;
    }
    *out = p;
    return TG_OK;
}

/* Find the entry points of compiled and loaded code (its symbols carry its
 * cache key) and prepare its calls; np: buffers + 1 if the kernel has
 * arguments. Thread-safe (the upgrade thread calls it): no device state. */
static const char *code_finish(cpu_code *c, uint32_t np, const char *key) {
    const tgl_plan *o = &c->plan;
    char name[80];
    snprintf(name, sizeof name, "%s_%s", o->split ? "tgk_part" : "tgk", key);
    c->fn_main = (void (*)(void))dlsym(c->dl, name);
    snprintf(name, sizeof name, "tgk_fin_%s", key);
    c->fn_fin = o->split ? (void (*)(void))dlsym(c->dl, name) : NULL;
    snprintf(name, sizeof name, "tgk_oom_%s", key);
    c->oom = dlsym(c->dl, name);
    if (!c->fn_main || (o->split && !c->fn_fin)) return "program_create: compiled kernel lacks its entry points";
    for (uint32_t i = 0; i < np; i++) c->types[i] = &ffi_type_pointer;
    c->types[np] = &ffi_type_sint64;
    c->types[np + 1] = &ffi_type_sint64;
    c->types[np + 2] = &ffi_type_pointer;
    if (ffi_prep_cif(&c->cif_main, FFI_DEFAULT_ABI, np + 2 + (o->split ? 1 : 0), &ffi_type_void, c->types) != FFI_OK)
        return "program_create: ffi_prep_cif failed";
    if (o->split) { /* tgk_fin(params..., part, nparts) */
        for (uint32_t i = 0; i <= np; i++) c->types_fin[i] = &ffi_type_pointer;
        c->types_fin[np + 1] = &ffi_type_sint64;
        if (ffi_prep_cif(&c->cif_fin, FFI_DEFAULT_ABI, np + 2, &ffi_type_void, c->types_fin) != FFI_OK)
            return "program_create: ffi_prep_cif failed";
    }
    return NULL;
}

static uint32_t program_nparams(const tg_program *p) { return p->nparams + (p->nargs ? 1 : 0); }

tg_status cpu_program_upgrade(tg_program *p, cpu_jit_job *job) {
    p->code[1].dl = job->handle;
    if (code_finish(&p->code[1], program_nparams(p), job->key)) {
        p->code[1].dl = NULL;
        return TG_ERR_COMPILE;
    }
    __atomic_store_n(&p->cur, 1, __ATOMIC_RELEASE);
    return TG_OK;
}

/* Lower, render, compile and load a program for a plan. */
static tg_status program_build(tg_device *d, const tg_kernel *k, const tgl_plan *plan, tg_program **out) {
    tg_program *p = NULL;
    tg_status st = program_prepare(d, k, plan, &p);
    if (st != TG_OK) return st;
    cpu_jit_job job = {.src = p->code[0].source, .small = p->code[0].work < CPU_SMALL_OPT};
    st = cpu_jit_build(d->jit, &job, 1);
    p->code[0].dl = job.handle;
    const char *why = st == TG_OK ? code_finish(&p->code[0], program_nparams(p), job.key) : job.err;
    if (why) {
        st = dev_fail(d, st == TG_OK ? TG_ERR_COMPILE : st, "%s", why);
        cpu_program_destroy(d, p);
        return st;
    }
    *out = p;
    return TG_OK;
}

/* Check a kernel and choose its plan (a tuned one if cached or TG_BEAM asks). */
static tg_status program_plan(tg_device *d, const tg_kernel *k, tgl_plan *plan) {
    if (!k) return dev_fail(d, TG_ERR_INVALID, "program_create: NULL kernel");
    if (k->nparams > CPU_MAX_PARAMS)
        return dev_fail(d, TG_ERR_UNSUPPORTED, "program_create: %u buffers, at most %d", k->nparams, CPU_MAX_PARAMS);
    if (k->struct_size >= offsetof(tg_kernel, args) + sizeof k->args && k->nargs > CPU_MAX_ARGS)
        return dev_fail(d, TG_ERR_UNSUPPORTED, "program_create: %u arguments, at most %d", k->nargs, CPU_MAX_ARGS);
    tgl_target t;
    cpu_target(cpu_pool_size(d->pool), &t);
    tgl_plan_default(k, &t, plan);
    const char *beam = getenv("TG_BEAM"); /* search; without it, only a cached winner is used */
    return cpu_tune(d, k, plan, beam ? atoi(beam) : 0);
}


/* The fast tier: programs[i] whose full build is not cached get code[0]
 * from the fast compiler in a layout it compiles (the register-tiled
 * matrix layout needs vector types: it becomes OUTER); their full code
 * moves to code[1] and its job goes to the upgrade thread. A program whose
 * fast build fails keeps only its full job (compiled at once by the caller). */
static void batch_fast(tg_device *d, uint32_t n, const tg_kernel *const *ks, tg_program **progs) {
    cpu_jit_job *fast = calloc(n, sizeof *fast), *full = calloc(n, sizeof *full);
    tg_program **up = calloc(n, sizeof *up);
    uint32_t nup = 0;
    if (!fast || !full || !up) goto done; /* all build in full now */
    for (uint32_t i = 0; i < n; i++) {
        tg_program *p = progs[i];
        if (!p || d->jobs[i].handle) continue;
        tgl_plan plan = p->code[0].plan;
        if (plan.mode == TGL_MATMUL) {
            plan.mode = TGL_OUTER;
            plan.block = 256;
        }
        p->code[1] = p->code[0];
        memset(&p->code[0], 0, sizeof p->code[0]);
        if (code_render(d, ks[i], &plan, &p->code[0]) == TG_OK) {
            fast[i].src = p->code[0].source;
            fast[i].fast = 1;
        }
    }
    cpu_jit_build(d->jit, fast, n);
    for (uint32_t i = 0; i < n; i++) {
        tg_program *p = progs[i];
        if (!p || !p->code[1].source) continue;
        p->code[0].dl = fast[i].handle;
        if (!fast[i].src || fast[i].st != TG_OK || code_finish(&p->code[0], program_nparams(p), fast[i].key)) {
            code_free(&p->code[0]); /* back to the full code alone */
            p->code[0] = p->code[1];
            memset(&p->code[1], 0, sizeof p->code[1]);
            continue;
        }
        d->jobs[i].src = NULL; /* not built now */
        full[nup].src = p->code[1].source;
        full[nup].small = p->code[1].work < CPU_SMALL_OPT;
        up[nup++] = p;
    }
    if (nup && d->upgrader && cpu_upgrader_add(d->upgrader, up, full, nup) != TG_OK)
        fprintf(stderr, "tg cpu: out of memory queueing %u full builds; those kernels stay on the fast tier\n", nup);
done:
    free(fast);
    free(full);
    free(up);
}

/* Every kernel is planned and rendered; those not cached start on the fast
 * tier where there is one, and the rest compile in one compiler invocation
 * per optimisation level (jit.c). */
static tg_status cpu_program_create_batch(tg_device *d, uint32_t n, const tg_kernel *const *ks, tg_program **out,
                                          tg_status *out_st, const char **out_msg) {
    if (n && (!ks || !out || !out_st || !out_msg))
        return dev_fail(d, TG_ERR_INVALID, "program_create_batch: NULL argument");
    free(d->jobs);
    d->jobs = calloc(n ? n : 1, sizeof *d->jobs);
    if (!d->jobs) return dev_fail(d, TG_ERR_NO_MEMORY, "program_create_batch: out of memory for %u kernels", n);
    for (uint32_t i = 0; i < n; i++) {
        tgl_plan plan;
        out[i] = NULL;
        out_st[i] = program_plan(d, ks[i], &plan);
        if (out_st[i] == TG_OK) out_st[i] = program_prepare(d, ks[i], &plan, &out[i]);
        if (out_st[i] == TG_OK) {
            d->jobs[i].src = out[i]->code[0].source;
            d->jobs[i].small = out[i]->code[0].work < CPU_SMALL_OPT;
        } else {
            snprintf(d->jobs[i].err, sizeof d->jobs[i].err, "%.1000s", d->error);
        }
    }
    cpu_jit_probe(d->jit, d->jobs, n);
    if (d->fast) batch_fast(d, n, ks, out);
    cpu_jit_build(d->jit, d->jobs, n);
    tg_status first = TG_OK;
    for (uint32_t i = 0; i < n; i++) {
        cpu_jit_job *b = &d->jobs[i];
        if (out[i] && !out[i]->code[1].source) { /* built now (or cached) */
            out[i]->code[0].dl = b->handle;
            out_st[i] = b->st;
            const char *why = b->st == TG_OK ? code_finish(&out[i]->code[0], program_nparams(out[i]), b->key) : NULL;
            if (why) {
                snprintf(b->err, sizeof b->err, "%s", why);
                out_st[i] = TG_ERR_COMPILE;
            }
            if (out_st[i] != TG_OK) {
                cpu_program_destroy(d, out[i]);
                out[i] = NULL;
            }
        }
        out_msg[i] = out_st[i] == TG_OK ? "" : b->err;
        if (first == TG_OK) first = out_st[i];
    }
    return first;
}

/* One kernel: a batch of one (so it gets the fast tier too). */
static tg_status cpu_program_create(tg_device *d, const tg_kernel *k, tg_program **out) {
    if (!out) return dev_fail(d, TG_ERR_INVALID, "program_create: NULL argument");
    tg_status st = TG_OK;
    const char *msg = "";
    tg_status bst = cpu_program_create_batch(d, 1, &k, out, &st, &msg);
    if (bst != TG_OK && st == TG_OK) st = bst; /* the batch itself failed (out of memory) */
    if (st != TG_OK && msg != d->error && msg[0]) dev_fail(d, st, "%s", msg);
    return st;
}

typedef struct launch_ctx {
    const cpu_code *c;
    void *ptrs[CPU_MAX_PARAMS + 1]; /* the buffers, then the argument words */
    uint32_t np;                    /* pointers passed                      */
    char *part;        /* split: partial accumulators, [nparts][out_count] */
} launch_ctx;

static void run_part(void *vctx, int i, int n) {
    launch_ctx *ctx = vctx;
    const cpu_code *c = ctx->c;
    int64_t size = c->par_size, a = c->par_align;
    int64_t lo = size * i / n, hi = size * (i + 1) / n;
    if (a > 1) {
        lo = lo / a * a;
        hi = i + 1 == n ? size : hi / a * a;
    }
    void *av[CPU_MAX_PARAMS + 4];
    void *part = NULL;
    uint32_t np = ctx->np;
    for (uint32_t j = 0; j < np; j++) av[j] = &ctx->ptrs[j];
    av[np] = &lo;
    av[np + 1] = &hi;
    if (ctx->part) {
        part = ctx->part + (size_t)i * (size_t)c->out_count * (size_t)c->acc_size;
        av[np + 2] = &part;
    }
    ffi_call((ffi_cif *)&c->cif_main, c->fn_main, NULL, av);
}

/* A launch; words: the arguments' words (tgl_args_pack), NULL for zeros. */
static tg_status launch(tg_device *d, tg_program *p, tg_buffer *const *bufs, uint32_t nbufs, const uint64_t *words) {
    if (!p || (!bufs && nbufs)) return dev_fail(d, TG_ERR_INVALID, "program_launch: NULL argument");
    if (nbufs != p->nparams)
        return dev_fail(d, TG_ERR_INVALID, "program_launch: %u buffers given, kernel has %u", nbufs, p->nparams);
    static const uint64_t zeros[CPU_MAX_ARGS];
    const cpu_code *c = &p->code[__atomic_load_n(&p->cur, __ATOMIC_ACQUIRE)];
    launch_ctx ctx;
    ctx.c = c;
    ctx.np = program_nparams(p);
    ctx.part = NULL;
    ctx.ptrs[nbufs] = (void *)(words ? words : zeros);
    for (uint32_t i = 0; i < nbufs; i++) {
        if (!bufs[i]) return dev_fail(d, TG_ERR_INVALID, "program_launch: buffer %u is NULL", i);
        ctx.ptrs[i] = bufs[i]->data;
    }
    if (c->out_count == 0) return TG_OK;
    int n = cpu_pool_size(d->pool);
    if (c->work < CPU_SMALL_WORK) n = 1;
    if (n > c->par_size) n = (int)c->par_size;
    if (n < 1) n = 1;
    if (c->plan.split) {
        ctx.part = malloc((size_t)n * (size_t)c->out_count * (size_t)c->acc_size);
        if (!ctx.part) return dev_fail(d, TG_ERR_NO_MEMORY, "program_launch: out of memory for partial sums");
    }
    if (c->oom) *c->oom = 0;
    if (n == 1) run_part(&ctx, 0, 1);
    else cpu_pool_run(d->pool, run_part, &ctx, n);
    if (c->oom && *c->oom) {
        free(ctx.part);
        return dev_fail(d, TG_ERR_NO_MEMORY, "program_launch: the kernel could not allocate its scratch memory");
    }
    if (c->plan.split) {
        void *av[CPU_MAX_PARAMS + 3];
        int64_t nparts = n;
        void *part = ctx.part;
        uint32_t np = ctx.np;
        for (uint32_t j = 0; j < np; j++) av[j] = &ctx.ptrs[j];
        av[np] = &part;
        av[np + 1] = &nparts;
        ffi_call((ffi_cif *)&c->cif_fin, c->fn_fin, NULL, av);
        free(ctx.part);
    }
    return TG_OK;
}

static tg_status cpu_program_launch(tg_device *d, tg_program *p, tg_buffer *const *bufs, uint32_t nbufs) {
    return launch(d, p, bufs, nbufs, NULL);
}

/* 1.1: a launch with the kernel's argument values. */
static tg_status cpu_program_run_args(tg_device *d, tg_program *p, const tg_launch *l) {
    if (!p || !l || l->struct_size < offsetof(tg_launch, args) + sizeof l->args)
        return dev_fail(d, TG_ERR_INVALID, "program_run: NULL or short tg_launch");
    if (l->nargs != p->nargs || (p->nargs && !l->args))
        return dev_fail(d, TG_ERR_INVALID, "program_run: %u argument values given, kernel has %u", l->nargs, p->nargs);
    uint64_t words[CPU_MAX_ARGS];
    tgl_args_pack(p->nargs, p->args, l->args, words);
    return launch(d, p, l->buffers, l->nbuffers, words);
}

/* The full build's source (what runs once the upgrade is in). */
static const char *cpu_program_source(tg_device *d, tg_program *p) {
    (void)d;
    return !p ? NULL : p->code[1].source ? p->code[1].source : p->code[0].source;
}

/* Rebuild a program with other options (tuning); exported to tune.c. */
tg_status cpu_program_build(tg_device *d, const tg_kernel *k, const tgl_plan *plan, tg_program **out) {
    return program_build(d, k, plan, out);
}
tg_status cpu_program_run(tg_device *d, tg_program *p, tg_buffer *const *bufs, uint32_t n) {
    return cpu_program_launch(d, p, bufs, n);
}
cpu_jit *cpu_device_jit(tg_device *d) { return d->jit; }
tg_status cpu_buffer_new(tg_device *d, uint64_t bytes, tg_buffer **out) { return cpu_buffer_create(d, bytes, out); }
void *cpu_buffer_data(tg_buffer *b) { return b->data; }
void cpu_buffer_free(tg_device *d, tg_buffer *b) { cpu_buffer_destroy(d, b); }
int cpu_device_threads(tg_device *d) { return cpu_pool_size(d->pool); }
void cpu_program_free(tg_device *d, tg_program *p) { cpu_program_destroy(d, p); }

/* Test hook: the device's cache counters and directory. */
TG_PLUGIN_EXPORT void tg_cpu_cache_stats(tg_device *d, uint64_t *compiles, uint64_t *hits, const char **dir);
TG_PLUGIN_EXPORT void tg_cpu_cache_stats(tg_device *d, uint64_t *compiles, uint64_t *hits, const char **dir) {
    cpu_jit_stats(d->jit, compiles, hits);
    *dir = cpu_jit_cache_dir(d->jit);
}
/* Test hook: wait for the queued full builds; how many programs switched to
 * theirs, how many failed; -1 if this device has no upgrade thread. */
TG_PLUGIN_EXPORT int tg_cpu_tier_wait(tg_device *d, uint64_t *upgraded, uint64_t *failed);
TG_PLUGIN_EXPORT int tg_cpu_tier_wait(tg_device *d, uint64_t *upgraded, uint64_t *failed) {
    if (!d->upgrader) return -1;
    cpu_upgrader_wait(d->upgrader, upgraded, failed);
    return 0;
}

static const tg_plugin_api cpu_api = {
    .abi_major = TG_ABI_MAJOR,
    .abi_minor = TG_ABI_MINOR,
    .struct_size = sizeof(tg_plugin_api),
    .name = "cpu",
    .version = "0.1.0",
    .description = "host CPU: kernels rendered to C, compiled with cc, cached, threaded",
    .plugin_error = cpu_plugin_error,
    .device_count = cpu_device_count,
    .device_create = cpu_device_create,
    .device_destroy = cpu_device_destroy,
    .device_error = cpu_device_error,
    .device_caps = cpu_device_caps,
    .buffer_create = cpu_buffer_create,
    .buffer_destroy = cpu_buffer_destroy,
    .buffer_write = cpu_buffer_write,
    .buffer_read = cpu_buffer_read,
    .program_create = cpu_program_create,
    .program_destroy = cpu_program_destroy,
    .program_launch = cpu_program_launch,
    .synchronize = NULL,
    .buffer_copy = cpu_buffer_copy,
    .buffer_map = cpu_buffer_map,
    .program_source = cpu_program_source,
    .program_run = cpu_program_run_args,
    .program_create_batch = cpu_program_create_batch,
    .buffer_map_range = cpu_buffer_map_range,
    .buffer_unmap = cpu_buffer_unmap,
    .buffer_wrap = cpu_buffer_wrap,
};

TG_PLUGIN_EXPORT const tg_plugin_api *tg_plugin_entry(uint32_t core_major, uint32_t core_minor,
                                                      const char **out_reason) {
    (void)core_minor;
    if (core_major != TG_ABI_MAJOR) {
        if (out_reason) *out_reason = "cpu plugin speaks ABI 1.x only";
        return NULL;
    }
    return &cpu_api;
}
