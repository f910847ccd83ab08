"""The chat page and the widget in headless Chromium, against a real server on the seed index."""

from __future__ import annotations

import contextlib
import functools
import http.server
import shutil
import sqlite3
import threading
import time
from pathlib import Path

import pytest

from bot.chain import Bot
from bot.settings import Settings
from tests.conftest import answers_held
from vectorstore.index import Index
from webapp.background import free_port, running
from webapp.server import build_app

pytestmark = [pytest.mark.browser, pytest.mark.slow]
playwright_api = pytest.importorskip("playwright.sync_api")

ROOT = Path(__file__).resolve().parents[1]
SHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
HOST_IP, OTHER_IP = "127.0.0.2", "127.0.0.3"  # other loopback addresses are other origins
XSS_QUESTION = '<img src=x onerror="window.__xss=1"> <script>window.__xss=2</script> botox?'
# The markup sits in the answer's last sentence: the bot never quotes such a sentence, but the
# source card shows the doctor's whole answer, markup included, and must show it as text.
XSS_PAGE = """Does arnica cream help bruises after Botox?

I bruise easily. Should I put arnica cream on the bruises I get after my Botox injections?

Doctor Answers 1

Arnica for bruising

Arnica cream can help bruises after Botox fade a little faster. Apply arnica cream gently twice \
a day until the bruises fade. Ask your injector if you are unsure <img src=x \
onerror="window.__xss=3"> <script>window.__xss=4</script>

Jane Roe, MD
Springfield Dermatologist
"""
HOST_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Clinic</title></head>
<body style="font-family: sans-serif; margin: 2rem; background: #f5f5f4">
<h1>Springfield Skin Clinic</h1><p>Opening hours: Monday to Friday, 9 to 5.</p>
{snippet}</body></html>"""

pytestmark.append(pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium"))


@pytest.fixture(scope="module")
def data_dir(seed_index_dir, tmp_path_factory, embedder):
    """The seed index plus one page whose answer is full of markup."""
    root = tmp_path_factory.mktemp("ui")
    shutil.copytree(seed_index_dir, root / "data")
    (root / "extra").mkdir()
    (root / "extra" / "arnica_markup.txt").write_text(XSS_PAGE, encoding="utf-8")
    report = Index(root / "data", embedder=embedder).sync([ROOT / "seeds", root / "extra"])
    assert report.added == 1 and not report.errors
    return root / "data"


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    """A static file handler that does not log every request to stderr."""

    def log_message(self, format, *args) -> None:
        pass


@contextlib.contextmanager
def static_site(folder: Path, host: str):
    """Serve a folder over HTTP on another loopback address (another origin)."""
    handler = functools.partial(QuietHandler, directory=str(folder))
    httpd = http.server.ThreadingHTTPServer((host, free_port(host)), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()


@pytest.fixture(scope="module")
def sites(data_dir, embedder, tmp_path_factory):
    """The app, a host site on an allowed origin and one on an origin that is not allowed."""
    pages = tmp_path_factory.mktemp("host")
    with static_site(pages, HOST_IP) as host, static_site(pages, OTHER_IP) as other:
        settings = Settings.load(data_dir=data_dir, allowed_origins=host)
        app = build_app(Bot(settings, index=Index(data_dir, embedder=embedder)))
        with running(app) as url:
            bubble = f'<script src="{url}/widget.js" defer></script>'
            frame = (
                f'<iframe id="inline-chat" src="{url}/embed/" title="Ask the doctors\' answers"'
                ' style="width: 100%; max-width: 420px; height: 600px; border: 1px solid #ccc">'
                "</iframe>"
            )
            (pages / "bubble.html").write_text(HOST_PAGE.format(snippet=bubble))
            (pages / "inline.html").write_text(HOST_PAGE.format(snippet=frame))
            yield {"app": url, "host": host, "other": other}


@pytest.fixture
def page(browser, sites):
    """A fresh desktop-sized tab on the chat page."""
    tab = browser.new_page(viewport={"width": 1280, "height": 900})
    tab.goto(sites["app"] + "/")
    tab.locator("#question textarea").wait_for()
    yield tab
    tab.close()


def ask(where, question: str):
    """Type a question, press Enter and wait for the finished reply; returns that reply."""
    finished = where.locator("article.msg.bot[data-reply]")
    before = finished.count()
    where.locator("#question textarea").fill(question)
    where.locator("#question textarea").press("Enter")
    playwright_api.expect(finished).to_have_count(before + 1, timeout=120_000)
    return finished.nth(before)


def shoot(target, name: str) -> None:
    """Save a screenshot under artifacts/screenshots/ (git-ignored) for a person to look at."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    target.screenshot(path=str(SHOTS / name))


