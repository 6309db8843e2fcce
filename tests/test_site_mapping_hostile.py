"""Site mappings as a real site writes them, through the CLI on the sample renamed to an
EHR-style extract (PAT_ID, RESULT_TIME, ORD_VALUE, REFERENCE_UNIT, COMPONENT_NAME): each either
screens to the sample's list or stops with one line naming the key, never a misleading
message about columns the file does carry, nor a silent run without a mapped column."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pandas as pd
import pytest
from tests.cli_process import run_night

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data" / "canonical"
EXPECTED = ROOT / "tests" / "data" / "golden" / "sample" / "expected_review_list.csv"
SITE_COLUMNS = {
    "patient_id": "PAT_ID",
    "encounter_id": "PAT_ENC_CSN_ID",
    "specimen_id": "ORDER_PROC_ID",
    "specimen_time": "SPECIMEN_TAKEN_TIME",
    "result_time": "RESULT_TIME",
    "value_raw": "ORD_VALUE",
    "unit": "REFERENCE_UNIT",
    "lab_name": "COMPONENT_NAME",
    "loinc": "LOINC_CODE",
    "status": "RESULT_STATUS",
    "specimen_type": "SPECIMEN_TYPE",
}


def _extract(folder: Path, site_columns: dict[str, str]) -> Path:
    folder.mkdir()
    labs = pd.read_csv(SAMPLE / "labs.csv", dtype=str, keep_default_na=False)
    labs.rename(columns=site_columns).to_csv(folder / "LAB_RESULTS.csv", index=False)
    for name in ("medications", "diagnoses", "patients"):
        (folder / f"{name}.csv").write_bytes((SAMPLE / f"{name}.csv").read_bytes())
    return folder


def _mapping(path: Path, columns: dict[str, str], head: str = "site: epic\n") -> Path:
    lines = [head, "tables:\n", "  labs:\n", "    file: LAB_RESULTS\n", "    columns:\n"]
    lines += [f"      {canon}: {site}\n" for canon, site in columns.items()]
    path.write_text("".join(lines))
    return path


def _run(extract: Path, mapping: Path, out: Path) -> subprocess.CompletedProcess[str]:
    return run_night(
        extract, out, "2026-11-20T00:00:00", "2026-11-21T00:00:00", "--mapping", str(mapping)
    )


def _error_line(done: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in done.stderr, done.stderr
    errors = [line for line in done.stderr.splitlines() if "error" in line]
    assert len(errors) == 1, done.stderr
    return errors[0]


def assert_sample_list(
    done: subprocess.CompletedProcess[str], out: Path
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The run exited 0 and listed the sample's patients, in the sample's order; its review
    list and the sample's."""
    assert done.returncode == 0, done.stderr
    review = pd.read_csv(out / "2026-11-20" / "review_list.csv", dtype=str, keep_default_na=False)
    expected = pd.read_csv(EXPECTED, dtype=str, keep_default_na=False)
    assert review["patient_id"].tolist() == expected["patient_id"].tolist()
    return review, expected


def test_the_renamed_extract_screens_to_the_sample_list(tmp_path: Path) -> None:
    extract = _extract(tmp_path / "extract", SITE_COLUMNS)
    done = _run(extract, _mapping(tmp_path / "site.yaml", SITE_COLUMNS), tmp_path / "out")
    assert_sample_list(done, tmp_path / "out")


def test_a_site_column_named_like_another_canonical_column_is_read_as_mapped(
    tmp_path: Path,
) -> None:
    """An extract whose result text is in a column called `value` (a name of the canonical
    schema too) maps `value_raw: value`: the explicit mapping wins over the identity of the
    canonical `value`; it was refused (exit 3) as lacking value_raw while naming `value` as
    the expected, present column."""
    site = {**SITE_COLUMNS, "value_raw": "value"}
    extract = _extract(tmp_path / "extract", site)
    done = _run(extract, _mapping(tmp_path / "site.yaml", site), tmp_path / "out")
    assert_sample_list(done, tmp_path / "out")


