"""Doctors' signature blocks on a Q&A page: a name with credentials, `Dr. Name`, a
`City Specialty` line, a star rating, and badge lines a site prints under the name."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache

from vectorstore.page_vocab import whole_line_pattern, words

RATING = re.compile(
    r"^(\d+(?:\.\d+)?)\s+out of\s+5\s+stars?(?:\s+(\d[\d,]*)\s+reviews?)?$", re.IGNORECASE
)
_NAME_WORD = r"(?:[A-Z][A-Za-z'\-]*\.?|(?:[A-Z]\.)+|de|van|von|der|da|del|la|le|di|St\.)"
_NAME = rf"{_NAME_WORD}(?:\s+{_NAME_WORD}){{1,5}}"
PLAIN_NAME = re.compile(rf"^(?P<name>{_NAME})$")
DR_NAME = re.compile(rf"^Dr\.?\s+(?P<name>{_NAME})$")


@cache
def name_with_credentials() -> re.Pattern[str]:
    """`Gail Nield, MD, FRCPC` (an optional `Dr.` in front): the name and the credentials."""
    creds = sorted(words("signatures", "credentials"), key=len, reverse=True)
    one = "(?:" + "|".join(r"\.?".join(re.escape(ch) for ch in c) for c in creds) + r")\.?"
    return re.compile(rf"^(?:Dr\.?\s+)?(?P<name>{_NAME}),\s*(?P<cred>{one}(?:\s*,\s*{one})*)\.?$")


@dataclass
class Signature:
    """What one signature block says about its doctor."""

    names: list[tuple[str, str | None]] = field(default_factory=list)  # (name, credentials)
    location: str | None = None
    specialty: str | None = None
    rating: float | None = None
    review_count: int | None = None
    badges: list[str] = field(default_factory=list)

    def merge(self, other: Signature) -> None:
        """Fold another block of the same signature into this one."""
        self.names.extend(other.names)
        self.location = other.location or self.location
        self.specialty = other.specialty or self.specialty
        self.rating = other.rating if other.rating is not None else self.rating
        if other.review_count is not None:
            self.review_count = other.review_count
        self.badges.extend(other.badges)

    def best_name(self) -> tuple[str | None, str | None]:
        """Prefer the most formal form: "Gustavo A. Diaz, MD" over "Dr. Gus Diaz"."""
        if not self.names:
            return None, None
        with_cred = [n for n in self.names if n[1]]
        return (with_cred or self.names)[-1]


def split_city_specialty(line: str) -> tuple[str | None, str] | None:
    """Split `Saint Louis Plastic Surgeon` into ("Saint Louis", "Plastic Surgeon"), else None."""
    parts = line.strip().split()
    professions = words("signatures", "professions")
    modifiers = words("signatures", "specialty_words")
    if not parts or len(parts) > 9 or parts[-1].rstrip(",") not in professions:
        return None
    if not all(w[0].isupper() or w in {"and", "&", "of"} for w in parts):
        return None
    cut = len(parts) - 1
    while cut > 0 and parts[cut - 1] in modifiers | professions:
        cut -= 1
    if cut == 0:  # no city left, e.g. "Board Certified Plastic Surgeon"
        return None, " ".join(parts)
    return " ".join(parts[:cut]), " ".join(parts[cut:])


def is_badge(line: str) -> bool:
    """A badge a site prints under a doctor's name (`#realself500 Physician`, `Top Doctor`)."""
    return bool(whole_line_pattern("signatures", "badges").match(line.strip()))


def name_line(line: str) -> tuple[str, str | None] | None:
    """(name, credentials) when the line is a doctor's name with credentials or `Dr. Name`."""
    text = line.strip()
    if m := name_with_credentials().match(text):
        return m.group("name"), re.sub(r"\s*,\s*", ", ", m.group("cred"))
    if m := DR_NAME.match(text):
        return m.group("name"), None
    return None


def read_line(line: str, sig: Signature, next_line: str = "") -> bool:
    """Fold one line into the signature if it is a signature line; say whether it was."""
    text = line.strip()
    if m := RATING.match(text):
        sig.rating = float(m.group(1))
        sig.review_count = int(m.group(2).replace(",", "")) if m.group(2) else None
        return True
    if is_badge(text):
        sig.badges.append(text)
        return True
    if (named := name_line(text)) is not None:
        sig.names.append(named)
        return True
    if (split := split_city_specialty(text)) is not None:
        sig.location, sig.specialty = split
        return True
    # A plain name ("Jane Smith") counts only right above a City Specialty or badge line.
    if PLAIN_NAME.match(text) and (split_city_specialty(next_line) or is_badge(next_line)):
        sig.names.append((text, None))
        return True
    return False


def leading_run(lines: list[str]) -> tuple[Signature, int]:
    """The signature formed by the first lines, and how many lines it takes (0: none)."""
    sig = Signature()
    stripped = [ln.strip() for ln in lines]
    for i, line in enumerate(stripped):
        nxt = stripped[i + 1] if i + 1 < len(stripped) else ""
        if not read_line(line, sig, nxt):
            return sig, i
    return sig, len(stripped)


def parse_block(lines: list[str]) -> Signature | None:
    """The block's signature, if every line of it is a signature line (badges alone are not)."""
    sig, used = leading_run(lines)
    if used < len(lines) or (sig.badges and not (sig.names or sig.location or sig.rating)):
        return None
    return sig


def badge_block(lines: list[str]) -> Signature | None:
    """The block as a signature part when every line of it is a badge, else None."""
    sig, used = leading_run(lines)
    if used < len(lines) or sig.names or sig.location or sig.rating is not None:
        return None
    return sig if sig.badges else None


def has_identity(sig: Signature) -> bool:
    """True when the signature names someone or rates them (not only a city line)."""
    return bool(sig.names) or sig.rating is not None
