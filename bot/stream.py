"""`Bot.stream`: a reply as typed events, each statement sent once it has passed verification.

The chain's steps up to the gate run as for `Bot.answer`. Then:
- extractive: the composer's lines are verified one at a time, and each that passes is sent;
- generative: the model's text is cut into statements as it arrives; each complete statement is
  verified against the sources it cites and sent only if they support it, so a statement that
  fails is never shown.
The last event is the Reply that `Bot.answer` would give, made by the same steps from the same
draft; its text replaces the streamed statements where they differ (when too little of a
model's reply passed and the doctors are quoted instead, or when answering failed midway).
A reply decided before composing (safety, abstention, rejection) is sent as statements too, the
"get seen today" block of an urgent message always first.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace

from bot import prompts
from bot.answer.agreement import reframe
from bot.answer.sources import AnswerRef, numbered_answers, renumber
from bot.answer.verify import Checked, units
from bot.reply import Citation, FinalEvent, Reply, StatementEvent

log = logging.getLogger(__name__)
_MARKERS = re.compile(r"\[(\d+)\]")
_PARAGRAPHS = re.compile(r"\n\s*\n")


class Numbering:
    """Markers renumbered 1..n by first appearance over the statements sent so far: the
    numbers the final reply gives them, since it keeps the same statements in the same order."""

    def __init__(self, answers: Mapping[int, AnswerRef]) -> None:
        self.answers = answers
        self.parts: list[str] = []
        self.support: dict[int, float] = {}
        self.quotes: dict[int, list[str]] = {}
        self.cited = 0

    def add(self, checked: Checked) -> tuple[str, tuple[Citation, ...]]:
        """The verified statement with its final markers, and the sources it cites first."""
        for marker, score in checked.support.items():
            self.support[marker] = max(self.support.get(marker, 0.0), score)
        for marker, quotes in checked.quotes.items():
            known = self.quotes.setdefault(marker, [])
            known.extend(q for q in quotes if q not in known)
        self.parts.append(checked.text)
        quotes = {m: tuple(q) for m, q in self.quotes.items()}
        text, citations = renumber("\n\n".join(self.parts), self.answers, self.support, quotes)
        new = citations[self.cited :]
        self.cited = len(citations)
        return text.rsplit("\n\n", 1)[-1], new


class Statements:
    """Makes one reply's StatementEvents: paragraph numbers, the disclaimer, what was sent."""

    def __init__(self) -> None:
        self.disclaimer = prompts.disclaimer()
        self.sent = 0  # statements of the reply's body (the urgent block not counted)
        self.preamble = 0  # of them, a partial reply's note on what is not covered
        self.urgent_sent = False
        self.paragraph = -1
        self._line: object = None
        self.started = time.perf_counter()
        self.first_ms: float | None = None

    def make(
        self, text: str, citations: Sequence[Citation] = (), *, kind: str, line: object = None
    ) -> StatementEvent:
        """The next statement; one with the same `line` as the last continues its paragraph."""
        if line is None or line != self._line:
            self.paragraph += 1
        self._line = line
        if kind == "urgent":
            self.urgent_sent = True
        else:
            self.sent += 1
        if self.first_ms is None:
            self.first_ms = round((time.perf_counter() - self.started) * 1000, 2)
        return StatementEvent(text, self.disclaimer, tuple(citations), self.paragraph, kind)

    def whole(self, reply: Reply, urgent: str | None) -> Iterator[StatementEvent]:
        """A finished reply sent as statements: the urgent block, then one per paragraph."""
        text = reply.text
        if urgent and reply.triage == "urgent" and text.startswith(urgent):
            if not self.urgent_sent:
                yield self.make(urgent, kind="urgent")
            text = text[len(urgent) :].strip()
        cited: set[int] = set()
        for part in _PARAGRAPHS.split(text.strip()):
            if not part.strip():
                continue
            markers = {int(m) for m in _MARKERS.findall(part)}
            first = [c for c in reply.citations if c.marker in markers - cited]
            cited |= markers
            yield self.make(part.strip(), first, kind=reply.kind)


