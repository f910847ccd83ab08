"""A generation's BM25 index built from its chunks paged out of Chroma, never every chunk at once.

The collection's chunk ids are listed first (ids only) and sorted; the chunks are then fetched
by id, a page at a time in that order, and tokenized as they come, so the tokenizer numbers the
vocabulary exactly as LexicalIndex.build does over the same chunks. Each chunk's token ids go
into one int32 array (with row offsets) instead of Python lists, and bm25s indexes them through
TokenIds, a list-like view that makes one chunk's list when bm25s reads it: the index saved is
the one LexicalIndex.build makes (tests/test_lexical_stream.py checks it score for score).
"""

from __future__ import annotations

from itertools import chain

import numpy as np
from langchain_core.documents import Document

from vectorstore.lexical import _tokenizer, lexical_text


class TokenIds(list):
    """Token ids of many chunks in one int32 array; bm25s reads it as a list of lists, and each
    chunk's list is made only when read (a list subclass: bm25s checks for a list)."""

    def __init__(self, flat: np.ndarray, starts: np.ndarray) -> None:
        super().__init__()
        self.flat = flat
        self.starts = starts  # row i is flat[starts[i]:starts[i + 1]]

    def __len__(self) -> int:
        return len(self.starts) - 1

    def __getitem__(self, row):
        if isinstance(row, slice):
            return [self[i] for i in range(*row.indices(len(self)))]
        if row < 0:
            row += len(self)
        if not 0 <= row < len(self):
            raise IndexError(row)
        return self.flat[self.starts[row] : self.starts[row + 1]].tolist()

    def __iter__(self):
        return (self[row] for row in range(len(self)))

    def counts(self) -> np.ndarray:
        """How many tokens each chunk has."""
        return np.diff(self.starts)


def chunk_table(collection, page: int) -> np.ndarray:
    """Every chunk id of a collection as sorted bytes, listed `page` ids at a time."""
    pages = []
    offset = 0
    while True:
        got = collection.get(include=[], limit=page, offset=offset)
        if got["ids"]:
            pages.append(np.array([i.encode() for i in got["ids"]], dtype=bytes))
        if len(got["ids"]) < page:
            break
        offset += page
    if not pages:
        return np.array([], dtype=bytes)
    return np.sort(np.concatenate(pages))


def tokenized_chunks(collection, page: int, question_context: bool):
    """(tokenizer, sorted chunk id table, TokenIds) of a collection's chunks, read `page` chunks
    at a time in id order; None for an empty collection."""
    if page < 1:
        raise ValueError(f"page must be 1 or more, not {page}")
    table = chunk_table(collection, page)
    if not len(table):
        return None
    tokenizer = _tokenizer()
    flats, counts = [], []
    for start in range(0, len(table), page):
        ask = [bytes(cid).decode() for cid in table[start : start + page]]
        got = collection.get(ids=ask, include=["documents", "metadatas"])
        pairs = zip(got["documents"], got["metadatas"], strict=True)
        found = dict(zip(got["ids"], pairs, strict=True))
        if len(found) != len(ask):
            raise RuntimeError(
                f"{len(ask) - len(found)} chunks were deleted while their BM25 index was built: "
                "run the ingest again"
            )
        texts = [
            lexical_text(Document(page_content=text, metadata=meta or {}), question_context)
            for text, meta in (found[cid] for cid in ask)
        ]
        rows = tokenizer.tokenize(texts, update_vocab=True, return_as="ids", show_progress=False)
        counts.append(np.array([len(r) for r in rows], dtype=np.int64))
        flats.append(np.fromiter(chain.from_iterable(rows), dtype=np.int32))
    starts = np.zeros(len(table) + 1, dtype=np.int64)
    np.cumsum(np.concatenate(counts), out=starts[1:])
    return tokenizer, table, TokenIds(np.concatenate(flats), starts)
