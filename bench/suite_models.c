/* The model suite, as plans of hand-built kernels: an MLP training step, a
 * CNN training step and a transformer block forward. Parameter updates
 * write new buffers (a kernel never reads and writes one buffer), so each
 * run is one full step from the same weights. */
#include <math.h>
#include <stdio.h>
#include "suites.h"

#define LOG2E 1.4426950408889634

static const int64_t COL[2] = {0, 1}; /* a [c] vector broadcast over [r, c] */

static void flat(int64_t c, int64_t *st) { st[0] = c, st[1] = 1; }

/* y = a + b (b broadcast through bst) over [r, c]; relu after if asked. */
static void step_add(plan *p, int a, int b, const int64_t *bst, int y, int64_t r, int64_t c, int relu) {
    int64_t shape[2] = {r, c}, f[2];
    flat(c, f);
    kir *k = plan_step(p, relu ? "add_relu" : "add", 2, shape, 0);
    int pa = plan_param(p, a, TG_ACCESS_READ), pb = plan_param(p, b, TG_ACCESS_READ);
    int py = plan_param(p, y, TG_ACCESS_WRITE);
    int v = kir_op(k, TG_OP_ADD, kir_load(k, pa, f, 0, 0), kir_load(k, pb, bst, 0, 0), -1);
    if (relu) v = kir_op(k, TG_OP_MAX, v, kir_const(k, 0), -1);
    kir_store(k, py, f, v);
    p->flops += (1.0 + relu) * r * c;
    p->bytes += 12.0 * r * c;
}

/* y = x * s over n elements. */
static void step_scale(plan *p, int x, int y, int64_t n, double s) {
    int64_t one[1] = {1};
    kir *k = plan_step(p, "scale", 1, &n, 0);
    int px = plan_param(p, x, TG_ACCESS_READ), py = plan_param(p, y, TG_ACCESS_WRITE);
    kir_store(k, py, one, kir_op(k, TG_OP_MUL, kir_load(k, px, one, 0, 0), kir_const(k, s), -1));
    p->flops += (double)n;
    p->bytes += 8.0 * n;
}

/* w2 = w - lr * g over n elements (SGD). */
static void step_sgd(plan *p, int w, int g, int w2, int64_t n, double lr) {
    int64_t one[1] = {1};
    kir *k = plan_step(p, "sgd", 1, &n, 0);
    int pw = plan_param(p, w, TG_ACCESS_READ), pg = plan_param(p, g, TG_ACCESS_READ);
    int py = plan_param(p, w2, TG_ACCESS_WRITE);
    kir_store(k, py, one, kir_op(k, TG_OP_MULACC, kir_load(k, pg, one, 0, 0), kir_const(k, -lr), kir_load(k, pw, one, 0, 0)));
    p->flops += 2.0 * n;
    p->bytes += 12.0 * n;
}

/* d = (prob - onehot) / batch over [b, c]: the softmax cross-entropy gradient. */
static void step_xent_grad(plan *p, int prob, int onehot, int d, int64_t b, int64_t c) {
    int64_t shape[2] = {b, c}, f[2];
    flat(c, f);
    kir *k = plan_step(p, "xent_grad", 2, shape, 0);
    int pp = plan_param(p, prob, TG_ACCESS_READ), po = plan_param(p, onehot, TG_ACCESS_READ);
    int pd = plan_param(p, d, TG_ACCESS_WRITE);
    int diff = kir_op(k, TG_OP_SUB, kir_load(k, pp, f, 0, 0), kir_load(k, po, f, 0, 0), -1);
    kir_store(k, pd, f, kir_op(k, TG_OP_MUL, diff, kir_const(k, 1.0 / (double)b), -1));
    p->flops += 2.0 * b * c;
    p->bytes += 12.0 * b * c;
}

