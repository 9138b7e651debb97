/* plugins/cpu/render.c -- kernel IR -> C source, specialised for the kernel's
 * exact shapes, strides and dtypes. Values of float16/bfloat16 live in float
 * and are rounded to their dtype after every op; integer arithmetic runs in
 * unsigned types (wrapping, no UB); division by 0 and INT_MIN/-1 are guarded. */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu.h"
#include <tg/dtype_util.h>
#include "prelude.h"

void cpu_sb_printf(cpu_sb *sb, const char *fmt, ...) {
    va_list ap;
    if (sb->oom) return;
    for (;;) {
        size_t room = sb->cap - sb->len;
        va_start(ap, fmt);
        int n = vsnprintf(sb->s ? sb->s + sb->len : NULL, sb->s ? room : 0, fmt, ap);
        va_end(ap);
        if (n < 0) { sb->oom = 1; return; }
        if (sb->s && (size_t)n < room) { sb->len += (size_t)n; return; }
        size_t cap = sb->cap ? sb->cap * 2 : 4096;
        while (cap < sb->len + (size_t)n + 1) cap *= 2;
        char *s = realloc(sb->s, cap);
        if (!s) { sb->oom = 1; return; }
        sb->s = s;
        sb->cap = cap;
    }
}

void cpu_sb_free(cpu_sb *sb) {
    free(sb->s);
    memset(sb, 0, sizeof *sb);
}

/* ------------------------------------------------------------------ types */

static int is_half(uint32_t dt) { return dt == TG_FLOAT16 || dt == TG_BFLOAT16; }
static int is_float(uint32_t dt) { return tgp_dtype_is_float(dt); }
static int is_signed_int(uint32_t dt) {
    return dt == TG_INT8 || dt == TG_INT16 || dt == TG_INT32 || dt == TG_INT64;
}

/* C type a value of the dtype is computed in. */
static const char *ctype(uint32_t dt) {
    static const char *const t[TG_DTYPE_COUNT] = {"uint8_t", "int8_t", "uint8_t", "int16_t", "uint16_t",
        "int32_t", "uint32_t", "int64_t", "uint64_t", "float", "float", "float", "double"};
    return t[dt];
}
/* C type of the dtype in memory. */
static const char *stype(uint32_t dt) { return is_half(dt) ? "uint16_t" : ctype(dt); }
/* Unsigned type integer arithmetic of the dtype wraps in. */
static const char *utype(uint32_t dt) { return tgp_dtype_size(dt) == 8 ? "uint64_t" : "uint32_t"; }
static int bits(uint32_t dt) { return (int)tgp_dtype_size(dt) * 8; }

/* Accumulator type of a reduction of dtype dt. */
static const char *acc_type(uint32_t op, uint32_t dt) {
    if (op == TG_OP_REDUCE_SUM && !is_float(dt)) return utype(dt);
    return ctype(dt);
}

int cpu_acc_size(uint32_t op, uint32_t dt) {
    const char *t = acc_type(op, dt);
    return !strcmp(t, "double") || strstr(t, "64") ? 8 : !strcmp(t, "float") || strstr(t, "32") ? 4
           : strstr(t, "16") ? 2 : 1;
}

static void emit_literal(cpu_sb *sb, uint32_t dt, tg_scalar v) {
    if (is_float(dt)) {
        const char *suffix = dt == TG_FLOAT64 ? "" : "f";
        if (isnan(v.f)) cpu_sb_printf(sb, "__builtin_nan%s(\"\")", suffix);
        else if (isinf(v.f)) cpu_sb_printf(sb, "(%s__builtin_inf%s())", v.f < 0 ? "-" : "", suffix);
        else cpu_sb_printf(sb, "((%s)%a)", ctype(dt), v.f);
    } else if (dt == TG_BOOL) {
        cpu_sb_printf(sb, "((uint8_t)%d)", v.i != 0);
    } else {
        cpu_sb_printf(sb, "((%s)0x%" PRIx64 "ull)", ctype(dt), v.u);
    }
}

static void emit_identity(cpu_sb *sb, uint32_t op, uint32_t dt) {
    if (op == TG_OP_REDUCE_SUM) { cpu_sb_printf(sb, "0"); return; }
    if (is_float(dt)) cpu_sb_printf(sb, "(-__builtin_inf%s())", dt == TG_FLOAT64 ? "" : "f");
    else if (is_signed_int(dt)) cpu_sb_printf(sb, "INT%d_MIN", bits(dt));
    else cpu_sb_printf(sb, "0");
}

/* acc = acc (op) x, both acc-typed or x of the reduce dtype. */
static void emit_update(cpu_sb *sb, uint32_t op, uint32_t dt, const char *acc, const char *x) {
    if (op == TG_OP_REDUCE_SUM) {
        if (is_float(dt)) cpu_sb_printf(sb, "%s = %s + %s;", acc, acc, x);
        else cpu_sb_printf(sb, "%s = %s + (%s)%s;", acc, acc, utype(dt), x);
    } else if (is_float(dt)) {
        cpu_sb_printf(sb, "%s = (%s > %s || %s != %s) ? %s : %s;", acc, x, acc, x, x, x, acc);
    } else if (dt == TG_BOOL) {
        cpu_sb_printf(sb, "%s = %s | %s;", acc, acc, x);
    } else {
        cpu_sb_printf(sb, "%s = %s > %s ? %s : %s;", acc, x, acc, x, acc);
    }
}

/* --------------------------------------------------------------- emitter */

