"""Lab rows set aside as an unknown LOINC whose code is a listed LOINC written another way.

An unknown LOINC is not relevant, whatever its name says (spec §2): the reader drops its row
(`unknown_loinc`, ingest.row_filter) and it stays dropped. But an export writing its codes in
a shape that is not LOINC's, or the laboratory's own codes in the LOINC column, so loses whole
analytes without a sound. While the reader drops them, these rows are counted here by shape
(loinc_shape_warnings judges the counts):

- `prefixed`: with a `LN:` / `LOINC:` prefix (and any spaces) set aside, a listed LOINC or a
  listed LOINC's number (`LN:2951-2`, `LOINC:2951-2`);
- `spaced`: without its spaces, one of them (`2951 - 2`);
- `no_check_digit`: a listed LOINC's number without its check digit (`2951`);
- `known_name`: no LOINC at all (not digits, a hyphen and a check digit: `NA`, `12345`), on a
  row whose lab name the lab dictionary (the rules' and the site's) knows.

A well-formed LOINC the rules do not list is another test and is never counted, whatever its
name (a urine glucose named `Glucose`). Each distinct code is judged once per read and each
distinct lab name of the rows holding no LOINC once; the rows are counted in Arrow. A read
whose codes are all well-formed does no more than look its distinct codes up.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from hyposcreen.rules.loader import normalize_label
from hyposcreen.rules.loinc_text import loinc_key

SHAPES = ("prefixed", "spaced", "no_check_digit", "known_name")
_NOT_LOINC = "not_loinc"  # a code of no LOINC shape: its row counts when its lab name is known
EXAMPLES = 3
_PREFIX = re.compile(r"^(?:loinc|ln)\s*[:#]?\s*", re.IGNORECASE)
_SPACES = re.compile(r"\s+")
_LOINC = re.compile(r"^[0-9]{1,7}-[0-9]$")  # ASCII digits, a hyphen and the check digit


@dataclass(frozen=True)
class LoincShapeCounts:
    """What a read counted: rows set aside as unknown_loinc, rows by shape (SHAPES order, none
    of 0) and the `file:row` of the first rows counted. Counts only, never a code."""

    unknown_rows: int = 0
    rows: tuple[tuple[str, int], ...] = ()
    examples: tuple[str, ...] = ()

    @property
    def counted(self) -> int:
        return sum(n for _, n in self.rows)


@dataclass(frozen=True)
class RowPlace:
    """Where a batch's rows are: the file's name, the site column of the lab name and the
    column of row numbers (a batch without it starts at `first_row`)."""

    file: str
    lab_name: str | None
    row_column: str
    first_row: int = 1


class LoincShapeCounter:
    """The counts of one read, filled batch by batch (`count`), taken by `counts()`."""

    def __init__(self, listed: Iterable[str], labels: Iterable[str]) -> None:
        self.listed = frozenset(listed)
        self.numbers = frozenset(code.split("-", 1)[0] for code in self.listed)
        self.labels = frozenset(labels)
        self.unknown_rows = 0
        self.rows: Counter[str] = Counter()
        self.examples: list[str] = []
        self._shape: dict[str, str | None] = {}  # code as read -> shape (or _NOT_LOINC)
        self._known: dict[str, bool] = {}  # lab name as read -> whether the dictionary has it

    def counts(self) -> LoincShapeCounts:
        rows = tuple((shape, self.rows[shape]) for shape in SHAPES if self.rows[shape])
        return LoincShapeCounts(self.unknown_rows, rows, tuple(self.examples))

    def shape_of(self, code: str) -> str | None:
        """The shape of one code text (trimmed), None for a well-formed LOINC."""
        if code not in self._shape:
            self._shape[code] = self._judge(code)
        return self._shape[code]

    def _judge(self, code: str) -> str | None:
        text = loinc_key(code) or ""
        rest = _PREFIX.sub("", text)
        compact = _SPACES.sub("", rest)
        if compact in self.listed or compact in self.numbers:
            if rest != text:
                return "prefixed"
            return "spaced" if compact != text else "no_check_digit"
        return None if _LOINC.match(compact) else _NOT_LOINC

    def count(
        self,
        batch: pa.RecordBatch,
        dropped: pa.Array,
        codes: pa.Array,
        distinct: Sequence[dict[str, object]],
        place: RowPlace,
    ) -> None:
        """Count the rows of `batch` the reader dropped as unknown_loinc (`dropped`, a mask):
        `codes` their trimmed codes, `distinct` pyarrow's value_counts of them."""
        self.unknown_rows += len(codes)
        by_shape: dict[str, list[str]] = {}
        for entry in distinct:
            code, rows = str(entry["values"]), int(entry["counts"])  # type: ignore[call-overload]
            shape = self.shape_of(code)
            if shape is not None:
                by_shape.setdefault(shape, []).append(code)
                if shape != _NOT_LOINC:
                    self.rows[shape] += rows
        if not by_shape:
            return
        flagged = _is_in(codes, [c for s, cs in by_shape.items() if s != _NOT_LOINC for c in cs])
        names = batch.schema.names
        if _NOT_LOINC in by_shape and place.lab_name is not None and place.lab_name in names:
            labels = pc.filter(pc.cast(batch.column(place.lab_name), pa.string()), dropped)
            named = pc.and_(_is_in(codes, by_shape[_NOT_LOINC]), self._known_names(labels))
            self.rows["known_name"] += int(pc.sum(named).as_py() or 0)
            flagged = pc.or_(flagged, named)
        if len(self.examples) < EXAMPLES:
            self._take_examples(batch, dropped, flagged, place)

    def _known_names(self, labels: pa.Array) -> pa.Array:
        """Whether each lab name is one the dictionary knows (False where missing)."""
        for label in pc.unique(labels).to_pylist():
            if label is not None and label not in self._known:
                self._known[label] = normalize_label(label) in self.labels
        known = [label for label, yes in self._known.items() if yes]
        return _is_in(labels, known)

    def _take_examples(
        self, batch: pa.RecordBatch, dropped: pa.Array, flagged: pa.Array, place: RowPlace
    ) -> None:
        among = np.flatnonzero(np.asarray(flagged))[: EXAMPLES - len(self.examples)]
        if not len(among):
            return
        at = np.flatnonzero(np.asarray(dropped))[among]
        if place.row_column in batch.schema.names:
            numbers = np.asarray(batch.column(place.row_column).take(pa.array(at)))
        else:
            numbers = at + place.first_row
        self.examples += [f"{place.file}:{int(n)}" for n in numbers]


def _is_in(values: pa.Array, found: list[str]) -> pa.Array:
    """Whether each value is one of `found` (False where missing, all False when none)."""
    if not found:
        return pa.array(np.zeros(len(values), dtype=bool))
    return pc.fill_null(pc.is_in(values, pa.array(found, pa.string())), False)
