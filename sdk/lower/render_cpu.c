/* sdk/lower/render_cpu.c -- CPU layouts in C: loop nests over [lo, hi) of
 * the thread axis; reductions in lanes of accumulators (FLAT), in blocks of
 * outputs (OUTER), as a register-tiled product over packed panels (MATMUL),
 * or split over threads with a combining pass (tgk_part + tgk_fin). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "lower_internal.h"

/* Open the loop of axis d; lim: bounded by lo/hi. */
static void open_loop(const tgl_rctx *c, uint32_t d, int lim) {
    char x[32];
    int bounded = tgl_extent(c, d, x, sizeof x); /* 1.1: to the argument's value */
    if (lim) tgl_sb_printf(c->sb, "for (int64_t i%u = lo; i%u < hi; i%u++) {\n", d, d, d);
    else if (c->k->shape[d] == 1 && !bounded) tgl_sb_printf(c->sb, "{ const int64_t i%u = 0;\n", d);
    else tgl_sb_printf(c->sb, "for (int64_t i%u = 0; i%u < %s; i%u++) {\n", d, d, x, d);
}

/* Linear index into out_shape (row-major) from the loop variables. */
static void emit_out_index(const tgl_rctx *c, const char *name) {
    int64_t st = 1;
    tgl_sb_printf(c->sb, "const int64_t %s = 0", name);
    for (int d = (int)c->k->ndim - 1; d >= 0; d--) {
        if (tgl_is_reduced(c, (uint32_t)d)) continue;
        if (c->k->shape[d] > 1) tgl_sb_printf(c->sb, " + i%d * %" PRId64, d, st);
        st *= c->k->shape[d];
    }
    tgl_sb_printf(c->sb, ";\n");
}

/* After the reduction: post nodes and stores, or (split) the partial. */
static void emit_after(const tgl_rctx *c, const char *acc, int part) {
    if (part) {
        emit_out_index(c, "o_");
        tgl_sb_printf(c->sb, "part[o_] = %s;\n", acc);
        return;
    }
    tgl_emit_reduce_value(c, acc);
    tgl_emit_stage(c, 1);
}

static const char *acc_t(const tgl_rctx *c) {
    const tg_node *r = &c->k->nodes[c->p->reduce_node];
    return tgl_acc_type(r->op, r->dtype);
}

/* FLAT: output loops outside, reduce loops inside, lanes on the innermost. */
static void emit_flat_body(const tgl_rctx *c, int part) {
    const tg_kernel *k = c->k;
    const tgl_plan *o = &c->p->plan;
    int rin = c->p->rin, L = o->lanes;
    if (rin < 0 || L < 2) L = 1;
    tgl_sb_printf(c->sb, "%s acc[%d];\nfor (int j_ = 0; j_ < %d; j_++) acc[j_] = ", acc_t(c), L, L);
    tgl_emit_identity(c);
    tgl_sb_printf(c->sb, ";\n");
    int closes = 0;
    for (uint32_t d = 0; d < k->ndim; d++) {
        if (!tgl_is_reduced(c, d) || (L > 1 && (int)d == rin)) continue;
        open_loop(c, d, (int)d == o->par_axis);
        closes++;
    }
    if (L > 1) {
        int lim = rin == o->par_axis;
        char lo[32], hi[32];
        snprintf(lo, sizeof lo, "%s", lim ? "lo" : "0");
        if (lim) snprintf(hi, sizeof hi, "hi");
        else tgl_extent(c, (uint32_t)rin, hi, sizeof hi);
        tgl_sb_printf(c->sb, "int64_t j0_ = %s;\nfor (; j0_ + %d <= %s; j0_ += %d) {\n", lo, L, hi, L);
        tgl_sb_printf(c->sb, "for (int j_ = 0; j_ < %d; j_++) {\nconst int64_t i%d = j0_ + j_;\n", L, rin);
        tgl_emit_stage(c, 0);
        tgl_emit_acc_update(c, "acc[j_]", 0);
        tgl_sb_printf(c->sb, "}}\nfor (; j0_ < %s; j0_++) {\nconst int64_t i%d = j0_;\n", hi, rin);
        tgl_emit_stage(c, 0);
        tgl_emit_acc_update(c, "acc[0]", 0);
        tgl_sb_printf(c->sb, "}\n");
    } else {
        tgl_emit_stage(c, 0);
        tgl_emit_acc_update(c, "acc[0]", 0);
    }
    for (int i = 0; i < closes; i++) tgl_sb_printf(c->sb, "}\n");
    for (int s = L / 2; s >= 1; s /= 2) {
        char b[32];
        snprintf(b, sizeof b, "acc[j_ + %d]", s);
        tgl_sb_printf(c->sb, "for (int j_ = 0; j_ < %d; j_++) ", s);
        tgl_emit_update(c, "acc[j_]", b);
        tgl_sb_printf(c->sb, "\n");
    }
    emit_after(c, "acc[0]", part);
}

