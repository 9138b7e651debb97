"""tinygrad's Tensor methods that tg composes in Python or reaches in C
(python/API.md lists them), checked against numpy."""
import math

import numpy as np
import pytest

import tg
from helpers import close, rnd


def test_tensor_is_the_handle(dev):
    a = tg.Tensor([1.0, 2.0], device=dev)
    b = a + a
    assert type(b) is tg.Tensor and isinstance(b, tg._C.T)
    assert b._t is b  # the old handle attribute still answers
    assert (a + a).tolist() == [2.0, 4.0]
    with pytest.raises(ValueError, match="never initialised"):
        tg._C.neg(tg.Tensor.__new__(tg.Tensor))


def test_arithmetic_by_name(dev):
    a, b = rnd(3, 4), rnd(3, 4, seed=1)
    ta, tb = tg.Tensor(a, device=dev), tg.Tensor(b, device=dev)
    close(ta.add(tb), a + b)
    close(ta.sub(2.0, reverse=True), 2.0 - a)
    close(ta.mul(tb), a * b)
    close(ta.div(tb), a / b)
    close(ta.div(tb, rounding_mode="trunc"), np.trunc(a / b))
    close(ta.div(tb, rounding_mode="floor"), np.floor(a / b))
    close(ta.abs().pow(0.5), np.abs(a) ** 0.5)
    i = tg.Tensor([7, -7, 7, -7], device=dev)
    j = tg.Tensor([2, 2, -2, -2], device=dev)
    assert i.mod(j).tolist() == [1, 1, -1, -1]
    assert i.fmod(j).tolist() == [1, -1, 1, -1]
    assert i.div(j, rounding_mode="trunc").tolist() == [3, -3, -3, 3]
    assert i.eq(7).tolist() == [True, False, True, False] and i.ne(7).tolist() == [False, True, False, True]
    close(ta.neg(), -a)
    close(ta.lerp(tb, 0.25), a + (b - a) * 0.25)
    close(ta.copysign(tb), np.copysign(a, b))
    close(ta.logaddexp(tb), np.logaddexp(a, b))
    close(ta.abs().log10(), np.log10(np.abs(a)), 1e-4)


def test_activations(dev):
    a = rnd(5, 6) * 4
    t = tg.Tensor(a, device=dev)
    sig = 1 / (1 + np.exp(-a))
    close(t.swish(), a * sig, 1e-4)
    close(t.quick_gelu(), a / (1 + np.exp(-1.702 * a)), 1e-4)
    close(t.logsigmoid(), -np.log1p(np.exp(-a)), 1e-4)
    close(t.softsign(), a / (1 + np.abs(a)))
    close(t.relu6(), np.clip(a, 0, 6))
    close(t.hardtanh(-2, 2), np.clip(a, -2, 2))
    close(t.hardsigmoid(), np.clip(a / 6 + 0.5, 0, 1))
    close(t.softplus(2.0), np.log1p(np.exp(2 * a)) / 2, 1e-4)
    close(t.softmin(1), np.exp(-a) / np.exp(-a).sum(1, keepdims=True), 1e-4)
    erf = np.vectorize(math.erf)
    close(t.erf(), erf(a), 1e-5)
    close(t.gelu(approximate="none"), a / 2 * (1 + erf(a / math.sqrt(2))), 1e-4)
    close(t.normalize(dim=1), a / np.linalg.norm(a, axis=1, keepdims=True), 1e-5)


def test_logic_and_statistics(dev):
    m = np.array([[True, False], [True, True]])
    t = tg.Tensor(m, device=dev)
    assert t.any().item() and not t.all().item()
    assert t.all(axis=1).tolist() == [False, True] and t.any(axis=0, keepdim=True).tolist() == [[True, True]]
    a = rnd(4, 5)
    ta = tg.Tensor(a, device=dev)
    assert ta.allclose(ta + 1e-7) and not ta.allclose(ta + 1e-2)
    nan = tg.Tensor([float("nan"), 1.0, float("inf")], device=dev)
    assert nan.isclose(nan).tolist() == [False, True, True]
    assert nan.isclose(nan, equal_nan=True).tolist() == [True, True, True]
    v, mu = ta.var_mean(axis=1, correction=0)
    close(v, a.var(1)), close(mu, a.mean(1))
    s, mu = ta.std_mean(axis=0)
    close(s, a.std(0, ddof=1)), close(mu, a.mean(0))
    close(ta.sum(axis=1, dtype="float64"), a.astype(np.float64).sum(1))


