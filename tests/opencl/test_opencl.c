/* tests/opencl/test_opencl.c -- the opencl plugin's runtime: caps and the
 * struct_size protocol, buffers (zero bytes, ranges, copies, overlapping
 * copies), programs against ref (elementwise, reductions, a split reduction
 * in two passes with a scratch buffer, float64 where the device has it), asynchronous launches with buffers and programs destroyed
 * in flight, the binary cache (hits, corrupt entries, the cache dir rules),
 * program_create_batch (one program for a batch, a NULL kernel alone),
 * TG_OPENCL_DEVICE, nothing printed to stderr; and, with no OpenCL platform,
 * 0 devices with the reason.
 *
 * usage: test_opencl OPENCL_PLUGIN REF_PLUGIN
 *        test_opencl OPENCL_PLUGIN --no-device   (hides every ICD itself)
 * Uses the kernel kit of tests/cpu (kit.h, check.h). */
#include <dirent.h>
#include <fcntl.h>
#include <stddef.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../tap.h"
#include "check.h"

static kit_plugin ocl, ref;
static const char *ocl_path;

static const tg_plugin_api *load(const char *path) {
    void *dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    tg_plugin_entry_fn entry = dl ? (tg_plugin_entry_fn)dlsym(dl, TG_PLUGIN_ENTRY_NAME) : NULL;
    return entry ? entry(TG_ABI_MAJOR, TG_ABI_MINOR, NULL) : NULL;
}

static int no_device(const char *path) {
    char dir[] = "/tmp/tg_no_icd_XXXXXX";
    if (!mkdtemp(dir)) return perror("mkdtemp"), 1;
    setenv("OCL_ICD_VENDORS", dir, 1); /* an empty vendors dir: no platform */
    const tg_plugin_api *api = load(path);
    tap_ok(api != NULL, "the plugin loads without an OpenCL platform");
    uint32_t n = 99;
    tg_status st = api ? api->device_count(&n) : TG_ERR_INTERNAL;
    tap_ok(st == TG_OK && n == 0, "device_count is 0 (%u)", n);
    const char *why = api ? api->plugin_error() : "";
    tap_ok(strstr(why, "no OpenCL platform") != NULL, "plugin_error says why: %s", why);
    tg_device *d = NULL;
    tap_ok(api && api->device_create(0, &d) == TG_ERR_NOT_FOUND && d == NULL, "device_create(0) fails cleanly");
    rmdir(dir);
    return tap_done();
}

static void test_select(void) {
    const tg_plugin_api *api = ocl.api;
    uint32_t all = 0, n = 99;
    api->device_count(&all);
    setenv("TG_OPENCL_DEVICE", "999", 1);
    api->device_count(&n);
    tap_ok(n == 0 && strstr(api->plugin_error(), "TG_OPENCL_DEVICE=999"), "TG_OPENCL_DEVICE=999: 0 devices: %s",
           api->plugin_error());
    setenv("TG_OPENCL_DEVICE", "0", 1);
    api->device_count(&n);
    tap_ok(n == 1 && all >= 1, "TG_OPENCL_DEVICE=0: one device of %u", all);
    unsetenv("TG_OPENCL_DEVICE");
}

static void test_caps(void) {
    tg_caps c = {.struct_size = sizeof c};
    tap_ok(ocl.api->device_caps(ocl.dev, &c) == TG_OK, "device_caps");
    uint32_t want = (1u << TG_DTYPE_COUNT) - 1;
    tap_ok((c.dtypes | 1u << TG_FLOAT64) == want, "dtypes: all, float64 if the device has it (%#x)", c.dtypes);
    tap_ok(c.fusion == 15 && (c.flags & TG_CAP_ASYNC) && !(c.flags & TG_CAP_HOST_VISIBLE),
           "all fusion, async, not host-visible");
    tap_ok(c.max_params >= 8 && c.max_params <= 64 && c.max_buffer_bytes > 0 && c.memory_bytes > 0,
           "limits: %u params, buffers up to %llu bytes", c.max_params, (unsigned long long)c.max_buffer_bytes);
    tap_ok(c.name && *c.name && c.driver && *c.driver && c.version && strstr(c.version, "OpenCL"),
           "strings: %s, %s, driver %s", c.name, c.version, c.driver);
    tg_caps cut;
    memset(&cut, 0xab, sizeof cut);
    cut.struct_size = (uint32_t)offsetof(tg_caps, memory_bytes) + 4; /* cuts memory_bytes in half */
    ocl.api->device_caps(ocl.dev, &cut);
    uint64_t untouched;
    memset(&untouched, 0xab, sizeof untouched);
    tap_ok(cut.dtypes == c.dtypes && cut.vector_width == c.vector_width && cut.memory_bytes == untouched,
           "a short struct_size: fields inside it filled, a cut field left alone");
}

