#!/usr/bin/env python3
"""Golden vectors for the ref plugin, made independently of tg's C code.

Exact results come from Python's integers and fractions (every op whose
correct rounding is defined: + - * / sqrt, MULACC, sums, casts), rounded once
to the dtype; EXP2, LOG2 and SIN come from numpy in float64, then rounded.
The C test tests/conformance/test_conform_golden.c runs each case on ref and
judges ref's output against these values with the suite's own rules.

Usage: python3 conformance/golden/gen.py > conformance/golden/vectors.txt

Format: a 'case' line, then one 'in' line per input, then 'out':
  case OP DTYPE ROWS COLS AXES       (AXES: bitmask of reduced axes; CAST: OP is CAST>TO)
  in DTYPE HEX HEX ...               (ROWS*COLS raw little-endian bit patterns)
  out DTYPE HEX HEX ...              (one per output point, row-major)
"""
import math
import random
import struct
import sys
from fractions import Fraction

import numpy as np

FLOATS = {  # name: (precision, emin, emax, bits)
    "float16": (11, -14, 15, 16),
    "bfloat16": (8, -126, 127, 16),
    "float32": (24, -126, 127, 32),
    "float64": (53, -1022, 1023, 64),
}
INTS = {"int8": (8, True), "uint8": (8, False), "int16": (16, True), "uint16": (16, False),
        "int32": (32, True), "uint32": (32, False), "int64": (64, True), "uint64": (64, False)}
DTYPES = ["bool"] + list(INTS) + list(FLOATS)
NAN = float("nan")
INF = float("inf")


def round_to(dt, x):
    """Round a Fraction or float once to the float dtype (nearest even)."""
    if isinstance(x, float):
        if math.isnan(x) or math.isinf(x) or x == 0:
            return x
        x = Fraction(x)
    if x == 0:
        return 0.0
    p, emin, emax, _ = FLOATS[dt]
    sign = -1.0 if x < 0 else 1.0
    a = abs(x)
    e = a.numerator.bit_length() - a.denominator.bit_length()
    while Fraction(2) ** e > a:
        e -= 1
    while Fraction(2) ** (e + 1) <= a:
        e += 1
    q = Fraction(2) ** (max(e, emin) - (p - 1))
    v = round(a / q) * q  # Fraction rounds half to even
    if v > (2 - Fraction(2) ** (1 - p)) * Fraction(2) ** emax:
        return sign * INF
    return sign * float(v)


def float_bits(dt, v):
    if dt == "float16":
        return struct.unpack("<H", struct.pack("<e", v))[0]
    if dt == "bfloat16":
        if math.isnan(v):
            return 0x7fc0 | (0x8000 if math.copysign(1, v) < 0 else 0)
        return struct.unpack("<I", struct.pack("<f", v))[0] >> 16
    if dt == "float32":
        return struct.unpack("<I", struct.pack("<f", v))[0]
    return struct.unpack("<Q", struct.pack("<d", v))[0]


def wrap(dt, i):
    bits, signed = INTS[dt]
    i &= (1 << bits) - 1
    if signed and i >= 1 << (bits - 1):
        i -= 1 << bits
    return i


def bits_of(dt, v):
    if dt == "bool":
        return 1 if v else 0
    if dt in INTS:
        return v & ((1 << INTS[dt][0]) - 1)
    return float_bits(dt, v)


def width(dt):
    return 2 if dt == "bool" else (INTS[dt][0] if dt in INTS else FLOATS[dt][3]) // 4


