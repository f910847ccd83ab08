"""Bot.stream: statements arrive one by one, each verified, and end with the reply `answer` gives."""

from __future__ import annotations

import pytest

from bot import prompts
from bot.chain import Bot
from bot.reply import FinalEvent, StatementEvent
from vectorstore.sentences import split_sentences

QUESTIONS = (
    "How long does Botox last?",
    "Can side effects from Botox be permanent?",
    "My eyelid is drooping after Botox. Will it get better?",
    "Is there a way to reverse Botox?",
)
MADE_UP = "Botox cures migraines forever in one day"


def split(events):
    """(statements, final reply) of one stream."""
    assert isinstance(events[-1], FinalEvent)
    assert all(isinstance(e, StatementEvent) for e in events[:-1])
    return events[:-1], events[-1].reply


def joined(statements) -> str:
    """The streamed text as a reader sees it: a space within a paragraph, a blank line between."""
    text = ""
    for i, s in enumerate(statements):
        if i:
            text += " " if s.paragraph == statements[i - 1].paragraph else "\n\n"
        text += s.text
    return text


@pytest.mark.parametrize("question", QUESTIONS)
def test_extractive_stream_sends_each_statement_and_ends_with_answers_reply(seed_bot, question):
    statements, reply = split(list(seed_bot.stream(question)))
    expected = seed_bot.answer(question)
    assert reply.kind == expected.kind == "answer"
    assert (reply.text, reply.citations) == (expected.text, expected.citations)
    # One event per statement: the reply really is sent in pieces, one paragraph at a time.
    assert len(statements) == len(reply.text.split("\n\n"))
    assert joined(statements) == reply.text
    # Each source arrives with the first statement citing it, numbered as in the final reply
    # (later statements may quote more of the same answer: the final citation has every quote).
    sent = [(c.marker, c.answer_id, c.attribution) for s in statements for c in s.citations]
    assert sent == [(c.marker, c.answer_id, c.attribution) for c in reply.citations]
    for s in statements:
        assert s.disclaimer == prompts.disclaimer()
        assert {c.marker for c in s.citations} <= {int(m) for m in _markers(s.text)}
    assert 0 < reply.latency_ms["first_statement"] <= reply.latency_ms["total"]


def _markers(text: str) -> list[str]:
    import re

    return re.findall(r"\[(\d+)\]", text)


def test_a_statement_cannot_be_built_without_the_disclaimer():
    with pytest.raises(ValueError, match="disclaimer"):
        StatementEvent(text="Botox lasts 3 months [1]", disclaimer="  ")


def test_emergency_is_the_first_and_only_statement(seed_bot):
    statements, reply = split(list(seed_bot.stream("I can't breathe and my throat is swelling")))
    assert reply.kind == "emergency"
    assert {s.kind for s in statements} == {"emergency"} and joined(statements) == reply.text
    assert statements[0].text.startswith("**Call 911")


def test_urgent_block_comes_first(seed_bot):
    question = "The filler bump in my lip is hot, red and swollen and I have a fever tonight"
    statements, reply = split(list(seed_bot.stream(question)))
    assert reply.triage == "urgent"
    assert statements[0].kind == "urgent" and reply.text.startswith(statements[0].text)
    assert joined(statements) == reply.text


def test_abstention_and_empty_question_are_sent_as_statements(seed_bot):
    statements, reply = split(list(seed_bot.stream("What is the capital of France?")))
    assert reply.kind == "abstain" and joined(statements) == reply.text == prompts.load("abstain")
    statements, reply = split(list(seed_bot.stream("   ")))
    assert reply.kind == "rejected" and joined(statements) == reply.text


def statement(answer: str) -> str:
    """A doctor's first plain statement (not a heading or a question)."""
    return next(s for s in split_sentences(answer) if s.endswith(".") and len(s.split()) >= 6)


class Scripted:
    """A model that copies two doctors' sentences and makes one claim up between them.

    It logs what it writes, so a test can see statements arrive before the model is done."""

    name = "scripted"

    def __init__(self, log: list) -> None:
        self.log = log

    def stream(self, question, sources):
        first, second = (statement(sources[n].text) for n in (1, 2))
        for piece in (f"{first} [1] ", f"{MADE_UP} [1]. ", f"{second} [2]"):
            for word in piece.split(" "):
                yield word + " "
            self.log.append(("model wrote", piece))
        self.log.append(("model done", ""))


def test_generated_statements_stream_only_once_verified(seed_bot):
    log: list = []
    bot = Bot(seed_bot.settings, index=seed_bot.index, generator=Scripted(log), strict=True)
    events = []
    for event in bot.stream("How long does Botox last?"):
        log.append(("got", event))
        events.append(event)
    statements, reply = split(events)
    assert reply.backend == "scripted" and reply.kind == "answer"
    assert len(statements) == 2  # the made-up claim was never sent
    assert all(MADE_UP not in s.text for s in statements) and MADE_UP not in reply.text
    assert reply.verification.dropped == 1
    assert joined(statements) == reply.text == bot.answer("How long does Botox last?").text
    # The first statement was sent before the model had finished writing.
    got_first = next(i for i, (what, _) in enumerate(log) if what == "got")
    assert got_first < log.index(("model done", ""))
    assert statements[0].citations[0].marker == 1


class Babbler:
    """A model whose every claim is unsupported."""

    name = "babbler"

    def stream(self, question, sources):
        yield f"{MADE_UP} [1]. Drink lemon water daily [2]."


class Unreachable:
    """A model endpoint that is down."""

    name = "unreachable"

    def stream(self, question, sources):
        raise ConnectionError("connection refused")
        yield ""


@pytest.mark.parametrize("model", [Babbler(), Unreachable()], ids=["babbler", "unreachable"])
def test_a_failing_model_streams_the_doctors_quotes_instead(seed_bot, model):
    bot = Bot(seed_bot.settings, index=seed_bot.index, generator=model, strict=True)
    statements, reply = split(list(bot.stream("How long does Botox last?")))
    assert reply.backend.endswith("+fallback") and reply.citations
    assert all(MADE_UP not in s.text and "lemon" not in s.text for s in statements)
    assert joined(statements) == reply.text == bot.answer("How long does Botox last?").text


def test_a_part_covered_question_streams_the_note_first_then_the_covered_part(seed_bot):
    question = "How long does Botox last, and can I drink alcohol after it?"
    statements, reply = split(list(seed_bot.stream(question)))
    expected = seed_bot.answer(question)
    assert reply.kind == expected.kind == "partial" and reply.citations
    assert (reply.text, reply.citations) == (expected.text, expected.citations)
    assert statements[0].text == prompts.load("not_covered").format(focus="drink alcohol")
    assert statements[1].text == prompts.load("covered_part")
    assert not statements[0].citations and len(statements) > 2
    assert joined(statements) == reply.text
    assert reply.follow_ups == expected.follow_ups
