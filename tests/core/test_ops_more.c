/* Issue 17's extra ops: forward values against numpy's
 * (tests/core/golden/ops_more.txt, made by gen_golden_more.py) on ref and
 * cpu, gradients against central differences in float64 on ref, exact bits
 * (-0, NaN payloads, int64 extremes), and the errors of bad input.
 * Usage: test_ops_more GOLDEN_FILE */
#include <stdint.h>
#include "golden.h"

static int iarg(const gcase *c, int i) { return (int)c->args[i]; }

static tg_tensor *run(const gcase *c, tg_tensor **in) {
    const char *op = c->op;
    tg_tensor *x = in[0], *v = NULL, *ix = NULL;
#define U(name) if (!strcmp(op, #name)) return tg_##name(x)
#define B(name) if (!strcmp(op, #name)) return tg_##name(in[0], in[1])
#define A(name) if (!strcmp(op, #name)) return tg_##name(x, iarg(c, 0))
    U(floor); U(ceil); U(round); U(trunc); U(frac); U(asin); U(acos); U(atan); U(sinh); U(cosh); U(asinh);
    U(acosh); U(atanh); U(isnan); U(isinf); U(isfinite); U(selu); U(relu6); U(hardsigmoid); U(hardswish);
    U(mish); U(softsign); U(logsigmoid); U(quick_gelu); U(bitwise_not);
    B(atan2); B(bitwise_and); B(bitwise_or); B(bitwise_xor);
    A(cumsum); A(cumprod); A(cummax); A(cummin); A(logcumsumexp); A(lshift); A(rshift);
    if (!strcmp(op, "lerp")) return tg_lerp(in[0], in[1], in[2]);
    if (!strcmp(op, "elu")) return tg_elu(x, c->args[0]);
    if (!strcmp(op, "celu")) return tg_celu(x, c->args[0]);
    if (!strcmp(op, "hardtanh")) return tg_hardtanh(x, c->args[0], c->args[1]);
    if (!strcmp(op, "argsort")) return tg_argsort(x, iarg(c, 0), iarg(c, 1));
    if (!strcmp(op, "sort_values")) return tg_sort(x, iarg(c, 0), iarg(c, 1), &v, &ix) == TG_OK ? v : NULL;
    int64_t pads[6];
    for (int i = 0; i < 6 && i < c->nargs; i++) pads[i] = iarg(c, i);
    if (!strcmp(op, "pad_reflect")) return tg_pad_mode(x, pads, TG_PAD_REFLECT);
    if (!strcmp(op, "pad_replicate")) return tg_pad_mode(x, pads, TG_PAD_REPLICATE);
    if (!strcmp(op, "pad_circular")) return tg_pad_mode(x, pads, TG_PAD_CIRCULAR);
    return NULL;
}

/* ------------------------------------------------------------ gradients */

typedef tg_tensor *(*gfn)(tg_tensor **x);
#define F(name, expr) static tg_tensor *name(tg_tensor **x) { return expr; }
F(g_frac, tg_frac(x[0]))
F(g_asin, tg_asin(x[0]))
F(g_acos, tg_acos(x[0]))
F(g_atan, tg_atan(tg_muls(x[0], 3)))
F(g_atan2, tg_atan2(x[0], x[1]))
F(g_sinh, tg_sinh(tg_muls(x[0], 2)))
F(g_cosh, tg_cosh(tg_muls(x[0], 2)))
F(g_asinh, tg_asinh(tg_muls(x[0], 3)))
F(g_acosh, tg_acosh(tg_adds(tg_abs(tg_muls(x[0], 3)), 1.05)))
F(g_atanh, tg_atanh(x[0]))
F(g_lerp, tg_lerp(x[0], x[1], x[2]))
F(g_elu, tg_elu(x[0], 0.7))
F(g_celu, tg_celu(x[0], 1.5))
F(g_selu, tg_selu(x[0]))
F(g_hardtanh, tg_hardtanh(x[0], -0.5, 0.6))
F(g_hardswish, tg_hardswish(tg_muls(x[0], 3)))
F(g_mish, tg_mish(x[0]))
F(g_softsign, tg_softsign(x[0]))
F(g_logsigmoid, tg_logsigmoid(x[0]))
F(g_quick_gelu, tg_quick_gelu(x[0]))
F(g_cumsum, tg_cumsum(x[0], 1))
F(g_cumprod, tg_cumprod(x[0], 1))
F(g_cummax, tg_cummax(x[0], 1))
F(g_cummin, tg_cummin(x[0], 0))
F(g_lcse, tg_logcumsumexp(tg_muls(x[0], 4), 1))
F(g_pad_reflect, tg_pad_mode(x[0], (int64_t[]){1, 2, 3, 0}, TG_PAD_REFLECT))
F(g_pad_circular, tg_pad_mode(x[0], (int64_t[]){2, 0, 1, 4}, TG_PAD_CIRCULAR))
F(g_pad_replicate, tg_pad_mode(x[0], (int64_t[]){0, 3, 2, 1}, TG_PAD_REPLICATE))
static tg_tensor *g_sort(tg_tensor **x) {
    tg_tensor *v = NULL, *i = NULL;
    return tg_sort(x[0], 1, true, &v, &i) == TG_OK ? v : NULL;
}

