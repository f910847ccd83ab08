"""The BM25 index of a delta generation: only the delta's chunks, scored with its base's corpus
statistics (each stem's document frequency, the number of chunks, their average length), so that
a delta chunk scores what it would score inside the base and the parts' scores can be merged.

A full generation writes those statistics beside its BM25 files (`corpus_stats.json`); a base
without them (an index from an older version) cannot take a delta, and the update writes a full
generation instead, which writes them.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from langchain_core.documents import Document

from vectorstore.lexical import LexicalIndex, _bm25s, _tokenizer, lexical_text

STATS_FILE = "corpus_stats.json"  # in a generation's BM25 folder
_VOCAB = "vocab.tokenizer.json"
_DF = "document_frequency.npy"


def corpus_stats(lexical: LexicalIndex) -> dict:
    """The chunk count and mean token count a just-built BM25 index scored its chunks with."""
    return {"chunks": len(lexical), "avg_len": lexical.avg_len}


def write_stats(folder: Path, stats: dict) -> None:
    """Save the corpus statistics beside a generation's BM25 files."""
    (Path(folder) / STATS_FILE).write_text(json.dumps(stats), encoding="utf-8")


def read_base_stats(folder: Path | None) -> dict | None:
    """A full generation's BM25 statistics with its stem -> document frequency table, or None
    when they were not saved (then no delta can be scored against it)."""
    if folder is None:
        return None
    folder = Path(folder)
    try:
        stats = json.loads((folder / STATS_FILE).read_text(encoding="utf-8"))
        vocab = json.loads((folder / _VOCAB).read_text(encoding="utf-8"))["stem_to_sid"]
        df = np.load(folder / _DF, mmap_mode="r")
    except (OSError, ValueError, KeyError):
        return None
    if stats.get("chunks", 0) <= 0 or stats.get("avg_len", 0) <= 0:
        return None
    return {**stats, "vocab": vocab, "df": df}


def memory_stats(lexical: LexicalIndex | None) -> dict | None:
    """What read_base_stats gives, from a full generation's BM25 built in this process (a
    replica without the published files builds it), or None for one loaded without them."""
    if lexical is None or len(lexical) == 0 or lexical.avg_len <= 0:
        return None
    return {**corpus_stats(lexical), "vocab": lexical.vocab, "df": np.asarray(lexical.df)}


def build_delta(docs: list[Document], question_context: bool, base: dict) -> LexicalIndex:
    """A LexicalIndex over the delta's chunks whose scores use the base's statistics: a stem the
    base holds has the base's document frequency, a new stem its count in the delta (rows in id
    order, as LexicalIndex.build)."""
    docs = sorted(docs, key=lambda d: d.id)
    tokenizer = _tokenizer()
    ids = tokenizer.tokenize(
        [lexical_text(d, question_context) for d in docs], return_as="ids", show_progress=False
    )
    return delta_from_tokens(
        tokenizer, np.array([d.id.encode() for d in docs], dtype=bytes), ids, base
    )


def delta_from_tokens(tokenizer, table: np.ndarray, ids, base: dict) -> LexicalIndex:
    """build_delta over chunks already tokenized (as LexicalIndex.from_tokens takes them)."""
    stems = {sid: stem for stem, sid in tokenizer.get_vocab_dict().items()}
    model = _bm25s().BM25()

    def base_df(token: int) -> int:
        row = base["vocab"].get(stems.get(token, ""))
        return int(base["df"][row]) if row is not None and row < len(base["df"]) else 0

    def build(unique_token_ids, corpus_token_ids, show_progress=True, leave_progress=False):
        return _scores_with(model, unique_token_ids, corpus_token_ids, base, base_df)

    model.build_index_from_ids = build  # the same matrix bm25s builds, with other statistics
    model.index(ids, show_progress=False)
    df = np.diff(np.asarray(model.scores["indptr"])) if len(table) else np.zeros(0, dtype=np.int64)
    return LexicalIndex(model, tokenizer, table, df)


def _scores_with(model, unique_token_ids, corpus_token_ids, base: dict, base_df) -> dict:
    """bm25s's `build_index_from_ids` with the base's N, average length and frequencies."""
    from bm25s import scoring

    own = scoring._calculate_doc_freqs(corpus_token_ids, unique_token_ids, show_progress=False)
    frequencies = {t: (base_df(t) or n) for t, n in own.items()}
    n_docs = max([int(base["chunks"]), *frequencies.values()])
    idf = scoring._build_idf_array(
        frequencies, n_docs, scoring._select_idf_scorer(model.idf_method), dtype=model.dtype
    )
    if model.method in model.methods_requiring_nonoccurrence:
        raise ValueError(f"a delta cannot be scored with BM25 method {model.method!r}")
    model.nonoccurrence_array = None
    flat, doc_idx, vocab_idx = scoring._build_scores_and_indices_for_matrix(
        corpus_token_ids=corpus_token_ids,
        idf_array=idf,
        avg_doc_len=float(base["avg_len"]),
        doc_frequencies=own,
        k1=model.k1,
        b=model.b,
        delta=model.delta,
        nonoccurrence_array=None,
        method=model.method,
        dtype=model.dtype,
        int_dtype=model.int_dtype,
        show_progress=False,
    )
    data, indices, indptr = model._np_csc(
        data=flat, rows=doc_idx, cols=vocab_idx, shape=(len(corpus_token_ids), len(own))
    )
    return {
        "data": data.astype(model.dtype),
        "indices": indices,
        "indptr": indptr,
        "num_docs": len(corpus_token_ids),
    }