typedef struct rctx {
    const tg_kernel *k;
    const cpu_info *info;
    const cpu_opts *o;
    cpu_sb *sb;
    unsigned char *cone; /* [nnodes]: 1 if in the reduction's input cone */
} rctx;

/* An index that is affine in the kernel's loop variables: c0 + sum_j c[j] * i_j. */
typedef struct aff {
    int64_t c0, c[TG_MAX_DIMS];
} aff;

static void aff_print(cpu_sb *sb, const aff *a, uint32_t ndim) {
    cpu_sb_printf(sb, "(%" PRId64, a->c0);
    for (uint32_t j = 0; j < ndim; j++)
        if (a->c[j]) cpu_sb_printf(sb, " + i%u * %" PRId64, j, a->c[j]);
    cpu_sb_printf(sb, ")");
}

/* Unravel an affine address into the row-major shape of view v without div/mod:
 * possible when every term lands in one dimension and no dimension can carry
 * over the whole iteration box. */
static int aff_unravel(const rctx *c, const aff *addr, const tg_view *v, aff *u) {
    int64_t P[TG_MAX_DIMS], off = addr->c0;
    int nl = (int)v->ndim;
    if (off < 0) return 0;
    for (int d = nl - 1; d >= 0; d--) {
        if (v->shape[d] <= 0) return 0;
        P[d] = d == nl - 1 ? 1 : P[d + 1] * v->shape[d + 1];
        memset(&u[d], 0, sizeof u[d]);
    }
    if (nl == 0) return 0;
    for (int d = nl - 1; d > 0; d--) {
        u[d].c0 = off % v->shape[d];
        off /= v->shape[d];
    }
    u[0].c0 = off;
    for (uint32_t j = 0; j < c->k->ndim; j++) {
        int64_t s = addr->c[j];
        if (!s) continue;
        int d = 0;
        while (s % P[d] != 0) d++;
        u[d].c[j] += s / P[d];
    }
    for (int d = 0; d < nl; d++) {
        int64_t lo = u[d].c0, hi = u[d].c0;
        for (uint32_t j = 0; j < c->k->ndim; j++) {
            int64_t r = u[d].c[j] * (c->k->shape[j] > 0 ? c->k->shape[j] - 1 : 0);
            if (r < 0) lo += r;
            else hi += r;
        }
        if (lo < 0 || hi >= v->shape[d]) return 0;
    }
    return 1;
}

/* Emits into sb statements defining a<n>_0 (int64_t, the element index) and,
 * if any view of the stack is masked, ok<n> (int). Indices stay affine in the
 * loop variables as long as possible; otherwise addresses are unravelled with
 * div/mod. */
static void emit_view_addr(const rctx *c, uint32_t n, int post, int *out_masked) {
    const tg_node *nd = &c->k->nodes[n];
    cpu_sb *sb = c->sb;
    int masked = 0, is_aff = 1;
    uint32_t kd = c->k->ndim;
    aff ix[TG_MAX_DIMS], addr;
    char name[TG_MAX_DIMS][48];
    for (int vi = (int)nd->nviews - 1; vi >= 0; vi--) {
        const tg_view *v = &c->k->views[nd->view + vi];
        if (vi == (int)nd->nviews - 1) {
            for (uint32_t d = 0; d < v->ndim; d++) {
                memset(&ix[d], 0, sizeof ix[d]);
                if (!(post && c->info->reduce_node >= 0 && (c->k->reduce_axes >> d & 1u)) && v->shape[d] != 1)
                    ix[d].c[d] = 1;
            }
        } else if (!(is_aff && aff_unravel(c, &addr, v, ix))) {
            if (is_aff) {
                cpu_sb_printf(sb, "const int64_t a%u_%d = ", n, vi + 1);
                aff_print(sb, &addr, kd);
                cpu_sb_printf(sb, ";");
            }
            is_aff = 0;
            int64_t p = 1;
            for (int d = (int)v->ndim - 1; d >= 0; d--) {
                if (v->shape[d] <= 1) snprintf(name[d], sizeof name[d], "0");
                else {
                    snprintf(name[d], sizeof name[d], "u%u_%d_%d", n, vi, d);
                    cpu_sb_printf(sb, "const int64_t %s = (a%u_%d / %" PRId64 ") %% %" PRId64 ";", name[d], n, vi + 1,
                                  p, v->shape[d]);
                }
                if (v->shape[d] > 0) p *= v->shape[d];
            }
        }
        if (is_aff) {
            memset(&addr, 0, sizeof addr);
            addr.c0 = v->offset;
            for (uint32_t d = 0; d < v->ndim; d++) {
                addr.c0 += ix[d].c0 * v->strides[d];
                for (uint32_t j = 0; j < kd; j++) addr.c[j] += ix[d].c[j] * v->strides[d];
            }
        } else {
            cpu_sb_printf(sb, "const int64_t a%u_%d = %" PRId64, n, vi, v->offset);
            for (uint32_t d = 0; d < v->ndim; d++)
                if (v->strides[d] != 0 && strcmp(name[d], "0")) cpu_sb_printf(sb, " + %s * %" PRId64, name[d], v->strides[d]);
            cpu_sb_printf(sb, ";");
        }
        if (v->has_mask) {
            if (!masked) cpu_sb_printf(sb, "int ok%u = 1;", n);
            masked = 1;
            for (uint32_t d = 0; d < v->ndim; d++) {
                int lo = v->mask_lo[d] > 0, hi = v->mask_hi[d] < v->shape[d];
                if (v->mask_lo[d] >= v->mask_hi[d]) cpu_sb_printf(sb, "ok%u = 0;", n);
                for (int side = 0; side < 2; side++) {
                    if (!(side ? hi : lo)) continue;
                    cpu_sb_printf(sb, "ok%u &= ", n);
                    if (is_aff) aff_print(sb, &ix[d], kd);
                    else cpu_sb_printf(sb, "%s", name[d]);
                    cpu_sb_printf(sb, side ? " < %" PRId64 ";" : " >= %" PRId64 ";", side ? v->mask_hi[d] : v->mask_lo[d]);
                }
            }
        }
    }
    if (is_aff) {
        cpu_sb_printf(sb, "const int64_t a%u_0 = ", n);
        aff_print(sb, &addr, kd);
        cpu_sb_printf(sb, ";");
    }
    *out_masked = masked;
}

