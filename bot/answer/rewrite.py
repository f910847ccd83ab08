"""Turn a follow-up ("how long does it last?") into a standalone question using the history."""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot.answer.compose import content_words
from bot.prompts import wordlist
from vectorstore.sentences import split_sentences

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


def _names_own_subject(before: str) -> bool:
    """The patient's words before the first pointing-back word name what it points to: a
    possessive phrase ("my eyelid", "my lips") or a whole sentence of their own ("I had Botox in
    October and my eyelid droops.") with at least two content words."""
    owners = "|".join(map(re.escape, wordlist("own_subject_markers")))
    if re.search(rf"\b(?:{owners})\s+[a-z]", before, re.IGNORECASE):
        return True
    sentences = split_sentences(before)
    if sentences and not before.rstrip().endswith((".", "!", "?")):
        sentences.pop()  # the unfinished sentence the pointing-back word is in
    return any(len(content_words(sentence)) >= 2 for sentence in sentences)


def needs_context(question: str) -> bool:
    """A short question that points back ("it", "that", "what about...") needs the history,
    unless what it points back to is named in the message itself."""
    if _CONTINUATION.match(question):
        return True
    pointer = _ANAPHORA.search(question)
    if pointer is None or len(content_words(question)) > 6:
        return False
    return not _names_own_subject(question[: pointer.start()])


def standalone(question: str, history: Sequence) -> str:
    """The question as it should be searched: unchanged when it stands alone."""
    if not needs_context(question):
        return question
    previous = [text for role, text in normalise_history(history) if role == "user"]
    for earlier in reversed(previous):
        if content_words(earlier) - content_words(question):
            return f"{question.strip()} (about: {earlier.strip()[:300]})"
    return question
