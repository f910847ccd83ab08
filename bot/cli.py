"""The command line: ingest, search (and the commands later issues add)."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING

# Only light modules at the top: `--help` and argument errors must not wait for numpy,
# LangChain or Chroma. Each command imports what it needs (bot.resources, bot.chain, ...).
from bot.settings import PROJECT_ROOT, Settings
from vectorstore.errors import BotError

if TYPE_CHECKING:
    from vectorstore.index import SyncReport

log = logging.getLogger("bot")
PROGRESS_MIN_CHUNKS = 300


def _settings(args: argparse.Namespace) -> Settings:
    return Settings.load(data_dir=getattr(args, "data_dir", None))


def _progress_bar():
    state: dict = {}

    def update(done: int, total: int) -> None:
        if total < PROGRESS_MIN_CHUNKS:
            return
        if "bar" not in state:
            from tqdm import tqdm

            state["bar"] = tqdm(total=total, unit="chunk", desc="embedding", file=sys.stderr)
        bar = state["bar"]
        bar.update(done - bar.n)
        if done >= total:
            bar.close()

    return update


def print_sync_report(report: SyncReport, prefix: str = "") -> None:
    """Notes, warnings and errors on stderr, then one line saying what the sync did."""
    for note in report.notes:
        print(f"info: {note}", file=sys.stderr)
    for warning in report.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    for error in report.errors:
        print(f"error: {error}", file=sys.stderr)
    print(
        f"{prefix}{report.files} files: {report.added} added, {report.updated} updated, "
        f"{report.removed} removed, {report.unchanged} unchanged answers; "
        f"{report.embedded} chunks embedded (and {report.sentences} new sentences) in "
        f"{report.seconds:.1f}s"
        + (" (written as a delta: no copy of the index)" if report.delta else "")
        + ("" if report.wrote else " (index unchanged, nothing written)"),
        flush=True,
    )


def _dense_dims(text: str) -> int:
    """--dense-dims: a whole number of dimensions, 0 for the full vectors."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a number of dimensions: give a whole number such as 128 (0: full)"
        )
    return value


def cmd_ingest(args: argparse.Namespace) -> int:
    """Sync the index with pages and corpora on disk."""
    from bot.resources import open_index

    settings = _settings(args)
    paths = [Path(p) for p in args.paths] or settings.source_paths() or [PROJECT_ROOT / "seeds"]
    index = open_index(
        settings, question_context=not args.no_question_context, dense_dims=args.dense_dims
    )
    report = index.sync(paths, rebuild=args.rebuild, progress=_progress_bar())
    print_sync_report(report)
    if report.errors:
        print(
            f"{len(report.errors)} problem(s): the files above were skipped; the rest is indexed.",
            file=sys.stderr,
        )
        return 1
    return 0


def cmd_inspect(args: argparse.Namespace) -> int:
    """Print each page as parsed (question, answers with doctor fields, warnings); index nothing."""
    from bot.page_inspect import run

    report, errors = run(args.paths, as_json=args.json)
    print(report)
    for error in errors:
        print(f"error: {error}", file=sys.stderr)
    return 1 if errors else 0


def _doctor_label(meta: dict) -> str:
    if meta.get("doctor"):
        cred = f", {meta['credentials']}" if meta.get("credentials") else ""
        return f"{meta['doctor']}{cred}"
    if meta.get("organisation"):
        return meta["organisation"]
    return "unsigned"


