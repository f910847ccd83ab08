"""The chat bubble on host pages of other origins, in headless Chromium: its data-* options,
Escape from inside the chat, and a clear message where the origin is not allowed."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.chain import Bot
from bot.settings import Settings
from tests.test_browser_ui import CHROMIUM, HOST_IP, HOST_PAGE, OTHER_IP, static_site
from vectorstore.index import Index
from webapp.background import running
from webapp.server import build_app
from webapp.widget import widget_texts

pytestmark = [pytest.mark.browser, pytest.mark.slow]
playwright_api = pytest.importorskip("playwright.sync_api")
pytestmark.append(pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium"))
SHOTS = Path("/tmp/doctor-answers-shots")  # for a person to look at; never in the repository
expect = playwright_api.expect
OPTIONS = {
    "title": "Springfield Skin Clinic: ask our doctors",
    "greeting": "Hello! Ask about Botox and read what the doctors wrote.",
    "accent": "#0f766e",
    "position": "left",
    "width": "360",
    "height": "520",
}


def script_tag(url: str, **data: str) -> str:
    """The widget's script tag with data-* options (no value: a bare attribute)."""
    attrs = "".join(f' data-{k}="{v}"' if v else f" data-{k}" for k, v in data.items())
    return f'<script src="{url}/widget.js"{attrs} defer></script>'


@pytest.fixture(scope="module")
def sites(seed_index_dir, embedder, tmp_path_factory):
    """The app, host pages on an allowed origin and on one that is not allowed."""
    data = tmp_path_factory.mktemp("widget") / "data"
    shutil.copytree(seed_index_dir, data)
    pages = tmp_path_factory.mktemp("widget-host")
    with static_site(pages, HOST_IP) as host, static_site(pages, OTHER_IP) as other:
        settings = Settings.load(data_dir=data, allowed_origins=host)
        with running(build_app(Bot(settings, index=Index(data, embedder=embedder)))) as url:
            pages.joinpath("options.html").write_text(
                HOST_PAGE.format(snippet=script_tag(url, **OPTIONS, open=""))
            )
            pages.joinpath("spanish.html").write_text(
                HOST_PAGE.format(snippet=script_tag(url, lang="es"))
            )
            pages.joinpath("plain.html").write_text(HOST_PAGE.format(snippet=script_tag(url)))
            yield {"app": url, "host": host, "other": other}


@pytest.fixture
def tab(browser):
    """A desktop-sized tab."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    yield page
    page.close()


def shoot(target, name: str) -> None:
    """A screenshot under /tmp for a person to look at."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    target.screenshot(path=str(SHOTS / name))


def test_options_take_effect_on_a_page_of_another_origin(tab, sites):
    tab.goto(sites["host"] + "/options.html")
    frame = tab.locator("#doctor-answers-frame")
    expect(frame).to_be_visible()  # data-open: open without a click
    bubble = tab.locator("#doctor-answers-bubble")
    expect(bubble).to_have_attribute("aria-expanded", "true")
    assert bubble.locator("svg").count() == 1 and bubble.inner_text().strip() == ""
    colours = bubble.evaluate(
        "b => [getComputedStyle(b).backgroundColor, getComputedStyle(b).color]"
    )
    assert colours == ["rgb(15, 118, 110)", "rgb(255, 255, 255)"]  # white reads best on teal
    box, view = frame.bounding_box(), tab.viewport_size
    assert (box["x"], box["width"], box["height"]) == (16, 360, 520)  # left, 360 x 520
    assert bubble.bounding_box()["x"] == 16
    assert view["width"] - (box["x"] + box["width"]) > 800
    chat = tab.frame_locator("#doctor-answers-frame")
    expect(chat.locator(".app-header h1")).to_have_text(OPTIONS["title"], timeout=60_000)
    expect(chat.locator(".transcript .empty")).to_have_text(OPTIONS["greeting"])
    send = chat.get_by_role("button", name="Send")
    expect(send).to_have_css("background-color", "rgb(15, 118, 110)")
    expect(send).to_have_css("color", "rgb(255, 255, 255)")
    expect(frame).to_have_attribute("title", OPTIONS["title"])
    shoot(tab, "widget_options.png")


def test_escape_inside_the_chat_closes_it(tab, sites):
    tab.goto(sites["host"] + "/plain.html")
    bubble = tab.get_by_role("button", name="Ask the doctors' answers")
    bubble.click()
    chat = tab.frame_locator("#doctor-answers-frame")
    box = chat.locator("#question textarea")
    box.wait_for(timeout=60_000)
    box.click()  # focus inside the (cross-origin) frame
    box.press("Escape")
    expect(tab.locator("#doctor-answers-frame")).to_be_hidden()
    expect(bubble).to_have_attribute("aria-expanded", "false")
    expect(bubble).to_be_focused()
    bubble.press("Enter")  # opens again, the same chat
    expect(tab.locator("#doctor-answers-frame")).to_be_visible()
    tab.keyboard.press("Escape")  # and Escape on the host page closes it too
    expect(tab.locator("#doctor-answers-frame")).to_be_hidden()


def test_fixed_texts_in_the_language_asked_for(tab, sites):
    spanish = widget_texts()["es"]
    tab.goto(sites["host"] + "/spanish.html")
    tab.get_by_role("button", name=spanish["title"]).click()
    expect(tab.locator("#doctor-answers-bubble")).to_have_attribute(
        "aria-label", f"{spanish['close']}: {spanish['title']}"
    )
    chat = tab.frame_locator("#doctor-answers-frame")
    expect(chat.locator(".app-header h1")).to_have_text(spanish["title"], timeout=60_000)
    expect(chat.locator(".transcript .empty")).to_have_text(spanish["greeting"])
    assert chat.locator("html").get_attribute("lang") == "es"


def test_an_origin_not_allowed_gets_a_message_not_a_broken_frame(tab, sites):
    warnings: list[str] = []
    tab.on("console", lambda m: warnings.append(m.text))
    tab.goto(sites["other"] + "/plain.html")
    bubble = tab.get_by_role("button", name="Ask the doctors' answers")
    bubble.click()
    panel = tab.locator("#doctor-answers-frame")
    expect(panel).to_be_visible()
    assert tab.locator("iframe").count() == 0  # no frame that the browser would refuse
    expect(panel).to_contain_text("cannot be shown on this website")
    expect(panel).to_contain_text(sites["other"])
    link = panel.get_by_role("link", name="Open the chat in a new tab")
    expect(link).to_have_attribute("href", sites["app"] + "/")
    assert any("not in BOT_ALLOWED_ORIGINS" in w for w in warnings)
    shoot(tab, "widget_not_allowed.png")
    tab.keyboard.press("Escape")
    expect(panel).to_be_hidden()
