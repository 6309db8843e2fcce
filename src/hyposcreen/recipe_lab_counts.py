"""The clean stage's counts of a window's labs, for windows cut from one read.

Each night the clean stage counts its labs for the coverage report (units the rules do not
know, status words, specimen texts: report.coverage.lab_counts) and for the delivery's
warnings (the distinct patient ids and their forms, date-only specimen times:
delivery_counts). Every one of those counts adds up what each row says on its own, and a
window's cleaned labs are rows of the read's cleaned labs (recipe_clean.window_labs, cut by
recipe_read.cut_rows). So what each row says is found once over the read's cleaned labs, as
a code per row (`LabCodes`), and a window counts the codes of its rows: the same counts, the
same coverage rows and the same delivery counts as counting the window's frame (the coverage
parts are put in order by report.coverage.combine; only counts are taken of the ids).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from hyposcreen.arrow_columns import holds_arrow_text
from hyposcreen.context import RunContext
from hyposcreen.date_only_times import JUDGED_TABLES, date_only_rows
from hyposcreen.delivery_counts import (
    DeliveryCounts,
    TableIds,
    count_delivery,
    counts_of_ids,
    table_ids,
)
from hyposcreen.lab_coverage_codes import coverage_rows, specimen_codes, status_codes, unit_codes
from hyposcreen.patient_id_forms import (
    FoldedLabs,
    IdForms,
    Placed,
    apostrophe_matches_within,
    case_matches_within,
    folded_labs,
    id_forms,
    placed_ids,
)
from hyposcreen.patient_overlap import distinct_ids, scientific_ids
from hyposcreen.report.coverage import lab_counts
from hyposcreen.site_words import SiteWords

_CODES = "lab_codes"  # SharedRead.decided: the LabCodes of the read's cleaned labs


@dataclass(frozen=True)
class LabCodes:
    """What each row of the read's cleaned labs (`cleaned`) says for the counts, as codes:
    per coverage kind, each row's value counted (-1: none) and the distinct values; each row's
    patient id among `ids` (-1: none) with, per id, its number among `forms.ids` (its form
    without surrounding spaces, -1: empty) and whether it is in scientific notation; per
    form, its number among `forms.number_ids` (-1: not a number); and per row, whether its
    specimen time reads and whether it is a date alone in the `source` layout (None: not
    judged, or no time column)."""

    cleaned: pd.DataFrame
    words: SiteWords
    source: str
    coverage: tuple[tuple[str, np.ndarray, pd.Index], ...]
    patient: np.ndarray
    ids: pa.Array
    form_of: np.ndarray
    scientific: np.ndarray
    forms: IdForms
    number_of: np.ndarray
    dates: tuple[np.ndarray, np.ndarray] | None
    # per other table's TableIds (the last few): whether it holds each of `ids`, and its
    # ids placed among `forms` (patient_id_forms.placed_ids, with `folded` once found)
    held: list[tuple[TableIds, np.ndarray]] = field(default_factory=list, compare=False)
    placed: list[tuple[TableIds, Placed]] = field(default_factory=list, compare=False)
    folded: list[FoldedLabs] = field(default_factory=list, compare=False)


def window_lab_counts(
    ctx: RunContext, labs: pd.DataFrame, keep: np.ndarray | None, words: SiteWords
) -> list[pd.DataFrame]:
    """report.coverage.lab_counts of the window's cleaned `labs`: counted from the codes of
    the read's cleaned labs when `labs` are its rows where `keep` holds."""
    codes = _codes(ctx, labs, keep, words)
    if codes is None or keep is None:
        return lab_counts(labs, words)
    counted = [
        (kind, _bincount(rows, keep, len(values)), values) for kind, rows, values in codes.coverage
    ]
    return [coverage_rows([part for part in counted if part[1].any()])]


def window_delivery_counts(
    ctx: RunContext,
    labs: pd.DataFrame,
    keep: np.ndarray | None,
    medications: pd.DataFrame,
    diagnoses: pd.DataFrame,
    words: SiteWords,
) -> DeliveryCounts:
    """delivery_counts.count_delivery of the window's tables, the labs' part counted from
    the codes of the read's cleaned labs when `labs` are its rows where `keep` holds."""
    source = ctx.settings.source
    codes = _codes(ctx, labs, keep, words)
    if codes is None or keep is None:
        return count_delivery(labs, medications, diagnoses, source)
    present = _bincount(codes.patient, keep, len(codes.ids)) > 0
    formed = np.zeros(len(codes.forms.ids), dtype=bool)
    form_of = codes.form_of[present]
    formed[form_of[form_of >= 0]] = True
    numbers = np.zeros(len(codes.forms.number_ids), dtype=bool)
    number_of = codes.number_of[formed]
    numbers[number_of[number_of >= 0]] = True
    distinct = codes.ids.filter(pa.array(present))
    forms = IdForms(
        codes.forms.ids.filter(pa.array(formed)),
        codes.forms.number_ids.filter(pa.array(numbers)),
        codes.forms.number_forms.filter(pa.array(numbers)),
        codes.forms.folded.filter(pa.array(formed)),
        codes.forms.unquoted.filter(pa.array(formed)),
    )
    lab_ids = TableIds(distinct, forms, int(codes.scientific[present].sum()))
    date_only = None
    judged = JUDGED_TABLES.get(source)
    if judged is not None:
        dates = codes.dates
        date_only = {
            judged: (
                (0, 0) if dates is None else (int(dates[0][keep].sum()), int(dates[1][keep].sum()))
            )
        }
    ids = {
        "labs": lab_ids,
        "medications": table_ids("medications", medications),
        "diagnoses": table_ids("diagnoses", diagnoses),
    }
    shared = {"labs": (len(distinct), len(distinct))}
    for name, other in ids.items():
        if name != "labs":
            shared[name] = (len(other.distinct), int((present & _held(codes, other)).sum()))
    placed = {name: _placed(codes, other) for name, other in ids.items() if name != "labs"}
    case = case_matches_within(codes.folded[0], formed, placed)  # the forms kept: the window's
    quoted = apostrophe_matches_within(codes.folded[0], formed, placed)
    return counts_of_ids(ids, date_only, shared, case, quoted)