static void emit_load(const rctx *c, uint32_t n, int post) {
    const tg_node *nd = &c->k->nodes[n];
    cpu_sb *sb = c->sb;
    int masked = 0;
    cpu_sb_printf(sb, "%s v%u; {", ctype(nd->dtype), n);
    emit_view_addr(c, n, post, &masked);
    const char *pre = "", *post_ = "";
    if (nd->dtype == TG_FLOAT16) pre = "tg_h2f(", post_ = ")";
    else if (nd->dtype == TG_BFLOAT16) pre = "tg_b2f(", post_ = ")";
    else if (nd->dtype == TG_BOOL) pre = "(uint8_t)(", post_ = " != 0)";
    if (masked)
        cpu_sb_printf(sb, "v%u = ok%u ? %sp%u[a%u_0]%s : (%s)0;}\n", n, n, pre, nd->buffer, n, post_, ctype(nd->dtype));
    else
        cpu_sb_printf(sb, "v%u = %sp%u[a%u_0]%s;}\n", n, pre, nd->buffer, n, post_);
}

static void emit_store(const rctx *c, uint32_t n) {
    const tg_node *nd = &c->k->nodes[n];
    cpu_sb *sb = c->sb;
    int masked = 0;
    cpu_sb_printf(sb, "{");
    emit_view_addr(c, n, 1, &masked); /* store views carry no mask */
    const char *pre = "", *post_ = "";
    if (nd->dtype == TG_FLOAT16) pre = "tg_f2h(", post_ = ")";
    else if (nd->dtype == TG_BFLOAT16) pre = "tg_f2b(", post_ = ")";
    else if (nd->dtype == TG_BOOL) pre = "(uint8_t)(", post_ = " != 0)";
    cpu_sb_printf(sb, "p%u[a%u_0] = %sv%d%s;}\n", nd->buffer, n, pre, nd->src[0], post_);
}

/* Float -> integer with the out-of-range case defined as 0 (never UB). */
static void emit_cast_f2i(cpu_sb *sb, uint32_t to, const char *x) {
    int b = bits(to);
    if (to == TG_BOOL) { cpu_sb_printf(sb, "(uint8_t)(%s != 0)", x); return; }
    if (is_signed_int(to)) {
        double hi = ldexp(1.0, b - 1);
        if (b < 64)
            cpu_sb_printf(sb, "(((double)%s > %a && (double)%s < %a) ? (%s)%s : (%s)0)", x, -hi - 1.0, x, hi, ctype(to), x,
                          ctype(to));
        else
            cpu_sb_printf(sb, "(((double)%s >= %a && (double)%s < %a) ? (%s)%s : (%s)0)", x, -hi, x, hi, ctype(to), x,
                          ctype(to));
    } else {
        cpu_sb_printf(sb, "(((double)%s > -1.0 && (double)%s < %a) ? (%s)%s : (%s)0)", x, x, ldexp(1.0, b), ctype(to), x,
                      ctype(to));
    }
}

static void emit_cast(cpu_sb *sb, uint32_t to, uint32_t from, const char *x) {
    if (to == TG_BOOL) { cpu_sb_printf(sb, "(uint8_t)(%s != 0)", x); return; }
    if (from == TG_BOOL || (!is_float(from) && !is_float(to))) { cpu_sb_printf(sb, "(%s)%s", ctype(to), x); return; }
    if (is_float(from) && !is_float(to)) { emit_cast_f2i(sb, to, x); return; }
    const char *round = to == TG_FLOAT16 ? "tg_rh" : to == TG_BFLOAT16 ? "tg_rb" : NULL;
    if (!is_float(from)) { /* int -> float */
        if (!round) cpu_sb_printf(sb, "(%s)%s", ctype(to), x);
        else if (bits(from) <= 16) cpu_sb_printf(sb, "%s((float)%s)", round, x);
        else if (is_signed_int(from)) cpu_sb_printf(sb, "%s(tg_i2f_odd((int64_t)%s))", round, x);
        else cpu_sb_printf(sb, "%s(tg_u2f_odd((uint64_t)%s))", round, x);
        return;
    }
    /* float -> float */
    if (!round) cpu_sb_printf(sb, "(%s)%s", ctype(to), x);
    else if (from == TG_FLOAT64) cpu_sb_printf(sb, "%s(tg_d2f_odd(%s))", round, x);
    else cpu_sb_printf(sb, "%s(%s)", round, x);
}

