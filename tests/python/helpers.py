"""Helpers the Python tests share: compare a tensor with numpy, random inputs."""
import numpy as np

import tg


def close(t, ref, tol=1e-5):
    got = t.numpy() if isinstance(t, tg.Tensor) else np.asarray(t)
    ref = np.asarray(ref)
    assert got.shape == ref.shape, (got.shape, ref.shape)
    np.testing.assert_allclose(got.astype(np.float64), ref.astype(np.float64), rtol=tol, atol=tol)


def rnd(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)
