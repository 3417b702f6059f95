#!/usr/bin/python3
"""Golden tensors for TokenEmbedding from PyTorch's nn.Embedding (Debian python3-torch).

Writes golden/embedding.json: for each case the initial weight, the ids, a fixed random dOut, and
what PyTorch computes: the forward output, the weight after the forward (max_norm renormalises it in
place) and the weight gradient of the loss sum(out * dOut). Run: /usr/bin/python3 tools/reference/embedding_golden.py
"""
import json
import os

import torch

torch.manual_seed(1234)
torch.set_num_threads(2)

CASES = [
    # name, V, C, B, T, options
    ("plain", 11, 5, 2, 6, {}),
    ("padding_idx", 11, 5, 2, 6, {"padding_idx": 3}),
    ("padding_idx_negative", 11, 5, 2, 6, {"padding_idx": -1}),
    ("max_norm_l2", 11, 5, 2, 6, {"max_norm": 1.0}),
    ("max_norm_l1", 11, 5, 2, 6, {"max_norm": 1.5, "norm_type": 1.0}),
    ("max_norm_p3", 11, 5, 2, 6, {"max_norm": 0.8, "norm_type": 3.0}),
    ("max_norm_inf", 11, 5, 2, 6, {"max_norm": 0.9, "norm_type": float("inf")}),
    ("scale_grad_by_freq", 11, 5, 2, 6, {"scale_grad_by_freq": True}),
    ("all_options", 13, 7, 3, 5, {"padding_idx": 0, "max_norm": 1.2, "scale_grad_by_freq": True}),
]


def case(name, V, C, B, T, options):
    emb = torch.nn.Embedding(V, C, **options)
    with torch.no_grad():
        # Rows with norms around 2 so max_norm bites on most of them; keep the padding row as initialised (zero).
        weight = torch.randn(V, C) * 1.0
        if emb.padding_idx is not None:
            weight[emb.padding_idx] = 0
        emb.weight.copy_(weight)
    # Few distinct ids so they repeat (scale_grad_by_freq, renorm once per id), padding included.
    ids = torch.randint(0, min(V, 6), (B, T))
    ids[0, 0] = emb.padding_idx if emb.padding_idx is not None else 3
    ids[-1, -1] = V - 1
    dout = torch.randn(B, T, C)
    weight_before = emb.weight.detach().clone()
    out = emb(ids)
    (out * dout).sum().backward()
    norm_type = options.get("norm_type", 2.0)
    return {
        "name": name, "V": V, "C": C, "B": B, "T": T,
        "padding_idx": options.get("padding_idx"),
        "max_norm": options.get("max_norm"),
        "norm_type": "inf" if norm_type == float("inf") else norm_type,
        "scale_grad_by_freq": options.get("scale_grad_by_freq", False),
        "weight": weight_before.flatten().tolist(),
        "ids": ids.flatten().tolist(),
        "dout": dout.flatten().tolist(),
        "out": out.detach().flatten().tolist(),
        "weight_after": emb.weight.detach().flatten().tolist(),
        "grad": emb.weight.grad.flatten().tolist(),
    }


def main():
    golden = {"torch": torch.__version__, "cases": [case(*c) for c in CASES]}
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "golden", "embedding.json")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path + ".tmp", "w") as f:
        json.dump(golden, f)
    os.replace(path + ".tmp", path)
    print(f"wrote {path} ({os.path.getsize(path)} bytes, torch {torch.__version__})")


if __name__ == "__main__":
    main()
