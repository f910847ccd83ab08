"""Scale simulation: indexes of 100k and 1M synthetic chunks, built and served through the public API.

For each size (chunks), one run:
- writes a synthetic corpus: MedQuAD answers (CC BY 4.0) repeated with perturbed ids and words,
  as JSONL files in the format `python -m bot ingest` reads, so text lengths, sentences per chunk
  and BM25 statistics are those of real answers while the vocabulary grows with the corpus;
- ingests it from scratch with `Index.sync` in a fresh subprocess (seconds, chunks/s, peak RSS)
  with a synthetic embedder: a text's vector is the normalised sum of one deterministic random
  unit vector per word (seeded by the word's hash), so a question shares direction with the
  answers that share its words and the gate, the sentence lift and the composer work as on real
  vectors, at no model cost;
- serves it from another fresh subprocess: `bot.chain.Bot` (the real chain, the same embedder for
  questions) answers MedQuAD questions; cold start is process start to first reply, latency is
  p50/p95 of the replies after the first, RSS is the process's resident set after the last;
- records the index's size on disk.

    .venv/bin/python benchmarks/scale.py [--sizes 100000,1000000] [--questions 100] \
        [--work-dir DIR] [--out artifacts/scale.json] [--update-benchmarks]

Rows accumulate in the JSON file (a size measured again replaces its row), so sizes can be run
one at a time; the table (and, with matplotlib installed, artifacts/scale.png) covers them all.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import random
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.marked_section import write_marked  # noqa: E402

os.environ.setdefault("HF_HUB_OFFLINE", "1")

DIMENSION = 384
RECORDS_PER_FILE = 20_000
PERTURB = 0.15  # share of words (4+ letters) a copy replaces with a synthetic word
SYNTHETIC_WORDS = 50_000
BEGIN, END = "<!-- scale.py begin -->", "<!-- scale.py end -->"
_WORD = re.compile(r"[a-z0-9]+")


class HashEmbedder:
    """Deterministic synthetic vectors: normalised sum of per-word random unit vectors."""

    dimension = DIMENSION
    model_id = "synthetic-hashed-words-384"

    def __init__(self) -> None:
        self._rows: dict[str, int] = {}
        self._matrix = np.zeros((0, DIMENSION), dtype=np.float32)
        self.calls = 0
        # The chain embeds on two threads at once (triage's text and the question's, see
        # bot/answer/background.py): without it a new word's row could be read before it is
        # written, and replies then changed from one run to the next.
        self._lock = threading.Lock()

    def _row(self, word: str) -> int:
        row = self._rows.get(word)
        if row is None:
            row = self._rows[word] = len(self._rows)
            if row >= len(self._matrix):  # grow in blocks: one copy per 64k new words
                self._matrix = np.vstack([self._matrix, np.zeros((1 << 16, DIMENSION), "f4")])
            seed = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=8).digest(), "big")
            vector = np.random.default_rng(seed).standard_normal(DIMENSION).astype(np.float32)
            self._matrix[row] = vector / np.linalg.norm(vector)
        return row

    def embed(self, texts, *, progress=None) -> list[list[float]]:
        """One unit vector per text (texts without a word get the vector of the empty word)."""
        if not texts:
            return []
        with self._lock:
            ids = [
                [self._row(w) for w in _WORD.findall(t.lower())] or [self._row("")] for t in texts
            ]
            flat = np.fromiter((i for row in ids for i in row), dtype=np.int64)
            rows = self._matrix[flat]
        starts = np.cumsum([0] + [len(row) for row in ids[:-1]])
        sums = np.add.reduceat(rows, starts, axis=0)
        sums /= np.linalg.norm(sums, axis=1, keepdims=True)
        self.calls += len(texts)
        if progress:
            progress(len(texts))
        return sums.tolist()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """LangChain interface."""
        return self.embed(texts)

    def embed_query(self, text: str) -> list[float]:
        """LangChain interface."""
        return self.embed([text])[0]


# ----- the synthetic corpus ---------------------------------------------------------------------
def _synthetic_word(rng: random.Random) -> str:
    n = int(rng.paretovariate(1.0)) % SYNTHETIC_WORDS  # Zipf-like: a few common, many rare
    letters = ""
    while True:
        n, digit = divmod(n, 26)
        letters += chr(97 + digit)
        if not n:
            return "zq" + letters


def _perturbed(text: str, rng: random.Random) -> str:
    words = text.split(" ")
    for i, word in enumerate(words):
        if len(word) >= 4 and word.isalpha() and rng.random() < PERTURB:
            words[i] = _synthetic_word(rng)
    return " ".join(words)


def write_corpus(folder: Path, chunks: int) -> dict:
    """JSONL files of MedQuAD records, copy k > 0 perturbed, until about `chunks` chunks."""
    from benchmarks.medquad_sample import MEDQUAD, medquad_records
    from vectorstore.chunking import chunk_page
    from vectorstore.corpus import read_corpus

    records = medquad_records()
    per_page = {p.id: len(chunk_page(p)) for p in read_corpus(MEDQUAD).pages}
    sizes = [per_page.get(r["id"], 1) for r in records]
    folder.mkdir(parents=True, exist_ok=True)
    written = total = copy = 0
    out = None
    while total < chunks:
        for record, size in zip(records, sizes, strict=True):
            if total >= chunks:
                break
            if written % RECORDS_PER_FILE == 0:
                if out:
                    out.close()
                out = (folder / f"part-{written // RECORDS_PER_FILE:04d}.jsonl").open("w")
            rng = random.Random(f"{copy}:{record['id']}")
            item = dict(record, id=f"{record['id']}~{copy}")
            if copy:
                item["answer"] = _perturbed(record["answer"], rng)
            out.write(json.dumps(item) + "\n")
            written += 1
            total += size
        copy += 1
    if out:
        out.close()
    return {"records": written, "estimated_chunks": total}


# ----- children: each in its own process --------------------------------------------------------
def child_ingest(data_dir: Path, corpus: Path, _questions: int, dense_dims: int = 0) -> dict:
    """A from-scratch `Index.sync` of the corpus folder, as `python -m bot ingest` runs it
    (`--dense-dims`: as `ingest --dense-dims N` does)."""
    from bot.resources import open_index
    from bot.settings import Settings

    index = open_index(
        Settings.load(data_dir=data_dir), embedder=HashEmbedder(), dense_dims=dense_dims
    )
    report = index.sync([corpus])
    if report.errors:
        raise SystemExit(f"ingest failed: {report.errors[:3]}")
    manifest = index.manifest()
    return {
        "chunks": manifest.chunks,
        "answers": report.added,
        "seconds": report.seconds,
        "format_version": manifest.format_version,
        "dense_dims": manifest.dense_dims,
    }


def child_serve(data_dir: Path, _corpus: Path, questions: int, _dense_dims: int = 0) -> dict:
    """Open the index, answer questions through the real chain; first reply time and RSS."""
    from benchmarks.medquad_sample import medquad_sample
    from bot.chain import Bot
    from bot.resources import open_index
    from bot.settings import Settings

    sample = [q for q, _ in medquad_sample(questions, seed=7)]
    settings = Settings.load(data_dir=data_dir)
    index = open_index(settings, embedder=HashEmbedder())
    bot = Bot(settings, index=index)
    first = bot.answer(sample[0])
    first_at = time.time()
    spent = _time_primitives(index)
    latencies, answered = [], int(not first.abstained)
    steps: dict[str, list[float]] = {}
    primitives: dict[str, list[float]] = {}
    for question in sample[1:]:
        spent.clear()
        started = time.perf_counter()
        reply = bot.answer(question)
        latencies.append((time.perf_counter() - started) * 1000)
        answered += not reply.abstained
        for step, ms in reply.latency_ms.items():
            steps.setdefault(step, []).append(ms)
        for name in PRIMITIVES:
            primitives.setdefault(name, []).append(spent.get(name, 0.0))
    status = Path("/proc/self/status").read_text().split("\n")
    kib = {
        line.split(":")[0]: int(line.split()[1])
        for line in status
        if line.startswith(("VmRSS:", "RssAnon:", "RssFile:"))
    }
    rss_kib = kib["VmRSS"]
    return {
        "first_reply_at": first_at,
        "latencies_ms": latencies,
        # where the time goes: each chain step's, and each index primitive's summed per question
        # (the dense search runs beside BM25 on a background thread, so the sums overlap)
        "steps_ms": {k: _quantiles(v) for k, v in steps.items()},
        "primitives_ms": {k: _quantiles(v) for k, v in primitives.items()},
        "answered": answered,
        "questions": len(sample),
        "rss_mib": rss_kib / 1024,
        # anonymous (the process's own) and file-backed (memory-mapped BM25 and libraries:
        # shared between processes and reclaimable) parts of it
        "rss_anon_mib": kib.get("RssAnon", 0) / 1024,
        "rss_file_mib": kib.get("RssFile", 0) / 1024,
    }


# The index primitives retrieval reads through (vectorstore/reading.py), and what they call.
PRIMITIVES = (
    "dense_search",
    "lexical",
    "chunk_records",
    "sentence_vectors",
    "hnsw_nearest",
    "sentence_file_reads",
)


def _time_primitives(index) -> dict[str, float]:
    """Wraps the index's reading primitives (and the HNSW search and sentence-file reads under
    them) to add each call's milliseconds to the returned dict, from any thread."""
    import threading

    import vectorstore.reading as reading

    spent: dict[str, float] = {}
    lock = threading.Lock()

    def timed(name, fn):
        def call(*args, **kwargs):
            started = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                with lock:
                    spent[name] = spent.get(name, 0.0) + (time.perf_counter() - started) * 1000

        return call

    for name in PRIMITIVES[:4]:
        setattr(index, name, timed(name, getattr(index, name)))
    reading.nearest = timed("hnsw_nearest", reading.nearest)
    file = index._sentence_file()
    file.get_many = timed("sentence_file_reads", file.get_many)
    return spent


