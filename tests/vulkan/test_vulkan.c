/* tests/vulkan/test_vulkan.c -- the vulkan plugin against ref: ops on every
 * dtype the device declares, casts, views, reductions (per-invocation loops
 * and work-group trees), fused chains; asynchronous launches with buffers
 * and programs destroyed in flight; dispatches split over the group-count
 * limit; SPIR-V text, validation failures, 64-bit indices; no device.
 *
 * usage: test_vulkan VULKAN_PLUGIN REF_PLUGIN
 *        test_vulkan VULKAN_PLUGIN --no-device   (expects device_count 0)
 * Uses the kernel kit of tests/cpu (kit.h, check.h). */
#include <dirent.h>
#include <sys/stat.h>
#include "../tap.h"
#include "check.h"
#include "spv_gen.h"

static kit_plugin vk, ref;

static const char *dtn[TG_DTYPE_COUNT] = {"bool", "int8", "uint8", "int16", "uint16", "int32", "uint32",
                                          "int64", "uint64", "float16", "bfloat16", "float32", "float64"};

static uint32_t vk_dtypes(void) {
    tg_caps caps = {.struct_size = sizeof caps};
    return vk.api->device_caps(vk.dev, &caps) == TG_OK ? caps.dtypes : 0;
}

/* Integer DIV/MOD by zero and out-of-range float->int casts are unspecified. */
static int unspecified(const kit_kernel *kk, void *const *data, uint32_t p, int64_t i) {
    for (uint32_t n = 0; n < kk->k.nnodes; n++) {
        const tg_node *st = &kk->nodes[n];
        if (st->op != TG_OP_STORE || st->buffer != p) continue;
        const tg_node *s = &kk->nodes[st->src[0]];
        if ((s->op == TG_OP_DIV || s->op == TG_OP_MOD) && !tgp_dtype_is_float(s->dtype))
            return chk_get(data[kk->nodes[s->src[1]].buffer], s->dtype, i) == 0;
        if (s->op == TG_OP_CAST && !tgp_dtype_is_float(s->dtype) && s->dtype != TG_BOOL) {
            uint32_t from = kk->nodes[s->src[0]].dtype;
            if (!tgp_dtype_is_float(from)) return 0;
            double x = trunc(chk_get(data[kk->nodes[s->src[0]].buffer], from, i));
            int b = (int)kit_size(s->dtype) * 8;
            double lo = tgp_dtype_is_unsigned(s->dtype) ? 0 : -ldexp(1, b - 1);
            double hi = tgp_dtype_is_unsigned(s->dtype) ? ldexp(1, b) : ldexp(1, b - 1);
            return !(x >= lo && x < hi);
        }
    }
    return 0;
}

/* Run kk on vulkan and ref with the same inputs and compare every output
 * (OPS.md tolerances; nred > 0: float sums of nred terms of |x| <= 1). */
static void compare(kit_kernel *kk, const char *what, int fill, int64_t nred) {
    const tg_kernel *k = &kk->k;
    void *a[32] = {0}, *b[32] = {0};
    char err[2048] = "";
    for (uint32_t i = 0; i < k->nnodes; i++)
        if (!(vk_dtypes() >> k->nodes[i].dtype & 1)) {
            tap_skip("the device lacks a dtype of this kernel");
            return;
        }
    for (uint32_t i = 0; i < k->nparams; i++) {
        size_t bytes = (size_t)(k->params[i].count ? k->params[i].count : 1) * kit_size(k->params[i].dtype);
        a[i] = calloc(1, bytes);
        b[i] = calloc(1, bytes);
        if (k->params[i].access == TG_ACCESS_READ) chk_fill(a[i], k->params[i].dtype, k->params[i].count, fill);
        memcpy(b[i], a[i], bytes);
    }
    if (kit_run(&ref, k, b, 1, err, sizeof err) != 0) {
        tap_ok(0, "%s: ref: %s", what, err);
        goto out;
    }
    if (kit_run(&vk, k, a, 2, err, sizeof err) != 0) {
        tap_ok(0, "%s: %s", what, err);
        goto out;
    }
    int bad = 0;
    for (uint32_t n = 0; n < k->nnodes; n++) {
        const tg_node *st = &k->nodes[n];
        if (st->op != TG_OP_STORE) continue;
        const tg_node *src = &k->nodes[st->src[0]];
        uint32_t p = st->buffer, dt = st->dtype, op = src->op;
        int zero_sign = op != TG_OP_MAX && op != TG_OP_MULACC && op != TG_OP_REDUCE_SUM;
        for (int64_t i = 0; i < k->params[p].count && bad < 5; i++) {
            if (unspecified(kk, a, p, i)) continue;
            double g = chk_get(a[p], dt, i), w = chk_get(b[p], dt, i);
            int mant = dt == TG_FLOAT16 ? 10 : dt == TG_BFLOAT16 ? 7 : dt == TG_FLOAT32 ? 23 : 52;
            int good;
            if (nred > 0 && tgp_dtype_is_float(dt)) {
                double u = dt == TG_FLOAT64 ? ldexp(1, -53) : ldexp(1, -24);
                double tol = (double)nred * (double)nred * u + (w != 0 ? 2 * ldexp(1.0, ilogb(w) - mant) : 0);
                good = (isnan(g) && isnan(w)) || g == w || fabs(g - w) <= tol;
            } else if (op == TG_OP_MULACC && tgp_dtype_is_float(dt)) {
                double x = chk_get(a[k->nodes[src->src[0]].buffer], dt, i) * chk_get(a[k->nodes[src->src[1]].buffer], dt, i);
                double tol = (w != 0 && isfinite(w) ? ldexp(1.0, ilogb(w) - mant) : 0) + (x != 0 && isfinite(x) ? ldexp(1.0, ilogb(x) - mant) : 0);
                good = (isnan(g) && isnan(w)) || g == w || fabs(g - w) <= tol;
            } else if (op == TG_OP_SIN && fabs(chk_get(a[k->nodes[src->src[0]].buffer], dt, i)) > 1e4) {
                good = isnan(g) == isnan(w) && (isnan(g) || fabs(g) <= 1); /* large arguments */
            } else {
                good = chk_elem(op, dt, a[p], b[p], i, chk_ulps(op, dt), zero_sign);
            }
            if (!good) {
                bad++;
                tap_diag("%s: param %u [%lld]: vulkan %.17g ref %.17g", what, p, (long long)i, g, w);
            }
        }
    }
    tap_ok(bad == 0, "%s", what);
out:
    for (uint32_t i = 0; i < k->nparams; i++) {
        free(a[i]);
        free(b[i]);
    }
}

