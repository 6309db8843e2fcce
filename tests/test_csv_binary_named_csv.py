"""A table file named `.csv` that holds a known binary format, as an export job's rename or a
copy gets wrong, stops the night (exit 3) saying what it is and what to do: a gzip stream is to
be named `.csv.gz`, a Parquet file `.parquet`, a zip archive unpacked. Before, the message only
said the file held binary bytes."""

from __future__ import annotations

import gzip
import io
import shutil
import zipfile
from pathlib import Path

import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from sample_delivery import SAMPLE, screen


def _gzip(text: bytes) -> bytes:
    return gzip.compress(text, mtime=0)


def _parquet(text: bytes) -> bytes:
    sink = io.BytesIO()
    pq.write_table(pacsv.read_csv(io.BytesIO(text)), sink)
    return sink.getvalue()


def _zip(text: bytes) -> bytes:
    sink = io.BytesIO()
    with zipfile.ZipFile(sink, "w") as packed:
        packed.writestr("labs.csv", text)
    return sink.getvalue()


@pytest.mark.parametrize(
    ("pack", "told"),
    [
        (_gzip, "it is gzip-compressed: name it .csv.gz"),
        (_parquet, "it is a Parquet file: name it .parquet"),
        (_zip, "it is a zip archive: unpack the table file from it"),
    ],
)
def test_a_binary_table_named_csv_is_told_what_it_is(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    pack,
    told: str,  # type: ignore[no-untyped-def]
) -> None:
    folder = shutil.copytree(SAMPLE, tmp_path / "delivery")
    labs = folder / "labs.csv"
    labs.write_bytes(pack(labs.read_bytes()))
    status, night = screen(folder)
    err = capsys.readouterr().err
    assert status == 3, err
    assert "labs.csv is not a text CSV file (it holds binary bytes: " + told in err
    assert not (night / "review_list.csv").exists()
