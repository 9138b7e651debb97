/* Elementwise ops with broadcasting, composed from the primitives:
 * exp(x) = exp2(x*log2 e), log via log2, cos via sin, tanh/sigmoid via
 * exp2 and recip, comparisons and logic via CMPLT/WHERE/MAX/MUL. */
#include <math.h>
#include "tensor_internal.h"

#define LOG2E 1.44269504088896340736
#define LN2 0.69314718055994530942

/* Each public op runs in its own scope and keeps only its result. */
static tg_tensor *bin(const char *name, int op, tg_tensor *a, tg_tensor *b) {
    tg_tensor *x, *y;
    if (!a || !b) return tg__null_arg(name);
    OP_BEGIN;
    if (tg__broadcast(name, a, b, &x, &y) != TG_OK) OP_END(NULL);
    OP_END(tg__binary(op, x, y));
}

static tg_tensor *cst(tg_tensor *x, double v) { return tg__const_like(x, v); }
/* -|x| and max(x, 0) with one-sided gradients at 0 (-1 and 1), so the
 * compositions below have the right gradient there. */
static tg_tensor *neg_abs(tg_tensor *x) { return tg_where(tg_lt(x, cst(x, 0)), x, tg_neg(x)); }
static tg_tensor *pos_part(tg_tensor *x) { return tg_where(tg_lt(x, cst(x, 0)), cst(x, 0), x); }

tg_tensor *tg_add(tg_tensor *a, tg_tensor *b) { return bin("add", TG_OP_ADD, a, b); }
tg_tensor *tg_sub(tg_tensor *a, tg_tensor *b) { return bin("sub", TG_OP_SUB, a, b); }
tg_tensor *tg_mul(tg_tensor *a, tg_tensor *b) { return bin("mul", TG_OP_MUL, a, b); }
tg_tensor *tg_div(tg_tensor *a, tg_tensor *b) { return bin("div", TG_OP_DIV, a, b); }
tg_tensor *tg_mod(tg_tensor *a, tg_tensor *b) { return bin("mod", TG_OP_MOD, a, b); }
tg_tensor *tg_maximum(tg_tensor *a, tg_tensor *b) { return bin("maximum", TG_OP_MAX, a, b); }
tg_tensor *tg_lt(tg_tensor *a, tg_tensor *b) { return bin("lt", TG_OP_CMPLT, a, b); }
tg_tensor *tg_gt(tg_tensor *a, tg_tensor *b) { return bin("gt", TG_OP_CMPLT, b, a); }

tg_tensor *tg_logical_not(tg_tensor *x) {
    if (!x) return tg__null_arg("logical_not");
    if (x->dtype != TG_BOOL) return tg__fail(TG_ERR_DTYPE, "logical_not: needs bool, not %s", tg_dtype_name(x->dtype));
    OP_BEGIN;
    OP_END(tg__binary(TG_OP_CMPLT, x, cst(x, 1))); /* x < true  <=>  !x */
}

static tg_tensor *need_bool(const char *name, tg_tensor *a, tg_tensor *b) {
    if (!a || !b) return tg__null_arg(name);
    if (a->dtype != TG_BOOL || b->dtype != TG_BOOL)
        return tg__fail(TG_ERR_DTYPE, "%s: needs bool operands, not %s and %s", name, tg_dtype_name(a->dtype),
                        tg_dtype_name(b->dtype));
    return a;
}

tg_tensor *tg_logical_and(tg_tensor *a, tg_tensor *b) {
    return need_bool("logical_and", a, b) ? bin("logical_and", TG_OP_MUL, a, b) : NULL;
}
tg_tensor *tg_logical_or(tg_tensor *a, tg_tensor *b) {
    return need_bool("logical_or", a, b) ? bin("logical_or", TG_OP_MAX, a, b) : NULL;
}
tg_tensor *tg_logical_xor(tg_tensor *a, tg_tensor *b) {
    if (!need_bool("logical_xor", a, b)) return NULL;
    OP_BEGIN; /* a != b on bools: (a < b) or (b < a) */
    OP_END(tg_logical_or(tg_lt(a, b), tg_lt(b, a)));
}
/* IEEE comparisons: a NaN operand makes eq, le and ge false and ne true.
 * Floats are ordered unless max(a, b) is NaN (MAX propagates NaN). */
