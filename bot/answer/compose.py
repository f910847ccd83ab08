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
from bot.answer.answer_shape import asked_shapes, has_shape, shape_share
from bot.answer.parts import question_parts
from bot.answer.quotable import MAX_SENTENCE_WORDS, quotable, statement_like
from bot.answer.sentence_scores import (
    DIRECT_LEXICAL_WEIGHT,
    candidates,
    directness,
    fitted_budget,
    lexical_share,
    off_subject,
)
from bot.words import content_words, stems
from vectorstore.sentences import word_count

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
FOCUS_COSINE_WEIGHT = 0.2  # cosine to the question's focus words alone, for the same choice
LEXICAL_WEIGHT = 0.3  # share of the question's focus a sentence contains (weighted by rarity)
POSITION_WEIGHT = 0.03  # each sentence further into an answer counts a little less
POSITION_CAP = 20  # ...up to this many sentences in
RANK_WEIGHT = 0.01  # each answer further down the retrieved list counts a little less
MMR_PENALTY = 0.6  # how much closeness to an already quoted statement costs a candidate
RELATIVE_FLOOR = 0.45  # sentences this far below the best one are left out (fitted replies)
CASE_MIN_LEXICAL = 0.5  # a sentence about the asker's own case must contain this much focus
FRAMING_WORDS = 8  # what the framing of one statement costs in the budget
FILL_SHAPE_WEIGHT = 0.1  # the statements after the first: one of the asked shape counts more
SUBJECT_PENALTY = 0.1  # a sentence from an answer that never names what the question is about
PER_CHUNK_CANDIDATES = 12  # sentences of one chunk considered (by word overlap with the question)


@dataclass(frozen=True)
class Composition:
    """What the composer produced, before markers are numbered."""

    statements: tuple[Statement, ...]
    considered: int  # distinct answers the statements were chosen from
    organisations: bool = False  # the sources are organisations (a corpus), not doctors


