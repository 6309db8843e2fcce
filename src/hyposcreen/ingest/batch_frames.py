"""One Arrow batch of a table file as a canonical frame, as `TableStream` (ingest.tabular)
yields it: empty rows and unknown LOINCs dropped in Arrow, the read window applied in Arrow when
it can be (ingest.window_pushdown), the file's own row numbers or its source_row column, then
the shared tail every reader runs (ingest.row_filter.finish_batch). The rows dropped are counted
as not relevant, by reason, in the stream's counter.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from pathlib import Path

import pandas as pd
import pyarrow as pa

from hyposcreen.config import SiteMapping, TableMapping
from hyposcreen.ingest.canonical import TableSchema
from hyposcreen.ingest.excel_forms import ExcelFormCounter
from hyposcreen.ingest.frames import row_texts, to_canonical
from hyposcreen.ingest.joined_times import join_times
from hyposcreen.ingest.loinc_shapes import RowPlace
from hyposcreen.ingest.row_filter import (
    EMPTY_ROW,
    RowFilter,
    decoded,
    drop_empty_rows,
    finish_batch,
    prefilter_loinc,
)
from hyposcreen.ingest.suffixes import parquet
from hyposcreen.ingest.window_pushdown import WindowPushdown

ROW_COLUMN = "__hyposcreen_row"  # each batch row's number in its file (a CSV's physical line)


class BatchFrames:
    """The canonical frames of one table's batches; `not_relevant` counts the rows they drop
    (the stream's own counter, which its window pushdown and its ingested table also use)."""

    def __init__(
        self,
        schema: TableSchema,
        mapping: SiteMapping,
        table: TableMapping,
        row_filter: RowFilter,
        not_relevant: Counter[str],
    ) -> None:
        self.schema, self.mapping, self.table = schema, mapping, table
        self.row_filter, self.not_relevant = row_filter, not_relevant
        self.excel_forms = ExcelFormCounter()  # cells written ="..." (ingest.excel_forms)
        # the file's text columns read as dictionaries, decoded once its LOINC filter has run
        self.coded: tuple[str, ...] = ()

    def frame_of(
        self,
        numbered: pa.RecordBatch,
        path: Path,
        site_for: dict[str, str],
        wanted: dict[str, str],
        pushdown: WindowPushdown | None,
        table: TableMapping,
    ) -> pd.DataFrame:
        """One batch as a canonical frame: unknown LOINCs dropped in Arrow, the window applied
        in Arrow when it can be (`pushdown`), then the shared tail (selector, times, window)."""
        row_filter = self.row_filter
        if not parquet(path):  # a CSV's cells as read (a typed Parquet file is no spreadsheet's)
            self.excel_forms.count(numbered, path.name, ROW_COLUMN)
        numbered, empty_rows = drop_empty_rows(numbered, ROW_COLUMN)
        self.not_relevant[EMPTY_ROW] += empty_rows
        numbered = self.known_loinc(numbered, site_for, path.name)
        # the file's own row numbers unless it has a source_row column (decided on the rows
        # that passed the LOINC filter, before any window split)
        own_rows = not _holds_values(numbered, site_for["source_row"], self.table.constants)
        if pushdown is not None:
            numbered = pushdown.split(numbered)
        numbered = join_times(numbered, table, wanted)  # the file's spelling of the parts
        frame = to_canonical(numbered, wanted, self.schema, self.table)
        if pushdown is not None:
            pushdown.attach_times(frame)  # the split's parsed times: not parsed twice
        frame["source_file"] = path.name
        row_numbers = frame.pop(ROW_COLUMN)
        if own_rows:
            frame["source_row"] = row_texts(row_numbers)
        return finish_batch(frame, self.schema, self.mapping, row_filter, self.not_relevant)

    def known_loinc(
        self, batch: pa.RecordBatch, site_for: dict[str, str], file: str, first_row: int = 1
    ) -> pa.RecordBatch:
        """The rows whose LOINC is known or blank; the others counted unknown_loinc (and by
        shape, ingest.loinc_shapes; `first_row`: the row number of a batch not numbered)."""
        row_filter = self.row_filter
        if row_filter.loinc_keep is None:
            return decoded(batch, self.coded)
        shapes = row_filter.loinc_shapes
        place = RowPlace(file, site_for.get("lab_name"), ROW_COLUMN, first_row)
        kept, dropped_count = prefilter_loinc(
            batch,
            site_for["loinc"],
            row_filter.loinc_keep,
            row_filter.unrecognised,
            (shapes, place) if shapes is not None else None,
        )
        self.not_relevant["unknown_loinc"] += dropped_count
        return decoded(kept, self.coded)


def _holds_values(batch: pa.RecordBatch, site: str, constants: Mapping[str, object]) -> bool:
    """Whether the canonical source_row of this batch holds any value (as `to_canonical` would
    give it: a mapping constant, else the site column with NaN counted as missing)."""
    if "source_row" in constants:
        return not bool(pd.isna(constants["source_row"]))
    if site not in batch.schema.names or batch.num_rows == 0:
        return False
    return bool(batch.column(site).to_pandas().notna().any())


# the canonical columns of a lab file that hold a vocabulary (a few distinct texts, repeated)
_CODED = ("loinc", "lab_name", "unit", "status", "specimen_type")


def coded_sites(
    types: pa.Schema, site_for: Mapping[str, str], row_filter: RowFilter, is_csv: bool
) -> tuple[str, ...]:
    """The columns of a Parquet file to read as dictionaries (ingest.parquet_batches): a lab
    file's vocabulary columns stored as plain text, when its LOINC filter runs (which judges
    each distinct code once and decodes them all for the rows it keeps: `known_loinc`)."""
    if is_csv or row_filter.loinc_keep is None:
        return ()
    at = [types.get_field_index(site_for[c]) for c in _CODED if c in site_for]
    return tuple(types.names[i] for i in at if i >= 0 and types.field(i).type == pa.string())
