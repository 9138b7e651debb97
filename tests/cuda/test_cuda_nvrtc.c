/* tests/cuda/test_cuda_nvrtc.c -- no GPU needed: the lowering library's
 * CUDA C for a set of kernels (every dtype's ops, casts, masked and stacked
 * views, reductions, matrix products, a reduction with ops after it), in
 * the plans tgl_plan_variants offers for an H200-like target, compiles with
 * NVRTC for sm_90; and the plugin's cubin cache finds, keys and rebuilds
 * entries. NVRTC is opened with dlopen (plugins/cuda/cu_compile.c); where
 * it cannot be found the test skips with the reason.
 *
 *   test_cuda_nvrtc                 (kernels built with tests/cpu/kit.h) */
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <tg/lower.h>

#include "../tap.h"
#include "cu.h"
#include "kit.h"

#define ARCH 90 /* H200 (Hopper) */

static cu_nvrtc nv;
static const char *dtn[TG_DTYPE_COUNT] = {"bool", "int8", "uint8", "int16", "uint16", "int32", "uint32",
                                          "int64", "uint64", "float16", "bfloat16", "float32", "float64"};
static int is_float(uint32_t dt) { return dt >= TG_FLOAT16; }

/* Line `line` (1-based) of src, into out. */
static void source_line(const char *src, long line, char *out, size_t cap) {
    for (long l = 1; l < line && src; l++) src = (src = strchr(src, '\n')) ? src + 1 : NULL;
    if (!src) { snprintf(out, cap, "?"); return; }
    size_t n = strcspn(src, "\n");
    snprintf(out, cap, "%.*s", (int)(n < cap - 1 ? n : cap - 1), src);
}

/* On a rejected source: the NVRTC log and each line it names. */
static void report(const char *src, const char *log) {
    tap_diag("NVRTC log: %s", log);
    for (const char *p = strstr(log, "tg_kernel.cu("); p; p = strstr(p + 1, "tg_kernel.cu(")) {
        char text[300];
        long line = strtol(p + 13, NULL, 10);
        source_line(src, line, text, sizeof text);
        tap_diag("line %ld: %s", line, text);
    }
}

/* The first `max` plans the library offers for the kernel (at most 4):
 * lowered, rendered, compiled. */
static void compile_plans(const kit_kernel *kk, int max) {
    tgl_target t = {.kind = TGL_GPU, .vector_bytes = 16, .local_bytes = 49152, .max_group = 1024, .warp = 32,
                    .index_bits = 32};
    tgl_plan plans[4];
    int np = tgl_plan_variants(&kk->k, &t, plans, max < 4 ? max : 4);
    tap_ok(np >= 1, "%s: %d plans", kk->k.name, np);
    for (int i = 0; i < np; i++) {
        char err[16384] = "";
        tgl_prog *p = NULL;
        tgl_sb src = {0};
        tg_status st = tgl_lower(&kk->k, &t, &plans[i], &p, err, sizeof err);
        if (st == TG_OK) st = tgl_render(p, &tgl_dialect_cuda, &src);
        if (!tap_ok(st == TG_OK && src.s, "%s plan %d (mode %d, group %d): lowered and rendered", kk->k.name, i,
                    plans[i].mode, plans[i].group)) {
            tap_diag("%s", err);
        } else {
            int named = 1;
            for (uint32_t j = 0; j < p->npasses; j++) named &= strstr(src.s, p->pass[j].fn) != NULL;
            tap_ok(named && p->npasses >= 1 && strstr(src.s, "__global__"), "%s plan %d: %u __global__ passes named",
                   kk->k.name, i, p->npasses);
            char *bin = NULL;
            size_t size = 0;
            st = cu_nvrtc_compile(&nv, src.s, ARCH, &bin, &size, err, sizeof err);
            if (!tap_ok(st == TG_OK && size > 0, "%s plan %d: NVRTC compiles it for sm_%d", kk->k.name, i, ARCH))
                report(src.s, err);
            free(bin);
        }
        tgl_sb_free(&src);
        tgl_prog_free(p);
    }
}

