"""Medication rows that name no drug at all: drug_name, rxnorm and atc (spec §1: a row names
its drug by at least one of them) all empty or blank. Cleaning sets such a row aside as an
unlisted drug like any other; counted here, because most rows so mean the drug column was not
read (renamed, `medication` for `drug_name`, the table still read by its code columns; or left
empty), which unidentified_events warns of. Counts only."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow.compute as pc

from hyposcreen.arrow_columns import arrow_text, holds_arrow_text

# the delivery counts' key of the medication rows naming no drug (`unnamed_drugs`)
UNNAMED_DRUGS = "unnamed_drugs"
# the columns a canonical medication row names its drug by
DRUG_COLUMNS = ("drug_name", "rxnorm", "atc")


def unnamed_drugs(frame: pd.DataFrame, judged: np.ndarray) -> tuple[int, int]:
    """(rows naming no drug, rows judged) of the `judged` medication rows (those that read as
    a row): a row naming no drug has drug_name, rxnorm and atc all empty or blank. Such a row
    is set aside as an unlisted drug like any other; most rows so mean the drug column was
    not read, judged by unidentified_events."""
    named = np.zeros(len(frame), dtype=bool)
    for column in (c for c in DRUG_COLUMNS if c in frame.columns):
        values = frame[column]
        if holds_arrow_text(values):  # in Arrow: no Python string per row
            text = arrow_text(values)
            blank = pc.or_(pc.equal(text, ""), pc.utf8_is_space(text))  # null where text is
            named |= np.asarray(pc.invert(pc.fill_null(blank, True)), dtype=bool)
        else:
            text = values.astype("str").str.strip()
            named |= (values.notna() & (text != "")).to_numpy(dtype=bool)
    return int((judged & ~named).sum()), int(judged.sum())
