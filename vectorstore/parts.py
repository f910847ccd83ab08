"""A live generation read as a list of parts: Chroma collections of chunks, each with its BM25.

Today a generation is one part. A later part may replace chunks of an earlier one (a delta over
its base): the reading functions here therefore query every part, drop each part's hidden ids,
and let a chunk id found in a later part win over the same id in an earlier one. Each part is
asked for `k + len(hidden)` results so that hiding never leaves fewer than k.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
from langchain_core.documents import Document

_GET_BATCH = 1000  # ids per Chroma get


@dataclass(frozen=True)
class Part:
    """One Chroma collection of chunks, its lexical index, and the ids the generation hides."""

    collection: Any  # a Chroma collection of chunks (HNSW)
    lexical: Any  # the part's LexicalIndex (BM25 over the part's chunks), or None
    hidden: frozenset[str]  # chunk ids stored in this part that the generation no longer shows


def nearest(parts: list[Part], vectors: list[np.ndarray], k: int) -> set[str]:
    """Candidate chunk ids: each part's HNSW nearest neighbours of each query vector (k per
    vector and part). Only ids: records come by id, mostly from the reader's cache (asking the
    query for documents and metadata costs 3 to 4 times the search)."""
    found: set[str] = set()
    if k <= 0 or not vectors:
        return found
    for part in parts:
        size = len(part.lexical) if part.lexical is not None else part.collection.count()
        n = min(k + len(part.hidden), size)
        if n <= 0:
            continue
        got = part.collection.query(
            query_embeddings=[[float(x) for x in v] for v in vectors], n_results=n, include=[]
        )
        for ids in got["ids"]:
            found.update(i for i in ids if i not in part.hidden)
    return found


def _record(cid: str, text, meta, vector) -> tuple[Document, np.ndarray]:
    doc = Document(page_content=text or "", metadata=dict(meta or {}), id=cid)
    return doc, np.asarray(vector, dtype=np.float32)


def fetch_records(parts: list[Part], ids: Iterable[str]) -> dict[str, tuple[Document, np.ndarray]]:
    """Text, metadata and vector of those chunks, from the last part that shows each one."""
    wanted = list(dict.fromkeys(ids))
    out: dict[str, tuple[Document, np.ndarray]] = {}
    settled: set[str] = set()  # found in a later part, shown or hidden there
    for part in reversed(parts):
        ask = [i for i in wanted if i not in settled]
        for start in range(0, len(ask), _GET_BATCH):
            got = part.collection.get(
                ids=ask[start : start + _GET_BATCH],
                include=["documents", "metadatas", "embeddings"],
            )
            rows = zip(
                got["ids"], got["documents"], got["metadatas"], got["embeddings"], strict=True
            )
            for cid, text, meta, vector in rows:
                settled.add(cid)
                if cid in part.hidden:
                    continue
                out[cid] = _record(cid, text, meta, vector)
        settled.update(i for i in ask if i in part.hidden)
    return out


def lexical_scores(
    parts: list[Part], query: str, k: int, also: Iterable[str] = ()
) -> dict[str, float]:
    """The top-k chunk ids by BM25 with a positive score, plus the scores of the `also` ids."""
    also = list(dict.fromkeys(also))
    merged: dict[str, float] = {}
    for part in parts:  # a later part's score of a chunk replaces an earlier part's
        lexical = part.lexical
        if lexical is None or not len(lexical):
            continue
        scores = lexical.scores(query)
        for cid, row in lexical.rows_of([*merged, *also]).items():
            merged[cid] = float(scores[row])
        for row in lexical.top(query, k + len(part.hidden)):
            merged[lexical.id_of(int(row))] = float(scores[row])
        for cid in part.hidden:
            merged.pop(cid, None)
    ranked = sorted((i for i in merged if merged[i] > 0), key=lambda i: (-merged[i], i))[:k]
    out = {i: merged[i] for i in ranked}
    out.update({i: merged.get(i, 0.0) for i in also if i not in out})
    return out


def document_frequency(parts: list[Part], stem: str) -> int:
    """How many chunks of the parts contain this stem (hidden chunks still count: an estimate)."""
    return sum(p.lexical.document_frequency(stem) for p in parts if p.lexical is not None)


def chunk_count(parts: list[Part]) -> int:
    """How many chunks the parts show."""
    return sum(
        max(0, (len(p.lexical) if p.lexical is not None else p.collection.count()) - len(p.hidden))
        for p in parts
    )
