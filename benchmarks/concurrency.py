"""Mixed load on loopback: the chat page, the widget and API clients at once, latency per channel.

    .venv/bin/python benchmarks/concurrency.py --data-dir DIR [--clients 32] [--seconds 60]
        [--idle-seconds 30] [--write]

Starts `python app.py` on a free loopback port with an existing index in DIR (the per-client
rate limit is raised for the run: every simulated user comes from 127.0.0.1). First the
baseline, in the same run: one page user alone (`gradio_client` on `/`, the page's queue and
handler). Then the mixed load: N closed-loop API clients posting to /api/ask, one page user and
one widget user (`gradio_client` on `/embed/`), all at once (the API clients in a process of
their own, so that their threads do not slow the chat users' own measurement). Questions are mostly unique (made
from templates with varied areas, symptoms and numbers; one in ten repeats a fixed seed-style
question), so the embedding cache does not make them cheap. Prints p50/p95 per channel and the
page's p95 under load against its idle p95; --write puts the table into BENCHMARKS.md.
The request loops are bounded in count and time and only talk to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REPEATED = [
    "How long does Botox last?",
    "Is Botox permanent?",
    "My eyelid droops after Botox, will it go away?",
    "Is there anything that reverses Botox?",
]
TEMPLATES = [
    "How long does Botox last in the {area} after {n} units?",
    "Is it normal to have {symptom} {n} days after Botox in my {area}?",
    "Can I {activity} {n} hours after Botox in the {area}?",
    "Will the {symptom} from Botox in my {area} go away after {n} weeks?",
    "Is {symptom} after {n} units of Botox in the {area} permanent?",
    "Why does my {area} feel {feeling} {n} days after Botox?",
]
AREAS = ["forehead", "crow's feet", "frown lines", "jaw", "neck", "chin", "brow", "lip", "eyelid"]
SYMPTOMS = ["a headache", "bruising", "swelling", "a droopy eyelid", "a heavy brow", "tenderness"]
ACTIVITIES = ["exercise", "lie down", "drink alcohol", "wear makeup", "fly", "get a facial"]
FEELINGS = ["heavy", "tight", "numb", "sore", "stiff", "uneven"]
MAX_REQUESTS_PER_CLIENT = 10_000
HEADING = "## Mixed load: chat page, widget and API together"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def questions(seed: int):
    """An endless, mostly unique stream of seed-style questions (one in ten repeated)."""
    rng = random.Random(seed)
    while True:
        if rng.random() < 0.1:
            yield rng.choice(REPEATED)
            continue
        yield rng.choice(TEMPLATES).format(
            area=rng.choice(AREAS),
            symptom=rng.choice(SYMPTOMS),
            activity=rng.choice(ACTIVITIES),
            feeling=rng.choice(FEELINGS),
            n=rng.randint(1, 60),
        )


def _post(url: str, question: str) -> tuple[int, float]:
    body = json.dumps({"question": question}).encode()
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=300) as reply:
            json.loads(reply.read())
            status = reply.status
    except urllib.error.HTTPError as err:
        status = err.code
    except OSError:
        status = 0
    return status, (time.perf_counter() - started) * 1000


class ChatUser:
    """One person on the page (`/`) or the widget (`/embed/`), through Gradio's own queue."""

    def __init__(self, url: str) -> None:
        from gradio_client import Client

        self.client = Client(url, verbose=False)

    def ask(self, question: str) -> tuple[int, float]:
        # A new conversation for each question: the page re-renders the whole conversation on
        # every update, so one endless session would measure a transcript hundreds of turns long.
        self.client.reset_session()
        started = time.perf_counter()
        try:
            _, _, reply = self.client.predict(question, api_name="/chat")
            status = 200 if isinstance(reply, dict) and reply.get("disclaimer") else 500
        except Exception:  # a failed call is counted, not fatal to the run
            status = 0
        return status, (time.perf_counter() - started) * 1000


def _summary(results: list[tuple[int, float]], asked: list[str]) -> dict:
    ok = sorted(ms for status, ms in results if status == 200)
    return {
        "requests": len(results),
        "errors": sum(1 for status, _ in results if status != 200),
        "unique_share": round(len(set(asked)) / len(asked), 2) if asked else None,
        "p50_ms": round(statistics.median(ok), 1) if ok else None,
        "p95_ms": round(ok[int(0.95 * (len(ok) - 1))], 1) if ok else None,
    }


