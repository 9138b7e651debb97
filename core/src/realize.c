/* Running kernels: the program cache (by tg_kernel_hash), output buffers,
 * launches, TG_DEBUG output; and the public realize / to_host / assign. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "tensor_internal.h"

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* --------------------------------------------------------------- debug */

static pthread_once_t debug_once = PTHREAD_ONCE_INIT;
static double sum_time, sum_flops, sum_bytes;
static int64_t sum_kernels;

static void debug_summary(void) {
    fprintf(stderr, "tg: %lld kernels, %.3f ms, %.3f GFLOP, %.3f GB (%.2f GFLOP/s, %.2f GB/s)\n",
            (long long)sum_kernels, sum_time * 1e3, sum_flops * 1e-9, sum_bytes * 1e-9,
            sum_time > 0 ? sum_flops * 1e-9 / sum_time : 0, sum_time > 0 ? sum_bytes * 1e-9 / sum_time : 0);
}

static void debug_init(void) {
    const char *e = getenv("TG_DEBUG");
    tg__debug_level = e ? atoi(e) : 0;
    if (tg__debug_level >= 2) atexit(debug_summary);
}

/* TG_DEBUG, read once (threads realize at once: core-threads-tsan) */
static int debug_level(void) {
    pthread_once(&debug_once, debug_init);
    return tg__debug_level;
}

/* ------------------------------------------------------- program cache */

static tg_status cache_grow(tg_dev *dev) {
    size_t cap = dev->cap_progs ? dev->cap_progs * 2 : 64;
    tg_prog_entry *e = calloc(cap, sizeof *e);
    if (!e) return tg_error(TG_ERR_NO_MEMORY, "out of host memory");
    for (size_t i = 0; i < dev->cap_progs; i++) {
        if (!dev->progs[i].program) continue;
        size_t j = dev->progs[i].hash & (cap - 1);
        while (e[j].program) j = (j + 1) & (cap - 1);
        e[j] = dev->progs[i];
    }
    free(dev->progs);
    dev->progs = e, dev->cap_progs = cap;
    return TG_OK;
}

static tg_program *cache_find(const tg_dev *dev, uint64_t hash) {
    for (size_t j = hash & (dev->cap_progs - 1); dev->cap_progs && dev->progs[j].program; j = (j + 1) & (dev->cap_progs - 1))
        if (dev->progs[j].hash == hash) return dev->progs[j].program;
    return NULL;
}

static tg_status cache_add(tg_dev *dev, uint64_t hash, tg_program *p) {
    if ((dev->nprogs + 1) * 2 > dev->cap_progs && cache_grow(dev) != TG_OK) {
        dev->api->program_destroy(dev->device, p);
        return TG_ERR_NO_MEMORY;
    }
    size_t j = hash & (dev->cap_progs - 1);
    while (dev->progs[j].program) j = (j + 1) & (dev->cap_progs - 1);
    dev->progs[j] = (tg_prog_entry){hash, p};
    dev->nprogs++;
    tg__stats_compiled();
    return TG_OK;
}

/* Each moving view's start (tg_slice_at, tg_assign_at) in its range at this
 * launch, checked before the device sees the values. */
static tg_status check_moving(const tg_planned *k) {
    for (uint32_t o = 0; o < k->k.noffsets; o++) {
        uint32_t a = k->k.offsets[o].arg;
        tg_scalar v = k->values[a];
        bool is_signed = tg_dtype_is_signed((tg_dtype)k->args[a].dtype);
        if (is_signed ? v.i < 0 || v.i > k->args[a].max : v.u > (uint64_t)k->args[a].max)
            return tg_error(TG_ERR_INVALID, "slice_at: start %.0f is outside [0, %lld] (kernel %s)",
                            is_signed ? (double)v.i : (double)v.u, (long long)k->args[a].max, k->name);
    }
    return TG_OK;
}

/* What k's device compiles: k itself, or k with the arguments the device
 * does not take bound to their values (then a program per value, as 1.0). */
static tg_status plan_bind(tg_planned *k) {
    const tg_caps *caps = &k->dev->caps;
    uint32_t lacks = tg_kernel_arg_needs(&k->k) & ~caps->flags;
    k->run = &k->k;
    if (check_moving(k)) return TG_ERR_INVALID;
    if (!lacks) return tg_kernel_check_args(&k->k, k->values); /* it set the error */
    tg_status st = tg_kernel_bind(&k->k, k->values, lacks, &k->bound);
    if (st) return tg_error(st, "kernel %s: %s", k->name, tg_last_error());
    k->run = &k->bound.kernel;
    return TG_OK;
}

