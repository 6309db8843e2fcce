"""The data contracts agree with the rules of the run and take the clean stage's decisions.

A site's `--rules` copy that accepts a new unit or sets a plausible range is what the suites
check (units and ranges are filled in from the loaded rules at run time), and the pipeline's
cleaned labs give the non-numeric and duplicate shares from the clean stage's reasons.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from gx_tables import WINDOW_END, failed, make_frames, make_labs
from hyposcreen.clean import clean_labs
from hyposcreen.rules.loader import RULES_DIR, RuleSet, load_rules
from hyposcreen.validate import gx as v


def rules_copy(
    tmp_path: Path, *, unit_line: str = "", analyte_edit: tuple[str, str] = ("", "")
) -> RuleSet:
    """The packaged rules copied as a site would for `--rules`, with one edit."""
    folder = tmp_path / "site_rules"
    shutil.copytree(RULES_DIR, folder, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    if unit_line:
        units = folder / "analyte_units.csv"
        text = units.read_text(encoding="utf-8")
        units.write_text(text.rstrip("\n") + "\n" + unit_line + "\n", encoding="utf-8")
    old, new = analyte_edit
    if old:
        analytes = folder / "analytes.csv"
        text = analytes.read_text(encoding="utf-8")
        assert old in text
        analytes.write_text(text.replace(old, new), encoding="utf-8")
    return load_rules(folder)


def contract_frames(labs: pd.DataFrame, rules: RuleSet) -> dict[str, pd.DataFrame]:
    """What the pipeline validates: the cleaned labs narrowed to the contract's columns, with
    value_num the canonical value before implausible rows are blanked."""
    cleaned = clean_labs(labs.drop(columns=["value_num", "unit_ok"]), rules)
    projected = v.project_for_validation("labs", cleaned.drop(columns="value_num"))
    return {**make_frames(), "labs": projected.assign(value_num=cleaned["value_canonical"])}


def test_a_rules_copy_that_accepts_a_new_unit_is_not_contradicted_by_the_suite(
    tmp_path: Path,
) -> None:
    site = rules_copy(tmp_path, unit_line="sodium,mmol/dL,10,site copy: a unit this site reports")
    labs = make_labs()
    labs.loc[0, ["unit", "value_raw"]] = ["mmol/dL", "12.8"]  # 12.8 mmol/dL = 128 mmol/L
    frames = contract_frames(labs, site)
    assert frames["labs"].loc[0, "value_num"] == pytest.approx(128.0)  # clean accepted it
    report = v.validate_tables(frames, window_end=WINDOW_END, rules=site)
    assert failed(report, "labs", "bad_unit") == []
    assert 0 not in report.warning_rows("labs")
    # not vacuous: the packaged rules do not accept the unit, and the suite then says so
    packaged = v.validate_tables(frames, window_end=WINDOW_END)
    (bad_unit,) = failed(packaged, "labs", "bad_unit")
    assert bad_unit.row_labels == [0]


def test_plausible_ranges_come_from_the_rules_copy(tmp_path: Path) -> None:
    site = rules_copy(
        tmp_path,
        analyte_edit=("potassium,blood,mmol/L,,,,", "potassium,blood,mmol/L,,1.5,10,"),
    )
    labs = make_labs()
    labs.loc[4, ["value_raw"]] = ["1.2"]  # potassium (LAB_ROWS[4]): below the copy's 1.5
    frames = contract_frames(labs, site)
    report = v.validate_tables(frames, window_end=WINDOW_END, rules=site)
    details = sorted(o.detail for o in failed(report, "labs", "implausible"))
    assert details == ["potassium outside [1.5, 10] mmol/L"]
    assert report.warning_reasons("labs") == {4: "implausible"}
    ranges = [o.detail for o in report.outcomes if o.reason == "implausible"]
    assert ranges == ["potassium outside [1.5, 10] mmol/L", "sodium outside [80, 200] mmol/L",
                      "value <= 0"]  # fmt: skip
    packaged = v.validate_tables(frames, window_end=WINDOW_END)
    assert failed(packaged, "labs", "implausible") == []  # spec §3: K 1.2 is plausible


def test_shares_are_the_clean_stage_counts_not_a_second_derivation() -> None:
    labs = make_labs()  # 13 rows, no two alike
    labs["reason"] = pd.Series([None] * len(labs), dtype="object")
    labs.loc[[1, 2, 5], "reason"] = "duplicate"  # 3 of 13 = 23 % > 20 %
    labs.loc[0, "reason"] = "non_numeric"  # the clean stage's decision
    labs.loc[3, "value_raw"] = "not a number"  # clean kept it (e.g. a source-parsed value)
    frames = {**make_frames(), "labs": v.project_for_validation("labs", labs)}
    report = v.validate_tables(frames, window_end=WINDOW_END)
    (duplicates,) = failed(report, "labs", "duplicate_rate")
    assert duplicates.unexpected_count == 3 and duplicates.severity == "critical"
    (non_numeric,) = failed(report, "labs", "non_numeric")
    assert non_numeric.row_labels == [0]
    # sodium rows are 0, 1, 2: one non-numeric of three is above 5 %
    (sodium_rate,) = failed(report, "labs", "non_numeric_rate")
    assert sodium_rate.unexpected_count == 1
    # the same frame without the clean stage's reasons is judged from the columns as read
    as_read = v.validate_tables({**frames, "labs": frames["labs"].drop(columns="reason")},
                                window_end=WINDOW_END)  # fmt: skip
    assert failed(as_read, "labs", "duplicate_rate") == []
    assert [o.row_labels for o in failed(as_read, "labs", "non_numeric")] == [[3]]


def test_a_run_with_a_rules_copy_validates_against_that_copy(tmp_path: Path) -> None:
    """Through the CLI: a sample sodium reported in a unit only the site's rules copy accepts is
    screened and passes the contracts (no bad_unit warning from the packaged suite)."""
    import json

    from tests.helpers import run_cli

    rules_copy(tmp_path, unit_line="sodium,mmol/dL,10,site copy: a unit this site reports")
    source = Path(__file__).resolve().parents[1] / "sample_data" / "canonical"
    extract = tmp_path / "extract"
    shutil.copytree(source, extract)
    labs = pd.read_csv(extract / "labs.csv", dtype=str, keep_default_na=False)
    row = labs.index[(labs["value_raw"] == "104") & (labs["patient_id"] == "P043")][0]
    labs.loc[row, ["value_raw", "unit"]] = ["10.4", "mmol/dL"]  # P043's severe 104 mmol/L
    labs.to_csv(extract / "labs.csv", index=False)
    out = tmp_path / "out"
    done = run_cli(
        "run", "--no-flow", "--input", str(extract), "--out", str(out),
        "--rules", str(tmp_path / "site_rules"),
        "--window-start", "2026-11-20T00:00:00", "--window-end", "2026-11-21T00:00:00",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    manifest = json.loads((out / "2026-11-20" / "run_manifest.json").read_text(encoding="utf-8"))
    (bad_unit,) = [
        o for o in manifest["validation"]["outcomes"]
        if o["table"] == "labs" and o["reason"] == "bad_unit"
    ]  # fmt: skip
    # only the sample's planted sodium in mg/dL (labs.csv:46), not the row in the site's unit
    assert bad_unit["unexpected_count"] == 1
    assert f"labs.csv:{row + 2}" not in bad_unit["example_rows"]
    review = pd.read_csv(out / "2026-11-20" / "review_list.csv", dtype=str)
    assert review.loc[review["patient_id"] == "P043", "index_sodium"].tolist() == ["104.0"]


def test_a_code_system_the_rules_copy_adds_is_not_contradicted_by_the_suite(
    tmp_path: Path,
) -> None:
    """A site's copy that adds ICD-10-GM to `code_systems:` and lists cirrhosis under it: the
    diagnoses suite accepts the system (it used to hold ICD-10-CM, ICD-9-CM and SNOMED itself
    and quarantined the row `bad_code_system`, so the cirrhosis was lost)."""
    import json

    from tests.helpers import run_cli

    folder = tmp_path / "site_rules"
    shutil.copytree(RULES_DIR, folder, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    yaml_text = (folder / "rules.yaml").read_text(encoding="utf-8")
    assert "  SNOMED: [snomed," in yaml_text
    (folder / "rules.yaml").write_text(
        yaml_text.replace("  SNOMED: [snomed,", "  ICD-10-GM: [icd10gm]\n  SNOMED: [snomed,", 1),
        encoding="utf-8",
    )
    with (folder / "condition_codes.csv").open("a", encoding="utf-8") as codes:
        codes.write("cirrhosis,ICD-10-GM,K74.6,prefix,site copy: German modification\n")
    assert "ICD-10-GM" in load_rules(folder).code_system_aliases.values()
    source = Path(__file__).resolve().parents[1] / "sample_data" / "canonical"
    extract = tmp_path / "extract"
    shutil.copytree(source, extract)
    # P031: Na 130 with only correction-risk conditions, not listed in the sample
    with (extract / "diagnoses.csv").open("a", encoding="utf-8") as diagnoses:
        diagnoses.write("P031,E031,K74.60,ICD-10-GM,2025-01-01T10:00:00,active,Zirrhose\n")
    out = tmp_path / "out"
    done = run_cli(
        "run", "--no-flow", "--input", str(extract), "--out", str(out), "--rules", str(folder),
        "--window-start", "2026-11-20T00:00:00", "--window-end", "2026-11-21T00:00:00",
    )  # fmt: skip
    assert done.returncode in (0, 4), done.stderr[-600:]
    night = out / "2026-11-20"
    manifest = json.loads((night / "run_manifest.json").read_text(encoding="utf-8"))
    reasons = {o["reason"] for o in manifest["validation"]["outcomes"] if o["table"] == "diagnoses"}
    failed_reasons = {
        o["reason"] for o in manifest["validation"]["outcomes"]
        if o["table"] == "diagnoses" and not o["success"]
    }  # fmt: skip
    assert "bad_code_system" in reasons and "bad_code_system" not in failed_reasons
    review = pd.read_csv(night / "review_list.csv", dtype=str, keep_default_na=False)
    # listed, routine (mild 130, one risk factor), cirrhosis from the ICD-10-GM row
    assert review.loc[review["patient_id"] == "P031", ["tier", "risk_factors"]].values.tolist() == [
        ["3", "cirrhosis"]
    ]
