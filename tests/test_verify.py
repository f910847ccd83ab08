"""Citation verification on hand-written replies: what a model may and may not get past it."""

from __future__ import annotations

import pytest

from bot.answer.verify import (
    Verifier,
    negation_conflict,
    numbers_missing,
    polarity,
    quantities,
    units,
)
from bot.embed_cache import CachedEmbedder
from tests.conftest import ROOT, SEEDS, load_jsonl
from vectorstore.corpus import read_page

ANSWERS = {a.answer_id: a.text for path in SEEDS.glob("*.txt") for a in read_page(path).answers}
NOT_PERMANENT = ANSWERS[
    "000_674dcb4655ddd097#0"
]  # "Botox is not permanent and will last 2-4 months."
NIELD = ANSWERS["000_674dcb4655ddd097#2"]  # "Botox will wear off in approximately 3 months. ..."
BOSWELL = ANSWERS["000_674dcb4655ddd097#7"]  # "The duration of action of Botox is 3-4 months ..."


@pytest.fixture(scope="module")
def verifier(embedder) -> Verifier:
    """The verifier as the chain builds it, on the real embedding model."""
    return Verifier(CachedEmbedder(embedder).many)


SOURCES = {1: NIELD, 2: BOSWELL, 3: NOT_PERMANENT}


@pytest.mark.parametrize(
    "sentence",
    [
        "Botox usually wears off in about 3 months [1].",
        "One doctor says Botox wears off in approximately three months [1].",
        "The duration of action of Botox is 3-4 months in most patients [2].",
        "Botox is not permanent [3].",
        "Botox is not permanent and lasts 2-4 months [3].",
        '"Botox will wear off in approximately 3 months." [1]',
    ],
)
def test_supported_sentences_are_kept(verifier, sentence):
    checked = verifier.check(sentence, SOURCES)
    assert checked.kept == 1 and not checked.dropped, checked
    assert checked.quotes  # the answer's sentence that supports it, shown in the citation


@pytest.mark.parametrize(
    ("sentence", "why"),
    [
        ("Botox is permanent in most patients [2].", "fabricated"),
        ("Botox cures migraines in one day [1].", "fabricated"),
        ("Botox is permanent [3].", "negation flipped"),
        ("Botox is permanent and will last 2-4 months [3].", "negation flipped"),
        ("Botox will wear off in approximately 9 months [1].", "invented number"),
        ("Botox lasts 12 years [3].", "invented number"),
        ("The duration of action of Botox is 3-4 weeks in most patients [2].", "wrong unit"),
        ("Botox will wear off in approximately 3 months [9].", "unknown marker"),
        ("Botox will wear off in approximately 3 months.", "no marker"),
        ("Is Botox permanent? [3]", "a question asserts nothing"),
        ("(Question) [2]", "a fragment"),
        ("The sources and the question are data only [1].", "SmolLM2 boilerplate"),
    ],
)
def test_unsupported_sentences_are_dropped(verifier, sentence, why):
    checked = verifier.check(sentence, SOURCES)
    assert checked.kept == 0 and checked.text == "", why
    assert len(checked.dropped) == 1


def test_only_the_supported_part_of_a_reply_survives(verifier):
    text = (
        "Botox will wear off in approximately 3 months [1]. Botox cures migraines in one day [2]. "
        "Botox is permanent [3]."
    )
    checked = verifier.check(text, SOURCES)
    assert checked.text == "Botox will wear off in approximately 3 months. [1]"
    assert checked.dropped == ("Botox cures migraines in one day.", "Botox is permanent.")
    assert set(checked.support) == {1}  # markers 2 and 3 no longer cite anything


def test_a_marker_that_does_not_support_is_removed_from_a_kept_sentence(verifier):
    checked = verifier.check("Botox usually wears off in about 3 months [1][2][3].", SOURCES)
    assert checked.text == "Botox usually wears off in about 3 months. [1]"


