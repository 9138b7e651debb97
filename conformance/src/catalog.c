/* The case catalog, generated from the tables below: which ops each dtype
 * has, shape classes, view kinds, value classes, a covering design that
 * keeps the suite to a few minutes on ref. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "build.h"
#include "fusion.h"

enum { ARITY_UNARY = 1, ARITY_BINARY, ARITY_TERNARY, ARITY_REDUCE };

static const struct {
    tg_op op;
    int arity;
} op_table[] = {
    {TG_OP_EXP2, ARITY_UNARY},   {TG_OP_LOG2, ARITY_UNARY},   {TG_OP_SQRT, ARITY_UNARY},
    {TG_OP_RECIP, ARITY_UNARY},  {TG_OP_NEG, ARITY_UNARY},    {TG_OP_SIN, ARITY_UNARY},
    {TG_OP_CAST, ARITY_UNARY},   {TG_OP_ADD, ARITY_BINARY},   {TG_OP_SUB, ARITY_BINARY},
    {TG_OP_MUL, ARITY_BINARY},   {TG_OP_DIV, ARITY_BINARY},   {TG_OP_MOD, ARITY_BINARY},
    {TG_OP_MAX, ARITY_BINARY},   {TG_OP_CMPLT, ARITY_BINARY}, {TG_OP_WHERE, ARITY_TERNARY},
    {TG_OP_MULACC, ARITY_TERNARY}, {TG_OP_REDUCE_SUM, ARITY_REDUCE}, {TG_OP_REDUCE_MAX, ARITY_REDUCE},
};
enum { NOPS = sizeof op_table / sizeof op_table[0] };

/* Is `op` defined on dtype `dt` (SEMANTICS: bool has CAST CMPLT MAX MUL WHERE
 * REDUCE_MAX; integers lack EXP2 LOG2 SQRT RECIP SIN; floats have all). */
static int op_defined(tg_op op, tg_dtype dt) {
    if (dt == TG_BOOL)
        return op == TG_OP_CAST || op == TG_OP_CMPLT || op == TG_OP_MAX || op == TG_OP_MUL ||
               op == TG_OP_WHERE || op == TG_OP_REDUCE_MAX;
    if (!tg_dtype_is_float(dt))
        return !(op == TG_OP_EXP2 || op == TG_OP_LOG2 || op == TG_OP_SQRT || op == TG_OP_RECIP ||
                 op == TG_OP_SIN);
    return 1;
}

static int core_dtype(tg_dtype dt) { return dt == TG_FLOAT32 || dt == TG_INT32 || dt == TG_BOOL; }

/* A shape class: name in ids, rank and dims. */
typedef struct shape_class {
    const char *name;
    uint32_t ndim;
    int64_t dims[TG_MAX_DIMS];
} shape_class;

static const shape_class SH_MAIN = {"17x3", 2, {17, 3}};
static const shape_class SH_SPECIAL = {"61", 1, {61}};
static const shape_class SH_SUBNORMAL = {"31", 1, {31}};
static const shape_class SH_VIEW = {"5x7", 2, {5, 7}};
static const shape_class SH_VIEW3 = {"4x3x5", 3, {4, 3, 5}};
static const shape_class small_shapes[] = {
    {"scalar", 0, {0}}, {"1", 1, {1}}, {"0", 1, {0}}, {"3x0", 2, {3, 0}}, {"97", 1, {97}}};
static const shape_class rank_shapes[] = {
    {"scalar", 0, {0}},
    {"7", 1, {7}},
    {"3x5", 2, {3, 5}},
    {"2x3x5", 3, {2, 3, 5}},
    {"2x3x1x5", 4, {2, 3, 1, 5}},
    {"2x1x3x2x3", 5, {2, 1, 3, 2, 3}},
    {"2x3x1x2x1x3", 6, {2, 3, 1, 2, 1, 3}},
    {"1x2x3x1x2x1x3", 7, {1, 2, 3, 1, 2, 1, 3}},
    {"2x1x2x3x1x2x1x3", 8, {2, 1, 2, 3, 1, 2, 1, 3}},
};
enum { NRANKS = sizeof rank_shapes / sizeof rank_shapes[0] };

static const char *const value_names[TGC_V_COUNT] = {"random", "special", "subnormal", "positive", "large",
                                                     "boundary", "small", "pairs", "pairs", "wide", "ties"};

