#!/usr/bin/env python3
"""bench/gpu/peers.py -- the cuda plugin beside torch on the same GPU: the
workloads of the GPU targets of issue 12, timed by bench_cuda (through the
plugin ABI) and by torch, with the ratio each target asks for.

usage: bench/gpu/peers.py [--build DIR] [--out DIR] [--tg-bench-json FILE]
                          [--skip-tg] [--skip-torch] [--device cuda|cpu]

DIR is a meson build directory holding plugins/cuda/tg-cuda.so (default:
build). bench_cuda.c is compiled here with the system C compiler. --out
writes peers.json and peers.txt there. --tg-bench-json: the JSON of
`tg bench --plugin cuda`, to read tg's MLP training step from. --device cpu
runs the torch side on the CPU at small sizes (a check of this script on a
machine without a GPU; its figures mean nothing).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

# name: (what, unit, what the target compares, target)
TARGETS = {
    "relu": ("relu(a*b+c), 64M float32", "GB/s", "tg / torch copy bandwidth", 0.85),
    "sum": ("sum of 256M float32", "GB/s", "tg / torch copy bandwidth", 0.85),
    "copy": ("device-to-device copy, 1 GiB", "GB/s", "tg / torch", None),
    "copy_kernel": ("y = a kernel, 64M float32", "GB/s", "tg / torch copy bandwidth", None),
    "matmul_f32": ("matmul 4096 float32, no TF32", "TFLOP/s", "tg / torch", 0.6),
    "matmul_f16": ("matmul 4096 float16", "TFLOP/s", "tg / torch", None),
    "matmul_bf16": ("matmul 4096 bfloat16", "TFLOP/s", "tg / torch", None),
    "launch": ("1-element launch + sync", "us", "tg (us) <= 10", 10.0),
    "mlp_train": ("MLP training step b128 784-256-10", "ms", "torch / tg (> 1: tg faster)", 1.0),
}


def run_tg(build):
    """bench_cuda's lines as {name: (seconds, figure)}."""
    plugin = os.path.join(build, "plugins", "cuda", "tg-cuda.so")
    if not os.path.exists(plugin):
        print(f"# tg: no plugin at {plugin}", file=sys.stderr)
        return {}
    exe = os.path.join(tempfile.mkdtemp(prefix="tg-bench-cuda-"), "bench_cuda")
    cc = os.environ.get("CC", "cc")
    cmd = [cc, "-O2", "-std=gnu11", "-I", f"{ROOT}/sdk/include", "-I", f"{ROOT}/tests/cpu", "-o", exe,
           f"{HERE}/bench_cuda.c", "-ldl", "-lm"]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        print(f"# tg: bench_cuda did not build: {r.stderr.strip()}", file=sys.stderr)
        return {}
    r = subprocess.run([exe, plugin], capture_output=True, text=True)
    sys.stderr.write(r.stderr)
    if r.returncode == 77:
        print("# tg: no CUDA device (bench_cuda exit 77)", file=sys.stderr)
    res = {}
    for line in r.stdout.splitlines():
        print(f"# tg: {line}")
        f = line.split()
        if len(f) >= 4 and not line.startswith("#"):
            res[f[0]] = (float(f[1]), float(f[2]))
    return res


def tg_mlp(path):
    """Seconds per MLP training step from `tg bench --json` (Google Benchmark JSON)."""
    if not path or not os.path.exists(path):
        return None
    with open(path) as f:
        data = json.load(f)
    scale = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}
    for b in data.get("benchmarks", []):
        if "mlp_train_b128_784_256_10" in b.get("name", "") and b.get("run_type", "iteration") == "iteration":
            return b["real_time"] * scale.get(b.get("time_unit", "ns"), 1e-9)
    return None


