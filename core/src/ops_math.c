/* More elementwise math (issue 17), composed from the primitives: rounding
 * through MOD (exact: x - fmod(x, 1) is trunc), inverse trigonometry through
 * one atan (argument halving and a series), hyperbolic functions through
 * exp and tanh, activations, bitwise ops through unsigned DIV/MOD (exact
 * for every two's complement value), and bitcast through host memory. */
#include <math.h>
#include <stdlib.h>
#include "tensor_internal.h"

static tg_tensor *cst(tg_tensor *x, double v) { return tg__const_like(x, v); }

static tg_tensor *need_float(const char *op, tg_tensor *x) {
    if (!x) return tg__null_arg(op);
    if (!tg_dtype_is_float(x->dtype)) return tg__fail(TG_ERR_DTYPE, "%s: needs a float dtype, not %s", op, tg_dtype_name(x->dtype));
    return x;
}

/* ------------------------------------------------------------ rounding */

enum { R_TRUNC, R_FLOOR, R_CEIL, R_ROUND };

/* A finite x: t = x - fmod(x, 1) (exact), then moved by one where needed;
 * NaN and infs stay. A zero result takes x's sign (x * 0), as torch. No
 * gradient (torch's is 0). */
static tg_tensor *round_kind(const char *name, int kind, tg_tensor *x) {
    if (!x) return tg__null_arg(name);
    OP_BEGIN;
    if (!tg_dtype_is_float(x->dtype)) OP_END(tg__ref(x));
    tg_tensor *one = cst(x, 1), *t = tg_sub(x, tg_mod(x, one));
    if (kind == R_FLOOR || kind == R_ROUND) t = tg_where(tg_lt(x, t), tg_subs(t, 1), t);
    if (kind == R_CEIL) t = tg_where(tg_lt(t, x), tg_adds(t, 1), t);
    if (kind == R_ROUND) { /* floor + 1 above a half, and at a half when floor is odd */
        tg_tensor *d = tg_sub(x, t), *half = cst(x, 0.5);
        tg_tensor *odd = tg_ne(tg_mod(t, cst(x, 2)), cst(x, 0));
        t = tg_where(tg_logical_or(tg_lt(half, d), tg_logical_and(tg_eq(d, half), odd)), tg_adds(t, 1), t);
    }
    t = tg_where(tg_eq(t, cst(x, 0)), tg_muls(x, 0), t);
    OP_END(tg_detach(tg_where(tg_isfinite(x), t, x)));
}
tg_tensor *tg_trunc(tg_tensor *x) { return round_kind("trunc", R_TRUNC, x); }
tg_tensor *tg_floor(tg_tensor *x) { return round_kind("floor", R_FLOOR, x); }
tg_tensor *tg_ceil(tg_tensor *x) { return round_kind("ceil", R_CEIL, x); }
tg_tensor *tg_round(tg_tensor *x) { return round_kind("round", R_ROUND, x); }
tg_tensor *tg_frac(tg_tensor *x) {
    if (!need_float("frac", x)) return NULL;
    OP_BEGIN; /* x - trunc(x) keeps x's gradient (1) */
    OP_END(tg_sub(x, tg_trunc(x)));
}

tg_tensor *tg_isnan(tg_tensor *x) {
    if (!x) return tg__null_arg("isnan");
    OP_BEGIN;
    OP_END(tg__isnan(x));
}
tg_tensor *tg_isinf(tg_tensor *x) {
    if (!x) return tg__null_arg("isinf");
    OP_BEGIN;
    if (!tg_dtype_is_float(x->dtype)) OP_END(tg__const_dt(x, TG_BOOL, 0));
    OP_END(tg_eq(tg_abs(x), cst(x, INFINITY)));
}
tg_tensor *tg_isfinite(tg_tensor *x) {
    if (!x) return tg__null_arg("isfinite");
    OP_BEGIN;
    if (!tg_dtype_is_float(x->dtype)) OP_END(tg__const_dt(x, TG_BOOL, 1));
    OP_END(tg_lt(tg_abs(x), cst(x, INFINITY)));
}

