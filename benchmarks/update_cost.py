"""What a small update costs on a large index: adding one page and changing one page, written as
a delta over the live generation (this change) against the copy path (the baseline: a full
generation, a copy of the live one then the change, forced with `delta_share=0`), in one run.

Run: `.venv/bin/python benchmarks/update_cost.py [--limit N] [--no-write]`. The MedQuAD corpus
(`../shared/data/medquad_answers.jsonl.gz`, 16,423 answers; `--limit` cuts it) is indexed once
into a temporary data folder with a synthetic embedder (deterministic random unit vectors from a
hash of each text, passed as `Index(embedder=...)`): the update path does not depend on what the
vectors are, and embedding 27k chunks and 176k sentences with the real model would take about 15
minutes on this 2-core machine. That index is copied twice (not timed); on one copy each update
is a delta, on the other a full generation. For each update: seconds of `Index.sync`, the bytes it
wrote (the new generation's folder plus what the shared sentence vector file grew by), `du` of
the index folder before and after (after pruning), and the first search after it (opening the
new generation's parts: a dense and a BM25 search), with a check that BM25 finds the page. Last, on the delta copy,
the fold of the delta into a full generation (`delta_share=0`: what passing the share costs).
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import itertools
import os
import platform
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from langchain_core.embeddings import Embeddings

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.marked_section import write_marked  # noqa: E402
from vectorstore.index import Index  # noqa: E402
from vectorstore.sentence_vectors import SENTENCE_VECTORS_FILE  # noqa: E402

CORPUS = ROOT.parent / "shared" / "data" / "medquad_answers.jsonl.gz"
PAGE = ROOT / "seeds" / "001_3189914d5f52dce4.txt"
BEFORE = "There has NEVER been a permanent side effect"  # in the page's first answer only
AFTER = "There has never been a lasting side effect"
QUESTION = "Can Botox side effects be permanent?"
START, END = "<!-- update_cost start -->", "<!-- update_cost end -->"


class SyntheticEmbedder(Embeddings):
    """Deterministic random unit vectors, one per distinct text (sha256 of the text as seed)."""

    model_id = "synthetic-unit-vectors"
    dimension = 384

    def embed(self, texts: list[str], **_) -> np.ndarray:
        """A unit vector per text."""
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")
            vector = np.random.default_rng(seed).standard_normal(self.dimension)
            out[row] = vector / np.linalg.norm(vector)
        return out

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """LangChain's interface."""
        return self.embed(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        """LangChain's interface."""
        return self.embed([text])[0].tolist()


def folder_bytes(folder: Path) -> int:
    """Bytes of every file under a folder (what `du -b` sums)."""
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def update(index: Index, sources: list[Path], page_id: str) -> dict:
    """One sync, timed, with the bytes it wrote and the first search after it."""
    sentence_file = index.root / SENTENCE_VECTORS_FILE
    du_before, file_before = folder_bytes(index.root), sentence_file.stat().st_size
    report = index.sync(sources)
    gen = index.root / index.current_generation()
    written = folder_bytes(gen) + sentence_file.stat().st_size - file_before
    started = time.perf_counter()
    index.search(QUESTION, k=3)
    found = index.lexical(QUESTION, 5)  # synthetic vectors: only BM25 can find the page
    search = time.perf_counter() - started
    return {
        "seconds": report.seconds,
        "written": written,
        "du_before": du_before,
        "du_after": folder_bytes(index.root),
        "search": search,
        "found": any(cid.startswith(page_id) for cid in found),
        "delta": report.delta,
        "counts": (report.added, report.updated, report.embedded),
    }


def megabytes(n: int) -> str:
    """Bytes as MB with one decimal (KB under 1 MB)."""
    return f"{n / 1e6:.1f} MB" if n >= 1e6 else f"{n / 1e3:.0f} KB"


def table(rows: list[tuple[str, str, dict]]) -> str:
    """The results as a Markdown table."""
    out = [
        "| update | path | sync s | bytes written | index du before -> after | first search s "
        "| page found |",
        "|---|---|---|---|---|---|---|",
    ]
    for what, path, m in rows:
        out.append(
            f"| {what} | {path} | {m['seconds']:.2f} | {megabytes(m['written'])} | "
            f"{megabytes(m['du_before'])} -> {megabytes(m['du_after'])} | {m['search']:.2f} | "
            f"{'yes' if m['found'] else 'NO'} |"
        )
    return "\n".join(out)


def write_section(text: str, path: Path = ROOT / "BENCHMARKS.md") -> None:
    """Replace (or append) the section between this benchmark's markers."""
    write_marked(START, END, text, path)


def arguments(doc: str) -> argparse.Namespace:
    """--limit and --no-write, as this benchmark and update_cost_server.py take them."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--limit", type=int, default=0, help="first N answers only (default all)")
    parser.add_argument("--no-write", action="store_true", help="print only, leave BENCHMARKS.md")
    return parser.parse_args()


def write_corpus(folder: Path, limit: int) -> Path:
    """The MedQuAD corpus (its first `limit` answers, 0: all) as one JSONL file under `folder`."""
    corpus = folder / "corpus" / "medquad.jsonl"
    corpus.parent.mkdir()
    with gzip.open(CORPUS, "rt", encoding="utf-8") as src, corpus.open("w") as dst:
        lines = (x for x in src if x.strip())
        dst.writelines(itertools.islice(lines, limit) if limit else lines)
    return corpus


def main() -> int:
    """Build the index once, run both paths on copies of it, print and write the table."""
    args = arguments(__doc__)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        corpus = write_corpus(tmp, args.limit)
        started = time.perf_counter()
        base = Index(tmp / "base", embedder=SyntheticEmbedder())
        built = base.sync([corpus])
        build_s = time.perf_counter() - started
        manifest = base.manifest()
        print(f"built: {manifest.answers} answers, {manifest.chunks} chunks in {build_s:.0f} s")
        rows = []
        for path, share in (("delta (this change)", 0.1), ("copy (baseline)", 0.0)):
            data = tmp / f"data-{share}"
            shutil.copytree(tmp / "base", data)
            index = Index(data, embedder=SyntheticEmbedder(), delta_share=share)
            pages = tmp / f"pages-{share}"
            pages.mkdir()
            shutil.copy(PAGE, pages / PAGE.name)
            added = update(index, [corpus, pages], PAGE.stem)
            rows.append(("add one page", path, added))
            text = (pages / PAGE.name).read_text(encoding="utf-8")
            if text.count(BEFORE) != 1:
                raise ValueError(f"{PAGE} no longer holds {BEFORE!r} once")
            (pages / PAGE.name).write_text(text.replace(BEFORE, AFTER), encoding="utf-8")
            changed = update(index, [corpus, pages], PAGE.stem)
            rows.append(("change one page", path, changed))
            print(path, added["counts"], changed["counts"], added["delta"], changed["delta"])
            if share:
                (pages / PAGE.name).write_text(text, encoding="utf-8")
                folder = Index(data, embedder=SyntheticEmbedder(), delta_share=0.0)
                rows.append(
                    (
                        "fold the delta (past the share)",
                        "full",
                        update(folder, [corpus, pages], PAGE.stem),
                    )
                )
        when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        text = "\n".join(
            [
                "## Update cost: one page on the MedQuAD-size index (issue 14, item 6)",
                "",
                f"`python benchmarks/update_cost.py{f' --limit {args.limit}' if args.limit else ''}`"
                f", {when}, {platform.machine()} with {os.cpu_count()} cores (shared with other "
                f"work; load average {os.getloadavg()[0]:.1f} at the end). Index: "
                f"{manifest.answers:,} answers, {manifest.chunks:,} chunks, "
                f"{megabytes(folder_bytes(tmp / 'base' / 'index'))} on disk, built in "
                f"{build_s:.0f} s ({built.sentences:,} sentence vectors) with synthetic vectors "
                "(deterministic random unit vectors: the update path does not depend on them, and "
                "the real model would take about 15 minutes here). The page is "
                f"`seeds/{PAGE.name}` (5 answers); the change rewrites one of its answers. "
                "Baseline: the copy path of before this change (a full generation: a copy of the "
                "live one, then the change), forced with `delta_share=0` on a copy of the same "
                "index in the same run. Bytes written: the new generation's folder plus what the "
                "shared sentence vector file grew by; du after is after pruning.",
                "",
                table(rows),
                "",
                "A delta writes an empty Chroma store (about 0.5 MB: SQLite schema and HNSW "
                "preallocation, whatever the index size), the page's chunks, their BM25 arrays "
                "scored with the base's statistics, the catalog entries that differ from the "
                "base's, `delta.json` and the manifest; the new sentences go into the shared "
                "sentence vector file. The copy path writes a whole generation (every chunk with "
                "its vector and HNSW, the full catalog, BM25 rebuilt over every chunk). The fold "
                "row is that copy paid once when a delta passes `BOT_DELTA_SHARE` of its base "
                f"(10% by default, {int(0.1 * manifest.chunks):,} chunks here). The first search "
                "opens the new "
                "generation's parts (its base's collection and BM25 too, memory-mapped).",
            ]
        )
        print(text)
        if not args.no_write:
            write_section(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
