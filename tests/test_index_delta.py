"""Small updates as delta generations: written without copying the index, read back as base +
delta, folded into a full generation past the share, safe against kill -9, pruned with care."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from langchain_core.documents import Document

from tests.conftest import ROOT, SEEDS
from vectorstore.delta import chunk_ids
from vectorstore.index import Index
from vectorstore.lexical import LexicalIndex
from vectorstore.lexical_delta import build_delta, corpus_stats, read_base_stats, write_stats

TOPICS = [
    "sleep", "migraine", "asthma", "eczema", "diabetes", "anemia", "gout", "acne", "insomnia",
    "arthritis", "psoriasis", "bronchitis", "sinusitis", "vertigo", "hernia", "shingles",
]  # fmt: skip


def _answer(i: int, text: str | None = None) -> dict:
    topic = TOPICS[i % len(TOPICS)]
    return {
        "id": f"a{i}",
        "question": f"How is {topic} treated, case {i}?",
        "answer": text or f"For {topic} case {i} the doctor advises rest and regular checkups.",
    }


def _write(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


def _bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def _tree(folder: Path) -> dict[str, tuple[int, int]]:
    return {
        str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in folder.rglob("*")
        if p.is_file()
    }


def _own_ids(index: Index) -> set[str]:
    return set(index.store.open_collection(index.current_generation()).get(include=[])["ids"])


def _catalog_ids(index: Index, name: str) -> set[str]:
    entry = next(
        e for k, e in index.store.read_catalog(index.current_generation())["files"].items()
        if k.endswith(name)
    )  # fmt: skip
    return {i for ids in entry["answers"].values() for i in ids}


def test_small_updates_are_deltas_over_the_untouched_base(tmp_path, embedder):
    src = tmp_path / "src"
    rows = [_answer(i) for i in range(40)]
    _write(src / "corpus.jsonl", rows)
    index = Index(tmp_path / "data", embedder=embedder, delta_share=0.2)
    index.sync([src])
    base = index.current_generation()

    _write(src / "page.jsonl", [{"id": "new1", "question": "Ringing ears?", "answer": "Tinnitus "
                                 "often fades; a hearing test rules out damage."}])  # fmt: skip
    report = index.sync([src])
    assert (report.added, report.embedded, report.wrote, report.delta) == (1, 1, True, True)
    delta = index.store.read_delta(index.current_generation())
    assert delta.base == base and delta.hidden == frozenset()
    new_page = _catalog_ids(index, "page.jsonl")
    assert len(new_page) == 1 and _own_ids(index) == new_page  # nothing of the base copied
    stored = json.loads((index.root / index.current_generation() / "catalog.json").read_text())
    assert set(stored["changed"]) == {str((src / "page.jsonl").resolve())}  # only what differs
    assert stored["base"] == base and stored["removed"] == []
    # Read back as base + delta: the new page is found, dense and lexical, beside the base's.
    assert [d.id for d, _ in index.search("Ringing in my ears, is it tinnitus?", k=1)] == [
        *new_page
    ]
    assert list(index.lexical("tinnitus hearing test", 5)) == [*new_page]
    hits = index.search("How is migraine treated, case 1?", k=1)
    assert hits[0][0].id.startswith("a1#")
    assert index.chunk_count() == 41

    old_a5 = {i for i in chunk_ids(index.store.read_catalog(base)["files"]) if i.startswith("a5#")}
    rows[5] = _answer(5, "Zebra stripes are no treatment; see a dermatologist instead.")
    _write(src / "corpus.jsonl", rows)
    report = index.sync([src])
    assert (report.updated, report.embedded, report.delta) == (1, 1, True)
    delta = index.store.read_delta(index.current_generation())
    new_a5 = {i for i in _catalog_ids(index, "corpus.jsonl") if i.startswith("a5#")}
    assert delta.base == base and delta.hidden == old_a5 and new_a5 != old_a5
    assert _own_ids(index) == new_page | new_a5  # the previous delta's records, and the change
    # The replaced chunk is hidden everywhere; its replacement is found.
    old_text = "For anemia case 5 the doctor advises rest and regular checkups."
    vector = np.asarray(embedder.embed_query(old_text), dtype=np.float32)
    found = [cid for cid, _ in index.dense_search([vector], 45)]
    assert len(found) == 41 and not set(found) & old_a5 and new_a5 <= set(found)
    assert index.visible([*old_a5, *new_a5]) == [*new_a5]
    lexical = index.lexical("anemia case 5", 45, also=old_a5)
    assert {i for i, score in lexical.items() if score > 0} <= set(found) - old_a5
    assert [lexical[i] for i in old_a5] == [0.0]  # asked for by id, a hidden chunk scores 0
    assert list(index.lexical("zebra stripes dermatologist", 5)) == [*new_a5]
    assert index.chunk_count() == 41
    shown = [d.id for d in index.documents()]
    assert shown == sorted(chunk_ids(index.store.read_catalog(index.current_generation())["files"]))

    base_state = _tree(index.root / base)
    (src / "page.jsonl").unlink()
    report = index.sync([src])
    assert (report.removed, report.embedded, report.delta) == (1, 0, True)
    assert _own_ids(index) == new_a5
    stored = json.loads((index.root / index.current_generation() / "catalog.json").read_text())
    assert stored["removed"] == [] and set(stored["changed"]) == {
        str((src / "corpus.jsonl").resolve())
    }
    assert index.store.read_delta(index.current_generation()).hidden == old_a5
    assert index.manifest().chunks == 40 and index.manifest().answers == 40
    assert index.chunk_count() == 40 and not index.lexical("tinnitus", 5)
    assert _tree(index.root / base) == base_state  # the base was never written to


def test_bytes_an_added_page_writes_do_not_grow_with_the_index(tmp_path, embedder):
    written, sizes = {}, {}
    for n in (30, 300):
        src = tmp_path / f"src{n}"
        _write(src / "corpus.jsonl", [_answer(i) for i in range(n)])
        index = Index(tmp_path / f"data{n}", embedder=embedder, delta_share=0.5)
        index.sync([src])
        base = index.root / index.current_generation()
        _write(src / "page.jsonl", [_answer(1000)])
        assert index.sync([src]).delta
        sizes[n] = _bytes(base)
        written[n] = _bytes(index.root / index.current_generation())
    # The index grew tenfold; what one page writes (its catalog is only what differs from the
    # base's) did not grow with it. Chroma's empty store is most of what it writes.
    assert sizes[300] - sizes[30] > 1_000_000, sizes
    assert abs(written[300] - written[30]) < 1024, (written, sizes)
    assert written[300] < sizes[300] / 3, (written, sizes)


def test_a_delta_past_the_share_is_folded_into_a_full_generation(tmp_path, embedder):
    src = tmp_path / "src"
    rows = [_answer(i) for i in range(40)]
    _write(src / "corpus.jsonl", rows)
    index = Index(tmp_path / "data", embedder=embedder, delta_share=0.1)  # 4 chunks of 40
    index.sync([src])
    base = index.current_generation()
    rows += [_answer(40), _answer(41)]
    rows[7] = _answer(7, "Vertigo case seven: turn the head slowly and drink water.")
    _write(src / "corpus.jsonl", rows)
    assert index.sync([src]).delta  # 3 own chunks + 1 hidden = 4 <= 10% of 40
    delta_gen = index.current_generation()
    delta_vectors = index.store.open_collection(delta_gen).get(include=["embeddings"])

    rows.append(_answer(42))
    _write(src / "corpus.jsonl", rows)
    report = index.sync([src])
    assert (report.added, report.embedded, report.wrote, report.delta) == (1, 1, True, False)
    full = index.current_generation()
    assert index.store.read_delta(full) is None and not (index.root / full / "delta.json").exists()
    stored = index.store.open_collection(full).get(include=["embeddings"])
    assert set(stored["ids"]) == chunk_ids(index.store.read_catalog(full)["files"])
    assert len(stored["ids"]) == index.manifest().chunks == 43
    assert not any(i.startswith("a7#") and i in _ids_of(index, base) for i in stored["ids"])
    by_id = dict(zip(stored["ids"], stored["embeddings"], strict=True))
    for cid, vector in zip(delta_vectors["ids"], delta_vectors["embeddings"], strict=True):
        np.testing.assert_allclose(by_id[cid], vector, atol=1e-6)  # folded in (embedded: 1)
    assert read_base_stats(index.lexical_folder(full))["chunks"] == 43

    rows.append(_answer(43))
    _write(src / "corpus.jsonl", rows)
    assert index.sync([src]).delta  # the new full generation takes deltas again
    assert index.store.read_delta(index.current_generation()).base == full


def _ids_of(index: Index, gen: str) -> set[str]:
    return chunk_ids(index.store.read_catalog(gen)["files"])


def test_pruning_keeps_every_base_a_kept_delta_needs(tmp_path, embedder):
    src = tmp_path / "src"
    rows = [_answer(i) for i in range(40)]
    _write(src / "corpus.jsonl", rows)
    index = Index(tmp_path / "data", embedder=embedder, delta_share=0.3)
    index.sync([src])
    base = index.current_generation()
    deltas = []
    for i in range(3):
        _write(src / f"page{i}.jsonl", [_answer(100 + i)])
        assert index.sync([src]).delta
        deltas.append(index.current_generation())

    def folders() -> set[str]:
        return {p.name for p in index.root.glob("gen-*")}

    assert folders() == {base, deltas[1], deltas[2]}  # the base is older than both, and kept
    _write(src / "page9.jsonl", [_answer(109)])
    full_index = Index(tmp_path / "data", embedder=embedder, delta_share=0.0)
    assert not full_index.sync([src]).delta
    first_full = full_index.current_generation()
    assert folders() == {base, deltas[2], first_full}  # deltas[2] is kept, so is its base
    (src / "page9.jsonl").unlink()
    assert not full_index.sync([src]).delta
    assert folders() == {first_full, full_index.current_generation()}


_KILLED_DELTA = """
import os, signal, sys
from bot.resources import shared_embedder
from vectorstore.index import Index

