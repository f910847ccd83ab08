"""An ingest in two passes with parts forced small writes what a one-part ingest writes, and the
BM25 index built from chunks paged out of Chroma is the one LexicalIndex.build makes."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import ROOT, SEEDS
from vectorstore.errors import InputChangedError
from vectorstore.index import Index
from vectorstore.lexical import LexicalIndex, lexical_stamp
from vectorstore.lexical_delta import build_delta, read_base_stats
from vectorstore.lexical_stream import TokenIds, tokenized_chunks
from vectorstore.store import collection_documents

PAGES = ROOT / "tests" / "data" / "pages"
QUERIES = [
    "How long does Botox last?",
    "lip filler swelling",
    "chemical peel redness",
    "sleep hygiene at night",
    "zzzunknownword",
]


def _write(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


def _rows(prefix: str, n: int, words: str = "sleep hygiene helps") -> list[dict]:
    return [
        {
            "id": f"{prefix}{i}",
            "question": f"Question {i} about {words}?",
            "answer": f"Answer {i} of {prefix}: {words}. Rest well {i} nights a week. "
            * (1 + i % 3),
        }
        for i in range(n)
    ]


def _records(index: Index) -> list[tuple]:
    return [
        (d.id, d.page_content, json.dumps(d.metadata, sort_keys=True)) for d in index.documents()
    ]


def _bm25_files(index: Index) -> dict[str, bytes]:
    folder = index.lexical_folder(index.current_generation())
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def _sentence_rows(index: Index) -> list[tuple]:
    path = next(index.root.glob("sentence_vectors.sqlite3"))
    with sqlite3.connect(path) as db:
        return sorted(db.execute("SELECT key, vector FROM vectors").fetchall())


def _report(report) -> dict:
    return {k: v for k, v in vars(report).items() if k != "seconds"}


@pytest.fixture
def corpus(tmp_path) -> Path:
    src = tmp_path / "src"
    _write(src / "a.jsonl", _rows("a", 7))
    _write(src / "b.jsonl", _rows("b", 5, "lip filler swelling"))
    return src


def test_parts_of_two_write_what_one_part_writes(tmp_path, embedder, corpus):
    small = Index(tmp_path / "small", embedder=embedder, write_part=2, read_page=3, delta_share=0.5)
    whole = Index(tmp_path / "whole", embedder=embedder, delta_share=0.5)
    seen: list[tuple[int, int]] = []
    first = small.sync(
        [SEEDS, PAGES, corpus], progress=lambda done, total: seen.append((done, total))
    )
    assert _report(first) == _report(whole.sync([SEEDS, PAGES, corpus]))
    total = first.embedded
    assert total >= 30 and first.ok
    assert seen == [(min(n, total), total) for n in range(2, total + 2, 2)]  # parts of 2
    assert _records(small) == _records(whole)
    assert _bm25_files(small) == _bm25_files(whole)
    assert _sentence_rows(small) == _sentence_rows(whole)
    for query in QUERIES:
        assert small.lexical(query, 10) == whole.lexical(query, 10), query

    # A small change: a delta over the base, its BM25 built from pages of 3 too.
    _write(corpus / "c.jsonl", _rows("c", 3, "chemical peel redness"))
    (corpus / "b.jsonl").write_text(json.dumps(_rows("b", 5)[0]) + "\n", encoding="utf-8")
    later = small.sync([SEEDS, PAGES, corpus])
    assert later.delta and _report(later) == _report(whole.sync([SEEDS, PAGES, corpus]))
    assert (later.added, later.updated, later.removed) == (3, 1, 4)
    assert _records(small) == _records(whole)
    assert _bm25_files(small) == _bm25_files(whole)
    assert _sentence_rows(small) == _sentence_rows(whole)
    for query in QUERIES:
        assert small.lexical(query, 10) == whole.lexical(query, 10), query
    assert small.lexical("chemical peel redness", 3)
    # ... and its files are those build_delta makes from the delta's chunks in memory.
    gen = small.current_generation()
    delta = small.store.read_delta(gen)
    own = collection_documents(small.store.open_collection(gen), 100)
    assert len(own) == len(delta.own) == 4  # c0-c2 added, b0 changed
    built = build_delta(own, True, read_base_stats(small.lexical_folder(delta.base)))
    built.save(tmp_path / "delta", lexical_stamp(delta.own_hash(), len(delta.own), True))
    saved = small.lexical_folder(gen)
    for path in sorted((tmp_path / "delta").iterdir()):
        assert (saved / path.name).read_bytes() == path.read_bytes(), path.name


def test_bm25_from_pages_of_chroma_is_the_in_memory_build(tmp_path, embedder, corpus):
    index = Index(tmp_path / "data", embedder=embedder)
    index.sync([SEEDS, PAGES, corpus])
    docs = index.documents()
    collection = index.store.open_collection(index.current_generation())
    tokenizer, table, ids = tokenized_chunks(collection, 4, True)
    assert isinstance(ids, TokenIds) and ids.flat.dtype == np.int32 and len(ids) == len(docs)
    streamed = LexicalIndex.from_tokens(tokenizer, table, ids)
    built = LexicalIndex.build(docs, True)
    # The ingest saved the files an in-memory build saves (before any query: scoring a query
    # adds its words to the tokenizer's word -> stem table).
    manifest = index.manifest()
    built.save(tmp_path / "built", lexical_stamp(manifest.corpus_hash, manifest.chunks, True))
    saved = index.lexical_folder(index.current_generation())
    for path in sorted((tmp_path / "built").iterdir()):
        assert (saved / path.name).read_bytes() == path.read_bytes(), path.name
    assert np.array_equal(streamed.ids, built.ids) and streamed.ids.dtype == built.ids.dtype
    assert streamed.vocab == built.vocab and streamed.avg_len == built.avg_len
    assert np.array_equal(streamed.df, built.df)
    for key in ("data", "indices", "indptr"):
        assert np.array_equal(streamed.model.scores[key], built.model.scores[key]), key
    for query in QUERIES + [d.page_content[:60] for d in docs]:
        assert np.array_equal(streamed.scores(query), built.scores(query)), query


def test_token_ids_read_as_lists():
    ids = TokenIds(np.array([3, 1, 4, 1, 5], dtype=np.int32), np.array([0, 2, 2, 5]))
    assert len(ids) == 3 and list(ids) == [[3, 1], [], [4, 1, 5]]
    assert ids[-1] == [4, 1, 5] and ids[0:2] == [[3, 1], []]
    assert ids.counts().tolist() == [2, 0, 3]
    with pytest.raises(IndexError):
        ids[3]


def test_a_file_changed_between_the_passes_stops_the_write(tmp_path, embedder, corpus):
    index = Index(tmp_path / "data", embedder=embedder, write_part=2)
    index.sync([SEEDS])
    live = index.current_generation()
    before = _records(index)

    def edit(done: int, total: int) -> None:  # after the first part: b.jsonl is not read yet
        if done == 2:
            _write(corpus / "b.jsonl", _rows("b", 5, "knee pain"))

    with pytest.raises(
        InputChangedError, match=r"b\.jsonl changed while it was being ingested"
    ) as err:
        index.sync([SEEDS, corpus], progress=edit)
    assert "Run the ingest again" in str(err.value)
    assert index.current_generation() == live and _records(index) == before
    assert not list(index.root.glob(".gen-*.partial"))
    again = index.sync([SEEDS, corpus])
    assert again.wrote and again.added == 12
    assert index.lexical("knee pain", 3)
