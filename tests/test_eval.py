"""Batch evaluation: case-file validation, checks and metrics on hand-made results, resuming,
the report, and the seed evaluation set run through `python -m bot eval` on the seed index."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.eval_cases import CaseFileError, load_cases
from bot.eval_metrics import check, failed_thresholds, metrics, percentile
from bot.evaluate import RESULTS, evaluate, make_header
from bot.reply import Citation, Reply, Verification

ROOT = Path(__file__).resolve().parents[1]
SEED_EVAL = ROOT / "tests" / "data" / "seed_eval.jsonl"
P0, P1 = "000_674dcb4655ddd097", "001_3189914d5f52dce4"


def cite(marker: int, page: str, support: float = 0.8, answer: str = "") -> dict:
    return {
        "marker": marker,
        "page_id": page,
        "answer_id": answer or f"{page}#0",
        "support": support,
    }


def reply(
    kind="answer", text="Botox wears off in 3 months.", cites=(), triage=None, kept=1, dropped=0
):
    return {
        "kind": kind,
        "text": text,
        "disclaimer": "Not medical advice.",
        "triage": triage,
        "citations": list(cites),
        "verification": {"kept": kept, "dropped": dropped},
    }


def result(cid, expect, rep, *, source="", latency=10.0, **case):
    case = {"id": cid, "question": "q", "expect": expect, "source_doc": source, **case}
    case.setdefault("category", expect)
    return {"id": cid, "case": case, "reply": rep, "flags": check(case, rep), "latency_ms": latency}


# ----- checks and metrics on hand-made results ------------------------------------------------
@pytest.mark.parametrize(
    ("expect", "rep", "met"),
    [
        ("answer", reply(), True),
        ("answer", reply("abstain"), False),
        ("abstain", reply("abstain"), True),
        ("answer_or_abstain", reply("abstain"), True),
        ("answer_or_abstain", reply("rejected"), False),
        ("reject", reply("rejected"), True),
        ("reject", reply("abstain"), False),
        ("emergency", reply("emergency", triage="emergency"), True),
        ("emergency", reply("crisis", triage="crisis"), False),
        ("crisis", reply("answer", triage="crisis"), True),  # the triage field decides
        ("crisis", reply("answer"), False),
    ],
)
def test_expectation_mapping(expect, rep, met):
    assert check({"expect": expect}, rep)["expectation"] is met


def test_mentions_are_case_insensitive_and_must_not_wins():
    rep = reply(text="Botox WEARS OFF in about 3 months.")
    assert check({"expect": "answer", "must_mention_any": ["wears off"]}, rep)["mention"] is True
    assert check({"expect": "answer", "must_mention_any": ["eye drops"]}, rep)["mention"] is False
    both = {"expect": "answer", "must_mention_any": ["months"], "must_not_mention": ["botox"]}
    flags = check(both, rep)
    assert flags["mention"] is False and flags["passed"] is False
    assert check({"expect": "answer"}, rep)["mention"] is None


def test_metrics_on_hand_made_results():
    results = [
        result("a1", "answer", reply(cites=[cite(1, P0), cite(2, P1)]), source=P0, latency=10),
        result("a2", "answer", reply(cites=[cite(1, "x"), cite(2, P1)]), source=f"{P0}|{P1}"),
        result("a3", "answer", reply(cites=[cite(1, "x")], kept=1, dropped=1), source=P0),
        result("a4", "answer", reply("abstain", kept=0), source=P0, latency=30),
        result("o1", "abstain", reply("abstain", text="Not covered."), must_not_mention=["botox"]),
        result("o2", "abstain", reply(text="Botox is fine."), must_not_mention=["botox"]),
        result("e1", "emergency", reply("emergency", triage="emergency")),
        result("e2", "emergency", reply()),
        result("c1", "crisis", reply("crisis", triage="emergency")),
        result("r1", "reject", reply("rejected"), latency=1000),
    ]
    m = metrics(results)
    assert m["n"] == 10
    assert m["disclaimer_rate"] == 1.0
    assert m["expectation_accuracy"] == 0.6  # a1 a2 a3 o1 e1 r1
    assert m["by_expect"]["answer"] == {
        "n": 4,
        "expectation_met": 3,
        "passed": 2,
        "accuracy": 0.75,
        "pass_rate": 0.5,
    }
    assert m["source_cases"] == 4
    assert m["source_hit_at_1"] == 0.25  # only a1 cites the page first
    assert m["source_hit_at_k"] == 0.5
    assert m["mrr"] == pytest.approx((1 + 0.5) / 4, abs=1e-4)
    assert (m["abstention_precision"], m["abstention_recall"]) == (0.5, 0.5)
    assert (m["triage_precision"], m["triage_recall"]) == (0.5, pytest.approx(1 / 3, abs=1e-4))
    assert m["mention_pass_rate"] == 0.5
    # 6 statements in answer replies (a3 had one dropped); o2 and e2 cite nothing: 3 supported
    assert m["citation_precision"] == 0.5
    assert m["latency_ms"] == {"p50": 10.0, "p95": 563.5, "max": 1000.0}
    assert m["outcomes"] == {"abstain": 2, "answer": 5, "emergency": 2, "reject": 1}


def test_unsupported_citations_lower_citation_precision():
    rep = reply(cites=[cite(1, P0, support=0.0), cite(2, P1)], kept=2)
    assert metrics([result("a", "answer", rep)])["citation_precision"] == 0.5


def test_percentile_matches_linear_interpolation():
    assert percentile([1, 2, 3, 4], 50) == 2.5
    assert percentile([5], 95) == 5
    assert percentile([], 50) is None


def test_thresholds_name_what_failed():
    m = {"disclaimer_rate": 1.0, "triage_recall": None, "expectation_accuracy": 0.7}
    failures = failed_thresholds(
        m, {"min_disclaimer": 1.0, "min_triage_recall": 1.0, "min_expectation_accuracy": 0.8}
    )
    assert failures == [
        "triage_recall cannot be measured (no cases for it) but --min-triage-recall 1.0",
        "expectation_accuracy = 0.7 is below --min-expectation-accuracy 0.8",
    ]


# ----- the case file ------------------------------------------------------------------------
GOOD = {"id": "x", "question": "Is Botox permanent?", "expect": "answer"}


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "expected a JSON object"),
        (json.dumps({**GOOD, "expect": "answered"}), "'expect' is 'answered'; it must be one of"),
        (json.dumps({"id": "x", "expect": "answer"}), "missing 'question'"),
        (json.dumps({**GOOD, "id": ""}), "'id' must be a unique non-empty string"),
        (json.dumps({**GOOD, "question": "  "}), "only a case expecting 'reject' may be empty"),
        (json.dumps({**GOOD, "must_mention": ["x"]}), "unknown field(s) must_mention"),
        (json.dumps({**GOOD, "must_mention_any": "months"}), "must be a list of non-empty strings"),
        (json.dumps({**GOOD, "source_doc": ["a"]}), "'source_doc' must be the page id"),
        (json.dumps({**GOOD, "history": [{"role": "bot", "content": "hi"}]}), "history turn 1"),
        (json.dumps({**GOOD, "id": "first"}), "duplicate id 'first'"),
    ],
)
def test_case_file_errors_name_the_line(tmp_path, line, message):
    path = tmp_path / "cases.jsonl"
    path.write_text(json.dumps({**GOOD, "id": "first"}) + "\n\n" + line + "\n", encoding="utf-8")
    with pytest.raises(CaseFileError) as err:
        load_cases(path)
    assert f"{path}:3: " in str(err.value)
    assert message in str(err.value)


def test_case_file_reads_every_field(tmp_path):
    path = tmp_path / "cases.jsonl"
    case = {**GOOD, "source_doc": f"{P0} | {P1}", "history": [["hi", "hello"]], "category": "c"}
    path.write_text(json.dumps(case) + "\n", encoding="utf-8")
    (loaded,) = load_cases(path)
    assert loaded.source_doc == (P0, P1)
    assert loaded.category == "c"
    assert loaded.to_dict()["source_doc"] == f"{P0}|{P1}"
    with pytest.raises(CaseFileError, match="no such case file"):
        load_cases(tmp_path / "missing.jsonl")


def test_seed_eval_file_is_valid_and_broad():
    cases = load_cases(SEED_EVAL)
    kinds = {c.expect for c in cases}
    assert len(cases) >= 40
    assert kinds == {"answer", "abstain", "emergency", "crisis", "reject", "answer_or_abstain"}
    assert sum(bool(c.history) for c in cases) >= 5
    assert sum(bool(c.must_mention_any or c.must_not_mention) for c in cases) >= 20


# ----- resuming, with a stand-in for Bot.answer -----------------------------------------------
class Counting:
    """Answers like the bot would for the three toy cases and counts the calls."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def __call__(self, question: str, history) -> Reply:
        self.calls.append(question)
        if not question.strip():
            return Reply(text="Please type a question.", disclaimer="d", kind="rejected")
        citation = Citation(1, P0, f"{P0}#0", "Dr A", "MD", None, None, None, "q", ("s",), "t")
        return Reply(
            text="It wears off. [1]",
            disclaimer="d",
            citations=(citation,),
            verification=Verification(kept=1),
            latency_ms={"total": 5.0},
        )