enum { CMP_EQ, CMP_LE, CMP_GE };
static tg_tensor *ordered(tg_tensor *a, tg_tensor *b) {
    tg_tensor *m = tg__binary(TG_OP_MAX, a, b);
    return tg_logical_or(tg_lt(m, cst(m, INFINITY)), tg_lt(cst(m, -INFINITY), m));
}
static tg_tensor *compare(const char *name, int kind, tg_tensor *a, tg_tensor *b) {
    tg_tensor *x, *y;
    if (!a || !b) return tg__null_arg(name);
    OP_BEGIN;
    if (tg__broadcast(name, a, b, &x, &y) != TG_OK) OP_END(NULL);
    tg_tensor *r = kind == CMP_LE ? tg_logical_not(tg_lt(y, x))
                 : kind == CMP_GE ? tg_logical_not(tg_lt(x, y))
                                  : tg_logical_not(tg_logical_or(tg_lt(x, y), tg_lt(y, x)));
    if (r && tg_dtype_is_float(x->dtype)) r = tg_logical_and(r, ordered(x, y));
    OP_END(r);
}
tg_tensor *tg_le(tg_tensor *a, tg_tensor *b) { return compare("le", CMP_LE, a, b); }
tg_tensor *tg_ge(tg_tensor *a, tg_tensor *b) { return compare("ge", CMP_GE, a, b); }
tg_tensor *tg_eq(tg_tensor *a, tg_tensor *b) { return compare("eq", CMP_EQ, a, b); }
tg_tensor *tg_ne(tg_tensor *a, tg_tensor *b) {
    if (!a || !b) return tg__null_arg("ne");
    OP_BEGIN;
    OP_END(tg_logical_not(tg_eq(a, b)));
}
/* NaN test for floats (false for other dtypes). */
tg_tensor *tg__isnan(tg_tensor *x) {
    if (!tg_dtype_is_float(x->dtype)) return tg__const_dt(x, TG_BOOL, 0);
    return tg_logical_not(ordered(x, x));
}

tg_tensor *tg_where(tg_tensor *c, tg_tensor *a, tg_tensor *b) {
    tg_tensor *x, *y, *z;
    if (!c || !a || !b) return tg__null_arg("where");
    OP_BEGIN;
    if (tg__broadcast("where", a, b, &x, &y) != TG_OK || tg__broadcast("where", c, x, &z, &x) != TG_OK ||
        tg__broadcast("where", y, z, &y, &z) != TG_OK)
        OP_END(NULL);
    OP_END(tg__where(z, x, y));
}

tg_tensor *tg_cast(tg_tensor *x, tg_dtype dtype) {
    OP_BEGIN;
    OP_END(tg__cast(x, dtype));
}

/* ----------------------------------------------------- scalar variants */

static tg_tensor *bins(const char *name, int op, tg_tensor *x, double v, bool swap) {
    if (!x) return tg__null_arg(name);
    OP_BEGIN;
    tg_tensor *c = cst(x, v);
    OP_END(swap ? tg__binary(op, c, x) : tg__binary(op, x, c));
}

tg_tensor *tg_adds(tg_tensor *x, double v) { return bins("adds", TG_OP_ADD, x, v, false); }
tg_tensor *tg_subs(tg_tensor *x, double v) { return bins("subs", TG_OP_SUB, x, v, false); }
tg_tensor *tg_rsubs(tg_tensor *x, double v) { return bins("rsubs", TG_OP_SUB, x, v, true); }
tg_tensor *tg_muls(tg_tensor *x, double v) { return bins("muls", TG_OP_MUL, x, v, false); }
tg_tensor *tg_divs(tg_tensor *x, double v) { return bins("divs", TG_OP_DIV, x, v, false); }
tg_tensor *tg_maximums(tg_tensor *x, double v) { return bins("maximums", TG_OP_MAX, x, v, false); }