/* cols 41: one point per invocation; 48: vector mode (8 points; casts: 260, 4) */
static void test_ops(uint32_t dt, int64_t cols) {
    static const uint32_t unary[] = {TG_OP_EXP2, TG_OP_LOG2, TG_OP_SQRT, TG_OP_RECIP, TG_OP_NEG, TG_OP_SIN};
    static const uint32_t binary[] = {TG_OP_ADD, TG_OP_SUB, TG_OP_MUL, TG_OP_DIV, TG_OP_MOD, TG_OP_MAX, TG_OP_CMPLT};
    int64_t shape[2] = {3, cols}, n = 3 * cols;
    kit_kernel kk;
    char name[64];
    snprintf(name, sizeof name, "ops_%s_%lld", dtn[dt], (long long)cols);
    kit_init(&kk, 2, shape, 0, name);
    uint32_t v = kit_view(&kk, 2, shape, NULL, 0);
    int32_t la = kit_load(&kk, kit_param(&kk, dt, TG_ACCESS_READ, n), v, 1);
    int32_t lb = kit_load(&kk, kit_param(&kk, dt, TG_ACCESS_READ, n), v, 1);
    int32_t lc = kit_load(&kk, kit_param(&kk, dt, TG_ACCESS_READ, n), v, 1);
    int32_t lw = kit_load(&kk, kit_param(&kk, TG_BOOL, TG_ACCESS_READ, n), v, 1);
    int fl = tgp_dtype_is_float(dt), bo = dt == TG_BOOL;
    for (size_t i = 0; fl && i < sizeof unary / sizeof *unary; i++)
        kit_store(&kk, kit_param(&kk, dt, TG_ACCESS_WRITE, n), v, kit_node(&kk, unary[i], dt, la, -1, -1));
    if (!fl && !bo) kit_store(&kk, kit_param(&kk, dt, TG_ACCESS_WRITE, n), v, kit_node(&kk, TG_OP_NEG, dt, la, -1, -1));
    for (size_t i = 0; i < sizeof binary / sizeof *binary; i++) {
        uint32_t op = binary[i], rdt = op == TG_OP_CMPLT ? TG_BOOL : dt;
        if (bo && op != TG_OP_MAX && op != TG_OP_MUL && op != TG_OP_CMPLT) continue;
        kit_store(&kk, kit_param(&kk, rdt, TG_ACCESS_WRITE, n), v, kit_node(&kk, op, rdt, la, lb, -1));
    }
    kit_store(&kk, kit_param(&kk, dt, TG_ACCESS_WRITE, n), v, kit_node(&kk, TG_OP_WHERE, dt, lw, la, lb));
    if (!bo) kit_store(&kk, kit_param(&kk, dt, TG_ACCESS_WRITE, n), v, kit_node(&kk, TG_OP_MULACC, dt, la, lb, lc));
    compare(&kk, name, 0, 0);
}

static void test_casts(uint32_t from, int64_t n) {
    int64_t shape[1] = {n};
    kit_kernel kk;
    char name[64];
    snprintf(name, sizeof name, "cast_from_%s_%lld", dtn[from], (long long)n);
    kit_init(&kk, 1, shape, 0, name);
    uint32_t v = kit_view(&kk, 1, shape, NULL, 0);
    int32_t la = kit_load(&kk, kit_param(&kk, from, TG_ACCESS_READ, n), v, 1);
    for (uint32_t to = 0; to < TG_DTYPE_COUNT; to++)
        kit_store(&kk, kit_param(&kk, to, TG_ACCESS_WRITE, n), v, kit_node(&kk, TG_OP_CAST, to, la, -1, -1));
    compare(&kk, name, 0, 0);
}

