#!/usr/bin/env python3
"""Golden values for issue 17's extra ops (more math, bitwise, scans,
sorting, padding modes), computed with numpy.

Writes tests/core/golden/ops_more.txt in gen_golden.py's format (case, args,
in, out, tol, end); test_ops_more.c maps each OP to tg calls.
Run: python3 gen_golden_more.py
"""
import math
import os

import numpy as np

rng = np.random.default_rng(1717)
cases = []
SHORT = {"bool": "b", "int8": "i8", "uint8": "u8", "int16": "i16", "uint16": "u16", "int32": "i32",
         "uint32": "u32", "int64": "i64", "uint64": "u64", "float16": "f16", "float32": "f32", "float64": "f64"}


def add(name, op, ins, out, args=(), tol=(1e-6, 1e-5)):
    if np.asarray(out).dtype == np.float64 and np.asarray(ins[0]).dtype == np.float32:
        out = np.asarray(out).astype(np.float32)  # computed in float64, rounded once
    cases.append((name, op, list(args), [np.asarray(i) for i in ins], np.asarray(out), tol))


def fmt(a):
    vals = a.reshape(-1)
    if a.dtype == np.bool_:
        s = " ".join("1" if v else "0" for v in vals)
    elif a.dtype.kind in "iu":
        s = " ".join(str(int(v)) for v in vals)
    else:
        s = " ".join(repr(float(v)) for v in vals)
    return f"{SHORT[a.dtype.name]} {a.ndim} {' '.join(str(d) for d in a.shape)} {s}".replace("  ", " ")


def arr(*shape, lo=-2.0, hi=2.0, dt=np.float32):
    return rng.uniform(lo, hi, size=shape).astype(dt)


f64 = lambda v: np.asarray(v, dtype=np.float64)
inf, nan = math.inf, math.nan

# ------------------------------------------------------------- rounding
special = np.array([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 0.49999997, -0.49999997, 1e10 + 0.5, 8388609.0, -7.25,
                    3.75, nan, inf, -inf, -0.0, 0.0, 1e-30], dtype=np.float32)
for k, f in {"floor": np.floor, "ceil": np.ceil, "round": np.round, "trunc": np.trunc}.items():
    add(k, k, [special], f(special), tol=(0, 0))
    add(k + "_f64", k, [f64(special) * 3.1], f(f64(special) * 3.1), tol=(0, 0))
add("frac", "frac", [special[:12]], special[:12] - np.trunc(special[:12]), tol=(0, 0))
ints = np.array([-7, 0, 5, 2147483647, -2147483648], dtype=np.int32)
add("floor_int", "floor", [ints], ints, tol=(0, 0))
add("round_int", "round", [ints], ints, tol=(0, 0))

# ---------------------------------------------------- trig, hyperbolic
unit = np.concatenate([arr(10, lo=-1, hi=1), np.array([-1, 1, 0, 1e-6, -0.999999], np.float32)])
wide = np.concatenate([arr(8, lo=-30, hi=30), np.array([1e-7, -1e-20, 1e30, -1e30, inf, -inf], np.float32)])
mid = np.concatenate([arr(10, lo=-5, hi=5), np.array([1e-6, -3e-8, 0.999, -1.001, 20.0], np.float32)])
big = np.concatenate([arr(8, lo=1, hi=50), np.array([1.0, 1.0000001, 1e30, inf], np.float32)])
fns = {"asin": (np.arcsin, unit), "acos": (np.arccos, unit), "atan": (np.arctan, wide), "sinh": (np.sinh, mid),
       "cosh": (np.cosh, mid), "asinh": (np.arcsinh, wide), "acosh": (np.arccosh, big),
       "atanh": (np.arctanh, unit)}
for k, (f, x) in fns.items():
    with np.errstate(all="ignore"):
        add(k, k, [x], f(f64(x)).astype(np.float32), tol=(1e-7, 3e-7))
        x64 = f64(x) * 0.999
        add(k + "_f64", k, [x64], f(x64), tol=(1e-15, 1e-13))
with np.errstate(all="ignore"):
    add("asin_out", "asin", [np.array([1.5, -2, nan], np.float32)], np.full(3, nan, np.float32))
    add("acosh_out", "acosh", [np.array([0.5, -1, nan], np.float32)], np.full(3, nan, np.float32))
ys = np.array([0.0, -0.0, 0.0, -0.0, 1, -1, 1, -1, 0, -0.0, inf, -inf, inf, 3, -2, 5, 0.5], np.float32)
xs = np.array([0.0, 0.0, -0.0, -0.0, 0, 0, -1, -1, -2, -2, inf, inf, -inf, inf, -inf, 1e-30, -0.3], np.float32)
add("atan2", "atan2", [ys, xs], np.arctan2(ys, xs), tol=(1e-7, 3e-7))
ya, xa = arr(3, 4, lo=-3, hi=3), arr(4, lo=-3, hi=3)
add("atan2_bcast", "atan2", [ya, xa], np.arctan2(f64(ya), xa).astype(np.float32), tol=(1e-7, 3e-7))
for k, f in {"isnan": np.isnan, "isinf": np.isinf, "isfinite": np.isfinite}.items():
    add(k, k, [special], f(special), tol=(0, 0))
    add(k + "_int", k, [ints], f(ints), tol=(0, 0))
