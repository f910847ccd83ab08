"""The controls under a reply and the reply being streamed, as HTML."""

from __future__ import annotations

import html
import re

from bot.reply import Reply, StatementEvent
from tests.test_app_render import DISCLAIMER, EVIL, citation
from webapp.render import Turn, render_pending, render_transcript
from webapp.render_actions import copy_text, render_feedback


def test_copy_text_has_the_reply_its_sources_and_the_disclaimer():
    cite = citation(url="https://www.example.com/q/1")
    reply = Reply(
        text='**Note**: one doctor notes: "Botox will wear off in approximately 3 months." [1]',
        disclaimer=DISCLAIMER,
        citations=(cite,),
    )
    assert copy_text(reply) == (
        'Note: one doctor notes: "Botox will wear off in approximately 3 months." [1]\n\n'
        "Sources:\n"
        "[1] Gail Nield, MD, FRCPC (Toronto Dermatologist), answering: Is Botox permanent?\n"
        '    "Botox will wear off in approximately 3 months."\n'
        "    https://www.example.com/q/1\n\n" + DISCLAIMER
    )


def test_copy_text_of_a_reply_without_sources():
    reply = Reply(text="Please call 911 now.", disclaimer=DISCLAIMER, kind="emergency")
    assert copy_text(reply) == "Please call 911 now.\n\n" + DISCLAIMER


def test_the_copied_text_sits_escaped_in_the_page():
    reply = Reply(text=f'One doctor: "{EVIL}" [1]', disclaimer=DISCLAIMER, citations=(citation(),))
    page = render_transcript([Turn(question="q", reply=reply)])
    hidden = re.search(r'<pre class="copy-text" hidden>(.*?)</pre>', page, re.S).group(1)
    assert "<" not in hidden and html.unescape(hidden) == copy_text(reply)


def test_feedback_toggles_start_released_and_stay_pressed_once_saved():
    fresh = render_feedback("abc", None)
    assert fresh.count('aria-pressed="false"') == 6 and "disabled" not in fresh
    assert 'id="fbr-abc" hidden' in fresh and "Send feedback" in fresh
    saved = render_feedback("abc", "down", "unsafe")
    pressed = re.findall(r'<button[^>]*aria-pressed="true"[^>]*>', saved)
    assert len(pressed) == 2  # "Not helpful" and "Unsafe"
    assert 'data-fb="down"' in pressed[0] and 'data-reason="unsafe"' in pressed[1]
    assert saved.count(" disabled") == 6 and "Send feedback" not in saved
    assert 'id="fbr-abc" hidden' not in saved and "feedback was saved" in saved
    up = render_feedback("abc", "up")
    assert re.findall(r'data-fb="(\w+)"[^>]*aria-pressed="true"', up) == ["up"]
    assert 'id="fbr-abc" hidden' in up


def test_only_the_last_finished_question_can_be_edited():
    done = Reply(text="Fine.", disclaimer=DISCLAIMER)
    page = render_transcript([Turn("first", reply=done), Turn("second", reply=done)])
    assert page.count('class="edit-btn"') == 1
    assert page.index('class="edit-btn"') > page.index("second")
    waiting = render_transcript([Turn("first", reply=done), Turn("second")])
    assert 'class="edit-btn"' not in waiting


def test_a_reply_being_streamed_shows_statements_sources_and_the_disclaimer():
    assert "Looking through" in render_pending([])
    statements = [
        StatementEvent("**Get seen today.**", DISCLAIMER, kind="urgent", paragraph=0),
        StatementEvent("It lasts 3 months [1]", DISCLAIMER, (citation(),), paragraph=1),
        StatementEvent("It wears off [1]", DISCLAIMER, paragraph=1),
    ]
    page = render_pending(statements)
    assert 'aria-busy="true"' in page and "data-reply" not in page
    assert '<section class="urgent-block"' in page and "<strong>Get seen today.</strong>" in page
    assert page.index("urgent-block") < page.index("It lasts")
    assert "It lasts 3 months " in page and "</a> It wears off" in page  # one paragraph
    assert page.count('class="source"') == 1 and DISCLAIMER in page
