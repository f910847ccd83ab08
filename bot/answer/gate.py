"""The relevance gate: only chunks close enough to the question may be used; none means abstain.

Two tests, calibrated with `benchmarks/calibrate_gate.py` (figures in BENCHMARKS.md):
- Closeness: the best chunk's cosine to the question (the chunk as a whole, not its best
  sentence) must reach MIN_TOP_COSINE; paraphrased seed questions score 0.373 or more, questions
  about other things (a sprained ankle, the capital of France) 0.245 or less.
- Coverage: a question about a neighbouring subject ("Is lip filler permanent?" against answers
  about Botox) is close by cosine, but its meaning rests on words that none of the passing answers
  contains. The question is embedded again without those words; when that removes much of its
  meaning (1 - cosine >= MAX_UNCOVERED_MEANING) and no single sentence of the answers is clearly
  on topic (best sentence cosine < SURE_SENTENCE), the answers do not cover it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

import numpy as np
from langchain_core.documents import Document

from bot.words import content_words
from bot.words import stems as _stems

MIN_TOP_COSINE = 0.33  # the best chunk must be at least this close to the question
MIN_CHUNK_COSINE = 0.30  # every chunk used must be at least this close...
MAX_DROP = 0.22  # ...and not far behind the best one
MAX_UNCOVERED_MEANING = 0.30  # share of the question's meaning carried by words no answer has...
SURE_SENTENCE = 0.55  # ...is too much unless one sentence is at least this close to the question

_TOKEN = re.compile(r"[^\W_]+(?:['’][^\W_]+)*|[^\w\s]+|_+")


def _chunk_score(doc: Document) -> float:
    meta = doc.metadata
    return meta.get("chunk_score", meta.get("dense_score", 0.0))


def without_uncovered(question: str, docs: Sequence[Document]) -> str:
    """The question minus its content words that none of `docs` contains (their text, or the
    patient's question they answer: title, body, heading); the question itself when every word
    is covered."""
    covered: set[str] = set()
    for doc in docs:
        meta = doc.metadata
        for text in (
            doc.page_content,
            meta.get("page_title", ""),
            meta.get("page_body", ""),
            meta.get("heading", ""),
        ):
            covered |= _stems(text or "")
    tokens = _TOKEN.findall(question)
    kept = [t for t in tokens if not (_stems(t) and not _stems(t) & covered)]
    return question if len(kept) == len(tokens) else " ".join(kept)


def uncovered_meaning(
    question: str, docs: Sequence[Document], embed: Callable[[str], Sequence[float]]
) -> float:
    """1 - cosine(question, question without the words no doc contains): 0 when all are covered."""
    stripped = without_uncovered(question, docs)
    if stripped == question:
        return 0.0
    if not content_words(stripped):
        return 1.0
    q, s = (np.asarray(embed(t), dtype=np.float32) for t in (question, stripped))
    return float(1.0 - np.dot(q, s))


def relevant(
    question: str,
    docs: Sequence[Document],
    embed: Callable[[str], Sequence[float]] | None = None,
) -> list[Document]:
    """The retrieved chunks that pass the gate, best first; [] when the question is not covered.

    Without `embed` only the closeness test runs."""
    scored = [(_chunk_score(d), d) for d in docs]
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
    kept = [d for _, d in passing]
    if kept and embed is not None:
        best_sentence = max(d.metadata.get("sentence_score", _chunk_score(d)) for d in kept)
        if (
            best_sentence < SURE_SENTENCE
            and uncovered_meaning(question, kept, embed) >= MAX_UNCOVERED_MEANING
        ):
            return []
    return kept
