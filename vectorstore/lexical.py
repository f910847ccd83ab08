"""The lexical (BM25) index of one generation: built from its chunks at ingest, saved beside the
generation, and loaded memory-mapped at question time, so that no process rebuilds it and the
processes on one machine share its pages.

Rows are the chunks sorted by id; the row -> id table is a memory-mapped array, so an id's row is
a binary search and nothing but the query's hits is read. A saved index is used only when its
stamp matches the generation it is asked to serve (the format, the bm25s version, the chunking's
question context, the generation's corpus hash and chunk count, from its manifest): no chunk text
is read to check it. Anything else (no folder, an older format, another generation's files) reads
as None and the caller builds it in memory from the generation's chunks.
"""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
from langchain_core.documents import Document

LEXICAL_FOLDER = "bm25"  # inside a generation's folder
LEXICAL_FORMAT = 2  # 2: row -> id table as a sorted .npy array, stamp from the manifest
_STAMP = "stamp.json"  # written last: a folder without it is incomplete
_VOCAB = "vocab.tokenizer.json"
_IDS = "chunk_ids.npy"
_DF = "document_frequency.npy"

TOP_SAMPLE_STRIDE = 64  # every 64th score sets the threshold of a top-n (top_rows)

log = logging.getLogger(__name__)


def lexical_text(doc: Document, question_context: bool) -> str:
    """The text BM25 sees: the same words the dense side embedded."""
    meta = doc.metadata
    if not question_context:
        return doc.page_content
    return "\n".join(
        p for p in (meta.get("page_title"), meta.get("heading"), doc.page_content) if p
    )


def _bm25s():
    import bm25s

    # bm25s sets its own logger to DEBUG on import and logs every index build.
    logging.getLogger("bm25s").setLevel(logging.WARNING)
    return bm25s


def _tokenizer():
    import Stemmer

    return _bm25s().tokenization.Tokenizer(stemmer=Stemmer.Stemmer("english"), stopwords="en")


def token_counts(ids) -> np.ndarray:
    """How many tokens each chunk has (ids: a list of lists or lexical_stream.TokenIds)."""
    counts = getattr(ids, "counts", None)
    return counts() if counts is not None else np.array([len(t) for t in ids], dtype=np.int64)


def lexical_stamp(corpus_hash: str, chunks: int, question_context: bool) -> dict:
    """What a saved index must match to serve a generation (its manifest's corpus hash)."""
    return {
        "format": LEXICAL_FORMAT,
        "bm25s": _bm25s().__version__,
        "question_context": question_context,
        "chunks": chunks,
        "corpus_hash": corpus_hash,
    }


