#!/usr/bin/env python3
"""bench/cpu/peers.py -- the cpu plugin beside numpy, torch and tinygrad (each
where installed) and the machine's C baselines, in one run on one machine.
Prints every figure and the ratio each target of the cpu issue asks for.

usage: bench/cpu/peers.py [--build DIR] [--skip-peers] [--only NAME,...] [--cold]

DIR is a meson build directory holding plugins/cpu/tg-cpu.so and core/libtg.so
(default: build). The kernel-level programs (bench_cpu.c, bench_tg.c) are
compiled here with the system C compiler. --cold adds the cold starts: the
first MLP step of a process with an empty kernel cache (two processes) and
`tg conform --plugin cpu` with an empty cache.

A figure means something only on a quiet machine. Before tg and before
each peer, peers.py waits (up to a minute) for the 1-minute load average to
fall below 1.0, and prints it before and after. The load average after a run
counts the run's own threads (on 2 cores a benchmark that uses both lifts it
to ~2 by itself), so what judges a column is the CPU time *other* processes
used while it ran: the machine's busy time (/proc/stat) minus this process
tree's own. A column whose run saw a load above 1.5 before it, or others
using more than 0.2 cores during it, is marked INVALID (torch's threads
thrash under load). torch runs with as many threads as this process may use.
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


LOAD_MAX = 1.5     # load average before a run
FOREIGN_MAX = 0.2  # cores other processes may use during a run


def load():
    return os.getloadavg()[0]


def busy_seconds():
    """CPU seconds the whole machine spent busy (/proc/stat, all cores)."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + (v[4] if len(v) > 4 else 0)  # idle + iowait
    return (sum(v[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def own_seconds():
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


class Section:
    """The load before and after a run and the cores others used during it."""

    def __enter__(self):
        for _ in range(60):
            if load() < 1.0:
                break
            time.sleep(1)
        self.before, self.busy, self.own, self.wall = load(), busy_seconds(), own_seconds(), time.perf_counter()
        return self

    def __exit__(self, *exc):
        wall = time.perf_counter() - self.wall
        self.after = load()
        self.foreign = max(0.0, (busy_seconds() - self.busy) - (own_seconds() - self.own)) / max(wall, 1e-9)
        return False

    def valid(self):
        return self.before <= LOAD_MAX and self.foreign <= FOREIGN_MAX


def best_time(fn, reps=7, warm=1):
    """Least seconds of `reps` calls: the figure least disturbed by other
    processes on a shared machine (bench_cpu and bench_tg report the same)."""
    for _ in range(warm):
        fn()
    ts = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return min(ts)


def sh(cmd, env=None):
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: {r.stderr.strip()}")
    return r.stdout


def build_programs(build, out):
    cc = os.environ.get("CC", "cc")
    inc = ["-I", f"{ROOT}/sdk/include", "-I", f"{ROOT}/tests/cpu",
           "-I", f"{ROOT}/core/include"]
    sh([cc, "-O3", "-march=native", "-std=gnu11", *inc, "-I", f"{ROOT}/bench", "-o", f"{out}/bench_cpu",
        f"{HERE}/bench_cpu.c", f"{ROOT}/bench/peak.c", "-ldl", "-lm", "-lpthread"])
    tg = None
    if os.path.exists(f"{build}/core/libtg.so"):
        try:
            sh([cc, "-O2", "-std=gnu11", *inc, "-o", f"{out}/bench_tg", f"{HERE}/bench_tg.c", f"-L{build}/core", "-ltg",
                f"-Wl,-rpath,{build}/core", "-lm"])
            tg = f"{out}/bench_tg"
        except RuntimeError as e:
            print(f"# bench_tg not built: {e}", file=sys.stderr)
    return f"{out}/bench_cpu", tg


def parse(text):
    res = {}
    for line in text.splitlines():
        f = line.split()
        if len(f) >= 3:
            res[f[0]] = (float(f[1]), float(f[2]), f[3] if len(f) > 3 else "")
    return res


def run_tg(build, skip_tg, only, cold):
    with tempfile.TemporaryDirectory() as tmp:
        bench_cpu, bench_tg = build_programs(build, tmp)
        env = dict(os.environ, TG_PLUGIN_PATH=f"{build}/plugins")
        work = [w for w in ["triad", "relu", "read", "sum", "matmul1024", "matmul2048", "conv", "tiny", "peak"]
                if not only or w in only or w in ("triad", "read", "peak")]
        res = parse(sh([bench_cpu, f"{build}/plugins/cpu/tg-cpu.so", *work], env))
        if bench_tg and not skip_tg:
            for w in ["tiny", "mlp"]:
                if only and w not in only and "tg_" + w not in only:
                    continue
                try:
                    res.update(parse(sh([bench_tg, w, "cpu"], env)))
                except RuntimeError as e:
                    print(f"# bench_tg {w}: {e}", file=sys.stderr)
            try:
                sh([bench_tg, "expr", "cpu"], env)  # warm the kernel cache
                t = best_time(lambda: sh([bench_tg, "expr", "cpu"], env), reps=9, warm=0)
                res["tg_process"] = (t, t * 1e3, "ms")
            except RuntimeError as e:
                print(f"# bench_tg expr: {e}", file=sys.stderr)
        if bench_tg and cold:
            firsts = []
            for i in range(2):  # two processes, each with an empty kernel cache
                with tempfile.TemporaryDirectory() as cache:
                    r = parse(sh([bench_tg, "first", "cpu"], dict(env, XDG_CACHE_HOME=cache)))
                    firsts.append(r["tg_first"][1])
            res["tg_first"] = (0, min(firsts), "ms " + " / ".join(f"{f:.1f}" for f in firsts))
            with tempfile.TemporaryDirectory() as cache:
                t = time.perf_counter()
                subprocess.run([f"{build}/cli/tg", "conform", "--plugin", "cpu", "--jobs", "2"], capture_output=True,
                               env=dict(env, XDG_CACHE_HOME=cache))
                res["conform_cold"] = (0, time.perf_counter() - t, "s")
        return res


N16 = 16 << 20
N64 = 64 << 20


def peer_numpy(res):
    import numpy as np
    for n in (1024, 2048):
        a = np.random.rand(n, n).astype(np.float32)
        b = np.random.rand(n, n).astype(np.float32)
        t = best_time(lambda: a @ b, reps=5 if n == 2048 else 9)
        res[f"matmul{n}"] = 2 * n ** 3 / t * 1e-9
    a, b, c = (np.random.rand(N16).astype(np.float32) for _ in range(3))
    t = best_time(lambda: np.maximum(a * b + c, 0))
    res["relu"] = 16 * N16 / t * 1e-9
    x = np.random.rand(N64).astype(np.float32)
    t = best_time(lambda: x.sum())
    res["sum"] = 4 * N64 / t * 1e-9


def peer_torch(res):
    import torch
    torch.set_num_threads(len(os.sched_getaffinity(0)))
    for n in (1024, 2048):
        a, b = torch.rand(n, n), torch.rand(n, n)
        t = best_time(lambda: a @ b, reps=5)
        res[f"matmul{n}"] = 2 * n ** 3 / t * 1e-9
    a, b, c = torch.rand(N16), torch.rand(N16), torch.rand(N16)
    t = best_time(lambda: torch.relu(a * b + c))
    res["relu"] = 16 * N16 / t * 1e-9
    x = torch.rand(N64)
    t = best_time(lambda: x.sum())
    res["sum"] = 4 * N64 / t * 1e-9
    x = torch.rand(32, 64, 56, 56)
    w = torch.rand(64, 64, 3, 3)
    flop = 2 * 32 * 64 * 56 * 56 * 64 * 9
    with torch.no_grad():
        t = best_time(lambda: torch.nn.functional.conv2d(x, w, padding=1), reps=5)
        res["conv_nchw"] = flop / t * 1e-9
        xc, wc = x.to(memory_format=torch.channels_last), w.to(memory_format=torch.channels_last)
        t = best_time(lambda: torch.nn.functional.conv2d(xc, wc, padding=1), reps=5)
        res["conv_cl"] = flop / t * 1e-9
    res["conv"] = max(res["conv_nchw"], res["conv_cl"])
    model = torch.nn.Sequential(torch.nn.Linear(784, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10))
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    xb, yb = torch.rand(128, 784), torch.arange(128) % 10

    def step():
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(xb), yb)
        loss.backward()
        opt.step()
    t = best_time(lambda: [step() for _ in range(20)], reps=5) / 20
    res["tg_mlp"] = 1 / t
    a1, b1 = torch.ones(1), torch.ones(1)
    t = best_time(lambda: [a1 + b1 for _ in range(10000)], reps=5) / 10000
    res["tg_tiny"] = t * 1e6


def peer_tinygrad(res):
    os.environ.setdefault("DEV", "CPU")
    from tinygrad import Tensor
    a, b = Tensor.rand(1024, 1024).realize(), Tensor.rand(1024, 1024).realize()
    t = best_time(lambda: (a @ b).realize(), reps=3)
    res["matmul1024"] = 2 * 1024 ** 3 / t * 1e-9
    a, b, c = (Tensor.rand(N16).realize() for _ in range(3))
    t = best_time(lambda: (a * b + c).relu().realize(), reps=5)
    res["relu"] = 16 * N16 / t * 1e-9
    x = Tensor.rand(N64).realize()
    t = best_time(lambda: x.sum().realize(), reps=5)
    res["sum"] = 4 * N64 / t * 1e-9
    a1, b1 = Tensor.ones(1).contiguous().realize(), Tensor.ones(1).contiguous().realize()
    t = best_time(lambda: [(a1 + b1).realize() for _ in range(200)], reps=5) / 200
    res["tg_tiny"] = t * 1e6


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--skip-peers", action="store_true")
    ap.add_argument("--cold", action="store_true", help="also the cold starts (about 30 s more)")
    ap.add_argument("--only", default="", help="comma-separated workloads")
    args = ap.parse_args()
    only = set(filter(None, args.only.split(",")))
    build = os.path.abspath(args.build)
    loads = {}  # column -> Section
    with Section() as sec:
        tg = run_tg(build, False, only, args.cold)
    loads["tg cpu"] = sec
    peers = {}
    if not args.skip_peers:
        for name, fn in (("numpy", peer_numpy), ("torch", peer_torch), ("tinygrad", peer_tinygrad)):
            try:
                r = {}
                with Section() as sec:
                    fn(r)
                loads[name] = sec
                peers[name] = r
            except Exception as e:  # not installed, or the peer failed: say so and go on
                print(f"# {name}: {type(e).__name__}: {e}", file=sys.stderr)

    def val(key):
        return tg[key][1] if key in tg else None

    def best_peer(key, names=("numpy", "torch")):
        vals = [peers[n][key] for n in names if key in peers.get(n, {})]
        return max(vals) if vals else None

    peak = val("fma_peak")
    rows = [
        # workload, unit, tg key, baseline value, target text, met(tg, base)
        ("matmul f32 N=1024", "GFLOP/s", "matmul1024", best_peer("matmul1024"), ">= 1.05x best peer",
         lambda t, b: t >= 1.05 * b),
        ("  of the FMA peak", "GFLOP/s", "matmul1024", peak, ">= 0.85x FMA peak", lambda t, b: t >= 0.85 * b),
        ("matmul f32 N=2048", "GFLOP/s", "matmul2048", best_peer("matmul2048"), ">= 1.05x best peer",
         lambda t, b: t >= 1.05 * b),
        ("  of the FMA peak", "GFLOP/s", "matmul2048", peak, ">= 0.85x FMA peak", lambda t, b: t >= 0.85 * b),
        ("relu(a*b+c) 16M f32", "GB/s", "relu", val("c_triad"), ">= 0.9x C triad", lambda t, b: t >= 0.9 * b),
        ("sum 64M f32", "GB/s", "sum", val("c_read"), ">= 0.9x C read loop", lambda t, b: t >= 0.9 * b),
        ("conv2d 32x64x56x56 3x3", "GFLOP/s", "conv", best_peer("conv", ("torch",)),
         ">= 1.2x torch (best layout)", lambda t, b: t >= 1.2 * b),
        ("MLP 784-128-10 step b128", "steps/s", "tg_mlp", best_peer("tg_mlp", ("torch",)), ">= 1.5x torch",
         lambda t, b: t >= 1.5 * b),
        ("first MLP step, cold", "ms", "tg_first", None, "<= 100 ms", lambda t, b: t <= 100),
        ("conform cpu, cold", "s", "conform_cold", None, "<= 20 s", lambda t, b: t <= 20),
        ("tiny add, tensor API", "us", "tg_tiny", None, "< 2 us", lambda t, b: t < 2),
        ("tiny add, plugin launch", "us", "tiny_launch", None, "(info)", None),
        ("process, warm cache", "ms", "tg_process", None, "< 20 ms", lambda t, b: t < 20),
    ]
    names = ["numpy", "torch", "tinygrad"]
    for col, sec in loads.items():
        flag = "" if sec.valid() else "  INVALID"
        print(f"# {col}: load average {sec.before:.2f} before, {sec.after:.2f} after; other processes used "
              f"{sec.foreign:.2f} cores during it{flag}")
    if "torch" in peers:
        t = peers["torch"]
        print(f"# torch conv2d: NCHW {t.get('conv_nchw', 0):.1f}, channels_last {t.get('conv_cl', 0):.1f} GFLOP/s; "
              f"{len(os.sched_getaffinity(0))} threads")
    if peak:
        print(f"# FMA peak measured here: {peak:.1f} GFLOP/s")
    print(f"{'workload':26} {'unit':8} {'tg cpu':>9} " + " ".join(f"{n:>9}" for n in names) +
          f" {'C base':>9}  {'target':28} {'ratio':>6} met")
    invalid = {c for c, sec in loads.items() if not sec.valid()}
    for label, unit, key, bval, target, ok in rows:
        t = val(key)
        if only and key not in only and key.replace("tg_", "") not in only:
            continue
        cols = []
        for n in names:
            v = peers.get(n, {}).get(key)
            cols.append(f"{v:9.2f}" if v is not None and not label.startswith("  ") else f"{'-':>9}")
        cbase = val("c_triad") if key == "relu" else val("c_read") if key == "sum" else None
        ratio = f"{t / bval:6.2f}" if t is not None and bval else f"{'':6}"
        met = "" if ok is None or t is None else ("yes" if ok(t, bval) else "NO") if (bval or "x" not in target) else "?"
        if invalid and met:
            met += " (INVALID: load)"
        tcol = f"{t:9.2f}" if t is not None else f"{'-':>9}"
        ccol = f"{cbase:9.2f}" if cbase is not None else f"{'':>9}"
        extra = f"  [{tg[key][2]}]" if key == "tg_first" and key in tg else ""
        print(f"{label:26} {unit:8} {tcol} " + " ".join(cols) + f" {ccol}  {target:28} {ratio} {met}{extra}")


if __name__ == "__main__":
    main()
