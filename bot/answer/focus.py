"""What a question asks about, and whether the retrieved answers address it.

The focus is the question's content words minus words that only ask (bot/wordlists/
question_words.txt) and minus the shared topic (words in more than TOPIC_SHARE of the corpus's
chunks, "botox" on the seed pages), each weighted by its rarity in the corpus (BM25's document
frequencies: idf = ln((N + 1) / (df + 0.5))), a word the corpus lacks weighing most. A retrieved
sentence addresses a focus word when it contains its stem. The answers do not cover the question
when the focus words none of their sentences contains carry at least UNCOVERED_SHARE of the
focus's weight, the heaviest of them included, and those words are not said in other words
either (see `not_covered`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from langchain_core.documents import Document

from bot.answer.answer_shape import asked_shapes, has_shape
from bot.answer.quotable import statement_like
from bot.answer.retrieve import question_focus as asked_part
from bot.prompts import wordlist
from bot.words import content_words, stem, stems, stop_words
from vectorstore.sentences import split_sentences

TOPIC_SHARE = 0.3  # a word in more of the corpus's chunks than this is the topic, not the focus
UNCOVERED_SHARE = 0.5  # focus weight no sentence contains that makes the question not covered...
PHRASE_COSINE = 0.5  # ...unless some sentence is this close to the missing words' phrase
SURE_SENTENCE = 0.72  # a sentence this close to the whole question covers it, whatever its words,
# ...when it has every shape of answer the question must get (bot/answer/answer_shape.py)
WORDS_ADD_NOTHING = 0.03  # ...or leaving them out brings the best sentence at most this closer
HEAVY = 0.7  # missing focus words this close to the heaviest one are named in the reply
MAX_PHRASE_WORDS = 6  # a longer span of the question is shown as its missing words alone
_TOKEN = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
_TAG = re.compile(r"<[^>]*>")
_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_PIECE = re.compile(r"[^\W_]+(?:['’][^\W_]+)*|[^\w\s]")  # words and punctuation


@dataclass(frozen=True)
class Focus:
    """The focus words of a question: stem -> weight, and stem -> the patient's word."""

    question: str
    weights: dict[str, float]
    words: dict[str, str]

    def missing(self, sentences: Sequence[str]) -> set[str]:
        """The focus stems that none of the sentences contains."""
        found: set[str] = set()
        for sentence in sentences:
            found |= stems(sentence) & self.weights.keys()
        return set(self.weights) - found

    def uncovered(self, sentences: Sequence[str]) -> set[str]:
        """The missing stems when they carry the question (see the module docstring), else {}."""
        if not self.weights:
            return set()
        missing = self.missing(sentences)
        total = sum(self.weights.values())
        heaviest = max(self.weights, key=lambda s: (self.weights[s], s))
        if heaviest in missing and sum(self.weights[s] for s in missing) >= UNCOVERED_SHARE * total:
            return missing
        return set()

    def phrase(self, missing: set[str]) -> str:
        """The patient's words for the missing focus: the span from the first to the last of its
        heaviest words, with a word just before it that only asks ("work" of "work out")."""
        tokens = _TOKEN.findall(self.question)
        top = max(self.weights[s] for s in missing)
        heavy = {s for s in missing if self.weights[s] >= HEAVY * top}
        hits = [i for i, t in enumerate(tokens) if _token_stem(t) in heavy]
        if not hits:
            return ""
        start = hits[0]
        before = tokens[start - 1].lower() if start else ""
        if before in wordlist("question_words") and before not in stop_words():
            start -= 1
        return " ".join(tokens[start : hits[-1] + 1])

    def span(self) -> str:
        """The patient's words from the first focus word to the last ("stay frozen forever"): what
        a sentence that answers the question should be about, embedded as one extra query."""
        tokens = _TOKEN.findall(self.question)
        hits = [i for i, t in enumerate(tokens) if _token_stem(t) in self.weights]
        return " ".join(tokens[hits[0] : hits[-1] + 1]) if hits else ""


