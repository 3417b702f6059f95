"""Golden values for tests/TokenSpace.Tests/Projection/Umap*Tests: umap-learn's curve fit and fuzzy simplicial set.

Run with /usr/bin/python3 (Debian umap-learn 0.5.3); writes tools/reference/golden/umap_golden.json.
The fuzzy set is built from exact neighbours (passed in as knn_indices / knn_dists, the point itself first),
so no approximate search or randomness enters. Inputs are float32 values, stored exactly.
"""
import json
import os

import numpy as np
import umap
from umap.umap_ import find_ab_params, fuzzy_simplicial_set

rng = np.random.default_rng(15)

curves = []
for spread, min_dist in [(1.0, 0.1), (1.0, 0.0), (1.0, 0.5), (2.0, 0.25), (0.5, 0.4)]:
    a, b = find_ab_params(spread, min_dist)
    curves.append({"spread": spread, "min_dist": min_dist, "a": float(a), "b": float(b)})

n, d, n_neighbors = 40, 4, 6
x = rng.normal(size=(n, d)).astype(np.float32)
x[7] = x[3]  # a duplicate: distance 0 to a neighbour
dist = np.sqrt(((x[:, None, :].astype(np.float64) - x[None, :, :]) ** 2).sum(-1))
order = np.argsort(dist, axis=1, kind="stable")
for i in range(n):  # the point itself first, also for the duplicate pair
    row = [i] + [j for j in order[i] if j != i]
    order[i] = row
knn_indices = order[:, :n_neighbors].astype(np.int64)
knn_dists = np.take_along_axis(dist, knn_indices, axis=1).astype(np.float32)
graph, sigmas, rhos = fuzzy_simplicial_set(
    x, n_neighbors, np.random.RandomState(0), "euclidean", knn_indices=knn_indices, knn_dists=knn_dists)
graph = graph.tocoo()

golden = {
    "umap_version": umap.__version__ if hasattr(umap, "__version__") else "0.5.3",
    "curves": curves,
    "graph": {
        "n": n, "d": d, "n_neighbors": n_neighbors,
        "x": [float(v) for v in x.ravel()],
        "sigmas": [float(v) for v in sigmas],
        "rhos": [float(v) for v in rhos],
        "rows": [int(v) for v in graph.row], "cols": [int(v) for v in graph.col],
        "values": [float(v) for v in graph.data],
    },
}
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "golden", "umap_golden.json")
with open(path, "w", encoding="utf-8") as f:
    json.dump(golden, f, indent=1)
    f.write("\n")
print(path)
