"""A delivery whose labs write their patient ids otherwise than its medications and diagnoses
(Excel turned the labs' ids into numbers, `1.0`; the other tables keep `1`): no risk factor
reaches a case, so the list is short yet looked complete (exit 0). It now warns (exit 4) for
each table sharing no patient id with the labs, with counts only, in one process and in
patient-hash partitions alike; the sample, whose tables name the same patients, does not."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from sample_delivery import SAMPLE, rewrite_patient_ids, screen

# distinct non-empty patient ids of the sample's tables (cut -d, -f1 | sort -u)
LAB_PATIENTS, MEDICATION_PATIENTS, DIAGNOSIS_PATIENTS = 64, 28, 10


def _numbered(folder: Path, table: str, suffix: str) -> None:
    """`table`'s ids as numbers (P007 -> 7), followed by `suffix`."""
    rewrite_patient_ids(folder, table, lambda ids: ids.str[1:].astype(int).astype(str) + suffix)


@pytest.mark.parametrize("partitions", ["1", "3"])
def test_tables_sharing_no_patient_with_the_labs_warn(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], partitions: str
) -> None:
    folder = shutil.copytree(SAMPLE, tmp_path / "delivery")
    _numbered(folder, "labs", ".0")
    _numbered(folder, "medications", "")
    _numbered(folder, "diagnoses", "")
    status, night = screen(folder, "--partitions", partitions)
    err = capsys.readouterr().err
    assert status == 4
    manifest = json.loads((night / "run_manifest.json").read_text())
    unmatched = [w["message"] for w in manifest["warnings"] if w["code"] == "unmatched_patient_ids"]
    assert unmatched == [
        f"none of the {DIAGNOSIS_PATIENTS} patient id(s) of table diagnoses is among the "
        f"{LAB_PATIENTS} of table labs: no risk factor from diagnoses can reach a case. Are "
        "the ids written alike in every table (leading zeros, 123 against 123.0, a prefix, "
        "an admission id against a patient number)?",
        f"none of the {MEDICATION_PATIENTS} patient id(s) of table medications is among the "
        f"{LAB_PATIENTS} of table labs: no risk factor from medications can reach a case. Are "
        "the ids written alike in every table (leading zeros, 123 against 123.0, a prefix, "
        "an admission id against a patient number)?",
    ]
    assert all(f"warning: {text}" in err for text in unmatched)
    assert "7.0" not in err and "7.0" not in json.dumps(manifest["warnings"])


def test_the_sample_names_the_same_patients_in_every_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, night = screen(shutil.copytree(SAMPLE, tmp_path / "delivery"))
    assert status == 0
    assert "unmatched_patient_ids" not in (night / "run_manifest.json").read_text()
    assert "hyposcreen: warning" not in capsys.readouterr().err
