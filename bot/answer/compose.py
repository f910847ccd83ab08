"""The default composer: extractive, offline, no LLM. It quotes doctors; it never rewrites them.

It scores every statement-like sentence of the retrieved answers against the question (cosine of
the stored sentence vector, plus the share of the question's focus words it contains, weighted
by corpus rarity), quotes the one that most directly answers first, then adds the other points
doctors made by maximal marginal relevance within a word budget that fits the question. A
sentence that says what a chosen one already says is not quoted again: its doctor is counted
behind that statement when their sentence supports it exactly (the verifier's negation and
number checks), and otherwise left out. Sentences about the original asker's own case ("Your
photo suggests ...") are quoted only when they answer the question, framed as what the doctor
told that patient. The quoted words are always one doctor's own sentence, verbatim.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from langchain_core.documents import Document

from bot.answer.agreement import (
    CASE_FRAMING,
    Candidate,
    Group,
    Statement,
    duplicate,
    exactly_supports,
    figures_line,
    framing,
    reframe,
    supporters,
)
from bot.answer.answer_shape import asked_shapes, has_shape
from bot.answer.parts import question_parts
from bot.answer.quotable import MAX_SENTENCE_WORDS, case_specific, quotable, statement_like
from bot.words import content_words, stems
from vectorstore.sentences import split_sentences, word_count

__all__ = [
    "Composition",
    "ExtractiveComposer",
    "Statement",
    "content_words",
    "exactly_supports",
    "framing",
    "quotable",
    "reframe",
    "statement_like",
]

MIN_RELEVANCE = 0.30  # a sentence below this cosine to the question does not answer it
DIRECT_LEXICAL_WEIGHT = 0.6  # the same, for choosing the statement that answers first
FOCUS_COSINE_WEIGHT = 0.2  # cosine to the question's focus words alone, for the same choice
SHAPE_WEIGHT = 0.25  # a sentence of the shape the question asks for (bot/answer/answer_shape.py)
SHAPELESS_LEXICAL = 0.5  # ...and the question's words count this much in one without that shape
LEXICAL_WEIGHT = 0.3  # share of the question's focus a sentence contains (weighted by rarity)
POSITION_WEIGHT = 0.03  # each sentence further into an answer counts a little less
POSITION_CAP = 20  # ...up to this many sentences in
RANK_WEIGHT = 0.01  # each answer further down the retrieved list counts a little less
MMR_PENALTY = 0.6  # how much closeness to an already quoted statement costs a candidate
RELATIVE_FLOOR = 0.45  # sentences this far below the best one are left out (fitted replies)
CASE_MIN_LEXICAL = 0.5  # a sentence about the asker's own case must contain this much focus
SHORT_WORDS = 70  # budget of a one-part question (quoted words plus framing), when fitting
FRAMING_WORDS = 8  # what the framing of one statement costs in the budget
SUBJECT_PENALTY = 0.1  # a sentence from an answer that never names what the question is about
SUBJECT_SHARE = 0.7  # ...its subject: the focus words this close to the heaviest one answers use
PER_CHUNK_CANDIDATES = 12  # sentences of one chunk considered (by word overlap with the question)


@dataclass(frozen=True)
class Composition:
    """What the composer produced, before markers are numbered."""

    statements: tuple[Statement, ...]
    considered: int  # distinct answers the statements were chosen from
    organisations: bool = False  # the sources are organisations (a corpus), not doctors


def _lexical(question: str, sentences: list[str], focus: Mapping[str, float] | None) -> list[float]:
    """Share of the question's focus (stem -> corpus weight) in each sentence. A focus word that
    most of these sentences contain (the topic of the answers found) counts less; without a
    focus, the question's words count by their rarity among these sentences alone. Weights are
    squared, so the sentence with the question's most specific word ("bruising" of "How long
    does bruising last after lip filler?") beats one with several of its common words."""
    bags = [stems(s) for s in sentences]
    n = len(bags)
    if not n:
        return []
    focus = focus or dict.fromkeys(stems(question), 1.0)
    weights = {
        w: (corpus * math.log(1 + n / (1 + sum(w in b for b in bags))) / math.log(1 + n)) ** 2
        for w, corpus in focus.items()
    }
    total = sum(weights.values())
    if not total:
        return [0.0] * n
    return [sum(w for s, w in weights.items() if s in b) / total for b in bags]


def _candidates(
    question: str, docs: Sequence[Document], limit: int, max_words: int, per_chunk_limit: int
) -> list[Candidate]:
    q_words = content_words(question)
    found: list[tuple[float, Candidate]] = []
    seen: set[tuple[str, str]] = set()
    for rank, doc in enumerate(docs):
        aid = doc.metadata.get("answer_id", doc.id)
        offset = 100 * int(doc.metadata.get("chunk_index", 0) or 0)
        for position, sentence in enumerate(split_sentences(doc.page_content)):
            if not statement_like(sentence, max_words) or (aid, sentence) in seen:
                continue
            seen.add((aid, sentence))
            cand = Candidate(sentence, aid, doc, rank, offset + position)
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


