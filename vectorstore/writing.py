"""The writing half of Index: `sync` and the generation it writes (full or delta), its BM25.

See index.py for the layout and delta.py for when an update is a delta. An ingest reads the
changed files twice, first for ids only, then file by file to embed and write the new chunks in
parts (streamed_write.py), and builds the BM25 index from pages of Chroma (lexical_stream.py), so
that its memory does not grow with the corpus.
"""

from __future__ import annotations

import hashlib
import shutil
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from vectorstore.chunking import Chunk, chunk_page
from vectorstore.convert import copy_chunks, move_sentence_vectors
from vectorstore.corpus import find_files
from vectorstore.delta import Delta, Plan, kept_with_bases, plan_update
from vectorstore.errors import IndexMismatchError
from vectorstore.lexical import LexicalIndex, lexical_stamp
from vectorstore.lexical_delta import corpus_stats, delta_from_tokens, read_base_stats, write_stats
from vectorstore.lexical_stream import tokenized_chunks
from vectorstore.manifest import FORMAT_VERSION, Manifest
from vectorstore.projection import ProjectionSlot
from vectorstore.reading import PUBLISHED
from vectorstore.streamed_write import Changes, new_chunks, scan, write_chunks


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


class IndexWriting:
    """The writing half of Index (attributes are set by Index.__init__)."""

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
        """Drop published BM25 folders of generations older than the one before `keep`, except
        the base of a kept delta (its BM25 and corpus statistics are read with the delta)."""
        root = self.root / PUBLISHED
        if self.store.generation_folder(keep) is not None or not root.is_dir():
            return
        gens = sorted(p.name for p in root.iterdir() if p.is_dir() and p.name != keep)
        kept = kept_with_bases({keep, *gens[-1:]}, self.store.read_delta)
        for old in [g for g in gens if g not in kept]:
            shutil.rmtree(root / old, ignore_errors=True)

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
            self._writing_projection = self._projection_slot(before, rebuild=rebuild)
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

    def _projection_slot(
        self, before: Manifest | None, *, rebuild: bool = False
    ) -> ProjectionSlot | None:
        """What this ingest writes into Chroma: an existing index keeps its vectors' size (asking
        for another one needs --rebuild); a new one gets `dense_dims` (None or 0: full), and a
        rebuild without it the size the index had (its projection fitted again)."""
        if before is None:
            dims = self.dense_dims
            if dims is None and rebuild:
                dims = self._live_dense_dims()
            return ProjectionSlot(dims) if dims else None
        if self.dense_dims is not None and self.dense_dims != before.dense_dims:
            have = before.dense_dims or self.embedder.dimension
            raise IndexMismatchError(
                f"the index at {self.store.describe()} stores {have}-dimension vectors, not "
                f"{self.dense_dims or self.embedder.dimension}: rebuild it to change that "
                "(`python -m bot ingest --rebuild --dense-dims N [PATH ...]`)"
            )
        if not before.dense_dims:
            return None
        if not before.dense_projection:  # a projected index that holds no chunk yet
            return ProjectionSlot(before.dense_dims)
        gen = self.current_generation()
        return ProjectionSlot(before.dense_dims, self._load_projection(gen, before))

    def _live_dense_dims(self) -> int:
        """The stored vectors' size of the index a rebuild replaces (0: full, or unreadable)."""
        try:
            return self.manifest().dense_dims if self.current_generation() else 0
        except Exception:  # a rebuild must work whatever the old index is
            return 0

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
                projection=self._writing_projection,
            )
            manifest = replace(manifest, sentences=sentence_file.count())
            slot = self._writing_projection
            if slot is not None:
                name = ""
                if slot.projection is not None:
                    name = slot.projection.save(self.root)
                    if hasattr(self.store, "write_projection"):  # a server's replicas read it
                        self.store.write_projection(new_gen, slot.projection)
                manifest = replace(manifest, dense_dims=slot.dims, dense_projection=name)
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