/* ---------------------------------------------- inverse trig, hyperbolic */

/* log(1 + u) (Kahan's form below w = 1 + u = 2, where log(w) loses u's
 * low bits); each branch sees only arguments in its range. */
static tg_tensor *log1p_(tg_tensor *u) {
    tg_tensor *w = tg_adds(u, 1), *one = tg_eq(w, cst(w, 1)), *far = tg_le(cst(w, 2), w);
    tg_tensor *off = tg_logical_or(one, far), *ws = tg_where(off, cst(w, 1.5), w), *us = tg_where(off, cst(w, 0.5), u);
    tg_tensor *near = tg_div(tg_mul(tg_log(ws), us), tg_subs(ws, 1));
    return tg_where(one, u, tg_where(far, tg_log(tg_where(far, w, cst(w, 2))), near));
}
/* expm1(v) for v <= 0 as 2t / (1 - t), t = tanh(v/2): no cancellation. */
static tg_tensor *expm1_neg(tg_tensor *v) {
    tg_tensor *t = tg_tanh(tg_muls(v, 0.5));
    return tg_div(tg_muls(t, 2), tg_rsubs(t, 1));
}
/* atan: |v| > 1 through pi/2 - atan(1/v); then atan(u) = 2 atan(u / (1 +
 * sqrt(1 + u^2))) twice, so |u| <= tan(pi/16), and 4 u (1 - u^2/3 + ...). */
static tg_tensor *atan_(tg_tensor *v) {
    tg_tensor *big = tg_lt(cst(v, 1), tg_abs(v));
    tg_tensor *u = tg_where(big, tg_recip(tg_where(big, v, cst(v, 1))), v);
    for (int i = 0; i < 2; i++) u = tg_div(u, tg_adds(tg_sqrt(tg_adds(tg_square(u), 1)), 1));
    tg_tensor *u2 = tg_square(u), *p = cst(v, 1.0 / 23);
    for (int k = 10; k >= 0; k--) p = tg_adds(tg_mul(p, u2), (k % 2 ? -1.0 : 1.0) / (2 * k + 1));
    tg_tensor *s = tg_muls(tg_mul(u, p), 4);
    tg_tensor *h = tg_where(tg_lt(v, cst(v, 0)), cst(v, -M_PI / 2), cst(v, M_PI / 2));
    return tg_where(big, tg_sub(h, s), s);
}

enum { F_ASIN, F_ACOS, F_ATAN, F_SINH, F_COSH, F_ASINH, F_ACOSH, F_ATANH };
static const char *const FN_NAMES[] = {"asin", "acos", "atan", "sinh", "cosh", "asinh", "acosh", "atanh"};

