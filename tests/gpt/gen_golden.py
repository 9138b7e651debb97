#!/usr/bin/env python3
"""Golden files for tests/gpt (numpy only; torch optional).

A tiny random GPT (2 layers, 2 heads, width 16, vocabulary 11, context 8)
in nanoGPT's layout, written as safetensors the way
safetensors.torch.save_model writes a nanoGPT model: the tied head under
lm_head.weight (transformer.wte.weight, its alias, left out) and each
layer's causal-mask buffer attn.bias. Its logits for two fixed sequences,
computed here in float64 from the float32 weights, go to tiny_logits.txt.
The same weights in GPT-2's own (Hugging Face) layout go to
tiny_gpt2.safetensors: names without "transformer.", the blocks' Conv1D
weights stored (in, out), the head tied to wte.weight.

    python3 tests/gpt/gen_golden.py tests/gpt/golden

With torch installed it also checks the logits against torch's own layers.
"""
import json
import math
import struct
import sys

import numpy as np

L, H, C, V, T = 2, 2, 16, 11, 8
TOKENS = [[3, 1, 4, 1, 5, 9, 2, 6], [10, 0, 7, 7, 2, 8, 1, 0]]


def make_weights(rng):
    w = {}
    f32 = lambda *shape, s=0.3: (rng.standard_normal(shape) * s).astype(np.float32)
    w["lm_head.weight"] = f32(V, C)
    w["transformer.wpe.weight"] = f32(T, C)
    for l in range(L):
        p = f"transformer.h.{l}."
        w[p + "ln_1.weight"] = (1 + f32(C, s=0.1)).astype(np.float32)
        w[p + "ln_1.bias"] = f32(C, s=0.1)
        w[p + "attn.c_attn.weight"] = f32(3 * C, C)
        w[p + "attn.c_attn.bias"] = f32(3 * C, s=0.1)
        w[p + "attn.c_proj.weight"] = f32(C, C)
        w[p + "attn.c_proj.bias"] = f32(C, s=0.1)
        w[p + "attn.bias"] = np.tril(np.ones((T, T), np.float32)).reshape(1, 1, T, T)
        w[p + "ln_2.weight"] = (1 + f32(C, s=0.1)).astype(np.float32)
        w[p + "ln_2.bias"] = f32(C, s=0.1)
        w[p + "mlp.c_fc.weight"] = f32(4 * C, C)
        w[p + "mlp.c_fc.bias"] = f32(4 * C, s=0.1)
        w[p + "mlp.c_proj.weight"] = f32(C, 4 * C)
        w[p + "mlp.c_proj.bias"] = f32(C, s=0.1)
    w["transformer.ln_f.weight"] = (1 + f32(C, s=0.1)).astype(np.float32)
    w["transformer.ln_f.bias"] = f32(C, s=0.1)
    return w


def write_safetensors(path, tensors):
    """The format: 8-byte little-endian header length, JSON header, raw data."""
    header, blobs, off = {}, [], 0
    for name, a in tensors.items():
        b = np.ascontiguousarray(a, dtype="<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def forward(w, idx):
    d = lambda n: w[n].astype(np.float64)
    erf = np.vectorize(math.erf)

    def ln(x, p):
        m = x.mean(-1, keepdims=True)
        v = ((x - m) ** 2).mean(-1, keepdims=True)
        return (x - m) / np.sqrt(v + 1e-5) * d(p + ".weight") + d(p + ".bias")

    def lin(x, p):
        return x @ d(p + ".weight").T + d(p + ".bias")

    B, n = idx.shape
    x = d("lm_head.weight")[idx] + d("transformer.wpe.weight")[:n]
    for l in range(L):
        p = f"transformer.h.{l}."
        q, k, v = np.split(lin(ln(x, p + "ln_1"), p + "attn.c_attn"), 3, axis=-1)
        heads = lambda t: t.reshape(B, n, H, C // H).transpose(0, 2, 1, 3)
        q, k, v = heads(q), heads(k), heads(v)
        att = q @ k.transpose(0, 1, 3, 2) / math.sqrt(C // H)
        att = np.where(np.tril(np.ones((n, n), bool)), att, -np.inf)
        att = np.exp(att - att.max(-1, keepdims=True))
        att /= att.sum(-1, keepdims=True)
        y = (att @ v).transpose(0, 2, 1, 3).reshape(B, n, C)
        x = x + lin(y, p + "attn.c_proj")
        h = lin(ln(x, p + "ln_2"), p + "mlp.c_fc")
        x = x + lin(0.5 * h * (1 + erf(h / math.sqrt(2))), p + "mlp.c_proj")
    return ln(x, "transformer.ln_f") @ d("lm_head.weight").T


def torch_check(w, idx, logits):
    try:
        import torch
    except ImportError:
        print("torch not installed: numpy logits only")
        return
    import torch.nn.functional as F
    t = {k: torch.tensor(v, dtype=torch.float64) for k, v in w.items()}
    x = F.embedding(torch.tensor(idx), t["lm_head.weight"]) + t["transformer.wpe.weight"][: idx.shape[1]]
    for l in range(L):
        p = f"transformer.h.{l}."
        a = F.layer_norm(x, (C,), t[p + "ln_1.weight"], t[p + "ln_1.bias"])
        q, k, v = F.linear(a, t[p + "attn.c_attn.weight"], t[p + "attn.c_attn.bias"]).split(C, dim=2)
        hd = lambda z: z.view(z.shape[0], z.shape[1], H, C // H).transpose(1, 2)
        y = F.scaled_dot_product_attention(hd(q), hd(k), hd(v), is_causal=True)
        y = y.transpose(1, 2).reshape(x.shape)
        x = x + F.linear(y, t[p + "attn.c_proj.weight"], t[p + "attn.c_proj.bias"])
        m = F.gelu(F.linear(F.layer_norm(x, (C,), t[p + "ln_2.weight"], t[p + "ln_2.bias"]), t[p + "mlp.c_fc.weight"], t[p + "mlp.c_fc.bias"]))
        x = x + F.linear(m, t[p + "mlp.c_proj.weight"], t[p + "mlp.c_proj.bias"])
    x = F.layer_norm(x, (C,), t["transformer.ln_f.weight"], t["transformer.ln_f.bias"])
    got = F.linear(x, t["lm_head.weight"]).numpy()
    print("torch agrees to %.2g" % np.abs(got - logits).max())
    assert np.abs(got - logits).max() < 1e-9


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "golden"
    w = make_weights(np.random.default_rng(15))
    idx = np.array(TOKENS)
    logits = forward(w, idx)
    torch_check(w, idx, logits)
    write_safetensors(f"{out}/tiny.safetensors", w)
    hf = {}
    for name, a in w.items():
        name = "wte.weight" if name == "lm_head.weight" else name.removeprefix("transformer.")
        conv1d = name.startswith("h.") and name.endswith(".weight") and ".ln_" not in name
        hf[name] = np.ascontiguousarray(a.T) if conv1d else a
    write_safetensors(f"{out}/tiny_gpt2.safetensors", hf)
    with open(f"{out}/tiny_logits.txt", "w") as f:
        f.write(f"# tests/gpt/gen_golden.py: layers {L} heads {H} width {C} vocab {V} context {T}\n")
        f.write("tokens " + " ".join(str(t) for row in TOKENS for t in row) + "\n")
        f.write(" ".join("%.9g" % v for v in logits.reshape(-1)) + "\n")


if __name__ == "__main__":
    main()