static void test_buffers(void) {
    const tg_plugin_api *api = ocl.api;
    tg_device *d = ocl.dev;
    tg_buffer *z1 = NULL, *z2 = NULL, *a = NULL, *b = NULL;
    tap_ok(api->buffer_create(d, 0, &z1) == TG_OK && api->buffer_create(d, 0, &z2) == TG_OK && z1 && z2 && z1 == z2,
           "zero-byte buffers share one non-NULL handle (ABI 1.1)");
    int ok = api->buffer_write(d, z1, 0, NULL, 0) == TG_OK && api->buffer_read(d, z1, 0, NULL, 0) == TG_OK;
    tap_ok(ok, "zero-byte write and read");
    uint8_t in[256], out[256];
    for (int i = 0; i < 256; i++) in[i] = (uint8_t)i;
    api->buffer_create(d, 256, &a);
    api->buffer_create(d, 256, &b);
    ok = api->buffer_write(d, a, 0, in, 256) == TG_OK && api->buffer_copy(d, b, 16, a, 0, 200) == TG_OK &&
         api->buffer_read(d, b, 16, out, 200) == TG_OK && memcmp(out, in, 200) == 0;
    tap_ok(ok, "write, copy at offsets, read");
    ok = api->buffer_copy(d, a, 10, a, 0, 100) == TG_OK && api->buffer_read(d, a, 0, out, 256) == TG_OK &&
         memcmp(out + 10, in, 100) == 0 && memcmp(out, in, 10) == 0 && memcmp(out + 110, in + 110, 146) == 0;
    tap_ok(ok, "an overlapping copy within one buffer behaves like memmove");
    tg_status st = api->buffer_write(d, a, 200, in, 100);
    tap_ok(st == TG_ERR_INVALID && strstr(api->device_error(d), "outside"), "a write past the end: %s",
           api->device_error(d));
    st = api->buffer_copy(d, b, 0, a, 250, 10);
    tap_ok(st == TG_ERR_INVALID, "a copy past the end is refused");
    api->buffer_destroy(d, a);
    api->buffer_destroy(d, b);
    api->buffer_destroy(d, z1);
    api->buffer_destroy(d, z2);
    api->buffer_destroy(d, NULL);
    api->program_destroy(d, NULL);
}

/* out = a * b + c (MULACC) elementwise over n points of dtype dt. */
static void build_mulacc(kit_kernel *kk, uint32_t dt, int64_t n, const char *name) {
    int64_t shape[1] = {n};
    kit_init(kk, 1, shape, 0, name);
    uint32_t v = kit_view(kk, 1, shape, NULL, 0);
    int32_t x = kit_load(kk, kit_param(kk, dt, TG_ACCESS_READ, n), v, 1);
    int32_t y = kit_load(kk, kit_param(kk, dt, TG_ACCESS_READ, n), v, 1);
    int32_t z = kit_load(kk, kit_param(kk, dt, TG_ACCESS_READ, n), v, 1);
    kit_store(kk, kit_param(kk, dt, TG_ACCESS_WRITE, n), v, kit_node(kk, TG_OP_MULACC, dt, x, y, z));
}

/* out[i] = sum_j a[i, j] (rows x cols of dt). */
static void build_sum(kit_kernel *kk, uint32_t dt, int64_t rows, int64_t cols, const char *name) {
    int64_t shape[2] = {rows, cols}, oshape[2] = {rows, 1};
    kit_init(kk, 2, shape, 2, name);
    uint32_t vin = kit_view(kk, 2, shape, NULL, 0), vout = kit_view(kk, 2, oshape, NULL, 0);
    int32_t x = kit_load(kk, kit_param(kk, dt, TG_ACCESS_READ, rows * cols), vin, 1);
    kit_store(kk, kit_param(kk, dt, TG_ACCESS_WRITE, rows), vout, kit_node(kk, TG_OP_REDUCE_SUM, dt, x, -1, -1));
}

