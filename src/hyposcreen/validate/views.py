"""What GX sees of a table: the frame narrowed to the columns its suite reads row by row plus
the derived columns (a column only a column-name check names is not copied: GX reads its name),
times as datetime64[ns] (other units are compared row by row in Python by GX) and text as
categoricals (GX filters its batches for every row_condition), indexed by ``_row`` so failing
rows come back as the frame's own labels. Also the plain-Python contract checks done on the
frame itself (one-of column groups, time dtypes)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hyposcreen.ingest.canonical import PROVENANCE, SCHEMAS, IngestedTable
from hyposcreen.ingest.clock_folds import fold_columns
from hyposcreen.validate.batches import NAMES_ONLY
from hyposcreen.validate.derived import (
    BLANK_AS_MISSING,
    CLEAN_REASON,
    REASONS_READ,
    as_categories,
    derived_columns,
)
from hyposcreen.validate.outcomes import ROW_ID, ExpectationOutcome, plain_outcome
from hyposcreen.validate.repeated_hours import compared_as_instants
from hyposcreen.validate.suites import load_suite_spec, referenced_columns

INGEST_COLUMNS = {"labs": ("analyte", "value_num")}  # added by the pipeline before validation


# Columns the derived columns are computed from (see derived_columns), per table.
_DERIVED_INPUTS = {
    "labs": (
        *("patient_id", "analyte", "unit", "specimen_time", "value_num", "value_raw", "value"),
        CLEAN_REASON,
    ),
    "diagnoses": ("code_system",),
}


def validation_columns(table: str, suites_dir: Path | None = None) -> set[str]:
    """Every frame column validating `table` can read: what the suite names, the inputs of the
    derived columns, the time columns (dtype checks), the one-of groups, and the columns the
    failure details and example rows quote. Validating `frame[sorted subset]` gives the same
    outcomes as validating the whole frame, at a fraction of the copying."""
    spec = load_suite_spec(table, suites_dir)
    time_columns = SCHEMAS[table].time_columns
    columns: set[str] = set(PROVENANCE) | set(time_columns) | fold_columns(time_columns)
    columns |= set(BLANK_AS_MISSING.get(table, ())) | set(_DERIVED_INPUTS.get(table, ()))
    for group in spec.get("meta", {}).get("required_one_of", []):
        columns.update(group)
    for expectation in spec["expectations"]:
        columns |= referenced_columns(expectation)
        columns.update(expectation.get("meta", {}).get("detail_columns", []))
    return columns


def project_for_validation(
    table: str,
    frame: pd.DataFrame,
    suites_dir: Path | None = None,
    values: Mapping[str, pd.Series] | None = None,
) -> pd.DataFrame:
    """`frame` narrowed to validation_columns(table), in the frame's own column order. Of the
    clean stage's reason only the codes the contracts read (REASONS_READ) are kept, as a
    categorical (1 byte a row, not 8; the other rows missing). `values`: columns put in after
    them instead of the frame's own of that name (labs: `value_num` from `value_canonical`),
    as `frame.drop(columns=...)` projected then `.assign(**values)` would, in one selection
    (no second frame of the table's columns is built, nor a third by a second assign)."""
    wanted = validation_columns(table, suites_dir)
    values = values or {}
    names = list(frame.columns)
    kept = [i for i, c in enumerate(names) if c in wanted and c not in values]
    if len(set(names)) == len(names):  # by position: no lookup table of the labels built
        projected = frame.iloc[:, kept]
    else:  # a label held twice: each of its columns, as selecting by label gives
        projected = frame[[names[i] for i in kept]]
    replaced = dict(values)
    if CLEAN_REASON in projected.columns:
        replaced = {CLEAN_REASON: _reasons_read(projected[CLEAN_REASON]), **replaced}
    return projected.assign(**replaced) if replaced else projected


def _reasons_read(reason: pd.Series) -> pd.Series:
    """The reason as a categorical of REASONS_READ: a vectorised comparison per code, not the
    hashing of every row's text that `astype("category")` does; only the rows holding a
    reason are compared (most rows hold none, and comparing a missing value to text is slow)."""
    values = reason.to_numpy(dtype=object)
    codes = np.full(len(values), -1, dtype=np.int8)
    held = np.flatnonzero(pd.notna(values))
    given = values[held]
    for code, name in enumerate(REASONS_READ):
        codes[held[given == name]] = code
    return pd.Series(pd.Categorical.from_codes(codes, categories=REASONS_READ), reason.index)


def unpack(
    item: pd.DataFrame | IngestedTable, present: Iterable[str] | None
) -> tuple[pd.DataFrame, set[str] | None]:
    if isinstance(item, IngestedTable):
        frame = item.frame
        present = present if present is not None else (item.present_columns or None)
    else:
        frame = item
    return frame, (set(present) if present is not None else None)


def _available(table: str, frame: pd.DataFrame, present: set[str] | None) -> list[str]:
    """Frame columns usable for validation: canonical ones only when the source had them."""
    canonical = set(SCHEMAS[table].columns)
    return [c for c in frame.columns if present is None or c not in canonical or c in present]


def table_view(
    table: str,
    frame: pd.DataFrame,
    present: set[str] | None,
    spec: dict[str, Any],
    code_system_aliases: Mapping[str, str] | None,
    columns: pd.DataFrame | None = None,
    timezone: str = "UTC",
) -> tuple[pd.DataFrame, list[str], list[ExpectationOutcome]]:
    """The narrow frame GX validates, the table's column names as its table-level checks see
    them (the view's columns and those only such a check names), and plain-Python contract
    outcomes (one-of, dtypes). `columns` (default: `frame`): every column of the table, its
    names and dtypes, when `frame` holds only the columns read row by row (tables.py). Times
    a column-pair check compares on a night with a repeated hour's second occurrences are
    the instants they name in the site's `timezone` (validate/repeated_hours.py)."""
    lacking = [c for c in INGEST_COLUMNS.get(table, ()) if c not in frame.columns]
    if lacking:
        raise ValueError(
            f"The {table} frame lacks {', '.join(lacking)}: the pipeline adds these before "
            "validation (see validate_tables)."
        )
    described = frame if columns is None else columns
    available = _available(table, described, present)
    outcomes = _one_of_outcomes(table, available, spec)
    wanted = set().union(*(referenced_columns(e) for e in spec["expectations"]))
    read = set().union(
        *(referenced_columns(e) for e in spec["expectations"] if e["type"] not in NAMES_ONLY)
    )
    names = [c for c in available if c in wanted]
    derived = derived_columns(table, frame, available, code_system_aliases)
    names += [c for c in derived if c not in names]
    data: dict[str, pd.Series] = {}
    instants = compared_as_instants(frame, spec, timezone)
    for column in names:  # the values GX reads; a column only named by a check is not copied
        if column not in read:
            continue
        series = derived[column] if column in derived else instants.get(column, frame[column])
        if pd.api.types.is_datetime64_dtype(series.dtype):
            series = as_ns(series)
        elif pd.api.types.is_string_dtype(series.dtype):
            # GX filters rows (row_condition) several times per expectation; codes copy cheaply
            series = as_categories(series)
        data[column] = series
    outcomes.extend(_time_dtype_outcomes(table, described, available))
    # copy=False: each column stays its own block (no copy into one 2-D block per dtype)
    view = pd.DataFrame(data, index=frame.index.rename(ROW_ID), copy=False)
    return view, names, outcomes


def as_ns(series: pd.Series) -> pd.Series:
    """datetime64[ns] so GX compares vectorised; keeps the unit when ns would overflow."""
    if series.dtype == "datetime64[ns]":
        return series
    try:
        return series.astype("datetime64[ns]")
    except (pd.errors.OutOfBoundsDatetime, OverflowError):
        return series


def _one_of_outcomes(
    table: str, available: list[str], spec: dict[str, Any]
) -> list[ExpectationOutcome]:
    outcomes = []
    for group in spec.get("meta", {}).get("required_one_of", []):
        ok = any(c in available for c in group)
        detail = f"at least one of the columns {', '.join(group)} is required"
        outcomes.append(
            plain_outcome(
                table, "hyposcreen.columns_one_of", "|".join(group), detail, "required_column", ok
            )
        )
    return outcomes


def _time_dtype_outcomes(
    table: str, frame: pd.DataFrame, available: list[str]
) -> list[ExpectationOutcome]:
    outcomes = []
    for column in SCHEMAS[table].time_columns:
        if column in available and not pd.api.types.is_datetime64_dtype(frame[column].dtype):
            detail = f"column {column} has dtype {frame[column].dtype}, expected naive datetime64"
            outcome = plain_outcome(table, "hyposcreen.column_dtype", column, detail, "dtype")
            outcomes.append(outcome)
    return outcomes
