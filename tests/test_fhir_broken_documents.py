"""A JSON document that does not parse is a whole record lost (Synthea writes one per patient):
quarantined `broken_document`, and the night exits 4 saying so, never a quiet exit 0. The
warning names no file: Synthea's file names carry the patient's name (real CLI, real files)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fhir_generators import listed, quarantined, run, write_json
from hyposcreen.errors import EXIT_SCREENED_WITH_WARNINGS
from test_fhir_synthea_bundles import A, B, patient_a, patient_b


def test_a_cut_off_document_is_quarantined_and_the_night_warns(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "in"
    text = json.dumps(patient_a(), indent=2)
    folder.mkdir()
    (folder / f"Ana_Kub_{A}.json").write_text(text[: len(text) // 2], encoding="utf-8")
    write_json(folder / f"Bo_Li_{B}.json", patient_b())
    status, err = run(capsys, folder, tmp_path / "out")
    assert status == EXIT_SCREENED_WITH_WARNINGS, err
    warning = next(line for line in err.splitlines() if "could not be read as JSON" in line)
    assert "Kub" not in warning
    assert B in listed(tmp_path / "out")
    assert ("labs", f"Ana_Kub_{A}.json", "1", "broken_document") in quarantined(tmp_path / "out")
