"""The repository's code style, checked where CI checks everything: ruff's rules and formatting.

The rules and the line length are ``pyproject.toml``'s ``[tool.ruff]``; ruff's version is
pinned in the ``test`` extra, so that a new release's formatting cannot fail CI by itself.
"""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]


@pytest.mark.parametrize("command", [["check"], ["format", "--check"]], ids=["lint", "format"])
def test_ruff_finds_nothing(command):
    result = subprocess.run(
        [sys.executable, "-m", "ruff", *command, "."], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
