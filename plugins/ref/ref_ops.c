/* plugins/ref/ref_ops.c -- the scalar semantics of every op on every dtype
 * (sdk/docs/OPS.md). Floats: computed in double from exact inputs, rounded
 * once to the dtype. Integers: uint64 arithmetic, wrapped to the dtype. */
#include <math.h>
#include <string.h>

#include <tg/dtype_util.h>
#include "ref.h"

/* ------------------------------------------------------------- names */

const char *ref_op_name(uint32_t op) { return tgp_op_name(op); }

const char *ref_dtype_name(uint32_t dtype) { return tgp_dtype_name(dtype); }

/* ---------------------------------------------------- representation */

static unsigned bits_of(uint32_t dtype) { return 8u * (unsigned)tgp_dtype_size(dtype); }
static int is_signed_int(uint32_t dtype) { return !tgp_dtype_is_float(dtype) && !tgp_dtype_is_unsigned(dtype); }

/* Keep the low bits of an integer and extend them as the dtype says. */
static uint64_t wrap(uint32_t dtype, uint64_t u) {
    unsigned n = bits_of(dtype);
    if (dtype == TG_BOOL) return u != 0;
    if (n == 64) return u;
    uint64_t mask = (1ull << n) - 1;
    u &= mask;
    if (is_signed_int(dtype) && (u >> (n - 1))) u |= ~mask;
    return u;
}

/* Round a double to the nearest value of a float dtype (ties to even). */
static double round_to(uint32_t dtype, double d) {
    switch (dtype) {
    case TG_FLOAT16: return tgp_half_to_double(tgp_double_to_half(d));
    case TG_BFLOAT16: return tgp_bf16_to_double(tgp_double_to_bf16(d));
    case TG_FLOAT32: return (double)(float)d;
    default: return d;
    }
}

static ref_value fval(uint32_t dtype, double d) { ref_value v; v.f = round_to(dtype, d); return v; }
static ref_value ival(uint32_t dtype, uint64_t u) { ref_value v; v.u = wrap(dtype, u); return v; }

/* Fraction bits of the float dtypes narrower than double. */
static int frac_bits(uint32_t dtype) { return dtype == TG_FLOAT16 ? 10 : dtype == TG_BFLOAT16 ? 7 : 23; }

ref_value ref_load(uint32_t dtype, const void *p) {
    ref_value v = {0};
    uint8_t b[8] = {0};
    memcpy(b, p, tgp_dtype_size(dtype));
    uint64_t raw = (uint64_t)b[0] | (uint64_t)b[1] << 8 | (uint64_t)b[2] << 16 | (uint64_t)b[3] << 24;
    int fb = frac_bits(dtype), n = (int)bits_of(dtype);
    if ((dtype == TG_FLOAT16 || dtype == TG_BFLOAT16 || dtype == TG_FLOAT32) &&
        (raw & ((1ull << (n - 1)) - 1)) > (((1ull << (n - 1 - fb)) - 1) << fb)) {
        /* a NaN: its sign and payload go into a double NaN bit for bit (no
           conversion, which would quiet a signalling NaN); ref_store undoes it */
        v.u = (raw >> (n - 1)) << 63 | 0x7ffull << 52 | (raw & ((1ull << fb) - 1)) << (52 - fb);
        return v;
    }
    switch (dtype) {
    case TG_FLOAT16: v.f = tgp_half_to_double((uint16_t)(b[0] | b[1] << 8)); break;
    case TG_BFLOAT16: v.f = tgp_bf16_to_double((uint16_t)(b[0] | b[1] << 8)); break;
    case TG_FLOAT32: { float f; memcpy(&f, b, 4); v.f = f; break; }
    case TG_FLOAT64: memcpy(&v.f, b, 8); break;
    default: { /* little-endian integer of the dtype's width */
        uint64_t u = 0;
        for (size_t i = tgp_dtype_size(dtype); i-- > 0;) u = u << 8 | b[i];
        v.u = wrap(dtype, u);
    }
    }
    return v;
}

