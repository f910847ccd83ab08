"""Suggested follow-ups in headless Chromium: real page questions, each a button that asks it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.chain import Bot
from bot.settings import Settings
from vectorstore.index import Index
from webapp.background import running
from webapp.server import build_app

pytestmark = [pytest.mark.browser, pytest.mark.slow]
playwright_api = pytest.importorskip("playwright.sync_api")

ROOT = Path(__file__).resolve().parents[1]
PAGES = [*sorted((ROOT / "seeds").glob("*.txt")), *sorted((ROOT / "tests/data/pages").glob("*"))]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark.append(pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium"))


def _title(page: Path) -> str:
    return " ".join(page.read_text(encoding="utf-8").splitlines()[0].split())


@pytest.fixture(scope="module")
def url(tmp_path_factory, embedder):
    """The app over the seed pages plus the lip filler and chemical peel test pages."""
    data = tmp_path_factory.mktemp("follow-ups") / "data"
    index = Index(data, embedder=embedder)
    assert not index.sync([ROOT / "seeds", ROOT / "tests" / "data" / "pages"]).errors
    bot = Bot(Settings.load(env={}, data_dir=data), index=index)
    with running(build_app(bot)) as served:
        yield served


@pytest.fixture(scope="module")
def page(url):
    """A desktop-sized tab on the chat page in headless Chromium."""
    with playwright_api.sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"]
        )
        tab = chromium.new_page(viewport={"width": 1280, "height": 900})
        tab.goto(url + "/")
        tab.locator("#question textarea").wait_for()
        yield tab
        chromium.close()


def test_follow_ups_are_page_questions_and_clicking_one_asks_it(page):
    finished = page.locator("article.msg.bot[data-reply]")
    page.locator("#question textarea").fill("How long does Botox last?")
    page.locator("#question textarea").press("Enter")
    playwright_api.expect(finished).to_have_count(1, timeout=120_000)
    buttons = finished.nth(0).locator("nav.follow-ups button.follow-up")
    assert 2 <= buttons.count() <= 3
    offered = [b.inner_text() for b in buttons.all()]
    titles = {_title(p) for p in PAGES}
    assert set(offered) <= titles, offered  # real questions patients asked, verbatim
    assert _title(ROOT / "tests/data/pages/101_chemical_peel.txt") not in offered  # off topic
    playwright_api.expect(finished.nth(0).locator(".follow-ups")).to_contain_text(
        "Other patients asked"
    )

    buttons.nth(0).click()
    playwright_api.expect(finished).to_have_count(2, timeout=120_000)
    asked = page.locator("article.msg.user").nth(1)
    playwright_api.expect(asked).to_contain_text(offered[0])  # and its Edit button
    second = finished.nth(1)
    playwright_api.expect(second.locator(".disclaimer")).to_contain_text("not medical advice")
    assert offered[0] not in [b.inner_text() for b in second.locator("button.follow-up").all()]
    shots = ROOT / "artifacts" / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    finished.nth(0).screenshot(path=str(shots / "follow_ups.png"))
