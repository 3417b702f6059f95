"""scikit-learn's side of `dotnet run -c Release --project bench/TokenSpace.Bench -- maps`.

Reads a whitespace text file of vectors (`word v1 v2 ...`, one per line, written by the bench),
runs PCA and TSNE(n_components=DIMS (2), perplexity=30, init="pca", random_state=0) as the bench does, and
prints one JSON line: wall times, KL divergence, trustworthiness(10). Run with /usr/bin/python3 (Debian
python3-sklearn): `projection_bench.py FILE [DIMS]`.
"""
import json
import sys
import time

import numpy as np
from sklearn.decomposition import PCA
from sklearn.manifold import TSNE, trustworthiness


def main(path, dims):
    rows = [line.rstrip("\n").split(" ") for line in open(path, encoding="utf-8")]
    x = np.array([[float(v) for v in r[1:]] for r in rows], dtype=np.float32)

    start = time.perf_counter()
    pca = PCA(n_components=2)
    pca.fit_transform(x)
    pca_ms = (time.perf_counter() - start) * 1000

    start = time.perf_counter()
    tsne = TSNE(n_components=dims, perplexity=30, init="pca", random_state=0)
    y = tsne.fit_transform(x)
    tsne_ms = (time.perf_counter() - start) * 1000

    print(json.dumps({
        "n": int(x.shape[0]),
        "d": int(x.shape[1]),
        "pca_ms": pca_ms,
        "pca_explained_variance_ratio": [float(v) for v in pca.explained_variance_ratio_],
        "tsne_ms": tsne_ms,
        "kl_divergence": float(tsne.kl_divergence_),
        "iterations": int(tsne.n_iter_),
        "trustworthiness_10": float(trustworthiness(x, y, n_neighbors=10)),
        "learning_rate": float(tsne.learning_rate_),
    }))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 2)
