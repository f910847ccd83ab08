"""The HTTP API, headers, CORS and the Gradio endpoint, against the seed index."""

from __future__ import annotations

import shutil

import pytest
from fastapi.testclient import TestClient

from bot import prompts
from bot.chain import Bot
from bot.settings import Settings
from tests.conftest import answers_held
from vectorstore.index import Index
from webapp.server import build_app

QUESTION = "How long does Botox last?"
ALLOWED = "http://allowed.example"


def make_app(data_dir, embedder, **settings):
    """The whole web app over an index in data_dir, with settings overridden."""
    settings = Settings.load(data_dir=data_dir, allowed_origins=ALLOWED, **settings)
    return build_app(Bot(settings, index=Index(data_dir, embedder=embedder)))


@pytest.fixture(scope="module")
def data_dir(seed_index_dir, tmp_path_factory):
    """A private copy of the seed index for this module."""
    target = tmp_path_factory.mktemp("api") / "data"
    shutil.copytree(seed_index_dir, target)
    return target


@pytest.fixture(scope="module")
def client(data_dir, embedder):
    """A TestClient over the app with the default rate limit."""
    with TestClient(make_app(data_dir, embedder)) as test_client:
        yield test_client


def test_api_answers_with_citations_and_disclaimer(client):
    got = client.post("/api/ask", json={"question": QUESTION})
    assert got.status_code == 200
    body = got.json()
    assert {"id", "text", "citations", "disclaimer", "abstained", "triage", "kind"} <= set(body)
    assert body["kind"] == "answer" and body["abstained"] is False
    assert body["disclaimer"] == prompts.disclaimer()
    assert "[1]" in body["text"]
    assert body["citations"][0]["marker"] == 1
    doctors = {c["attribution"] for c in body["citations"]}
    assert "T.G. Khan, DO, FACS (Fort Lee Oculoplastic Surgeon)" in doctors
    for cite in body["citations"]:
        assert cite["quote"] and all(
            q in " ".join(cite["answer_text"].split()) for q in cite["quote"]
        )


def test_api_follow_up_uses_history(client):
    history = [{"role": "user", "content": QUESTION}, {"role": "assistant", "content": "..."}]
    got = client.post("/api/ask", json={"question": "Is it permanent?", "history": history})
    assert got.status_code == 200
    assert "botox" in got.json()["standalone_question"].lower()


def test_api_abstains_outside_the_doctors_answers(client):
    body = client.post("/api/ask", json={"question": "What is the capital of France?"}).json()
    assert body["kind"] == "abstain" and body["abstained"] is True
    assert body["citations"] == [] and body["disclaimer"] == prompts.disclaimer()


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({}, 'missing "question"'),
        ({"question": 42}, '"question" must be a string'),
        ({"question": None}, '"question" must be a string'),
        ({"question": ["a"]}, '"question" must be a string'),
        ({"question": "   "}, '"question" is empty'),
        ({"question": "x" * 2001}, "longer than 2000 characters"),
        ({"question": "hi", "history": "earlier"}, '"history" must be a list'),
        ({"question": "hi", "history": [{"role": "bot", "content": "x"}]}, '"history"'),
        ({"question": "hi", "history": [[1, 2]]}, '"history"'),
        ({"question": "hi", "history": [{"role": "user"}]}, '"history"'),
        ({"question": "hi", "extra": 1}, "unknown field 'extra'"),
        (["question"], "JSON object"),
    ],
)
def test_api_bad_input_is_a_clear_400(client, payload, message):
    got = client.post("/api/ask", json=payload)
    assert got.status_code == 400
    assert message in got.json()["error"]