def _quantiles(values: list[float]) -> dict[str, float]:
    return {"p50": statistics.median(values), "p95": percentile(values, 95)}


CHILDREN = {"ingest": child_ingest, "serve": child_serve}


def _run_child(
    name: str, data_dir: Path, corpus: Path, questions: int, work: Path, dense_dims: int = 0
) -> dict:
    result = work / f"{name}.json"
    command = [sys.executable, __file__, "--child", name, "--data-dir", str(data_dir)]
    command += ["--corpus", str(corpus), "--questions", str(questions), "--work-dir", str(work)]
    command += ["--dense-dims", str(dense_dims)]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False"}
    with (work / f"{name}.log").open("w") as log:
        spawned = time.time()
        started = time.perf_counter()
        proc = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
        _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{name} failed; see {work / (name + '.log')}")
    out = json.loads(result.read_text("utf-8"))
    out.update(
        wall_s=time.perf_counter() - started,
        spawned_at=spawned,
        cpu_s=usage.ru_utime + usage.ru_stime,
        peak_rss_mib=usage.ru_maxrss / 1024,
    )
    return out


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def _disk_mib(path: Path) -> float:
    return sum(p.stat().st_blocks for p in path.rglob("*") if p.is_file()) * 512 / 2**20


def _commit() -> str:
    done = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT
    )
    return done.stdout.strip() or "?"


