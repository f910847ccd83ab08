"""`POST /api/ask/stream`: server-sent events from Bot.stream, over the seed index."""

from __future__ import annotations

import json
import shutil
import urllib.request

import pytest
from fastapi.testclient import TestClient

from bot import prompts
from bot.chain import Bot
from bot.settings import Settings
from vectorstore.index import Index
from webapp.background import running
from webapp.server import build_app

QUESTION = "How long does Botox last?"
EMERGENCY = "Since my botox yesterday I can't breathe properly and my throat is closing"


def events_of(body: str) -> list[tuple[str, dict]]:
    """(event name, data) of each server-sent event in a response body."""
    out = []
    for block in body.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines())
        out.append((lines["event"], json.loads(lines["data"])))
    return out


@pytest.fixture(scope="module")
def data_dir(seed_index_dir, tmp_path_factory):
    """A private copy of the seed index for this module."""
    target = tmp_path_factory.mktemp("stream-api") / "data"
    shutil.copytree(seed_index_dir, target)
    return target


def make_app(data_dir, embedder, **settings):
    """The whole web app over the seed index."""
    return build_app(
        Bot(Settings.load(data_dir=data_dir, **settings), index=Index(data_dir, embedder=embedder))
    )


@pytest.fixture(scope="module")
def client(data_dir, embedder):
    """A TestClient over the app."""
    with TestClient(make_app(data_dir, embedder)) as test_client:
        yield test_client


def test_statements_then_the_reply_that_ask_gives(client):
    got = client.post("/api/ask/stream", json={"question": QUESTION})
    assert got.status_code == 200
    assert got.headers["content-type"].startswith("text/event-stream")
    events = events_of(got.text)
    names = [name for name, _ in events]
    assert names[-1] == "reply" and set(names[:-1]) == {"statement"} and len(names) >= 3
    reply = events[-1][1]
    assert reply["kind"] == "answer" and reply["disclaimer"] == prompts.disclaimer()
    statements = [data for name, data in events[:-1]]
    assert "\n\n".join(s["text"] for s in statements) == reply["text"]
    assert all(s["disclaimer"] == prompts.disclaimer() for s in statements)
    assert [c["marker"] for s in statements for c in s["citations"]] == [
        c["marker"] for c in reply["citations"]
    ]
    assert statements[0]["citations"][0]["attribution"]
    plain = client.post("/api/ask", json={"question": QUESTION}).json()
    assert plain["text"] == reply["text"]


def test_emergency_comes_first_as_a_statement(client):
    events = events_of(client.post("/api/ask/stream", json={"question": EMERGENCY}).text)
    assert events[0][0] == "statement" and events[0][1]["kind"] == "emergency"
    assert events[0][1]["text"].startswith("**Call 911")
    assert events[-1][1]["kind"] == "emergency" and events[-1][1]["triage"] == "emergency"


@pytest.mark.parametrize(
    "payload, message",
    [
        ({"question": "   "}, "empty"),
        ({"question": "botox " * 1000}, "longer than"),
        ({"question": "Is Botox safe?", "nothing": 1}, "unknown field"),
    ],
)
def test_bad_input_is_a_400_before_the_stream(client, payload, message):
    got = client.post("/api/ask/stream", json=payload)
    assert got.status_code == 400 and message in got.json()["error"]


def test_rate_limit_is_a_429(data_dir, embedder):
    with TestClient(make_app(data_dir, embedder, rate_limit=1)) as limited:
        assert limited.post("/api/ask/stream", json={"question": QUESTION}).status_code == 200
        refused = limited.post("/api/ask/stream", json={"question": QUESTION})
        assert refused.status_code == 429 and refused.headers["Retry-After"]
        # Safety first: the emergency reply still comes, over the limit.
        events = events_of(limited.post("/api/ask/stream", json={"question": EMERGENCY}).text)
        assert events[-1][1]["kind"] == "emergency"


def test_events_arrive_over_real_http(data_dir, embedder):
    with running(make_app(data_dir, embedder)) as url:
        request = urllib.request.Request(
            url + "/api/ask/stream",
            data=json.dumps({"question": QUESTION}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=120) as response:
            assert response.headers["Content-Type"].startswith("text/event-stream")
            first = response.readline().decode()  # read before the body is complete
            body = first + response.read().decode()
    assert first == "event: statement\n"
    assert events_of(body)[-1][0] == "reply"
