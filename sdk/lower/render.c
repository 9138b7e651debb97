/* sdk/lower/render.c -- what every dialect prints the same way: values,
 * constants, casts, the 25 ops with OPS.md's rules, loads and stores through
 * the lowered index expressions. Float16/bfloat16 values live in float and
 * are rounded to their dtype after every op; integer arithmetic runs in
 * unsigned types (wrapping, no UB); division by 0 and INT_MIN/-1 are
 * guarded; float -> int casts out of range give 0. Layouts: render_cpu.c,
 * render_gpu.c; spellings: dialects.c. */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lower_internal.h"

void tgl_sb_printf(tgl_sb *sb, const char *fmt, ...) {
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

void tgl_sb_free(tgl_sb *sb) {
    free(sb->s);
    memset(sb, 0, sizeof *sb);
}

/* Helpers every program may call, written against the dialect's primitives
 * (tg_fbits, tg_bitsf, tg_bitsd, tg_clz64, nextafterf); TGF is the dialect's
 * helper prefix. tg_rh rounds a float to the nearest float16 in bits (GCC 12
 * vectorises (float)(_Float16)x with AVX512-FP16 and drops the rounding). */
static const char helpers[] =
    "TGF float tg_h2f(uint16_t h) {\n"
    "  uint32_t s = (uint32_t)(h & 0x8000u) << 16, e = (h >> 10) & 0x1fu, m = h & 0x3ffu;\n"
    "  if (e == 0x1f) return tg_bitsf(s | 0x7f800000u | (m << 13));\n"
    "  if (e == 0) { float f = (float)m * (1.0f / 16777216.0f); return s ? -f : f; }\n"
    "  return tg_bitsf(s | ((e + 112u) << 23) | (m << 13));\n"
    "}\n"
    "TGF uint16_t tg_f2h(float f) {\n"
    "  uint32_t u = tg_fbits(f), s = (u >> 16) & 0x8000u, a = u & 0x7fffffffu;\n"
    "  if (a > 0x7f800000u) return (uint16_t)(s | 0x7c00u | (a >> 13 & 0x3ffu) | ((a >> 13 & 0x3ffu) ? 0u : 0x200u));\n"
    "  if (a >= 0x477ff000u) return (uint16_t)(s | 0x7c00u);\n"
    "  if (a < 0x38800000u) { float v = tg_bitsf(a) * 16777216.0f; float r = (v + 8388608.0f) - 8388608.0f;\n"
    "    return (uint16_t)(s | (uint32_t)r); }\n"
    "  uint32_t h = (a - 0x38000000u) >> 13, rest = a & 0x1fffu;\n"
    "  if (rest > 0x1000u || (rest == 0x1000u && (h & 1u))) h++;\n"
    "  return (uint16_t)(s | h);\n"
    "}\n"
    "TGF float tg_b2f(uint16_t b) { return tg_bitsf((uint32_t)b << 16); }\n"
    "TGF uint16_t tg_f2b(float f) {\n"
    "  uint32_t u = tg_fbits(f);\n"
    "  if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16 & 0x7fu) ? u >> 16 : (u >> 16) | 0x40u);\n"
    "  u += 0x7fffu + ((u >> 16) & 1u);\n"
    "  return (uint16_t)(u >> 16);\n"
    "}\n"
    "TGF float tg_rh(float f) {\n"
    "  uint32_t u = tg_fbits(f), s = u & 0x80000000u, a = u ^ s;\n"
    "  float small = (tg_bitsf(a) + 0.5f) - 0.5f;\n"
    "  uint32_t n = (a + 0xfffu + ((a >> 13) & 1u)) & ~0x1fffu;\n"
    "  uint32_t r = a < 0x38800000u ? tg_fbits(small) : a > 0x7f800000u ? (a | 0x400000u)\n"
    "             : a >= 0x477ff000u ? 0x7f800000u : n;\n"
    "  return tg_bitsf(s | r);\n"
    "}\n"
    "TGF float tg_rb(float f) { return tg_b2f(tg_f2b(f)); }\n"
    /* integer -> float rounded to odd: a later rounding to <= 22 bits is then correct */
    "TGF float tg_u2f_odd(uint64_t x) {\n"
    "  if (x < ((uint64_t)1 << 24)) return (float)x;\n"
    "  int sh = 64 - tg_clz64(x) - 24;\n"
    "  uint64_t m = x >> sh; if (x & (((uint64_t)1 << sh) - 1)) m |= 1;\n"
    "  return (float)m * tg_bitsf((uint32_t)(127 + sh) << 23);\n"
    "}\n"
    "TGF float tg_i2f_odd(int64_t x) {\n"
    "  return x < 0 ? -tg_u2f_odd((uint64_t)0 - (uint64_t)x) : tg_u2f_odd((uint64_t)x);\n"
    "}\n"
    "#ifdef TG_F64\n"
    "TGF float tg_d2f_odd(double d) {\n"
    "  float f = (float)d;\n"
    "  if ((double)f != d && d == d && !(tg_fbits(f) & 1u))\n"
    "    f = nextafterf(f, (double)f < d ? tg_bitsf(0x7f800000u) : tg_bitsf(0xff800000u));\n"
    "  return f;\n"
    "}\n"
    "#endif\n";

/* ------------------------------------------------------------------ types */

static int is_half(uint32_t dt) { return dt == TG_FLOAT16 || dt == TG_BFLOAT16; }
static int is_float(uint32_t dt) { return tgp_dtype_is_float(dt); }
static int is_signed_int(uint32_t dt) {
    return dt == TG_INT8 || dt == TG_INT16 || dt == TG_INT32 || dt == TG_INT64;
}
static int bits(uint32_t dt) { return (int)tgp_dtype_size(dt) * 8; }

const char *tgl_ctype(uint32_t dt) {
    static const char *const t[TG_DTYPE_COUNT] = {"uint8_t", "int8_t", "uint8_t", "int16_t", "uint16_t",
        "int32_t", "uint32_t", "int64_t", "uint64_t", "float", "float", "float", "double"};
    return t[dt];
}
/* Type of the dtype in memory. */
static const char *stype(uint32_t dt) { return is_half(dt) ? "uint16_t" : tgl_ctype(dt); }
/* Unsigned type integer arithmetic of the dtype wraps in. */
static const char *utype(uint32_t dt) { return tgp_dtype_size(dt) == 8 ? "uint64_t" : "uint32_t"; }

const char *tgl_acc_type(uint32_t op, uint32_t dt) {
    if (op == TG_OP_REDUCE_SUM && !is_float(dt)) return utype(dt);
    return tgl_ctype(dt);
}

int tgl_is_reduced(const tgl_rctx *c, uint32_t d) {
    return c->p->reduce_node >= 0 && (c->k->reduce_axes >> d & 1u);
}

/* -------------------------------------------------------------- literals */

/* A float constant with its exact bits (NaN payloads, -0, infinities). */
static void emit_float(const tgl_rctx *c, uint32_t dt, double v) {
    if (dt == TG_FLOAT64) {
        uint64_t u;
        memcpy(&u, &v, 8);
        if (isfinite(v)) tgl_sb_printf(c->sb, "%a", v);
        else tgl_sb_printf(c->sb, "tg_bitsd(0x%016" PRIx64 "%s)", u, c->d->u64);
    } else {
        float f = (float)v;
        uint32_t u;
        memcpy(&u, &f, 4);
        if (isfinite(f)) tgl_sb_printf(c->sb, "%af", (double)f);
        else tgl_sb_printf(c->sb, "tg_bitsf(0x%08" PRIx32 "u)", u);
    }
}

static void emit_literal(const tgl_rctx *c, uint32_t dt, tg_scalar v) {
    if (is_float(dt)) emit_float(c, dt, v.f);
    else if (dt == TG_BOOL) tgl_sb_printf(c->sb, "((uint8_t)%d)", v.i != 0);
    else tgl_sb_printf(c->sb, "((%s)0x%" PRIx64 "%s)", tgl_ctype(dt), v.u, c->d->u64);
}

void tgl_emit_identity(const tgl_rctx *c) {
    const tg_node *r = &c->k->nodes[c->p->reduce_node];
    tg_scalar v = {0};
    if (r->op == TG_OP_REDUCE_MAX && is_float(r->dtype)) v.f = -INFINITY;
    else if (r->op == TG_OP_REDUCE_MAX && is_signed_int(r->dtype)) v.u = (uint64_t)-1 << (bits(r->dtype) - 1);
    if (r->op == TG_OP_REDUCE_SUM && !is_float(r->dtype)) tgl_sb_printf(c->sb, "0u");
    else emit_literal(c, r->dtype, v);
}

/* ------------------------------------------------------------ expressions */

/* The word of argument i (tgl_args_pack) as the dialect passes it. */
static void arg_word(const tgl_rctx *c, uint32_t i, char *w, size_t cap) {
    if (c->d->args) snprintf(w, cap, "a_[%u]", i);
    else snprintf(w, cap, "a%u_", i);
}

int tgl_extent(const tgl_rctx *c, uint32_t d, char *buf, size_t cap) {
    int bounded = tgl_arg_bounds(c->k) && c->k->extent_arg[d];
    if (bounded) snprintf(buf, cap, "x%u_", d);
    else snprintf(buf, cap, "%" PRId64, c->k->shape[d]);
    return bounded;
}

void tgl_emit_expr(const tgl_rctx *c, int32_t i) {
    const tgl_expr *e = &c->p->expr[i];
    /* & for AND: both sides are 0/1 and free of effects; no branch for a mask */
    static const char *const op[] = {"", "", " + ", " * ", " / ", " % ", " >= ", " < ", " & "};
    switch (e->kind) {
    case TGL_E_CONST:
        if (c->p->index32 || (e->v >= INT32_MIN && e->v <= INT32_MAX)) tgl_sb_printf(c->sb, "%" PRId64, e->v);
        else tgl_sb_printf(c->sb, "(int64_t)%" PRId64 "ll", e->v);
        return;
    case TGL_E_VAR: tgl_sb_printf(c->sb, "i%" PRId64, e->v); return;
    case TGL_E_ARG: {
        char w[32];
        arg_word(c, (uint32_t)e->v, w, sizeof w);
        tgl_sb_printf(c->sb, "((%s)%s)", c->idx, w);
        return;
    }
    default: break;
    }
    tgl_sb_printf(c->sb, "(");
    tgl_emit_expr(c, e->a);
    tgl_sb_printf(c->sb, "%s", op[e->kind]);
    if (e->kind == TGL_E_ADD || e->kind == TGL_E_AND) tgl_emit_expr(c, e->b);
    else tgl_sb_printf(c->sb, "%" PRId64, e->v);
    tgl_sb_printf(c->sb, ")");
}

/* ------------------------------------------------------------- load/store */

static void emit_load(const tgl_rctx *c, uint32_t n) {
    const tg_node *nd = &c->k->nodes[n];
    const tgl_access *a = &c->p->access[n];
    const char *pre = "", *post = "";
    if (nd->dtype == TG_FLOAT16) pre = "tg_h2f(", post = ")";
    else if (nd->dtype == TG_BFLOAT16) pre = "tg_b2f(", post = ")";
    else if (nd->dtype == TG_BOOL) pre = "(uint8_t)(", post = " != 0)";
    tgl_sb_printf(c->sb, "const %s v%u = ", tgl_ctype(nd->dtype), n);
    if (a->valid >= 0) {
        tgl_emit_expr(c, a->valid);
        tgl_sb_printf(c->sb, " ? ");
    }
    tgl_sb_printf(c->sb, "%sp%u[", pre, nd->buffer);
    tgl_emit_expr(c, a->addr);
    tgl_sb_printf(c->sb, "]%s", post);
    if (a->valid >= 0) tgl_sb_printf(c->sb, " : (%s)0", tgl_ctype(nd->dtype));
    tgl_sb_printf(c->sb, ";\n");
}

static void emit_store(const tgl_rctx *c, uint32_t n) {
    const tg_node *nd = &c->k->nodes[n];
    const char *pre = "", *post = "";
    if (nd->dtype == TG_FLOAT16) pre = "tg_f2h(", post = ")";
    else if (nd->dtype == TG_BFLOAT16) pre = "tg_f2b(", post = ")";
    else if (nd->dtype == TG_BOOL) pre = "(uint8_t)(", post = " != 0)";
    tgl_sb_printf(c->sb, "p%u[", nd->buffer);
    tgl_emit_expr(c, c->p->access[n].addr); /* store views carry no mask */
    tgl_sb_printf(c->sb, "] = %sv%d%s;\n", pre, nd->src[0], post);
}

/* ------------------------------------------------------------------ casts */

/* Float -> integer, out of range (NaN included) defined as 0. The bounds are
 * compared in the source's own type, so float needs no double. */
static void emit_cast_f2i(const tgl_rctx *c, uint32_t to, uint32_t from, const char *x) {
    int b = bits(to), dbl = from == TG_FLOAT64;
    const char *T = tgl_ctype(to), *f = dbl ? "" : "f";
    tgl_sb *sb = c->sb;
    if (to == TG_BOOL) { tgl_sb_printf(sb, "(uint8_t)(%s != 0)", x); return; }
    if (is_signed_int(to)) {
        double hi = ldexp(1.0, b - 1);
        if (b < (dbl ? 53 : 24)) /* -2^(b-1) - 1 is exact: values above it truncate into range */
            tgl_sb_printf(sb, "((%s > %a%s && %s < %a%s) ? (%s)%s : (%s)0)", x, -hi - 1.0, f, x, hi, f, T, x, T);
        else /* no value lies strictly between -2^(b-1) - 1 and -2^(b-1) */
            tgl_sb_printf(sb, "((%s >= %a%s && %s < %a%s) ? (%s)%s : (%s)0)", x, -hi, f, x, hi, f, T, x, T);
    } else {
        tgl_sb_printf(sb, "((%s > -1.0%s && %s < %a%s) ? (%s)%s : (%s)0)", x, f, x, ldexp(1.0, b), f, T, x, T);
    }
}

static void emit_cast(const tgl_rctx *c, uint32_t to, uint32_t from, const char *x) {
    tgl_sb *sb = c->sb;
    const char *T = tgl_ctype(to);
    if (to == TG_BOOL) { tgl_sb_printf(sb, "(uint8_t)(%s != 0)", x); return; }
    if (from == TG_BOOL || (!is_float(from) && !is_float(to))) { tgl_sb_printf(sb, "(%s)%s", T, x); return; }
    if (is_float(from) && !is_float(to)) { emit_cast_f2i(c, to, from, x); return; }
    const char *round = to == TG_FLOAT16 ? "tg_rh" : to == TG_BFLOAT16 ? "tg_rb" : NULL;
    if (!is_float(from)) { /* int -> float */
        if (!round) tgl_sb_printf(sb, "(%s)%s", T, x);
        else if (bits(from) <= 16) tgl_sb_printf(sb, "%s((float)%s)", round, x);
        else if (is_signed_int(from)) tgl_sb_printf(sb, "%s(tg_i2f_odd((int64_t)%s))", round, x);
        else tgl_sb_printf(sb, "%s(tg_u2f_odd((uint64_t)%s))", round, x);
        return;
    }
    /* float -> float */
    if (!round) tgl_sb_printf(sb, "(%s)%s", T, x);
    else if (from == TG_FLOAT64) tgl_sb_printf(sb, "%s(tg_d2f_odd(%s))", round, x);
    else tgl_sb_printf(sb, "%s(%s)", round, x);
}

/* -------------------------------------------------------------------- ALU */

/* The definition of an ALU node (not LOAD/CONST/STORE/REDUCE). */
static void emit_alu(const tgl_rctx *c, uint32_t n) {
    const tg_node *nd = &c->k->nodes[n];
    tgl_sb *sb = c->sb;
    uint32_t dt = nd->dtype, sdt = c->k->nodes[nd->src[0]].dtype;
    char a[16], b[16], cc[16];
    snprintf(a, sizeof a, "v%d", nd->src[0]);
    snprintf(b, sizeof b, "v%d", nd->src[1]);
    snprintf(cc, sizeof cc, "v%d", nd->src[2]);
    const char *rnd = dt == TG_FLOAT16 ? "tg_rh" : dt == TG_BFLOAT16 ? "tg_rb" : "";
    int fl = is_float(dt);
    const char *f = dt == TG_FLOAT64 ? "" : "f"; /* math suffix */
    const char *T = tgl_ctype(dt), *U = utype(dt);
    tgl_sb_printf(sb, "const %s v%u = ", T, n);
    switch (nd->op) {
    case TG_OP_EXP2: tgl_sb_printf(sb, "%s(exp2%s(%s))", rnd, f, a); break;
    case TG_OP_LOG2: tgl_sb_printf(sb, "%s(log2%s(%s))", rnd, f, a); break;
    case TG_OP_SIN: tgl_sb_printf(sb, "%s(sin%s(%s))", rnd, f, a); break;
    case TG_OP_SQRT: tgl_sb_printf(sb, "%s(sqrt%s(%s))", rnd, f, a); break;
    case TG_OP_RECIP: tgl_sb_printf(sb, "%s((%s)1 / %s)", rnd, T, a); break;
    case TG_OP_NEG:
        if (fl) tgl_sb_printf(sb, "-%s", a);
        else tgl_sb_printf(sb, "(%s)(0u - (%s)%s)", T, U, a);
        break;
    case TG_OP_CAST: emit_cast(c, dt, sdt, a); break;
    case TG_OP_ADD: case TG_OP_SUB: case TG_OP_MUL: {
        const char *op = nd->op == TG_OP_ADD ? "+" : nd->op == TG_OP_SUB ? "-" : "*";
        if (fl) tgl_sb_printf(sb, "%s(%s %s %s)", rnd, a, op, b);
        else if (dt == TG_BOOL) tgl_sb_printf(sb, "(uint8_t)(%s & %s)", a, b); /* MUL = and */
        else tgl_sb_printf(sb, "(%s)((%s)%s %s (%s)%s)", T, U, a, op, U, b);
        break;
    }
    case TG_OP_DIV:
        if (fl) tgl_sb_printf(sb, "%s(%s / %s)", rnd, a, b);
        else if (is_signed_int(dt))
            tgl_sb_printf(sb, "%s == 0 ? (%s)0 : %s == -1 ? (%s)(0u - (%s)%s) : (%s)(%s / %s)", b, T, b, T, U, a, T, a, b);
        else tgl_sb_printf(sb, "%s == 0 ? (%s)0 : (%s)(%s / %s)", b, T, T, a, b);
        break;
    case TG_OP_MOD:
        if (fl) tgl_sb_printf(sb, "%s(fmod%s(%s, %s))", rnd, f, a, b);
        else if (is_signed_int(dt)) tgl_sb_printf(sb, "(%s == 0 || %s == -1) ? (%s)0 : (%s)(%s %% %s)", b, b, T, T, a, b);
        else tgl_sb_printf(sb, "%s == 0 ? (%s)0 : (%s)(%s %% %s)", b, T, T, a, b);
        break;
    case TG_OP_MAX:
        if (fl) tgl_sb_printf(sb, "(%s > %s || %s != %s) ? %s : %s", a, b, a, a, a, b);
        else if (dt == TG_BOOL) tgl_sb_printf(sb, "(uint8_t)(%s | %s)", a, b);
        else tgl_sb_printf(sb, "%s > %s ? %s : %s", a, b, a, b);
        break;
    case TG_OP_CMPLT: tgl_sb_printf(sb, "(uint8_t)(%s < %s)", a, b); break;
    case TG_OP_WHERE: tgl_sb_printf(sb, "%s ? %s : %s", a, b, cc); break;
    case TG_OP_MULACC:
        if (fl) tgl_sb_printf(sb, "%s(fma%s(%s, %s, %s))", rnd, f, a, b, cc);
        else if (dt == TG_BOOL) tgl_sb_printf(sb, "(uint8_t)((%s & %s) | %s)", a, b, cc);
        else tgl_sb_printf(sb, "(%s)((%s)%s * (%s)%s + (%s)%s)", T, U, a, U, b, U, cc);
        break;
    default: break;
    }
    tgl_sb_printf(sb, ";\n");
}

/* ----------------------------------------------------------------- stages */

void tgl_emit_stage(const tgl_rctx *c, int post) {
    for (uint32_t n = 0; n < c->k->nnodes; n++) {
        const tg_node *nd = &c->k->nodes[n];
        if (nd->op == TG_OP_CONST || nd->op == TG_OP_ARG || nd->op == TG_OP_REDUCE_SUM || nd->op == TG_OP_REDUCE_MAX) continue;
        if ((c->p->cone[n] != 0) == post) continue;
        if (nd->op == TG_OP_LOAD) emit_load(c, n);
        else if (nd->op == TG_OP_STORE) emit_store(c, n);
        else emit_alu(c, n);
    }
}

void tgl_emit_cone_of(const tgl_rctx *c, int root) {
    unsigned char mark[1024];
    if (c->k->nnodes > sizeof mark) return;
    memset(mark, 0, c->k->nnodes);
    mark[root] = 1;
    for (int n = root; n >= 0; n--)
        for (int s = 0; s < 3 && mark[n]; s++)
            if (c->k->nodes[n].src[s] >= 0) mark[c->k->nodes[n].src[s]] = 1;
    for (int n = 0; n <= root; n++) {
        const tg_node *nd = &c->k->nodes[n];
        if (!mark[n] || nd->op == TG_OP_CONST || nd->op == TG_OP_ARG) continue;
        if (nd->op == TG_OP_LOAD) emit_load(c, (uint32_t)n);
        else emit_alu(c, (uint32_t)n);
    }
}

/* An argument's value from its 64-bit word (tgl_args_pack). */
static void emit_arg(const tgl_rctx *c, uint32_t dt, uint32_t i) {
    char w[32];
    arg_word(c, i, w, sizeof w);
    if (dt == TG_FLOAT64) tgl_sb_printf(c->sb, "tg_bitsd(%s)", w);
    else if (is_float(dt)) tgl_sb_printf(c->sb, "tg_bitsf((uint32_t)%s)", w);
    else if (dt == TG_BOOL) tgl_sb_printf(c->sb, "(uint8_t)(%s != 0)", w);
    else tgl_sb_printf(c->sb, "(%s)%s", tgl_ctype(dt), w);
}

/* CONST and ARG nodes and bounded extents: defined once at the top of a
 * function. */
void tgl_emit_consts(const tgl_rctx *c) {
    for (uint32_t d = 0; d < c->k->ndim; d++) {
        char w[32], x[32];
        if (!tgl_extent(c, d, x, sizeof x)) continue;
        arg_word(c, c->k->extent_arg[d] - 1, w, sizeof w);
        tgl_sb_printf(c->sb, "const %s %s = (%s)%s;\n", c->idx, x, c->idx, w);
    }
    for (uint32_t n = 0; n < c->k->nnodes; n++) {
        const tg_node *nd = &c->k->nodes[n];
        if (nd->op != TG_OP_CONST && nd->op != TG_OP_ARG) continue;
        tgl_sb_printf(c->sb, "const %s v%u = ", tgl_ctype(nd->dtype), n);
        if (nd->op == TG_OP_ARG) emit_arg(c, nd->dtype, nd->buffer);
        else emit_literal(c, nd->dtype, nd->value);
        tgl_sb_printf(c->sb, ";\n");
    }
}

void tgl_emit_params(const tgl_rctx *c) {
    for (uint32_t i = 0; i < c->k->nparams; i++) {
        const tg_param *pp = &c->k->params[i];
        tgl_sb_printf(c->sb, "%s%s%s%s *R p%u%s", i ? " " : "", c->d->global, pp->access == TG_ACCESS_WRITE ? "" : "const ",
                      stype(pp->dtype), i, i + 1 < c->k->nparams ? "," : "");
    }
    uint32_t na = tgl_nargs(c->k);
    if (na && c->d->args) tgl_sb_printf(c->sb, ", %s a_", c->d->args);
    for (uint32_t i = 0; i < na && !c->d->args; i++) tgl_sb_printf(c->sb, ", uint64_t a%u_", i);
}

/* ------------------------------------------------------------- reductions */

/* acc = acc (op) x, both acc-typed or x of the reduce dtype. */
void tgl_emit_update(const tgl_rctx *c, const char *acc, const char *x) {
    const tg_node *r = &c->k->nodes[c->p->reduce_node];
    tgl_sb *sb = c->sb;
    if (r->op == TG_OP_REDUCE_SUM) {
        if (is_float(r->dtype)) tgl_sb_printf(sb, "%s = %s + %s;", acc, acc, x);
        else tgl_sb_printf(sb, "%s = %s + (%s)%s;", acc, acc, utype(r->dtype), x);
    } else if (is_float(r->dtype)) {
        tgl_sb_printf(sb, "%s = (%s > %s || %s != %s) ? %s : %s;", acc, x, acc, x, x, x, acc);
    } else if (r->dtype == TG_BOOL) {
        tgl_sb_printf(sb, "%s = %s | %s;", acc, acc, x);
    } else {
        tgl_sb_printf(sb, "%s = %s > %s ? %s : %s;", acc, x, acc, x, acc);
    }
}

/* The update of `acc` by the reduce's source; fma: a float32/64 MUL source
 * fuses into an fma (layouts whose accumulation bound allows it). */
void tgl_emit_acc_update(const tgl_rctx *c, const char *acc, int fma) {
    const tg_node *r = &c->k->nodes[c->p->reduce_node];
    const tg_node *s = &c->k->nodes[r->src[0]];
    char x[16];
    snprintf(x, sizeof x, "v%d", r->src[0]);
    if (fma && r->op == TG_OP_REDUCE_SUM && s->op == TG_OP_MUL && (r->dtype == TG_FLOAT32 || r->dtype == TG_FLOAT64)) {
        tgl_sb_printf(c->sb, "%s = fma%s(v%d, v%d, %s);\n", acc, r->dtype == TG_FLOAT32 ? "f" : "", s->src[0], s->src[1],
                      acc);
        return;
    }
    tgl_emit_update(c, acc, x);
    tgl_sb_printf(c->sb, "\n");
}

/* The value the reduce node takes from an accumulator expression. */
void tgl_emit_reduce_value(const tgl_rctx *c, const char *acc) {
    const tg_node *r = &c->k->nodes[c->p->reduce_node];
    const char *rnd = r->op == TG_OP_REDUCE_SUM && r->dtype == TG_FLOAT16    ? "tg_rh"
                      : r->op == TG_OP_REDUCE_SUM && r->dtype == TG_BFLOAT16 ? "tg_rb" : "";
    tgl_sb_printf(c->sb, "const %s v%d = %s((%s)%s);\n", tgl_ctype(r->dtype), c->p->reduce_node, rnd,
                  tgl_ctype(r->dtype), acc);
}

tg_status tgl_render(const tgl_prog *p, const tgl_dialect *d, tgl_sb *out) {
    tgl_rctx c = {p, p->kernel, d, out, p->index32 ? "int32_t" : "int64_t"};
    int f64 = !p->target.native || (p->target.native >> TG_FLOAT64 & 1u);
    tgl_sb_printf(out, "/* %s: rendered by tg's lowering library for %s */\n", p->kernel->name, d->name);
    if (f64) tgl_sb_printf(out, "#define TG_F64 1\n");
    tgl_sb_printf(out, "%s#define TGF %s\n%s", d->prelude, d->fn, helpers);
    tgl_sb_printf(out, "/* plan: mode %d lanes %d block %d mr %d nc %d split %d par %d group %d */\n",
                  p->plan.mode, p->plan.lanes, p->plan.block, p->plan.mr, p->plan.nc, p->plan.split, p->plan.par_axis,
                  p->plan.group);
    if (p->target.kind == TGL_GPU) tgl_render_gpu(&c);
    else tgl_render_cpu(&c);
    return out->oom ? TG_ERR_NO_MEMORY : TG_OK;
}
