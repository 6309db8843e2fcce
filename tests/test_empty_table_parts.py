"""A table delivered as a folder of monthly files where one month's file holds nothing (zero
bytes, as some export tools write a month with no rows) stopped the night (exit 3: "is empty:
it has no header line"). That file is now read as no rows: the other parts are screened, the
manifest lists it with 0 rows, control totals reconcile, and the run warns naming it (exit 4:
it cannot be told from an export that stopped before writing). A table whose only files are
empty still stops the night."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from sample_delivery import SAMPLE, screen

# the sample's labs.csv: a header and 171 data rows, split 89 + 82 over two months
FIRST_MONTH_ROWS = 89


def _monthly_labs(folder: Path, empty_name: str, content: bytes = b"") -> Path:
    """`folder`'s labs.csv as labs/2026-10.csv and labs/2026-11.csv (each with the header),
    beside an empty labs/`empty_name` (a CSV of `content`)."""
    header, *rows = (folder / "labs.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    (folder / "labs.csv").unlink()
    parts = folder / "labs"
    parts.mkdir()
    (parts / "2026-10.csv").write_text(header + "".join(rows[:FIRST_MONTH_ROWS]), "utf-8")
    (parts / "2026-11.csv").write_text(header + "".join(rows[FIRST_MONTH_ROWS:]), "utf-8")
    empty = parts / empty_name
    if empty_name.endswith(".gz"):
        with gzip.open(empty, "wb"):
            pass  # a gzip stream of nothing
    else:
        empty.write_bytes(content)
    return empty


def _review(night: Path) -> pd.DataFrame:
    return pd.read_csv(night / "review_list.csv", dtype=str).drop(columns=["run_id"])


@pytest.mark.parametrize("options", [(), ("--partitions", "3")], ids=["in_memory", "partitions"])
@pytest.mark.parametrize("empty_name", ["2026-09.csv", "2026-09.csv.gz"])
def test_an_empty_monthly_part_is_read_as_no_rows_and_warned(
    tmp_path: Path, empty_name: str, options: tuple[str, ...]
) -> None:
    folder = shutil.copytree(SAMPLE, tmp_path / "delivery")
    _monthly_labs(folder, empty_name)
    (folder / "labs.count").write_text("171\n", encoding="utf-8")  # the two months' rows
    declared = {f"labs/{empty_name}": {"rows": 0}, "labs/2026-10.csv": {"rows": 89}}
    (folder / "delivery_manifest.json").write_text(json.dumps({"files": declared}), "utf-8")
    status, night = screen(folder, *options)
    _, expected = screen(shutil.copytree(SAMPLE, tmp_path / "sample"))
    assert status == 4
    pd.testing.assert_frame_equal(_review(night), _review(expected))
    manifest = json.loads((night / "run_manifest.json").read_text())
    want = json.loads((expected / "run_manifest.json").read_text())
    assert manifest["reconciliation"] == want["reconciliation"]
    rows = {Path(f["path"]).name: f["rows"] for f in manifest["inputs"]["labs"]}
    assert rows == {empty_name: 0, "2026-10.csv": 89, "2026-11.csv": 82}
    assert [w["code"] for w in manifest["warnings"]] == ["empty_file"]
    message = manifest["warnings"][0]["message"]
    assert message.startswith("table labs: 1 of 3 file(s) hold nothing (no header line, no rows)")
    assert f"labs/{empty_name}" in message


@pytest.mark.parametrize("content", [b"\r\n", b"\xef\xbb\xbf", b"\xef\xbb\xbf\r\n"])
def test_a_part_of_a_line_end_or_a_byte_order_mark_alone_holds_nothing(
    tmp_path: Path, content: bytes
) -> None:
    """As Excel's "CSV UTF-8" saves an empty sheet; it stopped the night, as an empty file or
    as a header lacking the required columns."""
    folder = shutil.copytree(SAMPLE, tmp_path / "delivery")
    _monthly_labs(folder, "2026-09.csv", content)
    status, night = screen(folder)
    assert status == 4
    manifest = json.loads((night / "run_manifest.json").read_text())
    assert [w["code"] for w in manifest["warnings"]] == ["empty_file"]
    assert manifest["reconciliation"]["labs"]["rows_in"] == 171


def test_a_table_of_empty_files_alone_still_stops(tmp_path: Path) -> None:
    folder = shutil.copytree(SAMPLE, tmp_path / "delivery")
    empty = _monthly_labs(folder, "2026-09.csv")
    for part in empty.parent.iterdir():
        part.write_bytes(b"")
    status, _ = screen(folder)
    assert status == 3
