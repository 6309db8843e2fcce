"""Canonical frames: site columns renamed and typed as the canonical schema says, times parsed
to naive site-local time (text kept in `<col>_raw`), empty and malformed-row frames, and the
header check that names what a file lacks."""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from hyposcreen.config import SiteMapping, TableMapping
from hyposcreen.errors import InputError
from hyposcreen.ingest.canonical import TableSchema
from hyposcreen.ingest.clock_folds import fold_column
from hyposcreen.ingest.csv_header import DELIMITERS, most_frequent_delimiter
from hyposcreen.ingest.csv_parser import MalformedRows
from hyposcreen.ingest.timeparse import parse_times_folded


def to_canonical(
    batch: pa.RecordBatch, wanted: dict[str, str], schema: TableSchema, table: TableMapping
) -> pd.DataFrame:
    """Rename site columns, add absent canonical columns as nulls, normalise dtypes."""
    frame = batch.to_pandas(types_mapper=None)
    frame = frame.rename(columns=wanted)
    for column, value in table.constants.items():
        frame[column] = value
    return canonical_columns(frame, schema)


def _as_text(values: pd.Series) -> pd.Series:
    if values.dtype == "str":
        return values
    if pd.api.types.is_float_dtype(values.dtype):
        # Parquet written with numeric ids: 12345.0 -> "12345"
        as_int = values.dropna()
        if len(as_int) and (as_int == as_int.round()).all():
            return values.astype("Int64").astype("str").where(values.notna())
    return values.astype("str").where(values.notna())


def canonical_columns(frame: pd.DataFrame, schema: TableSchema) -> pd.DataFrame:
    """Add absent canonical columns as nulls and give present ones the canonical dtypes."""
    for column in schema.columns:
        if column not in frame.columns:
            dtype = "float64" if column in schema.float_columns else "str"
            frame[column] = pd.Series(None, index=frame.index, dtype=dtype)
        elif column in schema.float_columns:
            frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("float64")
        elif column not in schema.time_columns:
            frame[column] = _as_text(frame[column])
    return frame


def row_texts(numbers: pd.Series) -> pd.Series:
    """Row numbers (int64) as text, as `numbers.astype("str")` gives them (cast in Arrow)."""
    texts = pc.cast(pa.array(numbers.to_numpy(dtype="int64")), pa.large_string())
    return pd.Series(pd.array(texts, dtype="str"), index=numbers.index)


def parsed_column(column: str) -> str:
    """The hidden column holding `column`'s times when a reader parsed them already (by
    `parse_times`, which parses each value on its own); dropped when the times are set."""
    return f"__hyposcreen_parsed_{column}"


def date_alone_column(column: str) -> str:
    """The hidden column a source adapter marks True on the rows whose `column` it took from a
    date alone (OMOP: `measurement_date` without `measurement_datetime` or `measurement_time`,
    or a `measurement_datetime` holding a date without a clock time): the delivery's warnings
    count them (date_only_times). Rows travel with it through every stage that keeps a frame's
    columns; a frame without it has none such."""
    return f"__hyposcreen_date_alone_{column}"


# a date alone has at most 8 digits (20261120, 20.11.2026); a clock adds more
_DATE_DIGITS = 8


def written_without_clock(texts: pd.Series) -> np.ndarray:
    """Per time text, whether it holds no clock time: no `:`, and no more digits than a date
    has (`20261120000000`, a site format's compact midnight, holds one); a missing text holds
    none. Digits are counted only on the texts without a `:` (a clock nearly always has one)."""
    colon = texts.str.contains(":", regex=False).to_numpy(dtype=bool, na_value=True)
    rows = np.flatnonzero(~colon)
    no_clock = np.zeros(len(texts), dtype=bool)
    no_clock[rows] = (texts.iloc[rows].str.count(r"\d") <= _DATE_DIGITS).to_numpy(dtype=bool)
    return no_clock


