#!/usr/bin/env python3
"""Golden values for the tensor core's forward tests, computed with numpy.

Writes tests/core/golden/ops.txt. Each case:
    case NAME OP
    args A B ...          (numbers the op takes: axes, sizes, flags)
    in DTYPE NDIM DIMS... VALUES...
    out DTYPE NDIM DIMS... VALUES...
    tol ATOL RTOL
    end
The C test (test_ops.c) maps OP to tg calls. Run: python3 gen_golden.py
"""
import math
import os

import numpy as np

rng = np.random.default_rng(1234)
cases = []


def arr(*shape, lo=-2.0, hi=2.0):
    return rng.uniform(lo, hi, size=shape).astype(np.float32)


def add(name, op, ins, out, args=(), tol=(1e-5, 1e-4)):
    cases.append((name, op, list(args), [np.asarray(i) for i in ins], np.asarray(out), tol))


def dtname(a):
    return {np.float32: "f32", np.float64: "f64", np.int32: "i32", np.bool_: "b", np.int64: "i64"}[a.dtype.type]


def fmt(a):
    a = np.asarray(a)
    vals = a.reshape(-1)
    if a.dtype == np.bool_:
        s = " ".join("1" if v else "0" for v in vals)
    elif a.dtype.kind in "iu":
        s = " ".join(str(int(v)) for v in vals)
    else:
        s = " ".join(repr(float(v)) for v in vals)
    return f"{dtname(a)} {a.ndim} {' '.join(str(d) for d in a.shape)} {s}".replace("  ", " ")


# ----------------------------------------------------------------- unary
x = arr(3, 4)
pos = arr(3, 4, lo=0.1, hi=3.0)
f64 = lambda v: v.astype(np.float64)
gelu = lambda v: 0.5 * v * (1 + np.tanh(math.sqrt(2 / math.pi) * (v + 0.044715 * v ** 3)))
unary = {
    "neg": (x, -x), "abs": (x, np.abs(x)), "sign": (x, np.sign(x)), "exp": (x, np.exp(f64(x))),
    "log": (pos, np.log(f64(pos))), "exp2": (x, np.exp2(f64(x))), "log2": (pos, np.log2(f64(pos))),
    "sqrt": (pos, np.sqrt(f64(pos))), "rsqrt": (pos, 1 / np.sqrt(f64(pos))), "sin": (x, np.sin(f64(x))),
    "cos": (x, np.cos(f64(x))), "tan": (x, np.tan(f64(x))), "tanh": (x, np.tanh(f64(x))),
    "sigmoid": (x, 1 / (1 + np.exp(-f64(x)))), "relu": (x, np.maximum(x, 0)),
    "gelu": (x, gelu(f64(x))), "silu": (x, f64(x) / (1 + np.exp(-f64(x)))),
    "softplus": (x, np.log1p(np.exp(f64(x)))), "square": (x, f64(x) ** 2), "recip": (pos, 1 / f64(pos)),
}
for k, (i, o) in unary.items():
    add(k, k, [i], o.astype(np.float32))
add("leaky_relu", "leaky_relu", [x], np.where(x > 0, x, 0.1 * f64(x)).astype(np.float32), [0.1])
add("clamp", "clamp", [x], np.clip(x, -0.5, 0.7), [-0.5, 0.7])
add("cast_i32", "cast_i32", [x * 3], np.trunc(x * 3).astype(np.int32))

