#!/usr/bin/env python3
"""bench/cpu/gpt_peers.py -- examples/gpt beside torch (CPU, eager), the same
shapes and the same weights, one after the other on one machine (issue 15):

  train:  a training step (AdamW) of a 6-layer, 6-head, 384-wide model on
          batch 8 x 256 tokens, vocabulary 65 (steps/s);
  decode: 128 tokens, greedy, with a KV cache, on a 12-layer, 12-head,
          768-wide model (GPT-2 small's shape, random weights, vocabulary
          50257) with a context of 256 (tokens/s).

The weights are made by torch (nanoGPT's initialisation), written as
safetensors with nanoGPT's names and loaded by the tg example (--load), so
both sides run the same model. Without torch the tg side runs alone on its
own random weights.

usage: bench/cpu/gpt_peers.py [--build DIR] [--device cpu] [--steps N] [--only train|decode] [--quick]

DIR is a meson build directory holding examples/gpt (default: build).
--quick shrinks every shape (a check that the script works, not a figure).
Run it on a quiet machine, twice. As peers.py does, it waits for the load
average to fall below 1.0 before each side of each workload and reports the
CPU time other processes used during it (INVALID above 0.2 cores).
"""
import argparse
import json
import os
import re
import struct
import subprocess
import sys
import tempfile
import time

from peers import Section

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

SHAPES = {
    "train": dict(layers=6, heads=6, embd=384, block=256, vocab=65, batch=8),
    "decode": dict(layers=12, heads=12, embd=768, block=256, vocab=50257, tokens=128),
}
QUICK = {
    "train": dict(layers=2, heads=2, embd=32, block=32, vocab=65, batch=2),
    "decode": dict(layers=2, heads=2, embd=32, block=64, vocab=300, tokens=16),
}


def write_safetensors(path, tensors):
    """8-byte little-endian header length, JSON header, raw float32 data."""
    header, off = {}, 0
    for name, a in tensors.items():
        n = a.size * 4
        header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [off, off + n]}
        off += n
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h)
        for a in tensors.values():
            f.write(a.astype("<f4").tobytes())


