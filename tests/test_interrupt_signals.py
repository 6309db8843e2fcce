"""Ctrl-C and SIGTERM (`systemctl stop`, `kill`) in the middle of a night: the window being
built is not published, the folder keeps its previous outputs, FAILED.json and the state say the
run was stopped (not "a bug"), one line says so, and the exit status is 130 or 143."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from pydantic import BaseModel, model_serializer
from pydantic_core import PydanticSerializationError

from hyposcreen import recipe
from hyposcreen.cli import main
from hyposcreen.cli_signals import stopped
from hyposcreen.errors import Terminated

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data" / "canonical"


@pytest.mark.parametrize(
    ("signum", "status_wanted", "by"),
    [(signal.SIGTERM, 143, "SIGTERM"), (signal.SIGINT, 130, "Ctrl-C")],
)
def test_a_signal_mid_run_stops_the_night_unpublished(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    signum: int,
    status_wanted: int,
    by: str,
) -> None:
    def screen_then_signal(ctx, cleaned):  # type: ignore[no-untyped-def]
        os.kill(os.getpid(), signum)
        raise AssertionError("the signal stops the run before this line")

    monkeypatch.setenv("HYPOSCREEN_GX_WARM_UP", "0")
    monkeypatch.delenv("HYPOSCREEN_DEBUG", raising=False)
    monkeypatch.setattr(recipe, "_screen", screen_then_signal)
    out, state = tmp_path / "out", tmp_path / "state"
    argv = ["run", "--no-flow", "--input", str(SAMPLE), "--out", str(out)]
    status = main([*argv, "--window-start", "2026-11-20", "--state-dir", str(state)])
    err = capsys.readouterr().err
    assert status == status_wanted, err
    assert f"interrupted ({by})" in err and "not published" in err and "bug" not in err
    assert sorted(p.name for p in out.iterdir()) == ["2026-11-20"]  # no .partial folder
    assert [p.name for p in (out / "2026-11-20").iterdir()] == ["FAILED.json"]
    failed = json.loads((out / "2026-11-20" / "FAILED.json").read_text())
    assert f"stopped ({by})" in failed["message"] and "bug" not in failed["message"]
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    status = main(["status", "--state-dir", str(state)])
    shown = capsys.readouterr().out
    assert "1 failed" in shown and f"stopped ({by})" in shown and "bug" not in shown


def test_a_stopped_command_other_than_run_speaks_of_no_window(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`status`, `reviewed` and `audit` screen no window: stopped, they say only that they
    were, with the signal's status; `run` says what became of its window."""
    assert stopped(signal.SIGINT, "status") == 130
    assert capsys.readouterr().err == "hyposcreen: interrupted (Ctrl-C)\n"
    assert stopped(signal.SIGTERM, "run") == 143
    assert "the window being screened was not published" in capsys.readouterr().err


def test_a_stop_while_a_night_is_published_waits_until_its_state_is_recorded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """SIGTERM right after night 20's folder was swapped in, before the state recorded it:
    the run stopped there, wrote FAILED.json ("previous outputs are kept") into the new
    outputs and left the night unrecorded and failed. The stop now waits until the night is
    recorded, and the run stops before night 21 (143), which is the night left to redo."""
    from hyposcreen import recipe_publish
    from hyposcreen.report.folders import publish_folder
    from hyposcreen.state import StateStore

    def publish_then_stop(staging: Path, out_dir: Path, *last_file: Any) -> Path:
        published = publish_folder(staging, out_dir, *last_file)
        if out_dir.name == "2026-11-20":
            os.kill(os.getpid(), signal.SIGTERM)
        return published

    monkeypatch.setenv("HYPOSCREEN_GX_WARM_UP", "0")
    monkeypatch.setattr(recipe_publish, "publish_folder", publish_then_stop)
    out, state = tmp_path / "out", tmp_path / "state"
    argv = ["run", "--no-flow", "--input", str(SAMPLE), "--out", str(out)]
    argv += ["--backfill", "2026-11-20", "2026-11-21", "--state-dir", str(state)]
    assert main(argv) == 143
    assert "interrupted (SIGTERM)" in capsys.readouterr().err
    assert (out / "2026-11-20" / "review_list.csv").is_file()
    assert not (out / "2026-11-20" / "FAILED.json").exists()
    assert StateStore(state, "default").last_window_end() == pd.Timestamp("2026-11-21")
    failed = json.loads((out / "2026-11-21" / "FAILED.json").read_text(encoding="utf-8"))
    assert failed["error_type"] == "Terminated"


class _StopsAsItSerializes(BaseModel):
    """A pydantic model whose serializer is where SIGTERM lands: pydantic turns the stop
    raised there into its own PydanticSerializationError, as it did inside Prefect's settings
    dump while the temporary server started."""

    @model_serializer(mode="wrap")
    def _serialize(self, handler: Any) -> Any:
        os.kill(os.getpid(), signal.SIGTERM)  # the handler raises Terminated inside pydantic
        return handler(self)


def _stop_a_library_swallows() -> None:
    with pytest.raises(PydanticSerializationError, match="Terminated"):
        _StopsAsItSerializes().model_dump()


def test_a_stop_a_library_turned_into_its_own_error_still_stops_the_night(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """SIGTERM while a window was screened, turned by pydantic into its own error that the
    code around it let go: the run screened on, published the night and exited 0. The
    window is now not published: 143, FAILED.json naming the stop, the state not advanced."""
    from hyposcreen import recipe
    from hyposcreen.state import StateStore

    real_screen = recipe._screen

    def screen_after_a_lost_stop(ctx, cleaned):  # type: ignore[no-untyped-def]
        _stop_a_library_swallows()
        return real_screen(ctx, cleaned)

    monkeypatch.setenv("HYPOSCREEN_GX_WARM_UP", "0")
    monkeypatch.setattr(recipe, "_screen", screen_after_a_lost_stop)
    out, state = tmp_path / "out", tmp_path / "state"
    argv = ["run", "--no-flow", "--input", str(SAMPLE), "--out", str(out)]
    status = main([*argv, "--window-start", "2026-11-20", "--state-dir", str(state)])
    err = capsys.readouterr().err
    assert status == 143, err
    assert "interrupted (SIGTERM)" in err and "not published" in err
    assert [p.name for p in (out / "2026-11-20").iterdir()] == ["FAILED.json"]
    assert StateStore(state, "default").last_window_end() is None


def test_a_stop_lost_as_the_orchestrator_starts_starts_no_server(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A SIGTERM sent as `hyposcreen run` started Prefect's temporary server landed in
    Prefect's settings dump, where pydantic made it a serialization error: the start took it
    for a failed try, started the server again and the night was screened (exit 0, measured
    at load 10). A stop so lost now ends the start at once: no (second) server is started."""
    from flows.orchestrator import OwnedServer, start_api
    from hyposcreen.cli_signals import noting_interrupts

    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    running_before = OwnedServer._instances.get(None)  # a harness's server, if one is up
    noted: list[int] = []
    try:
        with noting_interrupts(noted), pytest.raises(Terminated):
            _stop_a_library_swallows()
            start_api()
    finally:
        started = OwnedServer._instances.get(None)
        if started is not None and started is not running_before:
            started.stop()  # before the fix: the server it started
    assert noted == [signal.SIGTERM]
