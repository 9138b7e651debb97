/* tests/cuda/test_cuda_load.c -- the cuda plugin loads on any host. Without
 * a driver or a GPU (CI): device_count is 0, plugin_error says why and
 * device_create fails cleanly. With a GPU (bench/gpu/check.sh): a device
 * opens, its caps are the device's, and a few kernels, transfers and copies
 * give exact results.
 *
 *   test_cuda_load CUDA_PLUGIN */
#include "../tap.h"
#include "kit.h"

static void no_device(const tg_plugin_api *api) {
    const char *why = api->plugin_error();
    tap_ok(strlen(why) > 0, "plugin_error says why: %s", why);
    tap_ok(strstr(why, "libcuda") || strstr(why, "cuInit") || strstr(why, "NVRTC") || strstr(why, "no CUDA device"),
           "the reason names the missing piece");
    tg_device *d = (tg_device *)1;
    tap_ok(api->device_create(0, &d) != TG_OK && d == NULL, "device_create(0) fails cleanly");
    tap_ok(strlen(api->plugin_error()) > 0, "and says why: %s", api->plugin_error());
    api->device_destroy(NULL);
}

/* out = max(a * b + c, 0) in float32 on the device; the host computes the
 * same without contraction (the plugin compiles with -fmad=false). */
static void run_fma_relu(kit_plugin *p) {
    enum { N = 100003 };
    static float a[N], b[N], c[N], out[N];
    for (int i = 0; i < N; i++) {
        a[i] = (float)(i % 97) * 0.37f - 11.0f;
        b[i] = (float)(i % 13) * 1.1f - 3.3f;
        c[i] = (float)(i % 7) - 2.5f;
        out[i] = -1;
    }
    int64_t shape[1] = {N};
    kit_kernel kk;
    kit_init(&kk, 1, shape, 0, "relu_fma_f32");
    uint32_t v = kit_view(&kk, 1, shape, NULL, 0);
    int32_t la = kit_load(&kk, kit_param(&kk, TG_FLOAT32, TG_ACCESS_READ, N), v, 1);
    int32_t lb = kit_load(&kk, kit_param(&kk, TG_FLOAT32, TG_ACCESS_READ, N), v, 1);
    int32_t lc = kit_load(&kk, kit_param(&kk, TG_FLOAT32, TG_ACCESS_READ, N), v, 1);
    tg_scalar z = {.f = 0};
    int32_t m = kit_node(&kk, TG_OP_ADD, TG_FLOAT32, kit_node(&kk, TG_OP_MUL, TG_FLOAT32, la, lb, -1), lc, -1);
    kit_store(&kk, kit_param(&kk, TG_FLOAT32, TG_ACCESS_WRITE, N), v,
              kit_node(&kk, TG_OP_MAX, TG_FLOAT32, m, kit_const(&kk, TG_FLOAT32, z), -1));
    void *data[4] = {a, b, c, out};
    char err[8192] = "";
    int rc = kit_run(p, &kk.k, data, 3, err, sizeof err);
    int bad = 0;
    for (int i = 0; i < N && rc == 0; i++) {
        volatile float prod = a[i] * b[i];
        float want = prod + c[i];
        if (!(want > 0)) want = 0;
        if (memcmp(&want, &out[i], 4) != 0 && bad++ < 3) tap_diag("[%d]: %a, want %a", i, out[i], want);
    }
    tap_ok(rc == 0 && bad == 0, "relu(a*b+c) on %d float32: exact (%s)", N, err);
}

/* Row sums of an int64 matrix, and the total of 2^20 float32 ones. */
static void run_sums(kit_plugin *p) {
    enum { R = 300, C = 1001 };
    static int64_t x[R * C], rows[R];
    for (int i = 0; i < R * C; i++) x[i] = (int64_t)(i % 1000) * 1000003 - (int64_t)i;
    int64_t shape[2] = {R, C}, oshape[2] = {R, 1};
    kit_kernel kk;
    kit_init(&kk, 2, shape, 2, "sum_i64_rows");
    uint32_t vin = kit_view(&kk, 2, shape, NULL, 0), vout = kit_view(&kk, 2, oshape, NULL, 0);
    int32_t l = kit_load(&kk, kit_param(&kk, TG_INT64, TG_ACCESS_READ, R * C), vin, 1);
    kit_store(&kk, kit_param(&kk, TG_INT64, TG_ACCESS_WRITE, R), vout, kit_node(&kk, TG_OP_REDUCE_SUM, TG_INT64, l, -1, -1));
    void *data[2] = {x, rows};
    char err[8192] = "";
    int rc = kit_run(p, &kk.k, data, 1, err, sizeof err), bad = 0;
    for (int r = 0; r < R && rc == 0; r++) {
        int64_t want = 0;
        for (int j = 0; j < C; j++) want += x[r * C + j];
        bad += rows[r] != want;
    }
    tap_ok(rc == 0 && bad == 0, "row sums of a %dx%d int64 matrix: exact (%s)", R, C, err);
    enum { N = 1 << 20 };
    static float ones[N];
    float total = -1;
    for (int i = 0; i < N; i++) ones[i] = 1;
    int64_t s1[1] = {N}, o1[1] = {1};
    kit_init(&kk, 1, s1, 1, "sum_f32_all");
    vin = kit_view(&kk, 1, s1, NULL, 0);
    vout = kit_view(&kk, 1, o1, NULL, 0);
    l = kit_load(&kk, kit_param(&kk, TG_FLOAT32, TG_ACCESS_READ, N), vin, 1);
    kit_store(&kk, kit_param(&kk, TG_FLOAT32, TG_ACCESS_WRITE, 1), vout, kit_node(&kk, TG_OP_REDUCE_SUM, TG_FLOAT32, l, -1, -1));
    void *d2[2] = {ones, &total};
    rc = kit_run(p, &kk.k, d2, 1, err, sizeof err);
    tap_ok(rc == 0 && total == (float)N, "sum of 2^20 float32 ones: %g (%s)", total, err);
}

