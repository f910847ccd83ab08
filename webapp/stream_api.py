"""`POST /api/ask/stream`: the reply as server-sent events, from the same `Bot.stream` the chat uses.

Events: `statement` (one verified statement: `text` with its final [n] markers, the `citations` it
cites first, `paragraph`, `kind`, `disclaimer`), then one `reply` (the whole Reply, as
`POST /api/ask` returns it; its text replaces the statements). Bad input, the rate limit and a
full queue are answered before the stream starts, with the same 400 and 429 as `/api/ask`; an
emergency or a crisis is answered first, whatever those limits say.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from fastapi import APIRouter, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse

from bot.reply import FinalEvent, StatementEvent
from bot.safety import TRIAGE_MAX_CHARS
from bot.stream import reply_events
from webapp.api import AskRequest, ErrorOut, Message, client_key
from webapp.ratelimit import BUSY_MESSAGE, RateLimiter

SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}  # no proxy buffering
_DONE = object()


def sse(name: str, data: dict) -> str:
    """One server-sent event; JSON never contains a raw newline, so `data` is one line."""
    return f"event: {name}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def encode(events: Iterator) -> Iterator[str]:
    """Bot.stream's typed events as server-sent events."""
    for event in events:
        if isinstance(event, StatementEvent):
            yield sse("statement", event.to_dict())
        elif isinstance(event, FinalEvent):
            yield sse("reply", event.reply.to_dict())


def stream_router(bot, limiter: RateLimiter) -> APIRouter:
    """The streaming route bound to one bot and one rate limiter."""
    router = APIRouter(prefix="/api", tags=["api"])
    limit = bot.settings.max_question_chars
    in_flight = [0]  # streams being answered; bounded by queue_size like /api/ask

    @router.post(
        "/ask/stream",
        response_class=StreamingResponse,
        responses={
            200: {
                "content": {"text/event-stream": {}},
                "description": "`statement` events, each verified, then one `reply` event",
            },
            400: {"model": ErrorOut},
            429: {"model": ErrorOut},
        },
        summary="Answer a question, streaming each verified statement (server-sent events)",
    )
    async def ask_stream(body: AskRequest, request: Request) -> StreamingResponse:
        """Stream the reply statement by statement; the last event is the whole reply."""
        question = body.question.strip()
        if not question:
            raise HTTPException(400, '"question" is empty: type a question')
        safety = await run_in_threadpool(bot.safety_first, question)
        if safety is not None:  # before the rate, queue and length limits
            return StreamingResponse(
                encode(reply_events(safety)), media_type="text/event-stream", headers=SSE_HEADERS
            )
        key = client_key(request)
        if not limiter.allow(key):
            wait = max(1, limiter.retry_after(key))
            raise HTTPException(
                429, f"{BUSY_MESSAGE} (retry in {wait} s)", {"Retry-After": str(wait)}
            )
        if len(question) > TRIAGE_MAX_CHARS:
            raise HTTPException(400, f'"question" is longer than {limit} characters: shorten it')
        if in_flight[0] >= bot.settings.queue_size:
            raise HTTPException(429, BUSY_MESSAGE, {"Retry-After": "2"})
        history = [m.model_dump() if isinstance(m, Message) else list(m) for m in body.history]
        in_flight[0] += 1
        events = bot.stream(question, history)
        try:
            # The first event decides the status: a question the bot refuses is a 400, as on
            # /api/ask (the chain triages before its length limit, so that is never a safety reply).
            first = await run_in_threadpool(next, events, _DONE)
        except BaseException:
            in_flight[0] -= 1
            raise
        if isinstance(first, StatementEvent) and first.kind == "rejected":
            in_flight[0] -= 1
            events.close()
            raise HTTPException(
                400,
                f'"question" is longer than {limit} characters: shorten it'
                if len(question) > limit
                else first.text,
            )

        def rest() -> Iterator[str]:
            try:
                if first is not _DONE:
                    yield from encode(iter([first]))
                yield from encode(events)
            finally:
                in_flight[0] -= 1

        return StreamingResponse(rest(), media_type="text/event-stream", headers=SSE_HEADERS)

    return router