def torch_model(s):
    """nanoGPT's GPT (pre-norm blocks, exact GELU, tied head) in plain torch."""
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    C, H = s["embd"], s["heads"]

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln_1, self.ln_2 = nn.LayerNorm(C), nn.LayerNorm(C)
            self.attn = nn.Module()
            self.attn.c_attn, self.attn.c_proj = nn.Linear(C, 3 * C), nn.Linear(C, C)
            self.mlp = nn.Module()
            self.mlp.c_fc, self.mlp.c_proj = nn.Linear(C, 4 * C), nn.Linear(4 * C, C)

        def forward(self, x, cache=None):
            B, T, _ = x.shape
            q, k, v = self.attn.c_attn(self.ln_1(x)).split(C, dim=2)
            hd = lambda z: z.view(B, T, H, C // H).transpose(1, 2)
            q, k, v = hd(q), hd(k), hd(v)
            if cache is not None:  # decode: grow the cache by this token
                if cache:
                    k, v = torch.cat([cache[0], k], 2), torch.cat([cache[1], v], 2)
                cache[:] = [k, v]
            y = F.scaled_dot_product_attention(q, k, v, is_causal=cache is None)
            x = x + self.attn.c_proj(y.transpose(1, 2).reshape(B, T, C))
            return x + self.mlp.c_proj(F.gelu(self.mlp.c_fc(self.ln_2(x))))

    class GPT(nn.Module):
        def __init__(self):
            super().__init__()
            self.transformer = nn.Module()
            self.transformer.wte = nn.Embedding(s["vocab"], C)
            self.transformer.wpe = nn.Embedding(s["block"], C)
            self.transformer.h = nn.ModuleList(Block() for _ in range(s["layers"]))
            self.transformer.ln_f = nn.LayerNorm(C)
            for name, p in self.named_parameters():
                if name.endswith("bias"):
                    nn.init.zeros_(p)
                elif p.dim() == 2:
                    std = 0.02 / (2 * s["layers"]) ** 0.5 if name.endswith("c_proj.weight") else 0.02
                    nn.init.normal_(p, 0.0, std)

        def forward(self, idx, pos0=0, caches=None):
            t = self.transformer
            x = t.wte(idx) + t.wpe(torch.arange(pos0, pos0 + idx.shape[1]))
            for i, blk in enumerate(t.h):
                x = blk(x, None if caches is None else caches[i])
            return F.linear(t.ln_f(x), t.wte.weight)

    torch.manual_seed(1)
    return GPT()


def run_tg(build, device, kind, s, steps, weights):
    cmd = [f"{build}/examples/gpt", "--device", device, "--bench", kind, "--layers", str(s["layers"]),
           "--heads", str(s["heads"]), "--embd", str(s["embd"]), "--block", str(s["block"]),
           "--vocab", str(s["vocab"])]
    cmd += ["--batch", str(s["batch"]), "--steps", str(steps)] if kind == "train" else ["--tokens", str(s["tokens"])]
    if weights:
        cmd += ["--load", weights]
    env = dict(os.environ, TG_PLUGIN_PATH=f"{build}/plugins")
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if r.returncode:
        raise RuntimeError(f"{' '.join(cmd)}: {r.stderr.strip()}")
    line = [l for l in r.stdout.splitlines() if l.startswith("tg ")][-1]
    rate = float(re.search(r"([0-9.]+) (steps|tokens)/s", line).group(1))
    progs = re.search(r"([0-9]+) programs", line)
    return rate, progs.group(1) if progs else "", line


def torch_train(model, s, steps):
    import torch
    import torch.nn.functional as F
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    g = torch.Generator().manual_seed(0)
    x = torch.randint(0, s["vocab"], (s["batch"], s["block"]), generator=g)
    y = torch.randint(0, s["vocab"], (s["batch"], s["block"]), generator=g)

    def step():
        loss = F.cross_entropy(model(x).view(-1, s["vocab"]), y.view(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()

    for _ in range(2):
        step()
    t = time.perf_counter()
    for _ in range(steps):
        step()
    return steps / (time.perf_counter() - t)


def torch_decode(model, s):
    import torch
    with torch.no_grad():
        caches = [[] for _ in range(s["layers"])]
        tok = torch.zeros((1, 1), dtype=torch.long)
        tok = model(tok, 0, caches)[:, -1].argmax(-1, keepdim=True)  # the first step, as tg's
        t = time.perf_counter()
        for i in range(s["tokens"]):
            tok = model(tok, i + 1, caches)[:, -1].argmax(-1, keepdim=True)
        return s["tokens"] / (time.perf_counter() - t)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--steps", type=int, default=5, help="timed training steps (after 2 warm-up steps)")
    ap.add_argument("--only", choices=["train", "decode"])
    ap.add_argument("--quick", action="store_true")
    a = ap.parse_args()
    try:
        import torch
        torch_ok = True
        print(f"# torch {torch.__version__}, {torch.get_num_threads()} threads")
    except ImportError:
        torch_ok = False
        print("# torch is not installed: tg figures only, on its own random weights")
    rows = []

    def judged(name, fn):
        with Section() as sec:
            r = fn()
        print(f"# {name}: load average {sec.before:.2f} before; other processes used {sec.foreign:.2f} cores during "
              f"it{'' if sec.valid() else '  INVALID'}")
        return r, sec.valid()
    for kind in ["train", "decode"]:
        if a.only and kind != a.only:
            continue
        s = (QUICK if a.quick else SHAPES)[kind]
        with tempfile.TemporaryDirectory() as tmp:
            model, weights, peer = None, None, None
            if torch_ok:
                model = torch_model(s)
                sd = {k: v.detach().numpy() for k, v in model.state_dict().items()}
                weights = f"{tmp}/gpt.safetensors"
                write_safetensors(weights, sd)
            (rate, progs, line), ok = judged(f"tg {kind}", lambda: run_tg(a.build, a.device, kind, s, a.steps, weights))
            print("#", line)
            if torch_ok:
                peer, ok2 = judged(f"torch {kind}", lambda: torch_train(model, s, a.steps) if kind == "train"
                                   else torch_decode(model, s))
                ok = ok and ok2
        shape = ", ".join(f"{k} {v}" for k, v in s.items())
        unit = "steps/s" if kind == "train" else "tokens/s"
        rows.append((kind, shape, unit, rate, peer, progs, ok))
    print()
    print("| workload | shape | unit | tg " + a.device + " | torch cpu | tg / torch | programs compiled after step 1 | valid |")
    print("| --- | --- | --- | ---: | ---: | ---: | ---: | --- |")
    for kind, shape, unit, rate, peer, progs, ok in rows:
        ratio = f"{rate / peer:.2f}" if peer else "-"
        print(f"| {kind} | {shape} | {unit} | {rate:.3f} | {f'{peer:.3f}' if peer else '-'} | {ratio} | {progs} | "
              f"{'yes' if ok else 'INVALID'} |")


if __name__ == "__main__":
    sys.exit(main())
