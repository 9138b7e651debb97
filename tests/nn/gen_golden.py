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


if __name__ == "__main__":
    os.makedirs(HERE, exist_ok=True)
    gen_dtypes()