/* Every op OPS.md defines on dt, one store each (multi-output). */
static void k_ops(uint32_t dt) {
    static const uint32_t unary[] = {TG_OP_EXP2, TG_OP_LOG2, TG_OP_SQRT, TG_OP_RECIP, TG_OP_SIN};
    static const uint32_t binary[] = {TG_OP_ADD, TG_OP_SUB, TG_OP_MUL, TG_OP_DIV, TG_OP_MOD, TG_OP_MAX, TG_OP_CMPLT};
    int64_t shape[2] = {5, 37}, n = 5 * 37;
    kit_kernel kk;
    char name[64];
    snprintf(name, sizeof name, "ops_%s", dtn[dt]);
    kit_init(&kk, 2, shape, 0, name);
    uint32_t v = kit_view(&kk, 2, shape, NULL, 0);
    int32_t la = kit_load(&kk, kit_param(&kk, dt, TG_ACCESS_READ, n), v, 1);
    int32_t lb = kit_load(&kk, kit_param(&kk, dt, TG_ACCESS_READ, n), v, 1);
    int32_t lc = kit_load(&kk, kit_param(&kk, dt, TG_ACCESS_READ, n), v, 1);
    int32_t lw = kit_load(&kk, kit_param(&kk, TG_BOOL, TG_ACCESS_READ, n), v, 1);
    int bo = dt == TG_BOOL;
    for (size_t i = 0; is_float(dt) && i < sizeof unary / sizeof *unary; i++)
        kit_store(&kk, kit_param(&kk, dt, TG_ACCESS_WRITE, n), v, kit_node(&kk, unary[i], dt, la, -1, -1));
    if (!bo) kit_store(&kk, kit_param(&kk, dt, TG_ACCESS_WRITE, n), v, kit_node(&kk, TG_OP_NEG, dt, la, -1, -1));
    for (size_t i = 0; i < sizeof binary / sizeof *binary; i++) {
        uint32_t op = binary[i], rdt = op == TG_OP_CMPLT ? TG_BOOL : dt;
        if (bo && op != TG_OP_MAX && op != TG_OP_MUL && op != TG_OP_CMPLT) continue;
        kit_store(&kk, kit_param(&kk, rdt, TG_ACCESS_WRITE, n), v, kit_node(&kk, op, rdt, la, lb, -1));
    }
    kit_store(&kk, kit_param(&kk, dt, TG_ACCESS_WRITE, n), v, kit_node(&kk, TG_OP_WHERE, dt, lw, la, lb));
    if (!bo) kit_store(&kk, kit_param(&kk, dt, TG_ACCESS_WRITE, n), v, kit_node(&kk, TG_OP_MULACC, dt, la, lb, lc));
    compile_plans(&kk, 2);
}

/* dt cast to every dtype, and a constant of dt in an op. */
static void k_casts(uint32_t dt) {
    int64_t shape[1] = {1000};
    kit_kernel kk;
    char name[64];
    snprintf(name, sizeof name, "casts_from_%s", dtn[dt]);
    kit_init(&kk, 1, shape, 0, name);
    uint32_t v = kit_view(&kk, 1, shape, NULL, 0);
    int32_t la = kit_load(&kk, kit_param(&kk, dt, TG_ACCESS_READ, 1000), v, 1);
    for (uint32_t to = 0; to < TG_DTYPE_COUNT; to++)
        if (to != dt) kit_store(&kk, kit_param(&kk, to, TG_ACCESS_WRITE, 1000), v, kit_node(&kk, TG_OP_CAST, to, la, -1, -1));
    tg_scalar c = {.i = dt == TG_BOOL ? 1 : 3};
    if (is_float(dt)) c.f = -0.0;
    int32_t k = kit_const(&kk, dt, c);
    kit_store(&kk, kit_param(&kk, dt, TG_ACCESS_WRITE, 1000), v, kit_node(&kk, TG_OP_MAX, dt, la, k, -1));
    compile_plans(&kk, 2);
}

/* A padded view (masked loads) and a permuted view stack (div/mod). */
static void k_views(uint32_t dt) {
    char name[64];
    kit_kernel kk;
    int64_t s5[2] = {7, 40}, t5[2] = {37, 1}, lo5[2] = {1, 2}, hi5[2] = {6, 39};
    snprintf(name, sizeof name, "view_pad_%s", dtn[dt]);
    kit_init(&kk, 2, s5, 0, name);
    uint32_t vp = kit_view(&kk, 2, s5, t5, -(37 + 2));
    kit_mask(&kk, vp, lo5, hi5);
    uint32_t vo = kit_view(&kk, 2, s5, NULL, 0);
    int32_t l = kit_load(&kk, kit_param(&kk, dt, TG_ACCESS_READ, 5 * 37), vp, 1);
    kit_store(&kk, kit_param(&kk, dt, TG_ACCESS_WRITE, 7 * 40), vo, l);
    compile_plans(&kk, 4);
    /* a [6,10] buffer reshaped to [4,15], permuted to [15,4] and flipped */
    int64_t s0[2] = {6, 10}, s1[2] = {15, 4}, t1[2] = {1, -15};
    snprintf(name, sizeof name, "view_stack_permute_%s", dtn[dt]);
    kit_init(&kk, 2, s1, 0, name);
    uint32_t v0 = kit_view(&kk, 2, s0, NULL, 0);
    kit_view(&kk, 2, s1, t1, 45);
    vo = kit_view(&kk, 2, s1, NULL, 0);
    l = kit_load(&kk, kit_param(&kk, dt, TG_ACCESS_READ, 60), v0, 2);
    kit_store(&kk, kit_param(&kk, dt, TG_ACCESS_WRITE, 60), vo, l);
    compile_plans(&kk, 4);
}