/* Run kk on opencl and ref with the same inputs; compare within tol (relative). */
static void compare(kit_kernel *kk, const char *what, double tol) {
    const tg_kernel *k = &kk->k;
    void *a[8] = {0}, *b[8] = {0};
    char err[8192] = "";
    for (uint32_t i = 0; i < k->nparams; i++) {
        size_t bytes = (size_t)k->params[i].count * kit_size(k->params[i].dtype);
        a[i] = calloc(1, bytes);
        b[i] = calloc(1, bytes);
        if (k->params[i].access == TG_ACCESS_READ) chk_fill(a[i], k->params[i].dtype, k->params[i].count, 1);
        memcpy(b[i], a[i], bytes);
    }
    int bad = -1;
    if (kit_run(&ref, k, b, 1, err, sizeof err) == 0 && kit_run(&ocl, k, a, 2, err, sizeof err) == 0) {
        uint32_t p = k->nparams - 1, dt = k->params[p].dtype;
        bad = 0;
        for (int64_t i = 0; i < k->params[p].count; i++) {
            double g = chk_get(a[p], dt, i), w = chk_get(b[p], dt, i);
            if (!(g == w || (isnan(g) && isnan(w)) || fabs(g - w) <= tol * fabs(w)) && bad++ < 3)
                tap_diag("%s [%lld]: opencl %.17g ref %.17g", what, (long long)i, g, w);
        }
    }
    tap_ok(bad == 0, "%s%s%s", what, err[0] ? ": " : "", err);
    for (uint32_t i = 0; i < k->nparams; i++) {
        free(a[i]);
        free(b[i]);
    }
}

static void test_programs(void) {
    kit_kernel kk;
    build_mulacc(&kk, TG_FLOAT32, 1000, "mulacc_f32");
    compare(&kk, "float32 MULACC over 1000 points", 0);
    build_mulacc(&kk, TG_INT32, 77, "mulacc_i32");
    compare(&kk, "int32 MULACC over 77 points (wraps)", 0);
    build_mulacc(&kk, TG_FLOAT16, 300, "mulacc_f16");
    compare(&kk, "float16 MULACC (computed in float)", 0);
    build_sum(&kk, TG_FLOAT32, 64, 4096, "sum_f32");
    compare(&kk, "float32 row sums, 64 x 4096", 1e-4);
    build_sum(&kk, TG_INT64, 3, 100000, "sum_i64");
    compare(&kk, "int64 row sums, 3 x 100000", 0);
    tg_program *p = NULL; /* few outputs of many terms: a split reduction */
    ocl.api->program_create(ocl.dev, &kk.k, &p);
    const char *src = p ? ocl.api->program_source(ocl.dev, p) : NULL;
    tap_ok(src && strstr(src, "tgk_part") && strstr(src, "tgk_fin"), "that was two passes with a scratch buffer");
    ocl.api->program_destroy(ocl.dev, p);
    tg_caps c = {.struct_size = sizeof c};
    ocl.api->device_caps(ocl.dev, &c);
    if (c.dtypes >> TG_FLOAT64 & 1) {
        build_sum(&kk, TG_FLOAT64, 5, 999, "sum_f64");
        compare(&kk, "float64 row sums, 5 x 999", 1e-12);
    } else {
        tap_skip("the device has no float64");
    }
    build_mulacc(&kk, TG_FLOAT32, 10, "src_test");
    ocl.api->program_create(ocl.dev, &kk.k, &p);
    src = p ? ocl.api->program_source(ocl.dev, p) : NULL;
    tap_ok(src && strstr(src, "__kernel"), "program_source gives the OpenCL C");
    tg_buffer *bufs[4] = {0};
    tap_ok(p && ocl.api->program_launch(ocl.dev, p, bufs, 3) == TG_ERR_INVALID, "a launch with 3 of 4 buffers is "
           "refused: %s", ocl.api->device_error(ocl.dev));
    ocl.api->program_destroy(ocl.dev, p);
}

/* Launches return before the work ends; buffers and the program may be
 * destroyed in flight; a copy and a read afterwards see the results. */