class LexicalIndex:
    """A bm25s model, its tokenizer, the chunk ids in row order (sorted) and stem chunk counts."""

    avg_len = 0.0  # mean tokens per chunk, known when built (a delta is scored with it)

    def __init__(self, model, tokenizer, ids: np.ndarray, df: np.ndarray) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.ids = ids  # bytes (S dtype), sorted: row i is ids[i]
        self.df = df
        self.vocab = tokenizer.get_vocab_dict()
        self._last: tuple[str, np.ndarray] | None = None  # retrieval scores one query twice
        self._last_top: tuple[tuple[str, int], np.ndarray] | None = None  # ...and ranks it twice

    @classmethod
    def build(cls, docs: list[Document], question_context: bool) -> LexicalIndex:
        """Tokenize and index every chunk in memory (rows in id order)."""
        docs = sorted(docs, key=lambda d: d.id)
        tokenizer = _tokenizer()
        ids = tokenizer.tokenize(
            [lexical_text(d, question_context) for d in docs], return_as="ids", show_progress=False
        )
        return cls.from_tokens(tokenizer, np.array([d.id.encode() for d in docs], dtype=bytes), ids)

    @classmethod
    def from_tokens(cls, tokenizer, table: np.ndarray, ids) -> LexicalIndex:
        """Index chunks already tokenized by `tokenizer`: `ids[row]` are the token ids of the
        chunk `table[row]` (rows in id order; a list of lists or lexical_stream.TokenIds)."""
        model = _bm25s().BM25()
        if hasattr(ids, "index_into"):  # lexical_stream.TokenIds: the same index, less memory
            ids.index_into(model)
        else:
            model.index(ids, show_progress=False)
        # Corpus statistics for the question focus: in how many chunks each stem occurs.
        empty = not len(table)
        df = np.zeros(0, dtype=np.int64) if empty else np.diff(np.asarray(model.scores["indptr"]))
        built = cls(model, tokenizer, table, df)
        built.avg_len = 0.0 if empty else float(np.mean(token_counts(ids)))
        return built

    def __len__(self) -> int:
        return len(self.ids)

    def save(self, folder: Path, stamp: dict) -> None:
        """Write the index into `folder` (replacing what is there), its stamp last."""
        folder = Path(folder)
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        # Built from token ids, the model's vocabulary maps int ids to rows, which JSON cannot key:
        # bm25s reads only its values (and whether "" is a key), so string keys change nothing.
        self.model.vocab_dict = {str(k): v for k, v in self.model.vocab_dict.items()}
        self.model.save(str(folder), show_progress=False)
        self.tokenizer.save_vocab(str(folder), _VOCAB)
        np.save(folder / _IDS, self.ids)
        np.save(folder / _DF, np.asarray(self.df, dtype=np.int64))
        (folder / _STAMP).write_text(json.dumps(stamp), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path | None, stamp: dict) -> LexicalIndex | None:
        """The saved index memory-mapped, or None when it is missing or not for this stamp."""
        if folder is None:
            return None
        folder = Path(folder)
        try:
            found = json.loads((folder / _STAMP).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if found != stamp:
            return None
        try:
            ids = np.load(folder / _IDS, mmap_mode="r")
            model = _bm25s().BM25.load(str(folder), mmap=True, show_progress=False)
            tokenizer = _tokenizer()
            tokenizer.load_vocab(str(folder), _VOCAB)
            df = np.load(folder / _DF, mmap_mode="r")
        except (OSError, ValueError, KeyError) as err:
            log.warning("the BM25 index at %s cannot be read (%s)", folder, err)
            return None
        return cls(model, tokenizer, ids, df)

    # ----- scoring -------------------------------------------------------------------------
    def document_frequency(self, stem: str) -> int:
        """How many chunks contain this Snowball stem (0 for a word the corpus lacks)."""
        token = self.vocab.get(stem)
        return int(self.df[token]) if token is not None and token < len(self.df) else 0

    def _query_ids(self, query: str) -> list[int]:
        ids = self.tokenizer.tokenize(
            [query], update_vocab=False, return_as="ids", show_progress=False
        )
        return list(ids[0]) if len(self.ids) else []

    def scores(self, query: str) -> np.ndarray:
        """The BM25 score of every row (zeros when no query word is indexed). The last query's
        scores are kept: retrieval asks for the same query's again once the dense ids are known
        (one tuple, replaced whole, so threads never see half of it; the array is read-only)."""
        last = self._last
        if last is not None and last[0] == query:
            return last[1]
        ids = self._query_ids(query)
        if not any(ids):
            scores = np.zeros(len(self.ids), dtype=np.float32)
        else:
            scores = np.asarray(self.model.get_scores_from_ids(ids), dtype=np.float32)
        scores.flags.writeable = False
        self._last = (query, scores)
        return scores

    def top(self, query: str, n: int) -> np.ndarray:
        """The rows of the query's n best positive scores (ties with the n-th included); the
        last query's are kept, as its scores are."""
        scores = self.scores(query)
        last = self._last_top
        if last is not None and last[0] == (query, n):
            return last[1]
        rows = top_rows(scores, n)
        rows.flags.writeable = False
        self._last_top = ((query, n), rows)
        return rows

    def rows_of(self, ids: Iterable[str]) -> dict[str, int]:
        """The rows of those chunk ids this index holds."""
        wanted = list(dict.fromkeys(ids))
        if not wanted or not len(self.ids):
            return {}
        keys = np.array([i.encode() for i in wanted], dtype=bytes)
        at = np.searchsorted(self.ids, keys)
        out = {}
        for cid, key, row in zip(wanted, keys, at, strict=True):
            if row < len(self.ids) and self.ids[row] == key:
                out[cid] = int(row)
        return out

    def id_of(self, row: int) -> str:
        """The chunk id of a row."""
        return bytes(self.ids[row]).decode()


def top_rows(scores: np.ndarray, n: int, stride: int = TOP_SAMPLE_STRIDE) -> np.ndarray:
    """The rows of the n highest positive scores, and of any score tied with the n-th, in no
    order. Exact, without a partition of every row: every `stride`-th score gives a threshold
    that about 2n rows reach; the rows at or above it hold the top n whenever there are n of
    them (else every positive row is taken), and only those are partitioned (1M rows: 0.4 ms
    against 17 ms for np.argpartition of them all)."""
    if n <= 0 or not len(scores):
        return np.zeros(0, dtype=np.int64)
    rows = None
    sample = scores[::stride]
    if len(sample) > n:  # else the sample is no cheaper than the scores themselves
        reach = min(len(sample), 2 * n // stride + 8)
        threshold = np.partition(sample, len(sample) - reach)[len(sample) - reach]
        if threshold > 0:
            rows = np.flatnonzero(scores >= threshold)
            if len(rows) < n:
                rows = None
    if rows is None:
        rows = np.flatnonzero(scores > 0)
    if len(rows) > n:
        kept = scores[rows]
        nth = np.partition(kept, len(kept) - n)[len(kept) - n]
        rows = rows[kept >= nth]
    return rows


def open_lexical(
    folder: Path | None, stamp: dict, documents: Callable[[], list[Document]]
) -> LexicalIndex:
    """The generation's saved BM25 index, or one built now from `documents()` (logged)."""
    saved = LexicalIndex.load(folder, stamp)
    if saved is not None:
        return saved
    docs = documents()
    if folder is None:
        log.info("building the BM25 index of %d chunks in memory", len(docs))
    elif docs:
        log.warning(
            "no saved BM25 index for these %d chunks at %s: building it in memory "
            "(the next ingest that changes the index saves one with it)",
            len(docs),
            folder,
        )
    return LexicalIndex.build(docs, stamp["question_context"])
