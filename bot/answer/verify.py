"""Citation verification, whatever wrote the reply: every statement must be supported by what it cites.

A statement is supported by a cited answer when one of that answer's sentences is close in meaning
(embedding cosine) AND the statement's content words are largely found in the answer (lexical
recall), or when the words are almost all there (a verbatim quote of three or more content words).
Embeddings barely see "not" or a changed number, so a statement in a model's own words must also
agree with the supporting sentence (and its neighbours) on negation ("Botox is permanent" vs
"Botox is not permanent") and find there every number it states; a model's question asserts
nothing and is dropped. Markers whose answer does not support the statement are removed; a
statement left with no supported marker is dropped.
Thresholds were calibrated with `benchmarks/calibrate_verification.py` (numbers in BENCHMARKS.md).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from bot.answer.quotable import statement_like, without_heading
from bot.words import content_words
from vectorstore.sentences import split_sentences

MARKER = re.compile(r"\s*\[(\d+)\]")
_QUOTED_LINE = re.compile(
    r'^(?P<framing>[^"“]*)["“](?P<quote>.+)["”]\s*(?P<markers>(?:\[\d+\]\s*)+)$'
)
# A statement in a model's own words (calibrated on tests/data/verification_pairs.jsonl).
MIN_COSINE = 0.80
MIN_LEXICAL = 0.70
VERBATIM_LEXICAL = 0.80
# A doctor's sentence quoted verbatim also credits the other answers that say much the same
# (the extractive composer's groups); this looser rule is the composer's, left as it was.
QUOTE_MIN_COSINE = 0.60
QUOTE_MIN_LEXICAL = 0.50
QUOTE_VERBATIM_LEXICAL = 0.90
# A "verbatim" match of one or two words ("(Question) [1]") is a coincidence, not a quote.
MIN_VERBATIM_WORDS = 3
_NEGATORS = frozenset(
    ["not", "no", "never", "cannot", "nothing", "none", "nobody", "neither", "nor", "without"]
)
# A negation covers the next content word of its clause: "not a permanent treatment" -> permanent.
_CLAUSE_BREAK = frozenset(["and", "but", "or", "so", "because", "although", "though", "while"])
_TOKEN = re.compile(r"[a-z]+(?:'[a-z]+)*|\d+(?:\.\d+)?|[^\sa-z\d]")
_NEGATION_REACH = 4  # tokens after a negator that its scope may skip (articles, auxiliaries)
# "two to four months" must match "2-4 months". "one" is not here: it is mostly a pronoun.
_NUMBER_WORDS = {
    "two": "2",
    "three": "3",
    "four": "4",
    "five": "5",
    "six": "6",
    "seven": "7",
    "eight": "8",
    "nine": "9",
    "ten": "10",
    "eleven": "11",
    "twelve": "12",
    "twenty": "20",
    "thirty": "30",
    "hundred": "100",
}
_UNITS = frozenset(
    {
        *("second", "minute", "hour", "day", "week", "month", "year"),
        *("unit", "mg", "ml", "cc", "percent", "%", "session", "injection", "time"),
    }
)
_RANGE = frozenset(["-", "–", "to", "or", "and"])
# Who said it is shown by the citation, so "One doctor says ..." need not be found in the answer.
_ATTRIBUTION = frozenset(
    ["one", "doctor", "dr", "says", "said", "note", "notes", "explain", "write"]
)


@dataclass(frozen=True)
class Unit:
    """A statement of the reply and the markers it carries."""

    text: str  # as written, markers included
    line: int  # which line of the reply it came from
    claim: str  # what must be supported: the quote if there is one, else the text without markers
    markers: tuple[int, ...]
    quoted: bool = False  # a quoted line: the extractive composer's form (a model may copy it)


@dataclass(frozen=True)
class Checked:
    """The verified reply text and what was removed."""

    text: str
    kept: int
    dropped: tuple[str, ...]
    support: dict[int, float]  # marker -> best support score among the statements citing it
    quotes: dict[int, tuple[str, ...]]  # marker -> the answer's sentences that support the reply


_QUOTED_PIECE = re.compile(r'["“](?P<quote>[^"“”]+)["”]\s*(?P<markers>(?:\[\d+\]\s*)+),?')


def _pieces(number: int, line: str) -> list[Unit]:
    """A line of several quoted pieces, each with its markers ('"2-4 months" [1], "3 months"
    [2]'): one statement per piece; the first keeps the words before it."""
    found = list(_QUOTED_PIECE.finditer(line))
    out = []
    for i, m in enumerate(found):
        start = 0 if i == 0 else m.start()
        text = line[start : m.end()].rstrip(", ")
        markers = tuple(int(x) for x in re.findall(r"\[(\d+)\]", m.group("markers")))
        out.append(Unit(text, number, m.group("quote").strip(), markers, quoted=True))
    return out


def units(text: str) -> list[Unit]:
    """Split reply text into statements: a quoted line is one statement (a line of several
    quoted pieces, one per piece), else each sentence."""
    out: list[Unit] = []
    for number, line in enumerate(text.splitlines()):
        line = line.strip()
        if not line:
            continue
        if len(_QUOTED_PIECE.findall(line)) > 1 and not _QUOTED_PIECE.sub("", line).strip(
            " ,"
        ).endswith(('"', "”")):
            prefix = line[: _QUOTED_PIECE.search(line).start()]
            if '"' not in prefix and "“" not in prefix:
                out.extend(_pieces(number, line))
                continue
        if m := _QUOTED_LINE.match(line):
            markers = tuple(int(x) for x in re.findall(r"\[(\d+)\]", m.group("markers")))
            out.append(Unit(line, number, m.group("quote").strip(), markers, quoted=True))
            continue
        for sentence in _sentences_with_markers(line):
            markers = tuple(int(x) for x in re.findall(r"\[(\d+)\]", sentence))
            claim = MARKER.sub("", sentence).strip()
            out.append(Unit(sentence, number, claim, markers))
    return out


_LEADING_MARKERS = re.compile(r"^((?:\[\d+\]\s*)+)[.!?]?\s*")


def _sentences_with_markers(line: str) -> list[str]:
    # Markers written after the full stop ("... months. [1] It ...") belong to the sentence
    # before them, though the splitter starts the next sentence at "[1]".
    merged: list[str] = []
    for part in split_sentences(line):
        lead = _LEADING_MARKERS.match(part)
        if merged and lead:
            merged[-1] = f"{merged[-1]} {lead.group(1).strip()}"
            part = part[lead.end() :]
        if part:
            merged.append(part)
    return merged


def _is_negator(token: str) -> bool:
    return token in _NEGATORS or token.endswith("n't")


def polarity(text: str) -> tuple[set[str], set[str]]:
    """(content words inside a negation's scope, content words outside any), lower-cased."""
    negated: set[str] = set()
    plain: set[str] = set()
    reach = 0
    for token in _TOKEN.findall(text.lower()):
        if _is_negator(token):
            reach = _NEGATION_REACH
            continue
        if token in _CLAUSE_BREAK or not token[0].isalnum():
            reach = 0
            continue
        words = content_words(token)
        if not words:
            reach = max(0, reach - 1)
            continue
        if reach:
            negated |= words
            reach = 0
        else:
            plain |= words
    return negated, plain


def negation_conflict(claim: str, context: str) -> bool:
    """True when a word is negated in one text and only asserted in the other."""
    claim_neg, claim_plain = polarity(claim)
    ctx_neg, ctx_plain = polarity(context)
    return bool(
        ((claim_plain - claim_neg) & (ctx_neg - ctx_plain))
        or ((claim_neg - claim_plain) & (ctx_plain - ctx_neg))
    )


def _states(sentence: str) -> bool:
    """A sentence that could be quoted as a doctor's statement (after a glued heading)."""
    return statement_like(without_heading(sentence))


def _verbatim_in(quote: str, texts: Iterable[str]) -> bool:
    flat = " ".join(quote.split())
    return any(flat in " ".join(t.split()) for t in texts)


def claim_words(text: str) -> set[str]:
    """Content words for strict lexical recall: numbers (the number check covers them, and
    content_words drops one-digit ones) and attribution words left out."""
    return {
        w
        for w in content_words(text)
        if w not in _ATTRIBUTION and w not in _NUMBER_WORDS and not w[0].isdigit()
    }


def _value(token: str) -> str | None:
    return token if token[0].isdigit() else _NUMBER_WORDS.get(token)


def _unit(token: str) -> str | None:
    token = token[:-1] if len(token) > 3 and token.endswith("s") else token
    return token if token in _UNITS else None


def quantities(text: str) -> set[tuple[str, str | None]]:
    """Numbers with the unit that follows them: "2-4 months" -> {("2", "month"), ("4", "month")}."""
    tokens = _TOKEN.findall(text.lower())
    found: set[tuple[str, str | None]] = set()
    i = 0
    while i < len(tokens):
        first = "1" if tokens[i] == "one" else _value(tokens[i])
        if first is None:
            i += 1
            continue
        run, j = [first], i + 1
        while j < len(tokens) and (tokens[j] in _RANGE or _value(tokens[j])):
            if tokens[j] not in _RANGE:
                run.append(_value(tokens[j]))
            j += 1
        unit = _unit(tokens[j]) if j < len(tokens) else None
        if tokens[i] != "one" or unit:  # "one" is a number in "one month", else a pronoun
            found |= {(value, unit) for value in run}
        i = j
    return found


def numbers_missing(claim: str, context: str) -> bool:
    """True when the claim states a number, or a number of some unit, that the context lacks
    ("lasts 12 years", "wears off in 3-4 weeks" against "3-4 months")."""
    said, there = quantities(claim), quantities(context)
    values = {v for v, _ in there}
    return any(v not in values or (u and (v, u) not in there) for v, u in said)


class Verifier:
    """Checks statements against the answers they cite."""

    def __init__(
        self,
        embed: Callable[[list[str]], list[list[float]]],
        *,
        min_cosine: float = MIN_COSINE,
        min_lexical: float = MIN_LEXICAL,
        verbatim_lexical: float = VERBATIM_LEXICAL,
        check_negation: bool = True,
        check_numbers: bool = True,
    ) -> None:
        self.embed = embed
        self.min_cosine = min_cosine
        self.min_lexical = min_lexical
        self.verbatim_lexical = verbatim_lexical
        # Switchable only so the calibration benchmark can measure what each check adds.
        self.check_negation = check_negation
        self.check_numbers = check_numbers

    def support(
        self, claim: str, answer_text: str, *, strict: bool = True
    ) -> tuple[float, float, str]:
        """The answer's best-supporting sentence for the claim: (cosine, lexical recall, sentence).

        Lexical recall is the share of the claim's content words found in that sentence and its
        neighbours, so a claim that joins two adjacent sentences can still be supported. When
        `strict` (a model's wording), a neighbourhood that contradicts the claim's negation or
        lacks one of its numbers scores lexical 0: it cannot support the claim however similar."""
        bag = claim_words if strict else content_words
        words = bag(claim)
        sentences = split_sentences(answer_text) or [answer_text]
        if not strict:  # a doctor's own sentence quoted word for word needs no embedding
            flat = " ".join(claim.split()).lower()
            for sentence in sentences:
                if flat and flat in " ".join(sentence.split()).lower():
                    return 1.0, 1.0, without_heading(sentence)
        # Crediting another doctor (not `strict`), a heading or question lends no words either.
        states = [strict or _states(s) for s in sentences]
        bags = [bag(s) if ok else frozenset() for s, ok in zip(sentences, states, strict=True)]
        lexicals = []
        for i in range(len(sentences)):
            window = set().union(*bags[max(0, i - 1) : i + 2])
            lexical = len(words & window) / len(words) if words else 0.0
            context = " ".join(sentences[max(0, i - 1) : i + 2])
            if strict and lexical and self._disagrees(claim, context):
                lexical = 0.0
            lexicals.append(lexical)
        # Every rule needs some lexical support, so only sentences that have it are embedded:
        # the same decision as embedding them all, at a fraction of the cost.
        floor = self.min_lexical if strict else QUOTE_MIN_LEXICAL
        promising = [i for i, lexical in enumerate(lexicals) if lexical >= floor]
        if not strict:  # another doctor's sentence that says the same is itself a statement: a
            # table or run-on text of more words is never the one (and costs 15-60 ms to embed),
            # nor a heading ("Chronic Bronchitis") or a question ("Is Laron syndrome inherited?")
            stated = [i for i, ok in enumerate(states) if ok]
            promising = sorted(set(promising) & set(stated))
            if not stated:
                return 0.0, 0.0, sentences[0]
        if not promising:
            pool = range(len(sentences)) if strict else stated
            i = max(pool, key=lambda j: lexicals[j])
            return 0.0, lexicals[i], sentences[i]
        vectors = np.asarray(
            self.embed([claim, *(sentences[i] for i in promising)]), dtype=np.float32
        )
        cosines = vectors[1:] @ vectors[0]
        best: tuple[float, float, str] = (0.0, 0.0, sentences[promising[0]])
        best_ok = False
        for i, cosine in zip(promising, cosines, strict=True):
            ok = self.supported(float(cosine), lexicals[i], len(words), strict=strict)
            if (ok, float(cosine)) > (best_ok, best[0]):
                best, best_ok = (float(cosine), lexicals[i], sentences[i]), ok
        if not strict:  # the doctor's statement, without a heading glued to it
            return best[0], best[1], without_heading(best[2])
        return best

    def _disagrees(self, claim: str, context: str) -> bool:
        return (self.check_negation and negation_conflict(claim, context)) or (
            self.check_numbers and numbers_missing(claim, context)
        )

    def supported(
        self, cosine: float, lexical: float, words: int = MIN_VERBATIM_WORDS, *, strict: bool = True
    ) -> bool:
        """The decision rule: the calibrated one for a model's wording of `words` content words,
        or (not `strict`) the composer's for crediting another doctor with a quoted sentence."""
        if not strict:
            return lexical >= QUOTE_VERBATIM_LEXICAL or (
                cosine >= QUOTE_MIN_COSINE and lexical >= QUOTE_MIN_LEXICAL
            )
        verbatim = lexical >= self.verbatim_lexical and words >= MIN_VERBATIM_WORDS
        return verbatim or (cosine >= self.min_cosine and lexical >= self.min_lexical)

    def check(self, text: str, answers: Mapping[int, str]) -> Checked:
        """Keep the statements whose cited answers support them; drop unknown or unsupported markers."""
        kept_lines: dict[int, list[str]] = {}
        dropped: list[str] = []
        support: dict[int, float] = {}
        quotes: dict[int, list[str]] = {}
        kept = 0
        for unit in units(text):
            good = []
            # A quote of one of these answers' own sentences is the extractive composer's line (or
            # a model copying a doctor): it keeps the group rule. Everything else is a model's
            # wording and must also agree on negation and numbers, and state rather than ask.
            strict = not (unit.quoted and _verbatim_in(unit.claim, answers.values()))
            asks = strict and unit.claim.endswith("?")
            size = len((claim_words if strict else content_words)(unit.claim))
            for marker in dict.fromkeys(unit.markers):
                if marker not in answers or not unit.claim or asks:
                    continue
                cosine, lexical, sentence = self.support(unit.claim, answers[marker], strict=strict)
                if self.supported(cosine, lexical, size, strict=strict):
                    good.append(marker)
                    support[marker] = max(support.get(marker, 0.0), round(cosine, 3))
                    if sentence not in quotes.setdefault(marker, []):
                        quotes[marker].append(sentence)
            if not good:
                dropped.append(MARKER.sub("", unit.text).strip())
                continue
            body = MARKER.sub("", unit.text).rstrip()
            kept_lines.setdefault(unit.line, []).append(f"{body} {''.join(f'[{m}]' for m in good)}")
            kept += 1
        text = "\n\n".join(
            ", ".join(parts) if len(parts) > 1 and all('"' in p for p in parts) else " ".join(parts)
            for _, parts in sorted(kept_lines.items())
        )
        frozen = {m: tuple(q) for m, q in quotes.items()}
        return Checked(text, kept, tuple(dropped), support, frozen)
