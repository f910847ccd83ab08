"""The persistent Chroma index: search, sync that embeds and writes only what changed, safety."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import ROOT, SEEDS
from vectorstore.errors import IndexMismatchError, IndexMissingError
from vectorstore.index import Index
from vectorstore.sentences import split_sentences


def _tree_state(root: Path) -> dict[str, tuple[int, int]]:
    """Every file under root with its size and modification time (to prove nothing was written)."""
    return {
        str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in root.rglob("*")
        if p.is_file()
    }


def test_search_botox_permanent_finds_both_pages_with_right_doctors(seed_index):
    hits = seed_index.search("is botox permanent", k=8)
    pages = {doc.metadata["page_id"] for doc, _ in hits}
    assert pages == {"000_674dcb4655ddd097", "001_3189914d5f52dce4"}
    doctors = {doc.metadata.get("doctor") for doc, _ in hits}
    assert {"Edwin Ishoo", "T.G. Khan"} <= doctors
    by_doctor = {doc.metadata.get("doctor"): doc for doc, _ in hits}
    khan = by_doctor["T.G. Khan"].metadata
    assert (khan["credentials"], khan["location"], khan["specialty"]) == (
        "DO, FACS",
        "Fort Lee",
        "Oculoplastic Surgeon",
    )
    assert all(0.0 < score <= 1.0 for _, score in hits)
    assert [s for _, s in hits] == sorted((s for _, s in hits), reverse=True)


def test_chunk_text_is_the_doctors_own_words(seed_index):
    page_000 = (SEEDS / "000_674dcb4655ddd097.txt").read_text()
    flat = " ".join(page_000.replace("\u00a0", " ").split())
    for doc in seed_index.documents():
        if doc.metadata["page_id"] == "000_674dcb4655ddd097":
            assert " ".join(doc.page_content.split()) in flat
            assert "Botox done 4 weeks ago, now almost" not in doc.page_content


def test_second_ingest_of_unchanged_seeds_embeds_and_writes_nothing(seed_index):
    before = _tree_state(seed_index.root)
    calls = seed_index.embedder.calls
    report = seed_index.sync([SEEDS])
    assert (report.added, report.updated, report.removed, report.embedded) == (0, 0, 0, 0)
    assert report.unchanged == 15
    assert report.wrote is False
    assert seed_index.embedder.calls == calls
    assert _tree_state(seed_index.root) == before


def test_changed_answer_is_replaced_and_removed_page_is_removed(seed_index, tmp_path):
    pages = tmp_path / "pages"
    shutil.copytree(SEEDS, pages)
    seed_index.sync([pages], rebuild=True)
    target = pages / "001_3189914d5f52dce4.txt"
    target.write_text(
        target.read_text().replace(
            "There has NEVER been a permanent side effect",
            "In 20 years I have never seen a permanent side effect",
        )
    )
    calls = seed_index.embedder.calls
    report = seed_index.sync([pages])
    assert (report.added, report.updated, report.removed, report.unchanged) == (0, 1, 0, 14)
    assert report.embedded == 1 and report.sentences >= 1
    assert seed_index.embedder.calls == calls + 1 + report.sentences
    texts = [d.page_content for d in seed_index.documents()]
    assert any(t.startswith("In 20 years I have never seen") for t in texts)
    assert not any("There has NEVER been" in t for t in texts)
    assert len(texts) == 15
    _assert_sentences_match_chunks(seed_index)

    (pages / "000_674dcb4655ddd097.txt").unlink()
    report = seed_index.sync([pages])
    assert (report.removed, report.unchanged, report.embedded) == (10, 5, 0)
    assert {d.metadata["page_id"] for d in seed_index.documents()} == {"001_3189914d5f52dce4"}
    assert seed_index.manifest().answers == 5
    _assert_sentences_match_chunks(seed_index)  # the removed page's sentences went with it


def _assert_sentences_match_chunks(index: Index) -> None:
    """Every chunk's sentences of a quotable length have a stored vector in the sentence vector
    file; the others (no reply quotes them) have none."""
    from vectorstore.sentences import quotable_length

    chunks = index.documents()
    assert {d.metadata["record"] for d in chunks} == {"chunk"}
    every = [t for chunk in chunks for t in split_sentences(chunk.page_content)]
    texts = [t for t in every if quotable_length(t)]
    stored = index.sentence_vectors(every)
    assert set(stored) == set(texts)
    assert index.manifest().sentences == index._sentence_file().count() >= len(set(texts))


def test_each_chunk_is_stored_with_its_sentences_each_embedded(seed_index):
    _assert_sentences_match_chunks(seed_index)
    texts = [t for d in seed_index.documents() for t in split_sentences(d.page_content)]
    assert len(texts) == 68
    stored = seed_index.sentence_vectors(texts)
    # The stored vector is the sentence's own embedding (float16), not its chunk's.
    fresh = seed_index.embedder.embed(texts[:5])
    for text, own in zip(texts[:5], fresh, strict=True):
        assert float(np.dot(stored[text], own)) > 0.999
    # Chroma holds the chunks only: no sentence collection, and search sees chunks.
    client = seed_index.store._client(seed_index.current_generation())
    assert [c.name for c in client.list_collections()] == ["answers"]
    hits = seed_index.search("Botox is a purified protein", k=100)
    assert len(hits) == 15 and {d.metadata["record"] for d, _ in hits} == {"chunk"}


def test_manifest_records_model_dimension_and_corpus_hash(seed_index):
    manifest = seed_index.manifest()
    assert manifest.embedding_model == seed_index.embedder.model_id
    assert manifest.embedding_model.startswith("sentence-transformers/all-MiniLM-L6-v2")
    assert manifest.dimension == 384
    assert manifest.chunks == 15 and manifest.answers == 15
    assert len(manifest.corpus_hash) == 64


def test_other_embedder_is_refused_with_rebuild_hint(seed_index, embedder):
    class OtherEmbedder(type(embedder)):
        model_id = "someone/else-model"

    other = Index(seed_index.root.parent, embedder=OtherEmbedder())
    with pytest.raises(IndexMismatchError, match="ingest --rebuild"):
        other.search("botox")
    with pytest.raises(IndexMismatchError):
        other.sync([SEEDS])


def test_missing_index_says_how_to_build_it(tmp_path, embedder):
    with pytest.raises(IndexMissingError, match="python -m bot ingest"):
        Index(tmp_path / "nothing", embedder=embedder).search("botox")


def test_jsonl_corpus_gzip_and_plain(tmp_path, embedder):
    records = [
        {
            "id": "r1",
            "question": "What is glaucoma?",
            "answer": "Glaucoma damages the optic nerve.",
            "source": "NEI",
            "url": "https://example.org/glaucoma",
        },
        {"id": "r2", "question": "Is acne curable?", "answer": "Acne can be controlled."},
    ]
    plain = tmp_path / "c.jsonl"
    plain.write_text("\n".join(json.dumps(r) for r in records) + "\n")
    packed = tmp_path / "z" / "c2.jsonl.gz"
    packed.parent.mkdir()
    packed.write_bytes(
        gzip.compress(
            json.dumps({"id": "r3", "question": "q", "answer": "Sleep matters."}).encode()
        )
    )
    index = Index(tmp_path / "data", embedder=embedder)
    report = index.sync([plain, packed])
    assert report.ok and report.added == 3
    docs = {d.metadata["page_id"]: d for d in index.documents()}
    assert docs["r1"].metadata["organisation"] == "NEI"
    assert docs["r1"].metadata["url"] == "https://example.org/glaucoma"
    assert "doctor" not in docs["r1"].metadata
    assert docs["r3"].page_content == "Sleep matters."


def test_bad_files_are_reported_by_name_and_the_rest_is_ingested(tmp_path, embedder):
    pages = tmp_path / "pages"
    shutil.copytree(SEEDS, pages)
    (pages / "empty.txt").write_text("")
    (pages / "binary.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00")
    (pages / "latin1.txt").write_bytes(
        "Question\n\nDoctor Answers 1\n\nCaf\xe9\n".encode("latin-1")
    )
    (pages / "noanswers.txt").write_text("A question?\n\nDetails.\n\nDoctor Answers 2\n")
    (pages / "notes.txt").write_text("shopping list\neggs\n")
    (pages / "broken.jsonl").write_text('{"id": "x1", "question": "q", "answer": "fine"}\n{oops\n')
    index = Index(tmp_path / "data", embedder=embedder)
    report = index.sync([pages])
    joined = "\n".join(report.errors)
    assert "empty.txt: the file is empty" in joined
    assert "binary.txt: this is a binary file" in joined
    assert "latin1.txt:5: the file is not valid UTF-8" in joined
    assert "noanswers.txt:5: the page declares 2 answers but has no answer text" in joined
    assert "notes.txt: not a doctor Q&A page" in joined
    assert "broken.jsonl:2: not valid JSON" in joined
    assert len(report.errors) == 6
    assert {d.metadata["page_id"] for d in index.documents()} == {
        "000_674dcb4655ddd097",
        "001_3189914d5f52dce4",
        "x1",
    }


def _cli(*args, data_dir, **kw):
    env = {**os.environ, "BOT_DATA_DIR": str(data_dir), "HF_HUB_OFFLINE": "1"}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        **kw,
    )


def test_cli_ingest_exit_status_and_search_json(tmp_path):
    pages = tmp_path / "pages"
    shutil.copytree(SEEDS, pages)
    (pages / "empty.txt").write_text("   \n")
    data = tmp_path / "data"
    run = _cli("ingest", str(pages), data_dir=data)
    assert run.returncode == 1
    assert "empty.txt: the file is empty" in run.stderr
    assert "15 added" in run.stdout
    run = _cli("ingest", str(pages), data_dir=data)
    assert "0 chunks embedded" in run.stdout and "nothing written" in run.stdout
    run = _cli("search", "is botox permanent", "-k", "3", "--json", data_dir=data)
    assert run.returncode == 0, run.stderr
    rows = json.loads(run.stdout)
    assert len(rows) == 3
    assert {"page_id", "answer_id", "doctor", "score", "text"} <= set(rows[0])
    run = _cli("search", "botox", data_dir=tmp_path / "none")
    assert run.returncode == 2 and "python -m bot ingest" in run.stderr


@pytest.mark.slow
def test_killed_ingest_leaves_the_previous_index_queryable(tmp_path, seed_index, monkeypatch):
    corpus = tmp_path / "big.jsonl"
    with corpus.open("w") as fh:
        for i in range(3000):
            fh.write(
                json.dumps(
                    {
                        "id": f"b{i}",
                        "question": f"Question {i} about sleep?",
                        "answer": f"Answer number {i}: sleep hygiene helps. " * 5,
                    }
                )
                + "\n"
            )
    data = seed_index.root.parent
    generation = seed_index.current_generation()
    env = {**os.environ, "BOT_DATA_DIR": str(data), "HF_HUB_OFFLINE": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "ingest", str(SEEDS), str(corpus)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.time() + 300
    while time.time() < deadline and not list(seed_index.root.glob(".gen-*.partial/chroma")):
        time.sleep(0.05)
    time.sleep(1.0)  # well into embedding and writing
    assert proc.poll() is None, "ingest finished before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert seed_index.current_generation() == generation
    partial = list(seed_index.root.glob(".gen-*.partial"))
    assert len(partial) == 1 and (partial[0] / "chroma").is_dir()
    hits = Index(data, embedder=seed_index.embedder).search("is botox permanent", k=3)
    assert len(hits) == 3 and all(d.metadata["page_id"].startswith("00") for d, _ in hits)
    # The old generation's saved BM25 index is still there and used: nothing is rebuilt.
    from bot.answer.retrieve import HybridRetriever
    from vectorstore.lexical import LexicalIndex

    with monkeypatch.context() as patched:
        patched.setattr(LexicalIndex, "build", None)  # a rebuild would fail
        retriever = HybridRetriever(index=Index(data, embedder=seed_index.embedder))
        assert retriever.index.lexical("botox permanent", 3)
    # The next ingest (the app's start-up seed sync is one) removes the dead ingest's folder,
    # even though it changes nothing and so writes no generation of its own.
    report = Index(data, embedder=seed_index.embedder).sync([SEEDS])
    assert report.unchanged == 15 and report.embedded == 0 and not report.wrote
    assert not partial[0].exists()
    assert sorted(p.name for p in seed_index.root.iterdir() if p.name.startswith(".gen-")) == []


def test_a_sentence_shared_by_many_answers_is_embedded_once_and_stored_once(tmp_path, embedder):
    # Issue 14's KeyError at MedQuAD scale came from a bounded cache of sentence vectors kept
    # during an ingest; the sentence vector file replaces it: a sentence already stored (in
    # this ingest's earlier batches or an earlier ingest) is never embedded again.
    shared = "Call your own doctor if the swelling gets worse."
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text(
        "".join(
            json.dumps(
                {
                    "id": f"a{i}",
                    "question": f"Question number {i} about treatment?",
                    "answer": f"Treatment plan {i} suits patient group {i} well. {shared}",
                }
            )
            + "\n"
            for i in range(600)
        ),
        encoding="utf-8",
    )
    index = Index(tmp_path / "data", embedder=embedder)
    report = index.sync([corpus])  # two write batches of up to 512 chunks
    assert report.added == 600 and not report.errors
    # 601 distinct sentences and the 600 page questions (stored for follow-ups)
    assert report.sentences == 1201 == index.manifest().sentences
    texts = [t for d in index.documents() for t in split_sentences(d.page_content)]
    assert texts.count(shared) == 600 and len(texts) == 1200
    stored = index.sentence_vectors(texts)
    assert set(stored) == set(texts)
    own = np.asarray(embedder.embed([shared])[0])
    assert float(np.dot(stored[shared], own)) > 0.999


def test_chunks_carry_their_sentence_spans_and_readers_slice_them(seed_index):
    """Ingest stores where each sentence of a chunk lies, so a reader slices instead of splitting;
    the slices are exactly what splitting gives."""
    from vectorstore.sentences import chunk_sentences, sentence_spans, spanned_sentences

    docs = seed_index.documents()
    assert docs and all(d.metadata.get("sentence_spans") for d in docs)
    for doc in docs:
        assert list(chunk_sentences(doc)) == split_sentences(doc.page_content)
    text = "Swelling lasts a week.\n• Ice helps.\nCall us if it gets worse."
    assert spanned_sentences(text, sentence_spans(text)) == split_sentences(text)
    assert spanned_sentences(text, "") == split_sentences(text)


def test_a_sentence_no_reply_can_quote_is_not_embedded_at_ingest(tmp_path, embedder):
    # A flattened table (over 60 words) or a two-word fragment is never quoted, so no reply reads
    # its stored vector: an ingest does not embed it (a sixth of MedQuAD's sentence tokens).
    table = (
        "Signs and Symptoms Approximate number of patients "
        + " ".join(f"Symptom{i} {i}%" for i in range(40))
        + "."
    )
    record = {
        "id": "t1",
        "question": "What are the signs of this syndrome?",
        "answer": f"The syndrome usually starts in childhood. {table} Ask a genetic counselor.",
    }
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text(json.dumps(record) + "\n", encoding="utf-8")
    index = Index(tmp_path / "data", embedder=embedder)
    report = index.sync([corpus])
    assert not report.errors and report.added == 1
    texts = [t for d in index.documents() for t in split_sentences(d.page_content)]
    assert table in texts
    stored = index.sentence_vectors(texts)
    assert table not in stored
    assert {"The syndrome usually starts in childhood.", "Ask a genetic counselor."} <= set(stored)
    assert report.sentences == 3  # the two quotable sentences and the page's question
