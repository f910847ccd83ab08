"""The web layer's small parts: safe rendering, the rate limiter, origins, the feedback store."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys

import pytest

from bot.reply import Citation, Reply
from vectorstore.errors import SettingsError
from webapp.feedback import FeedbackStore
from webapp.ratelimit import RateLimiter
from webapp.render import (
    Turn,
    highlight,
    paragraphs,
    render_reply,
    render_transcript,
    safe_url,
)
from webapp.security import content_security_policy, parse_origins

EVIL = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>'
DISCLAIMER = "General information, not medical advice."


def citation(**overrides) -> Citation:
    """A citation with plausible defaults."""
    values = dict(
        marker=1,
        page_id="p1",
        answer_id="p1#0",
        doctor="Gail Nield",
        credentials="MD, FRCPC",
        location="Toronto",
        specialty="Dermatologist",
        organisation=None,
        page_question="Is Botox permanent?",
        quote=("Botox will wear off in approximately 3 months.",),
        answer_text="Botox will wear off in approximately 3 months. See your injector.",
    )
    values.update(overrides)
    return Citation(**values)


def test_reply_html_escapes_user_and_doctor_text():
    cite = citation(
        doctor=EVIL,
        page_question=EVIL,
        answer_text=f"Fine. {EVIL} Botox will wear off in approximately 3 months.",
    )
    reply = Reply(text=f'One doctor: "{EVIL}" [1]', disclaimer=DISCLAIMER, citations=(cite,))
    html = render_transcript([Turn(question=EVIL, reply=reply)])
    assert "<img" not in html and "<script" not in html
    assert (
        html.count("&lt;img src=x onerror=&quot;window.__xss=1&quot;&gt;") == 10
    )  # every place it shows (7), and the hidden text the Copy button copies (3)
    assert "<mark>Botox will wear off in approximately 3 months.</mark>" in html


def test_markers_link_only_to_known_sources():
    reply = Reply(text="A [1] and B [7]", disclaimer=DISCLAIMER, citations=(citation(),))
    html = render_reply(reply)
    assert f'href="#src-{reply.id}-1"' in html
    assert "[7]</a>" not in html and "B [7]" in html
    assert f'id="src-{reply.id}-1"' in html
    assert "Gail Nield, MD, FRCPC (Toronto Dermatologist)" in html


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://www.realself.com/question/botox", "https://www.realself.com/question/botox"),
        ("http://example.org/a?b=1", "http://example.org/a?b=1"),
        ("javascript:alert(1)", None),
        ("data:text/html,<b>x</b>", None),
        ("//evil.example/x", None),
        ("https://ok.example/\njavascript:1", None),
        (None, None),
    ],
)
def test_only_plain_web_links_are_kept(url, expected):
    assert safe_url(url) == expected


def test_source_link_is_escaped_and_opens_safely():
    reply = Reply(
        text="A [1]",
        disclaimer=DISCLAIMER,
        citations=(citation(url='https://x.example/"onmouseover="alert(1)'),),
    )
    html = render_reply(reply)
    assert 'href="https://x.example/&quot;onmouseover=&quot;alert(1)"' in html
    assert 'rel="noopener noreferrer nofollow"' in html
    bad = render_reply(
        Reply(text="A [1]", disclaimer=DISCLAIMER, citations=(citation(url="javascript:x"),))
    )
    assert "javascript:" not in bad


def test_only_bold_is_formatted_and_its_content_stays_escaped():
    html = paragraphs("**Call 911** now. **<img src=x onerror=alert(1)>** [not a link](https://x)")
    assert html == (
        "<p><strong>Call 911</strong> now. <strong>&lt;img src=x onerror=alert(1)&gt;</strong> "
        "[not a link](https://x)</p>"
    )


def test_highlight_tolerates_whitespace_differences():
    text = "First line.\nBotox wears off\nin 3 months. Last."
    assert highlight(text, ["Botox wears off in 3 months."]) == (
        "First line.\n<mark>Botox wears off\nin 3 months.</mark> Last."
    )


@pytest.mark.parametrize(
    ("kind", "badge"),
    [
        ("abstain", "Not covered"),
        ("partial", "Not covered"),
        ("emergency", "Emergency"),
        ("crisis", "support is available"),
    ],
)
def test_special_kinds_get_their_own_look(kind, badge):
    html = render_reply(Reply(text="Call 911.", disclaimer=DISCLAIMER, kind=kind))
    assert f'class="msg bot kind-{kind}"' in html
    assert badge in html
    assert DISCLAIMER in html


def test_rate_limiter_refills_over_time():
    now = [0.0]
    limiter = RateLimiter(2, clock=lambda: now[0])
    assert limiter.allow("a") and limiter.allow("a")
    assert not limiter.allow("a")
    assert limiter.allow("b")  # per client
    assert limiter.retry_after("a") == 30
    now[0] = 30.0
    assert limiter.allow("a")
    assert not limiter.allow("a")


@pytest.mark.parametrize(
    "value", ["*", "https://a.example/path", "ftp://a.example", "a.example", "https://*.x.com"]
)
def test_bad_allowed_origins_are_refused(value):
    with pytest.raises(SettingsError, match="BOT_ALLOWED_ORIGINS"):
        parse_origins(value)


def test_allowed_origins_normalised_into_frame_ancestors():
    origins = parse_origins(
        " https://Clinic.example/ , http://127.0.0.2:8000,https://clinic.example"
    )
    assert origins == ("https://clinic.example", "http://127.0.0.2:8000")
    csp = content_security_policy(origins)
    assert "frame-ancestors 'self' https://clinic.example http://127.0.0.2:8000" in csp
    assert "img-src 'self' data:" in csp


def test_feedback_is_redacted_before_it_is_written(tmp_path):
    store = FeedbackStore.in_folder(tmp_path / "state")
    reply = Reply(
        text="Ask jane.doe@example.com or call 415-555-0132 [1]",
        disclaimer=DISCLAIMER,
        citations=(citation(),),
        question="q",
    )
    question = "I am at jane.doe@example.com, phone +1 415 555 0132: is botox permanent?"
    store.record(reply, "down", "wrong source", question=question)
    with sqlite3.connect(tmp_path / "state" / "feedback.sqlite3") as conn:
        row = conn.execute(
            "SELECT reply_id, rating, reason, kind, question, reply_text, citations FROM feedback"
        ).fetchone()
    assert row[:4] == (reply.id, "down", "wrong source", "answer")
    for text in row[4:6]:
        assert "jane.doe@example.com" not in text and "555" not in text
    assert "is botox permanent?" in row[4]
    assert json.loads(row[6])[0]["attribution"] == "Gail Nield, MD, FRCPC (Toronto Dermatologist)"
    with pytest.raises(ValueError, match="reason"):
        store.record(reply, "down", "because")


def test_feedback_older_than_the_retention_period_is_deleted(tmp_path):
    from datetime import UTC, datetime, timedelta

    store = FeedbackStore.in_folder(tmp_path / "state", retention_days=30)
    reply = Reply(text="Botox wears off [1]", disclaimer=DISCLAIMER, citations=(citation(),))
    store.record(reply, "up")
    store.record(reply, "down", "unclear")
    db = tmp_path / "state" / "feedback.sqlite3"
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE feedback SET created_at = '2020-01-01T00:00:00+00:00' WHERE id = 1")
    assert store.purge() == 1
    assert store.purge(now=datetime.now(UTC) + timedelta(days=31)) == 1
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT COUNT(*) FROM feedback").fetchone()[0] == 0


def test_core_never_imports_gradio():
    code = "import sys, bot.chain, bot.cli, vectorstore.index; print('gradio' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_a_partial_reply_that_quotes_the_covered_part_says_partly_covered():
    reply = Reply(
        text='None mention "alcohol".\n\nHere is what they do say:\n\nOne doctor: "A." [1]',
        disclaimer=DISCLAIMER,
        kind="partial",
        citations=(citation(),),
    )
    html = render_reply(reply)
    assert "Partly covered" in html and "Not covered" not in html
