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


def has_shape(sentence: str, shapes: tuple[re.Pattern, ...]) -> bool:
    """Whether the sentence has one of the asked-for shapes."""
    text = sentence.replace("’", "'")
    return any(shape.search(text) for shape in shapes)
