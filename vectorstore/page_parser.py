"""Parse a doctor Q&A page (title, body, `Doctor Answers N`, answers) into a Page.

The format is what a Q&A site shows when its page is copied as text: answers are separated by
blank lines, usually open with a heading line and usually close with a signature block (a name
with credentials, a `City Specialty` line, a star rating), but any of these may be missing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from vectorstore.errors import PageFormatError
from vectorstore.records import Answer, Page

_DECLARED = re.compile(r"^Doctor Answers?\s+(\d+)\s*$", re.IGNORECASE)
_RATING = re.compile(
    r"^(\d+(?:\.\d+)?)\s+out of\s+5\s+stars?(?:\s+(\d[\d,]*)\s+reviews?)?$", re.IGNORECASE
)
_FOOTER = re.compile(r"^These answers are for educational purposes", re.IGNORECASE)
_CREDENTIAL = (
    r"(?:M\.?D|D\.?O|Ph\.?D|FACS|FRCPC|FRCSC?|FAAD|FACMS|FAAO|FAACS|DDS|DMD|MBBS|MBChB|MS|MPH|"
    r"MSc|MBA|RN|BSN|NP|PA-C|PA|FNP|FNP-C|APRN|ARNP|DNP|CRNP|OD|DPM|DC|ND|FRCS|FACOG|FAAFP|"
    r"FACP|FAAP|FRACS|FICS|MRCS|MRCP|FAAOA|FAAFPRS|FACEP|ABFPRS|ABPS|ABCS|ABOTO)"
)
_NAME_WORD = r"(?:[A-Z][A-Za-z'\-]*\.?|(?:[A-Z]\.)+|de|van|von|der|da|del|la|le|di|St\.)"
_NAME = rf"{_NAME_WORD}(?:\s+{_NAME_WORD}){{1,5}}"
_NAME_WITH_CREDENTIALS = re.compile(
    rf"^(?:Dr\.?\s+)?(?P<name>{_NAME}),\s*(?P<cred>{_CREDENTIAL}(?:\s*,\s*{_CREDENTIAL})*)\.?$"
)
_DR_NAME = re.compile(rf"^Dr\.?\s+(?P<name>{_NAME})$")
_PLAIN_NAME = re.compile(rf"^(?P<name>{_NAME})$")
_PROFESSIONS = {
    "Surgeon",
    "Physician",
    "Doctor",
    "Dentist",
    "Orthodontist",
    "Periodontist",
    "Prosthodontist",
    "Endodontist",
    "Dermatologist",
    "Ophthalmologist",
    "Optometrist",
    "Otolaryngologist",
    "Oculoplastic",
    "Injector",
    "Nurse",
    "Practitioner",
    "Specialist",
    "Gynecologist",
    "Obstetrician",
    "Urologist",
    "Oncologist",
    "Radiologist",
    "Neurologist",
    "Psychiatrist",
    "Pediatrician",
    "Podiatrist",
    "Anesthesiologist",
    "Internist",
    "Endocrinologist",
    "Gastroenterologist",
    "Cardiologist",
    "Rheumatologist",
    "Allergist",
    "Chiropractor",
    "Aesthetician",
    "Esthetician",
}
# Words that belong to the specialty rather than the city ("Saint Louis | Plastic Surgeon").
_SPECIALTY_MODIFIERS = {
    "Facial",
    "Plastic",
    "Oculoplastic",
    "Oculofacial",
    "Cosmetic",
    "Aesthetic",
    "Reconstructive",
    "Dermatologic",
    "Mohs",
    "Oral",
    "Maxillofacial",
    "and",
    "&",
    "Hair",
    "Restoration",
    "Transplant",
    "Bariatric",
    "Breast",
    "General",
    "Family",
    "Emergency",
    "Internal",
    "Medicine",
    "Vascular",
    "Vein",
    "Laser",
    "Head",
    "Neck",
    "ENT",
    "Ophthalmic",
    "Orbital",
    "Hand",
    "Pediatric",
    "Implant",
    "Nurse",
    "Registered",
    "Board",
    "Certified",
    "Physician",
    "Assistant",
    "Functional",
    "Integrative",
    "Sports",
    "Orthopedic",
    "Body",
    "Contouring",
}
_GREETING = re.compile(
    r"^(?:hello|hi|hey|dear|thank|thanks|good (?:morning|afternoon|evening))\b", re.I
)


@dataclass
class _Block:
    lines: list[str]
    line_no: int  # 1-based line number of the first line in the file
    gap_before: int  # blank lines before this block

    @property
    def text(self) -> str:
        return "\n".join(line.strip() for line in self.lines)


@dataclass
class _Signature:
    names: list[tuple[str, str | None]] = field(default_factory=list)  # (name, credentials)
    location: str | None = None
    specialty: str | None = None
    rating: float | None = None
    review_count: int | None = None


def _clean(line: str) -> str:
    """Normalise one line: non-breaking and other odd spaces become plain spaces."""
    line = line.replace("\u00a0", " ").replace("\u200b", "").replace("\ufeff", "")
    return line.rstrip()


def _blocks(lines: list[str], first_line_no: int) -> list[_Block]:
    blocks: list[_Block] = []
    gap = 0
    current: _Block | None = None
    for offset, raw in enumerate(lines):
        line = _clean(raw)
        if not line.strip():
            if current is not None:
                blocks.append(current)
                current = None
            gap += 1
            continue
        if current is None:
            current = _Block([], first_line_no + offset, gap)
            gap = 0
        current.lines.append(line)
    if current is not None:
        blocks.append(current)
    return blocks


def split_city_specialty(line: str) -> tuple[str | None, str] | None:
    """Split `Saint Louis Plastic Surgeon` into ("Saint Louis", "Plastic Surgeon"), else None."""
    words = line.strip().split()
    if not words or len(words) > 9 or words[-1].rstrip(",") not in _PROFESSIONS:
        return None
    if not all(w[0].isupper() or w in {"and", "&", "of"} for w in words):
        return None
    cut = len(words) - 1
    while cut > 0 and words[cut - 1] in _SPECIALTY_MODIFIERS | _PROFESSIONS:
        cut -= 1
    if cut == 0:  # no city left, e.g. "Board Certified Plastic Surgeon"
        return None, " ".join(words)
    return " ".join(words[:cut]), " ".join(words[cut:])


def _signature_line(line: str, sig: _Signature) -> bool:
    """Fold one line into the signature if it is a signature line; say whether it was."""
    text = line.strip()
    if m := _RATING.match(text):
        sig.rating = float(m.group(1))
        sig.review_count = int(m.group(2).replace(",", "")) if m.group(2) else None
        return True
    if m := _NAME_WITH_CREDENTIALS.match(text):
        cred = re.sub(r"\s*,\s*", ", ", m.group("cred"))
        sig.names.append((m.group("name"), cred))
        return True
    if m := _DR_NAME.match(text):
        sig.names.append((m.group("name"), None))
        return True
    if (split := split_city_specialty(text)) is not None:
        sig.location, sig.specialty = split
        return True
    return False


def _parse_signature(block: _Block) -> _Signature | None:
    """The block's signature, if every line of it is a signature line."""
    sig = _Signature()
    lines = [ln.strip() for ln in block.lines]
    for i, line in enumerate(lines):
        if _signature_line(line, sig):
            continue
        # A plain name ("Jane Smith") counts only right above a City Specialty line.
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        if _PLAIN_NAME.match(line) and split_city_specialty(nxt) is not None:
            sig.names.append((line, None))
            continue
        return None
    return sig


