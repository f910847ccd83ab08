"""Bot construction to first answer with the BM25 index saved at ingest (loaded memory-mapped)
against the baseline of building it in memory at the first question, in fresh processes.

Run: `.venv/bin/python benchmarks/bm25_startup.py [PATH ...] [--limit N] [--runs 3]`. The paths
(default seeds/) are ingested into a temporary data folder (a `.jsonl.gz` corpus is cut to its
first N answers in a temporary file first); each run then starts one process with the saved
BM25 files and one with them moved away (the baseline, as an index from before they were saved),
alternating. Each process prints the seconds from `Bot(...)` to the first answer, and the seconds
that one more BM25 open of the same chunks takes in the warm process (the part this changes).
"""

from __future__ import annotations

import argparse
import gzip
import itertools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
QUESTION = "How long does Botox last?"

CHILD = """
import json, sys, time
from pathlib import Path
t0 = time.perf_counter()
from bot.chain import Bot
from bot.resources import shared_embedder
from bot.settings import Settings
from vectorstore.index import Index
data = Path(sys.argv[1])
index = Index(data, embedder=shared_embedder())
bot = Bot(Settings.load(env={}, data_dir=data), index=index)
reply = bot.answer(sys.argv[2])
first = time.perf_counter() - t0
from vectorstore.lexical import lexical_stamp, open_lexical
docs = index.documents()
gen = index.current_generation()
m = index.manifest()
t1 = time.perf_counter()
open_lexical(index.lexical_folder(gen), lexical_stamp(m.corpus_hash, m.chunks, m.question_context), lambda: docs)
bm25 = time.perf_counter() - t1
print(json.dumps({"first_answer": first, "bm25_open": bm25, "kind": reply.kind}))
"""


def corpus_slice(path: Path, limit: int, folder: Path) -> Path:
    """The first `limit` answers of a JSONL(.gz) corpus, in a file under `folder`."""
    out = folder / f"slice-{limit}.jsonl"
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as src, out.open("w", encoding="utf-8") as dst:
        for line in itertools.islice((x for x in src if x.strip()), limit):
            dst.write(line)
    return out


def one_process(data: Path, env: dict) -> dict:
    """A fresh process: Bot construction to first answer, then one more BM25 open."""
    got = subprocess.run(
        [sys.executable, "-c", CHILD, str(data), QUESTION],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(got.stdout.strip().splitlines()[-1])


def main() -> int:
    """Ingest, then print each run's figures and the medians, saved files against baseline."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", default=[str(ROOT / "seeds")])
    parser.add_argument("--limit", type=int, default=0, help="answers of a corpus file (0: all)")
    parser.add_argument("--runs", type=int, default=3, help="processes of each kind (default 3)")
    args = parser.parse_args()
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "GRADIO_ANALYTICS_ENABLED": "False",
        "ANONYMIZED_TELEMETRY": "False",
    }
    with tempfile.TemporaryDirectory(prefix="bm25-startup-") as tmp:
        tmp_path = Path(tmp)
        paths = [
            corpus_slice(Path(p), args.limit, tmp_path) if args.limit and Path(p).is_file() else p
            for p in args.paths
        ]
        data = tmp_path / "data"
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "bot", "--data-dir", str(data), "ingest", *map(str, paths)],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
        )
        manifest = json.loads(next(data.glob("index/gen-*/manifest.json")).read_text())
        folder = next(data.glob("index/gen-*/bm25"))
        size = sum(p.stat().st_size for p in folder.iterdir())
        print(
            f"ingest {time.perf_counter() - started:.1f}s: {manifest['answers']} answers, "
            f"{manifest['chunks']} chunks; BM25 files {size / 1e6:.2f} MB",
            flush=True,
        )
        figures: dict[str, list[dict]] = {"saved": [], "rebuilt": []}
        for run in range(1, args.runs + 1):
            for kind in ("rebuilt", "saved"):
                if kind == "rebuilt":
                    folder.rename(folder.with_name("bm25.off"))
                try:
                    got = one_process(data, env)
                finally:
                    if kind == "rebuilt":
                        folder.with_name("bm25.off").rename(folder)
                figures[kind].append(got)
                print(
                    f"run {run} {kind:8s}: first answer {got['first_answer']:.2f}s, "
                    f"BM25 open {got['bm25_open'] * 1000:.1f} ms ({got['kind']})",
                    flush=True,
                )
        for kind, rows in figures.items():
            first = statistics.median(r["first_answer"] for r in rows)
            bm25 = statistics.median(r["bm25_open"] for r in rows)
            print(
                f"median of {args.runs} {kind:8s}: first answer {first:.2f}s, "
                f"BM25 open {bm25 * 1000:.1f} ms (cpus: {os.cpu_count()})"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
