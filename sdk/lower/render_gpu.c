/* sdk/lower/render_gpu.c -- GPU layouts: a work-item per output with a
 * serial reduction (THREAD), or a work-group per output that reduces strided
 * shares and combines them in a tree in local memory (GROUP). Outputs are
 * numbered row-major over out_shape, so neighbouring work-items touch
 * neighbouring elements of row-major buffers (coalesced). */
#include <inttypes.h>
#include <stdio.h>

#include "lower_internal.h"

/* const IDX i<d> = (lin / stride) % extent for the axes selected by `reduced`. */
static void bind_axes(const tgl_rctx *c, const char *lin, int reduced) {
    int64_t st = 1;
    for (int d = (int)c->k->ndim - 1; d >= 0; d--) {
        if (tgl_is_reduced(c, (uint32_t)d) != reduced) continue;
        int64_t s = c->k->shape[d];
        if (s > 1) tgl_sb_printf(c->sb, "const %s i%d = (%s / %" PRId64 ") %% %" PRId64 ";\n", c->idx, d, lin, st, s);
        else if (!reduced) tgl_sb_printf(c->sb, "const %s i%d = 0;\n", c->idx, d);
        if (s > 0) st *= s;
    }
}

static void open_head(const tgl_rctx *c) {
    tgl_sb_printf(c->sb, "%s void tgk(", c->d->kernel);
    tgl_emit_params(c);
    tgl_sb_printf(c->sb, ") {\n");
}

static const char *acc_t(const tgl_rctx *c) {
    const tg_node *r = &c->k->nodes[c->p->reduce_node];
    return tgl_acc_type(r->op, r->dtype);
}

/* A work-item per output. */
static void emit_thread(const tgl_rctx *c) {
    const tg_kernel *k = c->k;
    open_head(c);
    tgl_emit_consts(c);
    tgl_sb_printf(c->sb, "const %s gid_ = (%s)%s * %d + (%s)%s;\nif (gid_ >= %" PRId64 ") return;\n", c->idx, c->idx,
                  c->d->group_id, c->p->plan.group, c->idx, c->d->local_id, c->p->out_count);
    bind_axes(c, "gid_", 0);
    if (c->p->reduce_node >= 0) {
        tgl_sb_printf(c->sb, "%s acc = ", acc_t(c));
        tgl_emit_identity(c);
        tgl_sb_printf(c->sb, ";\n");
        int closes = 0;
        for (uint32_t d = 0; d < k->ndim; d++) {
            if (!tgl_is_reduced(c, d)) continue;
            tgl_sb_printf(c->sb, "for (%s i%u = 0; i%u < %" PRId64 "; i%u++) {\n", c->idx, d, d, k->shape[d], d);
            closes++;
        }
        tgl_emit_stage(c, 0);
        tgl_emit_acc_update(c, "acc", 1);
        for (int i = 0; i < closes; i++) tgl_sb_printf(c->sb, "}\n");
        tgl_emit_reduce_value(c, "acc");
    }
    tgl_emit_stage(c, 1);
    tgl_sb_printf(c->sb, "}\n");
}

/* A work-group per output: strided shares, then a tree in local memory. */
static void emit_group(const tgl_rctx *c) {
    int G = c->p->plan.group;
    const char *A = acc_t(c);
    open_head(c);
    tgl_sb_printf(c->sb, "%s %s sh_[%d];\n", c->d->local, A, G);
    tgl_emit_consts(c);
    tgl_sb_printf(c->sb, "const %s o_ = (%s)%s, l_ = (%s)%s;\n", c->idx, c->idx, c->d->group_id, c->idx, c->d->local_id);
    bind_axes(c, "o_", 0);
    tgl_sb_printf(c->sb, "%s acc = ", A);
    tgl_emit_identity(c);
    tgl_sb_printf(c->sb, ";\nfor (%s r_ = l_; r_ < %" PRId64 "; r_ += %d) {\n", c->idx, c->p->red_count, G);
    bind_axes(c, "r_", 1);
    tgl_emit_stage(c, 0);
    tgl_emit_acc_update(c, "acc", 1);
    tgl_sb_printf(c->sb, "}\nsh_[l_] = acc;\n%s;\n", c->d->barrier);
    tgl_sb_printf(c->sb, "for (%s s_ = %d; s_ > 0; s_ /= 2) {\nif (l_ < s_) { ", c->idx, G / 2);
    tgl_emit_update(c, "sh_[l_]", "sh_[l_ + s_]");
    tgl_sb_printf(c->sb, " }\n%s;\n}\nif (l_ == 0) {\n", c->d->barrier);
    tgl_emit_reduce_value(c, "sh_[0]");
    tgl_emit_stage(c, 1);
    tgl_sb_printf(c->sb, "}\n}\n");
}

void tgl_render_gpu(const tgl_rctx *c) {
    if (c->p->plan.mode == TGL_GROUP) emit_group(c);
    else emit_thread(c);
}
