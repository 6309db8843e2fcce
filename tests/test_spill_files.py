"""The spill folder of a partitioned run holds no executable format (no pickle) and nothing
readable by others: Arrow IPC files for frames, JSON for counts, every file 0600 in a 0700 folder.
The test runs the partitioned runner's own steps on the sample and looks into the folder
between them (the runner removes it at the end)."""

from __future__ import annotations

import dataclasses
import json
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hyposcreen import recipe
from hyposcreen.config import RunSettings, parse_window
from hyposcreen.context import ReadTables, RunContext, prepare
from hyposcreen.errors import ConfigError
from hyposcreen.ingest.canonical import REQUIRED_TABLES, IngestedTable
from hyposcreen.recipe_contracts import run_contracts, validation_frames
from hyposcreen.runners.contract_gather import as_categories, cleaned_path
from hyposcreen.runners.handoff import (
    COMPRESSION_VARIABLE,
    frame_columns,
    read_frame,
    read_row_labels,
    write_frame,
)
from hyposcreen.runners.partition_work import (
    ContractWarnings,
    WholeContractTables,
    clean_and_screen_partition,
    screen_partition,
    warnings_path,
)
from hyposcreen.runners.spill import SPILL_PREFIX, load_partition, spill_table
from hyposcreen.validate.tables import presence_read
from hyposcreen.validate.views import as_ns, validation_columns

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data" / "canonical"
PARTS = 3


@pytest.fixture
def open_umask() -> Iterator[None]:
    """Files must be private whatever the caller's umask: run under 000."""
    previous = os.umask(0)
    try:
        yield
    finally:
        os.umask(previous)


def _context(out: Path) -> RunContext:
    window = parse_window("2026-11-20T00:00:00", "2026-11-21T00:00:00")
    return prepare(RunSettings(input_dir=SAMPLE, out_dir=out, window=window))


def _assert_private_and_not_pickled(folder: Path) -> set[str]:
    """Every file is 0600 and an Arrow IPC file (ARROW1 magic at both ends) or JSON; none
    starts with the pickle
    protocol's b"\\x80". Returns the kinds of file seen (name up to the first '-' or '.')."""
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    kinds = set()
    for path in folder.iterdir():
        assert path.is_file(), path
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
        data = path.read_bytes()
        assert not data.startswith(b"\x80"), path
        if path.suffix == ".arrow":
            assert data[:6] == data[-6:] == b"ARROW1", path
        else:
            assert path.suffix == ".json", path
            json.loads(path.read_text())
        kinds.add(path.name.split("-")[0].split(".")[0])
    return kinds


def test_spill_folder_holds_only_private_arrow_and_json(tmp_path: Path, open_umask: None) -> None:
    ctx = _context(tmp_path / "out")
    folder = Path(tempfile.mkdtemp(prefix=SPILL_PREFIX, dir=tmp_path))
    tables = {name: spill_table(ctx, name, folder, PARTS) for name in REQUIRED_TABLES}
    assert _assert_private_and_not_pickled(folder) == set(REQUIRED_TABLES)

    for part in range(PARTS):
        clean_and_screen_partition(ctx, folder, part)
    kinds = _assert_private_and_not_pickled(folder)
    # the contracts gather from the cleaned; the screened results' long frames wait there
    assert kinds == {*REQUIRED_TABLES, "cleaned", "screened"}

    report = run_contracts(ctx, WholeContractTables(folder, PARTS, tables))
    ContractWarnings.of(report).write_parts(folder, PARTS)
    assert "warnings" in _assert_private_and_not_pickled(folder)
    back = [ContractWarnings.read(warnings_path(folder, part)) for part in range(PARTS)]
    for name in REQUIRED_TABLES:  # row labels come back as the ints the report gave
        assert {k: v for b in back for k, v in b.warning_rows(name).items()} == (
            report.warning_rows(name)
        )
        assert {k: v for b in back for k, v in b.warning_reasons(name).items()} == (
            report.warning_reasons(name)
        )

    screened = [screen_partition(ctx, folder, part) for part in range(PARTS)]
    assert sum(len(s.result.cases) for s in screened) > 0
    _assert_private_and_not_pickled(folder)  # screening reads the files, writes none