/* g = act > 0 ? d : 0 over n elements (the relu gradient). */
static void step_relu_grad(plan *p, int act, int d, int g, int64_t n) {
    int64_t one[1] = {1};
    kir *k = plan_step(p, "relu_grad", 1, &n, 0);
    int pa = plan_param(p, act, TG_ACCESS_READ), pd = plan_param(p, d, TG_ACCESS_READ);
    int pg = plan_param(p, g, TG_ACCESS_WRITE);
    int pos = kir_op(k, TG_OP_CMPLT, kir_const(k, 0), kir_load(k, pa, one, 0, 0), -1);
    kir_store(k, pg, one, kir_op(k, TG_OP_WHERE, pos, kir_load(k, pd, one, 0, 0), kir_const(k, 0)));
    p->flops += 2.0 * n;
    p->bytes += 12.0 * n;
}

/* s[c] = sum over rows of x[r, c] (bias gradients). */
static void step_colsum(plan *p, int x, int s, int64_t r, int64_t c) {
    int64_t shape[2] = {r, c}, f[2];
    flat(c, f);
    kir *k = plan_step(p, "colsum", 2, shape, 1);
    int px = plan_param(p, x, TG_ACCESS_READ), ps = plan_param(p, s, TG_ACCESS_WRITE);
    kir_store(k, ps, COL, kir_reduce(k, TG_OP_REDUCE_SUM, kir_load(k, px, f, 0, 0)));
    p->flops += (double)(r * c);
    p->bytes += 4.0 * r * c;
}

/* One training step of a 2-layer MLP: in -> hid (relu) -> 10, softmax
 * cross-entropy, SGD on both layers and biases. */
static plan *model_mlp(int64_t batch, int64_t in, int64_t hid) {
    char nm[96];
    const int64_t out = 10;
    snprintf(nm, sizeof nm, "model/mlp_train_b%lld_%lld_%lld_10", (long long)batch, (long long)in, (long long)hid);
    plan *p = plan_new(nm);
    int x = plan_buf(p, batch * in), y = plan_buf_init(p, batch * out, PLAN_ONEHOT, out);
    int w1 = plan_buf(p, in * hid), b1 = plan_buf(p, hid), w2 = plan_buf(p, hid * out), b2 = plan_buf(p, out);
    int z1 = plan_buf(p, batch * hid), h1 = plan_buf(p, batch * hid), z2 = plan_buf(p, batch * out);
    int logits = plan_buf(p, batch * out), prob = plan_buf(p, batch * out), dl = plan_buf(p, batch * out);
    int dw2 = plan_buf(p, hid * out), db2 = plan_buf(p, out), dh1 = plan_buf(p, batch * hid);
    int dz1 = plan_buf(p, batch * hid), dw1 = plan_buf(p, in * hid), db1 = plan_buf(p, hid);
    int w1n = plan_buf(p, in * hid), b1n = plan_buf(p, hid), w2n = plan_buf(p, hid * out), b2n = plan_buf(p, out);
    /* forward */
    ops_matmul_step(p, x, w1, z1, 1, batch, hid, in, 0, 0);
    step_add(p, z1, b1, COL, h1, batch, hid, 1);
    ops_matmul_step(p, h1, w2, z2, 1, batch, out, hid, 0, 0);
    step_add(p, z2, b2, COL, logits, batch, out, 0);
    ops_softmax_steps(p, logits, prob, batch, out);
    /* backward */
    step_xent_grad(p, prob, y, dl, batch, out);
    ops_matmul_step(p, h1, dl, dw2, 1, hid, out, batch, 1, 0);  /* h1^T @ dl */
    step_colsum(p, dl, db2, batch, out);
    ops_matmul_step(p, dl, w2, dh1, 1, batch, hid, out, 0, 1);  /* dl @ w2^T */
    step_relu_grad(p, h1, dh1, dz1, batch * hid);
    ops_matmul_step(p, x, dz1, dw1, 1, in, hid, batch, 1, 0);   /* x^T @ dz1 */
    step_colsum(p, dz1, db1, batch, hid);
    /* SGD */
    step_sgd(p, w1, dw1, w1n, in * hid, 0.01);
    step_sgd(p, b1, db1, b1n, hid, 0.01);
    step_sgd(p, w2, dw2, w2n, hid * out, 0.01);
    step_sgd(p, b2, db2, b2n, out, 0.01);
    return p;
}

