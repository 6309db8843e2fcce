"""A resource that names its patient by identifier (a logical Reference `{"identifier": …}`,
or a conditional `Patient?identifier=system|value` as transaction Bundles write it) belongs to
the Patient holding that identifier: its rows carry that Patient's id, so a medication or a
diagnosis referred to so meets the patient's labs (read as the identifier's value, it reached
no case, without a warning while other records of the table matched)."""

from __future__ import annotations

from pathlib import Path

from tests.fhir_export import RXNORM, condition, med_request, obs, read, write_export

MRN = "urn:oid:1.2.3.4.5"


def patient(pid: str, mrn: str) -> dict[str, object]:
    return {
        "resourceType": "Patient",
        "id": pid,
        "identifier": [{"system": MRN, "value": "X" + mrn}, {"system": "urn:mrn", "value": mrn}],
    }


def test_references_by_identifier_resolve_to_the_patients_id(tmp_path: Path) -> None:
    furosemide = {"coding": [{"system": RXNORM, "code": "4603", "display": "furosemide"}]}
    folder = write_export(
        tmp_path / "export",
        {
            "Patient.ndjson": [
                patient("P1", "0001"),
                patient("P2", "0002"),
                patient("P3", "7"),
                {"resourceType": "Patient", "id": "P4", "identifier": [{"value": "X0001"}]},
                {"resourceType": "Patient", "id": "P5", "identifier": [{"value": "55"}]},
            ],
            "Observation.ndjson": [obs()],
            "MedicationRequest.ndjson": [
                med_request(
                    id="m1",
                    medicationCodeableConcept=furosemide,
                    authoredOn="2026-11-01",
                    subject={"identifier": {"system": "urn:mrn", "value": "0001"}},
                ),
                med_request(
                    id="m2",
                    medicationCodeableConcept=furosemide,
                    authoredOn="2026-11-01",
                    subject={"reference": "Patient?identifier=urn:mrn%7C0002"},
                ),
                med_request(  # an identifier no Patient holds stays as written
                    id="m3",
                    medicationCodeableConcept=furosemide,
                    authoredOn="2026-11-01",
                    subject={"identifier": {"system": "urn:mrn", "value": "0009"}},
                ),
                med_request(  # a value without its system, one Patient's
                    id="m4",
                    medicationCodeableConcept=furosemide,
                    authoredOn="2026-11-01",
                    subject={"reference": "Patient?identifier=0002"},
                ),
                med_request(  # a Patient's identifier written without its system
                    id="m6",
                    medicationCodeableConcept=furosemide,
                    authoredOn="2026-11-01",
                    subject={"identifier": {"system": "urn:mrn", "value": "55"}},
                ),
                med_request(  # a value without its system that two Patients hold stays
                    id="m5",
                    medicationCodeableConcept=furosemide,
                    authoredOn="2026-11-01",
                    subject={"reference": "Patient?identifier=X0001"},
                ),
            ],
            "Condition.ndjson": [
                condition(
                    {"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "I50.9"},
                    subject={"reference": f"Patient?identifier={MRN}|X7"},
                )
            ],
        },
    )
    medications = read(folder, "medications").frame
    assert medications["patient_id"].tolist() == ["P1", "P2", "0009", "P2", "P5", "X0001"]
    diagnoses = read(folder, "diagnoses").frame
    assert diagnoses["patient_id"].tolist() == ["P3"]
    assert read(folder, "labs").frame["patient_id"].tolist() == ["P1"]
