/* Fused kernels: elementwise chains, reductions with elementwise work before
 * and after, integer and bool chains, several outputs. Each template builds
 * its kernel for one dtype and says how it is judged. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "build.h"
#include "fusion.h"

typedef struct fuse_ctx {
    tgc_case *c;
    tg_dtype dt;
    int vk; /* view kind of the first load */
    int big; /* elementwise templates on SHAPE_BIG */
} fuse_ctx;

static const int64_t SHAPE_EW[] = {17, 3};
static const int64_t SHAPE_RED[] = {4, 5, 6};
/* 4288 points: enough work for a code-generating plugin's highest
   optimisation level (the cpu plugin's -O3 from 4096), where a*b+c could be
   contracted into a fused multiply-add */
static const int64_t SHAPE_BIG[] = {64, 67};

static tg_scalar scalar_of(tg_dtype dt, double v) {
    tg_scalar s;
    if (tg_dtype_is_float(dt)) s.f = v;
    else if (tg_dtype_is_signed(dt) || dt == TG_BOOL) s.i = (int64_t)v;
    else s.u = (uint64_t)v;
    return s;
}

/* ulps of slack for a positive-valued sum of n terms then `post` roundings */
static int sum_tol(tg_dtype dt, int64_t n, int post) {
    int p = dt == TG_FLOAT64 ? 53 : dt == TG_FLOAT32 ? 24 : dt == TG_FLOAT16 ? 11 : 8;
    double u = dt == TG_FLOAT64 ? 0x1p-53 : 0x1p-24;
    return (int)ceil((double)n * u * ldexp(1.0, p)) + 1 + post;
}

static int inexact_tol(tg_dtype dt, int f32, int f16) {
    return dt == TG_FLOAT16 || dt == TG_BFLOAT16 ? f16 : f32;
}

static int ew_shape(fuse_ctx *f) { tgc_b_init(f->c, 2, f->big ? SHAPE_BIG : SHAPE_EW, 0); return 0; }

/* mul_add: MUL then ADD as two nodes: each rounds, so the result is exact. */
static int t_mul_add(fuse_ctx *f) {
    tgc_case *c = f->c;
    ew_shape(f);
    int a = tgc_b_load(c, f->dt, f->vk, c->shape, TGC_V_RANDOM);
    int b = tgc_b_load(c, f->dt, TGC_VK_CONTIG, c->shape, TGC_V_RANDOM);
    int d = tgc_b_load(c, f->dt, f->vk == TGC_VK_CONTIG ? TGC_VK_CONTIG : TGC_VK_EXPAND, c->shape, TGC_V_RANDOM);
    tgc_b_store(c, tgc_b_op(c, TG_OP_ADD, f->dt, tgc_b_op(c, TG_OP_MUL, f->dt, a, b, -1), d, -1), TGC_VK_CONTIG, c->shape);
    return 0;
}

/* transcend: SQRT(EXP2(NEG(a)) + b) on positive inputs. */
static int t_transcend(fuse_ctx *f) {
    tgc_case *c = f->c;
    ew_shape(f);
    int a = tgc_b_load(c, f->dt, f->vk, c->shape, TGC_V_POSITIVE);
    int b = tgc_b_load(c, f->dt, TGC_VK_CONTIG, c->shape, TGC_V_POSITIVE);
    int e = tgc_b_op(c, TG_OP_EXP2, f->dt, tgc_b_op(c, TG_OP_NEG, f->dt, a, -1, -1), -1, -1);
    tgc_b_store(c, tgc_b_op(c, TG_OP_SQRT, f->dt, tgc_b_op(c, TG_OP_ADD, f->dt, e, b, -1), -1, -1), TGC_VK_CONTIG, c->shape);
    return inexact_tol(f->dt, 8, 3);
}

