"""The Gradio chat page: a streamed, cited conversation rendered by webapp.render."""

from __future__ import annotations

import functools
import itertools
import logging
from collections.abc import Iterator
from pathlib import Path

import gradio as gr

from bot import prompts
from bot.reply import FinalEvent, Reply, StatementEvent
from webapp.client_api import ClientEndpoint
from webapp.fairness import FairGate
from webapp.feedback import FeedbackStore
from webapp.ratelimit import BUSY_MESSAGE, RateLimiter
from webapp.render import Turn, render_banner, render_transcript
from webapp.render_actions import FEEDBACK_REASONS

PENDING_SEP = "\x1f"  # between the hand-on count and the question in the hidden `pending` box

log = logging.getLogger(__name__)

EXAMPLES = (
    "How long does Botox last?",
    "Can side effects from Botox be permanent?",
    "My eyelid is drooping after Botox. Will it get better?",
    "Is there a way to reverse Botox?",
)

JS_DIR = Path(__file__).resolve().parent / "js"
TRANSCRIPT_TEMPLATE = (
    '<div class="transcript" role="log" aria-label="Conversation" aria-live="polite">${value}</div>'
)


@functools.lru_cache(maxsize=4)
def script(name: str) -> str:
    """The browser code of webapp/js/<name>.js, run by a gr.HTML as its js_on_load."""
    return (JS_DIR / f"{name}.js").read_text(encoding="utf-8")


def _client(request: gr.Request | None) -> str:
    client = getattr(request, "client", None)
    return getattr(client, "host", None) or "unknown"


def _history(turns: list[Turn]) -> list[dict]:
    """Earlier finished turns as chat messages, for follow-up questions."""
    messages = []
    for turn in turns:
        if turn.reply is not None and turn.rateable:
            messages.append({"role": "user", "content": turn.question})
            messages.append({"role": "assistant", "content": turn.reply.text})
    return messages


