"""Validating a suite on narrow batches of its view gives the outcomes GX gives on the whole
view, in GX's order; a table held in part (a partitioned run's gathered columns) gives the
outcomes of the whole table; the Data Docs show no batch fingerprint. The copies a table's
validation makes are let go as soon as they are done with: a batch of the rows a condition
keeps before the next batch is made, a partial table's gathered columns before GX runs."""

from __future__ import annotations

import weakref
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from gx_tables import WINDOW_END, make_dirty_frames, make_frames
from hyposcreen.validate import batches, context
from hyposcreen.validate import gx as v
from hyposcreen.validate import run as validate_run
from hyposcreen.validate.batches import Batch, suite_batches
from hyposcreen.validate.tables import PartialTable, columns_read


@pytest.fixture
def narrow(monkeypatch: pytest.MonkeyPatch) -> None:
    """Views of any size validated in narrow batches (small ones are one batch otherwise)."""
    monkeypatch.setattr(batches, "NARROW_FROM_ROWS", 0)


@pytest.fixture
def dirty(narrow: None) -> tuple[dict[str, pd.DataFrame], v.ValidationReport]:
    """The tables with one row-level problem per row, validated in narrow batches."""
    frames = make_dirty_frames()
    return frames, v.validate_tables(frames, window_end=WINDOW_END)


def _whole_view(
    expectations: Sequence[dict[str, Any]], view: pd.DataFrame, columns: Sequence[str]
) -> list[Batch]:
    """The suite as one batch: the whole view, plus the columns only a column-name check
    names (their values are read by no expectation), as GX was given it before."""
    whole = pd.DataFrame(
        {
            c: view[c] if c in view.columns else pd.Series(None, view.index, "object")
            for c in columns
        }
    )
    whole.index = view.index
    return [Batch(whole, tuple(range(len(expectations))))]


def _digest(report: v.ValidationReport) -> list[tuple[Any, ...]]:
    return [
        (
            o.table,
            o.expectation,
            o.column,
            o.severity,
            o.success,
            o.unexpected_count,
            o.unexpected_percent,
            o.example_rows,
            o.row_labels,
            o.detail,
            o.reason,
        )
        for o in report.outcomes
    ]


