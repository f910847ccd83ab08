"""The medical boundary: personal doses, dose changes and self-injection are referred."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.safety.boundaries import personal_dosing_request

CASES = [
    json.loads(x)
    for x in (Path(__file__).parent / "data" / "dosing_cases.jsonl").read_text("utf-8").splitlines()
    if x
]


def test_case_file_covers_both_sides():
    assert sum(c["personal"] for c in CASES) >= 25
    assert sum(not c["personal"] for c in CASES) >= 25


@pytest.mark.parametrize("case", CASES, ids=[c["text"][:40] for c in CASES])
def test_dosing_cases(case):
    assert personal_dosing_request(case["text"]) is case["personal"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("how many units should I inject myself", True),
        ("can I double my dose", True),
        ("how do I inject botox at home", True),
        ("How long does botox last?", False),
        # Asks what is typical, which the doctors' answers cover; not a dose for the writer.
        ("is 20 units a normal amount for frown lines?", False),
        ("HOW MANY UNITS SHOULD I GET FOR MY FOREHEAD", True),
        ("How many units should I get?\n\nI'm 35.", True),
    ],
)
def test_examples_from_the_rule(text, expected):
    assert personal_dosing_request(text) is expected


@pytest.mark.parametrize(
    "text",
    [
        "How much time off work do I need after a medium peel?",
        "How much time off work do I need after Botox?",
        "how much downtime should I plan for after filler",
        "How much recovery time do I need after a chemical peel?",
        "How much money do I need to save for Botox?",
        "how much time do I need between botox sessions",
        "How many nights off should I take after lip filler?",
    ],
)
def test_time_and_money_are_not_doses(text):
    """A quantity of time, downtime or money is not a dose: the doctors' answers may cover it."""
    assert personal_dosing_request(text) is False


@pytest.mark.parametrize(
    "text",
    ["how much botox do I need for my forehead", "How much filler should I get for me?"],
)
def test_amounts_of_a_product_are_still_doses(text):
    assert personal_dosing_request(text) is True


def test_non_string_is_refused():
    with pytest.raises(ValueError, match="string"):
        personal_dosing_request(None)  # type: ignore[arg-type]


def test_referral_text_names_who_to_ask():
    from bot.prompts import load

    text = load("dosing_referral")
    assert "pharmacist" in text and "doctor" in text
    assert "can't tell you what dose" in text
