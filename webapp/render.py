"""Format Replies as safe HTML for the chat page: every piece of user or doctor text is escaped.

Nothing here passes text through as markup: no Markdown, no raw HTML, no images. The only tags
are the ones written below, and the only links go to a source's own http(s) URL.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from bot import prompts
from bot.reply import Citation, Reply, StatementEvent

MARKER = re.compile(r"\[(\d{1,3})\]")
BOLD = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*")
FEEDBACK_REASONS = ("wrong source", "unclear", "unsafe", "other")
# Inline SVG, not emoji: every device draws it the same, and it is not an image request.
_THUMB = (
    '<svg aria-hidden="true" focusable="false" width="18" height="18" viewBox="0 0 24 24"{flip}>'
    '<path fill="currentColor" d="M2 21h4V9H2v12zm20-11a2 2 0 0 0-2-2h-6.3l1-4.6v-.3c0-.4-.2-.8'
    "-.4-1.1L13.2 1 6.6 7.6C6.2 8 6 8.5 6 9v10a2 2 0 0 0 2 2h9c.8 0 1.5-.5 1.8-1.2l3-7.1c.1-.2.2"
    '-.5.2-.7v-2z"/></svg>'
)
THUMB_UP = _THUMB.format(flip="")
THUMB_DOWN = _THUMB.format(flip=' style="transform: rotate(180deg)"')

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


@dataclass
class Turn:
    """One exchange in a chat session: the question, the text streamed so far, the final reply."""

    question: str
    statements: list[StatementEvent] = field(default_factory=list)  # verified, as streamed
    reply: Reply | None = None
    feedback: str | None = None  # "up" or "down" once the user rated the reply
    rateable: bool = True  # False for replies the web layer made itself (e.g. "busy")


def esc(text: str | None) -> str:
    """HTML-escape text, quotes included (safe in element content and attribute values)."""
    return html.escape(text or "", quote=True)


def inline(text: str) -> str:
    """Escaped text where **this** becomes bold (the fixed safety texts use it); nothing else."""
    return BOLD.sub(r"<strong>\1</strong>", esc(text))


def safe_url(url: str | None) -> str | None:
    """The URL if it is a plain http(s) link to a host, else None (no javascript:, data:...)."""
    if not url or any(ch.isspace() or ord(ch) < 32 for ch in url):
        return None
    parts = urlsplit(url)
    if parts.scheme.lower() not in {"http", "https"} or not parts.netloc:
        return None
    return url


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


def render_feedback(reply_id: str, given: str | None) -> str:
    """Thumbs up/down buttons and the optional reasons for a thumbs-down."""
    if given:
        return '<p class="fb-done" role="status">Thank you: your feedback was saved.</p>'
    rid = esc(reply_id)
    reasons = "".join(
        f'<label><input type="radio" name="reason-{rid}" value="{esc(r)}"> {esc(r.capitalize())}'
        "</label>"
        for r in FEEDBACK_REASONS
    )
    return (
        f'<div class="fb" role="group" aria-label="Rate this reply">'
        f'<span class="fb-q">Was this helpful?</span>'
        f'<button type="button" class="fb-btn" data-fb="up" data-reply="{rid}">'
        f"{THUMB_UP} Helpful</button>"
        f'<button type="button" class="fb-btn" data-fb="down" data-reply="{rid}" '
        f'aria-expanded="false" aria-controls="fbr-{rid}">{THUMB_DOWN} Not helpful</button>'
        f'<div class="fb-reasons" id="fbr-{rid}" hidden>'
        f"<fieldset><legend>What was wrong? (optional)</legend>{reasons}</fieldset>"
        f'<button type="button" class="fb-send" data-reply="{rid}">Send feedback</button>'
        f"</div></div>"
    )


def _urgent_block(text: str) -> tuple[str, str]:
    """An urgent reply's text split into its "get seen today" block and the rest."""
    block = prompts.load("urgent")
    if text.startswith(block):
        return block, text[len(block) :].strip()
    return text, ""


def render_reply(reply: Reply, feedback: str | None = None, *, rateable: bool = True) -> str:
    """One finished reply: badge, notice, text with markers, source cards, disclaimer, rating."""
    kind = reply.kind if reply.kind in KIND_STYLE else "answer"
    badge, role = KIND_STYLE[kind]
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
    parts.append(f'<p class="disclaimer" role="note">{esc(reply.disclaimer)}</p>')
    if rateable:
        parts.append(render_feedback(reply.id, feedback))
    parts.append("</article>")
    return "".join(parts)


def render_question(question: str) -> str:
    """The user's own message, escaped."""
    return f'<article class="msg user" aria-label="Your question">{paragraphs(question)}</article>'


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
    for turn in turns:
        out.append(render_question(turn.question))
        if turn.reply is None:
            out.append(render_pending(turn.statements))
        else:
            out.append(render_reply(turn.reply, turn.feedback, rateable=turn.rateable))
    return "".join(out)


def render_banner(disclaimer: str) -> str:
    """The persistent disclaimer banner at the top of the page."""
    return (
        f'<div class="banner" role="note" aria-label="Medical disclaimer">{esc(disclaimer)}</div>'
    )