/* Loads of an [n, c, h, w] activation at zero-padded coordinates: the lower
 * view is the activation padded by 1 on each side (masked); `st` maps the
 * iteration space into that padded [n, c, h+2, w+2] row-major layout. */
static int load_padded(kir *k, int param, int64_t n, int64_t c, int64_t h, int64_t w, const int64_t *st, int64_t off) {
    tg_view lower = {0};
    lower.ndim = 4;
    lower.has_mask = 1;
    lower.offset = -(w + 1); /* padded (1, 1) is element 0 */
    int64_t shape[4] = {n, c, h + 2, w + 2}, strides[4] = {c * h * w, h * w, w, 1};
    int64_t lo[4] = {0, 0, 1, 1}, hi[4] = {n, c, h + 1, w + 1};
    for (int d = 0; d < 4; d++) {
        lower.shape[d] = shape[d];
        lower.strides[d] = strides[d];
        lower.mask_lo[d] = lo[d];
        lower.mask_hi[d] = hi[d];
    }
    return kir_load2(k, param, &lower, st, off, 0);
}

/* z[n,o,h,w] = sum_{c,i,j} a[n,c,h+i-1,w+j-1] * wt[o,c,i,j] (3x3, pad 1). */
void models_conv_fwd(plan *p, int a, int wt, int z, int64_t n, int64_t c, int64_t h, int64_t w, int64_t o) {
    int64_t hp = h + 2, wp = w + 2;
    int64_t shape[7] = {n, o, h, w, c, 3, 3};
    int64_t sa[7] = {c * hp * wp, 0, wp, 1, hp * wp, wp, 1}, sw[7] = {0, c * 9, 0, 0, 9, 3, 1};
    int64_t sz[7] = {o * h * w, h * w, w, 1, 0, 0, 0};
    kir *k = plan_step(p, "conv_fwd", 7, shape, 0x70);
    int pa = plan_param(p, a, TG_ACCESS_READ), pw = plan_param(p, wt, TG_ACCESS_READ);
    int pz = plan_param(p, z, TG_ACCESS_WRITE);
    int prod = kir_op(k, TG_OP_MUL, load_padded(k, pa, n, c, h, w, sa, 0), kir_load(k, pw, sw, 0, 0), -1);
    kir_store(k, pz, sz, kir_reduce(k, TG_OP_REDUCE_SUM, prod));
    p->flops += 2.0 * n * o * h * w * c * 9;
    p->bytes += 4.0 * (n * c * h * w + o * c * 9 + n * o * h * w);
}

/* dw[o,c,i,j] = sum_{n,h,w} dz[n,o,h,w] * a[n,c,h+i-1,w+j-1]. */
void models_conv_dw(plan *p, int dz, int a, int dw, int64_t n, int64_t c, int64_t h, int64_t w, int64_t o) {
    int64_t hp = h + 2, wp = w + 2;
    int64_t shape[7] = {o, c, 3, 3, n, h, w};
    int64_t sa[7] = {0, hp * wp, wp, 1, c * hp * wp, wp, 1}, sdz[7] = {h * w, 0, 0, 0, o * h * w, w, 1};
    int64_t sdw[7] = {c * 9, 9, 3, 1, 0, 0, 0};
    kir *k = plan_step(p, "conv_dw", 7, shape, 0x70);
    int pd = plan_param(p, dz, TG_ACCESS_READ), pa = plan_param(p, a, TG_ACCESS_READ);
    int pw = plan_param(p, dw, TG_ACCESS_WRITE);
    int prod = kir_op(k, TG_OP_MUL, kir_load(k, pd, sdz, 0, 0), load_padded(k, pa, n, c, h, w, sa, 0), -1);
    kir_store(k, pw, sdw, kir_reduce(k, TG_OP_REDUCE_SUM, prod));
    p->flops += 2.0 * n * o * h * w * c * 9;
    p->bytes += 4.0 * (n * c * h * w + o * c * 9 + n * o * h * w);
}

