"""Ctrl-C while DuckDB runs a query: DuckDB reports the interrupt as its own error
(RuntimeError "Query interrupted"), which the run called a bug (70, "report it"). It is an
interrupt: exit 130 and "interrupted", as anywhere else."""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path

import duckdb
import pytest

from hyposcreen import recipe
from hyposcreen.cli import main

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data" / "canonical"


def test_ctrl_c_during_a_duckdb_query_ends_the_run_as_interrupted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def screen_until_interrupted(ctx, cleaned):  # type: ignore[no-untyped-def]
        timer = threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT))
        timer.start()
        try:  # a query that runs until the terminal's Ctrl-C stops it
            duckdb.connect().sql("SELECT count(*) FROM range(100000000000) a").fetchall()
        finally:
            timer.cancel()

    monkeypatch.setenv("HYPOSCREEN_GX_WARM_UP", "0")
    monkeypatch.delenv("HYPOSCREEN_DEBUG", raising=False)
    monkeypatch.setattr(recipe, "_screen", screen_until_interrupted)
    argv = ["run", "--no-flow", "--input", str(SAMPLE), "--out", str(tmp_path / "out")]
    status = main([*argv, "--window-start", "2026-11-20"])
    err = capsys.readouterr().err
    assert status == 130, err
    assert "interrupted" in err and "bug" not in err
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
