"""The vocabulary of Q&A pages (vectorstore/data/*.toml), loaded once by name."""

from __future__ import annotations

import re
import tomllib
from functools import cache
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"


@cache
def table(name: str) -> dict:
    """The TOML data file `vectorstore/data/<name>.toml`."""
    path = DATA / f"{name}.toml"
    if not path.is_file():
        raise ValueError(f"no vocabulary file {path}")
    with path.open("rb") as fh:
        return tomllib.load(fh)


@cache
def whole_line_pattern(name: str, key: str) -> re.Pattern[str]:
    """One case-insensitive regex matching a whole line against any pattern of a list."""
    patterns = table(name)[key]
    if not patterns:
        raise ValueError(f"{name}.toml: {key} is empty")
    return re.compile("^(?:" + "|".join(f"(?:{p})" for p in patterns) + r")\s*$", re.IGNORECASE)


@cache
def search_pattern(name: str, key: str) -> re.Pattern[str]:
    """One case-insensitive regex finding any pattern of a list anywhere in a text."""
    patterns = table(name)[key]
    return re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)


@cache
def words(name: str, key: str) -> frozenset[str]:
    """A word list of a data file as a set."""
    return frozenset(table(name)[key])