def _is_heading(block: _Block, at_start: bool) -> bool:
    """A heading is one short line with no closing full stop; mid-answer it must look like a title."""
    if len(block.lines) != 1:
        return False
    text = block.lines[0].strip()
    words = text.split()
    if _GREETING.match(text) or text.startswith(('"', "“", "•", "-", "*")):
        return False
    if at_start:
        return len(words) <= 30 and not text.endswith((".", "!", ":", ";", '"', "”"))
    return len(words) <= 10 and text[-1].isalnum()


def _merge_signatures(sigs: list[_Signature]) -> _Signature:
    merged = _Signature()
    for s in sigs:
        merged.names.extend(s.names)
        merged.location = s.location or merged.location
        merged.specialty = s.specialty or merged.specialty
        merged.rating = s.rating if s.rating is not None else merged.rating
        merged.review_count = s.review_count if s.review_count is not None else merged.review_count
    return merged


def _best_name(names: list[tuple[str, str | None]]) -> tuple[str | None, str | None]:
    """Prefer the most formal form: "Gustavo A. Diaz, MD" over "Dr. Gus Diaz"."""
    if not names:
        return None, None
    with_cred = [n for n in names if n[1]]
    return (with_cred or names)[-1]


def _group_answers(blocks: list[_Block]) -> list[tuple[list[_Block], list[_Signature]]]:
    """Group body blocks into answers using signatures, double gaps and headings."""
    answers: list[tuple[list[_Block], list[_Signature]]] = []
    body: list[_Block] = []
    sigs: list[_Signature] = []

    def close() -> None:
        nonlocal body, sigs
        if body:
            answers.append((body, sigs))
        elif sigs and answers:  # a stray signature block continues the previous signature
            answers[-1][1].extend(sigs)
        body, sigs = [], []

    for i, block in enumerate(blocks):
        sig = _parse_signature(block)
        if sig is not None and (body or (answers and not sigs)):
            sigs.append(sig)
            # The signature may continue in the next block ("Dr. X / Dr. X", blank, "X, MD").
            nxt = blocks[i + 1] if i + 1 < len(blocks) else None
            if nxt is None or _parse_signature(nxt) is None:
                close()
            continue
        if body and block.gap_before >= 2:
            close()
        nxt = blocks[i + 1] if i + 1 < len(blocks) else None
        followed_by_body = nxt is not None and _parse_signature(nxt) is None
        if body and followed_by_body and _is_heading(block, at_start=False):
            close()
        body.append(block)
    close()
    return answers


