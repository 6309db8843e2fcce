"""A labs CSV of one sodium per line written in tmp_path and read by the real reader: the rows
it keeps as [specimen_id, source_row, malformed_reason], for the CSV reading tests."""

from __future__ import annotations

from pathlib import Path

from hyposcreen.config import SiteMapping
from hyposcreen.ingest.canonical import SCHEMAS
from hyposcreen.ingest.tabular import read_table

HEADER = "patient_id,specimen_id,specimen_time,loinc,value_raw,unit,comment"


def row(specimen: str) -> str:
    return f"P1,{specimen},2026-11-20T06:00:00,2951-2,128,mmol/L,"


def read(tmp_path: Path, lines: list[str]) -> list[list[object]]:
    (tmp_path / "labs.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    frame = read_table(tmp_path, SCHEMAS["labs"], SiteMapping()).frame
    rows = frame[["specimen_id", "source_row", "malformed_reason"]].astype(object)
    return rows.where(rows.notna(), None).values.tolist()
