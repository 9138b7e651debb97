"""mlp.py: examples/mlp.c in Python. A 2-64-64-3 ReLU network learns to tell
the three arms of a noisy 2-D spiral apart (1,500 training and 600 test
points it makes itself), with Adam, in batches of 100.

    python python/examples/mlp.py --device cpu [--steps 300] [--save mlp.safetensors]
"""
import argparse
import math
import random

import tg
import tg.nn as nn


def spiral(n_per_class, rng):
    """Points of class k lie along the arm angle(r) = 2*pi*k/3 + 5*r."""
    xs, ys = [], []
    for i in range(3 * n_per_class):
        k, r = i % 3, rng.random()
        t = 2 * math.pi * k / 3 + 5 * r + 0.15 * rng.gauss(0, 1)
        xs.append([r * math.sin(t), r * math.cos(t)])
        ys.append(k)
    return xs, ys


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default=None, help="a plugin name, or auto (default: $TG_DEVICE, else auto)")
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--save", help="write the trained weights to this safetensors file")
    args = ap.parse_args()
    if args.device:
        tg.set_default_device(args.device)
    tg.manual_seed(args.seed)
    rng = random.Random(args.seed)
    xs, ys = spiral(500, rng)
    test_x, test_y = spiral(200, rng)
    x, y = tg.Tensor(xs), tg.Tensor(ys)
    model = nn.Sequential(nn.Linear(2, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 3))
    opt = nn.Adam(model.parameters(), lr=0.01)
    n = len(ys)
    for step in range(args.steps):
        start = step * 100 % n
        loss = model(x[start:start + 100]).cross_entropy(y[start:start + 100])
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 100 == 0 or step == args.steps - 1:
            print("step %4d  loss %.4f" % (step, loss.item()))
    with tg.no_grad():
        acc = (model(tg.Tensor(test_x)).argmax(axis=1) == tg.Tensor(test_y)).float().mean().item()
    print("device %s  test accuracy %.3f" % (tg.default_device().name, acc))
    if args.save:
        nn.safe_save(model.state_dict(), args.save)


if __name__ == "__main__":
    main()
