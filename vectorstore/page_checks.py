"""Signs that a page was mis-parsed (warnings) and that it is only partly there (notes)."""

from __future__ import annotations

from dataclasses import replace

from vectorstore import signatures
from vectorstore.records import Answer

_ENDINGS = (".", "!", "?", '"', "”", ")", "…")
MAX_WARNINGS = 10  # per page; the rest are counted, so one broken page cannot flood the report


def _heading_only(answer: Answer) -> bool:
    """One short line with no sentence end and no heading of its own: a heading, not an answer."""
    text = answer.text.strip()
    return (
        answer.heading is None
        and "\n" not in text
        and len(text.split()) <= 10
        and not text.endswith(_ENDINGS)
    )


def _name_like_line(answer: Answer) -> str | None:
    for line in answer.text.split("\n"):
        line = line.strip()
        if signatures.name_line(line) or signatures.RATING.match(line):
            return line
    return None


def check_page(
    answers: tuple[Answer, ...], declared: int | None, where: str
) -> tuple[tuple[Answer, ...], tuple[str, ...], tuple[str, ...]]:
    """Drop heading-only answers; return the answers, the warnings and the notes for a page."""
    warnings: list[str] = []
    kept: list[Answer] = []
    for answer in answers:
        if not answer.text.strip() or _heading_only(answer):
            warnings.append(
                f"{where}:{answer.line_no}: an answer has only a heading ({answer.text!r}) and no "
                "text; it was skipped"
            )
            continue
        kept.append(replace(answer, index=len(kept)))
    for answer in kept:
        if (line := _name_like_line(answer)) is not None:
            warnings.append(
                f"{where}: answer {answer.index + 1} has a name-like line inside its text "
                f"({line!r}): two answers may have been merged"
            )
    notes: list[str] = []
    if declared is not None and len(kept) != declared:
        message = f"{where}: the page declares {declared} answers but {len(kept)} were found"
        if len(kept) > declared:
            warnings.append(message + ": an answer may have been split in two")
        elif warnings:
            warnings.append(message)
        else:
            cut = kept and not kept[-1].text.rstrip().endswith(_ENDINGS)
            notes.append(
                message
                + (
                    " (the last answer looks cut off: the page was saved partly)"
                    if cut
                    else " (each parsed cleanly: the page shows only some of its answers)"
                )
            )
    if len(warnings) > MAX_WARNINGS:
        more = len(warnings) - MAX_WARNINGS
        warnings = [*warnings[:MAX_WARNINGS], f"{where}: {more} more warnings like these"]
    return tuple(kept), tuple(warnings), tuple(notes)