def test_one_site_column_mapped_to_two_canonical_columns_stops_naming_both_keys(
    tmp_path: Path,
) -> None:
    """`result_time: SPECIMEN_TAKEN_TIME` next to `specimen_time: SPECIMEN_TAKEN_TIME`: one of
    the two was dropped and the run said the file lacked specimen_time (exit 3) while naming
    SPECIMEN_TAKEN_TIME, which it carries, as expected."""
    extract = _extract(tmp_path / "extract", SITE_COLUMNS)
    columns = {**SITE_COLUMNS, "result_time": "SPECIMEN_TAKEN_TIME"}
    done = _run(extract, _mapping(tmp_path / "site.yaml", columns), tmp_path / "out")
    assert done.returncode == 2, done.stderr
    line = _error_line(done)
    assert "specimen_time" in line and "result_time" in line and "SPECIMEN_TAKEN_TIME" in line


def test_a_mapped_column_the_file_does_not_carry_stops_naming_the_key(tmp_path: Path) -> None:
    """`specimen_type: SPECIMEN_SOURCE` where the file's column is SPECIMEN_TYPE: the run went
    on at exit 0 reading every specimen as blood (a urine sodium without LOINC would be
    screened as a serum one)."""
    extract = _extract(tmp_path / "extract", SITE_COLUMNS)
    columns = {**SITE_COLUMNS, "specimen_type": "SPECIMEN_SOURCE"}
    done = _run(extract, _mapping(tmp_path / "site.yaml", columns), tmp_path / "out")
    assert done.returncode == 3, done.stderr
    line = _error_line(done)
    assert "tables.labs.columns.specimen_type" in line and "SPECIMEN_SOURCE" in line
    assert not (tmp_path / "out" / "2026-11-20" / "review_list.csv").exists()


def test_a_misspelt_required_column_stops_naming_its_mapping_key(tmp_path: Path) -> None:
    """`specimen_time: SPECIMEN_TAKEN_TIM` (a letter short): the message named the canonical
    column only; it names the mapping key and the site name to correct too."""
    extract = _extract(tmp_path / "extract", SITE_COLUMNS)
    columns = {**SITE_COLUMNS, "specimen_time": "SPECIMEN_TAKEN_TIM"}
    done = _run(extract, _mapping(tmp_path / "site.yaml", columns), tmp_path / "out")
    assert done.returncode == 3, done.stderr
    line = _error_line(done)
    assert "lacks required column(s) specimen_time" in line
    assert "(tables.labs.columns.specimen_time: SPECIMEN_TAKEN_TIM)" in line
    assert "correct the name in the mapping file" in line


def test_a_wrong_delimiter_is_told_as_such_not_as_misspelt_names(tmp_path: Path) -> None:
    """The mapping's columns are right but its delimiter is not (`;` over a comma-separated
    file): the header reads as one column, and the message points at the delimiter, never at
    mapping keys to correct."""
    extract = _extract(tmp_path / "extract", SITE_COLUMNS)
    mapping = _mapping(tmp_path / "site.yaml", SITE_COLUMNS, 'site: epic\ncsv: {delimiter: ";"}\n')
    done = _run(extract, mapping, tmp_path / "out")
    assert done.returncode == 3, done.stderr
    line = _error_line(done)
    assert "the file seems separated by ','" in line
    assert "correct the name in the mapping file" not in line


@pytest.mark.parametrize(
    ("head", "named"),
    [
        ("site: epic\ntimezone:\n", "timezone"),
        ("site: epic\ntimezone: [UTC]\n", "timezone"),
        ("site: epic\ntimezone: Mars/Olympus\n", "timezone"),
        ("site: [north, south]\n", "site"),
    ],
)
def test_a_wrong_top_level_value_stops_naming_the_key_and_the_file(
    tmp_path: Path, head: str, named: str
) -> None:
    extract = _extract(tmp_path / "extract", SITE_COLUMNS)
    mapping = _mapping(tmp_path / "site.yaml", SITE_COLUMNS, head=head)
    done = _run(extract, mapping, tmp_path / "out")
    assert done.returncode == 2, done.stderr
    line = _error_line(done)
    assert named in line and "site.yaml" in line


