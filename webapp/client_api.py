"""Gradio's `/chat` endpoint for `gradio_client` and `@gradio/client`: the whole reply, as JSON."""

from __future__ import annotations

import gradio as gr

from bot import prompts
from bot.reply import Reply
from webapp.api import MAX_HISTORY
from webapp.ratelimit import BUSY_MESSAGE, RateLimiter

HISTORY_HELP = (
    'earlier messages: {"role": "user"|"assistant", "content": str} objects or '
    f"[user, assistant] pairs, at most {MAX_HISTORY}"
)


def _client(request) -> str:
    client = getattr(request, "client", None)
    return getattr(client, "host", None) or "unknown"


def clean_history(history) -> list:
    """The usable part of a client's history: well-formed messages and pairs, at most 50."""
    if not isinstance(history, list):
        return []
    kept = []
    for item in history[-MAX_HISTORY:]:
        if isinstance(item, dict) and item.get("role") in {"user", "assistant"}:
            if isinstance(item.get("content"), str):
                kept.append({"role": item["role"], "content": item["content"]})
        elif (
            isinstance(item, list | tuple)
            and len(item) == 2
            and all(isinstance(part, str) for part in item)
        ):
            kept.append(list(item))
    return kept


class ClientEndpoint:
    """One call, one reply: what the API's `POST /api/ask` returns, for Gradio's clients.

    The page's own events stream HTML; a client wants the Reply, so this endpoint returns
    `Reply.to_dict()` and nothing else (no transcript, no `{"__type__": "update"}`)."""

    def __init__(self, bot, limiter: RateLimiter) -> None:
        self.bot = bot
        self.limiter = limiter

    def answer(
        self, question: str, history: list | None = None, request: gr.Request | None = None
    ) -> dict:
        """Answer one question (with optional history), safety first, then the rate limit."""
        question = question if isinstance(question, str) else ""
        safety = self.bot.safety_first(question)
        if safety is not None:
            return safety.to_dict()
        if question.strip() and not self.limiter.allow(_client(request)):
            busy = Reply(text=BUSY_MESSAGE, disclaimer=prompts.disclaimer(), kind="unavailable")
            return busy.to_dict()
        # An empty question gets the bot's own "please type a question" reply (kind rejected).
        return self.bot.answer(question, clean_history(history)).to_dict()
