"""A `.csv.gz` with zero bytes after its gzip stream (a transfer or archiving tool padding the
file to its block size). gzip and Python's gzip module read such a file whole and ignore the
padding, and so did the scan that checks a `.gz` before it is parsed; the parser's own
decompressor (Arrow's) stopped on the padding, and the night ended as an internal error (exit
70: "zlib inflate failed"). Every reader of the file now decompresses it as gzip does, so the
padded file screens as the plain one."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

from sample_delivery import SAMPLE, assert_screens_as_the_sample, screen


def _gzip_labs(folder: Path, padding: bytes) -> None:
    plain = folder / "labs.csv"
    (folder / "labs.csv.gz").write_bytes(gzip.compress(plain.read_bytes()) + padding)
    plain.unlink()


def test_a_gzip_padded_with_zero_bytes_screens_as_the_sample(tmp_path: Path) -> None:
    folder = shutil.copytree(SAMPLE, tmp_path / "padded")
    _gzip_labs(folder, b"\x00" * 512)  # one tar-style block of padding
    # the sample's 171 lab rows, its 35 cases, exit 0 (before: exit 70)
    assert_screens_as_the_sample(folder, tmp_path, same_quarantine_file=False)


def test_other_bytes_after_the_gzip_stream_still_stop_the_night(tmp_path: Path) -> None:
    folder = shutil.copytree(SAMPLE, tmp_path / "garbage")
    _gzip_labs(folder, b"trailing text")
    status, night = screen(folder)
    assert status == 3  # not a readable gzip file, naming it
    assert "labs.csv.gz" in (night / "FAILED.json").read_text()
