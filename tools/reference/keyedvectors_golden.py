#!/usr/bin/python3
"""gensim 4's answers for the rest of KeyedVectors (tests/TokenSpace.Tests/Vectors/KeyedVectorsSetsTests.cs).

usage: keyedvectors_golden.py [GLOVE_TXT]

Always writes tools/reference/golden/vectors/sets.json from golden/vectors/small.txt. With GLOVE_TXT
(GloVe 100d text without header: `tokenspace convert --vectors glove-100d --to glove --out glove.txt`)
also writes golden/vectors/glove_sets.json, the same queries on GloVe.
Run with Debian's python3-gensim: /usr/bin/python3 tools/reference/keyedvectors_golden.py [GLOVE_TXT]
"""
import json
import os
import sys

import numpy as np
from gensim.models import KeyedVectors

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "golden", "vectors")


def pairs(result):
    return [[k, float(s)] for k, s in result]


def queries(kv, words):
    """words: a dict of the words each query uses, so one function serves both sets."""
    w = words
    out = {
        "most_similar_pos_neg": [
            {"positive": p, "negative": n, "result": pairs(kv.most_similar(positive=p, negative=n, topn=10))}
            for p, n in w["pos_neg"]
        ],
        "most_similar_vector": [],
        "doesnt_match": [{"words": ws, "result": kv.doesnt_match(ws)} for ws in w["groups"]],
        "rank_by_centrality": [
            {"words": ws, "use_norm": u, "result": [[k, float(s)] for s, k in kv.rank_by_centrality(ws, use_norm=u)]}
            for ws in w["groups"] for u in (True, False)
        ],
        "rank": [{"a": a, "b": b, "result": int(kv.rank(a, b))} for a, b in w["ranked"]],
        "closer_than": [{"a": a, "b": b, "result": kv.closer_than(a, b)} for a, b in w["ranked"]],
        "n_similarity": [{"a": a, "b": b, "result": float(kv.n_similarity(a, b))} for a, b in w["sets"]],
        "get_mean_vector": [
            {"keys": ks, "weights": ws, "pre_normalize": pre, "post_normalize": post,
             "result": [float(x) for x in kv.get_mean_vector(ks, weights=ws, pre_normalize=pre, post_normalize=post)]}
            for ks, ws in w["means"] for pre in (True, False) for post in (True, False)
        ],
        "distances": [{"word": a, "others": o, "result": [float(x) for x in kv.distances(a, o)]} for a, o in w["distances"]],
        "relative_cosine_similarity": [
            {"a": a, "b": b, "topn": n, "result": float(kv.relative_cosine_similarity(a, b, topn=n))} for a, b, n in w["relative"]
        ],
    }
    for key, weight in w["vectors"]:
        vector = (kv.get_vector(key) * weight).astype(np.float32)
        out["most_similar_vector"].append({"vector": [float(x) for x in vector],
                                           "result": pairs(kv.similar_by_vector(vector, topn=10))})
    return out


def small():
    kv = KeyedVectors.load_word2vec_format(os.path.join(OUT, "small.txt"), binary=False)
    words = {
        "pos_neg": [(["paris", "germany"], ["france"]), (["bigger", "cold"], ["big"]), (["tokyo"], ["japan", "filler3"])],
        "groups": [["paris", "berlin", "rome", "big"], ["big", "small", "fast", "filler7", "nowhere"]],
        "ranked": [("paris", "france"), ("big", "bigger"), ("filler1", "filler2")],
        "sets": [(["paris", "rome"], ["france", "italy"]), (["big", "fast", "nowhere"], ["bigger"])],
        "means": [(["paris", "rome", "big"], None), (["paris", "rome", "nowhere", "big"], [0.5, 2.0, 1.0, -1.5])],
        "distances": [("paris", ["france", "berlin", "filler9"])],
        "relative": [("paris", "france", 10), ("big", "bigger", 3)],
        "vectors": [("rome", 1.0), ("cold", -2.5)],
    }
    out = queries(kv, words)
    out["distances_all"] = {"word": "oslo", "result": [float(x) for x in kv.distances("oslo")]}
    # add_vectors (a new key, an existing key kept, an existing key replaced) and sort_by_descending_frequency.
    rng = np.random.default_rng(3)
    added = rng.normal(size=(3, kv.vector_size)).astype(np.float32)
    keep = KeyedVectors.load_word2vec_format(os.path.join(OUT, "small.txt"), binary=False)
    keep.add_vectors(["newword", "paris", "rome"], added)
    repl = KeyedVectors.load_word2vec_format(os.path.join(OUT, "small.txt"), binary=False)
    repl.add_vectors(["newword", "paris", "rome"], added, replace=True)
    out["add_vectors"] = {
        "keys": ["newword", "paris", "rome"], "vectors": added.tolist(),
        "kept": {"count": len(keep), "paris": keep["paris"].tolist(), "newword_index": keep.get_index("newword"),
                 "most_similar_newword": pairs(keep.most_similar("newword", topn=5))},
        "replaced": {"count": len(repl), "paris": repl["paris"].tolist(), "most_similar_paris": pairs(repl.most_similar("paris", topn=5))},
    }
    counts = np.random.default_rng(4).permutation(len(kv)) * 3 + 1  # distinct counts: argsort's order is then unique
    sorted_kv = KeyedVectors.load_word2vec_format(os.path.join(OUT, "small.txt"), binary=False)
    sorted_kv.set_vecattr(sorted_kv.index_to_key[0], "count", 0)  # allocates the count attribute
    for i, key in enumerate(sorted_kv.index_to_key):
        sorted_kv.set_vecattr(key, "count", int(counts[i]))
    sorted_kv.sort_by_descending_frequency()
    out["sort_by_descending_frequency"] = {
        "counts": [int(c) for c in counts], "keys": sorted_kv.index_to_key,
        "first_vector": sorted_kv.vectors[0].tolist(),
    }
    with open(os.path.join(OUT, "sets.json"), "w", encoding="utf-8") as f:
        json.dump(out, f, indent=1, ensure_ascii=False)


def glove(path):
    kv = KeyedVectors.load_word2vec_format(path, binary=False, no_header=True)
    words = {
        "pos_neg": [(["king", "woman"], ["man"]), (["paris", "germany"], ["france"]), (["walking", "swam"], ["walked"])],
        "groups": [["breakfast", "cereal", "dinner", "lunch"], ["cat", "dog", "mouse", "car", "nonexistentword"]],
        "ranked": [("king", "queen"), ("cat", "dog")],
        "sets": [(["sushi", "shop"], ["japanese", "restaurant"]), (["king", "queen"], ["man", "woman"])],
        "means": [(["king", "queen", "prince"], None), (["king", "queen", "prince"], [1.0, 0.5, -0.25])],
        "distances": [("king", ["queen", "man", "woman", "car"])],
        "relative": [("good", "nice", 10), ("king", "queen", 10)],
        "vectors": [("frog", 1.0), ("computer", 3.0)],
    }
    with open(os.path.join(OUT, "glove_sets.json"), "w", encoding="utf-8") as f:
        json.dump(queries(kv, words), f, indent=1, ensure_ascii=False)


if __name__ == "__main__":
    small()
    if len(sys.argv) > 1:
        glove(sys.argv[1])