/* The expression of an ALU node (not LOAD/CONST/STORE/REDUCE). */
static void emit_alu(const rctx *c, uint32_t n) {
    const tg_node *nd = &c->k->nodes[n];
    cpu_sb *sb = c->sb;
    uint32_t dt = nd->dtype, sdt = c->k->nodes[nd->src[0]].dtype;
    char a[16], b[16], cc[16];
    snprintf(a, sizeof a, "v%d", nd->src[0]);
    snprintf(b, sizeof b, "v%d", nd->src[1]);
    snprintf(cc, sizeof cc, "v%d", nd->src[2]);
    const char *rnd = dt == TG_FLOAT16 ? "tg_rh" : dt == TG_BFLOAT16 ? "tg_rb" : "";
    int fl = is_float(dt), dbl = dt == TG_FLOAT64;
    const char *f = dbl ? "" : "f"; /* libm suffix */
    const char *T = ctype(dt), *U = utype(dt);
    cpu_sb_printf(sb, "const %s v%u = ", T, n);
    switch (nd->op) {
    case TG_OP_EXP2: cpu_sb_printf(sb, "%s(exp2%s(%s))", rnd, f, a); break;
    case TG_OP_LOG2: cpu_sb_printf(sb, "%s(log2%s(%s))", rnd, f, a); break;
    case TG_OP_SIN: cpu_sb_printf(sb, "%s(sin%s(%s))", rnd, f, a); break;
    case TG_OP_SQRT: cpu_sb_printf(sb, "%s(sqrt%s(%s))", rnd, f, a); break;
    case TG_OP_RECIP: cpu_sb_printf(sb, "%s((%s)1 / %s)", rnd, T, a); break;
    case TG_OP_NEG:
        if (fl) cpu_sb_printf(sb, "-%s", a);
        else cpu_sb_printf(sb, "(%s)(0u - (%s)%s)", T, U, a);
        break;
    case TG_OP_CAST: emit_cast(sb, dt, sdt, a); break;
    case TG_OP_ADD: case TG_OP_SUB: case TG_OP_MUL: {
        const char *op = nd->op == TG_OP_ADD ? "+" : nd->op == TG_OP_SUB ? "-" : "*";
        if (fl) cpu_sb_printf(sb, "%s(%s %s %s)", rnd, a, op, b);
        else if (dt == TG_BOOL) cpu_sb_printf(sb, "(uint8_t)(%s & %s)", a, b); /* MUL = and */
        else cpu_sb_printf(sb, "(%s)((%s)%s %s (%s)%s)", T, U, a, op, U, b);
        break;
    }
    case TG_OP_DIV:
        if (fl) cpu_sb_printf(sb, "%s(%s / %s)", rnd, a, b);
        else if (is_signed_int(dt))
            cpu_sb_printf(sb, "%s == 0 ? (%s)0 : %s == -1 ? (%s)(0u - (%s)%s) : (%s)(%s / %s)", b, T, b, T, U, a, T, a, b);
        else cpu_sb_printf(sb, "%s == 0 ? (%s)0 : (%s)(%s / %s)", b, T, T, a, b);
        break;
    case TG_OP_MOD:
        if (fl) cpu_sb_printf(sb, "%s(fmod%s(%s, %s))", rnd, f, a, b);
        else if (is_signed_int(dt)) cpu_sb_printf(sb, "(%s == 0 || %s == -1) ? (%s)0 : (%s)(%s %% %s)", b, b, T, T, a, b);
        else cpu_sb_printf(sb, "%s == 0 ? (%s)0 : (%s)(%s %% %s)", b, T, T, a, b);
        break;
    case TG_OP_MAX:
        if (fl) cpu_sb_printf(sb, "(%s > %s || %s != %s) ? %s : %s", a, b, a, a, a, b);
        else if (dt == TG_BOOL) cpu_sb_printf(sb, "(uint8_t)(%s | %s)", a, b);
        else cpu_sb_printf(sb, "%s > %s ? %s : %s", a, b, a, b);
        break;
    case TG_OP_CMPLT: cpu_sb_printf(sb, "(uint8_t)(%s < %s)", a, b); break;
    case TG_OP_WHERE: cpu_sb_printf(sb, "%s ? %s : %s", a, b, cc); break;
    case TG_OP_MULACC:
        if (fl) cpu_sb_printf(sb, "%s(fma%s(%s, %s, %s))", rnd, f, a, b, cc);
        else if (dt == TG_BOOL) cpu_sb_printf(sb, "(uint8_t)((%s & %s) | %s)", a, b, cc);
        else cpu_sb_printf(sb, "(%s)((%s)%s * (%s)%s + (%s)%s)", T, U, a, U, b, U, cc);
        break;
    default: break;
    }
    cpu_sb_printf(sb, ";\n");
}

/* Nodes of one stage: the input cone (post = 0) or after the reduction (post = 1). */
static void emit_stage(const rctx *c, int post) {
    for (uint32_t n = 0; n < c->k->nnodes; n++) {
        const tg_node *nd = &c->k->nodes[n];
        if (nd->op == TG_OP_CONST || nd->op == TG_OP_REDUCE_SUM || nd->op == TG_OP_REDUCE_MAX) continue;
        if ((c->cone[n] != 0) == post) continue;
        if (nd->op == TG_OP_LOAD) emit_load(c, n, post);
        else if (nd->op == TG_OP_STORE) emit_store(c, n);
        else emit_alu(c, n);
    }
}

static void emit_consts(const rctx *c) {
    for (uint32_t n = 0; n < c->k->nnodes; n++) {
        const tg_node *nd = &c->k->nodes[n];
        if (nd->op != TG_OP_CONST) continue;
        cpu_sb_printf(c->sb, "const %s v%u = ", ctype(nd->dtype), n);
        emit_literal(c->sb, nd->dtype, nd->value);
        cpu_sb_printf(c->sb, ";\n");
    }
}

