#!/usr/bin/env python3
"""Golden values for tests/core/test_ops_index.c (indexing writes, einsum,
interpolation, N-d convolution and pooling), computed with torch (CPU,
float64, rounded to float32 for the file).

Writes tests/core/golden/ops_index.txt in the format of ops.txt (see
gen_golden.py): case NAME OP / args ... / in ... / out ... / tol / end.
einsum's OP carries its spec ("einsum:ij,jk->ik"). The C test never needs
torch: run this once after changing a case, and check the file in.
Run: python3 gen_golden_index.py (with torch and numpy importable).
"""
import os

import numpy as np
import torch
import torch.nn.functional as F

rng = np.random.default_rng(17)
cases = []


def arr(*shape, lo=-2.0, hi=2.0):
    return rng.uniform(lo, hi, size=shape).astype(np.float32)


def ints(hi, *shape):
    return rng.integers(0, hi, size=shape).astype(np.int32)


def t(a):
    a = np.asarray(a)
    return torch.from_numpy(a.astype(np.float64) if a.dtype == np.float32 else a.astype(np.int64) if a.dtype == np.int32 else a)


def add(name, op, ins, out, args=(), tol=(1e-5, 1e-4)):
    out = out.detach().numpy() if isinstance(out, torch.Tensor) else np.asarray(out)
    out = out.astype(np.float32) if out.dtype == np.float64 else out.astype(np.int32) if out.dtype == np.int64 else out
    cases.append((name, op, list(args), [np.asarray(i) for i in ins], out, tol))


def fmt(a):
    name = {np.float32: "f32", np.int32: "i32", np.bool_: "b"}[a.dtype.type]
    vals = a.reshape(-1)
    s = " ".join(("1" if v else "0") if a.dtype == np.bool_ else str(int(v)) if a.dtype.kind in "iu"
                 else repr(float(v)) for v in vals)
    return f"{name} {a.ndim} {' '.join(str(d) for d in a.shape)} {s}".replace("  ", " ")


# --------------------------------------------------------- indexing writes
x, src = arr(3, 5), arr(3, 4)
idx = np.stack([rng.permutation(5)[:2] for _ in range(3)]).astype(np.int32)  # no duplicates within a row
add("scatter_axis1", "scatter", [x, idx, src], t(x).scatter(1, t(idx), t(src)), [1])
x0, src0 = arr(4, 3), arr(3, 3)
idx0 = np.stack([rng.permutation(4)[:2] for _ in range(3)], 1).astype(np.int32)  # (2, 3), unique per column
add("scatter_axis0_src_larger", "scatter", [x0, idx0, src0], t(x0).scatter(0, t(idx0), t(src0)), [0])

xr, sr = arr(4, 3, lo=0.5, hi=2.0), arr(6, 3, lo=0.5, hi=2.0)
sr[1, 0] = -1.5  # a negative factor for prod
ir = ints(4, 5, 3)
ir[0, 0] = ir[1, 0] = ir[2, 0] = 2  # duplicates
ir[:, 2] = 1  # every row to one place
for k, name in enumerate(["sum", "prod", "mean", "amax", "amin"]):
    for inc in (True, False):
        out = t(xr).scatter_reduce(0, t(ir), t(sr)[:5], name, include_self=inc)
        add(f"scatter_reduce_{name}_{'self' if inc else 'noself'}", "scatter_reduce", [xr, ir, sr], out, [0, k, int(inc)])
xi, si, ii = ints(9, 3, 4), ints(9, 3, 4), ints(4, 3, 2)
ii[0] = [1, 1]
add("scatter_reduce_amax_int", "scatter_reduce", [xi, ii, si],
    t(xi).scatter_reduce(1, t(ii), t(si)[:, :2], "amax", include_self=False), [1, 3, 0])

xa, sa = arr(5, 3), arr(4, 3)
ia = np.array([4, 0, 4, 2], np.int32)  # duplicate 4
add("index_add_dup", "index_add", [xa, ia, sa], t(xa).index_add(0, t(ia), t(sa), alpha=2.0), [0, 2.0])
xb, sb = arr(2, 4, 3), arr(2, 4, 2)
ib = np.array([2, 2], np.int32)
add("index_add_axis2", "index_add", [xb, ib, sb], t(xb).index_add(2, t(ib), t(sb), alpha=-0.5), [2, -0.5])

