"""How each sentence of the retrieved answers is scored for a question: the candidates (the
statement-like sentences of each chunk, best few by word overlap), the share of the question's
focus each contains, how directly it answers (cosine, focus, asked shape), which answers are off
the question's subject, and the word budget a question gets. Used by bot/answer/compose.py."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
from langchain_core.documents import Document

from bot.answer.agreement import Candidate
from bot.answer.answer_shape import has_shape, shape_share, shape_words
from bot.answer.quotable import (
    case_specific,
    flattened_list,
    refers_back,
    statement_like,
    without_heading,
)
from bot.words import content_words, stem, stems
from vectorstore.sentences import chunk_sentences, word_count

DIRECT_LEXICAL_WEIGHT = 0.6  # the same, for choosing the statement that answers first
SHAPE_WEIGHT = 0.25  # a sentence of the shape the question asks for (bot/answer/answer_shape.py)
SHAPELESS_LEXICAL = 0.5  # ...and the question's words count this much in one without that shape
SUBJECT_SHARE = 0.7  # ...its subject: the focus words this close to the heaviest one answers use
SHORT_WORDS = 70  # budget of a one-part question (quoted words plus framing), when fitting


def lexical_share(
    question: str,
    sentences: list[str],
    focus: Mapping[str, float] | None,
    also: Sequence[str] = (),
) -> list[float]:
    """Share of the question's focus (stem -> corpus weight) in each sentence. A focus word that
    most of these sentences contain (the topic of the answers found) counts less; without a
    focus, the question's words count by their rarity among these sentences alone. Weights are
    squared, so the sentence with the question's most specific word ("bruising" of "How long
    does bruising last after lip filler?") beats one with several of its common words.
    `also`: more texts scored with the same weights (their shares follow the sentences')."""
    bags = [stems(s) for s in sentences]
    n = len(bags)
    if not n:
        return []
    texts = [*sentences, *also]
    bags += [stems(s) for s in also]
    focus = focus or dict.fromkeys(stems(question), 1.0)
    weights = {
        w: (corpus * math.log(1 + n / (1 + sum(w in b for b in bags[:n]))) / math.log(1 + n)) ** 2
        for w, corpus in focus.items()
    }
    total = sum(weights.values())
    if not total:
        return [0.0] * len(texts)
    # A word that is how the question asks for a shape ("made" of "made of") counts only in a
    # sentence of that shape: "... adjustments can be made" says nothing of what Botox is made of.
    bound = {stem(w): cues for w, cues in shape_words(question).items()}
    bound = {w: cues for w, cues in bound.items() if w in weights}
    return [
        sum(
            w
            for s, w in weights.items()
            if s in b and (s not in bound or has_shape(sentence, bound[s]))
        )
        / total
        for b, sentence in zip(bags, texts, strict=True)
    ]


def candidates(
    question: str, docs: Sequence[Document], limit: int, max_words: int, per_chunk_limit: int
) -> list[Candidate]:
    q_words = content_words(question)
    found: list[tuple[float, Candidate]] = []
    seen: set[tuple[str, str]] = set()
    for rank, doc in enumerate(docs):
        aid = doc.metadata.get("answer_id", doc.id)
        offset = 100 * int(doc.metadata.get("chunk_index", 0) or 0)
        stored_sentences = chunk_sentences(doc)
        for position, stored in enumerate(stored_sentences):
            sentence = without_heading(stored)  # "Key Points There are ..." -> "There are ..."
            if not statement_like(sentence, max_words) or flattened_list(sentence):
                continue
            context, pieces = "", ()
            if refers_back(sentence):  # "It usually ...": quoted with what "it" is, or not at all
                before, context = _antecedent(stored_sentences, position)
                if not before or word_count(before) + word_count(sentence) > max_words:
                    continue
                pieces = (before, sentence)
                sentence = f"{before} {sentence}"
            if (aid, sentence) in seen:
                continue
            seen.add((aid, sentence))
            cand = Candidate(
                sentence,
                aid,
                doc,
                rank,
                offset + position,
                stored_as=stored,
                context=context,
                pieces=pieces,
            )
            cand.own_case = case_specific(sentence)
            overlap = len(q_words & content_words(sentence)) / (len(q_words) or 1)
            found.append((overlap - 0.02 * rank - 0.01 * position, cand))
    found.sort(key=lambda x: -x[0])
    # Every retrieved answer is heard: the best few of each chunk, and no more than `limit`.
    per_chunk: dict[str, int] = {}
    chosen: list[Candidate] = []
    for _, cand in found:
        key = cand.doc.id or cand.answer_id
        if per_chunk.get(key, 0) < per_chunk_limit:
            per_chunk[key] = per_chunk.get(key, 0) + 1
            chosen.append(cand)
    return chosen[:limit]


def _antecedent(sentences: Sequence[str], position: int) -> tuple[str, str]:
    """The sentence before `position` in its chunk, as quoted and as stored, when it is a
    statement that does not itself point back (what an "It ..." sentence is about); ("", "")
    when there is none."""
    if position == 0:
        return "", ""
    stored = sentences[position - 1]
    before = without_heading(stored)
    if not statement_like(before) or flattened_list(before) or refers_back(before):
        return "", ""
    return before, stored


def off_subject(docs: Sequence[Document], focus: Mapping[str, float] | None) -> set[str]:
    """Ids of the answers that name none of the question's subject words: the focus words, among
    those some answer uses, weighing at least SUBJECT_SHARE of the heaviest ("Klippel-Trenaunay"
    of a question about its treatment; an answer on treating Kuskokwim disease is off subject)."""
    if not focus:
        return set()
    bags = {
        d.metadata.get("answer_id", d.id): stems(
            f"{d.metadata.get('page_title', '')} {d.page_content}"
        )
        for d in docs
    }
    used = {w: f for w, f in focus.items() if any(w in b for b in bags.values())}
    if not used:
        return set()
    top = max(used.values())
    subject = {w for w, f in used.items() if f >= SUBJECT_SHARE * top}
    return {aid for aid, bag in bags.items() if not subject & bag}


def fitted_budget(question: str, max_words: int) -> int:
    """Words a reply may use: a short one-part question gets a short reply."""
    parts = max(1, question.count("?")) + (word_count(question) > 25)
    return min(max_words, SHORT_WORDS * parts)


def directness(
    q: np.ndarray, shapes: tuple, vectors: np.ndarray, sentences: list[str], lexical: list[float]
) -> list[float]:
    """How directly each sentence answers one question (vector `q`): its cosine, the share of the
    focus it contains and whether it has the shape of answer the question asks for."""
    out = []
    for vec, sentence, lex in zip(vectors, sentences, lexical, strict=True):
        shaped = shape_share(sentence, shapes)
        # Asked "what is it made of?", a sentence with "made" but no definition is no answer.
        weight = DIRECT_LEXICAL_WEIGHT * (
            1.0 - (1.0 - SHAPELESS_LEXICAL) * (1.0 - shaped) if shapes else 1.0
        )
        out.append(float(np.dot(q, vec)) + weight * lex + SHAPE_WEIGHT * shaped)
    return out