tg_tensor *tg_neg(tg_tensor *x) {
    if (x && x->dtype == TG_BOOL) return tg_logical_not(x);
    OP_BEGIN;
    OP_END(tg__unary(TG_OP_NEG, x));
}
/* An order-reversing map that is its own inverse and exact on every
 * value: -x for floats (NaN stays NaN), ~x = -x - 1 for integers (INT_MIN
 * <-> INT_MAX, unsigned 0 <-> all ones), !x for bool. */
tg_tensor *tg__flip_order(tg_tensor *x) {
    if (!x) return tg__null_arg("min");
    if (x->dtype == TG_BOOL) return tg_logical_not(x);
    tg_tensor *n = tg__unary(TG_OP_NEG, x);
    return tg_dtype_is_float(x->dtype) ? n : tg__binary(TG_OP_SUB, n, cst(x, 1));
}
tg_tensor *tg_minimum(tg_tensor *a, tg_tensor *b) {
    if (!a || !b) return tg__null_arg("minimum");
    OP_BEGIN;
    OP_END(tg__flip_order(tg_maximum(tg__flip_order(a), tg__flip_order(b))));
}
tg_tensor *tg_minimums(tg_tensor *x, double v) {
    if (!x) return tg__null_arg("minimums");
    OP_BEGIN;
    OP_END(tg_minimum(x, cst(x, v)));
}
tg_tensor *tg_clamp(tg_tensor *x, double lo, double hi) {
    OP_BEGIN;
    OP_END(tg_minimums(tg_maximums(x, lo), hi));
}

/* ----------------------------------------------------------- unary ops */

static tg_tensor *un(int op, tg_tensor *x) {
    OP_BEGIN;
    OP_END(tg__unary(op, x));
}

tg_tensor *tg_exp2(tg_tensor *x) { return un(TG_OP_EXP2, x); }
tg_tensor *tg_log2(tg_tensor *x) { return un(TG_OP_LOG2, x); }
tg_tensor *tg_sqrt(tg_tensor *x) { return un(TG_OP_SQRT, x); }
tg_tensor *tg_recip(tg_tensor *x) { return un(TG_OP_RECIP, x); }
tg_tensor *tg_sin(tg_tensor *x) { return un(TG_OP_SIN, x); }

/* A dtype to compute a composite in when rounding x's own would lose too
 * much: float32 for float16/bfloat16, float64 for float32 where the device
 * has it; otherwise x's. */
tg_dtype tg__wider(const tg_tensor *x) {
    if (x->dtype == TG_FLOAT16 || x->dtype == TG_BFLOAT16) return TG_FLOAT32;
    if (x->dtype == TG_FLOAT32 && (x->dev->caps.dtypes & (1u << TG_FLOAT64))) return TG_FLOAT64;
    return x->dtype;
}

/* exp(x) = 2^n * exp2(r log2 e), n = trunc(x log2 e), r = x - n ln2 with
 * ln2 split in two (Cody and Waite) so that n*LN2_HI is exact: rounding
 * x*log2(e) whole would lose about |x|/2 ulp. float16/bfloat16 go through
 * float32. |x| is clamped to 1e4 first (the result is 0 or inf beyond). */
tg_tensor *tg_exp(tg_tensor *x) {
    if (!x) return tg__null_arg("exp");
    if (!tg_dtype_is_float(x->dtype)) return tg__fail(TG_ERR_DTYPE, "exp: needs a float dtype, not %s", tg_dtype_name(x->dtype));
    OP_BEGIN;
    if (x->dtype != TG_FLOAT32 && x->dtype != TG_FLOAT64) OP_END(tg_cast(tg_exp(tg_cast(x, TG_FLOAT32)), x->dtype));
    bool f32 = x->dtype == TG_FLOAT32;
    double hi = f32 ? 0.693359375 : 6.93147180369123816490e-01, lo = f32 ? -2.12194440e-4 : 1.90821492927058770002e-10;
    tg_tensor *xc = tg_clamp(x, -1e4, 1e4), *t = tg_muls(xc, LOG2E);
    tg_tensor *n = tg_sub(t, tg_mod(t, cst(t, 1)));
    tg_tensor *r = tg_sub(tg_sub(xc, tg_muls(n, hi)), tg_muls(n, lo));
    OP_END(tg_mul(tg_exp2(n), tg_exp2(tg_muls(r, LOG2E))));
}
tg_tensor *tg_log(tg_tensor *x) {
    OP_BEGIN;
    OP_END(tg_muls(tg_log2(x), LN2));
}
tg_tensor *tg_rsqrt(tg_tensor *x) {
    OP_BEGIN;
    OP_END(tg_recip(tg_sqrt(x)));
}
tg_tensor *tg_square(tg_tensor *x) {
    if (!x) return tg__null_arg("square");
    OP_BEGIN;
    OP_END(tg__binary(TG_OP_MUL, x, x));
}
/* sin(x + pi/2) in a wider dtype (the shift rounded in x's dtype would
 * move cos(1000) in float16 by 0.07). */