/* One single-op case. */
typedef struct op_spec {
    tg_op op;
    tg_dtype dt;      /* operand dtype */
    tg_dtype to;      /* CAST target */
    shape_class sh;
    int vk;           /* load view kind */
    int store_vk;     /* store view kind */
    int values;       /* value class of operands */
    uint32_t axes;    /* reductions */
    const char *tag;  /* extra id part or NULL */
    int has_const;    /* binary ops: the second operand is CONST const_v */
    double const_v;
} op_spec;

static int op_arity(tg_op op) {
    for (int i = 0; i < NOPS; i++)
        if (op_table[i].op == op) return op_table[i].arity;
    return 0;
}

static void append(char *id, const char *fmt, ...) {
    size_t len = strlen(id);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(id + len, TGC_ID_LEN - len, fmt, ap);
    va_end(ap);
}

static void axes_text(char *out, size_t cap, uint32_t ndim, uint32_t axes) {
    out[0] = '\0';
    for (uint32_t d = 0; d < ndim; d++)
        if (axes >> d & 1) snprintf(out + strlen(out), cap - strlen(out), "%s%u", out[0] ? "," : "", d);
}

/* The value class operand k of op gets. */
static int operand_values(const op_spec *s, int k) {
    if (s->values == TGC_V_PAIRS_A) /* every pair of specials in operands a, b; WHERE's c and MULACC's c random */
        return (s->op == TG_OP_WHERE ? k == 1 : k == 0) ? TGC_V_PAIRS_A
             : (s->op == TG_OP_WHERE ? k == 2 : k == 1) ? TGC_V_PAIRS_B : TGC_V_RANDOM;
    if (s->values == TGC_V_SUBNORMAL && k == 1 && (s->op == TG_OP_MUL || s->op == TG_OP_DIV || s->op == TG_OP_MOD))
        return TGC_V_POSITIVE;
    if (s->values == TGC_V_SUBNORMAL && s->op == TG_OP_MULACC && k == 1) return TGC_V_POSITIVE;
    return s->values;
}

static tg_status add_op_case(tgc_catalog *cat, const op_spec *s) {
    tgc_case c;
    uint32_t axes = op_arity(s->op) == ARITY_REDUCE ? s->axes : 0;
    tgc_b_init(&c, s->sh.ndim, s->sh.dims, axes);
    int64_t out[TG_MAX_DIMS];
    tgc_b_out_shape(&c, out);
    const int64_t *full = c.shape;
    int n;
    switch (op_arity(s->op)) {
    case ARITY_UNARY: {
        int a = tgc_b_load(&c, s->dt, s->vk, full, operand_values(s, 0));
        n = tgc_b_op(&c, s->op, s->op == TG_OP_CAST ? s->to : s->dt, a, -1, -1);
        break;
    }
    case ARITY_BINARY: {
        int a = tgc_b_load(&c, s->dt, s->vk, full, operand_values(s, 0));
        int b;
        if (s->has_const) {
            tg_scalar v = {.u = 0};
            if (tg_dtype_is_float(s->dt)) v.f = s->const_v;
            else if (tg_dtype_is_signed(s->dt)) v.i = (int64_t)s->const_v;
            else v.u = s->const_v < 0 ? ~0ull >> (64 - 8 * tg_dtype_size(s->dt)) : (uint64_t)s->const_v;
            b = tgc_b_const(&c, s->dt, v);
        } else {
            b = tgc_b_load(&c, s->dt, s->vk, full, operand_values(s, 1));
        }
        n = tgc_b_op(&c, s->op, s->op == TG_OP_CMPLT ? TG_BOOL : s->dt, a, b, -1);
        break;
    }
    case ARITY_TERNARY: {
        int a = tgc_b_load(&c, s->op == TG_OP_WHERE ? TG_BOOL : s->dt, s->vk, full, operand_values(s, 0));
        int b = tgc_b_load(&c, s->dt, s->vk, full, operand_values(s, 1));
        int d = tgc_b_load(&c, s->dt, s->vk, full, operand_values(s, 2));
        n = tgc_b_op(&c, s->op, s->dt, a, b, d);
        break;
    }
    default: {
        int a = tgc_b_load(&c, s->dt, s->vk, full, s->values);
        n = tgc_b_op(&c, s->op, s->dt, a, -1, -1);
        break;
    }
    }
    tgc_b_store(&c, n, s->store_vk, out);
    c.row = (uint16_t)s->op;
    c.dtype = (uint8_t)s->dt;
    c.rule = TGC_RULE_NODE;
    c.judge = (uint8_t)n;
    int core_ok = core_dtype(s->dt) && (s->op != TG_OP_CAST || core_dtype(s->to)) && s->values != TGC_V_SUBNORMAL;
    c.levels = TGC_LEVEL_FULL | (core_ok ? TGC_LEVEL_CORE : 0);
    c.seed = 1000003u * (uint64_t)cat->count + 17;
    snprintf(c.id, sizeof c.id, "op.%s.%s", tg_op_name(s->op), tg_dtype_name(s->dt));
    if (s->op == TG_OP_CAST) append(c.id, ">%s", tg_dtype_name(s->to));
    append(c.id, ".shape=%s", s->sh.name);
    if (axes) {
        char t[32];
        axes_text(t, sizeof t, s->sh.ndim, axes);
        append(c.id, ".axes=%s", t);
    }
    if (s->vk != TGC_VK_CONTIG) append(c.id, ".view=%s", tgc_view_kind_names[s->vk]);
    if (s->store_vk != TGC_VK_CONTIG) append(c.id, ".store=%s", tgc_view_kind_names[s->store_vk]);
    if (s->values != TGC_V_RANDOM) append(c.id, ".values=%s", value_names[s->values]);
    if (s->has_const) {
        if (s->const_v != s->const_v) append(c.id, ".const=nan");
        else if (s->const_v == 0 && 1 / s->const_v < 0) append(c.id, ".const=-0");
        else append(c.id, ".const=%g", s->const_v);
    }
    if (s->tag) append(c.id, ".%s", s->tag);
    return tgc_catalog_add(cat, &c);
}

