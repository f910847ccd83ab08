"""Only the Gradio routes the app uses are open: upload, file, stream and the rest answer 404.
Before the pages are mounted (`ready` false), their paths answer 503 with the `starting` page.

Gradio serves many routes a chat with no file input never needs (`/gradio_api/upload` kept every
upload on disk, with no limit). The open ones are listed in `gradio_routes.toml`, relative to
each mount point; everything else under a Gradio mount is refused before Gradio sees it.
"""

from __future__ import annotations

import functools
import json
import tomllib
from collections.abc import Callable
from pathlib import Path

from starlette.types import ASGIApp, Receive, Scope, Send

ROUTES_FILE = Path(__file__).with_name("gradio_routes.toml")


@functools.lru_cache(maxsize=1)
def open_routes() -> tuple[frozenset[str], tuple[str, ...]]:
    """(exact paths, path prefixes) of the Gradio routes left open, from gradio_routes.toml."""
    table = tomllib.loads(ROUTES_FILE.read_text(encoding="utf-8"))
    return frozenset(table["exact"]), tuple(table["prefixes"])


def gradio_route_open(path: str) -> bool:
    """True when `path`, relative to a Gradio mount point, is a route the app uses."""
    exact, prefixes = open_routes()
    return path in exact or path.startswith(prefixes)


class GradioRoutes:
    """Answers 404 for paths under the Gradio mounts that the app does not use."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        mounts: tuple[str, ...],
        own_paths: tuple[str, ...] = (),
        own_prefixes: tuple[str, ...] = (),
        ready: Callable[[], bool] = lambda: True,
        starting: Callable[[], bytes] = lambda: b"starting",
    ) -> None:
        self.app = app
        self.ready = ready
        self.starting = starting
        self.mounts = sorted(mounts, key=len, reverse=True)  # "/embed" before "/"
        # The FastAPI app's own routes, which are never Gradio's.
        self.own_paths = frozenset(own_paths)
        self.own_prefixes = tuple(own_prefixes)

    def _gradio_path(self, path: str) -> str | None:
        """The path relative to the Gradio mount serving it, or None for the app's own routes."""
        if path in self.own_paths or path.startswith(self.own_prefixes):
            return None
        for mount in self.mounts:
            root = mount.rstrip("/")
            if path == root or path.startswith(root + "/"):
                return path[len(root) :] or "/"
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            inner = self._gradio_path(scope.get("path", ""))
            if inner is not None and not self.ready():
                if scope["type"] == "websocket":
                    await send({"type": "websocket.close", "code": 1013})  # try again later
                    return
                await _send(send, 503, self.starting(), b"text/html; charset=utf-8", retry=True)
                return
            if inner is not None and not gradio_route_open(inner):
                if scope["type"] == "websocket":
                    await send({"type": "websocket.close", "code": 1008})
                    return
                body = json.dumps({"error": "not found"}).encode()
                await _send(send, 404, body, b"application/json")
                return
        await self.app(scope, receive, send)


async def _send(send: Send, status: int, body: bytes, kind: bytes, *, retry: bool = False) -> None:
    headers = [(b"content-type", kind), (b"content-length", str(len(body)).encode())]
    if retry:
        headers += [(b"retry-after", b"2"), (b"cache-control", b"no-store")]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