/* log_exp: LOG2(EXP2(a) + 1) * RECIP(b) on positive inputs. */
static int t_log_exp(fuse_ctx *f) {
    tgc_case *c = f->c;
    ew_shape(f);
    int a = tgc_b_load(c, f->dt, f->vk, c->shape, TGC_V_POSITIVE);
    int b = tgc_b_load(c, f->dt, TGC_VK_CONTIG, c->shape, TGC_V_POSITIVE);
    int one = tgc_b_const(c, f->dt, scalar_of(f->dt, 1.0));
    int l = tgc_b_op(c, TG_OP_LOG2, f->dt, tgc_b_op(c, TG_OP_ADD, f->dt, tgc_b_op(c, TG_OP_EXP2, f->dt, a, -1, -1), one, -1), -1, -1);
    tgc_b_store(c, tgc_b_op(c, TG_OP_MUL, f->dt, l, tgc_b_op(c, TG_OP_RECIP, f->dt, b, -1, -1), -1), TGC_VK_CONTIG, c->shape);
    return inexact_tol(f->dt, 12, 4);
}

/* cmp_where: WHERE(a < b, a, NEG(b)): exact on every dtype but bool. */
static int t_cmp_where(fuse_ctx *f) {
    tgc_case *c = f->c;
    ew_shape(f);
    int a = tgc_b_load(c, f->dt, f->vk, c->shape, TGC_V_SPECIAL);
    int b = tgc_b_load(c, f->dt, TGC_VK_CONTIG, c->shape, TGC_V_RANDOM);
    int lt = tgc_b_op(c, TG_OP_CMPLT, TG_BOOL, a, b, -1);
    tgc_b_store(c, tgc_b_op(c, TG_OP_WHERE, f->dt, lt, a, tgc_b_op(c, TG_OP_NEG, f->dt, b, -1, -1)), TGC_VK_CONTIG, c->shape);
    return 0;
}

/* int_chain: ((a*b + c) / 3) % 5 with wrapping, then MAX with a. */
static int t_int_chain(fuse_ctx *f) {
    tgc_case *c = f->c;
    ew_shape(f);
    int a = tgc_b_load(c, f->dt, f->vk, c->shape, TGC_V_RANDOM);
    int b = tgc_b_load(c, f->dt, TGC_VK_CONTIG, c->shape, TGC_V_SPECIAL);
    int d = tgc_b_load(c, f->dt, TGC_VK_CONTIG, c->shape, TGC_V_RANDOM);
    int x = tgc_b_op(c, TG_OP_ADD, f->dt, tgc_b_op(c, TG_OP_MUL, f->dt, a, b, -1), d, -1);
    x = tgc_b_op(c, TG_OP_DIV, f->dt, x, tgc_b_const(c, f->dt, scalar_of(f->dt, 3)), -1);
    x = tgc_b_op(c, TG_OP_MOD, f->dt, x, tgc_b_const(c, f->dt, scalar_of(f->dt, 5)), -1);
    tgc_b_store(c, tgc_b_op(c, TG_OP_MAX, f->dt, x, a, -1), TGC_VK_CONTIG, c->shape);
    return 0;
}

/* bool_chain: WHERE(x < y, p AND q, p OR q), x and y int32. */
static int t_bool_chain(fuse_ctx *f) {
    tgc_case *c = f->c;
    ew_shape(f);
    int x = tgc_b_load(c, TG_INT32, f->vk, c->shape, TGC_V_SMALL);
    int y = tgc_b_load(c, TG_INT32, TGC_VK_CONTIG, c->shape, TGC_V_SMALL);
    int p = tgc_b_load(c, TG_BOOL, TGC_VK_CONTIG, c->shape, TGC_V_RANDOM);
    int q = tgc_b_load(c, TG_BOOL, TGC_VK_FLIP, c->shape, TGC_V_RANDOM);
    int lt = tgc_b_op(c, TG_OP_CMPLT, TG_BOOL, x, y, -1);
    int w = tgc_b_op(c, TG_OP_WHERE, TG_BOOL, lt, tgc_b_op(c, TG_OP_MUL, TG_BOOL, p, q, -1), tgc_b_op(c, TG_OP_MAX, TG_BOOL, p, q, -1));
    tgc_b_store(c, tgc_b_op(c, TG_OP_CMPLT, TG_BOOL, w, lt, -1), TGC_VK_CONTIG, c->shape);
    return 0;
}

