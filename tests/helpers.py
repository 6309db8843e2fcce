"""Small builders of canonical frames (as the readers produce them) for the unit tests."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from hyposcreen.clean import (
    USED,
    clean_diagnoses,
    clean_labs,
    clean_medications,
    lab_row_filter,
)
from hyposcreen.config import Window
from hyposcreen.ingest.canonical import DIAGNOSES, LABS, MEDICATIONS, TableSchema
from hyposcreen.ingest.timeparse import parse_times
from hyposcreen.rules.loader import load_rules
from hyposcreen.screen.cases import ScreenResult, screen

RULES = load_rules()
# A wide window so that ±30-day and 72-hour rules fit inside it around T0.
WINDOW = Window(pd.Timestamp("2026-11-01"), pd.Timestamp("2027-01-01"))
T0 = pd.Timestamp("2026-11-20 08:00")

Row = dict[str, Any]


def hours(n: float) -> pd.Timedelta:
    return pd.Timedelta(hours=n)


def days(n: float) -> pd.Timedelta:
    return pd.Timedelta(days=n)


def minutes(n: float) -> pd.Timedelta:
    return pd.Timedelta(minutes=n)


# ------------------------------------------------------------------ rows


def lab(
    value: object = "130",
    time: object = T0,
    *,
    loinc: str | None = "2951-2",
    unit: str | None = "mmol/L",
    patient_id: str | None = "P1",
    **extra: object,
) -> Row:
    """One lab row; default: serum sodium 130 mmol/L of P1 at T0."""
    return {
        "patient_id": patient_id,
        "specimen_time": time,
        "value_raw": value,
        "unit": unit,
        "loinc": loinc,
        **extra,
    }


def sodium(value: object, time: object = T0, **extra: Any) -> Row:
    return lab(value, time, **extra)


def glucose(value: object, time: object = T0, unit: str = "mg/dL", **extra: Any) -> Row:
    return lab(value, time, loinc="2345-7", unit=unit, **extra)


def potassium(value: object, time: object = T0, **extra: Any) -> Row:
    return lab(value, time, loinc="2823-3", unit="mmol/L", **extra)


def med(
    drug_name: str | None = "Furosemide 40mg tab",
    start: object = T0 - days(10),
    end: object = None,
    *,
    status: str | None = "active",
    patient_id: str | None = "P1",
    **extra: object,
) -> Row:
    return {
        "patient_id": patient_id,
        "drug_name": drug_name,
        "start_time": start,
        "end_time": end,
        "status": status,
        **extra,
    }


def dx(
    code: str,
    recorded: object = T0 - days(100),
    system: str = "ICD-10-CM",
    *,
    status: str | None = "active",
    patient_id: str | None = "P1",
) -> Row:
    return {
        "patient_id": patient_id,
        "code": code,
        "code_system": system,
        "recorded_time": recorded,
        "status": status,
    }


# ------------------------------------------------------------------ frames


def _text(values: Iterable[object]) -> pd.Series:
    return pd.Series(
        [
            None if v is None else (v.isoformat() if isinstance(v, pd.Timestamp) else str(v))
            for v in values
        ],
        dtype="str",
    )


def frame(schema: TableSchema, rows: list[Row]) -> pd.DataFrame:
    """A canonical frame like the tabular reader's: every column, text as str, times parsed."""
    data: dict[str, pd.Series] = {}
    for column in schema.columns:
        values = [row.get(column) for row in rows]
        if column in schema.float_columns:
            data[column] = pd.Series(values, dtype="float64")
        elif column in schema.time_columns:
            raw = _text(values)
            data[f"{column}_raw"] = raw
            data[column] = parse_times(raw, "UTC")
        else:
            data[column] = _text(values)
    out = pd.DataFrame(data, index=pd.RangeIndex(len(rows)))
    out["source_file"] = "test.csv"
    out["source_row"] = [str(i + 2) for i in range(len(rows))]
    return out


def labs_frame(rows: list[Row]) -> pd.DataFrame:
    return frame(LABS, rows)