/* OUTER: the innermost output axis runs inside the reduce loops, in blocks. */
static void emit_outer_body(const tgl_rctx *c, int part) {
    const tg_kernel *k = c->k;
    const tgl_plan *o = &c->p->plan;
    int oin = c->p->oin, NB = o->block;
    int lim = oin == o->par_axis;
    char lo[32], hi[32];
    snprintf(lo, sizeof lo, "%s", lim ? "lo" : "0");
    if (lim) snprintf(hi, sizeof hi, "hi");
    else tgl_extent(c, (uint32_t)oin, hi, sizeof hi);
    tgl_sb_printf(c->sb, "for (int64_t b_ = %s; b_ < %s; b_ += %d) {\n", lo, hi, NB);
    tgl_sb_printf(c->sb, "const int64_t nb_ = %s - b_ < %d ? %s - b_ : %d;\n", hi, NB, hi, NB);
    tgl_sb_printf(c->sb, "%s acc[%d];\nfor (int64_t j_ = 0; j_ < nb_; j_++) acc[j_] = ", acc_t(c), NB);
    tgl_emit_identity(c);
    tgl_sb_printf(c->sb, ";\n");
    int closes = 0;
    for (uint32_t d = 0; d < k->ndim; d++) {
        if (!tgl_is_reduced(c, d)) continue;
        open_loop(c, d, (int)d == o->par_axis);
        closes++;
    }
    tgl_sb_printf(c->sb, "for (int64_t j_ = 0; j_ < nb_; j_++) {\nconst int64_t i%d = b_ + j_;\n", oin);
    tgl_emit_stage(c, 0);
    tgl_emit_acc_update(c, "acc[j_]", 1);
    tgl_sb_printf(c->sb, "}\n");
    for (int i = 0; i < closes; i++) tgl_sb_printf(c->sb, "}\n");
    tgl_sb_printf(c->sb, "for (int64_t j_ = 0; j_ < nb_; j_++) {\nconst int64_t i%d = b_ + j_;\n", oin);
    emit_after(c, "acc[j_]", part);
    tgl_sb_printf(c->sb, "}}\n");
}

/* One function: tgk (part = 0) or tgk_part (part = 1). */
static void emit_main(const tgl_rctx *c, int part) {
    const tg_kernel *k = c->k;
    const tgl_plan *o = &c->p->plan;
    tgl_sb_printf(c->sb, "void tgk%s(", part ? "_part" : "");
    tgl_emit_params(c);
    if (part) tgl_sb_printf(c->sb, "%sint64_t lo, int64_t hi, %s *R part) {\n", k->nparams ? ", " : "", acc_t(c));
    else tgl_sb_printf(c->sb, "%sint64_t lo, int64_t hi) {\n", k->nparams ? ", " : "");
    tgl_emit_consts(c);
    char x[32];
    if (o->par_axis >= 0 && tgl_extent(c, (uint32_t)o->par_axis, x, sizeof x)) /* 1.1: a bounded thread axis */
        tgl_sb_printf(c->sb, "if (hi > %s) hi = %s;\n", x, x);
    if (c->p->out_count == 0) { tgl_sb_printf(c->sb, "(void)lo; (void)hi;\n}\n"); return; }
    int outer = c->p->reduce_node >= 0 && o->mode == TGL_OUTER && c->p->oin >= 0;
    int closes = 0;
    for (uint32_t d = 0; d < k->ndim; d++) {
        if (tgl_is_reduced(c, d) || (outer && (int)d == c->p->oin)) continue;
        open_loop(c, d, (int)d == o->par_axis);
        closes++;
    }
    if (c->p->reduce_node < 0) tgl_emit_stage(c, 1);
    else if (outer) emit_outer_body(c, part);
    else emit_flat_body(c, part);
    for (int i = 0; i < closes; i++) tgl_sb_printf(c->sb, "}\n");
    tgl_sb_printf(c->sb, "(void)lo; (void)hi;\n}\n");
}

