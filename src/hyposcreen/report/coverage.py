"""Source-code coverage of one run (OHDSI style): what was seen but not recognised.

Every lab name / item id / LOINC, unit, status word, drug name and code system the run met
but could not map, with its count and table, most frequent first. Written as coverage.csv
(0600: free text may hold anything) and shown at the bottom of review_list.html, so a data
engineer onboards a site in one pass. Computed with value_counts on distinct values, never a
loop over rows.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import lru_cache

import numpy as np
import pandas as pd

from hyposcreen.arrow_columns import holds_arrow_text
from hyposcreen.report.safe_cells import FORMULA_START_PATTERN
from hyposcreen.rules.lab_identity import word_pattern
from hyposcreen.site_words import SiteWords, fold_series, status_key

COLUMNS = ["table", "kind", "value", "count"]
SHOWN_ON_PAGE = 50  # rows of the page's coverage section (coverage.csv holds them all)


def empty() -> pd.DataFrame:
    """A coverage table with no rows (its columns and types made once: it holds no values)."""
    return _empty_table().copy()


@lru_cache(maxsize=1)
def _empty_table() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="int64" if c == "count" else "str") for c in COLUMNS})


def _counts(table: str, kind: str, values: pd.Series) -> pd.DataFrame:
    counted = values.dropna().astype("str").value_counts()
    return pd.DataFrame(
        {"table": table, "kind": kind, "value": counted.index.astype("str"), "count": counted}
    ).reset_index(drop=True)


def reader_counts(table: str, seen: Mapping[tuple[str, str], int]) -> pd.DataFrame:
    """Values a reader dropped as unrecognised: {(kind, value): rows}."""
    if not seen:
        return empty()
    rows = [(table, kind, value, int(n)) for (kind, value), n in seen.items()]
    return pd.DataFrame(rows, columns=COLUMNS)


@lru_cache(maxsize=8)
def _word_pattern(words: tuple[str, ...]) -> re.Pattern[str]:
    body = "|".join(re.escape(w).replace(r"\ ", r"[\s\-]+") for w in sorted(words, key=len)[::-1])
    return re.compile(r"(?<![a-z])(?:" + body + r")(?![a-z])")


def unknown_drug_names(medications: pd.DataFrame, words: SiteWords) -> pd.Series:
    """Drug names of rows matching no listed drug that are no known non-listed drug either."""
    names = medications["drug_name"]
    unlisted = names.loc[(medications["reason"] == "unlisted_drug") & names.notna()]
    if not words.non_listed_drugs:
        return unlisted
    distinct = pd.Series(unlisted.unique(), dtype="str")  # each spelling judged once
    known = fold_series(distinct).str.contains(_word_pattern(words.non_listed_drugs), regex=True)
    return unlisted.loc[~unlisted.isin(distinct[known.fillna(False).astype(bool)])]


def code_like_names(unknown: pd.Series) -> int:
    """How many of the `unknown_drug_names` rows name their drug by digits alone (a concept
    id or an RxNorm code the vocabulary did not resolve, as ETL-Synthea's drug_source_value
    holds one), each spelling judged once."""
    counts = unknown.value_counts()
    digits = pd.Series(counts.index.astype(str), index=counts.index).str.fullmatch(r"[0-9]+")
    return int(counts[digits.to_numpy(dtype=bool)].sum())


def _unknown_statuses(frame: pd.DataFrame, words: SiteWords) -> pd.Series:
    status = frame["status"].dropna()
    distinct = pd.Series(status.unique())
    keys = distinct.map(lambda s: status_key(str(s)))
    unknown = set(distinct[~keys.isin(words.known_statuses) & (keys != "")])
    return status[status.isin(unknown)]


def _status_counts(table: str, frame: pd.DataFrame, words: SiteWords) -> pd.DataFrame:
    """`_counts` of the `_unknown_statuses`, from each distinct status's count (its key found
    once per distinct status; the rows are counted, not taken)."""
    counted = frame["status"].value_counts()  # no missing status
    keys = pd.Series([status_key(str(s)) for s in counted.index], dtype=object)
    unknown = (~keys.isin(words.known_statuses) & (keys != "")).to_numpy(dtype=bool)
    shown = counted.iloc[np.flatnonzero(unknown)]
    return pd.DataFrame(
        {"table": table, "kind": "status", "value": shown.index.astype("str"), "count": shown}
    ).reset_index(drop=True)


def cleaned_counts(
    labs: pd.DataFrame,
    medications: pd.DataFrame,
    diagnoses: pd.DataFrame,
    words: SiteWords,
    unknown_drugs: pd.Series,
) -> pd.DataFrame:
    """Units, status words, drug names and code systems of the cleaned tables not recognised;
    `unknown_drugs`: the medications' `unknown_drug_names` (the clean stage counts them once)."""
    return combine(
        [*lab_counts(labs, words), *event_counts(medications, diagnoses, words, unknown_drugs)]
    )


