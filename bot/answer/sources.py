"""From retrieved chunks to numbered sources, draft text with markers, and final citations."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from langchain_core.documents import Document

from bot.answer.compose import Composition
from bot.reply import Citation


@dataclass(frozen=True)
class AnswerRef:
    """One retrieved answer that a marker can point to."""

    answer_id: str
    page_id: str
    text: str  # the retrieved text of this answer (its chunks, in order)
    meta: dict


def answers_of(docs: Sequence[Document]) -> list[AnswerRef]:
    """Retrieved chunks grouped by answer, best-ranked answer first."""
    grouped: dict[str, list[Document]] = {}
    for doc in docs:
        grouped.setdefault(doc.metadata.get("answer_id", doc.id), []).append(doc)
    refs = []
    for aid, parts in grouped.items():
        parts.sort(key=lambda d: d.metadata.get("chunk_index", 0))
        text = " ".join(p.page_content for p in parts)
        refs.append(AnswerRef(aid, parts[0].metadata.get("page_id", ""), text, parts[0].metadata))
    return refs


def numbered_answers(docs: Sequence[Document]) -> dict[int, AnswerRef]:
    """Sources numbered 1..n in rank order (what a generative backend is shown)."""
    return {i: ref for i, ref in enumerate(answers_of(docs), 1)}


def render(composition: Composition, docs: Sequence[Document]) -> tuple[str, dict[int, AnswerRef]]:
    """The extractive draft: one line per statement, markers numbered by first appearance."""
    refs = {ref.answer_id: ref for ref in answers_of(docs)}
    markers: dict[str, int] = {}
    lines = []

    def cite(ids: Sequence[str]) -> str:
        return "".join(f"[{markers.setdefault(aid, len(markers) + 1)}]" for aid in ids)

    for statement in composition.statements:
        if statement.figures:  # each figure quoted from, and cited to, the answers that give it
            pieces = [f'"{figure}" {cite(ids)}' for figure, ids in statement.figures]
            lines.append(f"{statement.framing} {', '.join(pieces)}")
            continue
        lines.append(f'{statement.framing} "{statement.quote}" {cite(statement.answer_ids)}')
    return "\n\n".join(lines), {m: refs[aid] for aid, m in markers.items()}


def renumber(
    text: str,
    answers: Mapping[int, AnswerRef],
    support: Mapping[int, float],
    quotes: Mapping[int, Sequence[str]],
) -> tuple[str, tuple[Citation, ...]]:
    """Number the surviving markers 1..n in order of appearance and build their citations."""
    order: dict[int, int] = {}
    for m in re.findall(r"\[(\d+)\]", text):
        order.setdefault(int(m), len(order) + 1)
    text = re.sub(r"\[(\d+)\]", lambda m: f"[{order[int(m.group(1))]}]", text)
    text = re.sub(  # a run of markers reads best in order: [1][2][4], not [2][1][4]
        r"(?:\[\d+\])+",
        lambda m: "".join(f"[{n}]" for n in sorted(int(x) for x in re.findall(r"\d+", m.group()))),
        text,
    )
    citations = []
    for old, new in order.items():
        ref = answers[old]
        meta = ref.meta
        citations.append(
            Citation(
                marker=new,
                page_id=ref.page_id,
                answer_id=ref.answer_id,
                doctor=meta.get("doctor"),
                credentials=meta.get("credentials"),
                location=meta.get("location"),
                specialty=meta.get("specialty"),
                organisation=meta.get("organisation"),
                page_question=meta.get("page_title", ""),
                quote=tuple(quotes.get(old, ())),
                answer_text=ref.text,
                url=meta.get("url"),
                support=support.get(old, 0.0),
                date=meta.get("date"),
                upvotes=meta.get("upvotes"),
            )
        )
    return text, tuple(citations)
