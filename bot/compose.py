"""The default composer: extractive, offline, no LLM. It quotes doctors; it never rewrites them.

It picks the sentences of the retrieved answers that answer the question, groups sentences on
which several doctors agree ("Most of the doctors' answers I found (4 of 5) say much the same:
"..." [1][2][3][4]"), keeps single opinions visible ("One doctor notes: "..." [5]") and cites
every statement. The quoted words are always one doctor's own sentence, verbatim.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from langchain_core.documents import Document

from vectorstore.sentences import split_sentences, word_count

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
_WORD = re.compile(r"[a-z]+(?:'[a-z]+)*|\d+(?:\.\d+)?")
_STOP = frozenset(
    [
        "a",
        "an",
        "the",
        "and",
        "or",
        "but",
        "if",
        "of",
        "to",
        "in",
        "on",
        "at",
        "for",
        "with",
        "by",
        "from",
        "as",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "it",
        "its",
        "this",
        "that",
        "these",
        "those",
        "i",
        "you",
        "he",
        "she",
        "we",
        "they",
        "my",
        "your",
        "our",
        "their",
        "me",
        "him",
        "her",
        "them",
        "do",
        "does",
        "did",
        "can",
        "could",
        "should",
        "would",
        "will",
        "may",
        "might",
        "must",
        "have",
        "has",
        "had",
        "not",
        "no",
        "so",
        "than",
        "then",
        "there",
        "here",
        "what",
        "which",
        "who",
        "whom",
        "how",
        "when",
        "where",
        "why",
        "about",
        "into",
        "over",
        "after",
        "before",
        "again",
        "also",
        "just",
        "very",
        "more",
        "most",
        "some",
        "any",
        "all",
        "each",
        "other",
        "such",
        "only",
        "own",
        "same",
        "too",
        "s",
        "t",
        "am",
        "get",
        "got",
    ]
)
MIN_RELEVANCE = 0.30  # a sentence below this cosine to the question does not answer it
AGREE = 0.70  # two doctors' sentences this similar say much the same thing...
SHARED_WORDS = 0.45  # ...when one also has most of the other's distinctive words (idf-weighted)
LEXICAL_WEIGHT = 0.25  # question words a sentence shares, weighted by rarity among the candidates
AGREEMENT_BONUS = 0.04  # each further doctor saying the same moves a statement up a little
RELATIVE_FLOOR = 0.45  # sentences this far below the best one are left out
MIN_SENTENCE_WORDS, MAX_SENTENCE_WORDS = 3, 60  # shorter says nothing; longer cannot be quoted
PER_CHUNK_CANDIDATES = 4  # sentences of one chunk considered (by word overlap with the question)


@functools.lru_cache(maxsize=65536)  # the same sentences are scored by compose, gate and verify
def content_words(text: str) -> frozenset[str]:
    """Lower-cased words minus stop words, crudely stemmed (plural s), for overlap measures."""
    words = set()
    for w in _WORD.findall(text.lower()):
        if w in _STOP or len(w) < 2:
            continue
        words.add(w[:-1] if len(w) > 4 and w.endswith("s") and not w.endswith("ss") else w)
    return frozenset(words)


@dataclass
class Candidate:
    """One sentence of one retrieved answer, with its relevance to the question."""

    sentence: str
    answer_id: str
    doc: Document
    rank: int
    relevance: float = 0.0
    vector: np.ndarray | None = None


@dataclass
class Group:
    """Sentences from different answers that say much the same thing."""

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


@dataclass(frozen=True)
class Composition:
    """What the composer produced, before markers are numbered."""

    statements: tuple[Statement, ...]
    considered: int  # distinct answers the statements were chosen from
    organisations: bool = False  # the sources are organisations (a corpus), not doctors


def quotable(sentence: str) -> bool:
    """Whether a sentence may be quoted: medical content of a quotable length, not boilerplate,
    not text addressed to an AI."""
    return (
        MIN_SENTENCE_WORDS <= word_count(sentence) <= MAX_SENTENCE_WORDS
        and not _BOILERPLATE.match(sentence)
        and not INSTRUCTION_LIKE.search(sentence)
    )


def _weighted_overlap(question: str, sentences: list[str]) -> list[float]:
    """Share of the question's words in each sentence, rare words (among these) counting more."""
    q_words = content_words(question)
    bags = [content_words(s) for s in sentences]
    if not q_words or not bags:
        return [0.0] * len(sentences)
    n = len(bags)
    idf = {w: math.log(1 + n / (1 + sum(w in b for b in bags))) for w in q_words}
    total = sum(idf.values()) or 1.0
    return [sum(idf[w] for w in q_words & b) / total for b in bags]


def _candidates(question: str, docs: Sequence[Document], limit: int) -> list[Candidate]:
    q_words = content_words(question)
    found: list[Candidate] = []
    seen: set[tuple[str, str]] = set()
    for rank, doc in enumerate(docs):
        aid = doc.metadata.get("answer_id", doc.id)
        for position, sentence in enumerate(split_sentences(doc.page_content)):
            if not quotable(sentence):
                continue
            key = (aid, sentence)
            if key in seen:
                continue
            seen.add(key)
            cand = Candidate(sentence, aid, doc, rank)
            overlap = len(q_words & content_words(sentence)) / (len(q_words) or 1)
            cand.relevance = overlap - 0.02 * rank - 0.01 * position  # prefilter only
            found.append(cand)
    found.sort(key=lambda c: -c.relevance)
    # Embedding candidates is the composer's main cost: take the best few of each chunk, so that
    # every retrieved answer is heard, and no more than `limit` in all.
    per_chunk: dict[str, int] = {}
    chosen: list[Candidate] = []
    for cand in found:
        key = cand.doc.id or cand.answer_id
        if per_chunk.get(key, 0) < PER_CHUNK_CANDIDATES:
            per_chunk[key] = per_chunk.get(key, 0) + 1
            chosen.append(cand)
    return chosen[:limit]


