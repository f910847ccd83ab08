"""The BM25 index saved with each generation at ingest and loaded memory-mapped at question time."""

from __future__ import annotations

import json
import logging
import shutil

import numpy as np
import pytest

from bot.answer.retrieve import HybridRetriever
from bot.chain import Bot
from bot.settings import Settings
from tests.conftest import ROOT, SEEDS
from vectorstore.index import Index
from vectorstore.lexical import LexicalIndex, lexical_stamp, top_rows

PAGES = ROOT / "tests" / "data" / "pages"
QUESTIONS = [
    "How long does Botox last?",
    "Is botox permanent",
    "lip filler swelling after three days",
    "chemical peel redness and peeling",
    "Can I exercise after a facelift?",
    "zzzunknownword",
    "the and of",
]


@pytest.fixture
def builds(monkeypatch):
    """Counts BM25 builds (each one indexes every chunk: LexicalIndex.build at question time
    and the ingest's build from chunks paged out of Chroma both go through from_tokens)."""
    count = {"n": 0}
    original = LexicalIndex.from_tokens.__func__

    def counted(cls, *args):
        count["n"] += 1
        return original(cls, *args)

    monkeypatch.setattr(LexicalIndex, "from_tokens", classmethod(counted))
    return count


@pytest.fixture
def wide_index(tmp_path, embedder):
    """The seed pages and tests/data/pages indexed into a fresh data folder."""
    index = Index(tmp_path / "wide", embedder=embedder)
    index.sync([SEEDS, PAGES])
    return index


def _folder(index: Index):
    return index.lexical_folder(index.current_generation())


def _stamp(index: Index) -> dict:
    manifest = index.manifest()
    return lexical_stamp(manifest.corpus_hash, manifest.chunks, manifest.question_context)


def test_ingest_saves_the_bm25_index_inside_the_generation(wide_index):
    folder = _folder(wide_index)
    assert folder.parent.name == wide_index.current_generation()
    names = {p.name for p in folder.iterdir()}
    assert {"stamp.json", "chunk_ids.npy", "vocab.tokenizer.json", "document_frequency.npy"} <= (
        names
    )
    assert {"data.csc.index.npy", "indices.csc.index.npy", "indptr.csc.index.npy"} <= names
    docs = wide_index.documents()
    table = np.load(folder / "chunk_ids.npy")
    assert [bytes(x).decode() for x in table] == sorted(d.id for d in docs)
    stamp = json.loads((folder / "stamp.json").read_text())
    assert stamp == _stamp(wide_index)
    assert stamp["chunks"] == wide_index.manifest().chunks == len(docs)


def test_the_loaded_index_scores_and_ranks_exactly_like_an_in_memory_build(wide_index, builds):
    docs = wide_index.documents()
    loaded = LexicalIndex.load(_folder(wide_index), _stamp(wide_index))
    assert builds["n"] == 0
    assert isinstance(loaded.model.scores["data"], np.memmap)
    assert isinstance(loaded.ids, np.memmap)
    built = LexicalIndex.build(docs, True)
    assert builds["n"] == 1
    queries = QUESTIONS + [d.metadata.get("page_title") or d.page_content[:80] for d in docs]
    for query in queries:
        assert np.array_equal(loaded.scores(query), built.scores(query)), query
    assert loaded.vocab == built.vocab
    for stem in built.vocab:
        assert loaded.document_frequency(stem) == built.document_frequency(stem)
    assert loaded.document_frequency("botox") > 0
    ids = [d.id for d in docs]
    assert loaded.rows_of([*ids, "no-such-chunk"]) == {i: n for n, i in enumerate(sorted(ids))}
    assert [loaded.id_of(n) for n in range(len(ids))] == sorted(ids)


def test_opening_the_index_reads_no_chunk_text(wide_index, monkeypatch, builds):
    fresh = Index(wide_index.root.parent, embedder=wide_index.embedder)

    def refuse(gen):
        raise AssertionError("every chunk was read")

    monkeypatch.setattr(fresh.store, "all_documents", refuse)
    found = fresh.lexical("botox permanent", 5)
    assert found and all(score > 0 for score in found.values())
    assert fresh.chunk_count() == wide_index.manifest().chunks
    assert builds["n"] == 0


