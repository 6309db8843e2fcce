"""A corpus of bad inputs: each one either stops the run with a clear error or is accounted for.

Every case starts from the same minimal valid extract (one hyponatremic patient P1 on
furosemide with heart failure, a glucose, nothing else) built in tmp_path, adds exactly one
defect, runs the pipeline without Prefect and asserts the outcome:

* `Fails`: the run raises InputError / ConfigError whose message names the file (and the
  column where one is at fault);
* `Ok`: the run completes, the manifest reconciles, rows_in of every table equals the data rows
  really written (counted here independently of hyposcreen), the reason codes of every row not
  used are exactly the expected ones (and sit in the right bucket), quarantine.csv holds the
  quarantined rows with the same reasons, and the listed patients are the expected ones.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from hyposcreen.config import RunSettings, parse_window
from hyposcreen.errors import ConfigError, HyposcreenError, InputError
from hyposcreen.rules.loader import RULES_DIR
from hyposcreen.runners.in_process import run_pipeline

WINDOW = ("2026-11-20T00:00:00", "2026-11-21T00:00:00")
TABLES = ("labs", "medications", "diagnoses")

LAB_COLUMNS = [
    "patient_id",
    "specimen_time",
    "value_raw",
    "unit",
    "loinc",
    "specimen_type",
    "status",
]
MED_COLUMNS = ["patient_id", "drug_name", "start_time", "end_time", "status"]
DX_COLUMNS = ["patient_id", "code", "code_system", "recorded_time", "status"]

Row = dict[str, str]


def lab(
    value: str = "128",
    time: str = "2026-11-20T08:00:00",
    *,
    loinc: str = "2951-2",
    unit: str = "mmol/L",
    patient_id: str = "P1",
    specimen_type: str = "serum",
    status: str = "final",
) -> Row:
    return {
        "patient_id": patient_id,
        "specimen_time": time,
        "value_raw": value,
        "unit": unit,
        "loinc": loinc,
        "specimen_type": specimen_type,
        "status": status,
    }


def glucose(value: str = "90", **extra: str) -> Row:
    return lab(value, loinc="2345-7", unit="mg/dL", **extra)


def potassium(value: str, **extra: str) -> Row:
    return lab(value, loinc="2823-3", unit="mmol/L", **extra)


def med(
    drug: str = "Furosemide 40mg tab",
    start: str = "2026-11-01T08:00:00",
    end: str = "",
    *,
    status: str = "active",
    patient_id: str = "P1",
) -> Row:
    return {
        "patient_id": patient_id,
        "drug_name": drug,
        "start_time": start,
        "end_time": end,
        "status": status,
    }


def dx(
    code: str = "I50.9",
    system: str = "ICD-10-CM",
    *,
    recorded: str = "2026-01-15T00:00:00",
    status: str = "active",
    patient_id: str = "P1",
) -> Row:
    return {
        "patient_id": patient_id,
        "code": code,
        "code_system": system,
        "recorded_time": recorded,
        "status": status,
    }


BASE_LABS = [lab(), glucose()]
BASE_MEDS = [med()]
BASE_DX = [dx()]
BASE_RISK = "heart_failure;loop_diuretic"


def to_csv(rows: list[Row], columns: list[str] | None = None, sep: str = ",") -> str:
    columns = columns or list(rows[0])
    out = io.StringIO()
    writer = csv.DictWriter(out, columns, delimiter=sep, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def write(folder: Path, name: str, content: str | bytes) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    return path


def write_base(folder: Path) -> None:
    write(folder, "labs.csv", to_csv(BASE_LABS, LAB_COLUMNS))
    write(folder, "medications.csv", to_csv(BASE_MEDS, MED_COLUMNS))
    write(folder, "diagnoses.csv", to_csv(BASE_DX, DX_COLUMNS))


def labs_with(*rows: Row) -> Callable[[Path], None]:
    """Defect: the base labs plus these rows."""
    return lambda d: write(d, "labs.csv", to_csv([*BASE_LABS, *rows], LAB_COLUMNS))


def labs_only(*rows: Row) -> Callable[[Path], None]:
    """Defect: the labs table replaced by exactly these rows."""
    return lambda d: write(d, "labs.csv", to_csv(list(rows), LAB_COLUMNS))


def meds_with(*rows: Row) -> Callable[[Path], None]:
    return lambda d: write(d, "medications.csv", to_csv([*BASE_MEDS, *rows], MED_COLUMNS))


def dx_with(*rows: Row) -> Callable[[Path], None]:
    return lambda d: write(d, "diagnoses.csv", to_csv([*BASE_DX, *rows], DX_COLUMNS))


def labs_text(text: str | bytes, name: str = "labs.csv") -> Callable[[Path], None]:
    def mutate(d: Path) -> None:
        (d / "labs.csv").unlink()
        write(d, name, text)

    return mutate


BASE_LAB_TEXT = to_csv(BASE_LABS, LAB_COLUMNS)


def _both(*mutations: Callable[[Path], None]) -> Callable[[Path], None]:
    def mutate(d: Path) -> None:
        for mutation in mutations:
            mutation(d)

    return mutate


# ---------------------------------------------------------------- defects built in code


def _latin1_drug(d: Path) -> None:
    # Legacy Windows/latin-1 extract: é is the single byte 0xE9 (invalid as UTF-8).
    rows = [*BASE_MEDS, med("Furosémide 40mg"), med("Furosemide 20mg, service médecine", "")]
    write(d, "medications.csv", to_csv(rows, MED_COLUMNS).encode("latin-1"))


def _bom_header(d: Path) -> None:
    # Excel's "CSV UTF-8" export: a byte-order mark before the header and CRLF line ends
    write(d, "labs.csv", b"\xef\xbb\xbf" + BASE_LAB_TEXT.replace("\n", "\r\n").encode())


def _quoted_newline(d: Path) -> None:
    rows = [*BASE_LABS, lab("See\nComments", patient_id="P2")]
    text = to_csv(rows, LAB_COLUMNS)
    assert '"See\nComments"' in text
    write(d, "labs.csv", text)


def _truncated_last_line(d: Path) -> None:
    # the extract was cut off while writing the last record
    write(d, "labs.csv", BASE_LAB_TEXT + "P2,2026-11-20T09:00:00,12")


def _too_many_fields(d: Path) -> None:
    write(d, "labs.csv", BASE_LAB_TEXT + "P2,2026-11-20T09:00:00,125,mmol/L,2951-2,serum,final,x\n")


def _extra_columns(d: Path) -> None:
    rows = [{**r, "ward": "4B", "comment": "ok, checked", "": ""} for r in BASE_LABS]
    write(d, "labs.csv", to_csv(rows, ["comment", *LAB_COLUMNS, "ward"]))


def _drop_column(column: str) -> Callable[[Path], None]:
    return lambda d: write(
        d, "labs.csv", to_csv(BASE_LABS, [c for c in LAB_COLUMNS if c != column])
    )


def _renamed_patient_id(d: Path) -> None:
    rows = [{("pid" if k == "patient_id" else k): v for k, v in r.items()} for r in BASE_LABS]
    write(d, "labs.csv", to_csv(rows))


def _no_analyte_identifier(d: Path) -> None:
    columns = [c for c in LAB_COLUMNS if c != "loinc"]
    write(d, "labs.csv", to_csv(BASE_LABS, columns))


def _delimited(sep: str) -> Callable[[Path], None]:
    def mutate(d: Path) -> None:
        write(d, "labs.csv", to_csv(BASE_LABS, LAB_COLUMNS, sep=sep))
        write(d, "medications.csv", to_csv(BASE_MEDS, MED_COLUMNS, sep=sep))

    return mutate


def _lab_name_only(d: Path) -> None:
    rows = [
        {**{k: v for k, v in r.items() if k != "loinc"}, "lab_name": name}
        for r, name in zip([*BASE_LABS, lab(patient_id="P2")], ["Sodium", "Glucose", "Zorbium"])
    ]
    write(d, "labs.csv", to_csv(rows))


def _all_sodium_non_numeric(d: Path) -> None:
    values = ["HEMOLYZED", "___", "See Comments", "cancelled", ""]
    rows = [lab(v, patient_id=f"P{i}") for i, v in enumerate(values, start=1)]
    write(d, "labs.csv", to_csv([*rows, glucose()], LAB_COLUMNS))


def _huge_value(d: Path) -> None:
    write(d, "labs.csv", to_csv([*BASE_LABS, lab("9" * 10 + "x" * (1 << 20))], LAB_COLUMNS))


def _parquet_wrong_types(d: Path) -> None:
    (d / "labs.csv").unlink()
    table = pa.table(
        {
            "patient_id": pa.array([1001, 1001], pa.int64()),
            "specimen_time": pa.array(
                [pd.Timestamp("2026-11-20 08:00"), pd.Timestamp("2026-11-20 08:00")],
                pa.timestamp("us"),
            ),
            "value_raw": pa.array([128.0, 90.0], pa.float64()),
            "unit": ["mmol/L", "mg/dL"],
            "loinc": ["2951-2", "2345-7"],
        }
    )
    pq.write_table(table, d / "labs.parquet")
    meds = pa.table(
        {
            "patient_id": pa.array([1001], pa.int64()),
            "drug_name": ["Furosemide 40mg tab"],
            "start_time": ["2026-11-01T08:00:00"],
        }
    )
    (d / "medications.csv").unlink()
    pq.write_table(meds, d / "medications.parquet")
    write(d, "diagnoses.csv", to_csv([dx(patient_id="1001")], DX_COLUMNS))


def _parquet_zoned_times(d: Path) -> None:
    (d / "labs.csv").unlink()
    berlin = pd.Timestamp("2026-11-20 08:00", tz="Europe/Berlin")  # 07:00 UTC
    frame = pd.DataFrame(BASE_LABS).assign(specimen_time=[berlin, berlin])
    frame.to_parquet(d / "labs.parquet")


def _parquet_zero_rows(d: Path) -> None:
    (d / "labs.csv").unlink()
    pd.DataFrame({c: pd.Series([], dtype=str) for c in LAB_COLUMNS}).to_parquet(d / "labs.parquet")


def _trailing_delimiter(d: Path) -> None:
    # every data row ends in a delimiter the header does not have: one field too many
    write(d, "labs.csv", BASE_LAB_TEXT.replace("final\n", "final,\n"))


def _decimal_comma(d: Path) -> None:
    _delimited(";")(d)
    rows = [*BASE_LABS, lab("128,5", patient_id="P2")]
    write(d, "labs.csv", to_csv(rows, LAB_COLUMNS, sep=";"))


def _leading_zero_ids(d: Path) -> None:
    write(d, "labs.csv", to_csv([{**r, "patient_id": "007"} for r in BASE_LABS], LAB_COLUMNS))
    write(d, "medications.csv", to_csv([med(patient_id="007")], MED_COLUMNS))
    write(d, "diagnoses.csv", to_csv([dx(patient_id="007")], DX_COLUMNS))


def _header_only(name: str, columns: list[str]) -> Callable[[Path], None]:
    return lambda d: write(d, name, ",".join(columns) + "\n")


def _parquet_missing_column(d: Path) -> None:
    (d / "labs.csv").unlink()
    frame = pd.DataFrame(BASE_LABS).drop(columns=["unit"])
    frame.to_parquet(d / "labs.parquet")


def _parquet_truncated(d: Path) -> None:
    (d / "labs.csv").unlink()
    buffer = io.BytesIO()
    pd.DataFrame(BASE_LABS).to_parquet(buffer)
    write(d, "labs.parquet", buffer.getvalue()[: len(buffer.getvalue()) // 2])


def _csv_and_parquet(d: Path) -> None:
    pd.DataFrame(BASE_LABS).to_parquet(d / "labs.parquet")


def _csv_and_gzip(d: Path) -> None:
    write(d, "labs.csv.gz", gzip.compress(BASE_LAB_TEXT.encode()))


def _damaged_gzip() -> bytes:
    """A whole-length gzip whose compressed bytes were overwritten in the middle."""
    data = bytearray(gzip.compress((BASE_LAB_TEXT * 50).encode()))
    middle = len(data) // 2
    data[middle : middle + 16] = b"\xff" * 16
    return bytes(data)


def _gzip_only(d: Path) -> None:
    (d / "labs.csv").unlink()
    write(d, "labs.csv.gz", gzip.compress(BASE_LAB_TEXT.encode()))


def _fake_gzip(d: Path) -> None:
    (d / "labs.csv").unlink()
    write(d, "labs.csv.gz", BASE_LAB_TEXT)


def _folder_of_parts(d: Path) -> None:
    (d / "labs.csv").unlink()
    write(d, "labs/part-0001.csv", to_csv([BASE_LABS[0]], LAB_COLUMNS))
    write(d, "labs/part-0002.csv", to_csv([BASE_LABS[1], lab("HEMOLYZED")], LAB_COLUMNS))


def _empty_folder(d: Path) -> None:
    (d / "labs.csv").unlink()
    (d / "labs").mkdir()


def _missing_medications(d: Path) -> None:
    (d / "medications.csv").unlink()


def _duplicate_header_column(d: Path) -> None:
    write(d, "labs.csv", BASE_LAB_TEXT.replace("specimen_type,status", "unit,status", 1))


def _mapping(text: str) -> Callable[[Path], None]:
    return lambda d: write(d, "site.yaml", text)


def _future_dates(d: Path) -> None:
    # de-identification shifted every date by 124 years
    for name in ("labs.csv", "medications.csv", "diagnoses.csv"):
        write(d, name, (d / name).read_text().replace("2026-", "2150-"))


# ---------------------------------------------------------------- expectations


@dataclass(frozen=True)
class Ok:
    """The run completes and reconciles; `reasons` are the non-used reasons per table."""

    reasons: dict[str, dict[str, int]] = field(default_factory=dict)
    listed: tuple[str, ...] = ("P1",)
    risk_factors: str | None = BASE_RISK  # of the first listed patient; None: not checked
    index_time: str | None = "2026-11-20 08:00:00"
    window: tuple[str, str] = WINDOW
    check: Callable[[Path], None] | None = None


@dataclass(frozen=True)
class Fails:
    """The run stops with this error; the message contains every one of `names`."""

    error: type[HyposcreenError]
    names: tuple[str, ...]
    column: str | None = None  # InputError.column when the fault is one column


END_BEFORE_START = "end_before_start:expect_column_pair_values_a_to_be_greater_than_b"
BUCKET_OF = {
    "duplicate": "duplicate",
    END_BEFORE_START: "quarantined",
    **dict.fromkeys(
        ["unknown_loinc", "unknown_lab_name", "no_lab_identifier", "urine_specimen", "other_fluid"],
        "not_relevant",
    ),
    **dict.fromkeys(
        ["outside_window", "unlisted_drug", "unlisted_code", "after_window"], "not_relevant"
    ),
    **dict.fromkeys(
        [
            "malformed_row",
            "missing_key",
            "status",
            "non_numeric",
            "bad_unit",
            "implausible",
            "unknown_code_system",
        ],
        "quarantined",
    ),
}


def _quarantine_contains(text: str) -> Callable[[Path], None]:
    def check(out: Path) -> None:
        quarantine = pd.read_csv(out / "quarantine.csv", dtype=str, keep_default_na=False)
        assert quarantine["original"].str.contains(text, regex=False).any(), text

    return check


def _no_mojibake(out: Path) -> None:
    quarantine = pd.read_csv(out / "quarantine.csv", dtype=str, keep_default_na=False)
    original = json.loads(quarantine.loc[0, "original"])
    assert original["drug_name"] == "Furosemide 20mg, service médecine"


def _huge_value_kept(out: Path) -> None:
    quarantine = pd.read_csv(out / "quarantine.csv", dtype=str, keep_default_na=False)
    assert json.loads(quarantine.loc[0, "original"])["value_raw"].startswith("9999999999xxx")


def _censored_glucose(out: Path) -> None:
    review = pd.read_csv(out / "review_list.csv", dtype=str, keep_default_na=False)
    assert float(review.loc[0, "index_glucose"]) == 100.0
    assert float(review.loc[0, "corrected_sodium"]) == 128.0


def _urine_not_a_case(out: Path) -> None:
    manifest = json.loads((out / "run_manifest.json").read_text())
    steps = {s["step"]: s["count"] for s in manifest["attrition"]}
    # only P1's serum sodium counts as a sodium result; P2's urine sodium is urine sodium
    assert steps["sodium_results_in_window"] == 1 and steps["cases"] == 1


def _no_sodium_usable(out: Path) -> None:
    manifest = json.loads((out / "run_manifest.json").read_text())
    steps = {s["step"]: s["count"] for s in manifest["attrition"]}
    assert steps["sodium_results_in_window"] == 5 and steps["usable_results"] == 0


# Every case: (id, defect, expected outcome). Rows added for another patient (P2, ...) are
# never listed unless stated; `reasons` lists every non-used row of the run.
CASES: list[tuple[str, Callable[[Path], None] | None, Ok | Fails]] = [
    ("control_clean_base", None, Ok()),
    # ---- files that cannot be screened
    ("empty_labs_0_bytes", labs_text(b""), Fails(InputError, ("labs.csv", "empty"))),
    ("blank_lines_only", labs_text("\n\n  \n"), Fails(InputError, ("labs.csv",))),
    (
        "random_binary",
        labs_text(bytes(range(256)) * 8),
        Fails(InputError, ("labs.csv",)),
    ),
    (
        "png_named_csv",
        labs_text(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10" + bytes(64)),
        Fails(InputError, ("labs.csv",)),
    ),
    (
        "missing_required_column_unit",
        _drop_column("unit"),
        Fails(InputError, ("labs.csv", "unit"), column="unit"),
    ),
    (
        "missing_required_column_specimen_time",
        _drop_column("specimen_time"),
        Fails(InputError, ("labs.csv", "specimen_time"), column="specimen_time"),
    ),
    (
        "renamed_column_pid",
        _renamed_patient_id,
        Fails(InputError, ("labs.csv", "patient_id", "pid"), column="patient_id"),
    ),
    (
        "neither_loinc_nor_lab_name",
        _no_analyte_identifier,
        Fails(InputError, ("labs.csv", "loinc or lab_name")),
    ),
    (
        "duplicated_header_column",
        _duplicate_header_column,
        Fails(InputError, ("labs.csv", "unit")),
    ),
    (
        "labs_csv_and_labs_parquet",
        _csv_and_parquet,
        Fails(InputError, ("labs.csv", "labs.parquet")),
    ),
    ("labs_csv_and_labs_csv_gz", _csv_and_gzip, Fails(InputError, ("labs.csv", "labs.csv.gz"))),
    ("gzip_suffix_but_plain_text", _fake_gzip, Fails(InputError, ("labs.csv.gz",))),
    ("parquet_truncated", _parquet_truncated, Fails(InputError, ("labs.parquet",))),
    (
        "parquet_missing_column",
        _parquet_missing_column,
        Fails(InputError, ("labs.parquet", "unit"), column="unit"),
    ),
    ("utf16_text", labs_text(BASE_LAB_TEXT.encode("utf-16")), Fails(InputError, ("labs.csv",))),
    (
        "xlsx_named_csv",
        labs_text(b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00" + bytes(64)),
        Fails(InputError, ("labs.csv",)),
    ),
    ("labs_folder_empty", _empty_folder, Fails(InputError, ("labs",))),
    ("medications_table_missing", _missing_medications, Fails(InputError, ("medications",))),
    (
        "mapping_unknown_key",
        _mapping("site: x\ncolumns: {}\n"),
        Fails(ConfigError, ("site.yaml", "columns")),
    ),
    (
        "mapping_unknown_time_zone",
        _mapping("timezone: Mars/Olympus\n"),
        Fails(ConfigError, ("Mars/Olympus",)),
    ),
    # ---- layouts that are fine
    # a quiet night at a small site: an empty extract screens to an empty list
    ("header_only_labs", labs_text(BASE_LAB_TEXT.splitlines()[0] + "\n"), Ok(listed=())),
    ("parquet_zero_rows", _parquet_zero_rows, Ok(listed=())),
    (
        "medications_header_only",
        _header_only("medications.csv", MED_COLUMNS),
        Ok(risk_factors="heart_failure"),
    ),
    (
        # Only malformed rows: each is quarantined (a trailing delimiter is not repaired).
        "trailing_delimiter_on_every_row",
        _trailing_delimiter,
        Ok(reasons={"labs": {"malformed_row": 2}}, listed=()),
    ),
    ("extra_unknown_columns", _extra_columns, Ok()),
    ("patient_id_leading_zeros_kept", _leading_zero_ids, Ok(listed=("007",))),
    ("semicolon_delimiter", _delimited(";"), Ok()),
    ("pipe_delimiter", _delimited("|"), Ok()),
    ("utf8_bom_and_crlf_excel_export", _bom_header, Ok()),
    (
        # free text that looks like a date, a time or a lab value but is none: shown as written
        "drug_names_holding_impossible_dates_times_or_numbers",
        meds_with(
            med("Furosemide 2026-02-30 40mg"),
            med("Furosemide 2026-13-45T10:00 40mg"),
            med("potassium 1.2.3 furosemide"),
        ),
        Ok(),
    ),
    (
        "latin1_drug_name",
        _latin1_drug,
        # accents are folded: the French spelling Furosémide is furosemide (used)
        Ok(reasons={"medications": {"missing_key": 1}}, check=_no_mojibake),
    ),
    ("gzip_labs", _gzip_only, Ok()),
    (
        "labs_folder_two_parts",
        _folder_of_parts,
        Ok(reasons={"labs": {"non_numeric": 1}}),
    ),
    ("parquet_wrong_types", _parquet_wrong_types, Ok(listed=("1001",))),
    ("parquet_zoned_timestamps", _parquet_zoned_times, Ok(index_time="2026-11-20 07:00:00")),
    # ---- row-level defects
    (
        "quoted_newline_in_value",
        _quoted_newline,
        Ok(reasons={"labs": {"non_numeric": 1}}, check=_quarantine_contains("See\\nComments")),
    ),
    (
        "truncated_last_line",
        _truncated_last_line,
        Fails(InputError, ("labs.csv", "ends in the middle of a row", "cut off")),
    ),
    (
        "cut_inside_quoted_field",
        labs_text(BASE_LAB_TEXT + 'P2,2026-11-20T09:00:00,"See comm\nP3,2026-11-20T09:00:00,125'),
        Fails(InputError, ("labs.csv", "ends inside a quoted field", "cut off")),
    ),
    (
        "gzip_stream_cut_short",
        labs_text(gzip.compress((BASE_LAB_TEXT * 50).encode())[:-40], "labs.csv.gz"),
        Fails(InputError, ("labs.csv.gz", "compressed file ends early")),
    ),
    (
        "gzip_cut_inside_quoted_field",
        labs_text(
            gzip.compress(
                (
                    BASE_LAB_TEXT + 'P2,2026-11-20T09:00:00,"See comm\nP3,2026-11-20T09:00:00,125'
                ).encode()
            ),
            "labs.csv.gz",
        ),
        Fails(InputError, ("labs.csv.gz", "ends inside a quoted field", "cut off")),
    ),
    (
        "gzip_cut_in_the_middle_of_a_row",
        labs_text(
            gzip.compress((BASE_LAB_TEXT + "P2,2026-11-20T09:00:00,12").encode()), "labs.csv.gz"
        ),
        Fails(InputError, ("labs.csv.gz", "ends in the middle of a row", "cut off")),
    ),
    (
        "gzip_damaged",
        labs_text(_damaged_gzip(), "labs.csv.gz"),
        Fails(InputError, ("labs.csv.gz", "not a readable gzip file")),
    ),
    (
        "short_last_row_with_line_end",
        labs_text(BASE_LAB_TEXT + "P2,2026-11-20T09:00:00,12\n"),
        Ok(reasons={"labs": {"malformed_row": 1}}),
    ),
    (
        "control_total_differs",
        _both(lambda d: write(d, "labs.count", "3\n")),
        Fails(InputError, ("labs", "declares 3 data row(s)", "labs.count", "but 2 were read")),
    ),
    ("control_total_matches", lambda d: write(d, "labs.count", "2\n"), Ok()),
    (
        "delivery_manifest_differs",
        lambda d: write(d, "delivery_manifest.json", '{"files": {"medications.csv": {"rows": 5}}}'),
        Fails(InputError, ("medications.csv", "declares 5 data row(s)", "delivery_manifest.json")),
    ),
    (
        "delivery_manifest_matches",
        lambda d: write(d, "delivery_manifest.json", '{"files": {"labs.csv": {"rows": 2}}}'),
        Ok(),
    ),
    ("too_many_fields", _too_many_fields, Ok(reasons={"labs": {"malformed_row": 1}})),
    (
        "dotted_date_without_mapping",
        labs_with(lab("125", "20.11.2026 08:00")),
        Ok(reasons={"labs": {"missing_key": 1}}),
    ),
    (
        "dotted_date_with_mapping",
        _both(
            labs_only(lab(time="20.11.2026 08:00"), glucose(time="2026-11-20T08:00:00")),
            _mapping('datetime_formats: ["%d.%m.%Y %H:%M"]\n'),
        ),
        Ok(),
    ),
    (
        "offset_time_converted_to_utc",
        labs_only(lab(time="2026-11-20T08:00:00+01:00"), glucose(time="2026-11-20T08:00:00+01:00")),
        Ok(index_time="2026-11-20 07:00:00"),
    ),
    (
        "offset_time_moves_out_of_window",
        labs_only(lab(time="2026-11-20T00:30:00+01:00")),
        Ok(listed=()),  # 2026-11-19 23:30 UTC: context only, never listed by itself
    ),
    (
        "dates_in_2150_with_matching_window",
        _future_dates,
        Ok(window=("2150-11-20", "2150-11-21"), index_time="2150-11-20 08:00:00"),
    ),
    (
        "impossible_date",
        labs_with(lab("125", "2026-13-45T08:00:00", patient_id="P2")),
        Ok(reasons={"labs": {"missing_key": 1}}),
    ),
    (
        "word_date_yesterday",
        labs_with(lab("125", "yesterday", patient_id="P2")),
        Ok(reasons={"labs": {"missing_key": 1}}),
    ),
    (
        "censored_glucose_lt_100",
        labs_only(lab(), glucose("<100")),
        Ok(check=_censored_glucose),
    ),
    (
        "hemolyzed",
        labs_with(lab("HEMOLYZED", patient_id="P2")),
        Ok(reasons={"labs": {"non_numeric": 1}}),
    ),
    (
        "underscores",
        labs_with(lab("___", patient_id="P2")),
        Ok(reasons={"labs": {"non_numeric": 1}}),
    ),
    (
        "see_comments",
        labs_with(lab("See Comments", patient_id="P2")),
        Ok(reasons={"labs": {"non_numeric": 1}}),
    ),
    (
        "nan_and_inf_strings",
        labs_with(lab("NaN", patient_id="P2"), lab("inf", patient_id="P3")),
        Ok(reasons={"labs": {"non_numeric": 2}}),
    ),
    ("decimal_comma", _decimal_comma, Ok(reasons={"labs": {"non_numeric": 1}})),
    (
        "sodium_in_mg_per_dl",
        labs_with(lab("310", unit="mg/dL", patient_id="P2")),
        Ok(reasons={"labs": {"bad_unit": 1}}),
    ),
    (
        "sodium_1350",
        labs_with(lab("1350", patient_id="P2")),
        Ok(reasons={"labs": {"implausible": 1}}),
    ),
    (
        # A concentration cannot be negative: must not become a hypokalemia co-factor.
        "negative_potassium",
        labs_only(lab(), glucose(), potassium("-3.2")),
        Ok(reasons={"labs": {"implausible": 1}}),
    ),
    ("exact_duplicate_row", labs_with(lab()), Ok(reasons={"labs": {"duplicate": 1}})),
    (
        "missing_patient_id",
        labs_with(lab("120", patient_id="")),
        Ok(reasons={"labs": {"missing_key": 1}}),
    ),
    (
        "blank_patient_id",
        labs_with(lab("120", patient_id="   ")),
        Ok(reasons={"labs": {"missing_key": 1}}),
    ),
    (
        "urine_sodium_with_serum_loinc",
        _both(
            labs_with(lab("118", patient_id="P2", specimen_type="urine")),
            meds_with(med(patient_id="P2")),
        ),
        Ok(check=_urine_not_a_case),
    ),
    (
        "unknown_code_system_icd10pcs",
        dx_with(dx("0DTJ4ZZ", "ICD-10-PCS")),
        Ok(reasons={"diagnoses": {"unknown_code_system": 1}}),
    ),
    (
        "unknown_code_system_xyz",
        dx_with(dx("K74.60", "XYZ")),
        Ok(reasons={"diagnoses": {"unknown_code_system": 1}}),
    ),
    (
        "diagnosis_without_code",
        dx_with(dx("", patient_id="P1")),
        Ok(reasons={"diagnoses": {"missing_key": 1}}),
    ),
    (
        # The spec is silent; the medications data contract flags an end before the start, and
        # the row is quarantined with the expectation as reason, so P1 gains no thiazide.
        "medication_end_before_start",
        meds_with(med("Hydrochlorothiazide 25mg", "2026-11-18T08:00:00", "2026-11-16T08:00:00")),
        Ok(
            reasons={"medications": {END_BEFORE_START: 1}},
            risk_factors="heart_failure;loop_diuretic",
        ),
    ),
    (
        "all_sodium_non_numeric",
        _all_sodium_non_numeric,
        Ok(reasons={"labs": {"non_numeric": 5}}, listed=(), check=_no_sodium_usable),
    ),
    (
        "huge_value_1mb",
        _huge_value,
        Ok(reasons={"labs": {"non_numeric": 1}}, check=_huge_value_kept),
    ),
    (
        "status_entered_in_error_spaces_capitals",
        labs_with(lab("118", patient_id="P2", status=" Entered in Error ")),
        Ok(reasons={"labs": {"status": 1}}),
    ),
    (
        "lab_name_only_unknown_name",
        _lab_name_only,
        Ok(reasons={"labs": {"unknown_lab_name": 1}}),
    ),
]


# ---------------------------------------------------------------- runner


csv.field_size_limit(1 << 30)  # the 1 MB value


def _count_csv_rows(data: bytes) -> int:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    header = text.split("\n", 1)[0]
    sep = max(",;\t|", key=header.count)
    return (
        sum(1 for record in csv.reader(io.StringIO(text, newline=""), delimiter=sep) if record) - 1
    )


def data_rows_written(folder: Path, table: str) -> int:
    """Data rows of one table as written by the test, counted without hyposcreen."""
    files = [folder / f"{table}{s}" for s in (".csv", ".csv.gz", ".parquet")]
    if (folder / table).is_dir():
        files += sorted((folder / table).rglob("*"))
    total = 0
    for path in (p for p in files if p.is_file()):
        if path.name.endswith(".parquet"):
            total += pq.ParquetFile(path).metadata.num_rows
        elif path.name.endswith(".gz"):
            total += _count_csv_rows(gzip.decompress(path.read_bytes()))
        else:
            total += _count_csv_rows(path.read_bytes())
    return total


def _settings(
    input_dir: Path, out: Path, window: tuple[str, str] = WINDOW, rules: Path | None = None
) -> RunSettings:
    mapping = input_dir / "site.yaml"
    return RunSettings(
        input_dir=input_dir,
        out_dir=out,
        window=parse_window(*window),
        mapping_path=mapping if mapping.exists() else None,
        rules_dir=rules,
    )


def _prepare(tmp_path: Path, defect: Callable[[Path], None] | None) -> Path:
    input_dir = tmp_path / "in"
    input_dir.mkdir()
    write_base(input_dir)
    if defect is not None:
        defect(input_dir)
    return input_dir


@pytest.fixture(scope="module")
def small_extract_rules(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The packaged rules with the data contract's rate limits lifted.

    The corpus runs the real Great Expectations suites, but its extracts hold two or three
    rows: one bad value among them is far above the default 5 % / 20 % rate limits, which
    would stop every run. `test_contracts_*` below check those limits with the defaults.
    """
    rules = tmp_path_factory.mktemp("rules")
    shutil.copytree(RULES_DIR, rules, dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("*.py", "__pycache__"))  # fmt: skip
    text = (rules / "rules.yaml").read_text(encoding="utf-8")
    text = text.replace("max_duplicate_rate: 0.20", "max_duplicate_rate: 1.0")
    text = text.replace("max_non_numeric_sodium_rate: 0.05", "max_non_numeric_sodium_rate: 1.0")
    (rules / "rules.yaml").write_text(text, encoding="utf-8")
    return rules