def measure(size: int, work: Path, questions: int, dense_dims: int = 0) -> dict:
    """Build, serve and size one index of about `size` chunks."""
    work.mkdir(parents=True, exist_ok=True)
    corpus, data_dir = work / "corpus", work / "data"
    started = time.perf_counter()
    made = write_corpus(corpus, size)
    print(f"[{size}] corpus: {made} in {time.perf_counter() - started:.0f}s", flush=True)
    ingest = _run_child("ingest", data_dir, corpus, questions, work, dense_dims)
    print(f"[{size}] ingest: {ingest}", flush=True)
    serve = _run_child("serve", data_dir, corpus, questions, work)
    lat = serve.pop("latencies_ms")
    return {
        "size": size,
        "chunks": ingest["chunks"],
        "answers": ingest["answers"],
        "ingest_s": ingest["wall_s"],
        "chunks_per_s": ingest["chunks"] / ingest["wall_s"],
        "ingest_peak_rss_mib": ingest["peak_rss_mib"],
        "disk_mib": _disk_mib(data_dir / "index"),
        "cold_start_s": serve["first_reply_at"] - serve["spawned_at"],
        "answer_p50_ms": statistics.median(lat),
        "answer_p95_ms": percentile(lat, 95),
        "questions": serve["questions"],
        "answered": serve["answered"],
        "serving_rss_mib": serve["rss_mib"],
        "serving_rss_anon_mib": serve["rss_anon_mib"],
        "serving_rss_file_mib": serve["rss_file_mib"],
        "dense_dims": ingest["dense_dims"],
        "serving_peak_rss_mib": serve["peak_rss_mib"],
        "steps_ms": serve.get("steps_ms", {}),
        "primitives_ms": serve.get("primitives_ms", {}),
        "measured": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "commit": _commit(),
        "format_version": ingest["format_version"],
        "load": round(os.getloadavg()[0], 1),
    }


def _split(row: dict) -> str:
    """ ", anon A + file F" where the row has them (rows measured before did not)."""
    if "serving_rss_anon_mib" not in row:
        return ""
    return f", anon {row['serving_rss_anon_mib']:.0f} + file {row['serving_rss_file_mib']:.0f}"


def _dims(row: dict) -> str:
    """ ", dense dims N" for an index of projected vectors."""
    return f", dense dims {row['dense_dims']}" if row.get("dense_dims") else ""


