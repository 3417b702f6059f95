#!/usr/bin/python3
"""PyTorch reference for `bench train`: the same models and recipes as TokenSpace's presets.

  microgpt                one name per step, Adam(0.01, β 0.85/0.99, eps 1e-8), linear decay to 0
  shakespeare-char-small  4 layers, 4 heads, 128 channels, block 128, batch 16, no biases, AdamW
                          (wd 0.1 on Linear weights only, β 0.9/0.99), clip 1.0

Prints JSON lines {"bench": "train", "config": ..., "implementation": "pytorch", "threads": ...,
"tokens_per_second": ...}. With --val-train/--val-data (files of names, one per line, in training
order) it also trains microgpt for --val-steps steps and prints its validation loss
({"bench": "train-val-loss", ...}), every predicted token counted once.
Run by `dotnet run -c Release --project bench/TokenSpace.Bench -- train`.
"""
import argparse
import json
import math
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Gpt(nn.Module):
    def __init__(self, V, block, L, NH, C, micro):
        super().__init__()
        self.micro, self.NH, self.C = micro, NH, C
        self.register_buffer("mask", torch.tril(torch.ones(block, block)))
        bias = False
        self.wte = nn.Embedding(V, C)
        self.wpe = nn.Embedding(block, C)
        self.blocks = nn.ModuleList()
        for _ in range(L):
            b = nn.Module()
            b.c_attn = nn.Linear(C, 3 * C, bias=bias)
            b.c_proj = nn.Linear(C, C, bias=bias)
            b.c_fc = nn.Linear(C, 4 * C, bias=bias)
            b.mlp_proj = nn.Linear(4 * C, C, bias=bias)
            if not micro:
                b.ln_1 = nn.Parameter(torch.ones(C))  # LayerNorm weight; nanoGPT's bias=False
                b.ln_2 = nn.Parameter(torch.ones(C))
            self.blocks.append(b)
        if micro:
            self.lm_head = nn.Linear(C, V, bias=False)
            for p in self.parameters():
                nn.init.normal_(p, 0.0, 0.08)
        else:
            self.ln_f = nn.Parameter(torch.ones(C))
            for name, p in self.named_parameters():
                if p.dim() == 2:
                    std = 0.02 / math.sqrt(2 * L) if name.endswith("c_proj.weight") or name.endswith("mlp_proj.weight") else 0.02
                    nn.init.normal_(p, 0.0, std)

    def norm(self, x, ln):
        if self.micro:
            return x * torch.rsqrt((x * x).mean(-1, keepdim=True) + 1e-5)
        return F.layer_norm(x, (self.C,), ln, None, 1e-5)

    def forward(self, idx, targets):
        B, T = idx.shape
        x = self.wte(idx) + self.wpe(torch.arange(T))
        if self.micro:
            x = self.norm(x, None)
        for b in self.blocks:
            q, k, v = b.c_attn(self.norm(x, None if self.micro else b.ln_1)).split(self.C, dim=2)
            q, k, v = (t.view(B, T, self.NH, -1).transpose(1, 2) for t in (q, k, v))
            att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(q.size(-1)))
            att = att.masked_fill(self.mask[:T, :T] == 0, float("-inf")).softmax(-1)
            y = att @ v
            x = x + b.c_proj(y.transpose(1, 2).contiguous().view(B, T, self.C))
            h = b.c_fc(self.norm(x, None if self.micro else b.ln_2))
            h = F.relu(h) if self.micro else F.gelu(h, approximate="tanh")
            x = x + b.mlp_proj(h)
        if self.micro:
            logits = self.lm_head(x)
        else:
            logits = self.norm(x, self.ln_f) @ self.wte.weight.T
        return F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1), ignore_index=-1)


def microgpt(V):
    model = Gpt(V, 16, 1, 4, 16, micro=True)
    opt = torch.optim.Adam(model.parameters(), lr=0.01, betas=(0.85, 0.99), eps=1e-8)
    return model, opt


