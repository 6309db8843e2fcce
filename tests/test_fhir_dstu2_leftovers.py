"""Resources left in DSTU2 or STU3 shape in an R4 export are read, not dropped or misread: a
`MedicationOrder` (DSTU2's MedicationRequest: `patient`, `dateWritten`, `dateEnded`) in its own
file; a Condition dated by `dateRecorded` with a `clinicalStatus` written as a bare code; a drug
recorded as not taken or not given (`taken: n`, `wasNotTaken`, `notGiven`, `wasNotGiven`).
Before, the order's file was ignored, the condition quarantined `missing_key`, and a drug not
taken was a risk factor, at exit 0."""

from __future__ import annotations

from pathlib import Path

import orjson
import pandas as pd
from sample_data import to_fhir

from hyposcreen.cli import main

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data" / "canonical"
DAY = "2026-11-20"


def _as_order(request: dict, ended: str | None = None) -> dict:
    order = {k: v for k, v in request.items() if k not in ("subject", "intent", "authoredOn")}
    order.update(resourceType="MedicationOrder", patient=request["subject"])
    order["dateWritten"] = "2026-05-12T09:00:00Z"
    if ended:
        order["dateEnded"] = ended
    return order


def test_dstu2_orders_and_conditions_are_read(tmp_path: Path) -> None:
    folder = tmp_path / "fhir"
    to_fhir.convert(SAMPLE, folder)
    requests = [
        orjson.loads(x) for x in (folder / "MedicationRequest.ndjson").read_bytes().splitlines()
    ]
    orders = {"Patient/P001": None, "Patient/P016": "2026-11-10T00:00:00Z"}
    moved = [r for r in requests if r["subject"]["reference"] in orders]
    assert len(moved) == 2  # P001's furosemide, P016's Tegretol
    kept = [r for r in requests if r not in moved]
    (folder / "MedicationRequest.ndjson").write_bytes(
        b"".join(orjson.dumps(r) + b"\n" for r in kept)
    )
    order_lines = [_as_order(r, orders[r["subject"]["reference"]]) for r in moved]
    (folder / "MedicationOrder.ndjson").write_bytes(
        b"".join(orjson.dumps(r) + b"\n" for r in order_lines)
    )
    conditions = folder / "Condition" / "part-1.ndjson"
    lines = [orjson.loads(x) for x in conditions.read_bytes().splitlines()]
    cramp = next(c for c in lines if c["subject"]["reference"] == "Patient/P032")
    cramp["patient"] = cramp.pop("subject")
    cramp["dateRecorded"] = cramp.pop("recordedDate")[:10]  # 2026-11-10, 10 days before
    cramp["clinicalStatus"] = "active"
    conditions.write_bytes(b"".join(orjson.dumps(c) + b"\n" for c in lines))
    out = tmp_path / "out"
    argv = ["run", "--no-flow", "--source", "fhir", "--input", str(folder), "--out", str(out)]
    assert main([*argv, "--window-start", DAY]) == 0
    listed = pd.read_csv(out / DAY / "review_list.csv", dtype=str).set_index("patient_id")
    # the sample's list, but P016's Tegretol ended 2026-11-10 (+7 days < the 11-20 index): P016
    # is moderate without a risk factor, not listed
    assert listed.loc["P001", ["tier", "risk_factors"]].tolist() == ["3", "loop_diuretic"]
    assert listed.loc["P032", ["tier", "risk_factors"]].tolist() == ["2", "cramp_documented"]
    assert "P016" not in listed.index
    assert len(listed) == 34


NOT_GIVEN = {  # patient -> (file, the STU3 / DSTU2 flag saying the drug was not taken or given)
    "P004": ("MedicationAdministration", {"wasNotGiven": True}),  # Zoloft, DSTU2
    "P041": ("MedicationAdministration", {"notGiven": True}),  # escitalopram, STU3
    "P021": ("MedicationStatement", {"wasNotTaken": True}),  # Effexor XR, DSTU2
    "P038": ("MedicationStatement", {"taken": "n"}),  # furosemide, STU3
}


def test_drugs_recorded_as_not_taken_in_older_shapes_are_not_risk_factors(tmp_path: Path) -> None:
    folder = tmp_path / "fhir"
    to_fhir.convert(SAMPLE, folder)
    flagged = 0
    for kind in ("MedicationAdministration", "MedicationStatement"):
        path = folder / f"{kind}.ndjson"
        records = [orjson.loads(x) for x in path.read_bytes().splitlines()]
        for record in records:
            patient = record["subject"]["reference"].rsplit("/", 1)[-1].rsplit(":", 1)[-1]
            if patient in NOT_GIVEN and NOT_GIVEN[patient][0] == kind:
                record.update(NOT_GIVEN[patient][1])
                flagged += 1
        path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records))
    assert flagged == 4
    out = tmp_path / "out"
    argv = ["run", "--no-flow", "--source", "fhir", "--input", str(folder), "--out", str(out)]
    assert main([*argv, "--window-start", DAY]) == 0
    listed = pd.read_csv(out / DAY / "review_list.csv", dtype=str, keep_default_na=False)
    listed = listed.set_index("patient_id")
    # P004 (mild, ssri only) and P041 (mild, ssri only) leave the list; P021 keeps hypokalemia
    # (mild, one risk factor: routine); P038 stays urgent (severe, over-corrected), no drug
    assert "P004" not in listed.index and "P041" not in listed.index
    assert listed.loc["P021", ["tier", "risk_factors"]].tolist() == ["3", "hypokalemia"]
    assert listed.loc["P038", ["tier", "risk_factors"]].tolist() == ["1", ""]
    assert len(listed) == 33
    quarantine = pd.read_csv(out / DAY / "quarantine.csv", dtype=str)
    medications = quarantine[quarantine["table"] == "medications"]
    assert len(medications[medications["patient_id"].isin(list(NOT_GIVEN))]) == 4
