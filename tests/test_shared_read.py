"""Many windows, one read: a backfill, a catch-up of missed nights and `hyposcreen audit` read
the input once and cut each window's tables from it (recipe_read, runners.window_loop).

Every window's outputs must be those of a lone run of that window: review_list.csv,
evidence.csv, quarantine.csv and coverage.csv byte for byte, run_manifest.json equal once the
run-time fields (timings, peak memory, validation seconds) and the output folder are set
aside. Real runs throughout (real files, GX, SQLite state).
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from hyposcreen.recipe_read import read_once, read_tables, window_tables
from hyposcreen.windows import local_midnight
from shared_read_runs import (
    BERLIN,
    DST_NIGHTS,
    ONE_DAY,
    SAMPLE,
    assert_same_windows,
    docs_pages,
    edge_extract,
    lone_nights,
    night_args,
    run_cli,
    site_mapping,
    timings_of,
    window_contexts,
)


def test_labs_in_range_keeps_the_range_and_undated_rows_and_counts_the_rest() -> None:
    """[08:00, 09:00): 07:59 and 09:00 are outside (2, added to the 3 the union read had
    dropped); 08:00, 08:59 and the undated row stay, renumbered 0..2; other reasons kept."""
    from hyposcreen.ingest.canonical import IngestedTable
    from hyposcreen.recipe_read import labs_in_range

    times = ["2026-11-20 07:59", "2026-11-20 08:00", None, "2026-11-20 08:59", "2026-11-20 09:00"]
    frame = pd.DataFrame(
        {"specimen_time": pd.to_datetime(times).as_unit("us"), "row": list("abcde")},
        index=[5, 6, 7, 8, 9],
    )
    union = IngestedTable(
        "labs", frame, rows_in=12, not_relevant={"unknown_loinc": 2, "outside_window": 3}
    )
    ts = pd.Timestamp
    cut = labs_in_range(union, "specimen_time", ts("2026-11-20 08:00"), ts("2026-11-20 09:00"))
    assert cut.frame["row"].tolist() == ["b", "c", "d"]
    assert cut.frame.index.tolist() == [0, 1, 2]
    assert (cut.rows_in, cut.not_relevant) == (12, {"unknown_loinc": 2, "outside_window": 5})
    assert union.not_relevant["outside_window"] == 3 and len(union.frame) == 5  # not changed
    wide = labs_in_range(union, "specimen_time", ts("2026-11-20"), ts("2026-11-21"))
    assert len(wide.frame) == 5 and wide.not_relevant["outside_window"] == 3


@pytest.mark.parametrize("with_state", [False, True], ids=["stateless", "nightly-state"])
def test_each_window_cut_from_one_read_is_its_lone_read(tmp_path: Path, with_state: bool) -> None:
    """Frame (rows, order, dtypes, row numbers), rows_in, reasons, coverage counters and file
    records of every night equal a lone read of that night, on every read-range edge."""
    extract = edge_extract(tmp_path / "in", DST_NIGHTS, BERLIN)
    state = tmp_path / "state" if with_state else None
    ctx, *nights = window_contexts(extract, site_mapping(tmp_path, BERLIN), DST_NIGHTS, state)
    shared = read_once(ctx, [n.settings.window for n in nights])
    assert shared.windows == 3
    assert set(shared.tables) == {"labs", "medications", "diagnoses", "patients"}
    outside = []
    for night in nights:
        cut, lone = window_tables(shared, night).tables, read_tables(night).tables
        assert list(cut) == list(lone)
        for name, table in lone.items():
            got = cut[name]
            pd.testing.assert_frame_equal(got.frame, table.frame, check_exact=True)
            assert (got.rows_in, got.not_relevant, got.unrecognised) == (
                table.rows_in, table.not_relevant, table.unrecognised,
            )  # fmt: skip
            assert (got.files, got.present_columns) == (table.files, table.present_columns)
        outside.append(lone["labs"].not_relevant["outside_window"])
        assert lone["labs"].not_relevant["unknown_loinc"] >= 3  # the other reasons are there too
    assert len(set(outside)) > 1  # the nights' read ranges cut the rows differently


def test_each_window_cut_from_one_spill_is_its_lone_spill(tmp_path: Path) -> None:
    """Partitioned: every night's spill files, cut from one spill of the three nights, load as
    a lone spill of that night loads (rows, order, row numbers in the whole table), with the
    same counts; the shared spill folder goes with close()."""
    from hyposcreen.ingest.canonical import REQUIRED_TABLES
    from hyposcreen.runners.shared_spill import cut_spill, spill_once
    from hyposcreen.runners.spill import load_partition, spill_table

    extract = edge_extract(tmp_path / "in", DST_NIGHTS, BERLIN)
    ctx, *nights = window_contexts(
        extract, site_mapping(tmp_path, BERLIN), DST_NIGHTS, tmp_path / "state"
    )
    shared = spill_once(ctx, [n.settings.window for n in nights], 3)
    for number, night in enumerate(nights):
        cut_folder, lone_folder = tmp_path / f"cut{number}", tmp_path / f"lone{number}"
        cut_folder.mkdir(), lone_folder.mkdir()
        cut = cut_spill(shared, night, cut_folder)
        for name in REQUIRED_TABLES:
            lone = spill_table(night, name, lone_folder, 3)
            assert (cut[name].rows_in, cut[name].not_relevant, cut[name].files) == (
                lone.rows_in, lone.not_relevant, lone.files,
            )  # fmt: skip
            for part in range(3):
                pd.testing.assert_frame_equal(
                    load_partition(cut_folder, name, part), load_partition(lone_folder, name, part)
                )
    shared.close()
    assert not shared.folder.exists()


def test_a_window_outside_the_shared_read_is_refused(tmp_path: Path) -> None:
    extract = edge_extract(tmp_path / "in", DST_NIGHTS, BERLIN)
    ctx, first, second, _ = window_contexts(
        extract, site_mapping(tmp_path, BERLIN), DST_NIGHTS, None
    )
    shared = read_once(ctx, [first.settings.window])
    with pytest.raises(ValueError, match="outside the shared read"):
        window_tables(shared, second)


# ------------------------------------------------------------------ whole runs


def test_a_backfill_of_the_sample_reads_once_and_equals_lone_nights(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    nights = ["2026-11-17", "2026-11-18", "2026-11-19", "2026-11-20"]
    lone, shared = tmp_path / "lone", tmp_path / "shared"
    lone_nights(lone, SAMPLE, nights)
    capsys.readouterr()
    assert run_cli(shared, SAMPLE, "--backfill", nights[0], nights[-1]) == 4  # sample warnings
    assert_same_windows(lone, shared, nights)
    # read once: one progress line, the read's seconds on the first night only, every night cut
    said = capsys.readouterr().err
    assert len(re.findall(r"read the input once for 4 windows: labs 171 row\(s\)", said)) == 1
    reads = [{k for k in timings_of(shared, n) if k.startswith("read_")} for n in nights]
    tables = ("labs", "medications", "diagnoses", "patients", "slice")
    assert reads[0] == {f"read_{t}" for t in tables}
    assert reads[1:] == [{"read_slice"}] * 3
    assert all("read_slice" not in timings_of(lone, n) for n in nights)
    # a contract result reused from the night before still has its Data Docs pages
    for night in nights:
        assert docs_pages(shared, night) == docs_pages(lone, night)
        assert {"medications", "diagnoses", "patients"} <= {p[1] for p in docs_pages(lone, night)}


def test_a_backfill_sets_the_objects_alive_before_it_aside_from_the_collector_until_its_end(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The nights run with the objects alive before the loop (modules, rules, settings) out of
    the cyclic garbage collector's walks (gc.freeze), which gets them back once it ends."""
    import gc

    from hyposcreen.runners import in_process

    frozen: list[int] = []
    run_recipe = in_process.run_recipe

    def noted(*args, **kwargs):  # type: ignore[no-untyped-def]
        frozen.append(gc.get_freeze_count())
        return run_recipe(*args, **kwargs)

    monkeypatch.setattr(in_process, "run_recipe", noted)
    assert run_cli(tmp_path / "out", SAMPLE, "--backfill", "2026-11-19", "2026-11-20") in (0, 4)
    assert len(frozen) == 2 and min(frozen) > 1000
    assert gc.get_freeze_count() == 0


def test_a_backfill_over_a_dst_night_with_edge_rows_equals_lone_nights(tmp_path: Path) -> None:
    extract = edge_extract(tmp_path / "in", DST_NIGHTS, BERLIN)
    mapping = site_mapping(tmp_path, BERLIN)
    lone, shared = tmp_path / "lone", tmp_path / "shared"
    lone_nights(lone, extract, DST_NIGHTS, mapping=mapping)
    backfill = ["--backfill", DST_NIGHTS[0], DST_NIGHTS[-1]]
    assert run_cli(shared, extract, *backfill, mapping=mapping) in (0, 4)
    assert_same_windows(lone, shared, DST_NIGHTS)
    review = pd.read_csv(shared / "out" / "2026-10-25" / "review_list.csv", dtype=str)
    assert {"P1", "P2", "P8"} <= set(review["patient_id"])  # the edges are really screened
    assert "read_slice" in timings_of(shared, "2026-10-26")


def test_a_catch_up_of_missed_nights_with_state_equals_lone_nights(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """State says the night four days ago was the last one screened: the catch-up plans the
    three nights since and reads once; the lone nights run one by one on their own state."""
    today = local_midnight(None, BERLIN)
    nights = [(today - n * ONE_DAY).date().isoformat() for n in (4, 3, 2, 1)]
    extract = edge_extract(tmp_path / "in", nights, BERLIN)
    mapping = site_mapping(tmp_path, BERLIN)
    lone, shared = tmp_path / "lone", tmp_path / "shared"
    for root in (lone, shared):  # the same first night in both states
        state = ["--state-dir", str(root / "state")]
        assert run_cli(root, extract, *night_args(nights[0]), *state, mapping=mapping) in (0, 4)
    lone_nights(lone, extract, nights[1:], "--state-dir", str(lone / "state"), mapping=mapping)
    capsys.readouterr()
    assert run_cli(shared, extract, "--state-dir", str(shared / "state"), mapping=mapping) in (0, 4)
    assert "read the input once for 3 windows" in capsys.readouterr().err
    assert sorted(p.name for p in (shared / "out").iterdir()) == nights
    assert_same_windows(lone, shared, nights)
