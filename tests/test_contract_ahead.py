"""A partitioned run's contracts gather each whole table on a thread while the table before it
is validated (runners/contract_ahead.py); the tables, the report and its warning rows are the
ones gathering each table when asked gives. Also the reads that gather takes: the rows a
check quotes read by position (handoff.read_frame `rows`), found in partitions whose labels do
or do not run upwards, and categories known distinct (validate.derived.distinct_categories).
Real cleaned partitions of the sample data, written as the clean step writes them."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hyposcreen.config import RunSettings, parse_window
from hyposcreen.context import RunContext, prepare
from hyposcreen.ingest.canonical import REQUIRED_TABLES, IngestedTable
from hyposcreen.recipe_contracts import run_contracts
from hyposcreen.runners import contract_ahead, handoff
from hyposcreen.runners.contract_ahead import GatheredAhead, Watch, gathers_ahead
from hyposcreen.runners.contract_gather import WholeContractTables, _positions, cleaned_path
from hyposcreen.runners.handoff import read_frame, write_frame
from hyposcreen.runners.partition_work import ContractWarnings, clean_and_screen_partition
from hyposcreen.runners.spill import spill_table
from hyposcreen.validate import warm_up
from hyposcreen.validate.derived import distinct_categories

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data" / "canonical"
PARTS = 3


def _context(out: Path) -> RunContext:
    window = parse_window("2026-11-20T00:00:00", "2026-11-21T00:00:00")
    return prepare(RunSettings(input_dir=SAMPLE, out_dir=out, window=window))


def _cleaned(tmp_path: Path) -> tuple[RunContext, Path, dict[str, IngestedTable]]:
    ctx = _context(tmp_path / "out")
    folder = tmp_path / "spill"
    folder.mkdir()
    tables = {name: spill_table(ctx, name, folder, PARTS) for name in REQUIRED_TABLES}
    for part in range(PARTS):
        clean_and_screen_partition(ctx, folder, part)
    return ctx, folder, tables


def _same_table(ours: object, theirs: object) -> None:
    frame, expected = getattr(ours, "frame", ours), getattr(theirs, "frame", theirs)
    assert isinstance(frame, pd.DataFrame) and isinstance(expected, pd.DataFrame)
    pd.testing.assert_frame_equal(frame, expected)
    columns = getattr(ours, "columns", None)
    if isinstance(columns, pd.DataFrame):
        pd.testing.assert_frame_equal(columns, getattr(theirs, "columns"))


def test_the_next_table_is_gathered_on_a_thread_and_is_the_table_gathered_when_asked(
    tmp_path: Path,
) -> None:
    _, folder, tables = _cleaned(tmp_path)
    whole = WholeContractTables(folder, PARTS, tables)
    threads: set[str] = set()
    looked_up = whole.__getitem__

    def noted(name: str) -> object:
        threads.add(threading.current_thread().name)
        return looked_up(name)

    whole.__getitem__ = noted  # type: ignore[method-assign]
    ahead = GatheredAhead(whole)
    try:
        labs = ahead["labs"]
        assert set(ahead.ahead) == {"medications"}  # on its way while the labs are in use
        _same_table(labs, looked_up("labs"))
        for name in ("medications", "diagnoses"):
            _same_table(ahead[name], looked_up(name))
        assert not ahead.ahead  # nothing after the last gathered table
    finally:
        ahead.close()
    assert any(name.startswith("contract-gather") for name in threads)
    assert not any(t.name.startswith("contract-gather") for t in threading.enumerate())


def test_tables_asked_for_out_of_order_are_gathered_when_asked(tmp_path: Path) -> None:
    _, folder, tables = _cleaned(tmp_path)
    whole = WholeContractTables(folder, PARTS, tables)
    ahead = GatheredAhead(whole)
    try:
        for name in ("diagnoses", "labs", "diagnoses", "medications"):
            _same_table(ahead[name], whole[name])
        assert list(ahead) == list(whole) and len(ahead) == len(whole)
        assert "labs" in ahead and "review_list" not in ahead
    finally:
        ahead.close()


def test_the_report_is_the_report_of_the_tables_gathered_when_asked(tmp_path: Path) -> None:
    ctx, folder, tables = _cleaned(tmp_path)
    plain = run_contracts(ctx, WholeContractTables(folder, PARTS, tables))
    ahead = GatheredAhead(WholeContractTables(folder, PARTS, tables))
    try:
        report = run_contracts(ctx, ahead)
    finally:
        ahead.close()
    volatile = ("seconds", "docs_index")
    summary, expected = report.summary(), plain.summary()
    assert {k: v for k, v in summary.items() if k not in volatile} == {
        k: v for k, v in expected.items() if k not in volatile
    }
    assert ContractWarnings.of(report) == ContractWarnings.of(plain)


@pytest.mark.parametrize("upwards", [True, False])
@pytest.mark.parametrize("batch_rows", [2, 128 * 1024])
def test_rows_read_by_position_are_those_rows_of_the_whole_read(
    tmp_path: Path, upwards: bool, batch_rows: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only the record batches holding the rows are read (a file of several batches)."""
    monkeypatch.setattr(handoff, "_BATCH_ROWS", batch_rows)
    labels = np.array([3, 8, 11, 20, 21, 40], dtype=np.int64)
    frame = pd.DataFrame(
        {
            "text": pd.Series(["a", None, "b", "a", "", "c"], dtype=object),
            "kind": pd.Categorical(["x", "y", None, "x", "y", "x"]),
            "nothing": pd.Categorical([None] * 6, categories=pd.Index([], dtype="str")),
            "value": [1.0, np.nan, 3.0, 4.0, 5.0, 6.0],
        },
        index=pd.Index(labels if upwards else labels[::-1], dtype="int64"),
    )
    path = cleaned_path(tmp_path, 0, "labs")
    write_frame(path, frame)
    for rows in ([1, 4, 5], [5, 0, 4, 4], [2, 3], []):
        columns = ["value", "text", "kind", "nothing"]
        expected = read_frame(path, columns).iloc[rows].reset_index(drop=True)
        taken = read_frame(path, columns, rows=np.array(rows, dtype=np.int64))
        pd.testing.assert_frame_equal(taken, expected)
    with pytest.raises(IndexError):
        read_frame(path, ["value"], rows=np.array([6]))

    # the rows a check quotes are found by label in such a partition, in its order
    wanted = np.array([40, 8, 99, 21], dtype=np.int64)
    held = frame.index.to_numpy()
    found = _positions(held, wanted)
    assert list(found) == sorted(found)
    assert sorted(held[found]) == [8, 21, 40]


