#!/usr/bin/python3
"""Golden fastText vectors for FastTextBinary's tests (tests/TokenSpace.Tests/Formats/FastTextBinaryTests.cs).

usage: PYTHONHASHSEED=0 /usr/bin/python3 tools/reference/fasttext_golden.py   (Debian's python3-gensim 4.2;
gensim seeds each initial vector with hash(word), so the hash seed makes the model reproducible)

Trains a small gensim FastText (dim 8, 2,000 buckets, n-grams 3..5) on a generated corpus of a few
hundred sentences, with non-ASCII words so the hash's signed-byte quirk matters, saves it in Facebook's
binary format (save_facebook_model) as golden/fasttext_tiny.bin, loads it back with load_facebook_model
and writes golden/fasttext_tiny.json: the vector of every in-vocabulary word, of out-of-vocabulary
words (built from their character n-grams only), and most_similar of two out-of-vocabulary words.
"""
import json
import os
import random

import numpy as np
from gensim.models.fasttext import FastText, load_facebook_model, save_facebook_model

HERE = os.path.dirname(os.path.abspath(__file__))
GOLDEN = os.path.join(HERE, "golden")

STEMS = ["king", "queen", "prince", "princess", "castle", "horse", "river", "forest", "café", "naïve",
         "日本", "straße", "music", "paint", "garden", "winter", "summer", "light", "night", "stone"]
SUFFIXES = ["", "s", "ing", "ed", "ly"]
OOV = ["kingdoms", "queenish", "castled", "cafésque", "日本語", "straßen", "xq", "zz", "a", "gardenerly"]


def corpus(seed=3, sentences=400):
    rng = random.Random(seed)
    words = [s + x for s in STEMS for x in SUFFIXES]
    return [[rng.choice(words) for _ in range(rng.randint(4, 9))] for _ in range(sentences)]


def main():
    model = FastText(vector_size=8, window=3, min_count=1, bucket=2000, min_n=3, max_n=5, epochs=5, workers=1, seed=1)
    sentences = corpus()
    model.build_vocab(corpus_iterable=sentences)
    model.train(corpus_iterable=sentences, total_examples=len(sentences), epochs=model.epochs)
    path = os.path.join(GOLDEN, "fasttext_tiny.bin")
    save_facebook_model(model, path)

    loaded = load_facebook_model(path).wv
    vocab = list(loaded.index_to_key)
    assert not any(w in loaded.key_to_index for w in OOV), "an OOV word is in the vocabulary"
    as_list = lambda v: [float(x) for x in np.asarray(v, dtype=np.float32)]
    golden = {
        "model": "fasttext_tiny.bin",
        "gensim": __import__("gensim").__version__,
        "dim": loaded.vector_size,
        "bucket": loaded.bucket,
        "min_n": loaded.min_n,
        "max_n": loaded.max_n,
        "vocabulary": vocab,
        "in_vocabulary": {w: as_list(loaded[w]) for w in vocab},
        "oov": {w: as_list(loaded[w]) for w in OOV},
        "most_similar": {w: [[k, float(s)] for k, s in loaded.most_similar(w, topn=5)] for w in ["kingdoms", "日本語"]},
    }
    with open(os.path.join(GOLDEN, "fasttext_tiny.json"), "w", encoding="utf-8") as f:
        json.dump(golden, f, ensure_ascii=False, indent=1)
    print(f"wrote {path} ({os.path.getsize(path)} bytes): {len(vocab)} words, {len(OOV)} OOV words")


if __name__ == "__main__":
    main()
