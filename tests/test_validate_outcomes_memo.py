"""A loop of windows reads the outcomes of a reused GX result once (remembered.outcomes_once):
only for that very result, a frame holding the same arrays and the same values of the
parameters its details name; never for another frame's rows or another bound."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pandas as pd
import pytest

from gx_tables import WINDOW_END, make_dirty_frames
from hyposcreen.validate import gx as v
from hyposcreen.validate import run
from hyposcreen.validate.context import remembering_results, run_jobs
from hyposcreen.validate.remembered import outcomes_once
from hyposcreen.validate.results import read_outcomes
from hyposcreen.validate.suites import build_job, load_suite_spec

NEXT_END = WINDOW_END + pd.Timedelta(days=1)


def _reads(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """The tables whose GX results are read from now on."""
    seen: Counter[str] = Counter()

    def counted(job: Any, result: Any) -> Any:
        seen[job.table] += 1
        return read_outcomes(job, result)

    monkeypatch.setattr(run, "read_outcomes", counted)
    return seen


def _by_table(report: v.ValidationReport, table: str) -> list[dict[str, Any]]:
    return [o.as_dict() for o in report.outcomes if o.table == table]


def test_a_reused_result_is_read_once_with_the_outcomes_of_a_lone_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    frames = make_dirty_frames()
    alone = v.validate_tables(frames, window_end=NEXT_END)
    reads = _reads(monkeypatch)
    with remembering_results():
        v.validate_tables(frames, window_end=WINDOW_END)
        second = v.validate_tables(frames, window_end=NEXT_END)  # another night, same tables
    assert reads["medications"] == 1  # its details name no window_end: the outcomes repeat
    assert reads["labs"] == 2  # its bound is another: validated and read again
    for table in ("labs", "medications", "diagnoses", "patients"):
        assert _by_table(second, table) == _by_table(alone, table)
    failed = [o.example_rows for o in second.outcomes if o.table == "medications" and not o.success]
    assert failed == [["medications.csv:3"], ["medications.csv:4"]]


def test_another_frame_with_the_same_view_is_read_anew(monkeypatch: pytest.MonkeyPatch) -> None:
    """The same checked values (the GX result is reused) but other source rows: the examples
    quote the new frame's rows."""
    frames = make_dirty_frames()
    moved = frames["medications"].assign(source_row=pd.Series(["12", "13", "14"], dtype="str"))
    reads = _reads(monkeypatch)
    with remembering_results():
        v.validate_tables(frames, window_end=WINDOW_END)
        second = v.validate_tables({**frames, "medications": moved}, window_end=WINDOW_END)
    assert reads["medications"] == 2
    failed = [o.example_rows for o in second.outcomes if o.table == "medications" and not o.success]
    assert failed == [["medications.csv:13"], ["medications.csv:14"]]


def test_a_parameter_a_detail_names_is_part_of_the_key() -> None:
    """The same result and frame: read again when a parameter its details name changes, not
    when another one does."""
    meds = make_dirty_frames()["medications"]
    named = {"severity": "warning", "reason": "missing_key", "detail": "up to {window_end}"}
    spec = {
        "name": "medications",
        "expectations": [
            {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "patient_id"},
             "meta": named},
        ],
    }  # fmt: skip
    job = build_job("medications", meds, meds, spec, {"window_end": WINDOW_END}, [])
    read: list[str] = []

    def outcomes() -> list[str]:
        read.append(str(job.params["window_end"]))
        return [str(job.params)]

    with remembering_results():
        (validated,) = run_jobs([job])
        for night, other in ((WINDOW_END, 1), (NEXT_END, 1), (NEXT_END, 2)):
            job.params = {"window_end": night, "unused": other}
            outcomes_once(job, validated.result, outcomes)
    assert read == [str(WINDOW_END), str(NEXT_END)]  # the third: only `unused` changed


def test_another_result_is_read_anew() -> None:
    """The same frame and parameters, but GX's result of other values: read again."""
    meds = make_dirty_frames()["medications"]
    spec = load_suite_spec("medications")
    blanked = meds.assign(patient_id=pd.Series([None, "P002", "P003"], dtype="str"))
    jobs = [
        build_job("medications", meds, view, spec, {"window_end": WINDOW_END}, [])
        for view in (meds, blanked)
    ]
    with remembering_results():
        first = outcomes_once(jobs[0], run_jobs([jobs[0]])[0].result, lambda: ["first"])
        second = outcomes_once(jobs[1], run_jobs([jobs[1]])[0].result, lambda: ["second"])
    assert (first, second) == (["first"], ["second"])
