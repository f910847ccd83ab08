"""Retrieval benchmarks on public data: BM25 alone, dense alone and the shipped hybrid retriever.

- medquad: 1,000 MedQuAD questions (benchmarks/medquad_sample.py) against the 16,423 answers;
  a hit is the question's own record among the top-k distinct page ids: hit@1, hit@5, MRR@10.
- liveqa: the 86 LiveQA-Med 2017 questions we have of the 104 originals; avgScore = sum over
  questions of (judgment of the first answer - 1, unjudged or none counting 0) / 104; plus hit@10
  and MRR@10 over the 39 questions with an answer judged 3 or 4.

The index holds answers only (no question text), chunked at 180 words; an answer ranks by its
best chunk. Build it once, then run both benchmarks in one go:

    .venv/bin/python -m bot --data-dir /tmp/medquad ingest --no-question-context \\
        ../shared/data/medquad_answers.jsonl.gz
    .venv/bin/python benchmarks/retrieval_benchmarks.py all --data-dir /tmp/medquad

Data: MedQuAD (Ben Abacha & Demner-Fushman 2019, CC BY 4.0); TREC 2017 LiveQA medical task
(Ben Abacha et al. 2017).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from benchmarks.medquad_sample import medquad_records, medquad_sample  # noqa: E402
from bot.answer.retrieve import HybridRetriever  # noqa: E402
from bot.resources import shared_embedder  # noqa: E402
from vectorstore.index import Index  # noqa: E402

LIVEQA = ROOT.parent / "shared" / "data" / "liveqa_med2017_consumer_questions.jsonl"
LIVEQA_ORIGINAL_QUESTIONS = 104
CANDIDATES = 50  # chunks each single method fetches (enough for 10 distinct answers)
DEPTH = 10
# Measured by the authors on the same data and protocol (answers cut at 256 tokens).
REFERENCES = {
    "medquad": {
        "reference: BM25 (bm25s, English stopwords)": (0.264, 0.639, 0.418),
        "reference: dense all-MiniLM-L6-v2": (0.472, 0.777, 0.599),
        "reference: RRF k=60, top 50 of each": (0.417, 0.772, 0.559),
    },
    "liveqa": {
        "reference: BM25 (bm25s, English stopwords)": (0.173, 23, 0.274),
        "reference: dense all-MiniLM-L6-v2": (0.250, 24, 0.324),
        "reference: RRF k=60, top 50 of each": (0.317, 26, 0.405),
    },
}
Ranker = Callable[[str], list[str]]


def medquad_dev(n: int, seed: int = 7) -> list[tuple[str, str]]:
    """A dev sample disjoint from the test sample: where retriever settings are chosen."""
    test = {record_id for _, record_id in medquad_sample()}
    rest = [r for r in medquad_records() if r["id"] not in test]
    return [(r["question"], r["id"]) for r in random.Random(seed).sample(rest, n)]


def distinct_pages(docs) -> list[str]:
    """Page ids in rank order, each once: an answer ranks by its best chunk."""
    return list(dict.fromkeys(d.metadata["page_id"] for d in docs))


ABLATIONS = {  # the shipped retriever with one decision undone (`--ablations`)
    "dense alone, chunks only": {
        "alpha": 1.0,
        "focus_questions": False,
        "sentence_weight": 0.0,
    },
    "dense alone, with sentence lift (alpha=1)": {"alpha": 1.0, "focus_questions": False},
    "hybrid without question focus": {"focus_questions": False},
    "hybrid without sentence lift": {"sentence_weight": 0.0},
    "hybrid with RRF k=60 instead of score fusion": {"fusion": "rrf"},
}


def rankers(
    index: Index,
    embed: Callable[[str], list[float]],
    ablations: bool = False,
    options: dict | None = None,
) -> dict[str, Ranker]:
    """BM25 alone, dense alone and the shipped hybrid (deep enough to rank 10 answers)."""
    hybrid = HybridRetriever(index=index, embed_query=embed, k=3 * DEPTH, **(options or {}))

    def bm25(q: str) -> list[str]:
        scores = index.lexical(q, CANDIDATES)
        records = index.chunk_records(scores)
        return distinct_pages(records[c][0] for c in scores if c in records)

    out: dict[str, Ranker] = {
        "BM25 alone": bm25,
        "dense alone (Chroma HNSW)": lambda q: distinct_pages(
            d for d, _ in index.search_by_vector(embed(q), CANDIDATES)
        ),
        "hybrid (shipped)": lambda q: distinct_pages(hybrid.invoke(q)),
    }
    for label, options in ABLATIONS.items() if ablations else ():
        variant = HybridRetriever(index=index, embed_query=embed, k=3 * DEPTH, **options)
        out[label] = lambda q, variant=variant: distinct_pages(variant.invoke(q))
    return out


def run(rank: Ranker, queries: Sequence[str]) -> tuple[list[list[str]], dict]:
    """Ranked page ids for each query, and the per-query time (query embeddings are cached)."""
    out, times = [], []
    for q in queries:
        started = time.perf_counter()
        out.append(rank(q)[:DEPTH])
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return out, {
        "p50": round(times[len(times) // 2], 1),
        "p95": round(times[len(times) * 95 // 100], 1),
    }


def _mrr(ranked: list[str], good: set[str]) -> float:
    return next((1 / i for i, p in enumerate(ranked, 1) if p in good), 0.0)


def score_medquad(results: list[list[str]], targets: list[str]) -> dict:
    """hit@1, hit@5 and MRR@10 of each question's own answer."""
    n = len(targets)
    return {
        "hit@1": sum(r[:1] == [t] for r, t in zip(results, targets, strict=True)) / n,
        "hit@5": sum(t in r[:5] for r, t in zip(results, targets, strict=True)) / n,
        "MRR@10": sum(_mrr(r, {t}) for r, t in zip(results, targets, strict=True)) / n,
    }