def _answer(page_id: str, index: int, body: list[_Block], sigs: list[_Signature]) -> Answer:
    heading = None
    if len(body) > 1 and _is_heading(body[0], at_start=True):
        heading = body[0].lines[0].strip()
        body = body[1:]
    text = "\n\n".join(b.text.strip("\n") for b in body).strip()
    sig = _merge_signatures(sigs)
    name, cred = _best_name(sig.names)
    return Answer(
        page_id=page_id,
        index=index,
        text=text,
        heading=heading,
        doctor=name,
        credentials=cred,
        location=sig.location,
        specialty=sig.specialty,
        rating=sig.rating,
        review_count=sig.review_count,
    )


def parse_page(text: str, page_id: str, source: str = "") -> Page:
    """Parse one page's text; raise PageFormatError naming the file and line if it is not a page."""
    where = source or page_id
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    marker = next((i for i, ln in enumerate(lines) if _DECLARED.match(_clean(ln).strip())), None)
    if marker is None:
        raise PageFormatError(
            f"{where}: not a doctor Q&A page: no 'Doctor Answers N' line was found. "
            "A page is: question title (line 1), question body, 'Doctor Answers N', then the answers."
        )
    head = [b for b in _blocks(lines[:marker], 1)]
    if not head:
        raise PageFormatError(f"{where}:1: the page has no question title before 'Doctor Answers'.")
    title = head[0].lines[0].strip()
    body = "\n\n".join(
        [
            *(["\n".join(head[0].lines[1:])] if len(head[0].lines) > 1 else []),
            *(b.text for b in head[1:]),
        ]
    ).strip()
    declared = int(_DECLARED.match(_clean(lines[marker]).strip()).group(1))
    blocks = _blocks(lines[marker + 1 :], marker + 2)
    while blocks and _FOOTER.match(blocks[-1].lines[0].strip()):
        blocks.pop()
    grouped = _group_answers(blocks)
    if not grouped:
        raise PageFormatError(
            f"{where}:{marker + 1}: the page declares {declared} answers but has no answer text "
            "after 'Doctor Answers'."
        )
    answers = tuple(_answer(page_id, i, b, s) for i, (b, s) in enumerate(grouped))
    warnings: tuple[str, ...] = ()
    if len(answers) != declared:
        warnings = (
            f"{where}: the page declares {declared} answers but {len(answers)} were found "
            "(scraped pages often show fewer answers than they declare)",
        )
    return Page(
        id=page_id,
        title=title,
        body=body,
        declared_answers=declared,
        answers=answers,
        source=source,
        warnings=warnings,
    )
