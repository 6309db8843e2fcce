"""Many windows, one read: a backfill, a catch-up of missed nights and `hyposcreen audit` read
the input once and cut each window's tables from it (recipe_read, runners.window_loop).

Every window's outputs must be those of a lone run of that window: review_list.csv,
evidence.csv, quarantine.csv and coverage.csv byte for byte, run_manifest.json equal once the
run-time fields (timings, peak memory, validation seconds) and the output folder are set
aside. Real runs throughout (real files, GX, SQLite state).
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from helpers import RULES
from hyposcreen.clean import read_window_start
from hyposcreen.cli import main
from hyposcreen.config import RunSettings, Window
from hyposcreen.context import prepare
from hyposcreen.recipe_read import read_once, read_tables, window_tables
from hyposcreen.windows import local_midnight

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data" / "canonical"
BERLIN = "Europe/Berlin"
OUTPUTS = ("review_list.csv", "evidence.csv", "quarantine.csv", "coverage.csv")
RUN_TIME = {"timings", "peak_rss_mb", "seconds"}  # differ between any two runs
DST_NIGHTS = ["2026-10-24", "2026-10-25", "2026-10-26"]  # Berlin falls back on 25 Oct, 03:00
LAB_COLUMNS = [
    "patient_id", "specimen_time", "result_time", "loinc", "lab_name", "value_raw", "unit",
    "status", "specimen_type",
]  # fmt: skip
ONE_DAY, SECOND = pd.Timedelta(days=1), pd.Timedelta(seconds=1)


# ------------------------------------------------------------------ an extract with edges


def _write(path: Path, columns: list[str], rows: Iterable[list[str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(rows)


def _text(time: pd.Timestamp) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S")


def _na(patient: str, time: pd.Timestamp | str, value: str, **extra: str) -> list[str]:
    when = time if isinstance(time, str) else _text(time)
    row = {"loinc": "2951-2", "lab_name": "Sodium", "unit": "mmol/L", "status": "final"}
    row.update(extra)
    return [
        patient, when, "", row["loinc"], row["lab_name"], value, row["unit"], row["status"],
        "Serum",
    ]  # fmt: skip


def _glucose(patient: str, time: pd.Timestamp, value: str) -> list[str]:
    return _na(patient, time, value, loinc="2345-7", lab_name="Glucose", unit="mg/dL")


def edge_extract(folder: Path, nights: list[str], timezone: str) -> Path:
    """Labs on every read-range and window edge of `nights` (a lone read of one night and the
    shared read must agree on each), with the reader's other reasons mixed in; a loop diuretic
    for two patients, a hyponatremia code and a CKD code, a patients table."""
    folder.mkdir(parents=True, exist_ok=True)
    rows: list[list[str]] = []
    for number, night in enumerate(nights):
        start = pd.Timestamp(night).as_unit("us")
        window = Window(start, start + ONE_DAY)
        for late in (False, True):  # a stateless night's read range, and a nightly one's
            edge = read_window_start(window, RULES, late, timezone)
            tag = f"{'L' if late else 'R'}{number}"
            rows += [_na(f"{tag}in", edge, "131"), _na(f"{tag}out", edge - SECOND, "130")]
        rows += [
            _na("P1", start, "128"),  # at the window start exactly
            _glucose("P1", start + pd.Timedelta(hours=1), "400"),  # 60 min after: paired
            _na("P2", start + ONE_DAY - SECOND, str(126 - number)),  # the last second
            _na("P3", start + ONE_DAY, "127"),  # at the end: the next night's
            _na("P4", start + pd.Timedelta(hours=9), "133"),
            _na("P4", start + pd.Timedelta(hours=9), "133"),  # an exact duplicate
            _na("P5", start + pd.Timedelta(hours=8), "129", loinc="9999-9"),  # unknown LOINC
            _na("P5", start + pd.Timedelta(hours=8), "129", loinc="", lab_name="Mystery"),
            _na("P6", start + pd.Timedelta(hours=7), "HEMOLYZED"),
            _na("P6", start + pd.Timedelta(hours=6), "119", status="entered-in-error"),
            _na("P7", "31/02/2026 25:00", "125"),  # a time that does not parse
            *[_na(f"N{i}", start + pd.Timedelta(hours=10), "140") for i in range(5)],
        ]
    rows += [  # the night the clocks go back in Berlin, and the turn of the month
        _na("P8", "2026-10-25T01:59:59", "124"),
        _na("P8", "2026-10-25T02:30:00", "123"),  # happens twice: its first occurrence
        _na("P8", "2026-10-25T03:00:00", "122"),
        _na("P9", "2026-10-31T23:59:59", "126"),
        _na("P9", "2026-11-01T00:00:00", "121"),
    ]
    _write(folder / "labs.csv", LAB_COLUMNS, rows)
    _write(
        folder / "medications.csv",
        ["patient_id", "drug_name", "start_time", "end_time", "status"],
        [
            ["P1", "Furosemide 40mg tab", "2026-01-01T08:00:00", "", "active"],
            ["P2", "Hydrochlorothiazide 25 mg", "2026-01-01T08:00:00", "", "active"],
            ["P8", "Sertraline 50 mg", "2026-01-01T08:00:00", "", "active"],
        ],
    )
    _write(
        folder / "diagnoses.csv",
        ["patient_id", "code", "code_system", "recorded_time", "status"],
        [
            ["P4", "N18.3", "ICD-10-CM", "2025-06-15T10:00:00", "active"],
            ["P9", "E87.1", "ICD-10-CM", "2026-10-31T12:00:00", "active"],
        ],
    )
    _write(folder / "patients.csv", ["patient_id", "sex"], [["P1", "F"], ["P2", "M"]])
    return folder


def _mapping(folder: Path, timezone: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "site_mapping.yaml"
    path.write_text(f"site: test\ntimezone: {timezone}\n", encoding="utf-8")
    return path


# ------------------------------------------------------------------ comparing runs


def _without_run_time(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_run_time(v) for k, v in value.items() if k not in RUN_TIME}
    if isinstance(value, list):
        return [_without_run_time(v) for v in value]
    return value


def _manifest(folder: Path, root: Path) -> dict[str, Any]:
    text = (folder / "run_manifest.json").read_text(encoding="utf-8")
    return _without_run_time(json.loads(text.replace(str(root), "<root>")))  # type: ignore[no-any-return]


def assert_same_windows(lone: Path, shared: Path, labels: list[str]) -> None:
    """Each window's outputs under `shared/out` are those of its lone run under `lone/out`."""
    for label in labels:
        for name in OUTPUTS:
            expected = (lone / "out" / label / name).read_bytes()
            assert (shared / "out" / label / name).read_bytes() == expected, (label, name)
        expected_manifest = _manifest(lone / "out" / label, lone)
        assert _manifest(shared / "out" / label, shared) == expected_manifest, label


def _timings(root: Path, label: str) -> dict[str, float]:
    manifest = json.loads((root / "out" / label / "run_manifest.json").read_text("utf-8"))
    return manifest["timings"]  # type: ignore[no-any-return]


def _night_args(night: str) -> list[str]:
    end = (pd.Timestamp(night) + ONE_DAY).date().isoformat()
    return ["--window-start", f"{night}T00:00:00", "--window-end", f"{end}T00:00:00"]


def _run(root: Path, extract: Path, *args: str, mapping: Path | None = None) -> int:
    where = ["--input", str(extract), "--out", str(root / "out")]
    site = ["--mapping", str(mapping)] if mapping else []
    return main(["run", "--no-flow", *where, *site, *args])


def _lone_nights(root: Path, extract: Path, nights: list[str], *args: str, **kw: Any) -> None:
    for night in nights:
        assert _run(root, extract, *_night_args(night), *args, **kw) in (0, 4)


# ------------------------------------------------------------------ the cut itself


def _contexts(extract: Path, mapping: Path, nights: list[str], state: Path | None) -> list[Any]:
    settings = RunSettings(
        input_dir=extract,
        out_dir=extract.parent / "unused",
        window=Window(pd.Timestamp(nights[0]), pd.Timestamp(nights[0]) + ONE_DAY),
        mapping_path=mapping,
        state_dir=state,
    )
    ctx = prepare(settings)
    windows = [Window(pd.Timestamp(n).as_unit("us"), pd.Timestamp(n) + ONE_DAY) for n in nights]
    return [ctx, *(replace(ctx, settings=replace(settings, window=w)) for w in windows)]


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
    ctx, *nights = _contexts(extract, _mapping(tmp_path, BERLIN), DST_NIGHTS, state)
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
    ctx, *nights = _contexts(extract, _mapping(tmp_path, BERLIN), DST_NIGHTS, tmp_path / "state")
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
    ctx, first, second, _ = _contexts(extract, _mapping(tmp_path, BERLIN), DST_NIGHTS, None)
    shared = read_once(ctx, [first.settings.window])
    with pytest.raises(ValueError, match="outside the shared read"):
        window_tables(shared, second)


# ------------------------------------------------------------------ whole runs


def test_a_backfill_of_the_sample_reads_once_and_equals_lone_nights(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    nights = ["2026-11-17", "2026-11-18", "2026-11-19", "2026-11-20"]
    lone, shared = tmp_path / "lone", tmp_path / "shared"
    _lone_nights(lone, SAMPLE, nights)
    capsys.readouterr()
    assert _run(shared, SAMPLE, "--backfill", nights[0], nights[-1]) == 4  # sample warnings
    assert_same_windows(lone, shared, nights)
    # read once: one progress line, the read's seconds on the first night only, every night cut
    said = capsys.readouterr().err
    assert len(re.findall(r"read the input once for 4 windows: labs 171 row\(s\)", said)) == 1
    reads = [{k for k in _timings(shared, n) if k.startswith("read_")} for n in nights]
    tables = ("labs", "medications", "diagnoses", "patients", "slice")
    assert reads[0] == {f"read_{t}" for t in tables}
    assert reads[1:] == [{"read_slice"}] * 3
    assert all("read_slice" not in _timings(lone, n) for n in nights)
    # a contract result reused from the night before still has its Data Docs pages
    for night in nights:
        assert _docs_pages(shared, night) == _docs_pages(lone, night)
        assert {"medications", "diagnoses", "patients"} <= {p[1] for p in _docs_pages(lone, night)}


def _docs_pages(root: Path, night: str) -> list[tuple[str, ...]]:
    """The Data Docs pages of a night: (kind, suite, page name), run times set aside."""
    docs = root / "out" / night / "validation"
    pages = [p.relative_to(docs).parts for p in docs.rglob("*.html") if p.stat().st_size]
    return sorted((parts[0], parts[1], parts[-1]) for parts in pages if len(parts) > 1)


def test_a_backfill_over_a_dst_night_with_edge_rows_equals_lone_nights(tmp_path: Path) -> None:
    extract = edge_extract(tmp_path / "in", DST_NIGHTS, BERLIN)
    mapping = _mapping(tmp_path, BERLIN)
    lone, shared = tmp_path / "lone", tmp_path / "shared"
    _lone_nights(lone, extract, DST_NIGHTS, mapping=mapping)
    backfill = ["--backfill", DST_NIGHTS[0], DST_NIGHTS[-1]]
    assert _run(shared, extract, *backfill, mapping=mapping) in (0, 4)
    assert_same_windows(lone, shared, DST_NIGHTS)
    review = pd.read_csv(shared / "out" / "2026-10-25" / "review_list.csv", dtype=str)
    assert {"P1", "P2", "P8"} <= set(review["patient_id"])  # the edges are really screened
    assert "read_slice" in _timings(shared, "2026-10-26")


def test_a_catch_up_of_missed_nights_with_state_equals_lone_nights(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """State says the night four days ago was the last one screened: the catch-up plans the
    three nights since and reads once; the lone nights run one by one on their own state."""
    today = local_midnight(None, BERLIN)
    nights = [(today - n * ONE_DAY).date().isoformat() for n in (4, 3, 2, 1)]
    extract = edge_extract(tmp_path / "in", nights, BERLIN)
    mapping = _mapping(tmp_path, BERLIN)
    lone, shared = tmp_path / "lone", tmp_path / "shared"
    for root in (lone, shared):  # the same first night in both states
        state = ["--state-dir", str(root / "state")]
        assert _run(root, extract, *_night_args(nights[0]), *state, mapping=mapping) in (0, 4)
    _lone_nights(lone, extract, nights[1:], "--state-dir", str(lone / "state"), mapping=mapping)
    capsys.readouterr()
    assert _run(shared, extract, "--state-dir", str(shared / "state"), mapping=mapping) in (0, 4)
    assert "read the input once for 3 windows" in capsys.readouterr().err
    assert sorted(p.name for p in (shared / "out").iterdir()) == nights
    assert_same_windows(lone, shared, nights)


def test_a_shared_read_that_outgrows_memory_is_spilled_once_into_partitions(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past the in-memory cap (lowered to 50 rows for the 171-row sample) the input is spilled
    once into partitions and every window is cut from that spill: a lone in-memory run's
    outputs, and no spill folder left behind."""
    from hyposcreen.runners import spill

    nights = ["2026-11-19", "2026-11-20"]
    lone, shared = tmp_path / "lone", tmp_path / "shared"
    _lone_nights(lone, SAMPLE, nights)
    monkeypatch.setattr(spill, "MEMORY_ROW_CAP", 50)
    capsys.readouterr()
    assert _run(shared, SAMPLE, "--backfill", nights[0], nights[-1]) == 0
    said = capsys.readouterr().err
    assert re.search(r"read the input once into \d+ partitions for 2 windows", said)
    for night in nights:
        for name in OUTPUTS:
            expected = (lone / "out" / night / name).read_bytes()
            assert (shared / "out" / night / name).read_bytes() == expected
        manifest = json.loads((shared / "out" / night / "run_manifest.json").read_text())
        assert manifest["partitions"] >= 2 and "read_slice" in manifest["timings"]
    assert sorted(p.name for p in (shared / "out").iterdir()) == nights  # no spill debris
    assert not list(shared.glob(".hyposcreen-partitions-*"))


def test_a_partitioned_backfill_spills_once_and_equals_lone_partitioned_nights(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--partitions 3 over the edge extract with the Berlin night: one spill, each night's
    spill files cut from it (rows renumbered as a lone read numbers them)."""
    extract = edge_extract(tmp_path / "in", DST_NIGHTS, BERLIN)
    mapping = _mapping(tmp_path, BERLIN)
    lone, shared = tmp_path / "lone", tmp_path / "shared"
    parts = ["--partitions", "3"]
    _lone_nights(lone, extract, DST_NIGHTS, *parts, mapping=mapping)
    capsys.readouterr()
    backfill = ["--backfill", DST_NIGHTS[0], DST_NIGHTS[-1], *parts]
    assert _run(shared, extract, *backfill, mapping=mapping) in (0, 4)
    assert "read the input once into 3 partitions for 3 windows" in capsys.readouterr().err
    assert_same_windows(lone, shared, DST_NIGHTS)
    assert {"read_slice"} == {k for k in _timings(shared, "2026-10-26") if k.startswith("read_")}
    assert not list((shared / "out").glob(".hyposcreen-partitions-*"))


@pytest.mark.slow
def test_a_backfill_of_an_omop_extract_reads_per_window_and_equals_lone_nights(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A source adapter drops rows far from the window before naming other reasons: its
    windows read for themselves, with a lone run's outputs."""
    from sample_data import to_omop

    extract = tmp_path / "omop"
    to_omop.convert(extract)
    nights = ["2026-11-19", "2026-11-20"]
    lone, shared = tmp_path / "lone", tmp_path / "shared"
    _lone_nights(lone, extract, nights, "--source", "omop")
    capsys.readouterr()
    assert _run(shared, extract, "--backfill", nights[0], nights[-1], "--source", "omop") == 0
    assert "read the input once" not in capsys.readouterr().err
    assert_same_windows(lone, shared, nights)


def test_an_audit_of_two_months_reads_once_and_equals_the_per_month_reads(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """October and November of the edge extract (rows on the turn of the month), with the
    patient export: every audit output byte for byte as with one read per month."""
    from hyposcreen.audit import AuditSettings, run_audit
    from hyposcreen.report.pseudonyms import KEY_ENV

    monkeypatch.setenv(KEY_ENV, "9f2c4e7a1b3d5f6081a2c3e4f5061728394a5b6c7d8e9f00112233445566778a")
    extract = edge_extract(tmp_path / "in", DST_NIGHTS, BERLIN)
    settings = AuditSettings(
        input_dir=extract,
        out_dir=tmp_path / "per-month",
        start=pd.Timestamp("2026-10-01"),
        end=pd.Timestamp("2026-12-01"),
        mapping_path=_mapping(tmp_path, BERLIN),
    )
    run_audit(settings, share_read=False)
    assert "read the input once" not in capsys.readouterr().err
    run_audit(replace(settings, out_dir=tmp_path / "shared"))
    assert "read the input once for 2 windows" in capsys.readouterr().err
    names = ["audit.html", "audit_tables.csv", "audit_manifest.json", "audit_patients.csv"]
    for name in names:
        expected = (tmp_path / "per-month" / name).read_bytes()
        assert (tmp_path / "shared" / name).read_bytes() == expected, name
    patients = pd.read_csv(tmp_path / "shared" / "audit_patients.csv", dtype=str)
    assert set(patients["period"]) == {"2026-10", "2026-11"}


@pytest.mark.flow
@pytest.mark.usefixtures("prefect_harness")
def test_the_flow_reads_a_backfill_once_in_one_task_and_equals_lone_nights(tmp_path: Path) -> None:
    """The Prefect flow: one read-once task run for the backfill, one read task per night
    (cutting from it), and every night's outputs those of a lone run."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    from flows.nightly import nightly_screen

    nights = ["2026-11-19", "2026-11-20"]
    lone, shared = tmp_path / "lone", tmp_path / "shared"
    _lone_nights(lone, SAMPLE, nights)
    state = nightly_screen(
        input=str(SAMPLE),
        out=str(shared / "out"),
        backfill_start=nights[0],
        backfill_end=nights[-1],
        notify=False,
        return_state=True,
    )
    assert state.is_completed(), state.message
    assert_same_windows(lone, shared, nights)
    run_id = state.state_details.flow_run_id
    with get_client(sync_client=True) as client:
        runs = client.read_task_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run_id]))
        )
    keys = sorted(run.task_key.rsplit("-", 1)[0] for run in runs)
    assert keys.count("read_once") == 1 and keys.count("read") == 2, keys


@pytest.mark.flow
@pytest.mark.usefixtures("prefect_harness")
def test_the_flow_spills_a_partitioned_backfill_once(tmp_path: Path) -> None:
    """partitions=2: one spill-once task run, each night's partitioned task cut from it; the
    nights' outputs those of lone partitioned runs; no spill folder left."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    from flows.nightly import nightly_screen

    nights = ["2026-11-19", "2026-11-20"]
    lone, shared = tmp_path / "lone", tmp_path / "shared"
    _lone_nights(lone, SAMPLE, nights, "--partitions", "2")
    state = nightly_screen(
        input=str(SAMPLE),
        out=str(shared / "out"),
        backfill_start=nights[0],
        backfill_end=nights[-1],
        partitions=2,
        notify=False,
        return_state=True,
    )
    assert state.is_completed(), state.message
    assert_same_windows(lone, shared, nights)
    with get_client(sync_client=True) as client:
        runs = client.read_task_runs(
            flow_run_filter=FlowRunFilter(
                id=FlowRunFilterId(any_=[state.state_details.flow_run_id])
            )
        )
    keys = sorted(run.task_key.rsplit("-", 1)[0] for run in runs)
    assert keys.count("spill_once") == 1 and keys.count("screen_partitioned") == 2, keys
    assert sorted(p.name for p in (shared / "out").iterdir()) == nights