def doc_batch(doc, stoi, bos, block):
    tokens = [bos] + [stoi[c] for c in doc] + [bos]
    n = min(block, len(tokens) - 1)
    return torch.tensor([tokens[:n]]), torch.tensor([tokens[1 : n + 1]])


def bench_microgpt(names, steps, threads):
    docs = [l.strip() for l in open(names) if l.strip()]
    chars = sorted(set("".join(docs)))
    stoi = {c: i for i, c in enumerate(chars)}
    bos = len(chars)
    model, opt = microgpt(bos + 1)
    warm = max(2, steps // 10)
    tokens, start = 0, None
    for step in range(warm + steps):
        if step == warm:
            start = time.perf_counter()
        x, y = doc_batch(docs[step % len(docs)], stoi, bos, 16)
        for g in opt.param_groups:
            g["lr"] = 0.01 * (1 - step / (warm + steps))
        loss = model(x, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if step >= warm:
            tokens += y.numel()
    return tokens / (time.perf_counter() - start)


def bench_shakespeare(path, steps, threads):
    text = open(path).read()
    chars = sorted(set(text))
    stoi = {c: i for i, c in enumerate(chars)}
    data = torch.tensor([stoi[c] for c in text])
    model = Gpt(len(chars) + 1, 128, 4, 4, 128, micro=False)
    decay = [p for n, p in model.named_parameters() if p.dim() == 2 and "wte" not in n and "wpe" not in n]
    other = [p for n, p in model.named_parameters() if not (p.dim() == 2 and "wte" not in n and "wpe" not in n)]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": other, "weight_decay": 0.0}], lr=1e-3, betas=(0.9, 0.99))
    B, T = 16, 128
    g = torch.Generator().manual_seed(1)
    warm = 2
    start = None
    for step in range(warm + steps):
        if step == warm:
            start = time.perf_counter()
        ix = torch.randint(len(data) - T - 1, (B,), generator=g)
        x = torch.stack([data[i : i + T] for i in ix])
        y = torch.stack([data[i + 1 : i + T + 1] for i in ix])
        loss = model(x, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
    return steps * B * T / (time.perf_counter() - start)


def val_loss(train_path, val_path, steps, seed):
    torch.manual_seed(seed)
    train = [l.strip() for l in open(train_path) if l.strip()]
    val = [l.strip() for l in open(val_path) if l.strip()]
    chars = sorted(set("".join(train + val)))
    stoi = {c: i for i, c in enumerate(chars)}
    bos = len(chars)
    model, opt = microgpt(bos + 1)
    for step in range(steps):
        x, y = doc_batch(train[step % len(train)], stoi, bos, 16)
        for g in opt.param_groups:
            g["lr"] = 0.01 * (1 - step / steps)
        loss = model(x, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    total, count = 0.0, 0
    with torch.no_grad():
        for doc in val:
            x, y = doc_batch(doc, stoi, bos, 16)
            total += model(x, y).item() * y.numel()
            count += y.numel()
    return total / count


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--names")
    ap.add_argument("--shakespeare")
    ap.add_argument("--steps", type=int, default=0)
    ap.add_argument("--small-steps", type=int, default=0)
    ap.add_argument("--val-train")
    ap.add_argument("--val-data")
    ap.add_argument("--val-steps", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=42)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)

    def emit(**kw):
        print(json.dumps(kw), flush=True)

    if a.names:
        emit(bench="train", config="microgpt", implementation="pytorch", threads=a.threads,
             tokens_per_second=bench_microgpt(a.names, a.steps or 1000, a.threads))
    if a.shakespeare:
        emit(bench="train", config="shakespeare-char-small", implementation="pytorch", threads=a.threads,
             tokens_per_second=bench_shakespeare(a.shakespeare, a.small_steps or 10, a.threads))
    if a.val_train and a.val_data:
        emit(bench="train-val-loss", config="microgpt", implementation="pytorch", threads=a.threads, steps=a.val_steps,
             seed=a.seed, val_loss=val_loss(a.val_train, a.val_data, a.val_steps, a.seed))


if __name__ == "__main__":
    main()
