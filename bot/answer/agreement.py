"""Which doctors say the same thing: near-duplicate sentences, exact support (same figures, same
negation), the figures line when they differ, and the framing that counts them."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
from langchain_core.documents import Document

from bot.answer.verify import negation_conflict, numbers_missing
from bot.words import comparable_words, content_words

AGREE = 0.70  # two doctors' sentences this similar say much the same thing...
SHARED_WORDS = 0.45  # ...when one also has most of the other's distinctive words (idf-weighted)
DUPLICATE_COSINE = 0.85  # a sentence this close to a quoted one says the same thing...
DUPLICATE_OVERLAP = 0.8  # ...as does one sharing this much of its content words (>= 3 words)
CASE_FRAMING = "One doctor told the patient who asked on that page:"
FIGURES_FRAMING = "Doctors give different figures:"
# A figure with its unit ("2-4 months", "approximately 3 months", "up to a year").
FIGURE = re.compile(
    r"\b(?:(?:up to|about|approximately|around|perhaps|within|over)\s+)?"
    r"(?:\d+(?:\.\d+)?(?:\s*(?:-|–|to)\s*\d+(?:\.\d+)?)?|an?|one|two|three|four|five|six|"
    r"seven|eight|nine|ten|twelve)\s+(?:seconds?|minutes?|hours?|days?|weeks?|months?|years?)\b",
    re.IGNORECASE,
)


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
    addresses: float = 0.0  # direct + focus cosine + answer shape: which statement comes first
    vector: np.ndarray | None = None
    own_case: bool = False
    # The text whose stored vector stands for this one: the sentence as stored at ingest, when
    # the quote leaves out a heading glued to its start (quotable.without_heading).
    stored_as: str = ""
    on_point: bool = True  # has the asked shape of answer or a focus word (see compose._select)
    # The sentence before, quoted with this one because it opens by pointing back to it ("It
    # usually affects one side of the face."): `sentence` then holds both, `stored_as` this one,
    # `context` the one before as stored; `pieces` are the two as quoted, with their vectors.
    context: str = ""
    pieces: tuple[str, ...] = ()
    piece_vectors: tuple[np.ndarray, ...] = ()


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


def _overlap(a: str, b: str) -> float:
    """The overlap coefficient of two sentences' comparable words (bot.words.comparable_words:
    words that only refer back to the treatment, "the effects", left out), over at least 3."""
    wa, wb = comparable_words(a), comparable_words(b)
    small = min(len(wa), len(wb))
    return len(wa & wb) / small if small >= 3 else 0.0


def _said(c: Candidate) -> list[tuple[str, np.ndarray]]:
    """A candidate's text and vector, and those of each sentence of a two-sentence quote."""
    return [(c.sentence, c.vector), *zip(c.pieces, c.piece_vectors, strict=True)]


def duplicate(a: Candidate, b: Candidate) -> bool:
    """Whether two sentences say the same thing (close vectors, or nearly the same words); for
    a quote of two sentences, whether either of them does."""
    return any(
        float(np.dot(va, vb)) >= DUPLICATE_COSINE or _overlap(ta, tb) >= DUPLICATE_OVERLAP
        for ta, va in _said(a)
        for tb, vb in _said(b)
    )


def exactly_supports(member: str, quote: str) -> bool:
    """A doctor's sentence backs a quote only if it has the same negation and the same figures."""
    return not (
        negation_conflict(quote, member)
        or numbers_missing(quote, member)
        or numbers_missing(member, quote)
    )


def _same_claim(a: Candidate, b: Candidate, weight: dict[str, float]) -> bool:
    """Close in meaning AND covering most of a's distinctive words ("no reverse effect" is not
    "the effects are not permanent", however close the embeddings) AND exactly supported; or
    nearly the same claim words and exactly supported ("The effects should wear off in about 3
    months." backs "The botox will wear off with time - perhaps 3 months.", whose vectors are
    far apart because one never names Botox)."""
    if _overlap(a.sentence, b.sentence) >= DUPLICATE_OVERLAP:
        return exactly_supports(b.sentence, a.sentence)
    if float(np.dot(a.vector, b.vector)) < AGREE:
        return False
    words_a, words_b = content_words(a.sentence), content_words(b.sentence)
    total = sum(weight.get(w, 1.0) for w in words_a)
    shared = sum(weight.get(w, 1.0) for w in words_a & words_b) / total if total else 1.0
    return shared >= SHARED_WORDS and exactly_supports(b.sentence, a.sentence)


def supporters(lead: Candidate, cands: list[Candidate], weight: dict[str, float]) -> Group:
    """The lead and, from each other answer, its best sentence that says exactly the same."""
    group = Group([lead])
    for cand in sorted(cands, key=lambda c: -c.relevance):
        if cand.answer_id in group.answer_ids() or cand.own_case:
            continue
        if _same_claim(lead, cand, weight):
            group.members.append(cand)
    return group


def figures_line(said: list[Candidate]) -> Statement | None:
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
