"""A format-2 index (sentence vectors inside Chroma) is converted by an ingest, not re-embedded."""

from __future__ import annotations

import shutil
from dataclasses import replace

import numpy as np
import pytest

from bot.answer.retrieve import HybridRetriever
from tests.conftest import SEEDS
from vectorstore.chunking import chunk_page
from vectorstore.corpus import find_files, read_file
from vectorstore.errors import IndexMismatchError
from vectorstore.index import Index
from vectorstore.sentence_vectors import SENTENCE_VECTORS_FILE

QUESTIONS = ["How long does Botox last?", "Is botox permanent", "Can I exercise after a facelift?"]


class CountingEmbedder:
    """The real embedder, counting the texts it embeds."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.model_id = inner.model_id
        self.dimension = inner.dimension
        self.texts = 0

    def embed(self, texts):
        self.texts += len(texts)
        return self.inner.embed(texts)

    def embed_query(self, text):
        return self.inner.embed_query(text)


def _format_2(index: Index) -> dict[str, np.ndarray]:
    """Turn a format-3 index into what format 2 wrote: every chunk's sentences as records of an
    `answers_sentences` collection with their own vectors, no sentence file, no saved BM25."""
    gen = index.current_generation()
    sentences = [
        s
        for path in find_files([SEEDS])[0]
        for page in read_file(path).pages
        for chunk in chunk_page(page, question_context=True)
        for s in chunk.sentences()
    ]
    vectors = np.asarray(index.embedder.embed([s.text for s in sentences]), dtype=np.float32)
    collection = index.store.open_collection(gen, "sentences")
    collection.add(
        ids=[s.id for s in sentences],
        embeddings=vectors,
        documents=[s.text for s in sentences],
        metadatas=[s.metadata for s in sentences],
    )
    index.store.write_manifest(gen, replace(index.manifest(), format_version=2))
    shutil.rmtree(index.lexical_folder(gen))
    index.store._close(gen)
    (index.root / SENTENCE_VECTORS_FILE).unlink()
    for extra in index.root.glob(f"{SENTENCE_VECTORS_FILE}-*"):
        extra.unlink()
    return {s.text: v for s, v in zip(sentences, vectors, strict=True)}


@pytest.fixture
def old_index(tmp_path, embedder):
    index = Index(tmp_path / "data", embedder=embedder)
    index.sync([SEEDS])
    stored = _format_2(index)
    return Index(tmp_path / "data", embedder=CountingEmbedder(embedder)), stored


def test_reading_a_format_2_index_says_to_run_an_ingest(old_index):
    index, _ = old_index
    with pytest.raises(IndexMismatchError, match=r"format 2.*`python -m bot ingest"):
        index.dense_search([np.ones(index.embedder.dimension, dtype=np.float32)], 3)
    retriever = HybridRetriever(index=index)
    with pytest.raises(IndexMismatchError, match="nothing is embedded again"):
        retriever.invoke("How long does Botox last?")


def test_an_ingest_converts_it_moving_the_vectors_and_embedding_nothing(old_index, embedder):
    index, stored = old_index
    old_gen = index.current_generation()
    report = index.sync([SEEDS])
    assert report.ok and report.wrote and report.embedded == 0 and report.sentences == 0
    assert index.embedder.texts == 0  # nothing embedded: not the chunks, not the sentences
    assert any("converted the index to format 3" in n for n in report.notes)
    gen = index.current_generation()
    assert gen != old_gen and index.manifest().format_version == 3
    assert index.manifest().chunks == 15
    client = index.store._client(gen)
    assert [c.name for c in client.list_collections()] == ["answers"]
    assert (index.lexical_folder(gen) / "stamp.json").is_file()
    moved = index.sentence_vectors(stored)
    assert set(moved) == set(stored)
    for text, vector in stored.items():  # float16 in the file
        assert float(np.dot(moved[text], vector)) > 0.9999
    # It answers exactly like an index built in format 3 from the start.
    fresh = Index(index.root.parent.parent / "fresh", embedder=embedder)
    fresh.sync([SEEDS])
    for question in QUESTIONS:
        got = HybridRetriever(index=index, embed_query=embedder.embed_query).invoke(question)
        want = HybridRetriever(index=fresh, embed_query=embedder.embed_query).invoke(question)
        assert [(d.id, d.metadata["fused_score"]) for d in got] == [
            (d.id, pytest.approx(d.metadata["fused_score"], abs=1e-3)) for d in want
        ]
    again = index.sync([SEEDS])  # converted once: the next ingest changes nothing
    assert not again.wrote and index.embedder.texts == 0
