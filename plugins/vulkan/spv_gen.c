/* plugins/vulkan/spv_gen.c -- prints a kernel lowered by the SDK's lowering
 * library (tgl_lower: a plan, a launch geometry, one index expression and
 * one mask per LOAD/STORE) as SPIR-V assembly for a GLCompute shader.
 *
 * Layout: one storage buffer per kernel param (set 0, binding i), push
 * constants vk_push. The plan's layouts:
 *  - TGL_THREAD: an invocation per `block` neighbouring outputs; a
 *    reduction loops over its reduced points, one accumulator each;
 *  - TGL_GROUP: a work group per output; each lane strides over the
 *    reduced points, then a tree in shared memory; lane 0 runs the nodes
 *    after the reduction and the stores; a split reduction is two passes
 *    (tgk_part, tgk_fin) of one shader, push constant 3 saying which.
 * TGL_TILE is not printed (the library is told too little shared memory).
 * Where a lowered index expression is affine with stride 1 along the
 * neighbours, 4 points move as one vec4. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "spv_kgen.h"
#include <tg/dtype_util.h>

#define OP(name, t, ...) gen_op(g, name, t, __VA_ARGS__)

uint32_t vk_spv_dtypes(const vk_spv_target *t) {
    uint32_t m = 1u << TG_INT32 | 1u << TG_UINT32 | 1u << TG_FLOAT32;
    if (t->int8 && t->storage8) m |= 1u << TG_BOOL | 1u << TG_INT8 | 1u << TG_UINT8;
    if (t->int16 && t->storage16) m |= 1u << TG_INT16 | 1u << TG_UINT16 | 1u << TG_BFLOAT16;
    if (t->float16 && t->storage16) m |= 1u << TG_FLOAT16;
    if (t->int64) m |= 1u << TG_INT64 | 1u << TG_UINT64;
    if (t->float64 && t->int64) m |= 1u << TG_FLOAT64;
    return m;
}

/* ------------------------------------------------------------- helpers */


static int cidx(gen *g, int64_t v) { return gen_const_bits(g, g->it, (uint64_t)v); }



/* An index expression of the lowering library (the one view-stack walk) at
 * the point idx (ids of g->it per kernel axis): integer ops in g->it, the
 * predicates (>=, <, &&) as bools. */
static int expr(gen *g, const tgl_prog *lp, int32_t e, const int *idx) {
    const tgl_expr *x = &lp->expr[e];
    switch (x->kind) {
    case TGL_E_CONST: return cidx(g, x->v);
    case TGL_E_VAR: return idx[x->v];
    case TGL_E_ADD: return OP("OpIAdd", g->it, 2, expr(g, lp, x->a, idx), expr(g, lp, x->b, idx));
    case TGL_E_MUL: return x->v == 1 ? expr(g, lp, x->a, idx) : OP("OpIMul", g->it, 2, expr(g, lp, x->a, idx), cidx(g, x->v));
    case TGL_E_DIV: return OP("OpSDiv", g->it, 2, expr(g, lp, x->a, idx), cidx(g, x->v));
    case TGL_E_MOD: return OP("OpSRem", g->it, 2, expr(g, lp, x->a, idx), cidx(g, x->v));
    case TGL_E_GE: return OP("OpSGreaterThanEqual", CT_BOOL, 2, expr(g, lp, x->a, idx), cidx(g, x->v));
    case TGL_E_LT: return OP("OpSLessThan", CT_BOOL, 2, expr(g, lp, x->a, idx), cidx(g, x->v));
    default: return OP("OpLogicalAnd", CT_BOOL, 2, expr(g, lp, x->a, idx), expr(g, lp, x->b, idx));
    }
}

/* Where node n reads or writes: the element address; *valid is a bool id,
 * -1 when every point is valid, -2 when none is. */
static int node_addr(kgen *kg, const tg_node *n, const int *idx, int *valid) {
    const tgl_access *a = &kg->lp->access[n - kg->g.k->nodes];
    const tgl_expr *v = a->valid >= 0 ? &kg->lp->expr[a->valid] : NULL;
    *valid = !v ? -1 : v->hi == 0 ? -2 : expr(&kg->g, kg->lp, a->valid, idx);
    return *valid == -2 ? cidx(&kg->g, 0) : expr(&kg->g, kg->lp, a->addr, idx);
}

static int elem_ptr(kgen *kg, uint32_t buffer, int addr) {
    gen *g = &kg->g;
    ct st = st_of(kg->g.k->params[buffer].dtype);
    if (kg->bda >> buffer & 1) { /* base + addr * size, as a pointer */
        int a64 = g->it == CT_U64 ? addr : OP("OpUConvert", CT_U64, 1, addr);
        int off = OP("OpIMul", CT_U64, 2, a64, gen_const_bits(g, CT_U64, (uint64_t)ct_bits(st) / 8));
        int p = gen_id(g);
        sb_printf(&g->body, "%%v%d = OpConvertUToPtr %%pp_%s %%v%d\n", p, ct_name[st],
                  OP("OpIAdd", CT_U64, 2, kg->base[buffer], off));
        return p;
    }
    int p = gen_id(g);
    sb_printf(&g->body, "%%v%d = OpAccessChain %%pe_%s %%buf%u %%v%d %%v%d\n", p, ct_name[st], buffer,
              gen_const_bits(g, CT_U32, 0), addr);
    return p;
}

/* The memory operand of a load or store through a device address. */
static const char *align(const kgen *kg, uint32_t buffer) {
    static const char *const al[9] = {"", " Aligned 1", " Aligned 2", "", " Aligned 4", "", "", "", " Aligned 8"};
    return kg->bda >> buffer & 1 ? al[tgp_dtype_size(kg->g.k->params[buffer].dtype)] : "";
}

/* storage value -> computation value */
static int from_storage(gen *g, uint32_t dt, int x) {
    switch (dt) {
    case TG_BOOL: return OP("OpINotEqual", CT_BOOL, 2, x, gen_const_bits(g, CT_U8, 0));
    case TG_FLOAT16: { /* NaNs rebuilt from the bits: drivers may not keep payloads */
        gen_use(g, CT_U16);
        int f = OP("OpFConvert", CT_F32, 1, x), h = OP("OpUConvert", CT_U32, 1, OP("OpBitcast", CT_U16, 1, x));
        int bits = OP("OpBitwiseOr", CT_U32, 2, OP("OpShiftLeftLogical", CT_U32, 2, OP("OpBitwiseAnd", CT_U32, 2, h,
                      gen_const_bits(g, CT_U32, 0x8000)), gen_const_bits(g, CT_U32, 16)), OP("OpBitwiseOr", CT_U32, 2,
                      gen_const_bits(g, CT_U32, 0x7f800000), OP("OpShiftLeftLogical", CT_U32, 2, OP("OpBitwiseAnd", CT_U32, 2, h,
                      gen_const_bits(g, CT_U32, 0x3ff)), gen_const_bits(g, CT_U32, 13))));
        return gen_select(g, CT_F32, OP("OpIsNan", CT_BOOL, 1, f), OP("OpBitcast", CT_F32, 1, bits), f);
    }
    case TG_BFLOAT16: {
        int u = OP("OpUConvert", CT_U32, 1, x);
        u = OP("OpShiftLeftLogical", CT_U32, 2, u, gen_const_bits(g, CT_U32, 16));
        return OP("OpBitcast", CT_F32, 1, u);
    }
    default: return x;
    }
}

