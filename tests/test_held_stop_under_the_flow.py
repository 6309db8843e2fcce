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


@pytest.mark.usefixtures("prefect_harness")
@pytest.mark.parametrize(
    ("signum", "status_wanted", "by"),
    [(signal.SIGTERM, 143, "SIGTERM"), (signal.SIGINT, 130, "Ctrl-C")],
)
def test_a_stop_mid_night_under_the_flow_writes_failed_json_and_the_state_says_so(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    signum: int,
    status_wanted: int,
    by: str,
) -> None:
    """A stop while night 20 is screened under the flow, where Prefect's engine turns SIGTERM
    into its own TerminationSignal (a BaseException the window's failure handling let by):
    the run exited 143/130 but left no FAILED.json, and `status` told the night as pending,
    not failed, as `--no-flow` does. Now both paths leave the same trace."""
    import json

    from hyposcreen import recipe

    def screen_then_signal(ctx, cleaned):  # type: ignore[no-untyped-def]
        os.kill(os.getpid(), signum)
        raise AssertionError("the signal stops the run before this line")

    monkeypatch.delenv("HYPOSCREEN_DEBUG", raising=False)
    monkeypatch.setattr(recipe, "_screen", screen_then_signal)
    out, state = tmp_path / "out", tmp_path / "state"
    argv = ["run", "--input", str(SAMPLE), "--out", str(out), "--state-dir", str(state)]
    status = main([*argv, "--window-start", "2026-11-20"])
    err = capsys.readouterr().err
    assert status == status_wanted, err
    assert f"interrupted ({by})" in err and "not published" in err and "bug" not in err
    assert [p.name for p in (out / "2026-11-20").iterdir()] == ["FAILED.json"]
    failed = json.loads((out / "2026-11-20" / "FAILED.json").read_text(encoding="utf-8"))
    assert f"stopped ({by})" in failed["message"]
    assert failed["window"] == {
        "start": "2026-11-20T00:00:00",
        "end": "2026-11-21T00:00:00",
        "timezone": "UTC",
    }
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    assert main(["status", "--state-dir", str(state)]) == 0
    shown = capsys.readouterr().out
    assert "1 failed" in shown and f"stopped ({by})" in shown and "bug" not in shown