# ---------------------------------------------------------------- binary
a, b = arr(2, 3, 4), arr(3, 1)
bp = arr(3, 1, lo=0.5, hi=2.0)
add("add_bcast", "add", [a, b], f64(a) + b)
add("sub_bcast", "sub", [a, b], f64(a) - b)
add("mul_bcast", "mul", [a, b], f64(a) * b)
add("div_bcast", "div", [a, bp], f64(a) / bp)
add("maximum", "maximum", [a, b], np.maximum(a, b))
add("minimum", "minimum", [a, b], np.minimum(a, b))
pa = arr(2, 3, lo=0.2, hi=3)
pb = arr(2, 3)
add("pow", "pow", [pa, pb], (f64(pa) ** pb).astype(np.float32), tol=(1e-5, 1e-4))
ia = np.array([-2.0, -1.5, 0.0, 2.0, 3.0, -3.0], dtype=np.float32)
ib = np.array([2.0, 2.0, 0.0, 0.5, 3.0, 3.0], dtype=np.float32)
add("pow_neg", "pow", [ia, ib], np.power(f64(ia), ib).astype(np.float32))
ci = np.array([[1, 2, 3], [3, 2, 1]], dtype=np.float32)
cj = np.array([[2, 2, 2], [1, 2, 3]], dtype=np.float32)
for k, f in {"lt": np.less, "gt": np.greater, "le": np.less_equal, "ge": np.greater_equal,
             "eq": np.equal, "ne": np.not_equal}.items():
    add(k, k, [ci, cj], f(ci, cj))
ba, bb = np.array([True, True, False, False]), np.array([True, False, True, False])
add("logical_and", "logical_and", [ba, bb], ba & bb)
add("logical_or", "logical_or", [ba, bb], ba | bb)
add("logical_xor", "logical_xor", [ba, bb], ba ^ bb)
add("logical_not", "logical_not", [ba], ~ba)
cond = arr(3, 4) > 0
add("where", "where", [cond, arr(3, 4) * 0 + x, np.float32(0.5) * np.ones((1, 4), np.float32)],
    np.where(cond, x, 0.5))
add("mod_i32", "mod", [np.array([7, -7, 7, -7], np.int32), np.array([3, 3, -3, -3], np.int32)],
    np.fmod(np.array([7, -7, 7, -7]), np.array([3, 3, -3, -3])).astype(np.int32))
add("div_i32", "div", [np.array([7, -7, 7, -7], np.int32), np.array([2, 2, -2, -2], np.int32)],
    np.trunc(np.array([7, -7, 7, -7]) / np.array([2, 2, -2, -2])).astype(np.int32))

# ------------------------------------------------------------- reductions
r = arr(2, 3, 4)
for axes, keep in [((1,), 0), ((0, 2), 1), ((), 0), ((-1,), 1)]:
    ax = axes if axes else None
    tag = "_".join(str(v) for v in axes) or "all"
    add(f"sum_{tag}_{keep}", "sum", [r], np.sum(f64(r), axis=ax, keepdims=bool(keep)), [keep, *axes])
    add(f"mean_{tag}_{keep}", "mean", [r], np.mean(f64(r), axis=ax, keepdims=bool(keep)), [keep, *axes])
    add(f"max_{tag}_{keep}", "max", [r], np.max(r, axis=ax, keepdims=bool(keep)), [keep, *axes])
    add(f"min_{tag}_{keep}", "min", [r], np.min(r, axis=ax, keepdims=bool(keep)), [keep, *axes])
    add(f"prod_{tag}_{keep}", "prod", [r], np.prod(f64(r), axis=ax, keepdims=bool(keep)), [keep, *axes],
        tol=(1e-5, 1e-4))
    add(f"var_{tag}_{keep}", "var", [r], np.var(f64(r), axis=ax, keepdims=bool(keep), ddof=1), [keep, *axes])
    add(f"std_{tag}_{keep}", "std", [r], np.std(f64(r), axis=ax, keepdims=bool(keep), ddof=1), [keep, *axes])
    m = np.max(f64(r), axis=ax, keepdims=True)
    lse = np.log(np.sum(np.exp(f64(r) - m), axis=ax, keepdims=True)) + m
    if not keep:
        lse = lse.reshape(np.sum(r, axis=ax).shape)
    add(f"logsumexp_{tag}_{keep}", "logsumexp", [r], lse, [keep, *axes])
