"""The review list of a FHIR export written in vendors' shapes (fhir_vendor_shapes,
fhir_vendor_records) is the one an independent reading of the spec gives for the facts each
shape means (spec_screen_oracle): same patients, tier, severity, corrected sodium and risk
factors. Each shape's expectation is written beside it."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from tests.fhir_vendor_records import condition_shapes, medication_shapes
from tests.fhir_vendor_shapes import WINDOW, VendorExport, lab_shapes
from tests.spec_screen_oracle import screen

from hyposcreen.cli import main


def test_vendor_shapes_give_the_list_the_spec_gives(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    export = VendorExport()
    lab_shapes(export)
    medication_shapes(export)
    condition_shapes(export)
    folder = export.write(tmp_path / "export")
    mapping = tmp_path / "site.yaml"
    mapping.write_text("timezone: America/Chicago\n")
    status = main(["run", "--no-flow", "--source", "fhir", "--input", str(folder),
                   "--out", str(tmp_path / "out"), "--mapping", str(mapping),
                   "--window-start", "2026-11-20", "--window-end", "2026-11-21"])  # fmt: skip
    err = capsys.readouterr().err
    # exit 0: every shape is read, and the one quarantined row (L09's dataAbsentReason) says
    # nothing of a low sodium
    assert status == 0, err
    with (tmp_path / "out" / "2026-11-20" / "review_list.csv").open(encoding="utf-8") as f:
        listed = {
            r["patient_id"]: (
                r["tier_name"],
                r["severity"],
                r["corrected_sodium"],
                r["risk_factors"],
            )
            for r in csv.DictReader(f)
        }
    expected = screen(export.facts, *WINDOW)
    assert {p: v for p, v in listed.items() if v != expected.get(p)} == {}
    assert set(expected) == set(listed)
    assert len(listed) > 60  # the shapes reach the list, not a vacuous agreement