static tg_view mkview(uint32_t ndim, const int64_t *shape, const int64_t *strides, int64_t off) {
    tg_view v;
    memset(&v, 0, sizeof v);
    v.ndim = ndim;
    v.offset = off;
    for (uint32_t d = 0; d < ndim; d++) { v.shape[d] = shape[d]; v.strides[d] = strides[d]; }
    return v;
}

/* out = load(view stack) + load(plain), and the view's load alone */
static void test_view(const char *what, uint32_t dt, const int64_t *shape, const tg_view *views, uint32_t nviews,
                      int64_t count) {
    kit_kernel kk;
    char name[80];
    snprintf(name, sizeof name, "%s_%s", what, dtn[dt]);
    kit_init(&kk, 2, shape, 0, name);
    for (uint32_t i = 0; i < nviews; i++) kk.views[i] = views[i];
    kk.k.nviews = nviews;
    int64_t n = shape[0] * shape[1];
    uint32_t out = kit_view(&kk, 2, shape, NULL, 0);
    int32_t la = kit_load(&kk, kit_param(&kk, dt, TG_ACCESS_READ, count), 0, nviews);
    int32_t lb = kit_load(&kk, kit_param(&kk, dt, TG_ACCESS_READ, n), out, 1);
    kit_store(&kk, kit_param(&kk, dt, TG_ACCESS_WRITE, n), out, kit_node(&kk, TG_OP_MAX, dt, la, lb, -1));
    kit_store(&kk, kit_param(&kk, dt, TG_ACCESS_WRITE, n), out, la);
    compare(&kk, name, 0, 0);
}

static void test_views(uint32_t dt) {
    int64_t s2[2] = {37, 5}, t2[2] = {1, 37}, s3[2] = {5, 37}, t3[2] = {0, 1}, t4[2] = {37, -1};
    tg_view v[2];
    v[0] = mkview(2, s2, t2, 0);
    test_view("view_permute", dt, s2, v, 1, 185);
    v[0] = mkview(2, s3, t3, 0);
    test_view("view_expand", dt, s3, v, 1, 37);
    v[0] = mkview(2, s3, t4, 36);
    test_view("view_flip", dt, s3, v, 1, 185);
    int64_t s5[2] = {7, 40}, t5[2] = {37, 1};
    v[0] = mkview(2, s5, t5, -(37 + 2));
    v[0].has_mask = 1;
    v[0].mask_lo[0] = 1; v[0].mask_hi[0] = 6; v[0].mask_lo[1] = 2; v[0].mask_hi[1] = 39;
    test_view("view_pad", dt, s5, v, 1, 185);
    int64_t s6[2] = {2, 12}, t6[2] = {2 * 37, 3};
    v[0] = mkview(2, s6, t6, 38);
    test_view("view_shrink_stride", dt, s6, v, 1, 185);
    int64_t c2[2] = {37, 1};
    v[0] = mkview(2, s2, t2, 0);
    v[1] = mkview(2, s3, c2, 0);
    test_view("view_stack", dt, s3, v, 2, 185);
    int64_t s8[2] = {9, 37}, t8[2] = {37, 1}, s9[2] = {3, 111}, t9[2] = {111, 1};
    v[0] = mkview(2, s8, t8, -2 * 37);
    v[0].has_mask = 1;
    v[0].mask_lo[0] = 2; v[0].mask_hi[0] = 7; v[0].mask_lo[1] = 0; v[0].mask_hi[1] = 37;
    v[1] = mkview(2, s9, t9, 0);
    test_view("view_stack_pad", dt, s9, v, 2, 185);
}

/* Vector mode with loads it cannot take as vectors: broadcast, offset not a
 * multiple of 4, permuted; and vector loads at an offset. */
static void test_vec_mixed(void) {
    int64_t shape[2] = {6, 8}, n = 48, bc[2] = {0, 1}, perm[2] = {1, 6};
    kit_kernel kk;
    kit_init(&kk, 2, shape, 0, "vec_mixed");
    uint32_t v = kit_view(&kk, 2, shape, NULL, 0), vb = kit_view(&kk, 2, shape, bc, 0);
    uint32_t v4 = kit_view(&kk, 2, shape, NULL, 4), v2 = kit_view(&kk, 2, shape, NULL, 2), vp = kit_view(&kk, 2, shape, perm, 0);
    uint32_t pa = kit_param(&kk, TG_FLOAT32, TG_ACCESS_READ, n + 4);
    int32_t a = kit_load(&kk, pa, v4, 1), b = kit_load(&kk, kit_param(&kk, TG_FLOAT32, TG_ACCESS_READ, 8), vb, 1);
    int32_t c = kit_load(&kk, pa, v2, 1), d = kit_load(&kk, kit_param(&kk, TG_FLOAT32, TG_ACCESS_READ, n), vp, 1);
    int32_t x = kit_node(&kk, TG_OP_ADD, TG_FLOAT32, kit_node(&kk, TG_OP_MUL, TG_FLOAT32, a, b, -1), c, -1);
    kit_store(&kk, kit_param(&kk, TG_FLOAT32, TG_ACCESS_WRITE, n), v, kit_node(&kk, TG_OP_SUB, TG_FLOAT32, x, d, -1));
    kit_store(&kk, kit_param(&kk, TG_FLOAT32, TG_ACCESS_WRITE, n), v, d);
    vk_spv_target t = {.wg_size = 64};
    char err[256] = "", *text = NULL;
    vk_spv_plan plan;
    tg_status st = vk_spv_generate(&kk.k, &t, &text, &plan, err, sizeof err);
    tap_ok(st == TG_OK && plan.layout.mode == TGL_THREAD && plan.layout.block == 8 && text && strstr(text, "%bufv0 = ") && strstr(text, "%bufv1 = ") &&
           !strstr(text, "%bufv2 = ") && strstr(text, "%bufv3 = "),
           "vector mode: vec4 moves through views with stride 1 along the neighbours (rows broadcast too), "
           "not an offset of 2 or a permutation %s", err);
    free(text);
    compare(&kk, "vec_mixed", 0, 0);
}