def select_labs(rows: list[Row], window: Window = WINDOW) -> tuple[pd.DataFrame, Counter[str]]:
    """What the lab reader keeps (rows of a known analyte inside the read window) and the
    counts of the rows it drops as not relevant, by reason."""
    row_filter = lab_row_filter(RULES, window)
    labs, dropped = labs_frame(rows), Counter[str]()
    if row_filter.select is not None:
        labs, counts = row_filter.select(labs)
        dropped.update(counts)
    if row_filter.window is not None:
        column, start, end = row_filter.window
        time = labs[column]
        outside = time.notna() & ((time < start) | (time >= end))
        dropped["outside_window"] += int(outside.sum())
        labs = labs.loc[~outside]
    return labs, +dropped


def cleaned_labs(rows: list[Row], window: Window = WINDOW) -> pd.DataFrame:
    kept, _ = select_labs(rows, window)
    return clean_labs(kept, RULES)


def used_labs(rows: list[Row], window: Window = WINDOW) -> pd.DataFrame:
    labs = cleaned_labs(rows, window)
    return labs.loc[labs["bucket"] == USED]


def cleaned_meds(rows: list[Row], window: Window = WINDOW) -> tuple[pd.DataFrame, pd.DataFrame]:
    return clean_medications(frame(MEDICATIONS, rows), RULES, window)


def cleaned_dx(rows: list[Row], window: Window = WINDOW) -> pd.DataFrame:
    return clean_diagnoses(frame(DIAGNOSES, rows), RULES, window)


def run_screen(
    labs: list[Row],
    meds: list[Row] = (),  # type: ignore[assignment]
    diagnoses: list[Row] = (),  # type: ignore[assignment]
    *,
    profile: str = "seed",
    window: Window = WINDOW,
    glucose_factor: float | None = None,
) -> ScreenResult:
    """Clean the three tables the way the pipeline does, then screen the used rows."""
    lab_rows = used_labs(list(labs), window)
    med_rows, matches = cleaned_meds(list(meds), window)
    dx_rows = cleaned_dx(list(diagnoses), window)
    return screen(
        lab_rows,
        med_rows.loc[med_rows["bucket"] == USED],
        matches,
        dx_rows.loc[dx_rows["bucket"] == USED],
        RULES,
        RULES.profile(profile),
        window,
        glucose_factor,
    )


def case_of(result: ScreenResult, patient_id: str = "P1") -> pd.Series | None:
    """The case row of one patient, or None when the patient is not a case."""
    rows = result.cases.loc[result.cases["patient_id"] == patient_id]
    return None if rows.empty else rows.iloc[0]


def case_ids(result: ScreenResult) -> list[str]:
    return sorted(result.cases["patient_id"])


def only_case(*args, **kwargs) -> pd.Series:  # type: ignore[no-untyped-def]
    """The one case `run_screen(*args, **kwargs)` finds (fails when there is not exactly one)."""
    cases = run_screen(*args, **kwargs).cases
    assert len(cases) == 1, cases
    return cases.iloc[0]


def run_script(
    script: str, env: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """`script` in a fresh interpreter (nothing imported yet), from the repository root."""
    return subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=False,
        cwd=Path(__file__).resolve().parents[1],
        env=env,
        timeout=timeout,
    )


def run_cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """`python -m hyposcreen.cli *args` in a fresh interpreter: its exit status, stdout and
    stderr as a site's scheduler sees them."""
    return subprocess.run(
        [sys.executable, "-m", "hyposcreen.cli", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
    )


def date_only_messages(manifest_path: Path) -> list[str]:
    """The messages of a manifest's `date_only_times` warnings."""
    manifest = json.loads(manifest_path.read_text("utf-8"))
    return [w["message"] for w in manifest["warnings"] if w["code"] == "date_only_times"]


def assert_date_only_counts_only(message: str, *counts: int) -> None:
    """Only the counts, the share, the limit (5 %) and the spec's 48 h are numbers in a
    date-only warning: no value or time of the extract."""
    assert set(re.findall(r"\d+", message)) <= {*map(str, counts), "5", "48"}