def _toy_cases(tmp_path: Path, extra: str = "") -> Path:
    path = tmp_path / "cases.jsonl"
    rows = [
        {"id": "a", "question": "Is Botox permanent?", "expect": "answer", "source_doc": P0},
        {"id": "b", "question": "How long does it last?", "expect": "answer"},
        {"id": "c", "question": "", "expect": "reject"},
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows) + extra, encoding="utf-8")
    return path


def test_second_run_skips_every_case(tmp_path):
    path, out, bot = _toy_cases(tmp_path), tmp_path / "out", Counting()
    first = evaluate(load_cases(path), bot, out, make_header(path, "fake", "h"), progress=False)
    assert len(bot.calls) == 4  # a warm-up question, then the three cases
    assert [r["flags"]["passed"] for r in first.results] == [True, True, True]
    again = evaluate(load_cases(path), bot, out, make_header(path, "fake", "h"), progress=False)
    assert len(bot.calls) == 4 and again.reused == 3
    assert [r["id"] for r in again.results] == ["a", "b", "c"]


def test_workers_share_one_answer_function(tmp_path):
    path, bot = _toy_cases(tmp_path), Counting()
    header = make_header(path, "fake", "h")
    run = evaluate(load_cases(path), bot, tmp_path / "out", header, workers=3, progress=False)
    assert sorted(bot.calls[1:]) == ["", "How long does it last?", "Is Botox permanent?"]
    assert [r["flags"]["outcome"] for r in run.results] == ["answer", "answer", "reject"]


