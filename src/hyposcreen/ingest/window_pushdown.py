"""The read window applied in Arrow, before the selector, for files whose window column is a
typed timestamp (Parquet): rows outside the window skip the pandas conversion, the selector and
the time parsing that a row-by-row read spends on them.

The reconciliation must not change: a row-by-row read drops an unknown LOINC first, then what
the selector rejects, then what lies outside the window. So the LOINC filter still runs first
(in Arrow, on every row), the window's mask is computed from the times parsed exactly as the
row-by-row read parses them, and the rows outside it are counted per distinct value of the
columns the selector reads (`RowFilter.select_reads`, an Arrow group-by). At the end of each
file the selector classifies those distinct rows: the ones it keeps count `outside_window`
with their row counts, the others under the selector's own reason, and the values it reports
as unrecognised (the coverage report) are weighted by the rows they stand for. The selector
returns counts per reason, not a reason per row, so the rows it rejects are re-classified in
halves until each group has one reason (a few calls per file).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from hyposcreen.config import SiteMapping, TableMapping
from hyposcreen.ingest import batches as file_batches
from hyposcreen.ingest.canonical import TableSchema
from hyposcreen.ingest.clock_folds import fold_column
from hyposcreen.ingest.frames import parsed_column, to_canonical
from hyposcreen.ingest.row_filter import RowFilter, Selector, outside_window
from hyposcreen.ingest.timeparse import parse_times_folded

_ROWS = "__hyposcreen_rows"


class WindowPushdown:
    """One file's window split: `split(batch)` keeps the rows the window keeps and remembers
    the others by group; `settle(not_relevant)` counts them by reason."""

    def __init__(
        self,
        row_filter: RowFilter,
        time_site: str,
        group_sites: list[str],
        wanted: dict[str, str],
        schema: TableSchema,
        table: TableMapping,
        mapping: SiteMapping,
    ) -> None:
        self.row_filter, self.time_site, self.group_sites = row_filter, time_site, group_sites
        self.wanted, self.schema, self.table, self.mapping = wanted, schema, table, mapping
        self.groups: list[pa.Table] = []
        self.kept_times: pd.Series | None = None  # the last split's kept rows, parsed
        self.kept_second: np.ndarray | None = None  # and their repeated hours' second times

    @classmethod
    def for_file(
        cls,
        row_filter: RowFilter,
        names: list[str],
        types: pa.Schema,
        wanted: dict[str, str],
        schema: TableSchema,
        table: TableMapping,
        mapping: SiteMapping,
    ) -> WindowPushdown | None:
        """The split for a file whose window column (of its projected `names`) is a typed
        timestamp or text (CSV: parsed first, as the row-by-row read parses it), when the
        selector says what it reads; else None (the row-by-row read)."""
        window = row_filter.window
        if window is None or (row_filter.select is not None and row_filter.select_reads is None):
            return None
        column = window[0]
        sites = [site for site, canon in wanted.items() if canon == column and site in names]
        if column in table.constants or len(sites) != 1:
            return None
        time_type = types.field(sites[0]).type
        if not (pa.types.is_timestamp(time_type) or pa.types.is_string(time_type)):
            return None
        reads = set(row_filter.select_reads or ())
        group_sites = [s for s in names if wanted.get(s) in reads]
        return cls(row_filter, sites[0], group_sites, wanted, schema, table, mapping)

    def batches(
        self, path: Path, include: list[str], loinc_site: str, coded: tuple[str, ...] = ()
    ) -> Iterator[tuple[pa.RecordBatch, bool]]:
        """The file's batches in order, each with whether its whole row group lies outside the
        window by the Parquet statistics (then only the columns that decide its reason are
        decoded: the LOINC and the selector's columns); the `coded` columns as dictionaries."""
        handle = file_batches.parquet_file(path, coded)
        narrow = [c for c in include if c in (loinc_site, *self.group_sites)]
        for group in range(handle.metadata.num_row_groups):
            outside = self._row_group_outside(handle.metadata.row_group(group))
            batches = handle.iter_batches(
                batch_size=file_batches.BATCH_ROWS,
                row_groups=[group],
                columns=narrow if outside else include,
            )
            wordy = file_batches.may_hold_null_words(handle.metadata, [group])
            for batch in file_batches.damage_checked(path, batches, wordy):
                yield batch, outside

    def _row_group_outside(self, group: pq.RowGroupMetaData) -> bool:
        """Every time of the row group present and outside [start, end) (naive timestamps,
        parsed as they are: the statistics compare as the parsed times do)."""
        window = self.row_filter.window
        assert window is not None
        _, start, end = window
        for i in range(group.num_columns):
            column = group.column(i)
            if column.path_in_schema != self.time_site:
                continue
            stats = column.statistics
            if stats is None or not stats.has_min_max or stats.null_count != 0:
                return False
            low, high = stats.min, stats.max
            if not isinstance(low, datetime) or not isinstance(high, datetime):
                return False
            if low.tzinfo is not None or high.tzinfo is not None:
                return False
            low_us, high_us = pd.Timestamp(low).floor("us"), pd.Timestamp(high).floor("us")
            return bool(high_us < start or low_us >= end)
        return False

    def count_outside(self, batch: pa.RecordBatch) -> None:
        """Rows known to lie outside the window (a skipped row group): counted by group."""
        self._count(batch.select(self.group_sites) if self.group_sites else batch)

    def split(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        """The rows inside the window or without a time; the others are counted by group.
        Their parsed times are kept in `kept_times` (numbered 0.. like the rows returned)."""
        window = self.row_filter.window
        assert window is not None
        formats = self.table.datetime_formats + self.mapping.datetime_formats
        times, second = parse_times_folded(
            batch.column(self.time_site).to_pandas(), self.mapping.timezone, formats
        )
        outside = outside_window(times, window).to_numpy(dtype=bool)
        if not outside.any():
            self.kept_times, self.kept_second = times.reset_index(drop=True), second
            return batch
        self.kept_times = times.loc[~outside].reset_index(drop=True)
        self.kept_second = None if second is None else second[~outside]
        # only the columns that decide a reason are taken of the rows outside
        narrow = batch.select(self.group_sites) if self.group_sites else batch
        self._count(narrow.filter(pa.array(outside)))
        return batch.filter(pa.array(~outside))

    def attach_times(self, frame: pd.DataFrame) -> None:
        """Give `frame` (the canonical rows of the last split) their parsed window times in
        `parsed_column`, with their repeated hours' second occurrences in `fold_column`."""
        column = self.row_filter.window[0] if self.row_filter.window is not None else None
        kept_times = self.kept_times
        assert column is not None and kept_times is not None and len(kept_times) == len(frame)
        frame[parsed_column(column)] = kept_times.to_numpy()
        if self.kept_second is not None:
            frame[fold_column(column)] = self.kept_second

    def _count(self, dropped: pa.RecordBatch) -> None:
        if self.group_sites:
            counted = pa.Table.from_batches([dropped]).group_by(self.group_sites, use_threads=False)
            grouped = counted.aggregate([([], "count_all")])
            self.groups.append(grouped.rename_columns([*grouped.column_names[:-1], _ROWS]))
        else:
            self.groups.append(pa.table({_ROWS: pa.array([dropped.num_rows], pa.int64())}))

    def settle(self, not_relevant: Counter[str]) -> None:
        """Count the rows outside the window under the reason a row-by-row read gives them."""
        if not self.groups:
            return
        merged = pa.concat_tables(self.groups)
        self.groups = []
        if self.group_sites:
            summed = merged.group_by(self.group_sites, use_threads=False).aggregate(
                [(_ROWS, "sum")]
            )
            merged = summed.rename_columns([*summed.column_names[:-1], _ROWS])
        weights = merged.column(_ROWS).to_numpy().astype(np.int64)
        select = self.row_filter.select
        if select is None:
            not_relevant["outside_window"] += int(weights.sum())
            return
        keys = merged.drop_columns([_ROWS])
        if not self.group_sites:  # one group standing for every row outside
            keys = pa.table({_ROWS: pa.nulls(len(weights))})
        batch = keys.combine_chunks().to_batches()[0]
        frame = to_canonical(batch, self.wanted, self.schema, self.table)
        frame.index = pd.RangeIndex(len(frame))
        classify(frame, weights, select, self.row_filter.unrecognised, not_relevant)


def classify(
    frame: pd.DataFrame,
    weights: np.ndarray,
    select: Selector,
    unrecognised: Counter[tuple[str, str]],
    not_relevant: Counter[str],
) -> None:
    """Count each row of `frame` `weights[row]` times under the reason `select` gives it (kept
    rows: outside_window), and weight what `select` adds to `unrecognised` likewise."""
    pending = [np.arange(len(frame))]
    while pending:
        rows = pending.pop()
        part = frame.iloc[rows]
        before = Counter(unrecognised)
        kept, reasons = select(part)
        added = unrecognised - before
        unrecognised.clear()
        unrecognised.update(before)
        gone = ~part.index.isin(kept.index)
        not_relevant["outside_window"] += int(weights[rows[~gone]].sum())
        if not gone.any():
            continue
        named = [reason for reason, n in reasons.items() if n]
        rejected = rows[gone]
        if len(rows) == 1 or (
            len(named) == 1 and _weigh(frame.iloc[rejected], weights[rejected], added, unrecognised)
        ):
            if len(rows) == 1:
                unrecognised.update({key: n * int(weights[rows[0]]) for key, n in added.items()})
            not_relevant[named[0]] += int(weights[rejected].sum())
        else:
            half = len(rejected) // 2 or 1
            pending += [p for p in (rejected[:half], rejected[half:]) if len(p)]


def _weigh(
    rejected: pd.DataFrame,
    weights: np.ndarray,
    added: Counter[tuple[str, str]],
    unrecognised: Counter[tuple[str, str]],
) -> bool:
    """Weight the unrecognised values `select` counted once per row of `rejected` (rows of one
    reason): each (column, value) stands for the rows holding that value. False (nothing
    added) when the rows holding a value are not the ones counted."""
    weighted: dict[tuple[str, str], int] = {}
    for column in {column for column, _ in added}:
        if column not in rejected.columns:
            return False
        text = rejected[column].astype("str")
        rows = text.value_counts()  # once per distinct value, not per (value, row)
        sums = pd.Series(weights, index=rejected.index).groupby(text).sum()
        for (named, value), n in added.items():
            if named != column:
                continue
            if int(rows.get(value, 0)) != n:
                return False
            weighted[(named, value)] = int(sums[value])
    unrecognised.update(weighted)
    return True
