/* tests/cpu/test_cpu_ops.c -- the cpu plugin against ref: every op on every
 * dtype, casts, views (permute, expand, flip, pad, shrink/stride, stacks),
 * reductions (both layouts, split over threads, empty), fused chains.
 * usage: test_cpu_ops CPU_PLUGIN.so REF_PLUGIN.so */
#include "../tap.h"
#include "check.h"

static kit_plugin cpu, ref;

static const char *tg_op_name_(uint32_t op) {
    static const char *const names[] = {"EXP2", "LOG2", "SQRT", "RECIP", "NEG", "SIN", "CAST", "ADD", "SUB", "MUL",
        "DIV", "MOD", "MAX", "CMPLT", "WHERE", "MULACC", "REDUCE_SUM", "REDUCE_MAX", "?", "?", "?", "?", "?", "?", "?",
        "LOAD", "CONST", "STORE"};
    return op < sizeof names / sizeof *names ? names[op] : "?";
}

/* Run kk on both plugins with the same random inputs; compare every output.
 * skip(i, out_param, inputs) may exclude elements whose value is unspecified. */
typedef int (*skip_fn)(const kit_kernel *kk, void *const *data, uint32_t param, int64_t i);

/* nred: elements summed per output when float sums are involved (tolerance), else 0 */
static int run_compare(kit_kernel *kk, const char *what, int fill_kind, skip_fn skip, int64_t nred) {
    const tg_kernel *k = &kk->k;
    void *a[32] = {0}, *b[32] = {0};
    char err[512] = "";
    int ok = 1;
    for (uint32_t i = 0; i < k->nparams; i++) {
        size_t bytes = (size_t)(k->params[i].count ? k->params[i].count : 1) * kit_size(k->params[i].dtype);
        a[i] = calloc(1, bytes);
        b[i] = calloc(1, bytes);
        if (k->params[i].access == TG_ACCESS_READ) {
            chk_fill(a[i], k->params[i].dtype, k->params[i].count, fill_kind);
            memcpy(b[i], a[i], bytes);
        } else {
            memset(a[i], 0xa5, bytes); /* garbage: every element must be written */
            memset(b[i], 0x5a, bytes);
        }
    }
    if (kit_run(&ref, k, b, 1, err, sizeof err) != 0) {
        tap_skip("ref cannot run this kernel");
        tap_diag("%s: ref: %s", what, err);
        goto out;
    }
    if (kit_run(&cpu, k, a, 2, err, sizeof err) != 0) {
        tap_ok(0, "%s: %s", what, err);
        goto out;
    }
    int bad = 0;
    for (uint32_t n = 0; n < k->nnodes && bad < 5; n++) {
        const tg_node *st = &k->nodes[n];
        if (st->op != TG_OP_STORE) continue;
        const tg_node *src = &k->nodes[st->src[0]];
        uint32_t p = st->buffer, dt = st->dtype, op = src->op;
        int zero_sign = op != TG_OP_MAX && op != TG_OP_MULACC && op != TG_OP_REDUCE_SUM;
        for (int64_t i = 0; i < k->params[p].count && bad < 5; i++) {
            if (skip && skip(kk, a, p, i)) continue;
            int64_t ulps = chk_ulps(op, dt);
            int good;
            if (nred > 0 && tgp_dtype_is_float(dt)) { /* a float sum: n*u*sum|x| with |x| <= 1, + 2 ulp */
                double g = chk_get(a[p], dt, i), w = chk_get(b[p], dt, i);
                double u = dt == TG_FLOAT64 ? ldexp(1, -53) : ldexp(1, -24);
                int mant = dt == TG_FLOAT16 ? 10 : dt == TG_BFLOAT16 ? 7 : dt == TG_FLOAT32 ? 23 : 52;
                double tol = (double)nred * (double)nred * u + (w != 0 && isfinite(w) ? 2 * ldexp(1.0, ilogb(w) - mant) : 0);
                good = (isnan(g) && isnan(w)) || g == w || fabs(g - w) <= tol;
            } else if (op == TG_OP_MULACC && tgp_dtype_is_float(dt)) {
                double g = chk_get(a[p], dt, i), w = chk_get(b[p], dt, i);
                double x = chk_get(a[src->src[0] < 0 ? 0 : kk->nodes[src->src[0]].buffer], dt, i) *
                           chk_get(a[kk->nodes[src->src[1]].buffer], dt, i);
                int mant = dt == TG_FLOAT16 ? 10 : dt == TG_BFLOAT16 ? 7 : dt == TG_FLOAT32 ? 23 : 52;
                double tol = (w != 0 && isfinite(w) ? ldexp(1.0, ilogb(w) - mant) : 0) +
                             (x != 0 && isfinite(x) ? ldexp(1.0, ilogb(x) - mant) : 0);
                good = (isnan(g) && isnan(w)) || g == w || fabs(g - w) <= tol;
            } else if (op == TG_OP_SIN && fabs(chk_get(a[kk->nodes[src->src[0]].buffer], dt, i)) > 1e4) {
                double g = chk_get(a[p], dt, i), w = chk_get(b[p], dt, i);
                good = isnan(g) == isnan(w) && (isnan(g) || fabs(g) <= 1);
            } else {
                good = chk_elem(op, dt, a[p], b[p], i, ulps, zero_sign);
            }
            if (!good) {
                bad++;
                tap_diag("%s: out %u (%s) [%lld]: cpu %.17g ref %.17g", what, p, tg_op_name_(op), (long long)i,
                         chk_get(a[p], dt, i), chk_get(b[p], dt, i));
            }
        }
    }
    ok = tap_ok(bad == 0, "%s", what);
out:
    for (uint32_t i = 0; i < k->nparams; i++) {
        free(a[i]);
        free(b[i]);
    }
    return ok;
}

