"""Dense recall of Chroma's HNSW against an exact scan, for several HNSW settings, at MedQuAD scale.

Run: `.venv/bin/python benchmarks/hnsw_recall.py --data-dir /tmp/medquad_v3 [--n 300]`. The chunk
vectors of the index's live generation are copied into a fresh collection per creation setting
(`max_neighbors`, `ef_construction`) in a temporary folder; then, in a fresh process per
`ef_search` (Chroma reads it when it loads the collection's HNSW), the dev questions (disjoint
from the test sample; query embeddings of the index's embedder) are searched. Printed per row:
- recall@10: of the exact top 10 chunks, the share among HNSW's top 10;
- recall@10 of 50 rescored: the share among the top 10 of HNSW's 50 candidates rescored with the
  stored vectors, which is what retrieval does (`Index.dense_search` with `candidates` 50);
- ms per query (p50, p95) and the seconds the collection took to build.
The first creation setting is Chroma's default (16, 100): the baseline, in the same run.

`--dims 128` (or a list, `--dims 0,128,160`; 0 is the full vectors) also builds collections of
projected vectors as `ingest --dense-dims` stores them (vectorstore/projection.py: fitted on the
first `FIT_SAMPLE` chunk vectors of the index, as an ingest fits it) and searches them with
projected queries for `PROJECTED_OVERSAMPLE` x 50 candidates, rescored with the full vectors.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

CREATION = [(16, 100), (32, 200)]  # (max_neighbors, ef_construction); Chroma's default first
EF_SEARCH = [100, 200, 400, 800]
NAME = "recall"

CHILD = """
import json, sys, time
import chromadb, numpy as np
from chromadb.config import Settings
folder, ef, queries, n = sys.argv[1], int(sys.argv[2]), np.load(sys.argv[3]), int(sys.argv[4])
client = chromadb.PersistentClient(path=folder, settings=Settings(anonymized_telemetry=False))
collection = client.get_collection("recall")
collection.modify(configuration={"hnsw": {"ef_search": ef}})
collection.query(query_embeddings=[queries[0].tolist()], n_results=n, include=[])  # loads HNSW
out, times = [], []
for q in queries:
    t = time.perf_counter()
    got = collection.query(query_embeddings=[q.tolist()], n_results=n, include=[])
    times.append((time.perf_counter() - t) * 1000)
    out.append(got["ids"][0])
print(json.dumps({"ids": out, "ms": times}))
"""


def exact_top(matrix: np.ndarray, ids: list[str], vector: np.ndarray, k: int) -> list[str]:
    """The k chunk ids with the highest cosine (vectors are unit length)."""
    scores = matrix @ vector
    top = np.argpartition(-scores, k)[:k]
    return [ids[i] for i in top[np.argsort(-scores[top], kind="stable")]]


def _build(folder: Path, ids: list[str], vectors: np.ndarray, neighbors: int, construction: int):
    """A fresh persistent collection of these vectors; the seconds it took."""
    import chromadb
    from chromadb.config import Settings

    client = chromadb.PersistentClient(
        path=str(folder), settings=Settings(anonymized_telemetry=False)
    )
    collection = client.create_collection(
        NAME,
        embedding_function=None,
        configuration={
            "hnsw": {"space": "cosine", "max_neighbors": neighbors, "ef_construction": construction}
        },
    )
    started = time.perf_counter()
    for at in range(0, len(ids), 5000):
        collection.add(ids=ids[at : at + 5000], embeddings=vectors[at : at + 5000])
    build = time.perf_counter() - started
    client.close()
    return build


def _size(folder: Path) -> int:
    """Bytes of the collection's HNSW files (the segment folders: what a reader loads)."""
    return sum(
        f.stat().st_size
        for d in folder.iterdir()
        if d.is_dir()
        for f in d.rglob("*")
        if f.is_file()
    )


