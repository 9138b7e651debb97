/* sdk/lower/lower_internal.h -- shared by the lowering library's files. */
#ifndef TGL_INTERNAL_H
#define TGL_INTERNAL_H

#include <tg/dtype_util.h>
#include <tg/lower.h>

/* The kernel's 1.1 argument fields, 0 where its struct_size lacks them. */
static inline uint32_t tgl_nargs(const tg_kernel *k) {
    return k->struct_size >= offsetof(tg_kernel, args) + sizeof k->args ? k->nargs : 0;
}
/* Does the kernel bound an axis or move a view by an argument? */
int tgl_arg_bounds(const tg_kernel *k);

/* Bytes of the accumulator of a reduction (op, dtype). */
uint32_t tgl_acc_bytes(uint32_t op, uint32_t dt);
/* Fill p->access, p->expr and p->index32 (index.c). */
tg_status tgl_index_build(tgl_prog *p);

/* ------------------------------------------------------------- rendering */
typedef struct tgl_rctx {
    const tgl_prog *p;
    const tg_kernel *k;
    const tgl_dialect *d;
    tgl_sb *sb;
    const char *idx; /* the index type: "int64_t" or "int32_t" */
} tgl_rctx;

const char *tgl_ctype(uint32_t dt);               /* type a value is computed in */
const char *tgl_acc_type(uint32_t op, uint32_t dt);
int tgl_is_reduced(const tgl_rctx *c, uint32_t d); /* axis d is reduced */
void tgl_emit_expr(const tgl_rctx *c, int32_t e);
/* 1.1: axis d's extent: the argument's value for a bounded axis ("x3_"),
 * else the shape; and whether it is bounded. */
int tgl_extent(const tgl_rctx *c, uint32_t d, char *buf, size_t cap);
void tgl_emit_params(const tgl_rctx *c);          /* "p0, p1, ..., " */
void tgl_emit_consts(const tgl_rctx *c);
void tgl_emit_stage(const tgl_rctx *c, int post);  /* 0: the input cone, 1: after it */
void tgl_emit_cone_of(const tgl_rctx *c, int root);/* the cone nodes `root` needs   */
void tgl_emit_identity(const tgl_rctx *c);
void tgl_emit_update(const tgl_rctx *c, const char *acc, const char *x);
void tgl_emit_acc_update(const tgl_rctx *c, const char *acc, int fma);
void tgl_emit_reduce_value(const tgl_rctx *c, const char *acc);
void tgl_render_cpu(const tgl_rctx *c);
void tgl_render_gpu(const tgl_rctx *c);

#endif