static int to_storage(gen *g, uint32_t dt, int x) {
    switch (dt) {
    case TG_BOOL: return gen_select(g, CT_U8, x, gen_const_bits(g, CT_U8, 1), gen_const_bits(g, CT_U8, 0));
    case TG_FLOAT16: { /* a NaN keeps its top 10 payload bits */
        gen_use(g, CT_U16);
        int u = OP("OpBitcast", CT_U32, 1, x);
        int m = OP("OpBitwiseAnd", CT_U32, 2, OP("OpShiftRightLogical", CT_U32, 2, u, gen_const_bits(g, CT_U32, 13)),
                   gen_const_bits(g, CT_U32, 0x3ff));
        int q = gen_select(g, CT_U32, OP("OpIEqual", CT_BOOL, 2, m, gen_const_bits(g, CT_U32, 0)), gen_const_bits(g, CT_U32, 0x200),
                           gen_const_bits(g, CT_U32, 0));
        int bits = OP("OpBitwiseOr", CT_U32, 2, OP("OpBitwiseAnd", CT_U32, 2, OP("OpShiftRightLogical", CT_U32, 2, u,
                      gen_const_bits(g, CT_U32, 16)), gen_const_bits(g, CT_U32, 0x8000)), OP("OpBitwiseOr", CT_U32, 2,
                      gen_const_bits(g, CT_U32, 0x7c00), OP("OpBitwiseOr", CT_U32, 2, m, q)));
        int nan = OP("OpBitcast", CT_F16, 1, OP("OpUConvert", CT_U16, 1, bits));
        return gen_select(g, CT_F16, OP("OpIsNan", CT_BOOL, 1, x), nan, OP("OpFConvert", CT_F16, 1, x));
    }
    case TG_BFLOAT16: {
        int u = OP("OpBitcast", CT_U32, 1, x);
        u = OP("OpShiftRightLogical", CT_U32, 2, u, gen_const_bits(g, CT_U32, 16));
        return OP("OpUConvert", CT_U16, 1, u);
    }
    default: return x;
    }
}

/* Vector access: a load or store through a view with stride 1 along axis a
 * (every other term a multiple of 4, no mask) moves the 4 neighbours along
 * a that share a vec4 as one (lavapipe runs every access as a loop over its
 * SIMD lanes; a vec4 moves 4 points per lane). Read off the lowered index
 * expression: c0 + sum c[d] i_d. */
static bool affine(const tgl_prog *lp, int32_t e, int64_t mul, int64_t *c) {
    const tgl_expr *x = &lp->expr[e];
    switch (x->kind) {
    case TGL_E_CONST: c[TG_MAX_DIMS] += mul * x->v; return true;
    case TGL_E_VAR: c[x->v] += mul; return true;
    case TGL_E_ADD: return affine(lp, x->a, mul, c) && affine(lp, x->b, mul, c);
    case TGL_E_MUL: return affine(lp, x->a, mul * x->v, c);
    default: return false;
    }
}

static bool vec_ok(const kgen *kg, uint32_t i, int a) {
    const tg_kernel *k = kg->g.k;
    const tg_node *n = &k->nodes[i];
    const tgl_access *ac = &kg->lp->access[i];
    int64_t c[TG_MAX_DIMS + 1] = {0};
    if (a < 0 || k->shape[a] % 4 || n->buffer >= 64 || (kg->bda >> n->buffer & 1) || ac->valid >= 0 ||
        st_of(n->dtype) != st_of(k->params[n->buffer].dtype) || !affine(kg->lp, ac->addr, 1, c))
        return false;
    for (int d = 0; d < (int)k->ndim; d++)
        if (d == a ? c[d] != 1 : k->shape[d] > 1 && c[d] % 4) return false;
    return c[TG_MAX_DIMS] % 4 == 0;
}

/* The vec4 holding node n's point idx: its address / 4, or for the
 * neighbours of a work-item c0 / 4 + i_oin / 4 + sum (c[d] / 4) i_d. */
static int vec_ptr(kgen *kg, const tg_node *n, const int *idx) {
    gen *g = &kg->g;
    const tg_kernel *k = g->k;
    uint32_t i = (uint32_t)(n - k->nodes);
    int valid, a, p = gen_id(g);
    if (kg->vo[i]) {
        int64_t c[TG_MAX_DIMS + 1] = {0};
        affine(kg->lp, kg->lp->access[i].addr, 1, c);
        a = OP("OpIAdd", g->it, 2, kg->q4, cidx(g, c[TG_MAX_DIMS] / 4 + kg->u / 4));
        for (int d = 0; d < (int)k->ndim; d++)
            if (d != kg->lp->oin && k->shape[d] > 1 && c[d])
                a = OP("OpIAdd", g->it, 2, a, OP("OpIMul", g->it, 2, idx[d], cidx(g, c[d] / 4)));
    } else {
        a = OP("OpShiftRightLogical", g->it, 2, node_addr(kg, n, idx, &valid), cidx(g, 2));
    }
    sb_printf(&g->body, "%%v%d = OpAccessChain %%pe4_%s %%bufv%u %%v%d %%v%d\n", p, ct_name[st_of(n->dtype)],
              n->buffer, gen_const_bits(g, CT_U32, 0), a);
    return p;
}

