/* tests/memory/test_mem_slots.c -- ABI 1.1's memory slots of one plugin,
 * called through its table: buffer_map_range/buffer_unmap (a map READ shows
 * what buffer_write and a launch wrote, a map WRITE is what a launch reads,
 * a range at an offset touches no byte outside it), buffer_write_async where
 * the plugin has it (the source changed after the next wait changes
 * nothing), zero-byte buffers (any non-NULL handle, accepted by every call),
 * the 1.1 caps and the negotiation with a 1.0 core.
 *
 *   test_mem_slots PLUGIN [--grid] */
#include "../tap.h"
#include "kit.h"

#define N 1000 /* float32 elements of each buffer */

/* out = in + 1 over n float32. */
static void plus_one(kit_kernel *kk, int64_t n) {
    kit_init(kk, 1, &n, 0, "mem_plus_one");
    uint32_t v = kit_view(kk, 1, &n, NULL, 0);
    int32_t in = kit_load(kk, kit_param(kk, TG_FLOAT32, TG_ACCESS_READ, n), v, 1);
    tg_scalar one = {.f = 1};
    kit_store(kk, kit_param(kk, TG_FLOAT32, TG_ACCESS_WRITE, n), v,
              kit_node(kk, TG_OP_ADD, TG_FLOAT32, in, kit_const(kk, TG_FLOAT32, one), -1));
}

/* Map [off, off + bytes) of b, copy it out (to) or in (from), unmap. */
static tg_status mapped_copy(const kit_plugin *p, tg_buffer *b, uint64_t off, uint64_t bytes, uint32_t flags,
                             void *to, const void *from) {
    void *m = NULL;
    tg_status st = p->api->buffer_map_range(p->dev, b, off, bytes, flags, &m);
    if (st != TG_OK) return st;
    if (to) memcpy(to, m, bytes);
    if (from) memcpy(m, from, bytes);
    return p->api->buffer_unmap(p->dev, b, m);
}

static void test_negotiation(const kit_plugin *p, const char *path) {
    tap_ok(p->api->abi_minor == TG_ABI_MINOR && p->api->struct_size == sizeof(tg_plugin_api), "a core gets a table of its minor");
    tg_plugin_entry_fn entry = (tg_plugin_entry_fn)dlsym(p->dl, TG_PLUGIN_ENTRY_NAME);
    const tg_plugin_api *old = entry(TG_ABI_MAJOR, 0, NULL);
    tap_ok(old && old->abi_major == TG_ABI_MAJOR &&
               old->struct_size >= offsetof(tg_plugin_api, program_source) + sizeof old->program_source,
           "a 1.0 core gets a table that covers every 1.0 slot (%s)", path);
}

/* grid: a device of work-groups (its group size and local memory known);
 * else a host device (its cores known). */
static void test_caps(const kit_plugin *p, int grid) {
    tg_caps c = {.struct_size = sizeof c};
    tap_ok(p->api->device_caps(p->dev, &c) == TG_OK, "device_caps");
    if (grid)
        tap_ok(c.max_group_size > 0 && c.local_memory_bytes > 0, "work-groups of %u, %llu bytes of local memory",
               c.max_group_size, (unsigned long long)c.local_memory_bytes);
    else
        tap_ok(c.compute_units > 0, "compute units: %u", c.compute_units);
    tap_ok((c.emulated_dtypes & ~c.dtypes) == 0, "emulated dtypes %#x lie within dtypes %#x", c.emulated_dtypes,
           c.dtypes);
    tap_ok(c.reserved2 == 0, "reserved2 is 0");
    tg_caps cut;
    memset(&cut, 0xab, sizeof cut);
    cut.struct_size = (uint32_t)offsetof(tg_caps, compute_units); /* a 1.0 caller */
    p->api->device_caps(p->dev, &cut);
    tap_ok(cut.dtypes == c.dtypes && cut.compute_units == 0xabababab,
           "a 1.0 struct_size: 1.0 fields filled, the 1.1 ones left alone");
}

