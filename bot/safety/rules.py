"""The rules that decide whether a red-flag sign found in a message is happening now.

A sign's pattern (bot/safety/catalogue.py) matching is not enough. It does not count when:
- it is negated: a negation cue ("no", "not", "never", "without", ... or "history of", "afraid of")
  up to `reach` words before it, with no scope end in between (punctuation, "but", a new subject);
  hedges ("not sure if", "don't want to make a fuss") are not negations, so downplaying does not
  hide a symptom;
- it is told as over: a distant time in its sentence ("last year", "as a child") or a resolution in
  its sentence, or in the next one when its own is in the past tense ("it went away", "was
  treated"), unless the sentence says it is happening now ("now", "again", "still");
- its sentence is a risk question: impersonal ("can botox cause trouble swallowing?") or
  hypothetical whoever asks ("will I have trouble speaking after a lip flip?");
- it is an expected local effect of the treatment the message names (the sign's expected_after)
  and nothing severe is mentioned with it.
A sign's tier may depend on context (the sign's context / without_context). Crisis signs are never
discounted as past, questions or expected. Crisis beats emergency, emergency beats urgent.
The vocabulary of these rules is prompts/triage/rules.toml.
"""

from __future__ import annotations

import functools
import re
import tomllib
from dataclasses import dataclass, field

from bot.safety.catalogue import TRIAGE_DIR, Sign, load

RULES = TRIAGE_DIR / "rules.toml"
_RANK = {"crisis": 3, "emergency": 2, "urgent": 1}
# A sentence ends at . ; ! ? or a line break, or at a comma that opens a question ("as a teenager
# I had a seizure, can I still get filler?": "still" belongs to the question, not the seizure).
_SENTENCE_END = re.compile(
    r" ?[.;!?\n](?: [.;!?\n])* ?| , (?=(?:can|could|should|is|are|will|would|do|does|what|how)"
    r" (?:i|it|you|we|this|that|there|botox|filler)\b)"
)


@dataclass(frozen=True)
class Finding:
    """The strongest sign found: its tier, its name and the language of its wording."""

    tier: str | None
    sign: str | None = None
    lang: str = "en"
    negated: list[tuple[int, int]] = field(default_factory=list)
    discounted: str | None = None  # why a sign found did not count: past, informational, expected


@functools.cache
def rules() -> dict:
    """The rules' vocabulary, compiled once."""
    with RULES.open("rb") as f:
        data = tomllib.load(f)
    neg = data["negation"]
    return {
        "cues": frozenset(neg["cues"]),
        "noun_cues": frozenset(neg["noun_cues"]),
        "noun_links": frozenset(neg["noun_links"]),
        "pseudo": re.compile(neg["pseudo"]),
        "scope_end": frozenset(neg["scope_end"]),
        "clause_openers": frozenset(neg["clause_openers"]),
        "hedge_verbs": frozenset(neg["hedge_verbs"]),
        "reach": int(neg["reach"]),
        **{k: re.compile(v) for k, v in data["past"].items()},
        **{k: re.compile(v) for k, v in data["question"].items()},
    }


def negated(text: str, start: int) -> int | None:
    """Where the negation covering the match at start begins, or None when it is not negated."""
    r = rules()
    if text[start:].split(" ", 1)[0] in r["clause_openers"]:
        return None  # the match opens a clause of its own: "... if i was gone"
    words = text[:start].split(" ")[:-1]
    offset = start - 1  # walk back word by word, keeping the character offset of each
    for back in range(1, min(len(words), r["reach"] + 1) + 1):
        word = words[-back]
        offset -= len(word) + (back > 1)
        earlier = words[-back - 1] if back < len(words) else ""
        later = words[-back + 1] if back > 1 else text[start:].split(" ", 1)[0]
        if word in r["scope_end"] and not (word == "i" and earlier in r["hedge_verbs"]):
            return None
        if word == "and" and back > 1 and words[-back + 1] in {"i", "my", "now", "then", "it"}:
            return None
        if word in r["noun_cues"] and later in r["noun_links"]:
            return offset
        if word in r["cues"] and not r["pseudo"].match(text[offset + len(word) + 1 :]):
            return offset
    return None


def sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence of normalised text."""
    spans, at = [], 0
    for m in _SENTENCE_END.finditer(text):
        spans.append((at, m.start()))
        at = m.end()
    spans.append((at, len(text)))
    return spans


def _sentence_at(spans: list[tuple[int, int]], pos: int) -> int:
    return next((i for i, (s, e) in enumerate(spans) if s <= pos <= e), len(spans) - 1)


def is_past(text: str, spans: list[tuple[int, int]], index: int) -> bool:
    """True when the sentence at index tells of something over and done with."""
    r = rules()
    own = text[slice(*spans[index])]
    if r["current"].search(own):
        return False
    if r["distant"].search(own) or r["resolved"].search(own):
        return True
    if not r["past_tense"].search(own):
        return False
    following = text[slice(*spans[index + 1])] if index + 1 < len(spans) else ""
    return bool(r["resolved"].search(following) or r["recovered_now"].search(text))


def is_risk_question(sentence: str) -> bool:
    """True when a sentence asks about a risk rather than reports a symptom."""
    r = rules()
    if r["hypothetical"].search(sentence):
        return True
    return bool(r["risk"].search(sentence)) and not r["person"].search(sentence)


def _expected(sign: Sign, text: str) -> bool:
    """True when the sign is an expected effect of the treatment the message names."""
    if sign.tier == "crisis" or not sign.expected_after:
        return False
    if not any(p.search(text) for p in sign.expected_after):
        return False
    return not any(p.search(text) for p in sign.severe)


def _tier(sign: Sign, text: str) -> str | None:
    """The tier a sign has in this message (its context), None when it does not apply."""
    if sign.tier == "crisis":
        return "crisis"
    if sign.context and not any(p.search(text) for p in sign.context):
        return sign.without_context
    return sign.tier


def _discount(
    text: str, spans: list[tuple[int, int]], index: int, expected: bool, report: bool
) -> str | None:
    """Why a match in sentence index does not count now, or None when it does."""
    if expected:
        return "expected"
    if is_past(text, spans, index):
        return "past"
    if not report and is_risk_question(text[slice(*spans[index])]):
        return "informational"
    return None


def find(text: str, signs: tuple[Sign, ...] | None = None) -> Finding:
    """The strongest current sign in normalised text, with the discounted spans seen on the way.

    Discounted spans (negated, past, risk question, expected effect) are what the similarity
    layer must not see either, so "no trouble breathing" adds no similarity to emergencies.
    """
    spans = sentences(text)
    found: list[tuple[int, int]] = []
    discounted: str | None = None
    report = bool(rules()["report"].search(text))
    best: Finding | None = None
    for sign in signs if signs is not None else load():
        tier = _tier(sign, text)
        if tier is None or (best and _RANK[tier] <= _RANK[best.tier]):
            continue
        expected = _expected(sign, text)
        for pattern in sign.patterns:
            hit = None
            for match in pattern.finditer(text):
                cue = negated(text, match.start())
                if cue is not None:
                    found.append((cue, match.end()))
                    continue
                index = _sentence_at(spans, match.start())
                why = None if tier == "crisis" else _discount(text, spans, index, expected, report)
                if why:
                    found.append((match.start(), match.end()))
                    discounted = discounted or why
                    continue
                hit = match
                break
            if hit is not None:
                best = Finding(tier, sign.name, sign.lang)
                break
        if best and best.tier == "crisis":
            break
    if best is None:
        return Finding(None, negated=found, discounted=discounted)
    return Finding(best.tier, best.sign, best.lang, found, discounted)