static int emit_load(kgen *kg, const tg_node *n, const int *idx) {
    gen *g = &kg->g;
    const tg_kernel *k = g->k;
    uint32_t i = (uint32_t)(n - k->nodes);
    bool vr = kg->rq > 1 && kg->vr[i], vo = !vr && kg->vo[i];
    if (vr || vo) { /* one vec4 load: per neighbour for 4 reduced points, or for 4 neighbours */
        int *slot = &kg->vpart[8 * i + (vr ? kg->u : kg->u / 4)], x = gen_id(g);
        ct st = st_of(n->dtype);
        if (vr ? kg->q == 0 : kg->u % 4 == 0) {
            int p = vec_ptr(kg, n, idx);
            *slot = gen_id(g);
            sb_printf(&g->body, "%%v%d = OpLoad %%vec4_%s %%v%d\n", *slot, ct_name[st], p);
        }
        sb_printf(&g->body, "%%v%d = OpCompositeExtract %%%s %%v%d %d\n", x, ct_name[st], *slot, vr ? kg->q : kg->u % 4);
        return from_storage(g, n->dtype, x);
    }
    uint32_t dt = k->params[n->buffer].dtype;
    ct st = st_of(dt), t = ct_of(n->dtype);
    int valid;
    int addr = node_addr(kg, n, idx, &valid);
    if (valid == -2) return zero_of(g, t);
    int sel = -1, pre = g->cur, lt = -1, lm = -1;
    if (valid >= 0) {
        lt = gen_id(g);
        lm = gen_id(g);
        sb_printf(&g->body, "OpSelectionMerge %%v%d None\nOpBranchConditional %%v%d %%v%d %%v%d\n", lm, valid, lt, lm);
        gen_label_at(g, lt);
    }
    int p = elem_ptr(kg, n->buffer, addr);
    int x = gen_id(g);
    sb_printf(&g->body, "%%v%d = OpLoad %%%s %%v%d%s\n", x, ct_name[st], p, align(kg, n->buffer));
    int v = from_storage(g, dt, x);
    if (valid >= 0) {
        int from = g->cur;
        sb_printf(&g->body, "OpBranch %%v%d\n", lm);
        gen_label_at(g, lm);
        sel = gen_id(g);
        gen_use(g, t);
        sb_printf(&g->body, "%%v%d = OpPhi %%%s %%v%d %%v%d %%v%d %%v%d\n", sel, ct_name[t], v, from, zero_of(g, t), pre);
        return sel;
    }
    return v;
}


static void emit_store(kgen *kg, const tg_node *n, const int *idx) {
    gen *g = &kg->g;
    uint32_t i = (uint32_t)(n - g->k->nodes);
    if (kg->vo[i]) { /* the 4 neighbours' values as one vec4, after the last */
        int *vp = &kg->vpart[8 * i], c = gen_id(g);
        vp[kg->u % 4] = to_storage(g, n->dtype, kg->val[n->src[0]]);
        if (kg->u % 4 < 3) return;
        ct st = st_of(n->dtype);
        sb_printf(&g->body, "%%v%d = OpCompositeConstruct %%vec4_%s %%v%d %%v%d %%v%d %%v%d\n", c, ct_name[st], vp[0], vp[1],
                  vp[2], vp[3]);
        sb_printf(&g->body, "OpStore %%v%d %%v%d\n", vec_ptr(kg, n, idx), c);
        return;
    }
    int valid;
    int addr = node_addr(kg, n, idx, &valid);
    int x = to_storage(g, n->dtype, kg->val[n->src[0]]);
    int p = elem_ptr(kg, n->buffer, addr);
    sb_printf(&g->body, "OpStore %%v%d %%v%d%s\n", p, x, align(kg, n->buffer));
}

/* Emit the nodes of one stage (cone: the reduction's input cone, else the
 * rest) at the point idx. */
static tg_status emit_stage(kgen *kg, bool cone, const int *idx) {
    const tg_kernel *k = kg->g.k;
    for (uint32_t i = 0; i < k->nnodes; i++) {
        const tg_node *n = &k->nodes[i];
        if (n->op == TG_OP_CONST || n->op == TG_OP_ARG || (int)i == kg->red || kg->cone[i] != cone) continue;
        if (n->op == TG_OP_LOAD) {
            kg->val[i] = emit_load(kg, n, idx);
        } else if (n->op == TG_OP_STORE) {
            emit_store(kg, n, idx);
        } else {
            int b = n->src[1] >= 0 ? kg->val[n->src[1]] : -1, c = n->src[2] >= 0 ? kg->val[n->src[2]] : -1;
            if (ops_alu(&kg->g, n->op, n->dtype, k->nodes[n->src[0]].dtype, kg->val[n->src[0]], b, c, &kg->val[i])) {
                snprintf(kg->err, kg->errcap, "vulkan: op %u is not defined on dtype %u (node %u)", n->op, n->dtype, i);
                return TG_ERR_UNSUPPORTED;
            }
        }
    }
    return TG_OK;
}

/* A CONST node. Float constants are made opaque (OR-ed with a zero pushed
 * at run time): drivers fold x + 0.0, x * 0.0 or x / 0.0 as if there were
 * no signed zeros, infinities or NaNs (lavapipe does, despite
 * SignedZeroInfNanPreserve). */
static int opaque_f(gen *g, ct t, int c, int zero32) {
    ct bt = t == CT_F64 ? CT_U64 : CT_U32;
    int zero = t == CT_F64 ? OP("OpUConvert", CT_U64, 1, zero32) : zero32;
    return OP("OpBitcast", t, 1, OP("OpBitwiseOr", bt, 2, OP("OpBitcast", bt, 1, c), zero));
}
static int const_node(gen *g, const tg_node *n, int zero32) {
    ct t = ct_of(n->dtype);
    if (t == CT_BOOL) return gen_const_bool(g, n->value.i != 0);
    if (!ct_is_float(t)) return gen_const_bits(g, t, n->value.u);
    return opaque_f(g, t, gen_const_f(g, t, n->value.f), zero32);
}

/* An ARG node: its word from push constants m (low half) and m + 1. */
static int arg_node(gen *g, const tg_node *n, int m) {
    int w[2];
    for (int h = 0; h < 2; h++) {
        int p = gen_id(g);
        sb_printf(&g->body, "%%v%d = OpAccessChain %%ppc_u32 %%pc %%v%d\n", p, gen_const_bits(g, CT_U32, (uint64_t)(m + h)));
        w[h] = OP("OpLoad", CT_U32, 1, p);
    }
    ct t = ct_of(n->dtype);
    if (t == CT_BOOL) return OP("OpINotEqual", CT_BOOL, 2, w[0], gen_const_bits(g, CT_U32, 0));
    if (t == CT_U8 || t == CT_U16) return OP("OpUConvert", t, 1, w[0]);
    if (t == CT_U32 || t == CT_F32) return t == CT_U32 ? w[0] : OP("OpBitcast", t, 1, w[0]);
    int hi = OP("OpShiftLeftLogical", CT_U64, 2, OP("OpUConvert", CT_U64, 1, w[1]), gen_const_bits(g, CT_U64, 32));
    int u = OP("OpBitwiseOr", CT_U64, 2, hi, OP("OpUConvert", CT_U64, 1, w[0]));
    return t == CT_U64 ? u : OP("OpBitcast", t, 1, u);
}

/* ----------------------------------------------------------- the body */

/* What one dispatch computes: every point (WORK); or, for a reduction split
 * over several work groups per output, the partial results into scratch
 * (PART) and then their reduction with the nodes after it (FINAL). */
enum { WORK, PART, FINAL };

static void branch_if(gen *g, int cond, int *l_merge) {
    int lt = gen_id(g);
    *l_merge = gen_id(g);
    sb_printf(&g->body, "OpSelectionMerge %%v%d None\nOpBranchConditional %%v%d %%v%d %%v%d\n", *l_merge, cond, lt, *l_merge);
    gen_label_at(g, lt);
}

