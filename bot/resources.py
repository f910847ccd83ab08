"""Build the heavy shared parts (embedder, index) from Settings, once per process."""

from __future__ import annotations

import functools

from bot.settings import Settings
from vectorstore.breaker import CircuitBreaker
from vectorstore.embeddings import Embedder
from vectorstore.index import COLLECTION, Index
from vectorstore.server_store import FAILURES, ChromaServerStore


@functools.lru_cache(maxsize=1)
def shared_embedder() -> Embedder:
    """The one embedding model of this process (loaded on first use)."""
    return Embedder()


def open_index(settings: Settings, *, embedder: Embedder | None = None, **options) -> Index:
    """The index the settings point at: on the Chroma server if one is set, else under data_dir."""
    if settings.chroma_host and "store" not in options:
        options["store"] = ChromaServerStore(
            settings.chroma_host,
            settings.chroma_port,
            COLLECTION,
            connect_timeout=settings.chroma_connect_timeout,
            timeout=settings.chroma_timeout,
            breaker=CircuitBreaker(FAILURES, settings.chroma_cooldown),
        )
    options.setdefault("ef_search", settings.ef_search)
    options.setdefault("ef_construction", settings.ef_construction)
    options.setdefault("max_neighbors", settings.max_neighbors)
    options.setdefault("delta_share", settings.delta_share)
    return Index(settings.data_dir, embedder=embedder or shared_embedder(), **options)
