"""Write a benchmark's table into BENCHMARKS.md between its own two marker comments."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def write_marked(start: str, end: str, text: str, path: Path = ROOT / "BENCHMARKS.md") -> None:
    """Replace the text between the `start` and `end` markers, or append them with it."""
    current = path.read_text(encoding="utf-8")
    block = f"{start}\n{text}\n{end}"
    if start in current and end in current:
        head, rest = current.split(start, 1)
        current = head + block + rest.split(end, 1)[1]
    else:
        current = current.rstrip("\n") + "\n\n" + block + "\n"
    path.write_text(current, encoding="utf-8")