static void branch_end(gen *g, int l_merge) {
    sb_printf(&g->body, "OpBranch %%v%d\n", l_merge);
    gen_label_at(g, l_merge);
}


static int scratch_ptr(gen *g, ct sht, int idx) {
    int p = gen_id(g);
    sb_printf(&g->body, "%%v%d = OpAccessChain %%pe_%s %%scratch %%v%d %%v%d\n", p, ct_name[sht],
              gen_const_bits(g, CT_U32, 0), idx);
    return p;
}

/* Bind the output axes (reduced = false; the reduced ones are 0) or the
 * reduced axes from lin, numbering their points row-major; with B > 1, lin
 * counts runs of B neighbours along the output axis oin. */
static void unravel(kgen *kg, int lin, bool reduced, int B, int *idx) {
    gen *g = &kg->g;
    const tg_kernel *k = g->k;
    int64_t stride = 1, total = reduced ? kg->lp->red_count : kg->lp->out_count / B;
    for (int d = (int)k->ndim - 1; d >= 0; d--) {
        bool r = kg->red >= 0 && (k->reduce_axes >> d & 1);
        if (r != reduced) {
            if (!reduced) idx[d] = cidx(g, 0);
            continue;
        }
        int64_t size = k->shape[d] / (d == kg->lp->oin ? B : 1);
        if (size == 1) { idx[d] = cidx(g, 0); continue; }
        int q = stride == 1 ? lin : OP("OpUDiv", g->it, 2, lin, cidx(g, stride));
        stride *= size;
        idx[d] = stride == total ? q : OP("OpUMod", g->it, 2, q, cidx(g, size)); /* outermost: no mod */
    }
    if (B % 4 == 0) kg->q4 = B == 4 ? idx[kg->lp->oin] : OP("OpIMul", g->it, 2, idx[kg->lp->oin], cidx(g, B / 4));
    if (B > 1) idx[kg->lp->oin] = OP("OpIMul", g->it, 2, idx[kg->lp->oin], cidx(g, B));
}

/* A structured loop over r from start by step while a condition holds:
 * loop_head (returns r), the condition, loop_body, the body, loop_end. */
typedef struct loop { int rv, lh, lc, lm, r; } loop;
static int loop_head(gen *g, loop *L, int start) {
    L->rv = gen_fvar(g, g->it);
    L->lh = gen_id(g);
    L->lc = gen_id(g);
    L->lm = gen_id(g);
    sb_printf(&g->body, "OpStore %%v%d %%v%d\nOpBranch %%v%d\n", L->rv, start, L->lh);
    gen_label_at(g, L->lh);
    return L->r = OP("OpLoad", g->it, 1, L->rv);
}
static void loop_body(gen *g, const loop *L, int cond) {
    int lb = gen_id(g);
    sb_printf(&g->body, "OpLoopMerge %%v%d %%v%d None\nOpBranchConditional %%v%d %%v%d %%v%d\n", L->lm, L->lc, cond, lb, L->lm);
    gen_label_at(g, lb);
}
static void loop_end(gen *g, const loop *L, int step) {
    sb_printf(&g->body, "OpBranch %%v%d\n", L->lc);
    gen_label_at(g, L->lc);
    sb_printf(&g->body, "OpStore %%v%d %%v%d\nOpBranch %%v%d\n", L->rv, OP("OpIAdd", g->it, 2, L->r, cidx(g, step)), L->lh);
    gen_label_at(g, L->lm);
}

/* An accumulator (a Function variable) holding the reduction's identity,
 * opaque: after an empty loop, identity * NaN must not fold to 0. */
static int acc_new(kgen *kg) {
    gen *g = &kg->g;
    const tg_node *rn = &g->k->nodes[kg->red];
    int acc = gen_fvar(g, kg->act), id = identity(g, rn->op, rn->dtype, kg->act);
    sb_printf(&g->body, "OpStore %%v%d %%v%d\n", acc, ct_is_float(kg->act) ? opaque_f(g, kg->act, id, kg->zero32) : id);
    return acc;
}
static void acc_add(kgen *kg, int acc, int x) {
    gen *g = &kg->g;
    const tg_node *rn = &g->k->nodes[kg->red];
    int cur = OP("OpLoad", kg->act, 1, acc);
    sb_printf(&g->body, "OpStore %%v%d %%v%d\n", acc, combine(g, rn->op, rn->dtype, kg->act, cur, x));
}
/* The reduction's value (rounded to its dtype) for the nodes after it. */
static void reduced_value(kgen *kg, int v) {
    const tg_node *rn = &kg->g.k->nodes[kg->red];
    kg->val[kg->red] = rn->op == TG_OP_REDUCE_SUM ? round_to(&kg->g, rn->dtype, v) : v;
}

/* TGL_THREAD: a work-item per `block` neighbouring outputs; a reduction is
 * a serial loop over the reduced points (rq of them per step, read as vec4
 * where the views allow), one accumulator per neighbour. */
static tg_status emit_thread(kgen *kg, int grp, int lane) {
    gen *g = &kg->g;
    const tgl_prog *lp = kg->lp;
    int B = lp->plan.block > 1 ? lp->plan.block : 1, oin = lp->oin, l_end, accs[8];
    int oidx[TG_MAX_DIMS] = {0}, fidx[TG_MAX_DIMS];
    int lin = OP("OpIAdd", g->it, 2, OP("OpIMul", g->it, 2, grp, cidx(g, lp->plan.group)), lane);
    branch_if(g, OP("OpULessThan", CT_BOOL, 2, lin, cidx(g, lp->out_count / B)), &l_end);
    unravel(kg, lin, false, B, oidx);
    int base = B > 1 ? oidx[oin] : -1;
    if (kg->red >= 0) {
        const tg_node *rn = &g->k->nodes[kg->red];
        for (int u = 0; u < B; u++) accs[u] = acc_new(kg);
        loop L;
        int r = loop_head(g, &L, cidx(g, 0));
        loop_body(g, &L, OP("OpULessThan", CT_BOOL, 2, r, cidx(g, lp->red_count)));
        for (kg->q = 0; kg->q < kg->rq; kg->q++) {
            memcpy(fidx, oidx, sizeof fidx);
            unravel(kg, kg->q ? OP("OpIAdd", g->it, 2, r, cidx(g, kg->q)) : r, true, 1, fidx);
            for (kg->u = 0; kg->u < B; kg->u++) {
                if (B > 1) fidx[oin] = kg->u ? OP("OpIAdd", g->it, 2, base, cidx(g, kg->u)) : base;
                tg_status s = emit_stage(kg, true, fidx);
                if (s) return s;
                acc_add(kg, accs[kg->u], kg->val[rn->src[0]]);
            }
        }
        loop_end(g, &L, kg->rq);
    }
    for (kg->u = 0; kg->u < B; kg->u++) {
        if (B > 1) oidx[oin] = kg->u ? OP("OpIAdd", g->it, 2, base, cidx(g, kg->u)) : base;
        if (kg->red >= 0) reduced_value(kg, OP("OpLoad", kg->act, 1, accs[kg->u]));
        tg_status s = emit_stage(kg, false, oidx);
        if (s) return s;
    }
    branch_end(g, l_end);
    return TG_OK;
}

