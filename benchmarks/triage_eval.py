"""Triage on labelled messages: recall per tier, false alarms per tier, the confusion matrix.

Run: `.venv/bin/python benchmarks/triage_eval.py [FILE ...]` (JSONL, {"text" or "question",
"label"} a line; labels emergency, urgent, crisis, ordinary or neutral; no label means ordinary,
so `../shared/data/liveqa_med2017_consumer_questions.jsonl` measures false alarms). Default file:
tests/data/triage_labelled.jsonl. `--errors` lists the misses; `--calibrate` prints the
leave-one-out similarity margins of the curated example files, which is how the thresholds in
bot/safety/triage.py were chosen without looking at the labelled test messages.

Emergencies are counted twice, as the issue's targets are: caught by an emergency or an urgent
reply, and by the emergency reply itself. Figures, before and after, are in BENCHMARKS.md
("Triage (issue 12)"). History of tests/data/triage_labelled.jsonl, first-run figures per batch
(recall emergency / crisis, false positives on ordinary+neutral): the first 156 lines, written
before the code: 38/38, 36/38, 0/80; the next 50: 12/16, 11/14, 1/20; the last 45: 8/13, 14/14,
1/18. tests/data/triage_added_blind.jsonl was run once before the catalogue was written: 8/22
emergencies, 0/3 urgent, 4/10 crises, 2/22 false alarms.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from bot.resources import shared_embedder  # noqa: E402
from bot.safety.triage import (  # noqa: E402
    KINDS,
    MIN_MARGIN,
    MIN_SIMILARITY,
    Triage,
    embedding_units,
    normalise,
)

LABELLED = ROOT / "tests" / "data" / "triage_labelled.jsonl"
LIVEQA = ROOT.parent / "shared" / "data" / "liveqa_med2017_consumer_questions.jsonl"


TIERS = ("emergency", "urgent", "crisis")
PREDICTED = ("emergency", "urgent", "crisis", None)
# Labels of the files this reads, mapped to the tiers: "neutral" (tests/data/triage_labelled.jsonl)
# is ordinary text that is not about a worry at all.
LABELS = {"emergency": "emergency", "urgent": "urgent", "crisis": "crisis"}
LABELS |= {"ordinary": "ordinary", "neutral": "ordinary"}


def load(path: Path = LABELLED) -> list[dict]:
    """Labelled messages ({"text"|"question", "label"} a line; no label means ordinary)."""
    cases = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        row = json.loads(line)
        text = row.get("text", row.get("question"))
        label = LABELS.get(row.get("label", "ordinary"))
        if not isinstance(text, str) or label is None:
            raise ValueError(f"{path}:{n}: needs a text and a label in {sorted(LABELS)}")
        cases.append({"text": text, "label": label})
    return cases


def _share(hits: int, total: int) -> tuple[float, int, int]:
    return (hits / total if total else float("nan"), hits, total)


def evaluate(triage: Triage, cases: list[dict]) -> dict:
    """Recall per tier, false alarms per tier on ordinary text, and the confusion matrix."""
    results = triage.classify_many([c["text"] for c in cases])
    predicted = [r.kind for r in results]
    labels = [c["label"] for c in cases]
    pairs = list(zip(labels, predicted, strict=True))
    out: dict = {"n": len(cases), "errors": []}
    out["by"] = Counter(r.reason.split(":")[0] for r in results if r.kind)
    out["confusion"] = Counter(pairs)

    def count(label: str, allowed: tuple) -> tuple[float, int, int]:
        return _share(
            sum(y == label and p in allowed for y, p in pairs), sum(y == label for y, _ in pairs)
        )

    # The targets: an emergency is caught by either an emergency or an urgent reply, and
    # separately by the emergency reply itself.
    out["recall"] = {
        "emergency (emergency or urgent reply)": count("emergency", ("emergency", "urgent")),
        "emergency (the emergency reply)": count("emergency", ("emergency",)),
        "urgent (urgent or emergency reply)": count("urgent", ("urgent", "emergency")),
        "crisis (the crisis reply)": count("crisis", ("crisis",)),
    }
    out["false_alarms"] = {
        "ordinary -> emergency": count("ordinary", ("emergency",)),
        "ordinary -> crisis": count("ordinary", ("crisis",)),
        "ordinary -> emergency or crisis": count("ordinary", ("emergency", "crisis")),
        "ordinary -> urgent": count("ordinary", ("urgent",)),
    }
    for case, p, r in zip(cases, predicted, results, strict=True):
        expected = None if case["label"] == "ordinary" else case["label"]
        if p != expected:
            out["errors"].append((case["label"], p, r.reason, case["text"]))
    return out


def report(name: str, result: dict, seconds: float, errors: bool) -> None:
    """Print one file's figures."""
    print(f"\n== {name}: {result['n']} messages, {seconds:.1f}s")
    for key, (rate, hits, total) in (*result["recall"].items(), *result["false_alarms"].items()):
        if total:
            print(f"  {key:40} {rate:6.1%}  ({hits}/{total})")
    labels = [x for x in (*TIERS, "ordinary") if any(y == x for y, _ in result["confusion"])]
    print("  confusion (rows: label, columns: reply)")
    print("  " + " " * 11 + "".join(f"{p or 'none'!s:>11}" for p in PREDICTED))
    for y in labels:
        cells = "".join(f"{result['confusion'][(y, p)]:>11}" for p in PREDICTED)
        print(f"  {y:>11}{cells}")
    by = result["by"]
    print(f"  flagged by a pattern: {by['pattern']}, by similarity alone: {by['similar']}")
    if errors:
        for label, predicted, reason, text in result["errors"]:
            print(f"    {label:9} -> {predicted!s:9} {reason:24} {text[:160]}")


