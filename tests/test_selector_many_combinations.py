"""A batch of lab rows whose (LOINC, lab name, specimen type) texts are nearly all distinct
(free text per row: a lab name carrying an accession, a specimen note) is judged by the rules
directly, as `identify_rows` judges it, without flooding the read's remembered answers; the
batches around it are still judged from those answers."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import pytest

from hyposcreen.clean import selector
from hyposcreen.clean.selector import identify_known
from hyposcreen.rules.lab_identity import LabIdentity, identify_rows
from hyposcreen.rules.loader import load_rules


def _batch(names: Sequence[str | None], specimens: Sequence[str | None]) -> pd.DataFrame:
    rows = len(names)
    return pd.DataFrame(
        {
            "loinc": pd.Series(
                [None, " 2951-2 ", "9999-9", "２９５１-２"] * (rows // 4), dtype="str"
            ),
            "lab_name": pd.Series(names, dtype="str"),
            "specimen_type": pd.Series(specimens, dtype="str"),
        }
    )


def _same(left: LabIdentity, right: LabIdentity) -> None:
    assert list(left.analyte[left.combo]) == list(right.analyte[right.combo])
    assert list(left.reason[left.combo]) == list(right.reason[right.combo])
    assert [left.loinc[c] for c in left.combo] == [right.loinc[c] for c in right.combo]
    assert [left.lab_name[c] for c in left.combo] == [right.lab_name[c] for c in right.combo]


def test_a_batch_of_distinct_texts_is_judged_directly_and_not_remembered(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Past REMEMBERED_PER_BATCH combinations the rows get identify_rows' answers and the
    remembered answers stay as they were; a small batch after it is remembered again."""
    monkeypatch.setattr(selector, "REMEMBERED_PER_BATCH", 50)
    rules = load_rules()
    known: dict = {}
    small = _batch(["Sodium", None, "sodium ", "Glucose"] * 5, ["Serum", "Urine", None, ""] * 5)
    _same(identify_known(small, rules, known), identify_rows(small, rules))
    remembered = dict(known)
    assert remembered  # the small batch's answers
    names = [f"Sodium acc {n}" if n % 3 else None for n in range(400)]
    specimens = ["urine " if n % 2 else f"serum note {n}" for n in range(400)]
    wide = _batch(names, specimens)
    found = identify_known(wide, rules, known)
    _same(found, identify_rows(wide, rules))
    assert known == remembered  # not flooded by the wide batch
    # hand-checked rows: a padded sodium LOINC in urine is urine sodium, in serum sodium; an
    # unknown LOINC is dropped as such whatever the name
    analyte, reason = found.analyte[found.combo], found.reason[found.combo]
    assert (analyte[1], reason[1]) == ("urine_sodium", None)
    assert (analyte[5], reason[5]) == ("urine_sodium", None)
    assert (analyte[2], reason[2]) == (None, "unknown_loinc")
    again = identify_known(small, rules, known)
    _same(again, identify_rows(small, rules))
    assert np.array_equal(again.combo, identify_rows(small, rules).combo)
