"""Golden parse of pages written in each real layout (tests/data/layouts/, expected.json)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from vectorstore.corpus import read_page
from vectorstore.page_parser import parse_page

LAYOUTS = Path(__file__).parent / "data" / "layouts"
EXPECTED = json.loads((LAYOUTS / "expected.json").read_text(encoding="utf-8"))
FIELDS = ("heading", "doctor", "credentials", "location", "specialty", "rating", "review_count")
# Page furniture that must never reach an answer's text.
NOISE = ("{{", "}}", "+2", "+1", "+5", "Helpful", "Share", "Report", "Ask a doctor", "#realself")
NOISE += ("Top Doctor", "Verified", "IMPORTANT:", "educational purposes", "All rights reserved")
NOISE += ("Privacy Policy", "not intended as medical advice", "found this helpful")


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_layout_golden(name):
    page = read_page(LAYOUTS / f"{name}.txt")
    want = EXPECTED[name]
    assert page.declared_answers == want["declared"]
    assert [a.doctor for a in page.answers] == [a["doctor"] for a in want["answers"]]
    for answer, expected in zip(page.answers, want["answers"], strict=True):
        for field in FIELDS:
            assert getattr(answer, field) == expected[field], (answer.index, field)
        assert answer.text.startswith(expected["starts"]), (answer.index, answer.text)
        assert answer.text.endswith(expected["ends"]), (answer.index, answer.text)
        for absent in expected.get("absent", ()):
            assert absent not in answer.text
        if answer.heading:  # a heading is never a line of the quotable text
            assert answer.heading not in answer.text.split("\n")
        for noise in NOISE:
            assert noise not in answer.text, (answer.index, noise)
    assert page.warnings == (), page.warnings


def test_partial_page_is_information_not_a_warning():
    page = read_page(LAYOUTS / "count_in_brackets.txt")
    assert page.warnings == ()
    assert len(page.notes) == 1
    assert "declares 12 answers but 3 were found" in page.notes[0]


def test_subheadings_stay_inside_their_answer():
    page = read_page(LAYOUTS / "subheadings.txt")
    first = page.answers[0]
    assert "The eyelid droop, called ptosis" in first.text
    assert "A low brow is different" in first.text
    assert first.subheadings == ("A Droopy Eye-LID", "A Droopy Brow")


def test_signature_inside_text_is_a_warning():
    text = (
        "Question?\n\nBody.\n\nDoctor Answers 1\n\nHeading\n\nFirst part of the answer.\n"
        "Jane Smith, MD\nMore text that follows the name without a break.\n\n"
        "John Roe, MD\nDenver Dermatologist\n"
    )
    page = parse_page(text, "p")
    assert any("name-like line" in w for w in page.warnings), page.warnings


def test_more_answers_than_declared_is_a_warning():
    text = (
        "Question?\n\nBody.\n\nDoctor Answers 1\n\nOne answer.\n\nJane Smith, MD\n"
        "Denver Dermatologist\n\nAnother answer.\n\nJohn Roe, MD\nDenver Dermatologist\n"
    )
    page = parse_page(text, "p")
    assert len(page.answers) == 2
    assert any("declares 1 answers but 2 were found" in w for w in page.warnings)


def test_heading_only_answer_is_dropped_with_a_warning():
    text = (
        "Question?\n\nBody.\n\nDoctor Answers 2\n\nBotox wears off\n\nIt lasts three months.\n\n"
        "Jane Smith, MD\nDenver Dermatologist\n\nGreat question\n\nJohn Roe, MD\n"
        "Denver Dermatologist\n"
    )
    page = parse_page(text, "p")
    assert [a.doctor for a in page.answers] == ["Jane Smith"]
    assert all("Great question" not in a.text for a in page.answers)
    assert any("only a heading" in w for w in page.warnings)


def test_a_broken_page_cannot_flood_the_report_with_warnings():
    junk = "\n\n".join(f"menu item {n}" for n in range(200))
    text = (
        "Question?\n\nBody.\n\nDoctor Answers 1\n\nAn answer.\n\nJane Smith, MD\n"
        f"Denver Dermatologist\n\n{junk}\n\nJohn Roe, MD\nDenver Dermatologist\n"
    )
    page = parse_page(text, "p")
    assert len(page.warnings) == 11
    assert page.warnings[-1].endswith("more warnings like these")


def test_markup_lines_vanish_but_entity_blanks_still_separate_answers():
    text = (
        "Question?\n\nBody.\n\nDoctor Answers 2\n\nFirst answer.\n<div class='sig'>\n"
        "Jane Smith, MD\nDenver Dermatologist\n</div>\n&nbsp;\nSecond answer.\n&nbsp;\n"
        "John Roe, MD\nDenver Dermatologist\n"
    )
    page = parse_page(text, "p")
    assert [(a.doctor, a.text) for a in page.answers] == [
        ("Jane Smith", "First answer."),
        ("John Roe", "Second answer."),
    ]


def test_a_question_line_inside_an_answer_stays_in_its_text():
    text = (
        "Question?\n\nBody.\n\nDoctor Answers 1\n\nBotox wears off\n\nYou asked two things.\n\n"
        "Is it permanent?\n\nNo, it wears off in three months.\n\nJane Smith, MD\n"
        "Denver Dermatologist\n"
    )
    (answer,) = parse_page(text, "p").answers
    assert answer.heading == "Botox wears off"
    assert answer.text == (
        "You asked two things.\n\nIs it permanent?\n\nNo, it wears off in three months."
    )
