"""The checkout never tracks a virtualenv: a committed `.venv` symlink to another checkout made
every test and run here execute that checkout's code (its editable install)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _git(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)


@pytest.mark.skipif(
    shutil.which("git") is None or not (ROOT / ".git").exists(), reason="not a git checkout"
)
def test_no_virtualenv_is_tracked_and_a_venv_link_is_ignored() -> None:
    assert _git("ls-files", "--", ".venv").stdout == ""
    patterns = (ROOT / ".gitignore").read_text(encoding="utf-8").split()
    assert {".venv", "/.venv"} & set(patterns)  # `.venv/` would match a directory only
