"""The chat pages built in the background once the server listens, so the API answers seconds
earlier: Gradio's import and the pages' build take about 5 s on the project's 2-core machine and,
started after the bot's warm-up, they no longer hold back the first answer. Until they are
mounted, / and /embed/ answer 503 with a page that reloads itself (webapp/service.py)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading

from fastapi import FastAPI

log = logging.getLogger("webapp")


def _import_and_mount(app: FastAPI) -> list:
    from webapp.pages import mount_gradio  # Gradio is imported here, off the event loop

    return mount_gradio(app)


def mount_pages_later(app: FastAPI, after: threading.Event | None = None) -> FastAPI:
    """Mount the pages once the server runs (and `after` is set, e.g. the bot's warm-up): until
    then / and /embed/ answer 503 with a page that reloads itself."""
    parts = app.state.pages
    outer = app.router.lifespan_context

    async def build_and_start(stack: contextlib.AsyncExitStack) -> None:
        try:
            if after is not None:
                await asyncio.to_thread(after.wait)
            gradio_apps = await asyncio.to_thread(_import_and_mount, app)
            for gradio_app in gradio_apps:  # what Gradio's own mount puts in the lifespan
                await stack.enter_async_context(gradio_app.router.lifespan_context(gradio_app))
                gradio_app.get_blocks().run_startup_events()
                await gradio_app.get_blocks().run_extra_startup_events()
            parts.mounted.set()
            log.info("chat pages mounted")
        except Exception:
            parts.failed = True
            log.exception("the chat pages could not be built; the API still answers")

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        async with outer(app) as state, contextlib.AsyncExitStack() as stack:
            task = asyncio.create_task(build_and_start(stack))
            try:
                yield state
            finally:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    app.router.lifespan_context = lifespan
    return app
