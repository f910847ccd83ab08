"""The hybrid retriever's fusion and query focus, on the real seed index."""

from __future__ import annotations

import numpy as np
import pytest

from bot.answer.retrieve import HybridRetriever, question_focus

P0, P1 = "000_674dcb4655ddd097", "001_3189914d5f52dce4"


@pytest.mark.parametrize(
    ("message", "focus"),
    [
        ("Is Botox permanent?", None),
        ("Botox question\nMy eyelid droops. Will it recover?", "Botox question. Will it recover?"),
        ("I had Botox a month ago. My face is stiff. Is it permanent?", "Is it permanent?"),
        ("Noonan syndrome\nWhat are the references with noonan syndrome", None),
        ("How long does it last? (about: Is Botox permanent?)", None),  # all questions already
        ("general health\nmy father has leg pain", None),  # nothing is asked
    ],
)
def test_question_focus(message, focus):
    assert question_focus(message) == focus


@pytest.fixture
def retriever(seed_index, embedder):
    # No per-page cap: the seed index has only two pages, and the cap would reorder the chunks.
    return HybridRetriever(index=seed_index, embed_query=embedder.embed_query, per_page=100)


def test_dense_scores_match_the_index(retriever, seed_index):
    docs = retriever.invoke("Is Botox permanent?")
    chroma = {d.id: s for d, s in seed_index.search("Is Botox permanent?", k=20)}
    assert len(docs) == retriever.k
    for doc in docs:
        assert doc.metadata["chunk_score"] == pytest.approx(chroma[doc.id], abs=2e-3)
        # The dense score moves toward the chunk's best sentence, never below the chunk's own.
        assert doc.metadata["dense_score"] >= doc.metadata["chunk_score"] - 1e-4
    fused = [d.metadata["fused_score"] for d in docs]
    assert fused == sorted(fused, reverse=True)


@pytest.mark.parametrize("fusion", ["score", "rrf"])
def test_every_chunk_has_a_dense_score_and_pages_are_capped(seed_index, embedder, fusion):
    retriever = HybridRetriever(
        index=seed_index, embed_query=embedder.embed_query, fusion=fusion, per_page=2, k=4
    )
    docs = retriever.invoke("droopy eyelid after botox injections, eye drops")
    assert len(docs) == 4
    assert all("dense_score" in d.metadata for d in docs)
    assert [d.metadata["page_id"] for d in docs].count(P1) == 2
    assert docs[0].metadata["page_id"] == P1


def test_fusion_weights_dense_by_alpha(seed_index, embedder):
    dense_only = HybridRetriever(
        index=seed_index, embed_query=embedder.embed_query, alpha=1.0, per_page=100
    )
    docs = dense_only.invoke("Will the Botox wear off?")
    cosines = [d.metadata["dense_score"] for d in docs]
    assert cosines == sorted(cosines, reverse=True)
    assert np.allclose([d.metadata["fused_score"] for d in docs], cosines, atol=1e-4)


def test_sentence_lift_finds_the_one_sentence_in_a_long_answer(seed_index, embedder):
    """'Botox is a purified protein...' sits in a long answer about permanence: the chunk as a
    whole is far from the question, its sentence is close."""
    question = "What is Botox actually made of?"

    def rank_of_protein(retriever: HybridRetriever) -> int:
        docs = retriever.invoke(question)
        return next(i for i, d in enumerate(docs) if "purified protein" in d.page_content)

    common = {"index": seed_index, "embed_query": embedder.embed_query, "k": 15, "per_page": 100}
    lifted = HybridRetriever(**common)
    plain = HybridRetriever(**common, sentence_weight=0.0)
    assert rank_of_protein(lifted) < 8 <= rank_of_protein(plain)  # the bot reads the top 8
    hit = lifted.invoke(question)[rank_of_protein(lifted)].metadata
    assert hit["sentence_score"] > hit["chunk_score"] + 0.15
    lift = lifted.sentence_weight * (hit["sentence_score"] - hit["chunk_score"])
    assert hit["dense_score"] == pytest.approx(hit["chunk_score"] + lift, abs=1e-4)


def test_stored_sentence_vectors_are_served_for_quotable_sentences(seed_index, embedder):
    retriever = HybridRetriever(index=seed_index, embed_query=embedder.embed_query)
    assert retriever.sentence_vector("Botox is not permanent and will last 2-4 months.") is None
    retriever.invoke("Is Botox permanent?")  # loads the live generation's vectors
    stored = retriever.sentence_vector("Botox is not permanent and will last 2-4 months.")
    own = embedder.embed(["Botox is not permanent and will last 2-4 months."])[0]
    assert float(np.dot(stored, own)) > 0.999
    assert retriever.sentence_vector("A sentence no doctor wrote.") is None
    assert retriever.sentence_vector("Thank you for your question.") is None  # not quotable


def test_small_record_and_sentence_caches_stay_bounded_and_change_nothing(seed_index_dir, embedder):
    """The reader's chunk-record LRU and the retriever's sentence-vector LRU, forced small:
    they never hold more than their limit, and retrieval returns what roomy caches return."""
    from vectorstore.index import Index

    question = "Can Botox cause a droopy eyelid and how long does it last?"
    roomy = HybridRetriever(index=Index(seed_index_dir, embedder=embedder), k=5)
    small_index = Index(seed_index_dir, embedder=embedder, record_cache=2)
    small = HybridRetriever(index=small_index, k=5, known_sentences=3)
    expected = [d.id for d in roomy.invoke(question)]
    for _ in range(2):  # the second time round, every cache is full
        assert [d.id for d in small.invoke(question)] == expected
        assert len(small_index._records) <= 2
        assert len(small._known) <= 3
