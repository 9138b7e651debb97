/* tests/cuda/test_cuda_load.c -- the cuda plugin loads on any host. Without
 * a driver or a GPU (CI): device_count is 0, plugin_error says why and
 * device_create fails cleanly. With a GPU (bench/gpu/check.sh): a device
 * opens, its caps are the device's, and a few kernels, transfers and copies
 * give exact results. With --mock (tests/cuda/mock/mock_cuda.c standing in
 * for libcuda.so.1, no GPU): caps, buffers, staging, copies, program_create
 * through NVRTC and the cubin cache, launch geometry, and driver errors.
 *
 *   test_cuda_load CUDA_PLUGIN [--mock] */
#include <cuda.h>
#include <sys/stat.h>
#include <unistd.h>

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

/* relu(a * b + c) over n float32 (params a, b, c, out). */
static void relu_kernel(kit_kernel *kk, const int64_t *n) {
    kit_init(kk, 1, n, 0, "relu_fma_f32");
    uint32_t v = kit_view(kk, 1, n, NULL, 0);
    int32_t la = kit_load(kk, kit_param(kk, TG_FLOAT32, TG_ACCESS_READ, *n), v, 1);
    int32_t lb = kit_load(kk, kit_param(kk, TG_FLOAT32, TG_ACCESS_READ, *n), v, 1);
    int32_t lc = kit_load(kk, kit_param(kk, TG_FLOAT32, TG_ACCESS_READ, *n), v, 1);
    tg_scalar z = {.f = 0};
    int32_t m = kit_node(kk, TG_OP_ADD, TG_FLOAT32, kit_node(kk, TG_OP_MUL, TG_FLOAT32, la, lb, -1), lc, -1);
    kit_store(kk, kit_param(kk, TG_FLOAT32, TG_ACCESS_WRITE, *n), v,
              kit_node(kk, TG_OP_MAX, TG_FLOAT32, m, kit_const(kk, TG_FLOAT32, z), -1));
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
    const int64_t shape[1] = {N};
    kit_kernel kk;
    relu_kernel(&kk, shape);
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

/* Buffers: zero-byte ones share one non-NULL handle (ABI 1.1), ranges are
 * checked, a device copy and a write larger than the staging slots arrive
 * whole, and a mapped range (a pinned copy) shows and changes only its
 * bytes. */
static void run_buffers(kit_plugin *p) {
    const tg_plugin_api *api = p->api;
    tg_buffer *z1 = NULL, *z2 = NULL, *a = NULL, *b = NULL;
    tap_ok(api->buffer_create(p->dev, 0, &z1) == TG_OK && api->buffer_create(p->dev, 0, &z2) == TG_OK && z1 && z2 &&
               api->buffer_write(p->dev, z1, 0, NULL, 0) == TG_OK && api->buffer_read(p->dev, z2, 0, NULL, 0) == TG_OK,
           "zero-byte buffers: non-NULL handles (%s) that take 0-byte writes and reads", z1 == z2 ? "shared" : "distinct");
    uint64_t n = (9u << 20) + 5; /* more than two 4 MiB staging slots */
    unsigned char *src = malloc(n), *dst = malloc(n);
    for (uint64_t i = 0; i < n; i++) src[i] = (unsigned char)(i * 7 + (i >> 12));
    tg_status st = api->buffer_create(p->dev, n, &a);
    if (st == TG_OK) st = api->buffer_create(p->dev, n, &b);
    if (st == TG_OK) st = api->buffer_write(p->dev, a, 0, src, n);
    if (st == TG_OK) st = api->buffer_copy(p->dev, b, 0, a, 0, n);
    memset(dst, 0, n);
    if (st == TG_OK) st = api->buffer_read(p->dev, b, 0, dst, n);
    tap_ok(st == TG_OK && memcmp(src, dst, n) == 0, "write, device copy and read of %llu bytes %s",
           (unsigned long long)n, st == TG_OK ? "" : api->device_error(p->dev));
    tap_ok(api->buffer_write(p->dev, a, n - 4, src, 8) == TG_ERR_INVALID, "a write past the end is refused: %s",
           api->device_error(p->dev));
    tap_ok(api->buffer_copy(p->dev, a, 0, a, 16, 64) == TG_ERR_UNSUPPORTED, "an overlapping copy is refused: %s",
           api->device_error(p->dev));
    tap_ok(api->synchronize(p->dev) == TG_OK, "synchronize");
    void *m = NULL, *m2 = NULL;
    st = api->buffer_map_range(p->dev, b, 1000, 300, TG_MAP_READ | TG_MAP_WRITE, &m);
    tap_ok(st == TG_OK && memcmp(m, src + 1000, 300) == 0, "a map READ|WRITE of [1000, +300) shows those bytes");
    tap_ok(api->buffer_map_range(p->dev, b, 0, 8, TG_MAP_READ, &m2) == TG_ERR_INVALID, "a second map is refused: %s",
           api->device_error(p->dev));
    if (st == TG_OK) memset(m, 0xee, 300);
    tap_ok(api->buffer_unmap(p->dev, a, m) == TG_ERR_INVALID, "unmap of another buffer's mapping is refused");
    if (st == TG_OK) st = api->buffer_unmap(p->dev, b, m);
    memset(src + 1000, 0xee, 300);
    if (st == TG_OK) st = api->buffer_read(p->dev, b, 0, dst, n);
    tap_ok(st == TG_OK && memcmp(src, dst, n) == 0, "unmap writes the range back, no other byte changes");
    st = api->buffer_map_range(p->dev, b, n - 4, 4, TG_MAP_WRITE, &m);
    if (st == TG_OK) {
        memcpy(m, "abcd", 4);
        st = api->buffer_unmap(p->dev, b, m);
    }
    if (st == TG_OK) st = api->buffer_read(p->dev, b, n - 4, dst, 4);
    tap_ok(st == TG_OK && memcmp(dst, "abcd", 4) == 0, "a map WRITE of the last 4 bytes");
    tap_ok(api->buffer_map_range(p->dev, b, n - 4, 8, TG_MAP_READ, &m) == TG_ERR_INVALID &&
               api->buffer_map_range(p->dev, b, 0, 0, TG_MAP_READ, &m) == TG_ERR_INVALID,
           "a map past the end or of 0 bytes is refused");
    api->buffer_destroy(p->dev, a);
    api->buffer_destroy(p->dev, b);
    api->buffer_destroy(p->dev, z1);
    api->buffer_destroy(p->dev, z2);
    api->buffer_destroy(p->dev, NULL);
    free(src);
    free(dst);
}

typedef void (*mock_state_fn)(int *, int *, unsigned *, unsigned *, CUdeviceptr *);
typedef void (*mock_fail_fn)(CUresult, CUresult);

/* The only file in dir (its inode), or 0 if there is not exactly one. */
static ino_t only_entry(const char *dir) {
    char cmd[600];
    snprintf(cmd, sizeof cmd, "ls %s | wc -l", dir);
    FILE *f = popen(cmd, "r");
    int n = -1;
    if (!f || fscanf(f, "%d", &n) != 1) n = -1;
    if (f) pclose(f);
    snprintf(cmd, sizeof cmd, "ls -i %s", dir);
    f = n == 1 ? popen(cmd, "r") : NULL;
    unsigned long long ino = 0;
    if (f && fscanf(f, "%llu", &ino) != 1) ino = 0;
    if (f) pclose(f);
    return (ino_t)ino;
}

static void run_mock(kit_plugin *p, const char *cache) {
    void *mock = dlopen("libcuda.so.1", RTLD_NOW | RTLD_NOLOAD);
    mock_state_fn state = mock ? (mock_state_fn)dlsym(mock, "mock_cuda_state") : NULL;
    mock_fail_fn fail = mock ? (mock_fail_fn)dlsym(mock, "mock_cuda_fail") : NULL;
    if (!tap_ok(state && fail, "the plugin runs on the mock libcuda.so.1")) return;
    const tg_plugin_api *api = p->api;
    const int64_t n = 100003;
    kit_kernel kk;
    relu_kernel(&kk, &n);
    tg_program *prog = NULL, *again = NULL;
    tg_status st = api->program_create(p->dev, &kk.k, &prog);
    tap_ok(st == TG_OK && prog, "program_create: lowered, compiled by NVRTC for sm_90, cubin loaded %s",
           st == TG_OK ? "" : api->device_error(p->dev));
    const char *src = prog ? api->program_source(p->dev, prog) : NULL;
    tap_ok(src && strstr(src, "extern \"C\" __global__"), "program_source is the CUDA C");
    ino_t ino = only_entry(cache);
    tap_ok(ino != 0, "one cubin in the cache %s", cache);
    st = api->program_create(p->dev, &kk.k, &again);
    tap_ok(st == TG_OK && again && only_entry(cache) == ino, "the same kernel again: a cache hit, the entry untouched");
    tg_buffer *b[4] = {0};
    for (int i = 0; i < 4; i++) api->buffer_create(p->dev, (uint64_t)n * 4, &b[i]);
    int launches = 0, modules = 0;
    unsigned grid = 0, block = 0;
    CUdeviceptr arg0 = 0;
    st = prog ? api->program_launch(p->dev, prog, b, 4) : TG_ERR_INTERNAL;
    state(&launches, &modules, &grid, &block, &arg0);
    tap_ok(st == TG_OK && launches == 1 && modules == 2, "one launch, two modules (%d, %d)", launches, modules);
    tap_ok((uint64_t)grid * block >= (uint64_t)n && block >= 32 && block <= 1024 && block % 32 == 0 && arg0 != 0,
           "launch geometry covers %lld points: %u groups of %u", (long long)n, grid, block);
    tap_ok(prog && api->program_launch(p->dev, prog, b, 3) == TG_ERR_INVALID, "a launch with 3 of 4 buffers: %s",
           api->device_error(p->dev));
    api->program_destroy(p->dev, prog);
    api->program_destroy(p->dev, again);
    state(&launches, &modules, &grid, &block, &arg0);
    tap_ok(modules == 0, "program_destroy unloads the modules");
    tg_buffer *x = NULL;
    fail(CUDA_ERROR_OUT_OF_MEMORY, CUDA_SUCCESS);
    st = api->buffer_create(p->dev, 64, &x);
    tap_ok(st == TG_ERR_NO_MEMORY && !x && strstr(api->device_error(p->dev), "CUDA_ERROR_OUT_OF_MEMORY"),
           "an allocation the driver refuses: %s", api->device_error(p->dev));
    fail(CUDA_SUCCESS, CUDA_ERROR_ILLEGAL_ADDRESS);
    float out[4];
    st = api->buffer_read(p->dev, b[3], 0, out, sizeof out);
    tap_ok(st == TG_ERR_DEVICE && strstr(api->device_error(p->dev), "CUDA_ERROR_ILLEGAL_ADDRESS"),
           "a fault of earlier work surfaces at buffer_read: %s", api->device_error(p->dev));
    tap_ok(api->synchronize(p->dev) == TG_ERR_DEVICE, "and at synchronize: %s", api->device_error(p->dev));
    fail(CUDA_SUCCESS, CUDA_SUCCESS);
    for (int i = 0; i < 4; i++) api->buffer_destroy(p->dev, b[i]);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s CUDA_PLUGIN [--mock]\n", argv[0]);
        return 2;
    }
    int mock = argc > 2 && !strcmp(argv[2], "--mock");
    char cache[] = "/tmp/tg-cuda-load-XXXXXX", cuda_cache[64];
    if (mock && mkdtemp(cache)) {
        setenv("XDG_CACHE_HOME", cache, 1);
        snprintf(cuda_cache, sizeof cuda_cache, "%s/tg/cuda", cache);
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
    if (n == 0 && mock) tap_ok(0, "the mock driver is found: %s", api->plugin_error());
    if (n == 0) {
        no_device(api);
        return tap_done();
    }
    kit_plugin p;
    if (!tap_ok(kit_open(&p, argv[1]) == 0, "device 0 opens")) return tap_done();
    tg_caps caps = {.struct_size = sizeof caps};
    st = api->device_caps(p.dev, &caps);
    tap_ok(st == TG_OK && caps.dtypes == (1u << TG_DTYPE_COUNT) - 1 &&
               (caps.flags & TG_CAP_ASYNC) && caps.memory_bytes > 0 && caps.name && caps.name[0],
           "caps: %s, %s, %s, %llu MiB", caps.name ? caps.name : "", caps.version ? caps.version : "",
           caps.driver ? caps.driver : "",
           (unsigned long long)(caps.memory_bytes >> 20));
    tap_ok(caps.compute_units > 0 && caps.max_group_size >= 32 && caps.local_memory_bytes > 0 &&
               caps.emulated_dtypes == (1u << TG_FLOAT16 | 1u << TG_BFLOAT16),
           "1.1 caps: %u SMs, blocks of %u, %llu bytes of shared memory, float16/bfloat16 emulated", caps.compute_units,
           caps.max_group_size, (unsigned long long)caps.local_memory_bytes);
    if (mock) {
        run_mock(&p, cuda_cache);
    } else {
        run_fma_relu(&p);
        run_sums(&p);
    }
    run_buffers(&p);
    kit_close(&p);
    if (mock) {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf %s", cache);
        tap_ok(system(cmd) == 0, "cache directory removed");
    }
    return tap_done();
}
