"""The persistent Chroma index of answer chunks, kept in sync with the files on disk.

Layout under `<data_dir>/index/`: `CURRENT` names the live generation folder; each generation
holds a Chroma store (one collection of chunks, searched by Chroma's HNSW), `manifest.json`,
`catalog.json` (which chunk ids came from which file) and `bm25/`, the generation's BM25 index
(see lexical.py), written before the generation goes live. Every chunk's sentences have their
own vectors, kept by text in `sentence_vectors.sqlite3` beside the generations and shared by all
of them (see sentence_vectors.py): a chunk's sentences are `split_sentences(chunk text)`.
An ingest that changes anything writes a new generation and only then points `CURRENT` at it,
so a failed or killed ingest leaves the previous index untouched and queryable. An ingest reads
the changed files twice, first for ids only, then file by file to embed and write the new chunks
in parts (streamed_write.py), and builds the BM25 index from pages of Chroma (lexical_stream.py),
so that its memory does not grow with the corpus (writing.py). A small change is written as a
delta over the live generation's base (see delta.py: only the changed chunks, no copy of the
index), read as two parts; a large one, or one that would grow the delta past `delta_share` of
its base, as a full generation (a copy of the live one, then the changes). Reading goes through
the primitives of reading.py (`dense_search`, `lexical`, `chunk_records`, `sentence_vectors`,
...) over `parts()`; nothing loads every chunk.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path

import numpy as np
from langchain_core.documents import Document

from vectorstore.chunking import MAX_WORDS
from vectorstore.delta import DELTA_SHARE
from vectorstore.embeddings import Embedder
from vectorstore.errors import IndexMismatchError, IndexMissingError
from vectorstore.hnsw import EF_CONSTRUCTION, EF_SEARCH, MAX_NEIGHBORS
from vectorstore.manifest import FORMAT_VERSION, Manifest
from vectorstore.parts import Part
from vectorstore.reading import IndexReading
from vectorstore.sentence_vectors import CACHE_VECTORS, SentenceVectors
from vectorstore.store import ChromaStore
from vectorstore.streamed_write import PART, page_question, under  # noqa: F401 (read from here)
from vectorstore.writing import IndexWriting, SyncReport  # noqa: F401 (SyncReport: from here)

COLLECTION = "answers"
CONVERTIBLE = (2,)  # older formats an ingest converts (see convert.py)
RECORD_CACHE = 10_000  # chunk records (text, metadata, vector) a reader keeps in memory


class Index(IndexReading, IndexWriting):
    """Answer chunks in Chroma: sync from files, search, list; one writer at a time."""

    def __init__(
        self,
        data_dir: Path,
        *,
        embedder: Embedder | None = None,
        store: ChromaStore | None = None,
        question_context: bool = True,
        max_words: int = MAX_WORDS,
        ef_search: int = EF_SEARCH,
        ef_construction: int = EF_CONSTRUCTION,
        max_neighbors: int = MAX_NEIGHBORS,
        record_cache: int = RECORD_CACHE,
        sentence_cache: int = CACHE_VECTORS,
        delta_share: float = DELTA_SHARE,
        write_part: int = PART,
        read_page: int = 5000,
        dense_dims: int | None = None,
    ) -> None:
        if delta_share < 0:
            raise ValueError(f"delta_share must be 0 or more, not {delta_share!r}")
        for name, value in (("ef_search", ef_search), ("ef_construction", ef_construction)):
            if value < 1:
                raise ValueError(f"{name} must be 1 or more, not {value}")
        if write_part < 1 or read_page < 1:
            raise ValueError(
                f"write_part and read_page must be 1 or more ({write_part}, {read_page})"
            )
        if max_neighbors < 2:
            raise ValueError(f"max_neighbors must be 2 or more, not {max_neighbors}")
        if dense_dims is not None and dense_dims < 0:
            raise ValueError(f"dense_dims must be 0 (full vectors) or more, not {dense_dims}")
        self.root = Path(data_dir) / "index"
        self.delta_share = delta_share
        self.embedder = embedder or Embedder()
        self.store = store or ChromaStore(self.root, COLLECTION)
        self.question_context = question_context
        self.max_words = max_words
        self.ef_search = ef_search
        # Applied only when a generation's collection is created (Chroma fixes them then).
        self.hnsw = {
            "ef_construction": ef_construction,
            "max_neighbors": max_neighbors,
            "ef_search": ef_search,
        }
        self.store.hnsw = self.hnsw  # the settings a store gives the collections it creates
        self.record_cache = record_cache
        self.write_part = write_part  # chunks embedded and upserted together
        self.read_page = read_page  # chunks per Chroma read when the BM25 index is built
        self.sentence_cache = sentence_cache
        # Vectors in Chroma for an index created now (None: as the index has them, full if new).
        self.dense_dims = 0 if dense_dims == self.embedder.dimension else dense_dims
        if dense_dims and dense_dims > self.embedder.dimension:
            raise ValueError(
                f"dense_dims {dense_dims} is more than the embedder's {self.embedder.dimension}"
            )
        self._writing_projection = None
        self._projection = None  # the live generation's (None: Chroma holds full vectors)
        self._warned_full = False
        self._reader = None
        self._reader_generation: str | None = None
        self._parts: list[Part] | None = None
        self._parts_generation: str | None = None
        self._parts_checked = 0.0  # when the live generation was last looked up
        self._records: OrderedDict[str, tuple[Document, np.ndarray]] = OrderedDict()
        self._records_lock = threading.Lock()
        self._sentences: SentenceVectors | None = None
        self._reader_lock = threading.Lock()  # app threads must not open the client twice

    # ----- generations -------------------------------------------------------------------
    def current_generation(self) -> str | None:
        """Name of the live generation, or None when nothing was ingested yet."""
        return self.store.current_generation()

    def _expected(self) -> dict:
        return {
            "format_version": FORMAT_VERSION,
            "embedding_model": self.embedder.model_id,
            "dimension": self.embedder.dimension,
            "question_context": self.question_context,
            "max_words": self.max_words,
        }

    def manifest(self) -> Manifest:
        """The live generation's manifest; IndexMissingError if there is none."""
        gen = self.current_generation()
        if gen is None:
            raise IndexMissingError(
                f"no index at {self.store.describe()}: run `python -m bot ingest` first"
            )
        return self.store.read_manifest(gen)

    def check_compatible(self, *, for_writing: bool = False) -> Manifest | None:
        """Refuse an index built with another embedder, format or chunking; say how to rebuild.

        An ingest (for_writing) accepts an index of an older format it can convert."""
        if self.current_generation() is None:
            return None
        manifest = self.manifest()
        expected = self._expected()
        keys = expected if for_writing else ("format_version", "embedding_model", "dimension")
        convertible = manifest.format_version in CONVERTIBLE
        diffs = [
            f"{k}: index has {getattr(manifest, k)!r}, this bot uses {expected[k]!r}"
            for k in keys
            if getattr(manifest, k) != expected[k]
            and not (k == "format_version" and for_writing and convertible)
        ]
        if len(diffs) == 1 and diffs[0].startswith("format_version") and convertible:
            raise IndexMismatchError(
                f"the index at {self.store.describe()} is in format {manifest.format_version} "
                f"(sentence vectors inside Chroma); this bot reads format {FORMAT_VERSION}. "
                "Convert it once with `python -m bot ingest [PATH ...]` (it moves the stored "
                "vectors, nothing is embedded again)"
            )
        if diffs:
            raise IndexMismatchError(
                f"the index at {self.store.describe()} was built differently ("
                + "; ".join(diffs)
                + "). Rebuild it: `python -m bot ingest --rebuild [PATH ...]`"
            )
        return manifest

    def indexed_files(self) -> list[str]:
        """The files the live generation was built from (resolved paths), sorted."""
        gen = self.current_generation()
        return sorted(self.store.read_catalog(gen)["files"]) if gen else []
