/* The per-op suite: elementwise, reductions, matmul, conv2d, softmax,
 * layernorm, each a plan of hand-built float32 kernels. */
#include <stdio.h>
#include "suites.h"

#define LOG2E 1.4426950408889634

plan *ops_copy(int64_t n) {
    char nm[64];
    snprintf(nm, sizeof nm, "elementwise/copy_%lldk", (long long)(n >> 10));
    plan *p = plan_new(nm);
    int a = plan_buf(p, n), y = plan_buf(p, n);
    int64_t one[1] = {1};
    kir *k = plan_step(p, "copy", 1, &n, 0);
    int pa = plan_param(p, a, TG_ACCESS_READ), py = plan_param(p, y, TG_ACCESS_WRITE);
    kir_store(k, py, one, kir_load(k, pa, one, 0, 0));
    p->bytes = 8.0 * n;
    return p;
}

plan *ops_add(int64_t n) {
    char nm[64];
    snprintf(nm, sizeof nm, "elementwise/add_%lldk", (long long)(n >> 10));
    plan *p = plan_new(nm);
    int a = plan_buf(p, n), b = plan_buf(p, n), y = plan_buf(p, n);
    int64_t one[1] = {1};
    kir *k = plan_step(p, "add", 1, &n, 0);
    int pa = plan_param(p, a, TG_ACCESS_READ), pb = plan_param(p, b, TG_ACCESS_READ);
    int py = plan_param(p, y, TG_ACCESS_WRITE);
    kir_store(k, py, one, kir_op(k, TG_OP_ADD, kir_load(k, pa, one, 0, 0), kir_load(k, pb, one, 0, 0), -1));
    p->flops = (double)n;
    p->bytes = 12.0 * n;
    return p;
}

/* y = max(a * b + c, 0) * 0.5: four ops, one kernel. */
plan *ops_chain(int64_t n) {
    char nm[64];
    snprintf(nm, sizeof nm, "elementwise/fused_chain_%lldk", (long long)(n >> 10));
    plan *p = plan_new(nm);
    int a = plan_buf(p, n), b = plan_buf(p, n), c = plan_buf(p, n), y = plan_buf(p, n);
    int64_t one[1] = {1};
    kir *k = plan_step(p, "chain", 1, &n, 0);
    int pa = plan_param(p, a, TG_ACCESS_READ), pb = plan_param(p, b, TG_ACCESS_READ);
    int pc = plan_param(p, c, TG_ACCESS_READ), py = plan_param(p, y, TG_ACCESS_WRITE);
    int m = kir_op(k, TG_OP_MUL, kir_load(k, pa, one, 0, 0), kir_load(k, pb, one, 0, 0), -1);
    int s = kir_op(k, TG_OP_ADD, m, kir_load(k, pc, one, 0, 0), -1);
    int r = kir_op(k, TG_OP_MAX, s, kir_const(k, 0.0), -1);
    kir_store(k, py, one, kir_op(k, TG_OP_MUL, r, kir_const(k, 0.5), -1));
    p->flops = 4.0 * n;
    p->bytes = 16.0 * n;
    return p;
}

/* Sum over rows (axis 1), columns (axis 0) or everything of an r x c matrix. */
plan *ops_reduce(int64_t r, int64_t c, uint32_t axes) {
    static const char *what[4] = {"", "cols", "rows", "all"};
    char nm[64];
    snprintf(nm, sizeof nm, "reduction/sum_%s_%lldx%lld", what[axes & 3], (long long)r, (long long)c);
    plan *p = plan_new(nm);
    int64_t shape[2] = {r, c}, in_st[2] = {c, 1}, out_shape[2] = {axes & 1 ? 1 : r, axes & 2 ? 1 : c}, out_st[2];
    kir_rowmajor(2, out_shape, out_st);
    int x = plan_buf(p, r * c), y = plan_buf(p, out_shape[0] * out_shape[1]);
    kir *k = plan_step(p, "sum", 2, shape, axes);
    int px = plan_param(p, x, TG_ACCESS_READ), py = plan_param(p, y, TG_ACCESS_WRITE);
    kir_store(k, py, out_st, kir_reduce(k, TG_OP_REDUCE_SUM, kir_load(k, px, in_st, 0, 0)));
    p->flops = (double)(r * c);
    p->bytes = 4.0 * (r * c + out_shape[0] * out_shape[1]);
    return p;
}

