"""What `python app.py` does before and just after it starts listening."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from bot.cli import print_sync_report
from bot.reply import Reply
from bot.resources import open_index
from bot.safety.redact import redact
from bot.settings import PROJECT_ROOT, Settings

log = logging.getLogger("webapp")
SEEDS = PROJECT_ROOT / "seeds"
WARM_QUESTION = "Is Botox permanent?"


def sync_seeds(settings: Settings, seeds: Path = SEEDS):
    """Bring the index up to date with seeds/ (the first run builds it) and print the report."""
    index = open_index(settings)
    report = index.sync([seeds])
    print_sync_report(report, prefix="index: ")
    return index


class WarmingBot:
    """A Bot that warms up once in the background; questions wait until the warm-up is done.

    Why wait: the lazy parts (Chroma client, embedder, BM25) are not safe to build from two
    threads at once (two Chroma clients opened together fail), so no question may race it.
    """

    def __init__(self, bot) -> None:
        self.bot = bot
        self.settings = bot.settings
        self.ready = threading.Event()

    def warm(self) -> None:
        """Load everything by answering one question; answers are released even if it fails."""
        started = time.perf_counter()
        try:
            reply = self.bot.answer(WARM_QUESTION)
            print(f"ready: models loaded in {time.perf_counter() - started:.1f}s", flush=True)
            log.info("warm-up reply kind: %s", reply.kind)
        except Exception:
            log.exception("warm-up failed; the first question will load what is missing")
        finally:
            self.ready.set()
        # After questions are released: the redactor's spaCy model (seconds to load) is needed
        # only when feedback is saved, so the first thumbs-up does not wait for it.
        try:
            redact("Warm-up note from Jane Doe, DOB 01/02/1990")
        except Exception:
            log.exception("the PII redactor did not load; feedback will try again")

    def answer(self, question: str, history: Sequence = ()) -> Reply:
        """Bot.answer, once the warm-up is done."""
        self.ready.wait()
        return self.bot.answer(question, history)

    def safety_first(self, question: str) -> Reply | None:
        """Bot.safety_first, without waiting: it needs neither the models nor the store."""
        return self.bot.safety_first(question)

    def stream(self, question: str, history: Sequence = ()) -> Iterator:
        """Bot.stream, once the warm-up is done."""
        self.ready.wait()
        yield from self.bot.stream(question, history)

    def warm_when_listening(self, server, *, poll: float = 0.05) -> threading.Thread:
        """Start the warm-up in a thread as soon as the uvicorn server accepts connections."""

        def run() -> None:
            while not getattr(server, "started", False):
                if getattr(server, "should_exit", False):
                    return
                time.sleep(poll)
            self.warm()

        thread = threading.Thread(target=run, name="warm-up", daemon=True)
        thread.start()
        return thread
