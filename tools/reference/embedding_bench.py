#!/usr/bin/python3
"""PyTorch CPU reference timings for bench/TokenSpace.Bench (Debian python3-torch, 2 threads).

  embedding_bench.py embedding [V C B T]   nn.functional.embedding forward + backward (autograd dense, autograd sparse, index_add_)
  embedding_bench.py matmul [N C OC]       nn.functional.linear forward, and backward (dInput, dWeight, dBias)

Prints one JSON line per measurement with the median wall time in ms.
"""
import json
import sys
import time

import torch


def median_ms(fn, runs, warmup):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    mid = len(times) // 2
    return times[mid] if len(times) % 2 else (times[mid - 1] + times[mid]) / 2


def embedding(V=50257, C=768, B=8, T=1024):
    g = torch.Generator().manual_seed(1)
    weight = (torch.randn(V, C, generator=g) * 0.02).requires_grad_()
    ids = torch.randint(0, V, (B, T), generator=g)
    dout = torch.randn(B, T, C, generator=g)

    grad = torch.zeros(V, C)
    flat_ids, flat_dout = ids.view(-1), dout.view(-1, C)

    def autograd(sparse):
        def step():
            weight.grad = None
            out = torch.nn.functional.embedding(ids, weight, sparse=sparse)
            out.backward(dout)
        return step

    def index_add():
        # The same computation as TokenSpace's: lookup, then scatter-add into a persistent dense gradient.
        with torch.no_grad():
            torch.nn.functional.embedding(ids, weight)
            grad.index_add_(0, flat_ids, flat_dout)

    variants = {
        # Materialises a zero (V, C) gradient each step, then scatters into it.
        "autograd_dense": autograd(False),
        # Returns the N looked-up rows as a sparse gradient: no scatter into a table at all.
        "autograd_sparse": autograd(True),
        "index_add": index_add,
    }
    for name, step in variants.items():
        ms = median_ms(step, runs=10, warmup=2)
        print(json.dumps({"bench": "torch_embedding_forward_backward", "variant": name, "V": V, "C": C, "B": B, "T": T,
                          "threads": torch.get_num_threads(), "median_ms": round(ms, 3), "torch": torch.__version__}))


def matmul(N=8192, C=768, OC=3072):
    g = torch.Generator().manual_seed(1)
    inp = torch.randn(N, C, generator=g).requires_grad_()
    weight = (torch.randn(OC, C, generator=g) * 0.02).requires_grad_()
    bias = torch.zeros(OC).requires_grad_()
    dout = torch.randn(N, OC, generator=g)
    flops = 2.0 * N * C * OC
    with torch.no_grad():
        ms = median_ms(lambda: torch.nn.functional.linear(inp, weight, bias), runs=7, warmup=1)
    print(json.dumps({"bench": "torch_matmul_forward", "N": N, "C": C, "OC": OC, "threads": torch.get_num_threads(),
                      "median_ms": round(ms, 3), "gflop_per_s": round(flops / ms / 1e6, 1), "torch": torch.__version__}))
    out = torch.nn.functional.linear(inp, weight, bias)

    def backward():
        inp.grad = weight.grad = bias.grad = None
        torch.autograd.backward(out, dout, retain_graph=True)

    ms = median_ms(backward, runs=5, warmup=1)
    print(json.dumps({"bench": "torch_matmul_backward", "N": N, "C": C, "OC": OC, "threads": torch.get_num_threads(),
                      "median_ms": round(ms, 3), "gflop_per_s": round(2 * flops / ms / 1e6, 1), "torch": torch.__version__}))


if __name__ == "__main__":
    torch.set_num_threads(2)
    which, sizes = sys.argv[1], [int(a) for a in sys.argv[2:]]
    {"embedding": embedding, "matmul": matmul}[which](*sizes)
