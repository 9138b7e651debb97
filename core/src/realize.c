/* Running kernels: the program cache (by tg_kernel_hash), output buffers,
 * launches, TG_DEBUG output; and the public realize / to_host / assign. */
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

static bool debug_read;
static double sum_time, sum_flops, sum_bytes;
static int64_t sum_kernels;

static void debug_summary(void) {
    fprintf(stderr, "tg: %lld kernels, %.3f ms, %.3f GFLOP, %.3f GB (%.2f GFLOP/s, %.2f GB/s)\n",
            (long long)sum_kernels, sum_time * 1e3, sum_flops * 1e-9, sum_bytes * 1e-9,
            sum_time > 0 ? sum_flops * 1e-9 / sum_time : 0, sum_time > 0 ? sum_bytes * 1e-9 / sum_time : 0);
}

static int debug_level(void) {
    if (!debug_read) {
        const char *e = getenv("TG_DEBUG");
        tg__debug_level = e ? atoi(e) : 0;
        debug_read = true;
        if (tg__debug_level >= 2) atexit(debug_summary);
    }
    return tg__debug_level;
}

/* ------------------------------------------------------- program cache */

static tg_status cache_grow(tg_dev *dev) {
    size_t cap = dev->cap_progs ? dev->cap_progs * 2 : 64;
    tg_prog_entry *e = calloc(cap, sizeof *e);
    if (!e) return tg__failst(TG_ERR_NO_MEMORY, "out of host memory");
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

static tg_status program_get(tg_dev *dev, const tg_kernel *k, tg_program **out) {
    if (dev->cap_progs) {
        for (size_t j = k->hash & (dev->cap_progs - 1);; j = (j + 1) & (dev->cap_progs - 1)) {
            if (!dev->progs[j].program) break;
            if (dev->progs[j].hash == k->hash) {
                *out = dev->progs[j].program;
                return TG_OK;
            }
        }
    }
    tg_status st = tg_kernel_validate(k, &dev->caps);
    if (debug_level() >= 3 || st) {
        char *txt = tg_kernel_to_string(k);
        if (debug_level() >= 3 || getenv("TG_DEBUG_FAIL")) fprintf(stderr, "%s\n", txt ? txt : "(no text)");
        free(txt);
    }
    if (st) return tg__failst(st, "kernel %s: %s", k->name, tg_last_error());
    tg_program *p = NULL;
    st = dev->api->program_create(dev->device, k, &p);
    if (st) return tg__failst(st, "%s: program_create(%s): %s", dev->name, k->name, dev->api->device_error(dev->device));
    tg__stats_compiled();
    if (debug_level() >= 4 && dev->api->program_source) {
        const char *src = dev->api->program_source(dev->device, p);
        if (src) fprintf(stderr, "%s\n", src);
    }
    if ((dev->nprogs + 1) * 2 > dev->cap_progs && cache_grow(dev) != TG_OK) {
        dev->api->program_destroy(dev->device, p);
        return TG_ERR_NO_MEMORY;
    }
    size_t j = k->hash & (dev->cap_progs - 1);
    while (dev->progs[j].program) j = (j + 1) & (dev->cap_progs - 1);
    dev->progs[j] = (tg_prog_entry){k->hash, p};
    dev->nprogs++;
    *out = p;
    return TG_OK;
}

/* --------------------------------------------------------------- launch */

/* Work estimate for TG_DEBUG=2: ALU nodes times the points they run at
 * (nodes up to the reduction run at every point of shape, the rest at
 * every point of the output). */
static double kernel_flops(const tg_kernel *k) {
    double in_pts = 1, out_pts = 1, flops = 0;
    for (uint32_t d = 0; d < k->ndim; d++) {
        in_pts *= (double)k->shape[d];
        out_pts *= (k->reduce_axes >> d & 1) ? 1 : (double)k->shape[d];
    }
    int ridx = -1;
    for (uint32_t i = 0; i < k->nnodes; i++)
        if (tg__is_reduce((int)k->nodes[i].op)) ridx = (int)i;
    for (uint32_t i = 0; i < k->nnodes; i++) {
        int op = (int)k->nodes[i].op;
        if (op >= TG_OP_COUNT || op == TG_OP_CAST) continue;
        flops += (int)i <= ridx ? in_pts : out_pts;
    }
    return flops;
}

tg_status tg__run_kernel(tg_dev *dev, tg_kernel *k, tg_tensor *const *params) {
    tg_program *prog = NULL;
    tg_tensor *root = params[0];
    tg_buf *out;
    if (k->params[0].count == 0) /* an empty output: nothing to compute */
        return tg__buf_create(dev, 0, &root->buf);
    tg_status st = program_get(dev, k, &prog);
    if (st) return st;
    st = tg__buf_create(dev, (uint64_t)k->params[0].count * tg_dtype_size(root->dtype), &out);
    if (st) return st;
    tg_buffer *bufs[64];
    for (uint32_t i = 0; i < k->nparams; i++) bufs[i] = i == 0 ? out->handle : params[i]->buf->handle;
    int dbg = debug_level();
    double t0 = dbg ? now_s() : 0;
    st = dev->api->program_launch(dev->device, prog, bufs, k->nparams);
    if (!st && dbg && dev->api->synchronize) st = dev->api->synchronize(dev->device);
    if (st) {
        tg__buf_release(out);
        return tg__failst(st, "%s: launch of %s: %s", dev->name, k->name, dev->api->device_error(dev->device));
    }
    tg__stats_kernel();
    if (dbg) {
        double dt = now_s() - t0, flops = kernel_flops(k), bytes = 0;
        for (uint32_t i = 0; i < k->nparams; i++)
            bytes += (double)k->params[i].count * (double)tg_dtype_size((tg_dtype)k->params[i].dtype);
        sum_time += dt, sum_flops += flops, sum_bytes += bytes, sum_kernels++;
        char shape[160];
        tg_shape_format((int)k->ndim, k->shape, shape, sizeof shape);
        if (dbg >= 2)
            fprintf(stderr, "tg: %-8s %-32s %-24s %9.3f ms %8.2f GFLOP/s %8.2f GB/s\n", dev->name, k->name, shape,
                    dt * 1e3, dt > 0 ? flops * 1e-9 / dt : 0, dt > 0 ? bytes * 1e-9 / dt : 0);
        else
            fprintf(stderr, "tg: %-8s %-32s %-24s %9.3f ms\n", dev->name, k->name, shape, dt * 1e3);
    }
    root->buf = out;
    return TG_OK;
}

/* --------------------------------------------------------------- public */

tg_status tg_realize_many(size_t n, tg_tensor *const *ts) {
    if (!ts) return tg__failst(TG_ERR_INVALID, "realize: NULL list");
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
        return tg__failst(TG_ERR_INVALID, "to_host: %zu bytes given, the tensor has %zu", bytes, want);
    if (!dst && want) return tg__failst(TG_ERR_INVALID, "to_host: dst is NULL");
    tg_status st = tg_realize(t);
    if (st || want == 0) return st;
    return tg__buf_transfer(t->buf, dst, want, false, NULL);
}

tg_status tg_to_f64(tg_tensor *t, double *dst, size_t count) {
    if (!t) return tg_realize(t);
    size_t n = (size_t)tg__numel(t->ndim, t->shape), es = tg_dtype_size(t->dtype);
    if (count != n) return tg__failst(TG_ERR_INVALID, "to_f64: room for %zu elements, the tensor has %zu", count, n);
    if (!dst && n) return tg__failst(TG_ERR_INVALID, "to_f64: dst is NULL");
    void *tmp = malloc(n * es + 1);
    if (!tmp) return tg__failst(TG_ERR_NO_MEMORY, "out of host memory");
    tg_status st = tg_to_host(t, tmp, n * es);
    for (size_t i = 0; !st && i < n; i++) dst[i] = tg__load_elem(tmp, t->dtype, (int64_t)i);
    free(tmp);
    return st;
}

tg_status tg_item(tg_tensor *t, double *out) {
    if (!out) return tg__failst(TG_ERR_INVALID, "item: out is NULL");
    if (t && tg__numel(t->ndim, t->shape) != 1)
        return tg__failst(TG_ERR_SHAPE, "item: the tensor has %lld elements, not 1",
                          (long long)tg__numel(t->ndim, t->shape));
    return tg_to_f64(t, out, 1);
}

tg_status tg__check_index(const char *op, tg_tensor *idx, int64_t n) {
    size_t count = (size_t)tg__numel(idx->ndim, idx->shape);
    double *v = malloc(count * sizeof *v + 1);
    if (!v) return tg__failst(TG_ERR_NO_MEMORY, "out of host memory");
    tg_status st = tg_to_f64(idx, v, count);
    for (size_t i = 0; !st && i < count; i++)
        if (!(v[i] >= 0 && v[i] < (double)n))
            st = tg__failst(TG_ERR_INVALID, "%s: index %.0f (element %zu) is outside [0, %lld)", op, v[i], i, (long long)n);
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
        return tg__failst(dst->dtype != src->dtype ? TG_ERR_DTYPE : TG_ERR_SHAPE,
                          "assign: destination %s %s and source %s %s differ", tg_dtype_name(dst->dtype),
                          tg__shape_str(dst, sa, sizeof sa), tg_dtype_name(src->dtype), tg__shape_str(src, sb, sizeof sb));
    if (dst == src) return tg_realize(dst);
    /* A buffer of src's own shape: realize src itself, or a copy when src
     * is a view (a movement node whose buffer we must not share). */
    tg_scope_begin();
    tg_tensor *s = src;
    tg_status st = tg_realize(s);
    if (!st && !s->buf) st = tg__failst(TG_ERR_INTERNAL, "assign: source has no buffer after realize");
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