def _fuller(pool: Sequence[Candidate], scores: np.ndarray, best: int) -> int:
    """The lead, or the quote of it and the sentence after it that points back to it ("There is
    no reverse effect for botox injections. It will begin to wear off in 3-4 months."), which
    answers as directly (it is judged by its more direct sentence) and says more."""
    lead = pool[best]
    for i, cand in enumerate(pool):
        if (
            cand.pieces
            and cand.pieces[0] == lead.sentence
            and cand.answer_id == lead.answer_id
            and scores[i] >= scores[best]
        ):
            return i
    return best


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
        cands = candidates(
            question, docs, self.max_candidates, self.max_sentence_words, self.per_chunk
        )
        if not cands:
            return []
        sentences = [c.sentence for c in cands]
        # The vectors stored at ingest (a quote without its glued heading keeps its sentence's).
        vectors = np.asarray(self.embed([c.stored_as or c.sentence for c in cands]), np.float32)
        q = np.asarray(question_vector, dtype=np.float32)
        fq = None if focus_vector is None else np.asarray(focus_vector, dtype=np.float32)
        shapes = asked_shapes(question)
        # A quote of two sentences ("... . It usually ..."): its vector (relevance, repeats, MMR)
        # is the normalised sum of the two stored ones, but how directly it answers is that of
        # its more direct sentence alone, so joining never makes a quote the answer.
        joined = [i for i, c in enumerate(cands) if c.context]
        pieces = [p for i in joined for p in cands[i].pieces]
        shares = lexical_share(question, sentences, focus, also=pieces)
        shares, piece_shares = shares[: len(sentences)], shares[len(sentences) :]
        piece_direct: dict[int, tuple[float, float]] = {}

        def direct_and_addresses(vec: np.ndarray, lex: float, direct: float) -> tuple[float, float]:
            """How directly one text answers (`direct`), and with its focus cosine (`addresses`)."""
            focused = 0.0 if fq is None else FOCUS_COSINE_WEIGHT * float(np.dot(fq, vec))
            return float(np.dot(q, vec)) + DIRECT_LEXICAL_WEIGHT * lex, direct + focused

        if joined:
            before = np.asarray(self.embed([cands[i].context for i in joined]), np.float32)
            for n, (i, vector) in enumerate(zip(joined, before, strict=True)):
                cands[i].piece_vectors = (vector, vectors[i].copy())
                texts, lexical = cands[i].pieces, piece_shares[2 * n : 2 * n + 2]
                own = directness(q, shapes, np.stack(cands[i].piece_vectors), list(texts), lexical)
                each = [
                    direct_and_addresses(v, lex, d)
                    for v, lex, d in zip(cands[i].piece_vectors, lexical, own, strict=True)
                ]
                piece_direct[i] = (max(e[0] for e in each), max(e[1] for e in each))
            summed = vectors[joined] + before
            vectors[joined] = summed / np.linalg.norm(summed, axis=1, keepdims=True)
        addresses = directness(q, shapes, vectors, sentences, shares)
        elsewhere = off_subject(docs, focus)
        for i, (cand, vec, lex, direct) in enumerate(
            zip(cands, vectors, shares, addresses, strict=True)
        ):
            cand.vector, cand.lexical = vec, lex
            # Asked for a shape of answer ("made of": a definition), a sentence with neither that
            # shape nor a focus word is beside the point, however close its words.
            cand.on_point = not shapes or lex > 0 or has_shape(cand.sentence, shapes)
            cosine = float(np.dot(q, vec))
            penalty = SUBJECT_PENALTY if cand.answer_id in elsewhere else 0.0
            cand.direct, cand.addresses = piece_direct.get(i) or direct_and_addresses(
                vec, lex, direct
            )
            cand.addresses -= penalty
            # Early sentences of an answer and better-ranked answers usually carry its point; asked
            # for a shape ("What treats X?"), the later statements are of that shape when they can.
            cand.relevance = (
                cosine
                + LEXICAL_WEIGHT * lex
                + FILL_SHAPE_WEIGHT * shape_share(cand.sentence, shapes)
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
            lexical = lexical_share(part, sentences, own)
            out.append(directness(vector, asked_shapes(part), vectors, sentences, lexical))
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
            best = _fuller(pool, np.asarray(scores), int(np.argmax(np.asarray(scores))))
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

    def _shaped_lead(
        self,
        question: str,
        cands: list[Candidate],
        pool: list[Candidate],
        chosen: list[Candidate],
    ) -> Candidate | None:
        """The sentence to put first when the question asks for a shape of answer ("how long
        until a droopy eyelid gets better?": a time span) and the first chosen statement lacks it: the
        most direct sentence of that shape, relevant to the question, on a page where the
        chosen sentences are ("Effects of Botox are temporary and wear off in 3-4 months." on
        the page where a doctor mentions droopy eyelids). None when the first chosen statement
        has the shape already, or no such sentence is there."""
        shapes = asked_shapes(question)
        if not shapes or not chosen or has_shape(chosen[0].sentence, shapes):
            return None
        pages = {c.doc.metadata.get("page_id") for c in chosen}
        shaped = [
            c
            for c in cands
            if not c.own_case
            and c.direct >= self.min_relevance
            and c.doc.metadata.get("page_id") in pages
            and has_shape(c.sentence, shapes)
        ]
        return max(shaped, key=lambda c: c.addresses, default=None)

    def compose(
        self,
        question: str,
        docs: Sequence[Document],
        question_vector: Sequence[float],
        focus: Mapping[str, float] | None = None,
        focus_vector: Sequence[float] | None = None,
        *,
        off_topic: frozenset[str] = frozenset(),
    ) -> Composition:
        """Choose and group sentences; an empty composition means nothing answers the question.

        `focus` (stem -> weight, bot/answer/focus.py) says which of the question's words matter;
        `off_topic`: answers about something else (bot/answer/coverage.py), never quoted."""
        if off_topic:
            docs = [d for d in docs if d.metadata.get("answer_id", d.id) not in off_topic]
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
        lead = self._shaped_lead(question, cands, pool, chosen) if not leads else None
        if lead is not None:
            pool = [lead, *(c for c in pool if c is not lead)]
            chosen = self._select(pool, budget, [[0.0] + [-math.inf] * (len(pool) - 1)])
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