def test_api_refuses_invalid_json(client):
    got = client.post(
        "/api/ask", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert got.status_code == 400
    assert got.json()["error"] == "the request body is not valid JSON"


def test_oversized_bodies_are_refused_before_any_route_parses_them(client):
    big = {"question": "x" * 70_000}
    got = client.post("/api/ask", json=big)
    assert got.status_code == 400 and "too large" in got.json()["error"]
    # Gradio's own endpoints are covered too, with or without a declared length.
    got = client.post("/gradio_api/queue/join", json={"data": ["x" * 70_000], "fn_index": 0})
    assert got.status_code == 413
    chunks = (b"x" * 16_384 for _ in range(6))
    got = client.post("/embed/gradio_api/queue/join", content=chunks)
    assert got.status_code == 413


def test_rate_limit_answers_429_with_busy_message(data_dir, embedder):
    with TestClient(make_app(data_dir, embedder, rate_limit=2)) as limited:
        codes = [
            limited.post("/api/ask", json={"question": QUESTION}).status_code for _ in range(3)
        ]
        assert codes == [200, 200, 429]
        got = limited.post("/api/ask", json={"question": QUESTION})
        assert got.status_code == 429
        assert "busy, please try again" in got.json()["error"]
        assert int(got.headers["retry-after"]) >= 1


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/"), ("GET", "/embed/"), ("GET", "/widget.js"), ("GET", "/docs"), ("GET", "/nope")],
)
def test_security_headers_on_every_response(client, method, path):
    got = client.request(method, path)
    csp = got.headers["content-security-policy"]
    assert "img-src 'self' data:" in csp
    assert f"frame-ancestors 'self' {ALLOWED}" in csp
    assert got.headers["x-content-type-options"] == "nosniff"


def test_security_headers_on_api_and_errors(client):
    for got in (
        client.post("/api/ask", json={"question": QUESTION}),
        client.post("/api/ask", json={}),
    ):
        assert "frame-ancestors" in got.headers["content-security-policy"]
        assert got.headers["x-content-type-options"] == "nosniff"


def test_cors_allows_only_the_configured_origins(client):
    preflight = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type",
    }
    ok = client.options("/api/ask", headers={"Origin": ALLOWED, **preflight})
    assert ok.status_code == 200
    assert ok.headers["access-control-allow-origin"] == ALLOWED
    evil = client.options("/api/ask", headers={"Origin": "http://evil.example", **preflight})
    assert "access-control-allow-origin" not in evil.headers
    simple = client.post(
        "/api/ask", json={"question": QUESTION}, headers={"Origin": "http://evil.example"}
    )
    assert "access-control-allow-origin" not in simple.headers
    simple = client.post("/api/ask", json={"question": QUESTION}, headers={"Origin": ALLOWED})
    assert simple.headers["access-control-allow-origin"] == ALLOWED


def test_openapi_documents_the_ask_route(client):
    schema = client.get("/openapi.json").json()
    assert "/api/ask" in schema["paths"]
    assert client.get("/docs").status_code == 200
    assert client.get("/widget.js").headers["content-type"].startswith("text/javascript")
    assert client.get("/embed", follow_redirects=False).headers["location"] == "/embed/"


def test_an_over_long_emergency_still_gets_the_emergency_reply(client):
    question = "I had botox last week. " * 120 + "Now I cannot breathe and my throat is closing."
    got = client.post("/api/ask", json={"question": question})
    assert got.status_code == 200, got.text
    data = got.json()
    assert data["triage"] == "emergency" and data["text"].startswith("**Call 911")


def test_queue_full_answers_429_busy(data_dir, embedder):
    with TestClient(make_app(data_dir, embedder, queue_size=1)) as busy_client:
        import threading

        results = []
        with answers_held(busy_client.app.state.bot) as started:
            worker = threading.Thread(
                target=lambda: results.append(
                    busy_client.post("/api/ask", json={"question": QUESTION})
                )
            )
            worker.start()
            assert started.acquire(timeout=30)
            second = busy_client.post("/api/ask", json={"question": QUESTION})
        worker.join(60)
        assert second.status_code == 429 and "busy" in second.json()["error"].lower()
        assert results and results[0].status_code == 200
