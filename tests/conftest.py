"""Shared fixtures: the real embedding model, a real persistent Chroma index in a temp folder."""

from __future__ import annotations

import contextlib
import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"
SHARED_DATA = ROOT.parent / "shared" / "data"

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path, monkeypatch):
    """Every test writes only under tmp_path; no setting leaks in from the environment."""
    monkeypatch.setenv("BOT_DATA_DIR", str(tmp_path / "data"))
    for var in ("CHROMA_HOST", "CHROMA_PORT", "BOT_BACKEND", "BOT_LLM_BASE_URL"):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture(scope="session", autouse=True)
def _model_cache(tmp_path_factory):
    """The int8 model is exported into a temp folder, not the user's ~/.cache."""
    previous = os.environ.get("BOT_MODEL_CACHE")
    os.environ["BOT_MODEL_CACHE"] = str(tmp_path_factory.mktemp("model-cache"))
    yield
    if previous is None:
        os.environ.pop("BOT_MODEL_CACHE", None)
    else:
        os.environ["BOT_MODEL_CACHE"] = previous


@pytest.fixture(scope="session")
def embedder():
    """The real all-MiniLM-L6-v2 model, loaded once for the whole run."""
    from bot.resources import shared_embedder

    return shared_embedder()


@pytest.fixture(scope="session")
def seed_index_dir(tmp_path_factory, embedder):
    """A data folder with the seed pages indexed (built once; copy it before writing)."""
    from vectorstore.index import Index

    data = tmp_path_factory.mktemp("seed-data")
    Index(data, embedder=embedder).sync([SEEDS])
    return data


@pytest.fixture
def seed_index(seed_index_dir, tmp_path, embedder):
    """A private, writable copy of the seed index."""
    from vectorstore.index import Index

    data = tmp_path / "seed-copy"
    shutil.copytree(seed_index_dir, data)
    return Index(data, embedder=embedder)


@pytest.fixture(scope="session")
def seed_bot(seed_index_dir, embedder):
    """A Bot over the seed index (extractive backend); strict, so unexpected errors raise."""
    from bot.chain import Bot
    from bot.settings import Settings
    from vectorstore.index import Index

    settings = Settings.load(env={}, data_dir=seed_index_dir)
    return Bot(settings, index=Index(seed_index_dir, embedder=embedder), strict=True)


def load_jsonl(path: Path) -> list[dict]:
    """The objects of a JSONL file."""
    import json

    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


@contextlib.contextmanager
def answers_held(bot) -> Iterator[threading.Semaphore]:
    """Every bot.answer and bot.stream call waits until the block ends: fills a queue with real
    requests.

    Yields a semaphore released once as each call starts (acquire it to know one is held)."""
    started, release = threading.Semaphore(0), threading.Event()
    answer, stream = bot.answer, bot.stream

    def held(*args, **kwargs):
        started.release()
        release.wait(300)  # the block ends sooner: this only bounds a test that hangs
        return answer(*args, **kwargs)

    def held_stream(*args, **kwargs):
        started.release()
        release.wait(300)  # the block ends sooner: this only bounds a test that hangs
        yield from stream(*args, **kwargs)

    bot.answer, bot.stream = held, held_stream
    try:
        yield started
    finally:
        release.set()
        bot.answer, bot.stream = answer, stream


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium for a module of browser tests (Debian's chromium, see README)."""
    from playwright import sync_api

    from tests.test_browser_ui import CHROMIUM, CHROMIUM_ARGS

    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
