"""Calibrate the relevance gate: best-chunk cosine for in-scope vs out-of-scope questions.

    .venv/bin/python benchmarks/calibrate_gate.py [--data-dir DIR]

Builds (or reuses) a seed index, then prints the top dense cosine of every case in
tests/data/answer_cases.jsonl, grouped by expectation, and the margin around bot.gate's threshold.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot import gate  # noqa: E402
from bot.chain import Bot  # noqa: E402
from bot.rewrite import standalone  # noqa: E402
from bot.settings import Settings  # noqa: E402


def main() -> None:
    """Print the calibration table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, help="existing data folder (default: a temp one)")
    args = parser.parse_args()
    data = args.data_dir or Path(tempfile.mkdtemp())
    bot = Bot(Settings.load(data_dir=data))
    bot.index.sync([ROOT / "seeds"])
    scores: dict[str, list[tuple[float, str]]] = {"answer": [], "abstain": []}
    for line in (ROOT / "tests/data/answer_cases.jsonl").read_text().splitlines():
        case = json.loads(line)
        docs = bot.retriever.invoke(standalone(case["question"], case.get("history", ())))
        top = max((d.metadata.get("dense_score", 0.0) for d in docs), default=0.0)
        scores[case["expect"]].append((top, case["question"]))
    for expect, rows in scores.items():
        rows.sort()
        print(f"\n{expect} ({len(rows)} questions): min {rows[0][0]:.3f}  max {rows[-1][0]:.3f}")
        for score, question in rows:
            print(f"  {score:.3f}  {question}")
    lowest_in = scores["answer"][0][0]
    highest_out = scores["abstain"][-1][0]
    print(
        f"\nthreshold MIN_TOP_COSINE = {gate.MIN_TOP_COSINE}: "
        f"margin {lowest_in - gate.MIN_TOP_COSINE:+.3f} below the weakest in-scope question, "
        f"{gate.MIN_TOP_COSINE - highest_out:+.3f} above the strongest out-of-scope one"
    )


if __name__ == "__main__":
    main()
