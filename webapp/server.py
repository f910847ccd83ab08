"""`build_app(bot)`: one FastAPI app serving the chat page, the widget and the JSON API."""

from __future__ import annotations

from fastapi import FastAPI

from webapp.feedback import FeedbackStore
from webapp.pages import mount_pages
from webapp.ratelimit import RateLimiter
from webapp.service import CONCURRENCY, MOUNTS, build_service

__all__ = ["CONCURRENCY", "MOUNTS", "build_app"]


def build_app(
    bot,
    *,
    feedback: FeedbackStore | None = None,
    limiter: RateLimiter | None = None,
) -> FastAPI:
    """The whole web app for one bot: `/` chat, `/embed/` widget chat, `/api/ask`, `/docs`."""
    return mount_pages(build_service(bot, feedback=feedback, limiter=limiter))
