/* The overhead suite: a cached tiny kernel end to end, launch latency,
 * kernel compile time, host<->device copies. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "suite_overhead.h"

enum { TINY = 16 };

/* y = a + b over TINY floats, with a CONST so that compile can vary it. */
static const tg_kernel *tiny_kernel(kir *k, double c) {
    int64_t n = TINY, one[1] = {1};
    kir_init(k, "tiny_add", 1, &n, 0);
    int pa = kir_param(k, TG_ACCESS_READ, n), py = kir_param(k, TG_ACCESS_WRITE, n);
    kir_store(k, py, one, kir_op(k, TG_OP_ADD, kir_load(k, pa, one, 0, 0), kir_const(k, c), -1));
    return kir_finish(k);
}

static void fail(tgb_state *s, bdev *d, const char *what) {
    char msg[600];
    snprintf(msg, sizeof msg, "%s: %s", what, d->error[0] ? d->error : d->api->device_error(d->dev));
    tgb_skip(s, msg);
}

static void bm_tiny(tgb_state *s, overhead_case *c, int copies) {
    bdev *d = c->dev;
    kir k;
    float host[TINY] = {0};
    tg_buffer *a = bdev_alloc(d, TINY, 1), *y = bdev_alloc(d, TINY, 2);
    tg_program *prog = a && y ? bdev_compile(d, tiny_kernel(&k, 1.0)) : NULL;
    tg_buffer *args[2] = {a, y};
    if (!prog) {
        fail(s, d, "set-up");
    } else {
        int ok = 1;
        while (ok && tgb_keep_running(s)) {
            if (copies) ok = d->api->buffer_write(d->dev, a, 0, host, sizeof host) == TG_OK;
            ok = ok && d->api->program_launch(d->dev, prog, args, 2) == TG_OK;
            if (copies) ok = ok && d->api->buffer_read(d->dev, y, 0, host, sizeof host) == TG_OK;
            else ok = ok && bdev_sync(d) == 0;
        }
        if (!ok) fail(s, d, "tiny kernel");
    }
    d->api->program_destroy(d->dev, prog);
    bdev_free(d, a, TINY);
    bdev_free(d, y, TINY);
}

static void bm_compile(tgb_state *s, overhead_case *c) {
    bdev *d = c->dev;
    static unsigned serial; /* a new constant each time: a new kernel hash */
    kir k;
    while (tgb_keep_running(s)) {
        tg_program *prog = bdev_compile(d, tiny_kernel(&k, 1.0 + (double)(++serial % 1000000) / 1024.0));
        if (!prog) {
            fail(s, d, "compile");
            return;
        }
        d->api->program_destroy(d->dev, prog);
    }
}

static void bm_copy(tgb_state *s, overhead_case *c, int to_device) {
    bdev *d = c->dev;
    int64_t n = c->bytes / 4;
    void *host = calloc((size_t)n, 4);
    tg_buffer *buf = host ? bdev_alloc(d, n, 3) : NULL;
    if (!buf) {
        fail(s, d, "set-up");
    } else {
        int ok = 1;
        while (ok && tgb_keep_running(s)) {
            if (to_device) ok = d->api->buffer_write(d->dev, buf, 0, host, (uint64_t)c->bytes) == TG_OK && bdev_sync(d) == 0;
            else ok = d->api->buffer_read(d->dev, buf, 0, host, (uint64_t)c->bytes) == TG_OK;
        }
        if (!ok) fail(s, d, to_device ? "buffer_write" : "buffer_read");
        else tgb_counter(s, "GB/s", (double)c->bytes * 1e-9, TGB_RATE);
    }
    bdev_free(d, buf, n);
    free(host);
}

void overhead_bench(tgb_state *s, void *arg) {
    overhead_case *c = arg;
    plan_bench_release(); /* free the big buffers of the last plan first */
    switch (c->kind) {
    case OVERHEAD_TINY_E2E: bm_tiny(s, c, 1); break;
    case OVERHEAD_LAUNCH: bm_tiny(s, c, 0); break;
    case OVERHEAD_COMPILE: bm_compile(s, c); break;
    case OVERHEAD_H2D: bm_copy(s, c, 1); break;
    default: bm_copy(s, c, 0); break;
    }
}
