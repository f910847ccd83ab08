"""Text made safe for the chat's HTML: escaped, bold only where **marked**, http(s) links only."""

from __future__ import annotations

import html
import re
from urllib.parse import urlsplit

BOLD = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*")


def esc(text: str | None) -> str:
    """HTML-escape text, quotes included (safe in element content and attribute values)."""
    return html.escape(text or "", quote=True)


def inline(text: str) -> str:
    """Escaped text where **this** becomes bold (the fixed safety texts use it); nothing else."""
    return BOLD.sub(r"<strong>\1</strong>", esc(text))


def safe_url(url: str | None) -> str | None:
    """The URL if it is a plain http(s) link to a host, else None (no javascript:, data:...)."""
    if not url or any(ch.isspace() or ord(ch) < 32 for ch in url):
        return None
    parts = urlsplit(url)
    if parts.scheme.lower() not in {"http", "https"} or not parts.netloc:
        return None
    return url