def test_yaml_indented_with_tabs_stops_on_one_line(tmp_path: Path) -> None:
    extract = _extract(tmp_path / "extract", SITE_COLUMNS)
    mapping = tmp_path / "site.yaml"
    mapping.write_text("site: x\ntables:\n\tlabs:\n\t\tfile: LAB_RESULTS\n")
    done = _run(extract, mapping, tmp_path / "out")
    assert done.returncode == 2, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "line 3" in done.stderr
    # the place is in the mapping file the message names, not in YAML's "<unicode string>"
    assert f"Mapping file {mapping} is not valid YAML" in done.stderr
    assert "<unicode string>" not in done.stderr and "at line 3, column 1" in done.stderr


def test_us_eastern_is_accepted_as_a_time_zone(tmp_path: Path) -> None:
    extract = _extract(tmp_path / "extract", SITE_COLUMNS)
    mapping = _mapping(tmp_path / "site.yaml", SITE_COLUMNS, head="site: e\ntimezone: US/Eastern\n")
    done = _run(extract, mapping, tmp_path / "out")
    assert done.returncode == 0, done.stderr


def _month_first_extract(folder: Path) -> Path:
    """The sample as a US site writes its times: 11/20/2026 06:10."""
    folder.mkdir()
    labs = pd.read_csv(SAMPLE / "labs.csv", dtype=str, keep_default_na=False)
    for column in ("specimen_time", "result_time"):
        times = pd.to_datetime(labs[column], errors="coerce", format="ISO8601")
        labs[column] = times.dt.strftime("%m/%d/%Y %H:%M").where(times.notna(), labs[column])
    labs.to_csv(folder / "labs.csv", index=False)
    for name in ("medications", "diagnoses", "patients"):
        (folder / f"{name}.csv").write_bytes((SAMPLE / f"{name}.csv").read_bytes())
    return folder


def test_month_first_times_with_their_format_screen_to_the_sample_list(tmp_path: Path) -> None:
    extract = _month_first_extract(tmp_path / "extract")
    mapping = tmp_path / "site.yaml"
    mapping.write_text('site: us\ndatetime_formats: ["%m/%d/%Y %H:%M"]\n')
    done = _run(extract, mapping, tmp_path / "out")
    review, expected = assert_sample_list(done, tmp_path / "out")
    assert review["index_time"].tolist() == expected["index_time"].tolist()


@pytest.mark.parametrize(
    "formats",
    [
        'datetime_formats: ["%d/%m/%Y %H:%M", "%m/%d/%Y %H:%M"]\n',
        'datetime_formats: ["%m/%d/%Y %H:%M"]\ntables:\n  labs:\n'
        '    datetime_formats: ["%d/%m/%Y %H:%M"]\n',
    ],
)
def test_day_first_and_month_first_of_one_format_stop_naming_the_key(
    tmp_path: Path, formats: str
) -> None:
    """Both orders listed: 05/11/2026 was read day-first (5 November) and 11/20/2026
    month-first, at exit 0, so every date up to the 12th silently moved."""
    extract = _month_first_extract(tmp_path / "extract")
    mapping = tmp_path / "site.yaml"
    mapping.write_text("site: us\n" + formats)
    done = _run(extract, mapping, tmp_path / "out")
    assert done.returncode == 2, done.stderr
    line = _error_line(done)
    assert "datetime_formats" in line and "%d/%m/%Y %H:%M" in line and "%m/%d/%Y %H:%M" in line


def test_a_table_file_named_with_its_suffix_is_read(tmp_path: Path) -> None:
    """`file: LAB_RESULTS.csv` (the name as the site sees it in the folder) looked for
    LAB_RESULTS.csv.csv and stopped the night (exit 3) saying there was no labs table."""
    extract = _extract(tmp_path / "extract", SITE_COLUMNS)
    mapping = _mapping(tmp_path / "site.yaml", SITE_COLUMNS)
    mapping.write_text(mapping.read_text().replace("file: LAB_RESULTS", "file: LAB_RESULTS.csv"))
    done = _run(extract, mapping, tmp_path / "out")
    assert_sample_list(done, tmp_path / "out")