typedef struct gcase_grad {
    const char *name;
    gfn fn;
    int nin;
    double lo, hi;
} gcase_grad;
static const gcase_grad grads[] = {
    {"frac", g_frac, 1, -3, 3}, {"asin", g_asin, 1, -0.9, 0.9}, {"acos", g_acos, 1, -0.9, 0.9},
    {"atan", g_atan, 1, -2, 2}, {"atan2", g_atan2, 2, -2, 2}, {"sinh", g_sinh, 1, -2, 2},
    {"cosh", g_cosh, 1, -2, 2}, {"asinh", g_asinh, 1, -2, 2}, {"acosh", g_acosh, 1, -2, 2},
    {"atanh", g_atanh, 1, -0.9, 0.9}, {"lerp", g_lerp, 3, -1, 1.5}, {"elu", g_elu, 1, -2, 2},
    {"celu", g_celu, 1, -2, 2}, {"selu", g_selu, 1, -2, 2}, {"hardtanh", g_hardtanh, 1, -1, 1},
    {"hardswish", g_hardswish, 1, -2, 2}, {"mish", g_mish, 1, -3, 3}, {"softsign", g_softsign, 1, -3, 3},
    {"logsigmoid", g_logsigmoid, 1, -3, 3}, {"quick_gelu", g_quick_gelu, 1, -3, 3},
    {"cumsum", g_cumsum, 1, -2, 2}, {"cumprod", g_cumprod, 1, -2, 2}, {"cummax", g_cummax, 1, -2, 2},
    {"cummin", g_cummin, 1, -2, 2}, {"logcumsumexp", g_lcse, 1, -2, 2}, {"sort", g_sort, 1, -2, 2},
    {"pad_reflect", g_pad_reflect, 1, -2, 2}, {"pad_circular", g_pad_circular, 1, -2, 2},
    {"pad_replicate", g_pad_replicate, 1, -2, 2},
};

static tg_dev *gdev;
static uint64_t rng = 88172645463325252ull;
static double urand(double lo, double hi) {
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return lo + (hi - lo) * (double)(rng >> 11) / 9007199254740992.0;
}

#define GN 15 /* inputs are (3, 5) */
/* L = sum(f(x) * R), R fixed; with grad, dL/dx of each input into g. */
static bool loss(const gcase_grad *c, double (*x)[GN], bool grad, double *out, double (*g)[GN]) {
    bool ok = true;
    tg_scope_begin();
    tg_tensor *in[3];
    for (int i = 0; i < c->nin; i++) {
        in[i] = tg_from_f64(gdev, TG_FLOAT64, TG_SHAPE(3, 5), x[i]);
        if (grad) tg_set_requires_grad(in[i], true);
    }
    tg_tensor *y = c->fn(in);
    tg_tensor *R = y ? tg_uniform(gdev, TG_FLOAT64, tg_tensor_ndim(y), tg_tensor_shape(y), -1, 1, 7) : NULL;
    tg_tensor *L = tg_sum(tg_mul(y, R), TG_ALL_AXES, false);
    ok = L && tg_item(L, out) == TG_OK && (!grad || tg_backward(L) == TG_OK);
    for (int i = 0; ok && grad && i < c->nin; i++) {
        tg_tensor *gi = tg_tensor_grad(in[i]);
        if (!gi) memset(g[i], 0, sizeof g[i]);
        else ok = tg_to_f64(gi, g[i], GN) == TG_OK;
    }
    tg_scope_end();
    return ok;
}