void ref_store(uint32_t dtype, void *p, ref_value v) {
    uint8_t b[8];
    size_t n = tgp_dtype_size(dtype);
    uint64_t u = v.u;
    int fb = frac_bits(dtype), nb = (int)bits_of(dtype);
    if ((dtype == TG_FLOAT16 || dtype == TG_BFLOAT16 || dtype == TG_FLOAT32) && isnan(v.f)) {
        /* the payload's top bits (as ref_load put them), at least the quiet bit */
        uint64_t frac = (v.u & 0xfffffffffffffull) >> (52 - fb);
        u = (v.u >> 63) << (nb - 1) | ((1ull << (nb - 1 - fb)) - 1) << fb | (frac ? frac : 1ull << (fb - 1));
        dtype = TG_UINT64; /* stored as the bits */
    }
    switch (dtype) {
    case TG_FLOAT16: u = tgp_double_to_half(v.f); break;
    case TG_BFLOAT16: u = tgp_double_to_bf16(v.f); break;
    case TG_FLOAT32: { float f = (float)v.f; uint32_t w; memcpy(&w, &f, 4); u = w; break; }
    case TG_FLOAT64: u = tgp_f64_bits(v.f); break;
    case TG_BOOL: u = v.u != 0; break;
    default: break;
    }
    for (size_t i = 0; i < n; i++) b[i] = (uint8_t)(u >> (8 * i));
    memcpy(p, b, n);
}

ref_value ref_zero(uint32_t dtype) {
    ref_value v;
    if (tgp_dtype_is_float(dtype)) v.f = 0.0;
    else v.u = 0;
    return v;
}

ref_value ref_const(uint32_t dtype, tg_scalar s) {
    if (tgp_dtype_is_float(dtype)) return fval(dtype, s.f);
    if (dtype == TG_BOOL) return ival(dtype, s.i != 0);
    return ival(dtype, tgp_dtype_is_unsigned(dtype) ? s.u : (uint64_t)s.i);
}

/* ------------------------------------------------------------- CAST */

/* Integer value (as stored in ref_value) -> double rounded once to `to`. */
static double int_to_float(uint32_t from, uint32_t to, uint64_t u) {
    int neg = is_signed_int(from) && (int64_t)u < 0;
    uint64_t mag = neg ? 0 - u : u;
    if (to == TG_FLOAT64) return neg ? -(double)mag : (double)mag; /* C rounds once */
    double d = tgp_u64_to_double_odd(mag); /* exact enough for one more rounding */
    return round_to(to, neg ? -d : d);
}

/* Float -> integer: truncate toward zero. Only values that fit are defined;
 * the rest (NaN, inf, out of range) saturate here so that nothing traps. */
static uint64_t float_to_int(uint32_t to, double d) {
    unsigned n = bits_of(to);
    if (isnan(d)) return 0;
    double t = trunc(d);
    if (is_signed_int(to)) {
        double lo = -ldexp(1.0, (int)n - 1), hi = ldexp(1.0, (int)n - 1);
        if (t < lo) t = lo;
        if (t >= hi) return wrap(to, (1ull << (n - 1)) - 1);
        return wrap(to, (uint64_t)(int64_t)t);
    }
    double hi = ldexp(1.0, (int)n);
    if (t <= 0) return 0;
    if (t >= hi) return wrap(to, ~0ull);
    return (uint64_t)t;
}

ref_value ref_cast(uint32_t from, uint32_t to, ref_value v) {
    ref_value r;
    int ffrom = tgp_dtype_is_float(from), fto = tgp_dtype_is_float(to);
    if (to == TG_BOOL) r.u = ffrom ? (v.f != 0.0 || isnan(v.f)) : (v.u != 0);
    else if (ffrom && fto) r.f = round_to(to, v.f);
    else if (ffrom) r.u = float_to_int(to, v.f);
    else if (fto) r.f = int_to_float(from, to, v.u);
    else r.u = wrap(to, v.u);
    return r;
}

/* ------------------------------------------------------- elementwise */

/* MAX on floats: NaN if either is NaN; +0 counts as larger than -0. */
static double fmax_ref(double a, double b) {
    if (isnan(a) || isnan(b)) return NAN;
    if (a == 0.0 && b == 0.0) return signbit(a) ? b : a;
    return a > b ? a : b;
}

static int int_less(uint32_t dtype, uint64_t a, uint64_t b) {
    return is_signed_int(dtype) ? (int64_t)a < (int64_t)b : a < b;
}

ref_value ref_unary(uint32_t op, uint32_t dtype, ref_value a) {
    if (!tgp_dtype_is_float(dtype)) return ival(dtype, op == TG_OP_NEG ? 0 - a.u : a.u);
    double x = a.f, r;
    switch (op) {
    case TG_OP_EXP2: r = exp2(x); break;
    case TG_OP_LOG2: r = log2(x); break;
    case TG_OP_SQRT: r = sqrt(x); break;
    case TG_OP_RECIP: r = 1.0 / x; break;
    case TG_OP_NEG: r = -x; break;
    case TG_OP_SIN: r = sin(x); break;
    default: r = x; break;
    }
    return fval(dtype, r);
}

