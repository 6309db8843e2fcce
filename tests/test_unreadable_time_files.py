"""The files a stop on unread key times names: one file by its name, a table of several parts
or documents by their count (never a list of hundreds of names), and a per-patient FHIR JSON
document (Synthea's `Given_Family_<id>.json`, whose name carries the patient's name) never by
name, in stderr or in FAILED.json; quarantine.csv (0600) names them."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from fhir_generators import observation, quantity, run, transaction, write_json
from sample_delivery import SAMPLE, screen
from test_delivery_serial_times import assert_stopped, excel_serial, rewritten


def test_a_table_of_three_parts_is_named_by_its_count(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # the sample's 171 lab rows in three parts of 57, every collection time an Excel serial:
    # 168 of the 170 rows that matter do not read (as in test_delivery_serial_times)
    folder = rewritten(tmp_path, "labs", "specimen_time", excel_serial)
    frame = pd.read_csv(folder / "labs.csv", dtype=str, keep_default_na=False)
    (folder / "labs.csv").unlink()
    (folder / "labs").mkdir()
    for part in range(3):
        frame.iloc[part * 57 : (part + 1) * 57].to_csv(
            folder / "labs" / f"part-{part}.csv", index=False
        )
    status, night = screen(folder)
    err = capsys.readouterr().err
    start = "3 files (labs): 168 of 170 row(s) (99%) have a specimen_time that does not read"
    assert_stopped(status, night, err, start, "168 look like Excel serial", "part-0.csv:2;")
    assert "part-1.csv, " not in err


def _patient_document(number: int) -> dict:
    """One patient's Bundle: the Patient and a sodium whose time is written day-first."""
    pid = f"pat-{number:02d}"
    me = f"urn:uuid:{pid}"
    value = quantity(131.0, "mmol/L")
    sodium = observation(
        f"na-{number:02d}", me, "2951-2", "Sodium", "20/11/2026 06:10", valueQuantity=value
    )
    patient = {"resourceType": "Patient", "id": pid, "name": [{"family": f"Fam{number:02d}"}]}
    return transaction(patient, sodium)


def test_per_patient_documents_are_never_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # 24 documents named for their patient, one sodium each written `20/11/2026 06:10`:
    # 24 of 24 lab rows do not read (over the 20 a stop judges)
    folder = tmp_path / "output" / "fhir"
    for number in range(24):
        name = f"Given{number:02d}_Fam{number:02d}_pat-{number:02d}.json"
        write_json(folder / name, _patient_document(number))
    status, err = run(capsys, tmp_path / "output", tmp_path / "out")
    assert status == 3, err
    assert "24 files (labs): 24 of 24 row(s) (100%) have a specimen_time" in err, err
    assert "24 look like day-first dates" in err and "(a JSON document):entry[1]" in err, err
    failed = (tmp_path / "out" / "2026-11-20" / "FAILED.json").read_text()
    for text in (err, failed):
        assert "Fam0" not in text and "Given" not in text, text


def test_the_quarantined_times_are_read_once_for_the_stop_and_the_warnings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # a quarter of the lab times day-first, half empty: three quarters of the rows quarantined
    # missing_key, so the stop judges the table (and does not stop: a quarter of the times do
    # not read, under half), then the warnings say so; the labs' quarantined specimen_time is
    # read once for all of them, not once per question asked of it (on a delivery of 300,000
    # such rows each reading costs about a second)
    import hyposcreen.quarantined_times as quarantined_times

    reads: list[str] = []
    real = quarantined_times.key_values

    def counted(original: pd.Series, key: str) -> object:
        reads.append(key)
        return real(original, key)

    monkeypatch.setattr(quarantined_times, "key_values", counted)
    folder = tmp_path / "delivery"
    shutil.copytree(SAMPLE, folder)
    frame = pd.read_csv(folder / "labs.csv", dtype=str, keep_default_na=False)
    times = pd.to_datetime(frame["specimen_time"], format="ISO8601", errors="coerce")
    every_fourth = times.notna() & (frame.index % 4 == 0)
    frame.loc[every_fourth, "specimen_time"] = times[every_fourth].dt.strftime("%d/%m/%Y %H:%M")
    frame.loc[frame.index % 4 >= 2, "specimen_time"] = ""
    frame.to_csv(folder / "labs.csv", index=False)
    status, _ = screen(folder)
    err = capsys.readouterr().err
    assert status == 4, err
    assert "have a specimen_time that does not read" in err
    assert reads == ["specimen_time"]