/* Each in the wider dtype (tg__wider), rounded once to x's. */
static tg_tensor *math_fn(int fn, tg_tensor *x) {
    if (!need_float(FN_NAMES[fn], x)) return NULL;
    OP_BEGIN;
    tg_tensor *v = tg_cast(x, tg__wider(x)), *a = tg_abs(v), *neg = tg_lt(v, cst(v, 0)), *r = NULL;
    tg_tensor *small = tg_lt(a, cst(v, 1)), *as = tg_where(small, a, cst(v, 0)), *ab = tg_where(small, cst(v, 1), a);
    switch (fn) {
    case F_ASIN: r = atan_(tg_div(v, tg_sqrt(tg_mul(tg_rsubs(v, 1), tg_adds(v, 1))))); break;
    case F_ACOS: r = tg_muls(atan_(tg_sqrt(tg_div(tg_rsubs(v, 1), tg_adds(v, 1)))), 2); break;
    case F_ATAN: r = atan_(v); break;
    case F_SINH: { /* 2t / (1 - t^2), t = tanh(x/2), below 1; (e - 1/e)/2 above */
        tg_tensor *t = tg_tanh(tg_muls(tg_where(small, v, cst(v, 0)), 0.5)), *e = tg_exp(ab);
        tg_tensor *b = tg_muls(tg_sub(e, tg_recip(e)), 0.5);
        r = tg_where(small, tg_div(tg_muls(t, 2), tg_rsubs(tg_square(t), 1)), tg_where(neg, tg_neg(b), b));
        break;
    }
    case F_COSH: {
        tg_tensor *e = tg_exp(a);
        r = tg_muls(tg_add(e, tg_recip(e)), 0.5);
        break;
    }
    case F_ASINH: { /* log1p(a + a^2/(1 + sqrt(1 + a^2))) below 1, log(a) + log(1 + sqrt(1 + 1/a^2)) above */
        tg_tensor *lo = log1p_(tg_add(as, tg_div(tg_square(as), tg_adds(tg_sqrt(tg_adds(tg_square(as), 1)), 1))));
        tg_tensor *hi = tg_add(tg_log(ab), tg_log(tg_adds(tg_sqrt(tg_adds(tg_square(tg_recip(ab)), 1)), 1)));
        r = tg_where(small, lo, hi);
        r = tg_where(neg, tg_neg(r), r);
        break;
    }
    case F_ACOSH: { /* log1p(d + sqrt(d (d + 2))), d = x - 1, below 2; log(x) + log(1 + sqrt(1 - 1/x^2)) above */
        tg_tensor *near = tg_lt(v, cst(v, 2)), *d = tg_where(near, tg_subs(v, 1), cst(v, 1)), *vb = tg_where(near, cst(v, 2), v);
        tg_tensor *lo = log1p_(tg_add(d, tg_sqrt(tg_mul(d, tg_adds(d, 2)))));
        r = tg_where(near, lo, tg_add(tg_log(vb), tg_log(tg_adds(tg_sqrt(tg_rsubs(tg_square(tg_recip(vb)), 1)), 1))));
        break;
    }
    case F_ATANH: /* log1p(2a / (1 - a)) / 2 with x's sign */
        r = tg_muls(log1p_(tg_div(tg_muls(a, 2), tg_rsubs(a, 1))), 0.5);
        r = tg_where(neg, tg_neg(r), r);
        break;
    }
    OP_END(tg_cast(r, x->dtype));
}
tg_tensor *tg_asin(tg_tensor *x) { return math_fn(F_ASIN, x); }
tg_tensor *tg_acos(tg_tensor *x) { return math_fn(F_ACOS, x); }
tg_tensor *tg_atan(tg_tensor *x) { return math_fn(F_ATAN, x); }
tg_tensor *tg_sinh(tg_tensor *x) { return math_fn(F_SINH, x); }
tg_tensor *tg_cosh(tg_tensor *x) { return math_fn(F_COSH, x); }
tg_tensor *tg_asinh(tg_tensor *x) { return math_fn(F_ASINH, x); }
tg_tensor *tg_acosh(tg_tensor *x) { return math_fn(F_ACOSH, x); }
tg_tensor *tg_atanh(tg_tensor *x) { return math_fn(F_ATANH, x); }

/* atan(y/x), moved by +-pi where x's sign bit is set; (+-0, +-0) keeps C's
 * signed zeros, (+-inf, +-inf) gives +-pi/4. */
