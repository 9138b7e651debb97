/* Memory cases (ABI 1.1, 1.2): buffer_map_range/buffer_unmap,
 * buffer_write_async and buffer_wrap, called through the plugin's table
 * around one kernel (out = in + 1 on float32). A map READ shows what
 * buffer_write and a launch wrote, a launch reads what a map WRITE wrote, a
 * range at an offset shows and changes its bytes and no other, an
 * asynchronous write's data reaches a launch, and a buffer wrapping host
 * memory reads back that memory, is what a launch reads (also after the
 * host changes it) and takes buffer_write into that memory. Judged exactly
 * against the host; a plugin without the slots (or refusing to wrap)
 * reports UNSUPPORTED. In no certification level: the slots are optional. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tg/conform.h>

enum { MEM_READ = 1, MEM_WRITE, MEM_RANGE, MEM_ASYNC, MEM_WRAP, MEM_COUNT };
static const char *const mem_names[MEM_COUNT] = {NULL, "map.read", "map.write", "map.range", "write_async", "wrap"};
static const char *const mem_slots[MEM_COUNT] = {NULL, "buffer_map_range/buffer_unmap", "buffer_map_range/buffer_unmap",
                                                 "buffer_map_range/buffer_unmap", "buffer_write_async", "buffer_wrap"};

#define MEM_N 1000 /* elements of each buffer */

tg_status tgc_memory_cases(tgc_catalog *cat) {
    tg_status st = TG_OK;
    int64_t n = MEM_N;
    tg_scalar one = {.f = 1};
    for (int m = MEM_READ; m < MEM_COUNT && st == TG_OK; m++) {
        tgc_case c;
        tgc_b_init(&c, 1, &n, 0);
        int in = tgc_b_load(&c, TG_FLOAT32, 0, &n, TGC_V_SMALL);
        tgc_b_store(&c, tgc_b_op(&c, TG_OP_ADD, TG_FLOAT32, in, tgc_b_const(&c, TG_FLOAT32, one), -1), 0, &n);
        c.params[1].count = MEM_N; /* without the store's guard elements: both buffers are MEM_N */
        c.views[c.nviews - 1].offset = 0;
        c.memory = (uint8_t)m;
        c.row = TGC_ROW_MEMORY;
        c.dtype = TG_FLOAT32;
        c.rule = TGC_RULE_CHAIN;
        c.seed = 501u + (uint64_t)m;
        snprintf(c.id, sizeof c.id, "mem.%s.float32", mem_names[m]);
        st = tgc_catalog_add(cat, &c);
    }
    return st;
}

typedef struct mem_run {
    const tg_plugin_api *api;
    tg_device *dev;
    tg_buffer *buf[2]; /* in, out */
    tg_program *prog;
    const char *step;  /* the call that failed */
    float *host;       /* MEM_WRAP: the memory buf[0] wraps */
} mem_run;

/* Map [first, first + count) elements of buffer b, copy them out (to) and
 * in (from), unmap. */
static tg_status mapped(mem_run *r, int b, int64_t first, int64_t count, uint32_t flags, float *to,
                        const float *from) {
    void *p = NULL;
    size_t bytes = (size_t)count * sizeof(float);
    r->step = "buffer_map_range";
    tg_status st = r->api->buffer_map_range(r->dev, r->buf[b], (uint64_t)first * sizeof(float), bytes, flags, &p);
    if (st != TG_OK) return st;
    if (to) memcpy(to, p, bytes);
    if (from) memcpy(p, from, bytes);
    r->step = "buffer_unmap";
    return r->api->buffer_unmap(r->dev, r->buf[b], p);
}

static tg_status launch(mem_run *r) {
    r->step = "program_launch";
    return r->api->program_launch(r->dev, r->prog, r->buf, 2);
}

static tg_status read_out(mem_run *r, int b, float *to) {
    r->step = "buffer_read";
    return r->api->buffer_read(r->dev, r->buf[b], 0, to, MEM_N * sizeof(float));
}

/* The first of n elements where got and want differ, or -1. */
static int64_t differs(const float *got, const float *want, int64_t n) {
    for (int64_t i = 0; i < n; i++)
        if (memcmp(&got[i], &want[i], sizeof(float))) return i;
    return -1;
}

