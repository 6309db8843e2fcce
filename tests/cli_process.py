"""One night run as an operator runs it, in a fresh interpreter (`python -m hyposcreen.cli run
--no-flow`): its exit status and what it printed, for the tests of what a night prints and
exits with when its input, mapping or state is bad."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path


def run_night(
    input_dir: Path,
    out: Path,
    start: str,
    end: str,
    *extra: str,
    env: Mapping[str, str] | None = None,
    timeout: float = 300,
) -> subprocess.CompletedProcess[str]:
    """`hyposcreen run --no-flow` over `input_dir` for the window `start`..`end` into `out`,
    with `extra` options (e.g. "--state-dir", folder); `env`: the process's whole environment
    (None: this one's)."""
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "hyposcreen.cli",
            "run",
            "--no-flow",
            "--input",
            str(input_dir),
            "--window-start",
            start,
            "--window-end",
            end,
            "--out",
            str(out),
            *extra,
        ],
        capture_output=True,
        text=True,
        check=False,
        env=env,
        timeout=timeout,
    )