def test_hybrid_rankings_are_the_same_with_the_saved_index_and_without(
    wide_index, tmp_path, embedder, builds, caplog
):
    without = tmp_path / "without"
    shutil.copytree(wide_index.root.parent, without)
    stale = Index(without, embedder=embedder)
    shutil.rmtree(_folder(stale))

    def ranking(index: Index) -> list[tuple]:
        retriever = HybridRetriever(index=index, embed_query=embedder.embed_query, per_page=100)
        return [
            [(d.id, d.metadata.get("fused_score")) for d in retriever.invoke(q)] for q in QUESTIONS
        ]

    saved = ranking(Index(wide_index.root.parent, embedder=embedder))
    assert builds["n"] == 0
    assert not [r for r in caplog.records if r.name == "vectorstore.lexical"]
    with caplog.at_level(logging.WARNING, logger="vectorstore.lexical"):
        rebuilt = ranking(stale)
    assert builds["n"] == 1  # the missing files fall back to a build, once, logged once
    warned = [r for r in caplog.records if r.name == "vectorstore.lexical"]
    assert len(warned) == 1 and "building it in memory" in warned[0].getMessage()
    assert saved == rebuilt
    assert any(saved)


def test_a_fresh_bot_answers_without_building_bm25(seed_index, builds):
    settings = Settings.load(env={}, data_dir=seed_index.root.parent)
    bot = Bot(settings, index=Index(seed_index.root.parent, embedder=seed_index.embedder))
    reply = bot.answer("How long does Botox last?")
    assert reply.kind == "answer" and reply.citations
    assert builds["n"] == 0
    shutil.rmtree(_folder(seed_index))  # an index built by a version that saved no BM25 files
    older = Bot(settings, index=Index(seed_index.root.parent, embedder=seed_index.embedder))
    again = older.answer("How long does Botox last?")
    assert builds["n"] == 1
    assert again.text == reply.text


def test_another_generations_files_are_not_used(seed_index, tmp_path, builds):
    old_folder = tmp_path / "old-bm25"
    shutil.copytree(_folder(seed_index), old_folder)
    page = tmp_path / "pages" / "900_new.txt"
    page.parent.mkdir()
    page.write_text((PAGES / "100_lip_filler.txt").read_text())
    seed_index.sync([SEEDS, page.parent])
    assert builds["n"] == 1  # the new generation's index, built once at ingest
    shutil.rmtree(_folder(seed_index))
    shutil.copytree(old_folder, _folder(seed_index))
    retriever = HybridRetriever(index=Index(seed_index.root.parent, embedder=seed_index.embedder))
    assert retriever.index.lexical("lip filler", 3)
    assert builds["n"] == 2
    assert retriever.index.chunk_count() == seed_index.manifest().chunks


def _reference_top(scores: np.ndarray, n: int) -> set[int]:
    """Every row with a positive score at least the n-th best positive score."""
    positive = np.sort(scores[scores > 0])[::-1]
    if not len(positive):
        return set()
    nth = positive[min(n, len(positive)) - 1]
    return {int(r) for r in np.flatnonzero((scores >= nth) & (scores > 0))}


@pytest.mark.parametrize("stride", [1, 4, 64])
def test_top_rows_is_exact_on_every_path(stride):
    # A small stride forces the sampled threshold on small arrays: many zeros (few matches,
    # the fallback to every positive row), heavy ties (few distinct BM25 values), and plenty.
    rng = np.random.default_rng(5)
    for size, share, levels, n in [
        (2_000, 0.01, 1000, 30),
        (2_000, 0.9, 4, 30),
        (5_000, 0.5, 10_000, 100),
        (300, 0.0, 10, 10),
        (300, 1.0, 1, 10),
        (50, 0.5, 100, 200),
    ]:
        scores = (rng.integers(1, levels + 1, size) * (rng.random(size) < share)).astype(np.float32)
        got = top_rows(scores, n, stride=stride)
        assert set(got.tolist()) == _reference_top(scores, n), (size, share, levels, n)
    assert len(top_rows(np.zeros(10, dtype=np.float32), 3)) == 0
    assert len(top_rows(np.ones(10, dtype=np.float32), 0)) == 0
