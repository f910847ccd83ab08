"""One frozen Settings object, built once from arguments > environment > defaults."""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from pathlib import Path

from vectorstore.delta import DELTA_SHARE
from vectorstore.errors import SettingsError
from vectorstore.hnsw import EF_CONSTRUCTION, EF_SEARCH, MAX_NEIGHBORS

PROJECT_ROOT = Path(__file__).resolve().parents[1]

# name -> (environment variable, help text); the README documents every one (a test checks).
DOCS = {
    "data_dir": ("BOT_DATA_DIR", "folder holding the index and other state (default: ./data)"),
    "chroma_host": ("CHROMA_HOST", "Chroma server host; set it to use client/server mode"),
    "chroma_port": ("CHROMA_PORT", "Chroma server port (default 8000)"),
    "chroma_connect_timeout": (
        "BOT_CHROMA_CONNECT_TIMEOUT",
        "seconds to connect to the Chroma server (default 2)",
    ),
    "chroma_timeout": (
        "BOT_CHROMA_TIMEOUT",
        "seconds to wait for each read or write of a Chroma server request (default 5)",
    ),
    "chroma_cooldown": (
        "BOT_CHROMA_COOLDOWN",
        "seconds no Chroma server call is tried after 3 timeouts in a row (default 10)",
    ),
    "ef_search": (
        "BOT_EF_SEARCH",
        f"candidates Chroma's HNSW explores per dense search (default {EF_SEARCH})",
    ),
    "ef_construction": (
        "BOT_HNSW_EF_CONSTRUCTION",
        f"HNSW build effort of collections an ingest creates (default {EF_CONSTRUCTION})",
    ),
    "max_neighbors": (
        "BOT_HNSW_MAX_NEIGHBORS",
        f"HNSW links per chunk of collections an ingest creates (default {MAX_NEIGHBORS})",
    ),
    "delta_share": (
        "BOT_DELTA_SHARE",
        "share of the index a small update may write as a delta before an ingest writes a full "
        f"generation (default {DELTA_SHARE})",
    ),
    "backend": ("BOT_BACKEND", "answer composer: extractive (default) or a generative backend"),
    "llm_base_url": ("BOT_LLM_BASE_URL", "OpenAI-compatible endpoint for the `openai` backend"),
    "llm_model": ("BOT_LLM_MODEL", "model name sent to the OpenAI-compatible endpoint"),
    "llm_api_key": ("BOT_LLM_API_KEY", "API key for the endpoint (default: none needed)"),
    "max_question_chars": ("BOT_MAX_QUESTION_CHARS", "longest question accepted (default 2000)"),
    "host": ("BOT_HOST", "address the app listens on (default 127.0.0.1)"),
    "port": ("BOT_PORT", "port the app listens on (default 7860)"),
    "allowed_origins": (
        "BOT_ALLOWED_ORIGINS",
        "comma-separated origins allowed to embed the chat and call the API (default: none)",
    ),
    "rate_limit": ("BOT_RATE_LIMIT", "questions per minute allowed from one client (default 30)"),
    "trusted_proxies": (
        "BOT_TRUSTED_PROXIES",
        "comma-separated proxy addresses or CIDR blocks whose X-Forwarded-For / Forwarded "
        "header names the client (default: none, the headers are ignored)",
    ),
    "queue_size": ("BOT_QUEUE_SIZE", "questions waiting at once before 'busy' (default 64)"),
    "retention_days": (
        "BOT_RETENTION_DAYS",
        "days feedback records and logged gap questions are kept (default 30)",
    ),
    "collect_gaps": (
        "BOT_COLLECT_GAPS",
        "1 to log questions the bot declined or answered partly, redacted (default: off)",
    ),
    "gaps_token": ("BOT_GAPS_TOKEN", "password of the /gaps report page (unset: no page)"),
    "sources": (
        "BOT_SOURCES",
        "comma-separated pages, corpora or folders app.py keeps the index in sync with at start "
        "(default: seeds/)",
    ),
}


@dataclass(frozen=True)
class Settings:
    """Every setting the bot reads; see DOCS for the environment variables."""

    data_dir: Path = PROJECT_ROOT / "data"
    chroma_host: str | None = None
    chroma_port: int = 8000
    chroma_connect_timeout: float = 2.0
    chroma_timeout: float = 5.0
    chroma_cooldown: float = 10.0
    ef_search: int = EF_SEARCH
    ef_construction: int = EF_CONSTRUCTION
    max_neighbors: int = MAX_NEIGHBORS
    delta_share: float = DELTA_SHARE
    backend: str = "extractive"
    llm_base_url: str | None = None
    llm_model: str = "local"
    llm_api_key: str | None = None
    max_question_chars: int = 2000
    host: str = "127.0.0.1"
    port: int = 7860
    allowed_origins: str = ""
    rate_limit: int = 30
    trusted_proxies: str = ""
    queue_size: int = 64
    retention_days: int = 30
    collect_gaps: bool = False
    gaps_token: str | None = None
    sources: str = ""

    def source_paths(self) -> list[Path]:
        """The paths of BOT_SOURCES (empty: none set, the seed pages are served)."""
        return [Path(p.strip()).expanduser() for p in self.sources.split(",") if p.strip()]

    @classmethod
    def load(cls, env: dict[str, str] | None = None, **overrides) -> Settings:
        """Build settings: explicit overrides win over the environment, which wins over defaults."""
        env = os.environ if env is None else env
        values: dict = {}
        for f in fields(cls):
            var = DOCS[f.name][0]
            if overrides.get(f.name) is not None:
                values[f.name] = overrides[f.name]
            elif env.get(var, "").strip():
                values[f.name] = env[var].strip()
        return cls(**{k: _coerce(k, v) for k, v in values.items()})


def _coerce(name: str, value):
    default = Settings.__dataclass_fields__[name].default
    try:
        if isinstance(default, bool):
            return value if isinstance(value, bool) else str(value).lower() in {"1", "true", "yes"}
        if isinstance(default, int):
            number = int(value)
            if number <= 0:
                raise ValueError
            return number
        if isinstance(default, float):
            number = float(value)
            if not 0 < number < float("inf"):
                raise ValueError
            return number
        if isinstance(default, Path):
            return Path(value).expanduser()
    except (TypeError, ValueError):
        raise SettingsError(
            f"{DOCS[name][0]}={value!r} is not valid: expected a positive "
            + ("number of seconds" if isinstance(default, float) else "whole number")
        ) from None
    return value
