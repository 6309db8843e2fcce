"""The review list's Great Expectations suite, the suites' agreement with the rules data, and
the Data Docs folder (real GX, no mocks)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from gx_tables import (
    PARAMS,
    VOCABULARY,
    failed,
    make_frames,
    make_review,
    no_network,  # noqa: F401  (autouse: GX must not reach the network)
    text_series,
    validate,
)
from hyposcreen.errors import InputError
from hyposcreen.report.review_list import REVIEW_COLUMNS
from hyposcreen.rules.loader import RULES_DIR, load_rules, normalize_unit
from hyposcreen.validate import gx as v
from hyposcreen.validate.rule_values import rule_parameters
from hyposcreen.validate.suites import filled_expectations

# --------------------------------------------------------------------------- review list


def test_review_list_bad_tier_duplicate_rank_and_unknown_risk_factor() -> None:
    review = make_review(4)
    review.loc[1, "tier"] = 4
    review.loc[3, "rank"] = 3
    review.loc[2, "risk_factors"] = "loop_diuretic;bupropion"
    report = v.validate_review_list(review, VOCABULARY)
    failures = {(o.reason, o.expectation) for o in report.critical_failures()}
    assert ("tier", "expect_column_values_to_be_in_set") in failures
    assert ("rank", "expect_column_values_to_be_unique") in failures
    assert ("risk_factor_vocabulary", "expect_column_values_to_match_regex") in failures
    tier = next(o for o in report.critical_failures() if o.reason == "tier")
    assert tier.example_rows == ["review_list:2"]
    with pytest.raises(InputError):
        report.raise_for_critical()


def test_review_list_rank_must_be_1_to_n_and_columns_in_contract_order() -> None:
    review = make_review(3)
    review["rank"] = [1, 2, 5]
    report = v.validate_review_list(review, VOCABULARY)
    assert any(o.detail == "rank outside 1..3" for o in report.critical_failures())

    swapped = make_review(3)[["tier", "rank", *REVIEW_COLUMNS[2:]]]
    report = v.validate_review_list(swapped, VOCABULARY)
    assert [o.reason for o in report.critical_failures()] == ["column_contract"]

    missing = make_review(3).drop(columns=["run_id"])
    reasons = {o.reason for o in v.validate_review_list(missing, VOCABULARY).critical_failures()}
    assert "column_contract" in reasons


def test_review_list_rank_must_be_integer() -> None:
    review = make_review(3)
    review["rank"] = [1.0, 2.0, 2.5]
    report = v.validate_review_list(review, VOCABULARY)
    assert ("rank", "dtype") in {(o.column, o.reason) for o in report.critical_failures()}


# --------------------------------------------------------------------------- suites and docs


def test_suites_are_well_formed_and_match_the_rules_data() -> None:
    for name in (*v.TABLES, v.REVIEW_LIST):
        spec = v.load_suite_spec(name)
        assert spec["name"] == name
    labs = v.load_suite_spec("labs")
    # the suite holds no copy of the rules: units, presence-only analytes and ranges are filled
    # in from the loaded rules for each run
    (raw_unit_check,) = [e for e in labs["expectations"] if e["meta"]["reason"] == "bad_unit"]
    assert raw_unit_check["kwargs"]["value_set"] == {"$PARAMETER": "accepted_analyte_units"}
    filled = filled_expectations(labs, {**PARAMS, **rule_parameters(load_rules())})
    (unit_check,) = [e for e in filled if e["meta"]["reason"] == "bad_unit"]
    units: dict[str, set[str]] = {}
    for pair in unit_check["kwargs"]["value_set"]:
        analyte, unit = pair.split("|")
        units.setdefault(analyte, set()).add(unit)
    with (RULES_DIR / "analyte_units.csv").open(encoding="utf-8") as handle:
        expected: dict[str, set[str]] = {}
        for row in csv.DictReader(handle):
            expected.setdefault(row["analyte"], set()).add(normalize_unit(row["unit"]))
    assert units == expected
    with (RULES_DIR / "analytes.csv").open(encoding="utf-8") as handle:
        analytes = list(csv.DictReader(handle))
    presence_only = {r["analyte"] for r in analytes if r["canonical_unit"] == "*"}
    assert set(unit_check["kwargs"]["row_condition"]["parameter"]) == presence_only
    # every plausible range the rules define (today: sodium 80-200) is the suite's range
    implausible = [e for e in filled if e["meta"]["reason"] == "implausible"]
    # spec §3: a value <= 0 of any analyte, for every row (no row condition)
    (non_positive,) = [e for e in implausible if "row_condition" not in e["kwargs"]]
    assert non_positive["kwargs"] == {"column": "value_num", "min_value": 0, "strict_min": True}
    suite_bounds = {
        e["kwargs"]["row_condition"]["parameter"]: (
            e["kwargs"]["min_value"],
            e["kwargs"]["max_value"],
        )
        for e in implausible
        if "row_condition" in e["kwargs"]
    }
    ruled = {
        r["analyte"]: (float(r["plausible_low"]), float(r["plausible_high"]))
        for r in analytes
        if r["plausible_low"]
    }
    assert ruled and suite_bounds == ruled  # no range in the suite that the rules lack
    assert implausible[0]["meta"]["detail"] == "sodium outside [80, 200] mmol/L"
    review = v.load_suite_spec("review_list")
    assert tuple(review["expectations"][0]["kwargs"]["column_list"]) == tuple(REVIEW_COLUMNS)


def test_normalize_units_matches_the_rules_loader() -> None:
    samples = ["mmol/L", " MEQ/l", "mOsm/kg H2O", "µmol/L", "μg/dL", "mmol/(24.h)"]
    assert v.normalize_units(text_series([*samples, None])).tolist() == [
        *[normalize_unit(s) for s in samples],
        "",
    ]


def test_data_docs_are_built_into_the_given_folder(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    frames = make_frames()
    frames["labs"].loc[0, "value_num"] = 10.0
    report = validate(frames, docs_dir=tmp_path / "docs")
    assert report.docs_index == tmp_path / "docs" / "index.html"
    assert report.docs_index.is_file()
    pages = {
        p.parent.parent.parent.name for p in (tmp_path / "docs" / "validations").rglob("*.html")
    }
    assert pages == {"labs", "medications", "diagnoses", "patients"}
    assert failed(report, "labs", "implausible")[0].row_labels == [0]
    captured = capfd.readouterr()
    assert "Calculating Metrics" not in captured.err + captured.out
