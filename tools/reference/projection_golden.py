"""Golden values for tests/TokenSpace.Tests/Projection: scikit-learn's PCA and trustworthiness.

Run with /usr/bin/python3 (Debian python3-sklearn); writes tools/reference/golden/projection_golden.json.
Inputs are float32 values (as TokenSpace's matrices are), stored exactly.
"""
import json
import os

import numpy as np
import sklearn
from sklearn.decomposition import PCA
from sklearn.manifold import trustworthiness

rng = np.random.default_rng(5)

# PCA: 40 points in 6-D with distinct variances along a random orthonormal basis.
basis, _ = np.linalg.qr(rng.normal(size=(6, 6)))
x = (rng.normal(size=(40, 6)) * np.array([5.0, 3.0, 2.0, 1.0, 0.5, 0.1])) @ basis.T + 3.0
x = x.astype(np.float32)
pca = PCA(n_components=3, svd_solver="full")
transformed = pca.fit_transform(x.astype(np.float64))

# Trustworthiness: 60 points in 5-D and a noisy 2-D view of them.
t_x = rng.normal(size=(60, 5)).astype(np.float32)
t_y = t_x[:, :2].astype(np.float64) + 0.3 * rng.normal(size=(60, 2))

golden = {
    "sklearn_version": sklearn.__version__,
    "pca": {
        "n": 40, "d": 6, "k": 3,
        "x": [float(v) for v in x.ravel()],
        "components": [float(v) for v in pca.components_.ravel()],
        "explained_variance": [float(v) for v in pca.explained_variance_],
        "explained_variance_ratio": [float(v) for v in pca.explained_variance_ratio_],
        "transformed": [float(v) for v in transformed.ravel()],
    },
    "trustworthiness": {
        "n": 60, "d": 5,
        "x": [float(v) for v in t_x.ravel()],
        "y": [float(v) for v in t_y.ravel()],
        "k5": float(trustworthiness(t_x.astype(np.float64), t_y, n_neighbors=5)),
        "k10": float(trustworthiness(t_x.astype(np.float64), t_y, n_neighbors=10)),
    },
}
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "golden", "projection_golden.json")
with open(path, "w") as f:
    json.dump(golden, f)
print(path, os.path.getsize(path), "bytes", golden["trustworthiness"]["k5"], golden["trustworthiness"]["k10"])
