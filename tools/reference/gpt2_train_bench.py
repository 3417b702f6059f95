#!/usr/bin/python3
"""PyTorch reference for `bench gpt2`: one GPT-2-shaped training step, timed.

The model is GPT-2's architecture (Hugging Face GPT2LMHeadModel, in plain torch): vocab 50257,
2 layers, 12 heads, 768 channels, block 256; LayerNorm with bias, Linear with bias, GELU (tanh),
tied lm_head, causal attention through F.scaled_dot_product_attention (nanoGPT's fast path) when this torch has it. The step is
nanoGPT's: forward + cross-entropy, backward, clip the gradient norm to 1.0, AdamW (lr 6e-4,
β 0.9/0.95, weight decay 0.1 on the Linear weights only, as TokenSpace's trainer).
Batch 4 × 256 random token windows (speed does not depend on the ids).

Prints one JSON line {"bench": "gpt2", "implementation": "pytorch", "threads", "steps",
"ms_per_step" (median), "tokens_per_second"}.
Run by `dotnet run -c Release --project bench/TokenSpace.Bench -- gpt2`.
"""
import argparse
import json
import math
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

V, L, NH, C, BLOCK, B = 50257, 2, 12, 768, 256, 4


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln_1, self.ln_2 = nn.LayerNorm(C), nn.LayerNorm(C)
        self.c_attn, self.c_proj = nn.Linear(C, 3 * C), nn.Linear(C, C)
        self.c_fc, self.mlp_proj = nn.Linear(C, 4 * C), nn.Linear(4 * C, C)

    def forward(self, x):
        Bn, T, _ = x.shape
        q, k, v = self.c_attn(self.ln_1(x)).split(C, dim=2)
        q, k, v = (t.view(Bn, T, NH, C // NH).transpose(1, 2) for t in (q, k, v))
        if hasattr(F, "scaled_dot_product_attention"):
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        else:  # torch < 2.0 (Debian's python3-torch 1.13): nanoGPT's slow path
            att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(C // NH))
            att = att.masked_fill(torch.ones(T, T, dtype=torch.bool).triu(1), float("-inf")).softmax(-1)
            y = att @ v
        x = x + self.c_proj(y.transpose(1, 2).contiguous().view(Bn, T, C))
        return x + self.mlp_proj(F.gelu(self.c_fc(self.ln_2(x)), approximate="tanh"))


class Gpt2(nn.Module):
    def __init__(self):
        super().__init__()
        self.wte, self.wpe = nn.Embedding(V, C), nn.Embedding(BLOCK, C)
        self.h = nn.ModuleList(Block() for _ in range(L))
        self.ln_f = nn.LayerNorm(C)
        for p in self.parameters():
            if p.dim() == 2:
                nn.init.normal_(p, 0.0, 0.02)

    def forward(self, idx, targets):
        x = self.wte(idx) + self.wpe(torch.arange(idx.shape[1]))
        for block in self.h:
            x = block(x)
        logits = self.ln_f(x) @ self.wte.weight.T
        return F.cross_entropy(logits.view(-1, V), targets.view(-1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=5)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = Gpt2()
    decay = [p for n, p in model.named_parameters() if p.dim() == 2 and not n.startswith(("wte", "wpe"))]
    other = [p for n, p in model.named_parameters() if not (p.dim() == 2 and not n.startswith(("wte", "wpe")))]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": other, "weight_decay": 0.0}], lr=6e-4, betas=(0.9, 0.95))
    g = torch.Generator().manual_seed(1)
    times = []
    for step in range(1 + a.steps):  # one untimed warm-up step
        x = torch.randint(V, (B, BLOCK), generator=g)
        y = torch.randint(V, (B, BLOCK), generator=g)
        start = time.perf_counter()
        loss = model(x, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if step > 0:
            times.append(time.perf_counter() - start)
    ms = statistics.median(times) * 1000
    print(json.dumps({"bench": "gpt2", "implementation": "pytorch", "threads": a.threads, "steps": a.steps,
                      "ms_per_step": ms, "tokens_per_second": B * BLOCK / (ms / 1000)}), flush=True)


if __name__ == "__main__":
    main()
