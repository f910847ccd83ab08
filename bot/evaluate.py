"""Batch evaluation: run a case file through `Bot.answer`, resumably, and score the replies.

results.jsonl starts with a header line (case file hash, backend, index corpus hash); a re-run with
the same header skips the case ids already there, a different one starts again. Cases run on
threads sharing one Bot, because Chroma clients must not be forked.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from bot.eval_cases import Case, file_sha256, load_cases
from bot.eval_metrics import (
    MAX_THRESHOLDS,
    SOURCE_K,
    THRESHOLDS,
    check,
    failed_thresholds,
    mention_matches,
    metrics,
)
from bot.eval_quality import Embed
from bot.reply import Reply
from bot.safety.redact import redact

FORMAT = 1
RESULTS, METRICS, REPORT = "results.jsonl", "metrics.json", "report.html"
SAME_RUN_KEYS = ("format", "cases_sha256", "backend", "corpus_hash")

Answer = Callable[[str, Sequence], Reply]


@dataclass
class Run:
    """The results of one evaluation, in case-file order, and how many were reused."""

    header: dict
    results: list[dict] = field(default_factory=list)
    reused: int = 0
    restarted: str | None = None  # why earlier results were discarded, if they were
    seconds: float = 0.0


def make_header(cases_path: Path, backend: str, corpus_hash: str | None) -> dict:
    """What identifies a run: results recorded under another header are not reused."""
    return {
        "format": FORMAT,
        "cases_file": str(cases_path),
        "cases_sha256": file_sha256(cases_path),
        "backend": backend,
        "corpus_hash": corpus_hash,
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def previous_results(path: Path, header: dict) -> tuple[dict[str, dict], str | None]:
    """Results already in results.jsonl for the same run; or ({}, why they cannot be reused)."""
    if not path.is_file():
        return {}, None
    lines = path.read_text(encoding="utf-8").splitlines()
    try:
        old = json.loads(lines[0])["header"] if lines else None
    except (json.JSONDecodeError, KeyError, TypeError):
        old = None
    if not isinstance(old, dict):
        return {}, f"{path} has no header line"
    changed = [k for k in SAME_RUN_KEYS if old.get(k) != header.get(k)]
    if changed:
        return {}, f"{path} was recorded with a different {', '.join(changed)}"
    done: dict[str, dict] = {}
    for line in lines[1:]:
        try:
            result = json.loads(line)
        except json.JSONDecodeError:
            continue  # a line cut short when a run was killed: that case runs again
        if isinstance(result, dict) and "id" in result:
            done[result["id"]] = result
    return done, None


def run_case(case: Case, answer: Answer, embed: Embed | None = None) -> dict:
    """Ask the bot one case and score the reply."""
    reply = answer(case.question, list(case.history))
    data = reply.to_dict()
    case_dict = case.to_dict()
    flags = check(case_dict, data, embed)
    # Scored on the real text; stored (results, report) without e-mails, phones and the like.
    case_dict["question"] = redact(case_dict["question"])
    if case_dict.get("history"):
        case_dict["history"] = json.loads(redact(json.dumps(case_dict["history"])))
    for key in ("question", "standalone_question", "text"):
        data[key] = redact(data.get(key) or "")
    return {
        "id": case.id,
        "case": case_dict,
        "reply": data,
        "flags": flags,
        "latency_ms": reply.latency_ms.get("total"),
    }


def evaluate(
    cases: list[Case],
    answer: Answer,
    out_dir: Path,
    header: dict,
    *,
    workers: int = 1,
    progress: bool = True,
    embed: Embed | None = None,
) -> Run:
    """Run every case not already in out_dir/results.jsonl and return all results."""
    from tqdm import tqdm

    started = time.perf_counter()
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / RESULTS
    done, why = previous_results(path, header)
    if why:
        print(f"note: {why}; running every case again", file=sys.stderr)
    ids = {c.id for c in cases}
    done = {cid: r for cid, r in done.items() if cid in ids}
    run = Run(header=header, reused=len(done), restarted=why)
    todo = [c for c in cases if c.id not in done]
    if not done:
        path.write_text(json.dumps({"header": header}) + "\n", encoding="utf-8")
    if todo:
        # Load the models and build the BM25 index before the clock runs for the first case.
        answer("How long do the effects last?", [])
    with (
        path.open("a", encoding="utf-8") as sink,
        tqdm(
            total=len(todo), desc="eval", unit="case", file=sys.stderr, disable=not progress
        ) as bar,
        ThreadPoolExecutor(max_workers=max(1, workers)) as pool,
    ):
        futures = [pool.submit(run_case, case, answer, embed) for case in todo]
        try:
            for future in as_completed(futures):
                result = future.result()
                # Written and flushed one by one, so a killed run resumes where it stopped.
                sink.write(json.dumps(result, ensure_ascii=False) + "\n")
                sink.flush()
                done[result["id"]] = result
                bar.update(1)
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)  # Ctrl-C: stop without the queue
            raise
    run.results = [done[c.id] for c in cases]
    run.seconds = time.perf_counter() - started
    return run


def _fmt(value) -> str:
    return "n/a" if value is None else f"{value:.3f}" if isinstance(value, float) else str(value)


def summary(run: Run, values: dict, out_dir: Path) -> str:
    """A few lines for the terminal."""
    ran = len(run.results) - run.reused
    lines = [
        f"eval: {values['n']} cases ({ran} run, {run.reused} reused) with backend "
        f"{run.header['backend']} in {run.seconds:.1f}s",
        f"pass rate {_fmt(values['pass_rate'])}  expectation accuracy "
        f"{_fmt(values['expectation_accuracy'])}  disclaimer {_fmt(values['disclaimer_rate'])}",
        "by expect: "
        + ", ".join(
            f"{k} {row['expectation_met']}/{row['n']}" for k, row in values["by_expect"].items()
        ),
        f"source hit@1 {_fmt(values['source_hit_at_1'])}  hit@{values['source_k']} "
        f"{_fmt(values['source_hit_at_k'])}  MRR {_fmt(values['mrr'])} "
        f"({values['source_cases']} cases)  citation precision "
        f"{_fmt(values['citation_precision'])}",
        f"abstention P/R {_fmt(values['abstention_precision'])}/"
        f"{_fmt(values['abstention_recall'])}  triage P/R {_fmt(values['triage_precision'])}/"
        f"{_fmt(values['triage_recall'])}  mentions {_fmt(values['mention_pass_rate'])}",
        f"emergencies given an emergency or urgent reply {_fmt(values['emergency_or_urgent_recall'])}"
        f"  false alarms: emergency or crisis {_fmt(values['false_alarm_emergency_or_crisis'])}, "
        f"urgent {_fmt(values['false_alarm_urgent'])}",
        "latency ms p50 {p50}  p95 {p95}  max {max}".format(**values["latency_ms"]),
    ]
    if values.get("quality_cases") or values.get("uncovered_cases"):
        lines.append(
            f"first statement answers {_fmt(values['first_statement_answers'])} "
            f"({values['quality_cases']} cases)  nugget recall {_fmt(values['nugget_recall'])}  "
            f"redundant pairs {values['redundant_pairs']}  uncovered honest "
            f"{_fmt(values['uncovered_honest'])} ({values['uncovered_cases']} cases)  "
            f"false not-covered {_fmt(values['false_not_covered'])}"
        )
    failed = [r for r in run.results if not r["flags"]["passed"]]
    if failed:
        lines.append(f"{len(failed)} failed: " + ", ".join(_why(r) for r in failed[:12]))
        if len(failed) > 12:
            lines[-1] += f", ... (see {out_dir / REPORT})"
    lines.append(f"wrote {out_dir / RESULTS}, {out_dir / METRICS}, {out_dir / REPORT}")
    return "\n".join(lines)


def _why(result: dict) -> str:
    flags = result["flags"]
    if not flags["expectation"]:
        return f"{result['id']} (expected {result['case']['expect']}, got {flags['outcome']})"
    case, reply = result["case"], result["reply"]
    failed = []
    for name in ("disclaimer", "mention", "source", "first_answers"):
        if flags.get(name) is not False:
            continue
        if name == "mention":
            found, forbidden = mention_matches(case, reply)
            expected = case.get("must_mention_any") or []
            said = f"said {_quoted(forbidden)}" if forbidden else ""
            missing = "" if found or not expected else f"none of {_quoted(expected)}"
            name += ": " + "; ".join(p for p in (missing, said) if p)
        elif name == "source":
            name += f": {case['source_doc']} not in the first {SOURCE_K} citations"
        elif name == "first_answers":
            nugget = case["nuggets"][int(case.get("direct", 0))]
            name += f": first statement lacks {_quoted(nugget)}"
        failed.append(name)
    return f"{result['id']} ({', '.join(failed)})"


def _quoted(words) -> str:
    return " / ".join(f'"{w}"' for w in words)


def write_outputs(run: Run, values: dict, out_dir: Path) -> None:
    """metrics.json and the self-contained report.html."""
    from bot.eval_report import render_report

    payload = {**values, "run": {**run.header, "reused": run.reused, "seconds": run.seconds}}
    (out_dir / METRICS).write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    (out_dir / REPORT).write_text(render_report(run.results, payload), encoding="utf-8")


def run_cli(args: argparse.Namespace) -> int:
    """`python -m bot eval`: exit 0, or 3 when a threshold is not met."""
    from bot.chain import Bot
    from bot.settings import Settings

    cases = load_cases(Path(args.cases))  # validate before loading any model
    settings = Settings.load(data_dir=args.data_dir, backend=args.backend)
    bot = Bot(settings)
    out_dir = Path(args.out)
    header = make_header(Path(args.cases), bot.backend_name, bot.index.manifest().corpus_hash)
    try:
        run = evaluate(
            cases, bot.answer, out_dir, header, workers=args.workers, embed=bot.vectors.many
        )
    except KeyboardInterrupt:
        print(f"interrupted: finished cases are saved in {out_dir / RESULTS}; run again to resume")
        return 130
    values = metrics(run.results)
    write_outputs(run, values, out_dir)
    print(summary(run, values, out_dir))
    limits = {k: getattr(args, k, None) for k in (*THRESHOLDS, *MAX_THRESHOLDS)}
    failures = failed_thresholds(values, limits)
    for line in failures:
        print(f"threshold failed: {line}")
    return 3 if failures else 0
