"""What a small update costs on a large index in client/server mode (a real `chroma run` server):
adding one page and changing one page as a delta (a collection with only the change) against the
copy path of before (a full generation: the live collection copied over HTTP, then the change,
forced with `delta_share=0`), on one index in one run.

Run: `.venv/bin/python benchmarks/update_cost_server.py [--limit N] [--no-write]`. The MedQuAD
corpus (`--limit` cuts it) is indexed once through the server with the synthetic embedder of
update_cost.py (the update path does not depend on the vectors). Then, in turn: add the page
(delta), change one of its answers (delta), change it back with `delta_share=0` (the copy path:
what every update cost on a server before). For each: seconds of `Index.sync`, the bytes it
wrote (what the server's data folder and the local published files grew by, before pruning of
older generations is counted: the sum of the new generation's share), `du` of the server folder
after, and the first search after it (BM25 must find the page).
"""

from __future__ import annotations

import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from update_cost import (  # noqa: E402
    AFTER,
    BEFORE,
    PAGE,
    QUESTION,
    SyntheticEmbedder,
    arguments,
    folder_bytes,
    megabytes,
    write_corpus,
)

from benchmarks.marked_section import write_marked  # noqa: E402
from vectorstore.index import COLLECTION, Index  # noqa: E402
from vectorstore.server_store import ChromaServerStore  # noqa: E402

START, END = "<!-- update_cost_server start -->", "<!-- update_cost_server end -->"
CHROMA = Path(sys.executable).with_name("chroma")


def start_server(path: Path, log: Path) -> tuple[subprocess.Popen, int]:
    """`chroma run` on a free loopback port, once its heartbeat answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [CHROMA, "run", "--path", path, "--host", "127.0.0.1", "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "ANONYMIZED_TELEMETRY": "False"},
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(
                f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1
            ) as reply:
                if reply.status == 200:
                    return proc, port
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError(f"chroma run did not start: {log.read_text()[-2000:]}")


def update(index: Index, sources: list[Path], server_dir: Path) -> dict:
    """One sync, timed, with the bytes it wrote (server folder + local files) and a search."""
    before = folder_bytes(server_dir) + folder_bytes(index.root)
    report = index.sync(sources)
    written = folder_bytes(server_dir) + folder_bytes(index.root) - before
    started = time.perf_counter()
    index.search(QUESTION, k=3)
    found = index.lexical(QUESTION, 5)
    search = time.perf_counter() - started
    return {
        "seconds": report.seconds,
        "written": max(written, 0),
        "du_after": folder_bytes(server_dir),
        "search": search,
        "found": any(cid.startswith(PAGE.stem) for cid in found),
        "delta": report.delta,
    }


def table(rows: list[tuple[str, str, dict]]) -> str:
    """The results as a Markdown table."""
    out = [
        "| update | path | sync s | bytes written (net) | server du after | first search s "
        "| page found |",
        "|---|---|---|---|---|---|---|",
    ]
    for what, path, m in rows:
        out.append(
            f"| {what} | {path} | {m['seconds']:.2f} | {megabytes(m['written'])} | "
            f"{megabytes(m['du_after'])} | {m['search']:.2f} | {'yes' if m['found'] else 'NO'} |"
        )
    return "\n".join(out)


def main() -> int:
    """Build the index on a fresh server, run the three updates, print and write the table."""
    args = arguments(__doc__)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        corpus = write_corpus(tmp, args.limit)
        server_dir = tmp / "chroma"
        proc, port = start_server(server_dir, tmp / "chroma.log")
        try:

            def index(share: float) -> Index:
                store = ChromaServerStore("127.0.0.1", port, COLLECTION, timeout=600)
                return Index(
                    tmp / "data", embedder=SyntheticEmbedder(), store=store, delta_share=share
                )

            started = time.perf_counter()
            built = index(0.1).sync([corpus])
            build_s = time.perf_counter() - started
            manifest = index(0.1).manifest()
            print(f"built: {manifest.answers} answers, {manifest.chunks} chunks in {build_s:.0f} s")
            pages = tmp / "pages"
            pages.mkdir()
            shutil.copy(PAGE, pages / PAGE.name)
            rows = [
                (
                    "add one page",
                    "delta (this change)",
                    update(index(0.1), [corpus, pages], server_dir),
                )
            ]
            text = (pages / PAGE.name).read_text(encoding="utf-8")
            if text.count(BEFORE) != 1:
                raise ValueError(f"{PAGE} no longer holds {BEFORE!r} once")
            (pages / PAGE.name).write_text(text.replace(BEFORE, AFTER), encoding="utf-8")
            rows.append(
                (
                    "change one page",
                    "delta (this change)",
                    update(index(0.1), [corpus, pages], server_dir),
                )
            )
            (pages / PAGE.name).write_text(text, encoding="utf-8")
            rows.append(
                (
                    "change one page",
                    "copy (baseline)",
                    update(index(0.0), [corpus, pages], server_dir),
                )
            )
            server_du = folder_bytes(server_dir)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
        when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        limit = f" --limit {args.limit}" if args.limit else ""
        text = "\n".join(
            [
                "## Update cost in client/server mode: one page on the MedQuAD-size index (issue 14, items 6 and 7)",
                "",
                f"`python benchmarks/update_cost_server.py{limit}`, {when}, {platform.machine()} "
                f"with {os.cpu_count()} cores (load average {os.getloadavg()[0]:.1f} at the end). "
                f"Index on a `chroma run` server on loopback: {manifest.answers:,} answers, "
                f"{manifest.chunks:,} chunks, built through the server in {build_s:.0f} s "
                f"({built.sentences:,} sentence vectors) with synthetic vectors; server folder "
                f"{megabytes(server_du)} at the end. The page is `seeds/{PAGE.name}`; the change "
                "rewrites one of its answers; the copy row changes it back with `delta_share=0` "
                "(a full generation: every update on a server took this path before this "
                "change). Bytes written: what the server's folder and the local published files "
                "grew by across the sync (net of what pruning deleted in it).",
                "",
                table(rows),
            ]
        )
        print(text)
        if not args.no_write:
            write_marked(START, END, text, ROOT / "BENCHMARKS.md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