def _assert_same_frame(written: pd.DataFrame | None, read: pd.DataFrame | None) -> None:
    if written is None:
        assert read is None
        return
    assert read is not None
    pd.testing.assert_frame_equal(written, read, check_exact=True, check_index_type=True)
    assert type(written.index) is type(read.index)
    for column in written.columns:
        ours, theirs = written[column], read[column]
        if isinstance(ours.dtype, pd.CategoricalDtype):
            assert list(ours.cat.categories) == list(theirs.cat.categories), column
        if ours.dtype == object:  # the missing marker (NaN or None) is kept
            assert list(map(type, ours)) == list(map(type, theirs)), column


def test_a_cleaned_partition_leaves_its_contract_columns_as_they_were(tmp_path: Path) -> None:
    """What a cleaned partition leaves in the spill folder is the columns validation can read
    of its tables (with the bucket), in the frame's order: dtypes, categoricals and the index
    (row numbers in the whole table) survive the Arrow IPC hand-off."""
    ctx = _context(tmp_path / "out")
    folder = tmp_path / "spill"
    folder.mkdir()
    for name in REQUIRED_TABLES:
        spill_table(ctx, name, folder, PARTS)
    part = 1
    loaded = {n: load_partition(folder, n, part) for n in REQUIRED_TABLES}
    # labels are row numbers of the whole table, not the partition's own 0..n-1
    assert len(loaded["labs"]) and not loaded["labs"].index.equals(
        pd.RangeIndex(len(loaded["labs"]))
    )
    tables = {n: IngestedTable(n, frame, rows_in=0) for n, frame in loaded.items()}
    cleaned = recipe.clean(dataclasses.replace(ctx, timings={}), ReadTables(tables))
    clean_and_screen_partition(ctx, folder, part)
    for name in REQUIRED_TABLES:
        ours = getattr(cleaned, name)
        kept = validation_columns(name) | {"bucket", "value_canonical"}
        columns = [c for c in ours.columns if c in kept]
        assert "bucket" in columns and len(columns) < len(ours.columns), name
        _assert_same_frame(ours[columns], read_frame(cleaned_path(folder, part, name)))


def _values(column: pd.Series) -> list[object]:
    """A column's values as Python objects, missing ones as None (categories' order aside)."""
    if pd.api.types.is_datetime64_dtype(column.dtype):
        column = as_ns(column)
    values = column.astype(object)
    return [None if pd.isna(v) else v for v in values]


