"""Input validation: cleaning, empty and over-long questions, non-English detection."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.safety.validate import Checked, check_question, clean, looks_non_english

DATA = Path(__file__).parent / "data"
LIVEQA = Path(__file__).resolve().parents[2] / "shared/data/liveqa_med2017_consumer_questions.jsonl"


def _jsonl(path: Path, field: str) -> list[str]:
    return [json.loads(x)[field] for x in path.read_text(encoding="utf-8").splitlines() if x]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  how long does botox last?  ", "how long does botox last?"),
        ("botox\tlast", "botox last"),
        ("line one\nline two", "line one\nline two"),
        ("windows\r\nline", "windows\nline"),
        ("bell\x07 and nul\x00 gone", "bell and nul gone"),
        ("zero\u200bwidth", "zerowidth"),
        ("bidi \u202eoverride", "bidi override"),
        ("\ufeffbom first", "bom first"),
        ("form\x0cfeed", "form feed"),
        ("cafe\u0301", "caf\u00e9"),  # NFC composes e + combining acute
        ("emoji \U0001f468\u200d\U0001f469 family", "emoji \U0001f468\u200d\U0001f469 family"),
    ],
)
def test_clean(raw, expected):
    assert clean(raw) == expected


@pytest.mark.parametrize("raw", ["", "   ", "\n\t\n", "\x00\x01", "\u200b\u200b"])
def test_empty_questions(raw):
    assert check_question(raw, 100) == Checked("", "empty", False)


def test_length_limit_counts_the_cleaned_text():
    assert check_question("a" * 20, 20).problem is None
    assert check_question("a" * 21, 20) == Checked("a" * 21, "too_long", False)
    # Surrounding whitespace and control characters do not count towards the limit.
    assert check_question("  " + "a" * 20 + "\x00\n ", 20) == Checked("a" * 20, None, False)


@pytest.mark.parametrize("limit", [0, -5])
def test_limit_must_be_positive(limit):
    with pytest.raises(ValueError, match="positive"):
        check_question("hello", limit)


def test_non_string_is_refused():
    with pytest.raises(ValueError, match="string"):
        check_question(None, 100)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "text",
    [
        "¿Cuánto dura el bótox?",
        "Me puse botox hace dos semanas y tengo el párpado caído",
        "Combien de temps dure le botox ?",
        "J'ai une paupière qui tombe après le botox, est-ce que c'est normal ?",
        "Wie lange hält Botox?",
        "Ich habe nach dem Botox ein hängendes Augenlid",
        "Quanto tempo dura o botox?",
        "Quanto dura il botox?",
        "肉毒杆菌能维持多久？",
        "Сколько длится эффект ботокса?",
        "बोटॉक्स कितने समय तक रहता है?",
        "ボトックスはどのくらい持続しますか",
        "كم يدوم البوتوكس؟",
    ],
)
def test_non_english_is_noticed(text):
    checked = check_question(text, 2000)
    assert checked.non_english is True
    assert checked.problem is None  # still answered, with a note


@pytest.mark.parametrize(
    "text",
    [
        "botox?",
        "Dysport vs Xeomin",
        "hw long dose botox last",
        "can i get botx wen pregant",
        "ptosis after tox",
        "Is Sculptra ok?",
        "I had botox in Mexico, la clinica said it was normal",
        "What does 肉毒杆菌 mean?",
        "I want to die",
        "Juvederm Voluma, Restylane Lyft or Radiesse for cheeks?",
        "DROOPY EYELID HELP",
    ],
)
def test_english_is_not_flagged(text):
    assert check_question(text, 2000).non_english is False


def test_no_english_message_in_the_project_data_is_flagged():
    texts = _jsonl(DATA / "triage_labelled.jsonl", "text") + _jsonl(
        DATA / "dosing_cases.jsonl", "text"
    )
    if LIVEQA.is_file():  # 86 real consumer health questions, long and misspelt
        texts += _jsonl(LIVEQA, "question")
    flagged = [t for t in texts if looks_non_english(t)]
    assert len(texts) > 300
    assert flagged == []


def test_fixed_texts_for_validation_problems():
    from bot.prompts import load

    assert load("empty_question").startswith("Please type a question")
    too_long = load("too_long")
    assert "{limit}" in too_long
    assert "2000 characters" in too_long.format(limit=2000)
    assert "English" in load("non_english")
