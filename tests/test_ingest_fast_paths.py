"""The reader's shortcuts give what the row-by-row work gives: the analyte selector that keeps
a whole batch without copying it, the analytes and row numbers made text in Arrow."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from hyposcreen.clean import selector
from hyposcreen.clean.selector import identify_known, not_relevant_counts, select_known_analytes
from hyposcreen.ingest.frames import row_texts
from hyposcreen.rules.lab_identity import identify_rows
from hyposcreen.rules.loader import load_rules


def test_row_numbers_as_text_are_what_astype_str_gives() -> None:
    numbers = pd.Series(np.array([2, 3, 10, 1_000_001], dtype=np.int64), index=[5, 6, 7, 9])
    texts = row_texts(numbers)
    assert texts.equals(numbers.astype("str"))
    assert texts.dtype == numbers.astype("str").dtype
    assert texts.tolist() == ["2", "3", "10", "1000001"]


def test_the_selector_keeps_a_whole_batch_as_it_keeps_part_of_one() -> None:
    """Every row relevant (no copy) or some dropped: the same rows, index and analytes."""
    rules = load_rules()
    frame = pd.DataFrame(
        {
            "loinc": pd.array(["2951-2", "2345-7", None], dtype="str"),
            "lab_name": pd.array([None, None, "Sodium, serum"], dtype="str"),
            "specimen_type": pd.array(["serum", "serum", "serum"], dtype="str"),
            "value_raw": pd.array(["128", "5.1", "131"], dtype="str"),
        },
        index=pd.RangeIndex(3, 6),
    )
    kept, _ = select_known_analytes(frame, rules)
    assert kept.index.equals(frame.index)
    assert kept["analyte"].tolist() == ["sodium", "glucose", "sodium"]
    assert kept["analyte"].dtype == "str"
    assert "analyte" not in frame.columns  # the caller's frame is not changed
    dropped = pd.concat([frame, frame.iloc[[0]].assign(loinc="9999-9")]).reset_index(drop=True)
    part, _ = select_known_analytes(dropped, rules)
    assert part.index.tolist() == [0, 1, 2]
    assert part["analyte"].tolist() == ["sodium", "glucose", "sodium"]
    assert pc.all(pc.is_valid(pa.array(part["analyte"]))).as_py()


HOSTILE_TEXTS = {
    "loinc": ["2951-2", " 2951-2 ", "2345-7", "9999-9", "", None, "２９５１-２", "2951-2\x00"],
    "lab_name": ["Sodium, serum", " sodium ", "Natrium", "GLUCOSE", "", None, "Unknown test"],
    "specimen_type": ["serum", "Urine", "urine (spot)", "CSF", "", None, "plasma"],
}


def _hostile_batch(seed: int, rows: int = 400) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            column: pd.Series([texts[i] for i in rng.integers(0, len(texts), rows)], dtype="str")
            for column, texts in HOSTILE_TEXTS.items()
        }
    )


def test_remembered_answers_judge_every_batch_as_the_rules_do() -> None:
    """Batches of one read asking the rules only about new (LOINC, lab name, specimen type)
    combinations get the analyte, reason and texts of every row that asking about all of
    them gives, and the same kept rows and not-relevant counts."""
    rules = load_rules()
    known: dict = {}
    for seed in range(4):
        batch = _hostile_batch(seed)
        fresh = identify_rows(batch, rules)
        remembered = identify_known(batch, rules, known)
        assert np.array_equal(fresh.combo, remembered.combo)
        assert list(fresh.analyte) == list(remembered.analyte)
        assert list(fresh.reason) == list(remembered.reason)
        assert fresh.loinc == remembered.loinc and fresh.lab_name == remembered.lab_name
        assert not_relevant_counts(fresh) == not_relevant_counts(remembered)
        kept, _ = select_known_analytes(batch, rules)
        kept_known, _ = select_known_analytes(batch, rules, known)
        pd.testing.assert_frame_equal(kept, kept_known)
    assert known  # the answers were remembered
    # hand-checked rows: a padded known LOINC is sodium; an unknown one is dropped as such
    row = _hostile_batch(0).iloc[:0]
    probe = pd.DataFrame(
        {
            "loinc": pd.Series([" 2951-2 ", "9999-9", None], dtype="str"),
            "lab_name": pd.Series([None, None, "Sodium, serum"], dtype="str"),
            "specimen_type": pd.Series(["serum", "serum", "serum"], dtype="str"),
        }
    )
    found = identify_known(pd.concat([row, probe], ignore_index=True), rules, known)
    assert list(found.analyte[found.combo]) == ["sodium", None, "sodium"]
    assert list(found.reason[found.combo]) == [None, "unknown_loinc", None]


def test_remembered_answers_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    """Past the bound the remembered answers are forgotten, never wrong."""
    monkeypatch.setattr(selector, "KNOWN_COMBINATIONS", 5)
    rules = load_rules()
    known: dict = {}
    for seed in range(3):
        batch = _hostile_batch(seed)
        fresh = identify_rows(batch, rules)
        remembered = identify_known(batch, rules, known)
        assert list(fresh.reason[fresh.combo]) == list(remembered.reason[remembered.combo])
        assert len(known) <= max(5, len(remembered.loinc))
