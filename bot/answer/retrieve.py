"""Hybrid retrieval: dense (the index's vectors) + BM25 (bm25s) over the same chunks, fused.

Measured with `benchmarks/retrieval_benchmarks.py` (numbers in BENCHMARKS.md, "Retrieval
benchmarks"); the defaults were chosen on a MedQuAD dev sample disjoint from the test sample:
- Dense scores are exact cosines over the vectors held in memory (loaded once per index
  generation, like the BM25 index): Chroma's HNSW search missed about 1 in 8 true top-10 chunks
  at MedQuAD scale, which cost 4 points of hit@1, and the exact scan is faster (~3 ms for 27k).
- Fusion is a convex combination of the cosine and the BM25 score divided by the query's best
  BM25 score, over the union of each side's top `candidates`: rank fusion (RRF) threw away how
  much better dense was, and lost to dense alone.
- Sentence lift: every chunk's sentences are stored with their own vectors; a candidate chunk
  whose best quotable sentence is closer to the question than the chunk as a whole moves up
  (`sentence_weight` of the difference), so the one sentence that answers a question inside a
  long answer is found. The sentence vectors also spare the composer and the citation check
  from embedding sentences at question time (`sentence_vector`).
- A long message that wraps its question in a story ("subject line", narrative, "Can X cause Y?")
  is also embedded as its subject line plus its question sentences, and the two cosines averaged;
  BM25 still reads every word.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import numpy as np
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict, PrivateAttr

from bot.answer.quotable import quotable
from vectorstore.index import Index
from vectorstore.lexical import open_lexical
from vectorstore.sentences import split_sentences

SUBJECT_MAX_WORDS = 12  # a first line this short, followed by more lines, is a subject line


def question_focus(text: str) -> str | None:
    """A long message's subject line and question sentences; None when that is the whole text."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    subject = lines[0] if len(lines) > 1 and len(lines[0].split()) <= SUBJECT_MAX_WORDS else ""
    sentences = split_sentences("\n".join(lines[1:] if subject else lines))
    asks = [s for s in sentences if "?" in s]
    if not asks or len(asks) == len(sentences):
        return None
    return " ".join([f"{subject.rstrip('.')}.", *asks] if subject else asks)


class _Bm25:
    """A bm25s index over every chunk of one index generation."""

    def __init__(
        self, docs: list[Document], question_context: bool, folder: Path | None = None
    ) -> None:
        # Loaded memory-mapped from the generation's folder when ingest saved it there.
        lexical = open_lexical(folder, docs, question_context)
        self.docs = docs
        self.tokenizer = lexical.tokenizer
        self.model = lexical.model
        self.vocab = self.tokenizer.get_vocab_dict()
        self.df = lexical.df

    def document_frequency(self, stem: str) -> int:
        """How many chunks contain this Snowball stem (0 for a word the corpus lacks)."""
        token = self.vocab.get(stem)
        return int(self.df[token]) if token is not None and token < len(self.df) else 0

    def _query_ids(self, query: str) -> list[int]:
        ids = self.tokenizer.tokenize(
            [query], update_vocab=False, return_as="ids", show_progress=False
        )
        return list(ids[0]) if self.docs else []

    def search(self, query: str, k: int) -> list[tuple[Document, float]]:
        """The k best chunks with a positive score."""
        ids = self._query_ids(query)
        if not any(ids):
            return []
        found, scores = self.model.retrieve(
            [ids], k=min(k, len(self.docs)), show_progress=False, n_threads=1
        )
        return [
            (self.docs[int(i)], float(s)) for i, s in zip(found[0], scores[0], strict=True) if s > 0
        ]

    def scores(self, query: str) -> np.ndarray:
        """The BM25 score of every chunk (zeros when no query word is indexed)."""
        ids = self._query_ids(query)
        if not any(ids):
            return np.zeros(len(self.docs), dtype=np.float32)
        return np.asarray(self.model.get_scores_from_ids(ids), dtype=np.float32)