def run_torch(device):
    """torch's figures as {name: (seconds, figure)}."""
    try:
        import torch
    except ImportError as e:
        print(f"# torch: not available ({e})", file=sys.stderr)
        return {}
    gpu = device == "cuda"
    if gpu and not torch.cuda.is_available():
        print("# torch: no CUDA device", file=sys.stderr)
        return {}
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    dev = torch.device(device)
    small = 1 if gpu else 64  # on the CPU (a check of this script) sizes shrink

    def sync():
        if gpu:
            torch.cuda.synchronize()

    def best(fn, reps=5, inner=10):
        fn()
        sync()
        ts = []
        for _ in range(reps):
            if gpu:
                a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
                a.record()
                for _ in range(inner):
                    fn()
                b.record()
                b.synchronize()
                ts.append(a.elapsed_time(b) * 1e-3 / inner)
            else:
                t = time.perf_counter()
                for _ in range(inner):
                    fn()
                ts.append((time.perf_counter() - t) / inner)
        return min(ts)

    res = {}
    n = (64 << 20) // small
    a, b, c = (torch.rand(n, device=dev) - 0.5 for _ in range(3))
    t = best(lambda: torch.relu(a * b + c))
    res["relu"] = (t, 16.0 * n / t * 1e-9)
    y = torch.empty_like(a)
    t = best(lambda: y.copy_(a))
    res["copy_kernel"] = (t, 8.0 * n / t * 1e-9)
    del a, b, c, y
    nbytes = (1 << 30) // small
    src = torch.empty(nbytes, dtype=torch.uint8, device=dev)
    dst = torch.empty_like(src)
    t = best(lambda: dst.copy_(src))
    res["copy"] = (t, 2.0 * nbytes / t * 1e-9)
    del src, dst
    n = (256 << 20) // small
    x = torch.rand(n, device=dev)
    t = best(lambda: x.sum())
    res["sum"] = (t, 4.0 * n / t * 1e-9)
    del x
    N = 4096 // (8 if not gpu else 1)
    for name, dt in (("matmul_f32", torch.float32), ("matmul_f16", torch.float16), ("matmul_bf16", torch.bfloat16)):
        A, B = torch.rand(N, N, device=dev, dtype=dt), torch.rand(N, N, device=dev, dtype=dt)
        t = best(lambda: A @ B, reps=3, inner=3)
        res[name] = (t, 2.0 * N ** 3 / t * 1e-12)
    one = torch.zeros(1, device=dev)
    ts = []
    for i in range(2000 if gpu else 50):
        t0 = time.perf_counter()
        one.add_(1.0)
        sync()
        ts.append(time.perf_counter() - t0)
    res["launch"] = (min(ts), min(ts) * 1e6)
    res["mlp_train"] = mlp_step(torch, dev, best)
    return res


def mlp_step(torch, dev, best):
    """One SGD step of the bench's model/mlp_train_b128_784_256_10: 784 -> 256
    relu -> 10, softmax cross-entropy, SGD on weights and biases."""
    g = torch.Generator(device="cpu").manual_seed(0)
    x = torch.rand(128, 784, generator=g).to(dev)
    y = torch.randint(0, 10, (128,), generator=g).to(dev)
    w1 = (torch.rand(784, 256, generator=g) * 0.1).to(dev).requires_grad_()
    b1 = torch.zeros(256, device=dev, requires_grad=True)
    w2 = (torch.rand(256, 10, generator=g) * 0.1).to(dev).requires_grad_()
    b2 = torch.zeros(10, device=dev, requires_grad=True)

    def step():
        loss = torch.nn.functional.cross_entropy(torch.relu(x @ w1 + b1) @ w2 + b2, y)
        loss.backward()
        with torch.no_grad():
            for p in (w1, b1, w2, b2):
                p -= 0.01 * p.grad
                p.grad = None

    t = best(step, reps=5, inner=20)
    return (t, t * 1e3)


def table(tg, torch_res, mlp):
    rows = []
    copy_bw = torch_res.get("copy", (None, None))[1]
    for name, (what, unit, rule, target) in TARGETS.items():
        a = tg.get(name, (None, None))[1]
        b = torch_res.get(name, (None, None))[1]
        if name == "mlp_train" and mlp:
            a = mlp * 1e3
        ratio = None
        if name in ("relu", "sum", "copy_kernel") and a and copy_bw:
            ratio = a / copy_bw
        elif name == "launch":
            ratio = a
        elif name == "mlp_train" and a and b:
            ratio = b / a
        elif a and b:
            ratio = a / b
        met = None
        if ratio is not None and target is not None:
            met = ratio <= target if name == "launch" else ratio >= target
        rows.append({"name": name, "what": what, "unit": unit, "tg": a, "torch": b, "compares": rule,
                     "ratio": ratio, "target": target, "met": met})
    return rows


def fmt(v):
    return "-" if v is None else f"{v:.3g}"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--out", default=None)
    ap.add_argument("--tg-bench-json", default=None)
    ap.add_argument("--skip-tg", action="store_true")
    ap.add_argument("--skip-torch", action="store_true")
    ap.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
    args = ap.parse_args()
    out = args.out or tempfile.mkdtemp(prefix="tg-gpu-peers-")
    os.makedirs(out, exist_ok=True)
    tg = {} if args.skip_tg else run_tg(os.path.abspath(args.build))
    torch_res = {} if args.skip_torch else run_torch(args.device)
    rows = table(tg, torch_res, tg_mlp(args.tg_bench_json))
    lines = [f"{'workload':<12} {'what':<36} {'unit':<8} {'tg':>9} {'torch':>9} {'ratio':>7} {'target':>7}  met"]
    for r in rows:
        met = "-" if r["met"] is None else ("yes" if r["met"] else "NO")
        lines.append(f"{r['name']:<12} {r['what']:<36} {r['unit']:<8} {fmt(r['tg']):>9} {fmt(r['torch']):>9} "
                     f"{fmt(r['ratio']):>7} {fmt(r['target']):>7}  {met}   ({r['compares']})")
    text = "\n".join(lines)
    print(text)
    with open(os.path.join(out, "peers.txt"), "w") as f:
        f.write(text + "\n")
    with open(os.path.join(out, "peers.json"), "w") as f:
        json.dump({"device": args.device, "tg": tg, "torch": torch_res, "rows": rows}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
