"""Reply-quality checks for `bot eval`: does the first statement answer, are the facts there, is
anything said twice, and is a question the doctors did not cover answered honestly.

A case may carry `nuggets` (facts a good reply contains, each a list of alternative wordings) and
`direct` (the index of the nugget that answers the question itself). Matching is a case-insensitive
substring test on whitespace-normalised text. Two quoted statements of one reply are redundant
when their vectors' cosine is at least REDUNDANT_COSINE (the stored sentence vectors, when the run
has an embedder) or when one has at least REDUNDANT_OVERLAP of the other's content words (the
overlap coefficient |A & B| / min(|A|, |B|), over at least 3 words on the smaller side), words that
only refer back to the treatment ("the effects", "the results": bot/wordlists/
subject_references.txt) left out, so "The effects should wear off in about 3 months." repeats
"The botox will wear off with time - perhaps 3 months.".
A case expecting `partial` (a question with a part the answers cover and a part they do not) is
honest when the reply is marked partial, and its nuggets are looked for in the statements it
quotes for the covered part.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

import numpy as np

from bot.words import comparable_words

REDUNDANT_COSINE = 0.85
REDUNDANT_OVERLAP = 0.8
HONEST = ("abstain", "partial")  # outcomes that say plainly the answers do not cover it
_QUOTE = re.compile(r'["“](.+)["”]')
_MARKER = re.compile(r"\[\d+\]")
_PIECE = re.compile(r'["“][^"“”]+["”]\s*(?:\[\d+\])+')

Embed = Callable[[list[str]], list[list[float]]]


def _flat(text: str) -> str:
    return " ".join(text.lower().split())


def quoted_statements(text: str) -> list[str]:
    """The quoted words of each paragraph of a reply, in order; paragraphs without a cited quote
    (such as a partial reply's note naming what is not covered), and figures lines (several short
    quotes, each with its markers), are skipped."""
    out = []
    for paragraph in (text or "").split("\n\n"):
        if len(_PIECE.findall(paragraph)) > 1 or not _MARKER.search(paragraph):
            continue
        m = _QUOTE.search(paragraph)
        if m:
            out.append(m.group(1).strip())
    return out


def nugget_match(text: str, nugget: Sequence[str]) -> str | None:
    """The first of the nugget's wordings that text contains, or None."""
    flat = _flat(text)
    return next((alt for alt in nugget if _flat(alt) in flat), None)


def has_nugget(text: str, nugget: Sequence[str]) -> bool:
    """Whether text contains one of the nugget's wordings."""
    return nugget_match(text, nugget) is not None


def _overlap(a: str, b: str) -> float:
    wa, wb = comparable_words(a), comparable_words(b)
    small = min(len(wa), len(wb))
    return len(wa & wb) / small if small >= 3 else 0.0


def redundant_pairs(statements: Sequence[str], embed: Embed | None = None) -> list[list[str]]:
    """The pairs of statements that say much the same thing (see the module docstring)."""
    vectors = None
    if embed is not None and len(statements) > 1:
        vectors = np.asarray(embed(list(statements)), dtype=np.float32)
    pairs = []
    for i in range(len(statements)):
        for j in range(i + 1, len(statements)):
            close = vectors is not None and float(vectors[i] @ vectors[j]) >= REDUNDANT_COSINE
            if close or _overlap(statements[i], statements[j]) >= REDUNDANT_OVERLAP:
                pairs.append([statements[i], statements[j]])
    return pairs


def quality_flags(case: dict, reply: dict, got: str, embed: Embed | None = None) -> dict:
    """first_answers, nugget_recall, redundant_pairs, honest, false_not_covered (None: not judged)."""
    nuggets = case.get("nuggets") or []
    # A partial reply quotes what the answers do say about the parts they cover.
    statements = quoted_statements(reply.get("text") or "") if got in ("answer", "partial") else []
    flags: dict = {
        "first_answers": None,
        "nugget_recall": None,
        "redundant_pairs": redundant_pairs(statements, embed) if statements else [],
        "honest": None,
        "false_not_covered": None,
    }
    if case["expect"] == "not_covered":
        flags["honest"] = got in HONEST
    if case["expect"] == "partial":  # one part covered: say what is missing, answer the rest
        flags["honest"] = got == "partial"
    if case["expect"] in ("answer", "partial") and nuggets:
        text = " ".join(statements)
        flags["nugget_recall"] = round(sum(has_nugget(text, n) for n in nuggets) / len(nuggets), 4)
        direct = nuggets[int(case.get("direct", 0))]
        flags["first_answers"] = bool(statements) and has_nugget(statements[0], direct)
        if case["expect"] == "answer":
            flags["false_not_covered"] = got in HONEST
    return flags


def quality_metrics(results: list[dict]) -> dict:
    """The quality metrics over a run (None where no case measures them)."""

    def rate(values: list) -> float | None:
        return round(sum(values) / len(values), 4) if values else None

    flags = [r["flags"] for r in results]
    first = [f["first_answers"] for f in flags if f.get("first_answers") is not None]
    recall = [f["nugget_recall"] for f in flags if f.get("nugget_recall") is not None]
    honest = [f["honest"] for f in flags if f.get("honest") is not None]
    false_nc = [f["false_not_covered"] for f in flags if f.get("false_not_covered") is not None]
    return {
        "quality_cases": len(first),
        "first_statement_answers": rate(first),
        "nugget_recall": rate(recall),
        "redundant_pairs": sum(len(f.get("redundant_pairs") or []) for f in flags),
        "uncovered_cases": len(honest),
        "uncovered_honest": rate(honest),
        "false_not_covered": rate(false_nc),
    }
