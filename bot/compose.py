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

import functools
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from langchain_core.documents import Document

from bot.prompts import wordlist
from bot.verify import negation_conflict, numbers_missing
from bot.words import content_words, stems
from vectorstore.sentences import split_sentences, word_count

__all__ = ["Composition", "ExtractiveComposer", "Statement", "content_words", "quotable"]

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
MIN_RELEVANCE = 0.30  # a sentence below this cosine to the question does not answer it
AGREE = 0.70  # two doctors' sentences this similar say much the same thing...
SHARED_WORDS = 0.45  # ...when one also has most of the other's distinctive words (idf-weighted)
DIRECT_LEXICAL_WEIGHT = 0.6  # the same, for choosing the statement that answers first
LEXICAL_WEIGHT = 0.3  # share of the question's focus a sentence contains (weighted by rarity)
POSITION_WEIGHT = 0.03  # each sentence further into an answer counts a little less
POSITION_CAP = 20  # ...up to this many sentences in
RANK_WEIGHT = 0.01  # each answer further down the retrieved list counts a little less
MMR_PENALTY = 0.6  # how much closeness to an already quoted statement costs a candidate
DUPLICATE_COSINE = 0.85  # a sentence this close to a quoted one says the same thing...
DUPLICATE_OVERLAP = 0.8  # ...as does one sharing this much of its content words (>= 3 words)
FIRST_MARGIN = 0.15  # how far below the best a sentence with more of the focus may come first
RELATIVE_FLOOR = 0.45  # sentences this far below the best one are left out (fitted replies)
CASE_MIN_LEXICAL = 0.5  # a sentence about the asker's own case must contain this much focus
SHORT_WORDS = 70  # budget of a one-part question (quoted words plus framing), when fitting
FRAMING_WORDS = 8  # what the framing of one statement costs in the budget
MIN_SENTENCE_WORDS, MAX_SENTENCE_WORDS = 3, 60  # shorter says nothing; longer cannot be quoted
PER_CHUNK_CANDIDATES = 12  # sentences of one chunk considered (by word overlap with the question)
CASE_FRAMING = "One doctor told the patient who asked on that page:"
FIGURES_FRAMING = "Doctors give different figures:"
# A figure with its unit ("2-4 months", "approximately 3 months", "up to a year").
FIGURE = re.compile(
    r"\b(?:(?:up to|about|approximately|around|perhaps|within|over)\s+)?"
    r"(?:\d+(?:\.\d+)?(?:\s*(?:-|–|to)\s*\d+(?:\.\d+)?)?|an?|one|two|three|four|five|six|"
    r"seven|eight|nine|ten|twelve)\s+(?:seconds?|minutes?|hours?|days?|weeks?|months?|years?)\b",
    re.IGNORECASE,
)


@functools.lru_cache(maxsize=1)
def _case_cues() -> re.Pattern:
    phrases = sorted(wordlist("case_cues"), key=len, reverse=True)
    return re.compile(r"\b(?:" + "|".join(re.escape(p) for p in phrases) + r")\b", re.IGNORECASE)


def quotable(sentence: str, max_words: int = MAX_SENTENCE_WORDS) -> bool:
    """Whether a sentence may be quoted: medical content of a quotable length, not boilerplate,
    not text addressed to an AI."""
    return (
        MIN_SENTENCE_WORDS <= word_count(sentence) <= max_words
        and not _BOILERPLATE.match(sentence)
        and not INSTRUCTION_LIKE.search(sentence)
    )


def statement_like(sentence: str, max_words: int = MAX_SENTENCE_WORDS) -> bool:
    """Quotable and a whole statement: not a heading or a list intro ("The signs ... are")."""
    if not quotable(sentence, max_words):
        return False
    text = sentence.rstrip()
    if text.endswith(":"):
        return False
    if text[-1] not in ".!?)\"”’'":
        last = re.findall(r"[a-z]+", text.lower())
        return (
            bool(last) and last[-1] not in wordlist("list_intro_endings") and (word_count(text) > 6)
        )
    return True


def case_specific(sentence: str) -> bool:
    """Whether a sentence is about the original asker's own case (bot/wordlists/case_cues.txt)."""
    return bool(_case_cues().search(sentence))


