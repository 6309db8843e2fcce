"""The bad-input corpus's expected outcomes (`Ok`, `Fails`, the bucket of every reason), and
its cases of whole files: files that cannot be screened and layouts that are fine."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from bad_input_defects import (
    bom_header,
    csv_and_gzip,
    csv_and_parquet,
    delimited,
    drop_column,
    duplicate_header_column,
    empty_folder,
    extra_columns,
    fake_gzip,
    folder_of_parts,
    gzip_only,
    header_only,
    latin1_drug,
    leading_zero_ids,
    missing_medications,
    no_analyte_identifier,
    parquet_missing_column,
    parquet_truncated,
    parquet_wrong_types,
    parquet_zero_rows,
    parquet_zoned_times,
    renamed_patient_id,
    site_yaml,
    trailing_delimiter,
)
from bad_input_rows import (
    BASE_LAB_TEXT,
    BASE_RISK,
    MED_COLUMNS,
    WINDOW,
    labs_text,
    med,
    meds_with,
)
from hyposcreen.errors import ConfigError, HyposcreenError, InputError

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


END_BEFORE_START = "end_before_start"
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


def quarantine_contains(text: str) -> Callable[[Path], None]:
    def check(out: Path) -> None:
        quarantine = pd.read_csv(out / "quarantine.csv", dtype=str, keep_default_na=False)
        assert quarantine["original"].str.contains(text, regex=False).any(), text

    return check


def no_mojibake(out: Path) -> None:
    quarantine = pd.read_csv(out / "quarantine.csv", dtype=str, keep_default_na=False)
    original = json.loads(quarantine.loc[0, "original"])
    assert original["drug_name"] == "Furosemide 20mg, service médecine"


def huge_value_kept(out: Path) -> None:
    quarantine = pd.read_csv(out / "quarantine.csv", dtype=str, keep_default_na=False)
    assert json.loads(quarantine.loc[0, "original"])["value_raw"].startswith("9999999999xxx")


def censored_glucose(out: Path) -> None:
    review = pd.read_csv(out / "review_list.csv", dtype=str, keep_default_na=False)
    assert float(review.loc[0, "index_glucose"]) == 100.0
    assert float(review.loc[0, "corrected_sodium"]) == 128.0


def urine_not_a_case(out: Path) -> None:
    manifest = json.loads((out / "run_manifest.json").read_text())
    steps = {s["step"]: s["count"] for s in manifest["attrition"]}
    # only P1's serum sodium counts as a sodium result; P2's urine sodium is urine sodium
    assert steps["sodium_results_in_window"] == 1 and steps["cases"] == 1


def no_sodium_usable(out: Path) -> None:
    manifest = json.loads((out / "run_manifest.json").read_text())
    steps = {s["step"]: s["count"] for s in manifest["attrition"]}
    assert steps["sodium_results_in_window"] == 5 and steps["usable_results"] == 0


# (id, defect, expected outcome) of files that cannot be screened and layouts that are fine.
FILE_CASES: list[tuple[str, Callable[[Path], None] | None, Ok | Fails]] = [
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
        drop_column("unit"),
        Fails(InputError, ("labs.csv", "unit"), column="unit"),
    ),
    (
        "missing_required_column_specimen_time",
        drop_column("specimen_time"),
        Fails(InputError, ("labs.csv", "specimen_time"), column="specimen_time"),
    ),
    (
        "renamed_column_pid",
        renamed_patient_id,
        Fails(InputError, ("labs.csv", "patient_id", "pid"), column="patient_id"),
    ),
    (
        "neither_loinc_nor_lab_name",
        no_analyte_identifier,
        Fails(InputError, ("labs.csv", "loinc or lab_name")),
    ),
    (
        "duplicated_header_column",
        duplicate_header_column,
        Fails(InputError, ("labs.csv", "unit")),
    ),
    (
        "labs_csv_and_labs_parquet",
        csv_and_parquet,
        Fails(InputError, ("labs.csv", "labs.parquet")),
    ),
    ("labs_csv_and_labs_csv_gz", csv_and_gzip, Fails(InputError, ("labs.csv", "labs.csv.gz"))),
    ("gzip_suffix_but_plain_text", fake_gzip, Fails(InputError, ("labs.csv.gz",))),
    ("parquet_truncated", parquet_truncated, Fails(InputError, ("labs.parquet",))),
    (
        "parquet_missing_column",
        parquet_missing_column,
        Fails(InputError, ("labs.parquet", "unit"), column="unit"),
    ),
    # a UTF-16 export (PowerShell, "Unicode" text) reads as the UTF-8 one (ingest.wide_text)
    ("utf16_text", labs_text(BASE_LAB_TEXT.encode("utf-16")), Ok()),
    (
        "xlsx_named_csv",
        labs_text(b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00" + bytes(64)),
        Fails(InputError, ("labs.csv",)),
    ),
    ("labs_folder_empty", empty_folder, Fails(InputError, ("labs",))),
    ("medications_table_missing", missing_medications, Fails(InputError, ("medications",))),
    (
        "mapping_unknown_key",
        site_yaml("site: x\ncolumns: {}\n"),
        Fails(ConfigError, ("site.yaml", "columns")),
    ),
    (
        "mapping_unknown_time_zone",
        site_yaml("timezone: Mars/Olympus\n"),
        Fails(ConfigError, ("Mars/Olympus",)),
    ),
    # ---- layouts that are fine
    # a quiet night at a small site: an empty extract screens to an empty list
    ("header_only_labs", labs_text(BASE_LAB_TEXT.splitlines()[0] + "\n"), Ok(listed=())),
    ("parquet_zero_rows", parquet_zero_rows, Ok(listed=())),
    (
        "medications_header_only",
        header_only("medications.csv", MED_COLUMNS),
        Ok(risk_factors="heart_failure"),
    ),
    (
        # every data line ends with the delimiter: one empty field more, absorbed (csv_header)
        "trailing_delimiter_on_every_row",
        trailing_delimiter,
        Ok(),
    ),
    ("extra_unknown_columns", extra_columns, Ok()),
    ("patient_id_leading_zeros_kept", leading_zero_ids, Ok(listed=("007",))),
    ("semicolon_delimiter", delimited(";"), Ok()),
    ("pipe_delimiter", delimited("|"), Ok()),
    ("utf8_bom_and_crlf_excel_export", bom_header, Ok()),
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
        latin1_drug,
        # accents are folded: the French spelling Furosémide is furosemide (used)
        Ok(reasons={"medications": {"missing_key": 1}}, check=no_mojibake),
    ),
    ("gzip_labs", gzip_only, Ok()),
    (
        "labs_folder_two_parts",
        folder_of_parts,
        Ok(reasons={"labs": {"non_numeric": 1}}),
    ),
    ("parquet_wrong_types", parquet_wrong_types, Ok(listed=("1001",))),
    ("parquet_zoned_timestamps", parquet_zoned_times, Ok(index_time="2026-11-20 07:00:00")),
]
