"""`hyposcreen audit` of MIMIC-IV `hosp` and OMOP extracts: months read in the hospital's own
layout, told month by month as they are screened."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from sample_data import to_mimic, to_omop
from tests.helpers import run_cli

from hyposcreen.audit import AuditSettings, run_audit
from hyposcreen.report.pseudonyms import KEY_ENV
from hyposcreen.rules.loader import load_rules

LAB_HEAD = (
    "patient_id,encounter_id,specimen_id,specimen_time,result_time,loinc,lab_name,value_raw,"
    "unit,status,specimen_type"
)
# Shifted MIMIC years: P9001 a sodium of 124 at 23:59 on the last day of January 2180 and
# P9002 one of 117 at midnight on 1 February; a heart failure code dated with its admission.
LAB_ROWS = [
    "P9001,E1,S1,2180-01-31T23:59:00,2180-02-01T00:59:00,2951-2,Sodium,124,mmol/L,final,Serum",
    "P9002,E2,S2,2180-02-01T00:00:00,2180-02-01T01:00:00,2951-2,Sodium,117,mmol/L,final,Serum",
]


@pytest.fixture(scope="module")
def mimic_extract(tmp_path_factory: pytest.TempPathFactory) -> Path:
    canonical = tmp_path_factory.mktemp("canonical")
    (canonical / "labs.csv").write_text("\n".join([LAB_HEAD, *LAB_ROWS]) + "\n", "utf-8")
    (canonical / "medications.csv").write_text(
        "patient_id,encounter_id,drug_name,rxnorm,atc,start_time,end_time,status,route\n"
        "P9001,E1,Furosemide 20 mg,,,2179-05-01T09:00:00,,active,oral\n",
        "utf-8",
    )
    (canonical / "diagnoses.csv").write_text(
        "patient_id,encounter_id,code,code_system,recorded_time,status,description\n"
        "P9002,E2,I50.9,ICD-10-CM,2179-06-01T10:00:00,active,Heart failure\n",
        "utf-8",
    )
    (canonical / "patients.csv").write_text(
        "patient_id,mrn,name,birth_date,sex,unit\nP9001,M1,A,1940-01-01,F,W\n"
        "P9002,M2,B,1940-01-01,F,W\n",
        "utf-8",
    )
    folder = tmp_path_factory.mktemp("mimic")
    to_mimic.convert(folder, canonical)
    return folder


def test_each_month_is_told_as_it_is_screened_with_no_count(
    mimic_extract: Path, tmp_path: Path
) -> None:
    """Three months of a MIMIC extract (each read for itself): three progress lines, in order,
    naming the month and its seconds only; then a line saying the suppression runs (a
    12-month audit of small counts spends minutes there, silent before)."""
    done = run_cli(
        "audit", "--input", str(mimic_extract), "--source", "mimic", "--start", "2180-01-01",
        "--end", "2180-04-01", "--out", str(tmp_path / "out"),
    )  # fmt: skip
    assert done.returncode in (0, 4), done.stderr
    told = re.findall(r"hyposcreen: \[(\d)/3\] (2180-\d\d) screened \(\d+\.\d s\)", done.stderr)
    assert told == [("1", "2180-01"), ("2", "2180-02"), ("3", "2180-03")]
    # then the suppression, which takes minutes over many months of small counts, is told
    hiding = done.stderr.index("hyposcreen: choosing the cells to hide")
    assert done.stderr.index("[3/3] 2180-03 screened") < hiding
    assert hiding < done.stderr.index("3 month(s) audited")
    assert not re.search(r"9001|9002|124|117", done.stderr)
    assert pd.read_csv(tmp_path / "out" / "audit_tables.csv")["period"].nunique() == 4


def test_the_tables_csv_names_each_row_s_window_zone_profile_and_rules(
    mimic_extract: Path, tmp_path: Path
) -> None:
    """audit_tables.csv read alone (a spreadsheet, a QI database) says what each number
    covers: the period starts on 15 January 2180 (site zone America/New_York), so its first
    month is 15 Jan to 1 Feb, the second 1 Feb to 1 Mar, the whole period 15 Jan to 1 Mar;
    and, as every output, the profile and rules version (spec section 5)."""
    mapping = tmp_path / "site.yaml"
    mapping.write_text("site: qi\ntimezone: America/New_York\n", "utf-8")
    done = run_cli(
        "audit", "--input", str(mimic_extract), "--source", "mimic", "--mapping", str(mapping),
        "--start", "2180-01-15", "--end", "2180-03-01", "--out", str(tmp_path / "out"),
    )  # fmt: skip
    assert done.returncode in (0, 4), done.stderr
    tables = pd.read_csv(tmp_path / "out" / "audit_tables.csv", dtype=str, keep_default_na=False)
    assert list(tables.columns[-5:]) == [
        "period_start", "period_end", "time_zone", "profile", "rules_version",
    ]  # fmt: skip
    bounds = tables.groupby("period")[["period_start", "period_end"]].agg(set)
    assert bounds.loc["2180-01"].tolist() == [{"2180-01-15T00:00:00"}, {"2180-02-01T00:00:00"}]
    assert bounds.loc["2180-02"].tolist() == [{"2180-02-01T00:00:00"}, {"2180-03-01T00:00:00"}]
    assert bounds.loc["total"].tolist() == [{"2180-01-15T00:00:00"}, {"2180-03-01T00:00:00"}]
    assert set(tables["time_zone"]) == {"America/New_York"}
    assert set(tables["profile"]) == {"seed"}
    assert set(tables["rules_version"]) == {load_rules().version}


def test_the_patient_export_names_its_profile_and_rules(
    mimic_extract: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """audit_patients.csv, an output too, carries the profile and rules version on each of its
    rows: P9001 is a case of January (124), P9002 of February (117): two rows."""
    monkeypatch.setenv(KEY_ENV, "9f2c4e7a1b3d5f6081a2c3e4f5061728394a5b6c7d8e9f00112233445566778a")
    run_audit(
        AuditSettings(
            input_dir=mimic_extract, out_dir=tmp_path / "out", source="mimic",
            start=pd.Timestamp("2180-01-01"), end=pd.Timestamp("2180-03-01"),
        )
    )  # fmt: skip
    export = pd.read_csv(tmp_path / "out" / "audit_patients.csv", dtype=str)
    assert export["period"].tolist() == ["2180-01", "2180-02"]
    assert set(export["profile"]) == {"seed"}
    assert set(export["rules_version"]) == {load_rules().version}


def test_the_page_says_which_run_writes_each_file_a_month_s_warning_points_to(
    mimic_extract: Path, tmp_path: Path
) -> None:
    """March 2180 has no sodium row: its warning, a run's, points to coverage.csv, which the
    audit does not write; the note under the warnings says a run over the month writes it,
    as it says of quarantine.csv."""
    summary = run_audit(
        AuditSettings(
            input_dir=mimic_extract, out_dir=tmp_path / "out", source="mimic",
            start=pd.Timestamp("2180-03-01"), end=pd.Timestamp("2180-04-01"),
        )
    )  # fmt: skip
    (warning,) = [w for w in summary.manifest["warnings"] if w["code"] == "no_usable_sodium"]
    assert "coverage.csv" in warning["message"]
    page = (tmp_path / "out" / "audit.html").read_text("utf-8")
    note = page[page.index("The messages are those a nightly run") :].split("</p>")[0]
    assert "coverage.csv" in note and "quarantine.csv" in note


def test_an_output_path_that_is_a_file_stops_the_audit_before_any_month_naming_it(
    mimic_extract: Path, tmp_path: Path
) -> None:
    """--out names an existing file: the machine's problem (75), told as the output folder's,
    not as standard output's, and before any month is screened."""
    taken = tmp_path / "report"
    taken.write_text("", "utf-8")
    done = run_cli(
        "audit", "--input", str(mimic_extract), "--source", "mimic", "--start", "2180-01-01",
        "--end", "2180-03-01", "--out", str(taken),
    )  # fmt: skip
    assert done.returncode == 75, done.stderr
    assert f"({taken})" in done.stderr and "standard output" not in done.stderr
    assert "screened (" not in done.stderr  # no month was screened for nothing
    assert "Traceback" not in done.stderr


