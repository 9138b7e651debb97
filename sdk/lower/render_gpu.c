/* sdk/lower/render_gpu.c -- GPU layouts: a work-item per output with a
 * serial reduction (THREAD), a work-group per output that reduces strided
 * shares and combines them in a tree in local memory (GROUP), or a matrix
 * product in tiles staged through local memory, each work-item holding a
 * register tile of outputs (TILE). Outputs are numbered row-major over
 * out_shape, so neighbouring work-items touch neighbouring elements of
 * row-major buffers (coalesced). */
#include <inttypes.h>
#include <stdio.h>

#include "lower_internal.h"

/* const IDX i<d> = (lin / stride) % extent for the axes in `axes`, lin
 * numbering their points row-major. */
static void bind_set(const tgl_rctx *c, const char *lin, uint32_t axes) {
    int64_t st = 1;
    for (int d = (int)c->k->ndim - 1; d >= 0; d--) {
        if (!(axes >> d & 1u)) continue;
        int64_t s = c->k->shape[d];
        if (s > 1) tgl_sb_printf(c->sb, "const %s i%d = (%s / %" PRId64 ") %% %" PRId64 ";\n", c->idx, d, lin, st, s);
        else tgl_sb_printf(c->sb, "const %s i%d = 0;\n", c->idx, d);
        if (s > 0) st *= s;
    }
}

/* The reduced axes (reduced = 1) or the output axes (0). */
static uint32_t axes_of(const tgl_rctx *c, int reduced) {
    uint32_t a = 0;
    for (uint32_t d = 0; d < c->k->ndim; d++)
        if (tgl_is_reduced(c, d) == reduced) a |= 1u << d;
    return a;
}

static void bind_axes(const tgl_rctx *c, const char *lin, int reduced) { bind_set(c, lin, axes_of(c, reduced)); }

/* 1.1: "i3 < x3_ && ..." over the bounded axes of a set (reduced or not):
 * whether this point lies within the launch's extents; 0 if none is bounded. */
static int in_bounds(const tgl_rctx *c, int reduced, char *buf, size_t cap) {
    size_t n = 0;
    buf[0] = 0;
    for (uint32_t d = 0; d < c->k->ndim && n < cap; d++) {
        char x[32];
        if (tgl_extent(c, d, x, sizeof x) && tgl_is_reduced(c, d) == reduced)
            n += (size_t)snprintf(buf + n, cap - n, "%si%u < %s", n ? " && " : "", d, x);
    }
    return n > 0;
}

static const char *acc_t(const tgl_rctx *c) {
    const tg_node *r = &c->k->nodes[c->p->reduce_node];
    return tgl_acc_type(r->op, r->dtype);
}

/* The kernel function's head; pass 1 and 2 of a split take the partials. */
static void open_fn(const tgl_rctx *c, const char *name, int pass) {
    tgl_sb_printf(c->sb, "%s void %s(", c->d->kernel, name);
    tgl_emit_params(c);
    if (pass)
        tgl_sb_printf(c->sb, "%s%s%s%s *R part_", c->k->nparams ? ", " : "", c->d->global, pass == 2 ? "const " : "",
                      acc_t(c));
    tgl_sb_printf(c->sb, ") {\n");
}

static void open_head(const tgl_rctx *c) { open_fn(c, "tgk", 0); }

/* A work-item per output. */
static void emit_thread(const tgl_rctx *c) {
    const tg_kernel *k = c->k;
    open_head(c);
    tgl_emit_consts(c);
    int B = c->p->plan.block; /* > 1: this many neighbouring outputs per work-item */
    tgl_sb_printf(c->sb, "const %s %s = (%s)%s * %d + (%s)%s;\nif (%s >= %" PRId64 ") return;\n", c->idx, B > 1 ? "w_" : "gid_",
                  c->idx, c->d->group_id, c->p->plan.group, c->idx, c->d->local_id, B > 1 ? "w_" : "gid_",
                  c->p->out_count / (B > 1 ? B : 1));
    if (B > 1) tgl_sb_printf(c->sb, "for (int u_ = 0; u_ < %d; u_++) {\nconst %s gid_ = w_ * %d + u_;\n", B, c->idx, B);
    bind_axes(c, "gid_", 0);
    char ok[512];
    if (in_bounds(c, 0, ok, sizeof ok)) tgl_sb_printf(c->sb, "if (!(%s)) return;\n", ok);
    if (c->p->reduce_node >= 0) {
        tgl_sb_printf(c->sb, "%s acc = ", acc_t(c));
        tgl_emit_identity(c);
        tgl_sb_printf(c->sb, ";\n");
        int closes = 0;
        for (uint32_t d = 0; d < k->ndim; d++) {
            if (!tgl_is_reduced(c, d)) continue;
            char x[32];
            tgl_extent(c, d, x, sizeof x);
            tgl_sb_printf(c->sb, "for (%s i%u = 0; i%u < %s; i%u++) {\n", c->idx, d, d, x, d);
            closes++;
        }
        tgl_emit_stage(c, 0);
        tgl_emit_acc_update(c, "acc", 1);
        for (int i = 0; i < closes; i++) tgl_sb_printf(c->sb, "}\n");
        tgl_emit_reduce_value(c, "acc");
    }
    tgl_emit_stage(c, 1);
    tgl_sb_printf(c->sb, B > 1 ? "}\n}\n" : "}\n");
}