def test_topk_multinomial_nonzero(dev):
    a = rnd(3, 7)
    t = tg.Tensor(a, device=dev)
    v, i = t.topk(3)
    close(v, -np.sort(-a, 1)[:, :3]), close(i, np.argsort(-a, 1, kind="stable")[:, :3])
    v, i = t.topk(2, dim=0, largest=False)
    close(v, np.sort(a, 0)[:2]), close(i, np.argsort(a, 0, kind="stable")[:2])
    probs = tg.Tensor([[0.0, 1.0, 0.0], [0.0, 0.0, 2.0]], device=dev)
    assert probs.multinomial(4, replacement=True).tolist() == [[1] * 4, [2] * 4]
    with pytest.raises(ValueError):
        probs.multinomial(2)
    z = tg.Tensor([[1, 0], [0, 2]], device=dev)
    assert z.nonzero().tolist() == [[0, 0], [1, 1]]
    assert z.nonzero(size=3, fill_value=-1).tolist() == [[0, 0], [1, 1], [-1, -1]]
    x = tg.Tensor([[0, 1, 2], [3, 4, 5]], device=dev)
    assert x.masked_select(x > 2).tolist() == [3, 4, 5]
    assert x.masked_select(x > 3, size=3, fill_value=-1).tolist() == [4, 5, -1]


def test_movement(dev):
    a = rnd(2, 3, 4)
    t = tg.Tensor(a, device=dev)
    close(t.shrink(((0, 1), None, (1, 3))), a[0:1, :, 1:3])
    close(t.shrink_to(1, 2, None), a[:1, :2, :])
    close(t.pad_to(3, None, 5), np.pad(a, ((0, 1), (0, 0), (0, 1))))
    close(t.unflatten(2, (2, 2)), a.reshape(2, 3, 2, 2))
    close(t.roll(1, 2), np.roll(a, 1, 2))
    close(t.roll((1, -1), (0, 1)), np.roll(a, (1, -1), (0, 1)))
    close(t.roll(5), np.roll(a, 5))
    close(t.repeat_interleave(2, 1), np.repeat(a, 2, 1))
    close(t.repeat_interleave(3), np.repeat(a, 3))
    close(t.flip(0, 2), a[::-1, :, ::-1])
    close(t.repeat(2, 1, 2), np.tile(a, (2, 1, 2)))
    assert [p.shape for p in t.split(3, 2)] == [(2, 3, 3), (2, 3, 1)]
    close(t.chunk(2, 2)[1], a[:, :, 2:])
    close(t.sequential([lambda x: x * 2, lambda x: x + 1]), a * 2 + 1)
    close(t.rearrange("b c w -> b (w c)"), a.transpose(0, 2, 1).reshape(2, 12))
    close(t.rearrange("b c (h w) -> w b c h", h=2), a.reshape(2, 3, 2, 2).transpose(3, 0, 1, 2))
    m = rnd(4, 5)
    tm = tg.Tensor(m, device=dev)
    close(tm.tril(), np.tril(m)), close(tm.triu(1), np.triu(m, 1)), close(tm.tril(-1), np.tril(m, -1))
    close(tm.diagonal(), np.diagonal(m)), close(tm.diagonal(1), np.diagonal(m, 1))
    close(tm.diagonal(-2), np.diagonal(m, -2))
    close(t.diagonal(0, 1, 2), np.diagonal(a, 0, 1, 2))
    v = tg.Tensor([1.0, 2.0, 3.0], device=dev)
    close(v.diag(), np.diag([1.0, 2.0, 3.0])), close(tm.diag(), np.diag(m))
    xs, ys = tg.meshgrid(tg.arange(3, device=dev), tg.arange(2, device=dev))
    rx, ry = np.meshgrid(np.arange(3), np.arange(2), indexing="ij")
    close(xs, rx), close(ys, ry)
    xs, ys = v.meshgrid(tg.arange(2, device=dev).float(), indexing="xy")
    rx, ry = np.meshgrid([1.0, 2.0, 3.0], np.arange(2), indexing="xy")
    close(xs, rx), close(ys, ry)
    ids = tg.Tensor([0, 2, 1], device=dev)
    assert ids.one_hot(4).tolist() == [[1, 0, 0, 0], [0, 0, 1, 0], [0, 1, 0, 0]]
    assert ids.one_hot().shape == (3, 3)