/* op over `axes` of [s0, s1] (optionally transposed input), + bias after */
static void test_reduce(const char *name, uint32_t op, uint32_t dt, int64_t s0, int64_t s1, uint32_t axes, int post,
                        int transposed) {
    int64_t shape[2] = {s0, s1}, oshape[2] = {axes & 1 ? 1 : s0, axes & 2 ? 1 : s1}, tstr[2] = {1, s0};
    kit_kernel kk;
    kit_init(&kk, 2, shape, axes, name);
    uint32_t vin = kit_view(&kk, 2, shape, transposed ? tstr : NULL, 0), vout = kit_view(&kk, 2, oshape, NULL, 0);
    int64_t on = oshape[0] * oshape[1];
    int32_t la = kit_load(&kk, kit_param(&kk, dt, TG_ACCESS_READ, s0 * s1), vin, 1);
    int32_t r = kit_node(&kk, op, dt, la, -1, -1);
    if (post) r = kit_node(&kk, TG_OP_ADD, dt, r, kit_load(&kk, kit_param(&kk, dt, TG_ACCESS_READ, on), vout, 1), -1);
    kit_store(&kk, kit_param(&kk, dt, TG_ACCESS_WRITE, on), vout, r);
    int64_t nred = (axes & 1 ? s0 : 1) * (axes & 2 ? s1 : 1);
    compare(&kk, name, 1, op == TG_OP_REDUCE_SUM ? nred : 0);
}

/* A at offset off, B at 2 off (vec4 reads need multiples of 4) */
static void test_matmul(uint32_t dt, int64_t M, int64_t N, int64_t K, int64_t off) {
    char name[80];
    snprintf(name, sizeof name, "matmul_bias_relu_%s_%lldx%lldx%lld_at%lld", dtn[dt], (long long)M, (long long)N, (long long)K,
             (long long)off);
    int64_t shape[3] = {M, N, K}, oshape[3] = {M, N, 1};
    int64_t as[3] = {K, 0, 1}, bs[3] = {0, 1, N}, cs[3] = {N, 1, 0}, bias[3] = {0, 1, 0};
    kit_kernel kk;
    kit_init(&kk, 3, shape, 4, name);
    uint32_t va = kit_view(&kk, 3, shape, as, off), vb = kit_view(&kk, 3, shape, bs, 2 * off);
    uint32_t vc = kit_view(&kk, 3, oshape, cs, 0), vbias = kit_view(&kk, 3, oshape, bias, 0);
    int32_t la = kit_load(&kk, kit_param(&kk, dt, TG_ACCESS_READ, M * K + off), va, 1);
    int32_t lb = kit_load(&kk, kit_param(&kk, dt, TG_ACCESS_READ, K * N + 2 * off), vb, 1);
    int32_t r = kit_node(&kk, TG_OP_REDUCE_SUM, dt, kit_node(&kk, TG_OP_MUL, dt, la, lb, -1), -1, -1);
    tg_scalar z = {.f = 0};
    r = kit_node(&kk, TG_OP_ADD, dt, r, kit_load(&kk, kit_param(&kk, dt, TG_ACCESS_READ, N), vbias, 1), -1);
    r = kit_node(&kk, TG_OP_MAX, dt, r, kit_const(&kk, dt, z), -1);
    kit_store(&kk, kit_param(&kk, dt, TG_ACCESS_WRITE, M * N), vc, r);
    compare(&kk, name, 1, K);
}