tg_tensor *tg_atan2(tg_tensor *y, tg_tensor *x) {
    if (!need_float("atan2", y) || !need_float("atan2", x)) return NULL;
    if (y->dtype != x->dtype)
        return tg__fail(TG_ERR_DTYPE, "atan2: operands are %s and %s (they must match)", tg_dtype_name(y->dtype), tg_dtype_name(x->dtype));
    OP_BEGIN;
    tg_dtype w = tg__wider(x);
    tg_tensor *yw = tg_cast(y, w), *xw = tg_cast(x, w), *z = tg__const_dt(x, w, 0);
    tg_tensor *both_inf = tg_logical_and(tg_isinf(yw), tg_isinf(xw)), *both_zero = tg_logical_and(tg_eq(yw, z), tg_eq(xw, z));
    tg_tensor *q = tg_where(both_inf, tg_mul(tg_sign(yw), tg_sign(xw)), tg_div(yw, tg_where(both_zero, tg_adds(z, 1), xw)));
    tg_tensor *a = tg_where(both_zero, yw, atan_(q));
    tg_tensor *xneg = tg_logical_or(tg_lt(xw, z), tg_lt(tg_recip(xw), z)), *yneg = tg_logical_or(tg_lt(yw, z), tg_lt(tg_recip(yw), z));
    tg_tensor *r = tg_where(xneg, tg_add(a, tg_where(yneg, tg_adds(z, -M_PI), tg_adds(z, M_PI))), a);
    OP_END(tg_cast(r, x->dtype));
}

/* torch's form: a + w (b - a) below w = 0.5, b - (b - a)(1 - w) above. */
tg_tensor *tg_lerp(tg_tensor *a, tg_tensor *b, tg_tensor *w) {
    if (!need_float("lerp", a) || !need_float("lerp", b) || !need_float("lerp", w)) return NULL;
    if (a->dtype != b->dtype || a->dtype != w->dtype)
        return tg__fail(TG_ERR_DTYPE, "lerp: operands are %s, %s and %s (they must match)", tg_dtype_name(a->dtype),
                        tg_dtype_name(b->dtype), tg_dtype_name(w->dtype));
    OP_BEGIN;
    tg_tensor *d = tg_sub(b, a);
    OP_END(tg_where(tg_lt(w, cst(w, 0.5)), tg_add(a, tg_mul(w, d)), tg_sub(b, tg_mul(d, tg_rsubs(w, 1)))));
}

/* --------------------------------------------------------- activations */

enum { A_ELU, A_CELU, A_SELU, A_HARDTANH, A_HARDSIGMOID, A_HARDSWISH, A_MISH, A_SOFTSIGN, A_LOGSIGMOID, A_QUICK_GELU };
static const char *const ACT_NAMES[] = {"elu", "celu", "selu", "hardtanh", "hardsigmoid", "hardswish", "mish",
                                        "softsign", "logsigmoid", "quick_gelu"};

