"""Find input files and read them into Pages: `.txt` and `.html`/`.htm` Q&A pages, and
`.jsonl`/`.jsonl.gz` corpora."""

from __future__ import annotations

import gzip
import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from vectorstore.clean_text import one_line, plain_text, safe_url
from vectorstore.errors import InputFileError
from vectorstore.html_page import parse_html
from vectorstore.page_parser import parse_page
from vectorstore.records import Answer, Page

PAGE_SUFFIXES = (".txt",)
HTML_SUFFIXES = (".html", ".htm")
CORPUS_SUFFIXES = (".jsonl", ".jsonl.gz")
SUPPORTED = ".txt, .html, .htm, .jsonl or .jsonl.gz"


def kind_of(path: Path) -> str | None:
    """'page', 'html', 'corpus' or None for a file name we do not read."""
    name = path.name.lower()
    if name.endswith(CORPUS_SUFFIXES):
        return "corpus"
    if name.endswith(PAGE_SUFFIXES):
        return "page"
    if name.endswith(HTML_SUFFIXES):
        return "html"
    return None


def page_id_for(path: Path) -> str:
    """A page's id is its file name without extension."""
    return path.stem


def find_files(paths: Iterable[Path]) -> tuple[list[Path], list[str]]:
    """Expand files and folders into the readable input files, sorted; plus problems found."""
    files: list[Path] = []
    problems: list[str] = []
    for path in paths:
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file() and kind_of(p))
            found = [p for p in found if not any(part.startswith(".") for part in p.parts)]
            if not found:
                problems.append(f"{path}: no {SUPPORTED} files in this folder")
            files.extend(found)
        elif path.is_file():
            if kind_of(path) is None:
                problems.append(
                    f"{path}: unsupported file type; use .txt or .html pages, "
                    ".jsonl/.jsonl.gz corpora"
                )
            else:
                files.append(path)
        else:
            problems.append(f"{path}: no such file or folder")
    unique = sorted({p.resolve(): p for p in files}.values(), key=lambda p: str(p.resolve()))
    return unique, problems


def file_digest(path: Path) -> str:
    """SHA-256 of the file's bytes: an unchanged file is never parsed again."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _decode(path: Path, data: bytes) -> str:
    if not data.strip():
        raise InputFileError(f"{path}: the file is empty; add a Q&A page or remove the file")
    if b"\x00" in data[:8192]:
        raise InputFileError(f"{path}: this is a binary file, not a text Q&A page or JSONL corpus")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise InputFileError(
            f"{path}:{line}: the file is not valid UTF-8 (byte {err.start}); save it as UTF-8 text"
        ) from None


def read_page(path: Path) -> Page:
    """Read and parse one `.txt` page."""
    return parse_page(_decode(path, path.read_bytes()), page_id_for(path), str(path))


@dataclass
class CorpusRead:
    """Pages read from a JSONL corpus and the lines that could not be used."""

    pages: list[Page] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def _record_page(record: dict, path: Path, line_no: int) -> Page:
    missing = [k for k in ("id", "question", "answer") if not str(record.get(k) or "").strip()]
    if missing:
        raise InputFileError(f"{path}:{line_no}: the record lacks {', '.join(missing)}")
    page_id = str(record["id"]).strip()
    answer = Answer(
        page_id=page_id,
        index=0,
        text=plain_text(str(record["answer"])).strip(),
        organisation=one_line(str(record.get("source") or "")) or None,
        url=safe_url(record.get("url")),
    )
    if not answer.text:
        raise InputFileError(f"{path}:{line_no}: the answer has no text once markup is removed")
    return Page(
        id=page_id,
        title=one_line(str(record["question"])),
        body="",
        declared_answers=1,
        answers=(answer,),
        source=str(path),
    )


def read_corpus(path: Path) -> CorpusRead:
    """Read a JSONL corpus of {id, question, answer, source?, url?} records, gzip or not."""
    data = path.read_bytes()
    if path.name.lower().endswith(".gz"):
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as err:
            raise InputFileError(f"{path}: not a readable gzip file ({err})") from None
    text = _decode(path, data)
    out = CorpusRead()
    seen: set[str] = set()
    for line_no, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            if not isinstance(record, dict):
                raise InputFileError(f"{path}:{line_no}: expected a JSON object on each line")
            page = _record_page(record, path, line_no)
        except json.JSONDecodeError as err:
            out.errors.append(f"{path}:{line_no}: not valid JSON ({err.msg})")
            continue
        except InputFileError as err:
            out.errors.append(str(err))
            continue
        if page.id in seen:
            out.errors.append(f"{path}:{line_no}: duplicate id {page.id!r}; ids must be unique")
            continue
        seen.add(page.id)
        out.pages.append(page)
    if not out.pages:
        raise InputFileError(
            f"{path}: no usable records; each line must be a JSON object with id, question, answer"
            + (f" (first problem: {out.errors[0]})" if out.errors else "")
        )
    return out


def read_file(path: Path) -> CorpusRead:
    """Read any supported input file into pages (a page file gives one page)."""
    kind = kind_of(path)
    if kind == "corpus":
        return read_corpus(path)
    if kind == "html":
        data = path.read_bytes()
        if not data.strip():
            raise InputFileError(f"{path}: the file is empty; add a Q&A page or remove the file")
        return CorpusRead(pages=[parse_html(data, page_id_for(path), str(path))])
    page = read_page(path)
    return CorpusRead(pages=[page])


def iter_answers(pages: Iterable[Page]) -> Iterator[Answer]:
    """Every answer of every page."""
    for page in pages:
        yield from page.answers
