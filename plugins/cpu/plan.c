/* plugins/cpu/plan.c -- the default layout of a kernel: loop order from the
 * strides of its loads, matrix-product detection, the thread split. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu.h"

/* Stride of a single-view, unmasked LOAD on axis d; 0 with *simple = 0 otherwise. */
static int64_t load_stride(const tg_kernel *k, const tg_node *nd, int d, int *simple) {
    const tg_view *v = &k->views[nd->view];
    *simple = nd->nviews == 1 && !v->has_mask;
    return *simple ? v->strides[d] : 0;
}

/* A product C[m,n] = sum_k A[m,k] * B[k,n] (any batch axes of size 1), float32/64:
 * the reduce's source is MUL(LOAD a, LOAD b), b contiguous along n, a constant
 * along n, b constant along m, and everything after the reduction plain. */
static void detect_matmul(const tg_kernel *k, cpu_info *info) {
    if (info->reduce_node < 0) return;
    const tg_node *r = &k->nodes[info->reduce_node];
    if (r->op != TG_OP_REDUCE_SUM || (r->dtype != TG_FLOAT32 && r->dtype != TG_FLOAT64)) return;
    const tg_node *mul = &k->nodes[r->src[0]];
    if (mul->op != TG_OP_MUL) return;
    const tg_node *a = &k->nodes[mul->src[0]], *b = &k->nodes[mul->src[1]];
    if (a->op != TG_OP_LOAD || b->op != TG_OP_LOAD) return;
    int m = -1, n = -1, kk = -1, nout = 0, nred = 0;
    for (uint32_t d = 0; d < k->ndim; d++) {
        if (k->shape[d] == 1) continue;
        if (k->reduce_axes >> d & 1u) { kk = (int)d; nred++; }
        else { if (nout == 0) m = (int)d; else n = (int)d; nout++; }
    }
    if (nred != 1 || nout != 2) return;
    int sa, sb;
    int64_t a_n = load_stride(k, a, n, &sa), b_n = load_stride(k, b, n, &sb);
    if (!sa || !sb) return;
    int64_t a_m = load_stride(k, a, m, &sa), b_m = load_stride(k, b, m, &sb);
    if (b_n == 1 && a_n == 0 && b_m == 0 && a_m != 0) {
        info->mm_a = mul->src[0];
        info->mm_b = mul->src[1];
    } else if (a_n == 1 && b_n == 0 && a_m == 0 && b_m != 0) {
        info->mm_a = mul->src[1];
        info->mm_b = mul->src[0];
    } else {
        return;
    }
    /* post stage: loads must be unmasked single views (they index [m,n]) */
    info->mm_m = m;
    info->mm_n = n;
    info->mm_k = kk;
}

void cpu_plan_default(const tg_kernel *k, const cpu_info *cinfo, int nthreads, cpu_opts *o) {
    cpu_info *info = (cpu_info *)cinfo;
    memset(o, 0, sizeof *o);
    o->mode = CPU_MODE_FLAT;
    o->par_axis = -1;
    o->block = 256;
    o->mr = 4;
    o->nc = 256;
    int oin = info->oin, rin = info->rin;
    if (info->reduce_node >= 0) {
        int wide = info->acc_size == 8;
        o->lanes = rin < 0 ? 1 : k->shape[rin] >= 64 ? (wide ? 16 : 32) : k->shape[rin] >= 16 ? 8 : 1;
        /* which layout keeps the loads of the input cone contiguous? */
        int c_o = 0, c_r = 0;
        for (uint32_t n = 0; n < k->nnodes; n++) {
            const tg_node *nd = &k->nodes[n];
            if (nd->op != TG_OP_LOAD) continue;
            const tg_view *top = &k->views[nd->view + nd->nviews - 1];
            if (oin >= 0 && (top->strides[oin] == 1 || top->strides[oin] == -1)) c_o++;
            if (rin >= 0 && (top->strides[rin] == 1 || top->strides[rin] == -1)) c_r++;
        }
        if (oin >= 0 && (rin < 0 || c_o > c_r)) o->mode = CPU_MODE_OUTER;
        detect_matmul(k, info);
        if (info->mm_m >= 0 && k->shape[info->mm_n] >= 16) {
            int64_t kbytes = k->shape[info->mm_k] * (int64_t)info->acc_size;
            o->mode = CPU_MODE_MATMUL;
            __builtin_cpu_init();
            o->mr = 6; /* 6 x 4 vectors of accumulators: 24 of AVX-512's 32 registers */
            o->block = __builtin_cpu_supports("avx512f") ? 4 : 2;
            o->nc = (int)(512 * 1024 / (kbytes > 0 ? kbytes : 1)) / 64 * 64;
            if (o->nc < 64) o->nc = 64;
            const char *e = getenv("TG_CPU_MATMUL"); /* experiments: "MR,NV,NC" */
            if (e) sscanf(e, "%d,%d,%d", &o->mr, &o->block, &o->nc);
        }
    }
    /* threads: the outermost output axis with enough work, else the largest */
    int64_t best = 1;
    for (uint32_t d = 0; d < k->ndim; d++) {
        if (info->reduce_node >= 0 && (k->reduce_axes >> d & 1u)) continue;
        if (o->mode == CPU_MODE_MATMUL && (int)d != info->mm_m) continue;
        if (k->shape[d] >= 4 * nthreads) { o->par_axis = (int)d; break; }
        if (k->shape[d] > best) { best = k->shape[d]; o->par_axis = (int)d; }
    }
    if (o->mode == CPU_MODE_MATMUL && o->par_axis < 0) o->mode = CPU_MODE_OUTER;
    /* a small output over a large reduction: split the reduction */
    int64_t par = o->par_axis >= 0 ? k->shape[o->par_axis] : 1;
    if (info->reduce_node >= 0 && nthreads > 1 && par < 2 * nthreads && info->red_count >= 4096) {
        int64_t big = 1;
        int ax = -1;
        for (uint32_t d = 0; d < k->ndim; d++)
            if ((k->reduce_axes >> d & 1u) && k->shape[d] > big) { big = k->shape[d]; ax = (int)d; }
        if (ax >= 0 && big >= 2 * nthreads) {
            o->split = 1;
            o->par_axis = ax;
            if (o->mode == CPU_MODE_MATMUL) o->mode = CPU_MODE_OUTER;
        }
    }
}
