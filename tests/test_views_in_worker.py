"""The review page and workbook written by the contracts worker (report/views_aside.py): with a
worker, each night's review_list.html and .xlsx come from it, byte for byte what the run
writes without one; a worker that cannot write them leaves them to the run, with the same
bytes; the page's facts about the run cross to it through JSON unchanged."""

from __future__ import annotations

import dataclasses
import filecmp
import json
from pathlib import Path

import pandas as pd
import pytest

from hyposcreen import recipe_publish
from hyposcreen.cli import main
from hyposcreen.report import views_aside
from hyposcreen.report.review_page import PageInfo
from hyposcreen.validate import worker_client
from sample_delivery import DAY, SAMPLE

NIGHTS = ["--backfill", "2026-11-18", DAY]
VIEWS = ["review_list.html", "review_list.xlsx"]


@pytest.fixture(autouse=True)
def _no_worker_left() -> object:
    yield
    worker_client.stop()
    worker_client.allow("off")


def _backfill(monkeypatch: pytest.MonkeyPatch, out: Path, warm_up: str) -> list[str]:
    """The nights whose page and workbook this process wrote (the rest: the worker)."""
    worker_client.stop()
    worker_client.allow("off")
    monkeypatch.setenv("HYPOSCREEN_GX_WARM_UP", warm_up)
    written = recipe_publish.write_review_views
    here: list[str] = []

    def noted(out_dir: Path, *args, **kwargs):  # type: ignore[no-untyped-def]
        here.append(out_dir.name.split(".")[1])  # staging: .<night>.partial-<pid>
        return written(out_dir, *args, **kwargs)

    monkeypatch.setattr(recipe_publish, "write_review_views", noted)
    status = main(["run", "--no-flow", "--input", str(SAMPLE), "--out", str(out), *NIGHTS])
    assert status in (0, 4)
    return here


def _same_views(one: Path, other: Path) -> None:
    for night in ("2026-11-18", "2026-11-19", DAY):
        _, mismatch, errors = filecmp.cmpfiles(one / night, other / night, VIEWS, shallow=False)
        assert (mismatch, errors) == ([], []), night


def test_the_worker_writes_each_nights_page_and_workbook_as_the_run_would(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert len(_backfill(monkeypatch, tmp_path / "here", "0")) == 3  # no worker: all here
    assert _backfill(monkeypatch, tmp_path / "beside", "1") == []  # the worker wrote them
    worker = worker_client.current()
    assert worker is not None and worker.answered == 6  # three nights' contracts and lists
    _same_views(tmp_path / "here", tmp_path / "beside")
    assert sorted(p.name for p in (tmp_path / "beside").iterdir()) == [
        "2026-11-18",
        "2026-11-19",
        DAY,
    ]  # no staging folder left


def test_a_worker_that_cannot_write_them_leaves_them_to_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert len(_backfill(monkeypatch, tmp_path / "here", "0")) == 3
    asked = views_aside.views_request

    def unwritable(*args, **kwargs):  # type: ignore[no-untyped-def]
        request = asked(*args, **kwargs)
        assert request is not None
        told, frames = request
        return {**told, "call": f"{views_aside.__name__}:no_such_writer"}, frames

    monkeypatch.setattr(recipe_publish, "views_request", unwritable)
    # the first night's worker fails on it and is closed: every night is written here
    assert _backfill(monkeypatch, tmp_path / "beside", "1") == ["2026-11-18", "2026-11-19", DAY]
    assert worker_client.current() is None
    _same_views(tmp_path / "here", tmp_path / "beside")


def test_the_pages_facts_cross_json_unchanged(tmp_path: Path) -> None:
    berlin = "Europe/Berlin"
    info = PageInfo(
        rules_version="2026.12.6",
        profile="default",
        profile_description="default profile",
        hyponatremia_threshold=135.0,
        window_start=pd.Timestamp("2026-10-25T00:00"),
        window_end=pd.Timestamp("2026-10-26T00:00"),
        context_start=pd.Timestamp("2026-10-22T00:00"),
        run_id="0123456789abcdef",
        site="demo",
        timezone=berlin,
        drug_names={"RxNorm 4603": "furosemide"},
        atc_combinations={"C03EA01": ("thiazide", "potassium-sparing")},
        warnings=("2 rows quarantined",),
        coverage=({"table": "labs", "rows": 3},),
    )
    review = pd.DataFrame({"patient_id": pd.Series([], dtype="str")})
    sodium = pd.DataFrame(
        {
            "patient_id": pd.Series([], dtype="str"),
            "specimen_time": pd.Series([], dtype="datetime64[us]"),
            "corrected_sodium": pd.Series([], dtype="float64"),
        }
    )
    request = views_aside.views_request(tmp_path, review, sodium, review, info)
    assert request is not None
    told, _ = request
    assert views_aside._info_from(told["info"]) == info
    zoned = dataclasses.replace(  # 25 h: the night the clocks went back
        info,
        window_start=pd.Timestamp("2026-10-25T00:00", tz=berlin),
        window_end=pd.Timestamp("2026-10-26T00:00", tz=berlin),
    )
    back = views_aside._info_from(json.loads(json.dumps(views_aside._info_message(zoned))))
    assert back == zoned and back.window_end.utcoffset() == pd.Timedelta(hours=1)
    assert told["call"] == "hyposcreen.report.views_aside:write_views"