def killed(self, *args):
    os.kill(os.getpid(), signal.SIGKILL)  # the delta's records are written, nothing committed

Index._write_lexical = killed
Index(sys.argv[1], embedder=shared_embedder(), delta_share=0.3).sync([sys.argv[2]])
"""


def test_kill_9_during_a_delta_write_leaves_the_live_generation_usable(tmp_path, embedder):
    src = tmp_path / "src"
    _write(src / "corpus.jsonl", [_answer(i) for i in range(40)])
    data = tmp_path / "data"
    index = Index(data, embedder=embedder, delta_share=0.3)
    index.sync([src])
    base = index.current_generation()
    _write(src / "page.jsonl", [_answer(200)])
    assert index.sync([src]).delta
    live = index.current_generation()
    live_state = _tree(index.root / live)
    base_state = _tree(index.root / base)

    _write(src / "late.jsonl", [_answer(300, "Shingles vaccine: two doses, months apart.")])
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    run = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(_KILLED_DELTA), str(data), str(src)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        timeout=300,
    )
    assert run.returncode == -9, run.stderr.decode()[-2000:]
    partial = list(index.root.glob(".gen-*.partial"))
    assert len(partial) == 1 and (partial[0] / "chroma").is_dir()
    after = Index(data, embedder=embedder)
    assert after.current_generation() == live
    assert _tree(index.root / live) == live_state and _tree(index.root / base) == base_state
    assert after.store.read_delta(live).base == base
    hits = after.search("How is sleep treated, case 0?", k=3)
    assert hits and hits[0][0].id.startswith("a0#")  # the base still answers through the delta
    assert next(iter(after.lexical("insomnia case 200", 1))).startswith("a200#")  # and the delta
    assert not after.lexical("vaccine doses apart", 5)  # the killed update's page is not there
    report = Index(data, embedder=embedder, delta_share=0.3).sync([src])
    assert (report.added, report.delta) == (1, True) and not partial[0].exists()


def test_a_delta_chunk_scores_in_bm25_what_it_scores_in_its_base(tmp_path):
    texts = [
        "Botox lasts three months in most patients.",
        "Filler is hyaluronic acid and can be dissolved.",
        "Sleep helps recovery after surgery.",
        "Botox can rarely cause a droopy eyelid.",
        "Drink water after filler; avoid alcohol.",
        "Eyelid surgery needs a week of rest.",
    ]
    docs = [Document(page_content=t, metadata={}, id=f"c{i}") for i, t in enumerate(texts)]
    base = LexicalIndex.build(docs, False)
    base.save(tmp_path, {"stamp": "test"})
    write_stats(tmp_path, corpus_stats(base))
    stats = read_base_stats(tmp_path)
    assert stats["chunks"] == 6 and stats["avg_len"] > 0
    delta = build_delta([docs[3], docs[1]], False, stats)
    for query in ("botox droopy eyelid", "dissolve acid filler", "eyelid", "droopy"):
        want = _bm25(base, query)[[1, 3]]  # rows in id order: c1, c3
        np.testing.assert_allclose(_bm25(delta, query), want, rtol=1e-6)
        assert want.max() > 0
    # A stem the base lacks is scored with its count in the delta (not zero, not infinite).
    new = Document(page_content="Tinnitus is a ringing in the ears.", metadata={}, id="n")
    score = _bm25(build_delta([new], False, stats), "tinnitus")[0]
    assert 0 < score < 10


def _bm25(lexical: LexicalIndex, query: str) -> np.ndarray:
    ids = lexical.tokenizer.tokenize(
        [query], update_vocab=False, return_as="ids", show_progress=False
    )[0]
    return np.asarray(lexical.model.get_scores_from_ids(ids))


def test_retrieval_over_a_delta_finds_its_page_as_the_full_index_does(
    tmp_path, embedder, seed_index
):
    from bot.answer.retrieve import HybridRetriever

    pages = sorted(SEEDS.glob("*.txt"))
    src = tmp_path / "pages"
    src.mkdir()
    shutil.copy(pages[0], src)
    index = Index(tmp_path / "data", embedder=embedder, delta_share=1.0)
    index.sync([src])
    shutil.copy(pages[1], src)
    assert index.sync([src]).delta
    question = "Are Botox side effects like a droopy eyelid permanent?"
    on_delta = HybridRetriever(index=index, embed_query=embedder.embed_query, per_page=100)
    on_full = HybridRetriever(index=seed_index, embed_query=embedder.embed_query, per_page=100)

    def key(doc: Document) -> tuple[str, int]:  # ids hash the source path too
        return doc.metadata["answer_id"], doc.metadata["chunk_index"]

    got = {key(d): d for d in on_delta.invoke(question)}
    want = {key(d): d for d in on_full.invoke(question)}
    from_delta = {k for k, d in got.items() if d.metadata["page_id"] == pages[1].stem}
    assert from_delta and from_delta <= set(want)  # the added page's chunks are found
    for k in from_delta:  # with the same text, doctor and vectors as in the full index
        assert got[k].page_content == want[k].page_content
        assert got[k].metadata.get("doctor") == want[k].metadata.get("doctor")
        assert got[k].metadata["chunk_score"] == pytest.approx(
            want[k].metadata["chunk_score"], abs=1e-4
        )
