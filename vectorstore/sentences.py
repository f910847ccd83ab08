"""Sentence splitting shared by chunking, the extractive composer and citation verification."""

from __future__ import annotations

import re

_ABBREVIATIONS = (
    "dr|mr|mrs|ms|st|vs|etc|e\\.g|i\\.e|approx|no|fig|inc|jr|sr|prof|dept|mt|ft|"
    "a\\.m|p\\.m|u\\.s|min|max|wk|hr|mo|yr|mg|ml|cc|resp|est|ca"
)
_PROTECT = re.compile(rf"\b({_ABBREVIATIONS})\.(?=\s)", re.IGNORECASE)
_INITIAL = re.compile(r"\b([A-Z])\.(?=\s*[A-Z]\.?)")
_BOUNDARY = re.compile(r"(?:(?<=[.!?…])|(?<=[.!?…][\"'”’)\]]))\s+(?=[\"'“‘(\[]*[A-Z0-9•\-])")
_BULLET = re.compile(r"^\s*(?:[•\-*–]|\d+[.)])\s+")
_MARK = "\x00"


def split_sentences(text: str) -> list[str]:
    """Split text into sentences; lines and list items are always boundaries."""
    sentences: list[str] = []
    for line in text.replace("\r", "\n").split("\n"):
        line = _BULLET.sub("", line).strip()
        if not line:
            continue
        protected = _INITIAL.sub(lambda m: m.group(1) + _MARK, _PROTECT.sub(r"\1" + _MARK, line))
        for part in _BOUNDARY.split(protected):
            part = part.replace(_MARK, ".").strip()
            if part:
                sentences.append(part)
    return sentences


def word_count(text: str) -> int:
    """Number of whitespace-separated words."""
    return len(text.split())