def test_creation(dev):
    assert tg.Tensor.zeros(2, 3, device=dev).shape == (2, 3)
    close(tg.Tensor.arange(4, device=dev), np.arange(4))
    close(tg.Tensor.eye(2, 3, device=dev), np.eye(2, 3))
    close(tg.linspace(0, 1, 5, device=dev), np.linspace(0, 1, 5))
    close(tg.empty(2, device=dev), np.zeros(2))
    big = 2 ** 62 + 1
    assert tg.full((2,), big, "int64", dev).tolist() == [big, big]
    r = tg.randint(1000, low=-3, high=4, device=dev).numpy()
    assert r.dtype == np.int32 and r.min() >= -3 and r.max() <= 3 and len(set(r.tolist())) == 7
    n = tg.normal(20000, mean=2.0, std=0.5, device=dev).numpy()
    assert abs(n.mean() - 2.0) < 0.02 and abs(n.std() - 0.5) < 0.02
    for f, bound in ((tg.glorot_uniform, math.sqrt(6 / (8 + 16))), (tg.kaiming_uniform, None),
                     (tg.scaled_uniform, (8 * 16) ** -0.5)):
        w = f(8, 16, device=dev).numpy()
        assert w.shape == (8, 16) and (bound is None or np.abs(w).max() <= bound)
    k = tg.kaiming_normal(64, 256, device=dev).numpy()
    assert abs(k.std() - math.sqrt(2 / (1 + 0.01 ** 2)) / 16) < 0.01
    t = tg.Tensor([[1, 2]], device=dev)
    assert t.full_like(7).tolist() == [[7, 7]] and t.zeros_like(dtype="float32").dtype is tg.float32
    assert t.rand_like(dtype="float32").shape == (1, 2) and t.randn_like(dtype="float32").shape == (1, 2)
    assert t.empty_like().tolist() == [[0, 0]]
    assert t.element_size() == 4 and t.nbytes() == 8 and not t.is_floating_point()
    assert t.double().dtype is tg.float64 and t.short().dtype is tg.int16 and t.bfloat16().dtype is tg.bfloat16
    assert t.data().tolist() == [[1, 2]] and t.numel() == 2


def test_variable(dev):
    v = tg.variable(2.0, device=dev)
    x = tg.Tensor([1.0, 2.0], device=dev)
    assert (x * v).tolist() == [2.0, 4.0]
    v.variable_set(3.0)
    assert (x * v).tolist() == [3.0, 6.0]


def test_losses(dev):
    logits, y = rnd(6, 4), np.array([0, 3, 1, 1, 2, 0], dtype=np.int32)
    tl, ty = tg.Tensor(logits, device=dev), tg.Tensor(y, device=dev)
    logp = logits - np.log(np.exp(logits).sum(1, keepdims=True))
    nll = -logp[np.arange(6), y]
    close(tl.cross_entropy(ty), nll.mean(), 1e-5)
    close(tl.cross_entropy(ty, reduction="sum"), nll.sum(), 1e-4)
    close(tl.cross_entropy(ty, reduction="none"), nll, 1e-5)
    smooth = 0.9 * nll - 0.1 * logp.mean(1)
    close(tl.cross_entropy(ty, label_smoothing=0.1), smooth.mean(), 1e-5)
    close(tl.cross_entropy(ty, reduction="none", label_smoothing=0.1), smooth, 1e-5)
    probs = np.eye(4, dtype=np.float32)[y]
    close(tl.cross_entropy(tg.Tensor(probs, device=dev)), nll.mean(), 1e-5)
    yi = tg.Tensor([0, 3, -1, 1, -1, 0], device=dev)
    keep = np.array([1, 1, 0, 1, 0, 1], bool)
    close(tl.sparse_categorical_crossentropy(yi), nll[keep].mean(), 1e-5)
    close(tl.sparse_categorical_crossentropy(yi, reduction="sum"), nll[keep].sum(), 1e-4)
    tlp = tg.Tensor(logp, device=dev)
    close(tlp.nll_loss(ty), nll.mean(), 1e-5)
    w = np.array([1.0, 2.0, 0.5, 1.0], np.float32)
    close(tlp.nll_loss(ty, weight=tg.Tensor(w, device=dev)), (nll * w[y]).sum() / w[y].sum(), 1e-5)
    close(tlp.nll_loss(ty, ignore_index=1, reduction="none"), np.where(y == 1, 0, nll), 1e-5)
    p, t = 1 / (1 + np.exp(-logits)), (rnd(6, 4, seed=3) > 0).astype(np.float32)
    bce = -(t * np.log(p) + (1 - t) * np.log(1 - p))
    tt = tg.Tensor(t, device=dev)
    close(tg.Tensor(p, device=dev).binary_crossentropy(tt), bce.mean(), 1e-5)
    close(tl.binary_crossentropy_logits(tt, reduction="none"), bce, 1e-4)


