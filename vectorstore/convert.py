"""Converting an index of an older format in place of re-embedding it.

Format 2 kept every chunk's sentences as records with their own vectors in a second Chroma
collection of each generation. Format 3 keeps those vectors by text in the sentence vector file
(sentence_vectors.py); an ingest on a format-2 index reads the old collection a page at a time
into the file and writes a format-3 generation whose chunk collection is a fresh copy of the old
one's records with their stored vectors (built with today's HNSW settings): nothing is embedded
again.
"""

from __future__ import annotations

from vectorstore.sentence_vectors import SentenceVectors
from vectorstore.sentences import sentence_spans
from vectorstore.store import SENTENCES


def move_sentence_vectors(store, gen: str, target: SentenceVectors) -> int:
    """Copy the stored sentence vectors of a format-2 generation into `target`; how many."""
    moved = 0
    for _, texts, _, vectors in store.record_pages(gen, SENTENCES):
        pairs = dict(zip(texts, vectors, strict=True))  # one text in many chunks: once
        new = target.missing(pairs)
        if new:
            target.put_many(new, [pairs[t] for t in new])
        moved += len(new)
    return moved


def _with_spans(metadata: dict | None, text: str) -> dict:
    """A format-2 chunk's metadata with its sentence spans, as format 3 stores them."""
    meta = dict(metadata or {})
    spans = sentence_spans(text or "")
    if spans and "sentence_spans" not in meta:
        meta["sentence_spans"] = spans
    return meta


def copy_chunks(store, gen: str, target) -> int:
    """Add the chunk records of generation `gen` (with their vectors) to `target`; how many."""
    copied = 0
    for ids, texts, metadatas, vectors in store.record_pages(gen):
        metadatas = [_with_spans(m, t) for m, t in zip(metadatas, texts, strict=True)]
        if ids:
            target.add(ids=ids, embeddings=vectors, documents=texts, metadatas=metadatas)
        copied += len(ids)
    return copied
