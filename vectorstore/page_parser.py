"""Parse a doctor Q&A page copied as text (title, body, `Doctor Answers N`, answers) into a Page.

The format is what a Q&A site shows when its page is copied or saved as text: answers are
separated by blank lines, usually open with a heading line and usually close with a signature
block (a name with credentials, badge lines, a `City Specialty` line, a star rating), but any of
these may be missing, the count line may have brackets, no number or be absent, a signature may
run into the next answer's heading, and the site's buttons, vote counts, template placeholders,
banners and footers are mixed in (their vocabulary: vectorstore/data/page_furniture.toml).
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from vectorstore import signatures
from vectorstore.clean_text import plain_text
from vectorstore.errors import PageFormatError
from vectorstore.page_checks import check_page
from vectorstore.page_vocab import search_pattern, whole_line_pattern
from vectorstore.records import Answer, Page
from vectorstore.signatures import Signature, split_city_specialty

__all__ = ["parse_page", "split_city_specialty"]

_DECLARED = re.compile(
    r"^(?:(\d+)\s+)?Doctor Answers?(?:\s*\(\s*(\d+)\s*\)|\s+(\d+))?\s*:?\s*$", re.I
)
_GREETING = re.compile(
    r"^(?:hello|hi|hey|dear|thank|thanks|good (?:morning|afternoon|evening))\b", re.I
)
_MAX_SIGNATURE_LINES = 8  # a signature glued under an answer's last line is looked for this far
_FIRST_PERSON = re.compile(r"\b(?:I|my|me)\b")


@dataclass
class _Block:
    lines: list[str]
    line_no: int  # 1-based line number of the first line in the file
    gap_before: int  # blank lines before this block

    @property
    def text(self) -> str:
        return "\n".join(line.strip() for line in self.lines)


def _clean(line: str) -> str:
    """Normalise one line: non-breaking and other odd spaces become plain spaces."""
    return line.replace("\u00a0", " ").replace("\u200b", "").replace("\ufeff", "").rstrip()


def _page_lines(text: str) -> list[str | None]:
    """The page's lines as plain text; None for a line of markup or site furniture (removed,
    not a blank line: a vote count between an answer and its signature does not split them)."""
    raw = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    cleaned = plain_text("\n".join(raw)).split("\n")
    if len(cleaned) != len(raw):
        raw = cleaned
    noise = whole_line_pattern("page_furniture", "noise_lines")
    lines: list[str | None] = []
    for old, new in zip(raw, cleaned, strict=True):
        line = _clean(new)
        markup_only = not line.strip() and html.unescape(old).strip()  # "&nbsp;" is a blank
        if markup_only or (line.strip() and noise.match(line.strip())):
            lines.append(None)
        else:
            lines.append(line)
    return lines


def _blocks(lines: list[str | None], first_line_no: int) -> list[_Block]:
    blocks: list[_Block] = []
    gap = 0
    current: _Block | None = None
    for offset, line in enumerate(lines):
        if line is None:
            continue
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
    return _split_glued_signatures(blocks)


def _split_glued_signatures(blocks: list[_Block]) -> list[_Block]:
    """A signature with no blank line before the next heading, or after the answer's last line,
    becomes a block of its own."""
    out: list[_Block] = []
    for block in blocks:
        sig, used = signatures.leading_run(block.lines)
        if 0 < used < len(block.lines) and signatures.has_identity(sig):
            out.append(_Block(block.lines[:used], block.line_no, block.gap_before))
            out.append(_Block(block.lines[used:], block.line_no + used, 1))
            continue
        tail = next(
            (
                i
                for i in range(max(1, len(block.lines) - _MAX_SIGNATURE_LINES), len(block.lines))
                if signatures.parse_block(block.lines[i:]) is not None
                and signatures.name_line(block.lines[i]) is not None
            ),
            None,
        )
        if tail is not None:
            out.append(_Block(block.lines[:tail], block.line_no, block.gap_before))
            out.append(_Block(block.lines[tail:], block.line_no + tail, 0))
            continue
        out.append(block)
    return out


def is_heading(text: str, *, at_start: bool) -> bool:
    """A heading is one short line; at an answer's start it may end in `.`, `...`, `?` or `!`."""
    words = text.split()
    if _GREETING.match(text) or text.startswith(('"', "“", "•", "-", "*")):
        return False
    if at_start:
        if text.endswith((":", ";", '"', "”")):
            return False
        sentence_end = text.endswith((".", "!")) and not text.endswith(("...", "…"))
        return len(words) <= (12 if sentence_end else 30)
    return len(words) <= 10 and (text[-1].isalnum() or text.endswith(("...", "…")))


def _heading_block(block: _Block, *, at_start: bool) -> bool:
    return len(block.lines) == 1 and is_heading(block.lines[0].strip(), at_start=at_start)


def _group_answers(
    blocks: list[_Block], *, split_on_headings: bool
) -> list[tuple[list[_Block], list[Signature]]]:
    """Group body blocks into answers using signatures, double gaps and (optionally) headings."""
    answers: list[tuple[list[_Block], list[Signature]]] = []
    body: list[_Block] = []
    sigs: list[Signature] = []

    def close() -> None:
        nonlocal body, sigs
        if body:
            answers.append((body, sigs))
        elif sigs and answers:  # a stray signature block continues the previous signature
            answers[-1][1].extend(sigs)
        body, sigs = [], []

    parsed = _signature_blocks(blocks)
    for i, block in enumerate(blocks):
        sig = parsed[i]
        if sig is not None and (body or (answers and not sigs)):
            sigs.append(sig)
            # The signature may continue in the next block ("Dr. X / Dr. X", blank, "X, MD").
            if i + 1 >= len(blocks) or parsed[i + 1] is None:
                close()
            continue
        if body and block.gap_before >= 2:
            close()
        followed_by_body = i + 1 < len(blocks) and parsed[i + 1] is None
        if (
            split_on_headings
            and body
            and followed_by_body
            and _heading_block(block, at_start=False)
        ):
            close()
        body.append(block)
    close()
    return answers