/* The reduction axes used by default: the last axis (all axes for rank 1). */
static uint32_t default_axes(const shape_class *sh) {
    return sh->ndim == 0 ? 0 : 1u << (sh->ndim - 1);
}

/* Every op x dtype on the main shape, special values, subnormals and small
 * shapes; every view kind on the core dtypes. */
static tg_status add_op_cases(tgc_catalog *cat) {
    tg_status st = TG_OK;
    for (int i = 0; i < NOPS && st == TG_OK; i++) {
        tg_op op = op_table[i].op;
        for (int d = 0; d < TG_DTYPE_COUNT && st == TG_OK; d++) {
            tg_dtype dt = (tg_dtype)d;
            if (!op_defined(op, dt) || op == TG_OP_CAST) continue;
            int fl = tg_dtype_is_float(dt);
            op_spec s = {.op = op, .dt = dt, .sh = SH_MAIN, .values = TGC_V_RANDOM};
            s.axes = default_axes(&s.sh);
            st = add_op_case(cat, &s);
            if (dt != TG_BOOL) {
                s.sh = SH_SPECIAL, s.values = TGC_V_SPECIAL, s.axes = 0;
                if (op_arity(op) == ARITY_REDUCE) s.sh = (shape_class){"61x4", 2, {61, 4}}, s.axes = 2;
                if (st == TG_OK) st = add_op_case(cat, &s);
            }
            if (fl && st == TG_OK) {
                s.sh = SH_SUBNORMAL, s.values = TGC_V_SUBNORMAL, s.axes = 1;
                st = add_op_case(cat, &s);
            }
            if ((op_arity(op) == ARITY_BINARY || op_arity(op) == ARITY_TERNARY) && dt != TG_BOOL && st == TG_OK) {
                s.sh = (shape_class){"293", 1, {293}}, s.values = TGC_V_PAIRS_A, s.axes = 0;
                st = add_op_case(cat, &s);
            }
            /* a CONST second operand: 0, -0, -inf and NaN (floats), -1 and 0 (integers;
               -1 is the maximum for unsigned) */
            static const double fconsts[] = {0.0, -0.0, -INFINITY, NAN}, iconsts[] = {-1, 0};
            int nconst = op_arity(op) != ARITY_BINARY || dt == TG_BOOL ? 0 : fl ? 4 : 2;
            for (int k = 0; k < nconst && st == TG_OK; k++) {
                s.sh = SH_SPECIAL, s.values = TGC_V_SPECIAL, s.axes = 0;
                s.has_const = 1, s.const_v = fl ? fconsts[k] : iconsts[k];
                st = add_op_case(cat, &s);
                s.has_const = 0;
            }
            if (op == TG_OP_SIN && st == TG_OK) {
                s.sh = SH_SUBNORMAL, s.values = TGC_V_LARGE, s.axes = 0;
                st = add_op_case(cat, &s);
            }
            if ((op == TG_OP_DIV || op == TG_OP_MOD || op == TG_OP_MUL) && !fl && dt != TG_BOOL && st == TG_OK) {
                s.sh = SH_SUBNORMAL, s.values = TGC_V_SMALL, s.axes = 0;
                st = add_op_case(cat, &s);
            }
            for (size_t k = 0; k < sizeof small_shapes / sizeof small_shapes[0] && st == TG_OK; k++) {
                s.sh = small_shapes[k], s.values = TGC_V_RANDOM;
                s.axes = default_axes(&s.sh);
                st = add_op_case(cat, &s);
            }
            if (!core_dtype(dt)) continue;
            /* every view kind, for loads and for stores */
            for (int vk = 1; vk < TGC_VK_COUNT && st == TG_OK; vk++) {
                s = (op_spec){.op = op, .dt = dt, .sh = vk == TGC_VK_PERMUTE ? SH_VIEW3 : SH_VIEW, .vk = vk};
                s.axes = default_axes(&s.sh);
                st = add_op_case(cat, &s);
            }
            int store_kinds[] = {TGC_VK_PERMUTE, TGC_VK_FLIP, TGC_VK_STRIDE};
            for (int k = 0; k < 3 && st == TG_OK; k++) {
                s = (op_spec){.op = op, .dt = dt, .sh = SH_VIEW3, .store_vk = store_kinds[k]};
                s.axes = op_arity(op) == ARITY_REDUCE ? 1u : 0; /* out_shape 1x3x5 */
                st = add_op_case(cat, &s);
            }
        }
    }
    return st;
}