def table(rows: list[dict]) -> str:
    """The markdown table of every measured size."""
    lines = [
        "| chunks | answers | ingest s | chunks/s | ingest peak RSS MiB | disk MiB | cold start to "
        "first answer s | answer p50 / p95 ms | serving RSS MiB (peak) | answered | measured "
        "(commit, index format, load) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in sorted(rows, key=lambda r: r["chunks"]):
        lines.append(
            f"| {r['chunks']:,} | {r['answers']:,} | {r['ingest_s']:.0f} | {r['chunks_per_s']:.0f} "
            f"| {r['ingest_peak_rss_mib']:.0f} | {r['disk_mib']:.0f} | {r['cold_start_s']:.1f} | "
            f"{r['answer_p50_ms']:.1f} / {r['answer_p95_ms']:.1f} | {r['serving_rss_mib']:.0f} "
            f"({r['serving_peak_rss_mib']:.0f}){_split(r)} | {r['answered']}/{r['questions']} | "
            f"{r['measured']} ({r['commit']}, {r.get('format_version', '?')}, {r['load']}"
            f"{_dims(r)}) |"
        )
    return "\n".join(lines)


def plot(rows: list[dict], path: Path) -> bool:
    """Four panels against chunks (log scale); False when matplotlib is not installed."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ModuleNotFoundError:
        return False
    rows = sorted(rows, key=lambda r: r["chunks"])
    x = [r["chunks"] for r in rows]
    panels = [
        ("ingest chunks/s", ["chunks_per_s"]),
        ("answer ms", ["answer_p50_ms", "answer_p95_ms"]),
        ("serving RSS MiB", ["serving_rss_mib"]),
        ("cold start to first answer s", ["cold_start_s"]),
    ]
    fig, axes = plt.subplots(2, 2, figsize=(10, 7))
    for ax, (title, keys) in zip(axes.flat, panels, strict=True):
        for key in keys:
            ax.plot(x, [r[key] for r in rows], marker="o", label=key)
        ax.set_xscale("log")
        ax.set_title(title)
        ax.set_xlabel("chunks")
        ax.legend(fontsize=7)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    return True


def _machine() -> str:
    cpu = next(
        (
            x.split(":", 1)[1].strip()
            for x in Path("/proc/cpuinfo").read_text().splitlines()
            if x.startswith("model name")
        ),
        "?",
    )
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{cpu}, nproc {os.cpu_count()}, {mem:.0f} GiB RAM, Python {platform.python_version()}"


def update_benchmarks(text: str, path: Path = ROOT / "BENCHMARKS.md") -> None:
    """Replace the text between the scale.py markers of BENCHMARKS.md."""
    write_marked(BEGIN, END, text, path)


def main(argv: list[str] | None = None) -> int:
    """Measure each size, merge the rows into the JSON file, print (and write) the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000", help="chunk counts, comma-separated")
    parser.add_argument("--questions", type=int, default=100, help="questions answered per size")
    parser.add_argument("--work-dir", type=Path, help="scratch folder (default: a new temp dir)")
    parser.add_argument("--out", type=Path, default=ROOT / "artifacts/scale.json")
    parser.add_argument("--plot", type=Path, default=ROOT / "artifacts/scale.png")
    parser.add_argument(
        "--update-benchmarks", action="store_true", help="write the table into BENCHMARKS.md"
    )
    parser.add_argument(
        "--dense-dims",
        type=int,
        default=0,
        help="build the indexes as `ingest --dense-dims N` does (0: full vectors, the default)",
    )
    parser.add_argument("--child", choices=sorted(CHILDREN), help=argparse.SUPPRESS)
    parser.add_argument("--data-dir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--corpus", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.questions < 2:
        raise SystemExit("--questions must be at least 2 (the first reply is the cold one)")
    if args.child:
        result = CHILDREN[args.child](args.data_dir, args.corpus, args.questions, args.dense_dims)
        (args.work_dir / f"{args.child}.json").write_text(json.dumps(result), encoding="utf-8")
        return 0
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    work = args.work_dir or Path(tempfile.mkdtemp(prefix="scale-bench-"))
    saved = json.loads(args.out.read_text("utf-8")) if args.out.is_file() else {"rows": []}
    for size in sizes:
        row = measure(
            size, work / f"size-{size}-d{args.dense_dims}", args.questions, args.dense_dims
        )
        print(json.dumps(row), flush=True)
        same = (size, args.dense_dims)
        saved["rows"] = [r for r in saved["rows"] if (r["size"], r.get("dense_dims", 0)) != same]
        saved["rows"].append(row)
        saved["machine"] = _machine()
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(saved, indent=2) + "\n", encoding="utf-8")
    text = table(saved["rows"])
    plotted = plot(saved["rows"], args.plot)
    text += f"\n\nMachine: {saved['machine']}. " + (
        f"Plot: `{args.plot.relative_to(ROOT)}`." if plotted else "No plot: no matplotlib."
    )
    print(text)
    if args.update_benchmarks:
        update_benchmarks(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
