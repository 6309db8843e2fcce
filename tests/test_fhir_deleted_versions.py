"""A `_history` Bundle's DELETE entry (`request.method` DELETE, no `resource`) is the newest
version of the resource its url names: that resource no longer exists, and every version of it
is quarantined `deleted_resource` (a deleted Medication names no drug). Before, the entry was
only counted `entry_without_resource` and the older versions were screened: a deleted sodium of
118 listed its patient at exit 0. A DELETE older than a later version (the resource created
again) sets nothing aside; one that cannot be ordered against the versions sets nothing aside
either."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from tests.helpers import RULES, WINDOW

from fhir_generators import (
    listed,
    manifest,
    med_request,
    observation,
    quantity,
    quarantined,
    rows,
    run,
    write_json,
)
from hyposcreen.adapters import fhir
from sample_delivery import DAY


def _sodium(value: float, version: str | None = None, **meta: str) -> dict:
    found = observation("na1", "Patient/P1", "2951-2", "Sodium", "2026-11-20T05:00:00Z")
    found["valueQuantity"] = quantity(value, "mmol/L")
    if version is not None:
        meta["versionId"] = version
    if meta:
        found["meta"] = meta
    return found


def _delete(url: str, etag: str | None = None, modified: str | None = None) -> dict:
    response = {"status": "204 No Content"}
    if etag is not None:
        response["etag"] = etag
    if modified is not None:
        response["lastModified"] = modified
    return {"request": {"method": "DELETE", "url": url}, "response": response}


def _history(*entries: dict) -> dict:
    """A `_history` Bundle, newest first as servers list it."""
    written = [e if "request" in e else {"resource": e} for e in entries]
    return {"resourceType": "Bundle", "type": "history", "entry": written}


def _reasons(table: fhir.IngestedTable) -> list[str | None]:
    frame = table.frame
    given = frame["malformed_reason"] if "malformed_reason" in frame else [None] * len(frame)
    return [r if isinstance(r, str) else None for r in given]


def test_a_deleted_sodium_does_not_list_its_patient(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "in"
    deleted = _delete("Observation/na1/_history/2", etag='W/"2"')
    write_json(folder / "history.json", _history(deleted, _sodium(118, "1")))
    status, err = run(capsys, folder, tmp_path / "out")
    assert status in (0, 4), err
    assert "P1" not in listed(tmp_path / "out")
    assert quarantined(tmp_path / "out") == [
        ("labs", "history.json", "entry[1]", "deleted_resource")
    ]
    found = manifest(tmp_path / "out")
    labs = found["reconciliation"]["labs"]
    assert found["reconciled"] is True
    assert (labs["rows_in"], labs["not_relevant"], labs["quarantined"]) == (2, 1, 1)
    assert labs["reasons"]["quarantined"] == {"deleted_resource": 1}
    # deleted at the source, as a result entered in error: not a low sodium set aside
    assert "quarantined_low_sodiums" not in {w["code"] for w in found["warnings"]}
    assert "P1" not in (tmp_path / "out" / DAY / "run_manifest.json").read_text()


def test_a_sodium_created_again_after_its_deletion_is_screened(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "in"
    deleted = _delete("Observation/na1", etag='W/"1"')
    write_json(folder / "history.json", _history(_sodium(118, "2"), deleted))
    status, err = run(capsys, folder, tmp_path / "out")
    assert status in (0, 4), err
    assert "P1" in listed(tmp_path / "out")
    assert quarantined(tmp_path / "out") == []


@pytest.mark.parametrize(
    ("deleted", "meta", "reasons"),
    [
        # the url's `_history/3` orders the deletion when no etag does
        (_delete("https://host/fhir/Observation/na1/_history/3"), {}, ["deleted_resource"] * 2),
        # lastModified against lastUpdated, in UTC: 05:00+02:00 is 03:00Z, after 02:00Z
        (
            _delete("Observation/na1", modified="2026-11-20T05:00:00+02:00"),
            {"lastUpdated": "2026-11-20T02:00:00Z"},
            ["deleted_resource"] * 2,
        ),
        # no version of its own: it cannot be ordered, nothing is set aside
        (_delete("Observation/na1"), {}, ["superseded_version", None]),
        # the same version as the latest: a tie sets nothing aside
        (_delete("Observation/na1", etag='W/"2"'), {}, ["superseded_version", None]),
        # another resource's deletion
        (_delete("Observation/other/_history/9"), {}, ["superseded_version", None]),
    ],
)
def test_how_a_deletion_is_ordered_against_the_versions(
    tmp_path: Path, deleted: dict, meta: dict, reasons: list[str | None]
) -> None:
    versions = (
        [_sodium(118, **meta)]
        if meta
        else [_sodium(121, "1"), _sodium(118, "2")]  # a correction, then maybe a deletion
    )
    if meta:
        reasons = reasons[:1]
    write_json(tmp_path / "history.json", _history(*versions, deleted))
    table = fhir.read_table(tmp_path, "labs", fhir.SiteMapping(), RULES, WINDOW, None)
    assert _reasons(table) == reasons
    assert table.not_relevant["entry_without_resource"] == 1


def test_one_process_and_partitions_agree(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "in"
    other = observation("na2", "Patient/P2", "2951-2", "Sodium", "2026-11-20T06:00:00Z")
    other["valueQuantity"] = quantity(119, "mmol/L")
    other["meta"] = {"versionId": "1"}
    deleted = _delete("Observation/na1/_history/2", etag='W/"2"')
    write_json(folder / "history.json", _history(deleted, _sodium(118, "1"), other))
    outputs = []
    for name, extra in (("one", ()), ("two", ("--partitions", "2"))):
        status, err = run(capsys, folder, tmp_path / name, *extra)
        assert status in (0, 4), err
        outputs.append([rows(tmp_path / name, f) for f in ("review_list.csv", "quarantine.csv")])
    assert outputs[0] == outputs[1]
    assert list(listed(tmp_path / "one")) == ["P2"]


def test_a_deleted_medication_names_no_drug(tmp_path: Path) -> None:
    """The order names its drug only by the Medication, whose newest version is a deletion:
    the reference resolves to nothing (`deleted_medication`), no furosemide is read."""
    drug = {
        "resourceType": "Medication",
        "id": "med1",
        "meta": {"versionId": "1"},
        "code": {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm",
                             "code": "4603", "display": "furosemide"}]},
    }  # fmt: skip
    order = med_request("m1", "Patient/P1", None, "2026-11-20T05:00:00Z")
    order["medicationReference"] = {"reference": "Medication/med1"}
    deleted = _delete("Medication/med1/_history/2", etag='W/"2"')
    write_json(tmp_path / "history.json", _history(deleted, drug, order))
    table = fhir.read_table(tmp_path, "medications", fhir.SiteMapping(), RULES, WINDOW, None)
    assert _reasons(table) == ["deleted_medication"]
    assert "furosemide" not in set(table.frame["drug_name"].dropna())


def test_a_deletion_on_a_bundle_line_of_its_own_is_read(tmp_path: Path) -> None:
    """In a file of several resource types the lab pre-filter skips lines naming no lab code
    unread; a Bundle line holding only the DELETE is read all the same."""
    history = _history(_delete("Observation/na1/_history/2", etag='W/"2"'))
    lines = [orjson.dumps(_sodium(118, "1")), orjson.dumps(history)]
    (tmp_path / "export.ndjson").write_bytes(b"\n".join(lines) + b"\n")
    table = fhir.read_table(tmp_path, "labs", fhir.SiteMapping(), RULES, WINDOW, None)
    assert _reasons(table) == ["deleted_resource"]
    assert table.not_relevant["entry_without_resource"] == 1


def _patient(version: str) -> dict:
    return {"resourceType": "Patient", "id": "P1", "meta": {"versionId": version}}


@pytest.mark.parametrize("options", [(), ("--partitions", "2")], ids=["one", "partitions"])
def test_the_records_of_a_deleted_patient_are_set_aside_and_warned(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], options: tuple[str, ...]
) -> None:
    """The Patient's newest version is a deletion: its sodium of 118 and its furosemide order
    are quarantined `deleted_patient`, not screened, and the night warns (exit 4) with counts
    and places only; another patient's sodium is listed as ever."""
    folder = tmp_path / "in"
    other = observation("na2", "Patient/P2", "2951-2", "Sodium", "2026-11-20T06:00:00Z")
    other["valueQuantity"] = quantity(119, "mmol/L")
    order = med_request("m1", "Patient/P1", "furosemide", "2026-11-20T05:00:00Z")
    deleted = _delete("Patient/P1/_history/2", etag='W/"2"')
    write_json(folder / "history.json", _history(deleted, _patient("1"), _sodium(118), order))
    write_json(folder / "other.json", _history(other))
    status, err = run(capsys, folder, tmp_path / "out", *options)
    assert status == 4, err
    assert list(listed(tmp_path / "out")) == ["P2"]
    assert quarantined(tmp_path / "out") == [
        ("labs", "history.json", "entry[2]", "deleted_patient"),
        ("medications", "history.json", "entry[3]", "deleted_patient"),
    ]
    text = (tmp_path / "out" / DAY / "run_manifest.json").read_text()
    warned = [w for w in manifest(tmp_path / "out")["warnings"] if w["code"] == "deleted_patients"]
    assert len(warned) == 1 and "labs 1, medications 1" in warned[0]["message"]
    assert "(a JSON document):entry[2]" in warned[0]["message"]
    assert "P1" not in text and "118" not in warned[0]["message"]


