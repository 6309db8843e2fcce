"""Whether tonight's delivery lacks a column, or a table, that the last screened night had
(exit 4; nightly runs with state only).

An optional column dropped by the sender changes how every row of its table reads, and no row
fails for it: without `end_time` every order is taken as still running, without `status` a
cancelled result counts, without `specimen_id` a glucose pairs by time alone, without `loinc`
a lab is known by its name alone. The list is written but must not pass as a quiet night:
`columns_dropped` names the table, the columns (canonical names) and the night that had them.
The night's columns are then remembered (nightly.delivery_columns): a delivery that goes on
without them is not warned again. Names only, never a value of the extract.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from hyposcreen.ingest.canonical import IngestedTable
from hyposcreen.nightly.delivery_columns import delivered, previous_columns
from hyposcreen.run_warnings import RunWarning


def delivered_columns(tables: Mapping[str, IngestedTable]) -> dict[str, tuple[str, ...]]:
    """Each table read and the canonical columns its delivery had (empty: not known)."""
    return {name: table.present_columns for name, table in tables.items()}


def dropped_column_warnings(
    state: tuple[Path, str, pd.Timestamp] | None, tonight: Mapping[str, tuple[str, ...]]
) -> list[RunWarning]:
    """`columns_dropped`, per table, against the last screened night that recorded the table;
    `state`: (state DB, site, window start), None for a run without state; `tonight`: each
    table read and the canonical columns its delivery had (an empty tuple: not known)."""
    if state is None:
        return []
    path, site, window_start = state
    found: list[RunWarning] = []
    for table, (night, before) in sorted(previous_columns(path, site, window_start).items()):
        if not before:
            continue  # the table was not delivered then either
        had = f"the delivery screened for the night of {night:%Y-%m-%d} had"
        if table not in tonight:
            found.append(
                _dropped(f"The {table} table is missing or empty tonight; {had} it.", _NO_TABLE)
            )
            continue
        if not tonight[table]:
            continue
        gone = sorted(set(before) - set(delivered(tonight[table])))
        if gone:
            names = ", ".join(gone)
            found.append(
                _dropped(
                    f"The {table} table has no {names} column{'s' if len(gone) > 1 else ''} "
                    f"tonight (canonical names; a site mapping may call them otherwise); {had} "
                    f"{'them' if len(gone) > 1 else 'it'}.",
                    _NO_COLUMN,
                )
            )
    return found


_NO_COLUMN = (
    "Its rows are read as the schema reads a table without such a column (docs/schema.md: an "
    "order without end_time runs on, a result without status counts, a glucose without "
    "specimen_id pairs by time), so the list may differ from what the same patients gave before "
    "although no row was set aside."
)
_NO_TABLE = "The list is made without it (no name, MRN or ward is shown from it)."


def _dropped(what: str, consequence: str) -> RunWarning:
    return RunWarning(
        "columns_dropped",
        f"{what} {consequence} Ask the sender whether the export changed by mistake and rerun "
        "with the delivery whole; once a night is screened without it, this is not warned "
        "again.",
    )