la, lb, lw = arr(3, 4), arr(3, 4), np.array([0, 0.25, 0.5, 1], np.float32)
add("lerp", "lerp", [la, lb, lw], np.where(lw < 0.5, la + lw * (f64(lb) - la), lb - (f64(lb) - la) * (1 - lw)))

# ---------------------------------------------------------- activations
x = np.concatenate([arr(20, lo=-6, hi=6), np.array([0, -1e-7, 3, -3, 6, 7], np.float32)])
xd = f64(x)
sp = lambda v: np.logaddexp(0, v)
sig = lambda v: 1 / (1 + np.exp(-v))
SA, SS = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946
acts = {
    "elu": (np.where(xd > 0, xd, 0.7 * np.expm1(xd)), [0.7]),
    "celu": (np.where(xd > 0, xd, 1.5 * np.expm1(xd / 1.5)), [1.5]),
    "selu": (SS * np.where(xd > 0, xd, SA * np.expm1(xd)), []),
    "hardtanh": (np.clip(xd, -0.5, 2), [-0.5, 2]),
    "relu6": (np.clip(xd, 0, 6), []),
    "hardsigmoid": (np.clip(xd + 3, 0, 6) / 6, []),
    "hardswish": (xd * np.clip(xd + 3, 0, 6) / 6, []),
    "mish": (xd * np.tanh(sp(xd)), []),
    "softsign": (xd / (1 + np.abs(xd)), []),
    "logsigmoid": (-sp(-xd), []),
    "quick_gelu": (xd * sig(1.702 * xd), []),
}
for k, (o, a) in acts.items():
    add(k, k, [x], o.astype(np.float32), a, tol=(1e-7, 2e-6))

# -------------------------------------------------------------- bitwise
for dt in (np.int8, np.uint8, np.int16, np.int32, np.uint32):
    info = np.iinfo(dt)
    a = np.concatenate([rng.integers(info.min, info.max, 12, dtype=dt, endpoint=True),
                        np.array([info.min, info.max, 0, info.max, info.min, 1], dtype=dt)])
    b = np.concatenate([rng.integers(info.min, info.max, 12, dtype=dt, endpoint=True),
                        np.array([info.max, info.min, info.min, info.max, 0, dt(-1) if info.min else 1], dtype=dt)])
    n = np.dtype(dt).name
    add(f"and_{n}", "bitwise_and", [a, b], a & b, tol=(0, 0))
    add(f"or_{n}", "bitwise_or", [a, b], a | b, tol=(0, 0))
    add(f"xor_{n}", "bitwise_xor", [a, b], a ^ b, tol=(0, 0))
    add(f"not_{n}", "bitwise_not", [a], ~a, tol=(0, 0))
    for s in (0, 1, 3, np.iinfo(dt).bits - 1):
        add(f"lshift{s}_{n}", "lshift", [a], (a.astype(np.uint64) << np.uint64(s)).astype(dt), [s], tol=(0, 0))
        add(f"rshift{s}_{n}", "rshift", [a], a >> dt(s), [s], tol=(0, 0))
a2, b2 = rng.integers(-100, 100, (3, 1), dtype=np.int32), rng.integers(-100, 100, (4,), dtype=np.int32)
add("xor_bcast", "bitwise_xor", [a2, b2], a2 ^ b2, tol=(0, 0))
ba, bb = np.array([1, 1, 0, 0], bool), np.array([1, 0, 1, 0], bool)
add("and_bool", "bitwise_and", [ba, bb], ba & bb, tol=(0, 0))
add("xor_bool", "bitwise_xor", [ba, bb], ba ^ bb, tol=(0, 0))
add("not_bool", "bitwise_not", [ba], ~ba, tol=(0, 0))

# float16: the same ops in half precision (trig computed in float32, rounded once)
h = np.concatenate([arr(10, lo=-3, hi=3), np.array([0.5, 1.5, 2.5, -0.5, 1000.5, nan, -inf], np.float32)]).astype(np.float16)
with np.errstate(all="ignore"):
    for k, f in {"floor": np.floor, "round": np.round, "atan": np.arctan, "sinh": np.sinh, "asinh": np.arcsinh}.items():
        add(k + "_f16", k, [h], f(h.astype(np.float64)).astype(np.float16), tol=(0, 1e-3))
hs = arr(2, 9).astype(np.float16)
add("cumsum_f16", "cumsum", [hs], np.cumsum(hs.astype(np.float64), axis=1).astype(np.float16), [1], tol=(2e-3, 2e-3))