/* cast_chain: a -> float16 -> dt, a -> int32 -> dt, summed (exact roundings). */
static int t_cast_chain(fuse_ctx *f) {
    tgc_case *c = f->c;
    ew_shape(f);
    int a = tgc_b_load(c, f->dt, f->vk, c->shape, TGC_V_SMALL);
    int h = tgc_b_op(c, TG_OP_CAST, f->dt, tgc_b_op(c, TG_OP_CAST, TG_FLOAT16, a, -1, -1), -1, -1);
    int i = tgc_b_op(c, TG_OP_CAST, f->dt, tgc_b_op(c, TG_OP_CAST, TG_INT8, a, -1, -1), -1, -1);
    tgc_b_store(c, tgc_b_op(c, TG_OP_ADD, f->dt, h, i, -1), TGC_VK_CONTIG, c->shape);
    return 0;
}

/* const_only: a kernel without loads, CONST broadcast to every point. */
static int t_const_only(fuse_ctx *f) {
    tgc_case *c = f->c;
    ew_shape(f);
    int k = tgc_b_const(c, f->dt, scalar_of(f->dt, f->dt == TG_BOOL ? 1 : 3));
    tgc_b_store(c, k, TGC_VK_FLIP, c->shape);
    return 0;
}

/* multi_out: a+b and a*b stored by two STOREs. */
static int t_multi_out(fuse_ctx *f) {
    tgc_case *c = f->c;
    ew_shape(f);
    int a = tgc_b_load(c, f->dt, f->vk, c->shape, TGC_V_RANDOM);
    int b = tgc_b_load(c, f->dt, TGC_VK_CONTIG, c->shape, TGC_V_RANDOM);
    tgc_b_store(c, tgc_b_op(c, TG_OP_ADD, f->dt, a, b, -1), TGC_VK_CONTIG, c->shape);
    tgc_b_store(c, tgc_b_op(c, TG_OP_MUL, f->dt, a, b, -1), TGC_VK_FLIP, c->shape);
    return 0;
}

/* sum_of_products over axes (set in c->reduce_axes by the caller): judged by
 * REDUCE_SUM's own rule, its operand computed by a probe. */
static int t_sum_prod(fuse_ctx *f, uint32_t axes) {
    tgc_case *c = f->c;
    tgc_b_init(c, 3, SHAPE_RED, axes);
    int64_t out[TG_MAX_DIMS];
    tgc_b_out_shape(c, out);
    int a = tgc_b_load(c, f->dt, f->vk, c->shape, TGC_V_RANDOM);
    int b = tgc_b_load(c, f->dt, TGC_VK_PERMUTE, c->shape, TGC_V_RANDOM);
    int r = tgc_b_op(c, TG_OP_REDUCE_SUM, f->dt, tgc_b_op(c, TG_OP_MUL, f->dt, a, b, -1), -1, -1);
    tgc_b_store(c, r, TGC_VK_CONTIG, out);
    c->judge = (uint8_t)r;
    return -1; /* RULE_NODE */
}

/* mean: SUM(a) * (1/n) over axis 1 of positive values. */
static int t_mean(fuse_ctx *f) {
    tgc_case *c = f->c;
    tgc_b_init(c, 3, SHAPE_RED, 2);
    int64_t out[TG_MAX_DIMS];
    tgc_b_out_shape(c, out);
    int a = tgc_b_load(c, f->dt, f->vk, c->shape, TGC_V_POSITIVE);
    int r = tgc_b_op(c, TG_OP_REDUCE_SUM, f->dt, a, -1, -1);
    tgc_b_store(c, tgc_b_op(c, TG_OP_MUL, f->dt, r, tgc_b_const(c, f->dt, scalar_of(f->dt, 0.25)), -1), TGC_VK_CONTIG, out);
    return sum_tol(f->dt, 5, 1);
}

