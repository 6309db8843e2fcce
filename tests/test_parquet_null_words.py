"""A SQL client's Parquet export of a table whose columns were cast to text writes an absent
value as its null word (`NULL`, `null`, `(null)`, `\\N`: rules/null_words.csv). The CSV reader
reads these words as empty cells in every column; the Parquet reader read them as text, so an
ongoing medication's `NULL` end_time was a time that does not read (quarantined, its drug lost
to the screen). Both readers now read them alike: the same delivery as Parquet with the words
screens as the CSV sample does (review list, evidence, reconciliation)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest
from tests.sample_delivery import SAMPLE, screen

from hyposcreen.ingest.parquet_batches import null_words_as_nulls
from hyposcreen.ingest.row_filter import decoded

TABLES = ("labs", "medications", "diagnoses", "patients")


def as_text_parquet(tmp_path: Path, word: str | None, dictionary: bool = False) -> Path:
    """The sample as Parquet files of text columns, every empty cell written as `word` (None:
    a real null)."""
    folder = tmp_path / f"parquet_{word!r}_{dictionary}"
    folder.mkdir()
    for name in TABLES:
        frame = pd.read_csv(SAMPLE / f"{name}.csv", dtype=str, keep_default_na=False)
        frame = frame.mask(frame == "", word)
        if dictionary:  # written from categoricals: dictionary-encoded Arrow columns
            frame = frame.astype("category")
        frame.to_parquet(folder / f"{name}.parquet", index=False)
    return folder


def outputs(night: Path) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, object]]:
    review = pd.read_csv(night / "review_list.csv", dtype=str).drop(columns=["run_id"])
    evidence = pd.read_csv(night / "evidence.csv", dtype=str)
    # the evidence names its source file (labs.csv / labs.parquet) and row: compare the rest
    evidence = evidence.drop(columns=[c for c in evidence if c.startswith("source")])
    counts = json.loads((night / "run_manifest.json").read_text())["reconciliation"]
    return review, evidence, counts


@pytest.mark.parametrize(
    ("word", "dictionary"),
    [("NULL", False), ("null", False), ("(null)", False), ("\\N", False), ("NULL", True)],
)
def test_a_parquet_export_writing_null_words_screens_as_the_csv_sample(
    tmp_path: Path, word: str, dictionary: bool
) -> None:
    csv_folder = tmp_path / "csv"
    shutil.copytree(SAMPLE, csv_folder)
    expected_status, expected = screen(csv_folder)
    status, night = screen(as_text_parquet(tmp_path, word, dictionary))
    assert status == expected_status == 0
    got, want = outputs(night), outputs(expected)
    pd.testing.assert_frame_equal(got[0], want[0])
    pd.testing.assert_frame_equal(got[1], want[1])
    assert got[2] == want[2]
    quarantine = pd.read_csv(night / "quarantine.csv", dtype=str, keep_default_na=False)
    assert not quarantine["original"].str.contains(json.dumps(word)[1:-1], regex=False).any()


def test_a_vocabulary_column_read_as_a_dictionary_is_decoded_only_when_it_holds_a_word() -> None:
    """A lab file's unit column read as a dictionary (ingest.batch_frames.coded_sites): left
    a dictionary when none of its distinct texts is a null word, else plain text with the word
    read as empty; `decoded` gives it back as plain text either way."""
    units = pa.array(["mmol/L", "mg/dL", "mmol/L", None]).dictionary_encode()
    batch = pa.record_batch({"unit": units})
    assert null_words_as_nulls(batch) is batch  # no word among mmol/L, mg/dL
    assert decoded(batch, ("unit",)).column("unit").to_pylist() == [
        "mmol/L",
        "mg/dL",
        "mmol/L",
        None,
    ]
    worded = pa.record_batch({"unit": pa.array(["mmol/L", "NULL", None]).dictionary_encode()})
    read = null_words_as_nulls(worded)
    assert read.column("unit").type == pa.string()
    assert read.column("unit").to_pylist() == ["mmol/L", None, None]