@dataclass
class Candidate:
    """One sentence of one retrieved answer, with its relevance to the question."""

    sentence: str
    answer_id: str
    doc: Document
    rank: int
    position: int
    relevance: float = 0.0
    lexical: float = 0.0
    direct: float = 0.0  # cosine + lexical: how directly it answers, wherever it stands
    vector: np.ndarray | None = None
    own_case: bool = False


@dataclass
class Group:
    """A quoted sentence and the other doctors' sentences that say exactly the same."""

    members: list[Candidate] = field(default_factory=list)

    @property
    def lead(self) -> Candidate:
        return self.members[0]

    def answer_ids(self) -> list[str]:
        return [m.answer_id for m in self.members]


@dataclass(frozen=True)
class Statement:
    """One line of the reply: our framing, one verbatim quote, and the answers it cites."""

    framing: str
    quote: str
    answer_ids: tuple[str, ...]
    support_quotes: dict[str, str]  # answer id -> the sentence of that answer that supports it
    figures: tuple[tuple[str, tuple[str, ...]], ...] = ()  # a figures line: (figure, answer ids)


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


def _overlap(a: str, b: str) -> float:
    wa, wb = content_words(a), content_words(b)
    small = min(len(wa), len(wb))
    return len(wa & wb) / small if small >= 3 else 0.0


def duplicate(a: Candidate, b: Candidate) -> bool:
    """Whether two sentences say the same thing (close vectors, or nearly the same words)."""
    cosine = float(np.dot(a.vector, b.vector))
    return cosine >= DUPLICATE_COSINE or _overlap(a.sentence, b.sentence) >= DUPLICATE_OVERLAP


def exactly_supports(member: str, quote: str) -> bool:
    """A doctor's sentence backs a quote only if it has the same negation and the same figures."""
    return not (
        negation_conflict(quote, member)
        or numbers_missing(quote, member)
        or numbers_missing(member, quote)
    )


def _same_claim(a: Candidate, b: Candidate, weight: dict[str, float]) -> bool:
    """Close in meaning AND covering most of a's distinctive words ("no reverse effect" is not
    "the effects are not permanent", however close the embeddings) AND exactly supported."""
    if float(np.dot(a.vector, b.vector)) < AGREE:
        return False
    words_a, words_b = content_words(a.sentence), content_words(b.sentence)
    total = sum(weight.get(w, 1.0) for w in words_a)
    shared = sum(weight.get(w, 1.0) for w in words_a & words_b) / total if total else 1.0
    return shared >= SHARED_WORDS and exactly_supports(b.sentence, a.sentence)


def _supporters(lead: Candidate, cands: list[Candidate], weight: dict[str, float]) -> Group:
    """The lead and, from each other answer, its best sentence that says exactly the same."""
    group = Group([lead])
    for cand in sorted(cands, key=lambda c: -c.relevance):
        if cand.answer_id in group.answer_ids() or cand.own_case:
            continue
        if _same_claim(lead, cand, weight):
            group.members.append(cand)
    return group


def _figures(said: list[Candidate]) -> Statement | None:
    """A figures line when answers saying the same thing give different figures, else None."""
    by_figure: dict[str, list[Candidate]] = {}
    for cand in said:
        m = FIGURE.search(cand.sentence)
        if m and not cand.own_case:
            by_figure.setdefault(m.group(0), [])
            if cand.answer_id not in {c.answer_id for c in by_figure[m.group(0)]}:
                by_figure[m.group(0)].append(cand)
    if len({f.lower() for f in by_figure}) < 2:
        return None
    ids = tuple(dict.fromkeys(c.answer_id for cands in by_figure.values() for c in cands))
    return Statement(
        framing=FIGURES_FRAMING,
        quote="",
        answer_ids=ids,
        support_quotes={c.answer_id: c.sentence for cands in by_figure.values() for c in cands},
        figures=tuple((f, tuple(c.answer_id for c in cands)) for f, cands in by_figure.items()),
    )


def framing(n: int, total: int, organisations: bool) -> str:
    """Our words before a quote: how many of the answers found say much the same."""
    who = "sources" if organisations else "doctors' answers"
    if n == 1:
        return "One source says:" if organisations else "One doctor notes:"
    if n == total == 2:
        return f"Both {who} I found say much the same:"
    if n == total:
        return f"All {n} {who} I found say much the same:"
    if n * 2 > total:
        return f"Most of the {who} I found ({n} of {total}) say much the same:"
    return f"Several {who} I found ({n} of {total}) say much the same:"


