"""Hybrid retrieval: dense (Chroma) + BM25 (bm25s) over the same chunks, fused by reciprocal rank."""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict, PrivateAttr

from vectorstore.index import Index


def lexical_text(doc: Document, question_context: bool) -> str:
    """The text BM25 sees: the same words the dense side embedded."""
    meta = doc.metadata
    if not question_context:
        return doc.page_content
    return "\n".join(
        p for p in (meta.get("page_title"), meta.get("heading"), doc.page_content) if p
    )


class _Bm25:
    """A bm25s index over every chunk of one index generation."""

    def __init__(self, docs: list[Document], question_context: bool) -> None:
        import bm25s
        import Stemmer

        self.docs = docs
        self.tokenizer = bm25s.tokenization.Tokenizer(
            stemmer=Stemmer.Stemmer("english"), stopwords="en"
        )
        ids = self.tokenizer.tokenize(
            [lexical_text(d, question_context) for d in docs], return_as="ids", show_progress=False
        )
        self.model = bm25s.BM25()
        self.model.index(ids, show_progress=False)

    def search(self, query: str, k: int) -> list[tuple[Document, float]]:
        ids = self.tokenizer.tokenize(
            [query], update_vocab=False, return_as="ids", show_progress=False
        )
        if not self.docs or not any(ids[0]):
            return []
        found, scores = self.model.retrieve(
            ids, k=min(k, len(self.docs)), show_progress=False, n_threads=1
        )
        return [
            (self.docs[int(i)], float(s)) for i, s in zip(found[0], scores[0], strict=True) if s > 0
        ]


class HybridRetriever(BaseRetriever):
    """Dense + BM25 candidates fused by reciprocal rank; at most `per_page` chunks from one page."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    index: Index
    k: int = 8
    candidates: int = 50
    per_page: int = 3
    rrf_k: int = 60
    dense_weight: float = 1.0
    bm25_weight: float = 1.0
    embed_query: Callable[[str], list[float]] | None = None

    _bm25: _Bm25 | None = PrivateAttr(default=None)
    _bm25_generation: str | None = PrivateAttr(default=None)
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    def bm25(self) -> _Bm25:
        """The BM25 index for the live generation, built on first use and after each ingest."""
        generation = self.index.current_generation()
        with self._lock:
            if self._bm25 is None or generation != self._bm25_generation:
                manifest = self.index.manifest()
                self._bm25 = _Bm25(self.index.documents(), manifest.question_context)
                self._bm25_generation = generation
            return self._bm25

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun | None = None
    ) -> list[Document]:
        vector = (self.embed_query or self.index.embedder.embed_query)(query)
        dense = self.index.search_by_vector(vector, k=self.candidates)
        lexical = self.bm25().search(query, self.candidates)
        docs = self.fuse(dense, lexical)
        self._fill_dense_scores(docs, vector)
        return docs

    def _fill_dense_scores(self, docs: list[Document], vector: list[float]) -> None:
        """Give BM25-only hits a cosine score too, so the relevance gate can judge every chunk."""
        missing = [d for d in docs if "dense_score" not in d.metadata]
        if not missing:
            return
        import numpy as np

        got = self.index.vectorstore()._collection.get(
            ids=[d.id for d in missing], include=["embeddings"]
        )
        by_id = dict(zip(got["ids"], got["embeddings"], strict=True))
        query = np.asarray(vector, dtype=np.float32)
        for doc in missing:
            if doc.id in by_id:
                doc.metadata["dense_score"] = round(float(np.dot(query, by_id[doc.id])), 4)

    def fuse(
        self, dense: list[tuple[Document, float]], lexical: list[tuple[Document, float]]
    ) -> list[Document]:
        """Reciprocal rank fusion of two ranked lists, then the per-page cap."""
        fused: dict[str, float] = defaultdict(float)
        info: dict[str, dict] = defaultdict(dict)
        docs: dict[str, Document] = {}
        for name, ranked, weight in (
            ("dense", dense, self.dense_weight),
            ("bm25", lexical, self.bm25_weight),
        ):
            for rank, (doc, score) in enumerate(ranked, 1):
                fused[doc.id] += weight / (self.rrf_k + rank)
                info[doc.id][f"{name}_rank"] = rank
                info[doc.id][f"{name}_score"] = round(score, 4)
                docs[doc.id] = doc
        order = sorted(fused, key=lambda i: (-fused[i], i))
        per_page: dict[str, int] = defaultdict(int)
        chosen: list[str] = []
        overflow: list[str] = []
        for cid in order:
            page = docs[cid].metadata.get("page_id", cid)
            if per_page[page] >= self.per_page:
                overflow.append(cid)  # used only if the other pages cannot fill k
                continue
            per_page[page] += 1
            chosen.append(cid)
            if len(chosen) >= self.k:
                break
        chosen.extend(overflow[: self.k - len(chosen)])
        return [
            Document(
                page_content=docs[cid].page_content,
                metadata={**docs[cid].metadata, **info[cid], "rrf_score": round(fused[cid], 6)},
                id=cid,
            )
            for cid in chosen
        ]
