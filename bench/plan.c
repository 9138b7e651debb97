/* Plans: buffers + hand-built kernels, run on one plugin (see plan.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "plan.h"

tg_status bdev_open(const char *plugin, bdev *d) {
    uint32_t n = 0;
    tg_status st;
    memset(d, 0, sizeof *d);
    snprintf(d->name, sizeof d->name, "%s", plugin);
    d->path = plugin;
    if ((st = tg_plugin_open(plugin, &d->plugin))) return st;
    d->api = tg_plugin_get_api(d->plugin);
    snprintf(d->name, sizeof d->name, "%s", d->api->name);
    if ((st = d->api->device_count(&n)) || n == 0) {
        tg_error(TG_ERR_NOT_FOUND, "plugin '%s' has no device here: %s", plugin, d->api->plugin_error());
        tg_plugin_close(d->plugin);
        return TG_ERR_NOT_FOUND;
    }
    if ((st = d->api->device_create(0, &d->dev))) {
        tg_error(st, "plugin '%s': device 0: %s", plugin, d->api->plugin_error());
        tg_plugin_close(d->plugin);
        return st;
    }
    d->caps.struct_size = sizeof d->caps;
    if ((st = d->api->device_caps(d->dev, &d->caps))) {
        tg_error(st, "plugin '%s': caps: %s", plugin, d->api->device_error(d->dev));
        bdev_close(d);
        return st;
    }
    return TG_OK;
}

void bdev_close(bdev *d) {
    if (!d || !d->plugin) return;
    d->api->device_destroy(d->dev);
    tg_plugin_close(d->plugin);
    d->plugin = NULL;
}

tg_buffer *bdev_alloc(bdev *d, int64_t count, unsigned seed) { return bdev_alloc_init(d, count, seed, PLAN_RANDOM, 1); }

tg_buffer *bdev_alloc_init(bdev *d, int64_t count, unsigned seed, int init, int64_t mod) {
    tg_buffer *buf = NULL;
    uint64_t bytes = (uint64_t)count * 4;
    float *host = malloc(bytes ? bytes : 4);
    if (!host) return NULL;
    uint32_t x = seed * 2654435761u + 1;
    for (int64_t i = 0; i < count; i++) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        host[i] = (float)(x >> 8) / 8388608.0f - 1.0f;
        if (init == PLAN_IOTA) host[i] = (float)(i % mod);
        if (init == PLAN_INDEX) host[i] = (float)(x % (uint32_t)mod);
        if (init == PLAN_ONEHOT) host[i] = 0;
    }
    for (int64_t i = 0; init == PLAN_ONEHOT && i + mod <= count; i += mod) host[i + (i / mod * 7) % mod] = 1;
    if (d->api->buffer_create(d->dev, bytes, &buf) == TG_OK &&
        d->api->buffer_write(d->dev, buf, 0, host, bytes) != TG_OK) {
        d->api->buffer_destroy(d->dev, buf);
        buf = NULL;
    }
    if (!buf) snprintf(d->error, sizeof d->error, "buffer of %llu bytes: %s", (unsigned long long)bytes, d->api->device_error(d->dev));
    free(host);
    if (buf && (d->live_bytes += bytes) > d->peak_bytes) d->peak_bytes = d->live_bytes;
    return buf;
}

void bdev_free(bdev *d, tg_buffer *buf, int64_t count) {
    if (!buf) return;
    d->api->buffer_destroy(d->dev, buf);
    d->live_bytes -= (uint64_t)count * 4;
}

tg_program *bdev_compile(bdev *d, const tg_kernel *k) {
    tg_program *prog = NULL;
    if (tg_kernel_validate(k, &d->caps) != TG_OK) {
        snprintf(d->error, sizeof d->error, "%s", tg_last_error());
        return NULL;
    }
    if (d->api->program_create(d->dev, k, &prog) != TG_OK) {
        snprintf(d->error, sizeof d->error, "compile %s: %s", k->name, d->api->device_error(d->dev));
        return NULL;
    }
    tg_plugin_debug_source(d->api, d->dev, prog, k->name);
    return prog;
}

int bdev_sync(bdev *d) {
    if (d->api->synchronize && d->api->synchronize(d->dev) != TG_OK) {
        snprintf(d->error, sizeof d->error, "synchronize: %s", d->api->device_error(d->dev));
        return -1;
    }
    return 0;
}

plan *plan_new(const char *name) {
    plan *p = calloc(1, sizeof *p);
    if (p) snprintf(p->name, sizeof p->name, "%s", name);
    return p;
}

void plan_free(plan *p) {
    if (!p) return;
    for (int i = 0; i < p->nsteps; i++) free(p->steps[i]);
    free(p);
}

int plan_buf(plan *p, int64_t count) { return plan_buf_init(p, count, PLAN_RANDOM, 1); }

int plan_buf_init(plan *p, int64_t count, int init, int64_t mod) {
    if (p->nbufs == PLAN_MAX_BUFS) return 0;
    p->buf_count[p->nbufs] = count;
    p->buf_init[p->nbufs] = init;
    p->buf_mod[p->nbufs] = mod > 0 ? mod : 1;
    return p->nbufs++;
}

kir *plan_step(plan *p, const char *kname, uint32_t ndim, const int64_t *shape, uint32_t reduce_axes) {
    static kir overflow; /* absorbs steps past the limit; the plan then fails to prepare */
    kir *b = p->nsteps < PLAN_MAX_STEPS ? calloc(1, sizeof *b) : NULL;
    if (!b) {
        kir_init(&overflow, kname, ndim, shape, reduce_axes);
        overflow.bad = 1;
        p->nsteps = PLAN_MAX_STEPS + 1;
        return &overflow;
    }
    kir_init(b, kname, ndim, shape, reduce_axes);
    p->steps[p->nsteps++] = b;
    return b;
}