static tg_status plan_validate(const tg_planned *k) {
    tg_status st = tg_kernel_validate(k->run, &k->dev->caps);
    if (debug_level() >= 3 || st) {
        char *txt = tg_kernel_to_string(k->run);
        if (debug_level() >= 3 || getenv("TG_DEBUG_FAIL")) fprintf(stderr, "%s\n", txt ? txt : "(no text)");
        free(txt);
    }
    if (st) return tg_error(st, "kernel %s: %s", k->name, tg_last_error());
    return TG_OK;
}

static void debug_source(tg_dev *dev, tg_program *p) {
    const char *src = debug_level() >= 4 && dev->api->program_source ? dev->api->program_source(dev->device, p) : NULL;
    if (src) fprintf(stderr, "%s\n", src);
}

/* Compile the kernels of `dev` in plan[0..n) that have no program yet: in
 * one batch where the plugin can, else one by one. */
static tg_status compile_device(tg_dev *dev, tg_planned *const *plan, size_t n) {
    const tg_kernel **ks = malloc(n * sizeof *ks);
    tg_program **progs = calloc(n, sizeof *progs);
    tg_status *sts = calloc(n, sizeof *sts), st = TG_OK;
    const char **msgs = calloc(n, sizeof *msgs);
    size_t *which = malloc(n * sizeof *which), m = 0;
    if (!ks || !progs || !sts || !msgs || !which) st = tg_error(TG_ERR_NO_MEMORY, "out of host memory");
    for (size_t i = 0; !st && i < n; i++) {
        tg_planned *k = plan[i];
        if (k->dev != dev || k->program || k->params[0].count == 0) continue;
        if ((k->program = cache_find(dev, k->run->hash))) continue;
        bool dup = false; /* the same kernel twice in one plan compiles once */
        for (size_t j = 0; j < m && !dup; j++) dup = ks[j]->hash == k->run->hash;
        if (!dup && !(st = plan_validate(k))) ks[m] = k->run, which[m++] = i;
    }
    if (!st && m > 1 && dev->api->program_create_batch)
        dev->api->program_create_batch(dev->device, (uint32_t)m, ks, progs, sts, msgs);
    else
        for (size_t j = 0; !st && j < m; j++) {
            sts[j] = dev->api->program_create(dev->device, ks[j], &progs[j]);
            if (sts[j]) msgs[j] = dev->api->device_error(dev->device), progs[j] = NULL;
        }
    for (size_t j = 0; !st && j < m; j++) {
        if (sts[j] || !progs[j])
            st = tg_error(sts[j] ? sts[j] : TG_ERR_INTERNAL, "%s: program_create(%s): %s", dev->name,
                            plan[which[j]]->name, tg_plugin_message(msgs[j]));
        else
            debug_source(dev, progs[j]), st = cache_add(dev, ks[j]->hash, progs[j]);
        progs[j] = NULL;
    }
    for (size_t j = 0; j < m; j++)
        if (progs[j]) dev->api->program_destroy(dev->device, progs[j]);
    for (size_t i = 0; !st && i < n; i++)
        if (plan[i]->dev == dev && !plan[i]->program && plan[i]->params[0].count)
            plan[i]->program = cache_find(dev, plan[i]->run->hash);
    free(ks), free(progs), free(sts), free(msgs), free(which);
    return st;
}

tg_status tg__plan_compile(tg_planned *const *plan, size_t n) {
    tg_status st = TG_OK;
    for (size_t i = 0; i < n && !st; i++) st = plan_bind(plan[i]);
    for (size_t i = 0; i < n && !st; i++) {
        bool seen = false; /* each device once */
        for (size_t j = 0; j < i && !seen; j++) seen = plan[j]->dev == plan[i]->dev;
        if (!seen) st = compile_device(plan[i]->dev, plan, n);
    }
    return st;
}

void tg__planned_free(tg_planned *k) {
    free(k->nodes);
    free(k->views);
    tg_kernel_bound_free(&k->bound);
    free(k);
}

/* --------------------------------------------------------------- launch */

/* Work estimate for TG_DEBUG=2: ALU nodes times the points they run at
 * (nodes up to the reduction run at every point of shape, the rest at
 * every point of the output); bytes: of each buffer the elements its
 * loads and stores reach at most (no more than it holds: a moving slice
 * reads one row of a table). */