#define CHECK(what, got, want, n)                                                                             \
    do {                                                                                                      \
        int64_t i_ = differs((got), (want), (n));                                                                      \
        if (i_ >= 0) {                                                                                        \
            snprintf(detail, cap, "%s: element %lld is %g, expected %g\n", what, (long long)i_, (double)(got)[i_], \
                     (double)(want)[i_]);                                                                       \
            return TGC_FAIL;                                                                                  \
        }                                                                                                     \
    } while (0)

/* The scenario of case c on buffers and a program made; TGC_FAIL with
 * detail, or TGC_PASS. A failing call returns its status through *st. */
static tgc_result scenario(const tgc_case *c, mem_run *r, float *a, float *b, tg_status *st, char *detail,
                           size_t cap) {
    float got[MEM_N], want[MEM_N];
    const tg_plugin_api *api = r->api;
    memset(got, 0, sizeof got);
    switch (c->memory) {
    case MEM_READ: /* map READ after buffer_write and after a launch */
        r->step = "buffer_write";
        if ((*st = api->buffer_write(r->dev, r->buf[0], 0, a, sizeof got)) || (*st = launch(r)) ||
            (*st = mapped(r, 0, 0, MEM_N, TG_MAP_READ, got, NULL)))
            return TGC_FAIL;
        CHECK("a map READ of the input after buffer_write", got, a, MEM_N);
        for (int i = 0; i < MEM_N; i++) want[i] = a[i] + 1;
        if ((*st = mapped(r, 1, 0, MEM_N, TG_MAP_READ, got, NULL))) return TGC_FAIL;
        CHECK("a map READ of the output after a launch", got, want, MEM_N);
        return TGC_PASS;
    case MEM_WRITE: /* map WRITE, launch, read */
        if ((*st = mapped(r, 0, 0, MEM_N, TG_MAP_WRITE, NULL, a)) || (*st = launch(r)) || (*st = read_out(r, 1, got)))
            return TGC_FAIL;
        for (int i = 0; i < MEM_N; i++) want[i] = a[i] + 1;
        CHECK("the launch's output after a map WRITE of its input", got, want, MEM_N);
        return TGC_PASS;
    case MEM_RANGE: /* ranges at offsets: their bytes and no other */
        r->step = "buffer_write";
        if ((*st = api->buffer_write(r->dev, r->buf[0], 0, a, sizeof got)) ||
            (*st = mapped(r, 0, 40, 100, TG_MAP_READ | TG_MAP_WRITE, got, b + 40)))
            return TGC_FAIL;
        CHECK("a map READ|WRITE of elements [40, 140)", got, a + 40, 100);
        memcpy(want, a, sizeof want);
        memcpy(want + 40, b + 40, 100 * sizeof(float));
        if ((*st = mapped(r, 0, 990, 10, TG_MAP_WRITE, NULL, b + 990)) || (*st = launch(r)) ||
            (*st = read_out(r, 0, got)))
            return TGC_FAIL;
        memcpy(want + 990, b + 990, 10 * sizeof(float));
        CHECK("the input after writes to [40, 140) and [990, 1000)", got, want, MEM_N);
        if ((*st = read_out(r, 1, got))) return TGC_FAIL;
        for (int i = 0; i < MEM_N; i++) want[i] += 1;
        CHECK("the launch's output", got, want, MEM_N);
        return TGC_PASS;
    case MEM_WRAP: /* buf[0] wraps r->host, which holds a */
        if ((*st = read_out(r, 0, got))) return TGC_FAIL;
        CHECK("buffer_read of a wrapped buffer", got, a, MEM_N);
        for (int i = 0; i < MEM_N; i++) want[i] = a[i] + 1;
        if ((*st = launch(r)) || (*st = read_out(r, 1, got))) return TGC_FAIL;
        CHECK("the launch's output from a wrapped input", got, want, MEM_N);
        r->step = "synchronize"; /* the host writes the memory itself: no work in flight */
        if (api->synchronize && (*st = api->synchronize(r->dev))) return TGC_FAIL;
        memcpy(r->host, b, sizeof got);
        for (int i = 0; i < MEM_N; i++) want[i] = b[i] + 1;
        if ((*st = launch(r)) || (*st = read_out(r, 1, got))) return TGC_FAIL;
        CHECK("the launch's output after the host rewrote the wrapped memory", got, want, MEM_N);
        r->step = "buffer_write";
        if ((*st = api->buffer_write(r->dev, r->buf[0], 40 * sizeof(float), a, 10 * sizeof(float))) ||
            (*st = read_out(r, 1, got)))
            return TGC_FAIL;
        memcpy(want, b, sizeof want);
        memcpy(want + 40, a, 10 * sizeof(float));
        CHECK("the wrapped memory after buffer_write of elements [40, 50)", r->host, want, MEM_N);
        return TGC_PASS;
    default: { /* MEM_ASYNC: the source lives until the read that waits */
        float *src = malloc(sizeof got);
        if (!src) {
            snprintf(detail, cap, "harness: out of host memory");
            return TGC_FAIL;
        }
        memcpy(src, a, sizeof got);
        r->step = "buffer_write_async";
        if (!(*st = api->buffer_write_async(r->dev, r->buf[0], 0, src, sizeof got)) && !(*st = launch(r)))
            *st = read_out(r, 1, got);
        free(src);
        if (*st) return TGC_FAIL;
        for (int i = 0; i < MEM_N; i++) want[i] = a[i] + 1;
        CHECK("the launch's output after buffer_write_async of its input", got, want, MEM_N);
        return TGC_PASS;
    }
    }
}

