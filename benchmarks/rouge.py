"""ROUGE-1, ROUGE-2 and ROUGE-L F1, written out so the recipe is exact (rouge-score is not needed).

Recipe (the same as rouge-score's defaults with `use_stemmer=True`): lower-case the text, take the
runs of [a-z0-9] as tokens, stem each token longer than 3 characters with the Porter stemmer
(PyStemmer's "porter"), then
- ROUGE-N: clipped n-gram overlap; precision = overlap / candidate n-grams, recall = overlap /
  reference n-grams, F1 = 2PR / (P + R);
- ROUGE-L: the longest common subsequence of the two whole token sequences (not per sentence),
  P = LCS / candidate length, R = LCS / reference length, F1 as above.
"""

from __future__ import annotations

import functools
import re
from collections import Counter

_TOKEN = re.compile(r"[a-z0-9]+")


@functools.lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("porter")


def tokens(text: str) -> list[str]:
    """Lower-cased alphanumeric tokens, Porter-stemmed when longer than 3 characters."""
    raw = _TOKEN.findall(text.lower())
    stem = _stemmer().stemWord
    return [stem(t) if len(t) > 3 else t for t in raw]


def _f1(overlap: int, candidate: int, reference: int) -> float:
    if not overlap or not candidate or not reference:
        return 0.0
    p, r = overlap / candidate, overlap / reference
    return 2 * p * r / (p + r)


def rouge_n(candidate: list[str], reference: list[str], n: int) -> float:
    """ROUGE-N F1 of two token lists."""
    c = Counter(tuple(candidate[i : i + n]) for i in range(len(candidate) - n + 1))
    r = Counter(tuple(reference[i : i + n]) for i in range(len(reference) - n + 1))
    return _f1(sum((c & r).values()), sum(c.values()), sum(r.values()))


def lcs(a: list[str], b: list[str]) -> int:
    """Length of the longest common subsequence (dynamic programming, one row at a time)."""
    if not a or not b:
        return 0
    previous = [0] * (len(b) + 1)
    for x in a:
        row = [0]
        for j, y in enumerate(b, 1):
            row.append(previous[j - 1] + 1 if x == y else max(previous[j], row[j - 1]))
        previous = row
    return previous[-1]


def rouge(candidate: str, reference: str) -> dict[str, float]:
    """{"rouge1", "rouge2", "rougeL"} F1 of a candidate summary against a reference."""
    c, r = tokens(candidate), tokens(reference)
    return {
        "rouge1": rouge_n(c, r, 1),
        "rouge2": rouge_n(c, r, 2),
        "rougeL": _f1(lcs(c, r), len(c), len(r)),
    }