BIG = 10**9
xs, vs = arr(5, 6), arr(3)
o = xs.copy()  # numpy: torch has no negative steps
o[1:4:2, ::-2] = vs
add("setitem_steps", "setitem", [xs, vs], o, [2, 1, 4, 2, BIG, -BIG, -2])
v0 = np.array(0.25, np.float32)
o = xs.copy()
o[-2:, 1:100] = v0
add("setitem_clip_scalar", "setitem", [xs, v0], o, [2, -2, BIG, 1, 1, 100, 1])
x3, v3 = arr(3, 4, 2), arr(4, 1)
o = x3.copy()
o[2:0:-1] = v3
add("setitem_reverse_one_axis", "setitem", [x3, v3], o, [1, 2, 0, -1])

xm, mm = arr(3, 4), rng.uniform(size=(1, 4)) < 0.5
add("masked_fill", "masked_fill", [xm, mm], t(xm).masked_fill(torch.from_numpy(mm), -7.5), [-7.5])

# ------------------------------------------------------------------ einsum
A, B, C, Q = arr(3, 4), arr(4, 5), arr(5, 2), arr(4, 4)
E = [("matmul", "ij,jk->ik", [A, B]), ("diag", "ii->i", [Q]), ("trace", "ii", [Q]),
     ("batch", "bij,bjk->bik", [arr(2, 3, 4), arr(2, 4, 2)]), ("transpose", "ij->ji", [A]),
     ("outer", "i,j->ij", [arr(3), arr(4)]), ("implicit", "ijk,ik", [arr(2, 3, 4), arr(2, 4)]),
     ("chain3", "ij,jk,kl->il", [A, B, C]), ("sum_all", "ij->", [A]), ("upper_implicit", "Ab,bA", [A, arr(4, 3)]),
     ("diag_mixed", "iji,j->i", [arr(3, 2, 3), arr(2)])]
for name, spec, ops in E:
    add(f"einsum_{name}", "einsum:" + spec, ops, torch.einsum(spec, *[t(o) for o in ops]))
Bb, Cb = arr(3, 4), arr(1, 4)  # label i broadcasts (size 1 in the second operand)
add("einsum_broadcast", "einsum:ij,ij->i", [Bb, Cb], (t(Bb) * t(Cb)).sum(1))

# ------------------------------------------------------------- interpolate
xi2, xi1, xi3 = arr(1, 2, 3, 4), arr(2, 1, 5), arr(1, 1, 2, 3, 4)
add("interp_nearest_size", "interpolate", [xi2], F.interpolate(t(xi2), size=(5, 7), mode="nearest"), [0, 0, 0, 5, 7])
add("interp_nearest_scale", "interpolate", [xi2], F.interpolate(t(xi2), scale_factor=(2.0, 0.5), mode="nearest"),
    [0, 0, 1, 2.0, 0.5])
add("interp_bilinear", "interpolate", [xi2], F.interpolate(t(xi2), size=(5, 7), mode="bilinear"), [1, 0, 0, 5, 7])
add("interp_bilinear_align", "interpolate", [xi2],
    F.interpolate(t(xi2), size=(2, 6), mode="bilinear", align_corners=True), [1, 1, 0, 2, 6])
add("interp_linear_1d_scale", "interpolate", [xi1], F.interpolate(t(xi1), scale_factor=1.5, mode="linear"),
    [1, 0, 1, 1.5])
add("interp_trilinear", "interpolate", [xi3], F.interpolate(t(xi3), size=(3, 5, 2), mode="trilinear"), [1, 0, 0, 3, 5, 2])

# ------------------------------------------------------ N-d convolution
def conv_args(s, p, d, g, op=(0, 0, 0)):
    pad3 = lambda v: list(v) + [0] * (3 - len(v))
    return pad3(s) + pad3(p) + pad3(d) + [g] + pad3(op)


xc1, wc1, bc1 = arr(2, 4, 9), arr(6, 2, 3), arr(6)
add("conv1d_groups_dil", "conv1d", [xc1, wc1, bc1],
    F.conv1d(t(xc1), t(wc1), t(bc1), stride=2, padding=1, dilation=2, groups=2), conv_args([2], [1], [2], 2))
xc3, wc3, bc3 = arr(1, 4, 4, 5, 5), arr(2, 2, 2, 3, 2), arr(2)
add("conv3d_groups_dil", "conv3d", [xc3, wc3, bc3],
    F.conv3d(t(xc3), t(wc3), t(bc3), stride=(1, 2, 1), padding=(1, 0, 1), dilation=(1, 1, 2), groups=2),
    conv_args([1, 2, 1], [1, 0, 1], [1, 1, 2], 2))
xt1, wt1, bt1 = arr(1, 4, 5), arr(4, 3, 3), arr(6)
add("conv_transpose1d", "conv_transpose1d", [xt1, wt1, bt1],
    F.conv_transpose1d(t(xt1), t(wt1), t(bt1), stride=2, padding=1, output_padding=1, groups=2, dilation=1),
    conv_args([2], [1], [1], 2, [1]))
