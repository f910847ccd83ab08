"""Reading an index generation: the primitives retrieval uses, over the generation's parts.

`bot/answer/retrieve.py` reads the index only through these (`dense_search`, `lexical`,
`chunk_records`, `sentence_vectors`, `document_frequency`, `chunk_count`, `visible`), so that how
a generation is stored (one part today, a base and its deltas later: see parts.py) can change
without touching retrieval. Nothing here loads every chunk, vector or text: dense candidates come
from Chroma's HNSW, BM25 is memory-mapped with only its row -> id table, records of the candidate
chunks are fetched by id (a bounded LRU cache), sentence vectors by text from their file.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from pathlib import Path

import numpy as np
from langchain_core.documents import Document

from vectorstore.hnsw import PROJECTED_OVERSAMPLE
from vectorstore.lexical import LEXICAL_FOLDER, LexicalIndex, lexical_stamp, open_lexical
from vectorstore.lexical_delta import build_delta, memory_stats
from vectorstore.parts import (
    Part,
    chunk_count,
    document_frequency,
    fetch_records,
    lexical_scores,
    nearest,
)
from vectorstore.projection import DenseProjection, ProjectedEmbeddings, chunk_key
from vectorstore.sentence_vectors import SENTENCE_VECTORS_FILE, SentenceVectors
from vectorstore.store import collection_documents

log = logging.getLogger(__name__)

PUBLISHED = "published"  # a Chroma server's generations' local files (BM25), on a shared volume


class IndexReading:
    """The reading half of Index (attributes are set by Index.__init__)."""

    # ----- reading -----------------------------------------------------------------------
    def parts(self) -> list[Part]:
        """The live generation as parts, opened once per generation: one for a full generation
        (its chunk collection and its BM25), two for a delta (its base, hiding the ids the delta
        removed or replaced, then the delta's own chunks); see parts.py for how they are read.
        A store whose pointer is a network call (`pointer_ttl`) is asked again at most that
        often."""
        ttl = getattr(self.store, "pointer_ttl", 0.0)
        if ttl and self._parts is not None and time.monotonic() - self._parts_checked < ttl:
            return self._parts
        gen = self.current_generation()
        if gen is None:
            self.manifest()  # raises IndexMissingError with the message
        with self._reader_lock:
            if self._parts is None or gen != self._parts_generation:
                manifest = self.check_compatible()
                self._projection = (
                    self._load_projection(gen, manifest)
                    if manifest.dense_dims and manifest.dense_projection
                    else None
                )
                delta = self.store.read_delta(gen)
                context = manifest.question_context
                if delta is None:
                    self._parts = [self._part(gen, manifest.corpus_hash, manifest.chunks, context)]
                else:
                    base = self.store.read_manifest(delta.base)
                    under = self._part(
                        delta.base, base.corpus_hash, base.chunks, context, delta.hidden
                    )
                    own = self._part(
                        gen, delta.own_hash(), len(delta.own), context, base_of=delta.base,
                        base_lexical=under.lexical,
                    )  # fmt: skip
                    self._parts = [under, own]
                self._parts_generation = gen
                with self._records_lock:
                    self._records.clear()
            self._parts_checked = time.monotonic()
            return self._parts

    def _load_projection(self, gen: str, manifest) -> DenseProjection:
        """The projection a generation's vectors were made with: from the data folder, else
        (a replica of a Chroma server without the shared folder) from the server."""
        name = manifest.dense_projection
        try:
            return DenseProjection.load(self.root, name)
        except FileNotFoundError:
            read = getattr(self.store, "read_projection", None)
            found = read(gen) if read is not None else None
            if found is None or found.digest() != name:
                raise
            return found

    def _part(
        self,
        gen: str,
        corpus_hash: str,
        chunks: int,
        question_context: bool,
        hidden: frozenset[str] = frozenset(),
        base_of: str | None = None,
        base_lexical: LexicalIndex | None = None,
    ) -> Part:
        """One generation's collection and saved BM25 (built now if it is missing; a delta's
        scored with the statistics of its base `base_of`: saved with the base's BM25, or, for a
        replica without the published files, those of `base_lexical`, the base's BM25 as it
        was just built in memory)."""
        collection = self.store.open_collection(gen)
        self._tune(collection)
        folder = self.lexical_folder(gen)
        stamp = lexical_stamp(corpus_hash, chunks, question_context)
        if base_of is None:
            lexical = open_lexical(folder, stamp, lambda: self.store.all_documents(gen))
        else:
            lexical = LexicalIndex.load(folder, stamp)
            docs = [] if lexical is not None else self.store.all_documents(gen)
            if docs:
                stats = self._base_stats(base_of) or memory_stats(base_lexical)
                lexical = (
                    LexicalIndex.build(docs, question_context)  # scores a little off: logged
                    if stats is None
                    else build_delta(docs, question_context, stats)
                )
                if stats is None:
                    log.warning("no corpus statistics of %s: the delta's BM25 uses its own", gen)
        return Part(collection, lexical, hidden)

    def _tune(self, collection) -> None:
        """Set the collection's ef_search to this index's (it takes effect when HNSW loads)."""
        try:
            current = (collection.configuration or {}).get("hnsw", {}).get("ef_search")
        except AttributeError:  # an older collection without a configuration
            current = None
        if current != self.ef_search:
            collection.modify(configuration={"hnsw": {"ef_search": self.ef_search}})

    def dense_search(self, vectors: list[np.ndarray], k: int) -> list[tuple[str, float]]:
        """Chunk ids with their mean cosine over the query vectors, best first: HNSW candidates
        (k per vector and part) rescored with the stored chunk vectors (which are cached).

        Where Chroma holds projected vectors (vectorstore/projection.py), HNSW is searched with
        the projected queries for `PROJECTED_OVERSAMPLE` times as many candidates, which are
        rescored with their full vectors from the sentence file; the top k's records are then
        fetched (into the cache the caller reads next)."""
        parts = self.parts()
        projection = self._projection
        if projection is None:
            records = self.chunk_records(nearest(parts, vectors, k))
            found = {cid: vector for cid, (_, vector) in records.items()}
        else:
            searched = list(projection.project(np.stack(vectors)))
            ids = nearest(parts, searched, k * PROJECTED_OVERSAMPLE)
            full = self._sentence_file().get_many(chunk_key(cid) for cid in ids)
            found = {cid: full[chunk_key(cid)] for cid in ids if chunk_key(cid) in full}
            missing = [cid for cid in ids if cid not in found]
            if missing:  # not in the sentence file: the record's (mapped back) vector
                found.update({c: v for c, (_, v) in self.chunk_records(missing).items()})
        scored = [
            (cid, float(np.mean([vector @ v for v in vectors]))) for cid, vector in found.items()
        ]
        scored.sort(key=lambda r: (-r[1], r[0]))
        if projection is not None:
            self.chunk_records(cid for cid, _ in scored[:k])
        return scored[:k]

    def lexical(self, query: str, k: int, also: Iterable[str] = ()) -> dict[str, float]:
        """The top-k chunk ids with a positive BM25 score, plus the scores of the `also` ids."""
        return lexical_scores(self.parts(), query, k, also)

    def chunk_records(self, ids: Iterable[str]) -> dict[str, tuple[Document, np.ndarray]]:
        """Text, metadata and vector of those chunks from Chroma (a bounded LRU cache first)."""
        wanted = list(dict.fromkeys(ids))
        parts = self.parts()
        with self._records_lock:
            out = {i: self._records[i] for i in wanted if i in self._records}
            for i in out:
                self._records.move_to_end(i)
        got = fetch_records(parts, [i for i in wanted if i not in out])
        if self._projection is not None and got:
            got = self._with_full_vectors(got)
        self._remember(got)
        out.update(got)
        return {i: out[i] for i in wanted if i in out}

    def _with_full_vectors(
        self, records: dict[str, tuple[Document, np.ndarray]]
    ) -> dict[str, tuple[Document, np.ndarray]]:
        """Records whose vector is the full one from the sentence file (Chroma holds projected
        ones); a chunk whose full vector is missing keeps its projected vector mapped back into
        the full space (its cosine is then an approximation) and is logged."""
        full = self._sentence_file().get_many(chunk_key(cid) for cid in records)
        out = {}
        missing = 0
        for cid, (doc, vector) in records.items():
            found = full.get(chunk_key(cid))
            if found is None:
                missing += 1
                found = vector @ self._projection.matrix
            out[cid] = (doc, found)
        if missing and not self._warned_full:
            self._warned_full = True  # once: a replica without the shared folder has none
            log.warning(
                "%d chunks have no full vector in %s: ranking with their projected vectors "
                "(give this process the data folder the index was built in)",
                missing,
                self.root / SENTENCE_VECTORS_FILE,
            )
        return out

    def _remember(self, records: dict[str, tuple[Document, np.ndarray]]) -> None:
        with self._records_lock:
            for cid, record in records.items():
                self._records[cid] = record
                self._records.move_to_end(cid)
            while len(self._records) > self.record_cache:
                self._records.popitem(last=False)

    def sentence_vectors(self, texts: Iterable[str]) -> dict[str, np.ndarray]:
        """The stored vectors of these sentence texts (texts without one are left out)."""
        return self._sentence_file().get_many(texts)

    def document_frequency(self, stem: str) -> int:
        """How many chunks of the live generation contain this Snowball stem."""
        return document_frequency(self.parts(), stem)

    def chunk_count(self) -> int:
        """How many chunks the live generation holds."""
        return chunk_count(self.parts())

    def visible(self, ids: Iterable[str]) -> list[str]:
        """Those chunk ids that belong to the live generation, in the order given."""
        wanted = list(dict.fromkeys(ids))
        found = self.chunk_records(wanted)
        return [i for i in wanted if i in found]

    def _sentence_file(self) -> SentenceVectors:
        if self._sentences is None:
            self._sentences = SentenceVectors(
                self.root / SENTENCE_VECTORS_FILE,
                self.embedder.model_id,
                self.embedder.dimension,
                cache_size=self.sentence_cache,
            )
        return self._sentences

    def vectorstore(self):
        """A LangChain Chroma vector store on the live generation (reopened if it changed)."""
        gen = self.current_generation()
        if gen is None:
            self.manifest()  # raises IndexMissingError with the message
        self.parts()  # checks the index and reads the generation's projection, if it has one
        with self._reader_lock:
            if self._reader is None or gen != self._reader_generation:
                embedder = self.embedder
                if self._projection is not None:
                    embedder = ProjectedEmbeddings(embedder, self._projection)
                self._reader = self.store.langchain_store(gen, embedder)
                self._reader_generation = gen
            return self._reader

    def search(self, query: str, k: int = 5) -> list[tuple[Document, float]]:
        """Dense search: the k nearest chunks with cosine similarity (higher is closer)."""
        return self.search_by_vector(self.embedder.embed_query(query), k)

    def search_by_vector(self, vector: list[float], k: int) -> list[tuple[Document, float]]:
        """Dense search with a precomputed query vector: (chunk, cosine), best first."""
        found = self.dense_search([np.asarray(vector, dtype=np.float32)], k)
        records = self.chunk_records(cid for cid, _ in found)
        return [(records[cid][0], score) for cid, score in found if cid in records]

    def documents(self) -> list[Document]:
        """Every chunk as a LangChain Document (id set), in id order (reads the whole index)."""
        shown: dict[str, Document] = {}
        for part in self.parts():  # a later part's chunk wins; hidden ones are left out
            for doc in collection_documents(part.collection, self.store.max_batch()):
                if doc.id not in part.hidden:
                    shown[doc.id] = doc
        return [shown[i] for i in sorted(shown)]

    def lexical_folder(self, gen: str | None) -> Path | None:
        """Where a generation's BM25 index is saved: in its folder, or for a Chroma server's
        generation under `<data_dir>/index/published/` (a volume the replicas share)."""
        if not gen:
            return None
        folder = self.store.generation_folder(gen)
        if folder is None:
            folder = self.root / PUBLISHED / gen
        return folder / LEXICAL_FOLDER
