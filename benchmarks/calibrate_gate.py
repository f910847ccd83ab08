"""Calibrate the relevance gate on the seed index: closeness and coverage, in scope vs not.

    .venv/bin/python benchmarks/calibrate_gate.py [--data-dir DIR]

Builds (or reuses) a seed index, then prints for every single-turn case of
tests/data/answer_cases.jsonl and tests/data/seed_eval.jsonl (the calibration set) and of
tests/data/near_miss_holdout.jsonl (held out: written before the thresholds were chosen, used
only to check them): the best chunk cosine, the best sentence cosine, the share of the
question's meaning carried by words no passing answer contains, and the gate's verdict.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.answer import gate  # noqa: E402
from bot.chain import Bot  # noqa: E402
from bot.settings import Settings  # noqa: E402

SETS = {
    "calibration": ["tests/data/answer_cases.jsonl", "tests/data/seed_eval.jsonl"],
    "held out": ["tests/data/near_miss_holdout.jsonl"],
}


def features(bot: Bot, question: str) -> dict:
    """What the gate sees for one question."""
    docs = bot.retriever.invoke(question)
    closeness = gate.relevant(question, docs)  # the closeness test alone
    return {
        "chunk": max((d.metadata.get("chunk_score", 0.0) for d in docs), default=0.0),
        "sentence": max((d.metadata.get("sentence_score", 0.0) for d in docs), default=0.0),
        "uncovered": gate.uncovered_meaning(question, closeness, bot.embed_query)
        if closeness
        else None,
        "passes": bool(gate.relevant(question, docs, bot.embed_query)),
    }


def main() -> None:
    """Print the calibration tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, help="existing data folder (default: a temp one)")
    args = parser.parse_args()
    data = args.data_dir or Path(tempfile.mkdtemp())
    bot = Bot(Settings.load(data_dir=data))
    bot.index.sync([ROOT / "seeds"])
    print(
        f"MIN_TOP_COSINE {gate.MIN_TOP_COSINE}, MAX_UNCOVERED_MEANING "
        f"{gate.MAX_UNCOVERED_MEANING}, SURE_SENTENCE {gate.SURE_SENTENCE}"
    )
    for name, files in SETS.items():
        rows = []
        for file in files:
            for line in (ROOT / file).read_text().splitlines():
                case = json.loads(line)
                if case["expect"] in ("answer", "abstain") and not case.get("history"):
                    rows.append((case["expect"], features(bot, case["question"]), case["question"]))
        wrong = sum((expect == "answer") != f["passes"] for expect, f, _ in rows)
        print(f"\n{name}: {len(rows)} questions, {wrong} on the wrong side of the gate")
        print("expect   chunk  sentence  uncovered  gate    question")
        for expect, f, question in sorted(rows, key=lambda r: (r[0], r[1]["chunk"])):
            unc = "   -  " if f["uncovered"] is None else f"{f['uncovered']:.3f}"
            verdict = "pass" if f["passes"] else "abstain"
            flag = "" if (expect == "answer") == f["passes"] else "  <- wrong"
            print(
                f"{expect:8} {f['chunk']:.3f}  {f['sentence']:.3f}     {unc}    {verdict:7} "
                f"{question[:70]}{flag}"
            )


if __name__ == "__main__":
    main()
