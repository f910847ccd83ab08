"""The parts of a message that each ask something.

"How long does Botox last, and can I drink alcohol after it?" asks two things, and the doctors'
answers may cover one and not the other. A part is a question sentence ("?"), or a clause of one
that a joining word opens with a question word ("..., and can I ..."); a story around the questions
is not a part (see `question_focus`). A message with no question sentence is one part.
"""

from __future__ import annotations

import functools
import re

from bot.prompts import wordlist
from vectorstore.sentences import split_sentences

SUBJECT_MAX_WORDS = 12  # a first line this short, followed by more lines, is a subject line


@functools.lru_cache(maxsize=1)
def _joint() -> re.Pattern:
    joiners = "|".join(re.escape(w) for w in wordlist("clause_joiners"))
    openers = "|".join(re.escape(w) for w in wordlist("question_openers"))
    return re.compile(rf"[,;]?\s+(?:{joiners})\s+(?=(?:{openers})\b)", re.IGNORECASE)


def question_parts(message: str) -> list[str]:
    """The parts of the message that ask something, in order (the whole message when it asks one
    thing, or when none of its sentences is a question)."""
    lines = [line.strip() for line in message.strip().splitlines() if line.strip()]
    if len(lines) > 1 and len(lines[0].split()) <= SUBJECT_MAX_WORDS and "?" not in lines[0]:
        lines = lines[1:]  # a subject line names the topic; it asks nothing of its own
    asks = [s for s in split_sentences("\n".join(lines)) if "?" in s]
    parts = [p.strip() for s in asks for p in _joint().split(s) if p.strip()]
    return parts if len(parts) > 1 else [message]
