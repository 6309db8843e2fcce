"""The clinician review CSV of `hyposcreen reviewed --file` (patient_id, reviewed_at, reviewer),
read strictly: a missing column or an unreadable row is an InputError naming the file, the
column and the rows (by line number, never by value). UTF-8 (with or without a byte order
mark), else Windows-1252, as a spreadsheet saves it on Windows. `reviewed_at` is read as every
time of the run is (ingest.timeparse): with an offset, converted to the site's zone, so a file
holding summer and winter offsets reads; without one, site-local; a time no record holds (the
year 0 of `-0`) is no time."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from hyposcreen.errors import InputError
from hyposcreen.ingest.timeparse import parse_times


def read_reviews(path: Path, timezone: str = "UTC") -> pd.DataFrame:
    """A clinician review CSV with columns patient_id, reviewed_at, reviewer; `timezone`: the
    site's (its mapping's), the zone of the wall times the state keeps."""
    if not path.is_file():
        raise InputError(f"Review file {path} does not exist.", file=str(path))
    try:
        try:
            frame = pd.read_csv(path, dtype="str", keep_default_na=False, encoding="utf-8-sig")
        except UnicodeDecodeError:  # a sheet saved by Excel on Windows: Windows-1252
            frame = pd.read_csv(path, dtype="str", keep_default_na=False, encoding="cp1252")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputError(
            f"Review file {path} is not a readable CSV: {exc}.", file=str(path)
        ) from exc
    frame.columns = [c.strip().lower() for c in frame.columns]
    missing = [c for c in ("patient_id", "reviewed_at", "reviewer") if c not in frame.columns]
    if missing:
        raise InputError(
            f"Review file {path} lacks column(s) {', '.join(missing)}; expected patient_id, "
            "reviewed_at, reviewer.",
            file=str(path),
            column=missing[0],
        )
    frame = frame[["patient_id", "reviewed_at", "reviewer"]].apply(lambda c: c.str.strip())
    when = parse_times(frame["reviewed_at"], timezone)
    bad = frame.index[(frame["patient_id"] == "") | when.isna()]
    if len(bad):
        rows = ", ".join(str(i + 2) for i in bad[:5])
        raise InputError(
            f"Review file {path}: {len(bad)} row(s) without a patient_id or with a reviewed_at "
            f"that is not an ISO date/time (rows {rows}).",
            file=str(path),
            column="reviewed_at",
        )
    return frame.assign(reviewed_at=when.astype("datetime64[us]"))
