"""A stop while a night is published: under the Prefect flow, whose engine handles SIGTERM
itself (Prefect's TerminationSignal), the hold stands in for it while the night's folder is
swapped in and its state recorded (cli_signals.hold_stops); outside a command, nothing holds."""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from hyposcreen.cli import main

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data" / "canonical"


@pytest.mark.usefixtures("prefect_harness")
def test_a_sigterm_while_a_night_is_published_under_the_flow_waits_for_its_state(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """SIGTERM twice, right after night 20's folder was swapped in: under the flow, Prefect's
    handler stopped the run there, night 20 published but not in the state (its next run
    screens it again) and the line saying its previous outputs were kept. The stops now wait
    until night 20 is recorded, and the run stops before night 21 (143)."""
    from hyposcreen import recipe_publish
    from hyposcreen.report.folders import publish_folder
    from hyposcreen.state import StateStore

    def publish_then_stop(staging: Path, out_dir: Path, *last_file: Any) -> Path:
        published = publish_folder(staging, out_dir, *last_file)
        if out_dir.name == "2026-11-20":
            os.kill(os.getpid(), signal.SIGTERM)
            os.kill(os.getpid(), signal.SIGTERM)
        return published

    monkeypatch.setattr(recipe_publish, "publish_folder", publish_then_stop)
    out, state = tmp_path / "out", tmp_path / "state"
    argv = ["run", "--input", str(SAMPLE), "--out", str(out)]
    argv += ["--backfill", "2026-11-20", "2026-11-21", "--state-dir", str(state)]
    status = main(argv)
    err = capsys.readouterr().err
    assert status == 143, err
    assert "interrupted (SIGTERM)" in err
    assert (out / "2026-11-20" / "review_list.csv").is_file()
    assert not (out / "2026-11-20" / "FAILED.json").exists()
    assert StateStore(state, "default").last_window_end() == pd.Timestamp("2026-11-21")
    assert not (out / "2026-11-21" / "review_list.csv").exists()


def test_a_night_published_by_a_library_call_leaves_the_stop_handlers_alone(
    tmp_path: Path,
) -> None:
    """Outside a command (a script or a notebook calling run_recipe), nothing holds a stop:
    Ctrl-C and SIGTERM keep the handlers they had once the night is published."""
    from hyposcreen.config import RunSettings, Window
    from hyposcreen.context import prepare
    from hyposcreen.runners.in_process import run_recipe

    before = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    window = Window(pd.Timestamp("2026-11-20"), pd.Timestamp("2026-11-21"))
    run_recipe(prepare(RunSettings(SAMPLE, tmp_path / "out", window)))
    assert (tmp_path / "out" / "review_list.csv").is_file()
    assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == before
