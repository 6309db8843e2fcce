"""Partitioned runs (issue #6): the same bytes as one partition, on either executor."""

from __future__ import annotations

import gc
import json
import os
import shutil
import subprocess
import sys
import tempfile
import weakref
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from distributed import Client

from bad_input_rows import (
    DX_COLUMNS,
    LAB_COLUMNS,
    MED_COLUMNS,
    dx,
    glucose,
    lab,
    med,
    to_csv,
    write,
)
from hyposcreen.config import RunSettings, parse_window
from hyposcreen.context import prepare
from hyposcreen.errors import ConfigError, InputError
from hyposcreen.failures import InternalError
from hyposcreen.rules import sql_engine
from hyposcreen.runners import partition_work, partitioned
from hyposcreen.runners.executors import executor_for
from hyposcreen.runners.handoff import count_rows
from hyposcreen.runners.in_process import run_pipeline
from hyposcreen.runners.partition_hash import id_hash
from hyposcreen.runners.partitioned import run_partitioned, run_screen
from hyposcreen.runners.spill import partition_of, resolve_partitions

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data" / "canonical"
WINDOW = ("2026-11-20T00:00:00", "2026-11-21T00:00:00")
OUTPUTS = (
    "review_list.csv",
    "review_list.parquet",
    "review_list.html",
    "review_list.xlsx",
    "evidence.csv",
    "quarantine.csv",
)
DAY = "2026-11-20"  # the CLI and the flow write each window to <out>/<date>/


def _settings(input_dir: Path, out: Path) -> RunSettings:
    return RunSettings(input_dir=input_dir, out_dir=out, window=parse_window(*WINDOW))


def _dirty_hive_extract(folder: Path) -> Path:
    """The sample with labs as a hive-partitioned folder of two CSV files plus dirt: a padded
    patient id, a blank one, duplicate rows, a non-numeric value and a malformed line."""
    shutil.copytree(SAMPLE, folder)
    lines = (folder / "labs.csv").read_text().splitlines()
    (folder / "labs.csv").unlink()
    header, rows = lines[0], lines[1:]
    dirt = [
        rows[5].replace("P", " P", 1),  # same patient, padded: must share its partition
        ",E9,S9,2026-11-20T08:00:00,,2951-2,Sodium,130,mmol/L,final,Serum",  # no patient id
        rows[7],
        rows[7],  # exact duplicates
        rows[9].replace(",135,", ",HEMOLYZED,"),
        "P001,E001,too,many,fields,in,this,line,for,the,header,at,all",
    ]
    part = folder / "labs" / "year=2026" / "month=11"
    part.mkdir(parents=True)
    half = len(rows) // 2
    (part / "part-0.csv").write_text("\n".join([header, *rows[:half], *dirt]) + "\n")
    (part / "part-1.csv").write_text("\n".join([header, *rows[half:]]) + "\n")
    return folder


def _manifest_counts(out: Path) -> dict[str, object]:
    manifest = json.loads((out / "run_manifest.json").read_text())
    keep = ("reconciliation", "attrition", "counts_per_tier", "listed", "inputs", "run_id")
    counts = {k: manifest[k] for k in keep}
    validation = manifest["validation"]
    counts["contract_quarantine"] = validation["rows_quarantined_by_contract"]
    counts["outcomes"] = validation["outcomes"]
    return counts


def _assert_same_outputs(a: Path, b: Path) -> None:
    for name in OUTPUTS:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    assert _manifest_counts(a) == _manifest_counts(b)