def test_categories_known_distinct_make_the_dtype_pandas_makes() -> None:
    categories = pd.Index(["b", "", "a", "Ä", "p10"], dtype="str")
    made = distinct_categories(categories)
    assert made == pd.CategoricalDtype(categories)
    assert list(made.categories) == list(categories) and made.ordered is False
    codes = np.array([0, -1, 4, 2, 2], dtype=np.int8)
    pd.testing.assert_extension_array_equal(
        pd.Categorical.from_codes(codes, dtype=made),
        pd.Categorical.from_codes(codes, categories=categories),
    )


def test_gathering_ahead_follows_the_warm_up_setting_and_the_cpus_others_left(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ticks = os.sysconf("SC_CLK_TCK") or 100
    monkeypatch.setattr(warm_up, "usable_cpus", lambda: 2)
    monkeypatch.setattr(contract_ahead.time, "process_time", lambda: 1.0)  # 1 CPU-s of ours
    monkeypatch.setattr(contract_ahead.time, "monotonic", lambda: 101.0)

    def watched(busy_cpu_s: float, since: float = 100.0) -> Watch:
        """A second of 2 CPUs watched, `busy_cpu_s` of it busy (ours included)."""
        idle = int((2.0 - busy_cpu_s) * ticks)
        monkeypatch.setattr(warm_up, "cpu_times", lambda: (idle, 2 * ticks, 2))
        return Watch((0, 0, 2), own=0.0, at=since)

    monkeypatch.setenv(warm_up.SETTING, "1")
    assert gathers_ahead(None)
    monkeypatch.setenv(warm_up.SETTING, "0")
    assert not gathers_ahead(watched(1.0))
    monkeypatch.delenv(warm_up.SETTING)  # auto
    assert gathers_ahead(watched(1.0))  # only ours: the other CPU free
    assert gathers_ahead(watched(1.4))  # others took 0.4 CPU: 1.6 left
    assert not gathers_ahead(watched(2.0))  # others took a whole CPU
    assert not gathers_ahead(watched(1.0, since=100.8))  # watched too short to tell
    assert not gathers_ahead(None)
    monkeypatch.setattr(warm_up, "cpu_times", lambda: None)  # no /proc/stat
    assert not gathers_ahead(Watch(None, own=0.0, at=100.0))
    monkeypatch.setattr(warm_up, "usable_cpus", lambda: 1)  # a one-CPU container
    assert not gathers_ahead(watched(1.0))


def test_without_gathering_ahead_each_table_is_gathered_when_asked(tmp_path: Path) -> None:
    _, folder, tables = _cleaned(tmp_path)
    whole = WholeContractTables(folder, PARTS, tables)
    here = GatheredAhead(whole, ahead=False)
    try:
        _same_table(here["labs"], whole["labs"])
        assert here.pool is None and not here.ahead
    finally:
        here.close()