/* A work-group per output: strided shares, then a tree in local memory. */
/* pass 0: a work-group per output reduces all its points; a split reduction
 * (plan.split = P parts) runs pass 1, a work-group per part of each output
 * writing its partial, then pass 2, a work-group per output combining its P
 * partials in order. Within a group: strided shares, then a tree. */
static void emit_group(const tgl_rctx *c, int pass) {
    const tgl_prog *p = c->p;
    int G = p->plan.group, P = p->plan.split;
    int64_t chunk = P ? (p->red_count + P - 1) / P : p->red_count;
    const char *A = acc_t(c), *I = c->idx;
    char ok[512];
    open_fn(c, pass == 0 ? "tgk" : pass == 1 ? "tgk_part" : "tgk_fin", pass);
    tgl_sb_printf(c->sb, "%s %s sh_[%d];\n", c->d->local, A, G);
    tgl_emit_consts(c);
    tgl_sb_printf(c->sb, "const %s g_ = (%s)%s, l_ = (%s)%s, o_ = g_ / %d, s0_ = g_ %% %d * %" PRId64 ";\n", I, I,
                  c->d->group_id, I, c->d->local_id, pass == 1 ? P : 1, pass == 1 ? P : 1, chunk);
    bind_axes(c, "o_", 0);
    tgl_sb_printf(c->sb, "%s acc = ", A);
    tgl_emit_identity(c);
    if (pass == 2) {
        tgl_sb_printf(c->sb, ";\nfor (%s r_ = l_; r_ < %d; r_ += %d) { ", I, P, G);
        char x[48];
        snprintf(x, sizeof x, "part_[o_ * %d + r_]", P);
        tgl_emit_update(c, "acc", x);
    } else {
        int64_t end = pass == 1 ? chunk : p->red_count;
        tgl_sb_printf(c->sb, ";\nfor (%s r_ = s0_ + l_; r_ < s0_ + %" PRId64 " && r_ < %" PRId64 "; r_ += %d) {\n", I, end,
                      p->red_count, G);
        bind_axes(c, "r_", 1);
        int b = in_bounds(c, 1, ok, sizeof ok);
        if (b) tgl_sb_printf(c->sb, "if (%s) {\n", ok);
        tgl_emit_stage(c, 0);
        tgl_emit_acc_update(c, "acc", 1);
        if (b) tgl_sb_printf(c->sb, "}\n");
    }
    tgl_sb_printf(c->sb, "}\nsh_[l_] = acc;\n%s;\n", c->d->barrier);
    tgl_sb_printf(c->sb, "for (%s s_ = %d; s_ > 0; s_ /= 2) {\nif (l_ < s_) { ", I, G / 2);
    tgl_emit_update(c, "sh_[l_]", "sh_[l_ + s_]");
    int b = in_bounds(c, 0, ok, sizeof ok);
    tgl_sb_printf(c->sb, " }\n%s;\n}\nif (l_ == 0%s%s) {\n", c->d->barrier, b ? " && " : "", ok);
    if (pass == 1) {
        tgl_sb_printf(c->sb, "part_[g_] = sh_[0];\n}\n}\n");
        return;
    }
    tgl_emit_reduce_value(c, "sh_[0]");
    tgl_emit_stage(c, 1);
    tgl_sb_printf(c->sb, "}\n}\n");
}

/* One tile of a factor into local memory: `rows` x BK points of A (rows of m)
 * or BK x `rows` of B (columns of n), zero outside the product. */
static void emit_tile_load(const tgl_rctx *c, int a_side) {
    const tgl_prog *p = c->p;
    const tgl_plan *o = &p->plan;
    int BK = o->nc, B = o->block, ax = a_side ? p->mm_m : p->mm_n, other = a_side ? p->mm_n : p->mm_m;
    int root = a_side ? p->mm_a : p->mm_b;
    const char *I = c->idx, *T = tgl_ctype(c->k->nodes[p->reduce_node].dtype);
    tgl_sb_printf(c->sb, "for (%s e_ = l_; e_ < %d; e_ += %d) {\n", I, B * BK, o->group);
    if (a_side) tgl_sb_printf(c->sb, "const %s r_ = e_ / %d, q_ = e_ %% %d;\n", I, BK, BK);
    else tgl_sb_printf(c->sb, "const %s q_ = e_ / %d, r_ = e_ %% %d;\n", I, B, B);
    tgl_sb_printf(c->sb, "const %s kf_ = k0_ + q_;\n%s x_ = 0;\nif (%s0_ + r_ < %" PRId64 " && kf_ < %" PRId64 ") {\n", I,
                  T, a_side ? "m" : "n", c->k->shape[ax], p->red_count);
    uint32_t batch = axes_of(c, 0) & ~(1u << p->mm_m) & ~(1u << p->mm_n);
    bind_set(c, "b_", batch);
    tgl_sb_printf(c->sb, "const %s i%d = %s0_ + r_, i%d = 0;\n", I, ax, a_side ? "m" : "n", other);
    bind_axes(c, "kf_", 1);
    tgl_emit_cone_of(c, root);
    tgl_sb_printf(c->sb, "x_ = v%d;\n}\n", root);
    if (a_side) tgl_sb_printf(c->sb, "As_[r_ * %d + q_] = x_;\n}\n", BK);
    else tgl_sb_printf(c->sb, "Bs_[q_ * %d + r_] = x_;\n}\n", B);
}