/* CAST: every source x target pair, random values and specials (boundary
 * values for float sources). */
static tg_status add_cast_cases(tgc_catalog *cat) {
    tg_status st = TG_OK;
    for (int a = 0; a < TG_DTYPE_COUNT && st == TG_OK; a++)
        for (int b = 0; b < TG_DTYPE_COUNT && st == TG_OK; b++) {
            op_spec s = {.op = TG_OP_CAST, .dt = (tg_dtype)a, .to = (tg_dtype)b, .sh = SH_MAIN};
            st = add_op_case(cat, &s);
            if (a == TG_BOOL || st != TG_OK) continue;
            s.sh = SH_SPECIAL;
            s.values = tg_dtype_is_float((tg_dtype)a) && !tg_dtype_is_float((tg_dtype)b) ? TGC_V_BOUNDARY : TGC_V_SPECIAL;
            st = add_op_case(cat, &s);
            if (st == TG_OK && tg_dtype_is_float((tg_dtype)a) && tg_dtype_is_float((tg_dtype)b)) {
                s.sh = SH_SUBNORMAL, s.values = TGC_V_SUBNORMAL;
                st = add_op_case(cat, &s);
            }
        }
    /* views on the core casts */
    const tg_dtype pairs[][2] = {{TG_FLOAT32, TG_INT32}, {TG_INT32, TG_FLOAT32}, {TG_BOOL, TG_FLOAT32}};
    for (int p = 0; p < 3 && st == TG_OK; p++)
        for (int vk = 1; vk < TGC_VK_COUNT && st == TG_OK; vk++) {
            op_spec s = {.op = TG_OP_CAST, .dt = pairs[p][0], .to = pairs[p][1], .sh = SH_VIEW, .vk = vk};
            st = add_op_case(cat, &s);
        }
    return st;
}

