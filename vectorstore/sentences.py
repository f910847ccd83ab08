"""Sentence splitting shared by chunking, the extractive composer and citation verification."""

from __future__ import annotations

import functools
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
# Shorter says nothing; longer (a table, a run-on paragraph) cannot be quoted: no reply uses such
# a sentence's stored vector, so an ingest does not embed it.
MIN_SENTENCE_WORDS, MAX_SENTENCE_WORDS = 3, 60


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


def quotable_length(text: str) -> bool:
    """Whether a sentence is of a length a reply may quote (its vector is then stored)."""
    return MIN_SENTENCE_WORDS <= word_count(text) <= MAX_SENTENCE_WORDS


def sentence_spans(text: str) -> str:
    """Where each of `split_sentences(text)` lies in the text, as "start end start end ..."
    (stored with a chunk so that a reader slices its sentences instead of splitting it again);
    "" when a sentence is not found verbatim (a reader then splits)."""
    out: list[str] = []
    at = 0
    for sentence in split_sentences(text):
        start = text.find(sentence, at)
        if start < 0:
            return ""
        at = start + len(sentence)
        out += [str(start), str(at)]
    return " ".join(out)


def spanned_sentences(text: str, spans: str | None) -> list[str]:
    """The sentences of a text from its stored spans (see `sentence_spans`), else split now."""
    if not spans:
        return split_sentences(text)
    bounds = [int(n) for n in spans.split()]
    return [text[a:b] for a, b in zip(bounds[::2], bounds[1::2], strict=True)]


@functools.lru_cache(maxsize=20_000)
def _split_cached(text: str) -> tuple[str, ...]:
    return tuple(split_sentences(text))


def chunk_sentences(doc) -> tuple[str, ...]:
    """A retrieved chunk's (a Document's) sentences: sliced by the spans ingest stored in its
    metadata, else split now (remembered for the 20,000 texts split last)."""
    spans = (doc.metadata or {}).get("sentence_spans")
    if spans:
        return tuple(spanned_sentences(doc.page_content, spans))
    return _split_cached(doc.page_content)
