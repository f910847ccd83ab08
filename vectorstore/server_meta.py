"""The `bot_meta` records of an index on a Chroma server: pointer, manifests, catalogs in parts.

Record ids start with the answer collection's name, so two indexes can share one server:
`answers/pointer` (metadata: the live generation and the one before), `answers/manifest/<gen>`
(the manifest JSON as its document) and `answers/catalog/<gen>/<part>` (the catalog JSON in
pieces of at most 512 KiB, each carrying the part count and the SHA-256 of the whole).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from vectorstore.errors import IndexMissingError
from vectorstore.manifest import Manifest

META = "bot_meta"
NO_VECTOR = [0.0]  # bot_meta records are read by id or metadata only, but Chroma wants a vector
PART_CHARS = 512 * 1024  # a 16k-answer catalog is ~3 MB; stay far below any request size limit


class MetaRecords:
    """One index's records in the bot_meta collection (errors pass through untranslated)."""

    def __init__(self, meta: Callable[[bool], Any], collection: str, where: str) -> None:
        self._meta = meta  # meta(create) -> the bot_meta collection, or None if absent
        self.collection = collection
        self._where = where  # the server URL, for messages

    def _id(self, *parts: str) -> str:
        return "/".join((self.collection, *parts))

    def _filter(self, gen: str, kind: str | None = None) -> dict:
        terms = [{"collection": self.collection}, {"gen": gen}]
        return {"$and": [*terms, {"kind": kind}] if kind else terms}

    def pointer(self) -> str | None:
        """The live generation, or None before the first ingest."""
        meta = self._meta(False)
        if meta is None:
            return None
        got = meta.get(ids=[self._id("pointer")], include=["metadatas"])
        return got["metadatas"][0]["generation"] if got["ids"] else None

    def set_pointer(self, gen: str, previous: str | None) -> None:
        """Make `gen` the live generation: one record write, so readers see old or new."""
        self._meta(True).upsert(
            ids=[self._id("pointer")],
            embeddings=[NO_VECTOR],
            documents=[gen],
            metadatas=[{"generation": gen, "previous": previous or ""}],
        )

    def read_manifest(self, gen: str) -> Manifest:
        """The manifest of a generation; IndexMissingError if there is none."""
        meta = self._meta(False)
        got = meta.get(ids=[self._id("manifest", gen)]) if meta is not None else None
        if not got or not got["ids"]:
            raise IndexMissingError(f"no index at {self._where}: run `python -m bot ingest` first")
        return Manifest.from_json(got["documents"][0])

    def write_manifest(self, gen: str, manifest: Manifest) -> None:
        """Write a generation's manifest."""
        self._meta(True).upsert(
            ids=[self._id("manifest", gen)],
            embeddings=[NO_VECTOR],
            documents=[manifest.to_json()],
            metadatas=[{"collection": self.collection, "gen": gen, "kind": "manifest"}],
        )

    def read_catalog(self, gen: str) -> dict:
        """A generation's catalog, joined from its parts and checked against its digest."""
        meta = self._meta(False)
        got = meta.get(where=self._filter(gen, "catalog")) if meta is not None else None
        parts = sorted(zip(got["ids"], got["documents"], strict=True)) if got else []
        text = "".join(doc for _, doc in parts)
        info = got["metadatas"][0] if parts else {}
        digest = hashlib.sha256(text.encode()).hexdigest()
        if not parts or len(parts) != info.get("parts") or digest != info.get("sha256"):
            raise IndexMissingError(
                f"the catalog of {gen} on {self._where} is incomplete or damaged: "
                "rebuild the index with `python -m bot ingest --rebuild`"
            )
        return json.loads(text)

    def write_catalog(self, gen: str, catalog: dict) -> None:
        """Write a generation's catalog in parts of at most PART_CHARS characters of JSON."""
        text = json.dumps(catalog, sort_keys=True)
        parts = [text[i : i + PART_CHARS] for i in range(0, len(text), PART_CHARS)] or [""]
        digest = hashlib.sha256(text.encode()).hexdigest()
        meta = self._meta(True)
        meta.delete(where=self._filter(gen, "catalog"))  # a rewrite may have fewer parts
        meta.upsert(
            ids=[self._id("catalog", gen, f"{i:05d}") for i in range(len(parts))],
            embeddings=[NO_VECTOR] * len(parts),
            documents=parts,
            metadatas=[
                {"collection": self.collection, "gen": gen, "kind": "catalog", "part": i}
                | {"parts": len(parts), "sha256": digest}
                for i in range(len(parts))
            ],
        )

    def generations(self) -> set[str]:
        """Every generation that has records here (finished or not)."""
        meta = self._meta(False)
        if meta is None:
            return set()
        got = meta.get(where={"collection": self.collection}, include=["metadatas"])
        return {m["gen"] for m in got["metadatas"] if m and m.get("gen")}

    def drop(self, gen: str) -> None:
        """Delete a generation's manifest and catalog records."""
        meta = self._meta(False)
        if meta is not None:
            meta.delete(where=self._filter(gen))