/* TGL_GROUP: a work-group per output (grp); its items reduce strided shares
 * of the reduced points, then a tree in shared memory; item 0 runs the nodes
 * after the reduction. Split (plan.split = P parts): PART, a group per part
 * of each output writing its partial to scratch[grp], then FINAL, a group
 * per output combining its P partials. */
static tg_status emit_group(kgen *kg, int mode, int grp, int lane, int lx) {
    gen *g = &kg->g;
    const tgl_prog *lp = kg->lp;
    const tg_node *rn = &g->k->nodes[kg->red];
    ct act = kg->act, sht = act == CT_BOOL ? CT_U32 : act, it = g->it;
    int64_t G = lp->plan.group, P = lp->plan.split, chunk = P ? (lp->red_count + P - 1) / P : lp->red_count;
    int o = mode == PART ? OP("OpUDiv", it, 2, grp, cidx(g, P)) : grp, oidx[TG_MAX_DIMS] = {0}, fidx[TG_MAX_DIMS];
    unravel(kg, o, false, 1, oidx);
    int acc = acc_new(kg), start = lane, end = cidx(g, mode == FINAL ? P : lp->red_count), x;
    if (mode == PART) { /* this part's points: [s0, min(s0 + chunk, red_count)) */
        int s0 = OP("OpIMul", it, 2, OP("OpUMod", it, 2, grp, cidx(g, P)), cidx(g, chunk));
        int e = OP("OpIAdd", it, 2, s0, cidx(g, chunk));
        end = gen_select(g, it, OP("OpULessThan", CT_BOOL, 2, e, end), e, end);
        start = OP("OpIAdd", it, 2, s0, lane);
    }
    loop L;
    int r = loop_head(g, &L, start);
    loop_body(g, &L, OP("OpULessThan", CT_BOOL, 2, r, end));
    if (mode == FINAL) { /* a partial result */
        x = OP("OpLoad", sht, 1, scratch_ptr(g, sht, OP("OpIAdd", it, 2, OP("OpIMul", it, 2, o, cidx(g, P)), r)));
        if (act == CT_BOOL) x = OP("OpINotEqual", CT_BOOL, 2, x, gen_const_bits(g, CT_U32, 0));
    } else {
        memcpy(fidx, oidx, sizeof fidx);
        unravel(kg, r, true, 1, fidx);
        tg_status s = emit_stage(kg, true, fidx);
        if (s) return s;
        x = kg->val[rn->src[0]];
    }
    acc_add(kg, acc, x);
    loop_end(g, &L, G);

    /* the tree: sh[lane] = acc; halve until sh[0] holds it */
    int v = OP("OpLoad", act, 1, acc), l_skip;
    if (act == CT_BOOL) v = gen_select(g, CT_U32, v, gen_const_bits(g, CT_U32, 1), gen_const_bits(g, CT_U32, 0));
    int p = gen_id(g);
    sb_printf(&g->body, "%%v%d = OpAccessChain %%pw_%s %%shared %%v%d\nOpStore %%v%d %%v%d\n", p, ct_name[sht], lx, p, v);
    int sc = gen_const_bits(g, CT_U32, 2), sem = gen_const_bits(g, CT_U32, 0x108);
    sb_printf(&g->body, "OpControlBarrier %%v%d %%v%d %%v%d\n", sc, sc, sem);
    for (uint32_t h = (uint32_t)G / 2; h > 0; h /= 2) {
        int lmg, p2 = gen_id(g);
        branch_if(g, OP("OpULessThan", CT_BOOL, 2, lx, gen_const_bits(g, CT_U32, h)), &lmg);
        int other = OP("OpIAdd", CT_U32, 2, lx, gen_const_bits(g, CT_U32, h));
        sb_printf(&g->body, "%%v%d = OpAccessChain %%pw_%s %%shared %%v%d\n", p2, ct_name[sht], other);
        int a = OP("OpLoad", sht, 1, p), b = OP("OpLoad", sht, 1, p2);
        int z = act == CT_BOOL ? OP("OpBitwiseOr", CT_U32, 2, a, b) : combine(g, rn->op, rn->dtype, act, a, b);
        sb_printf(&g->body, "OpStore %%v%d %%v%d\n", p, z);
        branch_end(g, lmg);
        sb_printf(&g->body, "OpControlBarrier %%v%d %%v%d %%v%d\n", sc, sc, sem);
    }
    branch_if(g, OP("OpIEqual", CT_BOOL, 2, lx, gen_const_bits(g, CT_U32, 0)), &l_skip);
    int v0 = OP("OpLoad", sht, 1, p);
    if (mode == PART) {
        sb_printf(&g->body, "OpStore %%v%d %%v%d\n", scratch_ptr(g, sht, grp), v0);
    } else {
        reduced_value(kg, act == CT_BOOL ? OP("OpINotEqual", CT_BOOL, 2, v0, gen_const_bits(g, CT_U32, 0)) : v0);
        tg_status s = emit_stage(kg, false, oidx);
        if (s) return s;
    }
    branch_end(g, l_skip);
    return TG_OK;
}

