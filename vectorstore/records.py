"""The attributed records every other step works with: a Page and its Answers."""

from __future__ import annotations

from dataclasses import dataclass, field

UNSIGNED = "a doctor who answered on this page"


def attribution(
    doctor: str | None,
    credentials: str | None,
    location: str | None,
    specialty: str | None,
    organisation: str | None,
) -> str:
    """How an answer's author is named to a patient; an unsigned answer is never given a name."""
    where = " ".join(p for p in (location, specialty) if p)
    if doctor:
        name = f"{doctor}, {credentials}" if credentials else doctor
        return f"{name} ({where})" if where else name
    if organisation:
        return organisation
    if where:
        return f"a {where} who answered on this page (name not given)"
    return UNSIGNED


@dataclass(frozen=True)
class Answer:
    """One doctor's answer, with whatever attribution the page gives."""

    page_id: str
    index: int
    text: str
    heading: str | None = None
    doctor: str | None = None
    credentials: str | None = None
    location: str | None = None
    specialty: str | None = None
    rating: float | None = None
    review_count: int | None = None
    organisation: str | None = None
    url: str | None = None  # the answer's own link, else its page's (http(s) only)
    date: str | None = None  # ISO date the answer was written, when the page gives it
    upvotes: int | None = None
    author_url: str | None = None
    subheadings: tuple[str, ...] = ()  # short titles inside the answer, not part of its text
    signed: bool = False  # the page showed a signature (or an author) for it
    line_no: int | None = None  # where it starts in the source file

    @property
    def answer_id(self) -> str:
        """Stable id of this answer: page id and position on the page."""
        return f"{self.page_id}#{self.index}"

    @property
    def attribution(self) -> str:
        """How the author is named to a patient; never invents a name."""
        return attribution(
            self.doctor, self.credentials, self.location, self.specialty, self.organisation
        )


@dataclass(frozen=True)
class Page:
    """A question page: the patient's question and the doctors' answers to it."""

    id: str
    title: str
    body: str
    declared_answers: int | None
    answers: tuple[Answer, ...] = field(default_factory=tuple)
    source: str = ""
    url: str | None = None  # canonical link or og:url of the page (http(s) only)
    warnings: tuple[str, ...] = field(default_factory=tuple)  # signs of a mis-parse
    notes: tuple[str, ...] = field(default_factory=tuple)  # information: a partial page

    @property
    def question(self) -> str:
        """The question the doctors were answering (title and body)."""
        return f"{self.title}\n\n{self.body}".strip()