static const char *dtn[TG_DTYPE_COUNT] = {"bool", "int8", "uint8", "int16", "uint16", "int32", "uint32",
                                          "int64", "uint64", "float16", "bfloat16", "float32", "float64"};

/* integer DIV/MOD by zero: unspecified value */
static int skip_div0(const kit_kernel *kk, void *const *data, uint32_t p, int64_t i) {
    for (uint32_t n = 0; n < kk->k.nnodes; n++) {
        const tg_node *st = &kk->nodes[n];
        if (st->op != TG_OP_STORE || st->buffer != p) continue;
        const tg_node *s = &kk->nodes[st->src[0]];
        if ((s->op == TG_OP_DIV || s->op == TG_OP_MOD) && !tgp_dtype_is_float(s->dtype))
            return chk_get(data[kk->nodes[s->src[1]].buffer], s->dtype, i) == 0;
    }
    return 0;
}

static void test_ops(uint32_t dt) {
    static const uint32_t unary[] = {TG_OP_EXP2, TG_OP_LOG2, TG_OP_SQRT, TG_OP_RECIP, TG_OP_NEG, TG_OP_SIN};
    static const uint32_t binary[] = {TG_OP_ADD, TG_OP_SUB, TG_OP_MUL, TG_OP_DIV, TG_OP_MOD, TG_OP_MAX, TG_OP_CMPLT};
    int64_t shape[2] = {5, 37}, n = 5 * 37;
    kit_kernel kk;
    char name[64];
    snprintf(name, sizeof name, "ops_%s", dtn[dt]);
    kit_init(&kk, 2, shape, 0, name);
    uint32_t v = kit_view(&kk, 2, shape, NULL, 0);
    uint32_t pa = kit_param(&kk, dt, TG_ACCESS_READ, n), pb = kit_param(&kk, dt, TG_ACCESS_READ, n);
    uint32_t pc = kit_param(&kk, dt, TG_ACCESS_READ, n), pw = kit_param(&kk, TG_BOOL, TG_ACCESS_READ, n);
    int32_t la = kit_load(&kk, pa, v, 1), lb = kit_load(&kk, pb, v, 1), lc = kit_load(&kk, pc, v, 1);
    int32_t lw = kit_load(&kk, pw, v, 1);
    int fl = tgp_dtype_is_float(dt), bo = dt == TG_BOOL;
    for (size_t i = 0; fl && i < sizeof unary / sizeof *unary; i++)
        kit_store(&kk, kit_param(&kk, dt, TG_ACCESS_WRITE, n), v, kit_node(&kk, unary[i], dt, la, -1, -1));
    if (!fl && !bo) kit_store(&kk, kit_param(&kk, dt, TG_ACCESS_WRITE, n), v, kit_node(&kk, TG_OP_NEG, dt, la, -1, -1));
    for (size_t i = 0; i < sizeof binary / sizeof *binary; i++) {
        uint32_t op = binary[i];
        if (bo && op != TG_OP_MAX && op != TG_OP_MUL && op != TG_OP_CMPLT) continue;
        uint32_t rdt = op == TG_OP_CMPLT ? TG_BOOL : dt;
        kit_store(&kk, kit_param(&kk, rdt, TG_ACCESS_WRITE, n), v, kit_node(&kk, op, rdt, la, lb, -1));
    }
    kit_store(&kk, kit_param(&kk, dt, TG_ACCESS_WRITE, n), v, kit_node(&kk, TG_OP_WHERE, dt, lw, la, lb));
    if (!bo) kit_store(&kk, kit_param(&kk, dt, TG_ACCESS_WRITE, n), v, kit_node(&kk, TG_OP_MULACC, dt, la, lb, lc));
    run_compare(&kk, name, 0, skip_div0, 0);
}