static void test_async(void) {
    const tg_plugin_api *api = ocl.api;
    tg_device *d = ocl.dev;
    enum { N = 1 << 20 };
    kit_kernel kk;
    build_mulacc(&kk, TG_FLOAT32, N, "async");
    float *x = malloc(N * sizeof(float)), *y = malloc(N * sizeof(float));
    for (int i = 0; i < N; i++) x[i] = (float)(i % 1000);
    tg_buffer *b[4], *copy = NULL;
    tg_program *p = NULL;
    int ok = api->program_create(d, &kk.k, &p) == TG_OK;
    for (int i = 0; i < 4; i++) ok &= api->buffer_create(d, N * sizeof(float), &b[i]) == TG_OK;
    for (int i = 0; i < 3; i++) ok &= api->buffer_write(d, b[i], 0, x, N * sizeof(float)) == TG_OK;
    ok &= api->buffer_create(d, N * sizeof(float), &copy) == TG_OK;
    for (int r = 0; r < 3 && ok; r++) ok &= api->program_launch(d, p, b, 4) == TG_OK;
    ok &= api->buffer_copy(d, copy, 0, b[3], 0, N * sizeof(float)) == TG_OK;
    api->program_destroy(d, p);
    for (int i = 0; i < 4; i++) api->buffer_destroy(d, b[i]);
    ok &= api->synchronize(d) == TG_OK && api->buffer_read(d, copy, 0, y, N * sizeof(float)) == TG_OK;
    for (int i = 0; i < N && ok; i++) ok = y[i] == x[i] * x[i] + x[i];
    tap_ok(ok, "asynchronous launches, program and buffers destroyed in flight: %s", ok ? "right" : api->device_error(d));
    api->buffer_destroy(d, copy);
    free(x);
    free(y);
}

/* The one .bin entry in dir ("" if none or several). */
static int find_entry(const char *dir, char *out, size_t cap) {
    DIR *dd = opendir(dir);
    struct dirent *e;
    int n = 0;
    out[0] = 0;
    while (dd && (e = readdir(dd)))
        if (strstr(e->d_name, ".bin") && ++n == 1) snprintf(out, cap, "%s/%s", dir, e->d_name);
    if (dd) closedir(dd);
    return n;
}

static int run_cached(const char *name) {
    kit_kernel kk;
    build_mulacc(&kk, TG_FLOAT32, 50, name);
    float in[50], out[50];
    for (int i = 0; i < 50; i++) in[i] = (float)i;
    void *data[4] = {in, in, in, out};
    char err[8192];
    kit_plugin p;
    if (kit_open(&p, ocl_path) != 0) return -1;
    int rc = kit_run(&p, &kk.k, data, 1, err, sizeof err);
    for (int i = 0; rc == 0 && i < 50; i++) rc = out[i] == in[i] * in[i] + in[i] ? 0 : -1;
    kit_close(&p);
    return rc;
}

static void test_cache(void) {
    char base[] = "/tmp/tg_ocl_cache_XXXXXX", dir[300], entry[600];
    if (!mkdtemp(base)) {
        tap_ok(0, "mkdtemp");
        return;
    }
    char *old = getenv("XDG_CACHE_HOME") ? strdup(getenv("XDG_CACHE_HOME")) : NULL;
    setenv("XDG_CACHE_HOME", base, 1);
    snprintf(dir, sizeof dir, "%s/tg/opencl", base);
    tap_ok(run_cached("cache_test") == 0 && find_entry(dir, entry, sizeof entry) == 1,
           "a build leaves one entry in $XDG_CACHE_HOME/tg/opencl");
    struct stat s1, s2;
    stat(entry, &s1);
    tap_ok(run_cached("cache_test") == 0 && stat(entry, &s2) == 0 && s1.st_ino == s2.st_ino,
           "a second device uses the entry (not rewritten)");
    FILE *f = fopen(entry, "r+b");
    if (f) {
        fseek(f, 40, SEEK_SET);
        fputs("garbage", f);
        fclose(f);
    }
    tap_ok(run_cached("cache_test") == 0 && stat(entry, &s2) == 0 && s1.st_ino != s2.st_ino && s2.st_size > 47,
           "a corrupt entry is rebuilt and replaced");
    if (truncate(entry, 20) != 0) tap_diag("truncate failed");
    tap_ok(run_cached("cache_test") == 0 && stat(entry, &s2) == 0 && s2.st_size > 20,
           "a truncated entry is rebuilt and replaced");
    /* a relative XDG_CACHE_HOME is ignored: ~/.cache/tg/opencl */
    char *home = getenv("HOME") ? strdup(getenv("HOME")) : NULL;
    setenv("XDG_CACHE_HOME", "relative/dir", 1);
    setenv("HOME", base, 1);
    snprintf(dir, sizeof dir, "%s/.cache/tg/opencl", base);
    tap_ok(run_cached("cache_home") == 0 && find_entry(dir, entry, sizeof entry) == 1,
           "a relative XDG_CACHE_HOME is ignored: ~/.cache/tg/opencl");
    if (home) setenv("HOME", home, 1);
    if (old) setenv("XDG_CACHE_HOME", old, 1);
    else unsetenv("XDG_CACHE_HOME");
    free(home);
    free(old);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", base);
    if (system(cmd) != 0) tap_diag("could not remove %s", base);
}

