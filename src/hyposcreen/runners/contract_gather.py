"""The whole tables a partitioned run validates, gathered from its cleaned partitions' files.

The contracts of a partitioned run read the *whole* tables, in the order of a single run, so
rates and row-level outcomes are a single run's. Each partition's cleaned tables leave their
contract columns in the spill folder (`cleaned-<part>-<table>.arrow`, written by
`write_contract_columns` while the partition is screened from the frames it holds, so
nothing else of it is written). What validation sees of a table is what `recipe_contracts.
validation_frames` gives a single run (`contract_frame`: the projection, labs' `value_num`
from `value_canonical`), with text as categoricals (`as_categories`: a whole table's
contract columns stay small in memory; validation reads the same values). The gathered text
is made categorical by Arrow (runners/contract_text.py), with pandas' categories and codes.

Only the columns validation reads row by row are gathered (a validate.tables.PartialTable),
one column of every partition in memory at a time (text read only as present or missing,
such as the patient ids, as just that: contract_text.presence); the others are known by name
and dtype (from a file's first record batch), and the rows a failing check quotes are read
from the files when asked for.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from hyposcreen.context import CleanedInputs
from hyposcreen.ingest.canonical import REQUIRED_TABLES, SCHEMAS, IngestedTable
from hyposcreen.ingest.clock_folds import fold_columns
from hyposcreen.recipe_contracts import label_positions
from hyposcreen.runners.contract_columns import joined_numbers, joined_parts, plain_numbers
from hyposcreen.runners.contract_text import categorical_text, presence
from hyposcreen.runners.executors import release_free_memory
from hyposcreen.runners.handoff import (
    FRAME_SUFFIX,
    read_frame,
    read_row_labels,
    read_table,
    write_frame,
)

# labs: the contracts' value_num is the canonical value before implausible rows are blanked
_FROM = {"labs": {"value_num": "value_canonical"}}


# besides what validation reads: the bucket (partition_work.screened_again) and labs' value
_ALSO_KEPT = {"bucket", *(c for renamed in _FROM.values() for c in renamed.values())}


def cleaned_path(folder: Path, part: int, table: str) -> Path:
    """A cleaned partition's contract columns of `table` (`write_contract_columns`)."""
    return folder / f"cleaned-{part}-{table}{FRAME_SUFFIX}"


def write_contract_columns(folder: Path, part: int, kept: Mapping[str, pd.DataFrame]) -> None:
    """A cleaned partition's `contract_columns`, each table in its `cleaned_path`."""
    for table, frame in kept.items():
        write_frame(cleaned_path(folder, part, table), frame)


def contract_columns(cleaned: CleanedInputs) -> dict[str, pd.DataFrame]:
    """The columns of a cleaned partition's tables the contracts can read (validate.views.
    validation_columns, in the frame's order): the rest of a cleaned frame is screened while
    held and is not written. Projections (copy-on-write): a later change to a cleaned frame
    does not reach them."""
    from hyposcreen.validate.views import validation_columns

    kept_columns = {}
    for table in REQUIRED_TABLES:
        frame = getattr(cleaned, table)
        kept = validation_columns(table) | _ALSO_KEPT
        kept_columns[table] = frame[[c for c in frame if c in kept]]
    return kept_columns


def contract_frame(table: str, cleaned: pd.DataFrame) -> pd.DataFrame:
    """What validation reads of a cleaned table (or of some of its columns): as
    `recipe_contracts.validation_frames` projects it, text as categoricals."""
    from hyposcreen.validate.gx import project_for_validation

    if table != "labs":
        return as_categories(project_for_validation(table, cleaned))
    labs = project_for_validation("labs", cleaned.drop(columns="value_num", errors="ignore"))
    if "value_canonical" in cleaned.columns:
        labs = labs.assign(value_num=cleaned["value_canonical"])
    return as_categories(labs)


def as_categories(frame: pd.DataFrame) -> pd.DataFrame:
    """Text columns (but source_row) as categoricals."""
    out = frame.copy(deep=False)
    for column in out.columns:
        if column != "source_row" and pd.api.types.is_string_dtype(out[column].dtype):
            out[column] = out[column].astype("str").astype("category")
    return out