class _Vectors:
    """Every chunk's stored vector, in the same order as the BM25 documents, and every quotable
    sentence's vector with the chunk it belongs to."""

    def __init__(self, index: Index, docs: list[Document]) -> None:
        self.docs = docs
        collection = index.vectorstore()._collection
        self.matrix = np.zeros((len(docs), index.embedder.dimension), dtype=np.float32)
        row = {d.id: i for i, d in enumerate(docs)}
        ids = [d.id for d in docs]
        for start in range(0, len(ids), 5000):
            got = collection.get(ids=ids[start : start + 5000], include=["embeddings"])
            for cid, vector in zip(got["ids"], got["embeddings"], strict=True):
                self.matrix[row[cid]] = vector
        kept: list[np.ndarray] = []
        grouped: dict[int, list[int]] = defaultdict(list)  # chunk row -> its sentences' rows
        self.by_text: dict[str, int] = {}
        for _, texts, metas, vectors in index.sentence_pages():
            for text, meta, vector in zip(texts, metas, vectors, strict=True):
                if meta.get("chunk_id") not in row or not quotable(text):
                    continue
                self.by_text.setdefault(text, len(kept))
                grouped[row[meta["chunk_id"]]].append(len(kept))
                kept.append(np.asarray(vector, dtype=np.float32))
        dimension = index.embedder.dimension
        self.sentence_matrix = np.vstack(kept) if kept else np.zeros((0, dimension), np.float32)
        self.sentence_rows = {c: np.asarray(rows) for c, rows in grouped.items()}

    def best_sentences(self, rows: list[int], vectors: list[np.ndarray]) -> dict[int, float]:
        """For each chunk row, the best cosine of one of its quotable sentences (averaged over
        the query vectors, like the chunk cosine)."""
        out: dict[int, float] = {}
        for r in rows:
            mine = self.sentence_rows.get(r)
            if mine is None:
                continue
            sims = np.mean([self.sentence_matrix[mine] @ v for v in vectors], axis=0)
            out[r] = float(sims.max())
        return out

    def vector_of(self, sentence: str) -> np.ndarray | None:
        """The stored vector of a quotable sentence, or None when no chunk has it."""
        n = self.by_text.get(sentence)
        return None if n is None else self.sentence_matrix[n]