/* The .bin entries of dir: how many, how many with `links` links; their inodes summed. */
static int count_bins(const char *dir, int links, int *linked, unsigned long long *inodes) {
    DIR *dd = opendir(dir);
    struct dirent *e;
    int n = 0;
    *linked = 0;
    *inodes = 0;
    while (dd && (e = readdir(dd))) {
        char path[700];
        struct stat s;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (!strstr(e->d_name, ".bin") || stat(path, &s) != 0) continue;
        n++;
        *linked += (int)s.st_nlink == links;
        *inodes += (unsigned long long)s.st_ino;
    }
    if (dd) closedir(dd);
    return n;
}

/* Inputs for kernel k's READ params, zeroed outputs, twice (a and b): freed by the caller. */
static void make_data(const tg_kernel *k, void **a, void **b) {
    for (uint32_t i = 0; i < k->nparams; i++) {
        size_t bytes = (size_t)k->params[i].count * kit_size(k->params[i].dtype);
        a[i] = calloc(1, bytes);
        b[i] = calloc(1, bytes);
        if (a[i] && k->params[i].access == TG_ACCESS_READ) chk_fill(a[i], k->params[i].dtype, k->params[i].count, 1);
        if (a[i] && b[i]) memcpy(b[i], a[i], bytes);
    }
}

/* program_create_batch: the kernels not in the cache build as one program
 * (one entry, hard-linked under each kernel's key); a NULL kernel fails
 * alone; each kernel computes the bits it computes built alone; a second
 * batch of the same kernels builds nothing. */
