"""The bad-input corpus's minimal valid extract (one hyponatremic patient P1 on furosemide
with heart failure, a glucose) and the row builders and table writers its defects use."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path

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


def both(*mutations: Callable[[Path], None]) -> Callable[[Path], None]:
    def mutate(d: Path) -> None:
        for mutation in mutations:
            mutation(d)

    return mutate