static tg_tensor *act(int fn, tg_tensor *x, double p0, double p1) {
    if (!need_float(ACT_NAMES[fn], x)) return NULL;
    if (fn == A_CELU && p0 == 0) return tg__fail(TG_ERR_INVALID, "celu: alpha must not be 0");
    if (fn == A_HARDTANH && !(p0 <= p1)) return tg__fail(TG_ERR_INVALID, "hardtanh: min %g above max %g", p0, p1);
    OP_BEGIN;
    tg_tensor *pos = tg_lt(cst(x, 0), x), *xn = tg_where(pos, cst(x, 0), x), *r = NULL;
    switch (fn) {
    case A_ELU: r = tg_where(pos, x, tg_muls(expm1_neg(xn), p0)); break;
    case A_CELU: r = tg_where(pos, x, tg_muls(expm1_neg(tg_divs(xn, p0)), p0)); break;
    case A_SELU: r = tg_muls(tg_where(pos, x, tg_muls(expm1_neg(xn), 1.6732632423543772848)), 1.0507009873554804934); break;
    case A_HARDTANH: r = tg_clamp(x, p0, p1); break;
    case A_HARDSIGMOID: r = tg_divs(tg_clamp(tg_adds(x, 3), 0, 6), 6); break;
    case A_HARDSWISH: r = tg_mul(x, tg_divs(tg_clamp(tg_adds(x, 3), 0, 6), 6)); break;
    case A_MISH: r = tg_mul(x, tg_tanh(tg_softplus(x))); break;
    case A_SOFTSIGN: r = tg_div(x, tg_adds(tg_abs(x), 1)); break;
    case A_LOGSIGMOID: r = tg_neg(tg_softplus(tg_neg(x))); break;
    case A_QUICK_GELU: r = tg_mul(x, tg_sigmoid(tg_muls(x, 1.702))); break;
    }
    OP_END(r);
}
tg_tensor *tg_elu(tg_tensor *x, double alpha) { return act(A_ELU, x, alpha, 0); }
tg_tensor *tg_celu(tg_tensor *x, double alpha) { return act(A_CELU, x, alpha, 0); }
tg_tensor *tg_selu(tg_tensor *x) { return act(A_SELU, x, 0, 0); }
tg_tensor *tg_hardtanh(tg_tensor *x, double lo, double hi) { return act(A_HARDTANH, x, lo, hi); }
tg_tensor *tg_relu6(tg_tensor *x) { return act(A_HARDTANH, x, 0, 6); }
tg_tensor *tg_hardsigmoid(tg_tensor *x) { return act(A_HARDSIGMOID, x, 0, 0); }
tg_tensor *tg_hardswish(tg_tensor *x) { return act(A_HARDSWISH, x, 0, 0); }
tg_tensor *tg_mish(tg_tensor *x) { return act(A_MISH, x, 0, 0); }
tg_tensor *tg_softsign(tg_tensor *x) { return act(A_SOFTSIGN, x, 0, 0); }
tg_tensor *tg_logsigmoid(tg_tensor *x) { return act(A_LOGSIGMOID, x, 0, 0); }
tg_tensor *tg_quick_gelu(tg_tensor *x) { return act(A_QUICK_GELU, x, 0, 0); }

/* ------------------------------------------------------------- bitwise */

static bool need_int(const char *op, tg_tensor *x, bool bool_ok) {
    if (!x) return tg__null_arg(op) != NULL;
    if (!tg_dtype_is_float(x->dtype) && (bool_ok || x->dtype != TG_BOOL)) return true;
    return tg__fail(TG_ERR_DTYPE, "%s: needs an integer%s dtype, not %s", op, bool_ok ? " or bool" : "",
                    tg_dtype_name(x->dtype)) != NULL;
}
/* The unsigned dtype of the same width (INT8 + 1 == UINT8, ...). */
static tg_dtype unsigned_of(tg_dtype dt) { return tg_dtype_is_signed(dt) ? (tg_dtype)(dt + 1) : dt; }

enum { BIT_AND, BIT_OR, BIT_XOR };
static const char *const BIT_NAMES[] = {"bitwise_and", "bitwise_or", "bitwise_xor"};

/* In the unsigned dtype (a cast keeps the bits): and = sum over k of
 * bit_k(a) bit_k(b) 2^k, with bit_k(v) = v / 2^k % 2 along a new last axis
 * of the powers; or = a + b - and, xor = or - and (wrapping, exact). */
