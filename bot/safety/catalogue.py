"""The red-flag catalogue: signs read from prompts/triage/catalogue/*.toml, patterns compiled once.

Each file is a list of [[sign]] tables (name, tier, what, why, source, patterns, and optionally
context / without_context / expected_after / severe); a file may set `lang` for all its signs.
Patterns may use the shared pieces of prompts/triage/macros.toml as <NAME>. A gap word in a
pattern ("(?:\\w+ )") never matches a negation, so "my tongue isn't swollen" does not match
"tongue ... swollen".
"""

from __future__ import annotations

import functools
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

TRIAGE_DIR = Path(__file__).resolve().parents[2] / "prompts" / "triage"
CATALOGUE_DIR = TRIAGE_DIR / "catalogue"
TIERS = ("emergency", "urgent", "crisis")
_MACRO = re.compile(r"<([A-Z_]+)>")
# Gap words are never a negation nor a turn ("swollen but my throat is fine").
_NOT_NEGATION = (
    r"(?!(?:no|not|isnt|arent|wasnt|werent|doesnt|dont|didnt|never|nothing|but|however|"
    r"although|though|except)\b)"
)


@dataclass(frozen=True)
class Sign:
    """One red-flag sign: what it is, its tier, and the ways patients say it."""

    name: str
    tier: str
    lang: str
    what: str
    why: str
    source: str
    patterns: tuple[re.Pattern, ...]
    context: tuple[re.Pattern, ...] = ()
    without_context: str | None = None
    expected_after: tuple[re.Pattern, ...] = ()
    severe: tuple[re.Pattern, ...] = ()


@functools.cache
def macros(path: Path = TRIAGE_DIR / "macros.toml") -> dict[str, str]:
    """The shared pattern pieces by name, each with its own <NAME>s expanded."""
    with path.open("rb") as f:
        raw = tomllib.load(f)["macros"]

    def expand(text: str, seen: tuple[str, ...] = ()) -> str:
        def one(m: re.Match) -> str:
            name = m.group(1)
            if name not in raw:
                raise ValueError(f"unknown pattern piece <{name}> in {path}")
            if name in seen:
                raise ValueError(f"pattern piece <{name}> refers to itself in {path}")
            return expand(raw[name], (*seen, name))

        return _MACRO.sub(one, text)

    return {name: expand(text, (name,)) for name, text in raw.items()}


def compile_pattern(text: str, where: str) -> re.Pattern:
    """A catalogue pattern with its pieces expanded and negations kept out of its gaps."""
    pieces = macros()

    def one(m: re.Match) -> str:
        if m.group(1) not in pieces:
            raise ValueError(f"{where}: unknown pattern piece <{m.group(1)}>")
        return pieces[m.group(1)]

    expanded = _MACRO.sub(one, text)
    expanded = expanded.replace(r"(?:\w+ )", rf"(?:{_NOT_NEGATION}\w+ )")
    expanded = expanded.replace(r"(?: \w+)", rf"(?: {_NOT_NEGATION}\w+)")
    try:
        return re.compile(expanded)
    except re.error as err:
        raise ValueError(f"{where}: bad pattern {text!r}: {err}") from err


def _sign(entry: dict, lang: str, where: str) -> Sign:
    for field in ("name", "tier", "what", "why", "source", "patterns"):
        if not entry.get(field):
            raise ValueError(f"{where}: a sign needs {field!r}")
    where = f"{where} sign {entry['name']}"
    tiers = [entry["tier"], entry.get("without_context") or entry["tier"]]
    if any(t not in TIERS for t in tiers):
        raise ValueError(f"{where}: tier must be one of {', '.join(TIERS)}")

    def patterns(key: str) -> tuple[re.Pattern, ...]:
        return tuple(compile_pattern(p, where) for p in entry.get(key, ()))

    return Sign(
        name=entry["name"],
        tier=entry["tier"],
        lang=entry.get("lang", lang),
        what=entry["what"],
        why=entry["why"],
        source=entry["source"],
        patterns=patterns("patterns"),
        context=patterns("context"),
        without_context=entry.get("without_context"),
        expected_after=patterns("expected_after"),
        severe=patterns("severe"),
    )


@functools.cache
def load(folder: Path = CATALOGUE_DIR) -> tuple[Sign, ...]:
    """Every sign of every catalogue file in folder (sorted by file name), crisis signs first."""
    files = sorted(Path(folder).glob("*.toml"))
    if not files:
        raise ValueError(f"no red-flag catalogue at {folder}: expected *.toml files of [[sign]]")
    signs = []
    for path in files:
        with path.open("rb") as f:
            data = tomllib.load(f)
        signs += [_sign(e, data.get("lang", "en"), path.name) for e in data.get("sign", [])]
    names = [s.name for s in signs]
    if len(set(names)) != len(names):
        raise ValueError(f"sign names repeat in {folder}")
    return tuple(sorted(signs, key=lambda s: s.tier != "crisis"))


@functools.cache
def pattern_words() -> frozenset[str]:
    """Every word the catalogue's patterns spell out (what a leetspeak token may stand for)."""
    words: set[str] = set()
    for sign in load():
        for pattern in sign.patterns:
            words.update(re.findall(r"(?<![\\a-z])[a-z]{3,}(?![a-z])", pattern.pattern))
    return frozenset(words)
