"""The chat pages (Gradio) on a service app (webapp/service.py): `/embed/` and `/`."""

from __future__ import annotations

import gradio as gr
from fastapi import FastAPI

from webapp.chat import build_chat
from webapp.security import MAX_BODY_BYTES
from webapp.service import CONCURRENCY, MOUNTS
from webapp.style import CSS, theme


def mount_gradio(app: FastAPI) -> list:
    """Build both pages and mount them; the Gradio apps whose startup events must run."""
    parts = app.state.pages
    settings = parts.bot.settings
    gradio_apps = []
    # /embed must be mounted before /, which would otherwise take every path.
    for path, compact in zip(MOUNTS, (True, False), strict=True):
        page = build_chat(
            parts.bot,
            compact=compact,
            feedback=parts.feedback,
            limiter=parts.limiter,
            gate=parts.gate,
        )
        page.queue(default_concurrency_limit=CONCURRENCY, max_size=settings.queue_size)
        gr.mount_gradio_app(
            app,
            page,
            path=path,
            server_name=settings.host,
            server_port=settings.port,
            footer_links=[] if compact else ["api"],
            run_history=False,  # patients' questions are not kept in the browser either
            max_file_size=MAX_BODY_BYTES,
            show_error=False,
            theme=theme(),
            css=CSS,
        )
        gradio_apps.append(app.router.routes[-1].app)
    return gradio_apps


def mount_pages(app: FastAPI) -> FastAPI:
    """Mount the pages now: their startup runs in the app's lifespan, as Gradio arranges."""
    mount_gradio(app)
    app.state.pages.mounted.set()
    return app