def main(argv: list[str] | None = None) -> int:
    """Build the collections, search them at each ef_search, print a Markdown table."""
    from benchmarks.retrieval_benchmarks import medquad_dev
    from bot.resources import shared_embedder
    from vectorstore.hnsw import PROJECTED_OVERSAMPLE
    from vectorstore.index import Index
    from vectorstore.projection import FIT_SAMPLE, DenseProjection

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", required=True, help="data folder with the MedQuAD index")
    parser.add_argument("--n", type=int, default=300, help="dev questions (default 300)")
    parser.add_argument("--json", type=Path, help="also write the numbers to this file")
    parser.add_argument(
        "--dims", default="0", help="stored dimensions, comma-separated (0: full; default 0)"
    )
    parser.add_argument(
        "--creation", default="", help="only these max_neighbors:ef_construction, e.g. 32:200"
    )
    parser.add_argument("--ef", default="", help="only these ef_search values, e.g. 800")
    args = parser.parse_args(argv)

    embedder = shared_embedder()
    index = Index(args.data_dir, embedder=embedder, question_context=False)
    gen = index.current_generation()
    ids: list[str] = []
    vectors: list = []
    for page_ids, _, _, page_vectors in index.store.record_pages(gen):
        ids.extend(page_ids)
        vectors.extend(page_vectors)
    matrix = np.asarray(vectors, dtype=np.float32)
    row = {cid: i for i, cid in enumerate(ids)}
    questions = [q for q, _ in medquad_dev(args.n)]
    queries = np.asarray(embedder.embed(questions), dtype=np.float32)
    exact = [exact_top(matrix, ids, q, 10) for q in queries]
    creation = (
        [tuple(int(x) for x in c.split(":")) for c in args.creation.split(",")]
        if args.creation
        else CREATION
    )
    efs = [int(x) for x in args.ef.split(",")] if args.ef else EF_SEARCH
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for dims in (int(x) for x in args.dims.split(",")):
            stored, searched, n = matrix, queries, 50
            if dims:
                projection = DenseProjection.fit(matrix[:FIT_SAMPLE], dims)
                stored, searched = projection.project(matrix), projection.project(queries)
                n = 50 * PROJECTED_OVERSAMPLE
            np.save(Path(tmp) / "queries.npy", searched)
            for neighbors, construction in creation:
                folder = Path(tmp) / f"d{dims}-m{neighbors}-c{construction}"
                build = _build(folder, ids, stored, neighbors, construction)
                for ef in efs:
                    done = subprocess.run(
                        [
                            sys.executable,
                            "-c",
                            CHILD,
                            str(folder),
                            str(ef),
                            f"{tmp}/queries.npy",
                            str(n),
                        ],
                        capture_output=True,
                        text=True,
                        check=True,
                    )
                    got = json.loads(done.stdout.strip().splitlines()[-1])
                    plain = [
                        len(set(h[:10]) & set(e)) / 10
                        for h, e in zip(got["ids"], exact, strict=True)
                    ]
                    rescored = []
                    for hits, want, q in zip(got["ids"], exact, queries, strict=True):
                        scores = {h: float(matrix[row[h]] @ q) for h in hits}
                        top = sorted(hits, key=lambda h: (-scores[h], h))[:10]
                        rescored.append(len(set(top) & set(want)) / 10)
                    ms = sorted(got["ms"])
                    rows.append(
                        {
                            "stored dims": dims or matrix.shape[1],
                            "max_neighbors": neighbors,
                            "ef_construction": construction,
                            "ef_search": ef,
                            "candidates": n,
                            "recall@10": round(statistics.mean(plain), 3),
                            "recall@10 rescored": round(statistics.mean(rescored), 3),
                            "ms p50": round(ms[len(ms) // 2], 2),
                            "ms p95": round(ms[len(ms) * 95 // 100], 2),
                            "build s": round(build, 1),
                            "HNSW MiB": round(_size(folder) / 2**20, 1),
                        }
                    )
                    print(json.dumps(rows[-1]), flush=True)
    machine = f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    print(f"\n{len(ids)} chunks, {len(questions)} dev questions; {machine}")
    columns = list(rows[0])
    print("| " + " | ".join(columns) + " |")
    print("|---" * len(columns) + "|")
    for r in rows:
        print("| " + " | ".join(str(r[c]) for c in columns) + " |")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
