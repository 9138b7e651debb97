"""The issue 17 ops in Python (more math, bitwise, scans, sorting, indexing
writes, einsum, interpolation, N-d convolution and pooling, tg.grad),
checked against numpy, and torch where it is installed."""
import math

import numpy as np
import pytest

import tg
from helpers import close, rnd


def test_rounding_and_math(dev):
    a = np.array([-2.5, -1.5, -0.5, 0.5, 1.5, 2.7, -3.2], np.float32)
    t = tg.Tensor(a, device=dev)
    close(t.floor(), np.floor(a))
    close(t.ceil(), np.ceil(a))
    close(t.round(), np.round(a))  # halves to even
    close(t.trunc(), np.trunc(a))
    close(t.frac(), a - np.trunc(a))
    u = np.array([-0.9, -0.3, 0.0, 0.4, 0.8], np.float32)
    tu = tg.Tensor(u, device=dev)
    for name, ref in (("asin", np.arcsin), ("acos", np.arccos), ("atan", np.arctan), ("sinh", np.sinh),
                      ("cosh", np.cosh), ("asinh", np.arcsinh), ("atanh", np.arctanh)):
        close(getattr(tu, name)(), ref(u), 1e-5)
    close(tg.Tensor([1.0, 2.0, 10.0], device=dev).acosh(), np.arccosh([1.0, 2.0, 10.0]))
    y, x = rnd(6), rnd(6, seed=1)
    close(tg.Tensor(y, device=dev).atan2(tg.Tensor(x, device=dev)), np.arctan2(y, x))
    s = tg.Tensor([1.0, float("nan"), float("inf"), -float("inf")], device=dev)
    assert s.isnan().tolist() == [False, True, False, False]
    assert s.isinf().tolist() == [False, False, True, True]
    assert s.isinf(detect_negative=False).tolist() == [False, False, True, False]
    assert s.isfinite().tolist() == [True, False, False, False]
    b = rnd(6, seed=2)
    close(tg.Tensor(x, device=dev).lerp(tg.Tensor(b, device=dev), 0.25), x + 0.25 * (b - x))


def test_activations(dev, torch):
    x = rnd(3, 5) * 4
    t, tt = tg.Tensor(x, device=dev), torch.tensor(x)
    F = torch.nn.functional
    close(t.elu(), F.elu(tt))
    close(t.elu(0.5), F.elu(tt, 0.5))
    close(t.celu(2.0), F.celu(tt, 2.0))
    close(t.selu(), F.selu(tt))
    close(t.hardtanh(-2, 1.5), F.hardtanh(tt, -2, 1.5))
    close(t.relu6(), F.relu6(tt))
    close(t.hardsigmoid(), F.hardsigmoid(tt))
    close(t.hardswish(), F.hardswish(tt))
    close(t.mish(), F.mish(tt))
    close(t.softsign(), F.softsign(tt))
    close(t.logsigmoid(), F.logsigmoid(tt))


def test_activations_numpy(dev):
    x = rnd(7) * 4
    t = tg.Tensor(x, device=dev)
    close(t.elu(), np.where(x > 0, x, np.expm1(x)))
    close(t.relu6(), np.clip(x, 0, 6))
    close(t.hardswish(), x * np.clip(x + 3, 0, 6) / 6)
    close(t.softsign(), x / (1 + np.abs(x)))
    close(t.quick_gelu(), x / (1 + np.exp(-1.702 * x)))
    close(t.mish(), x * np.tanh(np.log1p(np.exp(x))))


