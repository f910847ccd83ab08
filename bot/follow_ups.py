"""Suggested follow-ups: real questions other patients asked on indexed pages close to this one."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from langchain_core.documents import Document

from bot.answer.rewrite import normalise_history
from vectorstore.index import Index, page_question

CANDIDATES = 30  # nearest chunks whose pages' questions are considered
CLOSE = 0.4  # a page question this close (cosine) to the patient's is on the same subject
SAME = 0.9  # ... and this close is the same question: not suggested again
LIMIT = 3
# Page questions compared per reply, from the nearest chunks' pages first. Their vectors are
# stored at ingest with the sentences' (vectorstore/sentence_vectors.py); one the file lacks (an
# index built before that) costs an embedding, a few ms on a CPU core.
TITLES = 8


def _plain(text: str) -> str:
    return " ".join(text.lower().split()).rstrip("?.! ")


class FollowUps:
    """Picks up to three page questions (titles as patients wrote them, never generated)."""

    def __init__(self, index: Index, embed: Callable[[list[str]], Sequence]) -> None:
        self.index = index
        self.embed = embed

    def suggest(
        self,
        question: str,
        history: Sequence = (),
        limit: int = LIMIT,
        near: Sequence[Document] | None = None,
    ) -> tuple[str, ...]:
        """Page questions close to `question`, closest first, none already asked in the chat.

        `near`: the chunks the answer retrieved for it, whose pages are then the candidates (no
        second search); without them the CANDIDATES nearest chunks are looked up."""
        if not question.strip():
            return ()
        asked = {_plain(question)} | {
            _plain(text) for role, text in normalise_history(history) if role == "user"
        }
        if near:
            docs = list(near)
        else:
            query = self.embed([question])[0]  # the retriever's vector, from the cache
            docs = [doc for doc, _ in self.index.search_by_vector(list(query), k=CANDIDATES)]
        titles: dict[str, None] = {}
        for doc in docs:
            title = page_question(doc.metadata.get("page_title"))
            if title and _plain(title) not in asked:
                titles[title] = None
            if len(titles) >= TITLES:
                break
        if not titles:
            return ()
        stored = self.index.sentence_vectors(list(titles))
        fresh = [t for t in titles if t not in stored]
        embedded = dict(zip([question, *fresh], self.embed([question, *fresh]), strict=True))
        vectors = np.asarray(
            [embedded[question], *(stored.get(t, embedded.get(t)) for t in titles)],
            dtype=np.float32,
        )
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True).clip(min=1e-12)
        closeness = vectors[1:] @ vectors[0]
        ranked = sorted(zip(closeness.tolist(), titles, strict=True), key=lambda p: -p[0])
        return tuple(title for score, title in ranked if CLOSE <= score < SAME)[:limit]
