"""umap-learn's side of `dotnet run -c Release --project bench/TokenSpace.Bench -- maps --method umap`.

Reads a whitespace text file of vectors (`word v1 v2 ...`, one per line, written by the bench), runs
umap.UMAP(n_neighbors, min_dist) twice in this process — the first run includes numba's JIT compilation
(whatever numba's on-disk cache already holds), the second is warm — and writes the warm run's layout
to OUT (`x y` per line). Prints one JSON line with both wall times. Run with /usr/bin/python3 (Debian
umap-learn 0.5.3). SEED -1 means random_state=None: umap-learn then runs its neighbour search and its
gradient descent in parallel (its fastest, not reproducible); a seed makes both serial.
"""
import json
import sys
import time

import numpy as np
import umap


def main(path, out, n_neighbors, min_dist, seed):
    rows = [line.rstrip("\n").split(" ") for line in open(path, encoding="utf-8")]
    x = np.array([[float(v) for v in r[1:]] for r in rows], dtype=np.float32)
    random_state = None if seed < 0 else seed
    times = []
    for _ in range(2):
        start = time.perf_counter()
        y = umap.UMAP(n_neighbors=n_neighbors, min_dist=min_dist, random_state=random_state).fit_transform(x)
        times.append((time.perf_counter() - start) * 1000)
    np.savetxt(out, y.astype(np.float64), fmt="%.17g")
    print(json.dumps({"n": int(x.shape[0]), "d": int(x.shape[1]), "cold_ms": times[0], "warm_ms": times[1],
                      "seed": seed, "umap_version": getattr(umap, "__version__", "0.5.3")}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5]))