/* da[n,c,y,x] = sum_{o,i,j} dz[n,o,y+1-i,x+1-j] * wt[o,c,i,j] (zero outside). */
void models_conv_dx(plan *p, int dz, int wt, int da, int64_t n, int64_t c, int64_t h, int64_t w, int64_t o) {
    int64_t hp = h + 2, wp = w + 2;
    int64_t shape[7] = {n, c, h, w, o, 3, 3};
    /* padded dz index (y+1-i)+1 = y+2-i: offset 2*wp+2, strides -wp and -1 over i, j */
    int64_t sdz[7] = {o * hp * wp, 0, wp, 1, hp * wp, -wp, -1}, sw[7] = {0, 9, 0, 0, c * 9, 3, 1};
    int64_t sa[7] = {c * h * w, h * w, w, 1, 0, 0, 0};
    kir *k = plan_step(p, "conv_dx", 7, shape, 0x70);
    int pd = plan_param(p, dz, TG_ACCESS_READ), pw = plan_param(p, wt, TG_ACCESS_READ);
    int pa = plan_param(p, da, TG_ACCESS_WRITE);
    int prod = kir_op(k, TG_OP_MUL, load_padded(k, pd, n, o, h, w, sdz, 2 * wp + 2), kir_load(k, pw, sw, 0, 0), -1);
    kir_store(k, pa, sa, kir_reduce(k, TG_OP_REDUCE_SUM, prod));
    p->flops += 2.0 * n * o * h * w * c * 9;
    p->bytes += 4.0 * (n * c * h * w + o * c * 9 + n * o * h * w);
}

/* One training step of a small CNN: conv3x3(3->c1) relu, conv3x3(c1->c2)
 * relu, flatten, linear -> 10, softmax cross-entropy, SGD (no biases). */
static plan *model_cnn(int64_t n, int64_t hw, int64_t c1, int64_t c2) {
    char nm[96];
    const int64_t c0 = 3, out = 10, feat = c2 * hw * hw;
    snprintf(nm, sizeof nm, "model/cnn_train_b%lld_%lldx%lld_c%lld_c%lld", (long long)n, (long long)hw, (long long)hw,
             (long long)c1, (long long)c2);
    plan *p = plan_new(nm);
    int x = plan_buf(p, n * c0 * hw * hw), y = plan_buf_init(p, n * out, PLAN_ONEHOT, out);
    int k1 = plan_buf(p, c1 * c0 * 9), k2 = plan_buf(p, c2 * c1 * 9), wf = plan_buf(p, feat * out);
    int z1 = plan_buf(p, n * c1 * hw * hw), a1 = plan_buf(p, n * c1 * hw * hw);
    int z2 = plan_buf(p, n * c2 * hw * hw), a2 = plan_buf(p, n * c2 * hw * hw);
    int logits = plan_buf(p, n * out), prob = plan_buf(p, n * out), dl = plan_buf(p, n * out);
    int dwf = plan_buf(p, feat * out), da2 = plan_buf(p, n * feat), dz2 = plan_buf(p, n * feat);
    int dk2 = plan_buf(p, c2 * c1 * 9), da1 = plan_buf(p, n * c1 * hw * hw), dz1 = plan_buf(p, n * c1 * hw * hw);
    int dk1 = plan_buf(p, c1 * c0 * 9);
    int k1n = plan_buf(p, c1 * c0 * 9), k2n = plan_buf(p, c2 * c1 * 9), wfn = plan_buf(p, feat * out);
    models_conv_fwd(p, x, k1, z1, n, c0, hw, hw, c1);
    step_relu_grad(p, z1, z1, a1, n * c1 * hw * hw); /* relu(z) = z > 0 ? z : 0 */
    models_conv_fwd(p, a1, k2, z2, n, c1, hw, hw, c2);
    step_relu_grad(p, z2, z2, a2, n * feat);
    ops_matmul_step(p, a2, wf, logits, 1, n, out, feat, 0, 0);
    ops_softmax_steps(p, logits, prob, n, out);
    step_xent_grad(p, prob, y, dl, n, out);
    ops_matmul_step(p, a2, dl, dwf, 1, feat, out, n, 1, 0);
    ops_matmul_step(p, dl, wf, da2, 1, n, feat, out, 0, 1);
    step_relu_grad(p, a2, da2, dz2, n * feat);
    models_conv_dw(p, dz2, a1, dk2, n, c1, hw, hw, c2);
    models_conv_dx(p, dz2, k2, da1, n, c1, hw, hw, c2);
    step_relu_grad(p, a1, da1, dz1, n * c1 * hw * hw);
    models_conv_dw(p, dz1, x, dk1, n, c0, hw, hw, c1);
    step_sgd(p, k1, dk1, k1n, c1 * c0 * 9, 0.01);
    step_sgd(p, k2, dk2, k2n, c2 * c1 * 9, 0.01);
    step_sgd(p, wf, dwf, wfn, feat * out, 0.01);
    return p;
}