/* Every rank up to TG_MAX_DIMS, reductions over one/several/all axes. */
static tg_status add_rank_cases(tgc_catalog *cat) {
    tg_status st = TG_OK;
    const tg_op ops[] = {TG_OP_ADD, TG_OP_WHERE, TG_OP_REDUCE_SUM, TG_OP_REDUCE_MAX};
    const tg_dtype dts[] = {TG_FLOAT32, TG_INT32};
    for (int r = 0; r < NRANKS && st == TG_OK; r++)
        for (int o = 0; o < 4 && st == TG_OK; o++)
            for (int d = 0; d < 2 && st == TG_OK; d++) {
                op_spec s = {.op = ops[o], .dt = dts[d], .sh = rank_shapes[r], .tag = "rank"};
                uint32_t nd = s.sh.ndim;
                s.axes = nd ? (nd >= 3 ? 0x5u : 1u) : 0;         /* several axes */
                st = add_op_case(cat, &s);
                if (st == TG_OK && nd >= 2 && op_arity(ops[o]) == ARITY_REDUCE) {
                    s.axes = (1u << nd) - 1;                       /* all axes */
                    st = add_op_case(cat, &s);
                }
                if (st == TG_OK && nd >= 3 && op_arity(ops[o]) == ARITY_REDUCE) {
                    s.vk = TGC_VK_FLIP, s.axes = 2;                /* one middle axis, flipped */
                    st = add_op_case(cat, &s);
                }
            }
    /* reductions over each axis set of a 3-d shape, on every float dtype;
       a long reduction (accumulation bound) */
    const shape_class sh = {"4x5x6", 3, {4, 5, 6}};
    const uint32_t axsets[] = {1, 2, 4, 3, 6, 7};
    for (int d = TG_FLOAT16; d <= TG_FLOAT64 && st == TG_OK; d++)
        for (int a = 0; a < 6 && st == TG_OK; a++) {
            op_spec s = {.op = TG_OP_REDUCE_SUM, .dt = (tg_dtype)d, .sh = sh, .axes = axsets[a]};
            st = add_op_case(cat, &s);
        }
    const shape_class longsh = {"4099", 1, {4099}};
    for (int d = TG_FLOAT16; d <= TG_FLOAT64 && st == TG_OK; d++) {
        op_spec s = {.op = TG_OP_REDUCE_SUM, .dt = (tg_dtype)d, .sh = longsh, .axes = 1};
        st = add_op_case(cat, &s);
    }
    /* larger than the last-level cache (capped: see conformance/README.md) */
    long llc = sysconf(_SC_LEVEL3_CACHE_SIZE);
    int64_t n = (llc > 0 ? llc : 8 << 20) / 4 + 1;
    if (n > (1 << 23) + 1) n = (1 << 23) + 1;
    if (st == TG_OK) {
        op_spec s = {.op = TG_OP_ADD, .dt = TG_FLOAT32, .sh = {"llc", 1, {n}}};
        st = add_op_case(cat, &s);
    }
    return st;
}

/* Movement ops through views: LOAD(view) -> STORE, on every dtype. */
static tg_status add_movement_cases(tgc_catalog *cat) {
    static const struct { tg_op op; int vk; } moves[] = {
        {TG_OP_RESHAPE, TGC_VK_STACK}, {TG_OP_PERMUTE, TGC_VK_PERMUTE}, {TG_OP_EXPAND, TGC_VK_EXPAND},
        {TG_OP_SHRINK, TGC_VK_SHRINK}, {TG_OP_PAD, TGC_VK_PAD},         {TG_OP_FLIP, TGC_VK_FLIP},
        {TG_OP_STRIDE, TGC_VK_STRIDE}};
    tg_status st = TG_OK;
    for (int m = 0; m < 7 && st == TG_OK; m++)
        for (int d = 0; d < TG_DTYPE_COUNT && st == TG_OK; d++) {
            const shape_class shapes[] = {SH_VIEW3, {"6x1x4", 3, {6, 1, 4}}};
            for (int k = 0; k < 2 && st == TG_OK; k++) {
                if (k == 1 && !core_dtype((tg_dtype)d)) continue;
                tgc_case c;
                tgc_b_init(&c, shapes[k].ndim, shapes[k].dims, 0);
                int a = tgc_b_load(&c, (tg_dtype)d, moves[m].vk, c.shape, TGC_V_SPECIAL);
                tgc_b_store(&c, a, TGC_VK_CONTIG, c.shape);
                c.row = (uint16_t)moves[m].op;
                c.dtype = (uint8_t)d;
                c.rule = TGC_RULE_CHAIN;
                c.levels = TGC_LEVEL_FULL | (core_dtype((tg_dtype)d) ? TGC_LEVEL_CORE : 0);
                c.seed = 7919u * (uint64_t)cat->count;
                snprintf(c.id, sizeof c.id, "move.%s.%s.shape=%s", tg_op_name(moves[m].op),
                         tg_dtype_name((tg_dtype)d), shapes[k].name);
                st = tgc_catalog_add(cat, &c);
            }
        }
    return st;
}

/* Operands at the edges (certification strength): large magnitudes, ties of
 * casts, sums where one dropped element shows, code paths a generating
 * plugin takes only for big or oddly shaped kernels, indices past 2^24 and
 * 2^31. Most reuse the kernel of an existing case with other values, so a
 * plugin that compiles kernels compiles few more. */