static void test_zero_bytes(const kit_plugin *p) {
    const tg_plugin_api *api = p->api;
    tg_buffer *z1 = NULL, *z2 = NULL;
    tap_ok(api->buffer_create(p->dev, 0, &z1) == TG_OK && api->buffer_create(p->dev, 0, &z2) == TG_OK && z1 && z2,
           "zero-byte buffers are non-NULL handles (%s)", z1 == z2 ? "shared" : "distinct");
    tap_ok(api->buffer_write(p->dev, z1, 0, NULL, 0) == TG_OK && api->buffer_read(p->dev, z2, 0, NULL, 0) == TG_OK,
           "zero-byte write and read");
    api->buffer_destroy(p->dev, z1);
    api->buffer_destroy(p->dev, z2);
    tg_buffer *z3 = NULL;
    tap_ok(api->buffer_create(p->dev, 0, &z3) == TG_OK && z3, "one made after both were destroyed");
    api->buffer_destroy(p->dev, z3);
}

static void test_map(const kit_plugin *p) {
    const tg_plugin_api *api = p->api;
    if (!api->buffer_map_range || !api->buffer_unmap) {
        tap_ok(!api->buffer_map_range && !api->buffer_unmap, "no buffer_map_range, and no buffer_unmap either");
        return;
    }
    float a[N], b[N], got[N], want[N];
    for (int i = 0; i < N; i++) a[i] = (float)i, b[i] = (float)(3 * i + 7);
    tg_buffer *in = NULL, *out = NULL;
    tg_status st = api->buffer_create(p->dev, sizeof a, &in);
    if (st == TG_OK) st = api->buffer_create(p->dev, sizeof a, &out);
    if (st == TG_OK) st = api->buffer_write(p->dev, in, 0, a, sizeof a);
    memset(got, 0, sizeof got);
    if (st == TG_OK) st = mapped_copy(p, in, 0, sizeof a, TG_MAP_READ, got, NULL);
    tap_ok(st == TG_OK && memcmp(got, a, sizeof a) == 0, "a map READ shows what buffer_write wrote");

    /* a range at an offset: READ|WRITE, then only those bytes changed */
    uint64_t off = 40 * sizeof(float), len = 100 * sizeof(float);
    memset(got, 0, sizeof got);
    st = mapped_copy(p, in, off, len, TG_MAP_READ | TG_MAP_WRITE, got, b);
    tap_ok(st == TG_OK && memcmp(got, a + 40, len) == 0, "a map of [%llu, +%llu) shows those bytes",
           (unsigned long long)off, (unsigned long long)len);
    memcpy(want, a, sizeof a);
    memcpy(want + 40, b, len);
    if (st == TG_OK) st = api->buffer_read(p->dev, in, 0, got, sizeof got);
    tap_ok(st == TG_OK && memcmp(got, want, sizeof want) == 0, "its writes arrive and no other byte changed");

    /* a launch reads what a map WRITE wrote; a map READ shows what it wrote */
    kit_kernel kk;
    plus_one(&kk, N);
    tg_program *prog = NULL;
    tg_buffer *bufs[2] = {in, out};
    st = mapped_copy(p, in, 0, sizeof b, TG_MAP_WRITE, NULL, b);
    if (st == TG_OK) st = api->program_create(p->dev, &kk.k, &prog);
    if (st == TG_OK) st = api->program_launch(p->dev, prog, bufs, 2);
    memset(got, 0, sizeof got);
    if (st == TG_OK) st = mapped_copy(p, out, 0, sizeof got, TG_MAP_READ, got, NULL);
    for (int i = 0; i < N; i++) want[i] = b[i] + 1;
    tap_ok(st == TG_OK && memcmp(got, want, sizeof want) == 0, "map WRITE, launch, map READ: %s",
           st == TG_OK ? "b + 1" : api->device_error(p->dev));

    /* a WRITE range at an offset, then a launch: the rest keeps b */
    for (int i = 0; i < 10; i++) a[i] = -1.0f - (float)i;
    st = mapped_copy(p, in, 990 * sizeof(float), 10 * sizeof(float), TG_MAP_WRITE, NULL, a);
    if (st == TG_OK) st = api->program_launch(p->dev, prog, bufs, 2);
    if (st == TG_OK) st = api->buffer_read(p->dev, out, 0, got, sizeof got);
    for (int i = 0; i < 10; i++) want[990 + i] = a[i] + 1;
    tap_ok(st == TG_OK && memcmp(got, want, sizeof want) == 0, "a WRITE range at an offset, then a launch");

    api->program_destroy(p->dev, prog);
    api->buffer_destroy(p->dev, in);
    api->buffer_destroy(p->dev, out);
}

