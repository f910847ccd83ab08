"""The shape of answer a question asks for ("made of": a definition, "how long": a time span), and
whether a sentence has it. The cues are data (bot/wordlists/answer_shapes.txt): each line pairs a
question cue with the answer cue of a sentence that gives what it asks."""

from __future__ import annotations

import functools
import re

from bot.prompts import wordlist

_ARROW = " => "


@functools.lru_cache(maxsize=1)
def _shapes() -> tuple[tuple[re.Pattern, re.Pattern], ...]:
    shapes = []
    for line in wordlist("answer_shapes"):
        if _ARROW not in line:
            raise ValueError(f"answer_shapes.txt: expected 'question cue => answer cue': {line!r}")
        asked, given = line.split(_ARROW, 1)
        shapes.append((re.compile(asked.strip(), re.I), re.compile(given.strip(), re.I)))
    return tuple(shapes)


def asked_shapes(question: str) -> tuple[re.Pattern, ...]:
    """The answer cues of the shapes this question asks for (none for most questions)."""
    text = question.strip().replace("’", "'")
    return tuple(given for asked, given in _shapes() if asked.search(text))


def has_shape(sentence: str, shapes: tuple[re.Pattern, ...]) -> bool:
    """Whether the sentence has one of the asked-for shapes."""
    text = sentence.replace("’", "'")
    return any(shape.search(text) for shape in shapes)
