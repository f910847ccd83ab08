"""The eval report's cases: the whole reply, what each case expected, and what matched."""

from __future__ import annotations

from bot.eval_case_view import case_rows, expected_html
from bot.eval_metrics import check
from bot.evaluate import _why

LONG_TAIL = "It takes a few days to start working and about two weeks to reach its full effect. "
TEXT = (
    'One doctor notes: "Botox is not permanent and will last 3-4 months." [1]\n\n'
    'Another doctor says: "' + LONG_TAIL * 4 + 'The last word of this reply." [2]'
)
REPLY = {
    "text": TEXT,
    "kind": "answer",
    "triage": None,
    "disclaimer": "This is general information, not medical advice.",
    "citations": [
        {"marker": 1, "page_id": "p1", "attribution": "Gail Nield, MD", "quote": ["Botox is"]},
        {"marker": 2, "page_id": "p2", "attribution": "T.G. Khan, DO", "quote": ["It takes"]},
    ],
}


def _result(**case) -> dict:
    case = {"id": "c1", "question": "How long does Botox last?", "category": "answer", **case}
    return {"id": "c1", "case": case, "reply": REPLY, "flags": check(case, REPLY)}


def test_the_report_shows_the_whole_reply_and_its_sources():
    page = case_rows([_result(expect="answer")])
    assert len(TEXT) > 300 and "The last word of this reply." in page  # nothing cut off
    assert "Gail Nield, MD" in page and "T.G. Khan, DO" in page and "2 source(s)" in page


def test_expected_facts_are_listed_with_what_matched():
    result = _result(
        expect="answer",
        must_mention_any=["2-4 months", "3-4 months"],
        must_not_mention=["permanent"],
        nuggets=[["3 to 4 months", "3-4 months"], ["wears off gradually"]],
    )
    shown = expected_html(result["case"], REPLY, result["flags"])
    assert "<mark>3-4 months</mark>" in shown  # the wording that matched, among the expected
    assert "&ldquo;2-4 months&rdquo;" in shown
    assert "✗</span> never mentions &ldquo;permanent&rdquo;" in shown  # "not permanent" says it
    assert "✗</span> fact: wears off gradually" in shown
    assert "(the direct answer: in the first statement)" in shown
    assert result["flags"]["mention"] is False


def test_a_failing_case_says_which_words_were_expected():
    missed = _result(expect="answer", must_mention_any=["six months", "half a year"])
    assert _why(missed) == 'c1 (mention: none of "six months" / "half a year")'
    said = _result(expect="answer", must_not_mention=["permanent"])
    assert _why(said) == 'c1 (mention: said "permanent")'
    first = _result(expect="answer", nuggets=[["two weeks"], ["3-4 months"]])
    assert _why(first) == 'c1 (first_answers: first statement lacks "two weeks")'
    page = case_rows([missed])
    assert "&ldquo;six months&rdquo;" in page and '<span class="fail">fail</span>' in page
