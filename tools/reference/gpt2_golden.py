#!/usr/bin/python3
"""Golden Hugging Face GPT-2 folder for the checkpoint-loading tests.

transformers is not installed here, so the model is a plain-torch transcription of Hugging Face's
GPT2LMHeadModel forward (eval mode): wte + wpe; per block ln_1 → Conv1D c_attn (x @ W(in, out) + b) →
q | k | v split, heads, scores / sqrt(head size), causal mask, softmax, c_proj; residual; ln_2 → c_fc →
gelu_new (the tanh form) → c_proj; residual; ln_f; logits = x @ wteᵀ (tied lm_head). LayerNorm eps 1e-5.

It writes tools/reference/golden/hf_gpt2_tiny/ as a Hugging Face save would:
  - model.safetensors: every weight under "transformer.<HF name>", Conv1D weights (in, out), plus the
    non-parameter buffers transformer.h.{i}.attn.bias (1, 1, n_positions, n_positions) and
    transformer.h.{i}.attn.masked_bias (scalar), which a loader must skip; no lm_head.weight (tied);
  - config.json with Hugging Face's keys only;
  - vocab.json + merges.txt: a tiny byte-level BPE (the 256 byte symbols, 5 merges, <|endoftext|>: 262 ids);
and golden.json: input ids (fixed), the logits (T, V) computed in float64 from the float32 weights.
Small random weights (seed 7), so the files stay ~60 KB.
Run: /usr/bin/python3 tools/reference/gpt2_golden.py
"""
import json
import math
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gpt_golden import write_safetensors  # noqa: E402  (one safetensors writer for every golden script)

torch.set_num_threads(2)
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "golden", "hf_gpt2_tiny")
C, NH, L, BLOCK = 16, 2, 2, 16
MERGES = [("h", "e"), ("Ġ", "t"), ("Ġt", "he"), ("i", "n"), ("Ġ", "a")]


def bytes_to_unicode():
    """GPT-2's byte ↔ printable-character table (encoder.py)."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return [chr(c) for c in cs]


def vocabulary():
    symbols = bytes_to_unicode() + [a + b for a, b in MERGES] + ["<|endoftext|>"]
    return {s: i for i, s in enumerate(symbols)}


def gelu_new(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


def conv1d(x, P, name):
    return torch.addmm(P[name + ".bias"], x.reshape(-1, x.shape[-1]), P[name + ".weight"]).view(*x.shape[:-1], -1)


def forward(P, idx):
    T = idx.shape[1]
    ln = lambda x, n: torch.nn.functional.layer_norm(x, (C,), P[n + ".weight"], P[n + ".bias"], 1e-5)
    x = P["wte.weight"][idx] + P["wpe.weight"][torch.arange(T)]
    hs = C // NH
    causal = torch.tril(torch.ones(T, T, dtype=torch.bool))
    for l in range(L):
        h = f"h.{l}."
        q, k, v = conv1d(ln(x, h + "ln_1"), P, h + "attn.c_attn").split(C, dim=2)
        q, k, v = (t.view(1, T, NH, hs).transpose(1, 2) for t in (q, k, v))
        w = (q @ k.transpose(-1, -2)) / math.sqrt(hs)
        w = torch.where(causal, w, torch.tensor(torch.finfo(w.dtype).min, dtype=w.dtype)).softmax(-1)
        a = (w @ v).transpose(1, 2).contiguous().view(1, T, C)
        x = x + conv1d(a, P, h + "attn.c_proj")
        x = x + conv1d(gelu_new(conv1d(ln(x, h + "ln_2"), P, h + "mlp.c_fc")), P, h + "mlp.c_proj")
    return ln(x, "ln_f") @ P["wte.weight"].T


def main():
    os.makedirs(OUT, exist_ok=True)
    vocab = vocabulary()
    V = len(vocab)
    gen = torch.Generator().manual_seed(7)
    randn = lambda *s, std=0.2: (torch.randn(*s, generator=gen) * std).to(torch.float32)
    P = {"wte.weight": randn(V, C), "wpe.weight": randn(BLOCK, C, std=0.05)}
    for l in range(L):
        h = f"h.{l}."
        P[h + "ln_1.weight"], P[h + "ln_1.bias"] = 1 + randn(C, std=0.1), randn(C, std=0.1)
        P[h + "attn.c_attn.weight"], P[h + "attn.c_attn.bias"] = randn(C, 3 * C), randn(3 * C, std=0.05)
        P[h + "attn.c_proj.weight"], P[h + "attn.c_proj.bias"] = randn(C, C), randn(C, std=0.05)
        P[h + "ln_2.weight"], P[h + "ln_2.bias"] = 1 + randn(C, std=0.1), randn(C, std=0.1)
        P[h + "mlp.c_fc.weight"], P[h + "mlp.c_fc.bias"] = randn(C, 4 * C), randn(4 * C, std=0.05)
        P[h + "mlp.c_proj.weight"], P[h + "mlp.c_proj.bias"] = randn(4 * C, C), randn(C, std=0.05)
    P["ln_f.weight"], P["ln_f.bias"] = 1 + randn(C, std=0.1), randn(C, std=0.1)

    tensors = {}
    for name, w in P.items():
        tensors["transformer." + name] = w
        if name.endswith("ln_1.weight"):  # HF keeps the mask buffers in the state dict of old checkpoints
            layer = name[: -len("ln_1.weight")]
            tensors[f"transformer.{layer}attn.bias"] = torch.tril(torch.ones(BLOCK, BLOCK)).view(1, 1, BLOCK, BLOCK)
            tensors[f"transformer.{layer}attn.masked_bias"] = torch.tensor(-1e4)
    write_safetensors(os.path.join(OUT, "model.safetensors"), tensors)

    config = {
        "architectures": ["GPT2LMHeadModel"], "model_type": "gpt2", "activation_function": "gelu_new",
        "vocab_size": V, "n_positions": BLOCK, "n_ctx": BLOCK, "n_embd": C, "n_layer": L, "n_head": NH,
        "layer_norm_epsilon": 1e-5, "initializer_range": 0.02, "resid_pdrop": 0.1, "embd_pdrop": 0.1, "attn_pdrop": 0.1,
        "bos_token_id": V - 1, "eos_token_id": V - 1,
    }
    with open(os.path.join(OUT, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    with open(os.path.join(OUT, "vocab.json"), "w", encoding="utf-8") as f:
        json.dump(vocab, f, ensure_ascii=False)
    with open(os.path.join(OUT, "merges.txt"), "w", encoding="utf-8") as f:
        f.write("#version: 0.2\n" + "".join(f"{a} {b}\n" for a, b in MERGES))

    ids = torch.tensor([[V - 1, 256, 258, 40, 259, 260, 72, 257, 3, 17, 65, 258, 100, 12]])
    with torch.no_grad():
        logits = forward({k: w.to(torch.float64) for k, w in P.items()}, ids)[0]
    with open(os.path.join(OUT, "..", "hf_gpt2_tiny.json"), "w") as f:
        json.dump({"input_ids": ids[0].tolist(), "logits": [[round(v, 9) for v in row] for row in logits.tolist()]}, f)
    print(f"V {V}, logits {tuple(logits.shape)}, |logits| max {logits.abs().max().item():.4f}")


if __name__ == "__main__":
    main()
