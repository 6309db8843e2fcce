"""Great Expectations suites of the canonical tables (real GX, no mocks): clean tables pass,
and a missing or mistyped column is a critical failure that names it."""

from __future__ import annotations

import json
from typing import Any

import pytest

from gx_tables import (
    VOCABULARY,
    make_frames,
    make_review,
    no_network,  # noqa: F401  (autouse: GX must not reach the network)
    validate,
)
from hyposcreen.errors import InputError
from hyposcreen.ingest.canonical import SCHEMAS, IngestedTable
from hyposcreen.validate import gx as v

# --------------------------------------------------------------------------- clean data


def test_clean_tables_pass_every_suite(capfd: pytest.CaptureFixture[str]) -> None:
    report = validate(make_frames())
    assert report.critical_failures() == []
    assert [o for o in report.outcomes if not o.success] == []
    assert report.skipped == []
    assert {o.table for o in report.outcomes} == {"labs", "medications", "diagnoses", "patients"}
    assert report.warning_rows("labs") == {}
    summary = report.summary()
    assert summary["passed"] is True
    assert json.loads(json.dumps(summary))["tables"]["labs"]["failed"] == 0
    captured = capfd.readouterr()
    assert "Calculating Metrics" not in captured.err + captured.out  # no progress bars
    report.raise_for_critical()  # no-op


def test_clean_review_list_passes() -> None:
    report = v.validate_review_list(make_review(5), VOCABULARY)
    assert [o for o in report.outcomes if not o.success] == []
    empty = v.validate_review_list(make_review(0), VOCABULARY)
    assert empty.critical_failures() == []


def test_ingested_table_is_accepted_with_its_present_columns() -> None:
    frames: dict[str, Any] = make_frames()
    meds = frames["medications"]
    present = tuple(c for c in meds.columns if c != "start_time")
    frames["medications"] = IngestedTable(
        name="medications", frame=meds, rows_in=len(meds), present_columns=present
    )
    failures = validate(frames).critical_failures()
    assert [(o.table, o.column) for o in failures] == [("medications", "start_time")]


# --------------------------------------------------------------------------- contract (critical)


def test_missing_required_column_is_critical_and_named() -> None:
    frames = make_frames()
    frames["labs"] = frames["labs"].drop(columns=["unit"])
    report = validate(frames)
    failures = report.critical_failures()
    assert [(o.table, o.column, o.reason) for o in failures] == [
        ("labs", "unit", "required_column")
    ]
    assert failures[0].detail == "required column(s) missing: unit"
    # the unit check that needs the column is reported as skipped, not as passed
    assert [s["missing_columns"] for s in report.skipped] == ["analyte_unit"]
    with pytest.raises(InputError, match="required column\\(s\\) missing: unit") as info:
        report.raise_for_critical()
    assert info.value.column == "unit"


def test_column_absent_in_source_counts_as_missing_even_if_ingest_filled_it() -> None:
    frames = make_frames()
    present = [c for c in SCHEMAS["diagnoses"].columns if c not in ("code_system", "code")]
    report = validate(frames, present_columns={"diagnoses": present})
    assert [(o.table, o.column) for o in report.critical_failures()] == [
        ("diagnoses", "code, code_system")
    ]


def test_one_of_columns_missing_table_and_time_dtype() -> None:
    frames = make_frames()
    frames["labs"] = frames["labs"].drop(columns=["loinc", "lab_name"])
    frames["diagnoses"]["recorded_time"] = frames["diagnoses"]["recorded_time_raw"]
    del frames["medications"]
    report = validate(frames)
    names = {(o.table, o.expectation, o.column) for o in report.critical_failures()}
    assert names == {
        ("labs", "hyposcreen.columns_one_of", "loinc|lab_name"),
        ("medications", "hyposcreen.table_present", None),
        ("diagnoses", "hyposcreen.column_dtype", "recorded_time"),
    }