static void emit_params(const rctx *c) {
    for (uint32_t p = 0; p < c->k->nparams; p++) {
        const tg_param *pp = &c->k->params[p];
        cpu_sb_printf(c->sb, "%s%s *R p%u, ", pp->access == TG_ACCESS_WRITE ? "" : "const ", stype(pp->dtype), p);
    }
}

/* Open the loop of axis d; lim: 1 if bounded by lo/hi. */
static void open_loop(const rctx *c, uint32_t d, int lim) {
    if (lim) cpu_sb_printf(c->sb, "for (int64_t i%u = lo; i%u < hi; i%u++) {\n", d, d, d);
    else if (c->k->shape[d] == 1) cpu_sb_printf(c->sb, "{ const int64_t i%u = 0;\n", d);
    else cpu_sb_printf(c->sb, "for (int64_t i%u = 0; i%u < %" PRId64 "; i%u++) {\n", d, d, c->k->shape[d], d);
}

static int is_red(const rctx *c, uint32_t d) { return c->info->reduce_node >= 0 && (c->k->reduce_axes >> d & 1u); }

/* Linear index into out_shape (row-major) from the loop variables. */
static void emit_out_index(const rctx *c, const char *name) {
    int64_t st = 1;
    cpu_sb_printf(c->sb, "const int64_t %s = 0", name);
    for (int d = (int)c->k->ndim - 1; d >= 0; d--) {
        if (is_red(c, (uint32_t)d)) continue;
        if (c->k->shape[d] > 1) cpu_sb_printf(c->sb, " + i%d * %" PRId64, d, st);
        st *= c->k->shape[d];
    }
    cpu_sb_printf(c->sb, ";\n");
}

/* The value the reduce node takes from an accumulator expression. */
static void emit_reduce_value(const rctx *c, const char *acc) {
    const tg_node *r = &c->k->nodes[c->info->reduce_node];
    const char *rnd = r->op == TG_OP_REDUCE_SUM && r->dtype == TG_FLOAT16 ? "tg_rh"
                      : r->op == TG_OP_REDUCE_SUM && r->dtype == TG_BFLOAT16 ? "tg_rb" : "";
    cpu_sb_printf(c->sb, "const %s v%d = %s((%s)%s);\n", ctype(r->dtype), c->info->reduce_node, rnd,
                  ctype(r->dtype), acc);
}

/* The update of accumulator `acc` by the value of the reduce's source. In the
 * OUTER/MATMUL layouts a float MUL source fuses into an fma. */
static void emit_acc_update(const rctx *c, const char *acc) {
    const tg_node *r = &c->k->nodes[c->info->reduce_node];
    const tg_node *s = &c->k->nodes[r->src[0]];
    char x[16];
    snprintf(x, sizeof x, "v%d", r->src[0]);
    if (c->o->mode != CPU_MODE_FLAT && r->op == TG_OP_REDUCE_SUM && s->op == TG_OP_MUL &&
        (r->dtype == TG_FLOAT32 || r->dtype == TG_FLOAT64)) {
        cpu_sb_printf(c->sb, "%s = fma%s(v%d, v%d, %s);\n", acc, r->dtype == TG_FLOAT32 ? "f" : "", s->src[0], s->src[1],
                      acc);
        return;
    }
    emit_update(c->sb, r->op, r->dtype, acc, x);
    cpu_sb_printf(c->sb, "\n");
}

/* After the reduction: post nodes and stores, or (split) the partial. */
static void emit_after(const rctx *c, const char *acc, int part) {
    if (part) {
        emit_out_index(c, "o_");
        cpu_sb_printf(c->sb, "part[o_] = %s;\n", acc);
        return;
    }
    emit_reduce_value(c, acc);
    emit_stage(c, 1);
}

/* FLAT: output loops outside, reduce loops inside, lanes on the innermost. */
static void emit_flat_body(const rctx *c, int part) {
    const tg_kernel *k = c->k;
    const tg_node *r = &k->nodes[c->info->reduce_node];
    const char *AT = acc_type(r->op, r->dtype);
    int rin = c->info->rin, L = c->o->lanes;
    if (rin < 0 || L < 2) L = 1;
    cpu_sb_printf(c->sb, "%s acc[%d];\nfor (int j_ = 0; j_ < %d; j_++) acc[j_] = ", AT, L, L);
    emit_identity(c->sb, r->op, r->dtype);
    cpu_sb_printf(c->sb, ";\n");
    int closes = 0;
    for (uint32_t d = 0; d < k->ndim; d++) {
        if (!is_red(c, d) || (L > 1 && (int)d == rin)) continue;
        open_loop(c, d, (int)d == c->o->par_axis);
        closes++;
    }
    if (L > 1) {
        int lim = rin == c->o->par_axis;
        char lo[32], hi[32];
        snprintf(lo, sizeof lo, "%s", lim ? "lo" : "0");
        if (lim) snprintf(hi, sizeof hi, "hi");
        else snprintf(hi, sizeof hi, "%" PRId64, k->shape[rin]);
        cpu_sb_printf(c->sb, "int64_t j0_ = %s;\nfor (; j0_ + %d <= %s; j0_ += %d) {\n", lo, L, hi, L);
        cpu_sb_printf(c->sb, "for (int j_ = 0; j_ < %d; j_++) {\nconst int64_t i%d = j0_ + j_;\n", L, rin);
        emit_stage(c, 0);
        emit_acc_update(c, "acc[j_]");
        cpu_sb_printf(c->sb, "}}\nfor (; j0_ < %s; j0_++) {\nconst int64_t i%d = j0_;\n", hi, rin);
        emit_stage(c, 0);
        emit_acc_update(c, "acc[0]");
        cpu_sb_printf(c->sb, "}\n");
    } else {
        emit_stage(c, 0);
        emit_acc_update(c, "acc[0]");
    }
    for (int i = 0; i < closes; i++) cpu_sb_printf(c->sb, "}\n");
    for (int s = L / 2; s >= 1; s /= 2) {
        char a[32], b[32];
        snprintf(a, sizeof a, "acc[j_]");
        snprintf(b, sizeof b, "acc[j_ + %d]", s);
        cpu_sb_printf(c->sb, "for (int j_ = 0; j_ < %d; j_++) ", s);
        emit_update(c->sb, r->op, r->dtype, a, b);
        cpu_sb_printf(c->sb, "\n");
    }
    emit_after(c, "acc[0]", part);
}