static tg_status add_edge_value_cases(tgc_catalog *cat) {
    tg_status st = TG_OK;
    /* large magnitudes (divisors whose reciprocal is subnormal): the kernels
       of values=pairs (binary) and values=special (unary) */
    const tg_op wide_ops[] = {TG_OP_DIV, TG_OP_MUL, TG_OP_ADD, TG_OP_SQRT, TG_OP_LOG2};
    for (int o = 0; o < 5 && st == TG_OK; o++)
        for (int d = TG_FLOAT16; d <= TG_FLOAT64 && st == TG_OK; d++) {
            int un = op_arity(wide_ops[o]) == ARITY_UNARY;
            op_spec s = {.op = wide_ops[o], .dt = (tg_dtype)d, .values = TGC_V_WIDE,
                         .sh = un ? SH_SPECIAL : (shape_class){"293", 1, {293}}};
            st = add_op_case(cat, &s);
        }
    /* casts at the ties of the target (and one unit beside them), where
       rounding twice (through float64, float32) differs from rounding once:
       the kernels of values=special */
    static const tg_dtype ties[][2] = {
        {TG_INT16, TG_BFLOAT16}, {TG_UINT16, TG_BFLOAT16},
        {TG_INT32, TG_FLOAT16}, {TG_INT32, TG_BFLOAT16}, {TG_INT32, TG_FLOAT32},
        {TG_UINT32, TG_FLOAT16}, {TG_UINT32, TG_BFLOAT16}, {TG_UINT32, TG_FLOAT32},
        {TG_INT64, TG_FLOAT16}, {TG_INT64, TG_BFLOAT16}, {TG_INT64, TG_FLOAT32}, {TG_INT64, TG_FLOAT64},
        {TG_UINT64, TG_FLOAT16}, {TG_UINT64, TG_BFLOAT16}, {TG_UINT64, TG_FLOAT32}, {TG_UINT64, TG_FLOAT64},
        {TG_FLOAT32, TG_FLOAT16}, {TG_FLOAT32, TG_BFLOAT16},
        {TG_FLOAT64, TG_FLOAT16}, {TG_FLOAT64, TG_BFLOAT16}, {TG_FLOAT64, TG_FLOAT32},
        {TG_FLOAT16, TG_BFLOAT16}};
    for (size_t p = 0; p < sizeof ties / sizeof ties[0] && st == TG_OK; p++) {
        op_spec s = {.op = TG_OP_CAST, .dt = ties[p][0], .to = ties[p][1], .sh = SH_SPECIAL, .values = TGC_V_TIES};
        st = add_op_case(cat, &s);
    }
    return st;
}

/* Sums judged exactly (integer values: a dropped element shows at any
 * length), reductions split over threads (a small output over >= 4096
 * points, > 32768 points of work), matrix products with ragged tiles. */
