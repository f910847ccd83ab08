"""Safety replies are always reached and always first: limits, queue, store down, urgent answers."""

from __future__ import annotations

import shutil
import socket
import threading
from dataclasses import replace
from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient

from bot import prompts
from bot.chain import Bot
from bot.eval_metrics import check, metrics
from bot.settings import Settings
from tests.conftest import answers_held
from vectorstore.index import Index
from webapp.chat import ChatHandlers
from webapp.feedback import FeedbackStore
from webapp.ratelimit import RateLimiter
from webapp.render import render_reply
from webapp.server import build_app

ORDINARY = "How long does Botox last?"
EMERGENCY = "Since my botox yesterday I can't breathe properly and my throat is closing"
URGENT = "The filler bump in my lip is hot, red and swollen and I have a fever tonight"


@pytest.fixture(scope="module")
def data_dir(seed_index_dir, tmp_path_factory):
    """A private copy of the seed index for this module."""
    target = tmp_path_factory.mktemp("safety") / "data"
    shutil.copytree(seed_index_dir, target)
    return target


def make_bot(data_dir, embedder, **settings) -> Bot:
    """A Bot over the index in data_dir, with settings overridden."""
    return Bot(
        Settings.load(data_dir=data_dir, **settings), index=Index(data_dir, embedder=embedder)
    )


def _is_emergency(data: dict) -> bool:
    return data["triage"] == "emergency" and data["text"].startswith("**Call 911")


def test_a_rate_limited_client_still_gets_the_emergency_reply(data_dir, embedder):
    with TestClient(build_app(make_bot(data_dir, embedder, rate_limit=1))) as client:
        assert client.post("/api/ask", json={"question": ORDINARY}).status_code == 200
        assert client.post("/api/ask", json={"question": ORDINARY}).status_code == 429
        got = client.post("/api/ask", json={"question": EMERGENCY})
        assert got.status_code == 200 and _is_emergency(got.json())
        assert got.json()["disclaimer"] == prompts.disclaimer()


@pytest.mark.parametrize("where", ["start", "end"])
def test_a_message_over_every_length_limit_is_triaged_on_its_start_and_end(
    data_dir, embedder, where
):
    padding = "I had botox in my forehead last month and it looked fine. " * 600  # ~35,000 chars
    question = EMERGENCY + ". " + padding if where == "start" else padding + EMERGENCY
    with TestClient(build_app(make_bot(data_dir, embedder))) as client:
        got = client.post("/api/ask", json={"question": question})
        assert got.status_code == 200, got.text
        assert _is_emergency(got.json())
        plain = client.post("/api/ask", json={"question": padding})
        assert plain.status_code == 400 and "longer than" in plain.json()["error"]


def test_a_full_queue_still_answers_an_emergency(data_dir, embedder):
    with TestClient(build_app(make_bot(data_dir, embedder, queue_size=1))) as client:
        first = []
        with answers_held(client.app.state.bot) as started:
            worker = threading.Thread(
                target=lambda: first.append(client.post("/api/ask", json={"question": ORDINARY}))
            )
            worker.start()
            assert started.acquire(timeout=30)
            busy = client.post("/api/ask", json={"question": ORDINARY})
            urgent = client.post("/api/ask", json={"question": EMERGENCY})
        worker.join(60)
        assert busy.status_code == 429
        assert urgent.status_code == 200 and _is_emergency(urgent.json())
        assert first and first[0].status_code == 200


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_stopped_chroma_server_does_not_stop_the_emergency_reply(tmp_path, embedder):
    settings = Settings.load(data_dir=tmp_path, chroma_host="127.0.0.1", chroma_port=_closed_port())
    from bot.resources import open_index

    bot = Bot(settings, index=open_index(settings, embedder=embedder))
    with TestClient(build_app(bot)) as client:
        down = client.post("/api/ask", json={"question": ORDINARY})
        assert down.status_code == 200 and down.json()["kind"] == "unavailable"
        got = client.post("/api/ask", json={"question": EMERGENCY})
        assert got.status_code == 200 and _is_emergency(got.json())
    assert bot.answer(EMERGENCY).triage == "emergency"  # the chain itself triages first too


def test_the_chat_handler_answers_an_emergency_over_the_rate_limit(data_dir, embedder, tmp_path):
    bot = make_bot(data_dir, embedder)
    limiter = RateLimiter(1)
    handlers = ChatHandlers(bot, FeedbackStore.in_folder(tmp_path), limiter)
    request = SimpleNamespace(client=SimpleNamespace(host="203.0.113.9"))
    assert limiter.allow("203.0.113.9") and not limiter.allow("203.0.113.9")
    *_, (_, _, _, reply) = list(handlers.chat(ORDINARY, [], request))
    assert reply["kind"] == "unavailable"
    *_, (html, _, _, reply) = list(handlers.chat(EMERGENCY, [], request))
    assert reply["triage"] == "emergency" and "kind-emergency" in html


def test_an_urgent_message_gets_the_block_first_then_the_doctors_answers(seed_bot):
    reply = seed_bot.answer(URGENT)
    assert reply.triage == "urgent" and reply.kind in {"answer", "abstain"}
    assert reply.text.startswith(prompts.load("urgent"))
    assert reply.disclaimer == prompts.disclaimer()
    html = render_reply(reply)
    assert html.index('class="urgent-block"') < html.index('class="text"')
    assert "Get seen today" in html
    # Seen in the browser: a "Not covered" badge stood above the block. Nothing comes before it.
    uncovered = replace(reply, kind="abstain")
    assert render_reply(uncovered).index('class="urgent-block"') < render_reply(uncovered).index(
        'class="badge">Not covered'
    )
    plain = seed_bot.answer(ORDINARY)
    assert plain.triage is None and "urgent-block" not in render_reply(plain)


def test_the_eval_counts_urgent_and_emergency_or_urgent_recall():
    def result(expect: str, triage: str | None, kind: str = "answer") -> dict:
        reply = {"kind": kind, "triage": triage, "text": "x", "disclaimer": "d", "citations": []}
        case = {"id": expect, "expect": expect, "category": expect}
        return {"case": case, "reply": reply, "flags": check(case, reply)}

    results = [
        result("emergency", "emergency", "emergency"),
        result("emergency", "urgent"),
        result("urgent", "urgent"),
        result("answer", "urgent"),
        result("answer", None),
    ]
    m = metrics(results)
    assert results[1]["flags"]["outcome"] == "urgent" and results[2]["flags"]["expectation"]
    assert m["emergency_or_urgent_recall"] == 1.0
    assert m["false_alarm_urgent"] == 0.5 and m["false_alarm_emergency_or_crisis"] == 0.0


@pytest.mark.parametrize(
    "question",
    [
        "What can I do at home to bring down swelling after filler?",
        "Can I take ibuprofen for the soreness after my filler?",
        "How many units do people usually get for frown lines?",
    ],
)
def test_aftercare_and_general_questions_are_not_refused(seed_bot, question):
    reply = seed_bot.answer(question)
    assert reply.kind in {"answer", "abstain"} and reply.triage is None