def test_answer_shows_markers_sources_and_disclaimer(page):
    banner = page.locator(".banner")
    playwright_api.expect(banner).to_contain_text("not medical advice")
    reply = ask(page, "How long does Botox last?")
    playwright_api.expect(reply).to_have_attribute("data-kind", "answer")
    playwright_api.expect(reply.locator(".disclaimer")).to_contain_text("not medical advice")
    markers = reply.locator("a.cite")
    assert markers.count() >= 1
    named = [m for m in markers.all() if ", MD" in (m.get_attribute("aria-label") or "")]
    marker = named[0]
    doctor = marker.get_attribute("aria-label").split(": ", 1)[1].split(",")[0]
    marker.focus()
    page.keyboard.press("Enter")  # keyboard, not mouse: the marker is a real link
    card = page.locator(f"#{marker.get_attribute('data-src')}")
    playwright_api.expect(card).to_have_attribute("open", "")
    playwright_api.expect(card).to_contain_text(doctor)
    playwright_api.expect(card).to_contain_text("Question this doctor answered")
    assert card.locator("mark").count() >= 1
    shoot(page, "desktop.png")


def test_thumbs_down_with_reason_is_saved(page, data_dir):
    reply = ask(page, "Can side effects from Botox be permanent?")
    reply_id = reply.get_attribute("data-reply")
    reply.get_by_role("button", name="Not helpful").click()
    reply.get_by_role("button", name="Unclear").click()
    reply.get_by_role("button", name="Send feedback").click()
    playwright_api.expect(page.locator(".fb-done")).to_contain_text("feedback was saved")
    with sqlite3.connect(data_dir / "feedback.sqlite3") as conn:
        rows = conn.execute(
            "SELECT rating, reason, question, citations FROM feedback WHERE reply_id = ?",
            (reply_id,),
        ).fetchall()
    assert len(rows) == 1
    rating, reason, question, citations = rows[0]
    assert (rating, reason, question) == (
        "down",
        "unclear",
        "Can side effects from Botox be permanent?",
    )
    assert "attribution" in citations


def test_abstention_has_its_own_look(page):
    reply = ask(page, "What is the capital of France?")
    playwright_api.expect(reply).to_have_class("msg bot kind-abstain")
    playwright_api.expect(reply.locator(".badge")).to_contain_text("Not covered")
    assert reply.locator("a.cite").count() == 0
    playwright_api.expect(reply.locator(".disclaimer")).to_be_visible()
    shoot(page, "abstain.png")


def test_retry_clear_and_examples(page):
    page.get_by_role("button", name="How long does Botox last?").click()
    finished = page.locator("article.msg.bot[data-reply]")
    playwright_api.expect(finished).to_have_count(1, timeout=120_000)
    first_id = finished.first.get_attribute("data-reply")
    page.get_by_role("button", name="Retry").click()
    playwright_api.expect(finished.first).not_to_have_attribute(
        "data-reply", first_id, timeout=120_000
    )
    playwright_api.expect(finished).to_have_count(1)
    page.get_by_role("button", name="Clear").click()
    playwright_api.expect(page.locator(".transcript .empty")).to_be_visible()


def test_markup_in_questions_and_answers_never_runs(page):
    reply = ask(page, XSS_QUESTION)
    asked = page.locator("article.msg.user").last
    playwright_api.expect(asked).to_contain_text('<img src=x onerror="window.__xss=1">')
    reply = ask(page, "Does arnica cream help bruises after Botox?")
    marker = next(
        m for m in reply.locator("a.cite").all() if "Jane Roe" in m.get_attribute("aria-label")
    )
    marker.click()
    card = page.locator(f"#{marker.get_attribute('data-src')}")
    # The page's markup was removed at ingest (clean text at the source): the card shows the
    # doctor's words only, and nothing of the planted tags, as text or as markup.
    playwright_api.expect(card).to_contain_text("Ask your injector if you are unsure")
    playwright_api.expect(card).not_to_contain_text("__xss")
    page.wait_for_timeout(500)  # give a broken image's onerror time to fire, were there one
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert page.locator(".transcript img, .transcript script").count() == 0