xt3, wt3, bt3 = arr(1, 2, 2, 3, 2), arr(2, 2, 2, 2, 3), arr(2)
add("conv_transpose3d", "conv_transpose3d", [xt3, wt3, bt3],
    F.conv_transpose3d(t(xt3), t(wt3), t(bt3), stride=(2, 1, 2), padding=(0, 1, 1), output_padding=(1, 0, 0),
                       dilation=(1, 2, 1)), conv_args([2, 1, 2], [0, 1, 1], [1, 2, 1], 1, [1, 0, 0]))

# ---------------------------------------------------------------- pooling
def pool_args(k, s, p, d, ceil, excl):
    pad3 = lambda v: list(v) + [0] * (3 - len(v))
    return pad3(k) + pad3(s) + pad3(p) + pad3(d) + [int(ceil), int(excl)]


xp1, xp2, xp3 = arr(2, 2, 6), arr(1, 2, 5, 7), arr(1, 1, 4, 5, 5)
add("max_pool1d_ceil", "max_pool", [xp1], F.max_pool1d(t(xp1), 3, 2, 1, ceil_mode=True), pool_args([3], [2], [1], [1], 1, 0))
# ceil: the window that would start in the right padding is dropped (5 + 2 - 2 = 5 -> 3, not 4)
add("max_pool2d_ceil_drop", "max_pool", [xp2], F.max_pool2d(t(xp2), 2, 2, 1, ceil_mode=True),
    pool_args([2, 2], [2, 2], [1, 1], [1, 1], 1, 0))
add("max_pool2d_dilation", "max_pool", [xp2], F.max_pool2d(t(xp2), (2, 3), (1, 2), (1, 1), dilation=(2, 1)),
    pool_args([2, 3], [1, 2], [1, 1], [2, 1], 0, 0))
add("max_pool3d", "max_pool", [xp3], F.max_pool3d(t(xp3), (2, 3, 2), (2, 1, 2), (1, 1, 0), ceil_mode=True),
    pool_args([2, 3, 2], [2, 1, 2], [1, 1, 0], [1, 1, 1], 1, 0))
xq = arr(1, 2, 6, 6)
for incl in (True, False):
    add(f"avg_pool2d_ceil_{'incl' if incl else 'excl'}", "avg_pool", [xq],
        F.avg_pool2d(t(xq), 3, 2, 1, ceil_mode=True, count_include_pad=incl), pool_args([3, 3], [2, 2], [1, 1], [1, 1], 1, not incl))
add("avg_pool1d_excl", "avg_pool", [xp1], F.avg_pool1d(t(xp1), 3, 2, 1, count_include_pad=False),
    pool_args([3], [2], [1], [1], 0, 1))
add("avg_pool3d", "avg_pool", [xp3], F.avg_pool3d(t(xp3), 2, (1, 2, 2), (0, 1, 1)), pool_args([2, 2, 2], [1, 2, 2], [0, 1, 1], [1, 1, 1], 0, 0))
xad = arr(2, 3, 7, 5)
add("adaptive_avg_pool2d", "adaptive_avg_pool", [xad], F.adaptive_avg_pool2d(t(xad), (3, 4)), [3, 4])
add("adaptive_max_pool2d", "adaptive_max_pool", [xad], F.adaptive_max_pool2d(t(xad), (3, 4)), [3, 4])
add("adaptive_avg_pool1d", "adaptive_avg_pool", [xp1], F.adaptive_avg_pool1d(t(xp1), 4), [4])
add("adaptive_max_pool1d", "adaptive_max_pool", [xp1], F.adaptive_max_pool1d(t(xp1), 4), [4])

xu = arr(3, 7, 2)
add("unfold_axis1", "unfold", [xu], t(xu).unfold(1, 3, 2), [1, 3, 2])
add("unfold_step_gt_size", "unfold", [xu], t(xu).unfold(-2, 2, 3), [-2, 2, 3])
xim = arr(2, 2, 5, 4)
add("im2col", "im2col", [xim], F.unfold(t(xim), (2, 3), dilation=(2, 1), padding=(1, 1), stride=(1, 2)),
    [2, 3, 1, 2, 1, 1, 2, 1])

here = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(here, "golden", "ops_index.txt"), "w") as f:
    f.write("# generated by tests/core/gen_golden_index.py (torch %s); do not edit\n" % torch.__version__.split("+")[0])
    for name, op, args, ins, out, tol in cases:
        f.write(f"case {name} {op}\nargs {' '.join(repr(float(a)) for a in args)}\n")
        for i in ins:
            f.write(f"in {fmt(i)}\n")
        f.write(f"out {fmt(out)}\ntol {tol[0]} {tol[1]}\nend\n")
print(len(cases), "cases")
