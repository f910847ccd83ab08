"""The typed results every channel formats: Reply, Citation, and streaming events."""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass, field

from vectorstore.records import attribution

KINDS = (
    "answer",
    "partial",
    "abstain",
    "emergency",
    "crisis",
    "referral",
    "rejected",
    "unavailable",
    "error",
)


@dataclass(frozen=True)
class Citation:
    """One numbered source: the answer a marker points to and the exact sentences quoted from it."""

    marker: int
    page_id: str
    answer_id: str
    doctor: str | None
    credentials: str | None
    location: str | None
    specialty: str | None
    organisation: str | None
    page_question: str
    quote: tuple[str, ...]
    answer_text: str
    url: str | None = None
    support: float = 1.0  # how well the cited passage supports the statements that cite it
    date: str | None = None  # when the answer was written, if its page says
    upvotes: int | None = None

    @property
    def attribution(self) -> str:
        """The doctor as shown to a patient; an unsigned answer is never given a name."""
        return attribution(
            self.doctor, self.credentials, self.location, self.specialty, self.organisation
        )


@dataclass(frozen=True)
class Verification:
    """What citation verification kept and dropped."""

    kept: int = 0
    dropped: int = 0
    dropped_sentences: tuple[str, ...] = ()
    fell_back: bool = False


@dataclass(frozen=True)
class Reply:
    """A whole reply. `disclaimer` can never be empty: the constructor refuses it."""

    text: str
    disclaimer: str
    kind: str = "answer"
    citations: tuple[Citation, ...] = ()
    triage: str | None = None
    backend: str = "extractive"
    question: str = ""
    standalone_question: str = ""
    notice: str | None = None
    verification: Verification = field(default_factory=Verification)
    follow_ups: tuple[str, ...] = ()  # page questions other patients asked, close to this one
    latency_ms: dict[str, float] = field(default_factory=dict)
    id: str = field(default_factory=lambda: uuid.uuid4().hex)

    def __post_init__(self) -> None:
        if not self.disclaimer or not self.disclaimer.strip():
            raise ValueError("a Reply must carry the medical disclaimer")
        if self.kind not in KINDS:
            raise ValueError(f"unknown reply kind {self.kind!r}; known: {', '.join(KINDS)}")

    @property
    def abstained(self) -> bool:
        """True when the doctors' answers did not cover the question."""
        return self.kind == "abstain"

    def to_dict(self) -> dict:
        """A JSON-ready dict (the HTTP API and `ask --json` print this)."""
        data = asdict(self)
        data["abstained"] = self.abstained
        data["citations"] = [citation_dict(c) for c in self.citations]
        data["follow_ups"] = list(self.follow_ups)
        data["verification"]["dropped_sentences"] = list(self.verification.dropped_sentences)
        return data


def citation_dict(citation: Citation) -> dict:
    """A citation as JSON-ready data, with the attribution a patient is shown."""
    data = asdict(citation)
    data["quote"] = list(citation.quote)
    data["attribution"] = citation.attribution
    return data


@dataclass(frozen=True)
class StatementEvent:
    """One statement of a reply, sent as soon as it has passed verification.

    Its markers are final ([1] is the first source cited in the whole reply) and `citations`
    holds the sources it cites for the first time. Like a Reply, it cannot be built without the
    disclaimer, so every piece of a streamed reply carries it."""

    text: str
    disclaimer: str
    citations: tuple[Citation, ...] = ()
    paragraph: int = 0  # statements of one paragraph share the number (joined by a space)
    kind: str = "answer"  # a reply kind, or "urgent" for the "get seen today" block first

    def __post_init__(self) -> None:
        if not self.disclaimer or not self.disclaimer.strip():
            raise ValueError("a streamed statement must carry the medical disclaimer")
        if self.kind not in (*KINDS, "urgent"):
            raise ValueError(f"unknown statement kind {self.kind!r}")

    def to_dict(self) -> dict:
        """A JSON-ready dict (the streaming API sends this)."""
        return {
            "text": self.text,
            "citations": [citation_dict(c) for c in self.citations],
            "paragraph": self.paragraph,
            "kind": self.kind,
            "disclaimer": self.disclaimer,
        }


@dataclass(frozen=True)
class FinalEvent:
    """The finished, verified, disclaimed reply; its text replaces what was streamed."""

    reply: Reply
