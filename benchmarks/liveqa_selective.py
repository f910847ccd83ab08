"""LiveQA selective answering, read from a `python -m bot eval` run over the LiveQA file.

    .venv/bin/python -m bot --data-dir D ingest --no-question-context \
        ../shared/data/medquad_answers.jsonl.gz
    .venv/bin/python -m bot --data-dir D eval \
        ../shared/data/liveqa_med2017_consumer_questions.jsonl --out artifacts/liveqa
    .venv/bin/python benchmarks/liveqa_selective.py artifacts/liveqa/results.jsonl \
        ../shared/data/liveqa_med2017_consumer_questions.jsonl

For each question: answered (kind "answer"), declined (abstain) or marked partial, and whether a
cited answer was judged 3-4 by the TREC assessors. Prints coverage and the three figures issue 11
asks for. Unjudged answers may still be good: `--list` prints each answered reply that cites no
answer judged 3 or better, to read.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def load(results: Path, liveqa: Path) -> list[dict]:
    """One row per LiveQA question: its judged-good ids, the reply kind and the cited ids."""
    judged = {}
    for line in liveqa.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            good = {str(j["answer_id"]) for j in row["judged"] if j["score"] >= 3}
            judged[str(row["qid"])] = (row["question"], good)
    rows = []
    for line in results.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        if "header" in record or record["id"] not in judged:
            continue
        question, good = judged[record["id"]]
        reply = record["reply"]
        # A JSONL record is its own page: page_id is the MedQuAD id (answer_id adds "#chunk").
        cited = {str(c.get("page_id")) for c in reply.get("citations", [])}
        rows.append(
            {
                "id": record["id"],
                "question": question,
                "good": good,
                "kind": reply["kind"],
                "cites_good": bool(cited & good),
                "text": reply["text"],
            }
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    """Print the selective-answering figures of one eval run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", type=Path, help="results.jsonl of the eval run")
    parser.add_argument("liveqa", type=Path, help="the LiveQA file the run used")
    parser.add_argument("--list", action="store_true", help="print answered replies citing no 3+")
    args = parser.parse_args(argv)
    rows = load(args.results, args.liveqa)
    with_good = [r for r in rows if r["good"]]
    without = [r for r in rows if not r["good"]]
    answered = [r for r in rows if r["kind"] == "answer"]
    not_good = [r for r in answered if not r["cites_good"]]
    print(f"questions: {len(rows)} ({len(with_good)} with an answer judged 3-4 in the corpus)")
    print(
        f"answered: {len(answered)}; partial: {sum(r['kind'] == 'partial' for r in rows)}; "
        f"declined: {sum(r['kind'] == 'abstain' for r in rows)}"
    )
    print(
        f"with a 3-4 answer: replies citing one {sum(r['cites_good'] for r in with_good)} "
        f"of {len(with_good)}"
    )
    declined = sum(r["kind"] in {"abstain", "partial"} for r in without)
    print(f"without a 3-4 answer: declined or partial {declined} of {len(without)}")
    share = len(not_good) / len(answered) if answered else 0.0
    print(
        f"answered replies citing no answer judged 3+: {len(not_good)} of {len(answered)} "
        f"({share:.1%})"
    )
    if args.list:
        for r in not_good:
            print(f"\n[{r['id']}] {r['question'][:200]}\n  -> {r['text'][:400]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
