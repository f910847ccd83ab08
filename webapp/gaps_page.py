"""Collecting gap questions from every channel, and the site owner's `/gaps` page (token only)."""

from __future__ import annotations

import base64
import hmac
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse

from bot.gaps.log import GapLog
from bot.gaps.page import render_page
from bot.gaps.report import build_report, parse_since
from bot.reply import FinalEvent, Reply


class GapRecorder:
    """A bot whose declined and partial replies are logged (redacted) as they are given."""

    def __init__(self, bot, log: GapLog) -> None:
        self.bot = bot
        self.log = log
        self.settings = bot.settings

    def __getattr__(self, name: str):
        return getattr(self.bot, name)

    def answer(self, question: str, history: Sequence = ()) -> Reply:
        """The inner bot's answer; a declined or partial one is logged."""
        reply = self.bot.answer(question, history)
        self.log.record(reply, question if isinstance(question, str) else "")
        return reply

    def stream(self, question: str, history: Sequence = ()) -> Iterator:
        """The inner bot's events; the final reply is logged if declined or partial."""
        for event in self.bot.stream(question, history):
            if isinstance(event, FinalEvent):
                self.log.record(event.reply, question if isinstance(question, str) else "")
            yield event


def _embedder(bot):
    """The embedding model of a bot, through any wrappers (WarmingBot, GapRecorder)."""
    while not hasattr(bot, "embedder") and hasattr(bot, "bot"):
        bot = bot.bot
    return bot.embedder


def _token_of(request: Request) -> str:
    """The token sent as `Authorization: Bearer T` or as the password of Basic auth."""
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer":
        return value.strip()
    if scheme.lower() == "basic":
        try:
            return base64.b64decode(value.strip()).decode("utf-8").partition(":")[2]
        except (ValueError, UnicodeDecodeError):
            return ""
    return ""


def install_gaps_page(app: FastAPI, bot, log: GapLog, token: str) -> None:
    """GET /gaps?since=30d: the report, for whoever sends the token (browsers: any user name)."""

    @app.get("/gaps", include_in_schema=False)
    async def gaps(request: Request, since: str = "30d"):
        """The clusters of declined and partial questions of the window."""
        if not hmac.compare_digest(_token_of(request).encode(), token.encode()):
            return JSONResponse(
                {"error": "the gaps report needs the BOT_GAPS_TOKEN (as the password)"},
                status_code=401,
                headers={"WWW-Authenticate": 'Basic realm="gaps report"'},
            )
        try:
            window = parse_since(since)
        except ValueError as err:
            return JSONResponse({"error": str(err)}, status_code=400)
        now = datetime.now(UTC)
        embed = _embedder(bot).embed_documents
        report = await run_in_threadpool(
            lambda: build_report(log.since(now - window, now), embed, start=now - window, end=now)
        )
        return HTMLResponse(
            render_page(report, retention_days=log.retention_days),
            headers={"Cache-Control": "no-store"},
        )
