#!/usr/bin/python3
"""Golden files for the vectors tests, written by gensim (Debian python3-gensim 4.x) and numpy.

Writes tools/reference/golden/vectors/:
  small.bin, small.txt        gensim save_word2vec_format (binary / text) of a small structured set
  small.glove.txt             the same without header (GloVe layout)
  small_f4_v1.npy, small_f2_v2.npy, small_f8_v3.npy + small_*.keys.txt   numpy .npy versions 1-3
  questions.txt, pairs.tsv    a small analogy file and word-pair file (with OOV words, comments, bad lines)
  expected.json               gensim's answers: analogy counts per section (3 settings), pair
                              correlations (2 settings), most_similar / cosmul / doesnt_match / rank /
                              similarity / distance values
Run: /usr/bin/python3 tools/reference/vectors_golden.py
"""
import json
import os

import numpy as np
from gensim.models import KeyedVectors

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "golden", "vectors")
DIM = 16


def build():
    """Countries, capitals, adjectives and their comparatives: offsets plus noise, so some analogies work and some fail."""
    rng = np.random.default_rng(20241123)
    countries = ["france", "germany", "italy", "spain", "japan", "china", "egypt", "peru", "chile", "kenya", "norway", "greece"]
    capitals = ["paris", "berlin", "rome", "madrid", "tokyo", "beijing", "cairo", "lima", "santiago", "nairobi", "oslo", "athens"]
    adjectives = ["big", "small", "fast", "slow", "tall", "short", "cold", "warm", "young", "old"]
    comparatives = ["bigger", "smaller", "faster", "slower", "taller", "shorter", "colder", "warmer", "younger", "older"]
    capital_offset = rng.normal(size=DIM)
    comparative_offset = rng.normal(size=DIM)
    keys, rows = [], []

    def add(key, vector):
        keys.append(key)
        rows.append(vector)

    for c, k in zip(countries, capitals):
        base = rng.normal(size=DIM) * 1.5
        add(c, base)
        add(k, base + capital_offset + rng.normal(size=DIM) * 0.9)
    for a, b in zip(adjectives, comparatives):
        base = rng.normal(size=DIM) * 1.5
        add(a, base)
        add(b, base + comparative_offset + rng.normal(size=DIM) * 0.9)
    # Case variants: the upper-cased form of a later key collides with an earlier one (most frequent wins).
    add("Paris", rng.normal(size=DIM))
    add("BERLIN", rng.normal(size=DIM))
    # Non-ASCII keys survive every format; "straße" upper-cases to "STRASSE" in Python.
    add("café", rng.normal(size=DIM))
    add("straße", rng.normal(size=DIM))
    add("strasse", rng.normal(size=DIM))
    for i in range(200):
        add(f"filler{i}", rng.normal(size=DIM) * rng.uniform(0.5, 2.0))
    return keys, np.asarray(rows, dtype=np.float32), countries, capitals, adjectives, comparatives


def write_questions(path, countries, capitals, adjectives, comparatives):
    lines = [": capital-world"]
    for i in range(len(countries)):
        for j in range(len(countries)):
            if i != j and (i + 2 * j) % 3 == 0:
                lines.append(f"{capitals[i].capitalize()} {countries[i].capitalize()} {capitals[j]} {countries[j].upper()}")
    lines.append("Athens Greece Atlantis Nowhere")  # OOV: skipped, or wrong with dummy4unknown
    lines.append("only three words")  # not 4 words: ignored
    lines.append(": gram-comparative")
    for i in range(len(adjectives)):
        for j in range(len(adjectives)):
            if i != j and (i + j) % 2 == 0:
                lines.append(f"{adjectives[i]} {comparatives[i]} {adjectives[j]} {comparatives[j]}")
    lines.append(": case-and-unicode")
    lines.append("paris france berlin germany")
    lines.append("STRASSE café paris france")
    lines.append("big bigger Straße strasse")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


def write_pairs(path, keys):
    rng = np.random.default_rng(7)
    lines = ["# a comment line", "# Word 1\tWord 2\tHuman (mean)"]
    words = [k for k in keys if not k.startswith("filler")] + [f"filler{i}" for i in range(20)]
    for _ in range(60):
        a, b = rng.choice(len(words), size=2, replace=False)
        score = round(float(rng.uniform(0, 10)), 1)  # rounded to 0.1: ties exercise averaged ranks
        lines.append(f"{words[a]}\t{words[b]}\t{score}")
    lines.append("Paris\tfrance\t7.5")
    lines.append("unknownword\tparis\t3.0")  # OOV
    lines.append("not\ta valid line")  # two fields: ignored
    lines.append("big\tsmall\tnot-a-number")  # bad number: ignored
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


