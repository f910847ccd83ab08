"""PII redaction: contact and payment data go, medical numbers stay."""

from __future__ import annotations

import gzip
import json
import random
import sys
from pathlib import Path

import pytest

from bot.safety.redact import redact, redact_patterns
from tests.conftest import SHARED_DATA

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
from pii_redaction import SETS, load, score  # noqa: E402


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mail jane.doe+botox@example.co.uk now", "mail [email] now"),
        ("Email: J_Smith99@clinic-mail.com.", "Email: [email]."),
        ("call me at (212) 555-0198 please", "call me at [phone] please"),
        ("my cell is 415-555-2671", "my cell is [phone]"),
        ("1-800-555-0199 is the clinic", "[phone] is the clinic"),
        ("UK: 020 7946 0958 or +44 20 7946 0958", "UK: [phone] or [phone]"),
        ("mobile 07700 900123", "mobile [phone]"),
        ("Sydney 0412 345 678, +61 412 345 678", "Sydney [phone], [phone]"),
        ("Mumbai +91 98765 43210", "Mumbai [phone]"),
        ("Toronto 604-555-0123", "Toronto [phone]"),
        ("Paris +33 1 42 68 53 00, Berlin +49 30 901820", "Paris [phone], Berlin [phone]"),
        ("fictional (555) 123-4567", "fictional [phone]"),
        ("SSN 123-45-6789", "SSN [ssn]"),
        ("my social security number is 123456789", "my social security number is [ssn]"),
        ("card 4111 1111 1111 1111 exp 12/27", "card [card] exp 12/27"),
        ("card 4111-1111-1111-1111", "card [card]"),
        ("ip 192.168.1.20 and 2001:db8::ff00:42:8329", "ip [ip] and [ip]"),
        ("I live at 42 Oak Tree Lane, Springfield", "I live at [address], Springfield"),
        # An IPv4 address at the end of a sentence (issue 15).
        ("my IP is 10.0.0.1. Then it failed", "my IP is [ip]. Then it failed"),
        ("from 192.168.1.20.", "from [ip]."),
        # Presidio: names, labelled birth dates and record numbers, postcodes, addresses.
        ("My name is Anna Kowalski, DOB 02/05/1990", "My name is [name], DOB [birthdate]"),
        ("my son Leo (born 3 June 2015) has a rash", "my son [name] (born [birthdate]) has a rash"),
        ("MRN: 12-3456-78 at the clinic", "MRN: [record] at the clinic"),
        ("ssn is 123 45 6789", "ssn is [ssn]"),
        ("write to 12B Rose Hill Road NW, Leeds LS1 4AP", "write to [address], Leeds [postcode]"),
        ("Austin, TX 78701 or zip 10001-1234", "Austin, TX [postcode] or zip [postcode]"),
    ],
)
def test_personal_data_is_replaced(text, expected):
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "I got 20 units in my forehead and 12 units per side for crow's feet",
        "it lasts 3-4 months, sometimes 100-150 days",
        "2.5 mg of prednisone, 0.5 ml of filler, 1 cc syringe, 4 units per 0.1 ml",
        "I had it done in october, on 10/12/2023, at 10:30:45 on 2023-10-12",
        "Botox 100 unit vial diluted with 2.5 ml saline",
        "lot C3709C3, NDC 0023-1145-01, BP 120/80, 65 kg, 1 in 10,000",
        "it cost $450, or 1,200 dollars for two syringes",
        "card 4111 1111 1111 1112 fails the checksum",  # not Luhn-valid: left alone
        "time 10:30:45 is not an IPv6 address",
        "see https://example.org/article/135604-treatment for details",
        "Dr. Smith at St Mary clinic, 2 Advil, Order #12345678",
        # Names the NER model takes for people: eponyms, products, doctors, headings.
        "I have Bell's palsy and Graves' disease; is Botox or Dysport safer?",
        "Werner syndrome and Wolman disease are rare.",
        "Gail Nield, MD, FRCPC wrote that Kybella lasts.",
        "Side Effects\nBotox can cause a droopy eyelid for 3 months.",
        "Email: none, Phone: none",
        "I was seen on 10/12/2023 and I am 45; my zip code changed.",
    ],
)
def test_medical_and_other_numbers_survive(text):
    assert redact(text) == text


def test_project_messages_and_seed_pages_are_untouched():
    texts = [
        json.loads(x)["text"]
        for name in ("triage_labelled.jsonl", "dosing_cases.jsonl")
        for x in (ROOT / "tests" / "data" / name).read_text(encoding="utf-8").splitlines()
    ]
    texts += [p.read_text(encoding="utf-8") for p in sorted((ROOT / "seeds").glob("*.txt"))]
    changed = [t[:80] for t in texts if redact(t) != t]
    assert len(texts) > 300
    assert changed == []


def test_non_string_is_refused():
    with pytest.raises(ValueError, match="string"):
        redact(12345)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["dev", "blind"])
def test_labelled_pii_sets(name):
    # tests/data/pii_*.jsonl were written before the Presidio layer; the blind set's first run
    # is recorded in BENCHMARKS.md. Medical content ("keep") must all survive.
    cases = load(SETS[name])
    full, patterns = score(cases, redact), score(cases, redact_patterns)
    assert len(cases) >= 20 and full["identifiers"] >= 15
    assert full["keep"] == 1.0, full["misses"]
    assert full["recall"] >= 0.95 and full["precision"] >= 0.95, full["misses"]
    assert patterns["recall"] < 0.3  # the regular expressions alone miss most of them


@pytest.mark.slow
@pytest.mark.skipif(
    not (SHARED_DATA / "liveqa_med2017_consumer_questions.jsonl").is_file(),
    reason="needs ../shared/data (LiveQA questions, MedQuAD answers)",
)
def test_medical_text_written_by_others_is_hardly_touched():
    # Real consumer questions (LiveQA) and MedQuAD answers hold eponyms, drug names, headings
    # and doses but no patient's identifiers: what redact() replaces there is a false positive.
    questions = [
        json.loads(line)["question"]
        for line in (SHARED_DATA / "liveqa_med2017_consumer_questions.jsonl").open()
    ]
    with gzip.open(SHARED_DATA / "medquad_answers.jsonl.gz", "rt", encoding="utf-8") as fh:
        answers = [json.loads(line)["answer"] for line in fh]
    texts = questions + random.Random(11).sample(answers, 150)
    changed = [t[:80] for t in texts if redact(t) != t]
    assert len(texts) == 236
    assert len(changed) <= 8, changed  # 5 of 236 when written
