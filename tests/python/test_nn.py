"""tg.nn against numpy: layers, training a small MLP, optimisers,
safetensors state dicts; the certification commands as functions."""
import numpy as np
import pytest

import tg
import tg.nn as nn

rng = np.random.default_rng(3)


def close(t, want, tol=1e-5):
    np.testing.assert_allclose(t.numpy(), want, rtol=tol, atol=tol)


def test_linear(dev):
    tg.set_default_device(dev)
    lin = nn.Linear(4, 3)
    w, b = lin.weight.numpy(), lin.bias.numpy()
    assert w.shape == (3, 4) and np.abs(w).max() <= 0.5 and lin.weight.requires_grad
    x = rng.normal(size=(5, 4)).astype(np.float32)
    close(lin(tg.Tensor(x)), x @ w.T + b, 1e-5)
    assert set(lin.state_dict()) == {"weight", "bias"} and len(lin.parameters()) == 2


def test_conv2d(dev):
    tg.set_default_device(dev)
    conv = nn.Conv2d(2, 3, 3, padding=1, stride=2)
    x = rng.normal(size=(1, 2, 5, 5)).astype(np.float32)
    w, b = conv.weight.numpy(), conv.bias.numpy()
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    want = np.zeros((1, 3, 3, 3), np.float32)
    for o in range(3):
        for i in range(3):
            for j in range(3):
                want[0, o, i, j] = (xp[0, :, 2 * i:2 * i + 3, 2 * j:2 * j + 3] * w[o]).sum() + b[o]
    close(conv(tg.Tensor(x)), want, 1e-4)


def test_layernorm_embedding(dev):
    tg.set_default_device(dev)
    x = rng.normal(size=(2, 3, 8)).astype(np.float32)
    ln = nn.LayerNorm(8)
    want = (x - x.mean(-1, keepdims=True)) / np.sqrt(x.var(-1, keepdims=True) + 1e-5)
    close(ln(tg.Tensor(x)), want, 1e-4)
    emb = nn.Embedding(10, 4)
    close(emb([[1, 9], [0, 1]]), emb.weight.numpy()[[[1, 9], [0, 1]]])


def test_sgd_step_matches_the_rule(dev):
    tg.set_default_device(dev)
    p = tg.Tensor([1.0, -2.0], requires_grad=True)
    opt = nn.SGD([p], lr=0.1)
    (p * p).sum().backward()
    opt.step()
    close(p, [1.0 - 0.1 * 2, -2.0 + 0.1 * 4])
    opt.zero_grad()
    assert p.grad is None


def test_mlp_trains(dev):
    tg.set_default_device(dev)
    tg.manual_seed(1)
    n = 200
    cls = rng.integers(0, 3, n)
    r = rng.uniform(0.1, 1, n)
    ang = r * 4 + cls * 2 * np.pi / 3 + rng.normal(0, 0.1, n)
    x = tg.Tensor(np.stack([r * np.sin(ang), r * np.cos(ang)], 1).astype(np.float32))
    y = tg.Tensor(cls.astype(np.int32))
    model = nn.Sequential(nn.Linear(2, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, 3))
    opt = nn.Adam(model.parameters(), lr=0.02)
    first = None
    for _ in range(150):
        loss = model(x).cross_entropy(y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        first = first if first is not None else loss.item()
    assert loss.item() < first / 4
    assert (model(x).argmax(axis=1) == y).float().mean().item() > 0.9


def test_state_dict_safetensors(dev, tmp_path):
    tg.set_default_device(dev)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    sd = model.state_dict()
    assert list(sd) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    path = tmp_path / "m.safetensors"
    nn.safe_save(sd, path)
    loaded = nn.safe_load(path)
    assert set(loaded) == set(sd) and all(np.array_equal(loaded[k].numpy(), sd[k].numpy()) for k in sd)
    other = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    other.load_state_dict(loaded)
    x = tg.Tensor(rng.normal(size=(2, 3)).astype(np.float32))
    close(other(x), model(x).numpy())
    with pytest.raises(KeyError):
        other.load_state_dict({"0.weight": loaded["0.weight"]})
    with pytest.raises(tg.Error):
        nn.safe_load(tmp_path / "missing.safetensors")


def test_conform_and_bench():
    cert = tg.conform("ref", filters=["op.EXP2.float32"])
    assert cert["plugin_name"] == "ref" and cert["totals"]["PASS"] > 0 and cert["totals"]["FAIL"] == 0
    assert cert["passed"] is True
    res = tg.bench("ref", suites=["op"], filter="elementwise/add_1024k")
    assert res["benchmarks"] and res["benchmarks"][0]["name"].startswith("ref/elementwise/add_1024k")
    with pytest.raises(tg.Error):
        tg.conform("no_such_plugin")


def test_mlp_example(tmp_path):
    """python/examples/mlp.py (examples/mlp.c in Python) trains and saves."""
    import os
    import re
    import subprocess
    import sys
    script = os.path.join(os.path.dirname(__file__), "..", "..", "python", "examples", "mlp.py")
    out = subprocess.run([sys.executable, script, "--steps", "150", "--save", str(tmp_path / "mlp.safetensors")],
                         capture_output=True, text=True, check=True).stdout
    acc = float(re.search(r"test accuracy ([0-9.]+)", out).group(1))
    assert acc > 0.9, out
    assert set(nn.safe_load(tmp_path / "mlp.safetensors")) == {"0.weight", "0.bias", "2.weight", "2.bias",
                                                               "4.weight", "4.bias"}
