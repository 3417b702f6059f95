#!/usr/bin/python3
"""Golden tensors for the GPT tests: tiny models of both families in PyTorch, and of the position encodings.

For each family (gpt2: LayerNorm + bias, GELU-tanh, tied lm_head, ln_f; microgpt: weightless RMSNorm
after the embedding and before each sub-layer, ReLU, no biases, untied lm_head, no final norm; and the gpt2
architecture with other positions than its learned wpe: sinusoidal, the Transformer paper's fixed
PE[t, 2i] = sin(t / 10000^(2i/C)), PE[t, 2i+1] = cos(...) added to wte[tok]; rope, rotary embeddings on each
head's q and k with base 10000 and Hugging Face LLaMA's / GPT-NeoX's rotate_half pairing (channel i with
i + hs/2) over the whole head, as transformers' modeling_llama.apply_rotary_pos_emb; neither has wpe) this
writes tools/reference/golden/gpt_<family>.safetensors holding
  - the weights under Hugging Face GPT-2 names, Linear weights in Conv1D (in, out) layout (as our
    checkpoints), lm_head.weight only when untied;
  - "input_ids" and "targets" (B, T) as float32 (-1 = ignored target);
  - "logits" (B, T, V), "loss" (1);
  - "grad.<name>" for every weight, in the same layout.
and gpt_<family>.json with the config (config.json keys). Computed in float64 from the float32 weights.
Run: /usr/bin/python3 tools/reference/gpt_golden.py
"""
import json
import math
import os
import struct

import torch
import torch.nn.functional as F

torch.set_num_threads(2)
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "golden")
V, C, NH, L, BLOCK, B, T = 11, 8, 2, 2, 8, 2, 6


def write_safetensors(path, tensors):
    header, blobs, offset = {}, [], 0
    for name, t in tensors.items():
        data = t.detach().to(torch.float32).contiguous().numpy().tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    raw = json.dumps(header).encode()
    raw += b" " * ((8 - len(raw) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(raw)))
        f.write(raw)
        for b in blobs:
            f.write(b)


POSITIONS = {"gpt2": "learned", "microgpt": "learned", "sinusoidal": "sinusoidal", "rope": "rope"}


def build(family, gen):
    gpt2 = family != "microgpt"
    def randn(*shape, std=0.3):
        return (torch.randn(*shape, generator=gen) * std).to(torch.float32)
    p = {"wte.weight": randn(V, C)}
    if POSITIONS[family] == "learned":
        p["wpe.weight"] = randn(BLOCK, C)
    for l in range(L):
        h = f"h.{l}."
        if gpt2:
            p[h + "ln_1.weight"] = 1 + randn(C, std=0.1)
            p[h + "ln_1.bias"] = randn(C, std=0.1)
        p[h + "attn.c_attn.weight"] = randn(C, 3 * C)
        if gpt2:
            p[h + "attn.c_attn.bias"] = randn(3 * C, std=0.1)
        p[h + "attn.c_proj.weight"] = randn(C, C)
        if gpt2:
            p[h + "attn.c_proj.bias"] = randn(C, std=0.1)
            p[h + "ln_2.weight"] = 1 + randn(C, std=0.1)
            p[h + "ln_2.bias"] = randn(C, std=0.1)
        p[h + "mlp.c_fc.weight"] = randn(C, 4 * C)
        if gpt2:
            p[h + "mlp.c_fc.bias"] = randn(4 * C, std=0.1)
        p[h + "mlp.c_proj.weight"] = randn(4 * C, C)
        if gpt2:
            p[h + "mlp.c_proj.bias"] = randn(C, std=0.1)
    if gpt2:
        p["ln_f.weight"] = 1 + randn(C, std=0.1)
        p["ln_f.bias"] = randn(C, std=0.1)
    else:
        p["lm_head.weight"] = randn(V, C)
    return p


def sinusoids(Tn):
    pe = torch.zeros(Tn, C, dtype=torch.float64)
    angle = torch.arange(Tn, dtype=torch.float64)[:, None] / 10000 ** (torch.arange(0, C, 2, dtype=torch.float64) / C)
    pe[:, 0::2], pe[:, 1::2] = torch.sin(angle), torch.cos(angle)
    return pe


