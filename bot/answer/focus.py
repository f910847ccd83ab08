"""What a question asks about, and whether the retrieved answers address it.

The focus is the question's content words minus words that only ask (bot/wordlists/
question_words.txt) and minus the shared topic (words in more than TOPIC_SHARE of the corpus's
chunks, "botox" on the seed pages), each weighted by its rarity in the corpus (BM25's document
frequencies: idf = ln((N + 1) / (df + 0.5))), a word the corpus lacks weighing most. A retrieved
sentence addresses a focus word when it contains its stem. The answers do not cover the question
when the focus words none of their sentences contains carry at least UNCOVERED_SHARE of the
focus's weight, the heaviest of them included, and those words are not said in other words
either (see `not_covered`). A verb that only relates the subject to what is asked ("cause" of
"Can a chemical peel cause a droopy eyelid?", bot/wordlists/relation_words.txt) weighs no more
than the question's lightest other focus word: a sentence where the peel "can cause dark
patches" neither answers that question nor covers it.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from bot.answer.answer_shape import asked_shapes, has_shape
from bot.answer.retrieve import question_focus as asked_part
from bot.answer.spelling import meant, vocabulary
from bot.prompts import wordlist
from bot.words import content_words, stem, stems, stop_words

TOPIC_SHARE = 0.3  # a word in more of the corpus's chunks than this is the topic, not the focus
UNCOVERED_SHARE = 0.5  # focus weight no sentence contains that makes the question not covered...
PHRASE_COSINE = 0.5  # ...unless some sentence is this close to the missing words' phrase
SURE_SENTENCE = 0.72  # a sentence this close to the whole question covers it, whatever its words,
# ...when it has every shape of answer the question must get (bot/answer/answer_shape.py)
WORDS_ADD_NOTHING = 0.03  # ...or leaving them out brings the best sentence at most this closer
# A corpus this large (chunks) holds most words a doctor might use, so a term it lacks altogether
# is missing, not paraphrased; a few pages lack most words ("antidote" on two Botox pages, said
# there as "no reverse effect"), so there absence proves nothing.
ABSENCE_TELLS = 1000
HEAVY = 0.7  # missing focus words this close to the heaviest one are named in the reply
MAX_PHRASE_WORDS = 6  # a longer span of the question is shown as its missing words alone
_TOKEN = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
_TAG = re.compile(r"<[^>]*>")
_HYPHEN = re.compile(r"(?<=[^\W\d_])-(?=[^\W\d_])")
_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_PIECE = re.compile(r"[^\W_]+(?:['’][^\W_]+)*|[^\w\s]")  # words and punctuation


@dataclass(frozen=True)
class Focus:
    """The focus words of a question: stem -> weight, and stem -> the patient's word."""

    question: str
    weights: dict[str, float]
    words: dict[str, str]
    aliases: dict[str, str] = field(default_factory=dict)  # misspelt stem -> the answers' stem
    # Stems no chunk of the corpus contains, of words the embedding model knows only in pieces:
    # names and terms ("Ocella", "carvedilol"), not common words the corpus happens to lack.
    unknown: frozenset[str] = frozenset()
    # Stems of the question's topic words (left out of the focus for being in much of the
    # corpus: "botox" on the seed pages): an answer that never names them is about something else.
    topic: frozenset[str] = frozenset()

    def key(self, token: str) -> str | None:
        """The focus stem a word of the question stands for (None: not a focus word)."""
        s = _token_stem(token)
        s = self.aliases.get(s, s)
        return s if s in self.weights else None

    def spelled_as(self, texts: Sequence[str], knows: Callable[[str], bool] | None = None) -> Focus:
        """This focus with each focus word the texts lack but misspell-match (see
        bot/answer/spelling.py) replaced by the texts' word, keeping its weight. A word the
        embedding model knows whole (`knows`: "plane", "risky") is a word, not a misspelling."""
        found: set[str] = set()
        for text in texts:
            found |= stems(text) & self.weights.keys()
        lacking = [s for s in self.weights if s not in found]
        if not lacking:
            return self
        vocab = vocabulary(texts)
        weights, words, aliases = {}, {}, dict(self.aliases)
        for s, weight in self.weights.items():
            real = knows is not None and knows(self.words[s])
            right = meant(self.words[s], vocab) if s in lacking and not real else None
            new = stem(right) if right else s
            if new in weights:
                continue
            weights[new], words[new] = weight, self.words[s]
            if new != s:
                aliases[s] = new
        return Focus(
            self.question, weights, words, aliases, self.unknown & weights.keys(), self.topic
        )

    def missing(self, sentences: Sequence[str]) -> set[str]:
        """The focus stems that none of the sentences contains (a hyphenated word counts written
        together too: "hemi-facial" has "hemifacial")."""
        found: set[str] = set()
        for sentence in sentences:
            found |= said_stems(sentence) & self.weights.keys()
        return set(self.weights) - found

    def uncovered(self, sentences: Sequence[str]) -> set[str]:
        """The missing stems when they carry the question (see the module docstring), else {}."""
        if not self.weights:
            return set()
        missing = self.missing(sentences)
        total = sum(self.weights.values())
        heaviest = max(self.weights, key=lambda s: (self.weights[s], s))
        share = sum(self.weights[s] for s in missing) / total
        # A word the whole corpus lacks ("Ocella", "carvedilol") is what the question is about.
        if heaviest in missing and (share >= UNCOVERED_SHARE or heaviest in self.unknown):
            return missing
        return set()

    def phrase(self, missing: set[str]) -> str:
        """The patient's words for the missing focus: the span from the first to the last of its
        heaviest words, with a word just before it that only asks ("work" of "work out")."""
        tokens = _TOKEN.findall(self.question)
        top = max(self.weights[s] for s in missing)
        heavy = {s for s in missing if self.weights[s] >= HEAVY * top}
        hits = [i for i, t in enumerate(tokens) if self.key(t) in heavy]
        if not hits:
            return ""
        start = hits[0]
        before = tokens[start - 1].lower() if start else ""
        if before in wordlist("question_words") and before not in stop_words():
            start -= 1
        span = tokens[start : hits[-1] + 1]
        if len({t.lower() for t in span}) < len(span):  # a subject line repeated in the message
            return " ".join(self.words[s] for s in self.words if s in heavy)
        return " ".join(span)

    def span(self) -> str:
        """The patient's words from the first focus word to the last ("stay frozen forever"): what
        a sentence that answers the question should be about, embedded as one extra query."""
        tokens = _TOKEN.findall(self.question)
        hits = [i for i, t in enumerate(tokens) if self.key(t) is not None]
        return " ".join(tokens[hits[0] : hits[-1] + 1]) if hits else ""