static tg_status emit_body(kgen *kg, const vk_spv_plan *plan) {
    gen *g = &kg->g;
    const tg_kernel *k = g->k;
    ct it = g->it;
    tg_status s;

    /* linear work-group index: base + wid.y * count_x + wid.x */
    int wid = gen_id(g), lid = gen_id(g);
    sb_printf(&g->body, "%%v%d = OpLoad %%v3u32 %%gl_wid\n%%v%d = OpLoad %%v3u32 %%gl_lid\n", wid, lid);
    int pcv[5];
    for (int m = 0; m < 5; m++) {
        int p = gen_id(g);
        sb_printf(&g->body, "%%v%d = OpAccessChain %%ppc_u32 %%pc %%v%d\n", p, gen_const_bits(g, CT_U32, (uint64_t)m));
        pcv[m] = OP("OpLoad", CT_U32, 1, p);
    }
    for (uint32_t i = 0, j = 0; i < k->nparams; i++) {
        if (!(kg->bda >> i & 1)) continue;
        int p = gen_id(g);
        sb_printf(&g->body, "%%v%d = OpAccessChain %%ppc_u64 %%pc %%v%d\n", p, gen_const_bits(g, CT_U32, 6 + j++));
        kg->base[i] = OP("OpLoad", CT_U64, 1, p);
    }
    for (uint32_t i = 0; i < k->nnodes; i++)
        if (k->nodes[i].op == TG_OP_CONST) kg->val[i] = const_node(g, &k->nodes[i], pcv[4]);
        else if (k->nodes[i].op == TG_OP_ARG) kg->val[i] = arg_node(g, &k->nodes[i], 6 + __builtin_popcountll(kg->bda) + 2 * (int)k->nodes[i].buffer);
    kg->zero32 = pcv[4];
    int wx = gen_id(g), wy = gen_id(g), lx = gen_id(g);
    gen_use(g, CT_U32);
    sb_printf(&g->body, "%%v%d = OpCompositeExtract %%u32 %%v%d 0\n%%v%d = OpCompositeExtract %%u32 %%v%d 1\n"
                        "%%v%d = OpCompositeExtract %%u32 %%v%d 0\n", wx, wid, wy, wid, lx, lid);
    int grp = OP("OpIAdd", CT_U32, 2, OP("OpIMul", CT_U32, 2, wy, pcv[2]), wx);
    int base = pcv[0], lane = lx;
    if (it == CT_U64) {
        int hi = OP("OpShiftLeftLogical", CT_U64, 2, OP("OpUConvert", CT_U64, 1, pcv[1]), gen_const_bits(g, CT_U64, 32));
        base = OP("OpBitwiseOr", CT_U64, 2, hi, OP("OpUConvert", CT_U64, 1, pcv[0]));
        grp = OP("OpUConvert", CT_U64, 1, grp);
        lane = OP("OpUConvert", CT_U64, 1, lx);
    }
    grp = OP("OpIAdd", it, 2, grp, base);
    if (kg->lp->plan.mode == TGL_THREAD) {
        s = emit_thread(kg, grp, lane);
    } else if (plan->npasses == 1) {
        s = emit_group(kg, WORK, grp, lane, lx);
    } else { /* push constant 3 says which pass (the same in the whole dispatch) */
        int l_merge = gen_id(g), l_part = gen_id(g), l_final = gen_id(g);
        int first = OP("OpIEqual", CT_BOOL, 2, pcv[3], gen_const_bits(g, CT_U32, 0));
        sb_printf(&g->body, "OpSelectionMerge %%v%d None\nOpBranchConditional %%v%d %%v%d %%v%d\n", l_merge, first,
                  l_part, l_final);
        gen_label_at(g, l_part);
        s = emit_group(kg, PART, grp, lane, lx);
        if (s) return s;
        sb_printf(&g->body, "OpBranch %%v%d\n", l_merge);
        gen_label_at(g, l_final);
        s = emit_group(kg, FINAL, grp, lane, lx);
        sb_printf(&g->body, "OpBranch %%v%d\n", l_merge);
        gen_label_at(g, l_merge);
    }
    sb_printf(&g->body, "OpReturn\n");
    return s;
}

/* --------------------------------------------------------- the module */

