"""Reduce page and corpus text to plain text at the source, and keep only http(s) URLs.

Whatever a page holds (HTML tags, scripts, event handlers, template placeholders, entities,
markdown images and links), what is stored, embedded and quoted is the words a reader sees.
"""

from __future__ import annotations

import html
import re
from urllib.parse import urlsplit

_DROP_BLOCKS = re.compile(
    r"<(script|style|svg|math|iframe|noscript|template|object|embed|head|title|select|textarea)"
    r"\b[^>]*>.*?(?:</\1\s*>|\Z)",
    re.IGNORECASE | re.DOTALL,
)
_COMMENT = re.compile(r"<!--.*?(?:-->|\Z)|<!\[CDATA\[.*?(?:\]\]>|\Z)", re.DOTALL)
_TAG = re.compile(r"</?[A-Za-z][^<>]*>|<![A-Za-z][^<>]*>|<\?[^<>]*>")
_OPEN_TAG_AT_END = re.compile(r"</?[A-Za-z][^<>\n]*\Z")  # a tag cut off by the end of the text
_TEMPLATE = re.compile(
    r"\{\{.{0,2000}?\}\}|\{%.{0,2000}?%\}|\{#.{0,2000}?#\}|\$\{[^}\n]*\}", re.DOTALL
)
_TEMPLATE_OPEN = re.compile(r"\{\{[^\n]*|\{%[^\n]*")  # an unclosed placeholder: to line end
_MD_TARGET = r"\((?:[^()\n]|\([^()\n]*\))*\)"  # one level of parentheses inside the URL
_MD_IMAGE = re.compile(r"!\[[^\]\n]*\]" + _MD_TARGET)
_MD_LINK = re.compile(r"\[([^\]\n]*)\]" + _MD_TARGET)
_UNSAFE_URL = re.compile(r"\b(?:javascript|vbscript|data|file|blob)\s*:[^\s]*", re.IGNORECASE)
_SPACES = re.compile(r"[ \t\u00a0]{2,}")
_INVISIBLE = str.maketrans({"\u200b": None, "\ufeff": None, "\u200e": None, "\u200f": None})


def _blank(match: re.Match[str]) -> str:
    """A removed span leaves a space and its line breaks, so line numbers stay right."""
    return " " + "\n" * match.group(0).count("\n")


def _strip_once(text: str) -> str:
    text = html.unescape(text)
    for pattern in (_COMMENT, _DROP_BLOCKS, _TAG, _OPEN_TAG_AT_END, _TEMPLATE, _TEMPLATE_OPEN):
        text = pattern.sub(_blank, text)
    text = _MD_IMAGE.sub(_blank, text)
    text = _MD_LINK.sub(lambda m: m.group(1), text)
    return _UNSAFE_URL.sub(_blank, text)


def plain_text(text: str) -> str:
    """The text a reader sees: markup, templates and unsafe links removed, entities decoded.

    Line breaks are kept, even those inside removed markup (the page parser reads lines and
    names them); a line that lost something has its spaces tidied, an untouched line is kept.
    """
    text = text.translate(_INVISIBLE)
    cleaned = text
    for _ in range(3):  # entities can hide markup ("&lt;script&gt;"): strip until stable
        again = _strip_once(cleaned)
        if again == cleaned:
            break
        cleaned = again
    if cleaned == text:
        return text
    before = text.split("\n")
    after = cleaned.split("\n")
    if len(before) != len(after):  # an entity that decoded to a line break
        return "\n".join(_SPACES.sub(" ", line).strip() for line in after)
    return "\n".join(
        line if line == old else _SPACES.sub(" ", line).strip()
        for old, line in zip(before, after, strict=True)
    )


def one_line(text: str) -> str:
    """Plain text on one line, spaces collapsed (names, titles, short fields)."""
    return " ".join(plain_text(text).split())


def safe_url(url: object) -> str | None:
    """The URL if it is an absolute http(s) URL with a host and no spaces, else None."""
    if not isinstance(url, str):
        return None
    url = url.strip()
    if not url or any(ch.isspace() or ord(ch) < 32 for ch in url) or len(url) > 2048:
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in {"http", "https"} or not parts.hostname:
        return None
    if any(ch in url for ch in "<>\"'`"):
        return None
    return url