def test_bitwise(dev):
    a = np.array([5, -3, 12, 0, 127], np.int32)
    b = np.array([3, 6, -1, 9, 64], np.int32)
    ta, tb = tg.Tensor(a, device=dev), tg.Tensor(b, device=dev)
    assert (ta & tb).tolist() == (a & b).tolist()
    assert (ta | tb).tolist() == (a | b).tolist()
    assert (ta ^ tb).tolist() == (a ^ b).tolist()
    assert (~ta).tolist() == (~a).tolist()
    assert (ta << 3).tolist() == (a << 3).tolist()
    assert (ta >> 1).tolist() == (a >> 1).tolist()
    assert ta.bitwise_and(tb).tolist() == (a & b).tolist()
    assert ta.lshift(2).tolist() == (a << 2).tolist()
    m = tg.Tensor([True, False, True], device=dev)  # bool: the logical ops
    assert (m & tg.Tensor([True, True, False], device=dev)).tolist() == [True, False, False]
    assert (~m).tolist() == [False, True, False]
    f = np.array([1.0, -0.0, float("inf")], np.float32)
    assert tg.Tensor(f, device=dev).bitcast("int32").tolist() == f.view(np.int32).tolist()
    assert tg.Tensor(f.view(np.int32), device=dev).bitcast(tg.float32).numpy().tobytes() == f.tobytes()


def test_scans(dev):
    x = rnd(3, 5)
    t = tg.Tensor(x, device=dev)
    close(t.cumsum(1), np.cumsum(x, 1))
    close(t.cumsum(axis=0), np.cumsum(x, 0))
    close(t.cumprod(1), np.cumprod(x, 1))
    close(t.cummax(1), np.maximum.accumulate(x, 1))
    close(t.cummin(dim=0), np.minimum.accumulate(x, 0))
    close(t.logcumsumexp(1), np.log(np.cumsum(np.exp(x.astype(np.float64)), 1)), 1e-5)
    assert tg.Tensor([True, False, True], device=dev).cumsum().tolist() == [1, 1, 2]


def test_sort_argsort(dev):
    x = np.array([[3.0, 1.0, 2.0, 1.0], [0.5, -1.0, 4.0, 0.0]], np.float32)
    t = tg.Tensor(x, device=dev)
    v, i = t.sort()
    close(v, np.sort(x, 1))
    assert i.tolist() == np.argsort(x, 1, kind="stable").tolist()
    v, i = t.sort(dim=1, descending=True)
    close(v, -np.sort(-x, 1))
    assert i.tolist() == [[0, 2, 1, 3], [2, 0, 3, 1]]  # stable also when descending
    assert t.argsort(0).tolist() == np.argsort(x, 0, kind="stable").tolist()


def test_randperm(dev):
    p = tg.randperm(10, device=dev)
    assert sorted(p.tolist()) == list(range(10)) and p.dtype == tg.int32
    assert tg.randperm(10, device=dev, seed=7).tolist() == tg.Tensor.randperm(10, device=dev, seed=7).tolist()


def test_pad_modes(dev):
    x = rnd(2, 5)
    t = tg.Tensor(x, device=dev)
    close(t.pad(((0, 0), (2, 3)), mode="reflect"), np.pad(x, ((0, 0), (2, 3)), mode="reflect"))
    close(t.pad((1, 2), mode="replicate"), np.pad(x, ((0, 0), (1, 2)), mode="edge"))
    close(t.pad((2, 1, 1, 0), mode="circular"), np.pad(x, ((1, 0), (2, 1)), mode="wrap"))
    with pytest.raises(ValueError, match="mode"):
        t.pad((1, 1), mode="mirror")


