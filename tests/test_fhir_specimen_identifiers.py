"""An Observation may name its Specimen by an identifier the Specimen holds (a laboratory system
knows the tube by its accession number: `"specimen": {"identifier": {"value": "ACC-U"}}`). That
is the exported Specimen holding it: its type says urine sodium (spec §2), and results naming
the same Specimen by its id pair as one specimen (spec §4). Before, the identifier's value was
looked up as a Specimen id: a urine sodium of 128 was listed as serum hyponatremia at exit 0."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.fhir_generators import (
    listed,
    observation,
    quantity,
    run,
    write_ndjson,
    write_thiazide_orders,
    write_unlisted_condition,
)

ACCESSION = "urn:oid:2.16.840.1.113883.3.1.5"


def specimen(sid: str, kind: str, accession: str) -> dict[str, object]:
    return {
        "resourceType": "Specimen",
        "id": sid,
        "accessionIdentifier": {"system": ACCESSION, "value": accession},
        "type": {"text": kind},
    }


def test_a_specimen_named_by_identifier_gives_its_type_and_its_id(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    export = tmp_path / "export"
    write_ndjson(
        export / "Specimen.ndjson",
        [specimen("su", "Urine", "ACC-U"), specimen("ss", "Serum", "ACC-S")],
    )
    by_accession = {"identifier": {"system": ACCESSION, "value": "ACC-U"}}
    write_ndjson(
        export / "Observation.ndjson",
        [
            # U1: sodium 128 on the urine tube: urine sodium, no case (before: listed, mild)
            observation("u1", "Patient/U1", "2951-2", "Sodium", "2026-11-20T10:00:00Z",
                        valueQuantity=quantity(128, "mmol/L"), specimen=by_accession),
            # S1: sodium 128 on the serum tube named by accession, glucose 300 mg/dL on the same
            # tube named by id, resulted 2 h later (outside +-60 min): one specimen, so
            # corrected = 128 + 1.6 * (300 - 100) / 100 = 131.2 (before: 128.0, unpaired)
            observation("s1", "Patient/S1", "2951-2", "Sodium", "2026-11-20T10:00:00Z",
                        valueQuantity=quantity(128, "mmol/L"),
                        specimen={"identifier": {"value": "ACC-S"}}),
            observation("s2", "Patient/S1", "2345-7", "Glucose", "2026-11-20T12:00:00Z",
                        valueQuantity=quantity(300, "mg/dL"),
                        specimen={"reference": "Specimen/ss"}),
        ],
    )  # fmt: skip
    write_thiazide_orders(export, ("U1", "S1"))
    write_unlisted_condition(export, "Patient/U1")
    status, err = run(capsys, export, tmp_path / "out")
    assert status == 0, err
    # S1: mild (125 < 131.2 <= 135) with one risk factor (thiazide): routine, tier 3
    assert listed(tmp_path / "out") == {"S1": ("3", "131.2", "thiazide_diuretic")}