class HybridRetriever(BaseRetriever):
    """Dense + BM25 candidates fused by score (or rank); at most `per_page` chunks from one page."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    index: Index
    k: int = 8
    candidates: int = 50
    per_page: int = 3
    fusion: str = "score"  # "score": alpha * cosine + (1 - alpha) * BM25 / best; "rrf": by rank
    alpha: float = 0.85
    exact_dense: bool = True  # False: ask Chroma's approximate index (for very large corpora)
    focus_questions: bool = True
    rrf_k: int = 60
    dense_weight: float = 1.0
    bm25_weight: float = 1.0
    sentence_weight: float = 0.5  # how far a chunk's dense score moves toward its best sentence
    embed_query: Callable[[str], list[float]] | None = None

    _bm25: _Bm25 | None = PrivateAttr(default=None)
    _vectors: _Vectors | None = PrivateAttr(default=None)
    _bm25_generation: str | None = PrivateAttr(default=None)
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    def bm25(self) -> _Bm25:
        """The BM25 index for the live generation, built on first use and after each ingest."""
        generation = self.index.current_generation()
        with self._lock:
            if self._bm25 is None or generation != self._bm25_generation:
                manifest = self.index.manifest()
                self._bm25 = _Bm25(
                    self.index.documents(),
                    manifest.question_context,
                    self.index.lexical_folder(generation),
                )
                self._vectors = None
                self._bm25_generation = generation
            return self._bm25

    def _corpus(self) -> tuple[_Bm25, _Vectors]:
        """The BM25 index and the matching vectors (row i is `docs[i]`), built together."""
        bm25 = self.bm25()
        with self._lock:
            if self._vectors is None or self._vectors.docs is not bm25.docs:
                self._vectors = _Vectors(self.index, bm25.docs)
            return bm25, self._vectors

    def corpus_frequency(self) -> tuple[Callable[[str], int], int]:
        """(stem -> number of chunks containing it, number of chunks) of the live generation."""
        bm25 = self.bm25()
        return bm25.document_frequency, len(bm25.docs)

    def sentence_vector(self, sentence: str) -> list[float] | None:
        """The stored vector of a quotable sentence of the index as last loaded (None if it is not
        one). Called for every sentence the composer and the verifier score, so it reads no
        store: a text's vector depends only on the model, which the manifest pins, so a vector
        from the previous generation is still that text's vector."""
        stored = self._vectors
        if stored is None:
            return None
        vector = stored.vector_of(sentence)
        return None if vector is None else vector.tolist()

    def _query_vectors(self, query: str) -> list[np.ndarray]:
        embed = self.embed_query or self.index.embedder.embed_query
        texts = [query]
        focus = question_focus(query) if self.focus_questions else None
        if focus:
            texts.append(focus)
        return [np.asarray(embed(t), dtype=np.float32) for t in texts]

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun | None = None
    ) -> list[Document]:
        if not self.exact_dense:
            return self._approximate(query)
        vectors = self._query_vectors(query)
        bm25, stored = self._corpus()
        if not bm25.docs:
            return []
        chunk_cosines = np.mean([stored.matrix @ v for v in vectors], axis=0)
        lexical = bm25.scores(query)
        chunk_top = _top(chunk_cosines, self.candidates)
        lexical_top = [i for i in _top(lexical, self.candidates) if lexical[i] > 0]
        best_sentence = (
            stored.best_sentences(list(dict.fromkeys([*chunk_top, *lexical_top])), vectors)
            if self.sentence_weight
            else {}
        )
        cosines = chunk_cosines.copy()
        for i, best in best_sentence.items():
            cosines[i] += self.sentence_weight * max(0.0, best - chunk_cosines[i])
        dense_top = sorted(chunk_top, key=lambda i: (-cosines[i], i))
        if self.fusion == "rrf":
            return self.fuse(
                [(bm25.docs[i], float(cosines[i])) for i in dense_top],
                [(bm25.docs[i], float(lexical[i])) for i in lexical_top],
                cosines={bm25.docs[i].id: float(cosines[i]) for i in lexical_top},
            )
        best = float(lexical.max())
        fused: dict[int, float] = {}
        for i in dict.fromkeys([*dense_top, *lexical_top]):
            fused[i] = self.alpha * cosines[i] + (1 - self.alpha) * (
                lexical[i] / best if best else 0
            )
        ranks = {"dense": dense_top, "bm25": lexical_top}
        info = {
            i: {
                "dense_score": round(float(cosines[i]), 4),
                "chunk_score": round(float(chunk_cosines[i]), 4),
                "bm25_score": round(float(lexical[i]), 4),
                "fused_score": round(float(fused[i]), 6),
            }
            for i in fused
        }
        for i, best in best_sentence.items():
            if i in info:
                info[i]["sentence_score"] = round(best, 4)
        for name, ranked in ranks.items():
            for rank, i in enumerate(ranked, 1):
                info[i][f"{name}_rank"] = rank
        order = sorted(fused, key=lambda i: (-fused[i], bm25.docs[i].id))
        return self._capped([(bm25.docs[i], info[i]) for i in order])

    def _approximate(self, query: str) -> list[Document]:
        """Chroma's approximate nearest neighbours for the full message, fused by rank."""
        vector = np.asarray((self.embed_query or self.index.embedder.embed_query)(query))
        dense = self.index.search_by_vector(vector.tolist(), k=self.candidates)
        lexical = self.bm25().search(query, self.candidates)
        docs = self.fuse(dense, lexical)
        self._fill_dense_scores(docs, vector)
        return docs

    def _fill_dense_scores(self, docs: list[Document], vector: np.ndarray) -> None:
        """Give BM25-only hits a cosine score too, so the relevance gate can judge every chunk."""
        missing = [d for d in docs if "dense_score" not in d.metadata]
        if not missing:
            return
        got = self.index.vectorstore()._collection.get(
            ids=[d.id for d in missing], include=["embeddings"]
        )
        by_id = dict(zip(got["ids"], got["embeddings"], strict=True))
        for doc in missing:
            if doc.id in by_id:
                doc.metadata["dense_score"] = round(float(np.dot(vector, by_id[doc.id])), 4)

    def fuse(
        self,
        dense: list[tuple[Document, float]],
        lexical: list[tuple[Document, float]],
        cosines: dict[str, float] | None = None,
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
        for cid, cosine in (cosines or {}).items():
            info[cid].setdefault("dense_score", round(cosine, 4))
        order = sorted(fused, key=lambda i: (-fused[i], i))
        return self._capped(
            [(docs[c], {**info[c], "rrf_score": round(fused[c], 6)}) for c in order]
        )

    def _capped(self, ranked: list[tuple[Document, dict]]) -> list[Document]:
        """The first k chunks, at most `per_page` from one page unless other pages run out."""
        per_page: dict[str, int] = defaultdict(int)
        chosen: list[tuple[Document, dict]] = []
        overflow: list[tuple[Document, dict]] = []
        for doc, info in ranked:
            page = doc.metadata.get("page_id", doc.id)
            if per_page[page] >= self.per_page:
                overflow.append((doc, info))  # used only if the other pages cannot fill k
                continue
            per_page[page] += 1
            chosen.append((doc, info))
            if len(chosen) >= self.k:
                break
        chosen.extend(overflow[: self.k - len(chosen)])
        return [
            Document(page_content=doc.page_content, metadata={**doc.metadata, **info}, id=doc.id)
            for doc, info in chosen
        ]


def _top(scores: np.ndarray, n: int) -> list[int]:
    """Indices of the n highest scores, best first (ties by position, so results are stable)."""
    n = min(n, len(scores))
    if n <= 0:
        return []
    part = np.argpartition(-scores, n - 1)[:n]
    return [int(i) for i in part[np.lexsort((part, -scores[part]))]]
