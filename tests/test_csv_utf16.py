"""A CSV written in UTF-16 (PowerShell's `>` and `Out-File`, a SQL client's or spreadsheet's
"Unicode" export) was refused as "binary bytes" (exit 3). It is read from a UTF-8 copy whose
lines are the delivered file's: the same delivery screens as the UTF-8 sample, with the same
quarantine references (file:line)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from tests.sample_delivery import SAMPLE, assert_screens_as_the_sample


@pytest.mark.parametrize(("encoding", "line_end"), [("utf-16", "\r\n"), ("utf-16-be", "\n")])
def test_a_utf16_delivery_screens_as_the_utf8_sample(
    tmp_path: Path, encoding: str, line_end: str
) -> None:
    folder = tmp_path / "delivery"
    shutil.copytree(SAMPLE, folder)
    for name in ("labs", "medications"):
        text = (SAMPLE / f"{name}.csv").read_text(encoding="utf-8")
        # a byte-order mark says the encoding (utf-16 writes one; utf-16-be does not: add it)
        mark = "\ufeff" if encoding == "utf-16-be" else ""
        data = (mark + text.replace("\n", line_end)).encode(encoding)
        (folder / f"{name}.csv").write_bytes(data)
    assert_screens_as_the_sample(folder, tmp_path)
