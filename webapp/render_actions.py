"""The controls under a reply: copy it with its sources, rate it (toggle buttons), as HTML."""

from __future__ import annotations

from bot.reply import Reply
from webapp.escape import BOLD, esc, safe_url

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
_ICON = '<svg aria-hidden="true" focusable="false" width="16" height="16" viewBox="0 0 24 24">'
COPY_ICON = (
    _ICON + '<path fill="currentColor" d="M16 1H4a2 2 0 0 0-2 2v14h2V3h12V1zm3 4H8a2 2 0 0 0-2 '
    '2v14a2 2 0 0 0 2 2h11a2 2 0 0 0 2-2V7a2 2 0 0 0-2-2zm0 16H8V7h11v14z"/></svg>'
)
EDIT_ICON = (
    _ICON + '<path fill="currentColor" d="M3 17.3V21h3.8L17.8 9.9l-3.7-3.7L3 17.3zM20.7 7a1 1 0 '
    '0 0 0-1.4l-2.3-2.3a1 1 0 0 0-1.4 0l-1.8 1.8 3.7 3.7L20.7 7z"/></svg>'
)


def _pressed(on: bool) -> str:
    return f'aria-pressed="{"true" if on else "false"}"'


def render_feedback(reply_id: str, given: str | None, reason: str | None = None) -> str:
    """Thumbs up/down and the reasons for a thumbs-down, as toggle buttons (aria-pressed);
    once saved, the choice stays shown, pressed and disabled."""
    rid = esc(reply_id)
    done = " disabled" if given else ""
    reasons = "".join(
        f'<button type="button" class="fb-reason" data-reason="{esc(r)}" '
        f"{_pressed(given == 'down' and reason == r)}{done}>{esc(r.capitalize())}</button>"
        for r in FEEDBACK_REASONS
    )
    hidden = "" if given == "down" and reason else " hidden"
    send = (
        ""
        if given
        else f'<button type="button" class="fb-send" data-reply="{rid}">Send feedback</button>'
    )
    thanks = (
        '<p class="fb-done" role="status">Thank you: your feedback was saved.</p>' if given else ""
    )
    return (
        f'<div class="fb" role="group" aria-label="Rate this reply">'
        f'<span class="fb-q">Was this helpful?</span>'
        f'<button type="button" class="fb-btn" data-fb="up" data-reply="{rid}" '
        f"{_pressed(given == 'up')}{done}>{THUMB_UP} Helpful</button>"
        f'<button type="button" class="fb-btn" data-fb="down" data-reply="{rid}" '
        f"{_pressed(given == 'down')}{done} "
        f'aria-expanded="{"false" if hidden else "true"}" aria-controls="fbr-{rid}">'
        f"{THUMB_DOWN} Not helpful</button>"
        f'<div class="fb-reasons" id="fbr-{rid}"{hidden}>'
        f'<div class="fb-choices" role="group" aria-labelledby="fbl-{rid}">'
        f'<span class="fb-legend" id="fbl-{rid}">What was wrong? (optional)</span>{reasons}</div>'
        f"{send}</div>{thanks}</div>"
    )


def copy_text(reply: Reply) -> str:
    """The reply as plain text for the clipboard: text, numbered sources, disclaimer."""
    text = BOLD.sub(r"\1", reply.text).strip()
    sources = ["Sources:"] if reply.citations else []
    for c in reply.citations:
        sources.append(f"[{c.marker}] {c.attribution}, answering: {c.page_question}")
        sources.extend(f'    "{q}"' for q in c.quote)
        if safe_url(c.url):
            sources.append(f"    {c.url}")
    return "\n\n".join([text, *(["\n".join(sources)] if sources else []), reply.disclaimer])


def render_copy(reply: Reply) -> str:
    """A button that copies the reply with its sources (the text sits hidden beside it)."""
    return (
        f'<div class="reply-actions"><button type="button" class="copy-btn" '
        f'aria-label="Copy this reply with its sources">{COPY_ICON} Copy</button>'
        f'<span class="copy-done" role="status"></span>'
        f'<pre class="copy-text" hidden>{esc(copy_text(reply))}</pre></div>'
    )