@functools.lru_cache(maxsize=4096)  # the same chunks are read by the gate, coverage and off_topic
def said_stems(text: str) -> frozenset[str]:
    """The stems of a text's words, a hyphenated word also written together ("hemifacial")."""
    return stems(text) | stems(_HYPHEN.sub("", text))


def _token_stem(token: str) -> str | None:
    words = content_words(token.replace("’", "'"))
    return stem(next(iter(words))) if len(words) == 1 else None


def focus_of(
    question: str,
    frequency: Callable[[str], int],
    n_docs: int,
    knows: Callable[[str], bool] | None = None,
) -> Focus:
    """The focus of a question against a corpus of `n_docs` chunks (`frequency`: stem -> df;
    `knows`: whether the embedding model has a word whole, see `Focus.unknown`).

    A message that tells a story and then asks ("... I still cannot move one side. Is that
    permanent?") is judged by its subject line and question sentences only."""
    asking = set(wordlist("question_words"))
    common = stop_words()
    weights: dict[str, float] = {}
    words: dict[str, str] = {}
    unknown: set[str] = set()
    topic: set[str] = set()
    question = asked_part(question) or question
    # Markup is not what a patient asks about: tags go, a link keeps only its text.
    question = _LINK.sub(r"\1", _TAG.sub(" ", question))
    for token in _TOKEN.findall(question):
        word = token.lower().replace("’", "'")
        if word in asking or word[0].isdigit() or not content_words(word):
            continue
        s = _token_stem(token)
        # "I'm", "doing": a stop word under its ending, which the lexical index does not hold.
        if s is None or s in weights or s in common or word.split("'")[0] in common:
            continue
        df = frequency(s)
        if n_docs and df > TOPIC_SHARE * n_docs:
            topic.add(s)
            continue
        weights[s] = math.log((n_docs + 1) / (df + 0.5))
        words[s] = token
        if not df and n_docs >= ABSENCE_TELLS and (knows is None or not knows(token)):
            unknown.add(s)
    relation = relation_stems()
    others = [w for s, w in weights.items() if s not in relation]
    if others:
        weights = {s: min(w, min(others)) if s in relation else w for s, w in weights.items()}
    return Focus(question, weights, words, unknown=frozenset(unknown), topic=frozenset(topic))