tg_tensor *tg_cos(tg_tensor *x) {
    if (!x) return tg__null_arg("cos");
    OP_BEGIN;
    if (!tg_dtype_is_float(x->dtype)) OP_END(tg_sin(x)); /* reports the dtype */
    OP_END(tg_cast(tg_sin(tg_adds(tg_cast(x, tg__wider(x)), M_PI / 2)), x->dtype));
}
tg_tensor *tg_tan(tg_tensor *x) {
    if (!x) return tg__null_arg("tan");
    OP_BEGIN;
    OP_END(tg_div(tg_sin(x), tg_cos(x)));
}
/* With e = exp(-|x|) <= 1: 1/(1+e) for x >= 0, e/(1+e) below, so no
 * intermediate overflows (sigmoid(-100) is not 0, and its gradient is
 * not 0 * inf = NaN). */
tg_tensor *tg_sigmoid(tg_tensor *x) {
    if (!x) return tg__null_arg("sigmoid");
    OP_BEGIN;
    tg_tensor *e = tg_exp(neg_abs(x)), *r = tg_recip(tg_adds(e, 1));
    OP_END(tg_where(tg_lt(x, cst(x, 0)), tg_mul(e, r), r));
}
/* expm1(v) for v <= 0: with u = exp(v) rounded, u - 1 for u <= 1/2 and
 * Kahan's (u - 1) v / log(u) above (v itself where u == 1). No branch
 * holds a NaN or inf, nor a gradient through log of a tiny u. */
static tg_tensor *expm1_neg(tg_tensor *v) {
    tg_tensor *u = tg_exp(v), *one = tg_eq(u, cst(u, 1)), *near = tg_lt(cst(u, 0.5), u);
    tg_tensor *safe = tg_where(tg_logical_and(near, tg_logical_not(one)), u, cst(u, 0.75));
    tg_tensor *k = tg_div(tg_mul(tg_subs(safe, 1), v), tg_log(safe));
    return tg_where(one, v, tg_where(near, k, tg_subs(u, 1)));
}
/* tanh(|x|) = -m / (2 + m) with m = expm1(-2|x|): accurate at tiny x (no
 * 1 - 1 cancellation) and finite gradients at large |x|. */
tg_tensor *tg_tanh(tg_tensor *x) {
    if (!x) return tg__null_arg("tanh");
    OP_BEGIN;
    tg_tensor *m = expm1_neg(tg_muls(neg_abs(x), 2));
    tg_tensor *t = tg_div(tg_neg(m), tg_adds(m, 2));
    OP_END(tg_where(tg_lt(x, cst(x, 0)), tg_neg(t), t));
}
/* x <= 0 gives 0 (and a gradient of 0 at 0, as torch); NaN stays NaN. */
tg_tensor *tg_relu(tg_tensor *x) {
    if (!x) return tg__null_arg("relu");
    OP_BEGIN;
    tg_tensor *z = cst(x, 0); /* x > 0: x; x < 1 (so x <= 0): 0; NaN: x */
    OP_END(tg_where(tg_lt(z, x), x, tg_where(tg_lt(x, cst(x, 1)), z, x)));
}
tg_tensor *tg_leaky_relu(tg_tensor *x, double slope) {
    if (!x) return tg__null_arg("leaky_relu");
    OP_BEGIN; /* x > 0 ? x : slope*x */
    OP_END(tg_where(tg_gt(x, cst(x, 0)), x, tg_muls(x, slope)));
}
tg_tensor *tg_gelu(tg_tensor *x) { /* 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) */
    if (!x) return tg__null_arg("gelu");
    OP_BEGIN;
    tg_tensor *inner = tg_muls(tg_add(x, tg_muls(tg_mul(tg_square(x), x), 0.044715)), sqrt(2.0 / M_PI));
    OP_END(tg_mul(tg_muls(x, 0.5), tg_adds(tg_tanh(inner), 1)));
}
tg_tensor *tg_silu(tg_tensor *x) {
    if (!x) return tg__null_arg("silu");
    OP_BEGIN;
    OP_END(tg_mul(x, tg_sigmoid(x)));
}
/* log(1 + u) for u >= 0 without losing a small u (Kahan): with w = 1 + u
 * rounded, log(w) * u / (w - 1); u itself where w == 1. No branch holds a
 * NaN, so gradients stay finite. */