def score_liveqa(results: list[list[str]], questions: list[dict]) -> dict:
    """avgScore over the 104 original questions; hit@10 and MRR@10 over those with a 3 or 4."""
    total, hits, rr, answerable = 0.0, 0, 0.0, 0
    for ranked, q in zip(results, questions, strict=True):
        judged = {j["answer_id"]: j["score"] for j in q["judged"]}
        if ranked:
            total += judged.get(ranked[0], 1) - 1
        good = {a for a, s in judged.items() if s >= 3}
        if good:
            answerable += 1
            hits += any(p in good for p in ranked[:10])
            rr += _mrr(ranked, good)
    return {
        "avgScore": total / LIVEQA_ORIGINAL_QUESTIONS,
        "hit@10": f"{hits}/{answerable}",
        "MRR@10": rr / answerable,
    }


def end_to_end_ms(index: Index, queries: Sequence[str], options: dict | None = None) -> dict:
    """The shipped retriever as the bot runs it (default k), query embedding included."""
    retriever = HybridRetriever(index=index, **(options or {}))
    times = []
    for q in queries:
        started = time.perf_counter()
        retriever.invoke(q)
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return {"p50": round(times[len(times) // 2], 1), "p95": round(times[len(times) * 95 // 100], 1)}


def table(name: str, columns: list[str], rows: dict[str, dict], refs: dict) -> str:
    """A Markdown table: our three retrievers, then the reference points."""
    head = f"| {name} | " + " | ".join(columns) + " | ms/query p50 | p95 |"
    lines = [head, "|---" * (len(columns) + 3) + "|"]
    for label, row in rows.items():
        cells = [v if isinstance(v, str) else f"{v:.3f}" for v in (row[c] for c in columns)]
        ms = row["ms"]
        lines.append(f"| {label} | " + " | ".join(cells) + f" | {ms['p50']} | {ms['p95']} |")
    for label, values in refs.items():
        cells = [f"{v}/39" if isinstance(v, int) else f"{v:.3f}" for v in values]
        lines.append(f"| {label} | " + " | ".join(cells) + " | | |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the chosen benchmark(s) and print Markdown tables (and JSON with --json)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("benchmark", choices=["medquad", "liveqa", "all"])
    parser.add_argument("--data-dir", required=True, help="data folder with the MedQuAD index")
    parser.add_argument("--n", type=int, default=1000, help="MedQuAD questions (default 1000)")
    parser.add_argument("--json", type=Path, help="also write the numbers to this file")
    parser.add_argument(
        "--ablations", action="store_true", help="also run the shipped retriever minus each change"
    )
    parser.add_argument(
        "--split",
        choices=["test", "dev"],
        default="test",
        help="MedQuAD questions: the fixed test sample (default) or a disjoint dev sample",
    )
    parser.add_argument("--alpha", type=float, help="try another dense share in score fusion")
    parser.add_argument(
        "--sentence-weight", type=float, help="try another share of the best-sentence lift"
    )
    parser.add_argument(
        "--only-shipped", action="store_true", help="run the shipped retriever alone (for sweeps)"
    )
    args = parser.parse_args(argv)

    embedder = shared_embedder()
    index = Index(args.data_dir, embedder=embedder, question_context=False)
    if index.manifest().question_context:
        sys.exit("the index was built with question context: ingest with --no-question-context")
    jobs: dict[str, tuple[list[str], Callable[[list[list[str]]], dict], list[str]]] = {}
    if args.benchmark in ("medquad", "all"):
        sample = medquad_sample(args.n) if args.split == "test" else medquad_dev(args.n)
        targets = [record_id for _, record_id in sample]
        jobs["medquad"] = (
            [question for question, _ in sample],
            lambda results: score_medquad(results, targets),
            ["hit@1", "hit@5", "MRR@10"],
        )
    if args.benchmark in ("liveqa", "all"):
        questions = [json.loads(line) for line in LIVEQA.read_text().splitlines() if line.strip()]
        jobs["liveqa"] = (
            [q["question"] for q in questions],
            lambda results: score_liveqa(results, questions),
            ["avgScore", "hit@10", "MRR@10"],
        )
    options = {
        key: value
        for key, value in (("alpha", args.alpha), ("sentence_weight", args.sentence_weight))
        if value is not None
    }
    report: dict = {}
    for name, (queries, score, columns) in jobs.items():
        # Embedded in one batch first: the per-method timings exclude query embedding.
        cache = dict(zip(queries, embedder.embed(queries), strict=True))

        def embed(text: str, cache=cache) -> list[float]:
            return (
                cache[text] if text in cache else cache.setdefault(text, embedder.embed_query(text))
            )

        rows = {}
        for label, rank in rankers(index, embed, args.ablations, options).items():
            if args.only_shipped and label != "hybrid (shipped)":
                continue
            results, ms = run(rank, queries)
            rows[label] = {**score(results), "ms": ms}
        report[name] = {
            "rows": rows,
            "shipped_end_to_end_ms": end_to_end_ms(index, queries[:200], options),
        }
        print(f"\n{name}: {len(queries)} questions")
        print(table(name, columns, rows, REFERENCES[name]))
        e2e = report[name]["shipped_end_to_end_ms"]
        print(f"shipped retriever end to end (k=8, query embedding included): {e2e} ms")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
