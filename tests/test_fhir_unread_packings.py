"""An export file packed in a way the FHIR reader does not open (bz2, zstd, zip, tar: it reads
plain and gzip files) was not an export file at all: its resources were missing from the
screen at exit 0 (the sample's Observation.000 file bz2-compressed: 8 cases listed of 35). The
run now stops (exit 3) saying so, naming an NDJSON file but never a JSON document (a Synthea
document's name carries the patient's name)."""

from __future__ import annotations

import bz2
import subprocess
import zipfile
from pathlib import Path

import pytest
from sample_data import to_fhir
from tests.helpers import run_cli

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data" / "canonical"


def _run(folder: Path, out: Path) -> subprocess.CompletedProcess[str]:
    return run_cli(
        "run", "--no-flow", "--source", "fhir",
        "--input", str(folder), "--out", str(out), "--window-start", "2026-11-20",
    )  # fmt: skip


@pytest.mark.parametrize("packing", ["bz2", "zip"])
def test_an_export_file_packed_as_the_reader_cannot_read_stops_the_run(
    tmp_path: Path, packing: str
) -> None:
    folder = tmp_path / "fhir"
    to_fhir.convert(SAMPLE, folder)
    plain = folder / "Observation.000.ndjson"
    if packing == "bz2":
        (folder / "Observation.000.ndjson.bz2").write_bytes(bz2.compress(plain.read_bytes()))
        shown = "Observation.000.ndjson.bz2"
    else:
        with zipfile.ZipFile(folder / "Observation.000.zip", "w") as archive:
            archive.write(plain, plain.name)
        shown = "Observation.000.zip"
    plain.unlink()
    done = _run(folder, tmp_path / "out")
    assert done.returncode == 3, done.stderr
    assert shown in done.stderr and "gzip" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_packed_document_is_counted_not_named(tmp_path: Path) -> None:
    folder = tmp_path / "fhir"
    to_fhir.convert(SAMPLE, folder)
    document = b'{"resourceType": "Bundle", "type": "collection", "entry": []}'
    (folder / "Patricia_Doe_0001.json.bz2").write_bytes(bz2.compress(document))
    done = _run(folder, tmp_path / "out")
    assert done.returncode == 3, done.stderr
    assert "1 file(s)" in done.stderr and "Patricia" not in done.stderr
