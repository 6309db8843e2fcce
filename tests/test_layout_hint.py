"""A folder of another source's extract read as canonical (the default `--source`) stopped
with "no labs table" alone; the error now names the `--source` that reads it, from the names
of the folder's files (MIMIC-IV's labevents, OMOP's measurement, FHIR's NDJSON). A JSON file
that holds no FHIR resource (a sender's manifest.json beside a canonical extract) names no
source: the hint said "add --source fhir" for it."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from tests.cli_process import run_night

from hyposcreen.ingest.layout_hint import layout_hint

DATA = Path(__file__).parent / "data"
OBSERVATION = b'{"resourceType": "Observation", "id": "o1"}\n'


def test_a_mimic_extract_read_as_canonical_names_source_mimic(tmp_path: Path) -> None:
    done = run_night(DATA / "mimic", tmp_path / "out", "2026-11-20T00:00:00", "2026-11-21T00:00:00")
    assert done.returncode == 3, done.stderr
    assert "Traceback" not in done.stderr
    assert "no labs table" in done.stderr and "add --source mimic" in done.stderr


@pytest.mark.parametrize(
    ("names", "source"),
    [
        (["measurement.csv", "person.csv"], "omop"),
        (["Observation.000.ndjson", "Patient.ndjson.gz"], "fhir"),
        (["Given_Family_1.json"], "fhir"),
        (["hosp/labevents.csv.gz"], "mimic"),
    ],
)
def test_the_hint_names_the_source_the_files_belong_to(
    tmp_path: Path, names: list[str], source: str
) -> None:
    for name in names:
        (tmp_path / name).parent.mkdir(exist_ok=True)
        if name.endswith(".gz"):
            (tmp_path / name).write_bytes(gzip.compress(OBSERVATION))
        else:
            (tmp_path / name).write_bytes(OBSERVATION)
    assert layout_hint(tmp_path).endswith(f"add --source {source}.")


def test_a_canonical_folder_missing_its_labs_gets_no_hint(tmp_path: Path) -> None:
    for name in ("medications.csv", "diagnoses.csv", "notes.txt"):
        (tmp_path / name).write_text("")
    assert layout_hint(tmp_path) == ""


def test_a_canonical_folder_with_a_json_manifest_gets_no_fhir_hint(tmp_path: Path) -> None:
    (tmp_path / "medications.csv").write_text("")
    (tmp_path / "manifest.json").write_text('{"site": "north", "files": 3}\n')
    (tmp_path / "schema.json.gz").write_bytes(gzip.compress(b'{"tables": []}'))
    assert layout_hint(tmp_path) == ""


def test_a_pretty_printed_bundle_still_names_fhir(tmp_path: Path) -> None:
    (tmp_path / "bundle.json").write_text('{\n  "resourceType": "Bundle",\n  "entry": []\n}\n')
    assert layout_hint(tmp_path).endswith("add --source fhir.")
