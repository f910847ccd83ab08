"""The safety checks the chain runs before retrieval: validation, triage, medical boundaries.

Order matters. An empty message is refused first. Triage comes next, before the length limit, so
a long, frightened message about not being able to breathe still gets the emergency reply rather
than "please shorten your question". Then the length limit, then requests for a personal dose
(referred to a clinician), then a note when the question is not in English.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot import prompts
from bot.boundaries import personal_dosing_request
from bot.safety.triage import Triage
from bot.settings import Settings
from bot.validate import check_question, clean

TRIAGE_MAX_CHARS = 20_000  # triage reads this much of an over-long message before refusing it


@dataclass(frozen=True)
class Validated:
    """A cleaned question, and the message to show if it cannot be answered."""

    text: str
    problem: str | None = None
    message: str = ""
    notice: str | None = None


@dataclass(frozen=True)
class Verdict:
    """A reply decided before retrieval."""

    kind: str  # reply kind: "emergency", "crisis", "referral" or "rejected"
    triage: str | None
    message: str


class SafetyChecks:
    """Validation, triage and boundaries in one place, so every channel gets the same."""

    def __init__(self, embedder=None, settings: Settings | None = None) -> None:
        self.settings = settings or Settings()
        self.triager = Triage(embedder)

    def validate(self, question: str) -> Validated:
        """Clean the text; refuse an empty one; note a non-English one."""
        if not isinstance(question, str):
            question = ""
        checked = check_question(question, self.settings.max_question_chars)
        if checked.problem == "empty":
            return Validated(checked.text, "empty", prompts.load("empty_question"))
        notice = prompts.load("non_english") if checked.non_english else None
        return Validated(checked.text, None, "", notice)

    def triage(self, question: str) -> Verdict | None:
        """The reply to give instead of an answer (emergency, crisis, too long, dosing), if any."""
        result = self.triager.classify(clean(question)[:TRIAGE_MAX_CHARS])
        if result.kind in {"emergency", "crisis"}:
            return Verdict(result.kind, result.kind, prompts.load(result.kind))
        limit = self.settings.max_question_chars
        if len(question) > limit:
            return Verdict("rejected", None, prompts.load("too_long").format(limit=limit))
        if personal_dosing_request(question):
            return Verdict("referral", None, prompts.load("dosing_referral"))
        return None
