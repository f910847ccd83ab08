"""Quotes are whole statements: a sentence that opens by pointing back ("It usually affects one
side of the face.") is quoted with the sentence it points to, or not at all; an "it" that
points ahead ("It is normal to ...") stands alone (bot/wordlists/back_references.txt,
expletive_it.txt)."""

from __future__ import annotations

import pytest
from langchain_core.documents import Document

from bot.answer.compose import ExtractiveComposer
from bot.answer.quotable import refers_back
from bot.eval_quality import redundant_pairs


@pytest.mark.parametrize(
    ("sentence", "points_back"),
    [
        ("It usually affects one side of the face.", True),
        ("They are used to keep the vertebrae from moving.", True),
        ("Or, it can be taken from frozen, donated bone.", True),
        ("These drugs can reduce inflammation.", True),
        ("It is a toxin that relaxes the muscles.", True),  # "that" after "a": it is Botox
        ("It is normal to have some swelling for a week.", False),
        ("It would be good to meet with your injector at this point.", False),
        ("It has been my practice not to use Botox in these patients.", False),
        ("It takes two weeks to see the full effect.", False),
        ("Itching is common after a peel.", False),
        ("Botox lasts three to four months.", False),
    ],
)
def test_which_sentences_point_back(sentence, points_back):
    assert refers_back(sentence) is points_back


def _compose(embedder, question, texts):
    docs = [
        Document(page_content=t, metadata={"answer_id": f"a{i}", "doctor": "X"}, id=f"a{i}")
        for i, t in enumerate(texts)
    ]
    composer = ExtractiveComposer(embedder.embed, min_relevance=0.0)
    return [
        s.quote for s in composer.compose(question, docs, embedder.embed_query(question)).statements
    ]


def test_a_sentence_that_points_back_is_quoted_with_what_it_points_to(embedder):
    quotes = _compose(
        embedder,
        "Which side of the face does Bell's palsy affect?",
        [
            "Bell's palsy is a sudden weakness of the muscles of the face. It usually affects "
            "one side of the face and gets better within six months.",
        ],
    )
    joined = [q for q in quotes if "one side of the face" in q]
    assert joined and joined[0].startswith("Bell's palsy is a sudden weakness")
    assert not any(refers_back(q) for q in quotes)


def test_a_sentence_that_points_back_to_nothing_is_not_quoted(embedder):
    quotes = _compose(
        embedder,
        "How long does lip filler swelling last?",
        [
            "It usually settles within two weeks.",  # the answer's first sentence: "it" is lost
            "Swelling after lip filler is worst on the second day.",
        ],
    )
    assert quotes and not any("settles within two weeks" in q for q in quotes)


def test_a_joined_quote_and_its_first_sentence_are_not_both_quoted(embedder):
    quotes = _compose(
        embedder,
        "Can Botox be reversed?",
        [
            "There is no reverse effect for Botox injections. It will begin to wear off in 3-4 "
            "months.",
            "There is no reverse effect for Botox injections.",
        ],
    )
    assert sum("no reverse effect" in q for q in quotes) == 1
    assert not redundant_pairs(quotes, embedder.embed)


def test_the_lead_takes_the_sentence_that_points_back_to_it_when_that_says_more(embedder):
    # "Can Botox be reversed?": the answer is the first sentence; the one after it, which points
    # back to it, says what happens instead, and is quoted with it rather than dropped.
    quotes = _compose(
        embedder,
        "Can Botox be reversed?",
        [
            "There is no reverse effect for Botox injections. It will begin to wear off in 3-4 "
            "months.",
            "Swelling after lip filler settles within two weeks.",
        ],
    )
    assert quotes[0].startswith("There is no reverse effect") and "3-4 months" in quotes[0]
