"""The column a message about key times that do not read names: the source's own, which the
data engineer finds in the delivery (a site mapping's `COLLECTED`, OMOP's
`measurement_datetime`, MIMIC's `charttime`), with the canonical column it is read as; and a
MIMIC diagnosis without a time told as one whose admission is not in `admissions`, not as a
column the site mapping reads from the wrong place. Column names only, never a value.

Counts by hand, from the sample (test_delivery_serial_times): 170 lab rows matter, 168 of them
hold an ISO time (row 38 writes `unknown`, row 53 has no patient id). The site example is the
sample in a site's layout (sample_data/site_example). Converted to OMOP the sample loses one
entered-in-error lab row (169 matter, 167 rewritten); as MIMIC it has 13 diagnoses, each with
its own admission.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from sample_data import to_mimic, to_omop

from hyposcreen.cli import main
from sample_delivery import DAY
from test_delivery_serial_times import assert_stopped, excel_serial, rewritten
from test_site_date_and_time_columns import MAPPING, _deliver

SITE = Path(__file__).resolve().parents[1] / "sample_data" / "site_example"


def _day_first(time: pd.Timestamp) -> str:
    return time.strftime("%d/%m/%Y %H:%M")


def _run(folder: Path, *options: str) -> tuple[int, Path]:
    out = folder.parent / f"{folder.name}_out"
    status = main(["run", "--no-flow", "--input", str(folder), "--out", str(out),
                   "--window-start", DAY, *options])  # fmt: skip
    return status, out / DAY


def _site(tmp_path: Path, formats: bool) -> tuple[Path, Path]:
    """The site example's extract and mapping, its datetime_formats left out unless `formats`."""
    site = shutil.copytree(SITE, tmp_path / "site")
    mapping = site / "site_mapping.yaml"
    if not formats:
        lines = mapping.read_text(encoding="utf-8").splitlines(keepends=True)
        mapping.write_text("".join(x for x in lines if not x.startswith("datetime_formats")))
    return site / "extract", mapping


def test_a_site_mappings_time_column_is_named_as_the_extract_names_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # the site writes `20.11.2026 06:10`; without its datetime_formats no lab time reads
    extract, mapping = _site(tmp_path, formats=False)
    status, night = _run(extract, "--mapping", str(mapping))
    err = capsys.readouterr().err
    start = (
        "LAB_RESULTS.csv (labs): 168 of 170 row(s) (99%) have a COLLECTED (read as "
        "specimen_time) that does not read"
    )
    assert_stopped(status, night, err, start, "168 look like day-first", "LAB_RESULTS.csv:2;")