def parse_time_columns(
    frame: pd.DataFrame, schema: TableSchema, mapping: SiteMapping, table: TableMapping
) -> pd.DataFrame:
    """Times parsed to naive site-local time (or taken from `parsed_column`), the text kept
    in `<col>_raw`; the rows read as a repeated hour's second occurrence marked in
    `fold_column(col)` (present only when there are some)."""
    formats = table.datetime_formats + mapping.datetime_formats
    for column in schema.time_columns:
        raw = frame[column]
        typed = pd.api.types.is_datetime64_any_dtype(raw.dtype)
        # typed timestamps keep no text copy: quarantine renders them from the parsed value
        frame[f"{column}_raw"] = pd.Series(None, index=frame.index, dtype="str") if typed else raw
        if parsed_column(column) in frame.columns:
            frame[column] = frame.pop(parsed_column(column))
        else:
            frame[column], second = parse_times_folded(raw, mapping.timezone, formats)
            if second is not None:
                frame[fold_column(column)] = second
    return frame


def empty_frame(schema: TableSchema, rows: int = 0) -> pd.DataFrame:
    """A canonical frame with no rows (or `rows` all-null rows), as the readers produce."""
    data: dict[str, pd.Series] = {}
    index = pd.RangeIndex(rows)
    for column in schema.columns:
        if column in schema.time_columns:
            data[column] = pd.Series(pd.NaT, index=index, dtype="datetime64[us]")
            data[f"{column}_raw"] = pd.Series(None, index=index, dtype="str")
        elif column in schema.float_columns:
            data[column] = pd.Series(float("nan"), index=index, dtype="float64")
        else:
            data[column] = pd.Series(None, index=index, dtype="str")
    data["source_file"] = pd.Series(None, index=index, dtype="str")
    return pd.DataFrame(data)


def malformed_frame(malformed: MalformedRows, path: Path, schema: TableSchema) -> pd.DataFrame:
    """Rows the CSV parser could not split, as canonical rows (quarantined malformed_row)."""
    frame = empty_frame(schema, len(malformed.rows))
    frame["source_file"] = path.name
    frame["source_row"] = [r["line"] for r in malformed.rows]
    frame["malformed_text"] = [r["text"] for r in malformed.rows]
    frame["malformed_reason"] = [r.get("reason", "malformed_row") for r in malformed.rows]
    return frame


def refuse_repeated(path: Path, table: str, names: list[str], read: Collection[str]) -> None:
    """An InputError naming the columns the file's header `names` more than once among those
    `read`: which of the two to read cannot be told (a source layout passes its header in
    lower case, since it matches names in any letter case)."""
    repeated = sorted({h for h in names if h in read and names.count(h) > 1})
    if repeated:
        raise InputError(
            f"{path} ({table}) has the column(s) {', '.join(repeated)} more than once in "
            "its header; keep one of each so it is clear which values to read.",
            file=str(path),
            column=repeated[0],
        )


def check_columns(
    path: Path, header: list[str], wanted: dict[str, str], schema: TableSchema, table: TableMapping
) -> set[str]:
    """The canonical columns a file provides; an InputError naming what it lacks or repeats."""
    refuse_repeated(path, schema.name, header, wanted)
    available = {wanted[h] for h in header if h in wanted} | set(table.constants)
    missing = [c for c in schema.required if c not in available]
    if schema.one_of and not available.intersection(schema.one_of):
        missing.append(" or ".join(schema.one_of))
    if missing:
        expected = [table.columns.get(c, c) for c in schema.required]
        found = shown_header(header, [*wanted, *schema.columns])
        raise InputError(
            f"{path} ({schema.name}) lacks required column(s) {', '.join(missing)}"
            f"{_mapped_from(missing, header, schema, table)}. "
            f"Columns found: {found}.{_delimiter_hint(header)} Expected (after the site "
            f"mapping): {', '.join(expected)}. Map differently named columns in the mapping file "
            f"under tables.{schema.name}.columns.",
            file=str(path),
            column=missing[0],
        )
    absent = [(canon, site) for canon, site in table.columns.items() if site not in header]
    if absent:
        keys = ", ".join(f"tables.{schema.name}.columns.{canon}: {site}" for canon, site in absent)
        raise InputError(
            f"{path} ({schema.name}) lacks the column(s) the site mapping names ({keys}). "
            f"Columns found: {shown_header(header, [*wanted, *schema.columns])}. Correct the "
            "name in the mapping file, or remove the key if the extract does not carry it.",
            file=str(path),
            column=absent[0][1],
        )
    return available


