"""Format Replies as safe HTML for the chat page: every piece of user or doctor text is escaped.

Nothing here passes text through as markup: no Markdown, no raw HTML, no images. The only tags
are the ones written below, and the only links go to a source's own http(s) URL.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from bot import prompts
from bot.reply import Citation, Reply, StatementEvent
from webapp.escape import esc, inline, safe_url
from webapp.render_actions import EDIT_ICON, render_copy, render_feedback

MARKER = re.compile(r"\[(\d{1,3})\]")
# kind -> (badge shown above the reply, or None for a plain answer; ARIA role of the reply)
KIND_STYLE = {
    "answer": (None, None),
    "partial": ("Not covered: what you asked is not in the doctors' answers", None),
    "abstain": ("Not covered by the doctors' answers", None),
    "emergency": ("Emergency: get help now", "alert"),
    "crisis": ("You are not alone: support is available now", "alert"),
    "referral": ("Please see a doctor", None),
    "rejected": ("Could not answer this", None),
    "unavailable": ("Temporarily unavailable", None),
    "error": ("Something went wrong", None),
}
# A partial reply that also quotes what the answers say about the rest of the question.
PARTLY = "Partly covered: part of what you asked is not in the doctors' answers"


@dataclass
class Turn:
    """One exchange in a chat session: the question, the text streamed so far, the final reply."""

    question: str
    statements: list[StatementEvent] = field(default_factory=list)  # verified, as streamed
    reply: Reply | None = None
    feedback: str | None = None  # "up" or "down" once the user rated the reply
    reason: str | None = None  # the reason given with a thumbs-down
    rateable: bool = True  # False for replies the web layer made itself (e.g. "busy")


def _quote_spans(text: str, quotes: Sequence[str]) -> list[tuple[int, int]]:
    """Character spans of the quoted sentences in the answer, merged where they overlap."""
    spans = []
    for quote in quotes:
        words = quote.split()
        if not words:
            continue
        # The quote may differ from the answer in whitespace only (line breaks, double spaces).
        pattern = r"\s+".join(re.escape(w) for w in words)
        for found in re.finditer(pattern, text):
            spans.append(found.span())
    spans.sort()
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def highlight(text: str, quotes: Sequence[str]) -> str:
    """The doctor's answer, escaped, with the quoted sentences wrapped in <mark>."""
    out, last = [], 0
    for start, end in _quote_spans(text, quotes):
        out.append(esc(text[last:start]))
        out.append(f"<mark>{esc(text[start:end])}</mark>")
        last = end
    out.append(esc(text[last:]))
    return "".join(out)


def source_id(reply_id: str, marker: int) -> str:
    """The DOM id of a reply's source card (reply ids are hex, so the id is safe)."""
    return f"src-{re.sub(r'[^A-Za-z0-9_-]', '', reply_id)}-{int(marker)}"


def _with_markers(text: str, reply_id: str, citations: dict[int, Citation]) -> str:
    """Escaped text in which each known [n] becomes a link that opens source card n."""
    out, last = [], 0
    for found in MARKER.finditer(text):
        marker = int(found.group(1))
        if marker not in citations:
            continue
        out.append(inline(text[last : found.start()]))
        target = source_id(reply_id, marker)
        label = f"Source {marker}: {citations[marker].attribution}"
        out.append(
            f'<a class="cite" href="#{target}" data-src="{target}" aria-label="{esc(label)}">'
            f"[{marker}]</a>"
        )
        last = found.end()
    out.append(inline(text[last:]))
    return "".join(out)


def paragraphs(text: str, reply_id: str = "", citations: Sequence[Citation] = ()) -> str:
    """Reply text as <p> paragraphs (blank lines split them), markers linked to their sources."""
    by_marker = {c.marker: c for c in citations}
    parts = [p for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]
    return "".join(
        "<p>" + _with_markers(p.strip(), reply_id, by_marker).replace("\n", "<br>") + "</p>"
        for p in parts
    )


def render_source(citation: Citation, reply_id: str) -> str:
    """A collapsible source card: who answered, what they were asked, and their answer."""
    c = citation
    facts = [
        ("Doctor", c.doctor or c.organisation or "Name not given on the page"),
        ("Credentials", c.credentials),
        ("City", c.location),
        ("Specialty", c.specialty),
        ("Answered", c.date),
        ("Upvotes", str(c.upvotes) if c.upvotes is not None else None),
    ]
    rows = "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in facts if v)
    url = safe_url(c.url)
    link = (
        f'<p class="src-link"><a href="{esc(url)}" target="_blank" '
        f'rel="noopener noreferrer nofollow">Read the original answer</a></p>'
        if url
        else ""
    )
    return (
        f'<details class="source" id="{source_id(reply_id, c.marker)}">'
        f'<summary><span class="src-num">[{c.marker}]</span> {esc(c.attribution)}</summary>'
        f'<div class="src-body"><dl class="src-facts">{rows}</dl>'
        f'<p class="src-asked"><span class="src-label">Question this doctor answered:</span> '
        f"{esc(c.page_question)}</p>"
        f'<p class="src-label">The doctor\'s answer (quoted sentences highlighted):</p>'
        f'<blockquote class="src-answer">{highlight(c.answer_text, c.quote)}</blockquote>'
        f"{link}</div></details>"
    )


