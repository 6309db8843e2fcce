"""A loop over windows writes each window's review page and workbook in a forked writer
process (report.views_writer): the same bytes as the run writing them itself, and any failure
of the writer (it raises, is killed, stalls) leaves the run to write them, with no debris."""

from __future__ import annotations

import filecmp
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from hyposcreen import process_copy
from hyposcreen.cli import main
from hyposcreen.report import review_page, views_writer
from sample_delivery import SAMPLE

NIGHTS = ["--backfill", "2026-11-18", "2026-11-20"]
VIEWS = ("review_list.html", "review_list.xlsx")


@pytest.fixture(autouse=True)
def _no_writer_left(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """After each test: the loop's writer is gone with its loop, and reaped."""
    pids, start = [], views_writer._start

    def started():  # type: ignore[no-untyped-def]
        writer = start()
        pids.extend([writer.pid] if writer is not None else [])
        return writer

    monkeypatch.setattr(views_writer, "_start", started)
    yield
    assert not views_writer._WRITER
    for pid in pids:
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)


def _backfill(monkeypatch: pytest.MonkeyPatch, out: Path, fork: str) -> None:
    monkeypatch.setenv(process_copy.ENV, fork)
    monkeypatch.setenv("HYPOSCREEN_GX_WARM_UP", "0")
    args = ["run", "--no-flow", "--input", str(SAMPLE), "--out", str(out), *NIGHTS]
    assert main(args) in (0, 4)


def _views_here(monkeypatch: pytest.MonkeyPatch, in_writer: object = None) -> list[int]:
    """Count the views written by this process; `in_writer(out)` runs in the writer first."""
    run, written_here = os.getpid(), []
    write = review_page.write_review_views

    def counted(out_dir: Path, *args: object) -> list[Path]:
        if os.getpid() == run:
            written_here.append(1)
        elif callable(in_writer):
            in_writer(out_dir)
        return write(out_dir, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(views_writer, "write_review_views", counted)
    return written_here


def _same_nights(one: Path, other: Path) -> None:
    nights = sorted(p.name for p in one.iterdir())
    assert (
        nights
        == sorted(p.name for p in other.iterdir())
        == ["2026-11-18", "2026-11-19", "2026-11-20"]
    )
    for night in nights:
        names = sorted(p.name for p in (one / night).iterdir() if p.is_file())
        assert names == sorted(p.name for p in (other / night).iterdir() if p.is_file())
        assert not [n for n in names if n.startswith(".")], names  # no writer's temporary file
        _, mismatch, errors = filecmp.cmpfiles(one / night, other / night, VIEWS, shallow=False)
        assert (mismatch, errors) == ([], [])
        for name in VIEWS:
            assert (other / night / name).stat().st_mode & 0o777 == 0o600


@pytest.fixture(scope="module")
def alone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The backfill with no writer (every view written by the run itself)."""
    out = tmp_path_factory.mktemp("alone") / "out"
    with pytest.MonkeyPatch.context() as patch:
        _backfill(patch, out, "0")
    return out


def test_a_backfill_writes_its_views_in_the_writer_with_the_same_bytes(
    alone: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    here = _views_here(monkeypatch)
    _backfill(monkeypatch, tmp_path / "out", "1")
    assert here == []  # all three nights' page and workbook came from the writer
    _same_nights(alone, tmp_path / "out")


def test_a_writer_that_raises_leaves_the_views_to_the_run(
    alone: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(out_dir: Path) -> None:
        raise RuntimeError("a writer's own failure")

    here = _views_here(monkeypatch, broken)
    _backfill(monkeypatch, tmp_path / "out", "1")
    assert len(here) == 3  # the first failure stops the writer for the loop
    _same_nights(alone, tmp_path / "out")


def test_a_writer_killed_midway_leaves_no_debris(
    alone: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def killed(out_dir: Path) -> None:
        (out_dir / ".review_list.html.half.tmp").write_text("<html>half a page")
        os.kill(os.getpid(), signal.SIGKILL)

    here = _views_here(monkeypatch, killed)
    _backfill(monkeypatch, tmp_path / "out", "1")
    assert len(here) == 3
    _same_nights(alone, tmp_path / "out")  # the half page was removed before the run's own


def test_a_stalled_writer_is_stopped_and_the_run_writes_the_views(
    alone: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(process_copy, "STALL_S", 1.0)

    def stalled(out_dir: Path) -> None:
        os.kill(os.getpid(), signal.SIGSTOP)  # uses no CPU from here on

    here = _views_here(monkeypatch, stalled)
    began = time.monotonic()
    _backfill(monkeypatch, tmp_path / "out", "1")
    assert len(here) == 3
    assert time.monotonic() - began < 20  # one stall of ~1 s, not STALL_S (30 s) or forever
    _same_nights(alone, tmp_path / "out")


def test_leaving_before_the_wait_stops_a_busy_writer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A window that fails after its views were sent (its list broke its contract, say): the
    writer is killed before the block is left, so it never writes into a discarded folder."""
    monkeypatch.setenv(process_copy.ENV, "1")

    def slow(out_dir: Path) -> None:
        time.sleep(30)

    _views_here(monkeypatch, slow)
    out = tmp_path / "staging"
    review, info = _one_case()
    began = time.monotonic()
    with views_writer.serving():
        assert views_writer._WRITER
        with (
            pytest.raises(RuntimeError),
            views_writer.write_beside(out, review, _sodium(), review.iloc[:0], info) as views,
        ):
            assert views.beside
            raise RuntimeError("the window failed")
        assert not views_writer._WRITER  # stopped for the rest of the loop
    assert time.monotonic() - began < 10
    assert not out.exists()


def test_page_info_crosses_the_pipe_unchanged() -> None:
    _, info = _one_case()
    assert views_writer._info_of(views_writer._info_header(info)) == info
    naive = pd.Timestamp("2026-03-29T01:30:00").as_unit("s")
    other = review_page.PageInfo(**{**vars(info), "window_start": naive})
    copied = views_writer._info_of(views_writer._info_header(other))
    assert copied == other and copied.window_start.unit == "s"
    assert copied.window_end.tz is not None and str(copied.window_end.tz) == "Europe/Berlin"


def test_the_setting_decides_whether_a_copy_is_forked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(process_copy.ENV, "0")
    assert not process_copy.copies_wanted()
    monkeypatch.setenv(process_copy.ENV, "1")
    assert process_copy.copies_wanted()
    monkeypatch.setenv(process_copy.ENV, "auto")
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0})
    assert not process_copy.copies_wanted()  # one CPU: a copy would only take turns with it
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1})
    assert process_copy.copies_wanted()


def _one_case() -> tuple[pd.DataFrame, review_page.PageInfo]:
    start = pd.Timestamp("2026-11-20T00:00:00", tz="Europe/Berlin").as_unit("us")
    info = review_page.PageInfo(
        rules_version="test",
        profile="default",
        profile_description="",
        hyponatremia_threshold=135.0,
        window_start=start,
        window_end=start + pd.Timedelta(days=1),
        context_start=start - pd.Timedelta(hours=72),
        run_id="0" * 16,
        site="test",
        timezone="Europe/Berlin",
        atc_combinations={"C03EA01": ("hydrochlorothiazide", "amiloride")},
        warnings=("a warning",),
        coverage=({"table": "labs", "rows": 3},),
    )
    return pd.DataFrame({"patient_id": ["p1"]}), info


def _sodium() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "patient_id": ["p1"],
            "specimen_time": pd.to_datetime(["2026-11-20T08:00:00"]),
            "corrected_sodium": [128.0],
        }
    )
