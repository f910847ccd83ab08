"""The persistent Chroma index of answer chunks, kept in sync with the files on disk.

Layout under `<data_dir>/index/`: `CURRENT` names the live generation folder; each generation
holds a Chroma store, `manifest.json`, `catalog.json` (which chunk ids came from which file) and
`bm25/`, the generation's BM25 index (see lexical.py), written before the generation goes live.
A generation has two collections: the chunks (what search returns) and, apart so that they never
slow or crowd Chroma's own search, each chunk's sentences (`chunk_id` naming their chunk), each
embedded on its own.
An ingest that changes anything writes a new generation and only then points `CURRENT` at it,
so a failed or killed ingest leaves the previous index untouched and queryable. A small change is
written as a delta over the live generation's base (see delta.py: only the changed chunks, no
copy of the index); a large one, or one that would grow the delta past `delta_share` of its
base, as a full generation (a copy of the live one, then the changes).
"""

from __future__ import annotations

import hashlib
import shutil
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
from langchain_core.documents import Document

from vectorstore.chunking import MAX_WORDS, Chunk, chunk_page
from vectorstore.corpus import file_digest, find_files, kind_of, read_file
from vectorstore.delta import DELTA_SHARE, Plan, plan_update
from vectorstore.embeddings import Embedder
from vectorstore.errors import IndexMismatchError, IndexMissingError, InputFileError
from vectorstore.lexical import LEXICAL_FOLDER, LexicalIndex
from vectorstore.lexical_delta import build_delta, corpus_stats, read_base_stats, write_stats
from vectorstore.manifest import FORMAT_VERSION, Manifest
from vectorstore.store import SENTENCES, ChromaStore, documents_from_pages

COLLECTION = "answers"
SEEN_SENTENCES = 50_000  # distinct sentence vectors an ingest keeps to reuse (about 77 MB)


@dataclass
class SyncReport:
    """What an ingest did, counted in answers (and chunks embedded)."""

    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    embedded: int = 0  # chunks
    sentences: int = 0  # sentence records embedded with them
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


def under(path: str, roots: list[Path]) -> bool:
    """True when the path is one of the roots or inside one of them."""
    p = Path(path)
    return any(p == r or r in p.parents for r in roots)


