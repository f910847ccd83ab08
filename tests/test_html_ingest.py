"""HTML pages through ingest, inspect and the app's sources: a mixed folder, re-sync, planted
markup that must never reach a reply, and BOT_SOURCES."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, SEEDS
from vectorstore.index import Index

HTML = Path(__file__).parent / "data" / "html"
LAYOUTS = Path(__file__).parent / "data" / "layouts"
PLANTED = ("<", ">", "script", "alert", "onload", "onerror", "javascript", "svg", "{{", "}}")
PLANTED += ("evil.example", "![", "](", "iframe", "refresh")


def _mixed_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "site"
    folder.mkdir()
    for name in (
        "jsonld_qapage.html",
        "microdata_qapage.html",
        "plain_page.html",
        "divs_no_schema.html",
    ):
        shutil.copy(HTML / name, folder / name)
    shutil.copy(LAYOUTS / "badge_lines.txt", folder / "badge_lines.txt")
    shutil.copy(LAYOUTS / "glued_signatures.txt", folder / "glued_signatures.txt")
    shutil.copy(HTML / "not_a_qa_page.html", folder / "broken.html")
    return folder


# (page id, the doctors in order) for every good page of the mixed folder.
MIXED_DOCTORS = {
    "badge_lines": ["Victor Alvarez", "Hannah Cole", "Noah Fischer"],
    "divs_no_schema": ["Laila Haddad", "Marco Villa"],
    "glued_signatures": ["Megan Ross", "Samuel Ortiz", "Julia Novak"],
    "jsonld_qapage": ["Miriam Castellanos", "Benjamin Adler", None],
    "microdata_qapage": ["Aisha Rahman", "Felix Morgan"],
    "plain_page": ["Nadia Volkova", "Henry Walsh", "Chloe Bernard"],
}


def _run(*args: str, data: Path) -> subprocess.CompletedProcess:
    env = {"BOT_DATA_DIR": str(data), "HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin"}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], cwd=ROOT, env=env, capture_output=True, text=True
    )


def test_mixed_folder_ingests_the_good_pages_and_names_the_bad_one(tmp_path, embedder):
    folder = _mixed_folder(tmp_path)
    index = Index(tmp_path / "data", embedder=embedder)
    report = index.sync([folder])
    assert report.files == 7
    assert len(report.errors) == 1 and "broken.html" in report.errors[0]
    assert report.added == sum(len(d) for d in MIXED_DOCTORS.values())
    by_answer = {d.metadata["answer_id"]: d.metadata for d in index.documents()}
    for page_id, doctors in MIXED_DOCTORS.items():
        got = [by_answer[f"{page_id}#{i}"].get("doctor") for i in range(len(doctors))]
        assert got == doctors, page_id
    first = by_answer["jsonld_qapage#0"]
    assert (first["date"], first["upvotes"], first["page_url"]) == (
        "2024-03-03",
        14,
        "https://answers.example.com/q/how-long-does-sculptra-last",
    )
    # Unchanged HTML is not parsed or embedded again.
    calls = embedder.calls
    again = index.sync([folder])
    assert (again.added, again.updated, again.removed, again.embedded) == (0, 0, 0, 0)
    assert again.unchanged == report.added and again.wrote is False
    assert embedder.calls == calls


def test_inspect_shows_every_doctor_and_names_the_bad_file(tmp_path):
    folder = _mixed_folder(tmp_path)
    result = _run("inspect", "--json", str(folder), data=tmp_path / "data")
    assert result.returncode == 1
    report = json.loads(result.stdout)
    got = {p["page_id"]: [a["doctor"] for a in p["answers"]] for p in report["pages"]}
    assert got == MIXED_DOCTORS
    assert len(report["errors"]) == 1 and "broken.html" in report["errors"][0]
    assert "broken.html" in result.stderr
    assert not (tmp_path / "data").exists()  # inspect indexes nothing
    text = _run("inspect", str(folder / "plain_page.html"), data=tmp_path / "data")
    assert text.returncode == 0
    assert "1. Nadia Volkova, MD (Brooklyn Dermatologist)  [rating 4.8, 74 reviews]" in text.stdout
    assert "heading: Wait 24 hours" in text.stdout
    assert "url: https://www.example.net/answers/alcohol-after-botox" in text.stdout


def test_planted_markup_never_reaches_a_reply(tmp_path, embedder):
    from bot.chain import Bot
    from bot.settings import Settings

    pages = tmp_path / "pages"
    pages.mkdir()
    shutil.copy(HTML / "hostile.html", pages / "hostile.html")
    (pages / "planted.txt").write_text(
        "Can I use ice after Botox?\n\nMy forehead is puffy.\n\nDoctor Answers 1\n\n"
        "Ice is fine\n\n"
        "Ice packs are safe after Botox <img src=x onerror=alert(1)>for ten minutes at a time. "
        "![x](https://evil.example/p.png) [more](javascript:alert(2)) {{ user.token }}\n"
        "<script>\nalert(3)\n</script>\n"
        '<meta http-equiv="refresh" content="0;url=https://evil.example">'
        "Swelling settles within hours.\n\nJane Smith, MD\nDenver Dermatologist\n",
        encoding="utf-8",
    )
    data = tmp_path / "data"
    index = Index(data, embedder=embedder)
    assert index.sync([pages]).ok
    bot = Bot(Settings.load(env={}, data_dir=data), index=index, strict=True)
    reply = bot.answer("Can I put ice on my face after Botox?")
    assert reply.kind == "answer" and reply.citations
    payload = json.dumps(reply.to_dict(), ensure_ascii=False)
    texts = [reply.text] + [
        v for c in reply.citations for v in (c.answer_text, *c.quote, c.page_question)
    ]
    for planted in PLANTED:
        for text in texts:
            assert planted not in text, (planted, text)
    for planted in ("script", "alert", "javascript", "evil.example", "onerror", "svg"):
        assert planted not in payload
    assert all(c.url is None or c.url.startswith("https://") for c in reply.citations)


@pytest.fixture
def startup(monkeypatch):
    from webapp import startup

    monkeypatch.setattr(startup, "open_index", lambda settings: _INDEXES[settings.data_dir])
    return startup


_INDEXES: dict[Path, Index] = {}


def test_bot_sources_keeps_the_owners_pages_and_never_adds_the_seeds(tmp_path, embedder, startup):
    from bot.settings import Settings
    from vectorstore.errors import SettingsError

    data = tmp_path / "data"
    own = tmp_path / "own"
    own.mkdir()
    shutil.copy(HTML / "plain_page.html", own / "plain_page.html")
    index = _INDEXES[data] = Index(data, embedder=embedder)
    assert index.sync([own]).ok  # the site owner ingested their pages with the CLI

    def page_ids() -> set[str]:
        return {d.metadata["page_id"] for d in index.documents()}

    startup.sync_sources(Settings.load(env={}, data_dir=data))  # no BOT_SOURCES
    assert page_ids() == {"plain_page"}
    env = {"BOT_SOURCES": f"{own}, {LAYOUTS / 'badge_lines.txt'}"}
    startup.sync_sources(Settings.load(env=env, data_dir=data))
    assert page_ids() == {"plain_page", "badge_lines"}
    startup.sync_sources(Settings.load(env={"BOT_SOURCES": str(own)}, data_dir=data))
    assert page_ids() == {"plain_page"}  # the index holds exactly BOT_SOURCES
    with pytest.raises(SettingsError, match="does not exist"):
        startup.sync_sources(
            Settings.load(env={"BOT_SOURCES": str(tmp_path / "nope")}, data_dir=data)
        )
    assert page_ids() == {"plain_page"}
    fresh = tmp_path / "fresh"
    _INDEXES[fresh] = Index(fresh, embedder=embedder)
    startup.sync_sources(Settings.load(env={}, data_dir=fresh))  # default: the seed pages
    assert {d.metadata["page_id"] for d in _INDEXES[fresh].documents()} == {
        p.stem for p in SEEDS.glob("*.txt")
    }


def _citation(**extra):
    from bot.reply import Citation

    return Citation(
        marker=1,
        page_id="p",
        answer_id="p#0",
        doctor="Miriam Castellanos",
        credentials="MD, FAAD",
        location="San Antonio",
        specialty="Dermatologist",
        organisation=None,
        page_question="How long does Sculptra last?",
        quote=("Sculptra results usually last about two years.",),
        answer_text="Sculptra results usually last about two years.",
        **extra,
    )


def test_source_card_shows_the_page_link_date_and_upvotes():
    from webapp.render import render_source

    def card(**extra) -> str:
        return render_source(_citation(**extra), "r1")

    html = card(url="https://answers.example.com/q/1#a", date="2024-03-03", upvotes=14)
    assert "<dt>Answered</dt><dd>2024-03-03</dd>" in html
    assert "<dt>Upvotes</dt><dd>14</dd>" in html
    assert 'href="https://answers.example.com/q/1#a"' in html
    bare = card(url="javascript:alert(1)")
    assert "Answered" not in bare and "Upvotes" not in bare and "href" not in bare


def test_ask_prints_the_answer_date_upvotes_and_link():
    from bot.cli import format_reply
    from bot.reply import Reply

    cited = _citation(url="https://answers.example.com/q/1#a", date="2024-03-03", upvotes=14)
    text = format_reply(Reply(text="Two years [1].", disclaimer="Not advice.", citations=(cited,)))
    assert "    answered 2024-03-03, 14 upvotes\n    https://answers.example.com/q/1#a" in text


def test_ingest_without_paths_syncs_bot_sources(tmp_path):
    import os

    data = tmp_path / "data"
    env = {
        **os.environ,
        "BOT_DATA_DIR": str(data),
        "HF_HUB_OFFLINE": "1",
        "BOT_SOURCES": str(HTML / "microdata_qapage.html"),
    }
    result = subprocess.run(
        [sys.executable, "-m", "bot", "ingest"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert "1 files: 2 added" in result.stdout
