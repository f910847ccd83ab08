"""The web app without its pages: the JSON API, the widget script and every middleware.

Gradio is not imported here, so `python app.py` can answer over the API while the chat pages
(webapp/pages.py) are still being built; until they are mounted, `/` and `/embed/` answer 503
with a page that reloads itself.
"""

from __future__ import annotations

import functools
import threading
from dataclasses import dataclass, field
from pathlib import Path

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import RedirectResponse, Response
from starlette.exceptions import HTTPException

from bot.gaps.log import GapLog
from webapp.api import api_router, http_error, install_error_handler, openapi_without_422
from webapp.fairness import FairGate
from webapp.feedback import FeedbackStore
from webapp.gaps_page import GapRecorder, install_gaps_page
from webapp.gradio_routes import GradioRoutes
from webapp.proxies import TrustedProxies, parse_trusted_proxies
from webapp.ratelimit import RateLimiter
from webapp.security import MAX_BODY_BYTES, BodyLimit, SecurityHeaders, parse_origins
from webapp.stream_api import stream_router
from webapp.widget import widget_js as widget_script

MOUNTS = ("/embed", "/")  # the widget chat and the page; /embed first, / takes every path
CONCURRENCY = 2  # answers computed at once in all; the machine's cores are the real limit
TEMPLATES = Path(__file__).with_name("templates")


@dataclass
class PageParts:
    """What the chat pages share with the API: the bot, feedback, the limits; and whether the
    pages are mounted yet (`failed`: they could not be built; the API still answers)."""

    bot: object
    feedback: FeedbackStore
    limiter: RateLimiter
    gate: FairGate
    mounted: threading.Event = field(default_factory=threading.Event)
    failed: bool = False


def build_service(
    bot,
    *,
    feedback: FeedbackStore | None = None,
    limiter: RateLimiter | None = None,
) -> FastAPI:
    """The app for one bot with `/api/ask`, `/api/stream`, `/widget.js`, `/docs`; the chat pages
    are mounted later (webapp.pages), `app.state.pages` holds what they need."""
    settings = bot.settings
    origins = parse_origins(settings.allowed_origins)
    trusted = parse_trusted_proxies(settings.trusted_proxies)
    feedback = feedback or FeedbackStore.in_folder(
        settings.data_dir, retention_days=settings.retention_days
    )
    limiter = limiter or RateLimiter(settings.rate_limit)
    gaps = GapLog.in_folder(settings.data_dir, retention_days=settings.retention_days)
    if settings.collect_gaps:  # off by default: nothing a patient types is kept unless asked
        bot = GapRecorder(bot, gaps)
    # The page, the widget and the API take turns for the answer slots; one is kept out of the
    # API's reach so that a person typing on the page never waits for a whole API answer.
    gate = FairGate(CONCURRENCY, caps={"api": max(1, CONCURRENCY - 1)})
    pages = PageParts(bot, feedback, limiter, gate)

    app = FastAPI(
        title="Doctor-answers bot",
        description="Answers only from doctors' published answers, citing the doctor behind "
        "each statement, always with a medical disclaimer.",
        version="1",
        redoc_url=None,
    )
    app.state.bot = bot  # the one bot every route answers with
    app.state.pages = pages
    install_error_handler(app)
    app.add_exception_handler(HTTPException, http_error)
    # The stream route first: the API router ends with its 404/405 catch-alls for /api/...
    app.include_router(stream_router(bot, limiter))
    app.include_router(api_router(bot, limiter, gate))
    if settings.gaps_token:
        install_gaps_page(app, bot, gaps, settings.gaps_token)
    openapi_without_422(app)
    widget = widget_script(origins)

    # async: served on the event loop itself, never waiting for a worker thread.
    @app.get("/widget.js", include_in_schema=False)
    async def widget_js() -> Response:
        """The floating chat bubble for host pages."""
        return Response(
            widget,
            media_type="text/javascript; charset=utf-8",
            headers={"Cache-Control": "public, max-age=300"},
        )

    @app.get("/embed", include_in_schema=False)
    async def embed_slash() -> RedirectResponse:
        """The widget chat lives at /embed/ (its assets are relative to that folder)."""
        return RedirectResponse("/embed/", status_code=307)

    # Added innermost first: SecurityHeaders wraps everything, so refusals get headers too.
    app.add_middleware(
        GradioRoutes,
        mounts=MOUNTS,
        own_paths=("/widget.js", "/embed", "/openapi.json", "/gaps"),
        own_prefixes=("/api/", "/docs"),
        ready=lambda: pages.mounted.is_set(),
        starting=lambda: _starting_page(pages.failed),
    )
    app.add_middleware(BodyLimit, limit=MAX_BODY_BYTES)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=list(origins),  # an explicit list: other origins are never echoed
        allow_methods=["GET", "POST"],
        allow_headers=["Content-Type"],
        allow_credentials=False,
        max_age=600,
    )
    app.add_middleware(SecurityHeaders, origins=origins)
    # Outermost: every route, the rate limit and Gradio's handlers see the real client address.
    app.add_middleware(TrustedProxies, trusted=trusted)
    return app


@functools.lru_cache(maxsize=2)
def _starting_page(failed: bool) -> bytes:
    """The 503 page shown at / and /embed/ until the chat is mounted (templates/pages_*.html)."""
    name = "pages_failed.html" if failed else "pages_starting.html"
    return (TEMPLATES / name).read_bytes()