class Index:
    """Answer chunks in Chroma: sync from files, search, list; one writer at a time."""

    def __init__(
        self,
        data_dir: Path,
        *,
        embedder: Embedder | None = None,
        store: ChromaStore | None = None,
        question_context: bool = True,
        max_words: int = MAX_WORDS,
        delta_share: float = DELTA_SHARE,
    ) -> None:
        if not 0 <= delta_share <= 1:
            raise ValueError(f"delta_share must be between 0 and 1, not {delta_share!r}")
        self.root = Path(data_dir) / "index"
        self.delta_share = delta_share
        self.embedder = embedder or Embedder()
        self.store = store or ChromaStore(self.root, COLLECTION)
        self.question_context = question_context
        self.max_words = max_words
        self._reader = None
        self._reader_generation: str | None = None
        self._chunk_collection = None
        self._chunk_generation: str | None = None
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
        """Refuse an index built with another embedder, format or chunking; say how to rebuild."""
        if self.current_generation() is None:
            return None
        manifest = self.manifest()
        expected = self._expected()
        keys = expected if for_writing else ("format_version", "embedding_model", "dimension")
        diffs = [
            f"{k}: index has {getattr(manifest, k)!r}, this bot uses {expected[k]!r}"
            for k in keys
            if getattr(manifest, k) != expected[k]
        ]
        if diffs:
            raise IndexMismatchError(
                f"the index at {self.store.describe()} was built differently ("
                + "; ".join(diffs)
                + "). Rebuild it: `python -m bot ingest --rebuild [PATH ...]`"
            )
        return manifest

    # ----- reading -----------------------------------------------------------------------
    def vectorstore(self):
        """A LangChain Chroma vector store on the live generation (reopened if it changed)."""
        gen = self.current_generation()
        if gen is None:
            self.manifest()  # raises IndexMissingError with the message
        with self._reader_lock:
            if self._reader is None or gen != self._reader_generation:
                self.check_compatible()
                self._reader = self.store.langchain_store(gen, self.embedder)
                self._reader_generation = gen
            return self._reader

    def search(self, query: str, k: int = 5) -> list[tuple[Document, float]]:
        """Dense search: the k nearest chunks with cosine similarity (higher is closer)."""
        return self.search_by_vector(self.embedder.embed_query(query), k)

    def _chunks(self):
        """The raw Chroma collection of the live generation's chunks (reopened if it changed).

        Searching it directly, not through langchain-chroma, keeps `python -m bot search` from
        importing LangChain's vector store layer (about a second of start-up)."""
        gen = self.current_generation()
        if gen is None:
            self.manifest()  # raises IndexMissingError with the message
        with self._reader_lock:
            if self._chunk_collection is None or gen != self._chunk_generation:
                self.check_compatible()
                self._chunk_collection = self.store.open_collection(gen)
                self._chunk_generation = gen
            return self._chunk_collection

    def search_by_vector(self, vector: list[float], k: int) -> list[tuple[Document, float]]:
        """Dense search with a precomputed query vector (chunks only)."""
        got = self._chunks().query(
            query_embeddings=[[float(x) for x in vector]],
            n_results=k,
            include=["documents", "metadatas", "distances"],
        )
        rows = zip(
            got["ids"][0],
            got["documents"][0],
            got["metadatas"][0],
            got["distances"][0],
            strict=True,
        )
        return [
            (Document(page_content=text or "", metadata=dict(meta or {}), id=cid), 1.0 - float(d))
            for cid, text, meta, d in rows
        ]

    def _generation(self) -> str:
        self.vectorstore()
        with self._reader_lock:
            return self._reader_generation

    def documents(self) -> list[Document]:
        """Every chunk as a LangChain Document (id set), in id order."""
        return self.store.all_documents(self._generation())

    def sentences(self) -> tuple[list[Document], list]:
        """Every sentence record (metadata `chunk_id`, `position`) and its vector, in id order."""
        return documents_from_pages(self.sentence_pages())

    def sentence_pages(self):
        """The sentence records a page at a time: (ids, texts, metadatas, vectors) tuples."""
        return self.store.record_pages(self._generation(), SENTENCES)

    def lexical_folder(self, gen: str | None) -> Path | None:
        """Where a generation's BM25 index is saved (None where the store keeps no local files)."""
        folder = self.store.generation_folder(gen) if gen else None
        return folder / LEXICAL_FOLDER if folder is not None else None

    def _write_lexical(self, gen: str, base: str | None = None) -> None:
        """Save the BM25 index of a generation's own chunks: with its corpus statistics for a
        full generation, scored with the statistics of `base` for a delta."""
        folder = self.lexical_folder(gen)
        if folder is None:
            return
        docs = self.store.all_documents(gen)
        shutil.rmtree(folder, ignore_errors=True)  # the copy of the previous generation's
        if not docs:  # bm25s cannot index nothing; an empty index is built at question time
            return
        if base is not None:
            lexical = build_delta(docs, self.question_context, self._base_stats(base))
            lexical.save(folder, docs, self.question_context)
            return
        LexicalIndex.build(docs, self.question_context).save(folder, docs, self.question_context)
        write_stats(folder, corpus_stats(docs, self.question_context))

    def _base_stats(self, gen: str) -> dict | None:
        """The BM25 corpus statistics a full generation saved (None: it can take no delta)."""
        return read_base_stats(self.lexical_folder(gen))

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
            if not rebuild:
                self.check_compatible(for_writing=True)
            gen = None if rebuild else self.current_generation()
            catalog = self.store.read_catalog(gen) if gen else {"files": {}}
            files, problems = find_files(roots)
            report.errors.extend(problems)
            report.files = len(files)
            new_files: dict[str, dict] = {}
            to_add: list[Chunk] = []
            to_remove: set[str] = set()
            owners = {
                aid: key for key, entry in catalog["files"].items() for aid in entry["answers"]
            }
            for path in files:
                key = str(path.resolve())
                old = catalog["files"].get(key)
                digest = file_digest(path)
                if old and old["digest"] == digest and old.get("kind") == kind_of(path):
                    report.unchanged += len(old["answers"])
                    continue
                try:
                    read = read_file(path)
                except InputFileError as err:
                    report.errors.append(str(err))
                    continue
                except OSError as err:
                    report.errors.append(f"{path}: cannot be read ({err.strerror})")
                    continue
                report.errors.extend(read.errors)
                for page in read.pages:
                    report.warnings.extend(page.warnings)
                    report.notes.extend(page.notes)
                answers: dict[str, list[str]] = {}
                chunks_by_id: dict[str, Chunk] = {}
                clash = None
                for page in read.pages:
                    for chunk in chunk_page(
                        page, question_context=self.question_context, max_words=self.max_words
                    ):
                        aid = chunk.metadata["answer_id"]
                        if owners.get(aid, key) != key:
                            clash = (page.id, owners[aid])
                        answers.setdefault(aid, []).append(chunk.id)
                        chunks_by_id[chunk.id] = chunk
                if clash:
                    report.errors.append(
                        f"{path}: page id {clash[0]!r} is already indexed from {clash[1]}; "
                        "page ids come from file names and must be unique: rename one file"
                    )
                    continue
                old_answers = old["answers"] if old else {}
                for aid, ids in answers.items():
                    before = old_answers.get(aid)
                    if before is None:
                        report.added += 1
                    elif before == ids:
                        report.unchanged += 1
                        continue
                    else:
                        report.updated += 1
                        to_remove.update(set(before) - set(ids))
                    to_add.extend(chunks_by_id[i] for i in ids if not before or i not in before)
                for aid, ids in old_answers.items():
                    if aid not in answers:
                        report.removed += 1
                        to_remove.update(ids)
                new_files[key] = {"digest": digest, "kind": kind_of(path), "answers": answers}
            seen = {str(p.resolve()) for p in files}
            for key, entry in catalog["files"].items():
                inside = under(key, roots)
                if key not in seen and (
                    (prune and not inside) or (inside and not Path(key).exists())
                ):
                    report.removed += len(entry["answers"])
                    to_remove.update(i for ids in entry["answers"].values() for i in ids)
                    new_files[key] = None
            if to_add or to_remove or new_files or rebuild:
                files_after = {**catalog["files"], **new_files}
                files_after = {k: v for k, v in files_after.items() if v is not None}
                self._write_generation(gen, files_after, to_add, to_remove, report, progress)
        report.seconds = time.perf_counter() - started
        return report

    def _sentence_vectors(self, texts: list[str], seen: dict[str, np.ndarray]) -> list:
        """Vectors for sentences, each distinct text embedded once per ingest (at batch size 1 a
        text's vector does not depend on its neighbours, so reuse is exact)."""
        new = [t for t in dict.fromkeys(texts) if t not in seen]
        if len(seen) + len(new) > SEEN_SENTENCES:
            seen.clear()  # bounded memory: repeats are mostly close together in a corpus
            new = list(dict.fromkeys(texts))  # what was seen is gone: every text is new again
        vectors = np.asarray(self.embedder.embed(new), dtype=np.float32).reshape(len(new), -1)
        seen.update(zip(new, vectors, strict=True))
        return [seen[t] for t in texts]

    def _write_generation(self, gen, files_after, to_add, to_remove, report, progress) -> None:
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
        plan = plan_update(
            self.store,
            gen,
            files_after,
            share=self.delta_share,
            can_base=lambda g: self._base_stats(g) is not None,
        )
        to_add = [c for c in to_add if c.id not in plan.skip]  # the base still shows these
        new_gen = self.store.begin_generation(copy_from=plan.copy_from)
        try:
            writer = self.store.open_collection(new_gen)
            sentence_writer = self.store.open_collection(new_gen, SENTENCES)
            if plan.fold:
                self._fold(plan, new_gen)
            removed = sorted(to_remove | (plan.fold[1].hidden if plan.fold else set()))
            for start in range(0, len(removed), 500):  # each chunk with its sentences
                part = removed[start : start + 500]
                writer.delete(ids=part)
                sentence_writer.delete(where={"chunk_id": {"$in": part}})
            if to_add:
                done = 0
                batch = min(self.store.max_batch(), 4096)
                seen: dict[str, np.ndarray] = {}  # a sentence found in many answers: embed once
                for start in range(0, len(to_add), 512):
                    part = to_add[start : start + 512]
                    sentences = [s for c in part for s in c.sentences()]
                    vectors = self.embedder.embed([c.embed_text for c in part])
                    sentence_vectors = self._sentence_vectors([s.text for s in sentences], seen)
                    for target, records, embeddings in (
                        (writer, part, vectors),
                        (sentence_writer, sentences, sentence_vectors),
                    ):
                        for at in range(0, len(records), batch):
                            target.upsert(
                                ids=[r.id for r in records[at : at + batch]],
                                embeddings=embeddings[at : at + batch],
                                documents=[r.text for r in records[at : at + batch]],
                                metadatas=[r.metadata for r in records[at : at + batch]],
                            )
                    done += len(part)
                    report.embedded += len(part)
                    report.sentences += len(sentences)
                    if progress:
                        progress(done, len(to_add))
            manifest = replace(manifest, sentences=sentence_writer.count())
            self.store.write_catalog(new_gen, {"files": files_after})
            if plan.delta:
                self.store.write_delta(new_gen, plan.delta)
            self._write_lexical(new_gen, plan.delta.base if plan.delta else None)
            self.store.write_manifest(new_gen, manifest)
            self.store.commit_generation(new_gen)
        except BaseException:
            self.store.abort_generation(new_gen)
            raise
        report.wrote = True
        report.delta = plan.delta is not None
        self._reader = None
        self._chunk_collection = None

    def _fold(self, plan: Plan, new_gen: str) -> None:
        """Copy the live delta's records (with their vectors) into a copy of its base."""
        delta_gen = plan.fold[0]
        for part in ("", SENTENCES):
            target = self.store.open_collection(new_gen, part)
            for ids, texts, metas, vectors in self.store.record_pages(delta_gen, part):
                if ids:
                    target.upsert(ids=ids, embeddings=vectors, documents=texts, metadatas=metas)
