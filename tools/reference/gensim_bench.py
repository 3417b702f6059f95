#!/usr/bin/python3
"""gensim's figures for the `vectors` benchmark: the same work as bench/TokenSpace.Bench/VectorsBench.cs.

usage: gensim_bench.py GLOVE_TXT QUESTIONS PAIRS [--skip-analogies]

GLOVE_TXT is GloVe text without a header (`tokenspace convert --vectors glove-100d --to glove`).
Prints JSON lines {"bench", "impl": "gensim", "median_ms" | "seconds", ...}; the analogy and pair
lines also carry gensim's answers so the C# side can compare them.
"""
import json
import os
import sys
import tempfile
import time

import numpy as np
from gensim.models import KeyedVectors


def emit(**fields):
    print(json.dumps({"impl": "gensim", **fields}), flush=True)


def median_ms(action, runs):
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) * 1000)
    return float(np.median(times))


def frequent_words(kv, count):
    """The first `count` purely alphabetic keys: the same list the C# bench uses."""
    return [k for k in kv.index_to_key if k.isascii() and k.isalpha()][:count]


def main():
    glove, questions, pairs = sys.argv[1:4]
    skip_analogies = "--skip-analogies" in sys.argv

    start = time.perf_counter()
    kv = KeyedVectors.load_word2vec_format(glove, binary=False, no_header=True)
    emit(bench="load_text", seconds=time.perf_counter() - start, count=len(kv), dimensions=kv.vector_size)

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "glove.kv")
        kv.save(path)
        ms = median_ms(lambda: KeyedVectors.load(path, mmap="r"), 10)
        emit(bench="load_native", median_ms=ms, note="KeyedVectors.load(mmap='r'), median of 10")

    words = frequent_words(kv, 1000)
    kv.fill_norms()
    kv.most_similar(words[0], topn=10)  # warm-up
    it = iter(range(10**9))
    ms = median_ms(lambda: kv.most_similar(words[next(it) % len(words)], topn=10), len(words))
    emit(bench="most_similar_single", median_ms=ms, queries=len(words))

    start = time.perf_counter()
    for w in words:
        kv.most_similar(w, topn=10)
    emit(bench="most_similar_batch", seconds=time.perf_counter() - start, queries=len(words),
         note="gensim has no batched most_similar: 1000 calls in a loop")

    pearson, spearman, oov = kv.evaluate_word_pairs(pairs)
    emit(bench="evaluate_pairs", pearson=float(pearson[0]), spearman=float(spearman[0]), oov_ratio=float(oov))

    if not skip_analogies:
        start = time.perf_counter()
        score, sections = kv.evaluate_word_analogies(questions)
        seconds = time.perf_counter() - start
        emit(bench="evaluate_analogies", seconds=seconds, accuracy=float(score),
             sections=[{"section": s["section"], "correct": len(s["correct"]), "incorrect": len(s["incorrect"])} for s in sections])


if __name__ == "__main__":
    main()
