"""Docs stay in sync: every setting is in the README, every command has help text."""

from __future__ import annotations

import argparse
import subprocess

import pytest

from bot.cli import build_parser
from bot.settings import DOCS, Settings
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text()


@pytest.mark.parametrize("name", sorted(DOCS))
def test_every_setting_is_documented(name):
    var = DOCS[name][0]
    assert f"`{var}`" in README, f"{var} is missing from the README settings table"
    assert name in Settings.__dataclass_fields__


def test_every_command_has_help():
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    helps = {c.dest: c.help for c in sub._choices_actions}
    assert set(helps) == set(sub.choices) >= {"ingest", "search", "ask", "eval"}
    for name, text in helps.items():
        assert text and len(text) > 10, name
        for action in sub.choices[name]._actions:
            if action.dest != "help":
                assert action.help, f"{name} {action.dest} has no help text"


def test_readme_opens_with_the_two_commands():
    block = README.split("```")[1]
    assert "make run" in block and "make test" in block


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in ci and "make lint" in ci
    assert subprocess.run(["bash", "-n", str(ROOT / ".ci" / "run")]).returncode == 0