static void test_edges(void) {
    kit_kernel kk;
    kit_init(&kk, 0, NULL, 0, "scalar_add");
    uint32_t v = kit_view(&kk, 0, NULL, NULL, 0);
    tg_scalar c = {.f = 2.5};
    int32_t la = kit_load(&kk, kit_param(&kk, TG_FLOAT32, TG_ACCESS_READ, 1), v, 1);
    kit_store(&kk, kit_param(&kk, TG_FLOAT32, TG_ACCESS_WRITE, 1), v,
              kit_node(&kk, TG_OP_ADD, TG_FLOAT32, la, kit_const(&kk, TG_FLOAT32, c), -1));
    compare(&kk, "scalar_add", 0, 0);

    int64_t s[2] = {3, 0}, os[2] = {3, 1};
    uint32_t ops[2] = {TG_OP_REDUCE_SUM, TG_OP_REDUCE_MAX};
    for (int i = 0; i < 2; i++) {
        const char *name = i ? "empty_max" : "empty_sum";
        kit_init(&kk, 2, s, 2, name);
        uint32_t vi = kit_view(&kk, 2, s, NULL, 0), vo = kit_view(&kk, 2, os, NULL, 0);
        la = kit_load(&kk, kit_param(&kk, TG_INT32, TG_ACCESS_READ, 0), vi, 1);
        kit_store(&kk, kit_param(&kk, TG_INT32, TG_ACCESS_WRITE, 3), vo, kit_node(&kk, ops[i], TG_INT32, la, -1, -1));
        compare(&kk, name, 0, 0);
    }
    /* constant zeros: x + 0, x - (-0), x * 0, x / 0 keep IEEE signed zeros,
     * infinities and NaNs (no folding as if they did not exist) */
    uint32_t zdt[2] = {TG_FLOAT32, TG_FLOAT64};
    for (int i = 0; i < 2; i++) {
        const char *name = i ? "const_zero_f64" : "const_zero_f32";
        int64_t sh[1] = {200};
        kit_init(&kk, 1, sh, 0, name);
        uint32_t vv = kit_view(&kk, 1, sh, NULL, 0);
        int32_t x = kit_load(&kk, kit_param(&kk, zdt[i], TG_ACCESS_READ, 200), vv, 1);
        tg_scalar pz = {.f = 0.0}, nz = {.f = -0.0};
        int32_t cz = kit_const(&kk, zdt[i], pz), cn = kit_const(&kk, zdt[i], nz);
        uint32_t ops[4] = {TG_OP_ADD, TG_OP_SUB, TG_OP_MUL, TG_OP_DIV};
        for (int j = 0; j < 4; j++)
            kit_store(&kk, kit_param(&kk, zdt[i], TG_ACCESS_WRITE, 200), vv,
                      kit_node(&kk, ops[j], zdt[i], x, j == 1 ? cn : cz, -1));
        compare(&kk, name, 0, 0);
    }
    /* a fused chain: relu(a*b+c), c broadcast, in float32 and bfloat16 */
    uint32_t dts[2] = {TG_FLOAT32, TG_BFLOAT16};
    for (int i = 0; i < 2; i++) {
        const char *name = i ? "chain_relu_bf16" : "chain_relu_f32";
        int64_t sh[2] = {64, 500}, cst[2] = {0, 1};
        kit_init(&kk, 2, sh, 0, name);
        uint32_t vv = kit_view(&kk, 2, sh, NULL, 0), vc = kit_view(&kk, 2, sh, cst, 0);
        int32_t a = kit_load(&kk, kit_param(&kk, dts[i], TG_ACCESS_READ, 32000), vv, 1);
        int32_t b = kit_load(&kk, kit_param(&kk, dts[i], TG_ACCESS_READ, 32000), vv, 1);
        int32_t cc = kit_load(&kk, kit_param(&kk, dts[i], TG_ACCESS_READ, 500), vc, 1);
        tg_scalar zz = {.f = 0};
        int32_t x = kit_node(&kk, TG_OP_ADD, dts[i], kit_node(&kk, TG_OP_MUL, dts[i], a, b, -1), cc, -1);
        x = kit_node(&kk, TG_OP_MAX, dts[i], x, kit_const(&kk, dts[i], zz), -1);
        kit_store(&kk, kit_param(&kk, dts[i], TG_ACCESS_WRITE, 32000), vv, x);
        compare(&kk, name, 0, 0);
    }
}

/* y = x + 1 over n int32 (n large enough for several dispatches when
 * TG_VULKAN_MAX_GROUPS is low): launch, destroy the input and the program
 * while in flight, then read. */
static void test_async(void) {
    const int64_t n = 100003;
    int64_t shape[1] = {n};
    kit_kernel kk;
    kit_init(&kk, 1, shape, 0, "async_add1");
    uint32_t v = kit_view(&kk, 1, shape, NULL, 0);
    tg_scalar one = {.i = 1};
    int32_t la = kit_load(&kk, kit_param(&kk, TG_INT32, TG_ACCESS_READ, n), v, 1);
    kit_store(&kk, kit_param(&kk, TG_INT32, TG_ACCESS_WRITE, n), v,
              kit_node(&kk, TG_OP_ADD, TG_INT32, la, kit_const(&kk, TG_INT32, one), -1));
    const tg_plugin_api *api = vk.api;
    tg_program *prog = NULL;
    tg_buffer *b[2] = {0};
    int32_t *x = malloc(n * 4), *y = malloc(n * 4);
    for (int64_t i = 0; i < n; i++) x[i] = (int32_t)(i * 7 - 5);
    int ok = api->program_create(vk.dev, &kk.k, &prog) == TG_OK && api->buffer_create(vk.dev, n * 4, &b[0]) == TG_OK &&
             api->buffer_create(vk.dev, n * 4, &b[1]) == TG_OK && api->buffer_write(vk.dev, b[0], 0, x, n * 4) == TG_OK &&
             api->program_launch(vk.dev, prog, b, 2) == TG_OK;
    const char *src = ok ? api->program_source(vk.dev, prog) : NULL;
    tap_ok(src && strstr(src, "OpEntryPoint GLCompute") && strstr(src, "async_add1"), "program_source is SPIR-V assembly");
    api->program_destroy(vk.dev, prog); /* in flight: deferred */
    api->buffer_destroy(vk.dev, b[0]);
    memset(x, 0, n * 4); /* the plugin copied it */
    ok = ok && api->buffer_read(vk.dev, b[1], 0, y, n * 4) == TG_OK;
    int bad = 0;
    for (int64_t i = 0; ok && i < n; i++) bad += y[i] != (int32_t)(i * 7 - 4);
    tap_ok(ok && bad == 0, "async launch, input and program destroyed in flight (%d wrong)", bad);
    if (!ok) tap_diag("%s", api->device_error(vk.dev));
    api->buffer_destroy(vk.dev, b[1]);
    tap_ok(api->synchronize(vk.dev) == TG_OK, "synchronize with nothing in flight");
    free(x);
    free(y);
}

