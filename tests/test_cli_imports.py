"""The CLI stays quick to start: each command imports only what it needs (checked by module)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import ROOT

HEAVY = ("numpy", "langchain_core", "chromadb", "torch", "onnxruntime", "gradio", "sklearn")
PROBE = """
import json, sys
from bot.cli import main
try:
    status = main({argv!r})
except SystemExit as done:
    status = done.code
heavy = {heavy!r}
print(json.dumps({{"status": status, "loaded": [m for m in heavy if m in sys.modules],
                  "langchain_chroma": "langchain_chroma" in sys.modules}}))
"""


def _probe(argv: list[str]) -> dict:
    code = PROBE.format(argv=argv, heavy=HEAVY)
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize(
    "argv",
    [["--help"], ["search", "--help"], ["ingest", "--help"], ["ask", "--help"], ["gaps", "-h"]],
)
def test_help_loads_no_heavy_module(argv):
    assert _probe(argv) == {"status": 0, "loaded": [], "langchain_chroma": False}


def test_gaps_with_nothing_logged_loads_no_model(tmp_path):
    got = _probe(["--data-dir", str(tmp_path), "gaps", "--since", "7d"])
    assert got["status"] == 0 and "onnxruntime" not in got["loaded"]
    assert "torch" not in got["loaded"] and "chromadb" not in got["loaded"]


def test_search_does_not_load_langchains_vector_store_layer(seed_index_dir):
    got = _probe(["--data-dir", str(seed_index_dir), "search", "is botox permanent", "-k", "2"])
    assert got["status"] == 0 and "chromadb" in got["loaded"]
    assert got["langchain_chroma"] is False and "gradio" not in got["loaded"]