/* OUTER: the innermost output axis runs inside the reduce loops, in blocks. */
static void emit_outer_body(const rctx *c, int part) {
    const tg_kernel *k = c->k;
    const tg_node *r = &k->nodes[c->info->reduce_node];
    const char *AT = acc_type(r->op, r->dtype);
    int oin = c->info->oin, NB = c->o->block;
    int lim = oin == c->o->par_axis;
    char lo[32], hi[32];
    snprintf(lo, sizeof lo, "%s", lim ? "lo" : "0");
    if (lim) snprintf(hi, sizeof hi, "hi");
    else snprintf(hi, sizeof hi, "%" PRId64, k->shape[oin]);
    cpu_sb_printf(c->sb, "for (int64_t b_ = %s; b_ < %s; b_ += %d) {\n", lo, hi, NB);
    cpu_sb_printf(c->sb, "const int64_t nb_ = %s - b_ < %d ? %s - b_ : %d;\n", hi, NB, hi, NB);
    cpu_sb_printf(c->sb, "%s acc[%d];\nfor (int64_t j_ = 0; j_ < nb_; j_++) acc[j_] = ", AT, NB);
    emit_identity(c->sb, r->op, r->dtype);
    cpu_sb_printf(c->sb, ";\n");
    int closes = 0;
    for (uint32_t d = 0; d < k->ndim; d++) {
        if (!is_red(c, d)) continue;
        open_loop(c, d, (int)d == c->o->par_axis);
        closes++;
    }
    cpu_sb_printf(c->sb, "for (int64_t j_ = 0; j_ < nb_; j_++) {\nconst int64_t i%d = b_ + j_;\n", oin);
    emit_stage(c, 0);
    emit_acc_update(c, "acc[j_]");
    cpu_sb_printf(c->sb, "}\n");
    for (int i = 0; i < closes; i++) cpu_sb_printf(c->sb, "}\n");
    cpu_sb_printf(c->sb, "for (int64_t j_ = 0; j_ < nb_; j_++) {\nconst int64_t i%d = b_ + j_;\n", oin);
    emit_after(c, "acc[j_]", part);
    cpu_sb_printf(c->sb, "}}\n");
}

/* One function: tgk (part = 0) or tgk_part (part = 1). */
static void emit_main(const rctx *c, int part) {
    const tg_kernel *k = c->k;
    cpu_sb_printf(c->sb, "void tgk%s(", part ? "_part" : "");
    emit_params(c);
    if (part) {
        const tg_node *r = &k->nodes[c->info->reduce_node];
        cpu_sb_printf(c->sb, "int64_t lo, int64_t hi, %s *R part) {\n", acc_type(r->op, r->dtype));
    } else {
        cpu_sb_printf(c->sb, "int64_t lo, int64_t hi) {\n");
    }
    emit_consts(c);
    if (c->info->out_count == 0) { cpu_sb_printf(c->sb, "(void)lo; (void)hi;\n}\n"); return; }
    int outer = c->info->reduce_node >= 0 && c->o->mode == CPU_MODE_OUTER && c->info->oin >= 0;
    int closes = 0;
    for (uint32_t d = 0; d < k->ndim; d++) {
        if (is_red(c, d) || (outer && (int)d == c->info->oin)) continue;
        open_loop(c, d, (int)d == c->o->par_axis);
        closes++;
    }
    if (c->info->reduce_node < 0) emit_stage(c, 1);
    else if (outer) emit_outer_body(c, part);
    else emit_flat_body(c, part);
    for (int i = 0; i < closes; i++) cpu_sb_printf(c->sb, "}\n");
    cpu_sb_printf(c->sb, "(void)lo; (void)hi;\n}\n");
}

/* tgk_fin: combine the partials of every output in order, then the post stage. */
static void emit_fin(const rctx *c) {
    const tg_kernel *k = c->k;
    const tg_node *r = &k->nodes[c->info->reduce_node];
    const char *AT = acc_type(r->op, r->dtype);
    cpu_sb_printf(c->sb, "void tgk_fin(");
    emit_params(c);
    cpu_sb_printf(c->sb, "const %s *R part, int64_t nparts) {\n", AT);
    emit_consts(c);
    int closes = 0;
    for (uint32_t d = 0; d < k->ndim; d++) {
        if (is_red(c, d)) continue;
        open_loop(c, d, 0);
        closes++;
    }
    emit_out_index(c, "o_");
    cpu_sb_printf(c->sb, "%s acc = part[o_];\nfor (int64_t t_ = 1; t_ < nparts; t_++) ", AT);
    char b[64];
    snprintf(b, sizeof b, "part[t_ * %" PRId64 " + o_]", c->info->out_count);
    emit_update(c->sb, r->op, r->dtype, "acc", b);
    cpu_sb_printf(c->sb, "\n");
    emit_reduce_value(c, "acc");
    emit_stage(c, 1);
    for (int i = 0; i < closes; i++) cpu_sb_printf(c->sb, "}\n");
    cpu_sb_printf(c->sb, "}\n");
}