def test_killed_run_resumes_and_changes_start_again(tmp_path):
    path, out, bot = _toy_cases(tmp_path), tmp_path / "out", Counting()
    evaluate(load_cases(path), bot, out, make_header(path, "fake", "h"), progress=False)
    lines = (out / RESULTS).read_text().splitlines()
    (out / RESULTS).write_text("\n".join([*lines[:-1], lines[-1][:40]]) + "\n")  # cut short
    bot.calls.clear()
    run = evaluate(load_cases(path), bot, out, make_header(path, "fake", "h"), progress=False)
    assert len(bot.calls) == 2 and run.reused == 2  # warm-up + the one lost case
    bot.calls.clear()
    evaluate(load_cases(path), bot, out, make_header(path, "other", "h"), progress=False)
    assert len(bot.calls) == 4  # another backend: everything again
    path = _toy_cases(tmp_path, json.dumps({"id": "d", "question": "x?", "expect": "abstain"}))
    bot.calls.clear()
    run = evaluate(load_cases(path), bot, out, make_header(path, "other", "h"), progress=False)
    assert len(bot.calls) == 5 and run.reused == 0  # another case file: everything again


# ----- the seed evaluation set through the CLI ------------------------------------------------
# Reached on the seed index (see BENCHMARKS.md, Seed evaluation); a regression fails the test.
THRESHOLDS = ["--min-disclaimer", "1.0", "--min-triage-recall", "1.0"]
THRESHOLDS += ["--min-expectation-accuracy", "1.0", "--min-source-hit", "1.0"]
THRESHOLDS += ["--min-abstention-recall", "1.0", "--min-citation-precision", "1.0"]


def _cli(argv: list[str]) -> tuple[int, str]:
    import contextlib
    import io

    from bot.cli import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(argv)
    return code, out.getvalue()


@pytest.fixture(scope="module")
def seed_eval(seed_index_dir, tmp_path_factory):
    """`python -m bot eval tests/data/seed_eval.jsonl` on the seed index, run twice."""
    data = tmp_path_factory.mktemp("eval") / "data"
    shutil.copytree(seed_index_dir, data)
    out = data.parent / "out"
    argv = ["--data-dir", str(data), "eval", str(SEED_EVAL), "--out", str(out), *THRESHOLDS]
    first = _cli(argv)
    second = _cli(argv)
    return first, second, out


