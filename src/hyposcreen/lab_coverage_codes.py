"""What each row of a read's cleaned labs says for the coverage report, as codes.

report.coverage.lab_counts counts a window's labs by unit the rules do not know, status word
without meaning for the site and specimen text without a specimen word. A row says the same
in every window, so each is found once per read as a code per row (-1: not counted) over the
distinct values, and a window's coverage rows are the counts of its rows' codes
(recipe_lab_counts)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from hyposcreen.rules.lab_identity import word_pattern
from hyposcreen.site_words import SiteWords, status_key


def coverage_rows(parts: list[tuple[str, np.ndarray, pd.Index]]) -> pd.DataFrame:
    """The coverage rows of the kinds' counts (kind, count of each value, the values), as
    report.coverage counts them: one row per value counted, in one frame (combine puts the
    rows of every part in one order)."""
    held = [np.flatnonzero(counts) for _, counts, _ in parts]
    values = [values[rows] for (_, _, values), rows in zip(parts, held, strict=True)]
    counted = pd.Series(
        np.concatenate([counts[rows] for (_, counts, _), rows in zip(parts, held, strict=True)])
        if parts
        else np.array([], dtype="int64"),
        index=values[0].append(values[1:]) if values else pd.Index([], dtype="str"),
        dtype="int64",
    )
    kinds = np.repeat([kind for kind, _, _ in parts], [len(rows) for rows in held])
    return pd.DataFrame(
        {
            "table": "labs",
            "kind": pd.array(kinds, dtype="str"),
            "value": counted.index.astype("str"),
            "count": counted,
        }
    ).reset_index(drop=True)


def unit_codes(labs: pd.DataFrame) -> tuple[np.ndarray, pd.Index]:
    """lab_counts' units: the analyte and unit of each row cleaning found a bad unit in."""
    bad_unit = (labs["reason"] == "bad_unit").to_numpy(dtype=bool)
    analyte, unit = labs["analyte"].loc[bad_unit], labs["unit"].loc[bad_unit]
    return _spread(analyte.astype("str") + ": " + unit.fillna("(none)"), bad_unit)


def status_codes(labs: pd.DataFrame, words: SiteWords) -> tuple[np.ndarray, pd.Index]:
    """lab_counts' status words: those with no meaning for the site, each judged once."""
    codes, values = pd.factorize(labs["status"])
    keys = pd.Series([status_key(str(s)) for s in values], dtype=object)
    unknown = (~keys.isin(words.known_statuses) & (keys != "")).to_numpy(dtype=bool)
    return _only(codes, unknown), pd.Index(values)


def specimen_codes(labs: pd.DataFrame, words: SiteWords) -> tuple[np.ndarray, pd.Index]:
    """lab_counts' specimen texts: of rows read as an analyte, those holding no specimen word."""
    if not words.specimen_words or "specimen_type" not in labs:
        return np.full(len(labs), -1, dtype=np.int64), pd.Index([], dtype="str")
    known = word_pattern(words.specimen_words)
    codes, values = pd.factorize(labs["specimen_type"])
    unknown = np.array(
        [bool(str(t).strip()) and not known.search(str(t).lower()) for t in values], dtype=bool
    )
    codes = np.where(labs["analyte"].notna().to_numpy(dtype=bool), codes, -1)
    return _only(codes, unknown), pd.Index(values)


def _only(codes: np.ndarray, counted: np.ndarray) -> np.ndarray:
    """`codes` where their value is `counted`, else -1."""
    held = codes >= 0
    return np.where(held & np.append(counted, False)[np.where(held, codes, -1)], codes, -1)


def _spread(values: pd.Series, rows: np.ndarray) -> tuple[np.ndarray, pd.Index]:
    """Codes over every row of the distinct `values` of the `rows` (a mask) (-1 elsewhere)."""
    codes = np.full(len(rows), -1, dtype=np.int64)
    found, distinct = pd.factorize(values)
    codes[np.flatnonzero(rows)] = found
    return codes, pd.Index(distinct)