def rotate_half(x):
    x1, x2 = x[..., : x.shape[-1] // 2], x[..., x.shape[-1] // 2 :]
    return torch.cat((-x2, x1), dim=-1)


def rope(x):  # x (B, NH, T, hs): x·cos + rotate_half(x)·sin, cos/sin of t·θ_i repeated over both halves
    hs, Tn = x.shape[-1], x.shape[-2]
    inv_freq = 1.0 / 10000 ** (torch.arange(0, hs, 2, dtype=torch.float64) / hs)
    freqs = torch.outer(torch.arange(Tn, dtype=torch.float64), inv_freq)
    emb = torch.cat((freqs, freqs), dim=-1)
    return x * emb.cos() + rotate_half(x) * emb.sin()


def forward(family, P, idx, targets):
    gpt2 = family != "microgpt"
    positions = POSITIONS[family]
    eps = 1e-5

    def norm(x, name):
        if gpt2:
            return F.layer_norm(x, (C,), P[name + ".weight"], P[name + ".bias"], eps)
        return x * torch.rsqrt((x * x).mean(-1, keepdim=True) + eps)

    def linear(x, name):  # Conv1D: x @ W (in, out) + b
        y = x @ P[name + ".weight"]
        return y + P[name + ".bias"] if gpt2 else y

    x = P["wte.weight"][idx]
    if positions == "learned":
        x = x + P["wpe.weight"][: idx.shape[1]]
    elif positions == "sinusoidal":
        x = x + sinusoids(idx.shape[1])
    if not gpt2:
        x = norm(x, "ln_emb")
    hs = C // NH
    Tn = idx.shape[1]
    mask = torch.tril(torch.ones(Tn, Tn, dtype=torch.bool))
    for l in range(L):
        h = f"h.{l}."
        qkv = linear(norm(x, h + "ln_1"), h + "attn.c_attn")
        q, k, v = qkv.split(C, dim=2)
        q, k, v = (t.view(B, Tn, NH, hs).transpose(1, 2) for t in (q, k, v))
        if positions == "rope":
            q, k = rope(q), rope(k)
        att = (q @ k.transpose(-2, -1)) / math.sqrt(hs)
        att = att.masked_fill(~mask, float("-inf")).softmax(-1)
        y = (att @ v).transpose(1, 2).contiguous().view(B, Tn, C)
        x = x + linear(y, h + "attn.c_proj")
        f = linear(norm(x, h + "ln_2"), h + "mlp.c_fc")
        f = F.gelu(f, approximate="tanh") if gpt2 else F.relu(f)
        x = x + linear(f, h + "mlp.c_proj")
    if gpt2:
        x = norm(x, "ln_f")
    logits = x @ (P["wte.weight"] if gpt2 else P["lm_head.weight"]).T
    loss = F.cross_entropy(logits.view(-1, V), targets.view(-1), ignore_index=-1)
    return logits, loss


def main():
    os.makedirs(OUT, exist_ok=True)
    for family, seed in (("gpt2", 1), ("microgpt", 2), ("sinusoidal", 3), ("rope", 4)):
        gen = torch.Generator().manual_seed(seed)
        weights = build(family, gen)
        idx = torch.randint(0, V, (B, T), generator=gen)
        targets = torch.randint(0, V, (B, T), generator=gen)
        targets[1, 4:] = -1  # padding: ignored positions at the end of a row
        P = {k: w.to(torch.float64).requires_grad_(True) for k, w in weights.items()}
        logits, loss = forward(family, P, idx, targets)
        loss.backward()
        tensors = dict(weights)
        tensors["input_ids"] = idx.to(torch.float32)
        tensors["targets"] = targets.to(torch.float32)
        tensors["logits"] = logits.detach()
        tensors["loss"] = loss.detach().reshape(1)
        for k, w in P.items():
            tensors["grad." + k] = w.grad
        write_safetensors(os.path.join(OUT, f"gpt_{family}.safetensors"), tensors)
        config = {
            "vocab_size": V, "n_positions": BLOCK, "n_embd": C, "n_layer": L, "n_head": NH,
            "layer_norm_epsilon": 1e-5,
            "activation_function": "gelu_new" if family != "microgpt" else "relu",
            "tie_word_embeddings": family != "microgpt",
            "norm": "layernorm" if family != "microgpt" else "rmsnorm",
            "bias": family != "microgpt", "embedding_norm": family == "microgpt", "final_norm": family != "microgpt",
        }
        if POSITIONS[family] != "learned":
            config["positions"] = POSITIONS[family]
        with open(os.path.join(OUT, f"gpt_{family}.json"), "w") as f:
            json.dump(config, f, indent=2)
        print(f"{family}: loss {loss.item():.6f}")


if __name__ == "__main__":
    main()