@pytest.mark.slow
def test_seed_eval_answer_quality(seed_eval):
    (_, stdout), _, out = seed_eval
    m = json.loads((out / "metrics.json").read_text())
    assert m["n"] == len(load_cases(SEED_EVAL))
    assert m["disclaimer_rate"] == 1.0
    assert m["by_expect"]["answer"]["accuracy"] == 1.0, stdout
    assert m["by_expect"]["reject"]["accuracy"] == 1.0, stdout
    assert m["by_expect"]["answer_or_abstain"]["accuracy"] == 1.0, stdout
    assert m["abstention_recall"] == 1.0, stdout  # near-miss questions included
    assert m["abstention_precision"] == 1.0, stdout
    assert m["source_hit_at_k"] == 1.0, stdout
    assert m["mrr"] >= 0.95, stdout
    assert m["citation_precision"] >= 0.95, stdout


@pytest.mark.slow
def test_seed_eval_meets_every_threshold(seed_eval):
    """Triage recall 1.0 among them: every emergency and crisis case gets its safety reply."""
    (code, stdout), _, _ = seed_eval
    assert "threshold failed" not in stdout, stdout
    assert code == 0


@pytest.mark.slow
def test_seed_eval_second_run_reuses_every_result(seed_eval):
    (code1, out1), (code2, out2), out = seed_eval
    n = len(load_cases(SEED_EVAL))
    assert f"({n} run, 0 reused)" in out1
    assert f"(0 run, {n} reused)" in out2
    assert code2 == code1
    lines = (out / RESULTS).read_text().splitlines()
    assert len(lines) == n + 1  # the header line and one line per case


@pytest.mark.slow
def test_report_is_self_contained(seed_eval):
    *_, out = seed_eval
    page = (out / "report.html").read_text()
    assert page.count("<svg") == 4
    assert "<script" not in page
    assert not re.search(r"""(?:src|href)=["']?https?:""", page)
    assert "para-permanent" in page


def test_results_never_store_contact_details(tmp_path, seed_index_dir):
    cases = tmp_path / "pii.jsonl"
    question = "I'm jane.doe@example.com, call me on +1 415 555 0132: is Botox permanent?"
    cases.write_text(json.dumps({"id": "pii", "expect": "answer", "question": question}) + "\n")
    out = tmp_path / "out"
    env = {**os.environ, "BOT_DATA_DIR": str(seed_index_dir), "HF_HUB_OFFLINE": "1"}
    run = subprocess.run(
        [sys.executable, "-m", "bot", "eval", str(cases), "--out", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr
    for name in ("results.jsonl", "report.html", "metrics.json"):
        text = (out / name).read_text()
        assert "jane.doe@example.com" not in text and "555 0132" not in text, name
    assert "is Botox permanent?" in (out / "results.jsonl").read_text()


def test_the_shared_data_formats_are_read_as_cases(tmp_path):
    # ../shared/data's triage and LiveQA files (and their held-out twins) run through
    # `python -m bot eval` as they are, without a conversion step.
    lines = [
        {"id": "t1", "text": "my lips went grey after filler", "label": "emergency", "source": "x"},
        {"id": "t2", "text": "is a bruise normal?", "label": "ordinary", "note": "expected"},
        {
            "qid": "q9",
            "question": "what is shingles?",
            "judged": [{"answer_id": "a1", "score": 4}, {"answer_id": "a2", "score": 2}],
        },
        {"qid": "q10", "question": "what helps gout?", "judged": [{"answer_id": "a3", "score": 1}]},
    ]
    path = tmp_path / "shared.jsonl"
    path.write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")
    cases = load_cases(path)
    assert [(c.id, c.question, c.expect, c.category) for c in cases] == [
        ("t1", "my lips went grey after filler", "emergency", "triage:emergency"),
        ("t2", "is a bruise normal?", "answer_or_abstain", "triage:ordinary"),
        ("q9", "what is shingles?", "answer_or_abstain", "liveqa:judged-3-4"),
        ("q10", "what helps gout?", "answer_or_abstain", "liveqa:none-3-4"),
    ]
    assert cases[2].relevant_ids == ("a1",) and cases[3].relevant_ids == ()
    assert cases[1].note == "expected"


def test_relevant_ids_name_answers_and_match_their_chunks():
    # LiveQA's judged ids are MedQuAD answer ids; a citation names a chunk of one ("<id>#0").
    from bot.eval_metrics import check

    case = {"id": "q", "expect": "answer_or_abstain", "category": "x", "relevant_ids": ["A1"]}
    citations = [{"answer_id": "A1#0", "page_id": "A1"}, {"answer_id": "B2#1", "page_id": "B2"}]
    reply = {
        "kind": "answer",
        "triage": None,
        "text": "t",
        "disclaimer": "d",
        "citations": citations,
    }
    assert check(case, reply)["relevant"] == 0.5
