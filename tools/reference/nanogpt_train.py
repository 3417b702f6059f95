#!/usr/bin/python3
"""nanoGPT's CPU recipe for shakespeare_char, as nanoGPT's model.py and train.py run it, for `bench nanogpt`.

Written from nanoGPT's README and the description of its model.py / train.py (not copied):

  python train.py config/train_shakespeare_char.py --device=cpu --compile=False --eval_iters=20
      --log_interval=1 --block_size=64 --batch_size=12 --n_layer=4 --n_head=4 --n_embd=128
      --max_iters=2000 --lr_decay_iters=2000 --dropout=0.0

  data      data/shakespeare_char/prepare.py: sorted distinct characters (65), first 90 % train, last 10 % val;
            batches of random offsets torch.randint(len(data) - block_size, (batch_size,))
  model     GPT: wte + wpe, n_layer blocks of pre-LayerNorm (no bias) causal self-attention and a GELU MLP
            (nn.GELU(), the exact erf form), ln_f, lm_head tied to wte; init N(0, 0.02), residual
            projections (c_proj) N(0, 0.02/sqrt(2 n_layer)), torch 1.13 has no flash attention so the
            masked softmax path runs
  optimizer AdamW(lr 1e-3, betas (0.9, 0.99), eps 1e-8), weight decay 0.1 on every parameter of 2+ dims
            (embeddings and Linear weights), none on LayerNorm weights; grad clip 1.0
  schedule  linear warmup over 100 iters (lr·(it+1)/(warmup+1)), cosine to min_lr 1e-4 at lr_decay_iters
  eval      estimate_loss every 250 iters (and at the last): eval_iters=20 random batches of train and val

Then, on one protocol shared with TokenSpace, the final model's mean loss over the whole val split in
consecutive non-overlapping windows of block_size inputs (every val token predicted once).

Prints one JSON line {"bench": "nanogpt", "implementation": "nanogpt-pytorch", "threads", "iters",
"train_seconds", "val_loss", "estimate_val_loss"}; train_seconds is the loop (iters 0..max_iters, with
its evaluations), without Python's start-up and data preparation.
"""
import argparse
import json
import math
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self, C, NH, T):
        super().__init__()
        self.NH = NH
        # nanoGPT's LayerNorm(ndim, bias=False): a weight and no bias (torch 1.13's nn.LayerNorm has no switch for it).
        self.ln_1_w = nn.Parameter(torch.ones(C))
        self.ln_2_w = nn.Parameter(torch.ones(C))
        self.c_attn = nn.Linear(C, 3 * C, bias=False)
        self.c_proj = nn.Linear(C, C, bias=False)
        self.c_fc = nn.Linear(C, 4 * C, bias=False)
        self.mlp_c_proj = nn.Linear(4 * C, C, bias=False)
        self.register_buffer("mask", torch.tril(torch.ones(T, T)).view(1, 1, T, T))

    def forward(self, x):
        B, T, C = x.shape
        h = F.layer_norm(x, (C,), self.ln_1_w, None, 1e-5)
        q, k, v = self.c_attn(h).split(C, dim=2)
        q = q.view(B, T, self.NH, C // self.NH).transpose(1, 2)
        k = k.view(B, T, self.NH, C // self.NH).transpose(1, 2)
        v = v.view(B, T, self.NH, C // self.NH).transpose(1, 2)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
        att = att.masked_fill(self.mask[:, :, :T, :T] == 0, float("-inf"))
        att = F.softmax(att, dim=-1)
        y = (att @ v).transpose(1, 2).contiguous().view(B, T, C)
        x = x + self.c_proj(y)
        h = F.layer_norm(x, (C,), self.ln_2_w, None, 1e-5)
        return x + self.mlp_c_proj(F.gelu(self.c_fc(h)))


class Gpt(nn.Module):
    def __init__(self, V, T, L, NH, C):
        super().__init__()
        self.wte = nn.Embedding(V, C)
        self.wpe = nn.Embedding(T, C)
        self.h = nn.ModuleList([Block(C, NH, T) for _ in range(L)])
        self.ln_f_w = nn.Parameter(torch.ones(C))
        self.lm_head = nn.Linear(C, V, bias=False)
        self.lm_head.weight = self.wte.weight  # weight tying
        self.apply(self._init)
        for name, p in self.named_parameters():
            if name.endswith("c_proj.weight"):
                nn.init.normal_(p, 0.0, 0.02 / math.sqrt(2 * L))

    @staticmethod
    def _init(m):
        if isinstance(m, (nn.Linear, nn.Embedding)):
            nn.init.normal_(m.weight, 0.0, 0.02)

    def forward(self, idx, targets):
        B, T = idx.shape
        x = self.wte(idx) + self.wpe(torch.arange(T))
        for block in self.h:
            x = block(x)
        logits = self.lm_head(F.layer_norm(x, (x.size(-1),), self.ln_f_w, None, 1e-5))
        return F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1), reduction="sum"), targets.numel()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--iters", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=1337)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)

    text = open(a.data, encoding="utf-8").read()
    chars = sorted(set(text))
    stoi = {c: i for i, c in enumerate(chars)}
    data = torch.tensor([stoi[c] for c in text], dtype=torch.long)
    n = int(0.9 * len(data))
    train, val = data[:n], data[n:]
    block, batch, L, NH, C = 64, 12, 4, 4, 128
    lr, min_lr, warmup, decay_iters, eval_interval, eval_iters = 1e-3, 1e-4, 100, a.iters, 250, 20

    def get_batch(split):
        d = train if split == "train" else val
        ix = torch.randint(len(d) - block, (batch,))
        return torch.stack([d[i:i + block] for i in ix]), torch.stack([d[i + 1:i + 1 + block] for i in ix])

    model = Gpt(len(chars), block, L, NH, C)
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=lr, betas=(0.9, 0.99), eps=1e-8)

    def lr_at(it):
        if it < warmup:
            return lr * (it + 1) / (warmup + 1)
        if it > decay_iters:
            return min_lr
        ratio = (it - warmup) / (decay_iters - warmup)
        return min_lr + 0.5 * (1.0 + math.cos(math.pi * ratio)) * (lr - min_lr)

    @torch.no_grad()
    def estimate_loss():
        model.eval()
        out = {}
        for split in ("train", "val"):
            total = 0.0
            for _ in range(eval_iters):
                s, cnt = model(*get_batch(split))
                total += s.item() / cnt
            out[split] = total / eval_iters
        model.train()
        return out

    start = time.perf_counter()
    estimate = None
    for it in range(a.iters + 1):
        for g in opt.param_groups:
            g["lr"] = lr_at(it)
        if it % eval_interval == 0 or it == a.iters:
            estimate = estimate_loss()["val"]
        if it == a.iters:
            break
        x, y = get_batch("train")
        s, cnt = model(x, y)
        loss = s / cnt
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
    seconds = time.perf_counter() - start

    with torch.no_grad():
        model.eval()
        total, count = 0.0, 0
        for w in range(0, len(val) - 1, block):
            t = min(block, len(val) - 1 - w)
            s, cnt = model(val[w:w + t].view(1, t), val[w + 1:w + 1 + t].view(1, t))
            total += s.item()
            count += cnt
    print(json.dumps({"bench": "nanogpt", "implementation": "nanogpt-pytorch", "threads": a.threads, "iters": a.iters,
                      "train_seconds": round(seconds, 2), "val_loss": round(total / count, 4),
                      "estimate_val_loss": round(estimate, 4)}))


if __name__ == "__main__":
    main()