def fitted_budget(question: str, max_words: int) -> int:
    """Words a reply may use: a short one-part question gets a short reply."""
    parts = max(1, question.count("?")) + (word_count(question) > 25)
    return min(max_words, SHORT_WORDS * parts)


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
    ) -> list[Candidate]:
        """Every candidate sentence with its vector and relevance to the question."""
        cands = _candidates(
            question, docs, self.max_candidates, self.max_sentence_words, self.per_chunk
        )
        if not cands:
            return []
        sentences = [c.sentence for c in cands]
        vectors = np.asarray(self.embed(sentences), dtype=np.float32)
        q = np.asarray(question_vector, dtype=np.float32)
        for cand, vec, lex in zip(
            cands, vectors, _lexical(question, sentences, focus), strict=True
        ):
            cand.vector, cand.lexical = vec, lex
            cosine = float(np.dot(q, vec))
            cand.direct = cosine + DIRECT_LEXICAL_WEIGHT * lex
            # Early sentences of an answer and better-ranked answers usually carry its point.
            cand.relevance = (
                cosine
                + LEXICAL_WEIGHT * lex
                - RANK_WEIGHT * cand.rank
                - POSITION_WEIGHT * min(cand.position, POSITION_CAP)
            )
        return [c for c in cands if not c.own_case or c.lexical >= CASE_MIN_LEXICAL]

    def compose(
        self,
        question: str,
        docs: Sequence[Document],
        question_vector: Sequence[float],
        focus: Mapping[str, float] | None = None,
    ) -> Composition:
        """Choose and group sentences; an empty composition means nothing answers the question.

        `focus` (stem -> weight, bot/focus.py) says which of the question's words matter."""
        cands = self.score(question, docs, question_vector, focus)
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
        chosen: list[Candidate] = []
        words = 0
        if pool:
            # The most direct answer: of the sentences nearly as relevant as the best one, the
            # one that says most of what the question is about.
            top = max(c.direct for c in pool)
            near = [c for c in pool if c.direct >= top - FIRST_MARGIN]
            first = max(near, key=lambda c: (round(c.lexical, 6), c.direct))
            pool.remove(first)
            chosen.append(first)
            words += word_count(first.sentence) + self.framing_words
        while pool:

            def gain(c: Candidate) -> float:
                closest = max(float(np.dot(c.vector, s.vector)) for s in chosen)
                return c.relevance - MMR_PENALTY * closest

            pick = max(pool, key=gain)
            pool.remove(pick)
            if any(duplicate(pick, s) for s in chosen):
                continue  # said already: its doctor is counted there if they say it exactly
            cost = word_count(pick.sentence) + self.framing_words
            if chosen and words + cost > budget:
                continue
            chosen.append(pick)
            words += cost
        # Other answers' sentences that say what a quoted one says, figures perhaps differing.
        repeats: dict[int, list[Candidate]] = {}
        for cand in cands:
            if cand in chosen or cand.own_case:
                continue
            same = [i for i, s in enumerate(chosen) if duplicate(cand, s)]
            if same:
                repeats.setdefault(same[0], []).append(cand)
        statements = []
        for n, lead in enumerate(chosen):
            group = _supporters(lead, [c for c in cands if c is not lead], weight)
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
            figures = _figures([*group.members, *repeats.get(n, [])])
            if figures:
                statements.append(figures)
        return Composition(tuple(statements), total, organisations)


_LINE = re.compile(r'^(?P<framing>[^"]*?)\s*(?P<rest>".*"\s*(?:\[\d+\]\s*)+)$')


def reframe(text: str, total: int, organisations: bool) -> str:
    """Recount each line's framing after verification removed markers ("4 of 6" -> "3 of 6")."""
    lines = []
    for line in text.split("\n\n"):
        m = _LINE.match(line)
        if m and not m.group("framing").startswith((CASE_FRAMING, FIGURES_FRAMING)):
            n = len(re.findall(r"\[\d+\]", m.group("rest")))
            line = f"{framing(n, total, organisations)} {m.group('rest')}"
        lines.append(line)
    return "\n\n".join(lines)
