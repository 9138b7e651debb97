/* plugins/vulkan/spv_plan.c -- decisions made before a kernel's SPIR-V is
 * emitted: index width, vector mode, the reduction's input cone. */
#include "spv_kgen.h"

/* Does any index the shader computes need more than 31 bits (with
 * headroom)? Those are: the linear output and group indices, the reduced
 * index, addresses through every view, and the linear index into each view
 * below the top of a stack. The iteration space itself is never linear. */
bool spv_needs_idx64(const tg_kernel *k, uint64_t n_out, uint64_t n_red, uint64_t invocations) {
    const int64_t lim = INT64_C(1) << 30;
    if (n_out >= (uint64_t)lim || n_red >= (uint64_t)lim || invocations >= (uint64_t)lim) return true;
    for (uint32_t i = 0; i < k->nparams; i++)
        if (k->params[i].count >= lim) return true;
    for (uint32_t i = 0; i < k->nviews; i++) {
        const tg_view *v = &k->views[i];
        int64_t ext = v->offset < 0 ? -v->offset : v->offset;
        for (uint32_t d = 0; d < v->ndim; d++) {
            int64_t s = v->strides[d] < 0 ? -v->strides[d] : v->strides[d];
            if (v->shape[d] > 1 && s > lim) return true;
            ext += s * (v->shape[d] > 0 ? v->shape[d] - 1 : 0);
            if (ext >= lim) return true;
        }
    }
    for (uint32_t i = 0; i < k->nnodes; i++) {
        const tg_node *n = &k->nodes[i];
        if (n->op != TG_OP_LOAD && n->op != TG_OP_STORE) continue;
        for (uint32_t j = 0; j + 1 < n->nviews; j++)
            if (spv_prod(k->views[n->view + j].shape, k->views[n->view + j].ndim) >= lim) return true;
    }
    return false;
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

void spv_mark_cone(const tg_kernel *k, int i, bool *cone) {
    if (i < 0 || cone[i]) return;
    cone[i] = true;
    for (int s = 0; s < 3; s++) spv_mark_cone(k, k->nodes[i].src[s], cone);
}