ties = np.array([[1, 3, 3, 0], [5, 5, 1, 5], [0, 0, 0, 0]], dtype=np.float32)
add("argmax", "argmax", [ties], np.argmax(ties, axis=1).astype(np.int32), [1, 0])
add("argmax0_keep", "argmax", [r], np.argmax(r, axis=0)[None].astype(np.int32), [0, 1])
add("argmin", "argmin", [ties], np.argmin(ties, axis=1).astype(np.int32), [1, 0])
add("sum_i32", "sum", [np.arange(12, dtype=np.int32).reshape(3, 4)],
    np.arange(12).reshape(3, 4).sum(axis=0).astype(np.int32), [0, 0])
add("max_i32", "max", [np.array([[-5, 3], [2, -9]], np.int32)], np.array([3, 2], np.int32), [0, 1])
add("min_i32", "min", [np.array([[-5, 3], [2, -9]], np.int32)], np.array([-5, -9], np.int32), [0, 1])

# --------------------------------------------------------------- movement
m = arr(2, 3, 4)
add("reshape", "reshape", [m], m.reshape(4, -1), [4, -1])
add("permute", "permute", [m], m.transpose(2, 0, 1), [2, 0, 1])
add("transpose", "transpose", [m], m.swapaxes(0, 2), [0, 2])
add("permute_reshape", "permute_reshape", [m], m.transpose(1, 2, 0).reshape(12, 2), [])
e = arr(3, 1)
add("expand", "expand", [e], np.broadcast_to(e, (2, 3, 5)), [2, 3, 5])
add("squeeze", "squeeze", [e], e.squeeze(1), [1])
add("unsqueeze", "unsqueeze", [e], e[None], [0])
add("flatten", "flatten", [m], m.reshape(2, 12), [1, 2])
s = arr(10, 3)
for st, sp, step in [(1, 8, 3), (-1, 0, -2), (0, 10, 1), (8, 2, -3), (2, 100, 4)]:
    add(f"slice_{st}_{sp}_{step}", "slice", [s], s[st:sp:step], [0, st, sp, step])
add("slice_axis1", "slice", [s], s[:, 2:0:-1], [1, 2, 0, -1])
add("pad", "pad", [m], np.pad(m, ((0, 0), (1, 2), (2, 0)), constant_values=0), [0, 0, 1, 2, 2, 0, 0])
add("pad_value", "pad", [m], np.pad(m, ((1, 0), (0, 0), (0, 1)), constant_values=-1.5), [1, 0, 0, 0, 0, 1, -1.5])
add("flip", "flip", [m], m[:, ::-1, ::-1], [1, 2])
c1, c2 = arr(2, 3), arr(2, 1)
add("cat", "cat", [c1, c2, c1], np.concatenate([c1, c2, c1], axis=1), [1])
add("stack", "stack", [c1, c1 * 2], np.stack([c1, c1 * 2], axis=1), [1])
add("split", "split", [s], s[4:8], [0, 4, 1])
add("repeat", "repeat", [c1], np.tile(c1, (2, 3)), [2, 3])
g = arr(3, 4)
gi = np.array([[0, 2, 1, 3], [3, 3, 0, 0]], dtype=np.int32)
add("gather1", "gather", [g, gi], np.take_along_axis(g[:2], gi, axis=1), [1])
gi0 = np.array([[2, 0, 1, 1]], dtype=np.int32)
add("gather0", "gather", [g, gi0], np.take_along_axis(g, gi0, axis=0), [0])
add("slice_of_pad", "slice_of_pad", [m], np.pad(m, ((0, 0), (1, 1), (1, 1)))[:, ::2, 1:5:3], [])

# ----------------------------------------------------------- compositions
A, B = arr(2, 3, 4), arr(4, 5)
add("matmul_bcast", "matmul", [A, B], f64(A) @ B)
A2, B2 = arr(2, 1, 3, 4), arr(3, 4, 2)
add("matmul_batch", "matmul", [A2, B2], f64(A2) @ B2)
v = arr(4)
add("matmul_vec", "matmul", [A, v], f64(A) @ v)
add("matmul_vecl", "matmul", [v, B], f64(v) @ B)


