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
from vectorstore.errors import SettingsError
from vectorstore.index import under as _under

log = logging.getLogger("webapp")
SEEDS = PROJECT_ROOT / "seeds"
WARM_QUESTION = "Is Botox permanent?"
REDACTOR_WAIT_S = 120  # the longest the redactor's load waits for the pages (they may fail)


def sync_sources(settings: Settings, seeds: Path = SEEDS):
    """Bring the index up to date with BOT_SOURCES and print the report.

    With BOT_SOURCES set the index holds exactly those sources (files ingested from elsewhere are
    removed). Without it the seed pages are synced, unless the index was built from other
    sources: those are served as they are and never given the seed pages.
    """
    index = open_index(settings)
    sources = settings.source_paths()
    if sources:
        missing = [str(p) for p in sources if not p.exists()]
        if missing:
            raise SettingsError(
                f"BOT_SOURCES names {', '.join(missing)}, which does not exist; fix the path "
                "(nothing was changed in the index)"
            )
        report = index.sync(sources, prune=True)
    else:
        root = seeds.resolve()
        others = [f for f in index.indexed_files() if not _under(f, [root])]
        if others:
            print(
                f"index: serving the {len(others)} file(s) already indexed from your own sources "
                "(the seed pages are not added); set BOT_SOURCES to keep them in sync at start",
                flush=True,
            )
            return index
        report = index.sync([seeds])
    print_sync_report(report, prefix="index: ")
    return index


class WarmingBot:
    """A Bot that warms up once in the background; questions wait until the warm-up is done.

    Why wait: the lazy parts (Chroma client, embedder, BM25) are not safe to build from two
    threads at once (two Chroma clients opened together fail), so no question may race it.
    """

    def __init__(self, bot, *, redactor_after: threading.Event | None = None) -> None:
        self.bot = bot
        self.settings = bot.settings
        self.ready = threading.Event()
        # The redactor's load waits for this too (app.py: the chat pages mounted), so it does
        # not compete with the pages' build for the one interpreter.
        self.redactor_after = redactor_after

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
        if self.redactor_after is not None:
            self.redactor_after.wait(timeout=REDACTOR_WAIT_S)
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

    def warm_now(self) -> threading.Thread:
        """Start the warm-up in a thread now, while the server starts: `python app.py` builds the
        chat pages (Gradio) only after it (webapp/pages_later.py), so the first answer over the
        API waits for the models alone."""
        thread = threading.Thread(target=self.warm, name="warm-up", daemon=True)
        thread.start()
        return thread