@pytest.mark.parametrize(("defect", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input(
    tmp_path: Path,
    defect: Callable[[Path], None] | None,
    expected: Ok | Fails,
    small_extract_rules: Path,
) -> None:
    input_dir = _prepare(tmp_path, defect)
    out = tmp_path / "out"
    window = expected.window if isinstance(expected, Ok) else WINDOW
    if isinstance(expected, Fails):
        with pytest.raises(expected.error) as caught:
            run_pipeline(_settings(input_dir, out, window, small_extract_rules))
        message = str(caught.value)
        for name in expected.names:
            assert name in message, (name, message)
        if expected.column is not None:
            assert isinstance(caught.value, InputError) and caught.value.column == expected.column
        return

    run_pipeline(_settings(input_dir, out, window, small_extract_rules))
    manifest = json.loads((out / "run_manifest.json").read_text())
    assert manifest["reconciled"] is True
    quarantine = pd.read_csv(out / "quarantine.csv", dtype=str, keep_default_na=False)
    for table in TABLES:
        counts = manifest["reconciliation"][table]
        assert counts["rows_in"] == data_rows_written(input_dir, table), table
        buckets = ("used", "not_relevant", "duplicate", "quarantined")
        assert sum(counts[b] for b in buckets) == counts["rows_in"], table
        found = {
            (bucket, reason): n
            for bucket, reasons in counts.get("reasons", {}).items()
            for reason, n in reasons.items()
        }
        wanted = {(BUCKET_OF[r], r): n for r, n in expected.reasons.get(table, {}).items()}
        assert found == wanted, table
        in_file = Counter(quarantine.loc[quarantine["table"] == table, "reason"])
        assert dict(in_file) == counts.get("reasons", {}).get("quarantined", {}), table
    review = pd.read_csv(out / "review_list.csv", dtype=str, keep_default_na=False)
    assert tuple(review["patient_id"]) == expected.listed
    if expected.listed and expected.risk_factors is not None:
        assert review.loc[0, "risk_factors"] == expected.risk_factors
    if expected.listed and expected.index_time is not None:
        assert pd.Timestamp(review.loc[0, "index_time"]) == pd.Timestamp(expected.index_time)
    if expected.check is not None:
        expected.check(out)


def test_the_corpus_is_large_and_distinct() -> None:
    ids = [c[0] for c in CASES]
    assert len(ids) == len(set(ids)) and len(ids) >= 30


# ---------------------------------------------------------------- the same through the CLI

CLI_CASES = {c[0]: c for c in CASES}


@pytest.mark.parametrize(
    ("case", "names"),
    [
        ("renamed_column_pid", ("labs.csv", "patient_id")),
        ("random_binary", ("labs.csv",)),
    ],
)
def test_cli_reports_bad_input_without_traceback(
    tmp_path: Path, case: str, names: tuple[str, ...]
) -> None:
    input_dir = _prepare(tmp_path, CLI_CASES[case][1])
    env = {k: v for k, v in os.environ.items() if k != "HYPOSCREEN_DEBUG"}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "hyposcreen.cli",
            "run",
            "--no-flow",
            "--input",
            str(input_dir),
            "--window-start",
            WINDOW[0],
            "--window-end",
            WINDOW[1],
            "--out",
            str(tmp_path / "out"),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == InputError.exit_code, done.stderr
    assert "Traceback" not in done.stderr
    assert "internal error" not in done.stderr
    for name in names:
        assert name in done.stderr, (name, done.stderr)


# ---------------------------------------------------------------- with the data contracts


def test_contracts_let_one_bad_value_among_many_through(tmp_path: Path) -> None:
    """With the GX contracts on, one HEMOLYZED among 42 sodium results is quarantined."""
    normal = [lab("140", patient_id=f"N{i:02d}") for i in range(40)]
    input_dir = _prepare(tmp_path, labs_with(*normal, lab("HEMOLYZED", patient_id="P2")))
    run_pipeline(_settings(input_dir, tmp_path / "out"))
    manifest = json.loads((tmp_path / "out" / "run_manifest.json").read_text())
    assert manifest["reconciled"] is True
    labs = manifest["reconciliation"]["labs"]
    assert labs["rows_in"] == data_rows_written(input_dir, "labs") == 43
    assert labs["reasons"] == {"quarantined": {"non_numeric": 1}}
    review = pd.read_csv(tmp_path / "out" / "review_list.csv", dtype=str, keep_default_na=False)
    assert list(review["patient_id"]) == ["P1"]


def test_contracts_on_an_all_non_numeric_sodium_column(tmp_path: Path) -> None:
    """Either every sodium row is quarantined non_numeric, or the contract stops the run with
    a message naming the check and the file."""
    input_dir = _prepare(tmp_path, _all_sodium_non_numeric)
    try:
        run_pipeline(_settings(input_dir, tmp_path / "out"))
    except InputError as exc:
        assert "non-numeric" in str(exc) and "labs.csv" in str(exc)
        return
    manifest = json.loads((tmp_path / "out" / "run_manifest.json").read_text())
    assert manifest["reconciled"] is True
    assert manifest["reconciliation"]["labs"]["reasons"]["quarantined"] == {"non_numeric": 5}