/* float -> int casts out of range: unspecified */
static int skip_cast(const kit_kernel *kk, void *const *data, uint32_t p, int64_t i) {
    uint32_t to = kk->params[p].dtype, from = kk->params[0].dtype;
    if (!tgp_dtype_is_float(from) || tgp_dtype_is_float(to) || to == TG_BOOL) return 0;
    double x = trunc(chk_get(data[0], from, i));
    int b = (int)kit_size(to) * 8;
    double lo = tgp_dtype_is_unsigned(to) ? 0 : -ldexp(1, b - 1), hi = tgp_dtype_is_unsigned(to) ? ldexp(1, b) : ldexp(1, b - 1);
    return !(x >= lo && x < hi);
}

static void test_casts(uint32_t from) {
    int64_t shape[1] = {301};
    kit_kernel kk;
    char name[64];
    snprintf(name, sizeof name, "cast_from_%s", dtn[from]);
    kit_init(&kk, 1, shape, 0, name);
    uint32_t v = kit_view(&kk, 1, shape, NULL, 0);
    int32_t la = kit_load(&kk, kit_param(&kk, from, TG_ACCESS_READ, 301), v, 1);
    for (uint32_t to = 0; to < TG_DTYPE_COUNT; to++)
        kit_store(&kk, kit_param(&kk, to, TG_ACCESS_WRITE, 301), v, kit_node(&kk, TG_OP_CAST, to, la, -1, -1));
    run_compare(&kk, name, 0, skip_cast, 0);
}

/* One load through a view (stack) of shape `shape`, then op with a second plain load. */
static void test_view(const char *name, uint32_t dt, uint32_t ndim, const int64_t *shape, const tg_view *views,
                      uint32_t nviews, int64_t count) {
    kit_kernel kk;
    kit_init(&kk, ndim, shape, 0, name);
    for (uint32_t i = 0; i < nviews; i++) kk.views[i] = views[i];
    kk.k.nviews = nviews;
    int64_t n = 1;
    for (uint32_t d = 0; d < ndim; d++) n *= shape[d];
    uint32_t out = kit_view(&kk, ndim, shape, NULL, 0);
    int32_t la = kit_load(&kk, kit_param(&kk, dt, TG_ACCESS_READ, count), 0, nviews);
    int32_t lb = kit_load(&kk, kit_param(&kk, dt, TG_ACCESS_READ, n), out, 1);
    int32_t s = kit_node(&kk, TG_OP_MAX, dt, la, lb, -1);
    kit_store(&kk, kit_param(&kk, dt, TG_ACCESS_WRITE, n), out, s);
    kit_store(&kk, kit_param(&kk, dt, TG_ACCESS_WRITE, n), out, la);
    run_compare(&kk, name, 0, NULL, 0);
}

