"""The safety checks the chain runs before retrieval: validation, triage, medical boundaries.

Order matters. An empty message is refused first. Triage comes next, before the length limit, so
a long, frightened message about not being able to breathe still gets the emergency reply rather
than "please shorten your question" (an over-long message is triaged on its start and its end).
Then the length limit, then requests for a personal dose (referred to a clinician), then a note
when the question is not in English. An urgent verdict does not stop the chain: the doctors'
answers follow the urgent block (bot/chain.py puts it first).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot import prompts
from bot.safety.boundaries import personal_dosing_request
from bot.safety.triage import Triage, TriageResult
from bot.safety.validate import check_question, clean
from bot.settings import Settings

TRIAGE_MAX_CHARS = 20_000  # triage reads this much of an over-long message: its start and its end
SAFETY_TIERS = ("emergency", "crisis")  # the tiers whose reply replaces any answer


@dataclass(frozen=True)
class Validated:
    """A cleaned question, and the message to show if it cannot be answered."""

    text: str
    problem: str | None = None
    message: str = ""
    notice: str | None = None


@dataclass(frozen=True)
class Verdict:
    """A reply decided before retrieval (or, for urgent, a block to put first)."""

    kind: str  # "emergency", "crisis", "urgent", "referral" or "rejected"
    triage: str | None  # the triage tier: "emergency", "crisis", "urgent" or None
    message: str


def triage_text(question: str) -> str:
    """What triage reads: the cleaned message, or the start and end of an over-long one."""
    text = clean(question)
    if len(text) <= TRIAGE_MAX_CHARS:
        return text
    half = TRIAGE_MAX_CHARS // 2
    return text[:half] + "\n" + text[-half:]


def safety_text(tier: str, lang: str = "en") -> str:
    """The fixed reply for a tier, in the language of the message's cue when there is one."""
    if lang != "en":
        try:
            return prompts.load(f"{tier}.{lang}")
        except FileNotFoundError:
            pass  # English, which names the local emergency number too
    return prompts.load(tier)


class SafetyChecks:
    """Validation, triage and boundaries in one place, so every channel gets the same."""

    def __init__(
        self,
        embedder=None,
        settings: Settings | None = None,
        *,
        embed_messages: Callable[[list[str]], list[list[float]]] | None = None,
    ) -> None:
        self.settings = settings or Settings()
        self.triager = Triage(embedder, embed_messages=embed_messages)

    def validate(self, question: str) -> Validated:
        """Clean the text; refuse an empty one; note a non-English one."""
        if not isinstance(question, str):
            question = ""
        checked = check_question(question, self.settings.max_question_chars)
        if checked.problem == "empty":
            return Validated(checked.text, "empty", prompts.load("empty_question"))
        notice = prompts.load("non_english") if checked.non_english else None
        return Validated(checked.text, None, "", notice)

    def urgent_first(self, question: str) -> Verdict | None:
        """The emergency or crisis verdict by the red-flag catalogue alone: no model, no store.

        Channels call this before their rate, queue and length limits, so a safety reply is never
        refused; it is cheap (regular expressions), so it cannot be used to load the service.
        """
        result = self.triager.classify_patterns(triage_text(question))
        return self._safety(result)

    def _safety(self, result: TriageResult) -> Verdict | None:
        if result.kind in SAFETY_TIERS:
            return Verdict(result.kind, result.kind, safety_text(result.kind, result.lang))
        return None

    def triage(self, question: str) -> Verdict | None:
        """The reply to give instead of an answer (emergency, crisis, too long, dosing), if any.

        An urgent message gets Verdict("urgent", ...) when nothing else stops it, and carries
        triage="urgent" on a length or dosing verdict, so its block is shown first either way.
        """
        result = self.triager.classify(triage_text(question))
        safety = self._safety(result)
        if safety is not None:
            return safety
        urgent = "urgent" if result.kind == "urgent" else None
        limit = self.settings.max_question_chars
        if len(question) > limit:
            return Verdict("rejected", urgent, prompts.load("too_long").format(limit=limit))
        if personal_dosing_request(question):
            return Verdict("referral", urgent, prompts.load("dosing_referral"))
        if urgent:
            return Verdict("urgent", "urgent", safety_text("urgent", result.lang))
        return None
