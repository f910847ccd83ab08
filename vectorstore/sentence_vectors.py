"""Sentence vectors by text: one SQLite file beside the generations, shared by all of them.

A sentence's vector depends only on its text and the embedding model (which the manifest pins),
so vectors are stored content-addressed (a hash of the text) and never copied between
generations: an ingest adds the vectors of sentences it has not seen before, a reader fetches
the vectors of the sentences it needs (its candidate chunks'), and nothing loads every vector.
Vectors are stored as float16 (half the disk; cosine to the float32 vector above 0.99999).
Rows are never deleted by an ingest, so a reader of an older generation always finds its
sentences; a vector nobody needs any more costs only disk.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Iterable
from pathlib import Path

import numpy as np

SENTENCE_VECTORS_FILE = "sentence_vectors.sqlite3"
CACHE_VECTORS = 50_000  # vectors a reader keeps in memory (about 77 MB: float32, 384 dims)
_QUERY_BATCH = 500  # keys per SELECT (SQLite's variable limit is 32,766)


def text_key(text: str) -> bytes:
    """The 16-byte key of a sentence text."""
    return hashlib.sha256(text.encode("utf-8")).digest()[:16]


class SentenceVectors:
    """Content-addressed sentence vectors in SQLite, with a bounded in-memory LRU cache."""

    def __init__(
        self, path: Path, model_id: str, dimension: int, *, cache_size: int = CACHE_VECTORS
    ) -> None:
        if cache_size < 0:
            raise ValueError(f"cache_size must be 0 or more, not {cache_size}")
        self.path = Path(path)
        self.model_id = model_id
        self.dimension = dimension
        self.cache_size = cache_size
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        self._usable = True

    # ----- connection --------------------------------------------------------------------
    def _connect(self, *, create: bool) -> sqlite3.Connection | None:
        if self._db is not None:
            return self._db
        if not create and not self.path.exists():
            return None
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, check_same_thread=False, timeout=60)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)")
        db.execute(
            "CREATE TABLE IF NOT EXISTS vectors (key BLOB PRIMARY KEY, vector BLOB NOT NULL)"
        )
        stamp = {"model": self.model_id, "dimension": str(self.dimension)}
        found = dict(db.execute("SELECT name, value FROM meta").fetchall())
        if found and found != stamp:
            if not create:  # a reader never changes the file: it finds nothing in it
                self._usable = False
            else:  # the writer rebuilds for another model: the old vectors are wrong now
                with db:
                    db.execute("DELETE FROM vectors")
                    db.execute("DELETE FROM meta")
                found = {}
        if not found and create:
            with db:
                db.executemany("INSERT INTO meta VALUES (?, ?)", stamp.items())
        self._db = db
        return db

    def close(self) -> None:
        """Close the file (the cache stays)."""
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    # ----- reading -----------------------------------------------------------------------
    def _fetch(self, db: sqlite3.Connection, texts: list[str]) -> dict[str, np.ndarray]:
        by_key = {text_key(t): t for t in texts}
        keys = list(by_key)
        out: dict[str, np.ndarray] = {}
        for start in range(0, len(keys), _QUERY_BATCH):
            part = keys[start : start + _QUERY_BATCH]
            marks = ",".join("?" * len(part))
            rows = db.execute(f"SELECT key, vector FROM vectors WHERE key IN ({marks})", part)
            for key, blob in rows:
                vector = np.frombuffer(blob, dtype=np.float16).astype(np.float32)
                if vector.shape[0] == self.dimension:
                    out[by_key[key]] = vector
        return out

    def get_many(self, texts: Iterable[str]) -> dict[str, np.ndarray]:
        """The stored vectors of these texts (float32); texts without one are left out."""
        wanted = list(dict.fromkeys(texts))
        with self._lock:
            out = {t: self._cache[t] for t in wanted if t in self._cache}
            for t in out:
                self._cache.move_to_end(t)
            rest = [t for t in wanted if t not in out]
            db = self._connect(create=False) if rest else None
            if db is None or not self._usable:
                return out
            found = self._fetch(db, rest)
            out.update(found)
            for text, vector in found.items():
                self._remember(text, vector)
            return out

    def _remember(self, text: str, vector: np.ndarray) -> None:
        if self.cache_size == 0:
            return
        self._cache[text] = vector
        self._cache.move_to_end(text)
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)

    def cached(self) -> int:
        """How many vectors the cache holds now."""
        return len(self._cache)

    def count(self) -> int:
        """How many vectors the file holds."""
        with self._lock:
            db = self._connect(create=False)
            if db is None or not self._usable:
                return 0
            return int(db.execute("SELECT count(*) FROM vectors").fetchone()[0])

    # ----- writing -----------------------------------------------------------------------
    def missing(self, texts: Iterable[str]) -> list[str]:
        """The distinct texts (in first-seen order) that have no stored vector yet."""
        wanted = list(dict.fromkeys(texts))
        with self._lock:
            db = self._connect(create=True)
            have: set[bytes] = set()
            keys = [text_key(t) for t in wanted]
            for start in range(0, len(keys), _QUERY_BATCH):
                part = keys[start : start + _QUERY_BATCH]
                marks = ",".join("?" * len(part))
                have.update(
                    k
                    for (k,) in db.execute(f"SELECT key FROM vectors WHERE key IN ({marks})", part)
                )
            return [t for t, k in zip(wanted, keys, strict=True) if k not in have]

    def put_many(self, texts: list[str], vectors) -> None:
        """Store vectors for texts in one transaction (an existing text keeps its vector)."""
        matrix = np.asarray(vectors, dtype=np.float32).reshape(len(texts), -1)
        if len(texts) and matrix.shape[1] != self.dimension:
            raise ValueError(
                f"sentence vectors have {matrix.shape[1]} dimensions, the index {self.dimension}"
            )
        rows = [(text_key(t), matrix[i].astype(np.float16).tobytes()) for i, t in enumerate(texts)]
        with self._lock:
            db = self._connect(create=True)
            with db:
                db.executemany("INSERT OR IGNORE INTO vectors VALUES (?, ?)", rows)
