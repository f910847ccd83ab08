"""`python app.py`'s order: the API answers at once, the chat pages are mounted after the warm-up
(webapp/pages_later.py); until then / and /embed/ say the chat is starting (503, reloads)."""

from __future__ import annotations

import json
import threading
import time

import httpx
import pytest

import webapp.pages
from webapp.background import running
from webapp.pages_later import mount_pages_later
from webapp.service import build_service


def _ask(url: str) -> dict:
    got = httpx.post(f"{url}/api/ask", json={"question": "How long does Botox last?"}, timeout=120)
    assert got.status_code == 200, got.text
    return got.json()


def _wait_for_page(url: str, path: str = "/") -> httpx.Response:
    deadline = time.monotonic() + 120
    while True:
        got = httpx.get(url + path, timeout=10)
        if got.status_code != 503 or time.monotonic() > deadline:
            return got
        time.sleep(0.1)


def _chat_through_the_queue(url: str) -> str:
    """What the page's browser code does: join Gradio's queue, read the server-sent reply."""
    config = httpx.get(f"{url}/config", timeout=10).json()
    chat = next(d for d in config["dependencies"] if d.get("api_name") == "chat")
    joined = httpx.post(
        f"{url}/gradio_api/queue/join",
        json={
            "data": ["How long does Botox last?", None],
            "fn_index": chat["id"],
            "session_hash": "later-test",
            "event_data": None,
            "trigger_id": None,
        },
        timeout=30,
    )
    assert joined.status_code == 200, joined.text
    text = ""
    with httpx.stream(
        "GET", f"{url}/gradio_api/queue/data?session_hash=later-test", timeout=120
    ) as events:
        for line in events.iter_lines():
            text += line + "\n"
            if "process_completed" in line:
                break
    return text


@pytest.mark.slow
def test_the_api_answers_before_the_pages_and_the_pages_work_once_mounted(seed_bot):
    warm = threading.Event()  # the warm-up, held back by the test
    app = mount_pages_later(build_service(seed_bot), after=warm)
    with running(app) as url:
        for path in ("/", "/embed/"):
            starting = httpx.get(url + path, timeout=10)
            assert starting.status_code == 503
            assert starting.headers["retry-after"] == "2"
            assert "The chat is starting" in starting.text
            assert "call 911" in starting.text  # a patient who cannot wait is told what to do
            assert "content-security-policy" in starting.headers  # the app's headers still apply
        reply = _ask(url)  # the API does not wait for the pages
        assert reply["kind"] == "answer" and reply["citations"] and reply["disclaimer"]
        assert httpx.get(f"{url}/widget.js", timeout=10).status_code == 200
        warm.set()
        page = _wait_for_page(url)
        assert page.status_code == 200 and "gradio_config" in page.text
        assert _wait_for_page(url, "/embed/").status_code == 200
        # Gradio's startup ran (its queue answers), as it does when mounted before the server.
        text = _chat_through_the_queue(url)
        assert "process_completed" in text
        assert '"kind": "answer"' in text.replace('":"', '": "')
        # Routes the app never opens stay closed after the late mount too.
        assert httpx.post(f"{url}/gradio_api/upload", timeout=10).status_code == 404


@pytest.mark.slow
def test_pages_that_cannot_be_built_say_so_and_the_api_still_answers(seed_bot, monkeypatch):
    def broken(app):
        raise RuntimeError("no theme")

    monkeypatch.setattr(webapp.pages, "mount_gradio", broken)
    app = mount_pages_later(build_service(seed_bot))
    with running(app) as url:
        deadline = time.monotonic() + 60
        while "could not start" not in (got := httpx.get(url, timeout=10)).text:
            assert time.monotonic() < deadline, got.text
            time.sleep(0.1)
        assert got.status_code == 503 and "call 911" in got.text
        assert _ask(url)["kind"] == "answer"
        assert json.loads(httpx.get(f"{url}/openapi.json", timeout=10).text)["paths"]