static tg_tensor *log1p_pos(tg_tensor *u) {
    tg_tensor *w = tg_adds(u, 1), *one = tg_eq(w, cst(w, 1));
    tg_tensor *d = tg_where(one, cst(w, 1), tg_subs(w, 1));
    return tg_where(one, u, tg_div(tg_mul(tg_log(w), u), d));
}
tg_tensor *tg_softplus(tg_tensor *x) { /* max(x,0) + log1p(exp(-|x|)), stable */
    if (!x) return tg__null_arg("softplus");
    OP_BEGIN;
    OP_END(tg_add(pos_part(x), log1p_pos(tg_exp(neg_abs(x)))));
}
tg_tensor *tg_abs(tg_tensor *x) {
    if (!x) return tg__null_arg("abs");
    OP_BEGIN;
    if (x->dtype == TG_BOOL || !tg_dtype_is_signed(x->dtype)) OP_END(tg__ref(x));
    OP_END(tg_maximum(x, tg_neg(x)));
}
tg_tensor *tg_sign(tg_tensor *x) { /* (x > 0) - (x < 0); 0 stays 0 */
    if (!x) return tg__null_arg("sign");
    OP_BEGIN;
    tg_tensor *z = cst(x, 0), *s = tg_sub(tg_cast(tg_lt(z, x), x->dtype), tg_cast(tg_lt(x, z), x->dtype));
    OP_END(tg_dtype_is_float(x->dtype) ? tg_where(tg__isnan(x), x, s) : s); /* NaN stays NaN */
}

/* pow for floats, C99 pow's special cases: |a|^b = exp2(b log2|a|); a
 * negative a (or -0) takes its sign from an odd integer b; a negative a
 * with a non-integer b gives NaN (an infinite b counts as an even
 * integer); x^0 = 1, 1^y = 1 and (-1)^(+-inf) = 1, even for NaN. */
tg_tensor *tg_pow(tg_tensor *a, tg_tensor *b) {
    tg_tensor *x, *y;
    if (!a || !b) return tg__null_arg("pow");
    if (!tg_dtype_is_float(a->dtype)) return tg__fail(TG_ERR_DTYPE, "pow: needs a float dtype, not %s", tg_dtype_name(a->dtype));
    OP_BEGIN;
    if (tg__broadcast("pow", a, b, &x, &y) != TG_OK) OP_END(NULL);
    if (x->dtype != y->dtype) OP_END(tg__binary(TG_OP_MUL, x, y)); /* reports the dtype mismatch */
    tg_tensor *ax = tg_abs(x), *z = cst(x, 0);
    tg_dtype w = tg__wider(x); /* b log2|a| rounded in x's dtype would lose |log2 result| ulp */
    tg_tensor *mag = tg_cast(tg_exp2(tg_mul(tg_cast(y, w), tg_log2(tg_cast(ax, w)))), x->dtype);
    tg_tensor *yinf = tg_eq(tg_abs(y), cst(y, INFINITY));
    tg_tensor *one = tg_logical_or(tg_logical_or(tg_eq(y, z), tg_eq(x, cst(x, 1))),
                                   tg_logical_and(tg_eq(ax, cst(x, 1)), yinf));
    tg_tensor *neg = tg_lt(x, z), *signbit = tg_logical_or(neg, tg_lt(tg_recip(x), z));
    tg_tensor *bint = tg_logical_or(tg_eq(tg_mod(y, cst(y, 1)), z), yinf);
    tg_tensor *odd = tg_eq(tg_abs(tg_mod(y, cst(y, 2))), cst(y, 1));
    tg_tensor *r = tg_where(tg_logical_and(signbit, odd), tg_neg(mag), mag);
    r = tg_where(tg_logical_and(neg, tg_logical_not(bint)), cst(x, NAN), r);
    OP_END(tg_where(one, cst(x, 1), r));
}

