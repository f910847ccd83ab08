"""Whether the retrieved answers cover a question, judged on the answers about its subject.

The focus rule (bot/answer/focus.py) asks whether the answers' sentences contain the question's
focus words. Asked of every retrieved answer together, it is fooled by a question that combines
things different answers talk about: "Can a chemical peel cause a droopy eyelid?" is not answered
by peel answers beside Botox answers about eyelids, nor "Can an abscess tooth cause a heart
attack?" by a page on abscesses and another on heart attacks. So the rule is asked of the answers
on the question's subject only: its subject is its topic words (in much of the corpus, "botox")
and the focus words some retrieved page has in its title ("chemical peel", "heart attack"); on
it are the answers that name the most of them, their page title included (the answers on a Botox
page are about Botox). When no answer names any, every answer is on it, as before; so it is for a
message whose focus has more than SUBJECT_WORDS words, which tells a story around its question
(words no answer about its subject needs to have).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np
from langchain_core.documents import Document

from bot.answer.focus import ABSENCE_TELLS, Focus, focus_of, not_covered, said_stems
from bot.answer.parts import question_parts
from bot.answer.quotable import statement_like
from vectorstore.sentences import chunk_sentences

SUBJECT_WORDS = 5  # a focus of at most this many words is judged on the answers on its subject
# A title word is the subject an answer must name (off_topic) only when it weighs this share of
# the heaviest focus word: "symptoms" is in the title of every page on symptoms, and an answer on
# the symptoms of schizencephaly names it without being about Scheie syndrome.
TITLE_SUBJECT_SHARE = 0.7


def _bags(docs: Sequence[Document]) -> dict[str, set[str]]:
    """Each answer's stems, its page title included."""
    bags: dict[str, set[str]] = {}
    for d in docs:
        text = f"{d.metadata.get('page_title') or ''}\n{d.page_content}"
        bags.setdefault(d.metadata.get("answer_id", d.id), set()).update(said_stems(text))
    return bags


def _subject_named(
    docs: Sequence[Document],
    focus: Focus,
    share: float = 0.0,
    topic: bool = True,
    bags: dict[str, set[str]] | None = None,
) -> dict[str, int]:
    """How many of the question's subject words (its topic words, unless not `topic`, and the
    focus words some retrieved page has in its title, weighing at least `share` of the heaviest
    focus word) each answer names, its page title included (`bags`: `_bags(docs)`, when made)."""
    bags = _bags(docs) if bags is None else bags
    titles = set().union(*(said_stems(d.metadata.get("page_title") or "") for d in docs))
    top = max(focus.weights.values(), default=0.0)
    heavy = {s for s, w in focus.weights.items() if w >= share * top}
    subject = (set(focus.topic) if topic else set()) | (titles & heavy)
    return {a: len(subject & bag) for a, bag in bags.items()}


def on_subject(docs: Sequence[Document], focus: Focus) -> list[Document]:
    """The retrieved chunks of the answers that name the most of the question's subject."""
    named = _subject_named(docs, focus)
    most = max(named.values(), default=0)
    return [d for d in docs if named[d.metadata.get("answer_id", d.id)] == most]


def off_topic(docs: Sequence[Document], focus: Focus) -> frozenset[str]:
    """Ids of the answers that name none of the question's subject words while others name
    some: a lip filler answer for "How long until my face stops looking lopsided after
    Botox?" (the composer quotes none of them). Empty when no answer names any."""
    bags = _bags(docs)
    named = _subject_named(docs, focus, bags=bags)
    heavy = _subject_named(docs, focus, TITLE_SUBJECT_SHARE, topic=False, bags=bags)
    if any(heavy.values()) and all(focus.topic <= bag for bag in bags.values()):
        # Every answer names the topic words ("symptom": in the title of every MedQuAD page on
        # symptoms), so they tell nothing apart: the subject is the heaviest focus words in a
        # retrieved page's title ("Scheie" of "What are the symptoms of Scheie syndrome?").
        named = heavy
    if not any(named.values()):
        return frozenset()
    return frozenset(a for a, n in named.items() if n == 0)


def check_focus(
    question: str,
    docs: Sequence[Document],
    frequency: tuple[Callable[[str], int], int],
    vectors: Callable[[list[str]], list[list[float]]],
    embed: Callable[[str], Sequence[float]],
    part: bool = False,
    knows: Callable[[str], bool] | None = None,
) -> tuple[Focus, str | None]:
    """The question's focus and, when the answers on its subject do not address it, the
    patient's words for what is missing (None when they do). `vectors` gives the stored sentence
    vectors; `part`: the question is one part of a message; `knows`: the embedding model's
    vocabulary (see `not_covered` in bot/answer/focus.py)."""
    # Misspellings are matched against everything the answers say, titles and lists included.
    texts = [t for d in docs for t in (d.metadata.get("page_title") or "", d.page_content) if t]
    focus = focus_of(question, *frequency, knows).spelled_as(texts, knows)
    if knows is not None and frequency[1] >= ABSENCE_TELLS:
        # A name the model knows only in pieces ("Scheie" -> sc ##hei ##e) that no retrieved
        # answer contains: a sentence close to its vector (on "schizencephaly") proves nothing,
        # as for a word the whole corpus lacks (Focus.unknown).
        pieces = {s for s, w in focus.words.items() if not knows(w)}
        if pieces:  # the answers' stems as the subject checks read them (cached by text)
            said = set().union(*_bags(docs).values())
            focus = replace(focus, unknown=focus.unknown | (pieces - said))
    judged = on_subject(docs, focus) if len(focus.weights) <= SUBJECT_WORDS else docs
    sentences = list(
        dict.fromkeys(s for d in judged for s in chunk_sentences(d) if statement_like(s))
    )
    if not focus.weights or not sentences or not focus.uncovered(sentences):
        return focus, None
    matrix = np.asarray(vectors(sentences), dtype=np.float32)
    return focus, not_covered(focus, sentences, matrix, embed, part)


@dataclass(frozen=True)
class Coverage:
    """What the answers cover of a question: its focus, the patient's words for what no answer
    addresses (None: all of it is covered), and the parts of the question they do cover ("" when
    none; the whole question when nothing is missing)."""

    focus: Focus
    missing: str | None
    covered: str


def check_coverage(
    question: str,
    docs: Sequence[Document],
    frequency: tuple[Callable[[str], int], int],
    vectors: Callable[[list[str]], list[list[float]]],
    embed: Callable[[str], Sequence[float]],
    knows: Callable[[str], bool] | None = None,
) -> Coverage:
    """`check_focus`, and part by part for a message that asks several things (see
    bot/answer/parts.py): when the answers cover some parts and not others, the missing words of
    the uncovered parts and the text of the covered ones, so a reply can say what is missing and
    answer the rest."""
    focus, missing = check_focus(question, docs, frequency, vectors, embed, knows=knows)
    parts = question_parts(question)
    if len(parts) < 2:
        return Coverage(focus, missing, "" if missing else question)
    verdicts = [
        (asked, check_focus(asked, docs, frequency, vectors, embed, True, knows)[1])
        for asked in parts
    ]
    gaps = list(dict.fromkeys(m for _, m in verdicts if m))
    if not gaps:
        return Coverage(focus, missing, "" if missing else question)
    covered = " ".join(part for part, m in verdicts if not m)
    return Coverage(focus, '" or "'.join(gaps), covered)