/* buffer_copy between buffers and within one (overlapping), ordered with
 * writes; buffer_map where the memory is host-visible. */
static void test_copy(void) {
    const tg_plugin_api *api = vk.api;
    int32_t x[300], y[300];
    for (int i = 0; i < 300; i++) x[i] = i;
    tg_buffer *a = NULL, *b = NULL;
    int ok = api->buffer_create(vk.dev, sizeof x, &a) == TG_OK && api->buffer_create(vk.dev, sizeof x, &b) == TG_OK &&
             api->buffer_write(vk.dev, a, 0, x, sizeof x) == TG_OK &&
             api->buffer_copy(vk.dev, b, 0, a, 0, sizeof x) == TG_OK &&
             api->buffer_copy(vk.dev, b, 40, a, 400, 200) == TG_OK &&  /* b[10..60) = a[100..150) */
             api->buffer_copy(vk.dev, a, 200, a, 0, 400) == TG_OK &&   /* a[50..150) = a[0..100) */
             api->buffer_read(vk.dev, b, 0, y, sizeof y) == TG_OK;
    int bad = 0;
    for (int i = 0; ok && i < 300; i++) bad += y[i] != (i >= 10 && i < 60 ? i + 90 : i);
    ok = ok && api->buffer_read(vk.dev, a, 0, y, sizeof y) == TG_OK;
    for (int i = 0; ok && i < 300; i++) bad += y[i] != (i >= 50 && i < 150 ? i - 50 : i);
    tap_ok(ok && bad == 0, "buffer_copy, also overlapping within one buffer (%d wrong)", bad);
    tg_caps caps = {.struct_size = sizeof caps};
    api->device_caps(vk.dev, &caps);
    void *p = NULL;
    if (caps.flags & TG_CAP_HOST_VISIBLE) {
        ok = api->buffer_map(vk.dev, b, &p) == TG_OK && p && memcmp(p, x, 40) == 0;
        tap_ok(ok, "buffer_map gives the buffer's memory");
    } else {
        tap_ok(api->buffer_map(vk.dev, b, &p) == TG_ERR_UNSUPPORTED, "buffer_map refused without host-visible memory");
    }
    tap_ok(api->buffer_write(vk.dev, a, 1196, x, 8) == TG_ERR_INVALID && strstr(api->device_error(vk.dev), "outside"),
           "a write past the end is refused: %s", api->device_error(vk.dev));
    api->buffer_destroy(vk.dev, a);
    api->buffer_destroy(vk.dev, b);
}

/* The generator and SPIRV-Tools alone: a 64-bit-index kernel validates; a
 * broken module is refused with the disassembly in the message. */