/* tgk_fin: combine the partials of every output in order, then the post stage. */
static void emit_fin(const tgl_rctx *c) {
    const tg_kernel *k = c->k;
    tgl_sb_printf(c->sb, "void tgk_fin(");
    tgl_emit_params(c);
    tgl_sb_printf(c->sb, "%sconst %s *R part, int64_t nparts) {\n", k->nparams ? ", " : "", acc_t(c));
    tgl_emit_consts(c);
    int closes = 0;
    for (uint32_t d = 0; d < k->ndim; d++) {
        if (tgl_is_reduced(c, d)) continue;
        open_loop(c, d, 0);
        closes++;
    }
    emit_out_index(c, "o_");
    tgl_sb_printf(c->sb, "%s acc = part[o_];\nfor (int64_t t_ = 1; t_ < nparts; t_++) ", acc_t(c));
    char b[64];
    snprintf(b, sizeof b, "part[t_ * %" PRId64 " + o_]", c->p->out_count);
    tgl_emit_update(c, "acc", b);
    tgl_sb_printf(c->sb, "\n");
    tgl_emit_reduce_value(c, "acc");
    tgl_emit_stage(c, 1);
    for (int i = 0; i < closes; i++) tgl_sb_printf(c->sb, "}\n");
    tgl_sb_printf(c->sb, "}\n");
}

/* MATMUL: C[.., m, n] = post(sum_k A(.., m, k) * B(.., k, n)), k being all
 * reduce axes flattened, A and B any expressions (A constant along n, B along
 * m). For every point of the other ("batch") output axes: a block of NC
 * columns of B is packed into panels of NR columns ([K][NR], zero-padded);
 * for every MR rows of m, A is packed ([K][MR]) or read in place, and a
 * register-blocked micro-kernel (GCC vector extensions, fused multiply-add)
 * computes an MR x NR tile over the whole of K; the post stage runs on it. */
