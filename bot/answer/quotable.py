"""Which sentences of a doctor's answer may be quoted as a statement: not boilerplate, not text
addressed to an AI, not a heading or a list intro, and whether it is about the asker's own case."""

from __future__ import annotations

import functools
import re

from bot.prompts import wordlist
from vectorstore.sentences import MAX_SENTENCE_WORDS, MIN_SENTENCE_WORDS, word_count

# Sentences that carry no medical content: greetings, thanks, sympathy, sign-offs, legal notes.
_BOILERPLATE = re.compile(
    r"^(?:thank(?:s| you)\b|i hope (?:this|that) helps|hope (?:this|you find)|good luck|"
    r"best (?:wishes|regards)|hello\b|hi\b|dear\b|(?:i am |i'm )?(?:so )?sorry (?:to hear|this)|"
    r"i am sorry|this answer has been solicited|is this a statement or|kind regards|"
    r"all the best|take care|cheers\b)",
    re.IGNORECASE,
)
# Text inside a source that addresses an AI rather than a patient is data, never an instruction,
# and is never quoted back ("ignore previous instructions", "system prompt", "you are now ...").
INSTRUCTION_LIKE = re.compile(
    r"\b(?:ignore|disregard|forget|override)\b.{0,40}\b(?:instructions?|rules?|prompts?|"
    r"guidelines|above|previous)\b|\bsystem prompt\b|\b(?:you are|act as|pretend to be)\b.{0,30}"
    r"\b(?:ai|assistant|chatbot|model|bot|dan)\b|\b(?:assistant|chatbot|ai|language model)s?\b.{0,30}"
    r"\b(?:must|should|will|shall)\b|\bdisclaimer\b|<\s*/?\s*(?:system|script|img|iframe)\b|"
    r"^\s*(?:system|assistant|user)\s*:",
    re.IGNORECASE,
)


@functools.lru_cache(maxsize=1)
def _case_cues() -> re.Pattern:
    phrases = sorted(wordlist("case_cues"), key=len, reverse=True)
    return re.compile(r"\b(?:" + "|".join(re.escape(p) for p in phrases) + r")\b", re.IGNORECASE)


@functools.lru_cache(maxsize=65536)  # a pure test of the text; the same sentences recur
def quotable(sentence: str, max_words: int = MAX_SENTENCE_WORDS) -> bool:
    """Whether a sentence may be quoted: medical content of a quotable length, not boilerplate,
    not text addressed to an AI."""
    return (
        MIN_SENTENCE_WORDS <= word_count(sentence) <= max_words
        and not _BOILERPLATE.match(sentence)
        and not INSTRUCTION_LIKE.search(sentence)
    )


@functools.lru_cache(maxsize=1)
def _announcement() -> re.Pattern:
    cues = sorted(wordlist("list_announcements"), key=len, reverse=True)
    times = "|".join(re.escape(w) for w in wordlist("time_words"))
    return re.compile(
        r"\b(?:" + "|".join(re.escape(c) for c in cues) + rf")\b(?!\s+(?:{times})\b)",
        re.IGNORECASE,
    )


def announces_a_missing_list(sentence: str) -> bool:
    """Whether a sentence announces a list ("the following", "listed below") that it does not
    itself carry after a colon (bot/wordlists/list_announcements.txt)."""
    found = _announcement().search(sentence)
    return found is not None and ":" not in sentence[found.end() :]


def statement_like(sentence: str, max_words: int = MAX_SENTENCE_WORDS) -> bool:
    """Quotable and a whole statement: not a heading, a list intro ("The signs ... are") or a
    question (a heading such as "How might X be treated?", or one the doctor asks back): a question
    states nothing a patient could rely on."""
    if not quotable(sentence, max_words) or announces_a_missing_list(sentence):
        return False
    text = sentence.rstrip()
    if text.endswith(":") or text.rstrip("\"'”’)]").endswith("?"):
        return False
    if text[-1] not in ".!?)\"”’'":
        last = re.findall(r"[a-z]+", text.lower())
        return (
            bool(last) and last[-1] not in wordlist("list_intro_endings") and (word_count(text) > 6)
        )
    return True


FLATTENED_ITEMS = 2  # " - " items after a colon that make a line a list intro with its items
_ITEM = re.compile(r"\s-\s")


def flattened_list(sentence: str) -> bool:
    """A list intro and its items that lost their line breaks, read as one sentence ("These
    resources address the diagnosis or management of X: - Gene Review: ... - Genetic Testing
    Registry: ..."): items, not a statement, so not quoted as one (coverage still reads its
    words). A flattened table without an intro ("Signs and Symptoms ... Blepharospasm -
    Clumsiness - ...") is left quotable: for "What are the symptoms of X?" it is the answer."""
    colon = sentence.find(":")
    return colon >= 0 and len(_ITEM.findall(sentence, colon)) >= FLATTENED_ITEMS


@functools.lru_cache(maxsize=65536)
def case_specific(sentence: str) -> bool:
    """Whether a sentence is about the original asker's own case (bot/wordlists/case_cues.txt)."""
    return bool(_case_cues().search(sentence))
