"""Client/server mode: the index on a real `chroma run` server, shared by several processes."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import ROOT, SEEDS
from vectorstore.errors import StoreUnavailableError
from vectorstore.index import COLLECTION, Index
from vectorstore.server_meta import META
from vectorstore.server_store import ChromaServerStore

pytestmark = pytest.mark.slow

CHROMA = Path(sys.executable).with_name("chroma")
BOTH_PAGES = {"000_674dcb4655ddd097", "001_3189914d5f52dce4"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ChromaServer:
    """A `chroma run` process on a loopback port; stop() and start() keep the same port and path."""

    def __init__(self, path: Path, port: int) -> None:
        self.path, self.port, self.host = path, port, "127.0.0.1"
        self.log = path.with_suffix(".log")
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [CHROMA, "run", "--path", self.path, "--host", self.host, "--port", str(self.port)],
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, "ANONYMIZED_TELEMETRY": "False"},
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"chroma run exited: {self.log.read_text()[-2000:]}")
            try:
                url = f"http://{self.host}:{self.port}/api/v2/heartbeat"
                with urllib.request.urlopen(url, timeout=1) as reply:
                    if reply.status == 200:
                        return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("chroma run did not answer its heartbeat within 60 s")

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def chroma_server(tmp_path):
    """A fresh Chroma server for one test, stopped (killed if need be) afterwards."""
    server = ChromaServer(tmp_path / "chroma", _free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture
def server_writes(monkeypatch) -> list[str]:
    """Every request this process sends to a Chroma server that could change something."""
    from chromadb.api.fastapi import FastAPI

    writes: list[str] = []
    original = FastAPI._make_request

    def spy(self, method, path, **kwargs):
        if method != "get" and not path.endswith(("/get", "/query", "/search")):
            writes.append(f"{method.upper()} {path}")
        return original(self, method, path, **kwargs)

    monkeypatch.setattr(FastAPI, "_make_request", spy)
    return writes


def _store(server: ChromaServer, **kw) -> ChromaServerStore:
    return ChromaServerStore(server.host, server.port, COLLECTION, **kw)


def _index(server: ChromaServer, tmp_path: Path, embedder, **kw) -> Index:
    return Index(tmp_path / "unused", embedder=embedder, store=_store(server, **kw))


def _env(server: ChromaServer, tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "BOT_DATA_DIR": str(tmp_path / "data"),
        "CHROMA_HOST": server.host,
        "CHROMA_PORT": str(server.port),
        "HF_HUB_OFFLINE": "1",
    }


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def _server_state(server: ChromaServer) -> dict:
    """Every collection on the server with every record (embeddings included)."""
    import chromadb
    from chromadb.config import Settings

    client = chromadb.HttpClient(
        host=server.host, port=server.port, settings=Settings(anonymized_telemetry=False)
    )
    state = {}
    for collection in client.list_collections():
        got = collection.get(include=["documents", "metadatas", "embeddings"])
        rows = zip(got["ids"], got["documents"], got["metadatas"], got["embeddings"], strict=True)
        state[collection.name] = sorted(
            (i, d, json.dumps(m, sort_keys=True), e.tolist()) for i, d, m, e in rows
        )
    return state


def _unreachable_message(server: ChromaServer) -> str:
    return f"the Chroma server at http://{server.host}:{server.port} cannot be reached"


def test_ingest_search_and_unchanged_resync_through_the_server(chroma_server, tmp_path):
    env = _env(chroma_server, tmp_path)
    run = _cli("ingest", env=env)
    assert run.returncode == 0, run.stderr
    assert "15 added" in run.stdout and "15 chunks embedded" in run.stdout
    run = _cli("search", "is botox permanent", "-k", "8", "--json", env=env)
    assert run.returncode == 0, run.stderr
    assert {row["page_id"] for row in json.loads(run.stdout)} == BOTH_PAGES

    state = _server_state(chroma_server)
    assert len(state) == 2 and META in state  # no sentence collection: format 3
    (live,) = [name for name in state if name != META]
    assert live.startswith(f"{COLLECTION}__gen-") and len(state[live]) == 15
    run = _cli("ingest", env=env)
    assert run.returncode == 0, run.stderr
    assert "0 added" in run.stdout and "15 unchanged" in run.stdout
    assert "0 chunks embedded" in run.stdout and "nothing written" in run.stdout
    assert _server_state(chroma_server) == state
    # Locally only what is published for the replicas: the BM25 files and the sentence vectors.
    gen = live.removeprefix(f"{COLLECTION}__")
    root = tmp_path / "data" / "index"
    local = {
        "/".join(p.relative_to(root).parts[:3]).split(".sqlite3")[0]
        for p in root.rglob("*")
        if p.is_file() and p.name != ".lock"
    }
    assert local == {f"published/{gen}/bm25", "sentence_vectors"}


def test_two_processes_see_the_same_index(chroma_server, tmp_path, embedder):
    _index(chroma_server, tmp_path, embedder).sync([SEEDS])
    command = [sys.executable, "-m", "bot", "search", "is botox permanent", "-k", "8", "--json"]
    env = _env(chroma_server, tmp_path)
    replicas = [
        subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outputs = [proc.communicate(timeout=600)[0] for proc in replicas]
    assert [proc.returncode for proc in replicas] == [0, 0]
    first, second = (json.loads(out) for out in outputs)
    assert {row["page_id"] for row in first} == BOTH_PAGES
    assert [row["chunk_id"] for row in first] == [row["chunk_id"] for row in second]


def test_unreachable_server_fails_clearly_changes_nothing_and_recovers(
    chroma_server, tmp_path, embedder
):
    index = _index(chroma_server, tmp_path, embedder)
    index.sync([SEEDS])
    store, gen = index.store, index.current_generation()
    state = _server_state(chroma_server)
    chroma_server.stop()

    env = _env(chroma_server, tmp_path)
    hint = f"chroma run --path DIR --host 127.0.0.1 --port {chroma_server.port}"
    for args in (("ingest",), ("search", "is botox permanent")):
        run = _cli(*args, env=env)
        assert run.returncode == 2, run.stderr
        assert _unreachable_message(chroma_server) in run.stderr
        assert hint in run.stderr and "unset CHROMA_HOST" in run.stderr
        assert "Traceback" not in run.stderr

    def hold_lock():
        with store.lock():
            pass

    calls = {
        "current_generation": store.current_generation,
        "lock": hold_lock,
        "begin_generation": lambda: store.begin_generation(copy_from=gen),
        "commit_generation": lambda: store.commit_generation(gen),
        "abort_generation": lambda: store.abort_generation("gen-1"),
        "read_manifest": lambda: store.read_manifest(gen),
        "write_manifest": lambda: store.write_manifest("gen-1", index.manifest()),
        "read_catalog": lambda: store.read_catalog(gen),
        "write_catalog": lambda: store.write_catalog("gen-1", {"files": {}}),
        "open_collection": lambda: store.open_collection(gen),
        "langchain_store": lambda: store.langchain_store(gen, embedder),
        "all_documents": lambda: store.all_documents(gen),
        "max_batch": _store(chroma_server).max_batch,
        "Index.search": lambda: index.search("is botox permanent"),
        "Index.sync": lambda: index.sync([SEEDS], rebuild=True),
    }
    for name, call in calls.items():
        with pytest.raises(StoreUnavailableError, match="cannot be reached") as caught:
            call()
        assert "unset CHROMA_HOST" in str(caught.value), name

    chroma_server.start()
    assert _server_state(chroma_server) == state
    run = _cli("search", "is botox permanent", "-k", "8", "--json", env=env)
    assert run.returncode == 0, run.stderr
    assert {row["page_id"] for row in json.loads(run.stdout)} == BOTH_PAGES
    # the very same objects work again: no broken client was kept
    assert {d.metadata["page_id"] for d, _ in index.search("is botox permanent", k=8)} == BOTH_PAGES
    assert index.sync([SEEDS]).unchanged == 15


def test_changed_page_replaces_the_answer_and_old_generations_go(chroma_server, tmp_path, embedder):
    pages = tmp_path / "pages"
    shutil.copytree(SEEDS, pages)
    index = _index(chroma_server, tmp_path, embedder)
    index.sync([pages])
    first = index.current_generation()
    target = pages / "001_3189914d5f52dce4.txt"
    target.write_text(
        target.read_text().replace(
            "There has NEVER been a permanent side effect",
            "In 20 years I have never seen a permanent side effect",
        )
    )
    calls = embedder.calls
    report = index.sync([pages])
    assert (report.added, report.updated, report.removed, report.unchanged) == (0, 1, 0, 14)
    # The copy re-embeds nothing: only the changed chunk and its sentences are embedded.
    assert report.embedded == 1 and embedder.calls == calls + 1 + report.sentences
    texts = [d.page_content for d in index.documents()]
    assert any(t.startswith("In 20 years I have never seen") for t in texts)
    assert not any("There has NEVER been" in t for t in texts) and len(texts) == 15
    second = index.current_generation()
    state = _server_state(chroma_server)
    old = {row[0]: row[3] for row in state[f"{COLLECTION}__{first}"]}
    new = {row[0]: row[3] for row in state[f"{COLLECTION}__{second}"]}
    shared = [i for i in old if i in new]
    assert len(shared) == 14  # copied, not re-embedded (embedder.calls above), vectors unchanged
    assert all(np.allclose(old[i], new[i], atol=1e-6) for i in shared)

    index.store._client().create_collection(f"{COLLECTION}__gen-1")  # left by a killed ingest
    (pages / "000_674dcb4655ddd097.txt").unlink()
    report = index.sync([pages])
    assert (report.removed, report.unchanged, report.embedded) == (10, 5, 0)
    assert {d.metadata["page_id"] for d in index.documents()} == {"001_3189914d5f52dce4"}
    third = index.current_generation()
    state = _server_state(chroma_server)
    live = {f"{COLLECTION}__{gen}" for gen in (second, third)}
    assert set(state) == {META, *live}  # the killed ingest's and the oldest collections are gone
    gens = {json.loads(row[2]).get("gen") for row in state[META]} - {None}
    assert gens == {second, third}


def test_catalog_is_stored_in_parts_and_read_back_whole(chroma_server):
    store = _store(chroma_server)
    catalog = {"files": {f"/corpus/page{i:05d}.txt": {"digest": "ab" * 32} for i in range(12000)}}
    store.write_catalog("gen-1", catalog)
    parts = [row for row in _server_state(chroma_server)[META] if "/catalog/" in row[0]]
    assert len(parts) == 3 and all(len(row[1]) <= 512 * 1024 for row in parts)
    assert store.read_catalog("gen-1") == catalog


def test_ingest_waits_for_another_writers_lease_and_detects_a_lost_race(
    chroma_server, tmp_path, embedder, server_writes
):
    index = _index(chroma_server, tmp_path, embedder)
    index.sync([SEEDS])
    meta = index.store._meta(True)
    lock_id = f"{COLLECTION}/lock"

    def foreign_lease(seconds: float) -> None:
        meta.upsert(
            ids=[lock_id],
            embeddings=[[0.0]],
            documents=["other"],
            metadatas=[{"owner": "other-host:1:x", "expires": time.time() + seconds}],
        )

    foreign_lease(-1)  # left by a killed ingest: ignored, and an unchanged sync leaves it be
    server_writes.clear()
    assert index.sync([SEEDS]).unchanged == 15
    assert server_writes == []

    foreign_lease(2.0)  # a live writer: a changing sync waits for it, then takes over
    started = time.monotonic()
    report = index.sync([SEEDS], rebuild=True)
    assert report.wrote and time.monotonic() - started >= 1.5
    assert meta.get(ids=[lock_id])["ids"] == []  # released after the switch

    store = index.store
    live = store.current_generation()
    with store.lock():
        gen = store.begin_generation(copy_from=live)
        meta.upsert(  # another ingest switched the pointer meanwhile
            ids=[f"{COLLECTION}/pointer"],
            embeddings=[[0.0]],
            documents=["gen-0"],
            metadatas=[{"generation": "gen-0", "previous": live}],
        )
        with pytest.raises(StoreUnavailableError, match="another ingest changed the index"):
            store.commit_generation(gen)
        store.abort_generation(gen)
    assert store.current_generation() == "gen-0"
    assert f"{COLLECTION}__{gen}" not in _server_state(chroma_server)


def test_answer_says_temporarily_unavailable_while_the_server_is_down(
    chroma_server, tmp_path, embedder
):
    from bot import prompts
    from bot.chain import Bot
    from bot.settings import Settings

    settings = Settings.load(
        env={},
        data_dir=tmp_path / "data",
        chroma_host=chroma_server.host,
        chroma_port=chroma_server.port,
    )
    index = _index(chroma_server, tmp_path, embedder)
    assert index.sync([SEEDS]).ok
    bot = Bot(settings, index=index)
    assert bot.answer("How long does Botox last?").kind == "answer"

    chroma_server.stop()
    reply = bot.answer("Is Botox permanent?")
    assert reply.kind == "unavailable"
    assert reply.text == prompts.load("unavailable")
    assert reply.disclaimer == prompts.disclaimer() and reply.citations == ()

    chroma_server.start()
    reply = bot.answer("Is Botox permanent?")
    assert reply.kind == "answer" and reply.citations


def test_a_replica_reads_only_what_a_question_needs_from_the_server(
    chroma_server, tmp_path, embedder, monkeypatch
):
    from chromadb.api.fastapi import FastAPI

    from bot.chain import Bot
    from bot.settings import Settings
    from vectorstore.lexical import LexicalIndex

    assert _index(chroma_server, tmp_path, embedder).sync([SEEDS]).ok
    requests: list[tuple[str, dict]] = []
    original = FastAPI._make_request

    def spy(self, method, path, **kwargs):
        requests.append((path, kwargs.get("json") or {}))
        return original(self, method, path, **kwargs)

    monkeypatch.setattr(FastAPI, "_make_request", spy)
    monkeypatch.setattr(LexicalIndex, "build", None)  # a BM25 build would fail: it is published
    settings = Settings.load(env={}, data_dir=tmp_path / "unused")
    replica = Index(tmp_path / "unused", embedder=embedder, store=_store(chroma_server))
    reply = Bot(settings, index=replica).answer("How long does Botox last?")
    assert reply.kind == "answer" and reply.citations
    reads = [body for path, body in requests if path.endswith("/get")]
    assert reads and all(body.get("ids") for body in reads)  # by id: never a whole collection
    assert any(path.endswith("/query") for path, _ in requests)  # dense search is Chroma's HNSW
    # The sentences of the candidate chunks came from the published file: none was embedded.
    assert replica.sentence_vectors(["Botox is not permanent and will last 2-4 months."])


def test_a_replica_without_the_shared_folder_still_answers(chroma_server, tmp_path, embedder):
    from bot.chain import Bot
    from bot.settings import Settings

    assert _index(chroma_server, tmp_path, embedder).sync([SEEDS]).ok
    elsewhere = tmp_path / "not-shared"
    settings = Settings.load(env={}, data_dir=elsewhere)
    replica = Index(elsewhere, embedder=embedder, store=_store(chroma_server))
    reply = Bot(settings, index=replica).answer("How long does Botox last?")
    assert reply.kind == "answer" and reply.citations  # BM25 built in memory, sentences embedded


def test_projected_vectors_on_a_server_are_searched_by_every_replica(
    chroma_server, tmp_path, embedder
):
    """An index of projected vectors (ingest --dense-dims): a replica sharing the data folder
    ranks with the full vectors from it; one without it reads the projection from the server
    and ranks with the projected vectors (logged), and both still answer."""
    import numpy as np

    from bot.chain import Bot
    from bot.settings import Settings

    writer = Index(
        tmp_path / "shared", embedder=embedder, store=_store(chroma_server), dense_dims=24
    )
    assert writer.sync([SEEDS]).ok
    gen = writer.current_generation()
    assert writer.manifest().dense_dims == 24
    stored = _store(chroma_server).open_collection(gen).get(include=["embeddings"], limit=1)
    assert len(stored["embeddings"][0]) == 24  # the server holds the projected vectors
    q = np.asarray(embedder.embed_query("How long does Botox last?"), dtype=np.float32)
    for folder in ("shared", "not-shared"):
        replica = Index(tmp_path / folder, embedder=embedder, store=_store(chroma_server))
        found = replica.dense_search([q], 5)
        assert len(found) == 5
        settings = Settings.load(env={}, data_dir=tmp_path / folder)
        reply = Bot(settings, index=replica).answer("How long does Botox last?")
        assert reply.kind == "answer" and reply.citations
        if folder == "not-shared":  # its projection came from the server
            assert not (tmp_path / folder / "index" / "projections").exists()
        else:
            full = {c for c, _ in found}
            assert all(v.shape == (384,) for _, v in replica.chunk_records(full).values())


def _app(env: dict[str, str], port: int, log: Path) -> subprocess.Popen:
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, str(ROOT / "app.py"), "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def _ask(port: int, question: str, deadline: float) -> dict:
    body = json.dumps({"question": question}).encode()
    while True:
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/ask",
            data=body,
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=120) as got:
                return json.load(got)
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_two_app_replicas_share_one_server_and_the_published_files(chroma_server, tmp_path):
    env = {**_env(chroma_server, tmp_path), "GRADIO_ANALYTICS_ENABLED": "False"}
    run = _cli("ingest", env=env)
    assert run.returncode == 0, run.stderr
    ports = [_free_port(), _free_port()]
    logs = [tmp_path / f"replica-{n}.log" for n in range(2)]
    apps = [_app(env, port, log) for port, log in zip(ports, logs, strict=True)]
    try:
        deadline = time.monotonic() + 300
        replies = [_ask(port, "How long does Botox last?", deadline) for port in ports]
    finally:
        for app in apps:
            app.terminate()
        for app in apps:
            app.wait(timeout=30)
    assert [r["kind"] for r in replies] == ["answer", "answer"]
    assert replies[0]["text"] == replies[1]["text"] and replies[0]["citations"]
    for log in logs:
        text = log.read_text(errors="replace")
        assert "building it in memory" not in text and "in memory" not in text, text[-2000:]
    assert "nothing written" in run.stdout or "15 added" in run.stdout
