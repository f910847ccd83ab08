"""The `bot_meta` records of an index on a Chroma server: pointer, manifests, catalogs in parts.

Record ids start with the answer collection's name, so two indexes can share one server:
`answers/pointer` (metadata: the live generation and the one before), `answers/manifest/<gen>`
(the manifest JSON as its document), `answers/catalog/<gen>/<part>` (the catalog JSON in
pieces of at most 512 KiB, each carrying the part count and the SHA-256 of the whole) and, for a
delta generation, `answers/delta/<gen>/<part>` (its delta record, stored the same way).
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
        catalog = self.read_json(gen, "catalog")
        if catalog is None:
            raise self._damaged(gen, "catalog")
        return catalog

    def write_catalog(self, gen: str, catalog: dict) -> None:
        """Write a generation's catalog in parts of at most PART_CHARS characters of JSON."""
        self.write_json(gen, "catalog", catalog)

    def _damaged(self, gen: str, kind: str) -> IndexMissingError:
        return IndexMissingError(
            f"the {kind} of {gen} on {self._where} is incomplete or damaged: "
            "rebuild the index with `python -m bot ingest --rebuild`"
        )

    def read_json(self, gen: str, kind: str) -> dict | None:
        """A generation's JSON record of this kind (`catalog`, `delta`), joined from its parts
        (read by id: the first names how many there are); None when it has none, and
        IndexMissingError when its parts are incomplete or do not match their digest."""
        meta = self._meta(False)
        if meta is None:
            return None
        first = meta.get(ids=[self._id(kind, gen, f"{0:05d}")])
        if not first["ids"]:
            return None
        info = first["metadatas"][0] or {}
        count = int(info.get("parts", 0))
        docs = list(first["documents"])
        if count > 1:
            more = meta.get(ids=[self._id(kind, gen, f"{i:05d}") for i in range(1, count)])
            docs += [doc for _, doc in sorted(zip(more["ids"], more["documents"], strict=True))]
        text = "".join(docs)
        if len(docs) != count or hashlib.sha256(text.encode()).hexdigest() != info.get("sha256"):
            raise self._damaged(gen, kind)
        return json.loads(text)

    def write_json(self, gen: str, kind: str, data: dict) -> None:
        """Write a generation's JSON record of this kind in parts of at most PART_CHARS."""
        text = json.dumps(data, sort_keys=True)
        parts = [text[i : i + PART_CHARS] for i in range(0, len(text), PART_CHARS)] or [""]
        digest = hashlib.sha256(text.encode()).hexdigest()
        meta = self._meta(True)
        meta.delete(where=self._filter(gen, kind))  # a rewrite may have fewer parts
        meta.upsert(
            ids=[self._id(kind, gen, f"{i:05d}") for i in range(len(parts))],
            embeddings=[NO_VECTOR] * len(parts),
            documents=parts,
            metadatas=[
                {"collection": self.collection, "gen": gen, "kind": kind, "part": i}
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
        """Delete a generation's records (manifest, catalog, delta)."""
        meta = self._meta(False)
        if meta is not None:
            meta.delete(where=self._filter(gen))
