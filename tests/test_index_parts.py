"""Reading a generation made of several parts: hidden ids are dropped, a later part wins."""

from __future__ import annotations

import chromadb
import numpy as np
import pytest
from chromadb.config import Settings
from langchain_core.documents import Document

from vectorstore.lexical import LexicalIndex
from vectorstore.parts import (
    Part,
    chunk_count,
    document_frequency,
    fetch_records,
    lexical_scores,
    nearest,
)

BASE = {
    "a": "Botox lasts three to four months in most patients.",
    "b": "Lip filler swelling settles within a week.",
    "c": "A chemical peel causes redness and peeling for days.",
    "d": "Botox is not permanent and wears off.",
}
DELTA = {
    "d": "Botox is never permanent: it wears off after about three months.",
    "e": "Exercise is fine a day after Botox injections.",
}


def _part(client, name: str, texts: dict[str, str], embedder, hidden=()) -> Part:
    collection = client.create_collection(
        name, embedding_function=None, configuration={"hnsw": {"space": "cosine"}}
    )
    ids = list(texts)
    collection.add(
        ids=ids,
        embeddings=embedder.embed([texts[i] for i in ids]),
        documents=[texts[i] for i in ids],
        metadatas=[{"page_id": i} for i in ids],
    )
    docs = [Document(page_content=texts[i], metadata={}, id=i) for i in ids]
    return Part(collection, LexicalIndex.build(docs, False), frozenset(hidden))


@pytest.fixture
def parts(tmp_path, embedder):
    client = chromadb.PersistentClient(
        path=str(tmp_path / "chroma"), settings=Settings(anonymized_telemetry=False)
    )
    base = _part(client, "base", BASE, embedder, hidden={"b", "d"})  # b removed, d replaced
    delta = _part(client, "delta", DELTA, embedder)
    return [base, delta]


def test_dense_candidates_leave_out_hidden_ids(parts, embedder):
    query = np.asarray(embedder.embed_query("Is Botox permanent?"), dtype=np.float32)
    found = nearest(parts, [query], 10)
    assert found == {"a", "c", "d", "e"}  # b is hidden; d comes from the delta
    assert set(nearest(parts[:1], [query], 10)) == {"a", "c"}


def test_records_come_from_the_last_part_that_shows_them(parts):
    records = fetch_records(parts, ["a", "b", "d", "e", "zz"])
    assert set(records) == {"a", "d", "e"}
    assert records["d"][0].page_content == DELTA["d"]
    assert records["a"][0].page_content == BASE["a"]
    assert records["e"][1].shape == (384,)


def test_lexical_scores_merge_parts_and_score_also_ids(parts):
    scores = lexical_scores(parts, "botox permanent", 10, also=["c", "b"])
    assert "b" not in scores or scores["b"] == 0.0
    assert scores["c"] == 0.0  # asked for, no query word
    delta_only = lexical_scores(parts[1:], "botox permanent", 10)
    assert scores["d"] == delta_only["d"]  # the delta's score of d, not the base's
    assert set(k for k, v in scores.items() if v > 0) == {"a", "d", "e"}
    top = lexical_scores(parts, "botox permanent", 1)
    assert list(top) == [max(scores, key=scores.get)]


def test_corpus_statistics_over_parts(parts):
    assert chunk_count(parts) == 2 + 2
    assert document_frequency(parts, "botox") == 2 + 2  # hidden chunks still count: an estimate