/* An asynchronous write to a buffer that a launch (large, so likely still
 * running) reads: ordered after it; its source may change after the next
 * wait. */
static void test_async(const kit_plugin *p) {
    const tg_plugin_api *api = p->api;
    if (!api->buffer_write_async) {
        tap_skip("no buffer_write_async");
        return;
    }
    const int64_t n = 1 << 22;
    float *old = malloc(n * sizeof(float)), *src = malloc(n * sizeof(float)), *got = malloc(n * sizeof(float));
    for (int64_t i = 0; i < n; i++) old[i] = (float)(i % 1000), src[i] = (float)(i % 17);
    kit_kernel kk;
    plus_one(&kk, n);
    tg_program *prog = NULL;
    tg_buffer *bufs[2] = {NULL, NULL};
    tg_status st = api->program_create(p->dev, &kk.k, &prog);
    for (int i = 0; i < 2 && st == TG_OK; i++) st = api->buffer_create(p->dev, n * sizeof(float), &bufs[i]);
    if (st == TG_OK) st = api->program_launch(p->dev, prog, bufs, 2); /* a first launch may wait (vulkan) */
    if (st == TG_OK) st = api->buffer_write(p->dev, bufs[0], 0, old, n * sizeof(float));
    if (st == TG_OK) st = api->program_launch(p->dev, prog, bufs, 2);
    if (st == TG_OK) st = api->buffer_write_async(p->dev, bufs[0], 0, src, n * sizeof(float));
    if (st == TG_OK) st = api->buffer_read(p->dev, bufs[1], 0, got, n * sizeof(float));
    int ok = st == TG_OK;
    for (int64_t i = 0; ok && i < n; i++) ok = got[i] == old[i] + 1;
    tap_ok(ok, "the launch before buffer_write_async read the old data %s", st ? api->device_error(p->dev) : "");
    if (st == TG_OK) st = api->program_launch(p->dev, prog, bufs, 2);
    if (st == TG_OK) st = api->buffer_read(p->dev, bufs[1], 0, got, n * sizeof(float));
    ok = st == TG_OK;
    for (int64_t i = 0; ok && i < n; i++) ok = got[i] == src[i] + 1;
    tap_ok(ok, "the launch after it reads the new data");
    src[5] = 1e9f;
    if (st == TG_OK) st = api->buffer_read(p->dev, bufs[0], 0, got, 8 * sizeof(float));
    tap_ok(st == TG_OK && got[5] == 5.0f, "the source's change after the wait is not in the buffer");
    api->program_destroy(p->dev, prog);
    for (int i = 0; i < 2; i++) api->buffer_destroy(p->dev, bufs[i]);
    free(old);
    free(src);
    free(got);
}

int main(int argc, char **argv) {
    kit_plugin p;
    if (argc < 2 || kit_open(&p, argv[1]) != 0) {
        printf("Bail out! usage: test_mem_slots PLUGIN [--grid] (with a device)\n");
        return 1;
    }
    test_negotiation(&p, argv[1]);
    test_caps(&p, argc > 2 && strcmp(argv[2], "--grid") == 0);
    test_zero_bytes(&p);
    test_map(&p);
    test_async(&p);
    kit_close(&p);
    return tap_done();
}
