"""The relevance gate's coverage test: words no passing answer contains."""

from __future__ import annotations

from langchain_core.documents import Document

from bot.answer.gate import without_uncovered

DOCS = [
    Document(
        "Botox is not permanent and will last 2-4 months.",
        metadata={
            "page_title": "Is Botox permanent?",
            "page_body": "my crows feet and cheek droop",
        },
    )
]


def test_words_no_answer_contains_are_left_out():
    assert without_uncovered("Is lip filler permanent?", DOCS) == "Is permanent ?"


def test_a_covered_question_is_unchanged():
    assert without_uncovered("Is Botox permanent?", DOCS) == "Is Botox permanent?"


def test_the_patients_question_and_word_forms_count_as_covered():
    question = "Is the cheek drooping from Botox in my crow’s feet permanent?"
    assert without_uncovered(question, DOCS) == question


def test_stop_words_and_punctuation_are_never_left_out():
    assert (
        without_uncovered("Is it the tattoo, or is it Botox?", DOCS)
        == "Is it the , or is it Botox ?"
    )