def read_contract(table: str, path: Path, columns: list[str]) -> pd.DataFrame:
    """The contract `columns` of one cleaned partition file, without the index."""
    renamed = _FROM.get(table, {})
    source = list(dict.fromkeys(renamed.get(c, c) for c in columns))
    return contract_frame(table, read_frame(path, source))[columns]


class WholeContractTables(Mapping[str, Any]):
    """The contract columns of every partition, back in the whole tables' order, one table at a
    time: a table is gathered from its partitions' files when it is looked up and not kept
    here, so validation holds one whole table (and its view) at a time, not all four."""

    def __init__(self, folder: Path, partitions: int, tables: dict[str, IngestedTable]):
        self.folder, self.partitions = folder, partitions
        self.patients = tables["patients"].frame if "patients" in tables else None
        self.names = (*REQUIRED_TABLES, *(("patients",) if self.patients is not None else ()))
        self.labels: dict[str, list[np.ndarray]] = {}  # each gathered table's, per partition

    def row_labels(self, name: str) -> list[np.ndarray]:
        """The row labels of each partition's cleaned `name` (read once, for the gather, the
        rows a check quotes and the warning rows' partitions), held while this object is."""
        held = self.labels.get(name)
        if held is None:
            paths = [cleaned_path(self.folder, p, name) for p in range(self.partitions)]
            held = self.labels[name] = [read_row_labels(path) for path in paths]
        return held

    def __getitem__(self, name: str) -> Any:
        if name not in self.names:
            raise KeyError(name)
        from hyposcreen.validate.tables import PartialTable, columns_read, presence_read

        if name == "patients":
            from hyposcreen.validate.gx import project_for_validation

            return project_for_validation("patients", self.patients)
        paths = [cleaned_path(self.folder, p, name) for p in range(self.partitions)]
        labels = self.row_labels(name)
        held = [i for i, rows in enumerate(labels) if len(rows)] or [0]
        # every contract column, by name and dtype, from the first rows of one file
        described = contract_frame(name, read_frame(paths[held[0]], head=True)).iloc[:0]
        folds = sorted(fold_columns(SCHEMAS[name].time_columns))  # gathered on their own
        described = described.drop(columns=[c for c in folds if c in described.columns])
        names = list(described.columns)
        read = [c for c in names if c in columns_read(name, names)]
        release_free_memory()  # the previous table's frames are gone: hand their pages back
        presence_only = presence_read(name, read)
        gathered = _gather_in_read_order(name, paths, labels, read, presence_only)
        marks = _second_occurrences(paths, labels, folds, gathered.index)
        gathered = gathered.assign(**marks) if marks else gathered
        release_free_memory(collect=False)  # and the partitions' columns the gather read
        columns = pd.DataFrame(
            {c: gathered[c].iloc[:0] if c in read else described[c] for c in names}, copy=False
        )
        files = [(paths[i], labels[i]) for i in held]
        return PartialTable(
            gathered, columns, lambda cited, wanted: _rows_at(name, files, cited, wanted)
        )

    def __contains__(self, name: object) -> bool:  # Mapping's own would gather the table
        return name in self.names

    def __iter__(self) -> Iterator[str]:
        return iter(self.names)

    def __len__(self) -> int:
        return len(self.names)


def _second_occurrences(
    paths: list[Path], labels: list[np.ndarray], folds: list[str], order: pd.Index
) -> dict[str, np.ndarray]:
    """The marks of a repeated hour's second occurrences (`folds`: ingest/clock_folds.py)
    for the rows labelled `order`: only the partitions that hold such rows have the column
    (False in the others); a mark no partition has is left out."""
    tables = [read_table(path, folds) for path in paths]  # each file read once, every mark
    held = {name for table in tables for name in table.column_names}
    if not held:  # most nights: no partition holds a repeated hour
        return {}
    pieces: dict[str, list[np.ndarray]] = {column: [] for column in folds}
    for table, rows in zip(tables, labels, strict=True):
        for column in folds:
            if column in table.column_names:
                marks = pc.fill_null(table.column(column).cast(pa.bool_()), False)
                pieces[column].append(marks.to_numpy(zero_copy_only=False).astype(bool))
            else:
                pieces[column].append(np.zeros(len(rows), dtype=bool))
    index = np.concatenate(labels) if labels else np.array([], dtype=np.int64)
    return {
        column: pd.Series(np.concatenate(pieces[column]), index=index)
        .reindex(order, fill_value=False)
        .to_numpy(dtype=bool)
        for column in folds
        if column in held
    }