def _addresses(
    q: np.ndarray, shapes: tuple, vectors: np.ndarray, sentences: list[str], lexical: list[float]
) -> list[float]:
    """How directly each sentence answers one question (vector `q`): its cosine, the share of the
    focus it contains and whether it has the shape of answer the question asks for."""
    out = []
    for vec, sentence, lex in zip(vectors, sentences, lexical, strict=True):
        # The share of the asked shapes it has ("how long until it goes away": both).
        shaped = sum(has_shape(sentence, (s,)) for s in shapes) / (len(shapes) or 1)
        # Asked "what is it made of?", a sentence with "made" but no definition is no answer.
        weight = DIRECT_LEXICAL_WEIGHT * (
            1.0 - (1.0 - SHAPELESS_LEXICAL) * (1.0 - shaped) if shapes else 1.0
        )
        out.append(float(np.dot(q, vec)) + weight * lex + SHAPE_WEIGHT * shaped)
    return out


class ExtractiveComposer:
    """Quote the doctors' most relevant sentences, most direct first, never twice."""

    name = "extractive"

    def __init__(
        self,
        embed: Callable[[list[str]], list[list[float]]],
        *,
        max_words: int = 120,
        max_candidates: int = 48,
        min_relevance: float = MIN_RELEVANCE,
        framing_words: int = FRAMING_WORDS,
        fit_length: bool = True,
        max_sentence_words: int = MAX_SENTENCE_WORDS,
        per_chunk: int = PER_CHUNK_CANDIDATES,
    ) -> None:
        self.embed = embed
        self.max_words = max_words
        self.max_candidates = max_candidates
        self.min_relevance = min_relevance
        self.framing_words = framing_words
        self.fit_length = fit_length  # False: fill max_words (the MEDIQA benchmark's budget)
        self.max_sentence_words = max_sentence_words
        self.per_chunk = per_chunk

    def score(
        self,
        question: str,
        docs: Sequence[Document],
        question_vector: Sequence[float],
        focus: Mapping[str, float] | None = None,
        focus_vector: Sequence[float] | None = None,
    ) -> list[Candidate]:
        """Every candidate sentence with its vector and relevance to the question.

        How directly a sentence answers adds, to its cosine to the question, its cosine to the
        focus words alone (`focus_vector`, when given), the share of the focus it contains and
        whether it has the shape of answer the question asks for."""
        cands = _candidates(
            question, docs, self.max_candidates, self.max_sentence_words, self.per_chunk
        )
        if not cands:
            return []
        sentences = [c.sentence for c in cands]
        vectors = np.asarray(self.embed(sentences), dtype=np.float32)
        q = np.asarray(question_vector, dtype=np.float32)
        fq = None if focus_vector is None else np.asarray(focus_vector, dtype=np.float32)
        shapes = asked_shapes(question)
        addresses = _addresses(q, shapes, vectors, sentences, _lexical(question, sentences, focus))
        elsewhere = off_subject(docs, focus)
        for cand, vec, lex, direct in zip(
            cands, vectors, _lexical(question, sentences, focus), addresses, strict=True
        ):
            cand.vector, cand.lexical = vec, lex
            # Asked for a shape of answer ("made of": a definition), a sentence with neither that
            # shape nor a focus word is beside the point, however close its words.
            cand.on_point = not shapes or lex > 0 or has_shape(cand.sentence, shapes)
            cosine = float(np.dot(q, vec))
            cand.direct = cosine + DIRECT_LEXICAL_WEIGHT * lex
            penalty = SUBJECT_PENALTY if cand.answer_id in elsewhere else 0.0
            cand.addresses = (
                direct
                + (0.0 if fq is None else FOCUS_COSINE_WEIGHT * float(np.dot(fq, vec)))
                - penalty
            )
            # Early sentences of an answer and better-ranked answers usually carry its point.
            cand.relevance = (
                cosine
                + LEXICAL_WEIGHT * lex
                - RANK_WEIGHT * cand.rank
                - POSITION_WEIGHT * min(cand.position, POSITION_CAP)
                - penalty
            )
        return [c for c in cands if not c.own_case or c.lexical >= CASE_MIN_LEXICAL]

    def _part_scores(
        self, parts: list[str], pool: list[Candidate], focus: Mapping[str, float] | None
    ) -> list[list[float]]:
        """For each part of a question that asks several things, how directly each candidate
        answers that part alone (its own vector, focus words and asked shape)."""
        sentences = [c.sentence for c in pool]
        vectors = np.stack([c.vector for c in pool])
        out = []
        for part, vector in zip(
            parts, np.asarray(self.embed(parts), dtype=np.float32), strict=True
        ):
            own = {w: f for w, f in (focus or {}).items() if w in stems(part)} or None
            lexical = _lexical(part, sentences, own)
            out.append(_addresses(vector, asked_shapes(part), vectors, sentences, lexical))
        return out

    def _select(
        self, pool: list[Candidate], budget: int, leads: Sequence[Sequence[float]] = ()
    ) -> list[Candidate]:
        """The most direct answer first (to each part in turn, for a question that asks several
        things: `leads`, one score per candidate for each part), then maximal marginal relevance
        within the budget; a sentence that repeats a chosen one is skipped."""
        if not pool:
            return []
        vectors = np.stack([c.vector for c in pool])
        sims = vectors @ vectors.T
        relevance = np.asarray([c.relevance for c in pool])
        left = np.ones(len(pool), dtype=bool)
        chosen: list[int] = []
        words = 0
        for scores in leads or [[c.addresses for c in pool]]:
            best = int(np.argmax(np.asarray(scores)))
            # A part that a chosen statement answers already, or only in its words, adds none.
            if not left[best] or any(duplicate(pool[best], pool[i]) for i in chosen):
                continue
            cost = word_count(pool[best].sentence) + self.framing_words
            if chosen and words + cost > budget:
                continue
            left[best] = False
            chosen.append(best)
            words += cost
        closest = sims[chosen].max(axis=0)  # each candidate's cosine to its nearest chosen one
        while left.any():
            gains = np.where(left, relevance - MMR_PENALTY * closest, -np.inf)
            pick = int(np.argmax(gains))
            left[pick] = False
            if not pool[pick].on_point:
                continue  # more words, not more answer
            if any(duplicate(pool[pick], pool[i]) for i in chosen):
                continue  # said already: its doctor is counted there if they say it exactly
            cost = word_count(pool[pick].sentence) + self.framing_words
            if words + cost > budget:
                continue
            chosen.append(pick)
            words += cost
            closest = np.maximum(closest, sims[pick])
        return [pool[i] for i in chosen]

    def compose(
        self,
        question: str,
        docs: Sequence[Document],
        question_vector: Sequence[float],
        focus: Mapping[str, float] | None = None,
        focus_vector: Sequence[float] | None = None,
    ) -> Composition:
        """Choose and group sentences; an empty composition means nothing answers the question.

        `focus` (stem -> weight, bot/answer/focus.py) says which of the question's words matter."""
        cands = self.score(question, docs, question_vector, focus, focus_vector)
        total = len({d.metadata.get("answer_id", d.id) for d in docs})
        organisations = bool(docs) and all(
            not d.metadata.get("doctor") and d.metadata.get("organisation") for d in docs
        )
        if not cands:
            return Composition((), total, organisations)
        best = max(c.direct for c in cands)
        floor = self.min_relevance
        if self.fit_length:
            floor = max(floor, best - RELATIVE_FLOOR)
        pool = [c for c in cands if c.direct >= floor]
        budget = fitted_budget(question, self.max_words) if self.fit_length else self.max_words
        counts: dict[str, int] = {}
        for cand in cands:
            for w in content_words(cand.sentence):
                counts[w] = counts.get(w, 0) + 1
        # Words found in most candidates ("botox") say little about which claim a sentence makes.
        weight = {w: math.log(1 + len(cands) / n) for w, n in counts.items()}
        parts = question_parts(question)
        leads = self._part_scores(parts, pool, focus) if len(parts) > 1 and pool else ()
        chosen = self._select(pool, budget, leads)
        # Other answers' sentences that say what a quoted one says, figures perhaps differing.
        picked = {id(c) for c in chosen}
        repeats: dict[int, list[Candidate]] = {}
        for cand in cands:
            if id(cand) in picked or cand.own_case:
                continue
            same = [i for i, s in enumerate(chosen) if duplicate(cand, s)]
            if same:
                repeats.setdefault(same[0], []).append(cand)
        statements = []
        for n, lead in enumerate(chosen):
            group = supporters(lead, [c for c in cands if c is not lead], weight)
            if lead.own_case:
                group = Group([lead])
            statements.append(
                Statement(
                    framing=CASE_FRAMING
                    if lead.own_case
                    else framing(len(group.members), total, organisations),
                    quote=lead.sentence,
                    answer_ids=tuple(group.answer_ids()),
                    support_quotes={m.answer_id: m.sentence for m in group.members},
                )
            )
            figures = figures_line([*group.members, *repeats.get(n, [])])
            if figures:
                statements.append(figures)
        return Composition(tuple(statements), total, organisations)