def test_scatter_family(dev):
    x = np.zeros((3, 4), np.float32)
    idx = np.array([[0, 2, 1, 0], [2, 0, 0, 1]], np.int32)
    src = rnd(2, 4)
    t, ti, ts = tg.Tensor(x, device=dev), tg.Tensor(idx, device=dev), tg.Tensor(src, device=dev)
    ref = x.copy()
    for p in np.ndindex(idx.shape):
        ref[idx[p], p[1]] = src[p]
    close(t.scatter(0, ti, ts), ref)
    base = rnd(3, 4, seed=3)
    tb = tg.Tensor(base, device=dev)
    cols = np.arange(4)[None, :].repeat(2, 0)
    for reduce, np_fn in (("sum", np.add.at), ("prod", np.multiply.at), ("amax", np.maximum.at),
                          ("amin", np.minimum.at)):
        ref = base.copy()
        np_fn(ref, (idx, cols), src)
        close(tb.scatter_reduce(0, ti, ts, reduce), ref)
    cnt, acc = np.zeros_like(base), np.zeros_like(base)  # mean, without self
    np.add.at(acc, (idx, cols), src)
    np.add.at(cnt, (idx, cols), 1)
    ref = np.where(cnt > 0, acc / np.maximum(cnt, 1), base)
    close(tb.scatter_reduce(0, ti, ts, "mean", include_self=False), ref)
    ref = base.copy()
    np.add.at(ref, (idx, cols), 2.0)
    close(tb.scatter(0, ti, 2.0, reduce="add"), ref)  # tinygrad's reduce="add", a scalar source
    with pytest.raises(ValueError, match="reduce"):
        tb.scatter_reduce(0, ti, ts, "max")
    with pytest.raises(tg.Error, match="index"):
        tb.scatter(0, tg.Tensor(idx + 5, device=dev), ts)


def test_index_add_masked_fill(dev):
    x, src = rnd(4, 3), rnd(3, 3, seed=1)
    idx = np.array([0, 3, 0], np.int32)
    ref = x.copy()
    np.add.at(ref, idx, 2.0 * src)
    close(tg.Tensor(x, device=dev).index_add(0, tg.Tensor(idx, device=dev), tg.Tensor(src, device=dev), alpha=2),
          ref)
    mask = x > 0
    close(tg.Tensor(x, device=dev).masked_fill(tg.Tensor(mask, device=dev), -5.0), np.where(mask, -5.0, x))
    close(tg.Tensor(x, device=dev).masked_fill(tg.Tensor(mask[0], device=dev), tg.Tensor(1.5, device=dev)),
          np.where(mask[0], 1.5, x))


def test_setitem(dev):
    x = rnd(4, 6)
    t = tg.Tensor(x, device=dev).realize()
    ref = x.copy()
    t[1] = 7.0
    ref[1] = 7.0
    close(t, ref)
    v = rnd(2, 3, seed=1)
    t[::2, 1:6:2] = tg.Tensor(v, device=dev)
    ref[::2, 1:6:2] = v
    close(t, ref)
    t[:, -1] = tg.Tensor(np.arange(4, dtype=np.float32), device=dev)
    ref[:, -1] = np.arange(4)
    close(t, ref)
    t[3, ::-2] = 0
    ref[3, ::-2] = 0
    close(t, ref)
    t[..., 0] = -1.0
    ref[..., 0] = -1.0
    close(t, ref)
    with pytest.raises(IndexError):
        t[9] = 1.0


def test_einsum(dev):
    a, b, c = rnd(2, 3), rnd(3, 4, seed=1), rnd(5, 2, 3, seed=2)
    ta, tb, tc = (tg.Tensor(v, device=dev) for v in (a, b, c))
    close(tg.einsum("ij,jk->ik", ta, tb), np.einsum("ij,jk->ik", a, b))
    close(tg.Tensor.einsum("bij,jk->bik", [tc, tb]), np.einsum("bij,jk->bik", c, b))
    sq = rnd(3, 3, seed=4)
    close(tg.einsum("ii->i", tg.Tensor(sq, device=dev)), np.diagonal(sq))
    close(tg.einsum("ii", tg.Tensor(sq, device=dev)), np.trace(sq))
    close(tg.einsum("ij", ta), np.einsum("ij", a))
    with pytest.raises(tg.Error):
        tg.einsum("ij,jk->ik", ta, ta)