static void emit_module(kgen *kg, const vk_spv_plan *plan, sbuf *out) {
    gen *g = &kg->g;
    const tg_kernel *k = g->k;
    const vk_spv_target *t = g->t;
    static const char *const cap[CT_COUNT] = {NULL, "Int8", "Int16", NULL, "Int64", "Float16", NULL, "Float64"};
    bool st8 = kg->st_used[CT_U8] || kg->st_pp[CT_U8];
    bool st16 = kg->st_used[CT_U16] || kg->st_used[CT_F16] || kg->st_pp[CT_U16] || kg->st_pp[CT_F16];
    bool w_used[3] = {g->used[CT_F16], true, g->used[CT_F64]};
    bool dp = false, sz = false, rte = false;
    if (t->float_controls)
        for (int w = 0; w < 3; w++) {
            dp |= w_used[w] && t->denorm_preserve[w];
            sz |= w_used[w] && t->szinp[w];
        }
    rte = t->float_controls && t->rte16 && g->used[CT_F16];

    sb_printf(out, "; tg kernel %s, hash %016llx\nOpCapability Shader\n", k->name ? k->name : "?",
              (unsigned long long)k->hash);
    for (int i = 0; i < CT_COUNT; i++)
        if (cap[i] && g->used[i]) sb_printf(out, "OpCapability %s\n", cap[i]);
    if (st8) sb_printf(out, "OpCapability StorageBuffer8BitAccess\n");
    if (st16) sb_printf(out, "OpCapability StorageBuffer16BitAccess\n");
    if (dp) sb_printf(out, "OpCapability DenormPreserve\n");
    if (sz) sb_printf(out, "OpCapability SignedZeroInfNanPreserve\n");
    if (rte) sb_printf(out, "OpCapability RoundingModeRTE\n");
    if (kg->bda) sb_printf(out, "OpCapability PhysicalStorageBufferAddresses\n");
    sb_printf(out, "OpExtension \"SPV_KHR_storage_buffer_storage_class\"\n");
    if (st8) sb_printf(out, "OpExtension \"SPV_KHR_8bit_storage\"\n");
    if (st16) sb_printf(out, "OpExtension \"SPV_KHR_16bit_storage\"\n");
    if (dp || sz || rte) sb_printf(out, "OpExtension \"SPV_KHR_float_controls\"\n");
    if (kg->bda) sb_printf(out, "OpExtension \"SPV_KHR_physical_storage_buffer\"\n");
    if (g->glsl) sb_printf(out, "%%glsl = OpExtInstImport \"GLSL.std.450\"\n");
    sb_printf(out, "OpMemoryModel %s GLSL450\n", kg->bda ? "PhysicalStorageBuffer64" : "Logical");
    sb_printf(out, 
                   "OpEntryPoint GLCompute %%main \"main\" %%gl_wid %%gl_lid\n"
                   "OpExecutionMode %%main LocalSize %u 1 1\n", plan->wg_size);
    for (int w = 0; w < 3; w++) {
        if (!t->float_controls || !w_used[w]) continue;
        if (t->denorm_preserve[w]) sb_printf(out, "OpExecutionMode %%main DenormPreserve %d\n", 16 << w);
        if (t->szinp[w]) sb_printf(out, "OpExecutionMode %%main SignedZeroInfNanPreserve %d\n", 16 << w);
    }
    if (rte) sb_printf(out, "OpExecutionMode %%main RoundingModeRTE 16\n");

    /* decorations */
    sb_printf(out, "OpDecorate %%gl_wid BuiltIn WorkgroupId\nOpDecorate %%gl_lid BuiltIn LocalInvocationId\n"
                   "OpDecorate %%pcs Block\nOpMemberDecorate %%pcs 0 Offset 0\nOpMemberDecorate %%pcs 1 Offset 4\n"
                   "OpMemberDecorate %%pcs 2 Offset 8\nOpMemberDecorate %%pcs 3 Offset 12\n"
                   "OpMemberDecorate %%pcs 4 Offset 16\nOpMemberDecorate %%pcs 5 Offset 20\n");
    int npc = 6;
    for (uint32_t i = 0; i < k->nparams; i++)
        if (kg->bda >> i & 1) { sb_printf(out, "OpMemberDecorate %%pcs %d Offset %d\n", npc, 24 + 8 * (npc - 6)); npc++; }
    for (uint32_t a = 0; a < 2 * vk_nargs(k); a++) sb_printf(out, "OpMemberDecorate %%pcs %u Offset %u\n", npc + a, 24 + 8 * (npc - 6) + 4 * a);
    for (int i = 0; i < CT_COUNT; i++) {
        if (!kg->st_used[i]) continue;
        sb_printf(out, "OpDecorate %%rt_%s ArrayStride %d\nOpDecorate %%sb_%s Block\nOpMemberDecorate %%sb_%s 0 Offset 0\n",
                  ct_name[i], ct_bits((ct)i) / 8, ct_name[i], ct_name[i]);
    }
    for (uint32_t i = 0; i < k->nparams; i++) {
        if (kg->bda >> i & 1) continue;
        sb_printf(out, "OpDecorate %%buf%u DescriptorSet 0\nOpDecorate %%buf%u Binding %u\n", i, i, i);
        sb_printf(out, "OpDecorate %%buf%u %s\n", i, k->params[i].access == TG_ACCESS_READ ? "NonWritable" : "NonReadable");
    }

    bool v4[CT_COUNT] = {0};
    for (uint32_t i = 0; i < k->nparams; i++) {
        if (!kg->pvec[i]) continue;
        v4[st_of(k->params[i].dtype)] = true;
        sb_printf(out, "OpDecorate %%bufv%u DescriptorSet 0\nOpDecorate %%bufv%u Binding %u\nOpDecorate %%bufv%u %s\n", i, i, i,
                  i, k->params[i].access == TG_ACCESS_READ ? "NonWritable" : "NonReadable");
    }
    for (int i = 0; i < CT_COUNT; i++)
        if (v4[i])
            sb_printf(out, "OpDecorate %%rt4_%s ArrayStride %d\nOpDecorate %%sb4_%s Block\nOpMemberDecorate %%sb4_%s 0 Offset 0\n",
                      ct_name[i], ct_bits((ct)i) / 2, ct_name[i], ct_name[i]);
    if (plan->npasses == 2) sb_printf(out, "OpDecorate %%scratch DescriptorSet 0\nOpDecorate %%scratch Binding %u\n", k->nparams);

    /* types */
    sb_printf(out, "%%void = OpTypeVoid\n%%fn = OpTypeFunction %%void\n%%bool = OpTypeBool\n");
    static const char *const decl[CT_COUNT] = {NULL, "OpTypeInt 8 0", "OpTypeInt 16 0", "OpTypeInt 32 0",
                                               "OpTypeInt 64 0", "OpTypeFloat 16", "OpTypeFloat 32", "OpTypeFloat 64"};
    g->used[CT_U32] = true;
    for (int i = 1; i < CT_COUNT; i++)
        if (g->used[i]) sb_printf(out, "%%%s = %s\n", ct_name[i], decl[i]);
    sb_printf(out, "%%v3u32 = OpTypeVector %%u32 3\n%%pin = OpTypePointer Input %%v3u32\n"
                   "%%pcs = OpTypeStruct %%u32 %%u32 %%u32 %%u32 %%u32 %%u32");
    for (int i = 6; i < npc; i++) sb_printf(out, " %%u64");
    for (uint32_t a = 0; a < 2 * vk_nargs(k); a++) sb_printf(out, " %%u32");
    sb_printf(out, "\n%%ppcs = OpTypePointer PushConstant %%pcs\n%%ppc_u32 = OpTypePointer PushConstant %%u32\n");
    if (kg->bda) sb_printf(out, "%%ppc_u64 = OpTypePointer PushConstant %%u64\n");
    for (int i = 0; i < CT_COUNT; i++) {
        if (g->used[i]) sb_printf(out, "%%pf_%s = OpTypePointer Function %%%s\n", ct_name[i], ct_name[i]);
        if (kg->st_pp[i]) sb_printf(out, "%%pp_%s = OpTypePointer PhysicalStorageBuffer %%%s\n", ct_name[i], ct_name[i]);
        if (!kg->st_used[i]) continue;
        sb_printf(out, "%%rt_%s = OpTypeRuntimeArray %%%s\n%%sb_%s = OpTypeStruct %%rt_%s\n"
                       "%%psb_%s = OpTypePointer StorageBuffer %%sb_%s\n%%pe_%s = OpTypePointer StorageBuffer %%%s\n",
                  ct_name[i], ct_name[i], ct_name[i], ct_name[i], ct_name[i], ct_name[i], ct_name[i], ct_name[i]);
    }
    for (int i = 0; i < CT_COUNT; i++)
        if (v4[i])
            sb_printf(out, "%%vec4_%s = OpTypeVector %%%s 4\n%%rt4_%s = OpTypeRuntimeArray %%vec4_%s\n%%sb4_%s = OpTypeStruct "
                           "%%rt4_%s\n%%psb4_%s = OpTypePointer StorageBuffer %%sb4_%s\n%%pe4_%s = OpTypePointer StorageBuffer %%vec4_%s\n",
                      ct_name[i], ct_name[i], ct_name[i], ct_name[i], ct_name[i], ct_name[i], ct_name[i], ct_name[i], ct_name[i],
                      ct_name[i]);
    if (g->consts.s) sb_printf(out, "%s", g->consts.s);
    if (plan->layout.mode == TGL_GROUP) {
        const char *sht = ct_name[kg->act == CT_BOOL ? CT_U32 : kg->act];
        sb_printf(out, "%%wg_len = OpConstant %%u32 %u\n%%wa = OpTypeArray %%%s %%wg_len\n"
                       "%%pwa = OpTypePointer Workgroup %%wa\n%%pw_%s = OpTypePointer Workgroup %%%s\n"
                       "%%shared = OpVariable %%pwa Workgroup\n", plan->wg_size, sht, sht, sht);
    }
    sb_printf(out, "%%gl_wid = OpVariable %%pin Input\n%%gl_lid = OpVariable %%pin Input\n%%pc = OpVariable %%ppcs PushConstant\n");
    for (uint32_t i = 0; i < k->nparams; i++)
        if (!(kg->bda >> i & 1))
            sb_printf(out, "%%buf%u = OpVariable %%psb_%s StorageBuffer\n", i, ct_name[st_of(k->params[i].dtype)]);
    for (uint32_t i = 0; i < k->nparams; i++)
        if (kg->pvec[i]) sb_printf(out, "%%bufv%u = OpVariable %%psb4_%s StorageBuffer\n", i, ct_name[st_of(k->params[i].dtype)]);
    if (plan->npasses == 2)
        sb_printf(out, "%%scratch = OpVariable %%psb_%s StorageBuffer\n", ct_name[kg->act == CT_BOOL ? CT_U32 : kg->act]);

    sb_printf(out, "%%main = OpFunction %%void None %%fn\n%%entry = OpLabel\n");
    if (g->fvars.s) sb_printf(out, "%s", g->fvars.s);
    if (g->body.s) sb_printf(out, "%s", g->body.s);
    sb_printf(out, "OpFunctionEnd\n");
}

