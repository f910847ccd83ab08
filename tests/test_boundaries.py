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


def test_non_string_is_refused():
    with pytest.raises(ValueError, match="string"):
        personal_dosing_request(None)  # type: ignore[arg-type]


def test_referral_text_names_who_to_ask():
    from bot.prompts import load

    text = load("dosing_referral")
    assert "pharmacist" in text and "doctor" in text
    assert "can't tell you what dose" in text