def _placed(codes: LabCodes, other: TableIds) -> Placed:
    """Another table's ids placed among the read's lab id forms (once per table's ids)."""
    if not codes.folded:
        codes.folded.append(folded_labs(codes.forms))
    for known, placed in codes.placed:
        if known is other:
            return placed
    found = placed_ids(other.forms, codes.folded[0])
    codes.placed[:] = [*codes.placed[-3:], (other, found)]
    return found


def _held(codes: LabCodes, other: TableIds) -> np.ndarray:
    """Whether another table holds each of the read's lab ids (found once per table's ids:
    a window's labs share as many ids with it as it holds of theirs, patient_overlap's count)."""
    for known, held in codes.held:
        if known is other:
            return held
    held = pc.is_in(codes.ids, value_set=other.distinct).to_numpy(zero_copy_only=False)
    codes.held[:] = [*codes.held[-3:], (other, np.asarray(held, dtype=bool))]
    return codes.held[-1][1]


def _bincount(codes: np.ndarray, keep: np.ndarray, size: int) -> np.ndarray:
    """How many rows where `keep` holds have each code (-1 not counted)."""
    mine = codes[keep]
    return np.bincount(mine[mine >= 0], minlength=size)


def _codes(
    ctx: RunContext, labs: pd.DataFrame, keep: np.ndarray | None, words: SiteWords
) -> LabCodes | None:
    """The `LabCodes` of the shared read's cleaned labs (found once per cleaned labs and site
    words), when `labs` are their rows where `keep` holds and each column counted holds
    text; else None (the window counts its own frame)."""
    shared = ctx.shared_read
    known = shared.decided.get("labs") if shared is not None else None
    if shared is None or known is None or keep is None:
        return None
    cleaned: pd.DataFrame = known[2]
    if len(keep) != len(cleaned) or int(keep.sum()) != len(labs):
        return None
    found: LabCodes | None = shared.decided.get(_CODES)
    source = ctx.settings.source
    if (
        found is None
        or found.cleaned is not cleaned
        or found.words != words
        or found.source != source
    ):
        found = _lab_codes(cleaned, words, source)
        shared.decided[_CODES] = found
    return found if found.coverage else None


def _lab_codes(cleaned: pd.DataFrame, words: SiteWords, source: str) -> LabCodes:
    """`LabCodes` of `cleaned` (no coverage kinds when a column counted does not hold text:
    the windows count their own frames then)."""
    texts = ("status", "patient_id")  # grouped as text: as the frame's own counts group them
    if not all(c in cleaned and holds_arrow_text(cleaned[c]) for c in texts) or (
        "specimen_type" in cleaned and not holds_arrow_text(cleaned["specimen_type"])
    ):
        return LabCodes(cleaned, words, source, (), *_no_ids(), None)
    coverage = (
        ("unit", *unit_codes(cleaned)),
        ("status", *status_codes(cleaned, words)),
        ("specimen_type", *specimen_codes(cleaned, words)),
    )
    dates = date_only_rows(cleaned, source)
    return LabCodes(cleaned, words, source, coverage, *_id_codes(cleaned), dates)


def _id_codes(
    labs: pd.DataFrame,
) -> tuple[np.ndarray, pa.Array, np.ndarray, np.ndarray, IdForms, np.ndarray]:
    """Each row's patient id among the distinct ids (patient_overlap.distinct_ids), and
    those ids' forms (patient_id_forms.id_forms) with their numbers."""
    ids = distinct_ids(labs)
    column = pa.array(labs["patient_id"], type=pa.large_string(), from_pandas=True)
    patient = pc.index_in(column, value_set=ids).fill_null(-1).to_numpy(zero_copy_only=False)
    forms = id_forms(ids)
    form_of = pc.index_in(pc.utf8_trim_whitespace(ids), value_set=forms.ids)
    number_of = pc.index_in(forms.ids, value_set=forms.number_ids)
    scientific = scientific_ids(ids).fill_null(False).to_numpy(zero_copy_only=False)
    return (
        np.asarray(patient, dtype=np.int64),
        ids,
        np.asarray(form_of.fill_null(-1).to_numpy(zero_copy_only=False), dtype=np.int64),
        np.asarray(scientific, dtype=bool),
        forms,
        np.asarray(number_of.fill_null(-1).to_numpy(zero_copy_only=False), dtype=np.int64),
    )


def _no_ids() -> tuple[np.ndarray, pa.Array, np.ndarray, np.ndarray, IdForms, np.ndarray]:
    empty = pa.array([], type=pa.large_string())
    none = np.array([], dtype=np.int64)
    return (
        none,
        empty,
        none,
        np.array([], dtype=bool),
        IdForms(empty, empty, empty, empty, empty),
        none,
    )
