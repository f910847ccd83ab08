"""A patient's misspelling of a word the doctors' answers use ("permanant", "disolved", "cysys").

A question word the answers lack counts as their word when it is one edit away from it (a letter
added, dropped, changed, or two neighbours swapped) with the same first letter (people rarely
mistype the first letter, and different words often differ only there: "insurance" /
"assurance"). Two edits would take real words for misspellings ("botulism" is not "botulinum"),
and words shorter than MIN_LETTERS are taken as written: too many short words are one edit apart.
The answers' word may be one letter shorter ("risky" for "risk"); a word the answers write
with a hyphen counts written together too ("hemifacial" for "hemi-facial"); and word endings
are compared by stem as well ("drooping" for "droopy": droop / droopi).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from bot.words import stem

MIN_LETTERS = 5
MAX_EDITS = 1
_LETTERS = re.compile(r"[a-z]+(?:-[a-z]+)*")


def edit_distance(a: str, b: str, limit: int) -> int:
    """Optimal string alignment distance (adjacent swaps count one), or limit + 1 when larger."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        if min(cur) > limit:
            return limit + 1
        prev2, prev = prev, cur
    return prev[-1]


def vocabulary(texts: Iterable[str]) -> frozenset[str]:
    """The lower-cased words of the texts that a misspelling could stand for (a hyphenated word
    as its parts and as one word)."""
    words: set[str] = set()
    for text in texts:
        for token in _LETTERS.findall(text.lower()):
            words.update(token.split("-"))
            words.add(token.replace("-", ""))
    return frozenset(w for w in words if len(w) >= MIN_LETTERS - 1)


def meant(word: str, words: frozenset[str]) -> str | None:
    """The word of `words` that `word` misspells (the closest; ties alphabetical), or None."""
    word = word.lower()
    if len(word) < MIN_LETTERS or not word.isalpha() or word in words:
        return None
    limit = MAX_EDITS
    root = stem(word)
    best: tuple[int, str] | None = None
    for other in words:
        if other[0] != word[0]:
            continue
        d = min(edit_distance(word, other, limit), edit_distance(root, stem(other), limit))
        if d <= limit and (best is None or (d, other) < best):
            best = (d, other)
    return None if best is None else best[1]