/* Emit the input-cone nodes that `root` depends on (root included). */
static void emit_subcone(const rctx *c, int root) {
    unsigned char mark[1024];
    if (c->k->nnodes > sizeof mark) return;
    memset(mark, 0, c->k->nnodes);
    mark[root] = 1;
    for (int n = root; n >= 0; n--) {
        if (!mark[n]) continue;
        for (int s = 0; s < 3; s++)
            if (c->k->nodes[n].src[s] >= 0) mark[c->k->nodes[n].src[s]] = 1;
    }
    for (int n = 0; n <= root; n++) {
        const tg_node *nd = &c->k->nodes[n];
        if (!mark[n] || nd->op == TG_OP_CONST) continue;
        if (nd->op == TG_OP_LOAD) emit_load(c, (uint32_t)n, 0);
        else emit_alu(c, (uint32_t)n);
    }
}

/* MATMUL: C[.., m, n] = post(sum_k A(.., m, k) * B(.., k, n)), k being all
 * reduce axes flattened, A and B any expressions (A constant along n, B along
 * m). For every point of the other ("batch") output axes: a block of NC
 * columns of B is packed into panels of NR columns ([K][NR], zero-padded);
 * for every MR rows of m, A is packed ([K][MR]) and a register-blocked
 * micro-kernel (GCC vector extensions, fused multiply-add) computes an MR x NR
 * tile over the whole of K; the post stage runs on the tile. */
