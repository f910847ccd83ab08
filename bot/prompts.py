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


WORDLISTS_DIR = Path(__file__).resolve().parent / "wordlists"


@functools.lru_cache(maxsize=64)  # more than bot/wordlists holds: none is read twice
def wordlist(name: str, *, lower: bool = True) -> tuple[str, ...]:
    """The entries of bot/wordlists/<name>.txt: one a line, lower-cased (unless not `lower`),
    `#` comments skipped."""
    path = WORDLISTS_DIR / f"{name}.txt"
    if not path.is_file():
        known = sorted(p.stem for p in WORDLISTS_DIR.glob("*.txt"))
        raise FileNotFoundError(f"no word list {name!r} in {WORDLISTS_DIR}; known: {known}")
    lines = (line.split("#", 1)[0].strip() for line in path.read_text("utf-8").splitlines())
    lines = (line.lower() for line in lines) if lower else lines
    return tuple(dict.fromkeys(line for line in lines if line))