class ChatHandlers:
    """The page's event handlers, bound to one bot, feedback store and rate limiter."""

    def __init__(
        self,
        bot,
        feedback: FeedbackStore,
        limiter: RateLimiter,
        gate: FairGate | None = None,
        channel: str = "page",
    ) -> None:
        self.bot = bot
        self.feedback = feedback
        self.limiter = limiter
        self.gate = gate or FairGate(1)
        self.channel = channel  # whose turn in the gate this page's questions take
        self.limit = bot.settings.max_question_chars
        self.handed_on = 0  # questions `safety` passed to the queue (makes each hand-on unique)

    def _stream(self, question: str, turns: list[Turn], request) -> Iterator[tuple]:
        """Append a turn and yield (transcript, turns, reply dict or skip) as the reply arrives."""
        # Only what fits the limit is shown back; the bot itself refuses over-long questions.
        shown = question if len(question) <= self.limit else question[: self.limit] + "…"
        turn = Turn(question=shown)
        history = _history(turns)
        turns = [*turns, turn]
        # Safety first: an emergency or a crisis gets its reply even from a client over its limit.
        safety = self.bot.safety_first(question)
        if safety is not None or not self.limiter.allow(_client(request)):
            turn.reply = safety or Reply(
                text=BUSY_MESSAGE, disclaimer=prompts.disclaimer(), kind="unavailable"
            )
            turn.rateable = safety is not None
            yield render_transcript(turns), turns, turn.reply.to_dict()
            return
        yield render_transcript(turns), turns, gr.skip()
        events = iter(self.bot.stream(question, history))
        # The page, the widget and the API take turns for computing a reply; the slot is held
        # until its first event (the extractive reply is composed by then), not while the page
        # is sent its pieces.
        with self.gate.slot(self.channel):
            first = next(events, None)
        for event in itertools.chain([] if first is None else [first], events):
            if isinstance(event, StatementEvent):  # verified: shown at once (a few per reply)
                turn.statements.append(event)
                yield render_transcript(turns), turns, gr.skip()
            elif isinstance(event, FinalEvent):
                turn.reply = event.reply
        if turn.reply is None:  # the bot always ends with a FinalEvent; this is a safety net
            turn.reply = Reply(
                text=prompts.load("error"), disclaimer=prompts.disclaimer(), kind="error"
            )
        yield render_transcript(turns), turns, turn.reply.to_dict()

    def safety(self, question: str, turns: list[Turn] | None, request: gr.Request) -> tuple:
        """Outside Gradio's queue: an emergency or crisis reply at once, else hand on to chat.

        The page sends every question here first, unqueued, so a full queue never stands
        between a patient and the safety reply (the catalogue alone decides it: no model, no
        store, milliseconds). Any other question goes to `pending`, whose change starts the
        queued `ask_pending`; a safety reply leaves `pending` as it is, so nothing is queued."""
        turns = list(turns or [])
        if not isinstance(question, str) or not question.strip():
            return gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
        reply = self.bot.safety_first(question)
        if reply is None:
            self.handed_on += 1  # a new value each time, so the same question twice still fires
            return gr.skip(), gr.skip(), "", gr.skip(), f"{self.handed_on}{PENDING_SEP}{question}"
        shown = question if len(question) <= self.limit else question[: self.limit] + "…"
        turns.append(Turn(question=shown, reply=reply))
        return render_transcript(turns), turns, "", reply.to_dict(), gr.skip()

    def follow_up(self, turns: list[Turn] | None, request: gr.Request, evt: gr.EventData):
        """A suggested follow-up was clicked: asked exactly as if it had been typed."""
        data = evt._data if isinstance(getattr(evt, "_data", None), dict) else {}
        return self.safety(data.get("question") or "", turns, request)

    def ask_pending(self, pending: str, turns: list[Turn] | None, request: gr.Request):
        """The queued half of a page question that `safety` handed on."""
        _, sep, question = (pending or "").partition(PENDING_SEP)
        if not sep or not question.strip():
            yield gr.skip(), gr.skip(), gr.skip()
            return
        yield from self._stream(question, list(turns or []), request)

    def chat(self, question: str, turns: list[Turn] | None, request: gr.Request) -> Iterator[tuple]:
        """Answer a question, streaming the reply into the conversation."""
        turns = list(turns or [])
        if not isinstance(question, str) or not question.strip():
            yield render_transcript(turns), turns, "", gr.skip()
            return
        for html, new_turns, reply in self._stream(question, turns, request):
            yield html, new_turns, "", reply

    def retry(self, turns: list[Turn] | None, request: gr.Request) -> Iterator[tuple]:
        """Ask the last question again, replacing its reply."""
        turns = list(turns or [])
        if not turns:
            yield render_transcript(turns), turns, gr.skip()
            return
        last = turns.pop()
        yield from self._stream(last.question, turns, request)

    def clear(self) -> tuple:
        """Start a new conversation."""
        return render_transcript([]), [], "", None

    def rate(self, turns: list[Turn] | None, evt: gr.EventData) -> tuple:
        """Save a thumbs up/down (with an optional reason) for one reply of this session."""
        turns = list(turns or [])
        data = evt._data if isinstance(getattr(evt, "_data", None), dict) else {}
        rating, reason = data.get("rating"), data.get("reason") or None
        if rating not in {"up", "down"} or (reason is not None and reason not in FEEDBACK_REASONS):
            return gr.skip(), gr.skip()
        # Only a reply shown in this very session can be rated: ids from elsewhere are ignored.
        turn = next(
            (t for t in turns if t.reply is not None and t.reply.id == data.get("reply_id")), None
        )
        if turn is None or not turn.rateable or turn.feedback:
            return gr.skip(), gr.skip()
        self.feedback.record(turn.reply, rating, reason, question=turn.question)
        turn.feedback, turn.reason = rating, reason
        return render_transcript(turns), turns

    def edit_last(self, turns: list[Turn] | None) -> tuple:
        """Take the last question back into the question box (its reply removed) to edit it."""
        turns = list(turns or [])
        if not turns or turns[-1].reply is None:
            return gr.skip(), gr.skip(), gr.skip()
        last = turns.pop()
        return render_transcript(turns), turns, last.question