/* Buffers: zero-byte ones are distinct, ranges are checked, a device copy
 * and a write larger than the staging slots arrive whole. */
static void run_buffers(kit_plugin *p) {
    const tg_plugin_api *api = p->api;
    tg_buffer *z1 = NULL, *z2 = NULL, *a = NULL, *b = NULL;
    tap_ok(api->buffer_create(p->dev, 0, &z1) == TG_OK && api->buffer_create(p->dev, 0, &z2) == TG_OK && z1 && z2 &&
               z1 != z2, "zero-byte buffers get distinct handles");
    uint64_t n = (9u << 20) + 5; /* more than two 4 MiB staging slots */
    unsigned char *src = malloc(n), *dst = malloc(n);
    for (uint64_t i = 0; i < n; i++) src[i] = (unsigned char)(i * 7 + (i >> 12));
    tg_status st = api->buffer_create(p->dev, n, &a);
    if (st == TG_OK) st = api->buffer_create(p->dev, n, &b);
    if (st == TG_OK) st = api->buffer_write(p->dev, a, 0, src, n);
    if (st == TG_OK) st = api->buffer_copy(p->dev, b, 0, a, 0, n);
    memset(dst, 0, n);
    if (st == TG_OK) st = api->buffer_read(p->dev, b, 0, dst, n);
    tap_ok(st == TG_OK && memcmp(src, dst, n) == 0, "write, device copy and read of %llu bytes (%s)",
           (unsigned long long)n, api->device_error(p->dev));
    tap_ok(api->buffer_write(p->dev, a, n - 4, src, 8) == TG_ERR_INVALID, "a write past the end is refused: %s",
           api->device_error(p->dev));
    tap_ok(api->buffer_copy(p->dev, a, 0, a, 16, 64) == TG_ERR_UNSUPPORTED, "an overlapping copy is refused: %s",
           api->device_error(p->dev));
    tap_ok(api->synchronize(p->dev) == TG_OK, "synchronize");
    api->buffer_destroy(p->dev, a);
    api->buffer_destroy(p->dev, b);
    api->buffer_destroy(p->dev, z1);
    api->buffer_destroy(p->dev, z2);
    api->buffer_destroy(p->dev, NULL);
    free(src);
    free(dst);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s CUDA_PLUGIN\n", argv[0]);
        return 2;
    }
    void *dl = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (!dl) tap_diag("dlopen: %s", dlerror());
    tg_plugin_entry_fn entry = dl ? (tg_plugin_entry_fn)dlsym(dl, TG_PLUGIN_ENTRY_NAME) : NULL;
    const tg_plugin_api *api = entry ? entry(TG_ABI_MAJOR, TG_ABI_MINOR, NULL) : NULL;
    if (!tap_ok(api && !strcmp(api->name, "cuda"), "the plugin loads without linking libcuda or libnvrtc"))
        return tap_done();
    tap_ok(api->device_count(NULL) == TG_ERR_INVALID, "device_count(NULL) is refused");
    uint32_t n = 99;
    tg_status st = api->device_count(&n);
    tap_ok(st == TG_OK && n != 99, "device_count answers: %u", n);
    if (n == 0) {
        no_device(api);
        return tap_done();
    }
    kit_plugin p;
    if (!tap_ok(kit_open(&p, argv[1]) == 0, "device 0 opens")) return tap_done();
    tg_caps caps = {.struct_size = sizeof caps};
    tap_ok(api->device_caps(p.dev, &caps) == TG_OK && caps.dtypes == (1u << TG_DTYPE_COUNT) - 1 &&
               (caps.flags & TG_CAP_ASYNC) && caps.memory_bytes > 0 && caps.name && caps.name[0],
           "caps: %s, %s, %s, %llu MiB", caps.name ? caps.name : "", caps.version ? caps.version : "",
           caps.driver ? caps.driver : "",
           (unsigned long long)(caps.memory_bytes >> 20));
    run_fma_relu(&p);
    run_sums(&p);
    run_buffers(&p);
    kit_close(&p);
    return tap_done();
}
