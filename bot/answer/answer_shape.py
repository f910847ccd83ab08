"""The shape of answer a question asks for ("made of": a definition, "how long": a time span), and
whether a sentence has it. The cues are data (bot/wordlists/answer_shapes.txt): each line pairs a
question cue with the answer cue of a sentence that gives what it asks. A line marked `must:` is a
shape without which a sentence does not answer at all, however close it is to the question
("When can I go for a walk after Botox?" is not answered by "It wears off in 3 months")."""

from __future__ import annotations

import functools
import re

from bot.prompts import wordlist

_ARROW = " => "
_MUST = "must:"


@functools.lru_cache(maxsize=1)
def _shapes() -> tuple[tuple[re.Pattern, re.Pattern, bool], ...]:
    shapes = []
    for line in wordlist("answer_shapes"):
        must = line.startswith(_MUST)
        line = line.removeprefix(_MUST)
        if _ARROW not in line:
            raise ValueError(f"answer_shapes.txt: expected 'question cue => answer cue': {line!r}")
        asked, given = line.split(_ARROW, 1)
        shapes.append((re.compile(asked.strip(), re.I), re.compile(given.strip(), re.I), must))
    return tuple(shapes)


def asked_shapes(question: str, *, must: bool = False) -> tuple[re.Pattern, ...]:
    """The answer cues of the shapes this question asks for (none for most questions); with
    `must`, only those a sentence must have to answer it at all."""
    text = question.strip().replace("’", "'")
    return tuple(
        given for asked, given, needed in _shapes() if asked.search(text) and (needed or not must)
    )


@functools.lru_cache(maxsize=65536)  # asked of one sentence by directness, the fill and the lead
def has_shape(sentence: str, shapes: tuple[re.Pattern, ...]) -> bool:
    """Whether the sentence has one of the asked-for shapes."""
    text = sentence.replace("’", "'")
    return any(shape.search(text) for shape in shapes)


def shape_share(sentence: str, shapes: tuple[re.Pattern, ...]) -> float:
    """The share of the asked shapes the sentence has ("how long until it goes away": both)."""
    return sum(has_shape(sentence, (s,)) for s in shapes) / (len(shapes) or 1)


_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
_STAND_IN = "qqqq"  # a word no cue names


@functools.lru_cache(maxsize=1024)  # asked by every focus share of one reply (compose, parts)
def shape_words(question: str) -> dict[str, tuple[re.Pattern, ...]]:
    """The question's words that are how it asks for a shape, not what it asks about ("made" of
    "made of", "doctor" of "what kind of doctor"), each with the answer cues of its shapes.

    A word is one when it lies in a question cue's match and the cue is named by it: put another
    word in its place and the cue no longer matches there ("exercise" of "when can I exercise
    after" is matched by a wildcard of the cue, so it stays a word the question asks about)."""
    text = question.strip().replace("’", "'")
    out: dict[str, list[re.Pattern]] = {}
    for asked, given, _ in _shapes():
        for found in asked.finditer(text):
            for word in _WORD.finditer(text, found.start(), found.end()):
                swapped = text[: word.start()] + _STAND_IN + text[word.end() :]
                again = asked.search(swapped, found.start())
                if again is None or again.start() != found.start():
                    out.setdefault(word.group().lower(), []).append(given)
    return {w: tuple(dict.fromkeys(cues)) for w, cues in out.items()}