tgc_result tgc_memory_run(const tgc_case *c, tgc_device *plug, char *detail, size_t cap) {
    mem_run r = {.api = plug->api, .dev = plug->dev};
    const tg_plugin_api *api = plug->api;
    detail[0] = '\0';
    if (c->memory == MEM_ASYNC   ? !api->buffer_write_async
        : c->memory == MEM_WRAP ? !api->buffer_wrap
                                : !api->buffer_map_range || !api->buffer_unmap) {
        snprintf(detail, cap, "the plugin has no %s", mem_slots[c->memory]);
        return TGC_UNSUPPORTED;
    }
    if (!(plug->caps.dtypes >> TG_FLOAT32 & 1)) {
        snprintf(detail, cap, "dtypes not in the device's caps");
        return TGC_UNSUPPORTED;
    }
    float a[MEM_N], b[MEM_N];
    tgc_fill(a, TG_FLOAT32, MEM_N, TGC_V_SMALL, c->seed);
    tgc_fill(b, TG_FLOAT32, MEM_N, TGC_V_SMALL, c->seed + 1);
    tg_kernel k;
    tgc_case_kernel(c, &k);
    tg_status st = TG_OK;
    tgc_result res = TGC_FAIL;
    if (c->memory == MEM_WRAP) {
        if (!(r.host = malloc(sizeof a))) {
            snprintf(detail, cap, "harness: out of host memory");
            return TGC_FAIL;
        }
        memcpy(r.host, a, sizeof a);
        r.step = "buffer_wrap";
        st = api->buffer_wrap(r.dev, r.host, sizeof a, &r.buf[0]);
    }
    for (int i = r.buf[0] ? 1 : 0; i < 2 && st == TG_OK; i++) {
        r.step = "buffer_create";
        st = api->buffer_create(r.dev, MEM_N * sizeof(float), &r.buf[i]);
    }
    if (st == TG_OK) {
        r.step = "program_create";
        st = api->program_create(r.dev, &k, &r.prog);
    }
    if (st == TG_OK) res = scenario(c, &r, a, b, &st, detail, cap);
    if (st != TG_OK) {
        snprintf(detail, cap, "%s: %s: %s\n", r.step, tg_status_name(st), tg_plugin_message(api->device_error(r.dev)));
        bool refused = !strcmp(r.step, "program_create") || !strcmp(r.step, "buffer_wrap");
        res = st == TG_ERR_UNSUPPORTED && refused ? TGC_UNSUPPORTED : TGC_FAIL;
    }
    api->program_destroy(r.dev, r.prog);
    for (int i = 0; i < 2; i++) api->buffer_destroy(r.dev, r.buf[i]);
    free(r.host); /* the plugin is done with it once buffer_destroy returns */
    return res;
}
