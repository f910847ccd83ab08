"""Start-up time of each `python -m bot` command, this tree against a baseline commit.

Run: `.venv/bin/python benchmarks/cli_startup.py [--baseline REV] [--runs 5]`. The baseline
is checked out into a temporary clone (default: f898f04, the last commit before the CLI's
imports were made lazy), both trees run the same commands, each on its own index of seeds/, alternating
run by run so both see the same machine load, and the medians are written into BENCHMARKS.md
between the `cli_startup` markers.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.marked_section import write_marked  # noqa: E402

BASELINE = "f898f04"
START, END = "<!-- cli_startup:start -->", "<!-- cli_startup:end -->"
# (label, arguments after `python -m bot --data-dir DATA`); DATA is filled in per run.
COMMANDS = (
    ("--help", ["--help"]),
    ("search --help", ["search", "--help"]),
    ("ingest --help", ["ingest", "--help"]),
    ("inspect --help", ["inspect", "--help"]),
    ("search QUERY -k 3", ["search", "is botox permanent", "-k", "3"]),
    ("ingest seeds/ (nothing changed)", ["ingest", "seeds/"]),
    ("gaps --since 30d", ["gaps", "--since", "30d"]),
    ("ask QUESTION", ["ask", "How long does Botox last?"]),
)


def _env() -> dict:
    env = dict(os.environ, HF_HUB_OFFLINE="1", ANONYMIZED_TELEMETRY="False")
    env.pop("PYTHONPATH", None)
    return env


def run_once(tree: Path, data: Path, args: list[str]) -> tuple[float, float, int]:
    """Wall and CPU (user + system) seconds of one command in a tree (its own bot/ imported),
    and its exit status. CPU time is the steadier figure on a machine shared with other work."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "bot", "--data-dir", str(data), *args],
        cwd=tree,
        env=_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, done.returncode


def checkout(rev: str, into: Path) -> Path:
    """A clone of this repository at `rev`."""
    subprocess.run(["git", "clone", "-q", str(ROOT), str(into)], check=True)
    subprocess.run(["git", "-C", str(into), "checkout", "-q", rev], check=True)
    return into


def machine() -> str:
    """CPU, cores and load, for the record."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    return f"{cpu}, {os.cpu_count()} cores, load average {load} at the start"


def _cell(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def table(rows: list[tuple[str, dict]]) -> str:
    """The markdown table of medians: wall and CPU seconds, before and after."""
    out = [
        "| command | wall before (s) | wall after (s) | CPU before (s) | CPU after (s) |",
        "|---|---|---|---|---|",
    ]
    for label, m in rows:
        cells = [_cell(m[key]) for key in ("wall before", "wall after", "cpu before", "cpu after")]
        out.append(f"| `{label}` | " + " | ".join(cells) + " |")
    return "\n".join(out)


def write_section(text: str, path: Path = ROOT / "BENCHMARKS.md") -> None:
    """Replace (or append) the section between the cli_startup markers."""
    write_marked(START, END, text, path)


def main() -> int:
    """Time every command in both trees, print the table, write it into BENCHMARKS.md."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--baseline", default=BASELINE, help=f"commit to compare (default {BASELINE})"
    )
    parser.add_argument("--runs", type=int, default=5, help="runs per command and tree (default 5)")
    parser.add_argument("--no-write", action="store_true", help="print only, leave BENCHMARKS.md")
    args = parser.parse_args()
    header = machine()
    with tempfile.TemporaryDirectory() as tmp:
        old = checkout(args.baseline, Path(tmp) / "baseline")
        trees = {"before": old, "after": ROOT}
        data = {name: Path(tmp) / f"data-{name}" for name in trees}
        for name, tree in trees.items():  # each tree's own index of its own seeds/, not timed
            subprocess.run(
                [sys.executable, "-m", "bot", "--data-dir", str(data[name]), "ingest", "seeds/"],
                cwd=tree,
                env=_env(),
                check=True,
                capture_output=True,
            )
        times: dict[tuple[str, str, str], list[float]] = {}
        failed: set[tuple[str, str]] = set()
        for _ in range(args.runs):
            for label, cmd in COMMANDS:
                for name, tree in trees.items():
                    wall, cpu, status = run_once(tree, data[name], cmd)
                    if status != 0:
                        failed.add((name, label))  # e.g. a command that tree does not have
                    times.setdefault(("wall", name, label), []).append(wall)
                    times.setdefault(("cpu", name, label), []).append(cpu)
    rows = []
    for label, _ in COMMANDS:
        medians = {
            f"{kind} {name}": None
            if (name, label) in failed
            else statistics.median(times[(kind, name, label)])
            for kind in ("wall", "cpu")
            for name in ("before", "after")
        }
        rows.append((label, medians))
    result = table(rows)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    text = (
        "## CLI start-up (issue 16)\n\n"
        f"`benchmarks/cli_startup.py --runs {args.runs}` on {stamp}: wall and CPU (user + "
        f"system) time of each command (medians of {args.runs}), baseline `{args.baseline}` in a temporary clone against this "
        "tree, alternating, each on its own index of the 2 seed pages. n/a: the tree has no such "
        f"command (exit status not 0). Machine: {header}.\n\n{result}"
    )
    print(text)
    if not args.no_write:
        write_section(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
