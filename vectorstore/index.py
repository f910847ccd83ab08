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
so that its memory does not grow with the corpus. A small change is
written as a delta over the live generation's base (see delta.py: only the changed chunks, no
copy of the index), read as two parts; a large one, or one that would grow the delta past
`delta_share` of its base, as a full generation (a copy of the live one, then the changes). Reading goes through the primitives below (`dense_search`,
`lexical`, `chunk_records`, `sentence_vectors`, ...) over `parts()`; nothing loads every chunk.
"""

from __future__ import annotations

import hashlib
import shutil
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
from langchain_core.documents import Document

from vectorstore.chunking import MAX_WORDS, Chunk, chunk_page
from vectorstore.convert import copy_chunks, move_sentence_vectors
from vectorstore.corpus import find_files
from vectorstore.delta import DELTA_SHARE, Delta, Plan, plan_update
from vectorstore.embeddings import Embedder
from vectorstore.errors import IndexMismatchError, IndexMissingError
from vectorstore.hnsw import EF_CONSTRUCTION, EF_SEARCH, MAX_NEIGHBORS
from vectorstore.lexical import LexicalIndex, lexical_stamp
from vectorstore.lexical_delta import corpus_stats, delta_from_tokens, read_base_stats, write_stats
from vectorstore.lexical_stream import tokenized_chunks
from vectorstore.manifest import FORMAT_VERSION, Manifest
from vectorstore.parts import (
    Part,
)
from vectorstore.reading import PUBLISHED, IndexReading
from vectorstore.sentence_vectors import CACHE_VECTORS, SentenceVectors
from vectorstore.store import ChromaStore
from vectorstore.streamed_write import (  # noqa: F401 (page_question, under: read from here)
    PART,
    Changes,
    new_chunks,
    page_question,
    scan,
    under,
    write_chunks,
)

COLLECTION = "answers"
CONVERTIBLE = (2,)  # older formats an ingest converts (see convert.py)
RECORD_CACHE = 10_000  # chunk records (text, metadata, vector) a reader keeps in memory


@dataclass
class SyncReport:
    """What an ingest did, counted in answers (and chunks embedded)."""

    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    embedded: int = 0  # chunks
    sentences: int = 0  # distinct sentences embedded (those the sentence file lacked)
    files: int = 0
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # signs that a page was mis-parsed
    notes: list[str] = field(default_factory=list)  # information: pages saved only partly
    wrote: bool = False
    delta: bool = False  # the generation written is a delta over its base (no copy)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """True when every input was read without error."""
        return not self.errors


class Index(IndexReading):
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

    def _write_lexical(self, gen: str, manifest: Manifest, delta: Delta | None = None) -> None:
        """Save the BM25 index of a generation's own chunks: a full generation's with its corpus
        statistics (what a delta is scored with), a delta's scored with its base's."""
        folder = self.lexical_folder(gen)
        shutil.rmtree(folder, ignore_errors=True)  # the copy of the previous generation's
        page = min(self.read_page, self.store.max_batch())
        tokens = tokenized_chunks(self.store.open_collection(gen), page, self.question_context)
        if tokens is None:  # bm25s cannot index nothing; an empty index is built at question time
            return
        if delta is not None:
            stamp = lexical_stamp(delta.own_hash(), len(delta.own), self.question_context)
            stats = self._base_stats(delta.base)
            delta_from_tokens(*tokens, stats).save(folder, stamp)
            return
        stamp = lexical_stamp(manifest.corpus_hash, manifest.chunks, manifest.question_context)
        lexical = LexicalIndex.from_tokens(*tokens)
        lexical.save(folder, stamp)
        write_stats(folder, corpus_stats(lexical))

    def _base_stats(self, gen: str) -> dict | None:
        """The BM25 corpus statistics a full generation saved (None: it can take no delta)."""
        return read_base_stats(self.lexical_folder(gen))

    def _prune_published(self, keep: str) -> None:
        """Drop published BM25 folders of generations older than the one before `keep`."""
        root = self.root / PUBLISHED
        if self.store.generation_folder(keep) is not None or not root.is_dir():
            return
        gens = sorted(p.name for p in root.iterdir() if p.is_dir() and p.name != keep)
        for old in gens[:-1]:
            shutil.rmtree(root / old, ignore_errors=True)

    def indexed_files(self) -> list[str]:
        """The files the live generation was built from (resolved paths), sorted."""
        gen = self.current_generation()
        return sorted(self.store.read_catalog(gen)["files"]) if gen else []

    # ----- writing -----------------------------------------------------------------------
    def sync(
        self,
        paths: Iterable[Path],
        *,
        rebuild: bool = False,
        prune: bool = False,
        progress: Callable[[int, int], None] | None = None,
    ) -> SyncReport:
        """Make the index match the given files and folders; embed only what changed.

        With `prune`, files indexed from anywhere else are removed: the index holds exactly these.
        """
        started = time.perf_counter()
        report = SyncReport()
        roots = [Path(p).resolve() for p in paths]
        with self.store.lock():
            before = None if rebuild else self.check_compatible(for_writing=True)
            convert = before is not None and before.format_version != FORMAT_VERSION
            gen = None if rebuild else self.current_generation()
            catalog = self.store.read_catalog(gen) if gen else {"files": {}}
            files, problems = find_files(roots)
            report.errors.extend(problems)
            report.files = len(files)
            changes = scan(files, roots, catalog, report, self._chunk, prune=prune)
            if changes.pending or changes.remove or changes.files or rebuild or convert:
                files_after = {**catalog["files"], **changes.files}
                files_after = {k: v for k, v in files_after.items() if v is not None}
                self._write_generation(gen, files_after, changes, report, progress, convert=convert)
        report.seconds = time.perf_counter() - started
        return report

    def _chunk(self, page) -> list[Chunk]:
        return chunk_page(page, question_context=self.question_context, max_words=self.max_words)

    def _sentence_vectors(self, texts: list[str]) -> np.ndarray:
        """Vectors for distinct sentence texts the file does not hold yet."""
        return np.asarray(self.embedder.embed(texts), dtype=np.float32).reshape(len(texts), -1)

    def _write_generation(
        self, gen, files_after, changes: Changes, report, progress, *, convert=False
    ) -> None:
        all_ids = sorted(
            i for e in files_after.values() for ids in e["answers"].values() for i in ids
        )
        manifest = Manifest(
            **self._expected(),
            corpus_hash=hashlib.sha256("\n".join(all_ids).encode()).hexdigest(),
            chunks=len(all_ids),
            answers=sum(len(e["answers"]) for e in files_after.values()),
            files=len(files_after),
        )
        sentence_file = self._sentence_file()
        if convert:  # before the copy: the old generation's sentence vectors move into the file
            report.notes.append(
                f"converted the index to format {FORMAT_VERSION}: moved "
                f"{move_sentence_vectors(self.store, gen, sentence_file)} stored sentence "
                "vectors into the sentence vector file (nothing embedded again)"
            )
        plan = plan_update(
            self.store,
            gen,
            files_after,
            share=0.0 if convert else self.delta_share,
            can_base=lambda g: self._base_stats(g) is not None,
        )
        # A conversion copies the chunk records into a fresh collection (today's HNSW settings,
        # and no old sentence collection's files left behind).
        new_gen = self.store.begin_generation(copy_from=None if convert else plan.copy_from)
        try:
            writer = self.store.open_collection(new_gen)
            if convert:
                copy_chunks(self.store, gen, writer)
            if plan.fold:
                self._fold(plan, writer)
            removed = sorted(changes.remove | (plan.fold[1].hidden if plan.fold else set()))
            for start in range(0, len(removed), 500):
                writer.delete(ids=removed[start : start + 500])
            write_chunks(  # read again file by file (the base still shows the skipped ones)
                new_chunks(changes.pending, plan.skip, self._chunk),
                changes.adds(plan.skip),
                writer,
                embed=self.embedder.embed,
                sentences=sentence_file,
                sentence_vectors=self._sentence_vectors,
                report=report,
                progress=progress,
                part=self.write_part,
                batch=min(self.store.max_batch(), 4096),
            )
            manifest = replace(manifest, sentences=sentence_file.count())
            if plan.delta and writer.count() != len(plan.delta.own):
                raise RuntimeError(
                    f"the delta {new_gen} holds {writer.count()} chunks, not the "
                    f"{len(plan.delta.own)} it should: nothing was switched; run "
                    "`python -m bot ingest --rebuild` if this repeats"
                )
            if plan.delta:  # first: a delta's catalog is written as its difference from the base
                self.store.write_delta(new_gen, plan.delta)
            self.store.write_catalog(new_gen, {"files": files_after})
            self._write_lexical(new_gen, manifest, plan.delta)
            self.store.write_manifest(new_gen, manifest)
            self.store.commit_generation(new_gen)
        except BaseException:
            self.store.abort_generation(new_gen)
            with self._reader_lock:  # the copy closed the live generation's client: reopen it
                self._reader = None
                self._parts = None
            raise
        report.wrote = True
        report.delta = plan.delta is not None
        self._prune_published(new_gen)
        with self._reader_lock:
            self._reader = None
            self._parts = None

    def _fold(self, plan: Plan, writer) -> None:
        """Copy the live delta's chunk records (with their vectors) into a copy of its base."""
        for ids, texts, metas, vectors in self.store.record_pages(plan.fold[0]):
            if ids:
                writer.upsert(ids=ids, embeddings=vectors, documents=texts, metadatas=metas)
