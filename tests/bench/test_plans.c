/* The benchmark kernels compute what they claim: hand-built matmuls (every
 * transposition), convolutions (pre-padded, masked view stacks, weight and
 * input gradients), softmax and layernorm checked against host loops on
 * ref; then every quick plan of the op and model suites gives the same
 * buffers on cpu as on ref (where cpu is built). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "suites.h"
#include "tap.h"

static float *read_buf(plan_case *c, int b) {
    float *h = malloc((size_t)c->plan->buf_count[b] * 4);
    if (h && plan_exec_read(c, b, h) != 0) {
        free(h);
        return NULL;
    }
    return h;
}

/* max |got - want| / (1 + |want|) */
static double err(const float *got, const double *want, int64_t n) {
    double e = 0;
    for (int64_t i = 0; i < n; i++) {
        double d = fabs(got[i] - want[i]) / (1 + fabs(want[i]));
        if (!(d <= e)) e = d; /* NaN counts as an error */
    }
    return e;
}

static int run(bdev *d, plan *p, plan_case *c) {
    c->dev = d;
    c->plan = p;
    if (plan_exec_prepare(c) != 0 || plan_exec_run(c) != 0) {
        tap_diag("%s: %s", p->name, d->error);
        return -1;
    }
    return 0;
}

static void check_matmul(bdev *d, int ta, int tb) {
    const int64_t B = 2, M = 5, N = 7, K = 6;
    plan *p = plan_new("test/mm");
    plan_case c;
    int A = plan_buf(p, B * M * K), Bb = plan_buf(p, B * K * N), C = plan_buf(p, B * M * N);
    ops_matmul_step(p, A, Bb, C, B, M, N, K, ta, tb);
    if (run(d, p, &c) == 0) {
        float *a = read_buf(&c, A), *b = read_buf(&c, Bb), *out = read_buf(&c, C);
        double want[2 * 5 * 7];
        for (int64_t z = 0; z < B; z++)
            for (int64_t i = 0; i < M; i++)
                for (int64_t j = 0; j < N; j++) {
                    double s = 0;
                    for (int64_t k = 0; k < K; k++)
                        s += (double)a[z * M * K + (ta ? k * M + i : i * K + k)] * b[z * K * N + (tb ? j * K + k : k * N + j)];
                    want[(z * M + i) * N + j] = s;
                }
        tap_ok(out && err(out, want, B * M * N) < 1e-5, "%s: batched matmul, A%s B%s, matches host", d->name,
               ta ? "^T" : "", tb ? "^T" : "");
        free(a), free(b), free(out);
    } else {
        tap_ok(0, "matmul ran");
    }
    plan_bench_release();
    plan_free(p);
}

/* The zero-padded (pad 1) value of x[n][c][y][x] in an [N,C,H,W] array. */
static double at(const float *x, int64_t C, int64_t H, int64_t W, int64_t n, int64_t c, int64_t y, int64_t xx) {
    return y < 0 || y >= H || xx < 0 || xx >= W ? 0 : x[((n * C + c) * H + y) * W + xx];
}

static void check_conv(bdev *d) {
    const int64_t N = 2, C = 3, H = 5, W = 4, O = 2;
    plan *p = plan_new("test/conv");
    plan_case c;
    int a = plan_buf(p, N * C * H * W), wt = plan_buf(p, O * C * 9), z = plan_buf(p, N * O * H * W);
    int dz = plan_buf(p, N * O * H * W), dw = plan_buf(p, O * C * 9), da = plan_buf(p, N * C * H * W);
    int pre = plan_buf(p, N * C * (H + 2) * (W + 2)), z2 = plan_buf(p, N * O * H * W);
    models_conv_fwd(p, a, wt, z, N, C, H, W, O);
    models_conv_dw(p, dz, a, dw, N, C, H, W, O);
    models_conv_dx(p, dz, wt, da, N, C, H, W, O);
    ops_conv_step(p, pre, wt, z2, N, C, H, W, O);
    if (run(d, p, &c) != 0) {
        tap_ok(0, "convolutions ran");
        plan_bench_release();
        plan_free(p);
        return;
    }
    float *A = read_buf(&c, a), *Wt = read_buf(&c, wt), *Z = read_buf(&c, z), *DZ = read_buf(&c, dz);
    float *DW = read_buf(&c, dw), *DA = read_buf(&c, da), *P = read_buf(&c, pre), *Z2 = read_buf(&c, z2);
    double wz[2 * 2 * 5 * 4], wdw[2 * 3 * 9], wda[2 * 3 * 5 * 4], wz2[2 * 2 * 5 * 4];
    memset(wdw, 0, sizeof wdw);
    memset(wda, 0, sizeof wda);
    for (int64_t n = 0; n < N; n++)
        for (int64_t o = 0; o < O; o++)
            for (int64_t y = 0; y < H; y++)
                for (int64_t x = 0; x < W; x++) {
                    double s = 0, s2 = 0, g = DZ[((n * O + o) * H + y) * W + x];
                    for (int64_t ci = 0; ci < C; ci++)
                        for (int i = 0; i < 3; i++)
                            for (int j = 0; j < 3; j++) {
                                double w = Wt[(o * C + ci) * 9 + i * 3 + j];
                                s += at(A, C, H, W, n, ci, y + i - 1, x + j - 1) * w;
                                s2 += P[((n * C + ci) * (H + 2) + y + i) * (W + 2) + x + j] * w;
                                wdw[(o * C + ci) * 9 + i * 3 + j] += g * at(A, C, H, W, n, ci, y + i - 1, x + j - 1);
                                int64_t yy = y + i - 1, xx = x + j - 1; /* z[y,x] read a[yy,xx] */
                                if (yy >= 0 && yy < H && xx >= 0 && xx < W) wda[((n * C + ci) * H + yy) * W + xx] += g * w;
                            }
                    wz[((n * O + o) * H + y) * W + x] = s;
                    wz2[((n * O + o) * H + y) * W + x] = s2;
                }
    tap_ok(Z && err(Z, wz, N * O * H * W) < 1e-5, "%s: conv3x3 forward through a masked view stack", d->name);
    tap_ok(DW && err(DW, wdw, O * C * 9) < 1e-5, "%s: conv3x3 weight gradient", d->name);
    tap_ok(DA && err(DA, wda, N * C * H * W) < 1e-5, "%s: conv3x3 input gradient (flipped, negative strides)", d->name);
    tap_ok(Z2 && err(Z2, wz2, N * O * H * W) < 1e-5, "%s: conv3x3 on a pre-padded input", d->name);
    free(A), free(Wt), free(Z), free(DZ), free(DW), free(DA), free(P), free(Z2);
    plan_bench_release();
    plan_free(p);
}

