"""The first night of a new deployment fails (its delivery cut off), so the state holds that
failure and no night screened. The next scheduled run planned "yesterday" alone, as for a state
holding nothing: the failed night was never screened again, though a failed night is redone by
the next run and a missed night is never skipped. A state with no night screened but a failure
now plans from the first failed night on; once a night is screened, planning goes from there
as before."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

from hyposcreen.cli import main
from hyposcreen.windows import plan_windows
from sample_delivery import SAMPLE

MORNING = datetime(2026, 11, 22, 2, 0, tzinfo=UTC)  # the run for the night of 11-21


def _night(folder: Path, state: Path, day: str) -> int:
    out = ["--out", str(folder.parent / "out"), "--state-dir", str(state)]
    return main(["run", "--no-flow", "--input", str(folder), "--window-start", day, *out])


def _planned(state: Path) -> list[str]:
    windows = plan_windows(None, None, "UTC", MORNING, state_dir=state)
    return [w.start.date().isoformat() for w in windows]


def test_a_failed_first_night_is_screened_by_the_next_run(tmp_path: Path) -> None:
    folder = shutil.copytree(SAMPLE, tmp_path / "delivery")
    state = tmp_path / "state"
    whole = (folder / "labs.csv").read_bytes()
    (folder / "labs.csv").write_bytes(whole[: len(whole) // 2])  # cut off mid-row
    assert _night(folder, state, "2026-11-20") == 3
    # before: ["2026-11-21"] alone, the failed night never screened again
    assert _planned(state) == ["2026-11-20", "2026-11-21"]
    (folder / "labs.csv").write_bytes(whole)  # the sender delivers it again
    assert _night(folder, state, "2026-11-20") == 0
    assert _planned(state) == ["2026-11-21"]  # from the night screened, as before


def test_a_state_without_failures_or_nights_plans_yesterday(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    assert _planned(state) == ["2026-11-21"]
