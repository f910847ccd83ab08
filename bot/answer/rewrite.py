"""Turn a follow-up ("how long does it last?") into a standalone question using the history."""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot.answer.compose import content_words

_ANAPHORA = re.compile(
    r"\b(?:it|its|it's|this|that|they|them|those|these|one|ones|the (?:treatment|procedure|"
    r"injections?|shots?|effect|side effects?|results?|drug|medicine|medication|condition))\b",
    re.IGNORECASE,
)
_CONTINUATION = re.compile(r"^\s*(?:and|also|what about|how about|but|so|then|ok(?:ay)?)\b", re.I)


def normalise_history(history: Sequence) -> list[tuple[str, str]]:
    """History as (role, text) pairs, from Gradio messages dicts or (user, bot) tuples."""
    turns: list[tuple[str, str]] = []
    for item in history or ():
        if isinstance(item, dict):
            role, content = item.get("role"), item.get("content")
            if isinstance(content, list):  # multimodal content parts
                content = " ".join(str(c.get("text", "")) for c in content if isinstance(c, dict))
            if role in {"user", "assistant"} and isinstance(content, str):
                turns.append((role, content))
        elif isinstance(item, list | tuple) and len(item) == 2:
            user, bot = item
            if isinstance(user, str):
                turns.append(("user", user))
            if isinstance(bot, str):
                turns.append(("assistant", bot))
    return turns


def needs_context(question: str) -> bool:
    """A short question that points back ("it", "that", "what about...") needs the history."""
    words = content_words(question)
    return bool(_CONTINUATION.match(question)) or (
        len(words) <= 6 and bool(_ANAPHORA.search(question))
    )


def standalone(question: str, history: Sequence) -> str:
    """The question as it should be searched: unchanged when it stands alone."""
    if not needs_context(question):
        return question
    previous = [text for role, text in normalise_history(history) if role == "user"]
    for earlier in reversed(previous):
        if content_words(earlier) - content_words(question):
            return f"{question.strip()} (about: {earlier.strip()[:300]})"
    return question