def test_interpolate(dev):
    x = rnd(1, 2, 5)
    t = tg.Tensor(x, device=dev)
    out = np.stack([[np.interp(np.linspace(0, 4, 9), np.arange(5), row) for row in ch] for ch in x])
    close(t.interpolate(size=(9,), mode="linear", align_corners=True), out)
    near = x[..., (np.arange(10) * 5 // 10)]
    close(t.interpolate(scale_factor=2, mode="nearest"), near)
    close(t.interpolate(size=(1, 2, 10), mode="nearest"), near)  # tinygrad's whole-shape size


def test_interpolate_torch(dev, torch):
    x = rnd(2, 3, 4, 5)
    F = torch.nn.functional
    t, tt = tg.Tensor(x, device=dev), torch.tensor(x)
    for ac in (False, True):
        close(t.interpolate(size=(7, 3), mode="bilinear", align_corners=ac),
              F.interpolate(tt, size=(7, 3), mode="bilinear", align_corners=ac))
    close(t.interpolate(scale_factor=(2, 1.5), mode="nearest"), F.interpolate(tt, scale_factor=(2, 1.5)))
    x3 = rnd(1, 1, 2, 3, 4)
    close(tg.Tensor(x3, device=dev).interpolate(size=(3, 4, 5), mode="trilinear"),
          F.interpolate(torch.tensor(x3), size=(3, 4, 5), mode="trilinear"))


def conv1d_ref(x, w, b=None, stride=1, padding=0, dilation=1):
    x = np.pad(x, ((0, 0), (0, 0), (padding, padding)))
    k = w.shape[2]
    n = (x.shape[2] - dilation * (k - 1) - 1) // stride + 1
    out = np.zeros((x.shape[0], w.shape[0], n), np.float64)
    for o in range(n):
        win = x[:, :, o * stride:o * stride + dilation * (k - 1) + 1:dilation]
        out[:, :, o] = np.einsum("nck,ock->no", win, w)
    return out + (0 if b is None else b[None, :, None])


def test_conv1d(dev):
    x, w, b = rnd(2, 3, 9), rnd(4, 3, 3, seed=1), rnd(4, seed=2)
    t = tg.Tensor(x, device=dev)
    close(t.conv1d(tg.Tensor(w, device=dev), tg.Tensor(b, device=dev)), conv1d_ref(x, w, b), 1e-4)
    close(t.conv1d(tg.Tensor(w, device=dev), stride=2, padding=1, dilation=2),
          conv1d_ref(x, w, None, 2, 1, 2), 1e-4)
    close(t.conv2d(tg.Tensor(w, device=dev)), conv1d_ref(x, w), 1e-4)  # a 3-d weight: conv1d (as tinygrad)


def test_conv_nd_torch(dev, torch):
    F = torch.nn.functional
    x, w = rnd(1, 4, 5, 6, 4), rnd(6, 2, 3, 2, 2, seed=1)
    close(tg.Tensor(x, device=dev).conv3d(tg.Tensor(w, device=dev), stride=(1, 2, 1), padding=1, groups=2),
          F.conv3d(torch.tensor(x), torch.tensor(w), stride=(1, 2, 1), padding=1, groups=2), 1e-4)
    x1, w1 = rnd(2, 3, 7), rnd(3, 2, 3, seed=2)
    close(tg.Tensor(x1, device=dev).conv_transpose1d(tg.Tensor(w1, device=dev), stride=2, padding=1,
                                                       output_padding=1),
          F.conv_transpose1d(torch.tensor(x1), torch.tensor(w1), stride=2, padding=1, output_padding=1), 1e-4)
    x3, w3 = rnd(1, 2, 3, 3, 2), rnd(2, 3, 2, 2, 2, seed=3)
    close(tg.Tensor(x3, device=dev).conv_transpose3d(tg.Tensor(w3, device=dev), stride=2),
          F.conv_transpose3d(torch.tensor(x3), torch.tensor(w3), stride=2), 1e-4)


def test_pools(dev):
    x = rnd(1, 2, 8)
    t = tg.Tensor(x, device=dev)
    # max over windows of 2 taps 2 apart, every 2; ceil_mode adds the window at 6 (its tap 8 is outside)
    want = np.stack([x[..., s:s + 3:2].max(-1) for s in range(0, 7, 2)], -1)
    close(t.max_pool1d(2, stride=2, dilation=2, ceil_mode=True), want)
    close(t.max_pool1d(2, stride=2, dilation=2), want[..., :3])
    want = np.stack([x[..., s:s + 3].mean(-1) for s in range(0, 5, 2)], -1)
    close(t.avg_pool1d(3, stride=2), want)
    x = x[..., :7]
    t = tg.Tensor(x, device=dev)
    close(t.adaptive_avg_pool1d(3), np.stack([x[..., 0:3].mean(-1), x[..., 2:5].mean(-1), x[..., 4:7].mean(-1)], -1))
    close(t.adaptive_max_pool1d(1), x.max(-1, keepdims=True))
    x2 = rnd(1, 1, 4, 4)
    close(tg.Tensor(x2, device=dev).max_pool2d(2), x2.reshape(1, 1, 2, 2, 2, 2).max((3, 5)))


def test_pools_torch(dev, torch):
    F = torch.nn.functional
    x = rnd(2, 3, 7, 8)
    t, tt = tg.Tensor(x, device=dev), torch.tensor(x)
    close(t.max_pool2d(3, stride=2, padding=1, dilation=2, ceil_mode=True),
          F.max_pool2d(tt, 3, stride=2, padding=1, dilation=2, ceil_mode=True))
    close(t.avg_pool2d(3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
          F.avg_pool2d(tt, 3, stride=2, padding=1, ceil_mode=True, count_include_pad=False))
    close(t.avg_pool2d(2, padding=1), F.avg_pool2d(tt, 2, padding=1))
    close(t.adaptive_avg_pool2d((3, 5)), F.adaptive_avg_pool2d(tt, (3, 5)))
    close(t.adaptive_max_pool2d(4), F.adaptive_max_pool2d(tt, 4))
    x3 = rnd(1, 2, 4, 5, 6)
    close(tg.Tensor(x3, device=dev).max_pool3d(2, ceil_mode=True), F.max_pool3d(torch.tensor(x3), 2, ceil_mode=True))
    close(tg.im2col(t, (2, 3), dilation=(2, 1), padding=1, stride=2),
          F.unfold(tt, (2, 3), dilation=(2, 1), padding=1, stride=2))


def test_unfold(dev):
    x = np.arange(10, dtype=np.float32).reshape(2, 5)
    close(tg.Tensor(x, device=dev).unfold(1, 2, 2), np.stack([x[:, 0:2], x[:, 2:4]], 1))


def dot(a, b):
    return float((a.numpy().astype(np.float64) * b.numpy()).sum())


def test_gradients(dev):
    x = tg.Tensor(rnd(3, 5), device=dev, requires_grad=True)
    g = tg.Tensor(rnd(3, 5, seed=1), device=dev)
    (x.cumsum(1) * g).sum().backward()
    close(x.grad, np.flip(np.cumsum(np.flip(g.numpy(), 1), 1), 1))  # reverse cumsum
    v, i = x.sort(1)
    (dx,) = tg.grad((v * g).sum(), [x])
    want = np.zeros((3, 5), np.float32)
    np.put_along_axis(want, i.numpy(), g.numpy(), 1)
    close(dx, want)
    base, src = tg.Tensor(rnd(3, 4), device=dev), tg.Tensor(rnd(2, 4, seed=2), device=dev)
    idx = tg.Tensor(np.array([[0, 2, 1, 0], [2, 0, 0, 1]], np.int32), device=dev)
    up = tg.Tensor(rnd(3, 4, seed=3), device=dev)
    dbase, dsrc = tg.grad(base.scatter_reduce(0, idx, src, "sum"), [base, src], [up])
    close(dbase, up.numpy())
    close(dsrc, np.take_along_axis(up.numpy(), idx.numpy(), 0))
    xc, w = tg.Tensor(rnd(2, 3, 9), device=dev), tg.Tensor(rnd(4, 3, 3, seed=4), device=dev)
    out = xc.conv1d(w, padding=1)
    gy = tg.Tensor(rnd(*out.shape, seed=5), device=dev)
    dx, dw = tg.grad([out], [xc, w], grad_outputs=[gy])
    # linear in each operand: <d/dx, x> = <out, gy> = <d/dw, w>
    assert math.isclose(dot(dx, xc), dot(out, gy), rel_tol=1e-4)
    assert math.isclose(dot(dw, w), dot(out, gy), rel_tol=1e-4)
    xi = tg.Tensor(rnd(1, 2, 3, 4), device=dev)
    yi = xi.interpolate(size=(5, 7), mode="bilinear")
    gi = tg.Tensor(rnd(1, 2, 5, 7, seed=6), device=dev)
    (di,) = (yi * gi).sum().gradient(xi)
    assert math.isclose(dot(di, xi), dot(yi, gi), rel_tol=1e-4)
    with pytest.raises(tg.Error):
        tg.grad(xi.sum(), [tg.Tensor(rnd(2), device=dev)])  # no path from the output


def test_gradients_torch(dev, torch):
    x = rnd(2, 3, 4, 5)
    t = tg.Tensor(x, device=dev)
    tt = torch.tensor(x, requires_grad=True)
    out = torch.nn.functional.interpolate(tt, size=(7, 3), mode="bilinear", align_corners=False)
    g = rnd(*out.shape, seed=1)
    out.backward(torch.tensor(g))
    (d,) = tg.grad(t.interpolate(size=(7, 3), mode="bilinear"), [t], [tg.Tensor(g, device=dev)])
    close(d, tt.grad, 1e-4)


def test_mixed_bitwise_and_mask_setitem(dev):
    b, i = tg.Tensor([True, False], device=dev), tg.Tensor([3, 5], device=dev)
    assert (b & i).tolist() == [1, 0]  # a bool tensor meets an int one in its dtype, as torch
    assert (b | 4).tolist() == [5, 4]
    assert (5 ^ i).tolist() == [6, 0]
    y = tg.Tensor(np.arange(6, dtype=np.float32), device=dev).realize()
    y[y > 2] = -1.0
    assert y.tolist() == [0.0, 1.0, 2.0, -1.0, -1.0, -1.0]


def test_bad_input_names_what_was_wrong(dev):
    x = tg.Tensor(np.zeros((1, 1, 4, 4), np.float32), device=dev)
    with pytest.raises(ValueError, match="1 sizes given for 2 spatial dims"):
        x.interpolate(size=(2,))
    with pytest.raises(ValueError, match="stride: 2 numbers given for 3 spatial dims"):
        x.reshape(1, 1, 4, 4, 1).conv3d(tg.Tensor(np.zeros((1, 1, 2, 2, 1), np.float32), device=dev), stride=(1, 2))
    with pytest.raises(ValueError, match="kernel_size: 3 numbers given for 2 spatial dims"):
        x.max_pool2d((2, 2, 2))
    with pytest.raises(tg.Error, match="lshift: needs an integer dtype"):
        tg.Tensor([1.5], device=dev).lshift(1)
    with pytest.raises(tg.Error, match="bitcast: cannot reinterpret float32 as int64"):
        tg.Tensor([1.0], device=dev).bitcast("int64")
    with pytest.raises(tg.Error, match="einsum"):
        tg.einsum("ij,jk", x, x)


def test_grad_second_order_and_seed(dev):
    a = rnd(4)
    x = tg.Tensor(a, device=dev)
    (g,) = tg.grad((x * x * x).sum(), x)
    (g2,) = tg.grad(g.sum(), [x])  # differentiated again (before g is realized: that forgets its graph)
    close(g, 3 * a * a, 1e-5)
    close(g2, 6 * a, 1e-5)
    seed = tg.Tensor(rnd(4, seed=1), device=dev)
    (gs,) = (x * 2.0).gradient(x, gradient=seed)
    close(gs, 2 * seed.numpy())
    assert x.grad is None  # tg.grad leaves .grad alone