static tg_view mkview(uint32_t ndim, const int64_t *shape, const int64_t *strides, int64_t off) {
    tg_view v;
    memset(&v, 0, sizeof v);
    v.ndim = ndim;
    v.offset = off;
    for (uint32_t d = 0; d < ndim; d++) { v.shape[d] = shape[d]; v.strides[d] = strides[d]; }
    return v;
}

static void test_views(uint32_t dt) {
    char name[80];
    int64_t s2[2] = {37, 5}, t2[2] = {1, 37};
    tg_view v[2];
    v[0] = mkview(2, s2, t2, 0);
    snprintf(name, sizeof name, "view_permute_%s", dtn[dt]);
    test_view(name, dt, 2, s2, v, 1, 185);
    int64_t s3[2] = {5, 37}, t3[2] = {0, 1};
    v[0] = mkview(2, s3, t3, 0);
    snprintf(name, sizeof name, "view_expand_%s", dtn[dt]);
    test_view(name, dt, 2, s3, v, 1, 37);
    int64_t t4[2] = {37, -1};
    v[0] = mkview(2, s3, t4, 36);
    snprintf(name, sizeof name, "view_flip_%s", dtn[dt]);
    test_view(name, dt, 2, s3, v, 1, 185);
    int64_t s5[2] = {7, 40}, t5[2] = {37, 1}, lo5[2] = {1, 2}, hi5[2] = {6, 39};
    v[0] = mkview(2, s5, t5, -(37 + 2));
    v[0].has_mask = 1;
    for (int d = 0; d < 2; d++) { v[0].mask_lo[d] = lo5[d]; v[0].mask_hi[d] = hi5[d]; }
    snprintf(name, sizeof name, "view_pad_%s", dtn[dt]);
    test_view(name, dt, 2, s5, v, 1, 185);
    int64_t s6[2] = {2, 12}, t6[2] = {2 * 37, 3};
    v[0] = mkview(2, s6, t6, 38);
    snprintf(name, sizeof name, "view_shrink_stride_%s", dtn[dt]);
    test_view(name, dt, 2, s6, v, 1, 185);
    /* stack: a transposed [37,5] view read through a reshape to [5,37] */
    int64_t c2[2] = {37, 1};
    v[0] = mkview(2, s2, t2, 0);
    v[1] = mkview(2, s3, c2, 0);
    snprintf(name, sizeof name, "view_stack_%s", dtn[dt]);
    test_view(name, dt, 2, s3, v, 2, 185);
    /* stack with a padded lower view: [9,37] padded rows of a [5,37] buffer, reshaped to [3,111] */
    int64_t s8[2] = {9, 37}, t8[2] = {37, 1}, s9[2] = {3, 111}, t9[2] = {111, 1};
    v[0] = mkview(2, s8, t8, -2 * 37);
    v[0].has_mask = 1;
    v[0].mask_lo[0] = 2; v[0].mask_hi[0] = 7; v[0].mask_lo[1] = 0; v[0].mask_hi[1] = 37;
    v[1] = mkview(2, s9, t9, 0);
    snprintf(name, sizeof name, "view_stack_pad_%s", dtn[dt]);
    test_view(name, dt, 2, s9, v, 2, 185);
}

/* sum/max of f(a) over reduce_axes of [s0, s1], with a post op (ADD bias) when post. */
static void test_reduce(const char *name, uint32_t op, uint32_t dt, int64_t s0, int64_t s1, uint32_t axes, int post,
                        int transposed) {
    int64_t shape[2] = {s0, s1}, oshape[2] = {axes & 1 ? 1 : s0, axes & 2 ? 1 : s1};
    kit_kernel kk;
    kit_init(&kk, 2, shape, axes, name);
    int64_t tstr[2] = {1, s0};
    uint32_t vin = kit_view(&kk, 2, shape, transposed ? tstr : NULL, 0);
    uint32_t vout = kit_view(&kk, 2, oshape, NULL, 0);
    int64_t on = oshape[0] * oshape[1];
    int32_t la = kit_load(&kk, kit_param(&kk, dt, TG_ACCESS_READ, s0 * s1), vin, 1);
    int32_t r = kit_node(&kk, op, dt, la, -1, -1);
    if (post) {
        int32_t lb = kit_load(&kk, kit_param(&kk, dt, TG_ACCESS_READ, on), vout, 1);
        r = kit_node(&kk, TG_OP_ADD, dt, r, lb, -1);
    }
    kit_store(&kk, kit_param(&kk, dt, TG_ACCESS_WRITE, on), vout, r);
    int64_t nred = (axes & 1 ? s0 : 1) * (axes & 2 ? s1 : 1);
    run_compare(&kk, name, 1, NULL, op == TG_OP_REDUCE_SUM ? nred : 0);
}