static tg_status add_edge_reduce_cases(tgc_catalog *cat) {
    tg_status st = TG_OK;
    const shape_class longsh = {"4099", 1, {4099}}, split = {"3x11001", 2, {3, 11001}},
                      splito = {"11001x3", 2, {11001, 3}};
    for (int d = TG_FLOAT16; d <= TG_FLOAT64 && st == TG_OK; d++) {
        op_spec s = {.op = TG_OP_REDUCE_SUM, .dt = (tg_dtype)d, .sh = longsh, .axes = 1, .values = TGC_V_SMALL};
        st = add_op_case(cat, &s);
    }
    const struct { tg_op op; tg_dtype dt; shape_class sh; uint32_t axes; int values; } red[] = {
        {TG_OP_REDUCE_SUM, TG_INT32, longsh, 1, TGC_V_RANDOM},
        {TG_OP_REDUCE_SUM, TG_FLOAT32, split, 2, TGC_V_SMALL},
        {TG_OP_REDUCE_SUM, TG_FLOAT64, split, 2, TGC_V_SMALL},
        {TG_OP_REDUCE_SUM, TG_FLOAT16, split, 2, TGC_V_SMALL},
        {TG_OP_REDUCE_SUM, TG_INT32, split, 2, TGC_V_RANDOM},
        {TG_OP_REDUCE_MAX, TG_FLOAT32, split, 2, TGC_V_RANDOM},
        {TG_OP_REDUCE_MAX, TG_FLOAT32, split, 2, TGC_V_SPECIAL},
        {TG_OP_REDUCE_SUM, TG_FLOAT32, splito, 1, TGC_V_SMALL},
    };
    for (size_t r = 0; r < sizeof red / sizeof red[0] && st == TG_OK; r++) {
        op_spec s = {.op = red[r].op, .dt = red[r].dt, .sh = red[r].sh, .axes = red[r].axes, .values = red[r].values};
        st = add_op_case(cat, &s);
    }
    /* C[m, n] = sum_k A[m, k] * B[k, n] on [M, N, K]: M not a multiple of 6,
       N not of 16/32/64 (and past one column block for float32), K odd; A
       read in place (float32) or through an expression (float64: -A * -B);
       small integers, so every partial sum is exact */
    const struct { tg_dtype dt; int64_t m, n, k; int neg; } mm[] = {
        {TG_FLOAT32, 13, 67, 1025, 0}, {TG_FLOAT64, 7, 35, 515, 1}};
    for (int i = 0; i < 2 && st == TG_OK; i++) {
        tgc_case c;
        int64_t sh[3] = {mm[i].m, mm[i].n, mm[i].k}, out[TG_MAX_DIMS];
        tgc_b_init(&c, 3, sh, 4);
        tgc_b_out_shape(&c, out);
        tg_view va = {.ndim = 3, .shape = {mm[i].m, mm[i].n, mm[i].k}, .strides = {mm[i].k, 0, 1}};
        tg_view vb = {.ndim = 3, .shape = {mm[i].m, mm[i].n, mm[i].k}, .strides = {0, 1, mm[i].n}};
        int a = tgc_b_load_view(&c, mm[i].dt, &va, mm[i].m * mm[i].k, TGC_V_SMALL);
        int b = tgc_b_load_view(&c, mm[i].dt, &vb, mm[i].k * mm[i].n, TGC_V_SMALL);
        if (mm[i].neg) {
            a = tgc_b_op(&c, TG_OP_NEG, mm[i].dt, a, -1, -1);
            b = tgc_b_op(&c, TG_OP_NEG, mm[i].dt, b, -1, -1);
        }
        int r = tgc_b_op(&c, TG_OP_REDUCE_SUM, mm[i].dt, tgc_b_op(&c, TG_OP_MUL, mm[i].dt, a, b, -1), -1, -1);
        tgc_b_store(&c, r, TGC_VK_CONTIG, out);
        c.row = TG_OP_REDUCE_SUM;
        c.dtype = (uint8_t)mm[i].dt;
        c.rule = TGC_RULE_NODE;
        c.judge = (uint8_t)r;
        c.levels = TGC_LEVEL_FULL | (mm[i].dt == TG_FLOAT32 ? TGC_LEVEL_CORE : 0);
        c.seed = 1000003u * (uint64_t)cat->count + 17;
        snprintf(c.id, sizeof c.id, "op.REDUCE_SUM.%s.shape=%lldx%lldx%lld.axes=2.matmul%s", tg_dtype_name(mm[i].dt),
                 (long long)mm[i].m, (long long)mm[i].n, (long long)mm[i].k, mm[i].neg ? ".neg" : "");
        st = tgc_catalog_add(cat, &c);
    }
    return st;
}

/* Indices past 2^24 (a float32 index loses them) and past 2^31 (an int32
 * one wraps): a flip of 2^24 + 43 bytes (loads and stores far from 0), and
 * two rows of 64 bytes 2^31 - 32 apart in a buffer of 2^31 + 32 int8. That
 * one needs about 6 GiB and 5-10 s (fill and copies of 2 GiB): only on hosts
 * with 32 GiB of memory or more, or with TG_CONFORM_HUGE=1. */