def _mapped_from(
    missing: list[str], header: list[str], schema: TableSchema, table: TableMapping
) -> str:
    """For required columns the site mapping reads from a column the file lacks (a misspelt
    name): the mapping keys to correct. Nothing when the header read as one column (the
    delimiter is wrong, not the names: `_delimiter_hint` says so)."""
    if _delimiter_hint(header):
        return ""
    canonical = [c for m in missing for c in m.split(" or ")]
    keys = [
        f"tables.{schema.name}.columns.{c}: {table.columns[c]}"
        for c in canonical
        if c in table.columns and table.columns[c] not in header
    ]
    if not keys:
        return ""
    return (
        f": the site mapping reads {'it' if len(keys) == 1 else 'them'} from a column the "
        f"file does not have ({', '.join(keys)}); correct the name in the mapping file"
    )


_ANY_DELIMITER = "[" + re.escape("".join(DELIMITERS)) + "]"


def _delimiter_hint(header: list[str]) -> str:
    """When the header read as one column that holds another delimiter (a mapping's `;` over a
    comma-separated file): which one the file seems to use."""
    seen = most_frequent_delimiter(header[0]) if len(header) == 1 else None
    if seen is None:
        return ""
    shown = "tab" if seen == "\t" else f"'{seen}'"
    return (
        f" The header read as one column: the file seems separated by {shown}, not by the "
        "delimiter the reader used (the mapping file's `delimiter`, or the one it detected)."
    )


def shown_header(header: list[str], known: Iterable[str]) -> str:
    """A file's header names for an error message, when at least one is a column name the
    reader knows (any letter case). Otherwise the first line may be a data row (a CSV exported
    without its header line): its fields are patient data and are not shown."""
    names = {name.strip().lower() for name in known}
    # a name inside a field counts too: a header split at the wrong delimiter is still a header
    pieces = (piece for h in header for piece in re.split(_ANY_DELIMITER, h))
    if any(piece.strip().strip('"').lower() in names for piece in pieces):
        return ", ".join(header[:30]) or "none"
    return (
        f"{len(header)} field(s), none of them a column name hyposcreen knows: is the header "
        "line missing? (the fields are not shown: they may be patient data)"
    )


def spelled_as_in(
    header: list[str], site_for: dict[str, str], unread: str, path: Path | None = None
) -> dict[str, str]:
    """`site_for` (canonical -> site column) with each site name the header lacks replaced by
    the one header name equal to it but for letter case (`PATIENT_ID`, as Oracle and
    Snowflake export names), when that name is not already read as another column: a column
    is never taken for absent for its letter case, nor read twice. Several such names (`Status`
    and `STATUS`) are an InputError naming them: which one holds the column is not guessed, nor
    is the column silently left unread."""
    names = set(header)
    taken = names & set(site_for.values())
    found = dict(site_for)
    for canon, site in site_for.items():
        if site in names or site == unread:
            continue
        folded = site.casefold()
        matches = [h for h in header if h.casefold() == folded and h not in taken]
        if len(matches) == 1:
            found[canon] = matches[0]
            taken.add(matches[0])
        elif matches:
            where = f"{path} has" if path is not None else "The file has"
            raise InputError(
                f"{where} columns {', '.join(matches)}, which differ only in letter case, and "
                f"none named {site}: name the one that holds {canon} in the mapping file under "
                f"tables.<table>.columns ({canon}: ...). Nothing was screened.",
                file=str(path) if path is not None else None,
            )
    return found