tg_status vk_spv_generate(const tg_kernel *k, const vk_spv_target *t, char **out_text, vk_spv_plan *out_plan,
                          char *err, size_t errcap) {
    kgen *kg = calloc(1, sizeof *kg);
    tg_status s = TG_OK;
    *out_text = NULL;
    if (!kg) return TG_ERR_NO_MEMORY;
    kg->err = err;
    kg->errcap = errcap;
    kg->g.k = k;
    kg->g.t = t;
    kg->g.next = 1;
    uint32_t have = vk_spv_dtypes(t);
    for (uint32_t i = 0; i < k->nnodes; i++) {
        if (have >> k->nodes[i].dtype & 1) continue;
        snprintf(err, errcap, "vulkan: this device has no %s support (node %u)",
                 k->nodes[i].dtype == TG_FLOAT64 ? "float64" : "storage/arithmetic for the dtype", i);
        s = TG_ERR_UNSUPPORTED;
        goto done;
    }
    /* the plan, the launch geometry and every index expression are the SDK's
     * lowering library's; shared memory holds a tree's wg_size accumulators
     * (so no TILE, whose staging needs more: this emitter does not print it) */
    tgl_target lt = {.kind = TGL_GPU, .index_bits = 32, .max_group = t->wg_size, .local_bytes = t->wg_size * 8,
                     .group_outputs = t->tree_outputs, .item_outputs = 8, .part_points = 256};
    if ((s = tgl_lower(k, &lt, NULL, &kg->lp, err, errcap)) != TG_OK) goto done;
    if (kg->lp->plan.split && k->nparams >= t->max_bindings) { /* no binding left for the partials */
        tgl_plan o = kg->lp->plan;
        o.split = 0;
        tgl_prog_free(kg->lp);
        kg->lp = NULL;
        if ((s = tgl_lower(k, &lt, &o, &kg->lp, err, errcap)) != TG_OK) goto done;
    }
    const tgl_prog *lp = kg->lp;
    kg->cone = lp->cone;
    kg->red = lp->reduce_node;
    kg->val = calloc(k->nnodes + 1, sizeof *kg->val);
    kg->vo = calloc(k->nnodes + 1, sizeof *kg->vo);
    kg->vr = calloc(k->nnodes + 1, sizeof *kg->vr);
    kg->vpart = calloc(8 * (size_t)k->nnodes + 8, sizeof *kg->vpart);
    if (!kg->val || !kg->vo || !kg->vr || !kg->vpart) { s = TG_ERR_NO_MEMORY; goto done; }
    for (uint32_t i = 0; i < k->nparams; i++) {
        ct st = st_of(k->params[i].dtype);
        gen_use(&kg->g, st);
        uint64_t bytes = (uint64_t)k->params[i].count * (uint64_t)(ct_bits(st) / 8);
        if (t->max_range && bytes > t->max_range) {
            if (!t->bda || i >= 64) {
                snprintf(err, errcap, "vulkan: param %u has %llu bytes; a storage buffer binding reaches at most %llu "
                         "(maxStorageBufferRange) and the device has no buffer device addresses", i,
                         (unsigned long long)bytes, (unsigned long long)t->max_range);
                s = TG_ERR_UNSUPPORTED;
                goto done;
            }
            kg->bda |= UINT64_C(1) << i;
            kg->st_pp[st] = true;
            gen_use(&kg->g, CT_U64);
        } else {
            kg->st_used[st] = true;
        }
    }
    vk_spv_plan plan = {.wg_size = lp->pass[0].local, .npasses = lp->npasses, .layout = lp->plan};
    for (uint32_t i = 0; i < lp->npasses; i++) plan.groups[i] = lp->pass[i].global / lp->pass[i].local;
    if (kg->red >= 0) kg->act = ct_of(k->nodes[kg->red].dtype);
    if (lp->npasses == 2) {
        ct sht = kg->act == CT_BOOL ? CT_U32 : kg->act;
        plan.scratch_bytes = (uint64_t)lp->out_count * (uint64_t)lp->plan.split * (uint64_t)(ct_bits(sht) / 8);
        kg->st_used[sht] = true;
    }
    /* vec4 accesses: along the neighbours of a THREAD work-item, and along
     * the innermost reduced axis, 4 points a step of its serial loop */
    int B = lp->plan.mode == TGL_THREAD ? lp->plan.block : 0;
    kg->rq = lp->plan.mode == TGL_THREAD && kg->red >= 0 ? 4 : 1;
    bool any_vr = false;
    for (uint32_t i = 0; i < k->nnodes; i++) {
        const tg_node *n = &k->nodes[i];
        if (n->op != TG_OP_LOAD && n->op != TG_OP_STORE) continue;
        kg->vr[i] = kg->rq > 1 && n->op == TG_OP_LOAD && kg->cone[i] && vec_ok(kg, i, lp->rin);
        kg->vo[i] = B >= 4 && B % 4 == 0 && !kg->vr[i] && vec_ok(kg, i, lp->oin);
        kg->pvec[n->buffer] |= kg->vr[i] || kg->vo[i];
        any_vr |= kg->vr[i];
    }
    if (!any_vr) kg->rq = 1;
    const uint64_t lim = UINT64_C(1) << 30; /* linear work indices within 31 bits, with headroom */
    plan.idx64 = !lp->index32 || (uint64_t)lp->out_count >= lim || (uint64_t)lp->red_count >= lim ||
                 lp->pass[0].global >= lim;
    if (plan.idx64 && !t->int64) {
        snprintf(err, errcap, "vulkan: kernel needs 64-bit indices and the device has no shaderInt64");
        s = TG_ERR_UNSUPPORTED;
        goto done;
    }
    kg->g.it = plan.idx64 ? CT_U64 : CT_U32;
    gen_use(&kg->g, kg->g.it);

    s = emit_body(kg, &plan);
    if (s) goto done;
    sbuf out = {0};
    emit_module(kg, &plan, &out);
    if (out.oom || kg->g.body.oom || kg->g.consts.oom || kg->g.fvars.oom) {
        free(out.s);
        s = TG_ERR_NO_MEMORY;
        goto done;
    }
    *out_text = out.s;
    plan.bda = kg->bda;
    *out_plan = plan;
done:
    free(kg->g.body.s);
    free(kg->g.consts.s);
    free(kg->g.fvars.s);
    tgl_prog_free(kg->lp);
    free(kg->val);
    free(kg->vo);
    free(kg->vr);
    free(kg->vpart);
    free(kg);
    return s;
}
