"""The hybrid retriever's fusion and query focus, on the real seed index."""

from __future__ import annotations

import numpy as np
import pytest

from bot.retrieve import HybridRetriever, question_focus

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


def test_exact_dense_scores_match_the_index(retriever, seed_index):
    docs = retriever.invoke("Is Botox permanent?")
    chroma = {d.id: s for d, s in seed_index.search("Is Botox permanent?", k=20)}
    assert len(docs) == retriever.k
    for doc in docs:
        assert doc.metadata["dense_score"] == pytest.approx(chroma[doc.id], abs=2e-3)
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