static tg_tensor *bitwise(int kind, tg_tensor *a, tg_tensor *b) {
    const char *name = BIT_NAMES[kind];
    tg_tensor *x, *y;
    if (!need_int(name, a, true) || !need_int(name, b, true)) return NULL;
    if (a->dtype != b->dtype)
        return tg__fail(TG_ERR_DTYPE, "%s: operands are %s and %s (they must match)", name, tg_dtype_name(a->dtype), tg_dtype_name(b->dtype));
    OP_BEGIN;
    if (a->dtype == TG_BOOL)
        OP_END(kind == BIT_AND ? tg_logical_and(a, b) : kind == BIT_OR ? tg_logical_or(a, b) : tg_logical_xor(a, b));
    if (tg__broadcast(name, a, b, &x, &y) != TG_OK) OP_END(NULL);
    tg_dtype u = unsigned_of(a->dtype);
    int64_t bits = (int64_t)tg_dtype_size(u) * 8;
    double pw[64];
    for (int k = 0; k < bits; k++) pw[k] = ldexp(1, k);
    tg_tensor *p = tg_from_f64(a->dev, u, 1, &bits, pw), *ux = tg_cast(x, u), *uy = tg_cast(y, u);
    tg_tensor *two = tg_const(a->dev, u, 2), *ex = tg_unsqueeze(ux, -1), *ey = tg_unsqueeze(uy, -1);
    tg_tensor *bx = tg_mod(tg_div(ex, p), two), *by = tg_mod(tg_div(ey, p), two);
    tg_tensor *and = tg_sum(tg_mul(tg_mul(bx, by), p), TG_AXES(-1), false);
    tg_tensor *r = kind == BIT_AND ? and : tg_sub(tg_add(ux, uy), kind == BIT_OR ? and : tg_muls(and, 2));
    OP_END(tg_cast(r, a->dtype));
}
tg_tensor *tg_bitwise_and(tg_tensor *a, tg_tensor *b) { return bitwise(BIT_AND, a, b); }
tg_tensor *tg_bitwise_or(tg_tensor *a, tg_tensor *b) { return bitwise(BIT_OR, a, b); }
tg_tensor *tg_bitwise_xor(tg_tensor *a, tg_tensor *b) { return bitwise(BIT_XOR, a, b); }
tg_tensor *tg_bitwise_not(tg_tensor *x) {
    if (!need_int("bitwise_not", x, true)) return NULL;
    OP_BEGIN; /* ~x = -x - 1, !x for bool */
    OP_END(tg__flip_order(x));
}

static tg_tensor *shift(const char *name, tg_tensor *x, int n, bool left) {
    if (!need_int(name, x, false)) return NULL;
    int bits = (int)tg_dtype_size(x->dtype) * 8;
    if (n < 0 || n >= bits) return tg__fail(TG_ERR_INVALID, "%s: count %d outside [0, %d) for %s", name, n, bits, tg_dtype_name(x->dtype));
    OP_BEGIN;
    tg_dtype u = unsigned_of(x->dtype);
    if (left) OP_END(tg_cast(tg_muls(tg_cast(x, u), ldexp(1, n)), x->dtype)); /* wraps */
    /* floor(x / 2^n): a negative x as ~(~x / 2^n), ~x >= 0 */
    tg_tensor *neg = tg_lt(x, cst(x, 0)), *v = tg_where(neg, tg__flip_order(x), x);
    tg_tensor *r = tg_cast(tg_divs(tg_cast(v, u), ldexp(1, n)), x->dtype);
    OP_END(tg_where(neg, tg__flip_order(r), r));
}
tg_tensor *tg_lshift(tg_tensor *x, int n) { return shift("lshift", x, n, true); }
tg_tensor *tg_rshift(tg_tensor *x, int n) { return shift("rshift", x, n, false); }

/* The realized bytes, read back and uploaded as the other dtype. */
tg_tensor *tg_bitcast(tg_tensor *x, tg_dtype dtype) {
    if (!x) return tg__null_arg("bitcast");
    if ((unsigned)dtype >= TG_DTYPE_COUNT || dtype == TG_BOOL || x->dtype == TG_BOOL ||
        tg_dtype_size(dtype) != tg_dtype_size(x->dtype))
        return tg__fail(TG_ERR_DTYPE, "bitcast: cannot reinterpret %s as %s (needs two non-bool dtypes of one size)",
                        tg_dtype_name(x->dtype), tg_dtype_name(dtype));
    size_t bytes = (size_t)tg__numel(x->ndim, x->shape) * tg_dtype_size(x->dtype);
    void *h = malloc(bytes + 1);
    if (!h) return tg__fail(TG_ERR_NO_MEMORY, "out of host memory");
    if (tg_to_host(x, h, bytes) != TG_OK) {
        free(h);
        return NULL;
    }
    return tg__from_owned(x->dev, dtype, x->ndim, x->shape, h);
}
