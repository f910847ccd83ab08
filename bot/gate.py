"""The relevance gate: only chunks close enough to the question may be used; none means abstain.

Calibrated on tests/data/answer_cases.jsonl with `benchmarks/calibrate_gate.py`: paraphrased seed
questions score a top cosine of 0.42 or more against the seed index, out-of-scope questions 0.24 or
less (figures in BENCHMARKS.md); the threshold sits half-way between them.
"""

from __future__ import annotations

from collections.abc import Sequence

from langchain_core.documents import Document

from bot.compose import content_words

MIN_TOP_COSINE = 0.33  # the best chunk must be at least this close to the question
MIN_CHUNK_COSINE = 0.30  # every chunk used must be at least this close...
MAX_DROP = 0.22  # ...and not far behind the best one


def relevant(question: str, docs: Sequence[Document]) -> list[Document]:
    """The retrieved chunks that pass the gate, best first; [] when the question is not covered."""
    scored = [(d.metadata.get("dense_score", 0.0), d) for d in docs]
    if not scored:
        return []
    top = max(s for s, _ in scored)
    if top < MIN_TOP_COSINE:
        return []
    q_words = content_words(question)
    floor = max(MIN_CHUNK_COSINE, top - MAX_DROP)
    passing = []
    for score, doc in scored:
        if score < floor:
            continue
        # A chunk that shares no content word with the question must be clearly on topic.
        context = f"{doc.metadata.get('page_title', '')} {doc.page_content}"
        if not (q_words & content_words(context)) and score < MIN_TOP_COSINE + 0.1:
            continue
        passing.append((score, doc))
    passing.sort(key=lambda x: -x[0])
    return [d for _, d in passing]