static void emit_matmul(const rctx *c) {
    const tg_kernel *k = c->k;
    const cpu_info *in = c->info;
    int m = in->mm_m, n = in->mm_n;
    int64_t K = in->red_count, N = k->shape[n], M = k->shape[m];
    const char *T = ctype(k->nodes[in->reduce_node].dtype);
    cpu_sb *sb = c->sb;
    cpu_sb_printf(sb, "#if defined(__AVX512F__)\n#define VB 64\n#elif defined(__AVX__)\n#define VB 32\n#else\n#define VB 16\n#endif\n");
    cpu_sb_printf(sb, "typedef %s vT __attribute__((vector_size(VB)));\n", T);
    cpu_sb_printf(sb, "#define VL ((int)(VB / sizeof(%s)))\n#define MR %d\n#define NV %d\n#define NR (NV * VL)\n", T, c->o->mr,
                  c->o->block);
    cpu_sb_printf(sb, "#define KK %" PRId64 "\n#define NN %" PRId64 "\n", K, N);
    cpu_sb_printf(sb, "#define NC ((%d + NR - 1) / NR * NR)\n", c->o->nc);
    /* A is read in place (rows of a plain load, one stride along flattened k) or
     * packed per batch point into [tile][K][MR] */
    int direct = in->mm_sak != 0;
    cpu_sb_printf(sb, "#define SAK %" PRId64 "\n", direct ? in->mm_sak : (int64_t)c->o->mr);
    cpu_sb_printf(sb,
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
    /* Scratch that cannot be allocated is reported through tgk_oom, which
     * the plugin clears before a launch and checks after it. */
    cpu_sb_printf(sb, "#include <stdlib.h>\nint tgk_oom;\nvoid tgk(");
    emit_params(c);
    cpu_sb_printf(sb, "int64_t lo, int64_t hi) {\n");
    emit_consts(c);
    /* aligned_alloc wants a size that is a multiple of the alignment */
    cpu_sb_printf(sb, "%s *bp = aligned_alloc(64, ((size_t)NC * KK * sizeof(%s) + 127) / 64 * 64);\n", T, T);
    if (direct) cpu_sb_printf(sb, "%s *ap = NULL;\n", T);
    else cpu_sb_printf(sb, "%s *ap = aligned_alloc(64, ((size_t)(%" PRId64 " / MR + 1) * MR * KK * sizeof(%s) + 127) / 64 * 64);\n", T, M, T);
    cpu_sb_printf(sb, "if (!bp || (%d && !ap)) { free(bp); free(ap); __atomic_store_n(&tgk_oom, 1, __ATOMIC_RELAXED); return; }\n", !direct);
    int closes = 0;
    for (uint32_t d = 0; d < k->ndim; d++) {
        if (is_red(c, d) || (int)d == m || (int)d == n) continue;
        open_loop(c, d, (int)d == c->o->par_axis);
        closes++;
    }
    if (m == c->o->par_axis) cpu_sb_printf(sb, "const int64_t mlo = lo, mhi = hi;\n");
    else cpu_sb_printf(sb, "const int64_t mlo = 0, mhi = %" PRId64 ";\n", M);
    if (!direct) { /* pack A for every tile of this batch point: [tile][K][MR], short tiles repeat their last row */
        cpu_sb_printf(sb, "for (int64_t m0 = mlo; m0 < mhi; m0 += MR) {\n"
                          "%s *R at = ap + ((m0 - mlo) / MR) * MR * KK;\n"
                          "for (int r_ = 0; r_ < MR; r_++) {\nconst int64_t i%d = m0 + r_ < mhi ? m0 + r_ : mhi - 1;\n"
                          "int64_t kf = 0;\n", T, m);
        int rr = 0;
        for (uint32_t d = 0; d < k->ndim; d++)
            if (is_red(c, d)) { open_loop(c, d, 0); rr++; }
        emit_subcone(c, in->mm_a);
        cpu_sb_printf(sb, "at[kf * MR + r_] = v%d;\nkf++;\n", in->mm_a);
        for (int i = 0; i < rr; i++) cpu_sb_printf(sb, "}\n");
        cpu_sb_printf(sb, "}}\n");
    }
    /* pack B: [K][NR] per panel */
    cpu_sb_printf(sb, "for (int64_t j0 = 0; j0 < NN; j0 += NC) {\n"
                      "const int64_t nc = NN - j0 < NC ? NN - j0 : NC;\n"
                      "for (int64_t jp = 0; jp < nc; jp += NR) {\n"
                      "%s *R pp = bp + (jp / NR) * KK * NR;\n"
                      "int64_t kf = 0;\n", T);
    int rc = 0;
    for (uint32_t d = 0; d < k->ndim; d++) {
        if (!is_red(c, d)) continue;
        open_loop(c, d, 0);
        rc++;
    }
    cpu_sb_printf(sb, "for (int c_ = 0; c_ < NR; c_++) {\nconst int64_t i%d = j0 + jp + c_;\n%s bv = 0;\nif (i%d < NN) {\n", n, T, n);
    emit_subcone(c, in->mm_b);
    cpu_sb_printf(sb, "bv = v%d;\n}\npp[kf * NR + c_] = bv;\n}\nkf++;\n", in->mm_b);
    for (int i = 0; i < rc; i++) cpu_sb_printf(sb, "}\n");
    cpu_sb_printf(sb, "}\n");
    /* tiles: MR rows of A (pointers into A, or into its packed copy), then the micro-kernel */
    cpu_sb_printf(sb, "for (int64_t m0 = mlo; m0 < mhi; m0 += MR) {\nconst %s *a[MR];\n", T);
    if (direct) {
        const tg_view *va = &k->views[k->nodes[in->mm_a].view];
        cpu_sb_printf(sb, "for (int r_ = 0; r_ < MR; r_++) {\nconst int64_t i%d = m0 + r_ < mhi ? m0 + r_ : mhi - 1;\n"
                          "a[r_] = p%u + %" PRId64, m, k->nodes[in->mm_a].buffer, va->offset);
        for (uint32_t d = 0; d < k->ndim; d++)
            if (!is_red(c, d) && va->strides[d] != 0 && k->shape[d] != 1) cpu_sb_printf(sb, " + i%u * %" PRId64, d, va->strides[d]);
        cpu_sb_printf(sb, ";\n}\n");
    } else {
        cpu_sb_printf(sb, "for (int r_ = 0; r_ < MR; r_++) a[r_] = ap + ((m0 - mlo) / MR) * MR * KK + r_;\n");
    }
    cpu_sb_printf(sb, "for (int64_t jp = 0; jp < nc; jp += NR) {\n"
                      "%s ct[MR][NR];\n"
                      "tg_micro(a, bp + (jp / NR) * KK * NR, ct);\n"
                      "const int rows = mhi - m0 < MR ? (int)(mhi - m0) : MR, cols = nc - jp < NR ? (int)(nc - jp) : NR;\n"
                      "for (int r_ = 0; r_ < rows; r_++) for (int c_ = 0; c_ < cols; c_++) {\n"
                      "const int64_t i%d = m0 + r_, i%d = j0 + jp + c_;\n", T, m, n);
    emit_reduce_value(c, "ct[r_][c_]");
    emit_stage(c, 1);
    cpu_sb_printf(sb, "}}}}\n");
    for (int i = 0; i < closes; i++) cpu_sb_printf(sb, "}\n");
    cpu_sb_printf(sb, "free(bp);\nfree(ap);\n(void)lo; (void)hi;\n}\n");
}

tg_status cpu_render(const tg_kernel *k, const cpu_info *info, const cpu_opts *o, cpu_sb *out) {
    unsigned char *cone = calloc(k->nnodes ? k->nnodes : 1, 1);
    if (!cone) return TG_ERR_NO_MEMORY;
    if (info->reduce_node >= 0) {
        cone[k->nodes[info->reduce_node].src[0]] = 1;
        for (int n = info->reduce_node; n >= 0; n--) {
            if (!cone[n]) continue;
            for (int s = 0; s < 3; s++)
                if (k->nodes[n].src[s] >= 0) cone[k->nodes[n].src[s]] = 1;
        }
        for (uint32_t n = 0; n < k->nnodes; n++)
            if (k->nodes[n].op == TG_OP_CONST) cone[n] = 0;
    }
    rctx c = {k, info, o, out, cone};
    cpu_sb_printf(out, "%s", cpu_prelude);
    cpu_sb_printf(out, "/* kernel %s: mode %d lanes %d block %d split %d par %d */\n", k->name ? k->name : "",
                  o->mode, o->lanes, o->block, o->split, o->par_axis);
    if (o->mode == CPU_MODE_MATMUL && !o->split) {
        emit_matmul(&c);
    } else if (o->split) {
        emit_main(&c, 1);
        emit_fin(&c);
    } else {
        emit_main(&c, 0);
    }
    free(cone);
    return out->oom ? TG_ERR_NO_MEMORY : TG_OK;
}
