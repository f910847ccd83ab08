"""Score the text parser on pages with hand-written expectations (expected.json beside them).

    python benchmarks/page_layouts.py tests/data/layouts [tests/data/layouts_blind ...]

Prints, per folder: answers whose every field is right, out of the answers expected, and the
doctor fields (heading, doctor, credentials, city, specialty, rating, reviews, first and last
words) right out of all of them. An answer missing from the parse counts every field wrong.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from vectorstore.corpus import read_page  # noqa: E402
from vectorstore.errors import PageFormatError  # noqa: E402

FIELDS = ("heading", "doctor", "credentials", "location", "specialty", "rating", "review_count")


def score(folder: Path) -> dict:
    """Answers and fields right out of those expected, for one folder."""
    expected = json.loads((folder / "expected.json").read_text(encoding="utf-8"))
    totals = {"answers": 0, "answers_right": 0, "fields": 0, "fields_right": 0, "failures": []}
    for name, want in sorted(expected.items()):
        try:
            answers = read_page(folder / f"{name}.txt").answers
        except PageFormatError as err:
            answers = ()
            totals["failures"].append(f"{name}: {err}")
        for i, exp in enumerate(want["answers"]):
            got = answers[i] if i < len(answers) else None
            checks = [got is not None and getattr(got, f) == exp[f] for f in FIELDS]
            checks.append(got is not None and got.text.startswith(exp["starts"]))
            checks.append(got is not None and got.text.endswith(exp["ends"]))
            totals["answers"] += 1
            totals["answers_right"] += all(checks)
            totals["fields"] += len(checks)
            totals["fields_right"] += sum(checks)
            if not all(checks):
                wrong = [
                    f for f, ok in zip((*FIELDS, "starts", "ends"), checks, strict=True) if not ok
                ]
                totals["failures"].append(f"{name} answer {i + 1}: wrong {', '.join(wrong)}")
        if len(answers) > len(want["answers"]):
            totals["failures"].append(
                f"{name}: {len(answers)} answers parsed, {len(want['answers'])} expected"
            )
    return totals


def main(folders: list[str]) -> int:
    """Print the score of each folder."""
    for folder in folders:
        t = score(Path(folder))
        print(
            f"{folder}: {t['answers_right']}/{t['answers']} answers right, "
            f"{t['fields_right']}/{t['fields']} fields right"
        )
        for failure in t["failures"]:
            print(f"  {failure}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or ["tests/data/layouts"]))
