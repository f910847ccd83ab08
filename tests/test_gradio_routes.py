"""Gradio routes the app does not use are closed; the ones the page and gradio_client use work."""

from __future__ import annotations

import shutil

import pytest
from fastapi.testclient import TestClient

from bot.chain import Bot
from bot.settings import Settings
from vectorstore.index import Index
from webapp.gradio_routes import gradio_route_open
from webapp.server import build_app

CLOSED = [
    ("POST", "/gradio_api/upload"),
    ("GET", "/gradio_api/upload_progress"),
    ("GET", "/gradio_api/file=/etc/hostname"),
    ("GET", "/gradio_api/file/etc/hostname"),
    ("GET", "/gradio_api/proxy=https://example.org/"),
    ("POST", "/gradio_api/process_recording"),
    ("POST", "/gradio_api/stream/abc"),
    ("GET", "/gradio_api/stream/s/1/2/playlist.m3u8"),
    ("POST", "/gradio_api/component_server"),
    ("GET", "/gradio_api/dev/reload"),
    ("GET", "/gradio_api/runs"),
    ("POST", "/gradio_api/run-history/connect"),
    ("GET", "/gradio_api/run-history/records"),
    ("GET", "/gradio_api/vibe-code"),
    ("POST", "/gradio_api/vibe-code"),
    ("POST", "/gradio_api/vibe-edit"),
    ("POST", "/gradio_api/undo-vibe-edit"),
    ("POST", "/gradio_api/vibe-starter-queries"),
    ("POST", "/login"),
    ("GET", "/logout"),
    ("GET", "/gradio_api/token"),
    ("GET", "/gradio_api/user"),
    ("GET", "/monitoring"),
    ("GET", "/gradio_api/custom_component/1/dev/js/index.js"),
    ("GET", "/gradio_api/no-such-route"),
]
OPEN = ["/", "/config", "/theme.css", "/gradio_api/info", "/gradio_api/queue/status"]


@pytest.fixture(scope="module")
def client(seed_index_dir, tmp_path_factory, embedder):
    data = tmp_path_factory.mktemp("routes") / "data"
    shutil.copytree(seed_index_dir, data)
    bot = Bot(Settings.load(env={}, data_dir=data), index=Index(data, embedder=embedder))
    with TestClient(build_app(bot)) as test_client:
        yield test_client


@pytest.mark.parametrize("mount", ["", "/embed"])
@pytest.mark.parametrize(("method", "path"), CLOSED)
def test_unused_gradio_routes_are_closed(client, mount, method, path):
    files = {"files": ("note.txt", b"x" * 60_000, "text/plain")} if "upload" in path else None
    got = client.request(method, mount + path, files=files)
    assert got.status_code == 404, (method, mount + path, got.status_code)
    assert got.json() == {"error": "not found"}
    assert "content-security-policy" in got.headers  # refusals carry the security headers too


@pytest.mark.parametrize("mount", ["", "/embed"])
@pytest.mark.parametrize("path", OPEN)
def test_the_routes_the_page_uses_stay_open(client, mount, path):
    got = client.get(mount + path)
    assert got.status_code == 200, (mount + path, got.text[:200])


def test_the_apps_own_routes_are_not_gradios(client):
    assert client.get("/widget.js").status_code == 200
    assert client.get("/embed", follow_redirects=False).status_code == 307
    assert client.get("/openapi.json").status_code == 200
    assert client.get("/docs").status_code == 200
    assert client.post("/api/ask", json={"question": ""}).status_code == 400


def test_gradio_client_still_answers_through_chat(client):
    # What gradio_client's predict("/chat") does: join the queue, read the server-sent reply.
    config = client.get("/config").json()
    chat = next(d for d in config["dependencies"] if d.get("api_name") == "chat")
    joined = client.post(
        "/gradio_api/queue/join",
        json={
            "data": ["How long does Botox last?", None],
            "fn_index": chat["id"],
            "session_hash": "routes-test",
            "event_data": None,
            "trigger_id": None,
        },
    )
    assert joined.status_code == 200, joined.text
    with client.stream("GET", "/gradio_api/queue/data?session_hash=routes-test") as events:
        text = ""
        for line in events.iter_lines():
            text += line + "\n"
            if "process_completed" in line:
                break
    assert "process_completed" in text and '"kind": "answer"' in text.replace('":"', '": "')


@pytest.mark.parametrize(
    ("path", "expected"),
    [("/assets/index-1.js", True), ("/gradio_api/upload", False), ("/gradio_api/uploads", False)],
)
def test_route_table(path, expected):
    assert gradio_route_open(path) is expected
