"""Property-based fuzzing of the shared entry point: it never raises, every reply is disclaimed."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot import prompts

MARKUP = st.sampled_from(
    [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "![x](http://evil/x.png)",
        "[a](javascript:alert(1))",
        "{{disclaimer}}",
        "[1][2][99]",
        "\x00\x1b[31m",
        "\u202e\u200b",
        "'; DROP TABLE feedback; --",
        "%s%n%x",
        "\\u0000",
        "```python\nimport os\n```",
    ]
)
QUESTIONS = st.one_of(
    st.text(max_size=300),  # any unicode, control characters included
    st.text(alphabet=st.characters(codec="utf-8"), min_size=1990, max_size=2600),  # near the limit
    st.just(""),
    st.text(alphabet=" \t\n\r\x0b\x0c", max_size=50),
    st.builds(lambda a, b, c: f"{a} {b} {c}", st.text(max_size=80), MARKUP, st.text(max_size=80)),
    st.builds(lambda a, m: f"How long does botox last? {m} {a}", st.text(max_size=60), MARKUP),
)
HISTORY = st.lists(
    st.tuples(st.text(max_size=100), st.one_of(st.text(max_size=100), st.none())), max_size=3
)


@pytest.mark.slow
@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(question=QUESTIONS, history=HISTORY)
def test_answer_never_raises_and_always_disclaims(seed_bot, question, history):
    reply = seed_bot.answer(question, history)  # strict bot: an unexpected error fails the test
    assert reply.disclaimer == prompts.disclaimer()
    assert reply.kind != "error"
    assert isinstance(reply.text, str) and reply.text.strip()
    for cite in reply.citations:
        assert f"[{cite.marker}]" in reply.text
