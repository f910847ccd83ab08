"""An ingest in two passes over the changed files, so that its memory does not grow with the corpus.

Pass 1 (`scan`) reads each changed file, chunks it and works out the new catalog, the reports
and which chunk ids to add and remove, keeping only ids. The update is planned from those
(delta.py). Pass 2 (`new_chunks`) reads the changed files again one at a time and yields the
chunks to add, which `write_chunks` embeds and upserts in parts of `part` chunks: only one
file's pages and one part's vectors are in memory at once. A file whose digest changed between
the passes stops the write with InputChangedError before the generation is switched.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from vectorstore.chunking import Chunk
from vectorstore.corpus import file_digest, kind_of, read_file
from vectorstore.errors import InputChangedError, InputFileError
from vectorstore.projection import ProjectionSlot, chunk_key
from vectorstore.records import Page
from vectorstore.sentences import quotable_length

PART = 512  # chunks embedded and upserted together


def page_question(title: str) -> str:
    """A page's question as suggested follow-ups show it: its title, whitespace collapsed."""
    return " ".join(str(title or "").split())


def page_questions(chunks: list[Chunk]) -> list[str]:
    """The distinct page questions of these chunks."""
    found = (page_question(c.metadata.get("page_title")) for c in chunks)
    return list(dict.fromkeys(t for t in found if t))


def under(path: str, roots: list[Path]) -> bool:
    """True when the path is one of the roots or inside one of them."""
    p = Path(path)
    return any(p == r or r in p.parents for r in roots)


@dataclass(frozen=True)
class Pending:
    """A changed file with chunks to add: its path, its digest when scanned, the chunk ids to
    add from it in the order they are written."""

    path: Path
    digest: str
    ids: tuple[str, ...]


@dataclass
class Changes:
    """What pass 1 found: catalog entries to set (None: drop), files to read again, ids to remove."""

    files: dict[str, dict | None] = field(default_factory=dict)
    pending: list[Pending] = field(default_factory=list)
    remove: set[str] = field(default_factory=set)

    def adds(self, skip: frozenset[str] = frozenset()) -> int:
        """How many chunks pass 2 writes when the `skip` ids are left out."""
        return sum(1 for p in self.pending for i in p.ids if i not in skip)


def _chunks_by_id(pages: list[Page], chunk: Callable[[Page], list[Chunk]]) -> dict[str, Chunk]:
    return {c.id: c for page in pages for c in chunk(page)}


def scan(
    files: list[Path],
    roots: list[Path],
    catalog: dict,
    report,
    chunk: Callable[[Page], list[Chunk]],
    *,
    prune: bool = False,
) -> Changes:
    """Pass 1: read and chunk each changed file, fill the report's counts, errors and warnings,
    and return the changes as ids (no chunk is kept)."""
    changes = Changes()
    owners = {aid: key for key, entry in catalog["files"].items() for aid in entry["answers"]}
    for path in files:
        key = str(path.resolve())
        old = catalog["files"].get(key)
        digest = file_digest(path)
        if old and old["digest"] == digest and old.get("kind") == kind_of(path):
            report.unchanged += len(old["answers"])
            continue
        try:
            read = read_file(path)
        except InputFileError as err:
            report.errors.append(str(err))
            continue
        except OSError as err:
            report.errors.append(f"{path}: cannot be read ({err.strerror})")
            continue
        report.errors.extend(read.errors)
        for page in read.pages:
            report.warnings.extend(page.warnings)
            report.notes.extend(page.notes)
        answers: dict[str, list[str]] = {}
        clash = None
        for page in read.pages:
            for piece in chunk(page):
                aid = piece.metadata["answer_id"]
                if owners.get(aid, key) != key:
                    clash = (page.id, owners[aid])
                answers.setdefault(aid, []).append(piece.id)
        del read
        if clash:
            report.errors.append(
                f"{path}: page id {clash[0]!r} is already indexed from {clash[1]}; "
                "page ids come from file names and must be unique: rename one file"
            )
            continue
        old_answers = old["answers"] if old else {}
        adds: list[str] = []
        for aid, ids in answers.items():
            before = old_answers.get(aid)
            if before is None:
                report.added += 1
            elif before == ids:
                report.unchanged += 1
                continue
            else:
                report.updated += 1
                changes.remove.update(set(before) - set(ids))
            adds.extend(i for i in ids if not before or i not in before)
        for aid, ids in old_answers.items():
            if aid not in answers:
                report.removed += 1
                changes.remove.update(ids)
        changes.files[key] = {"digest": digest, "kind": kind_of(path), "answers": answers}
        if adds:
            changes.pending.append(Pending(path, digest, tuple(adds)))
    seen = {str(p.resolve()) for p in files}
    for key, entry in catalog["files"].items():
        inside = under(key, roots)
        if key not in seen and ((prune and not inside) or (inside and not Path(key).exists())):
            report.removed += len(entry["answers"])
            changes.remove.update(i for ids in entry["answers"].values() for i in ids)
            changes.files[key] = None
    return changes


