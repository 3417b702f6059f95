"""Golden values for tests/TokenSpace.Tests/Projection/TsneGoldenTests.cs: scikit-learn's t-SNE in 2-D and 3-D.

Run with /usr/bin/python3 (Debian python3-sklearn 1.2); writes tools/reference/golden/tsne_golden.json.

- "exact": P of 30 float32 points (scikit-learn's _joint_probabilities, condensed) and the KL divergence and gradient of
  _kl_divergence at a fixed layout, in 2-D and 3-D.
- "barnes_hut": the KL divergence and gradient of _kl_divergence_bh at a fixed float32 layout of 80 points, P from
  _joint_probabilities_nn over the 3·perplexity + 1 nearest neighbours, at angle 0 (no approximation) and 0.5.
- "fit": the first 150 of scikit-learn's digits, TSNE(perplexity 30, init "pca", learning_rate "auto", random_state 0) by
  both methods in 2-D and 3-D: final KL, iterations, trustworthiness(10).

One degree of freedom throughout: TokenSpace's kernel is 1/(1 + d²) in every dimension (bhtsne's and openTSNE's), while
TSNE(n_components=3) uses n_components - 1 = 2 (van der Maaten 2009), whose gradient in scikit-learn 1.2 is not the
gradient of its KL (it weights by the kernel where (1 + d²/ν)^-1 belongs; exact for ν = 1 only). So the 3-D fits run
scikit-learn's optimiser with ν = 1 (CauchyTSNE below) for a KL comparable with ours, and the stock ν = 2 TSNE is
recorded beside it (its KL measures another Q; its trustworthiness is comparable).
"""
import json
import os

import numpy as np
import sklearn
from sklearn.datasets import load_digits
from sklearn.manifold import TSNE, trustworthiness
from sklearn.manifold._t_sne import _joint_probabilities, _joint_probabilities_nn, _kl_divergence, _kl_divergence_bh
from sklearn.metrics import pairwise_distances
from sklearn.neighbors import NearestNeighbors


class CauchyTSNE(TSNE):
    """scikit-learn's TSNE with one degree of freedom whatever n_components."""

    def _tsne(self, P, degrees_of_freedom, n_samples, X_embedded, neighbors=None, skip_num_points=0):
        return super()._tsne(P, 1, n_samples, X_embedded, neighbors, skip_num_points)


def floats(a):
    return [float(v) for v in np.asarray(a).ravel()]


def float32s(a):
    """float32 values as their shortest decimals (half the size of float(v)); each reads back (via double) as the same float32."""
    values = np.asarray(a, dtype=np.float32).ravel()
    short = [float(str(v)) for v in values]
    assert all(np.float32(s) == v for s, v in zip(short, values))
    return short


rng = np.random.default_rng(14)

# Exact: 30 points in 5-D, perplexity 5; the layout in 3-D, its first two columns for 2-D.
n, d, perplexity = 30, 5, 5.0
x = rng.normal(size=(n, d)).astype(np.float32)
p = _joint_probabilities(pairwise_distances(x, squared=True), perplexity, 0)
y = rng.normal(size=(n, 3))
exact = {"n": n, "d": d, "perplexity": perplexity, "x": float32s(x), "p_condensed": floats(p), "y": floats(y)}
for dims in (2, 3):
    kl, grad = _kl_divergence(y[:, :dims].ravel().copy(), p, 1, n, dims)
    exact[f"d{dims}"] = {"kl": float(kl), "grad": floats(grad)}

# Barnes-Hut: 80 points in 5-D, perplexity 5 (16 neighbours); scikit-learn's tree works in float32, so the layout is float32.
n, d, perplexity = 80, 5, 5.0
x = rng.normal(size=(n, d)).astype(np.float32)
k = min(n - 1, int(3.0 * perplexity + 1))
graph = NearestNeighbors(n_neighbors=k).fit(x).kneighbors_graph(mode="distance")
graph.data **= 2
p = _joint_probabilities_nn(graph, perplexity, 0)
y = (3 * rng.normal(size=(n, 3))).astype(np.float32)
barnes_hut = {"n": n, "d": d, "perplexity": perplexity, "x": float32s(x), "y": float32s(y)}
for dims in (2, 3):
    layout = np.ascontiguousarray(y[:, :dims]).ravel()
    for angle in (0.0, 0.5):
        kl, grad = _kl_divergence_bh(layout.copy(), p, 1, n, dims, angle=angle)
        barnes_hut[f"d{dims}_angle{angle}"] = {"kl": float(kl), "grad": float32s(grad)}

# Fits on the first 150 digits (8x8 images, values 0..16).
digits = load_digits().data[:150].astype(np.float32)
fit = {"n": int(digits.shape[0]), "d": int(digits.shape[1]), "perplexity": 30.0, "x": [int(v) for v in digits.ravel()]}
for dims in (2, 3):
    for method in ("exact", "barnes_hut"):
        runs = {"cauchy": CauchyTSNE} if dims == 2 else {"cauchy": CauchyTSNE, "sklearn_dof2": TSNE}
        for name, cls in runs.items():
            tsne = cls(n_components=dims, perplexity=30.0, init="pca", learning_rate="auto", random_state=0, method=method)
            layout = tsne.fit_transform(digits)
            fit[f"d{dims}_{method}_{name}"] = {
                "kl": float(tsne.kl_divergence_),
                "iterations": int(tsne.n_iter_),
                "trustworthiness_10": float(trustworthiness(digits, layout, n_neighbors=10)),
            }

golden = {"sklearn_version": sklearn.__version__, "exact": exact, "barnes_hut": barnes_hut, "fit": fit}
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "golden", "tsne_golden.json")
with open(path, "w") as f:
    json.dump(golden, f, separators=(",", ":"))
print(path, os.path.getsize(path), "bytes")
print(json.dumps(fit | {"x": "..."}, indent=1))