/* Adds C[b] = A[b] @ B[b] (A: m x k, B: k x n, row-major; ta/tb: read A/B
 * transposed, i.e. A stored k x m, B stored n x k) as one step of p. */
void ops_matmul_step(plan *p, int A, int B, int C, int64_t batch, int64_t m, int64_t n, int64_t kk, int ta, int tb) {
    int64_t shape[4] = {batch, m, n, kk};
    int64_t sa[4] = {m * kk, ta ? 1 : kk, 0, ta ? m : 1};
    int64_t sb[4] = {kk * n, 0, tb ? kk : 1, tb ? 1 : n};
    int64_t sc[4] = {m * n, n, 1, 0};
    kir *k = plan_step(p, "matmul", 4, shape, 1u << 3);
    int pa = plan_param(p, A, TG_ACCESS_READ), pb = plan_param(p, B, TG_ACCESS_READ);
    int pc = plan_param(p, C, TG_ACCESS_WRITE);
    int prod = kir_op(k, TG_OP_MUL, kir_load(k, pa, sa, 0, 0), kir_load(k, pb, sb, 0, 0), -1);
    kir_store(k, pc, sc, kir_reduce(k, TG_OP_REDUCE_SUM, prod));
    p->flops += 2.0 * batch * m * n * kk;
    p->bytes += 4.0 * batch * (m * kk + kk * n + m * n);
}

plan *ops_matmul(const char *kind, int64_t batch, int64_t m, int64_t n, int64_t k) {
    char nm[96];
    if (batch > 1)
        snprintf(nm, sizeof nm, "matmul/%s_%lldx%lldx%lldx%lld", kind, (long long)batch, (long long)m, (long long)n, (long long)k);
    else
        snprintf(nm, sizeof nm, "matmul/%s_%lldx%lldx%lld", kind, (long long)m, (long long)n, (long long)k);
    plan *p = plan_new(nm);
    int A = plan_buf(p, batch * m * k), B = plan_buf(p, batch * k * n), C = plan_buf(p, batch * m * n);
    ops_matmul_step(p, A, B, C, batch, m, n, k, 0, 0);
    return p;
}

/* out[n,o,h,w] = sum_{c,i,j} in[n,c,h+i,w+j] * wt[o,c,i,j]: a 3x3, stride 1
 * convolution; `in` is stored already padded to (h+2) x (w+2). */
void ops_conv_step(plan *p, int in, int wt, int out, int64_t n, int64_t c, int64_t h, int64_t w, int64_t o) {
    int64_t hp = h + 2, wp = w + 2;
    int64_t shape[7] = {n, o, h, w, c, 3, 3};
    int64_t si[7] = {c * hp * wp, 0, wp, 1, hp * wp, wp, 1};
    int64_t sw[7] = {0, c * 9, 0, 0, 9, 3, 1};
    int64_t so[7] = {o * h * w, h * w, w, 1, 0, 0, 0};
    kir *k = plan_step(p, "conv3x3", 7, shape, (1u << 4) | (1u << 5) | (1u << 6));
    int pi = plan_param(p, in, TG_ACCESS_READ), pw = plan_param(p, wt, TG_ACCESS_READ);
    int po = plan_param(p, out, TG_ACCESS_WRITE);
    int prod = kir_op(k, TG_OP_MUL, kir_load(k, pi, si, 0, 0), kir_load(k, pw, sw, 0, 0), -1);
    kir_store(k, po, so, kir_reduce(k, TG_OP_REDUCE_SUM, prod));
    p->flops += 2.0 * n * o * h * w * c * 9;
    p->bytes += 4.0 * (n * c * hp * wp + o * c * 9 + n * o * h * w);
}

