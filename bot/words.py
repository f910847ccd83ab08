"""Words of a text for overlap measures: content words (stop words out) and their stems."""

from __future__ import annotations

import functools
import re

from bot.prompts import wordlist

_WORD = re.compile(r"[a-z]+(?:'[a-z]+)*|\d+(?:\.\d+)?")


@functools.lru_cache(maxsize=1)
def stop_words() -> frozenset[str]:
    """bot/wordlists/stop_words.txt."""
    return frozenset(wordlist("stop_words"))


@functools.lru_cache(maxsize=65536)  # the same sentences are scored by compose, gate and verify
def content_words(text: str) -> frozenset[str]:
    """Lower-cased words minus stop words, crudely stemmed (plural s), for overlap measures."""
    stop = stop_words()
    words = set()
    for w in _WORD.findall(text.lower()):
        if w in stop or len(w) < 2:
            continue
        words.add(w[:-1] if len(w) > 4 and w.endswith("s") and not w.endswith("ss") else w)
    return frozenset(words)


@functools.lru_cache(maxsize=1)
def subject_references() -> frozenset[str]:
    """bot/wordlists/subject_references.txt: nouns that refer back to the treatment discussed."""
    return frozenset(wordlist("subject_references"))


@functools.lru_cache(maxsize=65536)
def comparable_words(text: str) -> frozenset[str]:
    """Content words minus those that only refer back to the subject ("the effects", "the
    results"): what two sentences are compared on to tell whether they make the same claim."""
    return content_words(text) - subject_references()


@functools.lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


@functools.lru_cache(maxsize=1)
def _irregular() -> dict[str, str]:
    """bot/wordlists/irregular_forms.txt: form -> base ("swollen" -> "swell")."""
    return dict(line.split(None, 1) for line in wordlist("irregular_forms"))


def stem(word: str) -> str:
    """The Snowball stem of one lower-cased word (the stemmer BM25 indexes with), an irregular
    form ("swollen") stemmed as its base ("swell")."""
    word = word.lower().split("'")[0]
    return _stemmer().stemWord(_irregular().get(word, word))


@functools.lru_cache(maxsize=65536)
def stems(text: str) -> frozenset[str]:
    """Snowball stems of a text's content words ("drooping", "droops" -> "droop")."""
    words = content_words(text.replace("’", "'"))
    irregular = _irregular()
    bases = [w.split("'")[0] for w in words]
    return frozenset(_stemmer().stemWords([irregular.get(w, w) for w in bases]))
