"""A backfill asked over nights the extract holds no lab result for (a year typed wrong, a
rolling extract that lost its first nights) says so once the input is read, naming the
windows (never the labs' own times); at its end, a warning repeated by consecutive nights is
told once for the span, while each night's manifest keeps its own."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hyposcreen.cli import main
from hyposcreen.cli_warnings import warnings_status
from sample_delivery import SAMPLE

_NO_SODIUM = "no usable serum sodium result in the window"


def test_nights_outside_the_labs_dates_are_told_as_the_read_ends(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    status = main(
        ["run", "--no-flow", "--input", str(SAMPLE), "--out", str(out),
         "--backfill", "2026-11-14", "2026-11-22"]
    )  # fmt: skip
    err = capsys.readouterr().err
    assert status == 4, err
    # the sample's labs run from 2026-11-18 06:00 to 2026-11-21 02:00 (UTC site): nights
    # 14..17 end before the first, night 22 starts after the last: 5 of the 9 nights
    note = next(line for line in err.splitlines() if "outside the dates of the labs" in line)
    assert "5 of the 9 nights asked for" in note, note
    assert "(site time, UTC: 2026-11-14 to 2026-11-17 before the first; " in note, note
    assert "2026-11-22 after the last)" in note, note
    # the extract's own first and last times are not told (they date a patient's draw)
    assert "06:00" not in note and "02:00" not in note and "2026-11-18" not in note, note
    assert err.index("outside the dates of the labs") < err.index("[2/9] screening"), err
    warned = [line for line in err.splitlines() if _NO_SODIUM in line]
    # nights 14..17 share one line; night 22 is not next to them (18..21 hold sodium)
    assert len(warned) == 2, warned
    assert "[2026-11-14 .. 2026-11-17, 4 nights]" in warned[0], warned
    assert "[2026-11-22]" in warned[1], warned
    for night in ("2026-11-14", "2026-11-15", "2026-11-16", "2026-11-17", "2026-11-22"):
        manifest = json.loads((out / night / "run_manifest.json").read_text("utf-8"))
        assert any(_NO_SODIUM in w["message"] for w in manifest["warnings"]), night


def test_nights_inside_the_labs_dates_get_no_note(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(
        ["run", "--no-flow", "--input", str(SAMPLE), "--out", str(tmp_path / "out"),
         "--backfill", "2026-11-19", "2026-11-20"]
    )  # fmt: skip
    err = capsys.readouterr().err
    assert status in (0, 4), err
    assert "outside the dates of the labs" not in err, err


def _night(out: Path, name: str, *messages: str) -> Path:
    folder = out / name
    folder.mkdir(parents=True)
    warnings = [{"code": "x", "message": m} for m in messages]
    (folder / "run_manifest.json").write_text(json.dumps({"warnings": warnings}), "utf-8")
    return folder


def test_a_warning_is_grouped_only_over_consecutive_nights(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folders = [
        _night(tmp_path, "2026-11-01", "empty", "late"),
        _night(tmp_path, "2026-11-02", "empty"),
        _night(tmp_path, "2026-11-03", "empty", "late"),
        _night(tmp_path, "2026-11-04", "other"),
        _night(tmp_path, "2026-11-05", "empty"),
    ]
    assert warnings_status(folders) == 4
    lines = capsys.readouterr().err.splitlines()
    # "empty" runs 01..03, stops at 04, starts again at 05; "late" skips 02: told twice
    assert lines == [
        "hyposcreen: warning: [2026-11-01 .. 2026-11-03, 3 nights] empty",
        "hyposcreen: warning: [2026-11-01] late",
        "hyposcreen: warning: [2026-11-03] late",
        "hyposcreen: warning: [2026-11-04] other",
        "hyposcreen: warning: [2026-11-05] empty",
    ]
    assert warnings_status([_night(tmp_path, "2026-11-06")]) == 0
