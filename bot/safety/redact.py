"""Redact personal data from a message before it is logged or stored.

Two layers. First the regular expressions here: e-mail addresses, phone numbers, US social
security numbers, payment card numbers and IP addresses become placeholders ("[email]",
"[phone]", ...). Then Microsoft Presidio (`bot/safety/pii_presidio.py`): person names (spaCy's
NER), labelled birth dates and record numbers, postcodes and ZIP codes, street addresses and UK
NHS numbers. Medical content must survive: drug and product names, doses ("20 units", "2.5 mg"),
ranges ("3-4 months"), dates, times and ages are not personal; a doctor's name is kept.
Phone numbers come from `phonenumbers` (valid numbers only, so a date or a dose never qualifies)
over the regions patients here write from, plus two fallbacks: international "+NN ..." numbers
and North American "(NNN) NNN-NNNN" shapes that are valid-looking but unassigned (555 numbers).
"""

from __future__ import annotations

import ipaddress
import re

import phonenumbers

REGIONS = ("US", "GB", "CA", "AU", "IN")

_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b")
_SSN = re.compile(r"\b(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}\b")
# Nine bare digits are an SSN only when labelled as one.
_SSN_LABELLED = re.compile(
    r"(?i)\b(ssn|social security(?: number| no\.?)?)(\s*(?:is|:|#)?\s*)\d{9}\b"
)
_CARD = re.compile(r"(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-])")
# Not inside a longer dotted number, but an address may end a sentence: "from 10.0.0.1."
_IPV4 = re.compile(
    r"(?<![\d.])(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)(?!\d|\.\d)"
)
_IPV6 = re.compile(r"(?<![\w:])[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?![\w:])")
_INTERNATIONAL = re.compile(r"(?<![\w+])\+\d{1,3}(?:[ .-]?\(?\d{1,5}\)?){2,6}(?!\w)")
_NANP = re.compile(r"(?<!\w)(?:\+?1[ .-]?)?\(?\d{3}\)?[ .-]\d{3}[ .-]\d{4}(?!\w)")
_URL = re.compile(r"\b(?:https?://|www\.)\S+")
_VALID = phonenumbers.Leniency.VALID


def _luhn(digits: str) -> bool:
    """The payment-card checksum: real card numbers pass it, most random numbers do not."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = int(ch) * (2 if i % 2 else 1)
        total += n - 9 if n > 9 else n
    return total % 10 == 0


def _card(match: re.Match) -> str:
    digits = re.sub(r"\D", "", match.group())
    return "[card]" if 13 <= len(digits) <= 19 and _luhn(digits) else match.group()


def _ipv6(match: re.Match) -> str:
    if not any(ch not in ":" for ch in match.group()):
        return match.group()  # a bare "::" in prose
    try:
        ipaddress.IPv6Address(match.group())
    except ValueError:
        return match.group()  # "10:30:45" is a time, not an address
    return "[ip]"


def _digits_between(text: str, low: int, high: int) -> bool:
    return low <= sum(ch.isdigit() for ch in text) <= high


def _phones(text: str) -> str:
    """Replace phone numbers: valid ones in any of REGIONS, then the fallback shapes."""
    spans: list[tuple[int, int]] = []
    for region in REGIONS:
        for m in phonenumbers.PhoneNumberMatcher(text, region, leniency=_VALID):
            # Short "valid" numbers (6-7 digits) are more often ids in URLs or lot numbers.
            if _digits_between(m.raw_string, 8, 17):
                spans.append((m.start, m.end))
    for pattern in (_INTERNATIONAL, _NANP):
        spans += [m.span() for m in pattern.finditer(text) if _digits_between(m.group(), 10, 15)]
    urls = [m.span() for m in _URL.finditer(text)]
    spans = [s for s in spans if not any(u0 <= s[0] < u1 for u0, u1 in urls)]
    for start, end in _merge(spans)[::-1]:
        text = text[:start] + "[phone]" + text[end:]
    return text


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def redact_patterns(text: str) -> str:
    """The regular-expression layer alone: e-mails, phones, SSNs, card numbers and IPs."""
    if not isinstance(text, str):
        raise ValueError(f"redact needs a string, got {type(text).__name__}")
    text = _EMAIL.sub("[email]", text)
    text = _IPV4.sub("[ip]", text)
    text = _IPV6.sub(_ipv6, text)
    text = _SSN_LABELLED.sub(r"\1\2[ssn]", _SSN.sub("[ssn]", text))
    text = _CARD.sub(_card, text)  # before phones: a card number holds phone-like runs
    return _phones(text)


def redact(text: str) -> str:
    """The text with every personal identifier replaced: both layers (see the module doc)."""
    from bot.safety.pii_presidio import redact_identifiers

    return redact_identifiers(redact_patterns(text))