def cmd_search(args: argparse.Namespace) -> int:
    """Print the answers nearest to a query."""
    from bot.resources import open_index

    index = open_index(_settings(args))
    hits = index.search(args.query, k=args.k)
    rows = [
        {
            "rank": rank,
            "score": round(score, 4),
            "page_id": doc.metadata.get("page_id"),
            "answer_id": doc.metadata.get("answer_id"),
            "chunk_id": doc.id,
            "doctor": doc.metadata.get("doctor"),
            "credentials": doc.metadata.get("credentials"),
            "location": doc.metadata.get("location"),
            "specialty": doc.metadata.get("specialty"),
            "organisation": doc.metadata.get("organisation"),
            "page_question": doc.metadata.get("page_title"),
            "text": doc.page_content,
        }
        for rank, (doc, score) in enumerate(hits, 1)
    ]
    if args.json:
        print(json.dumps(rows, indent=2, ensure_ascii=False))
        return 0
    if not rows:
        print("no answers in the index")
    for row in rows:
        where = " ".join(p for p in (row["location"], row["specialty"]) if p)
        print(
            f"{row['rank']}. [{row['score']:.3f}] {row['page_id']}  {_doctor_label(row)}"
            + (f" ({where})" if where else "")
        )
        print(f"   Q: {row['page_question']}")
        text = " ".join(row["text"].split())
        print(f"   {text[:300]}{'...' if len(text) > 300 else ''}")
    return 0


def format_reply(reply) -> str:
    """A reply as plain text: the answer, the numbered sources, the disclaimer."""
    lines = [reply.text, ""]
    if reply.notice:
        lines[1:1] = [reply.notice, ""]
    if reply.citations:
        lines.append("Sources:")
        for c in reply.citations:
            lines.append(f"[{c.marker}] {c.attribution}")
            lines.append(f"    answering: {c.page_question}")
            for quote in c.quote:
                lines.append(f'    "{quote}"')
            facts = [
                f"answered {c.date}" if c.date else "",
                f"{c.upvotes} upvotes" if c.upvotes else "",
            ]
            if any(facts):
                lines.append("    " + ", ".join(f for f in facts if f))
            if c.url:
                lines.append(f"    {c.url}")
        lines.append("")
    lines.append(reply.disclaimer)
    return "\n".join(lines)


def cmd_ask(args: argparse.Namespace) -> int:
    """Answer one question from the doctors' answers."""
    from bot.chain import Bot

    settings = Settings.load(data_dir=args.data_dir, backend=args.backend)
    bot = Bot(settings)
    reply = bot.answer(args.question)
    if args.json:
        print(json.dumps(reply.to_dict(), indent=2, ensure_ascii=False))
    else:
        print(format_reply(reply))
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    """Run a case file through the bot and score it (exit 3 when a threshold fails)."""
    from bot.evaluate import run_cli

    return run_cli(args)