/* x[s, d] = sum_v (ids[s] == v) * emb[v, d]: the lookup as a one-hot matmul. */
static void step_embed(plan *p, int ids, int iota, int emb, int x, int64_t s, int64_t d, int64_t v) {
    int64_t shape[3] = {s, d, v}, sid[3] = {1, 0, 0}, sio[3] = {0, 0, 1}, se[3] = {0, 1, d}, sx[3] = {d, 1, 0};
    kir *k = plan_step(p, "embed", 3, shape, 1u << 2);
    int pi = plan_param(p, ids, TG_ACCESS_READ), po = plan_param(p, iota, TG_ACCESS_READ);
    int pe = plan_param(p, emb, TG_ACCESS_READ), px = plan_param(p, x, TG_ACCESS_WRITE);
    int diff = kir_op(k, TG_OP_SUB, kir_load(k, pi, sid, 0, 0), kir_load(k, po, sio, 0, 0), -1);
    int absd = kir_op(k, TG_OP_MAX, diff, kir_op(k, TG_OP_NEG, diff, -1, -1), -1);
    int hit = kir_op(k, TG_OP_CMPLT, absd, kir_const(k, 0.5), -1);
    int val = kir_op(k, TG_OP_WHERE, hit, kir_load(k, pe, se, 0, 0), kir_const(k, 0));
    kir_store(k, px, sx, kir_reduce(k, TG_OP_REDUCE_SUM, val));
    p->flops += 2.0 * s * d * v;
    p->bytes += 4.0 * (s + v + v * d + s * d);
}

/* y = x * sigmoid(1.702 x) = x / (1 + 2^(-1.702 log2(e) x)): GELU's approximation. */
static void step_gelu(plan *p, int x, int y, int64_t n) {
    int64_t one[1] = {1};
    kir *k = plan_step(p, "gelu", 1, &n, 0);
    int px = plan_param(p, x, TG_ACCESS_READ), py = plan_param(p, y, TG_ACCESS_WRITE);
    int v = kir_load(k, px, one, 0, 0);
    int e = kir_op(k, TG_OP_EXP2, kir_op(k, TG_OP_MUL, v, kir_const(k, -1.702 * LOG2E), -1), -1, -1);
    kir_store(k, py, one, kir_op(k, TG_OP_DIV, v, kir_op(k, TG_OP_ADD, e, kir_const(k, 1), -1), -1));
    p->flops += 5.0 * n;
    p->bytes += 8.0 * n;
}

