"""The gaps report: declined and partial questions logged redacted, grouped by topic, shown."""

from __future__ import annotations

import html
import json
import shutil
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from bot import prompts
from bot.chain import Bot
from bot.cli import main
from bot.gaps.log import FILE_NAME, GapLog
from bot.gaps.report import build_report, parse_since
from bot.reply import Reply
from bot.settings import Settings
from tests.conftest import ROOT, load_jsonl
from vectorstore.index import Index
from webapp.server import build_app

QUESTIONS = load_jsonl(ROOT / "tests" / "data" / "gaps_questions.jsonl")
TOKEN = "owner-secret-token"


def _reply(kind: str) -> Reply:
    return Reply(text="...", disclaimer=prompts.disclaimer(), kind=kind)


def test_the_log_keeps_only_gap_questions_redacted_and_only_for_the_retention(tmp_path):
    log = GapLog(tmp_path / FILE_NAME, retention_days=30)
    now = datetime(2026, 12, 1, 12, tzinfo=UTC)
    assert log.record(_reply("abstain"), "Lip filler? mail me: ann.lee@example.com", now=now)
    assert log.record(_reply("partial"), "Can I drink alcohol after Botox? (415) 555-0132", now)
    assert not log.record(_reply("answer"), "How long does Botox last?", now=now)
    assert not log.record(_reply("emergency"), "I cannot breathe", now=now)
    old = now - timedelta(days=31)
    log.record(_reply("abstain"), "an old question", now=old)  # purged by the next look
    stored = log.since(now - timedelta(days=60), now)
    assert [(g.kind, g.question) for g in stored] == [
        ("abstain", "Lip filler? mail me: [email]"),
        ("partial", "Can I drink alcohol after Botox? [phone]"),
    ]
    assert b"ann.lee" not in (tmp_path / FILE_NAME).read_bytes()
    assert log.purge(now + timedelta(days=31)) == 2 and log.since(old, now) == []


@pytest.mark.parametrize(("text", "days"), [("30d", 30), ("12h", 0.5), ("2w", 14), (" 7d ", 7)])
def test_since_reads_hours_days_and_weeks(text, days):
    assert parse_since(text) == timedelta(days=days)


@pytest.mark.parametrize("text", ["", "30", "d", "0d", "3m", "-2d"])
def test_since_refuses_anything_else(text):
    with pytest.raises(ValueError, match="expected a number and h, d or w"):
        parse_since(text)


def test_an_empty_window_is_an_empty_report():
    now = datetime.now(UTC)
    report = build_report([], lambda texts: [], start=now - timedelta(days=1), end=now)
    assert report.total == 0 and report.clusters == ()


@pytest.fixture
def data_dir(seed_index_dir, tmp_path):
    """A private copy of the seed index."""
    target = tmp_path / "data"
    shutil.copytree(seed_index_dir, target)
    return target


def _app(data_dir, embedder, **settings):
    settings = Settings.load(env={}, data_dir=data_dir, **settings)
    return build_app(Bot(settings, index=Index(data_dir, embedder=embedder)))


def test_nothing_is_collected_unless_the_setting_turns_it_on(data_dir, embedder):
    with TestClient(_app(data_dir, embedder)) as client:
        got = client.post("/api/ask", json={"question": "Is lip filler permanent?"})
        assert got.json()["kind"] == "abstain"
        assert client.get("/gaps").status_code == 404  # no token set: no page at all
    assert not (data_dir / FILE_NAME).exists()


def test_gaps_report_groups_a_batch_of_uncovered_questions(data_dir, embedder, capsys):
    app = _app(data_dir, embedder, collect_gaps=True, gaps_token=TOKEN, rate_limit=100)
    kinds = {}
    with TestClient(app) as client:
        for case in QUESTIONS:
            kinds[case["question"]] = client.post(
                "/api/ask", json={"question": case["question"]}
            ).json()["kind"]
        covered = client.post("/api/ask", json={"question": "How long does Botox last?"})
        assert covered.json()["kind"] == "answer"  # answered questions are not logged

        assert client.get("/gaps").status_code == 401
        assert client.get("/gaps", auth=("owner", "wrong")).status_code == 401
        assert client.get("/gaps?since=soon", auth=("x", TOKEN)).status_code == 400
        page = client.get("/gaps?since=30d", auth=("owner", TOKEN))
        bearer = client.get("/gaps", headers={"Authorization": f"Bearer {TOKEN}"})
    assert page.status_code == 200 and bearer.status_code == 200
    assert page.headers["content-type"].startswith("text/html")

    logged = [c for c in QUESTIONS if kinds[c["question"]] in {"abstain", "partial"}]
    assert len(logged) >= 15, kinds  # the seed pages are about Botox's duration and effects
    assert main(["--data-dir", str(data_dir), "gaps", "--since", "30d", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["total"] == len(logged)
    topic_of = {c["question"]: c["topic"] for c in QUESTIONS}
    redacted = {
        "I had Botox today, can I go out drinking tonight? My email is [email]": "alcohol",
        "Will my lips look swollen for long after lip filler? Call me at [phone]": "lip_filler",
    }
    topic_of.update(redacted)
    clusters = [[topic_of[q] for q in c["questions"]] for c in report["clusters"]]
    assert all(len(set(topics)) == 1 for topics in clusters), clusters  # one topic each
    by_topic = [topics[0] for topics in clusters]
    assert len(by_topic) == len(set(by_topic)), clusters  # each topic in one cluster
    assert sum(c["count"] for c in report["clusters"]) == len(logged)
    alcohol = next(c for c in report["clusters"] if topic_of[c["example"]] == "alcohol")
    for cluster in report["clusters"]:  # topic words are the questions' own words
        said = " ".join(cluster["questions"]).lower()
        assert cluster["topic"] and all(word in said for word in cluster["topic"]), cluster
    assert alcohol["kinds"] == {"partial": alcohol["count"]}  # "none of the answers mention"
    text = page.text
    assert "jane.doe" not in text and "555-0132" not in text and "[email]" in text
    for cluster in report["clusters"]:
        assert f"{cluster['count']}</td>" in text and html.escape(cluster["example"]) in text

    assert main(["--data-dir", str(data_dir), "gaps"]) == 0
    printed = capsys.readouterr().out
    assert f"{len(logged)} question(s) declined or answered only partly" in printed
    assert f'e.g. "{alcohol["example"]}"' in printed


def test_the_chat_page_stream_is_logged_too(seed_bot, tmp_path):
    from webapp.gaps_page import GapRecorder

    log = GapLog(tmp_path / FILE_NAME)
    recorder = GapRecorder(seed_bot, log)
    events = list(recorder.stream("Is lip filler permanent? I'm at bob@example.org"))
    assert events[-1].reply.kind == "abstain"
    assert recorder.answer("How long does Botox last?").kind == "answer"
    assert recorder.safety_first("I can't breathe after Botox").triage == "emergency"
    now = datetime.now(UTC)
    assert [g.question for g in log.since(now - timedelta(hours=1), now)] == [
        "Is lip filler permanent? I'm at [email]"
    ]
