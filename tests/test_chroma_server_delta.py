"""Small updates on a Chroma server are deltas: a collection with only the change, no copy of the
index on the server; replicas (with or without the published files) read base + delta; a large
update folds; pruning keeps every base a kept delta needs. A real `chroma run` server."""

from __future__ import annotations

import json
from pathlib import Path

from tests.test_chroma_server import _server_state, _store, chroma_server  # noqa: F401
from tests.test_index_delta import _answer, _write
from vectorstore.delta import chunk_ids
from vectorstore.index import COLLECTION, Index
from vectorstore.reading import PUBLISHED
from vectorstore.server_meta import META


def _server_index(server, data: Path, embedder, share: float = 0.2) -> Index:
    return Index(data, embedder=embedder, store=_store(server), delta_share=share)


def _collections(server) -> dict[str, set[str]]:
    """Each generation collection on the server with its chunk ids."""
    state = _server_state(server)
    return {
        name.removeprefix(f"{COLLECTION}__"): {row[0] for row in rows}
        for name, rows in state.items()
        if name != META
    }


def _published(data: Path) -> set[str]:
    root = data / "index" / PUBLISHED
    return {p.name for p in root.iterdir() if p.is_dir()} if root.is_dir() else set()


def test_a_small_update_on_the_server_is_a_delta_not_a_copy(chroma_server, tmp_path, embedder):  # noqa: F811
    src, data = tmp_path / "src", tmp_path / "data"
    rows = [_answer(i) for i in range(40)]
    _write(src / "corpus.jsonl", rows)
    index = _server_index(chroma_server, data, embedder)
    index.sync([src])
    base = index.current_generation()
    base_records = _server_state(chroma_server)[f"{COLLECTION}__{base}"]

    page = [{"id": "new1", "question": "Ringing ears?", "answer": "Tinnitus often fades; a "
             "hearing test rules out damage."}]  # fmt: skip
    _write(src / "page.jsonl", page)
    report = index.sync([src])
    assert (report.added, report.embedded, report.wrote, report.delta) == (1, 1, True, True)
    first = index.current_generation()
    delta = index.store.read_delta(first)
    assert delta.base == base and delta.hidden == frozenset() and len(delta.own) == 1
    collections = _collections(chroma_server)
    assert collections[first] == set(delta.own)  # the new collection holds only the page
    assert _server_state(chroma_server)[f"{COLLECTION}__{base}"] == base_records  # untouched
    # The delta's catalog record holds only the file that differs; read back, the whole.
    stored = index.store._records.read_json(first, "catalog")
    assert (
        set(stored["changed"]) == {str((src / "page.jsonl").resolve())} and stored["removed"] == []
    )
    assert chunk_ids(index.store.read_catalog(first)["files"]) == chunk_ids(
        index.store.read_catalog(base)["files"]
    ) | set(delta.own)
    assert [d.id for d, _ in index.search("Ringing in my ears, is it tinnitus?", k=1)] == [
        *delta.own
    ]
    assert list(index.lexical("tinnitus hearing test", 5)) == [*delta.own]
    assert index.chunk_count() == 41

    # A replica sharing the published files, and one without them (it builds BM25 from the
    # server and scores the delta with the base's statistics it built): the same scores.
    query = "How is migraine treated, case 1? tinnitus"
    expected = index.lexical(query, 10)
    for folder in (data, tmp_path / "bare-replica"):
        replica = _server_index(chroma_server, folder, embedder)
        assert replica.current_generation() == first and replica.chunk_count() == 41
        got = replica.lexical(query, 10)
        assert list(got) == list(expected)
        assert all(abs(got[i] - expected[i]) < 1e-5 for i in got)
        assert [d.id for d, _ in replica.search("Ringing in my ears?", k=1)] == [*delta.own]

    # A change of one base answer: a second delta over the same base, hiding the old chunk.
    old_a5 = {i for i in chunk_ids(index.store.read_catalog(base)["files"]) if i.startswith("a5#")}
    rows[5] = _answer(5, "Zebra stripes are no treatment; see a dermatologist instead.")
    _write(src / "corpus.jsonl", rows)
    report = index.sync([src])
    assert (report.updated, report.embedded, report.delta) == (1, 1, True)
    second = index.current_generation()
    delta = index.store.read_delta(second)
    assert delta.base == base and delta.hidden == old_a5 and len(delta.own) == 2
    assert _collections(chroma_server)[second] == set(delta.own)
    assert list(index.lexical("zebra stripes dermatologist", 5)) == [
        i for i in delta.own if i.startswith("a5#")
    ]
    assert index.visible(sorted(old_a5)) == [] and index.chunk_count() == 41
    assert set(_collections(chroma_server)) == {base, first, second}
    assert _published(data) == {base, first, second}

    # Past the share: a full generation (the base copied, the delta folded in); the base of the
    # previous (kept) delta stays until that delta is pruned too.
    for i in range(6, 16):
        rows[i] = _answer(i, f"Case {i} changed: the clinic now advises physiotherapy.")
    _write(src / "corpus.jsonl", rows)
    report = index.sync([src])
    assert report.wrote and not report.delta
    full = index.current_generation()
    assert index.store.read_delta(full) is None
    assert _collections(chroma_server)[full] == chunk_ids(index.store.read_catalog(full)["files"])
    assert set(_collections(chroma_server)) == {base, second, full}
    assert _published(data) == {base, second, full}
    assert index.chunk_count() == 41 and list(index.lexical("tinnitus hearing test", 1))

    (src / "page.jsonl").unlink()
    report = index.sync([src])
    assert (report.removed, report.delta) == (1, True)
    last = index.current_generation()
    assert index.store.read_delta(last).base == full
    assert set(_collections(chroma_server)) == {full, last}  # the old base and deltas are gone
    assert _published(data) == {full}  # the last delta has no chunks of its own: no BM25
    gens = {json.loads(row[2]).get("gen") for row in _server_state(chroma_server)[META]} - {None}
    assert gens == {full, last}
    assert index.chunk_count() == 40 and not index.lexical("tinnitus", 5)
