"""Prompts and fixed texts are files in prompts/, loaded by name."""

from __future__ import annotations

import functools
from pathlib import Path

PROMPTS_DIR = Path(__file__).resolve().parents[1] / "prompts"


@functools.lru_cache(maxsize=64)
def load(name: str) -> str:
    """The text of prompts/<name>.md (or .txt), stripped; a missing file is a clear error."""
    for suffix in (".md", ".txt"):
        path = PROMPTS_DIR / f"{name}{suffix}"
        if path.is_file():
            return path.read_text(encoding="utf-8").strip()
    known = sorted(p.stem for p in PROMPTS_DIR.glob("*.md"))
    raise FileNotFoundError(f"no prompt named {name!r} in {PROMPTS_DIR}; known: {', '.join(known)}")


def disclaimer() -> str:
    """The medical disclaimer every reply carries."""
    return load("disclaimer")