def load(channels: dict[str, list], seconds: float) -> dict[str, dict]:
    """Run every channel's closed-loop users until the deadline; a summary per channel."""
    deadline = time.monotonic() + seconds
    lock = threading.Lock()
    results: dict[str, list] = {name: [] for name in channels}
    asked: dict[str, list] = {name: [] for name in channels}

    def user(name: str, ask, seed: int) -> None:
        stream = questions(seed)
        for _ in range(MAX_REQUESTS_PER_CLIENT):
            if time.monotonic() >= deadline:
                return
            question = next(stream)
            got = ask(question)
            with lock:
                results[name].append(got)
                asked[name].append(question)

    threads = [
        threading.Thread(target=user, args=(name, ask, 1000 * c + i))
        for c, (name, asks) in enumerate(channels.items())
        for i, ask in enumerate(asks)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {name: _summary(results[name], asked[name]) for name in channels}


def _table(idle: dict, mixed: dict[str, dict], clients: int, seconds: float) -> list[str]:
    rows = [
        "| phase | channel | users | requests | errors | unique questions | p50 ms | p95 ms |",
        "|---|---|---|---|---|---|---|---|",
        f"| idle (baseline) | page | 1 | {idle['requests']} | {idle['errors']} | "
        f"{idle['unique_share']} | {idle['p50_ms']} | {idle['p95_ms']} |",
    ]
    users = {"page": 1, "widget": 1, "api": clients}
    for name, r in mixed.items():
        rows.append(
            f"| mixed, {seconds:g} s | {name} | {users[name]} | {r['requests']} | {r['errors']} "
            f"| {r['unique_share']} | {r['p50_ms']} | {r['p95_ms']} |"
        )
    return rows


def main() -> None:
    """Start the app, measure the idle page, then the mixed load; print (and write) a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path)
    parser.add_argument("--clients", type=int, default=32, help="API clients in the mixed load")
    parser.add_argument("--seconds", type=float, default=60, help="length of the mixed load")
    parser.add_argument("--idle-seconds", type=float, default=30, help="the page alone, first")
    parser.add_argument("--write", action="store_true", help="write the table into BENCHMARKS.md")
    parser.add_argument("--api-load", metavar="URL", help=argparse.SUPPRESS)  # the child process
    args = parser.parse_args()
    if args.api_load:
        result = load({"api": [lambda q: _post(args.api_load, q)] * args.clients}, args.seconds)
        print(json.dumps(result["api"]))
        return
    if args.data_dir is None:
        parser.error("--data-dir is required")
    port = _free_port()
    env = {
        **os.environ,
        "BOT_DATA_DIR": str(args.data_dir),
        "BOT_PORT": str(port),
        "BOT_RATE_LIMIT": "1000000",
        "BOT_QUEUE_SIZE": str(max(64, 2 * args.clients)),
        "HF_HUB_OFFLINE": "1",
        "GRADIO_ANALYTICS_ENABLED": "False",
    }
    app = subprocess.Popen(
        [sys.executable, "app.py"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    api = f"{base}/api/ask"
    try:
        deadline = time.monotonic() + 180
        while _post(api, "Is Botox permanent?")[0] != 200:
            if time.monotonic() > deadline:
                raise SystemExit("the app did not answer within 180 s")
            time.sleep(0.5)
        page, widget = ChatUser(f"{base}/"), ChatUser(f"{base}/embed/")
        for question in REPEATED:  # warm both pages the way a running server would be
            page.ask(question)
            widget.ask(question)
        load_before = os.getloadavg()[0]
        idle = load({"page": [page.ask]}, args.idle_seconds)["page"]
        # The API clients run in a process of their own, so that their threads do not slow
        # the page and widget users' own measurement (one interpreter lock per process).
        seconds = ["--seconds", str(args.seconds)]
        loader = subprocess.Popen(
            [sys.executable, __file__, "--api-load", api, "--clients", str(args.clients), *seconds],
            stdout=subprocess.PIPE,
            text=True,
        )
        mixed = load({"page": [page.ask], "widget": [widget.ask]}, args.seconds)
        mixed["api"] = json.loads(loader.communicate(timeout=args.seconds + 600)[0])
        load_after = os.getloadavg()[0]
    finally:
        app.terminate()
        try:
            app.wait(timeout=30)
        except subprocess.TimeoutExpired:  # open event streams can keep uvicorn waiting
            app.kill()
            app.wait()
    rows = _table(idle, mixed, args.clients, args.seconds)
    ratio = (
        round(mixed["page"]["p95_ms"] / idle["p95_ms"], 2)
        if mixed["page"]["p95_ms"] and idle["p95_ms"]
        else None
    )
    print("\n".join(rows))
    print(f"page p95 under load / idle p95: {ratio}")
    print(json.dumps({"idle": idle, "mixed": mixed, "page_p95_ratio": ratio}))
    if args.write:
        when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        section = (
            f"{HEADING}\n\n"
            f"- Command: `.venv/bin/python benchmarks/concurrency.py --data-dir DIR "
            f"--clients {args.clients} --seconds {args.seconds:g} --idle-seconds "
            f"{args.idle_seconds:g} --write` (the seed index; the app, the {args.clients} API "
            "clients and the two chat users share the machine's cores).\n"
            f"- Machine: {platform.machine()}, {os.cpu_count()} cores, Python "
            f"{platform.python_version()}; {when}; load average {load_before:.1f} before the "
            f"idle phase, {load_after:.1f} after the mixed one.\n\n"
            + "\n".join(rows)
            + f"\n\nThe page's p95 under load is {ratio}x its idle p95 (target: at most 2x).\n"
        )
        path = ROOT / "BENCHMARKS.md"
        text = path.read_text("utf-8")
        if HEADING in text:
            start = text.index(HEADING)
            end = text.find("\n## ", start + 1)
            text = text[:start] + section + (text[end:] if end >= 0 else "")
        else:
            text = text.rstrip("\n") + "\n\n" + section
        path.write_text(text, "utf-8")


if __name__ == "__main__":
    main()