/* C[m,n] = post(sum_k A[m,k]*B[k,n]); with post: relu(C + bias[n]) */
static void test_matmul(uint32_t dt, int64_t M, int64_t N, int64_t K, int post, int bt) {
    char name[80];
    snprintf(name, sizeof name, "matmul_%s_%lldx%lldx%lld%s%s", dtn[dt], (long long)M, (long long)N, (long long)K,
             post ? "_bias_relu" : "", bt ? "_bT" : "");
    int64_t shape[3] = {M, N, K}, oshape[3] = {M, N, 1};
    kit_kernel kk;
    kit_init(&kk, 3, shape, 4, name);
    int64_t as[3] = {K, 0, 1}, bs[3] = {0, 1, N}, bst[3] = {0, K, 1}, cs[3] = {N, 1, 0}, bias[3] = {0, 1, 0};
    uint32_t va = kit_view(&kk, 3, shape, as, 0), vb = kit_view(&kk, 3, shape, bt ? bst : bs, 0);
    uint32_t vc = kit_view(&kk, 3, oshape, cs, 0), vbias = kit_view(&kk, 3, oshape, bias, 0);
    int32_t la = kit_load(&kk, kit_param(&kk, dt, TG_ACCESS_READ, M * K), va, 1);
    int32_t lb = kit_load(&kk, kit_param(&kk, dt, TG_ACCESS_READ, K * N), vb, 1);
    int32_t m = kit_node(&kk, TG_OP_MUL, dt, la, lb, -1);
    int32_t r = kit_node(&kk, TG_OP_REDUCE_SUM, dt, m, -1, -1);
    if (post) {
        int32_t lbias = kit_load(&kk, kit_param(&kk, dt, TG_ACCESS_READ, N), vbias, 1);
        tg_scalar z = {.f = 0};
        r = kit_node(&kk, TG_OP_ADD, dt, r, lbias, -1);
        r = kit_node(&kk, TG_OP_MAX, dt, r, kit_const(&kk, dt, z), -1);
    }
    kit_store(&kk, kit_param(&kk, dt, TG_ACCESS_WRITE, M * N), vc, r);
    run_compare(&kk, name, 1, NULL, K);
}

/* conv2d with padding 1 as a reduction over [N, O, H, W, C, R, R]; x read
 * through a stack (padded view, then a window view); post: + bias[o]. */