def _same_claim(a: Candidate, b: Candidate, weight: dict[str, float]) -> bool:
    """Close in meaning AND covering most of a's distinctive words ("no reverse effect" is not
    "the effects are not permanent", however close the embeddings)."""
    if float(np.dot(a.vector, b.vector)) < AGREE:
        return False
    words_a, words_b = content_words(a.sentence), content_words(b.sentence)
    total = sum(weight.get(w, 1.0) for w in words_a)
    if not total:
        return True
    return sum(weight.get(w, 1.0) for w in words_a & words_b) / total >= SHARED_WORDS


def _groups(cands: list[Candidate]) -> list[Group]:
    groups: list[Group] = []
    counts: dict[str, int] = {}
    for cand in cands:
        for w in content_words(cand.sentence):
            counts[w] = counts.get(w, 0) + 1
    # Words found in most candidates ("botox") say little about which claim a sentence makes.
    weight = {w: math.log(1 + len(cands) / n) for w, n in counts.items()}
    for cand in sorted(cands, key=lambda c: -c.relevance):
        for group in groups:
            if cand.answer_id in group.answer_ids():
                continue
            if _same_claim(group.members[0], cand, weight):
                group.members.append(cand)
                break
        else:
            groups.append(Group([cand]))
    for group in groups:
        # Lead with a sentence that is both relevant and typical of the group, so the other
        # doctors' answers support the quote and the quote answers the question.
        if len(group.members) > 2:
            vecs = np.stack([m.vector for m in group.members])
            typical = ((vecs @ vecs.T).sum(axis=1) - 1.0) / (len(group.members) - 1)
            score = [m.relevance + 0.5 * t for m, t in zip(group.members, typical, strict=True)]
            group.members.insert(0, group.members.pop(int(np.argmax(score))))
    return groups


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


class ExtractiveComposer:
    """Quote the doctors' most relevant sentences, grouped by agreement, within a word budget."""

    name = "extractive"

    def __init__(
        self,
        embed: Callable[[list[str]], list[list[float]]],
        *,
        max_words: int = 120,
        max_candidates: int = 12,
        min_relevance: float = MIN_RELEVANCE,
    ) -> None:
        self.embed = embed
        self.max_words = max_words
        self.max_candidates = max_candidates
        self.min_relevance = min_relevance

    def compose(
        self, question: str, docs: Sequence[Document], question_vector: Sequence[float]
    ) -> Composition:
        """Choose and group sentences; an empty composition means nothing answers the question."""
        cands = _candidates(question, docs, self.max_candidates)
        if not cands:
            return Composition((), 0)
        vectors = np.asarray(self.embed([c.sentence for c in cands]), dtype=np.float32)
        q = np.asarray(question_vector, dtype=np.float32)
        lexical = _weighted_overlap(question, [c.sentence for c in cands])
        for cand, vec, lex in zip(cands, vectors, lexical, strict=True):
            cand.vector = vec
            cand.relevance = float(np.dot(q, vec)) + LEXICAL_WEIGHT * lex - 0.01 * cand.rank
        best = max(c.relevance for c in cands)
        floor = max(self.min_relevance, best - RELATIVE_FLOOR)
        useful = [c for c in cands if c.relevance >= floor]
        groups = _groups(useful)
        total = len({d.metadata.get("answer_id", d.id) for d in docs})
        organisations = all(
            not d.metadata.get("doctor") and d.metadata.get("organisation") for d in docs
        )
        groups.sort(key=lambda g: -(g.lead.relevance + AGREEMENT_BONUS * (len(g.members) - 1)))
        statements: list[Statement] = []
        words = 0
        single_from: set[str] = set()
        for group in groups:
            cost = word_count(group.lead.sentence) + 8
            if statements and words + cost > self.max_words:
                continue
            if len(group.members) == 1:
                if group.lead.answer_id in single_from:
                    continue  # one lone opinion per doctor keeps the reply balanced
                single_from.add(group.lead.answer_id)
            words += cost
            statements.append(
                Statement(
                    framing=framing(len(group.members), total, organisations),
                    quote=group.lead.sentence,
                    answer_ids=tuple(group.answer_ids()),
                    support_quotes={m.answer_id: m.sentence for m in group.members},
                )
            )
        return Composition(tuple(statements), total, organisations)


_LINE = re.compile(r'^(?P<framing>[^"]*?)\s*(?P<rest>".*"\s*(?:\[\d+\]\s*)+)$')


def reframe(text: str, total: int, organisations: bool) -> str:
    """Recount each line's framing after verification removed markers ("4 of 6" -> "3 of 6")."""
    lines = []
    for line in text.split("\n\n"):
        m = _LINE.match(line)
        if m:
            n = len(re.findall(r"\[\d+\]", m.group("rest")))
            line = f"{framing(n, total, organisations)} {m.group('rest')}"
        lines.append(line)
    return "\n\n".join(lines)