/* A product in tiles: a work-group computes B x B outputs of one batch
 * point; per step of BK reduced points both factors' tiles are staged in
 * local memory, and each work-item accumulates R x R outputs in registers
 * (rows ty + i * B/R, columns tx + j * B/R: coalesced, no bank conflicts). */
static void emit_tile(const tgl_rctx *c) {
    const tgl_prog *p = c->p;
    const tg_kernel *k = c->k;
    const tgl_plan *o = &p->plan;
    int B = o->block, R = o->mr, BK = o->nc, S = B / R;
    int64_t M = k->shape[p->mm_m], N = k->shape[p->mm_n], mt = (M + B - 1) / B, nt = (N + B - 1) / B;
    uint32_t dt = k->nodes[p->reduce_node].dtype;
    const char *I = c->idx, *T = tgl_ctype(dt), *fma = dt == TG_FLOAT64 ? "fma" : "fmaf";
    open_head(c);
    tgl_sb_printf(c->sb, "%s %s As_[%d];\n%s %s Bs_[%d];\n", c->d->local, T, B * BK, c->d->local, T, BK * B);
    tgl_emit_consts(c);
    tgl_sb_printf(c->sb, "const %s g_ = (%s)%s, l_ = (%s)%s;\n", I, I, c->d->group_id, I, c->d->local_id);
    tgl_sb_printf(c->sb, "const %s b_ = g_ / %" PRId64 ", m0_ = g_ / %" PRId64 " %% %" PRId64 " * %d, n0_ = g_ %% %" PRId64
                  " * %d;\nconst %s ty_ = l_ / %d, tx_ = l_ %% %d;\n", I, mt * nt, nt, mt, B, nt, B, I, S, S);
    tgl_sb_printf(c->sb, "%s acc_[%d];\nfor (int u_ = 0; u_ < %d; u_++) acc_[u_] = 0;\n", T, R * R, R * R);
    tgl_sb_printf(c->sb, "for (%s k0_ = 0; k0_ < %" PRId64 "; k0_ += %d) {\n", I, p->red_count, BK);
    emit_tile_load(c, 1);
    emit_tile_load(c, 0);
    tgl_sb_printf(c->sb, "%s;\nfor (int kk_ = 0; kk_ < %d; kk_++) {\n%s a_[%d], w_[%d];\n", c->d->barrier, BK, T, R, R);
    tgl_sb_printf(c->sb, "for (int i_ = 0; i_ < %d; i_++) a_[i_] = As_[(ty_ + i_ * %d) * %d + kk_];\n", R, S, BK);
    tgl_sb_printf(c->sb, "for (int j_ = 0; j_ < %d; j_++) w_[j_] = Bs_[kk_ * %d + tx_ + j_ * %d];\n", R, B, S);
    tgl_sb_printf(c->sb, "for (int i_ = 0; i_ < %d; i_++) for (int j_ = 0; j_ < %d; j_++) acc_[i_ * %d + j_] = "
                  "%s(a_[i_], w_[j_], acc_[i_ * %d + j_]);\n}\n%s;\n}\n", R, R, R, fma, R, c->d->barrier);
    tgl_sb_printf(c->sb, "for (int i_ = 0; i_ < %d; i_++) for (int j_ = 0; j_ < %d; j_++) {\n"
                  "const %s mm_ = m0_ + ty_ + i_ * %d, nn_ = n0_ + tx_ + j_ * %d;\n"
                  "if (mm_ < %" PRId64 " && nn_ < %" PRId64 ") {\n", R, R, I, S, S, M, N);
    bind_set(c, "b_", axes_of(c, 0) & ~(1u << p->mm_m) & ~(1u << p->mm_n));
    tgl_sb_printf(c->sb, "const %s i%d = mm_, i%d = nn_;\n", I, p->mm_m, p->mm_n);
    char acc[48];
    snprintf(acc, sizeof acc, "acc_[i_ * %d + j_]", R);
    tgl_emit_reduce_value(c, acc);
    tgl_emit_stage(c, 1);
    tgl_sb_printf(c->sb, "}}\n}\n");
}

void tgl_render_gpu(const tgl_rctx *c) {
    if (c->p->plan.mode == TGL_GROUP && c->p->plan.split) {
        emit_group(c, 1);
        emit_group(c, 2);
    } else if (c->p->plan.mode == TGL_GROUP) {
        emit_group(c, 0);
    } else if (c->p->plan.mode == TGL_TILE) {
        emit_tile(c);
    } else {
        emit_thread(c);
    }
}