def values(dt, n, rng, kind=0):
    """n inputs of dtype dt: specials first (rotated by kind), then random."""
    if dt == "bool":
        return [rng.random() < 0.5 for _ in range(n)]
    if dt in INTS:
        bits, signed = INTS[dt]
        lo, hi = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)
        sp = [0, 1, hi, lo, hi - 1, lo + 1, 2, 7, 3] + ([-1, -7] if signed else [])
        sp = sp[kind % len(sp):] + sp[:kind % len(sp)]
        out = sp + [rng.randint(lo, hi) if rng.random() < 0.5 else rng.randint(-20, 20) % (hi + 1) if not signed
                    else rng.randint(-20, 20) for _ in range(n)]
        return out[:n]
    p, emin, emax, _ = FLOATS[dt]
    mx = float((2 - Fraction(2) ** (1 - p)) * Fraction(2) ** emax)
    sp = [NAN, INF, -INF, 0.0, -0.0, 1.0, -1.0, 0.5, 3.0, -2.5, mx, -mx, 2.0 ** emin, 2.0 ** (emin - p + 1),
          -(2.0 ** (emin - 2)), 100.0, 1.0 / 3.0, 0.75]
    sp = sp[kind % len(sp):] + sp[:kind % len(sp)]
    out = sp + [rng.choice([-1, 1]) * (1 + rng.random()) * 2.0 ** rng.randint(-6, 6) for _ in range(n)]
    return [round_to(dt, v) for v in out[:n]]


def fr(x):
    return Fraction(x)


def float_op(op, dt, a, b=None, c=None):
    """One op on floats of dtype dt, rounded once; None = unspecified."""
    r = lambda q: round_to(dt, q)
    nan = any(isinstance(v, float) and math.isnan(v) for v in (a, b, c) if v is not None)
    if op == "NEG":
        return -a
    if op == "CMPLT":
        return (not nan) and a < b
    if op == "WHERE":
        return b if a else c
    if op == "MAX":
        return NAN if nan else (a if a > b or (a == b and math.copysign(1, a) > 0) else b)
    if nan:
        return NAN
    if op in ("ADD", "SUB", "MUL", "MULACC"):
        try:
            if op == "ADD":
                q = fr(a) + fr(b)
            elif op == "SUB":
                q = fr(a) - fr(b)
            elif op == "MUL":
                q = fr(a) * fr(b)
            else:
                q = fr(a) * fr(b) + fr(c)
        except (OverflowError, ValueError):  # an infinity: float arithmetic is exact enough
            v = {"ADD": lambda: a + b, "SUB": lambda: a - b, "MUL": lambda: a * b,
                 "MULACC": lambda: np.float64(a) * np.float64(b) + np.float64(c)}[op]()
            return float(v)
        if q == 0:  # the sign of an exact zero
            if op == "ADD":
                return -0.0 if math.copysign(1, a) < 0 and math.copysign(1, b) < 0 else 0.0
            if op == "SUB":
                return -0.0 if math.copysign(1, a) < 0 and math.copysign(1, b) > 0 else 0.0
            if op == "MUL":
                return math.copysign(0.0, a) * math.copysign(1, b)
            return 0.0  # MULACC: sign unchecked
        return r(q)
    if op == "DIV":
        if b == 0:
            return NAN if a == 0 else math.copysign(INF, a) * math.copysign(1, b)
        if math.isinf(a) or math.isinf(b):
            return float(np.float64(a) / np.float64(b))
        return r(fr(a) / fr(b))
    if op == "RECIP":
        return float_op("DIV", dt, 1.0, a)
    if op == "MOD":
        with np.errstate(invalid="ignore"):
            return float(np.fmod(np.float64(a), np.float64(b)))  # exact in float64
    if op == "SQRT":
        if a < 0:
            return NAN
        if a == 0 or math.isinf(a):
            return a
        # IEEE sqrt in float64 is correctly rounded, and rounding it again to a
        # type of at most 24 bits is innocuous (53 >= 2 * 24 + 2)
        return r(float(np.sqrt(np.float64(a))))
    if op == "EXP2":
        with np.errstate(over="ignore"):
            return r(float(np.exp2(np.float64(a))))
    if op == "LOG2":
        with np.errstate(divide="ignore", invalid="ignore"):
            return r(float(np.log2(np.float64(a))))
    if op == "SIN":
        with np.errstate(invalid="ignore"):
            return r(float(np.sin(np.float64(a))))
    raise ValueError(op)