def conv2d(x, w, bias, stride, pad, dil, groups):
    N, C, H, W = x.shape
    O, Cg, kh, kw = w.shape
    xp = np.pad(f64(x), ((0, 0), (0, 0), (pad[0], pad[0]), (pad[1], pad[1])))
    oh = (xp.shape[2] - dil[0] * (kh - 1) - 1) // stride[0] + 1
    ow = (xp.shape[3] - dil[1] * (kw - 1) - 1) // stride[1] + 1
    out = np.zeros((N, O, oh, ow))
    og = O // groups
    for n in range(N):
        for o in range(O):
            gidx = o // og
            for i in range(oh):
                for j in range(ow):
                    acc = 0.0
                    for c in range(Cg):
                        for p in range(kh):
                            for q in range(kw):
                                acc += xp[n, gidx * Cg + c, i * stride[0] + p * dil[0], j * stride[1] + q * dil[1]] * w[o, c, p, q]
                    out[n, o, i, j] = acc + (bias[o] if bias is not None else 0)
    return out


cx = arr(2, 4, 7, 6)
cw = arr(6, 2, 3, 2)
cb = arr(6)
add("conv2d", "conv2d", [cx, cw, cb], conv2d(cx, cw, cb, (2, 1), (1, 2), (1, 2), 2), [2, 1, 1, 2, 1, 2, 2])
cw1 = arr(3, 4, 3, 3)
add("conv2d_plain", "conv2d", [cx, cw1], conv2d(cx, cw1, None, (1, 1), (0, 0), (1, 1), 1), [1, 1, 0, 0, 1, 1, 1])


def conv_t(x, w, stride, pad, outpad, dil, groups):
    N, C, H, W = x.shape
    _, og, kh, kw = w.shape
    cg = C // groups
    OH = (H - 1) * stride[0] - 2 * pad[0] + dil[0] * (kh - 1) + outpad[0] + 1
    OW = (W - 1) * stride[1] - 2 * pad[1] + dil[1] * (kw - 1) + outpad[1] + 1
    full = np.zeros((N, og * groups, OH + 2 * pad[0] + 10, OW + 2 * pad[1] + 10))
    for n in range(N):
        for c in range(C):
            gidx = c // cg
            for i in range(H):
                for j in range(W):
                    for o in range(og):
                        for p in range(kh):
                            for q in range(kw):
                                full[n, gidx * og + o, i * stride[0] + p * dil[0], j * stride[1] + q * dil[1]] += x[n, c, i, j] * w[c, o, p, q]
    return full[:, :, pad[0]:pad[0] + OH, pad[1]:pad[1] + OW]


tx = arr(1, 4, 3, 4)
tw = arr(4, 3, 3, 2)
add("conv_transpose2d", "conv_transpose2d", [tx, tw], conv_t(tx, tw, (2, 1), (1, 0), (1, 0), (1, 1), 2),
    [2, 1, 1, 0, 1, 0, 1, 1, 2])


def pool(x, k, s, p, mx):
    xp = np.pad(f64(x), ((0, 0), (0, 0), (p[0], p[0]), (p[1], p[1])), constant_values=-np.inf if mx else 0)
    oh = (xp.shape[2] - k[0]) // s[0] + 1
    ow = (xp.shape[3] - k[1]) // s[1] + 1
    out = np.zeros(x.shape[:2] + (oh, ow))
    for i in range(oh):
        for j in range(ow):
            win = xp[:, :, i * s[0]:i * s[0] + k[0], j * s[1]:j * s[1] + k[1]]
            out[:, :, i, j] = win.max(axis=(2, 3)) if mx else win.mean(axis=(2, 3))
    return out