static void check_grad(const gcase_grad *c) {
    double x[3][GN], g[3][GN], l0, lp, lm, worst = 0;
    for (int i = 0; i < c->nin; i++)
        for (int j = 0; j < GN; j++) x[i][j] = urand(c->lo, c->hi);
    if (!loss(c, x, true, &l0, g)) {
        tap_ok(0, "grad %s: %s", c->name, tg_last_error());
        tg_clear_error();
        return;
    }
    for (int i = 0; i < c->nin; i++)
        for (int j = 0; j < GN; j++) {
            double keep = x[i][j], h = 1e-6;
            x[i][j] = keep + h;
            loss(c, x, false, &lp, NULL);
            x[i][j] = keep - h;
            loss(c, x, false, &lm, NULL);
            x[i][j] = keep;
            double fd = (lp - lm) / (2 * h), err = fabs(fd - g[i][j]) / (1e-3 + fabs(fd));
            if (err > worst) worst = err;
        }
    tap_ok(worst < 1e-4, "grad %s (worst relative error %.2g)", c->name, worst);
}

/* ---------------------------------------------------------- exact bits */

static tg_tensor *from(tg_dtype dt, int64_t n, const void *data) { return tg_from_data(gdev, dt, 1, &n, data); }
static bool same_bytes(tg_tensor *t, const void *want, size_t bytes) {
    unsigned char got[64];
    return t && bytes <= sizeof got && tg_to_host(t, got, bytes) == TG_OK && memcmp(got, want, bytes) == 0;
}

