"""Shared fixtures: the real embedding model, a real persistent Chroma index in a temp folder."""

from __future__ import annotations

import os
import shutil
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
