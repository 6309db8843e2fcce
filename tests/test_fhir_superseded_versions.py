"""Two versions of one resource (a `_history` Bundle, two incremental exports side by side):
the latest is used (highest numeric `meta.versionId`, else latest `meta.lastUpdated`), the
others are quarantined `superseded_version` at their place; versions that cannot be ordered,
and resources without `meta`, are all kept as before."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.helpers import RULES, WINDOW

from fhir_generators import (
    listed,
    med_request,
    observation,
    quantity,
    quarantined,
    run,
    rxnorm,
    write_json,
    write_ndjson,
)
from hyposcreen.adapters import fhir
from hyposcreen.unidentified_events import unidentified_event_warnings


def _sodium(value: float, pid: str = "P1", oid: str = "na1", **meta: str) -> dict:
    found = observation(oid, f"Patient/{pid}", "2951-2", "Sodium", "2026-11-20T05:00:00Z")
    found["valueQuantity"] = quantity(value, "mmol/L")
    if meta:
        found["meta"] = meta
    return found


def _history(*versions: dict) -> dict:
    return {
        "resourceType": "Bundle",
        "type": "history",
        "entry": [{"resource": v} for v in versions],
    }


def _reasons(table: fhir.IngestedTable) -> list[tuple[str, str, str | None]]:
    frame = table.frame
    given = frame["malformed_reason"] if "malformed_reason" in frame else [None] * len(frame)
    reason = [r if isinstance(r, str) else None for r in given]
    return sorted(zip(frame["source_row"], frame["value_raw"], reason, strict=True))


def test_a_history_bundle_uses_the_latest_version_id(tmp_path: Path) -> None:
    # version 10 after version 9: numbers, not text, are compared
    write_json(
        tmp_path / "history.json",
        _history(_sodium(118, versionId="10"), _sodium(131, versionId="9")),
    )
    table = fhir.read_table(tmp_path, "labs", fhir.SiteMapping(), RULES, WINDOW, None)
    assert _reasons(table) == [("entry[0]", "118", None), ("entry[1]", "131", "superseded_version")]


def test_two_exports_side_by_side_use_the_latest_last_updated(tmp_path: Path) -> None:
    """05:00+02:00 is 03:00 UTC, before 04:00Z: the second export's version is the latest."""
    write_ndjson(
        tmp_path / "a" / "Observation.ndjson",
        [_sodium(121, lastUpdated="2026-11-20T05:00:00+02:00")],
    )
    write_ndjson(
        tmp_path / "b" / "Observation.ndjson", [_sodium(139, lastUpdated="2026-11-20T04:00:00Z")]
    )
    table = fhir.read_table(tmp_path, "labs", fhir.SiteMapping(), RULES, WINDOW, None)
    assert _reasons(table) == [("1", "121", "superseded_version"), ("1", "139", None)]
    assert table.rows_in == 2


def test_versions_that_cannot_be_ordered_and_resources_without_meta_are_kept(
    tmp_path: Path,
) -> None:
    write_ndjson(
        tmp_path / "Observation.ndjson",
        [
            _sodium(120, oid="x", versionId="a"),  # not a number, and no lastUpdated
            _sodium(121, oid="x", versionId="2"),
            _sodium(122, oid="y"),
            _sodium(123, oid="y"),
            _sodium(124, oid="z", versionId="3"),  # the same version twice: spec §3's business
            _sodium(125, oid="z", versionId="3"),
        ],
    )
    table = fhir.read_table(tmp_path, "labs", fhir.SiteMapping(), RULES, WINDOW, None)
    assert "malformed_reason" not in table.frame.columns
    assert not any(c.startswith("__fhir") for c in table.frame.columns)
    assert len(table.frame) == 6


def test_a_corrected_sodium_does_not_list_the_patient(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "in"
    write_json(
        folder / "history.json", _history(_sodium(138, versionId="2"), _sodium(118, versionId="1"))
    )
    status, err = run(capsys, folder, tmp_path / "out")
    assert status in (0, 4), err
    assert "P1" not in listed(tmp_path / "out")
    assert ("labs", "history.json", "entry[1]", "superseded_version") in quarantined(
        tmp_path / "out"
    )


def test_an_older_patient_version_is_set_aside(tmp_path: Path) -> None:
    """The review list shows a patient's first row: the patients table keeps the latest only."""

    def patient(family: str, version: str) -> dict:
        name = [{"family": family, "given": ["Ana"]}]
        return {"resourceType": "Patient", "id": "P1", "meta": {"versionId": version}, "name": name}

    write_json(tmp_path / "history.json", _history(patient("Old", "1"), patient("New", "2")))
    table = fhir.read_table(tmp_path, "patients", fhir.SiteMapping(), RULES, WINDOW, None)
    assert list(table.frame["name"]) == ["Ana New"]
    assert table.not_relevant["superseded_version"] == 1
    assert table.rows_in == 2


def test_drugs_of_superseded_versions_are_not_counted(tmp_path: Path) -> None:
    """Ten orders first written by an RxNorm product code alone, then corrected to name their
    drug: the older versions are set aside, so neither they nor their unreadable codes count
    among the drugs judged (the night would warn of ten unreadable drugs in a list of ten it
    reads every one of); an order with one version only counts once."""
    product = {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "9"}]}
    orders = []
    for number in range(10):
        for version, drug in (("1", product), ("2", rxnorm("4603", "furosemide"))):
            order = med_request(f"m{number}", "Patient/P1", drug, "2026-11-20T05:00:00Z")
            orders.append({**order, "meta": {"versionId": version}})
    orders.append(med_request("single", "Patient/P1", product, "2026-11-20T05:00:00Z"))
    write_ndjson(tmp_path / "MedicationRequest.ndjson", orders)
    table = fhir.read_table(tmp_path, "medications", fhir.SiteMapping(), RULES, WINDOW, None)
    assert (table.frame["malformed_reason"] == "superseded_version").sum() == 10
    counts = table.source_counts["MedicationRequest"]
    assert (counts["drug_rows"], counts.get("note_no_drug_identifier")) == (11, 1)
    assert unidentified_event_warnings({"medications": table}, RULES.warnings) == []
