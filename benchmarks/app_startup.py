"""Time from `python app.py` to the first served page and to the first answer (asked over the API as
soon as the server listens, timed apart from the page), on an existing index, and the serving
process's memory after the answers.

Run: `.venv/bin/python benchmarks/app_startup.py [--data-dir DIR] [--runs 3]`. The index in the
data folder is brought up to date with seeds/ first (not timed; `--no-ingest` to serve it as it
is), so every run starts `app.py` on an index that exists, as `make run` does after its first
time. With `--baseline-root ROOT --baseline-data-dir DIR` each run also starts ROOT's app.py (an
older checkout) on DIR, alternating with this one: the baseline in the same run. `--questions`
(default: one about Botox) sets the questions asked one after the other; the RSS of the app
process (VmRSS, /proc) is read after the last one, and again SETTLE_S after the page is served
(what app.py loads after its pages, the feedback redactor, is in that one).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
QUESTION = "How long does Botox last?"
SETTLE_S = 10  # after the page and the answers, before the settled RSS is read


def free_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def first_page(url: str, deadline: float) -> None:
    """Poll until the chat page is served."""
    while time.perf_counter() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as got:
                if got.status == 200 and b"gradio_config" in got.read():
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.05)
    raise TimeoutError(f"no page at {url}")


def first_answer(url: str, question: str = QUESTION) -> dict:
    """One question through the JSON API."""
    body = json.dumps({"question": question}).encode()
    request = urllib.request.Request(
        url, data=body, headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=300) as got:
        return json.load(got)


def api_when_listening(url: str, question: str, deadline: float) -> dict:
    """Ask as soon as the server accepts connections (refused until it listens)."""
    while True:
        try:
            return first_answer(url, question)
        except urllib.error.HTTPError:
            raise
        except (urllib.error.URLError, ConnectionError):
            if time.perf_counter() > deadline:
                raise
            time.sleep(0.05)


def rss_mb(pid: int) -> float:
    """Resident memory of a process in MB (VmRSS)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def one_run(
    data_dir: Path, env: dict, root: Path = ROOT, questions: list[str] | None = None
) -> dict:
    """Start root's app.py; seconds from the start to the first page and to the first answer,
    each answer's kind, and the app's RSS after the last question."""
    questions = questions or [QUESTION]
    port = free_port()
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, str(root / "app.py"), "--port", str(port), "--data-dir", str(data_dir)],
        cwd=root,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        # The page and the first answer are timed apart, each from the start: app.py answers
        # over the API before its chat pages are mounted.
        page: dict[str, float] = {}

        def poll_page() -> None:
            first_page(f"http://127.0.0.1:{port}/", started + 300)
            page["s"] = time.perf_counter() - started

        poller = threading.Thread(target=poll_page, daemon=True)
        poller.start()
        api = f"http://127.0.0.1:{port}/api/ask"
        kinds = [api_when_listening(api, questions[0], started + 300)["kind"]]
        answer = time.perf_counter() - started
        for question in questions[1:]:
            kinds.append(first_answer(api, question)["kind"])
        after_answers = rss_mb(process.pid)
        poller.join(timeout=300)
        if "s" not in page:
            raise TimeoutError("no page within 300 s")
        # What loads after the pages (the feedback redactor) counts too: RSS once it is quiet.
        time.sleep(SETTLE_S)
        return {
            "page": page["s"],
            "answer": answer,
            "kinds": kinds,
            "rss_mb": after_answers,
            "rss_settled_mb": rss_mb(process.pid),
        }
    finally:
        process.terminate()
        process.wait(timeout=30)


def main() -> int:
    """Print the times and RSS of each run (and of the baseline's), then the medians."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=str(ROOT / "data"), help="index folder (./data)")
    parser.add_argument("--runs", type=int, default=3, help="how many cold starts (default 3)")
    parser.add_argument("--no-ingest", action="store_true", help="serve the index as it is")
    parser.add_argument("--questions", nargs="+", help="questions asked in turn (default: one)")
    parser.add_argument("--baseline-root", type=Path, help="another checkout to compare with")
    parser.add_argument("--baseline-data-dir", type=Path, help="its data folder")
    args = parser.parse_args()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False"}
    if not args.no_ingest:
        subprocess.run(
            [sys.executable, "-m", "bot", "--data-dir", args.data_dir, "ingest"],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
        )
    setups = {"this": (ROOT, Path(args.data_dir))}
    if args.baseline_root:
        setups["baseline"] = (args.baseline_root.resolve(), args.baseline_data_dir)
    results: dict[str, list[dict]] = {name: [] for name in setups}
    for run in range(1, args.runs + 1):
        for name, (root, data_dir) in setups.items():
            got = one_run(data_dir, env, root, args.questions)
            results[name].append(got)
            print(
                f"run {run} {name}: first page {got['page']:.2f}s, first answer "
                f"{got['answer']:.2f}s, RSS after {len(got['kinds'])} answers "
                f"{got['rss_mb']:.0f} MB, {SETTLE_S} s after the page {got['rss_settled_mb']:.0f} MB "
                f"({', '.join(got['kinds'])})",
                flush=True,
            )
    for name, runs in results.items():
        print(
            f"median of {args.runs} ({name}): first page "
            f"{statistics.median(r['page'] for r in runs):.2f}s, first answer "
            f"{statistics.median(r['answer'] for r in runs):.2f}s, RSS "
            f"{statistics.median(r['rss_mb'] for r in runs):.0f} MB, settled "
            f"{statistics.median(r['rss_settled_mb'] for r in runs):.0f} MB (cpus: {os.cpu_count()})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