static void test_spirv(void) {
    vk_spv_target t = {.int64 = true, .float64 = true, .int16 = true, .int8 = true, .float16 = true, .storage8 = true,
                       .storage16 = true, .wg_size = 64};
    int64_t shape[2] = {3, INT64_C(1) << 31};
    kit_kernel kk;
    kit_init(&kk, 2, shape, 2, "huge_sum");
    int64_t os[2] = {3, 1};
    uint32_t vi = kit_view(&kk, 2, shape, NULL, 0), vo = kit_view(&kk, 2, os, NULL, 0);
    int32_t la = kit_load(&kk, kit_param(&kk, TG_FLOAT16, TG_ACCESS_READ, 3 * shape[1]), vi, 1);
    kit_store(&kk, kit_param(&kk, TG_FLOAT16, TG_ACCESS_WRITE, 3), vo, kit_node(&kk, TG_OP_REDUCE_SUM, TG_FLOAT16, la, -1, -1));
    char err[256] = "", *text = NULL, *msg = NULL;
    vk_spv_plan plan;
    uint32_t *words = NULL;
    size_t nwords = 0;
    tg_status st = vk_spv_generate(&kk.k, &t, &text, &plan, err, sizeof err);
    tap_ok(st == TG_OK && plan.idx64 && plan.layout.mode == TGL_GROUP && plan.npasses == 1 && strstr(text, "OpTypeInt 64"),
           "2^31-element reduction uses 64-bit indices (a work-group tree, unsplit: no binding left for partials)");
    st = st ? st : vk_spv_assemble(text, &words, &nwords, &msg);
    tap_ok(st == TG_OK && nwords > 5, "it assembles and validates");
    if (msg) tap_diag("%s", msg);
    free(text);
    free(words);
    free(msg);
    /* a long sum into few outputs is split over several groups per output */
    shape[1] = 100000;
    kit_init(&kk, 2, shape, 2, "split_sum");
    vi = kit_view(&kk, 2, shape, NULL, 0);
    vo = kit_view(&kk, 2, os, NULL, 0);
    la = kit_load(&kk, kit_param(&kk, TG_FLOAT32, TG_ACCESS_READ, 3 * shape[1]), vi, 1);
    kit_store(&kk, kit_param(&kk, TG_FLOAT32, TG_ACCESS_WRITE, 3), vo, kit_node(&kk, TG_OP_REDUCE_SUM, TG_FLOAT32, la, -1, -1));
    t.max_bindings = 8;
    st = vk_spv_generate(&kk.k, &t, &text, &plan, err, sizeof err);
    tap_ok(st == TG_OK && plan.npasses == 2 && plan.layout.split >= 2 && plan.groups[1] == 3 &&
           strstr(text, "%scratch"), "a 100000-term sum into 3 outputs is split (%d groups each)", plan.layout.split);
    st = st ? st : vk_spv_assemble(text, &words, &nwords, &msg);
    tap_ok(st == TG_OK, "the split reduction validates");
    free(text);
    free(words);
    free(msg);
    msg = NULL;
    words = NULL;
    t.int64 = false;
    st = vk_spv_generate(&kk.k, &t, &text, &plan, err, sizeof err);
    free(text);
    shape[1] = INT64_C(1) << 31;
    kit_init(&kk, 2, shape, 2, "huge_sum");
    vi = kit_view(&kk, 2, shape, NULL, 0);
    vo = kit_view(&kk, 2, os, NULL, 0);
    la = kit_load(&kk, kit_param(&kk, TG_FLOAT16, TG_ACCESS_READ, 3 * shape[1]), vi, 1);
    kit_store(&kk, kit_param(&kk, TG_FLOAT16, TG_ACCESS_WRITE, 3), vo, kit_node(&kk, TG_OP_REDUCE_SUM, TG_FLOAT16, la, -1, -1));
    st = vk_spv_generate(&kk.k, &t, &text, &plan, err, sizeof err);
    tap_ok(st == TG_ERR_UNSUPPORTED && strstr(err, "Int64"), "without shaderInt64 it is UNSUPPORTED: %s", err);
    free(text);

    const char *broken = "OpCapability Shader\nOpMemoryModel Logical GLSL450\nOpEntryPoint GLCompute %main \"main\"\n"
                         "OpExecutionMode %main LocalSize 1 1 1\n%void = OpTypeVoid\n%fn = OpTypeFunction %void\n"
                         "%u32 = OpTypeInt 32 0\n%f32 = OpTypeFloat 32\n%one = OpConstant %u32 1\n"
                         "%main = OpFunction %void None %fn\n%l = OpLabel\n%x = OpFAdd %f32 %one %one\n"
                         "OpReturn\nOpFunctionEnd\n";
    words = NULL;
    msg = NULL;
    st = vk_spv_assemble(broken, &words, &nwords, &msg);
    tap_ok(st == TG_ERR_COMPILE && msg && strstr(msg, "validation") && strstr(msg, "OpFAdd"),
           "invalid SPIR-V is refused with the diagnostic and the disassembly");
    free(words);
    free(msg);
}

