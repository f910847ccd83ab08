"""Where index generations live: a local persistent Chroma folder per generation."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import threading
import time
from pathlib import Path

from langchain_core.documents import Document

from vectorstore.delta import (
    DELTA_FILE,
    Delta,
    apply_difference,
    catalog_difference,
    delta_json,
    kept_with_bases,
    read_delta,
)
from vectorstore.errors import IndexMissingError
from vectorstore.manifest import Manifest

_GEN_PREFIX = "gen-"
_KEEP = 2  # the live generation and the one before (a running app may still be reading it),
# with the bases of those that are deltas
SENTENCES = "sentences"  # format 2 only: a collection of every chunk's sentences
PARTS = ("",)  # a generation's collections: its chunks
LEGACY_PARTS = (SENTENCES,)  # collections older formats had, dropped with their generation


def _chroma_settings():
    from chromadb.config import Settings

    return Settings(anonymized_telemetry=False, allow_reset=False)


def collection_documents(collection, page: int) -> list[Document]:
    """Every record of a Chroma collection as a Document, fetched `page` at a time, by id."""
    docs, _ = documents_from_pages(record_pages(collection, page, embeddings=False))
    return docs


def documents_from_pages(pages) -> tuple[list[Document], list]:
    """Pages from `record_pages` as Documents sorted by id, with their embeddings in order."""
    rows = [
        (Document(page_content=text, metadata=meta or {}, id=cid), vector)
        for ids, texts, metas, vectors in pages
        for cid, text, meta, vector in zip(ids, texts, metas, vectors, strict=True)
    ]
    rows.sort(key=lambda r: r[0].id)
    return [d for d, _ in rows], [v for _, v in rows]


def record_pages(collection, page: int, *, embeddings: bool = True):
    """(ids, documents, metadatas, embeddings) of every record, `page` at a time, so that a
    large collection is never held twice in memory."""
    include = ["documents", "metadatas", *(["embeddings"] if embeddings else [])]
    offset = 0
    while True:
        got = collection.get(include=include, limit=page, offset=offset)
        vectors = got["embeddings"] if embeddings else [None] * len(got["ids"])
        yield got["ids"], got["documents"], got["metadatas"], vectors
        if len(got["ids"]) < page:
            return
        offset += page


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


class ChromaStore:
    """Generations of a persistent Chroma collection under one folder, switched atomically."""

    def __init__(self, root: Path, collection: str) -> None:
        self.root = Path(root)
        self.collection = collection
        self.hnsw: dict = {}  # HNSW settings of collections created from now on (besides space)
        self._clients: dict[str, object] = {}
        self._clients_lock = threading.RLock()

    def describe(self) -> str:
        """Where the index lives, for messages."""
        return str(self.root)

    # ----- generations -------------------------------------------------------------------
    def current_generation(self) -> str | None:
        """The generation CURRENT points at, if it exists."""
        pointer = self.root / "CURRENT"
        try:
            gen = pointer.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None
        return gen if (self.root / gen / "manifest.json").is_file() else None

    @contextlib.contextmanager
    def lock(self):
        """One writer at a time across processes; a killed writer's unfinished folder is removed."""
        self.root.mkdir(parents=True, exist_ok=True)
        with (self.root / ".lock").open("a") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                # Holding the lock, no other writer can be building: any partial is a dead one's.
                self._drop_partials()
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def begin_generation(self, copy_from: str | None) -> str:
        """A new generation folder: a copy of `copy_from`, or empty."""
        name = f"{_GEN_PREFIX}{time.time_ns()}"
        target = self.root / f".{name}.partial"
        if copy_from:
            source = self.root / copy_from
            self._close(copy_from)
            shutil.copytree(source, target)
        else:
            target.mkdir(parents=True)
        return name

    def _path(self, gen: str) -> Path:
        partial = self.root / f".{gen}.partial"
        return partial if partial.exists() else self.root / gen

    def generation_folder(self, gen: str) -> Path:
        """The folder of a generation's files (its partial folder until it is committed)."""
        return self._path(gen)

    def commit_generation(self, gen: str) -> None:
        """Make `gen` the live generation, then drop generations older than the one before."""
        self._close(gen)
        partial = self.root / f".{gen}.partial"
        os.replace(partial, self.root / gen)
        _atomic_write(self.root / "CURRENT", gen + "\n")
        self._prune(keep=gen)

    def abort_generation(self, gen: str) -> None:
        """Throw away an unfinished generation."""
        self._close(gen)
        shutil.rmtree(self.root / f".{gen}.partial", ignore_errors=True)

    def _prune(self, keep: str) -> None:
        gens = sorted(p.name for p in self.root.glob(f"{_GEN_PREFIX}*") if p.is_dir())
        kept = {keep, *[g for g in gens if g != keep][-(_KEEP - 1) :]}
        kept = kept_with_bases(kept, self.read_delta)
        for old in [g for g in gens if g not in kept]:
            self._close(old)
            shutil.rmtree(self.root / old, ignore_errors=True)
        self._drop_partials()

    def _drop_partials(self) -> None:
        """Remove unfinished generation folders (left by a killed ingest)."""
        for stale in self.root.glob(f".{_GEN_PREFIX}*.partial"):
            gen = stale.name.removeprefix(".").removesuffix(".partial")
            self._close(gen)
            shutil.rmtree(stale, ignore_errors=True)

    # ----- deltas ------------------------------------------------------------------------
    def supports_deltas(self) -> bool:
        """True: a generation here may be a delta over another one (see delta.py)."""
        return True

    def read_delta(self, gen: str) -> Delta | None:
        """The delta record of a generation (its base and the base ids it hides), or None."""
        return read_delta(self._path(gen))

    def write_delta(self, gen: str, delta: Delta) -> None:
        """Mark a generation as a delta over `delta.base`."""
        _atomic_write(self._path(gen) / DELTA_FILE, delta_json(delta))

    # ----- files beside the store ----------------------------------------------------------
    def read_manifest(self, gen: str) -> Manifest:
        """The manifest of a generation."""
        try:
            return Manifest.from_json((self._path(gen) / "manifest.json").read_text("utf-8"))
        except FileNotFoundError:
            raise IndexMissingError(
                f"no index at {self.root}: run `python -m bot ingest` first"
            ) from None

    def write_manifest(self, gen: str, manifest: Manifest) -> None:
        """Write a generation's manifest."""
        _atomic_write(self._path(gen) / "manifest.json", manifest.to_json())

    def read_catalog(self, gen: str) -> dict:
        """Which chunk ids came from which file (and that file's digest)."""
        data = json.loads((self._path(gen) / "catalog.json").read_text("utf-8"))
        if "base" not in data:
            return data
        return apply_difference(self.read_catalog(data["base"])["files"], data)

    def write_catalog(self, gen: str, catalog: dict) -> None:
        """Write a generation's catalog; a delta's holds only the files whose entries differ
        from its base's (written after its delta record), so it grows with the change."""
        delta = self.read_delta(gen)
        if delta is not None:
            base = self.read_catalog(delta.base)["files"]
            catalog = catalog_difference(delta.base, base, catalog["files"])
        _atomic_write(self._path(gen) / "catalog.json", json.dumps(catalog, sort_keys=True))

    # ----- Chroma ------------------------------------------------------------------------
    def _client(self, gen: str):
        with self._clients_lock:  # two threads must not open one folder twice
            if gen not in self._clients:
                import chromadb

                self._clients[gen] = chromadb.PersistentClient(
                    path=str(self._path(gen) / "chroma"), settings=_chroma_settings()
                )
            return self._clients[gen]

    def _close(self, gen: str) -> None:
        client = self._clients.pop(gen, None)
        if client is not None:
            client.close()

    def max_batch(self) -> int:
        """The most items one Chroma call takes."""
        return 5000

    def open_collection(self, gen: str, part: str = ""):
        """The raw Chroma collection of a generation, created if needed (cosine space): its
        chunks, or with part="sentences" their sentences."""
        return self._client(gen).get_or_create_collection(
            f"{self.collection}_{part}" if part else self.collection,
            embedding_function=None,
            configuration={"hnsw": {"space": "cosine", **self.hnsw}},
        )

    def langchain_store(self, gen: str, embedder):
        """A langchain-chroma vector store over a generation's collection."""
        from langchain_chroma import Chroma

        self.open_collection(gen)
        return Chroma(
            client=self._client(gen),
            collection_name=self.collection,
            embedding_function=embedder,
        )

    def all_documents(self, gen: str) -> list[Document]:
        """Every stored chunk, paged through Chroma, sorted by id."""
        return collection_documents(self.open_collection(gen), self.max_batch())

    def record_pages(self, gen: str, part: str = ""):
        """Pages of (ids, documents, metadatas, embeddings) of a generation's records."""
        return record_pages(self.open_collection(gen, part), self.max_batch())
