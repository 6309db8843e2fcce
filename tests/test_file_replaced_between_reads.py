"""One file read by two tables of a night (a FHIR file of several resource types or Bundles is
read for every table) and replaced between their reads by one of the same size with other
bytes: the night's tables come from two versions of it. Before publishing, each record is
checked against the file as it is now; before, the first table's record passed unhashed, for
the file's inode and time were compared with those the second record took (`same_as_read`
kept one per path), so the night was published from bytes the file no longer held."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from fhir_export import RXNORM, T, obs, read, write_export
from hyposcreen.adapters._files import SourceTable
from hyposcreen.config import RunSettings, SiteMapping, Window
from hyposcreen.context import prepare
from hyposcreen.errors import InputError
from hyposcreen.ingest import read_identities
from hyposcreen.ingest.files import file_record
from hyposcreen.ingest.read_identities import KEPT, check_read_files_unchanged
from hyposcreen.runners.in_process import run_recipe
from test_fhir_synthea_bundles import synthea_output

PRESCRIPTION = {
    "resourceType": "MedicationRequest",
    "status": "active",
    "intent": "order",
    "subject": {"reference": "Patient/P1"},
    "authoredOn": T,
    "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": "4603"}]},
}


def _corrected_in_place(path: Path) -> None:
    """The sender's corrected export renamed over the file: sodium 130 corrected to 126, the
    file the same size to the byte."""
    data = path.read_bytes()
    corrected = data.replace(b'"value":130', b'"value":126', 1)
    assert corrected != data and len(corrected) == len(data)
    aside = path.with_name(path.name + ".new")
    aside.write_bytes(corrected)
    aside.replace(path)


def test_a_file_replaced_between_two_tables_reads_stops_the_night(tmp_path: Path) -> None:
    folder = write_export(tmp_path / "fhir", {"export.ndjson": [obs(), PRESCRIPTION]})
    labs = read(folder, "labs")
    _corrected_in_place(folder / "export.ndjson")
    medications = read(folder, "medications")
    # the two records name the same file with the digests of two versions of it
    assert labs.files[0]["path"] == medications.files[0]["path"]
    assert labs.files[0]["sha256"] != medications.files[0]["sha256"]

    with pytest.raises(InputError, match=r"export\.ndjson changed after it was read"):
        check_read_files_unchanged([*labs.files, *medications.files])


def test_a_file_read_by_two_tables_and_left_alone_passes(tmp_path: Path) -> None:
    folder = write_export(tmp_path / "fhir", {"export.ndjson": [obs(), PRESCRIPTION]})
    labs = read(folder, "labs")
    (folder / "export.ndjson").touch()  # a sync tool's new time, the same bytes
    medications = read(folder, "medications")
    check_read_files_unchanged([*labs.files, *medications.files])  # no InputError


def test_a_record_whose_identity_was_let_go_is_hashed_again(tmp_path: Path) -> None:
    """A long-lived process keeps at most KEPT identities (each night's new bytes add their
    records, each new content of a file its own since a file may be recorded twice a night):
    the oldest let go is hashed again at the check, never taken as unchanged."""
    replaced, kept = tmp_path / "labs.csv", tmp_path / "diagnoses.csv"
    replaced.write_text("patient_id\nP1\n", encoding="utf-8")
    kept.write_text("patient_id\nP2\n", encoding="utf-8")
    first = [file_record(replaced, 1), file_record(kept, 1)]
    later = tmp_path / "later.csv"
    later.write_text("", encoding="utf-8")
    for night in range(KEPT):  # KEPT records of later deliveries let the first two go
        file_record(later, 0, sha256=f"{night:064x}")
    assert len(read_identities._identities) == KEPT  # no more kept, however many nights
    check_read_files_unchanged(first)  # both hashed again: the same bytes, no InputError
    aside = tmp_path / "labs.csv.new"
    aside.write_text("patient_id\nP9\n", encoding="utf-8")  # 14 bytes, as before
    aside.replace(replaced)
    with pytest.raises(InputError, match=r"labs\.csv changed after it was read"):
        check_read_files_unchanged(first)


def test_a_source_file_replaced_while_it_is_read_stops_the_read(tmp_path: Path) -> None:
    """A MIMIC-IV / OMOP file replaced by one of the same size while its rows were read: its
    record's sha256 was taken after the read, of the new bytes, with the new file's identity,
    so the check before publishing found it unchanged and the night was published from the
    bytes read (the canonical reader compares the file's identity before and after: so now)."""
    path = tmp_path / "labevents.csv"
    path.write_text("subject_id,valuenum\n1,130\n", encoding="utf-8")
    table = SourceTable("labevents", [path], SiteMapping())
    frames = table.batches(["subject_id", "valuenum"])
    assert next(frames)["valuenum"].tolist() == ["130"]  # its one batch read
    _corrected_in_place_text(path)  # 130 -> 126, the same 26 bytes
    with pytest.raises(InputError, match=r"labevents\.csv changed while it was read"):
        list(frames)  # the read ends: before, its record was made from the new bytes


def _corrected_in_place_text(path: Path) -> None:
    aside = path.with_name(path.name + ".new")
    aside.write_text(path.read_text(encoding="utf-8").replace("130", "126"), encoding="utf-8")
    aside.replace(path)


def _screen_synthea(folder: Path, out: Path, after_read: Callable[[], object]) -> object:
    night = Window(pd.Timestamp("2026-11-20"), pd.Timestamp("2026-11-21"))
    settings = RunSettings(input_dir=folder, out_dir=out, window=night, source="fhir")
    return run_recipe(
        prepare(settings), observe=lambda stage, _: after_read() if stage == "read" else None
    )


def test_a_json_document_changed_after_the_read_stops_the_night_without_naming_it(
    tmp_path: Path,
) -> None:
    """Synthea's Bundle per patient (`Ana_Kub_<id>.json`), rewritten after the night read it:
    the manifest's one entry for the documents was never checked (it names no file), so the
    night was published from the bytes read (exit 4 as usual). Each document's own record is
    now checked; the stop names its folder, not the file (its name is the patient's)."""
    folder = synthea_output(tmp_path / "output")
    ana = next((folder / "fhir").glob("Ana_Kub_*.json"))

    def rewritten() -> None:  # sodium 128.4 corrected to 128.3: the same size to the byte
        data = ana.read_bytes()
        assert data.count(b'"value": 128.4') == 1
        ana.write_bytes(data.replace(b'"value": 128.4', b'"value": 128.3'))

    with pytest.raises(InputError, match=r"a JSON document in .*fhir .* changed after") as stop:
        _screen_synthea(folder, tmp_path / "out", rewritten)
    assert "Ana" not in str(stop.value) and "Kub" not in str(stop.value)
    assert not (tmp_path / "out" / "review_list.csv").exists()

    def grown() -> None:  # a line end more, written after the read
        ana.write_bytes(ana.read_bytes() + b"\n")

    with pytest.raises(InputError, match=r"a JSON document in .* changed after"):
        _screen_synthea(folder, tmp_path / "out", grown)