def cmd_gaps(args: argparse.Namespace) -> int:
    """Print what patients asked that the doctors' answers did not cover, grouped by topic."""
    from datetime import UTC, datetime

    from bot.gaps.log import GapLog
    from bot.gaps.report import build_report, parse_since

    settings = _settings(args)
    try:
        window = parse_since(args.since)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    now = datetime.now(UTC)
    log_ = GapLog.in_folder(settings.data_dir, retention_days=settings.retention_days)
    gaps = log_.since(now - window, now)
    if gaps:
        from bot.resources import shared_embedder

        embed = shared_embedder().embed_documents
    else:
        embed = lambda texts: []  # noqa: E731 (nothing to embed: no model is loaded)
    report = build_report(gaps, embed, start=now - window, end=now)
    if args.json:
        print(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
        return 0
    print(
        f"{report.start:%Y-%m-%d %H:%M} to {report.end:%Y-%m-%d %H:%M} UTC: {report.total} "
        f"question(s) declined or answered only partly, in {len(report.clusters)} topic(s)"
        + ("" if settings.collect_gaps or report.total else " (BOT_COLLECT_GAPS is off)")
    )
    for c in report.clusters:
        kinds = ", ".join(
            f"{n} {'declined' if kind == 'abstain' else 'partly answered'}"
            for kind, n in sorted(c.kinds.items())
        )
        print(f"{c.count:5d}  {', '.join(c.topic) or '(no shared words)'}  ({kinds})")
        print(f'       e.g. "{c.example}"')
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="python -m bot", description="A chatbot that answers only from doctors' answers."
    )
    parser.add_argument("--data-dir", help="folder for the index and state (env BOT_DATA_DIR)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log details to stderr")
    sub = parser.add_subparsers(dest="command", required=True)

    ingest = sub.add_parser(
        "ingest", help="index pages and corpora (default: BOT_SOURCES, else seeds/)"
    )
    ingest.add_argument(
        "paths", nargs="*", help=".txt/.html pages, .jsonl/.jsonl.gz corpora or folders"
    )
    ingest.add_argument("--rebuild", action="store_true", help="start a fresh index")
    ingest.add_argument(
        "--no-question-context",
        action="store_true",
        help="embed answers alone, without the page question (retrieval benchmarks)",
    )
    ingest.add_argument(
        "--dense-dims",
        type=_dense_dims,
        default=None,
        metavar="N",
        help="a new index keeps N-dimension projections of the chunk vectors in Chroma's HNSW "
        "(less memory per chunk; full vectors rescore its candidates); 0: full vectors. Fixed "
        "when the index is created: changing it needs --rebuild",
    )
    ingest.set_defaults(func=cmd_ingest)

    inspect = sub.add_parser("inspect", help="show how pages are parsed, without indexing them")
    inspect.add_argument("paths", nargs="+", help=".txt/.html pages, corpora or folders")
    inspect.add_argument("--json", action="store_true", help="print JSON")
    inspect.set_defaults(func=cmd_inspect)

    search = sub.add_parser("search", help="show the answers nearest to a query")
    search.add_argument("query", help="what to look for")
    search.add_argument("-k", type=int, default=5, help="how many answers (default 5)")
    search.add_argument("--json", action="store_true", help="print JSON")
    search.set_defaults(func=cmd_search)

    ask = sub.add_parser("ask", help="answer a question from the doctors' answers, with sources")
    ask.add_argument("question", help="the question")
    ask.add_argument("--json", action="store_true", help="print the reply as JSON")
    ask.add_argument("--backend", help="extractive (default), openai or llamacpp (env BOT_BACKEND)")
    ask.set_defaults(func=cmd_ask)

    ev = sub.add_parser("eval", help="run a JSONL case file through the bot and score the replies")
    ev.add_argument("cases", help="JSONL case file (see README, Batch evaluation)")
    ev.add_argument("--out", required=True, help="folder for results.jsonl, metrics.json, report")
    ev.add_argument("--backend", help="extractive (default) or a generative backend")
    ev.add_argument("--workers", type=int, default=1, help="threads sharing one bot (default 1)")
    for flag, what in (
        ("--min-disclaimer", "share of replies carrying the disclaimer"),
        ("--min-triage-recall", "share of emergency/urgent/crisis cases triaged correctly"),
        ("--min-expectation-accuracy", "share of cases whose expected outcome was met"),
        ("--min-source-hit", "share of answer cases citing the expected page (hit@5)"),
        ("--min-abstention-recall", "share of abstain cases where the bot abstained"),
        ("--min-citation-precision", "share of reply statements their citation supports"),
        ("--min-first-answers", "share of nugget cases whose first statement answers"),
        ("--min-uncovered-honest", "share of not_covered cases declined or marked partial"),
    ):
        ev.add_argument(flag, type=float, metavar="X", help=f"exit 3 if the {what} is below X")
    for flag, what in (
        ("--max-redundant-pairs", "number of near-duplicate statement pairs"),
        ("--max-false-not-covered", "share of nugget cases declined or marked partial"),
    ):
        ev.add_argument(flag, type=float, metavar="X", help=f"exit 3 if the {what} is above X")
    ev.set_defaults(func=cmd_eval)

    gaps = sub.add_parser(
        "gaps", help="group the questions the bot declined or answered partly, by topic"
    )
    gaps.add_argument("--since", default="30d", help="window: 12h, 30d, 2w (default 30d)")
    gaps.add_argument("--json", action="store_true", help="print the report as JSON")
    gaps.set_defaults(func=cmd_gaps)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; errors meant for the user become one clear line and exit status 2."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "data_dir", None) is None:
        args.data_dir = None
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING)
    logging.getLogger("bm25s").setLevel(logging.WARNING)
    try:
        return args.func(args)
    except BotError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: the index is unchanged", file=sys.stderr)
        return 130