static void test_conv(uint32_t dt, int64_t N, int64_t C, int64_t O, int64_t H, int64_t W) {
    const int64_t R = 3;
    char name[80];
    snprintf(name, sizeof name, "conv_%s_%lldx%lldx%lldx%lldx%lld", dtn[dt], (long long)N, (long long)C, (long long)O,
             (long long)H, (long long)W);
    kit_kernel kk;
    int64_t shape[7] = {N, O, H, W, C, R, R}, os[7] = {N, O, H, W, 1, 1, 1};
    kit_init(&kk, 7, shape, (1u << 4) | (1u << 5) | (1u << 6), name);
    int64_t ps[4] = {N, C, H + 2, W + 2}, pst[4] = {C * H * W, H * W, W, 1};
    uint32_t v0 = kit_view(&kk, 4, ps, pst, -(W + 1));
    int64_t lo[4] = {0, 0, 1, 1}, hi[4] = {N, C, H + 1, W + 1};
    kit_mask(&kk, v0, lo, hi);
    int64_t wst[7] = {C * (H + 2) * (W + 2), 0, W + 2, 1, (H + 2) * (W + 2), W + 2, 1};
    kit_view(&kk, 7, shape, wst, 0);
    int64_t fst[7] = {0, C * R * R, 0, 0, R * R, R, 1}, ost[7] = {O * H * W, H * W, W, 1, 0, 0, 0};
    int64_t bst[7] = {0, 1, 0, 0, 0, 0, 0};
    uint32_t vf = kit_view(&kk, 7, shape, fst, 0), vo = kit_view(&kk, 7, os, ost, 0), vbias = kit_view(&kk, 7, os, bst, 0);
    int32_t x = kit_load(&kk, kit_param(&kk, dt, TG_ACCESS_READ, N * C * H * W), v0, 2);
    int32_t f = kit_load(&kk, kit_param(&kk, dt, TG_ACCESS_READ, O * C * R * R), vf, 1);
    int32_t r = kit_node(&kk, TG_OP_REDUCE_SUM, dt, kit_node(&kk, TG_OP_MUL, dt, x, f, -1), -1, -1);
    int32_t bias = kit_load(&kk, kit_param(&kk, dt, TG_ACCESS_READ, O), vbias, 1);
    kit_store(&kk, kit_param(&kk, dt, TG_ACCESS_WRITE, N * O * H * W), vo, kit_node(&kk, TG_OP_ADD, dt, r, bias, -1));
    run_compare(&kk, name, 1, NULL, C * R * R);
}

/* batched matmul: [B, M, N, K], reduce K */
static void test_bmm(void) {
    const int64_t B = 3, M = 13, N = 40, K = 21;
    kit_kernel kk;
    int64_t shape[4] = {B, M, N, K}, os[4] = {B, M, N, 1};
    kit_init(&kk, 4, shape, 8, "bmm_f32");
    int64_t as[4] = {M * K, K, 0, 1}, bs[4] = {K * N, 0, 1, N}, cs[4] = {M * N, N, 1, 0};
    uint32_t va = kit_view(&kk, 4, shape, as, 0), vb = kit_view(&kk, 4, shape, bs, 0), vc = kit_view(&kk, 4, os, cs, 0);
    int32_t a = kit_load(&kk, kit_param(&kk, TG_FLOAT32, TG_ACCESS_READ, B * M * K), va, 1);
    int32_t b = kit_load(&kk, kit_param(&kk, TG_FLOAT32, TG_ACCESS_READ, B * K * N), vb, 1);
    int32_t r = kit_node(&kk, TG_OP_REDUCE_SUM, TG_FLOAT32, kit_node(&kk, TG_OP_MUL, TG_FLOAT32, b, a, -1), -1, -1);
    kit_store(&kk, kit_param(&kk, TG_FLOAT32, TG_ACCESS_WRITE, B * M * N), vc, r);
    run_compare(&kk, "bmm_f32", 1, NULL, K);
}

