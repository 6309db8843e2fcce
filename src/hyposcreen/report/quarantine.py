"""The quarantine file: every quarantined row with its original content and reason."""

from __future__ import annotations

import json

import pandas as pd

from hyposcreen.clean import QUARANTINED
from hyposcreen.ingest.canonical import SCHEMAS

QUARANTINE_COLUMNS = ["table", "source_file", "source_row", "reason", "patient_id", "original"]


def _original_columns(table: str, frame: pd.DataFrame) -> list[str]:
    schema = SCHEMAS[table]
    columns = []
    for column in schema.columns:
        if column == "source_row":
            continue
        columns.append(f"{column}_raw" if column in schema.time_columns else column)
    if "malformed_text" in frame.columns:
        columns.append("malformed_text")
    return [c for c in columns if c in frame.columns]


def quarantine_rows(cleaned: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Quarantined rows of every table; `original` is the row as read, as JSON (nulls omitted)."""
    parts = []
    for table, frame in cleaned.items():
        rows = frame.loc[frame["bucket"] == QUARANTINED]
        if rows.empty:
            continue
        columns = _original_columns(table, rows)
        original = rows[columns].astype(object).where(rows[columns].notna(), None)
        for column in SCHEMAS[table].time_columns:
            raw = f"{column}_raw"
            if raw in original.columns and column in rows.columns:  # typed source: no text kept
                typed = rows[column].astype(object).where(rows[column].notna(), None)
                original[raw] = original[raw].where(original[raw].notna(), typed.astype(object))
        time_raw = {f"{c}_raw": c for c in SCHEMAS[table].time_columns}
        renamed = original.rename(columns=time_raw)
        payload = [
            json.dumps(
                {k: v for k, v in record.items() if v is not None}, default=str, sort_keys=True
            )
            for record in renamed.to_dict("records")
        ]
        parts.append(
            pd.DataFrame(
                {
                    "table": table,
                    "source_file": rows["source_file"].to_numpy(),
                    "source_row": rows["source_row"].astype("str").to_numpy(),
                    "reason": rows["reason"].to_numpy(),
                    "patient_id": rows["patient_id"].to_numpy(),
                    "original": payload,
                }
            )
        )
    if not parts:
        return pd.DataFrame(columns=QUARANTINE_COLUMNS)
    out = pd.concat(parts, ignore_index=True)
    order = pd.to_numeric(out["source_row"], errors="coerce")
    return (
        out.assign(_order=order)
        .sort_values(["table", "source_file", "_order", "source_row"], kind="stable")
        .drop(columns="_order")
        .reset_index(drop=True)
    )