@pytest.fixture(scope="module")
def dirty(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The dirty hive extract and its single-partition (in-memory) run."""
    base = tmp_path_factory.mktemp("dirty")
    extract = _dirty_hive_extract(base / "extract")
    single = base / "single"
    run_pipeline(_settings(extract, single))
    return extract, single


def test_a_patients_hash_partition_is_stable_and_ignores_surrounding_spaces() -> None:
    """The same id lands in the same partition in every process (a hash of fixed constants)."""
    ids = pd.Series(["P001", " P001 ", "P002", None, "", "Ärztin-7"], dtype="str")
    parts = partition_of(ids, 8)
    assert parts[0] == parts[1]
    assert parts[3] == parts[4]  # a missing id hashes like the empty one
    code = (
        "import pandas as pd; from hyposcreen.runners.spill import partition_of; "
        "print(partition_of(pd.Series(['P001','P002','Ärztin-7'], dtype='str'), 8).tolist())"
    )
    other = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert other.strip() == str([int(parts[0]), int(parts[2]), int(parts[5])]) == "[1, 0, 7]"


def _fnv1a_mixed(text: str) -> int:
    """FNV-1a (64-bit) of the UTF-8 bytes (of an id over 128 bytes: its first and last 64 and
    its length), then MurmurHash3's finaliser, one byte at a time."""
    mask = (1 << 64) - 1
    value = 0xCBF29CE484222325
    data = text.encode("utf-8")
    for byte in data if len(data) <= 128 else data[:64] + data[-64:]:
        value = ((value ^ byte) * 0x100000001B3) & mask
    if len(data) > 128:
        value = ((value ^ len(data)) * 0x100000001B3) & mask
    value ^= value >> 33
    value = (value * 0xFF51AFD7ED558CCD) & mask
    value ^= value >> 33
    value = (value * 0xC4CEB93FE53E4EC9) & mask
    return value ^ (value >> 33)


def test_a_partition_is_the_hash_of_each_rows_own_id() -> None:
    """Hashing each distinct id once, a byte position at a time over ids of every length,
    gives every row the partition of its own id's hash (in lower case:
    patient_id_forms.hashed_form)."""
    ids = pd.Series(
        [f" P{i % 997:05d}\t" if i % 5 else f"Ärztin-{i % 13}" for i in range(20_000)], dtype="str"
    )
    ids[::401] = None
    ids[3::409] = ""
    ids[7::811] = "x" * (300 + 1)  # far longer than the others
    ids[9::811] = "y" * 129 + "é" * 70  # over 128 bytes: head, tail and length
    ids[11::811] = "y" * 128
    one_by_one = [
        _fnv1a_mixed(text) % 7 for text in ids.str.strip().fillna("").str.lower().tolist()
    ]
    assert partition_of(ids, 7).tolist() == one_by_one
    assert id_hash(pa.array([], pa.large_string())).tolist() == []


def test_hive_folder_is_read_like_one_file(dirty: tuple[Path, Path]) -> None:
    """year=/month= folders add no columns: the column checks pass, every row is counted."""
    _, single = dirty
    manifest = json.loads((single / "run_manifest.json").read_text())
    assert len(manifest["inputs"]["labs"]) == 2
    labs = manifest["reconciliation"]["labs"]
    assert labs["reconciled"]
    assert labs["reasons"]["quarantined"]["malformed_row"] == 1


@pytest.mark.parametrize("partitions", [1, 3, 7])
def test_partitioned_run_writes_the_bytes_of_a_single_run(
    dirty: tuple[Path, Path], tmp_path: Path, partitions: int
) -> None:
    """Review list, evidence, quarantine and manifest counts do not depend on partitions."""
    extract, single = dirty
    run_partitioned(prepare(_settings(extract, tmp_path)), partitions)
    _assert_same_outputs(single, tmp_path)
    assert not list(tmp_path.glob(".hyposcreen-partitions-*"))  # the spill folder is removed


def test_the_contracts_start_without_duckdbs_connection_or_the_whole_patients_table(
    dirty: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the cleaning left that the contracts do not read is let go before them (their
    step is a large run's memory peak): the DuckDB connection the cleaning queried (its
    allocator keeps pages cached; the screen opens a new one) and the patients table read
    whole (only its contract columns stay). The outputs are still a single run's."""
    extract, single = dirty
    whole_patients: list[weakref.ref[pd.DataFrame]] = []
    at_contracts: list[tuple[bool, bool]] = []
    ingest_table, run_contracts = partitioned.ingest_table, partitioned.run_contracts

    def ingested(ctx: Any, name: str) -> Any:
        table = ingest_table(ctx, name)
        if name == "patients":
            whole_patients.append(weakref.ref(table.frame))
        return table

    def contracts(ctx: Any, frames: Any) -> Any:
        gc.collect()
        connected = os.getpid() in sql_engine._SHARED
        at_contracts.append((connected, whole_patients[0]() is not None))
        return run_contracts(ctx, frames)

    monkeypatch.setattr(partitioned, "ingest_table", ingested)
    monkeypatch.setattr(partitioned, "run_contracts", contracts)
    run_partitioned(prepare(_settings(extract, tmp_path)), 2)
    assert at_contracts == [(False, False)]
    _assert_same_outputs(single, tmp_path)


def test_the_partitions_long_frames_wait_in_the_spill_folder_while_the_contracts_run(
    dirty: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each screened partition's sodium results and quarantined rows are not held in memory
    while the contracts run (their step is a large run's memory peak): they wait as owner-only
    files in the spill folder, read back for the merge, which gives a single run's bytes."""
    extract, single = dirty
    spill_root = tmp_path / "spill"
    at_contracts: list[dict[str, tuple[int, int]]] = []
    run_contracts = partitioned.run_contracts

    def contracts(ctx: Any, frames: Any) -> Any:
        files = sorted(spill_root.glob("*/screened-*"))
        at_contracts.append({f.name: (f.stat().st_mode & 0o777, count_rows(f)) for f in files})
        return run_contracts(ctx, frames)

    monkeypatch.setattr(partitioned, "run_contracts", contracts)
    run_partitioned(prepare(_settings(extract, tmp_path / "out")), 3, spill_root=spill_root)
    [held] = at_contracts
    names = {f"screened-{p}-{n}.arrow" for p in range(3) for n in ("sodium_results", "quarantine")}
    assert set(held) == names
    assert {mode for mode, _ in held.values()} == {0o600}
    assert sum(rows for name, (_, rows) in held.items() if "quarantine" in name) > 0
    assert sum(rows for name, (_, rows) in held.items() if "sodium" in name) > 0
    _assert_same_outputs(single, tmp_path / "out")
    assert not list(spill_root.iterdir())  # and they go with the spill folder


def test_partitioned_parquet_hive_dataset(tmp_path: Path) -> None:
    """A hive-partitioned Parquet dataset screens as the same table in one CSV file."""
    extract = tmp_path / "extract"
    shutil.copytree(SAMPLE, extract)
    labs = pd.read_csv(extract / "labs.csv", dtype=str, keep_default_na=False)
    (extract / "labs.csv").unlink()
    for month, rows in (("10", labs.iloc[:40]), ("11", labs.iloc[40:])):
        folder = extract / "labs" / "year=2026" / f"month={month}"
        folder.mkdir(parents=True)
        table = pa.Table.from_pandas(rows.replace("", None), preserve_index=False)
        pq.write_table(table, folder / "part-0.parquet")
    run_pipeline(_settings(extract, tmp_path / "single"))
    run_partitioned(prepare(_settings(extract, tmp_path / "parts")), 4)
    _assert_same_outputs(tmp_path / "single", tmp_path / "parts")
    golden = pd.read_csv(tmp_path / "single" / "review_list.csv", dtype=str)
    expected = pd.read_csv(
        ROOT / "tests" / "data" / "golden" / "sample" / "expected_review_list.csv", dtype=str
    )
    assert list(golden["patient_id"]) == list(expected["patient_id"])


def test_partitions_are_automatic_above_the_threshold(tmp_path: Path) -> None:
    ctx = prepare(_settings(SAMPLE, tmp_path))
    assert resolve_partitions(ctx, None) == 1
    assert resolve_partitions(ctx, 5) == 5
    with pytest.raises(ConfigError, match="--partitions"):
        resolve_partitions(ctx, 0)
    with pytest.raises(ConfigError, match="executor"):
        run_screen(ctx, executor="spark")


def test_dask_local_cluster_writes_the_bytes_of_the_local_executor(
    dirty: tuple[Path, Path], tmp_path: Path
) -> None:
    """Partition work on a LocalCluster of 2 worker processes gives identical outputs."""
    pytest.importorskip("distributed")
    extract, single = dirty
    run_partitioned(prepare(_settings(extract, tmp_path / "dask")), 3, executor="dask")
    _assert_same_outputs(single, tmp_path / "dask")


def test_cli_takes_partitions_and_executor(dirty: tuple[Path, Path], tmp_path: Path) -> None:
    """`--partitions 3 --executor local --no-flow` writes the single run's bytes (exit 4: the
    extract's malformed line warns)."""
    from hyposcreen.cli import main

    extract, single = dirty
    argv = ["run", "--no-flow", "--input", str(extract), "--out", str(tmp_path)]
    argv += ["--window-start", WINDOW[0], "--window-end", WINDOW[1]]
    assert main([*argv, "--partitions", "3", "--executor", "local"]) == 4
    _assert_same_outputs(single, tmp_path / DAY)
    with pytest.raises(SystemExit):
        main([*argv, "--partitions", "0"])


@pytest.mark.flow
def test_flow_runs_partitioned(
    prefect_harness: None, dirty: tuple[Path, Path], tmp_path: Path
) -> None:
    """The nightly flow's partitions parameter gives the single run's bytes."""
    from flows.nightly import nightly_screen

    extract, single = dirty
    nightly_screen(
        input=str(extract),
        out=str(tmp_path),
        window_start=WINDOW[0],
        window_end=WINDOW[1],
        partitions=2,
    )
    _assert_same_outputs(single, tmp_path / DAY)


def test_site_mapping_extract_partitions_like_a_single_run(tmp_path: Path) -> None:
    """Renamed columns, a lab dictionary, Latin-1 text and a time zone survive the spill."""
    site = ROOT / "sample_data" / "site_example"

    def settings(out: Path) -> RunSettings:
        return RunSettings(
            input_dir=site / "extract",
            out_dir=out,
            window=parse_window("2026-11-20", "2026-11-21", "Europe/Berlin"),
            mapping_path=site / "site_mapping.yaml",
        )

    run_pipeline(settings(tmp_path / "single"))
    run_partitioned(prepare(settings(tmp_path / "parts")), 4)
    _assert_same_outputs(tmp_path / "single", tmp_path / "parts")


def test_a_highly_compressed_extract_is_counted_while_it_streams(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """1 row repeated, in two gzip members (the last one tiny, so its trailer says ~60 bytes):
    the .gz is streamed once, its decompressed size drives the estimate, and a table above the
    in-memory threshold (lowered to 50k rows) is read in partitions."""
    import gzip

    from hyposcreen.config import RunSettings, parse_window
    from hyposcreen.context import prepare
    from hyposcreen.ingest.linescan import scanned
    from hyposcreen.runners import spill

    folder = tmp_path / "in"
    folder.mkdir()
    line = b"P1,2026-11-20T08:00:00,128,mmol/L,2951-2,serum,final\n"
    header = b"patient_id,specimen_time,value_raw,unit,loinc,specimen_type,status\n"
    (folder / "labs.csv.gz").write_bytes(
        gzip.compress(header + line * 199_999) + gzip.compress(line)
    )
    for name in ("medications", "diagnoses"):
        (folder / f"{name}.csv").write_text("patient_id,start_time,drug_name\n")
    ctx = prepare(RunSettings(folder, tmp_path / "out", parse_window("2026-11-20", "2026-11-21")))
    compressed = (folder / "labs.csv.gz").stat().st_size
    assert compressed * 6 / len(line) < 20_000  # what a fixed ratio alone would estimate
    assert int.from_bytes((folder / "labs.csv.gz").read_bytes()[-4:], "little") == len(line)
    assert 190_000 <= spill.estimate_lab_rows(ctx) <= 210_000
    counted = scanned(folder / "labs.csv.gz", 16 << 20)
    assert (counted.line_ends, counted.size) == (200_001, len(header) + 200_000 * len(line))
    monkeypatch.setattr(spill, "AUTO_ROWS_PER_PARTITION", 50_000)
    assert resolve_partitions(ctx, None) == 1  # in memory up to IN_MEMORY_ROWS
    monkeypatch.setattr(spill, "IN_MEMORY_ROWS", 150_000)
    assert resolve_partitions(ctx, None) == 4


def test_an_in_memory_run_that_outgrows_its_estimate_switches_to_partitions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The rows are counted while they stream: past the cap (here lowered to 50 rows for the
    171-row sample) the run goes partitioned and writes the same review list."""
    from hyposcreen.config import RunSettings, parse_window
    from hyposcreen.context import prepare
    from hyposcreen.ingest.canonical import SCHEMAS
    from hyposcreen.ingest.tabular import TooLargeForMemory, read_table
    from hyposcreen.runners import partitioned, spill

    sample = Path(__file__).resolve().parents[1] / "sample_data" / "canonical"
    with pytest.raises(TooLargeForMemory, match="more than 50 rows"):
        read_table(sample, SCHEMAS["labs"], prepare(_sample_settings(sample, tmp_path)).mapping,
                   max_rows=50)  # fmt: skip
    monkeypatch.setattr(spill, "MEMORY_ROW_CAP", 50)
    window = parse_window("2026-11-20", "2026-11-21")
    plain = partitioned.run_screen(prepare(RunSettings(sample, tmp_path / "a", window)), 1)
    grown = partitioned.run_screen(prepare(RunSettings(sample, tmp_path / "b", window)), None)
    assert grown.manifest["partitions"] >= 2
    assert grown.review_csv.read_bytes() == plain.review_csv.read_bytes()


def _sample_settings(sample: Path, tmp_path: Path):  # type: ignore[no-untyped-def]
    from hyposcreen.config import RunSettings, parse_window

    return RunSettings(sample, tmp_path / "x", parse_window("2026-11-20", "2026-11-21"))


def test_a_partition_failing_on_a_dask_worker_logs_nothing_of_its_error(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Dask worker logs a task that raises, with the error's text and traceback, on the
    run's stderr; a bug's text may quote the extract. The partition's error comes back to the
    run instead, a bug told by its kind only (as the CLI and the flow tell it)."""
    monkeypatch.delenv("HYPOSCREEN_DEBUG", raising=False)

    def fails(ctx: object, folder: Path, part: int) -> None:
        raise ValueError(f"could not convert 'MRN-PLANTED-{part}' to float")

    with executor_for("dask", None) as run_all, pytest.raises(InternalError) as raised:
        run_all(fails, {"site": "test"}, tmp_path, range(2))  # type: ignore[arg-type]
    assert raised.value.kind == "ValueError"
    err = capfd.readouterr().err
    assert "MRN-PLANTED" not in err and "Traceback" not in err, err


def test_the_local_dask_cluster_takes_no_other_client(tmp_path: Path) -> None:
    """The run's own cluster holds the partitions' patient rows and runs what a client sends:
    another local user's client without the run's credentials is refused."""

    def scheduler_of(ctx: object, folder: Path, part: int) -> str:
        from distributed import get_worker

        return str(get_worker().scheduler.address)

    with executor_for("dask", None) as run_all:
        [address] = run_all(scheduler_of, {"site": "t"}, tmp_path, range(1))  # type: ignore[arg-type]
        with pytest.raises(Exception):  # refused, in whichever words the library uses
            Client(address, timeout=5)


def test_the_local_dask_clusters_folder_is_the_runs_scratch_and_goes_with_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What a Dask worker spills of a partition (patient rows) lies in its local folder: the
    run's own held scratch folder in $TMPDIR, removed when the cluster closes, never the
    shared `$TMPDIR/dask-scratch-space` a run left behind."""
    scratch_root = tmp_path / "tmp"
    scratch_root.mkdir()
    monkeypatch.setenv("TMPDIR", str(scratch_root))
    monkeypatch.setattr(tempfile, "tempdir", str(scratch_root))

    def worker_folder(ctx: object, folder: Path, part: int) -> str:
        from distributed import get_worker

        return str(get_worker().local_directory)

    with executor_for("dask", None) as run_all:
        [used] = run_all(worker_folder, {"site": "t"}, tmp_path, range(1))  # type: ignore[arg-type]
        inside = Path(used).relative_to(scratch_root).parts[0]
        assert inside.startswith(f"hyposcreen-rows-{os.getpid()}-dask-"), used
    assert list(scratch_root.iterdir()) == []


def test_a_partition_is_screened_again_only_when_a_warning_flagged_a_row_it_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Partitions are screened as they are cleaned, before the contracts (as the in-memory run
    screens beside its contracts worker). A furosemide whose end time does not read is kept by
    cleaning and quarantined by its contract: only its partition is screened again, without
    it (no loop diuretic), and the outputs are the single run's; a night whose warnings
    flag no used row screens no partition again."""
    extract = tmp_path / "in"
    extract.mkdir()
    write(extract, "labs.csv", to_csv([lab(), glucose()], LAB_COLUMNS))
    write(extract, "medications.csv", to_csv([med(end="soon")], MED_COLUMNS))
    write(extract, "diagnoses.csv", to_csv([dx()], DX_COLUMNS))
    again = _partitions_screened_again(monkeypatch)
    run_pipeline(_settings(extract, tmp_path / "single"))
    run_partitioned(prepare(_settings(extract, tmp_path / "parts")), 3)
    _assert_same_outputs(tmp_path / "single", tmp_path / "parts")
    manifest = json.loads((tmp_path / "parts" / "run_manifest.json").read_text())
    assert manifest["validation"]["rows_quarantined_by_contract"]["medications"] == 1
    assert "loop_diuretic" not in (tmp_path / "parts" / "review_list.csv").read_text()
    held = partition_of(pd.Series(["P1"], dtype="str"), 3)
    assert again == [int(held[0])]

    again.clear()
    write(extract, "medications.csv", to_csv([med()], MED_COLUMNS))
    run_pipeline(_settings(extract, tmp_path / "single-2"))
    run_partitioned(prepare(_settings(extract, tmp_path / "parts-2")), 3)
    _assert_same_outputs(tmp_path / "single-2", tmp_path / "parts-2")
    assert "loop_diuretic" in (tmp_path / "parts-2" / "review_list.csv").read_text()
    assert again == []


def test_a_critical_contract_failure_stops_the_run_even_when_a_first_screen_failed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A partition is screened before the contracts; when that screen fails, the contracts'
    critical failure (forty copies of one result: a broken delivery) is still what stops the
    run, as when the screen came after them."""
    extract = tmp_path / "in"
    extract.mkdir()
    write(extract, "labs.csv", to_csv([lab() for _ in range(40)] + [glucose()], LAB_COLUMNS))
    write(extract, "medications.csv", to_csv([med()], MED_COLUMNS))
    write(extract, "diagnoses.csv", to_csv([dx()], DX_COLUMNS))

    def screen_fails(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("a screen that failed")

    monkeypatch.setattr(partition_work.recipe, "screen", screen_fails)
    with pytest.raises(InputError, match="critical data check"):
        run_partitioned(prepare(_settings(extract, tmp_path / "parts")), 2)


def test_a_warning_on_a_row_cleaning_set_aside_screens_no_partition_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A medication without a start time is quarantined by cleaning and flagged by its
    contract too: the warning quarantines no row a partition used (a medication's written
    contract columns hold its bucket but not its reason), so no partition is screened again
    and the outputs are the single run's."""
    extract = tmp_path / "in"
    extract.mkdir()
    write(extract, "labs.csv", to_csv([lab(), glucose()], LAB_COLUMNS))
    write(extract, "medications.csv", to_csv([med(), med(start="")], MED_COLUMNS))
    write(extract, "diagnoses.csv", to_csv([dx(), dx(recorded="")], DX_COLUMNS))
    again = _partitions_screened_again(monkeypatch)
    run_pipeline(_settings(extract, tmp_path / "single"))
    run_partitioned(prepare(_settings(extract, tmp_path / "parts")), 3)
    _assert_same_outputs(tmp_path / "single", tmp_path / "parts")
    manifest = json.loads((tmp_path / "parts" / "run_manifest.json").read_text())
    assert manifest["validation"]["rows_quarantined_by_contract"]["medications"] == 0
    assert again == []


def _partitions_screened_again(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The partitions the partitioned runner screens again after the contracts, in order (the
    real screen still runs)."""
    again: list[int] = []
    screen_partition = partitioned.screen_partition

    def screened_again(ctx: Any, folder: Path, part: int) -> Any:
        again.append(part)
        return screen_partition(ctx, folder, part)

    monkeypatch.setattr(partitioned, "screen_partition", screened_again)
    return again