static void test_batch(void) {
    char base[] = "/tmp/tg_ocl_batch_XXXXXX", dir[300], alone[300];
    if (!mkdtemp(base)) {
        tap_ok(0, "mkdtemp");
        return;
    }
    char *old = getenv("XDG_CACHE_HOME") ? strdup(getenv("XDG_CACHE_HOME")) : NULL;
    setenv("XDG_CACHE_HOME", base, 1);
    snprintf(dir, sizeof dir, "%s/tg/opencl", base);
    static kit_kernel kk[3];
    build_mulacc(&kk[0], TG_FLOAT32, 50, "batch_a");
    build_sum(&kk[1], TG_FLOAT32, 64, 4096, "batch_sum"); /* two passes */
    build_mulacc(&kk[2], TG_INT32, 77, "batch_b");
    const tg_kernel *ks[5] = {&kk[0].k, NULL, &kk[1].k, &kk[2].k, &kk[0].k}; /* the first twice */
    tg_program *progs[5] = {0};
    tg_status sts[5] = {0};
    const char *msgs[5] = {0};
    kit_plugin p;
    int ok = kit_open(&p, ocl_path) == 0 && p.api->program_create_batch;
    tg_status st = ok ? p.api->program_create_batch(p.dev, 5, ks, progs, sts, msgs) : TG_ERR_INTERNAL;
    tap_ok(st == TG_ERR_INVALID && sts[1] == TG_ERR_INVALID && !progs[1] && msgs[1] && msgs[1][0] && sts[0] == TG_OK &&
               sts[2] == TG_OK && sts[3] == TG_OK && sts[4] == TG_OK,
           "a batch of three kernels (one twice) and a NULL one: the NULL one fails alone (%s)",
           st == TG_ERR_INVALID ? msgs[1] : p.api ? p.api->device_error(p.dev) : "");
    int linked = 0;
    unsigned long long inodes = 0, inodes2 = 0;
    int n = count_bins(dir, 3, &linked, &inodes);
    tap_ok(n == 3 && linked == 3, "the three built as one program: one entry linked under each key, no temporary file "
           "left (%d files, %d of 3 links)",
           n, linked);
    /* the same kernels built alone, in another cache: the same bits */
    snprintf(alone, sizeof alone, "%s/alone", base);
    setenv("XDG_CACHE_HOME", alone, 1);
    kit_plugin q;
    int same = ok && kit_open(&q, ocl_path) == 0;
    char err[8192] = "";
    for (int i = 0; same && i < 3; i++) {
        const tg_kernel *k = ks[i ? i + 1 : 0];
        void *a[8] = {0}, *b[8] = {0};
        make_data(k, a, b);
        uint32_t o = k->nparams - 1;
        size_t bytes = (size_t)k->params[o].count * kit_size(k->params[o].dtype);
        same = kit_launch(&p, progs[i ? i + 1 : 0], k, a, 1, err, sizeof err) == 0 &&
               kit_run(&q, k, b, 1, err, sizeof err) == 0 && !memcmp(a[o], b[o], bytes);
        if (!same && !err[0]) snprintf(err, sizeof err, "(%s differs)", k->name);
        for (uint32_t j = 0; j < k->nparams; j++) free(a[j]), free(b[j]);
    }
    tap_ok(same, "each kernel of the batch computes the bits it computes built alone %s", err);
    if (same) kit_close(&q);
    for (int i = 0; i < 5; i++) p.api->program_destroy(p.dev, progs[i]);
    if (ok) kit_close(&p);
    /* a second batch (another device, the first cache) */
    setenv("XDG_CACHE_HOME", base, 1);
    ok = ok && kit_open(&p, ocl_path) == 0 && p.api->program_create_batch(p.dev, 5, ks, progs, sts, msgs) == TG_ERR_INVALID &&
         sts[0] == TG_OK && sts[2] == TG_OK && sts[3] == TG_OK;
    n = count_bins(dir, 3, &linked, &inodes2);
    tap_ok(ok && n == 3 && linked == 3 && inodes2 == inodes, "a second batch of the same kernels builds nothing (entries untouched)");
    for (int i = 0; ok && i < 5; i++) p.api->program_destroy(p.dev, progs[i]);
    if (ok) kit_close(&p);
    if (old) setenv("XDG_CACHE_HOME", old, 1);
    else unsetenv("XDG_CACHE_HOME");
    free(old);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", base);
    if (system(cmd) != 0) tap_diag("could not remove %s", base);
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s OPENCL_PLUGIN REF_PLUGIN|--no-device\n", argv[0]);
        return 2;
    }
    (void)kit_mask;
    (void)chk_elem;
    (void)chk_ulps;
    ocl_path = argv[1];
    if (!strcmp(argv[2], "--no-device")) return no_device(argv[1]);
    const tg_plugin_api *api = load(argv[1]);
    uint32_t n = 0;
    if (!api || api->device_count(&n) != TG_OK || n == 0) {
        tap_ok(api != NULL, "the plugin loads");
        tap_skip(api ? api->plugin_error() : "no plugin");
        return tap_done();
    }
    /* The ABI forbids a plugin writing to stderr: catch it in a file. */
    char errpath[] = "/tmp/tg_ocl_stderr_XXXXXX";
    int fd = mkstemp(errpath), saved = dup(2);
    if (fd >= 0) dup2(fd, 2);
    if (kit_open(&ocl, argv[1]) != 0 || kit_open(&ref, argv[2]) != 0) {
        dup2(saved, 2);
        tap_ok(0, "open the opencl and ref devices");
        return tap_done();
    }
    test_select();
    test_caps();
    test_buffers();
    test_programs();
    test_async();
    test_cache();
    test_batch();
    kit_close(&ocl);
    kit_close(&ref);
    fflush(stderr);
    dup2(saved, 2);
    struct stat st;
    int quiet = fd >= 0 && fstat(fd, &st) == 0 && st.st_size == 0;
    if (!quiet) {
        char buf[512] = "";
        ssize_t got = pread(fd, buf, sizeof buf - 1, 0);
        tap_diag("stderr: %s", got > 0 ? buf : "?");
    }
    tap_ok(quiet, "nothing was printed to stderr");
    unlink(errpath);
    return tap_done();
}