static void check_norms(bdev *d) {
    const int64_t R = 3, C = 10;
    plan *p = plan_new("test/norms");
    plan_case c;
    int x = plan_buf(p, R * C), y = plan_buf(p, R * C), g = plan_buf(p, C), b = plan_buf(p, C), ln = plan_buf(p, R * C);
    ops_softmax_steps(p, x, y, R, C);
    ops_layernorm_steps(p, x, g, b, ln, R, C);
    if (run(d, p, &c) != 0) {
        tap_ok(0, "softmax/layernorm ran");
        plan_bench_release();
        plan_free(p);
        return;
    }
    float *X = read_buf(&c, x), *Y = read_buf(&c, y), *G = read_buf(&c, g), *B = read_buf(&c, b), *LN = read_buf(&c, ln);
    double ws[3 * 10], wl[3 * 10];
    for (int64_t r = 0; r < R; r++) {
        double m = -INFINITY, s = 0, mean = 0, var = 0;
        for (int64_t i = 0; i < C; i++) m = fmax(m, X[r * C + i]), mean += X[r * C + i] / (double)C;
        for (int64_t i = 0; i < C; i++) s += exp(X[r * C + i] - m), var += pow(X[r * C + i] - mean, 2) / (double)C;
        for (int64_t i = 0; i < C; i++) {
            ws[r * C + i] = exp(X[r * C + i] - m) / s;
            wl[r * C + i] = (X[r * C + i] - mean) / sqrt(var + 1e-5) * G[i] + B[i];
        }
    }
    tap_ok(Y && err(Y, ws, R * C) < 1e-5, "%s: softmax rows", d->name);
    tap_ok(LN && err(LN, wl, R * C) < 1e-4, "%s: layernorm rows", d->name);
    free(X), free(Y), free(G), free(B), free(LN);
    plan_bench_release();
    plan_free(p);
}

/* Every buffer a plan writes, cpu against ref. */
static void cross_check(bdev *ref, bdev *cpu, plan *p) {
    plan_case cr, cc;
    double worst = 0;
    int ok = run(ref, p, &cr) == 0;
    float *want[PLAN_MAX_BUFS] = {0};
    for (int b = 0; ok && b < p->nbufs; b++) want[b] = read_buf(&cr, b);
    plan_bench_release();
    ok = ok && run(cpu, p, &cc) == 0;
    for (int b = 0; ok && b < p->nbufs; b++) {
        float *got = read_buf(&cc, b);
        if (!got || !want[b]) {
            ok = 0;
        } else {
            for (int64_t i = 0; i < p->buf_count[b]; i++) {
                double e = fabs(got[i] - want[b][i]) / (1 + fabs(want[b][i]));
                if (!(e <= worst)) worst = e;
            }
        }
        free(got);
    }
    plan_bench_release();
    for (int b = 0; b < p->nbufs; b++) free(want[b]);
    tap_ok(ok && worst < 1e-3, "%s: cpu matches ref on every buffer (worst relative difference %.2g)", p->name, worst);
}

int main(void) {
    bdev ref, cpu;
    if (!tap_ok(bdev_open("ref", &ref) == TG_OK, "open ref")) return tap_done();
    for (int t = 0; t < 4; t++) check_matmul(&ref, t & 1, t >> 1);
    check_conv(&ref);
    check_norms(&ref);
    if (bdev_open("cpu", &cpu) == TG_OK) {
        plan *list[64];
        int n = suite_ops(1, list, 64);
        n += suite_models(1, list + n, 64 - n);
        for (int i = 0; i < n; i++) {
            cross_check(&ref, &cpu, list[i]);
            plan_free(list[i]);
        }
        bdev_close(&cpu);
    } else {
        tap_skip("no cpu plugin here: nothing to cross-check with ref");
    }
    bdev_close(&ref);
    return tap_done();
}
