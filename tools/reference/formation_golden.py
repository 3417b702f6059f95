"""Golden values for tests/TokenSpace.Tests/Evaluation/FormationTests: the formation metrics by their references.

Silhouette: scikit-learn's silhouette_score (cosine); effective rank: numpy's singular values; disparity:
scipy.spatial.procrustes; anisotropy: numpy over all pairs. Run with /usr/bin/python3 (Debian python3-sklearn,
python3-scipy); writes tools/reference/golden/formation_golden.json. Inputs are float32 values, stored exactly.
"""
import json
import os

import numpy as np
import scipy
import sklearn
from scipy.spatial import procrustes
from sklearn.metrics import silhouette_score

rng = np.random.default_rng(16)


def effective_rank(x):
    s = np.linalg.svd(x.astype(np.float64), compute_uv=False)
    p = s[s > 0] / s.sum()
    return float(np.exp(-(p * np.log(p)).sum()))


def anisotropy(x):
    x = x.astype(np.float64)
    unit = x / np.linalg.norm(x, axis=1, keepdims=True)
    cos = unit @ unit.T
    i, j = np.triu_indices(len(x), k=1)
    return float(cos[i, j].mean())


def case(n, d, groups):
    a = rng.normal(size=(n, d)).astype(np.float32)
    a[:, 0] *= 3.0  # one direction dominates, so the effective rank is well below d
    q, _ = np.linalg.qr(rng.normal(size=(d, d)))
    b = (1.7 * a.astype(np.float64) @ q + 0.4 * rng.normal(size=(n, d)) + 2.0).astype(np.float32)
    out = {
        "n": n, "d": d,
        "a": [float(v) for v in a.ravel()],
        "b": [float(v) for v in b.ravel()],
        "disparity": float(procrustes(a.astype(np.float64), b.astype(np.float64))[2]),
        "effective_rank_a": effective_rank(a),
        "effective_rank_b": effective_rank(b),
        "anisotropy_b": anisotropy(b),
    }
    if groups is not None:
        mask = np.array([g is not None for g in groups])
        labels = np.array([g for g in groups if g is not None])
        out["groups"] = groups
        out["silhouette_b"] = float(silhouette_score(b[mask].astype(np.float64), labels, metric="cosine"))
    return out


tall_groups = [["vowel", "consonant", None, "consonant", "other"][i % 5] for i in range(30)]
tall_groups[7] = "alone"  # a group of one scores 0
golden = {
    "sklearn_version": sklearn.__version__, "scipy_version": scipy.__version__, "numpy_version": np.__version__,
    "tall": case(30, 8, tall_groups),  # more points than dimensions
    "wide": case(12, 20, None),  # fewer points than dimensions (the Gram-matrix branch)
}
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "golden", "formation_golden.json")
with open(path, "w") as f:
    json.dump(golden, f)
print(path, os.path.getsize(path), "bytes")
