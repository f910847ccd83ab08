"""A bounded cache in front of the embedder: the same sentences recur across questions."""

from __future__ import annotations

import threading
from collections import OrderedDict

from vectorstore.embeddings import Embedder


class CachedEmbedder:
    """Embeds each distinct text once (LRU-bounded); many() embeds the misses in one batch."""

    def __init__(self, embedder: Embedder, size: int = 8192) -> None:
        self.embedder = embedder
        self.size = size
        self._cache: OrderedDict[str, list[float]] = OrderedDict()
        self._lock = threading.Lock()

    def many(self, texts: list[str]) -> list[list[float]]:
        """Vectors for texts, in order."""
        with self._lock:
            missing = [t for t in dict.fromkeys(texts) if t not in self._cache]
        if missing:
            vectors = self.embedder.embed(missing)
            with self._lock:
                for text, vector in zip(missing, vectors, strict=True):
                    self._cache[text] = vector
                while len(self._cache) > self.size:
                    self._cache.popitem(last=False)
        with self._lock:
            out = []
            for text in texts:
                vector = self._cache.get(text)
                if vector is None:  # evicted meanwhile by another thread
                    vector = self.embedder.embed([text])[0]
                else:
                    self._cache.move_to_end(text)
                out.append(vector)
            return out

    def one(self, text: str) -> list[float]:
        """One text's vector."""
        return self.many([text])[0]
