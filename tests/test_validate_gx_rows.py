"""Great Expectations suites of the canonical tables (real GX, no mocks): row problems are
warnings naming their rows, and table-level rates past their thresholds are critical."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from gx_tables import (
    WINDOW_END,
    failed,
    label_of,
    make_dirty_frames,
    make_frames,
    make_labs,
    no_network,  # noqa: F401  (autouse: GX must not reach the network)
    validate,
)
from hyposcreen.errors import ConfigError
from hyposcreen.validate import gx as v

# --------------------------------------------------------------------------- rows (warnings)


@pytest.fixture(scope="module")
def dirty() -> tuple[dict[str, pd.DataFrame], v.ValidationReport]:
    """One set of tables with one row-level problem per row, validated once."""
    frames = make_dirty_frames()
    return frames, validate(frames)


def test_row_problems_are_warnings_not_critical(dirty: Any) -> None:
    _, report = dirty
    assert report.critical_failures() == []
    assert all(o.severity == "warning" for o in report.failed_warnings())
    assert report.summary()["tables"]["labs"]["warning_rows"] == 9


def test_implausible_sodium_is_a_row_warning_with_label_and_file_row(dirty: Any) -> None:
    frames, report = dirty
    labs = frames["labs"]
    label = label_of(labs, "sodium", 1)
    outcome = next(o for o in failed(report, "labs", "implausible") if "sodium" in o.detail)
    assert outcome.severity == "warning"
    assert outcome.column == "value_num"
    assert outcome.row_labels == [label]
    assert outcome.unexpected_count == 1
    assert outcome.example_rows == [f"labs.csv:{labs.loc[label, 'source_row']}"]
    assert outcome.detail == "sodium outside [80, 200] mmol/L"
    assert report.warning_rows("labs")[label] == "expect_column_values_to_be_between"
    assert report.warning_reasons("labs")[label] == "implausible"


def test_sodium_bounds_are_inclusive() -> None:
    frames = make_frames()
    labs = frames["labs"]
    labs.loc[label_of(labs, "sodium", 0), "value_num"] = 80.0
    labs.loc[label_of(labs, "sodium", 1), "value_num"] = 200.0
    labs.loc[label_of(labs, "sodium", 2), "value_num"] = 79.9
    report = validate(frames)
    assert failed(report, "labs", "implausible")[0].row_labels == [label_of(labs, "sodium", 2)]


def test_other_analyte_bounds_and_units_per_analyte(dirty: Any) -> None:
    frames, report = dirty
    labs = frames["labs"]
    potassium, glucose = label_of(labs, "potassium"), label_of(labs, "glucose")
    (implausible_k,) = [o for o in failed(report, "labs", "implausible") if "<= 0" in o.detail]
    assert implausible_k.row_labels == [potassium]
    assert implausible_k.detail == "value <= 0 (1 distinct value of analyte in the rows cited)"
    (unit,) = failed(report, "labs", "bad_unit")
    osmolality = label_of(labs, "urine_osmolality")
    assert unit.row_labels == [glucose, osmolality]  # " MMOL/l " for sodium is accepted
    assert unit.detail == (
        "unit not accepted for the analyte (2 distinct values of analyte, unit in the rows cited)"
    )


def test_non_numeric_row_wins_over_its_bad_unit(dirty: Any) -> None:
    frames, report = dirty
    label = label_of(frames["labs"], "urine_osmolality")
    assert report.warning_reasons("labs")[label] == "non_numeric"
    (outcome,) = failed(report, "labs", "non_numeric")
    assert outcome.detail == (
        "value_raw is not a number (1 distinct value of value_raw in the rows cited)"
    )
    assert label in failed(report, "labs", "bad_unit")[0].row_labels


def test_missing_patient_and_unparseable_time_are_missing_key_rows(dirty: Any) -> None:
    frames, report = dirty
    labs = frames["labs"]
    reasons = report.warning_reasons("labs")
    for label in (
        label_of(labs, "sodium", 2),
        label_of(labs, "magnesium"),
        label_of(labs, "calcium_total"),
    ):
        assert reasons[label] == "missing_key"


def test_end_time_before_start_time(dirty: Any) -> None:
    _, report = dirty
    (outcome,) = failed(report, "medications", "end_before_start")
    assert outcome.severity == "warning"
    assert outcome.row_labels == [1]
    assert outcome.example_rows == ["medications.csv:3"]
    assert report.warning_reasons("medications") == {1: "end_before_start", 2: "bad_time"}
    (bad_time,) = failed(report, "medications", "bad_time")
    assert bad_time.detail == (
        "end_time given but unparseable (1 distinct value of end_time_raw in the rows cited)"
    )
    assert "next week" not in bad_time.detail  # the extract's text stays out of the manifest


def test_result_at_or_after_window_end(dirty: Any) -> None:
    frames, report = dirty
    labs = frames["labs"]
    (outcome,) = failed(report, "labs", "outside_window")
    assert outcome.row_labels == [label_of(labs, "albumin"), label_of(labs, "tsh")]
    assert str(WINDOW_END) in outcome.detail
    # against a later window end the same rows pass: the bound is the argument, not the clock
    later = v.validate_tables(frames, window_end=WINDOW_END + pd.Timedelta(days=3651))
    assert failed(later, "labs", "outside_window") == []


def test_far_future_dates_beyond_nanosecond_range_still_validate() -> None:
    frames = make_frames()
    frames["labs"].loc[0, "specimen_time"] = pd.Timestamp("2500-01-01").as_unit("us")
    report = validate(frames)
    assert failed(report, "labs", "outside_window")[0].row_labels == [0]
    assert report.critical_failures() == []
    later = v.validate_tables(frames, window_end=pd.Timestamp("2600-01-01").as_unit("us"))
    assert later.failed_warnings() == []


def test_code_system_and_duplicate_patients(dirty: Any) -> None:
    _, report = dirty
    assert report.warning_reasons("diagnoses") == {1: "bad_code_system"}  # aliases are fine
    (outcome,) = failed(report, "diagnoses", "bad_code_system")
    assert outcome.detail.endswith("(1 distinct value of code_system in the rows cited)")
    assert report.warning_reasons("patients") == {0: "duplicate_key", 1: "duplicate_key"}


# --------------------------------------------------------------------------- table-level rates


def test_too_many_non_numeric_sodium_values_is_critical() -> None:
    frames = make_frames()
    labs = frames["labs"]
    sodium = labs.index[labs["analyte"] == "sodium"]
    labs.loc[sodium[0], ["value_raw", "value_num"]] = ["HEMOLYZED", np.nan]
    labs.loc[sodium[1], ["value_raw", "value_num"]] = ["<120", 120.0]  # censored: numeric
    report = validate(frames)
    (outcome,) = failed(report, "labs", "non_numeric_rate")
    assert outcome.severity == "critical"
    assert outcome.unexpected_count == 1
    assert outcome.unexpected_percent == pytest.approx(100 / 3)
    assert outcome.example_rows == [f"labs.csv:{labs.loc[sodium[0], 'source_row']}"]
    assert outcome.row_labels == []  # critical: the run stops, rows are not quarantined
    # a site that tolerates it raises the threshold
    relaxed = validate(frames, thresholds={"max_non_numeric_sodium_rate": 0.5})
    assert relaxed.critical_failures() == []


def test_non_numeric_share_counts_empty_values_and_sodium_rows_only() -> None:
    frames = make_frames()
    labs = make_labs(n_copies=10)  # 30 sodium rows
    sodium = labs.index[labs["analyte"] == "sodium"]
    labs.loc[sodium[0], ["value_raw", "value_num"]] = [None, np.nan]
    glucose = labs.index[labs["analyte"] == "glucose"]
    labs.loc[glucose, ["value_raw", "value_num"]] = ["___", np.nan]  # not sodium: not counted
    frames["labs"] = labs
    outcome = next(o for o in validate(frames).outcomes if o.reason == "non_numeric_rate")
    assert outcome.success and outcome.unexpected_count == 1
    assert outcome.unexpected_percent == pytest.approx(100 / 30)


def test_duplicate_rate_threshold() -> None:
    frames = make_frames()
    labs = frames["labs"]
    frames["labs"] = pd.concat([labs, labs.iloc[:4]], ignore_index=True)  # 4 of 17 = 23.5 %
    report = validate(frames)
    (outcome,) = failed(report, "labs", "duplicate_rate")
    assert outcome.severity == "critical"
    assert outcome.unexpected_count == 4
    assert "23.5%" in outcome.detail
    at_limit = validate(frames, thresholds={"max_duplicate_rate": 4 / 17})
    assert at_limit.critical_failures() == []  # a share exactly at the limit passes


def test_non_numeric_follows_the_cleaning_parser() -> None:
    frames = make_frames()
    labs = make_labs(n_copies=10)  # 30 sodium rows
    sodium = labs.index[labs["analyte"] == "sodium"]
    labs.loc[sodium[0], "value_raw"] = "≤ 5"  # censored: a number
    labs.loc[sodium[1], "value_raw"] = "GREATER THAN 180"
    labs.loc[sodium[2], ["value_raw", "value"]] = ["See Comments", 139.0]  # source parsed it
    labs.loc[sodium[3], ["value_raw", "value_num"]] = ["cancelled", np.nan]
    frames["labs"] = labs
    report = validate(frames)
    assert report.warning_reasons("labs") == {sodium[3]: "non_numeric"}


def test_labs_without_ingest_columns_is_a_programming_error() -> None:
    frames = make_frames()
    frames["labs"] = frames["labs"].drop(columns=["value_num"])
    with pytest.raises(ValueError, match="value_num"):
        validate(frames)


def test_unknown_threshold_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="max_dup"):
        validate(make_frames(), thresholds={"max_dup": 0.1})
