"""A legacy (latin-1) labs CSV whose first non-ASCII byte lies after the reader's first block:
the rows before it are ASCII, read alike in both encodings, so the night reads the rest as
latin-1 and screens the whole file, with the same outputs as the same rows in UTF-8. A file
whose first rows hold UTF-8 text and a later block latin-1 mixes encodings: exit 3, naming the
file. The reader's block is made small (rules contracts.max_row_bytes, the block constant) so
that a file of a few MB spans several blocks."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from bad_input_rows import LAB_COLUMNS, glucose, lab, to_csv
from cli_night import DAY, extract, manifest, run
from hyposcreen.errors import InputError
from hyposcreen.ingest import csv_parser, text_probes
from hyposcreen.rules.loader import RULES_DIR

OUTPUTS = ("evidence.csv", "quarantine.csv", "coverage.csv")
FILLER_ROWS = 40_000  # ~2.6 MB of ASCII rows: three blocks of ~1 MB


def _small_block_rules(folder: Path) -> Path:
    """The packaged rules with contracts.max_row_bytes at 4 kB (the block is 1 MB + that)."""
    shutil.copytree(RULES_DIR, folder, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    text = (folder / "rules.yaml").read_text(encoding="utf-8")
    text, replaced = re.subn(r"max_row_bytes: *\d+", "max_row_bytes: 4096", text)
    assert replaced == 1
    (folder / "rules.yaml").write_text(text, encoding="utf-8")
    return folder


def _labs_text(last_value: str) -> str:
    """The base labs, ASCII potassium rows of other patients, then one potassium row whose
    value is `last_value` (non-numeric: quarantined with its text)."""
    filler = [
        lab("4.1", patient_id=f"F{i:05d}", loinc="2823-3", unit="mmol/L")
        for i in range(FILLER_ROWS)
    ]
    last = lab(last_value, patient_id="P9", loinc="2823-3", unit="mmol/L")
    return to_csv([lab(), glucose(), *filler, last], LAB_COLUMNS)


def _night(tmp_path: Path, name: str, labs_csv: bytes, rules: Path, capsys) -> tuple[int, str]:
    folder = extract(tmp_path / name)
    (folder / "labs.csv").write_bytes(labs_csv)
    return run(capsys, folder, tmp_path / f"{name}-out", "--rules", str(rules))


@pytest.fixture
def small_blocks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(csv_parser, "_CSV_BLOCK", 1)
    monkeypatch.setattr(text_probes, "_BLOCK", 1)
    return _small_block_rules(tmp_path / "rules")


def test_a_latin1_byte_after_the_first_block_is_read_as_latin1(
    tmp_path: Path, small_blocks: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = _labs_text("négatif")
    assert len(text.encode("latin-1")) > 2 * (4096 + (1 << 20))  # several blocks
    status, err = _night(tmp_path, "latin1", text.encode("latin-1"), small_blocks, capsys)
    assert status in (0, 4), err
    assert "Traceback" not in err
    out = tmp_path / "latin1-out" / DAY
    labs = manifest(tmp_path / "latin1-out")["reconciliation"]["labs"]
    assert labs["rows_in"] == FILLER_ROWS + 3
    assert labs["reasons"]["quarantined"] == {"non_numeric": 1}
    quarantine = pd.read_csv(out / "quarantine.csv", dtype=str, keep_default_na=False)
    [original] = quarantine["original"].map(json.loads)
    assert original["value_raw"] == "négatif"  # read as latin-1, not mojibake
    assert quarantine["source_row"].tolist() == [str(FILLER_ROWS + 4)]  # header is row 1
    # the same rows written in UTF-8 give the same outputs, byte for byte (the review list's
    # run id is a digest of the input bytes, which differ)
    status, err = _night(tmp_path, "utf8", text.encode("utf-8"), small_blocks, capsys)
    assert status in (0, 4), err
    utf8_out = tmp_path / "utf8-out" / DAY
    for name in OUTPUTS:
        assert (out / name).read_bytes() == (utf8_out / name).read_bytes(), name
    lists = [pd.read_csv(o / "review_list.csv", dtype=str) for o in (out, utf8_out)]
    assert lists[0]["run_id"][0] != lists[1]["run_id"][0]
    pd.testing.assert_frame_equal(*(r.drop(columns="run_id") for r in lists))


def test_utf8_text_then_a_latin1_block_is_a_mixed_encoding_input_error(
    tmp_path: Path, small_blocks: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = _labs_text("négatif")
    utf8_head, latin1_tail = text[: len(text) // 10], text[len(text) // 10 :]
    head = utf8_head.replace("P1,", "PÄ1,", 1).encode("utf-8")  # UTF-8 text in the first block
    status, err = _night(
        tmp_path, "mixed", head + latin1_tail.encode("latin-1"), small_blocks, capsys
    )
    assert status == InputError.exit_code, err
    assert "labs.csv" in err and "mixes encodings" in err
    assert "Traceback" not in err


def test_a_byte_order_mark_then_a_latin1_block_is_a_mixed_encoding_input_error(
    tmp_path: Path, small_blocks: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A UTF-8 byte-order mark (Excel's "CSV UTF-8") says the file is UTF-8: a latin-1 block
    after the first is a mixed encoding (exit 3), not a header read again as latin-1."""
    labs = b"\xef\xbb\xbf" + _labs_text("négatif").encode("latin-1")
    status, err = _night(tmp_path, "bom", labs, small_blocks, capsys)
    assert status == InputError.exit_code, err
    assert "labs.csv" in err and "mixes encodings" in err
    assert "Traceback" not in err and "internal error" not in err
