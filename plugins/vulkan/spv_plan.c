/* plugins/vulkan/spv_plan.c -- decisions made before a kernel's SPIR-V is
 * emitted: index width, vector mode. */
#include "spv_kgen.h"

/* Does a linear index of the work (outputs, reduced points, invocations)
 * need more than 31 bits (with headroom)? Addresses through views are the
 * lowering library's: tgl_prog.index32. */
bool spv_needs_idx64(const tg_kernel *k, uint64_t n_out, uint64_t n_red, uint64_t invocations) {
    const uint64_t lim = UINT64_C(1) << 30;
    (void)k;
    return n_out >= lim || n_red >= lim || invocations >= lim;
}

/* Vector mode, for elementwise kernels of 4k points whose stores can all
 * take it: an invocation computes 4 or 8 neighbouring points, and every
 * LOAD and STORE through a plain row-major view moves each 4 as one vec4
 * (lavapipe runs every access as a loop over the SIMD lanes, which is most
 * of an elementwise kernel's time; a vec4 moves 4 points per lane). Other
 * loads stay scalar, once per point. */
static bool vec_ok(const kgen *kg, const tg_node *n) {
    const tg_kernel *k = kg->g.k;
    const tg_view *v = &k->views[n->view];
    ct st = st_of(k->params[n->buffer].dtype);
    if (n->buffer >= 64 || (kg->bda >> n->buffer & 1) || n->nviews != 1 || v->has_mask || v->ndim != k->ndim ||
        st_of(n->dtype) != st || v->offset < 0 || v->offset % 4)
        return false;
    int64_t e = 1;
    for (int d = (int)v->ndim - 1; d >= 0; d--) {
        if (v->shape[d] != k->shape[d]) return false;
        if (v->shape[d] == 1) continue;
        if (v->strides[d] != e) return false;
        e *= v->shape[d];
    }
    return true;
}

bool spv_vec_plan(kgen *kg) {
    const tg_kernel *k = kg->g.k;
    for (uint32_t i = 0; i < k->nnodes; i++) {
        const tg_node *n = &k->nodes[i];
        if (n->op != TG_OP_LOAD && n->op != TG_OP_STORE) continue;
        kg->vnode[i] = vec_ok(kg, n);
        if (!kg->vnode[i] && n->op == TG_OP_STORE) return false;
    }
    for (uint32_t i = 0; i < k->nnodes; i++)
        if (kg->vnode[i]) kg->pvec[k->nodes[i].buffer] = true;
    return true;
}

/* Reductions: a load of the input cone whose view has stride 1 along axis
 * a and every other stride and offset a multiple of 4 can read 4 points
 * along a as one vec4. Axis a is: the output axis of the 4 neighbours an
 * invocation computes (marked in vnode: matmul's right operand), or the
 * innermost reduced axis (of 4k points) when the loop over the reduced
 * points takes 4 a step (rnode, which sets rq; the terms are combined in
 * the same order). */
void spv_vec_plan_reduce(kgen *kg, int a, bool *mark) {
    const tg_kernel *k = kg->g.k;
    for (uint32_t i = 0; i < k->nnodes; i++) {
        const tg_node *n = &k->nodes[i];
        const tg_view *v = &k->views[n->view];
        if (n->op != TG_OP_LOAD || !kg->cone[i] || kg->vnode[i] || n->buffer >= 64 || (kg->bda >> n->buffer & 1) ||
            n->nviews != 1 || v->has_mask || v->ndim != k->ndim || st_of(n->dtype) != st_of(k->params[n->buffer].dtype) ||
            v->strides[a] != 1 || v->shape[a] != k->shape[a] || v->offset % 4)
            continue;
        bool ok = true;
        for (int d = 0; d < (int)v->ndim; d++) ok &= d == a || v->shape[d] == 1 || v->strides[d] % 4 == 0;
        mark[i] = ok;
        kg->pvec[n->buffer] |= ok;
        if (ok && mark == kg->rnode) kg->rq = 4;
    }
}