def test_nn_compositions(dev):
    x = rnd(2, 3, 5, 5)
    tx = tg.Tensor(x, device=dev)
    mean, invstd = rnd(3, seed=1), np.abs(rnd(3, seed=2)) + 0.5
    w, b = rnd(3, seed=3), rnd(3, seed=4)
    ref = (x - mean[:, None, None]) * w[:, None, None] * invstd[:, None, None] + b[:, None, None]
    T = lambda a: tg.Tensor(a, device=dev)  # noqa: E731
    close(tx.batchnorm(T(w), T(b), T(mean), T(invstd)), ref, 1e-5)
    # avg pool without the padding in the count
    out = tx.avg_pool2d(3, 1, 1, count_include_pad=False).numpy()
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)), constant_values=np.nan)
    ref = np.nanmean(np.stack([xp[:, :, i:i + 5, j:j + 5] for i in range(3) for j in range(3)]), 0)
    close(out, ref, 1e-5)
    taps = [x[:, :, a:a + 3:2, b:b + 3:2] for a in (0, 2) for b in (0, 2)]  # dilation 2: taps 2 apart
    close(tx.max_pool2d(2, dilation=2), np.max(np.stack(taps), 0))
    # max_unpool2d: values back at their flat indices in a 4x4 plane
    vals = tg.Tensor([[[[1.0, 2.0], [3.0, 4.0]]]], device=dev)
    idx = tg.Tensor([[[[0, 3], [9, 15]]]], device=dev)
    ref = np.zeros(16, np.float32)
    ref[[0, 3, 9, 15]] = [1, 2, 3, 4]
    close(vals.max_unpool2d(idx, 2), ref.reshape(1, 1, 4, 4))
    assert vals.max_unpool2d(idx, 2, output_size=(5, 5)).shape == (1, 1, 5, 5)
    # uneven padding (left, right, top, bottom) and conv2d
    k = rnd(4, 3, 3, 3, seed=5)
    a = tx.conv2d(T(k), padding=(1, 0, 2, 1))
    b = tx.pad((1, 0, 2, 1)).conv2d(T(k))
    close(a, b.numpy(), 1e-5)
    # attention: an additive mask and grouped heads, against the plain formula
    q, kk, v = rnd(1, 4, 3, 8), rnd(1, 2, 5, 8, seed=1), rnd(1, 2, 5, 8, seed=2)
    mask = rnd(3, 5, seed=3)
    got = T(q).scaled_dot_product_attention(T(kk), T(v), attn_mask=T(mask), enable_gqa=True)
    kr, vr = np.repeat(kk, 2, 1), np.repeat(v, 2, 1)
    s = q @ kr.transpose(0, 1, 3, 2) / math.sqrt(8) + mask
    s = np.exp(s - s.max(-1, keepdims=True))
    close(got, (s / s.sum(-1, keepdims=True)) @ vr, 1e-5)
    # newton_schulz: one step of the polynomial, against numpy
    g = rnd(3, 5)
    x0 = g / (np.sqrt((g * g).sum()) + 1e-7)
    a = x0 @ x0.T
    close(T(g).newton_schulz(1, (2.0, -1.5, 0.5)), 2 * x0 - 1.5 * a @ x0 + 0.5 * a @ a @ x0, 1e-5)
    close(T(g.T).newton_schulz(1, (2.0, -1.5, 0.5)), (2 * x0 - 1.5 * a @ x0 + 0.5 * a @ a @ x0).T, 1e-5)


def test_gradient_argument_and_matmul_variants(dev):
    x = tg.Tensor([1.0, 2.0, 3.0], device=dev, requires_grad=True)
    (x * x).backward(tg.Tensor([1.0, 0.0, 2.0], device=dev))
    assert x.grad.tolist() == [2.0, 0.0, 12.0]
    a, b = rnd(2, 3), rnd(3, 4)
    close(tg.Tensor(a, device=dev).dot(tg.Tensor(b, device=dev)), a @ b, 1e-5)
    close(tg.Tensor(b, device=dev).matmul(tg.Tensor(a, device=dev), reverse=True), a @ b, 1e-5)
    m = tg.Tensor(a, device=dev).matmul(tg.Tensor(b, device=dev), dtype="float64")
    assert m.dtype is tg.float64


def test_pad_mode_errors_carry_tgs_message(dev):
    t = tg.Tensor([[1.0]], device=dev)
    with pytest.raises(tg.Error, match="reflect pads 1, 1 on dim 1 of size 1"):
        t.pad((1, 1), mode="reflect")