def render_follow_ups(questions: Sequence[str]) -> str:
    """Questions other patients asked on close pages, each a button that asks it."""
    if not questions:
        return ""
    buttons = "".join(
        f'<li><button type="button" class="follow-up" data-q="{esc(q)}">{esc(q)}</button></li>'
        for q in questions
    )
    return (
        '<nav class="follow-ups" aria-label="Other patients asked">'
        f'<p class="fu-title">Other patients asked:</p><ul>{buttons}</ul></nav>'
    )


def _urgent_block(text: str) -> tuple[str, str]:
    """An urgent reply's text split into its "get seen today" block and the rest."""
    block = prompts.load("urgent")
    if text.startswith(block):
        return block, text[len(block) :].strip()
    return text, ""


def render_reply(
    reply: Reply, feedback: str | None = None, *, rateable: bool = True, reason: str | None = None
) -> str:
    """One finished reply: badge, notice, text with markers, source cards, disclaimer, rating."""
    kind = reply.kind if reply.kind in KIND_STYLE else "answer"
    badge, role = KIND_STYLE[kind]
    if kind == "partial" and reply.citations:
        badge = PARTLY
    role_attr = f' role="{role}"' if role else ""
    parts = [f'<article class="msg bot kind-{kind}" data-kind="{kind}"{role_attr} ']
    parts.append(f'aria-label="Reply" data-reply="{esc(reply.id)}">')
    text = reply.text
    if reply.triage == "urgent":  # the safety block comes first, before any badge or notice
        block, text = _urgent_block(text)
        parts.append(
            f'<section class="urgent-block" role="alert" aria-label="Get seen today">'
            f'<p class="badge">Get seen today</p>{paragraphs(block)}</section>'
        )
    if badge:
        parts.append(f'<p class="badge">{esc(badge)}</p>')
    if reply.notice:
        parts.append(f'<p class="notice">{esc(reply.notice)}</p>')
    parts.append(f'<div class="text">{paragraphs(text, reply.id, reply.citations)}</div>')
    if reply.citations:
        cards = "".join(render_source(c, reply.id) for c in reply.citations)
        parts.append(f'<section class="sources" aria-label="Sources"><h2>Sources</h2>{cards}')
        parts.append("</section>")
    parts.append(render_follow_ups(reply.follow_ups))
    parts.append(f'<p class="disclaimer" role="note">{esc(reply.disclaimer)}</p>')
    parts.append(render_copy(reply))
    if rateable:
        parts.append(render_feedback(reply.id, feedback, reason))
    parts.append("</article>")
    return "".join(parts)


def render_question(question: str, *, editable: bool = False) -> str:
    """The user's own message, escaped; the last one can be taken back to edit and resend."""
    edit = (
        '<button type="button" class="edit-btn" aria-label="Edit this question and ask again">'
        f"{EDIT_ICON} Edit</button>"
        if editable
        else ""
    )
    return (
        f'<article class="msg user" aria-label="Your question">{paragraphs(question)}{edit}'
        "</article>"
    )


def streamed_text(statements: Sequence[StatementEvent]) -> str:
    """The statements sent so far as one text: a space within a paragraph, a blank line between."""
    text = ""
    for i, s in enumerate(statements):
        if i:
            text += " " if s.paragraph == statements[i - 1].paragraph else "\n\n"
        text += s.text
    return text


def render_pending(statements: Sequence[StatementEvent]) -> str:
    """A reply still being written: the verified statements so far with their sources and the
    disclaimer, or a waiting note before the first one."""
    if not statements:
        body = '<p class="waiting">Looking through the doctors\' answers…</p>'
        return (
            f'<article class="msg bot pending" aria-busy="true" aria-label="Reply">{body}</article>'
        )
    urgent = [s for s in statements if s.kind == "urgent"]
    rest = [s for s in statements if s.kind != "urgent"]
    citations = [c for s in rest for c in s.citations]
    parts = ['<article class="msg bot pending" aria-busy="true" aria-label="Reply">']
    if urgent:
        parts.append(
            '<section class="urgent-block" role="alert" aria-label="Get seen today">'
            f'<p class="badge">Get seen today</p>{paragraphs(streamed_text(urgent))}</section>'
        )
    parts.append(f'<div class="text">{paragraphs(streamed_text(rest), "pending", citations)}</div>')
    if citations:
        cards = "".join(render_source(c, "pending") for c in citations)
        parts.append(f'<section class="sources" aria-label="Sources"><h2>Sources</h2>{cards}')
        parts.append("</section>")
    parts.append(f'<p class="disclaimer" role="note">{esc(statements[0].disclaimer)}</p>')
    parts.append("</article>")
    return "".join(parts)


def render_transcript(turns: Sequence[Turn]) -> str:
    """The whole conversation, oldest first; an empty chat shows a short welcome."""
    if not turns:
        return (
            '<p class="empty">Ask a question about Botox. Every answer quotes doctors\' '
            "published answers and names the doctor behind each statement.</p>"
        )
    out = []
    for n, turn in enumerate(turns, 1):
        last_done = n == len(turns) and turn.reply is not None
        out.append(render_question(turn.question, editable=last_done))
        if turn.reply is None:
            out.append(render_pending(turn.statements))
        else:
            out.append(
                render_reply(turn.reply, turn.feedback, rateable=turn.rateable, reason=turn.reason)
            )
    return "".join(out)


def render_banner(disclaimer: str) -> str:
    """The persistent disclaimer banner at the top of the page."""
    return (
        f'<div class="banner" role="note" aria-label="Medical disclaimer">{esc(disclaimer)}</div>'
    )
