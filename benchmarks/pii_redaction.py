"""Precision and recall of `bot.safety.redact.redact` on the labelled PII sets.

    .venv/bin/python benchmarks/pii_redaction.py [--set dev|blind] [--write]

Each case (tests/data/pii_labelled.jsonl: the dev set; tests/data/pii_blind.jsonl: kept blind)
is a message with the identifiers it holds (`pii`) and the medical or other text that must
survive (`keep`). Scored from redact()'s output alone, so any version can be measured:
- a placeholder ("[name]", "[phone]", ...) is a true positive when the text it replaced overlaps
  a labelled identifier, else a false positive (precision = true / all placeholders);
- an identifier is found when every letter and digit of it was replaced (recall);
- `keep` survival: the share of `keep` strings still in the output verbatim.
The baseline in the same run is the pattern layer alone (`redact_patterns`), without Presidio.
--write replaces this benchmark's section of BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SETS = {
    "dev": ROOT / "tests" / "data" / "pii_labelled.jsonl",
    "blind": ROOT / "tests" / "data" / "pii_blind.jsonl",
}
PLACEHOLDER = re.compile(r"\[[a-z]+\]")
HEADING = "## PII redaction: labelled messages"


def load(path: Path) -> list[dict]:
    """The cases of one labelled set."""
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


def replaced_spans(original: str, redacted: str) -> list[tuple[int, int]]:
    """Where in `original` each placeholder of `redacted` stands (start, end), in order."""
    pieces = PLACEHOLDER.split(redacted)
    if len(pieces) == 1:
        return []
    pattern = "".join(
        re.escape(p) + ("(.+?)" if i < len(pieces) - 1 else "") for i, p in enumerate(pieces)
    )
    match = re.fullmatch(pattern, original, re.S)
    if match is None:
        raise ValueError(f"redact changed text outside its placeholders: {redacted!r}")
    return [match.span(i) for i in range(1, len(pieces))]


def score(cases: list[dict], redact: Callable[[str], str]) -> dict:
    """Precision, recall and keep survival of `redact` over `cases`, with the misses listed."""
    true_pos = false_pos = found = total = kept = keeps = 0
    misses: list[str] = []
    for case in cases:
        text = case["text"]
        out = redact(text)
        spans = replaced_spans(text, out)
        covered = set()
        for start, end in spans:
            covered.update(range(start, end))
        labelled = []
        for pii in case["pii"]:
            at = text.find(pii)
            if at < 0:
                raise ValueError(f"{pii!r} is not in {text!r}")
            labelled.append((at, at + len(pii)))
            total += 1
            chars = [i for i in range(at, at + len(pii)) if text[i].isalnum()]
            if all(i in covered for i in chars):
                found += 1
            else:
                misses.append(f"missed {pii!r}: {out}")
        for start, end in spans:
            if any(start < e and s < end for s, e in labelled):
                true_pos += 1
            else:
                false_pos += 1
                misses.append(f"extra {text[start:end]!r}: {out}")
        for keep in case["keep"]:
            keeps += 1
            if keep in out:
                kept += 1
            else:
                misses.append(f"ate {keep!r}: {out}")
    placeholders = true_pos + false_pos
    return {
        "cases": len(cases),
        "identifiers": total,
        "precision": round(true_pos / placeholders, 3) if placeholders else 1.0,
        "recall": round(found / total, 3) if total else 1.0,
        "keep": round(kept / keeps, 3) if keeps else 1.0,
        "false_positives": false_pos,
        "misses": misses,
    }


def main() -> None:
    """Score the pattern layer and the full redactor on one set; print (and write) a table."""
    from bot.safety.redact import redact, redact_patterns

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", choices=sorted(SETS), default="dev")
    parser.add_argument("--write", action="store_true", help="write the table into BENCHMARKS.md")
    parser.add_argument("--misses", action="store_true", help="list every miss")
    args = parser.parse_args()
    cases = load(SETS[args.set])
    redact("warm up: load the spaCy model before timing")
    rows = []
    for name, fn in (("patterns only (baseline)", redact_patterns), ("redact()", redact)):
        started = time.perf_counter()
        result = score(cases, fn)
        result["ms_per_message"] = round((time.perf_counter() - started) * 1000 / len(cases), 2)
        rows.append((name, result))
        if args.misses:
            print(f"-- {name}", *result["misses"], sep="\n")
    table = [
        "| redactor | cases | identifiers | precision | recall | keep survives | ms / message |",
        "|---|---|---|---|---|---|---|",
    ] + [
        f"| {name} | {r['cases']} | {r['identifiers']} | {r['precision']} | {r['recall']} | "
        f"{r['keep']} | {r['ms_per_message']} |"
        for name, r in rows
    ]
    print("\n".join(table))
    print(json.dumps({name: {k: v for k, v in r.items() if k != "misses"} for name, r in rows}))
    if args.write:
        when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        section = (
            f"{HEADING} ({args.set} set)\n\n"
            f"- Command: `.venv/bin/python benchmarks/pii_redaction.py --set {args.set} --write`\n"
            f"- Machine: {platform.machine()}, Python {platform.python_version()}; {when}.\n\n"
            + "\n".join(table)
            + "\n"
        )
        path = ROOT / "BENCHMARKS.md"
        text = path.read_text("utf-8")
        marker = f"{HEADING} ({args.set} set)"
        if marker in text:
            start = text.index(marker)
            end = text.find("\n## ", start + 1)
            text = text[:start] + section + (text[end:] if end >= 0 else "")
        else:
            text = text.rstrip("\n") + "\n\n" + section
        path.write_text(text, "utf-8")


if __name__ == "__main__":
    main()
