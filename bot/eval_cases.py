"""The evaluation case file: one JSON case a line, read and validated with line-numbered messages."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from vectorstore.errors import InputFileError

EXPECTS = (
    "answer",
    "abstain",
    "partial",
    "not_covered",
    "emergency",
    "urgent",
    "crisis",
    "reject",
    "answer_or_abstain",
)
FIELDS = {
    "id": "a unique non-empty string",
    "question": "the message sent to the bot (a string; may be empty for reject cases)",
    "expect": "one of " + ", ".join(EXPECTS),
    "history": "earlier turns: a list of {role, content} objects or [user, bot] pairs",
    "source_doc": "the page id that should be cited, or several joined by '|'",
    "relevant_ids": "a list of answer ids that may be cited",
    "must_mention_any": "a list of strings; the reply must contain at least one",
    "must_not_mention": "a list of strings; the reply must contain none",
    "nuggets": "facts a good reply contains: a list of lists of alternative wordings",
    "direct": "index of the nugget that answers the question directly (default 0)",
    "category": "a label to group results by in the report (default: expect)",
    "note": "free text for the reader",
}


class CaseFileError(InputFileError):
    """The case file cannot be used: the message names the line and what is wrong."""


@dataclass(frozen=True)
class Case:
    """One evaluation case."""

    id: str
    question: str
    expect: str
    history: tuple = ()
    source_doc: tuple[str, ...] = ()
    relevant_ids: tuple[str, ...] = ()
    must_mention_any: tuple[str, ...] = ()
    must_not_mention: tuple[str, ...] = ()
    category: str = ""
    note: str = ""
    nuggets: tuple[tuple[str, ...], ...] = ()
    direct: int = 0

    def to_dict(self) -> dict:
        """The case as written in results.jsonl (lists, and source_doc joined back with '|')."""
        return {
            "id": self.id,
            "question": self.question,
            "expect": self.expect,
            "history": list(self.history),
            "source_doc": "|".join(self.source_doc),
            "relevant_ids": list(self.relevant_ids),
            "must_mention_any": list(self.must_mention_any),
            "must_not_mention": list(self.must_not_mention),
            "category": self.category,
            "nuggets": [list(n) for n in self.nuggets],
            "direct": self.direct,
        }


def _strings(value, name: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ValueError(f"{name!r} must be a list of non-empty strings")
    return tuple(value)


def _history(value) -> tuple:
    if not isinstance(value, list):
        raise ValueError("'history' must be a list of turns")
    for n, turn in enumerate(value, 1):
        if isinstance(turn, dict):
            if turn.get("role") not in {"user", "assistant"}:
                raise ValueError(f"history turn {n}: 'role' must be 'user' or 'assistant'")
            if not isinstance(turn.get("content"), str):
                raise ValueError(f"history turn {n}: 'content' must be a string")
        elif not (isinstance(turn, list) and len(turn) == 2):
            raise ValueError(f"history turn {n}: expected {{role, content}} or [user, bot]")
    return tuple(value)


def from_shared_format(record: dict) -> dict:
    """A line of the shared data sets read as a case; any other line is returned unchanged.

    - triage sets (`{id, text, label, source?, note?}`, ../shared/data/triage_dev.jsonl):
      the text is the question; emergency, urgent and crisis labels are the expectation, and an
      ordinary message expects an answer, a partial reply or an abstention (no safety reply).
    - LiveQA (`{qid, question, judged: [{answer_id, score}]}`): any reply may be right; the
      answers judged 3 or 4 are the relevant ids (`relevant_citation_rate`).
    """
    keys = set(record)
    if {"id", "text", "label"} <= keys <= {"id", "text", "label", "source", "note"}:
        label = record["label"]
        expect = label if label in {"emergency", "urgent", "crisis"} else "answer_or_abstain"
        return {
            "id": record["id"],
            "question": record["text"],
            "expect": expect,
            "category": f"triage:{label}",
            "note": str(record.get("note", "")),
        }
    if keys == {"qid", "question", "judged"} and isinstance(record["judged"], list):
        good = [
            str(j["answer_id"])
            for j in record["judged"]
            if isinstance(j, dict) and isinstance(j.get("score"), int) and j["score"] >= 3
        ]
        return {
            "id": str(record["qid"]),
            "question": record["question"],
            "expect": "answer_or_abstain",
            "relevant_ids": good,
            "category": "liveqa:judged-3-4" if good else "liveqa:none-3-4",
        }
    return record


def parse_case(record, seen: set[str]) -> Case:
    """One case from a decoded JSON value; ValueError says what is wrong."""
    if not isinstance(record, dict):
        raise ValueError("expected a JSON object")
    record = from_shared_format(record)
    unknown = sorted(set(record) - set(FIELDS))
    if unknown:
        raise ValueError(f"unknown field(s) {', '.join(unknown)}; known: {', '.join(FIELDS)}")
    for name in ("id", "question", "expect"):
        if name not in record:
            raise ValueError(f"missing {name!r}: {FIELDS[name]}")
    cid, question, expect = record["id"], record["question"], record["expect"]
    if not isinstance(cid, str) or not cid.strip():
        raise ValueError(f"'id' must be {FIELDS['id']}")
    if cid in seen:
        raise ValueError(f"duplicate id {cid!r}; ids must be unique")
    if not isinstance(question, str):
        raise ValueError("'question' must be a string")
    if expect not in EXPECTS:
        raise ValueError(f"'expect' is {expect!r}; it must be {FIELDS['expect']}")
    if not question.strip() and expect != "reject":
        raise ValueError("'question' is empty; only a case expecting 'reject' may be empty")
    source = record.get("source_doc", "")
    if not isinstance(source, str):
        raise ValueError(f"'source_doc' must be {FIELDS['source_doc']}")
    pages = tuple(p.strip() for p in source.split("|") if p.strip())
    category = record.get("category", expect)
    if not isinstance(category, str) or not category.strip():
        raise ValueError("'category' must be a non-empty string")
    empty: list = []
    nuggets = record.get("nuggets", empty)
    if not isinstance(nuggets, list):
        raise ValueError(f"'nuggets' must be {FIELDS['nuggets']}")
    nuggets = tuple(_strings(n, "nuggets") for n in nuggets)
    direct = record.get("direct", 0)
    if not isinstance(direct, int) or (nuggets and not 0 <= direct < len(nuggets)):
        raise ValueError("'direct' must be the index of one of the nuggets")
    return Case(
        id=cid,
        question=question,
        expect=expect,
        history=_history(record.get("history", empty)),
        source_doc=pages,
        relevant_ids=_strings(record.get("relevant_ids", empty), "relevant_ids"),
        must_mention_any=_strings(record.get("must_mention_any", empty), "must_mention_any"),
        must_not_mention=_strings(record.get("must_not_mention", empty), "must_not_mention"),
        category=category,
        note=str(record.get("note", "")),
        nuggets=nuggets,
        direct=direct,
    )


def load_cases(path: Path) -> list[Case]:
    """Every case of a JSONL file; CaseFileError lists each bad line (up to 20) and what is wrong."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CaseFileError(f"{path}: no such case file") from None
    except UnicodeDecodeError:
        raise CaseFileError(f"{path}: the case file is not UTF-8 text") from None
    cases: list[Case] = []
    problems: list[str] = []
    seen: set[str] = set()
    for line_no, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            case = parse_case(json.loads(line), seen)
        except json.JSONDecodeError as err:
            problems.append(f"{path}:{line_no}: not valid JSON ({err.msg} at column {err.colno})")
            continue
        except ValueError as err:
            problems.append(f"{path}:{line_no}: {err}")
            continue
        seen.add(case.id)
        cases.append(case)
    if problems:
        more = f"\n... and {len(problems) - 20} more" if len(problems) > 20 else ""
        raise CaseFileError("the case file has problems:\n" + "\n".join(problems[:20]) + more)
    if not cases:
        raise CaseFileError(
            f"{path}: no cases; write one JSON object a line with id, question, expect"
        )
    return cases


def file_sha256(path: Path) -> str:
    """SHA-256 of the case file: results recorded for another version are not reused."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()
