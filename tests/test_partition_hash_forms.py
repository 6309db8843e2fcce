"""The patient-hash partition of ids written otherwise: every id that cleaning keys as one
patient lands in one partition, whatever form or Arrow type it was read in."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from hyposcreen.clean.buckets import patient_codes
from hyposcreen.config import RunSettings, parse_window
from hyposcreen.context import prepare
from hyposcreen.runners.in_process import run_pipeline
from hyposcreen.runners.partition_hash import TablePartitions, id_hash, partition_of
from hyposcreen.runners.partitioned import run_partitioned

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data" / "canonical"
WINDOW = parse_window("2026-11-20T00:00:00", "2026-11-21T00:00:00")
OUTPUTS = ("review_list.csv", "evidence.csv", "quarantine.csv", "review_list.parquet")

# one patient (P1) as exports write it: cleaning keys every one of them as `P1`
P1_FORMS = [
    "P1",
    " P1 ",
    "\tP1\r",
    "\xa0P1\xa0",  # no-break spaces
    "P1\u3000",
    "P1\u200b",  # zero-width space after
    "\ufeffP1",  # byte order mark before
    "P\u200b1",  # zero-width space inside
    "\u200dP1\u2060",  # zero-width joiner, word joiner
    "P1\u200c",
    "P1\x00",  # a database's CHAR padding
    " \u200bP1\x00 ",
]


@pytest.mark.parametrize("partitions", [3, 7, 101, 997])
def test_ids_cleaning_keys_as_one_patient_share_a_partition(partitions: int) -> None:
    ids = pd.Series(P1_FORMS, dtype="str")
    _, _, key = patient_codes(ids)
    assert len(set(key.tolist())) == 1  # cleaning makes them one patient
    assert len(set(partition_of(ids, partitions).tolist())) == 1


def test_the_other_forms_share_a_partition_and_other_writings_stay_apart() -> None:
    """Letter case, a spreadsheet's apostrophe and leading zeros meet (their warnings' counts
    add up); an id in another Unicode normalisation is another id to cleaning, as to the hash."""
    ids = pd.Series(["P1", "p1", "'P1", " 'p1\u200b", "000123", "123.0", "'000123", "123"])
    parts = partition_of(ids, 997).tolist()
    assert len(set(parts[:4])) == 1 and len(set(parts[4:])) == 1
    accents = pd.Series(["caf\u00e9", "cafe\u0301"], dtype="str")
    _, _, key = patient_codes(accents)
    assert key[0] != key[1]


def test_a_partition_is_the_same_whatever_arrow_type_holds_the_ids() -> None:
    texts = [f"  Pat-{i}\u200b" if i % 3 else f"ärztin {i}" for i in range(50)] + [None, ""]
    expected = partition_of(pd.Series(texts, dtype="str"), 7).tolist()
    arrays = {
        "large_string": pa.array(texts, pa.large_string()),
        "string": pa.array(texts, pa.string()),
        "string_view": pa.array(texts, pa.string_view()),
        "dictionary": pa.array(texts, pa.string()).dictionary_encode(),
    }
    for name, array in arrays.items():  # as the readers hand a batch to pandas
        series = pd.Series(array.to_pandas(types_mapper=None))
        assert partition_of(series, 7).tolist() == expected, name
        if name != "string_view":  # pandas casts no Arrow-backed string_view to str
            arrow_backed = pd.Series(pd.arrays.ArrowExtensionArray(array))
            assert partition_of(arrow_backed, 7).tolist() == expected, name
    # a slice of a batch (its buffers hold the ids before it) and a chunked column
    whole = pa.array(["x" * 40, *texts], pa.large_string())
    sliced = pd.Series(pd.arrays.ArrowExtensionArray(whole.slice(1)))
    assert partition_of(sliced, 7).tolist() == expected
    chunked = pa.chunked_array([pa.array(texts[:20]), pa.array(texts[20:])])
    assert partition_of(pd.Series(pd.arrays.ArrowExtensionArray(chunked)), 7).tolist() == expected


def test_ids_hashed_a_row_at_a_time_land_where_grouped_ids_do() -> None:
    """Hashing every row's id (a table of mostly distinct ids) puts each id in the partition
    grouping puts it in, also the forms cleaning keys as one patient, missing ids and ids
    longer than the hashed bytes."""
    texts = [*P1_FORMS, "p1", "'P1", "000123", "123.0", "123", None, "", "é" * 300]
    texts += [f" Pat-{i}\u200b" for i in range(200)]
    ids = pd.Series(texts * 2, dtype="str")
    for partitions in (2, 7, 997):
        grouped = partition_of(ids, partitions).tolist()
        assert partition_of(ids, partitions, grouped=False).tolist() == grouped
        assert len(set(grouped[: len(P1_FORMS) + 2])) == 1


def test_a_table_of_distinct_ids_stops_grouping_them_and_its_partitions_stay() -> None:
    """A batch of 65,536 rows or more whose ids are over a quarter distinct switches the
    table's later batches to hashing each row's id; a batch of repeated ids does not."""
    distinct = pd.Series([f"M{i}" for i in range(70_000)], dtype="str")
    repeated = pd.Series([f"L{i % 1000}" for i in range(70_000)], dtype="str")  # 1.4 % distinct
    labs = TablePartitions(8)
    assert labs(repeated).tolist() == partition_of(repeated, 8).tolist()
    assert labs.grouped  # 1,000 distinct ids in 70,000 rows: grouping pays
    small = TablePartitions(8)
    small(distinct.iloc[:100])  # too few rows to judge
    assert small.grouped
    medications = TablePartitions(8)
    first = medications(distinct)
    assert not medications.grouped
    assert first.tolist() == partition_of(distinct, 8).tolist()
    assert medications(repeated).tolist() == partition_of(repeated, 8).tolist()


def test_the_hash_of_a_sliced_array_is_the_hash_of_its_own_ids() -> None:
    whole = pa.array(["", "a", "bb", "ccc", "é" * 500, "zz"], pa.large_string())
    for start in range(len(whole)):
        part = whole.slice(start)
        assert id_hash(part).tolist() == id_hash(pa.array(part.to_pylist())).tolist()
    assert id_hash(pa.array(["a", "b"], pa.string()).slice(1)).tolist() == (
        id_hash(pa.array(["b"], pa.large_string())).tolist()
    )


def _invisible_ids_extract(folder: Path) -> Path:
    """The sample with the medications' and diagnoses' patient ids written with invisible
    characters, a case or an apostrophe (diagnoses as Parquet, its ids dictionary-encoded)."""
    shutil.copytree(SAMPLE, folder)
    forms = ["{}\u200b", "\ufeff{}", "{}\x00", "\u200d{}\u2060", " {} ", "'{}", "{}\u200c"]
    for name, shift in (("medications", 0), ("diagnoses", 3)):
        frame = pd.read_csv(folder / f"{name}.csv", dtype="str", keep_default_na=False)
        frame["patient_id"] = [
            forms[(row + shift) % len(forms)].format(value)
            for row, value in enumerate(frame["patient_id"])
        ]
        if name == "diagnoses":
            (folder / "diagnoses.csv").unlink()
            table = pa.Table.from_pandas(frame, preserve_index=False)
            ids = table.column("patient_id").cast(pa.large_string()).dictionary_encode()
            table = table.set_column(0, "patient_id", ids)
            pq.write_table(table, folder / "diagnoses.parquet", row_group_size=4)
        else:
            frame.to_csv(folder / "medications.csv", index=False)
    return folder


@pytest.mark.parametrize("partitions", [3, 7])
def test_a_partitioned_run_of_ids_with_invisible_characters_writes_the_single_runs_bytes(
    tmp_path: Path, partitions: int
) -> None:
    """Cleaning keys `P001` after a zero-width space as `P001`, so that medication reaches the
    patient's case; the partitioned run puts it in the patient's partition, where it does."""
    extract = _invisible_ids_extract(tmp_path / "extract")
    single, split = tmp_path / "single", tmp_path / "split"
    run_pipeline(RunSettings(input_dir=extract, out_dir=single, window=WINDOW))
    run_partitioned(
        prepare(RunSettings(input_dir=extract, out_dir=split, window=WINDOW)), partitions
    )
    for name in OUTPUTS:
        assert (single / name).read_bytes() == (split / name).read_bytes(), name


def test_an_id_of_many_megabytes_is_hashed_in_a_moment() -> None:
    """A row may hold 16 MiB (contracts.max_row_bytes): an id that long costs the batch no
    step per byte; ids alike but in their middle may share a partition, the same id always
    does."""
    long_id = "P" + "x" * (8 << 20)
    ids = pd.Series([*(f"P{i}" for i in range(10_000)), long_id, " " + long_id], dtype="str")
    started = time.perf_counter()
    parts = partition_of(ids, 7)
    assert time.perf_counter() - started < 5
    assert parts[-1] == parts[-2]
