"""overhead.py: what a Python call costs over the same C call (issue 17).

The call: c = a + b; c.realize() on two cached n-element float32 tensors
(n = 1 and 16), steady state (the kernel compiled and its plan kept after a
warm-up), timed three ways:

  C       overhead_c.c (beside this file): tg_add, tg_realize, tg_release;
  Python  (a + b).realize() through the tg package;
  torch   a + b (eager; its per-call overhead on the same machine), when
          torch is importable here or by --torch-python (another
          interpreter, e.g. a venv with torch); else skipped.

    python bench/python/overhead.py [--device ref] [--iters 20000] [--torch-python PY]
    python bench/python/overhead.py --callgrind   # instructions per call instead

Timing needs a quiet machine: the load average is printed before and after,
and the figures are flagged when it is 1.5 or more. --callgrind counts
instructions (valgrind's callgrind) instead, which a busy machine does not
disturb: each side runs twice (ITERS and 2*ITERS calls) and the difference,
divided by ITERS, is the count per call (start-up and warm-up cancel).

The C program is compiled here with cc against the meson build in
$TG_BUILD_DIR (default: build/ beside bench/); the tg package must be
importable (pip install ./python, or build/pyenv's python).
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def build_c(tmp):
    build = os.path.abspath(os.environ.get("TG_BUILD_DIR") or os.path.join(ROOT, "build"))
    exe = os.path.join(tmp, "overhead_c")
    libdir = os.path.join(build, "core")
    subprocess.run([os.environ.get("CC", "cc"), "-O2", "-std=c11", "-D_POSIX_C_SOURCE=200809L",
                    "-I", os.path.join(ROOT, "core", "include"), "-I", os.path.join(ROOT, "sdk", "include"),
                    os.path.join(HERE, "overhead_c.c"), "-o", exe, "-L", libdir, "-ltg",
                    "-Wl,-rpath," + libdir], check=True)
    return exe


def py_loop(device, n, iters):
    """Seconds per (a + b).realize() in this process, after a warm-up."""
    import tg
    a = tg.Tensor([1.0] * n, device=device).realize()
    b = tg.Tensor([2.0] * n, device=device).realize()
    for _ in range(100):
        (a + b).realize()
    t0 = time.perf_counter()
    for _ in range(iters):
        (a + b).realize()
    return (time.perf_counter() - t0) / iters


def torch_loop(n, iters):
    import torch
    torch.set_num_threads(1)
    a, b = torch.ones(n), torch.ones(n)
    for _ in range(100):
        a + b
    t0 = time.perf_counter()
    for _ in range(iters):
        a + b
    return (time.perf_counter() - t0) / iters


def has_torch():
    try:
        import torch  # noqa: F401
        return True
    except ImportError:
        return False


def torch_sub(python, n, iters):
    """Seconds per torch a + b, timed by `python` (one process per run)."""
    out = subprocess.run([python, os.path.abspath(__file__), "--inner-torch", str(n), str(iters)], check=True,
                         capture_output=True, text=True).stdout
    return float(out.split()[-1])


def c_loop(exe, device, n, iters):
    out = subprocess.run([exe, device, str(n), str(iters)], check=True, capture_output=True, text=True).stdout
    return float(out.split()[1]) * 1e-9


def best(fn, repeats=5):
    """The median of a few runs (each already an average over many calls)."""
    return statistics.median(fn() for _ in range(repeats))


def callgrind_total(cmd, tmp):
    out = os.path.join(tmp, "cg.out")
    subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out] + cmd, check=True,
                   capture_output=True)
    with open(out) as f:
        for line in f:
            m = re.match(r"(summary|totals):\s*(\d+)", line)
            if m:
                return int(m.group(2))
    raise RuntimeError("no totals in callgrind's output")


def per_call(cmd_for, iters, tmp):
    """Instructions per call: runs with iters and 2*iters calls, differenced."""
    return (callgrind_total(cmd_for(2 * iters), tmp) - callgrind_total(cmd_for(iters), tmp)) / iters


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="ref")
    ap.add_argument("--iters", type=int, default=20000)
    ap.add_argument("--sizes", default="1,16")
    ap.add_argument("--callgrind", action="store_true", help="count instructions per call (valgrind) instead")
    ap.add_argument("--torch-python", metavar="PY", help="an interpreter with torch (default: this one)")
    ap.add_argument("--inner", nargs=2, type=int, metavar=("N", "ITERS"), help=argparse.SUPPRESS)
    ap.add_argument("--inner-torch", nargs=2, type=int, metavar=("N", "ITERS"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.inner:  # one Python loop, for callgrind
        py_loop(args.device, *args.inner)
        return
    if args.inner_torch:  # one torch loop, for callgrind or another interpreter: prints seconds per call
        print(torch_loop(*args.inner_torch))
        return
    torch_py = args.torch_python or (sys.executable if has_torch() else None)
    sizes = [int(s) for s in args.sizes.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        exe = build_c(tmp)
        if args.callgrind:
            iters = min(args.iters, 2000)
            print("instructions per call (callgrind, %d and %d calls differenced), device %s" %
                  (iters, 2 * iters, args.device))
            print("%6s %12s %12s %12s %12s" % ("n", "C", "Python", "Py - C", "torch a+b"))
            for n in sizes:
                c = per_call(lambda k: [exe, args.device, str(n), str(k)], iters, tmp)
                py = per_call(lambda k: [sys.executable, os.path.abspath(__file__), "--device", args.device,
                                         "--inner", str(n), str(k)], iters, tmp)
                th = per_call(lambda k: [torch_py, os.path.abspath(__file__), "--inner-torch", str(n), str(k)],
                              iters, tmp) if torch_py else None
                print("%6d %12.0f %12.0f %12.0f %12s" % (n, c, py, py - c, "%.0f" % th if th else "skipped"))
            return
        load0 = os.getloadavg()[0]
        print("microseconds per call, median of 5 runs of %d calls, device %s" % (args.iters, args.device))
        print("%6s %10s %10s %10s %10s" % ("n", "C", "Python", "Py - C", "torch"))
        for n in sizes:
            c = best(lambda: c_loop(exe, args.device, n, args.iters))
            py = best(lambda: py_loop(args.device, n, args.iters))
            th = "%10.2f" % (best(lambda: torch_sub(torch_py, n, args.iters)) * 1e6) if torch_py else \
                "%10s" % "skipped"
            print("%6d %10.2f %10.2f %10.2f %s" % (n, c * 1e6, py * 1e6, (py - c) * 1e6, th))
        load1 = os.getloadavg()[0]
        note = "" if max(load0, load1) < 1.5 else "  (NOT a quiet machine: figures unreliable; use --callgrind)"
        print("load average before %.2f, after %.2f%s" % (load0, load1, note))


if __name__ == "__main__":
    main()