/* REDUCE op over the axes of an [s0, s1] input; post: (r + bias) * r after it. */
static void k_reduce(const char *name, uint32_t op, uint32_t dt, int64_t s0, int64_t s1, uint32_t axes, int post) {
    int64_t shape[2] = {s0, s1}, oshape[2] = {axes & 1 ? 1 : s0, axes & 2 ? 1 : s1};
    kit_kernel kk;
    kit_init(&kk, 2, shape, axes, name);
    uint32_t vin = kit_view(&kk, 2, shape, NULL, 0), vout = kit_view(&kk, 2, oshape, NULL, 0);
    int64_t on = oshape[0] * oshape[1];
    int32_t la = kit_load(&kk, kit_param(&kk, dt, TG_ACCESS_READ, s0 * s1), vin, 1);
    int32_t r = kit_node(&kk, op, dt, la, -1, -1);
    if (post) {
        int32_t lb = kit_load(&kk, kit_param(&kk, dt, TG_ACCESS_READ, on), vout, 1);
        r = kit_node(&kk, TG_OP_MUL, dt, kit_node(&kk, TG_OP_ADD, dt, r, lb, -1), r, -1);
    }
    kit_store(&kk, kit_param(&kk, dt, TG_ACCESS_WRITE, on), vout, r);
    compile_plans(&kk, 4);
}

/* C[M,N] = sum_k A[M,K] * B[K,N], with bias and relu after it when post. */
static void k_matmul(uint32_t dt, int64_t M, int64_t N, int64_t K, int post) {
    char name[80];
    snprintf(name, sizeof name, "matmul_%s_%lldx%lldx%lld%s", dtn[dt], (long long)M, (long long)N, (long long)K,
             post ? "_bias_relu" : "");
    int64_t shape[3] = {M, N, K}, oshape[3] = {M, N, 1};
    kit_kernel kk;
    kit_init(&kk, 3, shape, 4, name);
    int64_t as[3] = {K, 0, 1}, bs[3] = {0, 1, N}, cs[3] = {N, 1, 0}, bias[3] = {0, 1, 0};
    uint32_t va = kit_view(&kk, 3, shape, as, 0), vb = kit_view(&kk, 3, shape, bs, 0);
    uint32_t vc = kit_view(&kk, 3, oshape, cs, 0), vbias = kit_view(&kk, 3, oshape, bias, 0);
    int32_t la = kit_load(&kk, kit_param(&kk, dt, TG_ACCESS_READ, M * K), va, 1);
    int32_t lb = kit_load(&kk, kit_param(&kk, dt, TG_ACCESS_READ, K * N), vb, 1);
    int32_t r = kit_node(&kk, TG_OP_REDUCE_SUM, dt, kit_node(&kk, TG_OP_MUL, dt, la, lb, -1), -1, -1);
    if (post) {
        int32_t lbias = kit_load(&kk, kit_param(&kk, dt, TG_ACCESS_READ, N), vbias, 1);
        tg_scalar z = {.f = 0};
        r = kit_node(&kk, TG_OP_MAX, dt, kit_node(&kk, TG_OP_ADD, dt, r, lbias, -1), kit_const(&kk, dt, z), -1);
    }
    kit_store(&kk, kit_param(&kk, dt, TG_ACCESS_WRITE, M * N), vc, r);
    compile_plans(&kk, 4);
}

/* The cubin cache: a miss compiles and stores, a hit returns the same bytes,
 * another key misses, a foreign file under the key's name is rebuilt. */
