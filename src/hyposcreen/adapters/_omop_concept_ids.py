"""Which concept ids of the OMOP event tables the delivered vocabulary does not hold.

The concept reader keeps only the concepts the screen reads (adapters._omop_vocab), so by those
alone a concept id of another test cannot be told from one the vocabulary lacks. While it scans
the `concept` table it therefore also collects every concept id (`HeldConcepts`). Each event
batch's distinct ids not judged before are anti-joined against them in DuckDB
(rules.sql_engine), so an id is judged once per process, and the rows under an absent id are
found by an Arrow lookup in the absent ones (few). The ids are held as int64 (~48 MB for
Athena's ~6M concepts), compared with an event's id text read as a whole number (`3019550.0`
is 3019550; text that is no number names no concept). The shipped `rules/omop_concepts.csv`
counts as held (its concepts are read). Concept id 0 ("No matching concept", also written `0.0`
or `0E-10`) and a blank id refer to no concept.

`ConceptGaps` counts one event table's rows: those naming an absent concept id, and of them
those whose event the screen could not tell otherwise (no source value that names it), with
the first `file:row` references of these. Counts and places only, never an id.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from hyposcreen.adapters._columns import normalize_ids
from hyposcreen.rules import sql_engine as engine

EXAMPLES = 3  # file:row references kept of the rows whose event could not be told
ROWS = "not_in_vocabulary"  # source_counts: rows naming a concept id the vocabulary lacks
UNTOLD = "not_in_vocabulary_untold"  # of them, rows whose event could not be told otherwise
# an id that is no whole number (TRY_CAST: null) names no concept either: absent
_ABSENT_SQL = """
SELECT r.id FROM referenced r ANTI JOIN held h ON TRY_CAST(r.id AS BIGINT) = h.id ORDER BY r.id
"""
_TEXT = pa.string()  # as the concept scan gives the ids (no copy)
# concept id 0 however written: `00`, `-0`, `0.000`, and `0E-10`, Arrow's text of a zero of a
# decimal(38,10) column (Spark's type of an Oracle NUMBER), where other ids read `8753.0000000000`
_ZERO = r"^[+-]?0+(?:\.0*)?(?:[eE][+-]?\d+)?$"


def id_numbers(ids: pa.Array) -> pa.Array:
    """A concept table's ids (trimmed text: _columns.batch_column) as int64, those that are
    whole numbers (`8753.0` is 8753; OMOP's concept_id is an integer, and other text names no
    concept an event can name: left out). Cast directly when every id is digits alone."""
    try:
        return pc.drop_null(pc.cast(ids, pa.int64()))
    except pa.ArrowInvalid:
        ids = normalize_ids(ids)
    whole = pc.fill_null(pc.match_substring_regex(ids, r"^-?\d{1,18}$"), False)
    return pc.cast(pc.filter(ids, whole), pa.int64())


@dataclass
class HeldConcepts:
    """Every concept id the delivered `concept` table holds (with the shipped ones), and the
    ids of the events judged so far."""

    held: pa.Table  # one column `id`: int64 (8 bytes a concept; as text ~12, and ~3x
    # slower to scan in the anti-join)
    judged: pa.Array = field(default_factory=lambda: pa.array([], _TEXT))
    absent: pa.Array = field(default_factory=lambda: pa.array([], _TEXT))
    _lock: threading.Lock = field(default_factory=threading.Lock)  # tables read in threads

    @classmethod
    def of(cls, chunks: list[pa.Array], shipped: pd.Series) -> HeldConcepts:
        """The concept table's ids, read batch by batch (`chunks`: `id_numbers`), and the
        shipped ones."""
        ids = [*chunks, id_numbers(pa.array(shipped.astype("str"), pa.string()))]
        return cls(pa.table({"id": pa.chunked_array(ids, pa.int64())}))

    def absent_rows(self, values: pa.Array) -> np.ndarray:
        """Per row, whether `values` (id text: _columns.normalize_ids) names a concept not
        held (a null or 0, in any spelling, names none)."""
        named = pc.invert(pc.match_substring_regex(values, _ZERO))
        distinct = pc.unique(pc.filter(values, pc.fill_null(named, False)))
        with self._lock:
            new = pc.filter(distinct, pc.invert(pc.is_in(distinct, self.judged)))
            if len(new):  # ids met first in this batch: one anti-join against every concept
                tables = {"referenced": pa.table({"id": new}), "held": self.held}
                found = engine.query(_ABSENT_SQL, tables).column("id").combine_chunks()
                self.absent = pa.concat_arrays([self.absent, found.cast(_TEXT)])
                self.judged = pa.concat_arrays([self.judged, new])
            absent = self.absent
        if not len(absent):
            return np.zeros(len(values), dtype=bool)
        hit = pc.fill_null(pc.is_in(values, absent), False)
        return hit.to_numpy(zero_copy_only=False)


@dataclass
class ConceptGaps:
    """One event table's rows under concept ids the vocabulary lacks (none judged when the
    extract has no concept table: `held` None)."""

    held: HeldConcepts | None
    rows: int = 0
    untold: int = 0
    references: list[str] = field(default_factory=list)

    def absent(self, *columns: pd.Series) -> np.ndarray:
        """Per row, whether any of the id `columns` (as read) names a concept the vocabulary
        lacks."""
        found = np.zeros(len(columns[0]), dtype=bool)
        if self.held is None:
            return found
        for column in columns:  # judged once per distinct text of the batch
            encoded = pc.dictionary_encode(pa.array(column, from_pandas=True))
            if isinstance(encoded, pa.ChunkedArray):
                encoded = encoded.combine_chunks()
            by_text = self.held.absent_rows(normalize_ids(encoded.dictionary))
            codes = encoded.indices.fill_null(len(by_text)).to_numpy(zero_copy_only=False)
            found |= np.append(by_text, False)[codes]  # a null id names no concept
        return found

    def count(self, frame: pd.DataFrame, absent: np.ndarray, untold: np.ndarray) -> None:
        """Count a batch's rows under an absent concept and those of them not told otherwise
        (`untold`), keeping the first `file:row` of these (frame: source_file, source_row)."""
        self.rows += int(absent.sum())
        lost = np.flatnonzero(absent & untold)
        self.untold += len(lost)
        for at in lost[: max(EXAMPLES - len(self.references), 0)]:
            row = frame.iloc[at]
            self.references.append(f"{row['source_file']}:{row['source_row']}")

    def source_counts(self) -> dict[str, int]:
        """The counts the table's source_counts entry holds (none while no row names an
        absent id, or without a concept table)."""
        return {ROWS: self.rows, UNTOLD: self.untold} if self.rows else {}
