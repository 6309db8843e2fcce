"""Hand-written OMOP CDM 5.4 extracts for the `--source omop` tests: tables written as
delimited text (any letter case), a MEASUREMENT row builder, and a table read back through the
adapter."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from hyposcreen.adapters import omop
from hyposcreen.clean import lab_row_filter
from hyposcreen.config import SiteMapping, parse_window
from hyposcreen.ingest.canonical import IngestedTable
from hyposcreen.rules.loader import load_rules

RULES = load_rules()
WINDOW = parse_window("2026-11-20", "2026-11-21")
Rows = list[dict[str, str]]


def write(folder: Path, table: str, rows: Rows, *, sep: str = "\t", upper: bool = False) -> Path:
    frame = pd.DataFrame(rows, dtype=str)
    if upper:
        frame = frame.rename(columns=str.upper)
        table = table.upper()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{table}.csv"
    frame.to_csv(path, sep=sep, index=False)
    return path


def measurement(**values: str) -> dict[str, str]:
    row = {
        "measurement_id": "1",
        "person_id": "7",
        "measurement_concept_id": "3019550",
        "measurement_date": "2026-11-20",
        "measurement_datetime": "2026-11-20 08:00:00",
        "operator_concept_id": "",
        "value_as_number": "128",
        "unit_concept_id": "8753",
        "range_low": "135",
        "range_high": "145",
        "visit_occurrence_id": "701",
        "measurement_source_value": "NA-SER",
        "unit_source_value": "mmol/l",
        "value_source_value": "128",
    }
    return {**row, **values}


def extract(folder: Path, labs: Rows = (), drugs: Rows = (), conditions: Rows = (), **kw) -> Path:  # type: ignore[assignment]
    write(folder, "measurement", list(labs) or [measurement()], **kw)
    drug = {"person_id": "7", "drug_concept_id": "0", "drug_exposure_start_date": "2026-11-01"}
    write(folder, "drug_exposure", list(drugs) or [drug], **kw)
    condition = {
        "person_id": "7",
        "condition_concept_id": "0",
        "condition_start_date": "2026-01-01",
    }
    write(folder, "condition_occurrence", list(conditions) or [condition], **kw)
    return folder


def read(folder: Path, name: str) -> IngestedTable:
    row_filter = lab_row_filter(RULES, WINDOW) if name == "labs" else None
    return omop.read_table(folder, name, SiteMapping(), RULES, WINDOW, row_filter)
