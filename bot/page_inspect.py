"""`python -m bot inspect PAGE...`: how each page was understood, before it goes live."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from vectorstore.corpus import find_files, read_file
from vectorstore.errors import InputFileError
from vectorstore.records import Answer, Page

EDGE_WORDS = 8  # words shown from the start and the end of each answer


def _edges(text: str) -> tuple[str, str]:
    words = text.split()
    return " ".join(words[:EDGE_WORDS]), " ".join(words[-EDGE_WORDS:])


def _answer_row(answer: Answer) -> dict:
    first, last = _edges(answer.text)
    return {
        "answer_id": answer.answer_id,
        "attribution": answer.attribution,
        "doctor": answer.doctor,
        "credentials": answer.credentials,
        "location": answer.location,
        "specialty": answer.specialty,
        "rating": answer.rating,
        "review_count": answer.review_count,
        "organisation": answer.organisation,
        "heading": answer.heading,
        "subheadings": list(answer.subheadings),
        "date": answer.date,
        "upvotes": answer.upvotes,
        "url": answer.url,
        "author_url": answer.author_url,
        "words": len(answer.text.split()),
        "first_words": first,
        "last_words": last,
    }


def _page_row(path: Path, page: Page) -> dict:
    return {
        "file": str(path),
        "page_id": page.id,
        "question": page.title,
        "body": page.body,
        "url": page.url,
        "declared_answers": page.declared_answers,
        "answers": [_answer_row(a) for a in page.answers],
        "warnings": list(page.warnings),
        "notes": list(page.notes),
    }


def inspect_paths(paths: Iterable[Path]) -> tuple[list[dict], list[str]]:
    """Every page under the paths as parsed (nothing is indexed), and the files that failed."""
    files, errors = find_files([Path(p) for p in paths])
    rows: list[dict] = []
    for path in files:
        try:
            read = read_file(path)
        except InputFileError as err:
            errors.append(str(err))
            continue
        except OSError as err:
            errors.append(f"{path}: cannot be read ({err.strerror})")
            continue
        errors.extend(read.errors)
        rows.extend(_page_row(path, page) for page in read.pages)
    return rows, errors


def format_rows(rows: list[dict]) -> str:
    """The parsed pages as text, one block per page."""
    out: list[str] = []
    for row in rows:
        declared = row["declared_answers"]
        count = f"{len(row['answers'])} answers" + (
            f", the page declares {declared}" if declared is not None else ""
        )
        out.append(f"{row['file']}  (page {row['page_id']}: {count})")
        out.append(f"  question: {row['question']}")
        if row["url"]:
            out.append(f"  url: {row['url']}")
        for n, a in enumerate(row["answers"], 1):
            extra = [
                f"rating {a['rating']}" if a["rating"] is not None else "",
                f"{a['review_count']} reviews" if a["review_count"] is not None else "",
                a["date"] or "",
                f"{a['upvotes']} upvotes" if a["upvotes"] is not None else "",
            ]
            extra_text = ", ".join(e for e in extra if e)
            out.append(f"  {n}. {a['attribution']}" + (f"  [{extra_text}]" if extra_text else ""))
            if a["heading"]:
                out.append(f"     heading: {a['heading']}")
            if a["subheadings"]:
                out.append(f"     sub-headings: {' | '.join(a['subheadings'])}")
            out.append(f'     "{a["first_words"]} ... {a["last_words"]}" ({a["words"]} words)')
            if a["url"] and a["url"] != row["url"]:
                out.append(f"     url: {a['url']}")
        out.extend(f"  info: {note}" for note in row["notes"])
        out.extend(f"  warning: {warning}" for warning in row["warnings"])
        out.append("")
    return "\n".join(out)


def run(paths: list[str], *, as_json: bool) -> tuple[str, list[str]]:
    """The report for the paths (text or JSON) and the errors to print on stderr."""
    rows, errors = inspect_paths(Path(p) for p in paths)
    if as_json:
        return json.dumps({"pages": rows, "errors": errors}, indent=2, ensure_ascii=False), errors
    return format_rows(rows), errors