px = arr(2, 3, 7, 8)
add("max_pool2d", "max_pool2d", [px], pool(px, (3, 2), (2, 2), (1, 0), True), [3, 2, 2, 2, 1, 0])
add("avg_pool2d", "avg_pool2d", [px], pool(px, (2, 2), (2, 2), (0, 0), False), [2, 2, 0, 0, 0, 0])
sx = arr(3, 5) * 3
ex = np.exp(f64(sx) - sx.max(axis=1, keepdims=True))
add("softmax", "softmax", [sx], ex / ex.sum(axis=1, keepdims=True), [1])
add("softmax0", "softmax", [sx], np.exp(f64(sx)) / np.exp(f64(sx)).sum(axis=0, keepdims=True), [0])
lsm = f64(sx) - sx.max(axis=1, keepdims=True)
lsm = lsm - np.log(np.exp(lsm).sum(axis=1, keepdims=True))
add("log_softmax", "log_softmax", [sx], lsm, [1])
tgt = np.array([4, 0, 2], dtype=np.int32)
oh = np.eye(5)[tgt]
add("nll", "nll", [lsm.astype(np.float32), tgt], -(lsm * oh).sum() / 3)
for ls in (0.0, 0.1):
    w = oh * (1 - ls) + ls / 5
    add(f"cross_entropy_{ls}", "cross_entropy", [sx, tgt], -(lsm * w).sum() / 3, [ls])
add("mse", "mse", [a, b], np.mean((f64(a) - b) ** 2))
lx, lw, lb = arr(2, 3, 4), arr(4), arr(4)
mu = f64(lx).mean(axis=-1, keepdims=True)
var = ((f64(lx) - mu) ** 2).mean(axis=-1, keepdims=True)
add("layernorm", "layernorm", [lx, lw, lb], (lx - mu) / np.sqrt(var + 1e-5) * lw + lb, [1, 1e-5])
bx = arr(4, 3, 2, 2)
bw, bb = arr(3), arr(3)
bm = f64(bx).mean(axis=(0, 2, 3), keepdims=True)
bv = ((f64(bx) - bm) ** 2).mean(axis=(0, 2, 3), keepdims=True)
add("batchnorm_train", "batchnorm_train", [bx, bw, bb],
    (bx - bm) / np.sqrt(bv + 1e-5) * bw.reshape(1, 3, 1, 1) + bb.reshape(1, 3, 1, 1), [1e-5])
rm_, rv_ = arr(3), arr(3, lo=0.5, hi=2)
add("batchnorm_eval", "batchnorm_eval", [bx, bw, bb, rm_, rv_],
    (bx - rm_.reshape(1, 3, 1, 1)) / np.sqrt(rv_.reshape(1, 3, 1, 1) + 1e-5) * bw.reshape(1, 3, 1, 1) +
    bb.reshape(1, 3, 1, 1), [1e-5])
ew = arr(6, 3)
ei = np.array([[5, 0], [2, 2]], dtype=np.int32)
add("embedding", "embedding", [ew, ei], ew[ei])
q, k_, v_ = arr(2, 4, 3), arr(2, 5, 3), arr(2, 5, 2)
sc = f64(q) @ k_.transpose(0, 2, 1) / math.sqrt(3)
mask = np.tril(np.ones((4, 5), bool))
sc = np.where(mask, sc, -np.inf)
p_ = np.exp(sc - sc.max(-1, keepdims=True))
p_ /= p_.sum(-1, keepdims=True)
add("sdpa_causal", "sdpa_causal", [q, k_, v_], p_ @ v_)

# ------------------------------------------------------------------ write
os.makedirs(os.path.join(os.path.dirname(__file__) or ".", "golden"), exist_ok=True)
path = os.path.join(os.path.dirname(__file__) or ".", "golden", "ops.txt")
with open(path, "w") as f:
    f.write("# generated by tests/core/gen_golden.py (numpy); do not edit\n")
    for name, op, args, ins, out, tol in cases:
        f.write(f"case {name} {op}\n")
        f.write("args " + " ".join(repr(float(a)) for a in args) + "\n")
        for i in ins:
            f.write("in " + fmt(i) + "\n")
        o = out
        if o.dtype == np.float64:
            o = o.astype(np.float32)
        f.write("out " + fmt(o) + "\n")
        f.write(f"tol {tol[0]} {tol[1]}\nend\n")
print(f"{len(cases)} cases -> {path}")