int plan_param(plan *p, int buf, uint32_t access) {
    kir *b = p->steps[p->nsteps - 1];
    int i = kir_param(b, access, p->buf_count[buf]);
    p->bind[p->nsteps - 1][i] = buf;
    return i;
}

/* The prepared state of the plan being measured: Google Benchmark calls a
 * benchmark function several times while it sizes the iteration count. */
static struct {
    plan_case *c;
    tg_buffer *bufs[PLAN_MAX_BUFS];
    tg_program *progs[PLAN_MAX_STEPS];
    uint64_t peak;
} cur;

void plan_bench_release(void) {
    if (!cur.c) return;
    bdev *d = cur.c->dev;
    for (int i = 0; i < cur.c->plan->nsteps && i < PLAN_MAX_STEPS; i++) d->api->program_destroy(d->dev, cur.progs[i]);
    for (int i = 0; i < cur.c->plan->nbufs; i++) bdev_free(d, cur.bufs[i], cur.c->plan->buf_count[i]);
    memset(&cur, 0, sizeof cur);
}

static int prepare(plan_case *c) {
    bdev *d = c->dev;
    plan *p = c->plan;
    plan_bench_release();
    cur.c = c;
    d->peak_bytes = d->live_bytes;
    if (p->nsteps > PLAN_MAX_STEPS) return snprintf(d->error, sizeof d->error, "plan too long"), -1;
    for (int i = 0; i < p->nbufs; i++)
        if (!(cur.bufs[i] = bdev_alloc_init(d, p->buf_count[i], (unsigned)i + 1, p->buf_init[i], p->buf_mod[i]))) return -1;
    for (int i = 0; i < p->nsteps; i++) {
        const tg_kernel *k = kir_finish(p->steps[i]);
        if (!k) return snprintf(d->error, sizeof d->error, "kernel %s too big for the builder", p->steps[i]->name), -1;
        if (!(cur.progs[i] = bdev_compile(d, k))) return -1;
    }
    cur.peak = d->peak_bytes;
    return 0;
}

static int run_once(plan_case *c) {
    bdev *d = c->dev;
    plan *p = c->plan;
    for (int i = 0; i < p->nsteps; i++) {
        tg_buffer *args[KIR_MAX_PARAMS];
        uint32_t n = p->steps[i]->k.nparams;
        for (uint32_t j = 0; j < n; j++) args[j] = cur.bufs[p->bind[i][j]];
        if (d->api->program_launch(d->dev, cur.progs[i], args, n) != TG_OK) {
            snprintf(d->error, sizeof d->error, "launch %s: %s", p->steps[i]->name, d->api->device_error(d->dev));
            return -1;
        }
    }
    return bdev_sync(d);
}

void plan_bench(tgb_state *s, void *arg) {
    plan_case *c = arg;
    if (cur.c != c && prepare(c) != 0) {
        plan_bench_release();
        tgb_skip(s, c->dev->error);
        return;
    }
    if (run_once(c) != 0) { /* warm-up outside the timing; also catches failures */
        tgb_skip(s, c->dev->error);
        return;
    }
    while (tgb_keep_running(s))
        if (run_once(c) != 0) {
            tgb_skip(s, c->dev->error);
            return;
        }
    if (c->plan->flops > 0) tgb_counter(s, "GFLOP/s", c->plan->flops * 1e-9, TGB_RATE);
    if (c->plan->bytes > 0) tgb_counter(s, "GB/s", c->plan->bytes * 1e-9, TGB_RATE);
    tgb_counter(s, "peak_MB", (double)cur.peak / 1048576.0, TGB_PLAIN);
}

int plan_exec_prepare(plan_case *c) { return prepare(c); }

int plan_exec_run(plan_case *c) { return cur.c == c ? run_once(c) : -1; }

int plan_exec_read(plan_case *c, int buf, float *host) {
    bdev *d = c->dev;
    if (cur.c != c || buf < 0 || buf >= c->plan->nbufs) return -1;
    if (d->api->buffer_read(d->dev, cur.bufs[buf], 0, host, (uint64_t)c->plan->buf_count[buf] * 4) != TG_OK) {
        snprintf(d->error, sizeof d->error, "buffer_read: %s", d->api->device_error(d->dev));
        return -1;
    }
    return 0;
}
