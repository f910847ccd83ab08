"""Bulk embedding for ingest: one single-threaded ONNX session per core fed from a shared queue,
and a bounded memo so that no text is embedded twice in one ingest.

Every session runs one text at a time (see embeddings.py: int8 activations are scaled per batch,
so only then is a text's vector independent of its neighbours), which makes both the split
between sessions and the reuse of a remembered vector exact.
"""

from __future__ import annotations

import queue
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np

SLICE = 16  # texts a session takes from the queue at a time: small, so sessions finish together
MEMO_TEXTS = 32_768  # vectors a bulk embedder remembers (float32, about 50 MB)


class SessionPool:
    """Encoders that share the work: longest texts first, in slices, to whichever is free."""

    def __init__(self, encoders: Sequence, *, slice_size: int = SLICE) -> None:
        if not encoders:
            raise ValueError("a session pool needs at least one encoder")
        if slice_size < 1:
            raise ValueError(f"slice_size must be at least 1, not {slice_size}")
        self.encoders = list(encoders)
        self.slice_size = slice_size

    def encode(self, texts: list[str], dimension: int) -> np.ndarray:
        """Normalised float32 vectors, one row per text, in the order given."""
        out = np.zeros((len(texts), dimension), dtype=np.float32)
        # Longest first (the usual greedy schedule): the last slices are the shortest, so no
        # session is left with a long tail while the others wait.
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        slices = [order[s : s + self.slice_size] for s in range(0, len(order), self.slice_size)]
        free: queue.SimpleQueue = queue.SimpleQueue()
        for encoder in self.encoders:
            free.put(encoder)

        def run(rows: list[int]) -> None:
            encoder = free.get()
            try:
                out[rows] = encoder.encode([texts[i] for i in rows])
            finally:
                free.put(encoder)

        with ThreadPoolExecutor(len(self.encoders)) as pool:
            list(pool.map(run, slices))  # list(): re-raise the first error
        return out


class Memo:
    """Text -> vector, the most recently used `size` kept (0: remember nothing)."""

    def __init__(self, size: int = MEMO_TEXTS) -> None:
        if size < 0:
            raise ValueError(f"memo size must be at least 0, not {size}")
        self.size = size
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()  # app threads may embed many texts at once

    def __len__(self) -> int:
        return len(self._vectors)

    def get(self, text: str) -> np.ndarray | None:
        """The remembered vector of a text, or None."""
        with self._lock:
            vector = self._vectors.get(text)
            if vector is not None:
                self._vectors.move_to_end(text)
            return vector

    def put(self, text: str, vector: np.ndarray) -> None:
        """Remember a vector, forgetting the least recently used beyond the size."""
        if not self.size:
            return
        with self._lock:
            self._vectors[text] = vector
            self._vectors.move_to_end(text)
            while len(self._vectors) > self.size:
                self._vectors.popitem(last=False)


def embed_distinct(
    texts: list[str], memo: Memo, encode: Callable[[list[str]], np.ndarray]
) -> np.ndarray:
    """Vectors for texts, each distinct text not in the memo encoded once; all remembered."""
    found: dict[str, np.ndarray] = {}
    for text in dict.fromkeys(texts):
        vector = memo.get(text)
        if vector is not None:
            found[text] = vector
    new = [t for t in dict.fromkeys(texts) if t not in found]
    if new:
        # Copies: a remembered row must not keep its whole batch's array alive.
        found.update(zip(new, (row.copy() for row in encode(new)), strict=True))
    for text in dict.fromkeys(texts):
        memo.put(text, found[text])
    return np.stack([found[t] for t in texts]) if texts else np.zeros((0, 0), np.float32)