def _token_stem(token: str) -> str | None:
    words = content_words(token.replace("’", "'"))
    return stem(next(iter(words))) if len(words) == 1 else None


def focus_of(question: str, frequency: Callable[[str], int], n_docs: int) -> Focus:
    """The focus of a question against a corpus of `n_docs` chunks (`frequency`: stem -> df).

    A message that tells a story and then asks ("... I still cannot move one side. Is that
    permanent?") is judged by its subject line and question sentences only."""
    asking = set(wordlist("question_words"))
    weights: dict[str, float] = {}
    words: dict[str, str] = {}
    question = asked_part(question) or question
    # Markup is not what a patient asks about: tags go, a link keeps only its text.
    question = _LINK.sub(r"\1", _TAG.sub(" ", question))
    for token in _TOKEN.findall(question):
        word = token.lower().replace("’", "'")
        if word in asking or word[0].isdigit() or not content_words(word):
            continue
        s = _token_stem(token)
        if s is None or s in weights:
            continue
        df = frequency(s)
        if n_docs and df > TOPIC_SHARE * n_docs:
            continue
        weights[s] = math.log((n_docs + 1) / (df + 0.5))
        words[s] = token
    return Focus(question, weights, words)


def not_covered(
    focus: Focus,
    sentences: Sequence[str],
    vectors: np.ndarray,
    embed: Callable[[str], Sequence[float]],
) -> str | None:
    """The patient's words for what the answers do not cover, or None when they cover it.

    `vectors` are the sentences' stored vectors (rows in the same order). Words the answers lack
    may still be said in other words ("fade" for "wear off"): the question counts as covered when
    those words alone are close to a sentence (PHRASE_COSINE), or when taking them out of the
    question brings no sentence more than WORDS_ADD_NOTHING closer (they add nothing the answers
    lack; off-topic words such as "alcohol" pull the question away from every sentence)."""
    missing = focus.uncovered(sentences)
    if not missing or not len(vectors):
        return None if not missing else focus.phrase(missing)
    whole = vectors @ np.asarray(embed(focus.question), dtype=np.float32)
    ordered = [focus.words[s] for s in focus.words if s in missing]  # the question's order
    # Only the missing words: the rest of the question is what the answers do talk about.
    probe = vectors @ np.asarray(embed(" ".join(ordered)), dtype=np.float32)
    best = int(np.argmax(whole))
    shapes = asked_shapes(focus.question, must=True)
    if whole[best] >= SURE_SENTENCE and all(has_shape(sentences[best], (s,)) for s in shapes):
        # One sentence is plainly about this question, in whatever words, and gives what it asks
        # for; "Botox will wear off in 3 months" is close to "When can I go for a walk after my
        # Botox?" but says nothing about doing something after it.
        return None
    phrase = focus.phrase(missing)
    if len(phrase.split()) > MAX_PHRASE_WORDS:
        phrase = " ".join(ordered)
    if float(np.max(probe)) >= PHRASE_COSINE:
        return None
    kept = [t for t in _PIECE.findall(focus.question) if _token_stem(t) not in missing]
    without = vectors @ np.asarray(embed(" ".join(kept)), dtype=np.float32)
    if float(np.max(without)) - float(np.max(whole)) <= WORDS_ADD_NOTHING:
        return None
    return phrase


def check_focus(
    question: str,
    docs: Sequence[Document],
    frequency: tuple[Callable[[str], int], int],
    vectors: Callable[[list[str]], list[list[float]]],
    embed: Callable[[str], Sequence[float]],
) -> tuple[Focus, str | None]:
    """The question's focus and, when the passing answers do not address it, the patient's words
    for what is missing (None when they do). `vectors` gives the stored sentence vectors."""
    focus = focus_of(question, *frequency)
    sentences = list(
        dict.fromkeys(s for d in docs for s in split_sentences(d.page_content) if statement_like(s))
    )
    if not focus.weights or not sentences or not focus.uncovered(sentences):
        return focus, None
    matrix = np.asarray(vectors(sentences), dtype=np.float32)
    return focus, not_covered(focus, sentences, matrix, embed)
