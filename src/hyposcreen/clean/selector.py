"""What the lab reader keeps (run on every read batch): rows of a known analyte inside the read
window. The analyte of each row comes from the rule tables (rules.lab_identity); rows of no
listed analyte are counted by reason, and unknown LOINCs / lab names by value for the coverage
report."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from hyposcreen.config import Window
from hyposcreen.ingest.tabular import RowFilter
from hyposcreen.ingest.timeparse import elapsed_before
from hyposcreen.rules import sql_engine as engine
from hyposcreen.rules.lab_identity import LabIdentity, identify_rows
from hyposcreen.rules.loader import RuleSet
from hyposcreen.rules.matching import IDENTIFYING_COLUMNS


def read_window_start(
    window: Window, rules: RuleSet, late_results: bool = False, timezone: str = "UTC"
) -> pd.Timestamp:
    """Labs are read from the window start less the context period (spec §7) and the glucose
    pairing span, so a context sodium at the very start can still find its glucose (§4).
    Nightly runs that pick up late results read that much before the late-result lookback.
    The spans are elapsed time (spec §11); the answer is site-local wall time."""
    context = pd.Timedelta(hours=rules.windows.context_hours_before_window)
    pairing = pd.Timedelta(minutes=float(rules.glucose["pairing_window_minutes"]))
    lookback = pd.Timedelta(hours=rules.windows.late_result_lookback_hours)
    span = context + pairing + (lookback if late_results else pd.Timedelta(0))
    return elapsed_before(window.start, span, timezone)


def not_relevant_counts(found: LabIdentity) -> tuple[Counter[str], Counter[tuple[str, str]]]:
    """Rows per not-relevant reason (in order of first appearance), and rows per unknown
    (column, value): unknown LOINCs, then unknown lab names, each most frequent first (the
    order pandas' value_counts gives), for the coverage report."""
    rows = np.bincount(found.combo, minlength=len(found.reason))
    dropped: Counter[str] = Counter()
    unknown: dict[str, dict[str, int]] = {"loinc": {}, "lab_name": {}}
    for index, reason in enumerate(found.reason):
        if reason is None or not rows[index]:
            continue
        dropped[reason] += int(rows[index])
        if reason in ("unknown_loinc", "unknown_lab_name"):
            column = "loinc" if reason == "unknown_loinc" else "lab_name"
            text = str(getattr(found, column)[index])
            unknown[column][text] = unknown[column].get(text, 0) + int(rows[index])
    unrecognised: Counter[tuple[str, str]] = Counter()
    for column, counts in unknown.items():
        ranked = pd.Series(counts, dtype="int64").sort_values(ascending=False, kind="stable")
        unrecognised.update({(column, str(k)): int(n) for k, n in ranked.items()})
    return dropped, unrecognised


# a reader's selector remembers at most this many (LOINC, lab name, specimen type) answers
KNOWN_COMBINATIONS = 100_000
# a batch with more distinct combinations than this is judged by the rules directly: looking
# each up in Python costs more than asking (256k rows of distinct lab names: 2.0 s a batch
# through remembered answers, 0.6 s asked; at 20k combinations all known, no faster than asking)
REMEMBERED_PER_BATCH = 20_000
Combination = tuple[str | None, ...]


def identify_known(
    frame: pd.DataFrame, rules: RuleSet, known: dict[Combination, tuple[object, object]]
) -> LabIdentity:
    """`identify_rows(frame, rules)`, asking the rules only about the combinations of texts
    (IDENTIFYING_COLUMNS) not in `known`, which then remembers their (analyte, reason): a
    combination is judged on its texts alone, so the batches of one read ask once each. A batch
    of more than REMEMBERED_PER_BATCH combinations is judged directly."""
    encoded = [engine.encode(frame[c]) for c in IDENTIFYING_COLUMNS]
    combo, distinct = engine.combine_codes(*((codes, len(texts)) for codes, texts in encoded))
    if len(distinct) > REMEMBERED_PER_BATCH:  # texts distinct per row: remembering costs more
        return identify_rows(frame, rules)
    keys = [
        tuple(texts[code] if code >= 0 else None for (_, texts), code in zip(encoded, row))
        for row in distinct.tolist()
    ]  # one per distinct combination, not per row
    new = list(dict.fromkeys(key for key in keys if key not in known))
    if new:
        asked = pd.DataFrame(
            {
                c: pd.Series([k[i] for k in new], dtype="str")
                for i, c in enumerate(IDENTIFYING_COLUMNS)
            }
        )
        found = identify_rows(asked, rules)
        answers = dict(zip(new, zip(found.analyte[found.combo], found.reason[found.combo])))
        given = [answers[key] if key in answers else known[key] for key in keys]
        if len(known) + len(answers) > KNOWN_COMBINATIONS:
            known.clear()
        known.update(answers)
    else:
        given = [known[key] for key in keys]
    return LabIdentity(
        combo=combo,
        analyte=np.array([a for a, _ in given], dtype=object),
        reason=np.array([r for _, r in given], dtype=object),
        loinc=[key[0] for key in keys],
        lab_name=[key[1] for key in keys],
    )


def select_known_analytes(
    frame: pd.DataFrame,
    rules: RuleSet,
    known: dict[Combination, tuple[object, object]] | None = None,
) -> tuple[pd.DataFrame, LabIdentity]:
    """The rows of a listed analyte with their `analyte` column, and how every row was judged
    (`known`: answers remembered from earlier batches, see `identify_known`)."""
    found = identify_rows(frame, rules) if known is None else identify_known(frame, rules, known)
    relevant = np.array([r is None for r in found.reason], dtype=bool)
    keep = relevant[found.combo]
    # every row kept (the usual batch): no copy of the rows, only a new frame object
    kept = frame.copy(deep=False) if keep.all() else frame.loc[keep]
    # each row's analyte taken in Arrow from the combinations' (no Python string per row)
    by_combo = pa.array(found.analyte, type=pa.large_string(), from_pandas=True)
    analyte = pc.take(by_combo, pa.array(found.combo[keep]))
    kept["analyte"] = pd.Series(pd.array(analyte, dtype="str"), index=kept.index)
    return kept, found


def lab_row_filter(
    rules: RuleSet, window: Window, late_results: bool = False, timezone: str = "UTC"
) -> RowFilter:
    """What the lab reader keeps: rows of a known analyte dated inside the read window."""
    start = read_window_start(window, rules, late_results, timezone)

    unrecognised: Counter[tuple[str, str]] = Counter()
    known: dict[Combination, tuple[object, object]] = {}  # the read's answers so far

    def select(frame: pd.DataFrame) -> tuple[pd.DataFrame, Counter[str]]:
        kept, found = select_known_analytes(frame, rules, known)
        dropped, unknown = not_relevant_counts(found)
        unrecognised.update(unknown)
        return kept, dropped

    return RowFilter(
        loinc_keep=frozenset(rules.loinc_to_analyte),
        select=select,
        window=("specimen_time", start, window.end),
        unrecognised=unrecognised,
        select_reads=IDENTIFYING_COLUMNS,
    )