def _changed(path: Path) -> InputChangedError:
    return InputChangedError(
        f"{path} changed while it was being ingested: nothing was switched, the index is as "
        "it was. Run the ingest again"
    )


def new_chunks(
    pending: list[Pending], skip: frozenset[str], chunk: Callable[[Page], list[Chunk]]
) -> Iterator[Chunk]:
    """Pass 2: the chunks to add, read again one file at a time (the `skip` ids left out);
    InputChangedError when a file is no longer what pass 1 read."""
    for item in pending:
        wanted = [i for i in item.ids if i not in skip]
        if not wanted:
            continue
        try:
            if file_digest(item.path) != item.digest:
                raise _changed(item.path)
            pages = read_file(item.path).pages
            if file_digest(item.path) != item.digest:
                raise _changed(item.path)
        except (InputFileError, OSError) as err:
            raise _changed(item.path) from err
        found = _chunks_by_id(pages, chunk)
        del pages
        for cid in wanted:
            if cid not in found:
                raise _changed(item.path)
            yield found[cid]


def parts(chunks: Iterable[Chunk], size: int) -> Iterator[list[Chunk]]:
    """The chunks in lists of `size` (the last one shorter)."""
    if size < 1:
        raise ValueError(f"a part must hold 1 chunk or more, not {size}")
    part: list[Chunk] = []
    for piece in chunks:
        part.append(piece)
        if len(part) == size:
            yield part
            part = []
    if part:
        yield part


def write_chunks(
    chunks: Iterable[Chunk],
    total: int,
    writer,
    *,
    embed: Callable[[list[str]], list],
    sentences,
    sentence_vectors: Callable[[list[str]], np.ndarray],
    report,
    progress: Callable[[int, int], None] | None = None,
    part: int = PART,
    batch: int = 4096,
    projection: ProjectionSlot | None = None,
) -> None:
    """Embed and upsert the chunks `part` at a time, their new sentences into `sentences`.

    With a `projection` (an index created with dense_dims), Chroma gets each chunk's projected
    vector and the sentence file its full one, keyed by chunk id (vectorstore/projection.py).
    A projection still to be fitted is fitted on the first `projection.fit_sample` chunk
    vectors: the parts before it are held (embedded, not yet written to Chroma) until then."""
    done = 0
    held: list[tuple[list[Chunk], np.ndarray]] = []

    def upsert(piece: list[Chunk], vectors: np.ndarray) -> None:
        for at in range(0, len(piece), batch):
            rows = piece[at : at + batch]
            writer.upsert(
                ids=[c.id for c in rows],
                embeddings=vectors[at : at + batch],
                documents=[c.text for c in rows],
                metadatas=[c.metadata for c in rows],
            )
        report.embedded += len(piece)

    def release() -> None:
        projection.fit(np.concatenate([v for _, v in held]))
        for piece, vectors in held:
            upsert(piece, projection.project(vectors))
        held.clear()

    for piece in parts(chunks, part):
        vectors = np.asarray(embed([c.embed_text for c in piece]), dtype=np.float32)
        # Only sentences no earlier ingest embedded: the file is keyed by text. The page
        # questions go in too: suggested follow-ups compare them with the patient's question
        # (bot/follow_ups.py), and need not embed them then. A sentence no reply can quote (a
        # flattened table, two words) is not embedded: nothing reads its vector.
        new = sentences.missing(
            [s.text for c in piece for s in c.sentences() if quotable_length(s.text)]
            + page_questions(piece)
        )
        if new:
            sentences.put_many(new, sentence_vectors(new))
        report.sentences += len(new)
        done += len(piece)
        if progress:  # embedded (a part held for the projection's fit is written later)
            progress(done, total)
        if projection is None:
            upsert(piece, vectors)
            continue
        sentences.put_many([chunk_key(c.id) for c in piece], vectors)
        if projection.ready:
            upsert(piece, projection.project(vectors))
            continue
        held.append((piece, vectors))
        if sum(len(p) for p, _ in held) >= projection.fit_sample:
            release()
    if held:
        release()