static double kernel_work(const tg_kernel *k, double *bytes) {
    double in_pts = 1, out_pts = 1, flops = 0, pts[TG_KERNEL_MAX_PARAMS] = {0};
    for (uint32_t d = 0; d < k->ndim; d++) {
        in_pts *= (double)k->shape[d];
        out_pts *= (k->reduce_axes >> d & 1) ? 1 : (double)k->shape[d];
    }
    int ridx = -1;
    for (uint32_t i = 0; i < k->nnodes; i++)
        if (tg__is_reduce((int)k->nodes[i].op)) ridx = (int)i;
    for (uint32_t i = 0; i < k->nnodes; i++) {
        int op = (int)k->nodes[i].op;
        double at = (int)i <= ridx ? in_pts : out_pts;
        if ((op == TG_OP_LOAD || op == TG_OP_STORE) && k->nodes[i].buffer < TG_KERNEL_MAX_PARAMS)
            pts[k->nodes[i].buffer] = at > pts[k->nodes[i].buffer] ? at : pts[k->nodes[i].buffer];
        if (op >= TG_OP_COUNT || op == TG_OP_CAST) continue;
        flops += at;
    }
    *bytes = 0;
    for (uint32_t p = 0; p < k->nparams && p < TG_KERNEL_MAX_PARAMS; p++)
        *bytes += (pts[p] < (double)k->params[p].count ? pts[p] : (double)k->params[p].count) *
                  (double)tg_dtype_size((tg_dtype)k->params[p].dtype);
    return flops;
}

tg_status tg__plan_launch(tg_planned *pk) {
    tg_dev *dev = pk->dev;
    const tg_kernel *k = pk->run;
    tg_buf *outs[TG_KERNEL_MAX_PARAMS] = {0};
    tg_buffer *bufs[TG_KERNEL_MAX_PARAMS];
    tg_status st = pk->run == &pk->k ? check_moving(pk) : TG_OK; /* a bound kernel was checked by plan_bind */
    for (uint32_t i = 0; i < k->nparams && !st; i++) {
        if (k->params[i].access != TG_ACCESS_WRITE) {
            bufs[i] = pk->tensors[i]->buf->handle;
            continue;
        }
        if (pk->tensors[i]->op == TG_N_STORE_AT) { /* tg_assign_at: into its target's own buffer */
            outs[i] = tg__buf_retain(pk->tensors[i]->src[2]->buf);
            bufs[i] = outs[i]->handle;
            continue;
        }
        st = tg__buf_create(dev, (uint64_t)k->params[i].count * tg_dtype_size((tg_dtype)k->params[i].dtype), &outs[i]);
        if (!st) bufs[i] = outs[i]->handle;
    }
    bool bufs_made = !st;
    int dbg = debug_level();
    double t0 = dbg ? now_s() : 0;
    bool empty = k->params[0].count == 0; /* an empty output (fused ones share its shape): nothing to compute */
    tg_launch l = {.struct_size = sizeof l, .nbuffers = k->nparams, .buffers = bufs, .nargs = k->nargs,
                   .args = k->nargs ? pk->values : NULL};
    if (!st && !empty)
        st = dev->api->program_run ? dev->api->program_run(dev->device, pk->program, &l)
                                   : dev->api->program_launch(dev->device, pk->program, bufs, k->nparams);
    if (!st && !empty && dbg && dev->api->synchronize) st = dev->api->synchronize(dev->device);
    for (uint32_t i = 0; i < k->nparams; i++)
        if (outs[i] && st) tg__buf_release(outs[i]);
        else if (outs[i]) pk->tensors[i]->buf = outs[i];
    if (st && bufs_made) return tg_error(st, "%s: launch of %s: %s", dev->name, k->name, dev->api->device_error(dev->device));
    if (st || empty) return st; /* a failed buffer_create said why */
    tg__stats_kernel();
    if (dbg) {
        double dt = now_s() - t0, bytes, flops = kernel_work(k, &bytes);
        sum_time += dt, sum_flops += flops, sum_bytes += bytes, sum_kernels++;
        char shape[160];
        tg_shape_format((int)k->ndim, k->shape, shape, sizeof shape);
        if (dbg >= 2)
            fprintf(stderr, "tg: %-8s %-32s %-24s %9.3f ms %8.2f GFLOP/s %8.2f GB/s\n", dev->name, k->name, shape,
                    dt * 1e3, dt > 0 ? flops * 1e-9 / dt : 0, dt > 0 ? bytes * 1e-9 / dt : 0);
        else
            fprintf(stderr, "tg: %-8s %-32s %-24s %9.3f ms\n", dev->name, k->name, shape, dt * 1e3);
    }
    return TG_OK;
}

/* --------------------------------------------------------------- public */

tg_status tg_realize_many(size_t n, tg_tensor *const *ts) {
    if (!ts) return tg_error(TG_ERR_INVALID, "realize: NULL list");
    return tg__schedule_run(n, ts);
}

tg_status tg_realize(tg_tensor *t) {
    if (!t) {
        tg__null_arg("realize");
        return tg_last_status() ? tg_last_status() : TG_ERR_INVALID;
    }
    return tg__schedule_run(1, &t);
}

