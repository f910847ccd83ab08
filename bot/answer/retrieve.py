"""Hybrid retrieval: dense (Chroma's HNSW) + BM25 (bm25s) over the same chunks, fused.

Measured with `benchmarks/retrieval_benchmarks.py` and `benchmarks/hnsw_recall.py` (numbers in
BENCHMARKS.md); the defaults were chosen on a MedQuAD dev sample disjoint from the test sample:
- Dense candidates come from Chroma's HNSW (`ef_search` a setting, chosen for recall@10 against
  an exact scan), rescored with the candidates' stored vectors as the mean cosine over the query
  vectors. Only the index's reading primitives are used (`Index.dense_search`, `lexical`,
  `chunk_records`, `sentence_vectors`): nothing loads every chunk, vector or text.
- Fusion is a convex combination of the cosine and the BM25 score divided by the query's best
  BM25 score, over the union of each side's top `candidates`: rank fusion (RRF) threw away how
  much better dense was, and lost to dense alone.
- Sentence lift: every chunk's sentences have their own stored vectors; a candidate chunk
  whose best quotable sentence is closer to the question than the chunk as a whole moves up
  (`sentence_weight` of the difference), so the one sentence that answers a question inside a
  long answer is found. The candidates' sentence vectors also spare the composer and the
  citation check from embedding those sentences at question time (`sentence_vector`).
- A long message that wraps its question in a story ("subject line", narrative, "Can X cause Y?")
  is also embedded as its subject line plus its question sentences, and the two cosines averaged;
  BM25 still reads every word.
"""

from __future__ import annotations

import functools
import threading
from collections import OrderedDict, defaultdict
from collections.abc import Callable

import numpy as np
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict, PrivateAttr

from bot.answer import background
from bot.answer.quotable import quotable
from vectorstore.index import Index
from vectorstore.sentences import chunk_sentences, split_sentences

SUBJECT_MAX_WORDS = 12  # a first line this short, followed by more lines, is a subject line
CACHED_CHUNKS = 20_000  # candidate chunks whose sentences are remembered (splitting is slow)


@functools.lru_cache(maxsize=8 * CACHED_CHUNKS)
def _quotable(sentence: str) -> bool:
    return quotable(sentence)


def _mean_cosines(matrix: np.ndarray, vectors: list[np.ndarray]) -> np.ndarray:
    """Each row's cosine to the query vectors, averaged (one matrix product for one vector)."""
    if len(vectors) == 1:
        return matrix @ vectors[0]
    return (matrix @ np.stack(vectors).T).mean(axis=1)


