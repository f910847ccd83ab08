"""What API users get: gradio_client and @gradio/client replies, 405/404 shapes, the OpenAPI."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import jsonschema
import pytest
from fastapi.testclient import TestClient

from bot.chain import Bot
from bot.settings import Settings
from vectorstore.index import Index
from webapp.background import running
from webapp.server import build_app

QUESTION = "How long does Botox last?"
NODE_DIR = Path(__file__).parent / "node"


def make_app(data_dir, embedder, **settings):
    """The whole web app over an index in data_dir, with settings overridden."""
    settings = Settings.load(env={}, data_dir=data_dir, **settings)
    return build_app(Bot(settings, index=Index(data_dir, embedder=embedder)))


@pytest.fixture(scope="module")
def data_dir(seed_index_dir, tmp_path_factory):
    """A private copy of the seed index for this module."""
    target = tmp_path_factory.mktemp("clients") / "data"
    shutil.copytree(seed_index_dir, target)
    return target


@pytest.fixture(scope="module")
def client(data_dir, embedder):
    """A TestClient over the app with the default rate limit."""
    with TestClient(make_app(data_dir, embedder)) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def server(data_dir, embedder):
    """The app served by uvicorn on a free loopback port."""
    with running(make_app(data_dir, embedder)) as url:
        yield url


@pytest.fixture(scope="module")
def api_reply(client) -> dict:
    """The JSON API's reply to QUESTION, to compare the clients with."""
    got = client.post("/api/ask", json={"question": QUESTION})
    assert got.status_code == 200, got.text
    return got.json()


def _no_placeholders(value) -> None:
    """Fail on a Gradio update placeholder anywhere in a client's result."""
    assert "__type__" not in json.dumps(value)


@pytest.mark.parametrize("method", ["GET", "PUT", "PATCH", "DELETE", "OPTIONS"])
def test_wrong_methods_on_ask_get_405_in_the_error_shape(client, method):
    got = client.request(method, "/api/ask")
    assert got.status_code == 405
    assert got.headers["allow"] == "POST"
    assert got.json() == {
        "error": f'{method} is not allowed: POST {{"question": "..."}} to /api/ask'
    }
    assert got.headers["x-content-type-options"] == "nosniff"  # still behind the middleware


def test_an_unknown_api_path_is_404_in_the_error_shape(client):
    got = client.get("/api/answers")
    assert got.status_code == 404
    assert got.json() == {"error": "no API route /api/answers: use POST /api/ask"}


def _response_schema(document: dict, status: str) -> dict:
    """The documented JSON schema of one POST /api/ask response, with its $refs resolvable."""
    content = document["paths"]["/api/ask"]["post"]["responses"][status]["content"]
    return {**content["application/json"]["schema"], "components": document["components"]}


def test_openapi_documents_exactly_the_responses_that_happen(data_dir, embedder, client):
    document = client.get("/openapi.json").json()
    # the 405/404 catch-alls are not operations
    assert sorted(document["paths"]) == ["/api/ask", "/api/ask/stream"]
    documented = set(document["paths"]["/api/ask"]["post"]["responses"])
    assert documented == {"200", "400", "429"}
    assert "HTTPValidationError" not in document["components"]["schemas"]

    seen: dict[str, list[dict]] = {}
    with TestClient(make_app(data_dir, embedder, rate_limit=1)) as limited:
        for request in (
            {"json": {"question": QUESTION}},  # 200
            {"json": {"question": "Is there a way to reverse Botox?"}},  # 429: over the limit
        ):
            got = limited.post("/api/ask", **request)
            seen.setdefault(str(got.status_code), []).append(got.json())
    for request in (
        {"json": {"question": "Can side effects from Botox be permanent?"}},
        {"json": {"question": ""}},
        {"json": {"question": 3}},
        {"json": {"question": QUESTION, "extra": 1}},
        {"json": {"question": QUESTION, "history": "no"}},
        {"json": {}},
        {"json": [QUESTION]},
        {"content": b"{not json", "headers": {"Content-Type": "application/json"}},
        {"content": b"x" * (70 * 1024), "headers": {"Content-Type": "application/json"}},
        {"json": {"question": "why " * 600}},
    ):
        got = client.post("/api/ask", **request)
        seen.setdefault(str(got.status_code), []).append(got.json())

    assert set(seen) == documented  # nothing undocumented happens, nothing documented is unused
    for status, bodies in seen.items():
        schema = _response_schema(document, status)
        for body in bodies:
            jsonschema.validate(body, schema)  # each real body fits what the OpenAPI says


def test_gradio_client_gets_the_reply_itself(server, api_reply):
    from gradio_client import Client

    gradio = Client(f"{server}/", verbose=False)
    reply = gradio.predict(QUESTION, api_name="/chat")
    _no_placeholders(reply)
    assert reply["text"] == api_reply["text"]
    assert reply["disclaimer"] == api_reply["disclaimer"]
    assert [c["attribution"] for c in reply["citations"]] == [
        c["attribution"] for c in api_reply["citations"]
    ]
    assert reply["citations"][0]["quote"] == api_reply["citations"][0]["quote"]

    empty = gradio.predict("", api_name="/chat")
    _no_placeholders(empty)
    assert empty["kind"] == "rejected" and empty["text"].startswith("Please type a question")
    assert empty["disclaimer"] == api_reply["disclaimer"]

    follow_up = gradio.predict(
        "Is it permanent?", [{"role": "user", "content": QUESTION}], api_name="/chat"
    )
    assert follow_up["standalone_question"] == f"Is it permanent? (about: {QUESTION})"


def test_gradio_client_gets_the_emergency_reply(server):
    from gradio_client import Client

    reply = Client(f"{server}/", verbose=False).predict(
        "My eyelid is drooping and now I cannot breathe after Botox", api_name="/chat"
    )
    assert reply["triage"] == "emergency" and reply["text"].startswith("**Call 911")


def test_gradio_endpoint_enforces_the_question_limit(server):
    from gradio_client import Client

    reply = Client(f"{server}/", verbose=False).predict("why " * 600, api_name="/chat")
    assert reply["kind"] == "rejected"
    assert "longer than 2000 characters" in reply["text"]


def _node_client() -> Path:
    """tests/node with @gradio/client installed from its package-lock (skips without node)."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("node and npm are not installed: @gradio/client cannot be tried")
    if not (NODE_DIR / "node_modules" / "@gradio" / "client").is_dir():
        done = subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund"],
            cwd=NODE_DIR,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if done.returncode != 0:
            pytest.skip(f"npm ci could not install @gradio/client: {done.stderr[-300:]}")
    return NODE_DIR


def _node_ask(server: str, question: str) -> dict:
    done = subprocess.run(
        ["node", "ask.mjs", f"{server}/", question],
        cwd=_node_client(),
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout.strip().splitlines()[-1])
    _no_placeholders(data)
    assert isinstance(data, list) and len(data) == 1  # one output: the reply
    return data[0]


def test_node_gradio_client_gets_the_reply_text(server, api_reply):
    reply = _node_ask(server, QUESTION)
    assert reply["text"] == api_reply["text"]
    assert reply["disclaimer"] == api_reply["disclaimer"]
    assert [c["doctor"] for c in reply["citations"]] == [
        c["doctor"] for c in api_reply["citations"]
    ]
    empty = _node_ask(server, "")
    assert empty["kind"] == "rejected" and empty["disclaimer"] == api_reply["disclaimer"]
