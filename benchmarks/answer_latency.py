"""`answer()` latency (extractive) against a plain LangChain baseline, measured in one run.

    .venv/bin/python benchmarks/answer_latency.py --seed-dir DIR --medquad-dir DIR [--n 200]

Each data folder must already hold an index (`python -m bot --data-dir DIR ingest ...`); the seed
folder is built from seeds/ if empty. The baseline is the plain LangChain path: Chroma
`similarity_search(question, k=4)`, the 4 chunks stuffed into the same extractive composer
(no BM25, no gate, no verification). Both run warm, in the same process, interleaved question by
question so machine noise hits both alike. Prints a markdown table.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bot.answer.sources import render  # noqa: E402
from bot.chain import Bot  # noqa: E402
from bot.settings import Settings  # noqa: E402


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def baseline_answer(bot: Bot, question: str) -> str:
    """Plain LangChain: similarity search top 4, sources stuffed, same composer."""
    store = bot.index.vectorstore()
    vector = bot.embed_query(question)
    # An index of projected vectors (ingest --dense-dims) is searched with the projected vector.
    projection = getattr(store.embeddings, "projection", None)
    searched = vector if projection is None else projection.project(vector).tolist()
    docs = store.similarity_search_by_vector(searched, k=4)
    composition = bot.composer.compose(question, docs, vector)
    return render(composition, docs)[0]


def measure(bot: Bot, baseline: Bot, questions: list[str], warmup: list[str]) -> dict:
    """Interleaved timings of answer() and the baseline (each with its own embedding cache)."""
    for q in warmup:
        bot.answer(q)
        baseline_answer(baseline, q)
    ours, base = [], []
    for q in questions:
        t = time.perf_counter()
        bot.answer(q)
        ours.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        baseline_answer(baseline, q)
        base.append((time.perf_counter() - t) * 1000)
    return {
        "n": len(questions),
        "answer_p50": statistics.median(ours),
        "answer_p95": percentile(ours, 95),
        "baseline_p50": statistics.median(base),
        "baseline_p95": percentile(base, 95),
    }


def main() -> None:
    """Run both scales and print the table."""
    parser = argparse.ArgumentParser(description="answer() latency vs a plain LangChain baseline")
    parser.add_argument("--seed-dir", type=Path, required=True)
    parser.add_argument("--medquad-dir", type=Path)
    parser.add_argument("--n", type=int, default=200, help="MedQuAD questions (default 200)")
    parser.add_argument("--out", type=Path, help="also write the results as JSON")
    args = parser.parse_args()
    results = {}
    seed = Settings.load(data_dir=args.seed_dir)
    seed_bot = Bot(seed)
    if seed_bot.index.current_generation() is None:
        seed_bot.index.sync([ROOT / "seeds"])
    lines = (ROOT / "tests/data/answer_cases.jsonl").read_text().splitlines()
    seed_questions = [json.loads(x)["question"] for x in lines if x.strip()]
    warmup = ["Does Botox hurt?", "Can I exercise after Botox?", "Is filler safe?"]
    results["seed"] = measure(seed_bot, Bot(seed), seed_questions, warmup)
    if args.medquad_dir:
        from medquad_sample import medquad_sample

        medquad = Settings.load(data_dir=args.medquad_dir)
        sample = [q for q, _ in medquad_sample(n=args.n + 5, seed=7)]
        results["medquad"] = measure(Bot(medquad), Bot(medquad), sample[5:], sample[:5])
    print(
        "| index | questions | answer() p50 ms | answer() p95 ms | baseline p50 ms | "
        "baseline p95 ms |"
    )
    print("|---|---|---|---|---|---|")
    for name, r in results.items():
        print(
            f"| {name} | {r['n']} | {r['answer_p50']:.1f} | {r['answer_p95']:.1f} | "
            f"{r['baseline_p50']:.1f} | {r['baseline_p95']:.1f} |"
        )
    if args.out:
        args.out.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