def build_chat(
    bot,
    *,
    compact: bool = False,
    feedback: FeedbackStore | None = None,
    limiter: RateLimiter | None = None,
    gate: FairGate | None = None,
) -> gr.Blocks:
    """The chat page (compact=True: the embeddable widget) for one bot."""
    settings = bot.settings
    handlers = ChatHandlers(
        bot,
        feedback
        or FeedbackStore.in_folder(settings.data_dir, retention_days=settings.retention_days),
        limiter or RateLimiter(settings.rate_limit),
        gate,
        "widget" if compact else "page",
    )
    with gr.Blocks(title="Ask the doctors' answers", fill_width=compact) as page:
        with gr.Column(elem_classes=["embed-mode"] if compact else []):
            gr.HTML(
                "<header><h1>Ask the doctors' answers</h1>"
                + (
                    ""
                    if compact
                    else "<p>Replies quote only doctors' published answers and name "
                    "the doctor behind every statement.</p>"
                )
                + "</header>",
                elem_classes=["app-header", "plain-html"],
                js_on_load=script("header"),
            )
            gr.HTML(
                render_banner(prompts.disclaimer()), js_on_load=None, elem_classes=["plain-html"]
            )
            turns = gr.State([])
            transcript = gr.HTML(
                render_transcript([]),
                html_template=TRANSCRIPT_TEMPLATE,
                js_on_load=script("transcript"),
                apply_default_css=False,
                autoscroll=False,  # js/transcript.js scrolls to the newest question instead
                # Room for the rest of the page, so the question box stays in view.
                max_height="max(200px, calc(100vh - 335px))"
                if compact
                else "max(320px, calc(100vh - 400px))",
                elem_id="transcript",
                elem_classes=["plain-html"],
            )
            question = gr.Textbox(
                label="Your question",
                placeholder="Type a question about Botox, then press Enter",
                lines=1,
                max_lines=6,
                max_length=settings.max_question_chars,
                autofocus=not compact,
                elem_id="question",
            )
            with gr.Row(elem_classes=["controls"]):
                size = "sm" if compact else "md"
                send = gr.Button("Send", variant="primary", size=size, min_width=70)
                retry = gr.Button("Retry", size=size, min_width=70)
                clear = gr.Button("Clear", size=size, min_width=70)
            reply = gr.JSON(visible=False, label="Reply")
            with (
                gr.Accordion("Example questions", open=not compact),
                gr.Row(elem_classes=["examples-row"]),
            ):
                examples = [gr.Button(q, size="sm", min_width=160) for q in EXAMPLES]
            if not compact:
                gr.HTML(
                    '<p class="privacy-note">Feedback is stored with names, e-mail addresses, '
                    "phone numbers and other identifiers removed. Please do not type your name or "
                    "other personal details.</p>",
                    js_on_load=None,
                    elem_classes=["plain-html"],
                )

        chat_outputs = [transcript, turns, question, reply]
        # A typed question: the safety step runs unqueued (a full queue cannot hold back an
        # emergency reply), and only what it hands on through `pending` enters the queue.
        pending = gr.Textbox(visible=False, elem_id="pending")
        gr.on(
            [question.submit, send.click],
            handlers.safety,
            [question, turns],
            [*chat_outputs, pending],
            queue=False,
            api_visibility="private",
            show_progress="hidden",
        )
        pending.change(
            handlers.ask_pending,
            [pending, turns],
            [transcript, turns, reply],
            api_visibility="private",
            show_progress="hidden",
        )
        # gradio_client's and @gradio/client's /chat: the reply as JSON, in one queued call.
        endpoint = ClientEndpoint(bot, handlers.limiter)
        api_question = gr.Textbox(visible=False, label="question")
        api_history = gr.JSON([], visible=False, label="history")
        api_reply = gr.JSON(visible=False, label="reply")
        gr.Button(visible=False).click(
            endpoint.answer,
            [api_question, api_history],
            api_reply,
            api_name="chat",
            api_description="Answer one question (history optional): text, citations, disclaimer",
            show_progress="hidden",
        )
        for example in examples:
            example.click(
                handlers.chat,
                [example, turns],
                chat_outputs,
                api_visibility="private",
                show_progress="hidden",
            )
        retry.click(
            handlers.retry,
            [turns],
            [transcript, turns, reply],
            api_visibility="private",
            show_progress="hidden",
        )
        clear.click(
            handlers.clear, None, chat_outputs, api_visibility="private", show_progress="hidden"
        )
        transcript.follow_up(
            handlers.follow_up,
            [turns],
            [*chat_outputs, pending],
            queue=False,
            api_visibility="private",
            show_progress="hidden",
        )
        transcript.feedback(
            handlers.rate,
            [turns],
            [transcript, turns],
            api_visibility="private",
            show_progress="hidden",
        )
        transcript.edit_last(
            handlers.edit_last,
            [turns],
            [transcript, turns, question],
            api_visibility="private",
            show_progress="hidden",
            queue=False,
        )
    return page
