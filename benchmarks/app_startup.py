"""Time from `python app.py` to the first served page and to the first answer, on an existing index.

Run: `.venv/bin/python benchmarks/app_startup.py [--data-dir DIR] [--runs 3]`. The index in the
data folder is brought up to date with seeds/ first (not timed), so every run starts `app.py` on
an index that exists, as `make run` does after its first time.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
QUESTION = "How long does Botox last?"


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


def first_answer(url: str) -> dict:
    """One question through the JSON API."""
    body = json.dumps({"question": QUESTION}).encode()
    request = urllib.request.Request(
        url, data=body, headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=300) as got:
        return json.load(got)


def one_run(data_dir: Path, env: dict) -> tuple[float, float]:
    """Start app.py, return (seconds to first page, seconds to first answer) from the start."""
    port = free_port()
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "app.py"), "--port", str(port), "--data-dir", str(data_dir)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        first_page(f"http://127.0.0.1:{port}/", started + 300)
        page = time.perf_counter() - started
        reply = first_answer(f"http://127.0.0.1:{port}/api/ask")
        answer = time.perf_counter() - started
        if reply["kind"] != "answer":
            raise RuntimeError(f"unexpected reply kind {reply['kind']!r}")
        return page, answer
    finally:
        process.terminate()
        process.wait(timeout=30)


def main() -> int:
    """Print the time to first page and to first answer for each run, then the medians."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=str(ROOT / "data"), help="index folder (./data)")
    parser.add_argument("--runs", type=int, default=3, help="how many cold starts (default 3)")
    args = parser.parse_args()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False"}
    subprocess.run(
        [sys.executable, "-m", "bot", "--data-dir", args.data_dir, "ingest"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    pages, answers = [], []
    for run in range(1, args.runs + 1):
        page, answer = one_run(Path(args.data_dir), env)
        pages.append(page)
        answers.append(answer)
        print(f"run {run}: first page {page:.2f}s, first answer {answer:.2f}s", flush=True)
    print(
        f"median of {args.runs}: first page {statistics.median(pages):.2f}s, "
        f"first answer {statistics.median(answers):.2f}s (cpus: {os.cpu_count()})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
