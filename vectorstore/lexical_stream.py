"""A generation's BM25 index built from its chunks paged out of Chroma, never every chunk at once.

The collection's chunk ids are listed first (ids only) and sorted; the chunks are then fetched
by id, a page at a time in that order, and tokenized as they come, so the tokenizer numbers the
vocabulary exactly as LexicalIndex.build does over the same chunks. Each chunk's token ids go
into one int32 array (with row offsets) instead of Python lists (TokenIds), and the score
matrix is written straight into its compressed columns with bm25s's scoring functions, a block
of chunks at a time: the index saved is the one LexicalIndex.build makes through bm25s
(tests/test_streamed_write.py compares the files byte for byte). A delta's index is built by
bm25s itself from TokenIds, read as a list of lists, one chunk's list made when it is read.
"""

from __future__ import annotations

from itertools import chain

import numpy as np
from langchain_core.documents import Document

from vectorstore.lexical import _tokenizer, lexical_text

_BLOCK = 20_000  # chunks scored together when the score matrix is built


class TokenIds(list):
    """Token ids of many chunks in one int32 array; bm25s reads it as a list of lists, and each
    chunk's list is made only when read (a list subclass: bm25s checks for a list)."""

    def __init__(self, flat: np.ndarray, starts: np.ndarray, block: int = _BLOCK) -> None:
        super().__init__()
        self.flat = flat
        self.starts = starts  # row i is flat[starts[i]:starts[i + 1]]
        self.block = block  # chunks scored together by index_into

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

    def _entries(self, lo: int, hi: int, n_vocab: int):
        """(rows, token ids, counts) of the distinct tokens of chunks lo..hi-1, by row then id."""
        tokens = self.flat[self.starts[lo] : self.starts[hi]].astype(np.int64)
        rows = np.repeat(np.arange(lo, hi, dtype=np.int64), self.counts()[lo:hi])
        keys, tf = np.unique(rows * n_vocab + tokens, return_counts=True)
        return keys // n_vocab, keys % n_vocab, tf

    def index_into(self, model) -> None:
        """What `model.index(self)` does, with the score matrix written straight into its
        compressed columns a block of chunks at a time (8 bytes per score, where bm25s holds
        about 36 while it sorts): the same vocabulary, statistics and float32 scores."""
        from bm25s import scoring

        if model.method in model.methods_requiring_nonoccurrence:
            model.index(self, show_progress=False)
            return
        unique = set(np.unique(self.flat).tolist())  # as bm25s's index() makes its vocabulary
        unique.add(0 if 0 not in unique else max(unique) + 1)
        vocab = {token: i for i, token in enumerate(unique)}
        n_vocab, n_docs = len(vocab), len(self)
        lengths = self.counts()
        avg = lengths.mean()
        blocks = [(lo, min(lo + self.block, n_docs)) for lo in range(0, n_docs, self.block)]
        df = np.zeros(n_vocab, dtype=np.int64)
        for lo, hi in blocks:
            df += np.bincount(self._entries(lo, hi, n_vocab)[1], minlength=n_vocab)
        idf = scoring._build_idf_array(
            dict(enumerate(df.tolist())),
            n_docs,
            compute_idf_fn=scoring._select_idf_scorer(model.idf_method),
            dtype=model.dtype,
        )
        tfc = scoring._select_tfc_scorer(model.method)
        indptr = np.zeros(n_vocab + 1, dtype=np.int64)
        np.cumsum(df, out=indptr[1:])
        data = np.empty(int(indptr[-1]), dtype=model.dtype)
        indices = np.empty(int(indptr[-1]), dtype=model.int_dtype)
        fill = indptr[:-1].copy()  # where each column's next score goes: rows stay in order
        for lo, hi in blocks:
            rows, tokens, tf = self._entries(lo, hi, n_vocab)
            scores = idf[tokens] * tfc(
                tf_array=tf.astype(model.dtype),
                l_d=lengths[rows],
                l_avg=avg,
                k1=model.k1,
                b=model.b,
                delta=model.delta,
            )
            order = np.argsort(tokens, kind="stable")
            tokens = tokens[order]
            per_column = np.bincount(tokens, minlength=n_vocab)
            first = np.cumsum(per_column) - per_column
            at = fill[tokens] + np.arange(len(tokens)) - first[tokens]
            data[at] = scores[order]
            indices[at] = rows[order]
            fill += per_column
        model.nonoccurrence_array = None
        model.scores = {"data": data, "indices": indices, "indptr": indptr, "num_docs": n_docs}
        model.vocab_dict = vocab
        model.unique_token_ids_set = set(vocab.values())


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
    return tokenizer, table, TokenIds(np.concatenate(flats), starts, block=min(page, _BLOCK))
