#!/usr/bin/env python3
"""faiss's binary indexes on handprint corpus codes, against an exact numpy scan.

  handprint-corpus peers --pool target/corpus/pool.bin --works 1000000 --out target/corpus/peers-1m
  ~/peers-venv/bin/python scripts/peers-index.py target/corpus/peers-1m

Needs numpy and faiss-cpu (in a virtual environment outside the project, e.g.
`python3 -m venv ~/peers-venv && ~/peers-venv/bin/pip install faiss-cpu numpy`).

Reads the folder `handprint-corpus peers` wrote: db.u8 (N codes of 32 bytes), queries.u8,
queries.tsv (planted copies of real tiles, and codes of held-out photos), truth.tsv (the
full scan within the radius) and meta.json. Then, on one thread:

  oracle        numpy: XOR with every database row, popcount by table, keep d <= radius
  flat          faiss IndexBinaryFlat, range search
  multihash     faiss IndexBinaryMultiHash, range search, for each --mhash configuration
                (NHASHxBITSfNFLIP: 8x32f3 and 16x16f1 cover radius 31 by pigeonhole)

faiss's binary range search keeps distances strictly below its radius, so it is given
radius + 1. Printed per index: build time, memory (RSS growth while building), latency per
query (one query per call; median and p99, planted and unrelated queries together), and
recall of the oracle's pairs (and of the planted copies' own works within the radius). The
oracle is checked against truth.tsv first.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time

import numpy as np

POPCOUNT = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def load(folder):
    meta = json.load(open(os.path.join(folder, "meta.json")))
    db = np.fromfile(os.path.join(folder, "db.u8"), dtype=np.uint8).reshape(-1, 32)
    q = np.fromfile(os.path.join(folder, "queries.u8"), dtype=np.uint8).reshape(-1, 32)
    kinds, works = [], []
    with open(os.path.join(folder, "queries.tsv")) as f:
        next(f)
        for line in f:
            cols = line.rstrip("\n").split("\t")
            kinds.append(cols[1])
            works.append(int(cols[3]) if cols[3] else -1)
    truth = [set() for _ in range(len(q))]
    with open(os.path.join(folder, "truth.tsv")) as f:
        next(f)
        for line in f:
            qi, i, _ = line.split("\t")
            truth[int(qi)].add(int(i))
    return meta, db, q, np.array(kinds), np.array(works), truth


def timed(fn, queries):
    lat, found = np.empty(len(queries)), []
    for i in range(len(queries)):
        t0 = time.perf_counter()
        found.append(fn(queries[i:i + 1]))
        lat[i] = time.perf_counter() - t0
    return lat * 1000, found


def recall(found, oracle):
    want = sum(len(o) for o in oracle)
    got = sum(len(set(f) & o) for f, o in zip(found, oracle))
    return got / want if want else float("nan")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("folder")
    ap.add_argument("--mhash", default="8x32f3,16x16f1", help="MultiHash configs NHASHxBITSfNFLIP")
    ap.add_argument("--oracle-queries", type=int, default=0,
                    help="scan with numpy only this many queries (0: all); the rest use truth.tsv")
    ap.add_argument("--json", help="also write the rows here")
    a = ap.parse_args()

    import faiss
    faiss.omp_set_num_threads(1)
    meta, db, q, kinds, works, truth = load(a.folder)
    r = meta["radius"]
    print(f"# {len(db):,} database codes ({meta['codes_per_work']} per work, {meta['works']:,} works), "
          f"{len(q)} queries ({meta['planted']} planted, {meta['unrelated']} unrelated), radius {r}; "
          f"faiss {faiss.__version__}, numpy {np.__version__}, one thread")

    rows = []
    # Oracle: numpy full scan.
    nq = len(q) if a.oracle_queries <= 0 else min(a.oracle_queries, len(q))
    def oracle_one(x):
        d = POPCOUNT[np.bitwise_xor(db, x)].sum(axis=1, dtype=np.uint16)
        return np.nonzero(d <= r)[0]
    rss0 = rss_mb()
    lat, found = timed(oracle_one, q[:nq])
    oracle = [set(map(int, f)) for f in found] + truth[nq:]
    mismatch = sum(1 for i in range(nq) if oracle[i] != truth[i])
    if mismatch:
        print(f"WARNING: the numpy scan and truth.tsv differ on {mismatch} of {nq} queries", file=sys.stderr)
    rows.append(dict(index="numpy full scan (oracle)", build_s=0.0, rss_mb=rss_mb() - rss0,
                     lat_med_ms=float(np.median(lat)), lat_p99_ms=float(np.percentile(lat, 99)),
                     recall=1.0 if not mismatch else float("nan"), planted_recall=float("nan"),
                     queries=nq))

    planted = [i for i in range(len(q)) if kinds[i] == "planted" and works[i] in oracle[i]]

    def run(label, make):
        rss0 = rss_mb()
        t0 = time.perf_counter()
        index = make()
        index.add(db)
        build = time.perf_counter() - t0
        mem = rss_mb() - rss0
        def one(x):
            lims, _, ids = index.range_search(x, r + 1)
            return ids[lims[0]:lims[1]]
        lat, found = timed(one, q)
        got = [set(map(int, f)) for f in found]
        rows.append(dict(index=label, build_s=build, rss_mb=mem, lat_med_ms=float(np.median(lat)),
                         lat_p99_ms=float(np.percentile(lat, 99)), recall=recall(got, oracle),
                         planted_recall=float(np.mean([works[i] in got[i] for i in planted])) if planted else float("nan"),
                         queries=len(q)))
        print(f"  {label}: built {build:.1f} s, median {rows[-1]['lat_med_ms']:.3f} ms", file=sys.stderr, flush=True)
        del index

    run("faiss IndexBinaryFlat", lambda: faiss.IndexBinaryFlat(256))
    for cfg in a.mhash.split(","):
        nhash, rest = cfg.split("x")
        bits, nflip = (int(v) for v in rest.split("f"))
        def make(nhash=int(nhash), bits=bits, nflip=nflip):
            ix = faiss.IndexBinaryMultiHash(256, nhash, bits)
            ix.nflip = nflip
            return ix
        run(f"faiss IndexBinaryMultiHash {nhash}x{bits} nflip={nflip}", make)

    pairs = sum(len(o) for o in oracle)
    print(f"\nOracle pairs within {r}: {pairs} ({len(planted)} planted copies whose own work is within {r}).\n")
    print("| index | build s | RSS +MB | latency median ms | p99 ms | recall vs oracle | planted recall | queries |")
    print("|---|---|---|---|---|---|---|---|")
    for x in rows:
        print(f"| {x['index']} | {x['build_s']:.2f} | {x['rss_mb']:.0f} | {x['lat_med_ms']:.3f} | {x['lat_p99_ms']:.3f} | "
              f"{x['recall']:.4f} | {x['planted_recall']:.4f} | {x['queries']} |")
    if a.json:
        json.dump(dict(meta=meta, rows=rows), open(a.json, "w"), indent=1)


if __name__ == "__main__":
    main()