def int_op(op, dt, a, b=None, c=None):
    if op == "NEG":
        return wrap(dt, -a)
    if op == "ADD":
        return wrap(dt, a + b)
    if op == "SUB":
        return wrap(dt, a - b)
    if op == "MUL":
        return wrap(dt, a * b)
    if op == "MULACC":
        return wrap(dt, a * b + c)
    if op in ("DIV", "MOD"):
        if b == 0:
            return 0  # unspecified; the judge skips it
        q = abs(a) // abs(b) * (1 if (a < 0) == (b < 0) else -1)
        return wrap(dt, q) if op == "DIV" else wrap(dt, a - b * q)
    if op == "MAX":
        return max(a, b)
    if op == "CMPLT":
        return a < b
    if op == "WHERE":
        return b if a else c
    raise ValueError(op)


def bool_op(op, a, b=None, c=None):
    return {"MUL": lambda: a and b, "MAX": lambda: a or b, "CMPLT": lambda: (not a) and b,
            "WHERE": lambda: b if a else c}[op]()


def cast(src, dst, v):
    if dst == "bool":
        return bool(v) if not (isinstance(v, float) and math.isnan(v)) else True
    if src == "bool":
        v = 1 if v else 0
    if dst in INTS:
        if src in FLOATS:
            if math.isnan(v) or math.isinf(v):
                return 0  # unspecified
            t = int(v)  # truncates toward zero
            bits, signed = INTS[dst]
            lo, hi = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)
            return t if lo <= t <= hi else 0  # out of range: unspecified
        return wrap(dst, v)
    return round_to(dst, v if isinstance(v, float) else Fraction(v))