def _signature_blocks(blocks: list[_Block]) -> list[Signature | None]:
    """Each block's signature or None; a block of badges alone counts next to a signature."""
    parsed = [signatures.parse_block(b.lines) for b in blocks]
    for i, block in enumerate(blocks):
        near = (i > 0 and parsed[i - 1] is not None) or (
            i + 1 < len(blocks) and parsed[i + 1] is not None
        )
        if parsed[i] is None and near:
            parsed[i] = signatures.badge_block(block.lines)
    return parsed


def _answer(page_id: str, index: int, body: list[_Block], sigs: list[Signature]) -> Answer:
    heading = None
    if len(body) > 1 and _heading_block(body[0], at_start=True):
        heading = body[0].lines[0].strip()
        body = body[1:]
    subheadings = tuple(
        b.lines[0].strip()
        for i, b in enumerate(body)
        if 0 < i < len(body) - 1 and _heading_block(b, at_start=False)
    )
    kept = [b for b in body if not (len(b.lines) == 1 and b.lines[0].strip() in subheadings)]
    text = "\n\n".join(b.text.strip("\n") for b in kept).strip()
    sig = Signature()
    for s in sigs:
        sig.merge(s)
    name, cred = sig.best_name()
    return Answer(
        page_id=page_id,
        index=index,
        text=text,
        heading=heading,
        subheadings=subheadings,
        doctor=name,
        credentials=cred,
        location=sig.location,
        specialty=sig.specialty,
        rating=sig.rating,
        review_count=sig.review_count,
        signed=bool(sigs),
        line_no=body[0].line_no,
    )


def _drop_footers(blocks: list[_Block]) -> list[_Block]:
    """Site footers at the end belong to no answer: known ones always, generic legal or
    educational text when it comes after the last signature."""
    known = whole_line_pattern("page_furniture", "known_footers")
    generic = search_pattern("page_furniture", "footer_phrases")
    signed = [i for i, b in enumerate(blocks) if signatures.parse_block(b.lines) is not None]
    last_sig = signed[-1] if signed else -1
    blocks = list(blocks)
    while blocks:
        text = " ".join(line.strip() for line in blocks[-1].lines)
        after_sig = len(blocks) - 1 > last_sig >= 0
        if known.match(text) or (
            after_sig and generic.search(text) and not _FIRST_PERSON.search(text)
        ):
            blocks.pop()
            continue
        break
    return blocks


def _question(head: list[_Block], where: str) -> tuple[str, str]:
    if not head:
        raise PageFormatError(f"{where}:1: the page has no question title before the answers.")
    title = head[0].lines[0].strip()
    body = "\n\n".join(
        [
            *(["\n".join(head[0].lines[1:])] if len(head[0].lines) > 1 else []),
            *(b.text for b in head[1:]),
        ]
    ).strip()
    return title, body


def parse_page(text: str, page_id: str, source: str = "", *, url: str | None = None) -> Page:
    """Parse one page's text; raise PageFormatError naming the file and line if it is not a page."""
    where = source or page_id
    lines = _page_lines(text)
    marker = next(
        (i for i, ln in enumerate(lines) if ln is not None and _DECLARED.match(ln.strip())), None
    )
    if marker is not None:
        m = _DECLARED.match(lines[marker].strip())
        number = m.group(1) or m.group(2) or m.group(3)
        declared = int(number) if number else None
        head = _blocks(lines[:marker], 1)
        blocks = _blocks(lines[marker + 1 :], marker + 2)
    else:  # no count line: the question is the title and the paragraph under it
        declared = None
        everything = _blocks(lines, 1)
        cut = 2 if everything and len(everything[0].lines) == 1 else 1
        head, blocks = everything[:cut], everything[cut:]
        if not any(signatures.parse_block(b.lines) for b in blocks):
            raise PageFormatError(
                f"{where}: not a doctor Q&A page: no 'Doctor Answers' line and no doctor's "
                "signature was found. A page is: question title (line 1), question body, "
                "'Doctor Answers N', then the answers."
            )
    title, body = _question(head, where)
    blocks = _drop_footers(blocks)
    grouped = _choose_grouping(blocks, declared)
    if not grouped:
        declares = f"declares {declared} answers but " if declared is not None else ""
        raise PageFormatError(
            f"{where}:{(marker or 0) + 1}: the page {declares}has no answer text after "
            "'Doctor Answers'."
        )
    answers = tuple(_answer(page_id, i, b, s) for i, (b, s) in enumerate(grouped))
    answers, warnings, notes = check_page(answers, declared, where)
    return Page(
        id=page_id,
        title=title,
        body=body,
        declared_answers=declared,
        answers=answers,
        source=source,
        url=url,
        warnings=warnings,
        notes=notes,
    )


def _choose_grouping(blocks: list[_Block], declared: int | None):
    """A short line between paragraphs is the next answer's heading, or a sub-heading inside
    one answer: sub-headings when splitting would give more answers than the page declares,
    or, with no count, when every answer on the page is signed."""
    split = _group_answers(blocks, split_on_headings=True)
    merged = _group_answers(blocks, split_on_headings=False)
    if len(split) == len(merged):
        return split
    if declared is not None:
        return merged if len(split) > declared >= len(merged) else split
    return merged if all(sigs for _, sigs in merged) else split
