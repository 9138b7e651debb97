#!/usr/bin/env python3
"""Golden files for tests/nn, made by independent implementations.

  dtypes.safetensors  written by the `safetensors` package (pip install
                      safetensors numpy): one tensor per dtype numpy has, each
                      arange(n) cast to that dtype, so the C test can check
                      every element without a second copy of the numbers.
  optim.safetensors   parameter trajectories of SGD/Adam/AdamW written with
                      numpy from the update rules in PyTorch's documentation
                      (torch.optim.SGD, Adam, AdamW), for tests/nn/test_optim.c.

Run from anywhere: python3 tests/nn/gen_golden.py
"""
import os
import numpy as np

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "golden")


def gen_dtypes():
    from safetensors.numpy import save_file
    shapes = {
        "bool": (5,), "int8": (2, 3), "uint8": (7,), "int16": (3, 2), "uint16": (4,),
        "int32": (2, 2, 2), "uint32": (3,), "int64": (2, 3), "uint64": (1, 4),
        "float16": (2, 5), "float32": (3, 4), "float64": (6,),
    }
    arrays = {}
    for name, shape in shapes.items():
        n = int(np.prod(shape))
        a = np.arange(n) % 2 if name == "bool" else np.arange(n)
        arrays[name] = a.astype(np.dtype(name)).reshape(shape)
    arrays["scalar_f32"] = np.array(3.5, dtype=np.float32)
    arrays["empty_f32"] = np.zeros((0, 3), dtype=np.float32)
    save_file(arrays, os.path.join(HERE, "dtypes.safetensors"), metadata={"format": "np"})


# The loss the C test builds: sum(0.5 * w * p^2 + c * p), so grad = w*p + c.
P0 = np.array([[0.5, -1.0, 2.0], [-0.25, 1.5, -3.0]])
W = np.array([[1.0, 2.0, 0.5], [3.0, 0.25, 1.5]])
C = np.array([[0.1, -0.2, 0.3], [0.0, 0.5, -0.4]])
STEPS = 5

# name: (kind, options); the C test has the same table.
CONFIGS = {
    "sgd": ("sgd", dict(lr=0.1)),
    "sgd_momentum": ("sgd", dict(lr=0.1, momentum=0.9, dampening=0.1, weight_decay=0.01)),
    "sgd_nesterov": ("sgd", dict(lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.05)),
    "adam": ("adam", dict(lr=0.05)),
    "adam_wd": ("adam", dict(lr=0.02, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1)),
    "adamw": ("adamw", dict(lr=0.05, weight_decay=0.1)),
}


def sgd(p, steps, lr, momentum=0.0, dampening=0.0, nesterov=False, weight_decay=0.0):
    out, buf = [], None
    for _ in range(steps):
        g = W * p + C
        if weight_decay:
            g = g + weight_decay * p
        if momentum:
            buf = g.copy() if buf is None else momentum * buf + (1 - dampening) * g
            g = g + momentum * buf if nesterov else buf
        p = p - lr * g
        out.append(p)
    return np.stack(out)


def adam(p, steps, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, decoupled=False):
    out = []
    m, v = np.zeros_like(p), np.zeros_like(p)
    for t in range(1, steps + 1):
        g = W * p + C
        if decoupled:
            p = p * (1 - lr * weight_decay)
        elif weight_decay:
            g = g + weight_decay * p
        m = betas[0] * m + (1 - betas[0]) * g
        v = betas[1] * v + (1 - betas[1]) * g * g
        mhat = m / (1 - betas[0] ** t)
        vhat = v / (1 - betas[1] ** t)
        p = p - lr * mhat / (np.sqrt(vhat) + eps)
        out.append(p)
    return np.stack(out)


def gen_optim():
    from safetensors.numpy import save_file
    arrays = {"p0": P0, "w": W, "c": C}
    for name, (kind, opts) in CONFIGS.items():
        if kind == "sgd":
            arrays[name] = sgd(P0, STEPS, **opts)
        elif kind == "adam":
            arrays[name] = adam(P0, STEPS, **opts)
        else:
            opts = dict(opts, decoupled=True)
            arrays[name] = adam(P0, STEPS, **opts)
    save_file({k: np.ascontiguousarray(a, dtype=np.float64) for k, a in arrays.items()},
              os.path.join(HERE, "optim.safetensors"))


if __name__ == "__main__":
    os.makedirs(HERE, exist_ok=True)
    gen_dtypes()
    gen_optim()