def test_a_patient_created_again_after_its_deletion_keeps_its_records(tmp_path: Path) -> None:
    deleted = _delete("Patient/P1", etag='W/"1"')
    write_json(tmp_path / "history.json", _history(_patient("2"), deleted, _sodium(118)))
    table = fhir.read_table(tmp_path, "labs", fhir.SiteMapping(), RULES, WINDOW, None)
    assert _reasons(table) == [None]


def test_an_order_of_a_deleted_medication_says_it_was_deleted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Its Medication was deleted, not left out of the delivery: quarantined
    `deleted_medication`, warned `deleted_medications` (not `unresolved_references`)."""
    drug = {"resourceType": "Medication", "id": "med1", "meta": {"versionId": "1"}}
    order = med_request("m1", "Patient/P1", None, "2026-11-20T05:00:00Z")
    order["medicationReference"] = {"reference": "Medication/med1"}
    deleted = _delete("Medication/med1/_history/2", etag='W/"2"')
    write_json(tmp_path / "in" / "history.json", _history(deleted, drug, order, _sodium(118)))
    status, err = run(capsys, tmp_path / "in", tmp_path / "out")
    assert status == 4, err
    assert quarantined(tmp_path / "out") == [
        ("medications", "history.json", "entry[2]", "deleted_medication")
    ]
    codes = {w["code"]: w["message"] for w in manifest(tmp_path / "out")["warnings"]}
    assert "unresolved_references" not in codes
    assert "(a JSON document):entry[2]" in codes["deleted_medications"]
    assert "deleted" in codes["deleted_medications"]


@pytest.mark.parametrize(
    "deletions", ["Patient.ndjson", "deleted/Patient.ndjson"], ids=["patient_file", "bulk"]
)
def test_a_deletion_in_a_patient_file_sets_aside_the_patients_records(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], deletions: str
) -> None:
    """The Patient's DELETE is in a file that only the patients table reads (a `_history`
    Bundle in Patient.ndjson, a bulk export's deleted/Patient.ndjson): its sodium of 118 is
    still set aside `deleted_patient`, not listed under a patient the export deleted."""
    folder = tmp_path / "in"
    (folder / "deleted").mkdir(parents=True)
    deleted = _history(_delete("Patient/P1/_history/2", etag='W/"2"'))
    lines = {"Patient.ndjson": [_patient("1")], deletions: [deleted]}
    if deletions == "Patient.ndjson":
        lines[deletions] = [_history(*deleted["entry"], _patient("1"))]
    lines["Observation.ndjson"] = [_sodium(118)]
    for name, written in lines.items():
        (folder / name).write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in written))
    status, err = run(capsys, folder, tmp_path / "out")
    assert status == 4, err
    assert "P1" not in listed(tmp_path / "out")
    assert quarantined(tmp_path / "out") == [("labs", "Observation.ndjson", "1", "deleted_patient")]


def test_a_deleted_patient_named_by_identifier_has_its_records_set_aside(tmp_path: Path) -> None:
    """The sodium names its patient by MRN, which only the deleted Patient held: set aside
    `deleted_patient` under the Patient's id, not screened under the MRN as a patient of its
    own. A live Patient holding the same MRN (the record merged into it) keeps the sodium."""
    mrn = {"system": "urn:mrn", "value": "M1"}
    sodium = _sodium(118)
    sodium["subject"] = {"identifier": mrn}
    gone = {**_patient("1"), "identifier": [mrn]}
    deleted = _delete("Patient/P1/_history/2", etag='W/"2"')
    write_json(tmp_path / "a" / "history.json", _history(deleted, gone, sodium))
    table = fhir.read_table(tmp_path / "a", "labs", fhir.SiteMapping(), RULES, WINDOW, None)
    assert (_reasons(table), list(table.frame["patient_id"])) == (["deleted_patient"], ["P1"])
    merged = {"resourceType": "Patient", "id": "P2", "identifier": [mrn]}
    write_json(tmp_path / "b" / "history.json", _history(deleted, gone, merged, sodium))
    table = fhir.read_table(tmp_path / "b", "labs", fhir.SiteMapping(), RULES, WINDOW, None)
    assert (_reasons(table), list(table.frame["patient_id"])) == ([None], ["P2"])


@pytest.mark.parametrize("deleted_file", [False, True], ids=["own_line", "deleted_folder"])
def test_an_observations_deletion_in_a_file_of_observations_is_read(
    tmp_path: Path, deleted_file: bool
) -> None:
    """The DELETE of Observation/na1 on a line of its own of `Observation.ndjson`, or in a bulk
    export's `deleted/Observation.ndjson`: the lab pre-filter (searching a file named for
    Observations for the lab codes only) skipped its line, so the sodium of 118 the source
    deleted was screened. A file holding a DELETE entry is now searched for it too."""
    deletion = _history(_delete("Observation/na1/_history/2", etag='W/"2"'))
    lines = [_sodium(118, "1")] + ([] if deleted_file else [deletion])
    (tmp_path / "Observation.ndjson").write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in lines))
    if deleted_file:
        (tmp_path / "deleted").mkdir()
        (tmp_path / "deleted" / "Observation.ndjson").write_bytes(orjson.dumps(deletion) + b"\n")
    table = fhir.read_table(tmp_path, "labs", fhir.SiteMapping(), RULES, WINDOW, None)
    assert _reasons(table) == ["deleted_resource"]
