"""Input validation: clean a question, refuse empty or over-long ones, notice non-English text.

Non-English detection is a heuristic with no extra dependency: a message mostly in a non-Latin
script is not English; a Latin-script message is not English when it has words of other languages'
small closed-class vocabularies (articles, pronouns, prepositions): two or more and no English
one, or three or more and more than English ones. English questions, even short or misspelt,
contain English function words and brand names are in neither list, so they never trip it; a
two-word foreign question or a transliterated one (Hinglish) goes through as English.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# Format characters worth keeping: joiners that some scripts and emoji sequences need.
_KEEP_FORMAT = {"\u200c", "\u200d"}
_DROP = ("Cc", "Cf", "Cs")  # controls, format characters (bidi overrides, zero-width), surrogates

# Closed-class words: frequent in any sentence, and rarely shared between these languages.
_ENGLISH = frozenset(
    [
        *(
            "the",
            "a",
            "an",
            "and",
            "or",
            "but",
            "of",
            "to",
            "in",
            "on",
            "at",
            "for",
            "with",
            "from",
        ),
        *("is", "are", "was", "were", "be", "been", "do", "does", "did", "have", "has", "had"),
        *("i", "my", "me", "you", "your", "it", "its", "this", "that", "what", "how", "why"),
        *("when", "can", "will", "should", "would", "could", "not", "no", "after", "before"),
        *("if", "so", "about", "there", "they", "she", "he", "her", "his", "we", "our", "much"),
        *("many", "long", "get", "got", "am", "im", "dont", "after", "still", "just", "very"),
    ]
)
_FOREIGN = frozenset(
    [
        # Spanish
        *("el", "los", "las", "una", "por", "para", "como", "qué", "que", "es", "mi", "tengo"),
        *("puedo", "después", "cuánto", "cuanto", "dura", "está", "pero", "muy", "sí", "del"),
        *("con", "sin", "se", "lo", "mis", "años", "hace", "semanas", "tiene", "de", "la", "en"),
        # French
        *("le", "les", "des", "une", "est", "je", "mon", "ma", "mes", "pour", "avec", "après"),
        *("combien", "dure", "peut", "pas", "ne", "du", "au", "aux", "elle", "il", "et", "très"),
        *("j'ai", "c'est", "qu'il", "sont", "fait", "mais", "sur", "dans", "ça", "cette"),
        # German
        *("der", "die", "das", "und", "ist", "ich", "nicht", "mein", "meine", "wie", "lange"),
        *("nach", "mit", "für", "ein", "eine", "auf", "kann", "habe", "wird", "auch", "sehr"),
        *("hält", "wirkt", "zu", "bei", "nicht", "mich", "mir"),
        # Portuguese and Italian
        *("não", "uma", "meu", "minha", "quanto", "tempo", "depois", "você", "são", "isso"),
        *("della", "di", "che", "non", "sono", "dopo", "mio", "mia", "ho", "gli", "quando"),
    ]
)
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")


@dataclass(frozen=True)
class Checked:
    """A cleaned question and what, if anything, stops it being answered."""

    text: str
    problem: str | None  # "empty" | "too_long" | None
    non_english: bool


def clean(text: str) -> str:
    """NFC-normalised text without control or format characters; tabs become spaces."""
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    out = []
    for ch in text:
        if ch == "\t" or ch in "\x0b\x0c\x1c\x1d\x1e\x85":
            out.append(" ")  # whitespace-like controls: keep the words apart
        elif ch == "\n" or ch in _KEEP_FORMAT or unicodedata.category(ch) not in _DROP:
            out.append(ch)
    return "".join(out).strip()


def _letters_outside_latin(text: str) -> float:
    letters = [ch for ch in text if ch.isalpha()]
    if not letters:
        return 0.0
    foreign = sum("LATIN" not in unicodedata.name(ch, "LATIN") for ch in letters)
    return foreign / len(letters)


def looks_non_english(text: str) -> bool:
    """True when text is clearly in another language (see the module docstring for the rule)."""
    if _letters_outside_latin(text) > 0.5:
        return True
    words = [w.lower() for w in _WORD.findall(text)]
    foreign = sum(w in _FOREIGN and w not in _ENGLISH for w in words)
    english = sum(w in _ENGLISH for w in words)
    return (foreign >= 2 and english == 0) or (foreign >= 3 and foreign > english)


def check_question(text: str, max_chars: int) -> Checked:
    """Clean a question; say if it is empty, too long (the text is kept whole) or not English."""
    if max_chars <= 0:
        raise ValueError(f"max_chars must be positive, got {max_chars}")
    if not isinstance(text, str):
        raise ValueError(f"a question must be a string, got {type(text).__name__}")
    cleaned = clean(text)
    if not cleaned:
        return Checked(cleaned, "empty", False)
    problem = "too_long" if len(cleaned) > max_chars else None
    return Checked(cleaned, problem, looks_non_english(cleaned))