def unit_scores(triage: Triage) -> dict[str, list[dict[str, np.ndarray]]]:
    """Per example line, per unit: its best cosine to each set, the line itself left out."""
    matrices = triage.example_matrices()
    out: dict[str, list[dict[str, np.ndarray]]] = {}
    for source in (*KINDS, "ordinary"):
        out[source] = []
        for i, line in enumerate(triage.examples(source)):
            units = embedding_units(line)
            if not units:
                continue
            vectors = np.asarray(triage.embedder.embed(units), dtype=np.float32)
            scores = {}
            for name, matrix in matrices.items():
                others = np.delete(matrix, i, axis=0) if name == source else matrix
                scores[name] = (vectors @ others.T).max(axis=1)
            out[source].append(scores)
    return out


def text_scores(triage: Triage, texts: list[str]) -> list[dict[str, np.ndarray]]:
    """Per message, per unit: its best cosine to each example set."""
    matrices = triage.example_matrices()
    out = []
    for text in texts:
        units = embedding_units(normalise(text))
        if units:
            vectors = np.asarray(triage.embedder.embed(units), dtype=np.float32)
            out.append({name: (vectors @ m.T).max(axis=1) for name, m in matrices.items()})
    return out


def fires(scores: dict[str, np.ndarray], kind: str, min_sim: float, min_margin: float) -> bool:
    """The rule of bot.safety.triage: some unit close enough to kind and clearly closer than ordinary."""
    sims = scores[kind]
    return bool(((sims >= min_sim) & (sims - scores["ordinary"] >= min_margin)).any())


def calibrate(triage: Triage) -> None:
    """Leave-one-out over the curated examples: recall and false positives per threshold pair."""
    lines = unit_scores(triage)
    # Real consumer questions (TREC LiveQA 2017) as a second, messier set of non-urgent messages.
    live = [json.loads(x)["question"] for x in LIVEQA.read_text(encoding="utf-8").splitlines()]
    live_scores = text_scores(triage, live)
    for kind in KINDS:
        print(f"\n{kind}: leave-one-out, embedding layer alone (patterns not used)")
        print(
            "min_sim min_margin  recall(own lines)  fp(ordinary lines)  fp(other kind)  fp(LiveQA)"
        )
        other = next(k for k in KINDS if k != kind)
        for min_sim in (0.50, 0.55, 0.60, 0.65):
            for min_margin in (0.04, 0.08, 0.10, 0.12, 0.14, 0.16, 0.18, 0.20):
                hit = [fires(s, kind, min_sim, min_margin) for s in lines[kind]]
                fp = [fires(s, kind, min_sim, min_margin) for s in lines["ordinary"]]
                cross = [fires(s, kind, min_sim, min_margin) for s in lines[other]]
                real = [fires(s, kind, min_sim, min_margin) for s in live_scores]
                print(
                    f"  {min_sim:.2f}    {min_margin:.2f}      {sum(hit):3}/{len(hit):<3} "
                    f"{sum(hit) / len(hit):.2f}       {sum(fp):3}/{len(fp)}             "
                    f"{sum(cross)}/{len(cross):<13}{sum(real)}/{len(real)}"
                )
        floor = MIN_SIMILARITY[kind]
        margins = [
            float((s[kind] - s["ordinary"])[s[kind] >= floor].max(initial=-1.0))
            for s in lines["ordinary"]
        ]
        print(
            f"  highest margin over {kind} of an ordinary line at similarity >= {floor}: ", end=""
        )
        print(f"{max(margins):+.3f}")
        print(f"  in use: min_sim {MIN_SIMILARITY[kind]}, min_margin {MIN_MARGIN[kind]}")


def main() -> None:
    """Print the figures for each file (and optionally the misses or the calibration)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "files",
        nargs="*",
        type=Path,
        help="labelled JSONL files ({text|question, label}; default: tests/data/triage_labelled.jsonl)",
    )
    parser.add_argument("--errors", action="store_true", help="list misclassified messages")
    parser.add_argument("--calibrate", action="store_true", help="leave-one-out on the examples")
    args = parser.parse_args()
    triage = Triage(embedder=shared_embedder())
    if args.calibrate:
        calibrate(triage)
        return
    triage.classify("warm up")  # the model and the example vectors load outside the timing
    for path in args.files or [LABELLED]:
        cases = load(path)
        start = time.perf_counter()
        result = evaluate(triage, cases)
        report(str(path), result, time.perf_counter() - start, args.errors)


if __name__ == "__main__":
    main()