def test_phone_width(browser, sites):
    tab = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    try:
        tab.goto(sites["app"] + "/")
        reply = ask(tab, "My eyelid is drooping after Botox. Will it get better?")
        reply.locator("a.cite").first.click()
        assert tab.evaluate("document.documentElement.scrollWidth") <= 390
        tab.locator("#question textarea").scroll_into_view_if_needed()
        tab.locator("article.msg.user").last.scroll_into_view_if_needed()
        shoot(tab, "phone.png")
    finally:
        tab.close()


def test_widget_on_a_host_page_from_another_origin(browser, sites):
    tab = browser.new_page(viewport={"width": 1280, "height": 900})
    try:
        tab.goto(sites["host"] + "/bubble.html")
        bubble = tab.get_by_role("button", name="Ask the doctors' answers")
        bubble.click()
        playwright_api.expect(bubble).to_have_attribute("aria-expanded", "true")
        chat = tab.frame_locator("#doctor-answers-frame")
        chat.locator("#question textarea").wait_for(timeout=60_000)
        playwright_api.expect(chat.locator(".banner")).to_contain_text("not medical advice")
        reply = ask(chat, "How long does Botox last?")
        assert reply.locator("a.cite").count() >= 1
        playwright_api.expect(reply.locator(".disclaimer")).to_contain_text("not medical advice")
        reply.locator("a.cite").first.click()
        shoot(tab, "widget.png")
        tab.goto(sites["host"] + "/inline.html")
        tab.frame_locator("#inline-chat").locator("#question textarea").wait_for(timeout=60_000)
    finally:
        tab.close()


def test_origins_not_allowed_cannot_frame_the_chat(browser, sites):
    tab = browser.new_page()
    messages: list[str] = []
    tab.on("console", lambda message: messages.append(message.text))
    try:
        tab.goto(sites["other"] + "/inline.html", wait_until="load")  # waits for the iframe too
        frame = next(f for f in tab.frames if f != tab.main_frame)
        for _ in range(150):  # on a busy machine the refused frame may not have navigated yet
            if frame.url:
                break
            tab.wait_for_timeout(200)
        assert frame.url.startswith("chrome-error://")
        assert any("frame-ancestors" in m for m in messages)
    finally:
        tab.close()


def test_emergency_reply_stands_out(page):
    question = "I can't breathe and my throat is swelling after my botox shot"
    reply = ask(page, question)
    playwright_api.expect(reply).to_have_class("msg bot kind-emergency")
    playwright_api.expect(reply).to_have_attribute("role", "alert")
    playwright_api.expect(reply.locator(".badge")).to_contain_text("Emergency")
    shoot(page, "emergency.png")


def test_a_full_gradio_queue_still_shows_the_emergency_reply(data_dir, embedder, browser):
    # Two questions being answered (the page's concurrency) and one waiting fill a queue of one:
    # a fourth is refused by Gradio itself. The page's safety step runs outside that queue.
    from gradio_client import Client

    bot = Bot(
        Settings.load(data_dir=data_dir, queue_size=1), index=Index(data_dir, embedder=embedder)
    )
    with running(build_app(bot)) as url:
        client = Client(url + "/", verbose=False)
        with answers_held(bot) as started:
            jobs = [client.submit("How long does Botox last?", api_name="/chat") for _ in range(2)]
            assert started.acquire(timeout=180) and started.acquire(
                timeout=180
            )  # a loaded CI machine
            jobs.append(client.submit("Is Botox permanent?", api_name="/chat"))
            from gradio_client.utils import QueueError, Status

            deadline = time.monotonic() + 60
            while jobs[2].status().code != Status.IN_QUEUE and time.monotonic() < deadline:
                time.sleep(0.1)  # the third is waiting before the fourth is sent
            refused = client.submit("Does Botox hurt?", api_name="/chat")

            with pytest.raises(QueueError, match="Queue is full"):
                refused.result(timeout=60)  # the queue really is full: Gradio turned it away
            tab = browser.new_page(viewport={"width": 1280, "height": 900})
            tab.goto(url + "/")
            tab.locator("#question textarea").wait_for()
            reply = ask(
                tab, "Since my filler an hour ago my lips went white and grey, it hurts a lot"
            )
            playwright_api.expect(reply).to_have_attribute("data-kind", "emergency")
            playwright_api.expect(reply).to_contain_text("Call 911")
            playwright_api.expect(reply.locator(".disclaimer")).to_be_visible()
            shoot(reply, "queue_full_emergency.png")
            tab.close()
        assert all(job.result(timeout=120) for job in jobs)