def question_focus(text: str) -> str | None:
    """A long message's subject line and question sentences; None when that is the whole text."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    subject = lines[0] if len(lines) > 1 and len(lines[0].split()) <= SUBJECT_MAX_WORDS else ""
    sentences = split_sentences("\n".join(lines[1:] if subject else lines))
    asks = [s for s in sentences if "?" in s]
    if not asks or len(asks) == len(sentences):
        return None
    return " ".join([f"{subject.rstrip('.')}.", *asks] if subject else asks)


class HybridRetriever(BaseRetriever):
    """Dense + BM25 candidates fused by score (or rank); at most `per_page` chunks from one page."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    index: Index
    k: int = 8
    candidates: int = 20  # dense and BM25 each; 50 gave the same hit@k on MedQuAD dev and LiveQA
    per_page: int = 3
    fusion: str = "score"  # "score": alpha * cosine + (1 - alpha) * BM25 / best; "rrf": by rank
    alpha: float = 0.85
    focus_questions: bool = True
    rrf_k: int = 60
    dense_weight: float = 1.0
    bm25_weight: float = 1.0
    sentence_weight: float = 0.5  # how far a chunk's dense score moves toward its best sentence
    known_sentences: int = 20_000  # sentence vectors kept for `sentence_vector` (LRU)
    embed_query: Callable[[str], list[float]] | None = None

    _known: OrderedDict = PrivateAttr(default_factory=OrderedDict)
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    def corpus_frequency(self) -> tuple[Callable[[str], int], int]:
        """(stem -> number of chunks containing it, number of chunks) of the live generation."""
        return self.index.document_frequency, self.index.chunk_count()

    def sentence_vector(self, sentence: str) -> list[float] | None:
        """The stored vector of a quotable sentence of a chunk this retriever returned as a
        candidate (None otherwise). Called for every sentence the composer and the verifier
        score, so it reads no store: a text's vector depends only on the model, which the
        manifest pins, so a vector from the previous generation is still that text's vector."""
        known, lock = self._known, self._lock
        with lock:
            vector = known.get(sentence)
            if vector is not None:
                known.move_to_end(sentence)
        return None if vector is None or not _quotable(sentence) else vector.tolist()

    def _sentence_scores(
        self, docs: dict[str, Document], vectors: list[np.ndarray]
    ) -> dict[str, float]:
        """For each chunk, the best cosine of one of its quotable sentences (averaged over the
        query vectors, like the chunk cosine); the vectors are remembered for sentence_vector.
        Sentences are tried best first, so usually one quotable check is made per chunk."""
        sentences = {cid: chunk_sentences(doc) for cid, doc in docs.items()}
        stored = self.index.sentence_vectors(t for texts in sentences.values() for t in texts)
        known, limit = self._known, self.known_sentences
        with self._lock:
            for text, vector in stored.items():
                known[text] = vector
                known.move_to_end(text)
            while len(known) > limit:
                known.popitem(last=False)
        out: dict[str, float] = {}
        for cid, texts in sentences.items():
            mine = [t for t in texts if t in stored]
            if not mine:
                continue
            matrix = np.vstack([stored[t] for t in mine])
            sims = _mean_cosines(matrix, vectors)
            for i in np.argsort(-sims, kind="stable"):
                if _quotable(mine[i]):
                    out[cid] = float(sims[i])
                    break
        return out

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
        vectors = self._query_vectors(query)
        # The dense search (HNSW, then its candidates' records) on a background thread: it
        # overlaps the BM25 side below (bot/answer/background.py).
        searching = background.POOL.submit(self.index.dense_search, vectors, self.candidates)
        # Meanwhile: the BM25 side's records and sentence vectors into their caches (the same
        # top as below), which the sentence lift reads next.
        early = self.index.lexical(query, self.candidates)
        found = self.index.chunk_records(c for c in early if early[c] > 0)
        self.index.sentence_vectors(t for doc, _ in found.values() for t in chunk_sentences(doc))
        dense = searching.result()
        lexical = self.index.lexical(query, self.candidates, also=[c for c, _ in dense])
        lexical_top = sorted(
            (c for c in lexical if lexical[c] > 0), key=lambda c: (-lexical[c], c)
        )[: self.candidates]
        chunk_top = [c for c, _ in dense]
        records = self.index.chunk_records(dict.fromkeys([*chunk_top, *lexical_top]))
        if not records:
            return []
        docs = {c: doc for c, (doc, _) in records.items()}
        chunk_cosines = dict(dense)
        for cid, (_, vector) in records.items():
            if cid not in chunk_cosines:  # a BM25-only candidate
                chunk_cosines[cid] = float(_mean_cosines(vector[None, :], vectors)[0])
        scores = {c: lexical.get(c, 0.0) for c in docs}
        best_sentence = self._sentence_scores(docs, vectors) if self.sentence_weight else {}
        cosines = dict(chunk_cosines)
        for cid, best in best_sentence.items():
            cosines[cid] += self.sentence_weight * max(0.0, best - chunk_cosines[cid])
        dense_top = sorted((c for c in chunk_top if c in docs), key=lambda c: (-cosines[c], c))
        lexical_top = [c for c in lexical_top if c in docs]
        if self.fusion == "rrf":
            return self.fuse(
                [(docs[c], cosines[c]) for c in dense_top],
                [(docs[c], scores[c]) for c in lexical_top],
                cosines={c: cosines[c] for c in lexical_top},
            )
        best = max((lexical[c] for c in lexical_top), default=0.0)
        fused: dict[str, float] = {}
        for c in dict.fromkeys([*dense_top, *lexical_top]):
            fused[c] = self.alpha * cosines[c] + (1 - self.alpha) * (
                scores[c] / best if best else 0
            )
        ranks = {"dense": dense_top, "bm25": lexical_top}
        info = {
            c: {
                "dense_score": round(float(cosines[c]), 4),
                "chunk_score": round(float(chunk_cosines[c]), 4),
                "bm25_score": round(float(scores[c]), 4),
                "fused_score": round(float(fused[c]), 6),
            }
            for c in fused
        }
        for c, best_cosine in best_sentence.items():
            if c in info:
                info[c]["sentence_score"] = round(best_cosine, 4)
        for name, ranked in ranks.items():
            for rank, c in enumerate(ranked, 1):
                info[c][f"{name}_rank"] = rank
        order = sorted(fused, key=lambda c: (-fused[c], c))
        return self._capped([(docs[c], info[c]) for c in order])

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
