"""Concurrent users through the HTTP API on loopback: throughput, latency, errors.

    .venv/bin/python benchmarks/concurrency.py --data-dir DIR [--clients 32] [--seconds 60]

Starts `python app.py` on a free loopback port with an existing index in DIR (the per-client
rate limit is raised for the run: every simulated user comes from 127.0.0.1), then runs N
closed-loop clients, each posting seed-style questions to /api/ask until the time is up. The
request loop is bounded in count and time and only talks to 127.0.0.1.
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
QUESTIONS = [
    "How long does Botox last?",
    "Is Botox permanent?",
    "My eyelid droops after Botox, will it go away?",
    "Can I get Botox if I have Bell's palsy?",
    "Is there anything that reverses Botox?",
    "How common are side effects from botox?",
    "What is the capital of France?",
    "Botox done 4 weeks ago and no movement on one side, is this permanent?",
]
MAX_REQUESTS_PER_CLIENT = 10_000


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _post(url: str, question: str) -> tuple[int, float]:
    body = json.dumps({"question": question}).encode()
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=30) as reply:
            json.loads(reply.read())
            status = reply.status
    except urllib.error.HTTPError as err:
        status = err.code
    except OSError:
        status = 0
    return status, (time.perf_counter() - started) * 1000


def run(url: str, clients: int, seconds: float) -> dict:
    """Closed-loop clients until the deadline; every status and latency recorded."""
    deadline = time.monotonic() + seconds
    results: list[tuple[int, float]] = []
    lock = threading.Lock()

    def client(n: int) -> None:
        for i in range(MAX_REQUESTS_PER_CLIENT):
            if time.monotonic() >= deadline:
                return
            got = _post(url, QUESTIONS[(n + i) % len(QUESTIONS)])
            with lock:
                results.append(got)

    started = time.perf_counter()
    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    ok = sorted(ms for status, ms in results if status == 200)
    errors = [status for status, _ in results if status != 200]
    return {
        "clients": clients,
        "seconds": round(elapsed, 1),
        "requests": len(results),
        "ok": len(ok),
        "errors": len(errors),
        "error_statuses": sorted(set(errors)),
        "throughput_rps": round(len(ok) / elapsed, 1),
        "p50_ms": round(statistics.median(ok), 1) if ok else None,
        "p95_ms": round(ok[int(0.95 * (len(ok) - 1))], 1) if ok else None,
        "max_ms": round(ok[-1], 1) if ok else None,
    }


def main() -> None:
    """Start the app, load it, print a markdown row and JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=60)
    args = parser.parse_args()
    port = _free_port()
    env = {
        **os.environ,
        "BOT_DATA_DIR": str(args.data_dir),
        "BOT_PORT": str(port),
        "BOT_RATE_LIMIT": "1000000",
        "HF_HUB_OFFLINE": "1",
    }
    app = subprocess.Popen(
        [sys.executable, "app.py"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/api/ask"
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if _post(url, "Is Botox permanent?")[0] == 200:
                break
            time.sleep(0.5)
        else:
            raise SystemExit("the app did not answer within 180 s")
        for _ in range(10):  # warm caches the way a running server would be
            _post(url, QUESTIONS[0])
        result = run(url, args.clients, args.seconds)
    finally:
        app.terminate()
        app.wait(timeout=30)
    print(
        "| clients | seconds | requests | errors | throughput (req/s) | p50 ms | p95 ms | max ms |"
    )
    print("|---|---|---|---|---|---|---|---|")
    print(
        f"| {result['clients']} | {result['seconds']} | {result['requests']} | "
        f"{result['errors']} | {result['throughput_rps']} | {result['p50_ms']} | "
        f"{result['p95_ms']} | {result['max_ms']} |"
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
