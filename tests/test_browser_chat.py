"""Chat conventions in headless Chromium: statements appear as they pass verification, copy,
edit and resend, feedback toggles, and text contrast of at least 4.5:1 in light and dark mode."""

from __future__ import annotations

import shutil
import sqlite3
import threading
from pathlib import Path

import pytest

from bot.chain import Bot
from bot.settings import Settings
from tests.test_browser_ui import CHROMIUM, ask
from tests.test_stream import MADE_UP, statement
from vectorstore.index import Index
from webapp.background import running
from webapp.server import build_app

pytestmark = [pytest.mark.browser, pytest.mark.slow]
playwright_api = pytest.importorskip("playwright.sync_api")
pytestmark.append(pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium"))
SHOTS = Path("/tmp/doctor-answers-shots")  # for a person to look at; never in the repository
expect = playwright_api.expect

# Every visible text node against the background it is drawn on (semi-transparent layers
# composited up to the first opaque one), and every placeholder; returns what is below 4.5:1.
CONTRAST_JS = """
() => {
  const parse = (c) => {
    const m = (c.match(/[\\d.]+/g) || ['0', '0', '0', '0']).map(Number);
    return {r: m[0], g: m[1], b: m[2], a: m.length > 3 ? m[3] : 1};
  };
  const over = (top, base) => ({
    r: top.r * top.a + base.r * (1 - top.a), g: top.g * top.a + base.g * (1 - top.a),
    b: top.b * top.a + base.b * (1 - top.a), a: 1,
  });
  const lum = (c) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b);
  };
  const background = (el) => {
    const layers = [];
    for (let n = el; n; n = n.parentElement) {
      const c = parse(getComputedStyle(n).backgroundColor);
      if (c.a > 0) { layers.push(c); if (c.a >= 1) break; }
    }
    let base = {r: 255, g: 255, b: 255, a: 1};
    for (let i = layers.length - 1; i >= 0; i--) base = over(layers[i], base);
    return base;
  };
  const ratio = (fg, bg) => {
    const [a, b] = [lum(fg), lum(bg)].sort((x, y) => y - x);
    return (a + 0.05) / (b + 0.05);
  };
  const failures = [];
  const check = (el, text, colour) => {
    const box = el.getBoundingClientRect();
    const style = getComputedStyle(el);
    if (box.width <= 1 || box.height <= 1 || style.visibility === 'hidden') return;
    if (el.closest('[hidden], [aria-hidden="true"]')) return;
    const bg = background(el);
    const value = ratio(over(parse(colour), bg), bg);
    if (value < 4.5) {
      failures.push({text: text.slice(0, 50), ratio: Math.round(value * 100) / 100,
                     colour, background: `rgb(${bg.r},${bg.g},${bg.b})`,
                     where: el.tagName + '.' + String(el.className).slice(0, 40)});
    }
  };
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    const text = node.textContent.trim();
    if (!text || !node.parentElement) continue;
    if (['SCRIPT', 'STYLE', 'NOSCRIPT'].includes(node.parentElement.tagName)) continue;
    check(node.parentElement, text, getComputedStyle(node.parentElement).color);
  }
  for (const field of document.querySelectorAll('textarea[placeholder], input[placeholder]')) {
    check(field, 'placeholder: ' + field.placeholder,
          getComputedStyle(field, '::placeholder').color);
  }
  return failures;
}
"""


class Gated:
    """A model that writes a doctor's sentence, then a made-up claim, then waits to be released
    before it writes a second doctor's sentence: the test sees the page while it waits."""

    name = "gated"

    def __init__(self) -> None:
        self.waiting, self.go = threading.Event(), threading.Event()
        self.first = ""

    def stream(self, question, sources):
        self.first = statement(sources[1].text)
        yield f"{self.first} [1] "
        yield f"{MADE_UP} [1]. "
        self.waiting.set()
        self.go.wait(120)
        yield f"{statement(sources[2].text)} [2]"


@pytest.fixture(scope="module")
def data_dir(seed_index_dir, tmp_path_factory):
    """A private copy of the seed index."""
    target = tmp_path_factory.mktemp("chat-ui") / "data"
    shutil.copytree(seed_index_dir, target)
    return target


@pytest.fixture(scope="module")
def app_url(data_dir, embedder):
    """The app with the extractive backend."""
    bot = Bot(Settings.load(data_dir=data_dir), index=Index(data_dir, embedder=embedder))
    with running(build_app(bot)) as url:
        yield url


@pytest.fixture
def context(browser):
    """A browser context that may read and write the clipboard."""
    ctx = browser.new_context(
        viewport={"width": 1280, "height": 900}, permissions=["clipboard-read", "clipboard-write"]
    )
    yield ctx
    ctx.close()


def open_chat(context, url: str):
    """A tab on the chat page, ready for a question."""
    tab = context.new_page()
    tab.goto(url)
    tab.locator("#question textarea").wait_for()
    return tab


def shoot(target, name: str) -> None:
    """A screenshot under /tmp for a person to look at."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    target.screenshot(path=str(SHOTS / name))


def test_statements_appear_as_they_pass_and_a_failing_one_never_shows(data_dir, embedder, context):
    model = Gated()
    bot = Bot(
        Settings.load(data_dir=data_dir), index=Index(data_dir, embedder=embedder), generator=model
    )
    with running(build_app(bot)) as url:
        tab = open_chat(context, url + "/")
        # Remember whether the made-up claim is ever drawn, however briefly.
        tab.evaluate(
            """(made) => { window.__shown = false;
            new MutationObserver(() => {
              if (document.querySelector('#transcript').textContent.includes(made)) {
                window.__shown = true; }
            }).observe(document.body, {subtree: true, childList: true, characterData: true}); }""",
            MADE_UP,
        )
        tab.locator("#question textarea").fill("How long does Botox last?")
        tab.locator("#question textarea").press("Enter")
        assert model.waiting.wait(120)
        pending = tab.locator("article.msg.bot.pending")
        expect(pending.locator(".text")).to_contain_text(model.first[:40], timeout=60_000)
        # Shown while the model is still writing: verified, cited, with the disclaimer.
        expect(pending.locator("a.cite")).to_have_count(1)
        expect(pending.locator(".disclaimer")).to_contain_text("not medical advice")
        assert tab.locator("article.msg.bot[data-reply]").count() == 0
        shoot(tab, "streaming_first_statement.png")
        model.go.set()
        reply = tab.locator("article.msg.bot[data-reply]")
        expect(reply).to_have_count(1, timeout=120_000)
        expect(reply.locator("a.cite")).to_have_count(2)
        assert tab.evaluate("window.__shown") is False
        assert MADE_UP not in reply.inner_text()
        shoot(tab, "streaming_final.png")
        tab.close()


def test_copy_puts_the_reply_with_its_sources_on_the_clipboard(context, app_url):
    tab = open_chat(context, app_url + "/")
    reply = ask(tab, "How long does Botox last?")
    reply.get_by_role("button", name="Copy this reply with its sources").click()
    expect(reply.locator(".copy-done")).to_have_text("Copied to the clipboard")
    copied = tab.evaluate("navigator.clipboard.readText()")
    first_line = reply.locator(".text p").first.inner_text()
    assert copied.startswith(first_line)
    assert "\n\nSources:\n[1] " in copied and ", MD" in copied
    assert copied.rstrip().endswith(reply.locator(".disclaimer").inner_text().strip())
    tab.close()


def test_edit_takes_the_last_question_back_and_resends_it(context, app_url):
    tab = open_chat(context, app_url + "/")
    ask(tab, "How long does Botox last?")
    ask(tab, "Is botox permanet?")
    asked = tab.locator("article.msg.user")
    expect(asked.nth(0).locator(".edit-btn")).to_have_count(0)  # only the last can be edited
    asked.nth(1).get_by_role("button", name="Edit this question and ask again").click()
    box = tab.locator("#question textarea")
    expect(box).to_have_value("Is botox permanet?")
    expect(tab.locator("article.msg.bot[data-reply]")).to_have_count(1)
    expect(box).to_be_focused()
    box.fill("Is Botox permanent?")
    box.press("Enter")
    expect(tab.locator("article.msg.bot[data-reply]")).to_have_count(2, timeout=120_000)
    expect(asked).to_have_count(2)
    expect(asked.nth(1)).to_contain_text("Is Botox permanent?")
    tab.close()


def test_feedback_reasons_are_toggle_buttons_that_stay_selected(context, app_url, data_dir):
    tab = open_chat(context, app_url + "/")
    reply = ask(tab, "Can side effects from Botox be permanent?")
    reply_id = reply.get_attribute("data-reply")
    down = reply.get_by_role("button", name="Not helpful")
    down.click()
    expect(down).to_have_attribute("aria-pressed", "true")
    unclear = reply.get_by_role("button", name="Unclear")
    unsafe = reply.get_by_role("button", name="Unsafe")
    unclear.click()
    expect(unclear).to_have_attribute("aria-pressed", "true")
    unsafe.click()  # one reason at most
    expect(unsafe).to_have_attribute("aria-pressed", "true")
    expect(unclear).to_have_attribute("aria-pressed", "false")
    reply.get_by_role("button", name="Send feedback").click()
    expect(reply.locator(".fb-done")).to_contain_text("feedback was saved")
    # Re-rendered from the saved feedback: the choice is still shown, pressed.
    expect(reply.get_by_role("button", name="Unsafe")).to_have_attribute("aria-pressed", "true")
    expect(reply.get_by_role("button", name="Not helpful")).to_have_attribute(
        "aria-pressed", "true"
    )
    expect(reply.get_by_role("button", name="Unsafe")).to_be_disabled()
    shoot(reply, "feedback_saved.png")
    with sqlite3.connect(data_dir / "feedback.sqlite3") as conn:
        rows = conn.execute(
            "SELECT rating, reason FROM feedback WHERE reply_id = ?", (reply_id,)
        ).fetchall()
    assert rows == [("down", "unsafe")]
    tab.close()


@pytest.mark.parametrize(
    "path, name",
    [
        ("/", "light"),
        ("/?__theme=dark", "dark"),
        ("/embed/", "embed_light"),
        ("/embed/?__theme=dark", "embed_dark"),
    ],
)
def test_text_contrast_is_at_least_4_5_to_1(context, app_url, path, name):
    tab = open_chat(context, app_url + path)
    assert tab.evaluate(CONTRAST_JS) == []  # the empty chat, its welcome text
    reply = ask(tab, "How long does Botox last?")
    ask(tab, "What is the capital of France?")
    reply.locator("a.cite").first.click()  # a source card open
    reply.get_by_role("button", name="Not helpful").click()  # the reasons shown
    reply.get_by_role("button", name="Unclear").click()  # one pressed
    tab.locator("#question textarea").fill("")
    failures = tab.evaluate(CONTRAST_JS)
    shoot(tab, f"contrast_{name}.png")
    assert failures == []
    tab.close()
