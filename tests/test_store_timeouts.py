"""A hung Chroma server: timeouts, the circuit breaker, and an app that keeps serving."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
import urllib.error
import urllib.request

import pytest

from bot import prompts
from bot.chain import Bot
from bot.resources import open_index
from bot.settings import Settings
from tests.conftest import SEEDS
from tests.test_chroma_server import ChromaServer, _free_port
from vectorstore.breaker import BreakerOpen, CircuitBreaker
from vectorstore.errors import SettingsError, StoreUnavailableError
from webapp.background import running
from webapp.server import build_app

EMERGENCY = "I just had filler and my lips are turning white and cold, the pain is getting worse"


class Clock:
    """A hand-moved clock for the breaker."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_breaker_opens_after_timeouts_in_a_row_and_lets_one_trial_through():
    clock = Clock()
    breaker = CircuitBreaker(3, 10.0, clock=clock)
    for _ in range(2):
        assert breaker.before() is False
        breaker.failure()
    breaker.before()
    breaker.success()  # a success in between: the count starts again
    for _ in range(3):
        breaker.before()
        breaker.failure()
    assert breaker.is_open
    with pytest.raises(BreakerOpen) as refused:
        breaker.before()
    assert refused.value.retry_in == 10.0
    clock.now += 9.5
    with pytest.raises(BreakerOpen):
        breaker.before()
    clock.now += 1.0
    assert breaker.before() is True  # the one trial call
    with pytest.raises(BreakerOpen):
        breaker.before()  # others still refused while it runs
    breaker.failure()  # the trial timed out: open for another cooldown
    with pytest.raises(BreakerOpen):
        breaker.before()
    clock.now += 10.0
    assert breaker.before() is True
    breaker.success()
    assert not breaker.is_open and breaker.before() is False


@pytest.mark.parametrize(
    ("var", "value"), [("BOT_CHROMA_TIMEOUT", "0"), ("BOT_CHROMA_CONNECT_TIMEOUT", "soon")]
)
def test_timeouts_are_settings_checked_at_start(var, value):
    assert Settings.load(env={}).chroma_timeout == 5.0
    assert Settings.load(env={"BOT_CHROMA_TIMEOUT": "2.5"}).chroma_timeout == 2.5
    with pytest.raises(SettingsError, match=f"{var}=.*positive number of seconds"):
        Settings.load(env={var: value})


def _get(url: str, body: dict | None = None) -> tuple[int, bytes]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data, {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as reply:
            return reply.status, reply.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


@pytest.fixture
def chroma(tmp_path):
    server = ChromaServer(tmp_path / "chroma", _free_port())
    server.start()
    yield server
    os.kill(server.proc.pid, signal.SIGCONT)
    server.stop()


@pytest.mark.slow
def test_a_stopped_chroma_server_gets_the_unavailable_reply_and_the_app_keeps_serving(
    chroma, tmp_path, embedder, monkeypatch
):
    from chromadb.api.fastapi import FastAPI

    settings = Settings.load(
        env={},
        data_dir=tmp_path / "data",
        chroma_host=chroma.host,
        chroma_port=chroma.port,
        chroma_timeout=2.0,
        chroma_cooldown=1.0,
        rate_limit=1000,
    )
    index = open_index(settings, embedder=embedder)
    assert index.sync([SEEDS]).ok
    bot = Bot(settings, index=index)
    assert bot.answer("How long does Botox last?").kind == "answer"  # everything loaded
    sent = [0]
    original = FastAPI._make_request

    def counting(self, method, path, **kwargs):
        sent[0] += 1
        return original(self, method, path, **kwargs)

    monkeypatch.setattr(FastAPI, "_make_request", counting)

    with running(build_app(bot)) as url:
        os.kill(chroma.proc.pid, signal.SIGSTOP)  # hung: connections are accepted, never answered
        try:
            replies: list[tuple[int, bytes]] = []
            questions = [f"Does Botox help wrinkle number {i}?" for i in range(6)]
            threads = [
                threading.Thread(
                    target=lambda q=q: replies.append(_get(f"{url}/api/ask", {"question": q}))
                )
                for q in questions
            ]
            for thread in threads:
                thread.start()
            # While those questions wait on the store: the page, the widget script and an
            # emergency reply are served.
            page = _get(f"{url}/")
            widget = _get(f"{url}/widget.js")
            urgent = _get(f"{url}/api/ask", {"question": EMERGENCY})
            for thread in threads:
                thread.join(60)
            assert chroma.proc.poll() is None  # still stopped: nothing waited for it to resume
            assert page[0] == 200 and b"<html" in page[1].lower()
            assert widget[0] == 200 and b"iframe" in widget[1]
            assert urgent[0] == 200 and json.loads(urgent[1])["kind"] == "emergency"
            assert len(replies) == 6
            for status, body in replies:
                reply = json.loads(body)
                assert status == 200 and reply["kind"] == "unavailable"
                assert reply["text"] == prompts.load("unavailable")
                assert reply["disclaimer"] == prompts.disclaimer() and reply["citations"] == []

            # The breaker is open: the next question is answered without asking the store.
            store = index.store
            assert store.breaker.is_open
            before = sent[0]
            reply = bot.answer("Is Botox permanent?")
            assert reply.kind == "unavailable" and sent[0] == before
            with pytest.raises(StoreUnavailableError, match="BOT_CHROMA_COOLDOWN"):
                store.current_generation()
        finally:
            os.kill(chroma.proc.pid, signal.SIGCONT)
        # Back: after the cooldown one trial call closes the breaker and answers resume.
        deadline = time.monotonic() + 60
        kind = None
        while time.monotonic() < deadline and kind != "answer":
            time.sleep(0.5)
            kind = json.loads(_get(f"{url}/api/ask", {"question": "Is Botox permanent?"})[1])[
                "kind"
            ]
        assert kind == "answer" and not store.breaker.is_open


@pytest.mark.slow
def test_a_timeout_names_the_setting_and_a_stopped_server_while_connecting(chroma, tmp_path):
    from vectorstore.index import COLLECTION
    from vectorstore.server_store import ChromaServerStore

    os.kill(chroma.proc.pid, signal.SIGSTOP)
    try:
        store = ChromaServerStore(chroma.host, chroma.port, COLLECTION, timeout=1.0)
        # The client is built while the server is stopped: building it waits no longer either.
        with pytest.raises(StoreUnavailableError, match=r"did not answer within 1 s .*TIMEOUT"):
            store.current_generation()
    finally:
        os.kill(chroma.proc.pid, signal.SIGCONT)
    assert store.current_generation() is None  # answers again at once: not opened by one timeout