static void test_misc(void) {
    /* a scalar kernel (ndim 0): a + 2.5 */
    kit_kernel kk;
    kit_init(&kk, 0, NULL, 0, "scalar_add");
    uint32_t v = kit_view(&kk, 0, NULL, NULL, 0);
    tg_scalar c = {.f = 2.5};
    int32_t la = kit_load(&kk, kit_param(&kk, TG_FLOAT32, TG_ACCESS_READ, 1), v, 1);
    kit_store(&kk, kit_param(&kk, TG_FLOAT32, TG_ACCESS_WRITE, 1), v,
              kit_node(&kk, TG_OP_ADD, TG_FLOAT32, la, kit_const(&kk, TG_FLOAT32, c), -1));
    run_compare(&kk, "scalar_add", 0, NULL, 0);

    /* an empty reduction gives the identity; an empty output stores nothing */
    int64_t s[2] = {3, 0}, os[2] = {3, 1};
    uint32_t ops[2] = {TG_OP_REDUCE_SUM, TG_OP_REDUCE_MAX};
    for (int i = 0; i < 2; i++) {
        kit_init(&kk, 2, s, 2, i ? "empty_max" : "empty_sum");
        uint32_t vi = kit_view(&kk, 2, s, NULL, 0), vo = kit_view(&kk, 2, os, NULL, 0);
        la = kit_load(&kk, kit_param(&kk, TG_FLOAT32, TG_ACCESS_READ, 0), vi, 1);
        kit_store(&kk, kit_param(&kk, TG_FLOAT32, TG_ACCESS_WRITE, 3), vo, kit_node(&kk, ops[i], TG_FLOAT32, la, -1, -1));
        run_compare(&kk, i ? "empty_max" : "empty_sum", 0, NULL, 0);
    }
    int64_t z[2] = {0, 5};
    kit_init(&kk, 2, z, 0, "empty_out");
    v = kit_view(&kk, 2, z, NULL, 0);
    la = kit_load(&kk, kit_param(&kk, TG_INT32, TG_ACCESS_READ, 0), v, 1);
    kit_store(&kk, kit_param(&kk, TG_INT32, TG_ACCESS_WRITE, 0), v, kit_node(&kk, TG_OP_NEG, TG_INT32, la, -1, -1));
    run_compare(&kk, "empty_out", 0, NULL, 0);

    /* float16 chains: every intermediate is rounded to float16 (RECIP of a
     * subnormal overflows to inf before the MULACC sees it) */
    uint32_t hdts[2] = {TG_FLOAT16, TG_BFLOAT16};
    for (int i = 0; i < 2; i++) {
        int64_t sh[1] = {999};
        kit_init(&kk, 1, sh, 0, i ? "chain_recip_mulacc_bf16" : "chain_recip_mulacc_f16");
        uint32_t vv = kit_view(&kk, 1, sh, NULL, 0);
        int32_t a = kit_load(&kk, kit_param(&kk, hdts[i], TG_ACCESS_READ, 999), vv, 1);
        int32_t b = kit_load(&kk, kit_param(&kk, hdts[i], TG_ACCESS_READ, 999), vv, 1);
        int32_t r = kit_node(&kk, TG_OP_RECIP, hdts[i], a, -1, -1);
        int32_t e = kit_node(&kk, TG_OP_MUL, hdts[i], r, b, -1);
        kit_store(&kk, kit_param(&kk, hdts[i], TG_ACCESS_WRITE, 999), vv, kit_node(&kk, TG_OP_MULACC, hdts[i], r, a, b));
        kit_store(&kk, kit_param(&kk, hdts[i], TG_ACCESS_WRITE, 999), vv, kit_node(&kk, TG_OP_SUB, hdts[i], e, r, -1));
        run_compare(&kk, i ? "chain_recip_mulacc_bf16" : "chain_recip_mulacc_f16", 0, NULL, 0);
    }

    /* fused chain: relu(a*b+c) with a broadcast c, f32 and bf16 */
    uint32_t dts[2] = {TG_FLOAT32, TG_BFLOAT16};
    for (int i = 0; i < 2; i++) {
        int64_t sh[2] = {64, 1000}, cst[2] = {0, 1};
        kit_init(&kk, 2, sh, 0, i ? "chain_relu_bf16" : "chain_relu_f32");
        uint32_t vv = kit_view(&kk, 2, sh, NULL, 0), vc = kit_view(&kk, 2, sh, cst, 0);
        int32_t a = kit_load(&kk, kit_param(&kk, dts[i], TG_ACCESS_READ, 64000), vv, 1);
        int32_t b = kit_load(&kk, kit_param(&kk, dts[i], TG_ACCESS_READ, 64000), vv, 1);
        int32_t cc = kit_load(&kk, kit_param(&kk, dts[i], TG_ACCESS_READ, 1000), vc, 1);
        tg_scalar zz = {.f = 0};
        int32_t x = kit_node(&kk, TG_OP_ADD, dts[i], kit_node(&kk, TG_OP_MUL, dts[i], a, b, -1), cc, -1);
        x = kit_node(&kk, TG_OP_MAX, dts[i], x, kit_const(&kk, dts[i], zz), -1);
        kit_store(&kk, kit_param(&kk, dts[i], TG_ACCESS_WRITE, 64000), vv, x);
        run_compare(&kk, i ? "chain_relu_bf16" : "chain_relu_f32", 0, NULL, 0);
    }
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s CPU_PLUGIN REF_PLUGIN\n", argv[0]);
        return 2;
    }
    if (kit_open(&cpu, argv[1]) != 0 || kit_open(&ref, argv[2]) != 0) {
        tap_ok(0, "open plugins");
        return tap_done();
    }
    for (uint32_t dt = 0; dt < TG_DTYPE_COUNT; dt++) test_ops(dt);
    for (uint32_t dt = 0; dt < TG_DTYPE_COUNT; dt++) test_casts(dt);
    uint32_t vdt[4] = {TG_FLOAT32, TG_INT16, TG_FLOAT16, TG_BOOL};
    for (int i = 0; i < 4; i++) test_views(vdt[i]);
    struct { uint32_t op, dt; int64_t s0, s1; uint32_t axes; int post, tr; const char *name; } red[] = {
        {TG_OP_REDUCE_SUM, TG_FLOAT32, 64, 300, 2, 0, 0, "sum_f32_inner"},
        {TG_OP_REDUCE_SUM, TG_FLOAT32, 300, 64, 1, 1, 0, "sum_f32_outer_bias"},
        {TG_OP_REDUCE_SUM, TG_FLOAT32, 300, 64, 2, 0, 1, "sum_f32_transposed"},
        {TG_OP_REDUCE_SUM, TG_FLOAT32, 37, 29, 3, 0, 0, "sum_f32_all"},
        {TG_OP_REDUCE_SUM, TG_FLOAT32, 1, 300000, 2, 0, 0, "sum_f32_split"},
        {TG_OP_REDUCE_SUM, TG_FLOAT32, 3000, 100, 1, 1, 0, "sum_f32_split_outer"},
        {TG_OP_REDUCE_MAX, TG_FLOAT32, 2, 100000, 2, 1, 0, "max_f32_split"},
        {TG_OP_REDUCE_MAX, TG_FLOAT32, 64, 301, 2, 0, 0, "max_f32_inner"},
        {TG_OP_REDUCE_MAX, TG_FLOAT32, 301, 64, 1, 0, 0, "max_f32_outer"},
        {TG_OP_REDUCE_SUM, TG_FLOAT64, 50, 333, 2, 1, 0, "sum_f64"},
        {TG_OP_REDUCE_SUM, TG_FLOAT16, 50, 100, 2, 0, 0, "sum_f16"},
        {TG_OP_REDUCE_MAX, TG_BFLOAT16, 50, 100, 1, 0, 0, "max_bf16"},
        {TG_OP_REDUCE_SUM, TG_INT32, 50, 333, 2, 1, 0, "sum_i32"},
        {TG_OP_REDUCE_SUM, TG_UINT8, 50, 333, 1, 0, 0, "sum_u8_wrap"},
        {TG_OP_REDUCE_SUM, TG_INT64, 1, 200000, 2, 0, 0, "sum_i64_split"},
        {TG_OP_REDUCE_MAX, TG_INT16, 70, 90, 2, 0, 0, "max_i16"},
        {TG_OP_REDUCE_MAX, TG_UINT32, 70, 90, 1, 0, 0, "max_u32"},
        {TG_OP_REDUCE_MAX, TG_BOOL, 70, 90, 2, 0, 0, "any_bool"},
    };
    for (size_t i = 0; i < sizeof red / sizeof *red; i++)
        test_reduce(red[i].name, red[i].op, red[i].dt, red[i].s0, red[i].s1, red[i].axes, red[i].post, red[i].tr);
    test_matmul(TG_FLOAT32, 33, 47, 29, 0, 0);
    test_matmul(TG_FLOAT32, 70, 100, 64, 1, 0);
    test_matmul(TG_FLOAT32, 64, 96, 80, 0, 1);
    test_matmul(TG_FLOAT64, 17, 40, 50, 1, 0);
    test_matmul(TG_FLOAT16, 17, 40, 50, 0, 0);
    test_conv(TG_FLOAT32, 2, 3, 7, 5, 20);
    test_conv(TG_FLOAT64, 1, 2, 4, 4, 17);
    test_conv(TG_FLOAT32, 1, 2, 3, 4, 6);
    test_bmm();
    test_misc();
    kit_close(&cpu);
    kit_close(&ref);
    return tap_done();
}