def test_the_warning_names_the_site_mappings_column_too(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # 10 of the site's 170 lab rows that matter written as Excel serials, and row 38's
    # `unknown`: 11 (6 %) do not read, a warning
    extract, mapping = _site(tmp_path, formats=True)
    labs = extract / "LAB_RESULTS.csv"
    frame = pd.read_csv(labs, sep=";", encoding="latin-1", dtype=str, keep_default_na=False)
    times = pd.to_datetime(frame.loc[:9, "COLLECTED"], format="%d.%m.%Y %H:%M")
    frame.loc[:9, "COLLECTED"] = [excel_serial(t) for t in times]
    frame.to_csv(labs, sep=";", encoding="latin-1", index=False)
    status, night = _run(extract, "--mapping", str(mapping))
    err = capsys.readouterr().err
    assert status == 4, err
    manifest = json.loads((night / "run_manifest.json").read_text())
    (warning,) = [w for w in manifest["warnings"] if w["code"] == "unreadable_times"]
    assert warning["message"].startswith(
        "11 of 170 labs row(s) (6%) have a COLLECTED (read as specimen_time) that does not read"
    )
    assert "Of them, 10 look like Excel serial day numbers" in warning["message"]
    assert "; 1 is written as words, not times (" in warning["message"]


def test_a_date_and_a_time_column_read_together_are_both_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # `11/20/2026 12:00:00 AM` and `6:10 AM` without the mapping's format for them
    folder = _deliver(tmp_path, "us")
    (tmp_path / "site.yaml").write_text(MAPPING)
    status, night = _run(folder, "--mapping", str(tmp_path / "site.yaml"))
    err = capsys.readouterr().err
    start = "have a COLLECT_DATE and COLLECT_TIME (read as specimen_time) that does not read"
    assert_stopped(status, night, err, start, "look like month-first dates", "labs.csv:2;")


def test_an_omop_measurement_time_is_named_by_its_omop_columns(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    canonical = rewritten(tmp_path, "labs", "specimen_time", _day_first)
    to_omop.convert(tmp_path / "omop", canonical_dir=canonical, delimiter=",")
    status, night = _run(tmp_path / "omop", "--source", "omop")
    err = capsys.readouterr().err
    start = (
        "measurement.csv (labs): 167 of 169 row(s) (99%) have a measurement_datetime or "
        "measurement_date (read as specimen_time) that does not read"
    )
    assert_stopped(status, night, err, start, "167 look like day-first", "measurement.csv:2;")


def _mimic(tmp_path: Path) -> Path:
    """The sample in the MIMIC-IV layout (hosp/)."""
    to_mimic.convert(tmp_path / "mimic")
    return tmp_path / "mimic" / "hosp"


def test_a_mimic_charttime_is_named_as_mimic_names_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hosp = _mimic(tmp_path)
    frame = pd.read_csv(hosp / "labevents.csv", dtype=str, keep_default_na=False)
    times = pd.to_datetime(frame["charttime"], errors="coerce")
    frame.loc[times.notna(), "charttime"] = times[times.notna()].map(_day_first)
    frame.to_csv(hosp / "labevents.csv", index=False)
    status, night = _run(tmp_path / "mimic", "--source", "mimic")
    err = capsys.readouterr().err
    start = "have a charttime (read as specimen_time) that does not read"
    assert_stopped(status, night, err, start, "look like day-first", "labevents.csv:2;")


def test_mimic_diagnoses_whose_admission_is_missing_are_told_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # the admissions of 8 of the 13 diagnoses (rows 2-9) left out: those have no time (62 %)
    hosp = _mimic(tmp_path)
    admissions = pd.read_csv(hosp / "admissions.csv", dtype=str, keep_default_na=False)
    admissions.iloc[8:].to_csv(hosp / "admissions.csv", index=False)
    status, night = _run(tmp_path / "mimic", "--source", "mimic")
    err = capsys.readouterr().err
    assert status == 4, err
    manifest = json.loads((night / "run_manifest.json").read_text())
    (warning,) = [w for w in manifest["warnings"] if w["code"] == "missing_keys"]
    assert warning["message"].startswith(
        "8 of 13 diagnoses row(s) (62%) have an empty key (patient_id, code, recorded_time; "
        "e.g. diagnoses_icd.csv:2, diagnoses_icd.csv:3, diagnoses_icd.csv:4; limit 50%): they "
        "are quarantined missing_key. Of them, 8 have no recorded_time: their admission "
        "(hadm_id) is not in the admissions file"
    )
    assert "site mapping" not in warning["message"]


def test_mimic_diagnoses_without_any_admission_stop_saying_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # 26 diagnoses (the 13 twice, over the 20 a stop judges) and an admissions file of none
    hosp = _mimic(tmp_path)
    diagnoses = pd.read_csv(hosp / "diagnoses_icd.csv", dtype=str, keep_default_na=False)
    pd.concat([diagnoses, diagnoses]).to_csv(hosp / "diagnoses_icd.csv", index=False)
    admissions = pd.read_csv(hosp / "admissions.csv", dtype=str, keep_default_na=False)
    admissions.iloc[:0].to_csv(hosp / "admissions.csv", index=False)
    status, night = _run(tmp_path / "mimic", "--source", "mimic")
    err = capsys.readouterr().err
    start = (
        "diagnoses_icd.csv (diagnoses): the admittime (or edregtime) of the stay in admissions "
        "(read as recorded_time) is empty in all 26 row(s) that matter"
    )
    told = "Their admission (hadm_id) is not in the admissions file"
    assert_stopped(status, night, err, start, told, "diagnoses_icd.csv:2;")
    assert "site mapping" not in err