static void check_bits(void) {
    const char *dn = tg_device_name(gdev);
    tg_scope_begin();
    /* rounding keeps -0, the sign of a zero result, NaN and infs */
    float fx[6] = {-0.0f, -0.3f, 0.3f, -0.5f, NAN, -INFINITY};
    float want_floor[6] = {-0.0f, -1, 0, -1, NAN, -INFINITY}, want_ceil[6] = {-0.0f, -0.0f, 1, -0.0f, NAN, -INFINITY};
    float want_round[6] = {-0.0f, -0.0f, 0, -0.0f, NAN, -INFINITY}, want_trunc[6] = {-0.0f, -0.0f, 0, -0.0f, NAN, -INFINITY};
    tg_tensor *f = from(TG_FLOAT32, 6, fx);
    tap_ok(same_bytes(tg_floor(f), want_floor, sizeof fx), "%s: floor keeps -0, NaN, -inf bit for bit", dn);
    tap_ok(same_bytes(tg_ceil(f), want_ceil, sizeof fx), "%s: ceil(-0.3) is -0", dn);
    tap_ok(same_bytes(tg_round(f), want_round, sizeof fx), "%s: round(-0.3), round(-0.5) are -0", dn);
    tap_ok(same_bytes(tg_trunc(f), want_trunc, sizeof fx), "%s: trunc keeps the sign of zero", dn);
    /* bitcast: NaN payloads, -0, infs, and back */
    uint32_t ub[5] = {0x7fc01234u, 0xffa00001u, 0x80000000u, 0x7f800000u, 0x3f800000u};
    tg_tensor *asf = tg_bitcast(from(TG_UINT32, 5, ub), TG_FLOAT32);
    tap_ok(same_bytes(asf, ub, sizeof ub) && tg_tensor_dtype(asf) == TG_FLOAT32, "%s: bitcast uint32 -> float32 keeps payloads", dn);
    tap_ok(same_bytes(tg_bitcast(tg_neg(tg_slice(asf, 0, 2, 5, 1)), TG_INT32),
                      (int32_t[]){0, (int32_t)0xff800000u, (int32_t)0xbf800000u}, 12), "%s: bitcast of a computed float32", dn);
    uint16_t hb[3] = {0x7e01, 0x8000, 0xfc00};
    tap_ok(same_bytes(tg_bitcast(tg_bitcast(from(TG_UINT16, 3, hb), TG_FLOAT16), TG_INT16), hb, sizeof hb),
           "%s: bitcast uint16 -> float16 -> int16", dn);
    uint64_t db[2] = {0xfff0000000000001ull, 0x8000000000000000ull};
    tap_ok(same_bytes(tg_bitcast(from(TG_UINT64, 2, db), TG_FLOAT64), db, sizeof db), "%s: bitcast uint64 -> float64", dn);
    /* bitwise on int64 extremes, against C */
    int64_t a[4] = {INT64_MIN, INT64_MAX, -1, 0x5555aaaa5555aaaall}, b[4] = {INT64_MAX, -2, INT64_MIN, -0x1234567890abcdefll};
    int64_t wand[4], wor[4], wxor[4], wnot[4], wsh[4], wsr[4];
    for (int i = 0; i < 4; i++) {
        wand[i] = a[i] & b[i], wor[i] = a[i] | b[i], wxor[i] = a[i] ^ b[i], wnot[i] = ~a[i];
        wsh[i] = (int64_t)((uint64_t)a[i] << 63), wsr[i] = a[i] < 0 ? ~(~a[i] >> 63) : a[i] >> 63;
    }
    tg_tensor *ta = from(TG_INT64, 4, a), *tb = from(TG_INT64, 4, b);
    tap_ok(same_bytes(tg_bitwise_and(ta, tb), wand, sizeof a), "%s: int64 and at the extremes", dn);
    tap_ok(same_bytes(tg_bitwise_or(ta, tb), wor, sizeof a), "%s: int64 or at the extremes", dn);
    tap_ok(same_bytes(tg_bitwise_xor(ta, tb), wxor, sizeof a), "%s: int64 xor at the extremes", dn);
    tap_ok(same_bytes(tg_bitwise_not(ta), wnot, sizeof a), "%s: int64 not", dn);
    tap_ok(same_bytes(tg_lshift(ta, 63), wsh, sizeof a) && same_bytes(tg_rshift(ta, 63), wsr, sizeof a),
           "%s: int64 shifts by 63", dn);
    uint64_t ua[2] = {UINT64_MAX, 0x8000000000000001ull}, ubb[2] = {0x0f0f0f0f0f0f0f0full, UINT64_MAX};
    tap_ok(same_bytes(tg_bitwise_xor(from(TG_UINT64, 2, ua), from(TG_UINT64, 2, ubb)),
                      (uint64_t[]){ua[0] ^ ubb[0], ua[1] ^ ubb[1]}, sizeof ua), "%s: uint64 xor", dn);
    /* a stable sort keeps which zero came first, -0 included */
    float z[4] = {0.0f, -0.0f, -1.0f, 0.0f};
    tg_tensor *sv = NULL, *si = NULL;
    tap_ok(tg_sort(from(TG_FLOAT32, 4, z), 0, false, &sv, &si) == TG_OK &&
           same_bytes(sv, (float[]){-1.0f, 0.0f, -0.0f, 0.0f}, sizeof z) && same_bytes(si, (int32_t[]){2, 0, 1, 3}, 16),
           "%s: sort is stable over +0/-0 and keeps their bits", dn);
    /* a long scan: log2 steps, exact on integers */
    int64_t n = 5000;
    double *want = malloc((size_t)n * sizeof *want), *got = malloc((size_t)n * sizeof *got);
    bool ok = tg_to_f64(tg_cumsum(tg_ones(gdev, TG_INT32, 1, &n), 0), got, (size_t)n) == TG_OK;
    for (int64_t i = 0; ok && i < n; i++) ok = got[i] == (double)(i + 1);
    tap_ok(ok, "%s: cumsum over 5000 ones", dn);
    /* randperm: a permutation, the same for a seed on every device */
    int32_t p[1000], q[1000];
    ok = tg_to_host(tg_randperm(gdev, 1000, 42), p, sizeof p) == TG_OK &&
         tg_to_host(tg_argsort(tg_from_data(gdev, TG_INT32, TG_SHAPE(1000), p), 0, false), q, sizeof q) == TG_OK;
    for (int i = 0; ok && i < 1000; i++) ok = p[q[i]] == i;
    tap_ok(ok, "%s: randperm(1000) is a permutation (argsort inverts it)", dn);
    static int32_t first[1000];
    static bool have_first;
    if (have_first) tap_ok(ok && memcmp(first, p, sizeof p) == 0, "%s: randperm is the same on every device", dn);
    memcpy(first, p, sizeof p), have_first = true;
    free(want), free(got);
    tg_scope_end();
}