tg_status tg_to_host(tg_tensor *t, void *dst, size_t bytes) {
    if (!t) return tg_realize(t);
    size_t want = (size_t)tg__numel(t->ndim, t->shape) * tg_dtype_size(t->dtype);
    if (bytes != want)
        return tg_error(TG_ERR_INVALID, "to_host: %zu bytes given, the tensor has %zu", bytes, want);
    if (!dst && want) return tg_error(TG_ERR_INVALID, "to_host: dst is NULL");
    tg_status st = tg_realize(t);
    if (st || want == 0) return st;
    return tg__buf_transfer(t->buf, dst, want, false, NULL);
}

tg_status tg_to_f64(tg_tensor *t, double *dst, size_t count) {
    if (!t) return tg_realize(t);
    size_t n = (size_t)tg__numel(t->ndim, t->shape), es = tg_dtype_size(t->dtype);
    if (count != n) return tg_error(TG_ERR_INVALID, "to_f64: room for %zu elements, the tensor has %zu", count, n);
    if (!dst && n) return tg_error(TG_ERR_INVALID, "to_f64: dst is NULL");
    void *tmp = malloc(n * es + 1);
    if (!tmp) return tg_error(TG_ERR_NO_MEMORY, "out of host memory");
    tg_status st = tg_to_host(t, tmp, n * es);
    for (size_t i = 0; !st && i < n; i++) dst[i] = tg__load_elem(tmp, t->dtype, (int64_t)i);
    free(tmp);
    return st;
}

tg_status tg_item(tg_tensor *t, double *out) {
    if (!out) return tg_error(TG_ERR_INVALID, "item: out is NULL");
    if (t && tg__numel(t->ndim, t->shape) != 1)
        return tg_error(TG_ERR_SHAPE, "item: the tensor has %lld elements, not 1",
                          (long long)tg__numel(t->ndim, t->shape));
    return tg_to_f64(t, out, 1);
}

tg_status tg__check_index(const char *op, tg_tensor *idx, int64_t n) {
    size_t count = (size_t)tg__numel(idx->ndim, idx->shape);
    double *v = malloc(count * sizeof *v + 1);
    if (!v) return tg_error(TG_ERR_NO_MEMORY, "out of host memory");
    tg_status st = tg_to_f64(idx, v, count);
    for (size_t i = 0; !st && i < count; i++)
        if (!(v[i] >= 0 && v[i] < (double)n))
            st = tg_error(TG_ERR_INVALID, "%s: index %.0f (element %zu) is outside [0, %lld)", op, v[i], i, (long long)n);
    free(v);
    return st;
}

tg_tensor *tg_contiguous(tg_tensor *x) {
    if (!x) return tg__null_arg("contiguous");
    return tg__node(x->dev, TG_N_CONTIG, x->dtype, x->ndim, x->shape, 1, &x);
}

tg_status tg_assign(tg_tensor *dst, tg_tensor *src) {
    char sa[128], sb[128];
    if (!dst || !src) return tg_realize(NULL);
    if (dst->dtype != src->dtype || dst->dev != src->dev || dst->ndim != src->ndim ||
        memcmp(dst->shape, src->shape, (size_t)dst->ndim * 8) != 0)
        return tg_error(dst->dtype != src->dtype ? TG_ERR_DTYPE : TG_ERR_SHAPE,
                          "assign: destination %s %s and source %s %s differ", tg_dtype_name(dst->dtype),
                          tg__shape_str(dst, sa, sizeof sa), tg_dtype_name(src->dtype), tg__shape_str(src, sb, sizeof sb));
    if (dst == src) return tg_realize(dst);
    /* A buffer of src's own shape: realize src itself, or a copy when src
     * is a view (a movement node whose buffer we must not share). */
    tg_scope_begin();
    tg_tensor *s = src;
    tg_status st = tg_realize(s);
    if (!st && !s->buf) st = tg_error(TG_ERR_INTERNAL, "assign: source has no buffer after realize");
    if (!st) {
        tg_buf *b = tg__buf_retain(s->buf);
        tg__drop_sources(dst);
        tg__buf_release(dst->buf);
        dst->buf = b;
        dst->op = TG_N_BUFFER;
    }
    tg_scope_end();
    return st;
}

tg_tensor *tg_to_device(tg_tensor *t, tg_dev *dev) {
    if (!t) return tg__null_arg("to_device");
    if (!dev) return tg__fail(TG_ERR_INVALID, "to_device: device is NULL");
    size_t bytes = (size_t)tg__numel(t->ndim, t->shape) * tg_dtype_size(t->dtype);
    void *tmp = malloc(bytes + 1);
    if (!tmp) return tg__fail(TG_ERR_NO_MEMORY, "out of host memory");
    tg_tensor *r = tg_to_host(t, tmp, bytes) ? NULL : tg_from_data(dev, t->dtype, t->ndim, t->shape, tmp);
    free(tmp);
    return r;
}