@functools.lru_cache(maxsize=1)
def relation_stems() -> frozenset[str]:
    """Stems of bot/wordlists/relation_words.txt ("cause", "lead to")."""
    return frozenset(stem(w) for w in wordlist("relation_words"))


def not_covered(
    focus: Focus,
    sentences: Sequence[str],
    vectors: np.ndarray,
    embed: Callable[[str], Sequence[float]],
    part: bool = False,
    missing: set[str] | None = None,
    heavy_only: bool = True,
) -> str | None:
    """The patient's words for what the answers do not cover, or None when they cover it.

    `vectors` are the sentences' stored vectors (rows in the same order). Words the answers lack
    may still be said in other words ("fade" for "wear off"): the question counts as covered when
    those words alone are close to a sentence (PHRASE_COSINE), or when taking them out of the
    question brings no sentence more than WORDS_ADD_NOTHING closer (they add nothing the answers
    lack; off-topic words such as "alcohol" pull the question away from every sentence). That last
    test needs a whole question: a part of one ("How much does it cost?") without its missing words
    is close to nothing, so for a `part` it is not made. Neither test is made when the heaviest
    missing word is one the corpus lacks and the embedding model knows only in pieces
    (`Focus.unknown`: "Ocella", "carvedilol"): its vector does not mean that word, so closeness
    says nothing. `missing`: the stems to judge, when the caller has chosen them; `heavy_only`: False
    to probe with all of them (one answer's silence on "chemical peel" is not rescued by its
    sentence on what can "cause" a droopy eyelid)."""
    missing = focus.uncovered(sentences) if missing is None else missing
    if not missing or not len(vectors):
        return None if not missing else focus.phrase(missing)
    if max(missing, key=lambda s: (focus.weights[s], s)) in focus.unknown:
        return focus.phrase(missing)
    whole = vectors @ np.asarray(embed(focus.question), dtype=np.float32)
    ordered = [focus.words[s] for s in focus.words if s in missing]  # the question's order
    # Only the heaviest missing words (those the reply would name): the rest of the question is
    # what the answers do talk about, and a lighter word ("precaution" beside "VDRL") can be close
    # to a sentence that says nothing about the heaviest.
    top = max(focus.weights[s] for s in missing)
    heavy = [
        focus.words[s]
        for s in focus.words
        if s in missing and (focus.weights[s] >= HEAVY * top or not heavy_only)
    ]
    probe = vectors @ np.asarray(embed(" ".join(heavy)), dtype=np.float32)
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
    if part:
        return phrase
    kept = [t for t in _PIECE.findall(focus.question) if focus.key(t) not in missing]
    without = vectors @ np.asarray(embed(" ".join(kept)), dtype=np.float32)
    if float(np.max(without)) - float(np.max(whole)) <= WORDS_ADD_NOTHING:
        return None
    return phrase