def analogy_counts(kv, path, **kw):
    score, sections = kv.evaluate_word_analogies(path, **kw)
    return {"accuracy": score, "sections": [{"section": s["section"], "correct": len(s["correct"]), "incorrect": len(s["incorrect"])} for s in sections]}


def main():
    os.makedirs(OUT, exist_ok=True)
    keys, matrix, countries, capitals, adjectives, comparatives = build()
    kv = KeyedVectors(DIM)
    kv.add_vectors(keys, matrix)
    kv.save_word2vec_format(os.path.join(OUT, "small.bin"), binary=True)
    kv.save_word2vec_format(os.path.join(OUT, "small.txt"), binary=False)
    kv.save_word2vec_format(os.path.join(OUT, "small.glove.txt"), binary=False, write_header=False)
    for dtype, version, name in [(np.float32, (1, 0), "small_f4_v1"), (np.float16, (2, 0), "small_f2_v2"), (np.float64, (3, 0), "small_f8_v3")]:
        with open(os.path.join(OUT, name + ".npy"), "wb") as f:
            np.lib.format.write_array(f, matrix.astype(dtype), version=version)
        with open(os.path.join(OUT, name + ".keys.txt"), "w", encoding="utf-8") as f:
            f.write("\n".join(keys) + "\n")
    questions = os.path.join(OUT, "questions.txt")
    pairs = os.path.join(OUT, "pairs.tsv")
    write_questions(questions, countries, capitals, adjectives, comparatives)
    write_pairs(pairs, keys)

    # Reload from the text file so the expectations are for exactly the vectors the tests read.
    kv = KeyedVectors.load_word2vec_format(os.path.join(OUT, "small.txt"), binary=False)
    expected = {
        "count": len(kv), "dimensions": kv.vector_size,
        "analogies": {
            "default": analogy_counts(kv, questions),
            "dummy4unknown": analogy_counts(kv, questions, dummy4unknown=True),
            "case_sensitive": analogy_counts(kv, questions, case_insensitive=False),
            "restrict_40": analogy_counts(kv, questions, restrict_vocab=40),
        },
        "pairs": {},
        "most_similar": [],
        "cosmul": [],
    }
    for name, kw in [("default", {}), ("dummy4unknown", {"dummy4unknown": True})]:
        pearson, spearman, oov = kv.evaluate_word_pairs(pairs, **kw)
        expected["pairs"][name] = {"pearson": float(pearson[0]), "spearman": float(spearman[0]), "oov_ratio": float(oov)}
    for positive, negative, topn, restrict in [(["paris"], [], 5, None), (["berlin", "italy"], ["germany"], 5, None),
                                               (["bigger", "cold"], ["big"], 3, None), (["café"], [], 4, 30)]:
        result = kv.most_similar(positive=positive, negative=negative, topn=topn, restrict_vocab=restrict)
        expected["most_similar"].append({"positive": positive, "negative": negative, "topn": topn, "restrict_vocab": restrict,
                                         "result": [[k, float(s)] for k, s in result]})
    for positive, negative, topn in [(["berlin", "italy"], ["germany"], 5), (["bigger", "cold"], ["big"], 3)]:
        result = kv.most_similar_cosmul(positive=positive, negative=negative, topn=topn)
        expected["cosmul"].append({"positive": positive, "negative": negative, "topn": topn, "result": [[k, float(s)] for k, s in result]})
    expected["similarity"] = [["paris", "france", float(kv.similarity("paris", "france"))], ["big", "small", float(kv.similarity("big", "small"))]]
    expected["distance"] = [["paris", "france", float(kv.distance("paris", "france"))]]
    expected["euclidean"] = [["paris", "france", float(np.linalg.norm(kv["paris"] - kv["france"]))]]
    # Unknown keys are ignored by gensim 4 (with a logged warning); the second case is the first plus two unknown keys.
    doesnt_match_cases = [
        ["paris", "berlin", "rome", "bigger"],
        ["paris", "atlantis", "berlin", "rome", "bigger", "nowhere"],
        ["france", "germany", "italy", "kenya", "fast", "zzz"],
        ["café", "atlantis"],
    ]
    expected["doesnt_match"] = [[words, kv.doesnt_match(words)] for words in doesnt_match_cases]
    expected["rank"] = [["paris", "france", kv.rank("paris", "france")], ["big", "bigger", kv.rank("big", "bigger")]]
    expected["closest_to"] = [["paris", ["rome", "france", "big"], kv.most_similar_to_given("paris", ["rome", "france", "big"])]]
    with open(os.path.join(OUT, "expected.json"), "w", encoding="utf-8") as f:
        json.dump(expected, f, indent=1, ensure_ascii=False)
    print("wrote", OUT)


if __name__ == "__main__":
    main()
