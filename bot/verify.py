"""Citation verification, whatever wrote the reply: every statement must be supported by what it cites.

A statement is supported by a cited answer when one of that answer's sentences is close in meaning
(embedding cosine) AND the statement's content words are largely found in the answer (lexical
recall), or when the words are almost all there (a verbatim quote). Markers whose answer does not
support the statement are removed; a statement left with no supported marker is dropped.
Thresholds were calibrated with `benchmarks/calibrate_verification.py` (numbers in BENCHMARKS.md).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from bot.compose import content_words
from vectorstore.sentences import split_sentences

MARKER = re.compile(r"\s*\[(\d+)\]")
_QUOTED_LINE = re.compile(
    r'^(?P<framing>[^"“]*)["“](?P<quote>.+)["”]\s*(?P<markers>(?:\[\d+\]\s*)+)$'
)
MIN_COSINE = 0.60
MIN_LEXICAL = 0.50
VERBATIM_LEXICAL = 0.90


@dataclass(frozen=True)
class Unit:
    """A statement of the reply and the markers it carries."""

    text: str  # as written, markers included
    line: int  # which line of the reply it came from
    claim: str  # what must be supported: the quote if there is one, else the text without markers
    markers: tuple[int, ...]


@dataclass(frozen=True)
class Checked:
    """The verified reply text and what was removed."""

    text: str
    kept: int
    dropped: tuple[str, ...]
    support: dict[int, float]  # marker -> best support score among the statements citing it
    quotes: dict[int, tuple[str, ...]]  # marker -> the answer's sentences that support the reply


def units(text: str) -> list[Unit]:
    """Split reply text into statements: a quoted line is one statement, else each sentence."""
    out: list[Unit] = []
    for number, line in enumerate(text.splitlines()):
        line = line.strip()
        if not line:
            continue
        if m := _QUOTED_LINE.match(line):
            markers = tuple(int(x) for x in re.findall(r"\[(\d+)\]", m.group("markers")))
            out.append(Unit(line, number, m.group("quote").strip(), markers))
            continue
        for sentence in _sentences_with_markers(line):
            markers = tuple(int(x) for x in re.findall(r"\[(\d+)\]", sentence))
            claim = MARKER.sub("", sentence).strip()
            out.append(Unit(sentence, number, claim, markers))
    return out


def _sentences_with_markers(line: str) -> list[str]:
    # Markers written after the full stop ("... months. [1]") belong to the sentence before them.
    parts = split_sentences(line)
    merged: list[str] = []
    for part in parts:
        if merged and re.fullmatch(r"(?:\[\d+\]\s*)+[.!?]?", part):
            merged[-1] = f"{merged[-1]} {part}"
        else:
            merged.append(part)
    return merged


class Verifier:
    """Checks statements against the answers they cite."""

    def __init__(
        self,
        embed: Callable[[list[str]], list[list[float]]],
        *,
        min_cosine: float = MIN_COSINE,
        min_lexical: float = MIN_LEXICAL,
    ) -> None:
        self.embed = embed
        self.min_cosine = min_cosine
        self.min_lexical = min_lexical

    def support(self, claim: str, answer_text: str) -> tuple[float, float, str]:
        """The answer's best-supporting sentence for the claim: (cosine, lexical recall, sentence).

        Lexical recall is the share of the claim's content words found in that sentence and its
        neighbours, so a claim that joins two adjacent sentences can still be supported."""
        words = content_words(claim)
        sentences = split_sentences(answer_text) or [answer_text]
        vectors = np.asarray(self.embed([claim, *sentences]), dtype=np.float32)
        cosines = vectors[1:] @ vectors[0]
        bags = [content_words(s) for s in sentences]
        best: tuple[float, float, str] = (0.0, 0.0, sentences[0])
        for i, sentence in enumerate(sentences):
            window = set().union(*bags[max(0, i - 1) : i + 2])
            lexical = len(words & window) / len(words) if words else 0.0
            candidate = (float(cosines[i]), lexical, sentence)
            if (self.supported(*candidate[:2]), candidate[0]) > (
                self.supported(*best[:2]),
                best[0],
            ):
                best = candidate
        return best

    def supported(self, cosine: float, lexical: float) -> bool:
        """The calibrated decision rule."""
        return lexical >= VERBATIM_LEXICAL or (
            cosine >= self.min_cosine and lexical >= self.min_lexical
        )

    def check(self, text: str, answers: Mapping[int, str]) -> Checked:
        """Keep the statements whose cited answers support them; drop unknown or unsupported markers."""
        kept_lines: dict[int, list[str]] = {}
        dropped: list[str] = []
        support: dict[int, float] = {}
        quotes: dict[int, list[str]] = {}
        kept = 0
        for unit in units(text):
            good = []
            for marker in dict.fromkeys(unit.markers):
                if marker not in answers or not unit.claim:
                    continue
                cosine, lexical, sentence = self.support(unit.claim, answers[marker])
                if self.supported(cosine, lexical):
                    good.append(marker)
                    support[marker] = max(support.get(marker, 0.0), round(cosine, 3))
                    if sentence not in quotes.setdefault(marker, []):
                        quotes[marker].append(sentence)
            if not good:
                dropped.append(MARKER.sub("", unit.text).strip())
                continue
            body = MARKER.sub("", unit.text).rstrip()
            kept_lines.setdefault(unit.line, []).append(f"{body} {''.join(f'[{m}]' for m in good)}")
            kept += 1
        text = "\n\n".join(" ".join(parts) for _, parts in sorted(kept_lines.items()))
        frozen = {m: tuple(q) for m, q in quotes.items()}
        return Checked(text, kept, tuple(dropped), support, frozen)