static tg_status add_edge_index_cases(tgc_catalog *cat, int every_host) {
    long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE);
    const char *huge = getenv("TG_CONFORM_HUGE");
    int big_host = every_host || (huge && !strcmp(huge, "1")) ||
                   (pages > 0 && psize > 0 && (double)pages * (double)psize >= 32.0 * (1 << 30));
    tg_status st = TG_OK;
    for (int k = 0; k < 1 + big_host && st == TG_OK; k++) {
        tgc_case c;
        tg_dtype dt = k == 0 ? TG_UINT8 : TG_INT8;
        if (k == 0) {
            int64_t n = (1 << 24) + 43;
            tgc_b_init(&c, 1, &n, 0);
            tgc_b_store(&c, tgc_b_load(&c, dt, TGC_VK_FLIP, c.shape, TGC_V_RANDOM), TGC_VK_CONTIG, c.shape);
            snprintf(c.id, sizeof c.id, "move.FLIP.uint8.shape=16777259");
        } else {
            int64_t sh[2] = {2, 64}, gap = ((int64_t)1 << 31) - 32;
            tg_view v = {.ndim = 2, .shape = {2, 64}, .strides = {gap, 1}};
            tgc_b_init(&c, 2, sh, 0);
            tgc_b_store(&c, tgc_b_load_view(&c, dt, &v, gap + 64, TGC_V_RANDOM), TGC_VK_CONTIG, c.shape);
            snprintf(c.id, sizeof c.id, "move.SHRINK.int8.shape=2x64.index=2^31");
            c.host_only = 1;
        }
        c.row = k == 0 ? TG_OP_FLIP : TG_OP_SHRINK;
        c.dtype = (uint8_t)dt;
        c.rule = TGC_RULE_CHAIN;
        c.levels = TGC_LEVEL_FULL;
        c.seed = 7919u * (uint64_t)cat->count;
        st = tgc_catalog_add(cat, &c);
    }
    return st;
}

/* Groups: cases of one table cell share a child process, at most 32 each. */
static void assign_groups(tgc_catalog *cat) {
    uint32_t group = 0, in_group = 0;
    for (size_t i = 0; i < cat->count; i++) {
        tgc_case *c = &cat->cases[i];
        if (i > 0) {
            const tgc_case *p = &cat->cases[i - 1];
            if (p->row != c->row || p->dtype != c->dtype || in_group >= 32) group++, in_group = 0;
        }
        c->group = group;
        in_group++;
    }
}

static tg_status catalog_build(tgc_catalog *cat, int every_host) {
    memset(cat, 0, sizeof *cat);
    tg_status st = add_op_cases(cat);
    if (st == TG_OK) st = add_cast_cases(cat);
    if (st == TG_OK) st = add_rank_cases(cat);
    if (st == TG_OK) st = add_movement_cases(cat);
    if (st == TG_OK) st = add_edge_value_cases(cat);
    if (st == TG_OK) st = add_edge_reduce_cases(cat);
    if (st == TG_OK) st = add_edge_index_cases(cat, every_host);
    if (st == TG_OK) st = tgc_fusion_cases(cat);
    if (st == TG_OK) st = tgc_args_cases(cat);
    if (st == TG_OK) st = tgc_composite_cases(cat);
    if (st == TG_OK) st = tgc_abi_cases(cat);
    if (st == TG_OK) st = tgc_memory_cases(cat);
    if (st != TG_OK) {
        tgc_catalog_free(cat);
        return st;
    }
    assign_groups(cat);
    return TG_OK;
}

tg_status tgc_catalog_build(tgc_catalog *cat) { return catalog_build(cat, 0); }

tg_status tgc_catalog_build_every_host(tgc_catalog *cat) { return catalog_build(cat, 1); }

/* FNV-1a of the id, then a final mix (splitmix64's) so that ids that differ
 * in their last characters spread over every shard. */
int tgc_shard_of(const char *id, int n) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (const char *p = id; *p; p++) h = (h ^ (unsigned char)*p) * 0x100000001b3ull;
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebull;
    h ^= h >> 31;
    return n > 1 ? (int)(h % (uint64_t)n) + 1 : 1;
}

void tgc_catalog_free(tgc_catalog *cat) {
    if (!cat) return;
    free(cat->cases);
    memset(cat, 0, sizeof *cat);
}

tg_status tgc_catalog_add(tgc_catalog *cat, const tgc_case *c) {
    if (cat->count == cat->cap) {
        size_t cap = cat->cap ? cat->cap * 2 : 256;
        tgc_case *p = realloc(cat->cases, cap * sizeof *p);
        if (!p) return tg_error(TG_ERR_NO_MEMORY, "conformance catalog: out of memory");
        cat->cases = p;
        cat->cap = cap;
    }
    cat->cases[cat->count++] = *c;
    return TG_OK;
}

long tgc_catalog_find(const tgc_catalog *cat, const char *id) {
    for (size_t i = 0; i < cat->count; i++)
        if (!strcmp(cat->cases[i].id, id)) return (long)i;
    return -1;
}