plan *ops_conv(int64_t n, int64_t c, int64_t h, int64_t w, int64_t o) {
    char nm[96];
    snprintf(nm, sizeof nm, "matmul/conv3x3_n%lld_c%lld_%lldx%lld_o%lld", (long long)n, (long long)c, (long long)h,
             (long long)w, (long long)o);
    plan *p = plan_new(nm);
    int in = plan_buf(p, n * c * (h + 2) * (w + 2)), wt = plan_buf(p, o * c * 9), out = plan_buf(p, n * o * h * w);
    ops_conv_step(p, in, wt, out, n, c, h, w, o);
    return p;
}

/* Row softmax of an r x c matrix x into y: max, sum of exp, normalise. */
void ops_softmax_steps(plan *p, int x, int y, int64_t r, int64_t c) {
    int64_t shape[2] = {r, c}, full[2] = {c, 1}, row[2] = {1, 0};
    int mx = plan_buf(p, r), sm = plan_buf(p, r);
    kir *k = plan_step(p, "softmax_max", 2, shape, 2);
    int px = plan_param(p, x, TG_ACCESS_READ), pm = plan_param(p, mx, TG_ACCESS_WRITE);
    kir_store(k, pm, row, kir_reduce(k, TG_OP_REDUCE_MAX, kir_load(k, px, full, 0, 0)));

    k = plan_step(p, "softmax_sum", 2, shape, 2);
    px = plan_param(p, x, TG_ACCESS_READ), pm = plan_param(p, mx, TG_ACCESS_READ);
    int ps = plan_param(p, sm, TG_ACCESS_WRITE);
    int d = kir_op(k, TG_OP_SUB, kir_load(k, px, full, 0, 0), kir_load(k, pm, row, 0, 0), -1);
    int e = kir_op(k, TG_OP_EXP2, kir_op(k, TG_OP_MUL, d, kir_const(k, LOG2E), -1), -1, -1);
    kir_store(k, ps, row, kir_reduce(k, TG_OP_REDUCE_SUM, e));

    k = plan_step(p, "softmax_div", 2, shape, 0);
    px = plan_param(p, x, TG_ACCESS_READ), pm = plan_param(p, mx, TG_ACCESS_READ);
    ps = plan_param(p, sm, TG_ACCESS_READ);
    int py = plan_param(p, y, TG_ACCESS_WRITE);
    d = kir_op(k, TG_OP_SUB, kir_load(k, px, full, 0, 0), kir_load(k, pm, row, 0, 0), -1);
    e = kir_op(k, TG_OP_EXP2, kir_op(k, TG_OP_MUL, d, kir_const(k, LOG2E), -1), -1, -1);
    kir_store(k, py, full, kir_op(k, TG_OP_DIV, e, kir_load(k, ps, row, 0, 0), -1));
    p->flops += 8.0 * r * c;
    p->bytes += 4.0 * 4 * r * c;
}

plan *ops_softmax(int64_t r, int64_t c) {
    char nm[64];
    snprintf(nm, sizeof nm, "reduction/softmax_%lldx%lld", (long long)r, (long long)c);
    plan *p = plan_new(nm);
    int x = plan_buf(p, r * c), y = plan_buf(p, r * c);
    ops_softmax_steps(p, x, y, r, c);
    return p;
}