static void emit_matmul(const tgl_rctx *c) {
    const tg_kernel *k = c->k;
    const tgl_prog *in = c->p;
    const tgl_plan *o = &in->plan;
    int m = in->mm_m, n = in->mm_n;
    int64_t K = in->red_count, N = k->shape[n], M = k->shape[m];
    const char *T = tgl_ctype(k->nodes[in->reduce_node].dtype);
    tgl_sb *sb = c->sb;
    tgl_sb_printf(sb, "#if defined(__AVX512F__)\n#define VB 64\n#elif defined(__AVX__)\n#define VB 32\n#else\n#define VB 16\n#endif\n");
    tgl_sb_printf(sb, "typedef %s vT __attribute__((vector_size(VB)));\n", T);
    tgl_sb_printf(sb, "#define VL ((int)(VB / sizeof(%s)))\n#define MR %d\n#define NV %d\n#define NR (NV * VL)\n", T, o->mr,
                  o->block);
    tgl_sb_printf(sb, "#define KK %" PRId64 "\n#define NN %" PRId64 "\n", K, N);
    tgl_sb_printf(sb, "#define NC ((%d + NR - 1) / NR * NR)\n", o->nc);
    int direct = in->mm_sak != 0;
    tgl_sb_printf(sb, "#define SAK %" PRId64 "\n", direct ? in->mm_sak : (int64_t)o->mr);
    tgl_sb_printf(sb,
        "#ifdef __clang__\n#define TG_CONTRACT\n#else\n#define TG_CONTRACT __attribute__((optimize(\"fp-contract=fast\")))\n#endif\n"
        "TG_CONTRACT static inline void tg_micro(const %s *const *R a, const %s *R bp, %s ct[MR][NR]) {\n"
        "#ifdef __clang__\n#pragma clang fp contract(fast)\n#endif\n"
        "  vT acc[MR][NV];\n"
        "  _Pragma(\"GCC unroll 16\") for (int i = 0; i < MR; i++) _Pragma(\"GCC unroll 16\") for (int v = 0; v < NV; v++) acc[i][v] = (vT){0};\n"
        "  for (int64_t kk = 0; kk < KK; kk++) {\n"
        "    vT b[NV];\n"
        "    _Pragma(\"GCC unroll 16\") for (int v = 0; v < NV; v++) b[v] = *(const vT *)(bp + kk * NR + v * VL);\n"
        "    _Pragma(\"GCC unroll 16\") for (int i = 0; i < MR; i++) {\n"
        "      const vT av = -(vT){0} + a[i][kk * SAK]; /* -0 + x == x: a broadcast */\n"
        "      _Pragma(\"GCC unroll 16\") for (int v = 0; v < NV; v++) acc[i][v] += av * b[v];\n"
        "    }\n  }\n"
        "  _Pragma(\"GCC unroll 16\") for (int i = 0; i < MR; i++) _Pragma(\"GCC unroll 16\") for (int v = 0; v < NV; v++) memcpy(&ct[i][v * VL], &acc[i][v], sizeof(vT));\n"
        "}\n", T, T, T);
    /* Scratch that cannot be allocated is reported through tgk_oom. */
    tgl_sb_printf(sb, "#include <stdlib.h>\nint tgk_oom;\nvoid tgk(");
    tgl_emit_params(c);
    tgl_sb_printf(sb, "%sint64_t lo, int64_t hi) {\n", k->nparams ? ", " : "");
    tgl_emit_consts(c);
    /* aligned_alloc wants a size that is a multiple of the alignment */
    tgl_sb_printf(sb, "%s *bp = aligned_alloc(64, ((size_t)NC * KK * sizeof(%s) + 127) / 64 * 64);\n", T, T);
    if (direct) tgl_sb_printf(sb, "%s *ap = NULL;\n", T);
    else tgl_sb_printf(sb, "%s *ap = aligned_alloc(64, ((size_t)(%" PRId64 " / MR + 1) * MR * KK * sizeof(%s) + 127) / 64 * 64);\n", T, M, T);
    tgl_sb_printf(sb, "if (!bp || (%d && !ap)) { free(bp); free(ap); __atomic_store_n(&tgk_oom, 1, __ATOMIC_RELAXED); return; }\n", !direct);
    int closes = 0;
    for (uint32_t d = 0; d < k->ndim; d++) {
        if (tgl_is_reduced(c, d) || (int)d == m || (int)d == n) continue;
        open_loop(c, d, (int)d == o->par_axis);
        closes++;
    }
    if (m == o->par_axis) tgl_sb_printf(sb, "const int64_t mlo = lo, mhi = hi;\n");
    else tgl_sb_printf(sb, "const int64_t mlo = 0, mhi = %" PRId64 ";\n", M);
    if (!direct) { /* pack A for every tile of this batch point: [tile][K][MR], short tiles repeat their last row */
        tgl_sb_printf(sb, "for (int64_t m0 = mlo; m0 < mhi; m0 += MR) {\n"
                          "%s *R at = ap + ((m0 - mlo) / MR) * MR * KK;\n"
                          "for (int r_ = 0; r_ < MR; r_++) {\nconst int64_t i%d = m0 + r_ < mhi ? m0 + r_ : mhi - 1;\n"
                          "int64_t kf = 0;\n", T, m);
        int rr = 0;
        for (uint32_t d = 0; d < k->ndim; d++)
            if (tgl_is_reduced(c, d)) { open_loop(c, d, 0); rr++; }
        tgl_emit_cone_of(c, in->mm_a);
        tgl_sb_printf(sb, "at[kf * MR + r_] = v%d;\nkf++;\n", in->mm_a);
        for (int i = 0; i < rr; i++) tgl_sb_printf(sb, "}\n");
        tgl_sb_printf(sb, "}}\n");
    }
    /* pack B: [K][NR] per panel. With one reduced axis, in blocks of 16 of
     * it, so that a transposing pack (B read along k) writes within L1 */
    tgl_sb_printf(sb, "for (int64_t j0 = 0; j0 < NN; j0 += NC) {\n"
                      "const int64_t nc = NN - j0 < NC ? NN - j0 : NC;\n"
                      "for (int64_t jp = 0; jp < nc; jp += NR) {\n"
                      "%s *R pp = bp + (jp / NR) * KK * NR;\n", T);
    int rc = 0, rd = -1;
    for (uint32_t d = 0; d < k->ndim; d++) rc += tgl_is_reduced(c, d) ? (rd = (int)d, 1) : 0;
    if (rc == 1) {
        char x[32];
        tgl_extent(c, (uint32_t)rd, x, sizeof x);
        tgl_sb_printf(sb, "for (int64_t kb = 0; kb < %s; kb += 16) {\nconst int64_t ke = kb + 16 < %s ? kb + 16 : %s;\n"
                          "for (int c_ = 0; c_ < NR; c_++) {\nconst int64_t i%d = j0 + jp + c_;\n"
                          "for (int64_t i%d = kb; i%d < ke; i%d++) {\n%s bv = 0;\nif (i%d < NN) {\n",
                      x, x, x, n, rd, rd, rd, T, n);
        tgl_emit_cone_of(c, in->mm_b);
        tgl_sb_printf(sb, "bv = v%d;\n}\npp[i%d * NR + c_] = bv;\n}}}\n}\n", in->mm_b, rd);
    } else {
        tgl_sb_printf(sb, "int64_t kf = 0;\n");
        for (uint32_t d = 0; d < k->ndim; d++)
            if (tgl_is_reduced(c, d)) open_loop(c, d, 0);
        tgl_sb_printf(sb, "for (int c_ = 0; c_ < NR; c_++) {\nconst int64_t i%d = j0 + jp + c_;\n%s bv = 0;\nif (i%d < NN) {\n", n, T, n);
        tgl_emit_cone_of(c, in->mm_b);
        tgl_sb_printf(sb, "bv = v%d;\n}\npp[kf * NR + c_] = bv;\n}\nkf++;\n", in->mm_b);
        for (int i = 0; i < rc; i++) tgl_sb_printf(sb, "}\n");
        tgl_sb_printf(sb, "}\n");
    }
    /* tiles: MR rows of A (pointers into A, or into its packed copy), then the micro-kernel */
    tgl_sb_printf(sb, "for (int64_t m0 = mlo; m0 < mhi; m0 += MR) {\nconst %s *a[MR];\n", T);
    if (direct) {
        const tg_view *va = &k->views[k->nodes[in->mm_a].view];
        tgl_sb_printf(sb, "for (int r_ = 0; r_ < MR; r_++) {\nconst int64_t i%d = m0 + r_ < mhi ? m0 + r_ : mhi - 1;\n"
                          "a[r_] = p%u + %" PRId64, m, k->nodes[in->mm_a].buffer, va->offset);
        for (uint32_t d = 0; d < k->ndim; d++)
            if (!tgl_is_reduced(c, d) && va->strides[d] != 0 && k->shape[d] != 1) tgl_sb_printf(sb, " + i%u * %" PRId64, d, va->strides[d]);
        tgl_sb_printf(sb, ";\n}\n");
    } else {
        tgl_sb_printf(sb, "for (int r_ = 0; r_ < MR; r_++) a[r_] = ap + ((m0 - mlo) / MR) * MR * KK + r_;\n");
    }
    tgl_sb_printf(sb, "for (int64_t jp = 0; jp < nc; jp += NR) {\n"
                      "%s ct[MR][NR];\n"
                      "tg_micro(a, bp + (jp / NR) * KK * NR, ct);\n"
                      "const int rows = mhi - m0 < MR ? (int)(mhi - m0) : MR, cols = nc - jp < NR ? (int)(nc - jp) : NR;\n"
                      "for (int r_ = 0; r_ < rows; r_++) for (int c_ = 0; c_ < cols; c_++) {\n"
                      "const int64_t i%d = m0 + r_, i%d = j0 + jp + c_;\n", T, m, n);
    tgl_emit_reduce_value(c, "ct[r_][c_]");
    tgl_emit_stage(c, 1);
    tgl_sb_printf(sb, "}}}}\n");
    for (int i = 0; i < closes; i++) tgl_sb_printf(sb, "}\n");
    tgl_sb_printf(sb, "free(bp);\nfree(ap);\n(void)lo; (void)hi;\n}\n");
}

void tgl_render_cpu(const tgl_rctx *c) {
    const tgl_plan *o = &c->p->plan;
    if (o->mode == TGL_MATMUL && !o->split) {
        emit_matmul(c);
    } else if (o->split) {
        emit_main(c, 1);
        emit_fin(c);
    } else {
        emit_main(c, 0);
    }
}
