"""Small updates as delta generations, so that an update costs what it changes.

A delta generation does not copy its base: its folder holds a small Chroma store with only the
chunks the base lacks (added or changed answers), `delta.json` naming the base and the base chunk
ids it hides (removed or replaced), its own BM25 index of those chunks scored with the base's
corpus statistics (lexical_delta.py), and the full catalog and manifest as any generation. A live
generation is then read as two parts: the base minus the hidden ids, and the delta.

There is at most one delta over a base: the next small update copies the live delta's folder
(proportional to the delta, not the index) and applies its change there. When the delta, counted
as its own chunks plus the hidden ones, would pass `share` of the base's chunks (or on
`--rebuild`), the update writes a full generation instead: a copy of the base with the delta
folded in, the cost of the copy paid rarely.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

DELTA_FILE = "delta.json"
DELTA_SHARE = 0.1  # a delta may hold this share of its base's chunks before a full generation


@dataclass(frozen=True)
class Delta:
    """What a delta generation adds to its base: the base's name, the base ids it hides and
    the ids of its own chunks (those its collection holds)."""

    base: str
    hidden: frozenset[str]
    own: frozenset[str] = frozenset()

    def own_hash(self) -> str:
        """A hash of the delta's own chunk ids, as a manifest's corpus hash (its BM25 stamp)."""
        return hashlib.sha256("\n".join(sorted(self.own)).encode()).hexdigest()


def read_delta(folder: Path) -> Delta | None:
    """The delta record of a generation folder, or None for a full generation."""
    try:
        data = json.loads((Path(folder) / DELTA_FILE).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    return delta_from_dict(data)


def delta_from_dict(data: dict) -> Delta:
    """A delta record from its JSON object."""
    return Delta(base=data["base"], hidden=frozenset(data["hidden"]), own=frozenset(data["own"]))


def delta_json(delta: Delta) -> str:
    """The delta record as JSON (ids sorted)."""
    return json.dumps(
        {"base": delta.base, "hidden": sorted(delta.hidden), "own": sorted(delta.own)}
    )


def chunk_ids(files: dict) -> set[str]:
    """Every chunk id of a catalog's files."""
    return {i for entry in files.values() for ids in entry["answers"].values() for i in ids}


@dataclass(frozen=True)
class Plan:
    """How an update writes its generation.

    A delta (`delta` set): start from a copy of `copy_from` (the live delta) or empty, add only
    chunks not shown by the base (`skip` are), and hide `delta.hidden` from the base.
    A full generation (`delta` None): start from a copy of `copy_from`; when the live generation
    was a delta, `fold` is it, whose records are copied in and whose hidden ids are removed."""

    copy_from: str | None
    delta: Delta | None = None
    skip: frozenset[str] = frozenset()
    fold: tuple[str, Delta] | None = None


def plan_update(
    store, live: str | None, files_after: dict, *, share: float, can_base: Callable[[str], bool]
) -> Plan:
    """A delta over the live generation's base when the change is small, else a full one
    (`can_base(gen)`: that generation saved what a delta's BM25 scoring needs)."""
    if live is None:
        return Plan(copy_from=None)
    live_delta = store.read_delta(live)
    base = live_delta.base if live_delta else live
    if share > 0 and store.supports_deltas() and can_base(base):
        base_ids = chunk_ids(store.read_catalog(base)["files"])
        after = chunk_ids(files_after)
        hidden = base_ids - after
        own = after - base_ids
        if len(own) + len(hidden) <= share * len(base_ids):
            return Plan(
                copy_from=live if live_delta else None,
                delta=Delta(base=base, hidden=frozenset(hidden), own=frozenset(own)),
                skip=frozenset(base_ids & after),
            )
    if live_delta:
        return Plan(copy_from=live_delta.base, fold=(live, live_delta))
    return Plan(copy_from=live)


def catalog_difference(base: str, base_files: dict, files: dict) -> dict:
    """A delta's stored catalog: only the files whose entries differ from its base's."""
    return {
        "base": base,
        "changed": {k: v for k, v in files.items() if base_files.get(k) != v},
        "removed": sorted(set(base_files) - set(files)),
    }


def apply_difference(base_files: dict, stored: dict) -> dict:
    """The whole catalog of a delta from its base's files and its stored difference."""
    files = dict(base_files)
    for key in stored["removed"]:
        files.pop(key, None)
    files.update(stored["changed"])
    return {"files": files}


def kept_with_bases(kept: set, read_delta: Callable[[str], Delta | None]) -> set:
    """The generations to keep: those given, and the base of each that is a delta (a reader
    still on a kept delta needs its base)."""
    return set(kept) | {d.base for d in map(read_delta, [g for g in kept if g]) if d is not None}