/* ---------------------------------------------------------------- errors */

static void expect_error(tg_tensor *t, tg_status st, const char *name, const char *what) {
    const char *msg = tg_last_error();
    tap_ok(!t && tg_last_status() == st && msg && strstr(msg, name), "%s fails (%s): %s", name, what, msg ? msg : "");
    tg_clear_error();
}

static void check_errors(void) {
    tg_scope_begin();
    tg_tensor *i32 = tg_zeros(gdev, TG_INT32, TG_SHAPE(2, 3)), *f32 = tg_zeros(gdev, TG_FLOAT32, TG_SHAPE(2, 3));
    tg_tensor *v = NULL, *ix = NULL;
    expect_error(tg_asin(i32), TG_ERR_DTYPE, "asin", "int32");
    expect_error(tg_elu(i32, 1), TG_ERR_DTYPE, "elu", "int32");
    expect_error(tg_frac(i32), TG_ERR_DTYPE, "frac", "int32");
    expect_error(tg_atan2(f32, tg_cast(f32, TG_FLOAT16)), TG_ERR_DTYPE, "atan2", "mixed dtypes");
    expect_error(tg_lerp(f32, f32, tg_cast(f32, TG_FLOAT64)), TG_ERR_DTYPE, "lerp", "mixed dtypes");
    expect_error(tg_bitwise_and(f32, f32), TG_ERR_DTYPE, "bitwise_and", "float32");
    expect_error(tg_bitwise_xor(i32, tg_cast(i32, TG_INT64)), TG_ERR_DTYPE, "bitwise_xor", "mixed dtypes");
    expect_error(tg_lshift(i32, 32), TG_ERR_INVALID, "lshift", "count 32 on int32");
    expect_error(tg_rshift(tg_cast(i32, TG_BOOL), 1), TG_ERR_DTYPE, "rshift", "bool");
    expect_error(tg_bitcast(f32, TG_FLOAT16), TG_ERR_DTYPE, "bitcast", "sizes differ");
    expect_error(tg_cumsum(f32, 2), TG_ERR_SHAPE, "cumsum", "axis 2 of 2 dims");
    expect_error(tg_logcumsumexp(i32, 0), TG_ERR_DTYPE, "logcumsumexp", "int32");
    tap_ok(tg_sort(f32, -3, false, &v, &ix) == TG_ERR_SHAPE && !v && strstr(tg_last_error(), "sort"),
           "sort fails on axis -3 of 2 dims: %s", tg_last_error());
    tg_clear_error();
    expect_error(tg_pad_mode(f32, (int64_t[]){0, 0, 3, 0}, TG_PAD_REFLECT), TG_ERR_SHAPE, "pad_mode", "reflect by the size");
    expect_error(tg_pad_mode(f32, (int64_t[]){0, 0, 0, -1}, TG_PAD_CIRCULAR), TG_ERR_SHAPE, "pad_mode", "negative pad");
    expect_error(tg_celu(f32, 0), TG_ERR_INVALID, "celu", "alpha 0");
    expect_error(tg_hardtanh(f32, 1, -1), TG_ERR_INVALID, "hardtanh", "min above max");
    expect_error(tg_randperm(gdev, -1, 0), TG_ERR_INVALID, "randperm", "n = -1");
    tg_scope_end();
}

int main(int argc, char **argv) {
    if (argc < 2) {
        tap_ok(0, "usage: test_ops_more GOLDEN_FILE");
        return tap_done();
    }
    const char *names[] = {"ref", "cpu"};
    for (int p = 0; p < 2; p++) {
        if (tg_device_open(names[p], &gdev) != TG_OK) {
            if (p == 0) tap_ok(0, "open ref: %s", tg_last_error());
            else tap_diag("skip %s: %s", names[p], tg_last_error());
            tg_clear_error();
            continue;
        }
        int n = golden_file(gdev, argv[1], run);
        tap_ok(n > 100, "%s: read %d golden cases from %s", names[p], n, argv[1]);
        check_bits();
        if (p == 0) {
            for (size_t i = 0; i < sizeof grads / sizeof grads[0]; i++) check_grad(&grads[i]);
            check_errors();
        }
        tg_device_close(gdev);
    }
    return tap_done();
}
