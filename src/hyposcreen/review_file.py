"""The clinician review CSV of `hyposcreen reviewed --file` (patient_id, reviewed_at, reviewer),
read strictly: a missing column or an unreadable row is an InputError naming the file, the
column and the rows (by line number, never by value). Comma-separated, or with `;` or tabs
as a spreadsheet saves it where the decimal is a comma (the header decides). UTF-8 (with or
without a byte order mark), else Windows-1252, as a spreadsheet saves it on Windows.
`reviewed_at` is read as every time of the run is (ingest.timeparse): with an offset,
converted to the site's zone, so a file holding summer and winter offsets reads; without
one, site-local; a time no record holds (the year 0 of `-0`) is no time.

A clinician who saved the file from a spreadsheet may leave an id in a spreadsheet's form:
`="P001"` (text-forcing), `=HYPERLINK(...)`, `'P001`. Such an id names no patient a night
listed, and recorded as written it would mark no case reviewed without a word: the file is
refused, naming the rows (read strictly, as a missing column is). An id so written that a
night of the site did list as written (a source whose ids start with `'`) is that patient's,
and is read as any other; so is `'-0012` where a night listed `-0012` (review_list.csv's own
mark of an id a spreadsheet would run as a formula, copied from the list with the id), read
as `-0012`. The listed ids are asked for (`listed`) only when a row looks so. A review whose
patient no night of the site has listed is recorded (a listing may be older than the state)
but told, with its rows (`unlisted_reviews`): `hyposcreen reviewed` then exits 4."""

from __future__ import annotations

from collections.abc import Callable, Collection
from pathlib import Path

import pandas as pd

from hyposcreen.config import header_delimiter
from hyposcreen.errors import InputError
from hyposcreen.ingest.excel_forms import FORMULA_STARTS
from hyposcreen.ingest.timeparse import parse_times

REVIEW_COLUMNS = ("patient_id", "reviewed_at", "reviewer")

# a spreadsheet's text-forcing form, a function's call, its mark of a cell kept as text
_SPREADSHEET_FORM = r"""=\s*"|=\s*[A-Za-z][A-Za-z0-9._]*\s*\(|'"""


def read_reviews(
    path: Path,
    timezone: str = "UTC",
    listed: Callable[[], Collection[str]] | None = None,
) -> pd.DataFrame:
    """A clinician review CSV with columns patient_id, reviewed_at, reviewer; `timezone`: the
    site's (its mapping's), the zone of the wall times the state keeps; `listed`: gives the ids
    the site's nights listed (StateStore.listed_patients), asked only when an id is written in
    a spreadsheet's form (none: every such id is refused)."""
    if not path.is_file():
        raise InputError(f"Review file {path} does not exist.", file=str(path))
    try:
        try:
            frame = _read_csv(path, "utf-8-sig")
        except UnicodeDecodeError:  # a sheet saved by Excel on Windows: Windows-1252
            frame = _read_csv(path, "cp1252")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputError(
            f"Review file {path} is not a readable CSV: {exc}.", file=str(path)
        ) from exc
    missing = [c for c in REVIEW_COLUMNS if c not in frame.columns]
    if missing:
        raise InputError(
            f"Review file {path} lacks column(s) {', '.join(missing)}; expected a header row "
            "patient_id, reviewed_at, reviewer (in any order, separated by commas, semicolons "
            "or tabs) above the reviews.",
            file=str(path),
            column=missing[0],
        )
    frame = frame[list(REVIEW_COLUMNS)].apply(lambda c: c.str.strip())
    when = parse_times(frame["reviewed_at"], timezone)
    bad = frame.index[(frame["patient_id"] == "") | when.isna()]
    if len(bad):
        raise InputError(
            f"Review file {path}: {len(bad)} row(s) without a patient_id or with a reviewed_at "
            "that is not an ISO date/time such as 2026-11-21T09:30 "
            f"(rows {', '.join(str(i + 2) for i in bad[:5])}).",
            file=str(path),
            column="reviewed_at",
        )
    formed = frame.index[frame["patient_id"].str.match(_SPREADSHEET_FORM)]
    if len(formed) and listed is not None:
        formed = _listed_forms(frame, formed, set(listed()))
    if len(formed):
        raise InputError(
            f"Review file {path}: {len(formed)} row(s) hold a patient_id in a spreadsheet's "
            f'form, ="...", =HYPERLINK(...) or a leading \' (rows {_rows(formed)}): it names '
            "no patient as written. Save the file as plain CSV (the ids themselves) and rerun; "
            "nothing was recorded.",
            file=str(path),
            column="patient_id",
        )
    return frame.assign(reviewed_at=when.astype("datetime64[us]"))


def _read_csv(path: Path, encoding: str) -> pd.DataFrame:
    """The file read with the delimiter its header line is written with (config.header_delimiter:
    a spreadsheet where the decimal is a comma saves its CSV with `;`); the header's names
    without spaces around them, in lower case."""
    with path.open(encoding=encoding, newline="") as handle:
        header = handle.readline()
    delimiter = header_delimiter(header, REVIEW_COLUMNS)
    frame = pd.read_csv(path, dtype="str", keep_default_na=False, encoding=encoding, sep=delimiter)
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    return frame


def _listed_forms(frame: pd.DataFrame, formed: pd.Index, ids: set[str]) -> pd.Index:
    """The rows of `formed` whose id names no listed patient. An id listed as written is
    read so; `'-0012` where `-0012` was listed (review_list.csv's own mark of an id a
    spreadsheet would run as a formula: report.safe_cells) is read as that id, in place."""
    written = frame.loc[formed, "patient_id"]
    unmarked = written.str[1:]
    marked = (
        written.str.startswith("'")
        & unmarked.map(lambda text: text.startswith(FORMULA_STARTS)).astype(bool)
        & unmarked.isin(ids)
        & ~written.isin(ids)
    )
    frame.loc[marked.index[marked], "patient_id"] = unmarked[marked]
    return formed[~(written.isin(ids) | marked).to_numpy()]


def unlisted_reviews(path: Path, reviews: pd.DataFrame, listed: set[str]) -> str | None:
    """The message telling the reviews (of `read_reviews`) whose patient is not among the
    `listed` ones (the state's: StateStore.listed_patients), by row number; None when all are."""
    unknown = reviews.index[~reviews["patient_id"].isin(listed)]
    if not len(unknown):
        return None
    return (
        f"{len(unknown)} of the {len(reviews)} review(s) of {path} name a patient no night of "
        f"the site has listed (rows {_rows(unknown)}): they were recorded but mark no listed "
        "case reviewed. Check those ids against review_list.csv (a spreadsheet may have "
        "changed them: leading zeros dropped, 1.2E+11) and record them again."
    )


def _rows(index: pd.Index) -> str:
    """The file's line numbers of the first rows (the header is line 1)."""
    shown = ", ".join(str(i + 2) for i in index[:5])
    return shown + (", ..." if len(index) > 5 else "")