tg_tensor *tg_pows(tg_tensor *x, double v) {
    if (!x) return tg__null_arg("pows");
    if (!tg_dtype_is_float(x->dtype)) return tg__fail(TG_ERR_DTYPE, "pows: needs a float dtype, not %s", tg_dtype_name(x->dtype));
    OP_BEGIN;
    if (v == 2) OP_END(tg_square(x));
    if (v == 1) OP_END(tg__ref(x));
    if (v == 0.5) OP_END(tg_sqrt(x));
    OP_END(tg_pow(x, cst(x, v)));
}

/* erf in the wider dtype: x (2/sqrt(pi)) (1 - x^2/3 + x^4/10 - ...) (7
 * Taylor terms) below |x| = 1/2, else 1 - erfc(|x|) with erfc(z) =
 * t exp(Q(t) - z^2), t = 1/(1 + z/2), Q a degree-9 least-squares fit made
 * for tg. Relative error under 3e-8. Each branch sees only arguments in its
 * range (|x| clamped to 30, where erf is 1), so gradients stay finite. */
static const double ERF_TAYLOR[7] = {1.1283791670955126, -0.37612638903183754, 0.11283791670955126,
                                     -0.026866170645131252, 0.005223977625442188, -8.548327023450852e-4,
                                     1.2055332981789664e-4};
static const double ERFC_Q[10] = {-1.2655187002369475, 1.0002536910869997, 0.3709323572062855, 0.11909977682226724,
                                  -0.27712492871267835, 0.5033165781509489, -1.4761006665391125, 1.798352899517653,
                                  -0.9761056474334482, 0.2028666166371576};
static tg_tensor *poly(tg_tensor *x, const double *c, int n) { /* c[0] + c[1] x + ... (Horner) */
    tg_tensor *r = cst(x, c[n - 1]);
    for (int i = n - 2; i >= 0; i--) r = tg_adds(tg_mul(r, x), c[i]);
    return r;
}
tg_tensor *tg_erf(tg_tensor *x) {
    if (!x) return tg__null_arg("erf");
    if (!tg_dtype_is_float(x->dtype)) return tg__fail(TG_ERR_DTYPE, "erf: needs a float dtype, not %s", tg_dtype_name(x->dtype));
    OP_BEGIN;
    tg_tensor *w = tg_cast(x, tg__wider(x)), *small = tg_lt(tg_abs(w), cst(w, 0.5));
    tg_tensor *ws = tg_where(small, w, cst(w, 0)), *z = tg_clamp(tg_where(small, cst(w, 1), tg_abs(w)), 0, 30);
    tg_tensor *t = tg_recip(tg_adds(tg_muls(z, 0.5), 1));
    tg_tensor *big = tg_rsubs(tg_mul(t, tg_exp(tg_sub(poly(t, ERFC_Q, 10), tg_square(z)))), 1);
    big = tg_where(tg_lt(w, cst(w, 0)), tg_neg(big), big);
    OP_END(tg_cast(tg_where(small, tg_mul(ws, poly(tg_square(ws), ERF_TAYLOR, 7)), big), x->dtype));
}
tg_tensor *tg_gelu_erf(tg_tensor *x) { /* x/2 (1 + erf(x/sqrt(2))) */
    if (!x) return tg__null_arg("gelu_erf");
    OP_BEGIN;
    OP_END(tg_mul(tg_muls(x, 0.5), tg_adds(tg_erf(tg_muls(x, M_SQRT1_2)), 1)));
}