static void test_cache(void) {
    char dir[] = "/tmp/tg-cuda-cache-XXXXXX", err[4096] = "";
    if (!tap_ok(mkdtemp(dir) != NULL, "a temporary cache directory")) return;
    const char *src = "extern \"C\" __global__ void tgk(float *p) { p[threadIdx.x] *= 2.0f; }\n";
    cu_key key = {0x1234, ARCH, 13000};
    char *a = NULL, *b = NULL;
    size_t na = 0, nb = 0;
    int hit = -1;
    tg_status st = cu_cubin(&nv, dir, &key, src, &a, &na, &hit, err, sizeof err);
    tap_ok(st == TG_OK && hit == 0 && na > 0, "first build compiles (%s)", err);
    st = cu_cubin(&nv, dir, &key, src, &b, &nb, &hit, err, sizeof err);
    tap_ok(st == TG_OK && hit == 1 && nb == na && a && b && memcmp(a, b, na) == 0, "second build is a cache hit");
    free(b);
    key.driver = 12080;
    st = cu_cubin(&nv, dir, &key, src, &b, &nb, &hit, err, sizeof err);
    tap_ok(st == TG_OK && hit == 0, "another driver version is another entry");
    free(b);
    /* overwrite every entry with a foreign one: each is rebuilt, not loaded */
    char cmd[256];
    snprintf(cmd, sizeof cmd, "for f in %s/*.cubin; do echo 'tg-cuda-cubin 1 other key' > $f; done", dir);
    tap_ok(system(cmd) == 0, "entries overwritten");
    st = cu_cubin(&nv, dir, &key, src, &b, &nb, &hit, err, sizeof err);
    tap_ok(st == TG_OK && hit == 0 && nb > 0, "a foreign entry is rebuilt");
    free(b);
    st = cu_cubin(&nv, dir, &key, src, &b, &nb, &hit, err, sizeof err);
    tap_ok(st == TG_OK && hit == 1, "and then found");
    free(b);
    free(a);
    st = cu_cubin(&nv, dir, &key, "this is not CUDA", &b, &nb, &hit, err, sizeof err);
    tap_ok(st == TG_ERR_COMPILE && strstr(err, "NVRTC"), "a rejected source is TG_ERR_COMPILE with the log: %.60s", err);
    /* the directory: $XDG_CACHE_HOME only when absolute, else ~/.cache */
    char path[4096], want[4096];
    setenv("XDG_CACHE_HOME", dir, 1);
    snprintf(want, sizeof want, "%s/tg/cuda", dir);
    tap_ok(cu_cache_dir(path, sizeof path) && strcmp(path, want) == 0, "cache dir from XDG_CACHE_HOME: %s", path);
    setenv("XDG_CACHE_HOME", "relative/dir", 1);
    setenv("HOME", dir, 1);
    snprintf(want, sizeof want, "%s/.cache/tg/cuda", dir);
    struct stat sb;
    tap_ok(cu_cache_dir(path, sizeof path) && strcmp(path, want) == 0 && stat(want, &sb) == 0 && S_ISDIR(sb.st_mode),
           "a relative XDG_CACHE_HOME is ignored: %s", path);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    tap_ok(system(cmd) == 0, "cache directory removed");
}

int main(void) {
    char err[512] = "";
    if (cu_nvrtc_open(&nv, err, sizeof err) != TG_OK) {
        tap_skip(err[0] ? err : "NVRTC not found");
        return tap_done();
    }
    tap_ok(nv.major > 0, "NVRTC %d.%d", nv.major, nv.minor);
    for (uint32_t dt = 0; dt < TG_DTYPE_COUNT; dt++) k_ops(dt);
    for (uint32_t dt = 0; dt < TG_DTYPE_COUNT; dt++) k_casts(dt);
    k_views(TG_FLOAT32);
    k_views(TG_INT64);
    k_views(TG_FLOAT16);
    k_reduce("sum_f32_rows", TG_OP_REDUCE_SUM, TG_FLOAT32, 64, 1000, 2, 0);
    k_reduce("sum_f32_cols", TG_OP_REDUCE_SUM, TG_FLOAT32, 1000, 64, 1, 0);
    k_reduce("sum_f32_all", TG_OP_REDUCE_SUM, TG_FLOAT32, 256, 4096, 3, 0);
    k_reduce("sum_i64_rows", TG_OP_REDUCE_SUM, TG_INT64, 33, 77, 2, 0);
    k_reduce("max_f16_rows", TG_OP_REDUCE_MAX, TG_FLOAT16, 64, 1000, 2, 0);
    k_reduce("max_bool_all", TG_OP_REDUCE_MAX, TG_BOOL, 40, 50, 3, 0);
    k_reduce("max_f64_cols_post", TG_OP_REDUCE_MAX, TG_FLOAT64, 500, 30, 1, 1);
    k_reduce("sum_bf16_rows_post", TG_OP_REDUCE_SUM, TG_BFLOAT16, 30, 500, 2, 1);
    k_matmul(TG_FLOAT32, 64, 48, 96, 0);
    k_matmul(TG_FLOAT32, 256, 256, 256, 1);
    k_matmul(TG_FLOAT16, 128, 64, 32, 0);
    k_matmul(TG_BFLOAT16, 64, 128, 64, 1);
    k_matmul(TG_FLOAT64, 32, 32, 32, 0);
    test_cache();
    /* NVRTC stays loaded, as in the plugin: unloaded, the pool its C++
     * runtime keeps would show as a leak under LeakSanitizer */
    return tap_done();
}