/* A post-norm transformer block forward over s tokens of a
 * v-token vocabulary: embedding + positions, single-head attention,
 * residual + layernorm, MLP (d -> 4d GELU -> d), residual + layernorm. */
static plan *model_transformer(int64_t s, int64_t d, int64_t v) {
    char nm[96];
    int64_t f = 4 * d, full[2];
    flat(d, full);
    snprintf(nm, sizeof nm, "model/transformer_fwd_s%lld_d%lld_v%lld", (long long)s, (long long)d, (long long)v);
    plan *p = plan_new(nm);
    int ids = plan_buf_init(p, s, PLAN_INDEX, v), iota = plan_buf_init(p, v, PLAN_IOTA, v);
    int emb = plan_buf(p, v * d), pos = plan_buf(p, s * d);
    int wq = plan_buf(p, d * d), wk = plan_buf(p, d * d), wv = plan_buf(p, d * d), wo = plan_buf(p, d * d);
    int g1 = plan_buf(p, d), b1 = plan_buf(p, d), g2 = plan_buf(p, d), b2 = plan_buf(p, d);
    int w1 = plan_buf(p, d * f), w2 = plan_buf(p, f * d);
    int tok = plan_buf(p, s * d), x = plan_buf(p, s * d), q = plan_buf(p, s * d), kk = plan_buf(p, s * d);
    int vv = plan_buf(p, s * d), sc = plan_buf(p, s * s), scs = plan_buf(p, s * s), att = plan_buf(p, s * s);
    int o = plan_buf(p, s * d), proj = plan_buf(p, s * d), r1 = plan_buf(p, s * d), n1 = plan_buf(p, s * d);
    int h = plan_buf(p, s * f), hg = plan_buf(p, s * f), ff = plan_buf(p, s * d), r2 = plan_buf(p, s * d);
    int y = plan_buf(p, s * d);
    step_embed(p, ids, iota, emb, tok, s, d, v);
    step_add(p, tok, pos, full, x, s, d, 0);
    ops_matmul_step(p, x, wq, q, 1, s, d, d, 0, 0);
    ops_matmul_step(p, x, wk, kk, 1, s, d, d, 0, 0);
    ops_matmul_step(p, x, wv, vv, 1, s, d, d, 0, 0);
    ops_matmul_step(p, q, kk, sc, 1, s, s, d, 0, 1); /* q @ k^T */
    step_scale(p, sc, scs, s * s, 1.0 / sqrt((double)d));
    ops_softmax_steps(p, scs, att, s, s);
    ops_matmul_step(p, att, vv, o, 1, s, d, s, 0, 0);
    ops_matmul_step(p, o, wo, proj, 1, s, d, d, 0, 0);
    step_add(p, x, proj, full, r1, s, d, 0);
    ops_layernorm_steps(p, r1, g1, b1, n1, s, d);
    ops_matmul_step(p, n1, w1, h, 1, s, f, d, 0, 0);
    step_gelu(p, h, hg, s * f);
    ops_matmul_step(p, hg, w2, ff, 1, s, d, f, 0, 0);
    step_add(p, n1, ff, full, r2, s, d, 0);
    ops_layernorm_steps(p, r2, g2, b2, y, s, d);
    return p;
}

int suite_models(int quick, plan **out, int max) {
    int n = 0;
#define ADD(x) do { if (n < max) out[n++] = (x); } while (0)
    if (quick) {
        ADD(model_mlp(16, 64, 32));
        ADD(model_cnn(2, 8, 4, 4));
        ADD(model_transformer(16, 32, 64));
    } else {
        ADD(model_mlp(128, 784, 256));
        ADD(model_cnn(16, 32, 16, 32));
        ADD(model_transformer(128, 256, 4096));
    }
#undef ADD
    return n;
}