static int no_device(const char *path) {
    void *dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    tg_plugin_entry_fn entry = dl ? (tg_plugin_entry_fn)dlsym(dl, TG_PLUGIN_ENTRY_NAME) : NULL;
    const char *why = NULL;
    const tg_plugin_api *api = entry ? entry(TG_ABI_MAJOR, TG_ABI_MINOR, &why) : NULL;
    tap_ok(api != NULL, "the plugin loads without a Vulkan driver");
    uint32_t n = 99;
    tg_status st = api ? api->device_count(&n) : TG_ERR_INTERNAL;
    tap_ok(st == TG_OK && n == 0, "device_count is 0 (%u)", n);
    tap_ok(api && strlen(api->plugin_error()) > 0, "plugin_error says why: %s", api ? api->plugin_error() : "");
    tg_device *d = NULL;
    tap_ok(api && api->device_create(0, &d) != TG_OK && d == NULL, "device_create(0) fails cleanly");
    return tap_done();
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s VULKAN_PLUGIN REF_PLUGIN|--no-device\n", argv[0]);
        return 2;
    }
    (void)kit_mask;
    if (!strcmp(argv[2], "--no-device")) return no_device(argv[1]);
    test_spirv();
    void *dl = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    tg_plugin_entry_fn entry = dl ? (tg_plugin_entry_fn)dlsym(dl, TG_PLUGIN_ENTRY_NAME) : NULL;
    const tg_plugin_api *api = entry ? entry(TG_ABI_MAJOR, TG_ABI_MINOR, NULL) : NULL;
    uint32_t n = 0;
    if (!api || api->device_count(&n) != TG_OK || n == 0) {
        tap_ok(api != NULL, "the plugin loads");
        tap_skip(api ? api->plugin_error() : "no plugin");
        return tap_done();
    }
    if (kit_open(&vk, argv[1]) != 0 || kit_open(&ref, argv[2]) != 0) {
        tap_ok(0, "open vulkan and ref");
        return tap_done();
    }
    tg_caps caps = {.struct_size = sizeof caps};
    vk.api->device_caps(vk.dev, &caps);
    tap_diag("device: %s (%s), dtypes 0x%x, flags 0x%x", caps.name, caps.driver, caps.dtypes, caps.flags);
    for (uint32_t dt = 0; dt < TG_DTYPE_COUNT; dt++) test_ops(dt, 41);
    for (uint32_t dt = 0; dt < TG_DTYPE_COUNT; dt++) test_ops(dt, 48);
    for (uint32_t dt = 0; dt < TG_DTYPE_COUNT; dt++) test_casts(dt, 257);
    for (uint32_t dt = 0; dt < TG_DTYPE_COUNT; dt++) test_casts(dt, 260);
    test_vec_mixed();
    uint32_t vdt[3] = {TG_FLOAT32, TG_INT16, TG_BOOL};
    for (int i = 0; i < 3; i++) test_views(vdt[i]);
    test_reduce("sum_f32_rows_loop", TG_OP_REDUCE_SUM, TG_FLOAT32, 20000, 40, 2, 0, 0);
    test_reduce("sum_f32_cols_tree_bias", TG_OP_REDUCE_SUM, TG_FLOAT32, 500, 64, 1, 1, 0);
    test_reduce("sum_f32_all_tree_transposed", TG_OP_REDUCE_SUM, TG_FLOAT32, 37, 290, 3, 0, 1);
    test_reduce("max_f32_tree", TG_OP_REDUCE_MAX, TG_FLOAT32, 2, 50000, 2, 1, 0);
    test_reduce("sum_f64_tree", TG_OP_REDUCE_SUM, TG_FLOAT64, 5, 3333, 2, 1, 0);
    test_reduce("sum_f16_tree", TG_OP_REDUCE_SUM, TG_FLOAT16, 5, 1000, 2, 0, 0);
    test_reduce("max_bf16_loop", TG_OP_REDUCE_MAX, TG_BFLOAT16, 50, 100, 1, 0, 0);
    test_reduce("sum_u8_wrap_tree", TG_OP_REDUCE_SUM, TG_UINT8, 50, 333, 1, 0, 0);
    test_reduce("sum_i64_tree", TG_OP_REDUCE_SUM, TG_INT64, 1, 20000, 2, 0, 0);
    test_reduce("sum_f32_split_bias", TG_OP_REDUCE_SUM, TG_FLOAT32, 3, 200000, 2, 1, 0);
    test_reduce("max_f64_split_transposed", TG_OP_REDUCE_MAX, TG_FLOAT64, 400, 300, 3, 0, 1);
    test_reduce("sum_i16_split_wrap", TG_OP_REDUCE_SUM, TG_INT16, 2, 140000, 2, 0, 0);
    test_reduce("any_bool_split", TG_OP_REDUCE_MAX, TG_BOOL, 1, 70000, 2, 0, 0);
    test_reduce("max_i16_tree", TG_OP_REDUCE_MAX, TG_INT16, 7, 900, 2, 0, 0);
    test_reduce("any_bool_tree", TG_OP_REDUCE_MAX, TG_BOOL, 7, 900, 2, 0, 0);
    test_reduce("any_bool_loop", TG_OP_REDUCE_MAX, TG_BOOL, 70, 30, 2, 0, 0);
    test_matmul(TG_FLOAT32, 70, 100, 64, 0);
    test_matmul(TG_FLOAT16, 17, 40, 50, 0);
    test_matmul(TG_FLOAT32, 130, 256, 100, 0); /* many outputs: 4 per invocation */
    test_matmul(TG_INT32, 33, 20, 30, 3);
    test_matmul(TG_FLOAT32, 5, 8, 16, 4);      /* vec4 reads of A and B at offsets */
    test_edges();
    test_async();
    test_copy();
    kit_close(&vk);
    /* the pipeline cache was written when the device closed */
    const char *cache = getenv("XDG_CACHE_HOME");
    if (cache) {
        char dir[1024];
        snprintf(dir, sizeof dir, "%s/tg", cache);
        DIR *dp = opendir(dir);
        struct dirent *e;
        long size = 0;
        while (dp && (e = readdir(dp))) {
            char path[1400];
            struct stat sb;
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            if (!strncmp(e->d_name, "vulkan-", 7) && strstr(e->d_name, ".pipelines") && stat(path, &sb) == 0)
                size = (long)sb.st_size;
        }
        if (dp) closedir(dp);
        tap_ok(size > 0, "pipeline cache written to %s (%ld bytes)", dir, size);
    }
    kit_close(&ref);
    return tap_done();
}
