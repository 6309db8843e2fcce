"""Finding Debian's Chromium for the browser tests, and the flags it needs on this network.
Without one a browser test is skipped on a workstation but fails under CI (`CI` set): CI
must render the pages, never pass by skipping them."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

# The machine has no network: without these flags Chromium waits on refused connections.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def find_chromium() -> str | None:
    """HYPOSCREEN_CHROMIUM, else Debian's /usr/bin/chromium, else one on PATH."""
    candidates = [os.environ.get("HYPOSCREEN_CHROMIUM"), "/usr/bin/chromium"]
    candidates += [shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome")]
    return next((c for c in candidates if c and Path(c).is_file()), None)


NO_CHROMIUM = (
    "no Chromium found (looked at $HYPOSCREEN_CHROMIUM, /usr/bin/chromium and "
    "chromium/chromium-browser/google-chrome on PATH); install it with `apt-get install "
    "chromium` (.ci/run does this when run as root)"
)


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def require_chromium() -> str:
    """Chromium's path; without one, the test fails under CI and is skipped elsewhere."""
    found = find_chromium()
    if found is None:
        if in_ci():
            pytest.fail(f"CI runs the browser tests: {NO_CHROMIUM}")
        pytest.skip(f"SKIPPED BROWSER TEST: {NO_CHROMIUM}")
    return found
