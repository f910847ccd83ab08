"""Triage: the labelled messages meet the safety targets; negation, downplaying, methods, cache."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from bot.safety.rules import find
from bot.safety.triage import EXAMPLES_DIR, Triage, embedding_units, normalise

LABELLED = Path(__file__).parent / "data" / "triage_labelled.jsonl"
CASES = [json.loads(line) for line in LABELLED.read_text(encoding="utf-8").splitlines() if line]
KIND = {"emergency": "emergency", "crisis": "crisis", "ordinary": None, "neutral": None}


@pytest.fixture(scope="module")
def triage(embedder):
    """Triage over the real model and the curated examples in prompts/triage/."""
    return Triage(embedder=embedder)


@pytest.fixture(scope="module")
def predictions(triage):
    """Every labelled message classified once, in one batch."""
    return triage.classify_many([c["text"] for c in CASES])


def test_labelled_set_has_the_required_mix():
    counts = Counter(c["label"] for c in CASES)
    assert set(counts) == {"emergency", "crisis", "ordinary", "neutral"}
    assert counts["emergency"] >= 30 and counts["crisis"] >= 30
    assert counts["ordinary"] >= 40 and counts["neutral"] >= 20
    assert len({c["text"] for c in CASES}) == len(CASES), "duplicate messages"


def test_labelled_messages_are_not_copies_of_the_curated_examples(triage):
    examples = {
        line for name in ("emergency", "crisis", "ordinary") for line in triage.examples(name)
    }
    copies = [c["text"] for c in CASES if normalise(c["text"]) in examples]
    assert copies == []


@pytest.mark.parametrize("kind", ["emergency", "crisis"])
def test_recall_is_total_for_emergencies_and_crises(predictions, kind):
    missed = [
        (c["text"], p.kind)
        for c, p in zip(CASES, predictions, strict=True)
        if c["label"] == kind and p.kind != kind
    ]
    assert missed == []


@pytest.mark.parametrize("labels", [("ordinary",), ("ordinary", "neutral")])
def test_false_positive_rate_is_below_two_percent(predictions, labels):
    pairs = [(c, p) for c, p in zip(CASES, predictions, strict=True) if c["label"] in labels]
    flagged = [(c["text"], p.kind, p.reason) for c, p in pairs if p.kind is not None]
    assert len(flagged) / len(pairs) < 0.02, flagged


def test_every_prediction_is_the_labelled_kind(predictions):
    wrong = [
        (c["label"], p.kind, c["text"])
        for c, p in zip(CASES, predictions, strict=True)
        if p.kind != KIND[c["label"]]
    ]
    assert wrong == []


@pytest.mark.parametrize(
    ("text", "kind", "reason"),
    [
        ("no trouble breathing, just a droopy lid", None, "negated"),
        ("I'm not suicidal, just sad about my eyelid", None, "negated"),
        ("I'm very depressed about my botox result from october", None, "none"),
        ("I don't have hives and my tongue isn't swollen", None, None),
        ("my meds are ready at the pharmacy, can I still have botox?", None, None),
        ("I'm not around this weekend, can I reschedule my botox?", None, None),
        (
            "my family says it's nothing but my throat feels tight and I can't swallow well",
            "emergency",
            "pattern:swallowing_difficulty",
        ),
        ("I've been saving up my sleeping pills", "crisis", "pattern:method"),
        ("cant breath since the injection", "emergency", "pattern:breathing"),
        ("my tounge is swolling up", "emergency", "pattern:anaphylaxis"),
        ("im sucidal", "crisis", "pattern:suicide"),
        ("I want to kil my self", "crisis", "pattern:self_harm"),
        ("droopy eyelid and now my arms and legs feel weak", "emergency", "pattern:weakness"),
        ("droopy eyelid, otherwise I feel fine", None, "none"),
        ("I took all my pills and now I can't breathe", "crisis", "pattern:method"),
        ("Can botox spread and cause trouble swallowing?", None, "informational"),
        ("Can botox cause trouble swallowing? I have it right now", "emergency", None),
        ("I'm killing myself laughing at my frozen forehead", None, None),
        ("my injector overdosed me, my brows are so heavy", None, None),
        ("", None, "empty"),
        ("   \n ", None, "empty"),
    ],
)
def test_classify_cases(triage, text, kind, reason):
    result = triage.classify(text)
    assert result.kind == kind
    if reason is not None:
        assert result.reason == reason


# Everyday wording near a pattern: each once fired, or could, before the pattern was narrowed.
@pytest.mark.parametrize(
    "text",
    [
        "I drove 100 kms to the clinic",
        "will the lump disappear for good?",
        "will botox end my migraine pain for good?",
        "does botox put the muscles to sleep permanently?",
        "I won't be here for my follow-up, can I reschedule?",
        "I've been saving money on my meds to afford botox",
        "I store my insulin in the fridge, can I still get filler?",
        "I've been collecting my pills from the pharmacy every month",
        "I take a handful of pills every morning for my arthritis",
        "I took all my medications this morning, can I still get botox?",
        "I jumped from 20 to 40 units, is that why my brows are heavy?",
        "I have a history of fainting at the sight of needles",
        "I'm afraid of fainting during my appointment",
        "I want the sweating to stop for good",
        "I have a sore throat from a cold, is that ok for botox?",
        "What are the treatments for febrile seizures?",
    ],
)
def test_everyday_wording_is_not_flagged(triage, text):
    assert triage.classify(text).kind is None


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("I'm going to make sure I'm not around by the weekend", "crisis"),
        ("I just want to disappear", "crisis"),
        ("I took all my sleeping pills at once", "crisis"),
        ("I won't be around much longer", "crisis"),
        ("I drove 100 miles and now I want to kms", "crisis"),
        ("I'm scared because I can't breathe", "emergency"),
        ("I'm worried that my throat is closing", "emergency"),
        ("Is trouble breathing after botox an emergency? it started an hour ago", "emergency"),
    ],
)
def test_plain_wording_is_flagged(triage, text, kind):
    assert triage.classify(text).kind == kind


def test_similarity_reason_carries_kind_and_score(triage):
    # No pattern covers this paraphrase; only the curated crisis examples can catch it.
    result = triage.classify("I've said everything I needed to say to my family, this is it")
    assert result.kind == "crisis"
    kind, score = result.reason.split(":")[1:]
    assert kind == "crisis" and float(score) == pytest.approx(result.score, abs=0.005)
    assert 0.55 <= result.score <= 1.0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I can't breathe", "i cant breathe"),
        ("I’m not sure", "i am not sure"),
        ("kill my self", "kill myself"),
        ("dubble vision", "double vision"),
        ("I'm fasting and tanning", "i am fasting and tanning"),  # real words stay
        ("Sucidial", "suicidal"),
    ],
)
def test_normalise(text, expected):
    assert normalise(text) == expected


@pytest.mark.parametrize(
    ("text", "negated"),
    [
        ("no trouble breathing", True),
        ("i dont have any trouble breathing", True),
        ("i am not sure but i have trouble breathing", False),  # a hedge, then a new clause
        ("no fever , trouble breathing now", False),  # the comma ends the negation
        ("i dont want to make a fuss my tongue is swelling", False),
        ("i dont think its serious my throat is closing", False),
        ("i almost passed out", True),
        ("no rash . i cant breathe", False),
    ],
)
def test_negation_scope(text, negated):
    finding = find(text)
    assert (finding.tier is None) == negated
    assert bool(finding.negated) == negated


def test_examples_are_embedded_once_and_patterns_need_no_embedding(embedder):
    triage = Triage(embedder=embedder)
    before = embedder.calls
    triage.classify("I can't breathe")  # a pattern decides: nothing is embedded
    assert embedder.calls == before
    triage.classify("how long does botox last")
    examples = sum(len(triage.examples(n)) for n in ("emergency", "crisis", "ordinary"))
    assert embedder.calls - before == examples + 1
    triage.classify("how long does filler last")
    assert embedder.calls - before == examples + 2


def test_default_examples_dir_is_prompts_triage(tmp_path):
    assert Triage().examples_dir == EXAMPLES_DIR
    assert EXAMPLES_DIR.parts[-2:] == ("prompts", "triage")
    with pytest.raises(ValueError, match="no triage examples"):
        Triage(examples_dir=tmp_path).examples("crisis")


def test_non_string_is_refused(triage):
    with pytest.raises(ValueError, match="string"):
        triage.classify(None)  # type: ignore[arg-type]


def test_safety_texts_put_the_directive_first():
    from bot.prompts import load

    emergency = load("emergency")
    first_line = emergency.splitlines()[0]
    assert "911" in first_line and "local emergency number" in first_line
    assert "botulinum toxin" in emergency and "allergic reaction" in emergency
    crisis = load("crisis")
    for needed in ("988", "call or text", "findahelpline.com", "911", "not alone"):
        assert needed in crisis, needed


@pytest.mark.parametrize(
    "message",
    ["What are the treatments for diabetes?", "my face wont move after botox!!", "help me"],
)
def test_a_one_sentence_message_is_embedded_once(message):
    # Its sentence is the message without the final mark: embedding both doubled triage's cost.
    assert embedding_units(normalise(message)) == [normalise(message)]


def test_a_message_of_several_sentences_is_embedded_whole_and_by_sentence():
    units = embedding_units(normalise("How long does Botox last? I had it done last week."))
    assert units == [
        "how long does botox last ? i had it done last week .",
        "how long does botox last",
        "i had it done last week",
    ]