/* rms: SQRT(SUM(a*a) * 0.25) over axes 0 and 2. */
static int t_rms(fuse_ctx *f) {
    tgc_case *c = f->c;
    tgc_b_init(c, 3, SHAPE_RED, 5);
    int64_t out[TG_MAX_DIMS];
    tgc_b_out_shape(c, out);
    int a = tgc_b_load(c, f->dt, f->vk, c->shape, TGC_V_POSITIVE);
    int r = tgc_b_op(c, TG_OP_REDUCE_SUM, f->dt, tgc_b_op(c, TG_OP_MUL, f->dt, a, a, -1), -1, -1);
    int m = tgc_b_op(c, TG_OP_MUL, f->dt, r, tgc_b_const(c, f->dt, scalar_of(f->dt, 0.25)), -1);
    tgc_b_store(c, tgc_b_op(c, TG_OP_SQRT, f->dt, m, -1, -1), TGC_VK_CONTIG, out);
    return sum_tol(f->dt, 24, 3);
}

/* max_shift: MAX(NEG(a)) + 1 over axis 2: exact. */
static int t_max_shift(fuse_ctx *f) {
    tgc_case *c = f->c;
    tgc_b_init(c, 3, SHAPE_RED, 4);
    int64_t out[TG_MAX_DIMS];
    tgc_b_out_shape(c, out);
    int a = tgc_b_load(c, f->dt, f->vk, c->shape, TGC_V_SPECIAL);
    int r = tgc_b_op(c, TG_OP_REDUCE_MAX, f->dt, tgc_b_op(c, TG_OP_NEG, f->dt, a, -1, -1), -1, -1);
    tgc_b_store(c, tgc_b_op(c, TG_OP_ADD, f->dt, r, tgc_b_const(c, f->dt, scalar_of(f->dt, 1)), -1), TGC_VK_CONTIG, out);
    return 0;
}

/* any_less: REDUCE_MAX(a < b) over axis 1: bool reduction, exact. */
static int t_any_less(fuse_ctx *f) {
    tgc_case *c = f->c;
    tgc_b_init(c, 3, SHAPE_RED, 2);
    int64_t out[TG_MAX_DIMS];
    tgc_b_out_shape(c, out);
    int a = tgc_b_load(c, TG_FLOAT32, f->vk, c->shape, TGC_V_RANDOM);
    int b = tgc_b_load(c, TG_FLOAT32, TGC_VK_CONTIG, c->shape, TGC_V_SPECIAL);
    int r = tgc_b_op(c, TG_OP_REDUCE_MAX, TG_BOOL, tgc_b_op(c, TG_OP_CMPLT, TG_BOOL, a, b, -1), -1, -1);
    tgc_b_store(c, r, TGC_VK_CONTIG, out);
    return 0;
}

/* half_sum: CAST(SUM(CAST(a -> float32)) -> dt): mixed precision. */
static int t_half_sum(fuse_ctx *f) {
    tgc_case *c = f->c;
    tgc_b_init(c, 3, SHAPE_RED, 3);
    int64_t out[TG_MAX_DIMS];
    tgc_b_out_shape(c, out);
    int a = tgc_b_load(c, f->dt, f->vk, c->shape, TGC_V_POSITIVE);
    int r = tgc_b_op(c, TG_OP_REDUCE_SUM, TG_FLOAT32, tgc_b_op(c, TG_OP_CAST, TG_FLOAT32, a, -1, -1), -1, -1);
    tgc_b_store(c, tgc_b_op(c, TG_OP_CAST, f->dt, r, -1, -1), TGC_VK_CONTIG, out);
    return f->dt == TG_FLOAT32 ? sum_tol(f->dt, 20, 1) : 2;
}

enum { D_FLOAT = 1, D_INT = 2, D_BOOL = 4 };

typedef struct fuse_template {
    const char *name;
    int (*build)(fuse_ctx *f);
    int kinds; /* D_* */
} fuse_template;

static const fuse_template templates[] = {
    {"mul_add", t_mul_add, D_FLOAT | D_INT},
    {"transcend", t_transcend, D_FLOAT},
    {"log_exp", t_log_exp, D_FLOAT},
    {"cmp_where", t_cmp_where, D_FLOAT | D_INT},
    {"int_chain", t_int_chain, D_INT},
    {"bool_chain", t_bool_chain, D_BOOL},
    {"cast_chain", t_cast_chain, D_FLOAT},
    {"const_only", t_const_only, D_FLOAT | D_INT | D_BOOL},
    {"multi_out", t_multi_out, D_FLOAT | D_INT},
    {"mean", t_mean, D_FLOAT},
    {"rms", t_rms, D_FLOAT},
    {"max_shift", t_max_shift, D_FLOAT | D_INT},
    {"any_less", t_any_less, D_BOOL},
    {"half_sum", t_half_sum, D_FLOAT},
};

