"""HTTP hardening for every route: security headers, allowed embedding origins, body size cap."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from vectorstore.errors import SettingsError

MAX_BODY_BYTES = 64 * 1024
# FastAPI's /docs page loads Swagger UI from this CDN; only that page may use it.
DOCS_PATHS = ("/docs", "/redoc")
DOCS_CDN = "https://cdn.jsdelivr.net"


def parse_origins(value: str | None) -> tuple[str, ...]:
    """Comma-separated origins ("https://clinic.example") checked and normalised; no wildcards."""
    origins = []
    for raw in (value or "").split(","):
        item = raw.strip().rstrip("/")
        if not item:
            continue
        parts = urlsplit(item)
        if (
            "*" in item
            or parts.scheme not in {"http", "https"}
            or not parts.hostname
            or parts.path
            or parts.query
            or parts.fragment
            or parts.username
        ):
            raise SettingsError(
                f"BOT_ALLOWED_ORIGINS: {item!r} is not an origin; write scheme://host[:port], "
                "e.g. https://clinic.example (no path, no wildcard), separated by commas"
            )
        origins.append(f"{parts.scheme}://{parts.netloc.lower()}")
    return tuple(dict.fromkeys(origins))


def content_security_policy(origins: tuple[str, ...], *, docs_page: bool = False) -> str:
    """The CSP: own scripts and data only, framing only by this app and the allowed origins."""
    # Gradio's page needs inline scripts (its config) and eval (gr.HTML templates); what keeps
    # injected markup from running is that render.py escapes all text, not this header.
    cdn = f" {DOCS_CDN}" if docs_page else ""
    directives = [
        "default-src 'self'",
        f"script-src 'self' 'unsafe-inline' 'unsafe-eval'{cdn}",
        f"style-src 'self' 'unsafe-inline'{cdn}",
        "img-src 'self' data:" + (" https://fastapi.tiangolo.com" if docs_page else ""),
        "font-src 'self' data:",
        "connect-src 'self'",
        "media-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors " + " ".join(("'self'", *origins)),
    ]
    return "; ".join(directives)


class SecurityHeaders:
    """Adds CSP, nosniff and a referrer policy to every response, Gradio's included."""

    def __init__(self, app: ASGIApp, origins: tuple[str, ...] = ()) -> None:
        self.app = app
        self.csp = content_security_policy(origins).encode()
        self.docs_csp = content_security_policy(origins, docs_page=True).encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        csp = self.docs_csp if scope.get("path", "").startswith(DOCS_PATHS) else self.csp

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                drop = {b"content-security-policy", b"x-content-type-options", b"referrer-policy"}
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() not in drop]
                headers += [
                    (b"content-security-policy", csp),
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"strict-origin-when-cross-origin"),
                ]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodyTooLarge(Exception):
    """Raised inside `receive` when a streamed body passes the limit."""


class BodyLimit:
    """Refuses request bodies over `limit` bytes before any route (Gradio's too) parses them."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.limit = limit

    async def _refuse(self, scope: Scope, send: Send) -> None:
        # The JSON API promises 400 for every bad input; elsewhere 413 is the standard answer.
        status = 400 if scope.get("path", "").startswith("/api/") else 413
        body = json.dumps(
            {"error": f"request body too large: the limit is {self.limit // 1024} KB"}
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope.get("headers", [])).get(b"content-length")
        if length is not None:
            try:
                too_big = int(length) > self.limit
            except ValueError:
                too_big = True  # a garbled length is refused rather than trusted
            if too_big:
                await self._refuse(scope, send)
                return
        # No (or a small) declared length: count what actually arrives, e.g. chunked bodies.
        seen = 0
        state = {"started": False, "refused": False, "answered": False}

        async def counting_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit and not state["started"]:
                    state["refused"] = True
                    raise BodyTooLarge
            return message

        async def guarded_send(message: Message) -> None:
            if state["refused"]:
                # The app may catch BodyTooLarge and answer with its own error: send ours instead.
                if message["type"] == "http.response.start" and not state["answered"]:
                    state["answered"] = True
                    await self._refuse(scope, send)
                return
            state["started"] = state["started"] or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except BodyTooLarge:
            if not state["answered"]:
                state["answered"] = True
                await self._refuse(scope, send)
