"""Test session set-up: offline Prefect settings and one Prefect test server per session."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]

# Before anything imports prefect: a private home, no telemetry, a patient server start-up.
os.environ["PREFECT_HOME"] = tempfile.mkdtemp(prefix="hyposcreen-prefect-")
atexit.register(shutil.rmtree, os.environ["PREFECT_HOME"], ignore_errors=True)
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
# runs validate in the test's own process (no contracts worker outliving the test that started
# it); the worker's tests ask for it (tests/test_contracts_worker.py)
os.environ.setdefault("HYPOSCREEN_GX_WARM_UP", "0")


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    """A real Prefect server on a temporary database, shared by every flow test."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield
