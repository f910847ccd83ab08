"""Calibrate citation verification: precision and recall of "supported" over a threshold grid.

    .venv/bin/python benchmarks/calibrate_verification.py [--pairs tests/data/verification_pairs.jsonl]

Each labelled pair is a claim, the seed answer it cites and whether that answer supports it. A pair
is run through `Verifier.check` exactly as a model's sentence is (`"<claim> [1]"` against that one
answer), so every rule counts: thresholds, the negation and number checks, the question rule. The
grid is over the thresholds for a model's own wording (MIN_COSINE, MIN_LEXICAL, VERBATIM_LEXICAL);
the extractive composer's QUOTE_* rule is not what these pairs measure. The chosen point is the one with the best recall among those whose precision of "supported" is at
least 0.95 (ties: higher precision, then the point nearest the current thresholds, so they change
only on evidence). Prints Markdown for BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from bot.answer import verify  # noqa: E402
from bot.embed_cache import CachedEmbedder  # noqa: E402
from bot.resources import shared_embedder  # noqa: E402
from vectorstore.corpus import read_page  # noqa: E402

COSINES = [round(0.40 + 0.05 * i, 2) for i in range(9)]  # 0.40 .. 0.80
LEXICALS = [round(0.30 + 0.10 * i, 2) for i in range(6)]  # 0.30 .. 0.80
VERBATIMS = [0.80, 0.90, 1.00]
MIN_PRECISION = 0.95


@dataclass(frozen=True)
class Score:
    """Precision and recall of "supported" at one setting."""

    precision: float
    recall: float
    tp: int
    fp: int
    fn: int


def load_pairs(path: Path) -> list[dict]:
    """The labelled pairs, each with the text of the answer it cites."""
    answers = {
        a.answer_id: a.text for p in (ROOT / "seeds").glob("*.txt") for a in read_page(p).answers
    }
    pairs = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    for pair in pairs:
        pair["text"] = answers[f"{pair['page_id']}#{pair['answer']}"]
    return pairs


def predict(verifier: verify.Verifier, pair: dict) -> bool:
    """Whether verification keeps the claim as a cited sentence."""
    return verifier.check(f"{pair['claim']} [1]", {1: pair["text"]}).kept == 1


def score(verifier: verify.Verifier, pairs: list[dict]) -> tuple[Score, list[dict]]:
    """Precision/recall of "supported", and the pairs it got wrong."""
    tp = fp = fn = 0
    wrong = []
    for pair in pairs:
        said = predict(verifier, pair)
        truth = pair["label"] == "supported"
        tp += said and truth
        fp += said and not truth
        fn += truth and not said
        if said != truth:
            wrong.append(pair)
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    return Score(round(precision, 3), round(recall, 3), tp, fp, fn), wrong


def main(argv: list[str] | None = None) -> int:
    """Run the grid, choose a point, print the report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=Path, default=ROOT / "tests/data/verification_pairs.jsonl")
    args = parser.parse_args(argv)
    pairs = load_pairs(args.pairs)
    embed = CachedEmbedder(shared_embedder()).many  # each sentence is embedded once for the grid
    started = time.perf_counter()
    current = (verify.MIN_COSINE, verify.MIN_LEXICAL, verify.VERBATIM_LEXICAL)
    grid: dict[tuple[float, float, float], Score] = {}
    for cos, lex, verb in itertools.product(COSINES, LEXICALS, VERBATIMS):
        v = verify.Verifier(embed, min_cosine=cos, min_lexical=lex, verbatim_lexical=verb)
        grid[(cos, lex, verb)] = score(v, pairs)[0]

    def rank(point: tuple[float, float, float]) -> tuple:
        s = grid[point]
        distance = sum(abs(a - b) for a, b in zip(point, current, strict=True))
        return (s.recall, s.precision, -distance)

    eligible = [p for p, s in grid.items() if s.precision >= MIN_PRECISION]
    if not eligible:
        print(f"no setting reaches precision {MIN_PRECISION}", file=sys.stderr)
        return 1
    chosen = max(eligible, key=rank)
    cos, lex, verb = chosen

    labels = Counter(p["label"] for p in pairs)
    kinds = Counter(p["kind"] for p in pairs)
    print(
        f"{len(pairs)} labelled pairs ({labels['supported']} supported, "
        f"{labels['unsupported']} unsupported; "
        + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items()))
        + f"); {len(grid)} settings in {time.perf_counter() - started:.0f}s.\n"
    )
    for vb in VERBATIMS:
        print(f'Precision / recall of "supported" with VERBATIM_LEXICAL = {vb:.2f}:\n')
        print("| MIN_COSINE \\ MIN_LEXICAL | " + " | ".join(f"{x:.2f}" for x in LEXICALS) + " |")
        print("|---" * (len(LEXICALS) + 1) + "|")
        for c in COSINES:
            cells = []
            for x in LEXICALS:
                s = grid[(c, x, vb)]
                mark = "**" if (c, x, vb) == chosen else ""
                cells.append(f"{mark}{s.precision:.2f} / {s.recall:.2f}{mark}")
            print(f"| {c:.2f} | " + " | ".join(cells) + " |")
        print()
    print("Best recall at precision >= 0.95, by VERBATIM_LEXICAL:\n")
    print("| VERBATIM_LEXICAL | best point (cos, lex) | precision | recall |")
    print("|---|---|---|---|")
    for vb in VERBATIMS:
        points = [p for p in eligible if p[2] == vb]
        if points:
            best = max(points, key=rank)
            s = grid[best]
            print(
                f"| {vb:.2f} | {best[0]:.2f}, {best[1]:.2f} | {s.precision:.3f} | {s.recall:.3f} |"
            )
        else:
            print(f"| {vb:.2f} | none | - | - |")

    s = grid[chosen]
    print(
        f"\nChosen: MIN_COSINE = {cos:.2f}, MIN_LEXICAL = {lex:.2f}, VERBATIM_LEXICAL = {verb:.2f}: "
        f"precision {s.precision:.3f}, recall {s.recall:.3f} "
        f"(TP {s.tp}, FP {s.fp}, FN {s.fn}); current: {current}.\n"
    )
    print("What each check adds at the chosen point:\n")
    print("| variant | precision | recall | FP | FN |")
    print("|---|---|---|---|---|")
    variants = {
        "all checks (shipped)": {},
        "no negation check": {"check_negation": False},
        "no number check": {"check_numbers": False},
        "neither check": {"check_negation": False, "check_numbers": False},
    }
    for name, options in variants.items():
        v = verify.Verifier(
            embed, min_cosine=cos, min_lexical=lex, verbatim_lexical=verb, **options
        )
        r = score(v, pairs)[0]
        print(f"| {name} | {r.precision:.3f} | {r.recall:.3f} | {r.fp} | {r.fn} |")

    v = verify.Verifier(embed, min_cosine=cos, min_lexical=lex, verbatim_lexical=verb)
    _, wrong = score(v, pairs)
    print("\nMisjudged at the chosen point:\n")
    for pair in wrong:
        cosine, lexical, _ = v.support(pair["claim"], pair["text"])
        print(
            f"- {pair['label']} ({pair['kind']}), cos {cosine:.2f}, lex {lexical:.2f}: "
            f'"{pair["claim"]}" citing {pair["page_id"]}#{pair["answer"]}'
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