# ---------------------------------------------------------------- scans
s1 = arr(3, 37)
add("cumsum_1", "cumsum", [s1], np.cumsum(f64(s1), axis=1), [1], tol=(1e-5, 1e-5))
add("cumsum_0", "cumsum", [s1], np.cumsum(f64(s1), axis=0), [0], tol=(1e-5, 1e-5))
si = rng.integers(-1000, 1000, (4, 9), dtype=np.int32)
add("cumsum_int", "cumsum", [si], np.cumsum(si, axis=-1, dtype=np.int32), [-1], tol=(0, 0))
sb = rng.integers(0, 2, (2, 11)).astype(bool)
add("cumsum_bool", "cumsum", [sb], np.cumsum(sb, axis=1).astype(np.int32), [1], tol=(0, 0))
cp = np.array([[1.5, -2, 0.5, -1, 3, 0, 2, -4, inf], [-1, -1, -1, 2, 0.25, -8, 0, -0.0, 1],
               [0, 1, 2, 3, 4, 5, 6, 7, 8]], np.float32)
with np.errstate(all="ignore"):
    add("cumprod", "cumprod", [cp], np.cumprod(f64(cp), axis=1), [1], tol=(0, 1e-6))
ci = rng.integers(-5, 6, (3, 10), dtype=np.int32)
add("cumprod_int", "cumprod", [ci], np.cumprod(ci, axis=1, dtype=np.int32), [1], tol=(0, 0))
cm = np.array([[1, 3, 2, nan, 5, 0], [-1, -2, -0.5, -3, 4, 4]], np.float32)
add("cummax", "cummax", [cm], np.maximum.accumulate(cm, axis=1), [1], tol=(0, 0))
add("cummin", "cummin", [cm], np.minimum.accumulate(cm, axis=1), [1], tol=(0, 0))
add("cummax_0", "cummax", [s1], np.maximum.accumulate(s1, axis=0), [0], tol=(0, 0))
add("cummin_int", "cummin", [si], np.minimum.accumulate(si, axis=1), [1], tol=(0, 0))
lc = np.concatenate([arr(2, 19, lo=-5, hi=5), np.array([[-inf] * 3 + [100, -100] + [0] * 14,
                                                        [1000, -inf, 3] + [inf] + [0] * 15], np.float32)])
add("logcumsumexp", "logcumsumexp", [lc], np.logaddexp.accumulate(f64(lc), axis=1), [1], tol=(1e-6, 1e-6))

# -------------------------------------------------------------- sorting
def stable_sort(v, axis, desc):
    m = np.moveaxis(v, axis, -1)
    idx = np.empty(m.shape, np.int32)
    for pos in np.ndindex(m.shape[:-1]):
        row = m[pos]
        nan_at = lambda i: row.dtype.kind == "f" and math.isnan(row[i])
        if desc:  # NaN first, then larger first
            key = lambda i: (0, 0) if nan_at(i) else (1, -row[i])
        else:  # NaN last
            key = lambda i: (1, 0) if nan_at(i) else (0, row[i])
        idx[pos] = sorted(range(len(row)), key=key)
    vals = np.take_along_axis(m, idx, -1)
    return np.moveaxis(vals, -1, axis), np.moveaxis(idx, -1, axis)


so = np.array([[3, 1, 2, 1, nan, -0.0, 0, 2, -inf, nan, 5, 1], [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]], np.float32)
so2 = arr(4, 6, 5)
soi = rng.integers(-3, 4, (3, 13), dtype=np.int32)
for nm, v, ax in (("f32", so, 1), ("f16", so.astype(np.float16), 1), ("rand", so2, 1), ("rand_last", so2, -1), ("int", soi, 0), ("int_row", soi, 1)):
    for desc in (0, 1):
        vals, idx = stable_sort(v, ax, desc)
        tag = f"{nm}_{'desc' if desc else 'asc'}"
        add("sort_values_" + tag, "sort_values", [v], vals, [ax, desc], tol=(0, 0))
        add("sort_indices_" + tag, "argsort", [v], idx, [ax, desc], tol=(0, 0))

# -------------------------------------------------------- padding modes
px = arr(2, 3, 4)
for mode, npm in (("reflect", "reflect"), ("replicate", "edge"), ("circular", "wrap")):
    pads = [0, 1, 2, 0, 1, 3] if mode != "reflect" else [1, 0, 2, 2, 3, 1]
    add(f"pad_{mode}", f"pad_{mode}", [px], np.pad(px, [(pads[0], pads[1]), (pads[2], pads[3]), (pads[4], pads[5])],
                                                   mode=npm), pads, tol=(0, 0))

# ------------------------------------------------------------------ write
path = os.path.join(os.path.dirname(__file__) or ".", "golden", "ops_more.txt")
with open(path, "w") as f:
    f.write("# generated by tests/core/gen_golden_more.py (numpy); do not edit\n")
    for name, op, args, ins, out, tol in cases:
        f.write(f"case {name} {op}\nargs " + " ".join(repr(float(a)) for a in args) + "\n")
        for i in ins:
            f.write("in " + fmt(i) + "\n")
        f.write("out " + fmt(out) + "\n")
        f.write(f"tol {tol[0]} {tol[1]}\nend\n")
print(f"{len(cases)} cases -> {path}")
