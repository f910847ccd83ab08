"""Suggested follow-ups: real questions other patients asked on indexed pages close to this one."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from langchain_core.documents import Document

from bot.answer.rewrite import normalise_history
from vectorstore.index import Index

CANDIDATES = 30  # nearest chunks whose pages' questions are considered
CLOSE = 0.4  # a page question this close (cosine) to the patient's is on the same subject
SAME = 0.9  # ... and this close is the same question: not suggested again
LIMIT = 3
# Page questions embedded per reply, from the nearest chunks' pages first: each costs an embedding
# (a few ms on a CPU core), and at MedQuAD scale 30 distinct ones made follow-ups 70 ms a reply.
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
            title = " ".join(str(doc.metadata.get("page_title") or "").split())
            if title and _plain(title) not in asked:
                titles[title] = None
            if len(titles) >= TITLES:
                break
        if not titles:
            return ()
        vectors = np.asarray(self.embed([question, *titles]), dtype=np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True).clip(min=1e-12)
        closeness = vectors[1:] @ vectors[0]
        ranked = sorted(zip(closeness.tolist(), titles, strict=True), key=lambda p: -p[0])
        return tuple(title for score, title in ranked if CLOSE <= score < SAME)[:limit]
