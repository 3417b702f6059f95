#!/usr/bin/python3
"""hnswlib's and faiss's HNSW figures for the `ann` benchmark (bench/TokenSpace.Bench/AnnBench.cs runs it).

usage: ann_bench.py UNIT_NPY QUERIES_NPY TRUTH_NPY --m M --ef-construction E --efs 16,32,... --threads 1,2 [--round R]
       [--repeats P]

UNIT_NPY holds the unit-norm rows (N, d) float32; QUERIES_NPY the query rows' numbers (Q,) int64;
TRUTH_NPY TokenSpace's exact top-10 of each query with the query row left out (Q, 10) int64.
Each system builds its index on all threads (cosine = inner product of unit rows), then answers the
whole query batch at each expansion (ef) on each thread count; it asks for 11 neighbours and drops
the query row, as TokenSpace does; the query rate is the median of P passes over the batch. Prints JSON lines
{"bench": "ann", "system", "phase": "build", "seconds", ...} and
{"bench": "ann", "system", "expansion", "recall_at_10", "qps", "threads", ...}.
"""
import argparse
import json
import os
import time

import numpy as np


def emit(**fields):
    load = " ".join(f"{v:.2f}" for v in os.getloadavg())
    print(json.dumps({"bench": "ann", **fields, "load": load}), flush=True)


def recall(found, queries, truth):
    hits = 0
    for q, row in enumerate(queries):
        kept = [r for r in found[q] if r != row and r >= 0][:10]
        hits += len(set(kept) & set(truth[q]))
    return hits / truth.size


def timed(search, repeats):
    """The last pass's answer and the median seconds of `repeats` passes."""
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        found = search()
        seconds.append(time.perf_counter() - start)
    return found, float(np.median(seconds))


def run_hnswlib(unit, queries, truth, args):
    import hnswlib
    index = hnswlib.Index(space="ip", dim=unit.shape[1])
    start = time.perf_counter()
    index.init_index(max_elements=len(unit), M=args.m, ef_construction=args.ef_construction, random_seed=100)
    index.add_items(unit, np.arange(len(unit)), num_threads=os.cpu_count())
    emit(system="hnswlib", phase="build", seconds=time.perf_counter() - start, threads=os.cpu_count(),
         connectivity=args.m, expansion_add=args.ef_construction, round=args.round)
    q = unit[queries]
    for ef in args.efs:
        index.set_ef(max(ef, 11))
        for threads in args.threads:
            (labels, _), seconds = timed(lambda: index.knn_query(q, k=11, num_threads=threads), args.repeats)
            emit(system="hnswlib", expansion=ef, recall_at_10=recall(labels, queries, truth), qps=len(q) / seconds,
                 threads=threads, round=args.round)


def run_faiss(unit, queries, truth, args):
    import faiss
    faiss.omp_set_num_threads(os.cpu_count())
    index = faiss.IndexHNSWFlat(unit.shape[1], args.m, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = args.ef_construction
    start = time.perf_counter()
    index.add(unit)
    emit(system="faiss-hnsw", phase="build", seconds=time.perf_counter() - start, threads=os.cpu_count(),
         connectivity=args.m, expansion_add=args.ef_construction, round=args.round)
    q = np.ascontiguousarray(unit[queries])
    for ef in args.efs:
        index.hnsw.efSearch = max(ef, 11)
        for threads in args.threads:
            faiss.omp_set_num_threads(threads)
            (_, labels), seconds = timed(lambda: index.search(q, 11), args.repeats)
            emit(system="faiss-hnsw", expansion=ef, recall_at_10=recall(labels, queries, truth), qps=len(q) / seconds,
                 threads=threads, round=args.round)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("unit")
    parser.add_argument("queries")
    parser.add_argument("truth")
    parser.add_argument("--m", type=int, required=True)
    parser.add_argument("--ef-construction", type=int, required=True)
    parser.add_argument("--efs", type=lambda s: [int(x) for x in s.split(",")], required=True)
    parser.add_argument("--threads", type=lambda s: [int(x) for x in s.split(",")], required=True)
    parser.add_argument("--round", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--systems", default="hnswlib,faiss-hnsw")
    args = parser.parse_args()
    unit = np.load(args.unit)
    queries = np.load(args.queries)
    truth = np.load(args.truth)
    for system in args.systems.split(","):
        {"hnswlib": run_hnswlib, "faiss-hnsw": run_faiss}[system](unit, queries, truth, args)


if __name__ == "__main__":
    main()
