"""A bounded cache in front of the embedder: the same sentences recur across questions.

Sentences of the index already have stored vectors (`known`, the retriever's lookup); only other
texts (questions, a model's sentences) are embedded.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable

from vectorstore.embeddings import Embedder


class CachedEmbedder:
    """Embeds each distinct text once (LRU-bounded); many() embeds the misses in one batch.

    Texts are keyed by what their vector depends on when the embedder says (its token ids), so
    triage's normalised "can i drink alcohol ?" and the question as typed share one vector."""

    def __init__(
        self,
        embedder: Embedder,
        size: int = 8192,
        known: Callable[[str], list[float] | None] | None = None,
    ) -> None:
        self.embedder = embedder
        self.size = size
        self.known = known
        self._cache: OrderedDict[object, list[float]] = OrderedDict()
        self._lock = threading.Lock()
        # Keys some thread is embedding now: another thread asking for one waits for it rather
        # than embedding it too (triage's normalised question and retrieval's, started together).
        self._pending: dict[object, threading.Event] = {}
        self._keyed = callable(getattr(embedder, "token_key", None))

    def _key(self, text: str) -> object:
        key = self.embedder.token_key(text) if self._keyed else None
        return text if key is None else key

    def many(self, texts: list[str]) -> list[list[float]]:
        """Vectors for texts, in order."""
        stored = {t: v for t in dict.fromkeys(texts) if (v := self._stored(t)) is not None}
        if len(stored) == len(set(texts)):
            return [stored[t] for t in texts]
        keys = {t: self._key(t) for t in dict.fromkeys(texts) if t not in stored}
        missing: dict[object, str] = {}  # embedded by this call
        elsewhere: list[threading.Event] = []  # being embedded by another thread
        with self._lock:
            for text, key in keys.items():
                if key in self._cache or key in missing:
                    continue
                if key in self._pending:
                    elsewhere.append(self._pending[key])
                else:
                    missing[key] = text
                    self._pending[key] = threading.Event()
        if missing:
            try:
                vectors = self.embedder.embed(list(missing.values()))
                with self._lock:
                    for key, vector in zip(missing, vectors, strict=True):
                        self._cache[key] = vector
                    while len(self._cache) > self.size:
                        self._cache.popitem(last=False)
            finally:
                with self._lock:
                    for key in missing:
                        self._pending.pop(key).set()
        for event in elsewhere:  # if that thread failed, the key is embedded below
            event.wait()
        with self._lock:
            out = []
            for text in texts:
                if text in stored:
                    out.append(stored[text])
                    continue
                vector = self._cache.get(keys[text])
                if vector is None:  # evicted meanwhile by another thread
                    vector = self.embedder.embed([text])[0]
                else:
                    self._cache.move_to_end(keys[text])
                out.append(vector)
            return out

    def _stored(self, text: str) -> list[float] | None:
        return self.known(text) if self.known else None

    def one(self, text: str) -> list[float]:
        """One text's vector."""
        return self.many([text])[0]