def _rows_at(
    table: str, files: list[tuple[Path, np.ndarray]], labels: list[int], columns: list[str]
) -> pd.DataFrame:
    """The `columns` of the rows labelled `labels`, read from the partitions' files (`files`:
    each with its row labels; each partition's rows of these columns in memory one partition at
    a time), indexed by label. Only the rows found are made what validation sees
    (`contract_frame`: the same values)."""
    wanted = np.asarray(labels, dtype=np.int64)
    renamed = _FROM.get(table, {})
    source = list(dict.fromkeys(renamed.get(c, c) for c in columns))
    parts = []
    for path, held in files:
        found = _positions(held, wanted)
        if len(found):
            read = read_frame(path, source, rows=found)  # only these rows made pandas'
            rows = contract_frame(table, read)[columns]
            parts.append(rows.set_axis(pd.Index(held[found], dtype="int64"), axis=0))
    if not parts:
        return pd.DataFrame({c: pd.Series([], dtype="object") for c in columns})
    rows = pd.concat([p.astype("object") for p in parts]) if len(parts) > 1 else parts[0]
    return rows.loc[[label for label in labels if label in rows.index]]


def _positions(held: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """The positions in `held` (a partition's row labels) of the labels of `wanted` it holds,
    in `held`'s order (recipe_contracts.label_positions finds them)."""
    at = label_positions(pd.Index(held, copy=False), pd.Index(wanted, copy=False))
    return np.unique(at[at >= 0])


def _gather_in_read_order(
    table: str,
    paths: list[Path],
    labels: list[np.ndarray],
    wanted: list[str],
    presence_only: Collection[str] = (),
) -> pd.DataFrame:
    """One table's `wanted` contract columns from its partitions' files, back in the order of
    the whole table. Built one column at a time (only that column of every partition is in
    memory besides the result): the partitions' frames are never all held at once. Text is
    dictionary-encoded by Arrow (runners/contract_text.py) into the categoricals pandas would
    make of it (`presence_only` text: present or missing), floats and times are joined as
    numpy arrays; any other column is read as `read_contract` reads it."""
    held = [i for i, rows in enumerate(labels) if len(rows)] or [0]
    index = np.concatenate([labels[i] for i in held])
    order = np.argsort(index, kind="stable")
    in_order = _increasing([labels[i] for i in held])
    columns: dict[str, Any] = {}
    for column in wanted:
        source = _FROM.get(table, {}).get(column, column)
        arrays = [read_table(paths[i], [source]).column(0) for i in held]
        categorical = presence(arrays) if column in presence_only else None
        if categorical is None:
            categorical = categorical_text(column, arrays)
        if categorical is not None:
            codes = categorical.codes if in_order else categorical.codes.take(order)
            columns[column] = pd.Series(
                pd.Categorical.from_codes(codes, dtype=categorical.dtype), copy=False
            )
        elif all(plain_numbers(array.type) for array in arrays):
            columns[column] = joined_numbers(arrays, order, in_order)
        else:
            parts = [read_contract(table, paths[i], [column])[column] for i in held]
            columns[column] = joined_parts(parts, order, in_order)
            del parts
        del categorical, arrays
        columns[column].index = pd.RangeIndex(len(index))
        pa.default_memory_pool().release_unused()  # the partitions' Arrow buffers of it
    # copy=False: the columns as gathered, not copied again into one 2-D block per dtype
    frame = pd.DataFrame(columns, copy=False)
    labels_in_order = index if in_order else index[order]
    return frame.set_axis(pd.Index(labels_in_order, dtype="int64", copy=False), axis=0)


def _increasing(pieces: list[np.ndarray]) -> bool:
    """Whether the pieces put together run strictly upwards. Partitions of patients interleave:
    the first piece to start below the end of the one before says so without a pass over
    every row."""
    held = [piece for piece in pieces if len(piece)]
    if any(before[-1] >= after[0] for before, after in pairwise(held)):
        return False
    return all(len(piece) < 2 or bool((np.diff(piece) > 0).all()) for piece in held)
