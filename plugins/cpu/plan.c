/* plugins/cpu/plan.c -- what a kernel is (checks the renderer relies on,
 * stages, counts) and its default layout: loop order from the strides of its
 * loads, matrix-product detection, the thread split. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu.h"
#include <tg/dtype_util.h>

tg_status cpu_analyze(const tg_kernel *k, cpu_info *info, char *err, size_t errcap) {
    memset(info, 0, sizeof *info);
    info->reduce_node = -1;
    info->mm_m = info->mm_n = info->mm_k = info->mm_a = info->mm_b = -1;
    info->oin = info->rin = -1;
    if (k->ndim > TG_MAX_DIMS || !k->nodes || k->nnodes == 0) {
        snprintf(err, errcap, "kernel: ndim %u or no nodes", k->ndim);
        return TG_ERR_INVALID;
    }
    for (uint32_t d = 0; d < k->ndim; d++)
        if (k->shape[d] < 0) { snprintf(err, errcap, "kernel: shape[%u] < 0", d); return TG_ERR_INVALID; }
    int nstore = 0;
    for (uint32_t n = 0; n < k->nnodes; n++) {
        const tg_node *nd = &k->nodes[n];
        int arity = 0;
        if (nd->dtype >= TG_DTYPE_COUNT) { snprintf(err, errcap, "node %u: bad dtype %u", n, nd->dtype); return TG_ERR_INVALID; }
        if (nd->op <= TG_OP_CAST || nd->op == TG_OP_REDUCE_SUM || nd->op == TG_OP_REDUCE_MAX || nd->op == TG_OP_STORE) arity = 1;
        else if (nd->op <= TG_OP_CMPLT) arity = 2;
        else if (nd->op <= TG_OP_MULACC) arity = 3;
        else if (nd->op == TG_OP_LOAD || nd->op == TG_OP_CONST) arity = 0;
        else { snprintf(err, errcap, "node %u: op %u cannot appear in a kernel", n, nd->op); return TG_ERR_INVALID; }
        for (int s = 0; s < arity; s++)
            if (nd->src[s] < 0 || (uint32_t)nd->src[s] >= n || k->nodes[nd->src[s]].op == TG_OP_STORE) {
                snprintf(err, errcap, "node %u: bad src[%d] %d", n, s, nd->src[s]);
                return TG_ERR_INVALID;
            }
        if (nd->op == TG_OP_LOAD || nd->op == TG_OP_STORE) {
            if (nd->buffer >= k->nparams || !k->params || nd->nviews == 0 || !k->views ||
                (uint64_t)nd->view + nd->nviews > k->nviews) {
                snprintf(err, errcap, "node %u: bad buffer or view stack", n);
                return TG_ERR_INVALID;
            }
            for (uint32_t v = nd->view; v < nd->view + nd->nviews; v++)
                if (k->views[v].ndim > TG_MAX_DIMS) { snprintf(err, errcap, "view %u: ndim > %d", v, TG_MAX_DIMS); return TG_ERR_INVALID; }
            if (k->views[nd->view + nd->nviews - 1].ndim != k->ndim) {
                snprintf(err, errcap, "node %u: top view has %u dims, kernel %u", n,
                         k->views[nd->view + nd->nviews - 1].ndim, k->ndim);
                return TG_ERR_INVALID;
            }
            if (k->params[nd->buffer].dtype != nd->dtype) {
                snprintf(err, errcap, "node %u: dtype differs from its buffer's", n);
                return TG_ERR_INVALID;
            }
        }
        if (nd->op == TG_OP_STORE) nstore++;
        if (nd->op == TG_OP_REDUCE_SUM || nd->op == TG_OP_REDUCE_MAX) {
            if (info->reduce_node >= 0) { snprintf(err, errcap, "kernel: more than one reduction"); return TG_ERR_INVALID; }
            info->reduce_node = (int)n;
        }
    }
    if (nstore == 0) { snprintf(err, errcap, "kernel: no STORE"); return TG_ERR_INVALID; }
    info->out_count = 1;
    info->red_count = 1;
    for (uint32_t d = 0; d < k->ndim; d++) {
        int red = info->reduce_node >= 0 && (k->reduce_axes >> d & 1u);
        if (red) info->red_count *= k->shape[d];
        else info->out_count *= k->shape[d];
        if (k->shape[d] > 1) {
            if (red) info->rin = (int)d;
            else info->oin = (int)d;
        }
    }
    if (info->reduce_node >= 0) {
        const tg_node *r = &k->nodes[info->reduce_node];
        if (r->op == TG_OP_REDUCE_SUM && r->dtype == TG_BOOL) {
            snprintf(err, errcap, "REDUCE_SUM is not defined on bool");
            return TG_ERR_INVALID;
        }
        info->acc_size = cpu_acc_size(r->op, r->dtype);
    }
    return TG_OK;
}

/* Bit d set: node n's value may change along axis d (a LOAD through its top
 * view's stride or mask; an ALU node through its sources). */