def tie_values(src, dst, n, rng):
    """n inputs of src at a rounding tie of dst or one unit of src beside it
    (a conversion that rounds twice gets some wrong), and at dst's overflow tie."""
    t = FLOATS[dst][0]
    out = []
    for i in range(n):
        delta = (0, 1, -1)[i % 3]
        m = (1 << (t - 1)) | rng.getrandbits(t - 1)
        if src in FLOATS:
            p = FLOATS[src][0]
            top = 65520.0 if dst == "float16" else float((2 - Fraction(2) ** -8) * Fraction(2) ** 127)
            if i % 8 == 7 and top <= float((2 - Fraction(2) ** (1 - p)) * Fraction(2) ** FLOATS[src][2]):
                v = Fraction(top) - (i // 8 % 2) * Fraction(2) ** (math.floor(math.log2(top)) - (p - 1))
            else:
                v = Fraction(((2 * m + 1) << (p - t - 1)) + delta) * Fraction(2) ** (rng.randint(-10, 10) - (p - 1))
            out.append(round_to(src, rng.choice([-1, 1]) * v))
        else:
            bits, signed = INTS[src]
            avail = bits - (1 if signed else 0)
            if i % 8 == 7 and avail >= 17:
                out.append(65520 - i // 8 % 2)
                continue
            b = rng.randint(max(t + 2, avail - 12), avail)
            v = ((2 * m + 1) << (b - t - 1)) + delta
            out.append(-v if signed and rng.random() < 0.5 else v)
    return out


TIES = [("int16", "bfloat16"), ("uint16", "bfloat16"), ("int32", "bfloat16"), ("int32", "float32"),
        ("uint32", "bfloat16"), ("uint32", "float32"), ("int64", "bfloat16"), ("int64", "float32"),
        ("int64", "float64"), ("uint64", "bfloat16"), ("uint64", "float32"), ("uint64", "float64"),
        ("float32", "float16"), ("float32", "bfloat16"), ("float64", "float16"), ("float64", "bfloat16"),
        ("float64", "float32"), ("float16", "bfloat16")]


UNARY = ["EXP2", "LOG2", "SQRT", "RECIP", "NEG", "SIN"]
BINARY = ["ADD", "SUB", "MUL", "DIV", "MOD", "MAX", "CMPLT"]
TERNARY = ["WHERE", "MULACC"]


def defined(op, dt):
    if dt == "bool":
        return op in ("CMPLT", "MAX", "MUL", "WHERE", "REDUCE_MAX")
    if dt in INTS:
        return op not in ("EXP2", "LOG2", "SQRT", "RECIP", "SIN")
    return True


def emit(out, op, dt, rows, cols, axes, ins, res, res_dt):
    out.append("case %s %s %d %d %d" % (op, dt, rows, cols, axes))
    for idt, vals in ins:
        out.append("in %s " % idt + " ".join("%0*x" % (width(idt), bits_of(idt, v)) for v in vals))
    out.append("out %s " % res_dt + " ".join("%0*x" % (width(res_dt), bits_of(res_dt, v)) for v in res))


def main():
    rng = random.Random(20261125)
    out = ["# tg golden vectors, made by conformance/golden/gen.py (numpy %s); do not edit" % np.__version__]
    n = 36
    for op in UNARY + BINARY + TERNARY + ["REDUCE_SUM", "REDUCE_MAX"]:
        for dt in DTYPES:
            if not defined(op, dt):
                continue
            apply = (lambda *a: bool_op(op, *a)) if dt == "bool" else \
                (lambda *a: int_op(op, dt, *a)) if dt in INTS else (lambda *a: float_op(op, dt, *a))
            if op in UNARY:
                a = values(dt, n, rng)
                emit(out, op, dt, 6, 6, 0, [(dt, a)], [apply(x) for x in a], dt)
            elif op in BINARY:
                a, b = values(dt, n, rng, 0), values(dt, n, rng, 5)
                rdt = "bool" if op == "CMPLT" else dt
                emit(out, op, dt, 6, 6, 0, [(dt, a), (dt, b)], [apply(x, y) for x, y in zip(a, b)], rdt)
            elif op == "WHERE":
                cnd, a, b = values("bool", n, rng), values(dt, n, rng, 0), values(dt, n, rng, 3)
                emit(out, op, dt, 6, 6, 0, [("bool", cnd), (dt, a), (dt, b)],
                     [apply(x, y, z) for x, y, z in zip(cnd, a, b)], dt)
            elif op == "MULACC":
                a, b, c = values(dt, n, rng, 0), values(dt, n, rng, 7), values(dt, n, rng, 11)
                emit(out, op, dt, 6, 6, 0, [(dt, a), (dt, b), (dt, c)],
                     [apply(x, y, z) for x, y, z in zip(a, b, c)], dt)
            else:  # reductions: 9 rows of 4, reduce axis 1
                a = values(dt, 36, rng, 0)
                if op == "REDUCE_SUM" and dt in FLOATS:  # keep specials in a few rows only
                    a = a[:8] + [round_to(dt, rng.uniform(-4, 4)) for _ in range(28)]
                res = []
                for r in range(9):
                    row = a[4 * r:4 * r + 4]
                    if dt == "bool":
                        res.append(any(row))
                    elif dt in INTS:
                        res.append(wrap(dt, sum(row)) if op == "REDUCE_SUM" else max(row))
                    elif any(math.isnan(x) for x in row):
                        res.append(NAN)
                    elif op == "REDUCE_MAX":
                        res.append(max(row, key=lambda x: (x, math.copysign(1, x))))
                    elif any(math.isinf(x) for x in row):
                        res.append(NAN if INF in row and -INF in row else INF if INF in row else -INF)
                    else:
                        res.append(round_to(dt, sum(Fraction(x) for x in row)))
                emit(out, op, dt, 9, 4, 2, [(dt, a)], res, dt)
    for src in DTYPES:
        for dst in DTYPES:
            a = values(src, 24, rng)
            if src in FLOATS and dst in INTS:
                a = a[:12] + [round_to(src, rng.uniform(-300, 300)) for _ in range(12)]
            emit(out, "CAST>" + dst, src, 4, 6, 0, [(src, a)], [cast(src, dst, x) for x in a], dst)
    for src, dst in TIES:  # casts at ties: rounded once
        a = tie_values(src, dst, 24, rng)
        emit(out, "CAST>" + dst, src, 4, 6, 0, [(src, a)], [cast(src, dst, x) for x in a], dst)
    sys.stdout.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
