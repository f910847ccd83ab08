"""`POST /api/ask`: the JSON API, answering through the same `Bot.answer` as the chat page."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Literal

from fastapi import APIRouter, FastAPI, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StrictStr
from starlette.exceptions import HTTPException as StarletteHTTPException

from bot.safety import TRIAGE_MAX_CHARS
from webapp.fairness import FairGate
from webapp.ratelimit import BUSY_MESSAGE, RateLimiter

MAX_HISTORY = 50


class Message(BaseModel):
    """One earlier chat message."""

    model_config = ConfigDict(extra="forbid")
    role: Literal["user", "assistant"]
    content: StrictStr


class AskRequest(BaseModel):
    """A question, with the conversation so far for follow-ups."""

    model_config = ConfigDict(extra="forbid")
    question: StrictStr = Field(description="the patient's question")
    history: list[Message | tuple[StrictStr, StrictStr]] = Field(
        default_factory=list,
        max_length=MAX_HISTORY,
        description='earlier messages: {"role": "user"|"assistant", "content": str} '
        "or [user, assistant] pairs",
    )


class CitationOut(BaseModel):
    """A numbered source: the doctor, what they were asked, their answer and the quoted part."""

    model_config = ConfigDict(extra="allow")
    marker: int
    attribution: str
    page_question: str
    quote: list[str]
    answer_text: str
    url: str | None = None


class AskResponse(BaseModel):
    """A reply: text with [n] markers, its sources, the disclaimer, and what kind of reply it is."""

    model_config = ConfigDict(extra="allow")
    id: str
    text: str
    citations: list[CitationOut]
    disclaimer: str
    abstained: bool
    triage: str | None
    kind: str
    follow_ups: list[str] = Field(
        default_factory=list,
        description="up to 3 questions other patients asked on indexed pages close to this one",
    )


class ErrorOut(BaseModel):
    """What was wrong with the request."""

    error: str


def client_key(request: Request) -> str:
    """The client the rate limit applies to: its IP address (as TrustedProxies set it)."""
    return request.client.host if request.client else "unknown"


def _describe(errors: list) -> str:
    """One readable line from pydantic's validation errors."""
    first = errors[0] if errors else {}
    where = [str(p) for p in first.get("loc", ()) if p != "body"]
    kind = first.get("type", "")
    if kind == "json_invalid":
        return "the request body is not valid JSON"
    if where[:1] == ["question"] or (not where and kind == "missing"):
        if kind == "missing":
            return 'missing "question": send {"question": "your question"}'
        return '"question" must be a string'
    if where[:1] == ["history"]:
        return (
            '"history" must be a list of {"role": "user"|"assistant", "content": "..."} '
            f"objects or [user, assistant] string pairs, at most {MAX_HISTORY}"
        )
    if kind == "extra_forbidden":
        return f"unknown field {where[-1]!r}: only question and history are accepted"
    if kind in {"model_attributes_type", "dict_type"}:
        return 'the body must be a JSON object like {"question": "your question"}'
    return first.get("msg", "invalid request")


def install_error_handler(app: FastAPI) -> None:
    """Turn FastAPI's 422 validation errors into 400 with one clear message."""

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"error": _describe(list(exc.errors()))}, status_code=400)


def api_router(bot, limiter: RateLimiter, gate: FairGate | None = None) -> APIRouter:
    """The /api routes bound to one bot, one rate limiter and the gate shared with the pages."""
    router = APIRouter(prefix="/api", tags=["api"])
    limit = bot.settings.max_question_chars
    in_flight = [0]  # answers being computed or waiting for a thread; bounded by queue_size
    gate = gate or FairGate(1)
    # API answers run on threads of their own, as many as the gate has slots: waiting API
    # requests hold no thread, so they cannot use up the pool that static routes and the safety
    # step run on, and in the gate they take turns with the chat page and the widget.
    answers = ThreadPoolExecutor(max_workers=gate.slots, thread_name_prefix="api-answer")

    def gated_answer(question: str, history: list) -> object:
        with gate.slot("api"):
            return bot.answer(question, history)

    def check_rate(request: Request) -> None:
        key = client_key(request)
        if not limiter.allow(key):
            wait = max(1, limiter.retry_after(key))
            raise HTTPException(
                429, f"{BUSY_MESSAGE} (retry in {wait} s)", {"Retry-After": str(wait)}
            )

    @router.post(
        "/ask",
        response_model=AskResponse,
        responses={400: {"model": ErrorOut}, 429: {"model": ErrorOut}},
        summary="Answer a question from doctors' published answers",
    )
    async def ask(body: AskRequest, request: Request) -> dict:
        """Answer one question; the reply cites the doctors and always carries the disclaimer."""
        question = body.question.strip()
        if not question:
            raise HTTPException(400, '"question" is empty: type a question')
        # Safety first: an emergency or a crisis is answered whatever the rate, queue and length
        # limits say, and without the store (the red-flag catalogue alone decides it).
        safety = await run_in_threadpool(
            bot.safety_first, question
        )  # CPU only, but not on the loop
        if safety is not None:
            return safety.to_dict()
        check_rate(request)
        if len(question) > TRIAGE_MAX_CHARS:
            raise HTTPException(400, f'"question" is longer than {limit} characters: shorten it')
        if in_flight[0] >= bot.settings.queue_size:
            raise HTTPException(429, BUSY_MESSAGE, {"Retry-After": "2"})
        history = [m.model_dump() if isinstance(m, Message) else list(m) for m in body.history]
        in_flight[0] += 1
        try:
            # The chain triages before it applies the length limit, so an over-long message
            # describing an emergency still gets the emergency reply rather than a 400.
            loop = asyncio.get_running_loop()
            reply = await loop.run_in_executor(answers, gated_answer, question, history)
        finally:
            in_flight[0] -= 1
        if reply.kind == "rejected" and reply.triage is None:
            raise HTTPException(
                400,
                f'"question" is longer than {limit} characters: shorten it'
                if len(question) > limit
                else reply.text,
            )
        return reply.to_dict()

    @router.api_route(
        "/ask",
        methods=["GET", "HEAD", "PUT", "PATCH", "DELETE", "OPTIONS"],
        include_in_schema=False,
    )
    async def ask_wrong_method(request: Request) -> JSONResponse:
        """Only POST answers; say so in the API's error shape (Gradio's mount would say 404)."""
        return JSONResponse(
            {"error": f'{request.method} is not allowed: POST {{"question": "..."}} to /api/ask'},
            status_code=405,
            headers={"Allow": "POST"},
        )

    @router.api_route(
        "/{path:path}",
        methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
        include_in_schema=False,
    )
    async def unknown(path: str) -> JSONResponse:
        """Any other /api path: 404 in the same {"error"} shape."""
        return JSONResponse({"error": f"no API route /api/{path}: use POST /api/ask"}, 404)

    return router


def openapi_without_422(app: FastAPI) -> None:
    """Drop the 422 FastAPI documents for every body: this API answers bad input with 400."""
    default = app.openapi

    def schema() -> dict:
        if app.openapi_schema is None:
            document = default()
            for operations in document.get("paths", {}).values():
                for operation in operations.values():
                    operation.get("responses", {}).pop("422", None)
            for name in ("HTTPValidationError", "ValidationError"):
                document.get("components", {}).get("schemas", {}).pop(name, None)
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = schema


async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    """HTTP errors as {"error": message}, keeping headers such as Retry-After."""
    return JSONResponse({"error": exc.detail}, status_code=exc.status_code, headers=exc.headers)