/* Row layernorm of an r x c matrix x with gain g[c] and bias b[c] into y. */
void ops_layernorm_steps(plan *p, int x, int g, int b, int y, int64_t r, int64_t c) {
    int64_t shape[2] = {r, c}, full[2] = {c, 1}, row[2] = {1, 0}, col[2] = {0, 1};
    int s1 = plan_buf(p, r), s2 = plan_buf(p, r);
    kir *k = plan_step(p, "ln_sum", 2, shape, 2);
    int px = plan_param(p, x, TG_ACCESS_READ), p1 = plan_param(p, s1, TG_ACCESS_WRITE);
    kir_store(k, p1, row, kir_reduce(k, TG_OP_REDUCE_SUM, kir_load(k, px, full, 0, 0)));

    k = plan_step(p, "ln_var", 2, shape, 2);
    px = plan_param(p, x, TG_ACCESS_READ), p1 = plan_param(p, s1, TG_ACCESS_READ);
    int p2 = plan_param(p, s2, TG_ACCESS_WRITE);
    int mean = kir_op(k, TG_OP_MUL, kir_load(k, p1, row, 0, 0), kir_const(k, 1.0 / (double)c), -1);
    int d = kir_op(k, TG_OP_SUB, kir_load(k, px, full, 0, 0), mean, -1);
    kir_store(k, p2, row, kir_reduce(k, TG_OP_REDUCE_SUM, kir_op(k, TG_OP_MUL, d, d, -1)));

    k = plan_step(p, "ln_norm", 2, shape, 0);
    px = plan_param(p, x, TG_ACCESS_READ), p1 = plan_param(p, s1, TG_ACCESS_READ);
    p2 = plan_param(p, s2, TG_ACCESS_READ);
    int pg = plan_param(p, g, TG_ACCESS_READ), pb = plan_param(p, b, TG_ACCESS_READ);
    int py = plan_param(p, y, TG_ACCESS_WRITE);
    int inv_c = kir_const(k, 1.0 / (double)c);
    mean = kir_op(k, TG_OP_MUL, kir_load(k, p1, row, 0, 0), inv_c, -1);
    d = kir_op(k, TG_OP_SUB, kir_load(k, px, full, 0, 0), mean, -1);
    int var = kir_op(k, TG_OP_MUL, kir_load(k, p2, row, 0, 0), inv_c, -1);
    int rstd = kir_op(k, TG_OP_RECIP, kir_op(k, TG_OP_SQRT, kir_op(k, TG_OP_ADD, var, kir_const(k, 1e-5), -1), -1, -1), -1, -1);
    int v = kir_op(k, TG_OP_MULACC, kir_op(k, TG_OP_MUL, d, rstd, -1), kir_load(k, pg, col, 0, 0), kir_load(k, pb, col, 0, 0));
    kir_store(k, py, full, v);
    p->flops += 9.0 * r * c;
    p->bytes += 4.0 * 4 * r * c;
}

plan *ops_layernorm(int64_t r, int64_t c) {
    char nm[64];
    snprintf(nm, sizeof nm, "reduction/layernorm_%lldx%lld", (long long)r, (long long)c);
    plan *p = plan_new(nm);
    int x = plan_buf(p, r * c), g = plan_buf(p, c), b = plan_buf(p, c), y = plan_buf(p, r * c);
    ops_layernorm_steps(p, x, g, b, y, r, c);
    return p;
}

int suite_ops(int quick, plan **out, int max) {
    int n = 0;
    int64_t ew = quick ? 1 << 20 : 1 << 24, red = quick ? 512 : 4096;
#define ADD(x) do { if (n < max) out[n++] = (x); } while (0)
    ADD(ops_copy(ew));
    ADD(ops_add(ew));
    ADD(ops_chain(ew));
    ADD(ops_reduce(red, red, 2));
    ADD(ops_reduce(red, red, 1));
    ADD(ops_reduce(red, red, 3));
    if (quick) {
        ADD(ops_matmul("square", 1, 128, 128, 128));
        ADD(ops_matmul("skinny", 1, 1, 1024, 1024));
        ADD(ops_matmul("batched", 8, 32, 32, 32));
        ADD(ops_conv(1, 8, 16, 16, 8));
        ADD(ops_softmax(128, 256));
        ADD(ops_layernorm(128, 256));
    } else {
        for (int64_t s = 256; s <= 2048; s *= 2) ADD(ops_matmul("square", 1, s, s, s));
        ADD(ops_matmul("skinny", 1, 1, 4096, 4096));
        ADD(ops_matmul("skinny", 1, 16, 4096, 4096));
        ADD(ops_matmul("batched", 32, 128, 128, 64));
        ADD(ops_conv(8, 64, 56, 56, 64));
        ADD(ops_conv(8, 128, 28, 28, 128));
        ADD(ops_conv(8, 256, 14, 14, 256));
        ADD(ops_softmax(4096, 1024));
        ADD(ops_layernorm(4096, 1024));
    }
#undef ADD
    return n;
}
