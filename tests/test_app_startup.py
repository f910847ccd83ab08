"""`python app.py` end to end: it syncs the index, serves the page at once, then answers."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from webapp.background import free_port

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_app_py_serves_the_page_then_answers_the_first_question(seed_index_dir, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(seed_index_dir, data)
    port = free_port()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False"}
    process = subprocess.Popen(
        [sys.executable, "app.py", "--port", str(port), "--data-dir", str(data)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as got:
                    assert got.status == 200 and "gradio_config" in got.read().decode()
                    break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                assert process.poll() is None, "app.py exited before serving"
                assert time.monotonic() < deadline, "no page within 180 s"
                time.sleep(0.1)
        # Asked at once, while the models are still loading in the background: it must wait for
        # the warm-up rather than race it.
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/ask",
            data=json.dumps({"question": "How long does Botox last?"}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=300) as got:
            reply = json.load(got)
        assert reply["kind"] == "answer" and reply["citations"]
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=60)
    assert "index: 2 files: 0 added, 0 updated, 0 removed, 15 unchanged answers" in output
    assert f"serving on http://127.0.0.1:{port}/" in output