def _extracted(bot, state: dict, out: Statements) -> Iterator[StatementEvent]:
    """The composer's lines, each sent once verification kept it (reframed as the reply is)."""
    answers = state["answers"]
    texts = {m: a.text for m, a in answers.items()}
    composition = state["composition"]
    numbering = Numbering(answers)
    for n, line in enumerate(state["draft"].split("\n\n")):
        checked = bot.verifier.check(line, texts)
        if not checked.kept:
            continue
        text = reframe(checked.text, composition.considered, composition.organisations)
        final, citations = numbering.add(replace(checked, text=text))
        yield out.make(final, citations, kind="answer", line=("extract", n))


def _generated(bot, state: dict, out: Statements) -> Iterator[StatementEvent]:
    """The model's statements as they are completed, each sent only if its sources support it."""
    answers = numbered_answers(state["docs"])
    texts = {m: a.text for m, a in answers.items()}
    numbering = Numbering(answers)
    written, done = "", 0

    def verified(found: list) -> Iterator[StatementEvent]:
        for unit in found:
            checked = bot.verifier.check(unit.text, texts)
            if checked.kept:
                final, citations = numbering.add(checked)
                yield out.make(final, citations, kind="answer", line=("model", unit.line))

    for piece in bot.generator.stream(state.get("asked") or state["standalone"], answers):
        written += piece
        found = units(written)
        # The last statement may still grow (more words, its markers): only earlier ones are done.
        yield from verified(found[done:-1])
        done = max(done, len(found) - 1)
    yield from verified(units(written)[done:])
    state["draft"], state["answers"], state["backend"] = written, answers, bot.generator.name


def _composed(bot, state: dict, out: Statements) -> Iterator[StatementEvent]:
    """Compose and verify as `Bot.answer` does, sending statements as they pass."""
    if bot.generator is not None:
        try:
            yield from _generated(bot, state, out)
        except Exception as err:  # a model endpoint that is down or slow is expected
            log.warning(
                "generative backend %s failed (%s); quoting doctors instead",
                bot.generator.name,
                err,
            )
            state["generator_failed"] = True
            state.pop("draft", None)
    if state.get("draft") is None:
        bot._extract(state)
        if out.sent == out.preamble:  # the model's statements shown are replaced at the end
            yield from _extracted(bot, state, out)
    bot._verify(state)


def reply_events(reply: Reply) -> Iterator[StatementEvent | FinalEvent]:
    """The events of a reply made elsewhere (a channel's safety-first reply)."""
    yield from Statements().whole(reply, None)
    yield FinalEvent(reply)


def stream_reply(
    bot, question: str, history: Sequence = ()
) -> Iterator[StatementEvent | FinalEvent]:
    """Bot.stream: statements as they pass verification, then the final Reply; never raises."""
    state: dict = {
        "question": question if isinstance(question, str) else "",
        "history": history or (),
    }
    out = Statements()
    try:
        state = bot.prefix.invoke(state)
        if state.get("reply") is None:
            if state.get("urgent"):
                yield out.make(state["urgent"], kind="urgent", line="urgent")
            if state.get("not_covered"):  # a part is not covered: say so before the rest
                yield out.make(state["not_covered"], kind="partial", line="note")
                yield out.make(prompts.load("covered_part"), kind="partial", line="intro")
                out.preamble = out.sent
            started = time.perf_counter()
            yield from _composed(bot, state, out)
            state["latency"]["compose+verify"] = round((time.perf_counter() - started) * 1000, 2)
        reply = state["reply"]
    except Exception as err:
        reply = bot.failed(state, err)
    reply = bot._with_follow_ups(reply, state)
    if not out.sent:
        yield from out.whole(reply, state.get("urgent"))
    reply.latency_ms["first_statement"] = out.first_ms or 0.0
    reply.latency_ms["total"] = round((time.perf_counter() - out.started) * 1000, 2)
    yield FinalEvent(reply)
