/* tests/ref/test_ref_basic.c -- the ref plugin's table: version negotiation,
 * caps, buffers, errors, and a first elementwise and reduction kernel. */
#include "ref_harness.h"

static void test_entry(refh *r) {
    const char *reason = NULL;
    tap_ok(r->entry(TG_ABI_MAJOR + 1, 0, &reason) == NULL, "entry refuses ABI major %d", TG_ABI_MAJOR + 1);
    char ours[16], theirs[16];
    snprintf(ours, sizeof ours, "%d.%d", TG_ABI_MAJOR, TG_ABI_MINOR);
    snprintf(theirs, sizeof theirs, "%d.0", TG_ABI_MAJOR + 1);
    tap_ok(reason && strstr(reason, ours) && strstr(reason, theirs), "reason names both versions: %s",
           reason ? reason : "(null)");
    tap_ok(r->entry(TG_ABI_MAJOR, TG_ABI_MINOR + 5, &reason) != NULL, "entry accepts a newer minor");
    tap_ok(r->api->abi_major == TG_ABI_MAJOR && r->api->struct_size == sizeof(tg_plugin_api), "table header");
    tap_ok(strcmp(r->api->name, "ref") == 0, "name is ref");
    uint32_t count = 0;
    tap_ok(r->api->device_count(&count) == TG_OK && count == 1, "one device");
    tg_device *d = NULL;
    tap_ok(r->api->device_create(1, &d) != TG_OK && d == NULL, "device_create(1) fails");
    tap_ok(strlen(r->api->plugin_error()) > 0, "plugin_error says why: %s", r->api->plugin_error());
}

static void test_caps(refh *r) {
    tg_caps caps;
    memset(&caps, 0, sizeof caps);
    caps.struct_size = sizeof caps;
    tap_ok(r->api->device_caps(r->dev, &caps) == TG_OK, "device_caps");
    tap_ok(caps.dtypes == (1u << TG_DTYPE_COUNT) - 1, "all 13 dtypes");
    tap_ok(caps.fusion == 15u, "all fusion flags");
    tap_ok((caps.flags & TG_CAP_HOST_VISIBLE) && !(caps.flags & TG_CAP_ASYNC), "host visible, synchronous");
    tap_ok(caps.max_view_depth >= 8, "view stacks of depth >= 8");
    /* a caller with a shorter struct gets only its fields */
    tg_caps c;
    memset(&c, 0xAB, sizeof c);
    c.struct_size = 16;
    tap_ok(r->api->device_caps(r->dev, &c) == TG_OK && c.struct_size == 16 && c.max_dims == 0xABABABABu &&
               c.fusion == 15u,
           "caps with struct_size 16 writes no further");
}

static void test_buffers(refh *r) {
    const tg_plugin_api *a = r->api;
    tg_buffer *b = NULL, *b2 = NULL;
    int32_t in[4] = {1, 2, 3, 4}, out[4] = {0};
    tap_ok(a->buffer_create(r->dev, 16, &b) == TG_OK, "buffer_create 16");
    tap_ok(a->buffer_write(r->dev, b, 0, in, 16) == TG_OK && a->buffer_read(r->dev, b, 4, out, 12) == TG_OK &&
           out[0] == 2 && out[2] == 4, "write then read at an offset");
    tap_ok(a->buffer_read(r->dev, b, 8, out, 12) == TG_ERR_INVALID && strlen(a->device_error(r->dev)) > 0,
           "read past the end fails: %s", a->device_error(r->dev));
    void *p = NULL;
    tap_ok(a->buffer_map(r->dev, b, &p) == TG_OK && ((int32_t *)p)[3] == 4, "buffer_map");
    tap_ok(a->buffer_create(r->dev, 0, &b2) == TG_OK && b2 != NULL && b2 != b, "zero-byte buffer is a handle");
    a->buffer_destroy(r->dev, b2);
    a->buffer_destroy(r->dev, b);
    a->buffer_destroy(r->dev, NULL);
    a->program_destroy(r->dev, NULL);
}

static void test_first_kernels(refh *r) {
    float fa[3] = {1.5f, -2.0f, 1e30f}, fb[3] = {2.25f, 0.5f, 1e30f}, fo[3];
    tap_ok(refh_elementwise(r, TG_OP_ADD, TG_FLOAT32, TG_FLOAT32, 3, fa, fb, NULL, fo) == TG_OK &&
           fo[0] == 3.75f && fo[1] == -1.5f && fo[2] == 2e30f, "float32 ADD");
    int32_t ia[3] = {7, -7, 2147483647}, ib[3] = {-3, 3, 1}, io[3];
    tap_ok(refh_elementwise(r, TG_OP_ADD, TG_INT32, TG_INT32, 3, ia, ib, NULL, io) == TG_OK &&
           io[0] == 4 && io[1] == -4 && io[2] == (int32_t)0x80000000u, "int32 ADD wraps");
    uint8_t ba[4] = {0, 0, 1, 1}, bb[4] = {0, 1, 0, 1}, bo[4];
    tap_ok(refh_elementwise(r, TG_OP_MUL, TG_BOOL, TG_BOOL, 4, ba, bb, NULL, bo) == TG_OK &&
           bo[0] == 0 && bo[1] == 0 && bo[2] == 0 && bo[3] == 1, "bool MUL is and");

    /* sum over axis 1 of a 2x3 float32 */
    kb b;
    int64_t shape[2] = {2, 3}, oshape[2] = {2, 1};
    kb_init(&b, 2, shape, 1u << 1);
    uint32_t vin = kb_view(&b, 2, shape, NULL, 0), vout = kb_view(&b, 2, oshape, NULL, 0);
    uint32_t pin = kb_param(&b, TG_FLOAT32, TG_ACCESS_READ, 6), pout = kb_param(&b, TG_FLOAT32, TG_ACCESS_WRITE, 2);
    int32_t ld = kb_load(&b, TG_FLOAT32, pin, vin, 1);
    int32_t sum = kb_node(&b, TG_OP_REDUCE_SUM, TG_FLOAT32, ld, -1, -1);
    kb_store(&b, TG_FLOAT32, pout, vout, sum);
    float x[6] = {1, 2, 3, 10, 20, 30.5f}, y[2] = {0, 0};
    void *host[2] = {x, y};
    tap_ok(refh_run(r, &b.k, host) == TG_OK && y[0] == 6.0f && y[1] == 60.5f, "float32 REDUCE_SUM over axis 1");

    tg_program *prog = NULL;
    tap_ok(r->api->program_create(r->dev, &b.k, &prog) == TG_OK && r->api->program_source(r->dev, prog) &&
           strstr(r->api->program_source(r->dev, prog), "REDUCE_SUM"), "program_source dumps the kernel");
    r->api->program_destroy(r->dev, prog);
}

int main(void) {
    refh r;
    if (refh_open(&r)) {
        test_entry(&r);
        test_caps(&r);
        test_buffers(&r);
        test_first_kernels(&r);
    }
    refh_close(&r);
    return tap_done();
}