def test_narrow_batches_give_the_outcomes_of_the_whole_view_in_gx_order(
    dirty: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every failure kind of the dirty tables (row conditions per analyte, NOT_IN, a column
    pair that GX reports out of the suite's order, rates, uniqueness): same counts, shares,
    failing rows and examples, in the same order, as GX on the whole view."""
    frames, in_batches = dirty
    monkeypatch.setattr(context, "suite_batches", _whole_view)
    whole = v.validate_tables(frames, window_end=WINDOW_END)
    assert _digest(in_batches) == _digest(whole)
    assert [o.expectation for o in in_batches.outcomes if o.table == "medications"][1:3] == [
        "expect_table_columns_to_match_set",
        "expect_column_pair_values_a_to_be_greater_than_b",  # GX's order, not the suite's
    ]
    assert any(not o.success for o in in_batches.outcomes if o.reason == "implausible")


def test_a_small_view_is_one_batch_with_the_columns_only_named_as_nulls() -> None:
    view = pd.DataFrame({"value_num": [1.0, 2.0]}, index=pd.Index([4, 5], name="_row"))
    positive = {"type": "expect_column_values_to_be_between", "kwargs": {"column": "value_num"}}
    names = {"type": "expect_table_columns_to_match_set", "kwargs": {"column_set": ["raw"]}}
    (batch,) = suite_batches([positive, names], view, ["raw", "value_num"])
    assert batch.positions == (0, 1)
    assert list(batch.frame.columns) == ["raw", "value_num"]
    assert batch.frame["raw"].isna().all() and batch.frame.index.name == "_row"


def test_a_check_conditioned_on_a_value_gets_only_the_rows_that_match(narrow: None) -> None:
    view = pd.DataFrame(
        {
            "analyte": pd.Categorical(["sodium", "potassium", "sodium", None]),
            "value_num": [140.0, 4.0, 300.0, 1.0],
            "unit": ["a", "b", "c", "d"],
        },
        index=pd.Index([10, 11, 12, 13], name="_row"),
    )
    between = {
        "type": "expect_column_values_to_be_between",
        "kwargs": {
            "column": "value_num",
            "row_condition": {
                "type": "comparison",
                "column": {"name": "analyte"},
                "operator": "==",
                "parameter": "sodium",
            },
        },
    }
    positive = {"type": "expect_column_values_to_be_between", "kwargs": {"column": "value_num"}}
    names = {"type": "expect_table_columns_to_match_set", "kwargs": {"column_set": ["unit"]}}
    batches = suite_batches([names, between, positive], view, ["analyte", "value_num", "raw"])
    shapes = {b.positions: (list(b.frame.columns), list(b.frame.index)) for b in batches}
    assert shapes == {
        (0,): (["analyte", "value_num", "raw"], []),  # names only, no rows
        (1,): (["analyte", "value_num"], [10, 12]),  # the sodium rows
        (2,): (["value_num"], [10, 11, 12, 13]),
    }


def test_a_batch_of_the_rows_a_condition_keeps_goes_when_the_next_batch_is_made(
    narrow: None,
) -> None:
    view = pd.DataFrame(
        {"analyte": pd.Categorical(["sodium", "potassium", "sodium"]), "value_num": [1.0, 2, 3]},
        index=pd.Index([10, 11, 12], name="_row"),
    )
    sodium = {"type": "comparison", "column": {"name": "analyte"}, "operator": "=="}
    between = {
        "type": "expect_column_values_to_be_between",
        "kwargs": {"column": "value_num", "row_condition": {**sodium, "parameter": "sodium"}},
    }
    positive = {"type": "expect_column_values_to_be_between", "kwargs": {"column": "value_num"}}
    made = iter(suite_batches([between, positive], view, ["analyte", "value_num"]))
    taken = next(made)
    assert taken.positions == (0,) and list(taken.frame.index) == [10, 12]
    copy = weakref.ref(taken.frame)
    del taken
    assert next(made).positions == (1,)
    assert copy() is None  # not held beside the batch after it


class _GatheredLabs(Mapping[str, Any]):
    """Labs as a partitioned run hands them to validation: a PartialTable made when looked up
    and not kept (runners.contract_ahead), its rows read from elsewhere (here: a copy)."""

    def __init__(self, labs: pd.DataFrame) -> None:
        self.labs = labs
        self.frames: list[weakref.ref[pd.DataFrame]] = []

    def __getitem__(self, name: str) -> PartialTable:
        if name != "labs":
            raise KeyError(name)
        read = columns_read("labs", list(self.labs.columns))
        gathered = self.labs[[c for c in self.labs.columns if c in read]]
        self.frames.append(weakref.ref(gathered))
        return PartialTable(gathered, self.labs.iloc[:0], self._rows)

    def _rows(self, labels: list[int], names: list[str]) -> pd.DataFrame:
        return self.labs.loc[labels, names]

    def __iter__(self) -> Any:
        return iter(["labs"])

    def __len__(self) -> int:
        return 1


def test_a_partial_tables_gathered_columns_are_let_go_before_gx_runs(
    narrow: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    labs = make_dirty_frames()["labs"]
    labs["reason"] = labs["value_num"].isna().map({True: "non_numeric", False: None})
    whole = v.validate_tables({"labs": labs.copy()}, window_end=WINDOW_END)
    gathered = _GatheredLabs(labs)
    held_while_validated: list[bool] = []
    run_jobs = validate_run.run_jobs

    def observed(jobs: list[Any], *args: Any) -> Any:
        held_while_validated.append(gathered.frames[-1]() is not None)
        return run_jobs(jobs, *args)

    monkeypatch.setattr(validate_run, "run_jobs", observed)
    report = v.validate_tables(gathered, window_end=WINDOW_END)
    assert held_while_validated == [False]  # only the view GX checks, not the gathered frame
    assert _digest(report) == _digest(whole)  # the failing rows still quoted, read when asked


def test_a_table_held_in_part_gives_the_outcomes_of_the_whole_table(dirty: Any) -> None:
    """The columns read row by row in memory, the others by name and dtype, the quoted rows
    read when asked for: the same outcomes, examples and details as the whole frames."""
    frames = {t: f.copy() for t, f in dirty[0].items()}
    labs = frames["labs"]  # as the pipeline gives it: with the clean stage's reasons
    labs["reason"] = labs["value_num"].isna().map({True: "non_numeric", False: None})
    whole = v.validate_tables(frames, window_end=WINDOW_END)
    asked: list[list[int]] = []

    def partial(frame: pd.DataFrame, table: str) -> PartialTable:
        read = columns_read(table, list(frame.columns))

        def rows(labels: list[int], names: list[str]) -> pd.DataFrame:
            asked.append(labels)
            return frame.loc[labels, names]

        return PartialTable(frame[[c for c in frame.columns if c in read]], frame.iloc[:0], rows)

    held = {t: partial(f, t) if t != "patients" else f for t, f in frames.items()}
    assert "value_raw" not in held["labs"].frame.columns  # named by the column-set check only
    report = v.validate_tables(held, window_end=WINDOW_END)
    assert _digest(report) == _digest(whole)
    assert asked and all(len(labels) <= 5 * 12 for labels in asked)


def test_data_docs_show_no_batch_fingerprint(tmp_path: Path) -> None:
    report = v.validate_tables(make_frames(), window_end=WINDOW_END, docs_dir=tmp_path / "docs")
    pages = sorted((tmp_path / "docs" / "validations").rglob("*.html"))
    assert report.docs_index is not None and len(pages) == 4
    for page in pages:
        html = page.read_text(encoding="utf-8")
        assert "ge_load_time" in html
        assert "pandas_data_fingerprint" not in html