def test_an_omop_audit_counts_month_edges_and_a_clock_change_as_the_spec_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Hand-built OMOP patients, site zone America/New_York (clocks forward on 8 March 2026):
    - 9001: 124 at 23:59 on 31 January: a January case only, moderate (120-125), loop
      diuretic: tier 2.
    - 9003: 118 on Saturday 7 March 23:30, 127 on Sunday 23:45: 24 h 15 min on the wall
      clock but 23 h 15 min elapsed, a rise of 9 > 8 within 24 h: severe and over-corrected,
      tier 1 (spec section 11: intervals are elapsed time).
    - 9004: 128, 126 and 131 on the 10th of January, March and May, sertraline: a mild case
      with one risk factor (tier 3) in each of the three months; none in April (no data).
    Export rows, in month order: Jan 9001 (2), Jan 9004 (3), Mar 9003 (1, over-corrected),
    Mar 9004 (3), May 9004 (3). February and April have no sodium row: 0 of 28 and 0 of 30
    days (the other months' few days are hidden with their few sodium rows)."""
    canonical = tmp_path / "canonical"
    canonical.mkdir()
    labs = [
        ("9001", "2026-01-31T23:59:00", "124"), ("9003", "2026-03-07T23:30:00", "118"),
        ("9003", "2026-03-08T23:45:00", "127"), ("9004", "2026-01-10T08:00:00", "128"),
        ("9004", "2026-03-10T08:00:00", "126"), ("9004", "2026-05-10T08:00:00", "131"),
    ]  # fmt: skip
    rows = [f"P{p},E{p},S{n},{t},{t},2951-2,Sodium,{v},mmol/L,final,Serum"
            for n, (p, t, v) in enumerate(labs)]  # fmt: skip
    (canonical / "labs.csv").write_text("\n".join([LAB_HEAD, *rows]) + "\n", "utf-8")
    (canonical / "medications.csv").write_text(
        "patient_id,encounter_id,drug_name,rxnorm,atc,start_time,end_time,status,route\n"
        "P9001,E9001,Furosemide 20 mg,,,2025-05-01T09:00:00,,active,oral\n"
        "P9004,E9004,Sertraline 50 mg,,,2025-05-01T09:00:00,,active,oral\n",
        "utf-8",
    )
    (canonical / "diagnoses.csv").write_text(
        "patient_id,encounter_id,code,code_system,recorded_time,status,description\n"
        "P9001,E9001,I10,ICD-10-CM,2025-05-01T09:00:00,active,Hypertension (not listed)\n",
        "utf-8",
    )
    to_omop.convert(tmp_path / "omop", canonical)
    mapping = tmp_path / "site.yaml"
    mapping.write_text("site: qi\ntimezone: America/New_York\n", "utf-8")
    monkeypatch.setenv(KEY_ENV, "9f2c4e7a1b3d5f6081a2c3e4f5061728394a5b6c7d8e9f00112233445566778a")
    run_audit(
        AuditSettings(
            input_dir=tmp_path / "omop", out_dir=tmp_path / "out", source="omop",
            mapping_path=mapping, start=pd.Timestamp("2026-01-01"),
            end=pd.Timestamp("2026-06-01"), min_cell_size=2,
        )
    )  # fmt: skip
    export = pd.read_csv(tmp_path / "out" / "audit_patients.csv", dtype=str)
    got = export[["period", "tier", "corrected_sodium", "overcorrection", "risk_factors"]]
    assert got.fillna("").values.tolist() == [
        ["2026-01", "2", "124.0", "False", "loop_diuretic"],
        ["2026-01", "3", "128.0", "False", "ssri"],
        ["2026-03", "1", "118.0", "True", ""],
        ["2026-03", "3", "126.0", "False", "ssri"],
        ["2026-05", "3", "131.0", "False", "ssri"],
    ]
    tables = pd.read_csv(tmp_path / "out" / "audit_tables.csv", dtype=str, keep_default_na=False)
    days = tables.loc[tables["measure"] == "days_with_sodium_rows"].set_index("period")
    assert days.loc["2026-02", ["numerator", "denominator"]].tolist() == ["0", "28"]
    assert days.loc["2026-04", ["numerator", "denominator"]].tolist() == ["0", "30"]