/* Integer DIV and MOD: truncating division, C's remainder. x/-1 is a
 * negation (so INT_MIN / -1 wraps to INT_MIN, INT_MIN % -1 = 0); x/0 and
 * x%0 are unspecified by OPS.md and give 0 here. */
static uint64_t int_divmod(uint32_t op, uint32_t dtype, uint64_t a, uint64_t b) {
    if (b == 0) return 0;
    if (is_signed_int(dtype)) {
        if ((int64_t)b == -1) return op == TG_OP_DIV ? wrap(dtype, 0 - a) : 0;
        int64_t x = (int64_t)a, y = (int64_t)b;
        return (uint64_t)(op == TG_OP_DIV ? x / y : x % y);
    }
    return op == TG_OP_DIV ? a / b : a % b;
}

ref_value ref_binary(uint32_t op, uint32_t dtype, ref_value a, ref_value b) {
    ref_value r;
    if (op == TG_OP_CMPLT) {
        if (tgp_dtype_is_float(dtype)) r.u = a.f < b.f; /* false when either is NaN */
        else r.u = int_less(dtype, a.u, b.u);         /* bool: false < true */
        return r;
    }
    if (tgp_dtype_is_float(dtype)) {
        double x = a.f, y = b.f, d;
        switch (op) {
        case TG_OP_ADD: d = x + y; break;
        case TG_OP_SUB: d = x - y; break;
        case TG_OP_MUL: d = x * y; break;
        case TG_OP_DIV: d = x / y; break;
        case TG_OP_MOD: d = fmod(x, y); break;
        default: d = fmax_ref(x, y); break; /* TG_OP_MAX */
        }
        return fval(dtype, d);
    }
    uint64_t x = a.u, y = b.u, u;
    switch (op) {
    case TG_OP_ADD: u = x + y; break;
    case TG_OP_SUB: u = x - y; break;
    case TG_OP_MUL: u = x * y; break; /* bool: and */
    case TG_OP_DIV: case TG_OP_MOD: u = int_divmod(op, dtype, x, y); break;
    default: u = int_less(dtype, x, y) ? y : x; break; /* TG_OP_MAX; bool: or */
    }
    return ival(dtype, u);
}

ref_value ref_ternary(uint32_t op, uint32_t dtype, ref_value a, ref_value b, ref_value c) {
    if (op == TG_OP_WHERE) return a.u ? b : c;
    /* TG_OP_MULACC: a*b+c, floats fused (one rounding in double, then one to the dtype) */
    if (tgp_dtype_is_float(dtype)) return fval(dtype, fma(a.f, b.f, c.f));
    return ival(dtype, a.u * b.u + c.u);
}

/* -------------------------------------------------------- reductions */

void ref_acc_init(ref_acc *acc, uint32_t op, uint32_t dtype) {
    acc->comp = 0.0;
    if (op == TG_OP_REDUCE_SUM) acc->v = ref_zero(dtype);
    else if (tgp_dtype_is_float(dtype)) acc->v.f = -INFINITY;
    else if (is_signed_int(dtype)) acc->v.u = wrap(dtype, 1ull << (bits_of(dtype) - 1));
    else acc->v.u = 0; /* unsigned minimum, bool false */
}

/* Float sums are accumulated in double with Neumaier's compensation, so the
 * result is (nearly always) the exact sum rounded once to the dtype. */
void ref_acc_add(ref_acc *acc, uint32_t op, uint32_t dtype, ref_value x) {
    if (op == TG_OP_REDUCE_MAX) {
        acc->v = ref_binary(TG_OP_MAX, dtype, acc->v, x);
    } else if (!tgp_dtype_is_float(dtype)) {
        acc->v.u = wrap(dtype, acc->v.u + x.u);
    } else {
        double s = acc->v.f, t = s + x.f;
        if (fabs(s) >= fabs(x.f)) acc->comp += (s - t) + x.f;
        else acc->comp += (x.f - t) + s;
        acc->v.f = t;
    }
}

ref_value ref_acc_result(const ref_acc *acc, uint32_t op, uint32_t dtype) {
    if (op == TG_OP_REDUCE_MAX || !tgp_dtype_is_float(dtype)) return acc->v;
    double s = acc->v.f;
    if (!isfinite(s)) return fval(dtype, s); /* inf or NaN: the compensation is meaningless */
    return fval(dtype, s + acc->comp);
}