def test_the_contracts_gather_what_a_single_run_validates(tmp_path: Path) -> None:
    """The whole tables the contracts read, gathered from the cleaned partitions' files, are
    a single run's validation frames: the same columns in the same order and dtypes (text as
    categoricals), the same values by row label (text read only as present or missing: the
    same rows missing), and the rows a failing check quotes."""
    ctx = _context(tmp_path / "out")
    folder = tmp_path / "spill"
    folder.mkdir()
    tables = {name: spill_table(ctx, name, folder, PARTS) for name in REQUIRED_TABLES}
    for part in range(PARTS):
        clean_and_screen_partition(ctx, folder, part)
    single = dataclasses.replace(ctx, timings={})
    frames = validation_frames(recipe.clean(single, recipe.read(single)))
    whole = WholeContractTables(folder, PARTS, tables)
    for name in REQUIRED_TABLES:
        expected = as_categories(frames[name])
        partial = whole[name]
        assert list(partial.columns.columns) == list(expected.columns), name
        gathered_times = {  # times validation reads row by row are held in ns, as its view is
            c: as_ns(expected[c]).dtype
            for c in partial.frame.columns
            if pd.api.types.is_datetime64_dtype(expected[c].dtype)
        }
        dtypes = [str(gathered_times.get(c, expected[c].dtype)) for c in expected.columns]
        assert [str(t) for t in partial.columns.dtypes] == dtypes, name
        assert set(partial.frame.columns) < set(expected.columns)
        assert partial.frame.index.equals(expected.index), name
        presence = presence_read(name, list(partial.frame.columns))
        for column in partial.frame.columns:
            if column in presence:  # read as present or missing (blank text: missing)
                text = expected[column].astype(object)
                blank = text.isna() | (text.fillna("").astype(str).str.strip() == "")
                assert list(partial.frame[column].isna()) == list(blank), (name, column)
                continue
            assert _values(partial.frame[column]) == _values(expected[column]), (name, column)
        labels = [int(x) for x in expected.index[[-1, 0, len(expected) // 2]]]
        quoted = partial.rows(labels, list(expected.columns))
        assert list(quoted.index) == labels
        for column in expected.columns:
            assert _values(quoted[column]) == _values(expected.loc[labels, column]), column


def test_categories_keep_their_order_unused_ones_and_text_dtype(tmp_path: Path) -> None:
    index = pd.Index([7, 3, 11], dtype="int64")
    frame = pd.DataFrame(
        {
            "kept": pd.Categorical(["b", "a", "b"], categories=["z", "b", "a"]),
            "empty": pd.Categorical([None] * 3, categories=pd.Index([], dtype="str")),
            "nulls": pd.Categorical([None] * 3, categories=pd.Index([], dtype=object)),
            "mixed": pd.Series(["x", None, float("nan")], dtype=object, index=index),
            "text": pd.Series(["x", float("nan"), "y"], dtype=object, index=index),
        },
        index=index,
    )
    write_frame(tmp_path / "f.arrow", frame)
    read = read_frame(tmp_path / "f.arrow")
    pd.testing.assert_frame_equal(frame.drop(columns="mixed"), read.drop(columns="mixed"))
    assert read.index.equals(index)
    assert list(read["kept"].cat.categories) == ["z", "b", "a"]
    assert read["empty"].cat.categories.dtype == "str"
    assert read["nulls"].cat.categories.dtype == object  # its dtype is noted, not stored
    # a column holding None and NaN comes back with None as its one missing marker
    assert read["mixed"].dtype == object
    assert list(read["mixed"]) == ["x", None, None]
    assert read["text"].dtype == object and isinstance(read["text"].iloc[1], float)


@pytest.mark.parametrize("missing", [None, float("nan")])
def test_object_text_comes_back_as_written_with_its_missing_marker(
    tmp_path: Path, missing: object
) -> None:
    """Hostile texts in an `object` column (made Python strings once per distinct text when
    read back): padded, censored, words, full-width digits, empty, NUL; the missing marker
    kept; numbers in an object column come back as numbers."""
    texts = [" 140 ", "<140", "LESS THAN 100", "１４０", "", "1\x002", missing, "<140", ""]
    index = pd.Index(np.arange(100, 100 + len(texts)), dtype="int64")
    frame = pd.DataFrame(
        {
            "reason": pd.Series(texts, dtype=object, index=index),
            "numbers": pd.Series([1.5, missing, 2.0] * 3, dtype=object, index=index),
        },
        index=index,
    )
    write_frame(tmp_path / "o.arrow", frame)
    read = read_frame(tmp_path / "o.arrow")
    assert read["reason"].dtype == object and read.index.equals(index)
    assert list(read["reason"].iloc[:6]) == [
        " 140 ",
        "<140",
        "LESS THAN 100",
        "１４０",
        "",
        "1\x002",
    ]
    assert all(isinstance(v, str) for v in read["reason"].drop(index[6]))
    assert read["reason"].iloc[6] is None if missing is None else np.isnan(read["reason"].iloc[6])
    assert list(read["numbers"].dropna()) == [1.5, 2.0] * 3
    pd.testing.assert_frame_equal(read, frame)
    only = read_frame(tmp_path / "o.arrow", ["reason"])  # a projection keeps the marker too
    assert list(only["reason"].iloc[6:7].isna()) == [True]


@pytest.mark.parametrize(
    "index",
    [pd.RangeIndex(4, 10, 2), pd.Index([7, 3, 11], dtype="int64"), pd.RangeIndex(0)],
    ids=["range", "labels", "empty"],
)
def test_a_frame_file_names_its_columns_and_row_labels_whatever_its_index(
    tmp_path: Path, index: pd.Index
) -> None:
    """A RangeIndex is kept as metadata (not a column): an empty partition is written so."""
    frame = pd.DataFrame({"b": [1.5] * len(index), "a": ["x"] * len(index)}, index=index)
    write_frame(tmp_path / "f.arrow", frame)
    assert frame_columns(tmp_path / "f.arrow") == ["b", "a"]
    assert list(read_row_labels(tmp_path / "f.arrow")) == list(index)


@pytest.mark.parametrize("codec", ["lz4", "zstd", "none"])
def test_a_compressed_spill_file_comes_back_as_an_uncompressed_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, codec: str
) -> None:
    """HYPOSCREEN_SPILL_COMPRESSION changes the bytes on disk (lz4 without it), not the frame
    read back."""
    index = pd.Index(np.arange(5000, 0, -1), dtype="int64")  # row labels, stored as a column
    frame = pd.DataFrame(
        {
            "id": pd.Series(["P1", "P2", None, "P3"] * 1250, dtype="str", index=index),
            "kind": pd.Categorical(["b", "a"] * 2500, categories=["b", "a"]),
            "value": [1.5, float("nan")] * 2500,
        },
        index=index,
    )
    written = {}
    for name, chosen in (("default", None), ("none", "none"), ("asked", codec)):
        if chosen is None:
            monkeypatch.delenv(COMPRESSION_VARIABLE, raising=False)
        else:
            monkeypatch.setenv(COMPRESSION_VARIABLE, chosen)
        write_frame(tmp_path / f"{name}.arrow", frame)
        written[name] = (tmp_path / f"{name}.arrow").read_bytes()
    assert (written["asked"] == written["none"]) is (codec == "none")
    assert (written["asked"] == written["default"]) is (codec == "lz4")
    assert len(written["asked"]) < len(written["none"]) or codec == "none"
    only_values = frame[["value"]].reset_index(drop=True)  # a projection has no index
    for name in written:
        path = tmp_path / f"{name}.arrow"
        pd.testing.assert_frame_equal(read_frame(path), frame, check_exact=True)
        pd.testing.assert_frame_equal(read_frame(path, ["value"]), only_values)


def test_an_unknown_spill_compression_is_a_settings_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(COMPRESSION_VARIABLE, "snappy")
    with pytest.raises(ConfigError, match="HYPOSCREEN_SPILL_COMPRESSION='snappy'"):
        write_frame(tmp_path / "f.arrow", pd.DataFrame({"a": [1]}))
    assert not (tmp_path / "f.arrow").exists()


def test_the_cli_refuses_an_unknown_spill_compression_before_reading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`hyposcreen run` with a misspelt $HYPOSCREEN_SPILL_COMPRESSION stops with exit 2 (a
    settings problem), says which variable, shows no traceback and writes no output folder,
    also for a run that would not have spilled."""
    from tests.helpers import run_cli

    monkeypatch.setenv(COMPRESSION_VARIABLE, "snappy")
    monkeypatch.delenv("HYPOSCREEN_DEBUG", raising=False)
    out = tmp_path / "out"
    done = run_cli(
        "run", "--no-flow", "--input", str(SAMPLE),
        "--window-start", "2026-11-20T00:00:00", "--window-end", "2026-11-21T00:00:00",
        "--out", str(out),
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert "HYPOSCREEN_SPILL_COMPRESSION='snappy'" in done.stderr
    assert "Traceback" not in done.stderr
    assert not out.exists() or not any(out.iterdir())


def test_the_head_of_a_frame_file_has_its_columns_and_dtypes(tmp_path: Path) -> None:
    """`head=True` reads only the first record batch (128k rows): the names and dtypes of
    every column without reading the file, also for a frame without rows."""
    rows = 200_000
    frame = pd.DataFrame(
        {
            "text": pd.Series(["a", "b"] * (rows // 2), dtype="str"),
            "marker": pd.Series([None] * rows, dtype=object),
            "time": pd.Series(pd.Timestamp("2026-11-20"), index=range(rows)).astype("M8[us]"),
        },
        index=pd.Index(np.arange(rows) * 3, dtype="int64"),
    )
    for name, written in (("full", frame), ("empty", frame.iloc[:0])):
        write_frame(tmp_path / f"{name}.arrow", written)
        head = read_frame(tmp_path / f"{name}.arrow", head=True)
        assert list(head.columns) == list(frame.columns)
        assert head.dtypes.to_dict() == frame.dtypes.to_dict()
        assert len(head) == min(len(written), 128 * 1024)
        assert head.index.equals(written.index[: len(head)])