def lab_counts(labs: pd.DataFrame, words: SiteWords) -> list[pd.DataFrame]:
    """cleaned_counts' parts from the labs: units the rules do not know, status words."""
    bad_unit = (labs["reason"] == "bad_unit").to_numpy(dtype=bool)  # their two columns only
    analyte, unit = labs["analyte"].loc[bad_unit], labs["unit"].loc[bad_unit]
    unit_text = analyte.astype("str") + ": " + unit.fillna("(none)")
    return [
        _counts("labs", "unit", unit_text),
        _status_counts("labs", labs, words),
        _specimen_counts(labs, words),
    ]


def _specimen_counts(labs: pd.DataFrame, words: SiteWords) -> pd.DataFrame:
    """Specimen texts of rows read as an analyte that hold no specimen word of the rules: they
    were read as blood (a site's own word for urine would hide here). Each text judged once."""
    if not words.specimen_words or "specimen_type" not in labs:
        return empty()
    known = word_pattern(words.specimen_words)
    every = labs["specimen_type"].dropna().unique()  # a few texts: judged before rows are cut
    unknown = [t for t in every if str(t).strip() and not known.search(str(t).lower())]
    if not unknown:
        return empty()
    texts = labs["specimen_type"].loc[labs["analyte"].notna().to_numpy(dtype=bool)]
    return _counts("labs", "specimen_type", texts.loc[texts.isin(unknown)])


def event_counts(
    medications: pd.DataFrame, diagnoses: pd.DataFrame, words: SiteWords, unknown_drugs: pd.Series
) -> list[pd.DataFrame]:
    """cleaned_counts' parts from the medications and diagnoses: drug names, code systems and
    status words. None of them depends on the window (the window's check comes last), so the
    windows of one read count them once."""
    return [
        _counts("medications", "drug_name", unknown_drugs),
        _counts(
            "diagnoses",
            "code_system",
            diagnoses.loc[diagnoses["reason"] == "unknown_code_system", "code_system"],
        ),
        _counts("medications", "status", _unknown_statuses(medications, words)),
        _counts("diagnoses", "status", _unknown_statuses(diagnoses, words)),
    ]


def combine(parts: Iterable[pd.DataFrame]) -> pd.DataFrame:
    """One coverage table, most frequent first (ties: table, kind, value)."""
    rows = [p for p in parts if len(p)]
    if not rows:
        return empty()
    merged = pd.concat(rows, ignore_index=True)
    distinct = _sorted_if_distinct(merged)
    if distinct is not None:
        return distinct
    merged = merged.groupby(["table", "kind", "value"], as_index=False)["count"].sum()
    merged["count"] = merged["count"].astype("int64")
    return merged.sort_values(
        ["count", "table", "kind", "value"], ascending=[False, True, True, True]
    ).reset_index(drop=True)


def _sorted_if_distinct(merged: pd.DataFrame) -> pd.DataFrame | None:
    """`combine`'s table when no (table, kind, value) repeats (nothing to sum: a run's parts
    count different things), put in its order by one lexsort of the count and each text's rank
    among its sorted distinct values (pandas compares texts by code point, as Python does);
    None (pandas groups and sorts) when one repeats, a key is missing or not text, or a count
    is not an integer."""
    keys = [merged[c] for c in ("table", "kind", "value")]
    if not all(holds_arrow_text(k) and not k.hasnans for k in keys):
        return None
    count = merged["count"].to_numpy()
    if count.dtype.kind not in "iu":
        return None
    ranks = [pd.factorize(k.to_numpy(dtype=object), sort=True) for k in keys]
    table, kind, value = (np.asarray(codes, dtype=np.int64) for codes, _ in ranks)
    key = (table * len(ranks[1][1]) + kind) * len(ranks[2][1]) + value
    if len(np.unique(key)) != len(key):
        return None
    order = np.lexsort((value, kind, table, -count.astype(np.int64)))
    columns = merged if list(merged.columns) == COLUMNS else merged[COLUMNS]
    shown = columns.take(order).reset_index(drop=True)
    if shown["count"].dtype == np.int64:  # the parts' counts already are (no copy again)
        return shown
    return shown.assign(count=shown["count"].astype("int64"))


def for_csv(coverage: pd.DataFrame) -> pd.DataFrame:
    """coverage.csv cells: a value a spreadsheet would run as a formula gets a leading '."""
    risky = coverage["value"].str.contains(FORMULA_START_PATTERN).fillna(False).astype(bool)
    if not risky.any():  # most nights: the table as it is
        return coverage
    return coverage.assign(value=coverage["value"].where(~risky, "'" + coverage["value"]))


def page_rows(coverage: pd.DataFrame) -> tuple[dict[str, object], ...]:
    """The page's coverage section: the most frequent entries."""
    head = coverage.head(SHOWN_ON_PAGE)
    columns = (head[c].tolist() for c in COLUMNS)  # each column's values once, as Python's
    return tuple(
        {"table": t, "kind": k, "value": v, "count": int(n)}
        for t, k, v, n in zip(*columns, strict=True)
    )
