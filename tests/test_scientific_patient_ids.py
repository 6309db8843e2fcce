"""Long numeric patient ids that passed through a spreadsheet arrive in scientific notation
(`1.23457E+11`): the spreadsheet kept six digits, so patients whose 12-digit ids begin alike are
one id, and their results meet as one patient's (a trend, a duplicate, a pairing across
patients), exit 0 unless the duplicates happened to breach a contract. Each table holding such
an id now warns (`scientific_patient_ids`, exit 4, counts only), in one process and in
partitions alike."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from sample_delivery import SAMPLE, rewrite_patient_ids, screen

# P001-P009 as 12-digit ids 123456000001…, as a spreadsheet shows them: the nine
# patients P001-P009 read as the id 1.23456E+11; the others keep their own ids
MANGLED = {f"P{n:03d}": "1.23456E+11" for n in range(1, 10)}


def _mangled(folder: Path, table: str) -> None:
    rewrite_patient_ids(folder, table, lambda ids: ids.replace(MANGLED))


@pytest.mark.parametrize("partitions", ["1", "3"])
def test_ids_in_scientific_notation_warn(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], partitions: str
) -> None:
    folder = shutil.copytree(SAMPLE, tmp_path / "delivery")
    _mangled(folder, "labs")
    _mangled(folder, "medications")
    status, night = screen(folder, "--partitions", partitions)
    err = capsys.readouterr().err
    assert status == 4
    manifest = json.loads((night / "run_manifest.json").read_text())
    found = [w["message"] for w in manifest["warnings"] if w["code"] == "scientific_patient_ids"]
    # labs: 64 distinct ids, P001-P009 now one: 56; medications: 28 ids, 7 of P001-P009: 22
    assert [m.split(" are written")[0] for m in found] == [
        "1 of the 56 patient id(s) of table labs",
        "1 of the 22 patient id(s) of table medications",
    ]
    assert all(f"warning: {m}" in err for m in found)
    assert "1.23456E+11" not in err and "1.23456E+11" not in json.dumps(manifest["warnings"])