static const tg_dtype fuse_dtypes[] = {TG_BOOL, TG_INT8, TG_UINT16, TG_INT32, TG_INT64, TG_UINT64,
                                       TG_FLOAT16, TG_BFLOAT16, TG_FLOAT32, TG_FLOAT64};

static tg_status finish(tgc_catalog *cat, tgc_case *c, tg_dtype dt, const char *name, int tol, int vk) {
    c->row = TGC_ROW_FUSION;
    c->dtype = (uint8_t)dt;
    c->levels = TGC_LEVEL_FUSION;
    c->seed = 104729u * (uint64_t)cat->count + 3;
    if (tol >= 0) {
        c->rule = TGC_RULE_CHAIN;
        c->tol_ulp = (uint8_t)tol;
    } else {
        c->rule = TGC_RULE_NODE;
    }
    snprintf(c->id, sizeof c->id, "fuse.%s.%s", name, tg_dtype_name(dt));
    if (vk != TGC_VK_CONTIG) snprintf(c->id + strlen(c->id), sizeof c->id - strlen(c->id), ".view=%s", tgc_view_kind_names[vk]);
    return tgc_catalog_add(cat, c);
}

tg_status tgc_fusion_cases(tgc_catalog *cat) {
    tg_status st = TG_OK;
    tgc_case c;
    for (size_t t = 0; t < sizeof templates / sizeof templates[0] && st == TG_OK; t++)
        for (size_t d = 0; d < sizeof fuse_dtypes / sizeof fuse_dtypes[0] && st == TG_OK; d++) {
            tg_dtype dt = fuse_dtypes[d];
            int kind = dt == TG_BOOL ? D_BOOL : tg_dtype_is_float(dt) ? D_FLOAT : D_INT;
            if (!(templates[t].kinds & kind)) continue;
            if (templates[t].build == t_half_sum && dt == TG_FLOAT64) continue;
            int vks[] = {TGC_VK_CONTIG, TGC_VK_FLIP, TGC_VK_STACK};
            int nvk = (dt == TG_FLOAT32 || dt == TG_INT32 || dt == TG_BOOL) ? 3 : 1;
            for (int v = 0; v < nvk && st == TG_OK; v++) {
                fuse_ctx f = {&c, dt, vks[v], 0};
                int tol = templates[t].build(&f);
                st = finish(cat, &c, dt, templates[t].name, tol, vks[v]);
            }
        }
    /* mul_add with enough points to be compiled at the highest optimisation
       level: still two roundings, judged bit for bit */
    const tg_dtype bdts[] = {TG_FLOAT16, TG_BFLOAT16, TG_FLOAT32, TG_FLOAT64};
    for (int d = 0; d < 4 && st == TG_OK; d++) {
        fuse_ctx f = {&c, bdts[d], TGC_VK_CONTIG, 1};
        int tol = t_mul_add(&f);
        st = finish(cat, &c, bdts[d], "mul_add.shape=64x67", tol, TGC_VK_CONTIG);
    }
    /* sum of products over one, several and all axes */
    const uint32_t axsets[] = {2, 5, 7};
    const char *axnames[] = {"sum_prod.axes=1", "sum_prod.axes=0,2", "sum_prod.axes=0,1,2"};
    const tg_dtype sdts[] = {TG_INT8, TG_INT32, TG_UINT64, TG_FLOAT16, TG_BFLOAT16, TG_FLOAT32, TG_FLOAT64};
    for (int a = 0; a < 3 && st == TG_OK; a++)
        for (int d = 0; d < 7 && st == TG_OK; d++) {
            fuse_ctx f = {&c, sdts[d], TGC_VK_CONTIG, 0};
            int tol = t_sum_prod(&f, axsets[a]);
            st = finish(cat, &c, sdts[d], axnames[a], tol, TGC_VK_CONTIG);
        }
    return st;
}