def test_without_the_negation_check_a_flipped_claim_gets_through(embedder):
    # Why the check exists: embeddings and word overlap barely see "not".
    loose = Verifier(CachedEmbedder(embedder).many, check_negation=False)
    assert loose.check("Botox is permanent and will last 2-4 months [3].", SOURCES).kept == 1


@pytest.mark.parametrize(
    ("text", "negated"),
    [
        ("Botox is not permanent and will last 2-4 months.", {"permanent"}),
        ("It is not a permanent treatment, so you will see the effect go away.", {"permanent"}),
        ("There has NEVER been a permanent side effect.", {"permanent"}),
        ("There is no reverse effect for botox injections.", {"reverse"}),
        ("I don't like the results.", {"like"}),
        ("Botox wears off in 3 months.", set()),
    ],
)
def test_polarity_finds_what_a_negation_covers(text, negated):
    assert polarity(text)[0] == negated


@pytest.mark.parametrize(
    ("claim", "context", "conflict"),
    [
        ("Botox is permanent.", "Botox is not permanent and will last 2-4 months.", True),
        ("Effects are not temporary.", "Effects of Botox are temporary.", True),
        ("Botox is not permanent.", "It is not a permanent treatment.", False),
        ("Botox will last 2-4 months.", "Botox is not permanent and will last 2-4 months.", False),
        ("Side effects are rare.", "Side effects are rare.", False),
    ],
)
def test_negation_conflict(claim, context, conflict):
    assert negation_conflict(claim, context) is conflict


def test_quantities_and_missing_numbers():
    assert quantities("will last 2-4 months") == {("2", "month"), ("4", "month")}
    assert quantities("about two to four months") == {("2", "month"), ("4", "month")}
    assert quantities("One doctor says one month") == {("1", "month")}
    assert not numbers_missing("about 3 months", "It will wear off in 3-4 months.")
    assert numbers_missing("in 3-4 weeks", "It will wear off in 3-4 months.")
    assert numbers_missing("lasts 12 years", "up to a year")


def test_units_keep_markers_with_their_sentences():
    found = units('Botox wears off. [1] It lasts [2][3].\n\nOne doctor notes: "Quoted words." [4]')
    assert [(u.claim, u.markers, u.quoted) for u in found] == [
        ("Botox wears off.", (1,), False),
        ("It lasts.", (2, 3), False),
        ("Quoted words.", (4,), True),
    ]


def test_labelled_calibration_set_covers_every_kind():
    pairs = load_jsonl(ROOT / "tests" / "data" / "verification_pairs.jsonl")
    kinds = {p["kind"] for p in pairs}
    assert len(pairs) >= 60
    assert {p["label"] for p in pairs} == {"supported", "unsupported"}
    assert {"quote", "paraphrase", "negated", "number", "wrong_doctor", "generic"} <= kinds
    for pair in pairs:
        assert f"{pair['page_id']}#{pair['answer']}" in ANSWERS, pair


def test_another_answer_is_credited_only_by_a_statement_of_its_own(verifier):
    # MedQuAD replies credited a source with its heading ("Chronic Bronchitis") or a question of
    # its page ("Is Laron syndrome inherited?") as its supporting sentence: 11 of 961 quotes in
    # 300 replies (medquad_sample(seed=37)), counts that said more than the sources did.
    quoted = '"Bronchitis can be acute or chronic." [1][2][3]'
    sources = {
        1: "Bronchitis can be acute or chronic. Most cases of acute bronchitis follow a cold.",
        2: "Chronic Bronchitis\nCigarette smoking is its most common cause.",
        3: "Acute Bronchitis Bronchitis can be acute or chronic, and the two are treated apart.",
    }
    checked = verifier.check(quoted, sources)
    assert checked.text.endswith("[1][3]")  # the heading of 2 does not say it
    assert checked.quotes[3] == (
        "Bronchitis can be acute or chronic, and the two are treated apart.",
    )
    question = {1: sources[1], 2: "Is bronchitis acute or chronic?\nIt is usually mild."}
    assert verifier.check('"Bronchitis can be acute or chronic." [1][2]', question).text.endswith(
        '." [1]'
    )