static void node_axes(const tg_kernel *k, uint32_t *axes) {
    for (uint32_t n = 0; n < k->nnodes; n++) {
        const tg_node *nd = &k->nodes[n];
        axes[n] = 0;
        if (nd->op == TG_OP_LOAD) {
            const tg_view *v = &k->views[nd->view + nd->nviews - 1];
            for (uint32_t d = 0; d < v->ndim; d++)
                if (v->strides[d] != 0 || (v->has_mask && (v->mask_lo[d] > 0 || v->mask_hi[d] < v->shape[d])))
                    axes[n] |= 1u << d;
        }
        for (int s = 0; s < 3; s++)
            if (nd->src[s] >= 0 && nd->op != TG_OP_LOAD && nd->op != TG_OP_CONST) axes[n] |= axes[nd->src[s]];
    }
}

/* Stride of a plain A along the flattened reduce axes (one unmasked view whose
 * reduce strides nest like a row-major array), else 0: A is then packed. */
static int64_t flat_stride(const tg_kernel *k, const cpu_info *info, int ia) {
    const tg_node *a = &k->nodes[ia];
    const tg_view *va = &k->views[a->view];
    if (a->op != TG_OP_LOAD || a->nviews != 1 || va->has_mask) return 0;
    int64_t expect = 0;
    for (int d = (int)k->ndim - 1; d >= 0; d--) {
        if (!(k->reduce_axes >> d & 1u) || k->shape[d] == 1) continue;
        if (expect == 0) expect = va->strides[d];
        else if (va->strides[d] != expect) return 0;
        expect *= k->shape[d];
    }
    return expect != 0 ? va->strides[info->rin] : 0;
}

/* A product C[.., m, n] = sum_k A(.., m, k) * B(.., k, n) in float32/64: the
 * reduce's source is MUL(A, B) with A constant along n and B along m (both
 * any expression of loads). Of the two ways to read MUL's operands, prefer A
 * read in place and B contiguous along n. Fills info->mm_*. */
static void detect_matmul(const tg_kernel *k, cpu_info *info) {
    if (info->reduce_node < 0 || info->rin < 0 || k->nnodes > 1024) return;
    const tg_node *r = &k->nodes[info->reduce_node];
    if (r->op != TG_OP_REDUCE_SUM || (r->dtype != TG_FLOAT32 && r->dtype != TG_FLOAT64)) return;
    const tg_node *mul = &k->nodes[r->src[0]];
    if (mul->op != TG_OP_MUL) return;
    uint32_t *axes = calloc(k->nnodes, sizeof *axes);
    if (!axes) return;
    node_axes(k, axes);
    int best = -1;
    for (int swap = 0; swap < 2; swap++) {
        int ia = mul->src[swap], ib = mul->src[1 - swap];
        int m = -1, n = -1;
        for (uint32_t d = 0; d < k->ndim; d++) {
            if ((k->reduce_axes >> d & 1u) || k->shape[d] == 1) continue;
            int va = axes[ia] >> d & 1u, vb = axes[ib] >> d & 1u;
            if (va && !vb && (m < 0 || k->shape[d] > k->shape[m])) m = (int)d;
            if (!va && vb) n = (int)d;
        }
        if (m < 0 || n < 0) continue;
        int64_t sak = flat_stride(k, info, ia);
        const tg_node *b = &k->nodes[ib];
        int contiguous = b->op == TG_OP_LOAD && k->views[b->view + b->nviews - 1].strides[n] == 1;
        int score = (sak != 0) * 2 + contiguous;
        if (score <= best) continue;
        best = score;
        info->mm_a = ia;
        info->mm_b = ib;
        info->mm_m = m;
        info->mm_n = n;
        info->mm_k = info->rin;
        info->mm_sak = sak;
    }
    free(axes);
}

void cpu_plan_default(const tg_kernel *k, cpu_info *info, int nthreads, cpu_opts *o) {
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
        }
    }
    /* threads: the outermost output axis with enough work, else the largest */
    int64_t best = 1;
    for (uint32_t d = 0; d < k->ndim; d++) {
        if (info->reduce_node >= 0 && (k->reduce_axes >> d & 1u)) continue;
        if (o->mode == CPU_MODE_MATMUL && ((int)d == info->mm_n || ((int)d != info->mm_m && k->shape[d] < 4 * nthreads)))
            continue;
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
