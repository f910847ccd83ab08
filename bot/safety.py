"""The safety checks the chain runs before retrieval: input validation and triage."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from bot.settings import Settings


@dataclass(frozen=True)
class Validated:
    """A cleaned question, and the message to show if it cannot be answered."""

    text: str
    problem: str | None = None
    message: str = ""
    notice: str | None = None


@dataclass(frozen=True)
class Verdict:
    """A safety reply decided before retrieval."""

    kind: str  # reply kind: "emergency", "crisis" or "referral"
    triage: str | None
    message: str


class SafetyChecks:
    """Validation and triage in one place, so every channel gets the same."""

    def __init__(self, embedder=None, settings: Settings | None = None) -> None:
        self.embedder = embedder
        self.settings = settings or Settings()

    def validate(self, question: str) -> Validated:
        """Strip control characters; refuse empty and over-long questions with a clear message."""
        text = "".join(
            ch if ch in "\n\t" or unicodedata.category(ch)[0] != "C" else " "
            for ch in unicodedata.normalize("NFC", question or "")
        ).strip()
        if not text:
            return Validated(text, "empty", "Please type a question.")
        limit = self.settings.max_question_chars
        if len(text) > limit:
            return Validated(
                text[:limit],
                "too_long",
                f"Your question is longer than {limit} characters. Please shorten it and ask again.",
            )
        return Validated(text)

    def triage(self, question: str) -> Verdict | None:
        """Emergency or crisis reply to give instead of an answer, if any."""
        return None
