"""The lexical (BM25) index of one generation: built from its chunks at ingest, saved beside the
generation, and loaded memory-mapped at question time, so that no process rebuilds it and the
processes on one machine share its pages.

A saved index is used only when its stamp matches the chunks it is asked to serve: the format,
the bm25s version, the chunking's question context, and a hash of every chunk's id and lexical
text in order. Anything else (no folder, an index from an older version, another generation's
files) reads as None and the caller builds it in memory, as before.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
from pathlib import Path

import numpy as np
from langchain_core.documents import Document

LEXICAL_FOLDER = "bm25"  # inside a generation's folder
LEXICAL_FORMAT = 1
_STAMP = "stamp.json"  # written last: a folder without it is incomplete
_VOCAB = "vocab.tokenizer.json"
_IDS = "chunk_ids.json"
_DF = "document_frequency.npy"

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


def _stamp(docs: list[Document], question_context: bool) -> dict:
    digest = hashlib.sha256()
    for doc in docs:
        for part in (doc.id or "", lexical_text(doc, question_context)):
            digest.update(part.encode())
            digest.update(b"\0")
    return {
        "format": LEXICAL_FORMAT,
        "bm25s": _bm25s().__version__,
        "question_context": question_context,
        "chunks": len(docs),
        "texts_sha256": digest.hexdigest(),
    }


class LexicalIndex:
    """A bm25s model, its tokenizer, the chunk ids in row order and each stem's chunk count."""

    def __init__(self, model, tokenizer, ids: list[str], df: np.ndarray) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.ids = ids
        self.df = df

    @classmethod
    def build(cls, docs: list[Document], question_context: bool) -> LexicalIndex:
        """Tokenize and index every chunk in memory (row i is docs[i])."""
        tokenizer = _tokenizer()
        ids = tokenizer.tokenize(
            [lexical_text(d, question_context) for d in docs], return_as="ids", show_progress=False
        )
        model = _bm25s().BM25()
        model.index(ids, show_progress=False)
        # Corpus statistics for the question focus: in how many chunks each stem occurs.
        df = np.diff(np.asarray(model.scores["indptr"])) if docs else np.zeros(0, dtype=np.int64)
        return cls(model, tokenizer, [d.id for d in docs], df)

    def save(self, folder: Path, docs: list[Document], question_context: bool) -> None:
        """Write the index into `folder` (replacing what is there), its stamp last."""
        folder = Path(folder)
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        # Built from token ids, the model's vocabulary maps int ids to rows, which JSON cannot key:
        # bm25s reads only its values (and whether "" is a key), so string keys change nothing.
        self.model.vocab_dict = {str(k): v for k, v in self.model.vocab_dict.items()}
        self.model.save(str(folder), show_progress=False)
        self.tokenizer.save_vocab(str(folder), _VOCAB)
        (folder / _IDS).write_text(json.dumps(self.ids), encoding="utf-8")
        np.save(folder / _DF, np.asarray(self.df, dtype=np.int64))
        (folder / _STAMP).write_text(json.dumps(_stamp(docs, question_context)), encoding="utf-8")

    @classmethod
    def load(
        cls, folder: Path | None, docs: list[Document], question_context: bool
    ) -> LexicalIndex | None:
        """The saved index memory-mapped, or None when it is missing or not for these chunks."""
        if folder is None:
            return None
        folder = Path(folder)
        try:
            stamp = json.loads((folder / _STAMP).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if stamp != _stamp(docs, question_context):
            return None
        try:
            ids = json.loads((folder / _IDS).read_text(encoding="utf-8"))
            if ids != [d.id for d in docs]:
                return None
            model = _bm25s().BM25.load(str(folder), mmap=True, show_progress=False)
            tokenizer = _tokenizer()
            tokenizer.load_vocab(str(folder), _VOCAB)
            df = np.load(folder / _DF, mmap_mode="r")
        except (OSError, ValueError, KeyError) as err:
            log.warning("the BM25 index at %s cannot be read (%s)", folder, err)
            return None
        return cls(model, tokenizer, ids, df)


def open_lexical(folder: Path | None, docs: list[Document], question_context: bool) -> LexicalIndex:
    """The generation's saved BM25 index, or one built now (logged) when it has none that fits."""
    saved = LexicalIndex.load(folder, docs, question_context)
    if saved is not None:
        return saved
    if folder is None:  # a Chroma server's generation: nothing is saved locally
        log.info("building the BM25 index of %d chunks in memory", len(docs))
    elif docs:
        log.warning(
            "no saved BM25 index for these %d chunks at %s: building it in memory "
            "(the next ingest that changes the index saves one with it)",
            len(docs),
            folder,
        )
    return LexicalIndex.build(docs, question_context)
