"""The FHIR export folder listed again before publishing sees the files the reader listed, no
others: a run's own outputs under an `--out` inside the export folder, and symbolic links the
reader never followed, are no export file written since.

Before, a catch-up loop whose --out lay inside the export stopped a night (exit 3) when the
loop put the night before's folder in place after this night's read (its run_manifest.json
"appeared in" the export), and an export holding a link to a folder (`latest -> exports/a`) or
a link to nothing, which screened before the check came, stopped every night at publish
("is a symbolic link ... nothing was screened")."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from hyposcreen.config import RunSettings, Window
from hyposcreen.context import prepare
from hyposcreen.errors import InputError
from hyposcreen.failures import FAILED_FILE
from hyposcreen.ingest.listing import OUTPUT_MARKERS, listed_files
from hyposcreen.runners.in_process import run_recipe

FHIR = Path(__file__).resolve().parent / "data" / "fhir" / "independent"
DAY = "2022-04-01"


def _screen(folder: Path, out: Path, after_read: object = None) -> object:
    night = Window(pd.Timestamp(DAY), pd.Timestamp(DAY) + pd.Timedelta(days=1))
    settings = RunSettings(input_dir=folder, out_dir=out / DAY, window=night, source="fhir")

    def observe(stage: str, _output: object) -> None:
        if stage == "read" and callable(after_read):
            after_read()

    return run_recipe(prepare(settings), observe=observe)


def _earlier_nights_folder(out: Path, day: str) -> None:
    """A night's output folder as the loop puts it in place: its manifest and its Data Docs'
    JSON (both .json, a FHIR export file's suffix)."""
    folder = out / day
    (folder / "validation" / "expectations").mkdir(parents=True)
    (folder / "validation" / "expectations" / "labs.json").write_text("{}", encoding="utf-8")
    (folder / "run_manifest.json").write_text(json.dumps({"run_id": "x"}), encoding="utf-8")


def test_an_earlier_nights_outputs_put_in_place_inside_the_export_are_no_export_file(
    tmp_path: Path,
) -> None:
    root = shutil.copytree(FHIR, tmp_path / "fhir")
    out = root / "screening"  # --out inside --input
    _earlier_nights_folder(out, "2022-03-30")  # there at the read: listed then too
    summary = _screen(root, out, lambda: _earlier_nights_folder(out, "2022-03-31"))
    # published: the night's folder holds its list (before: InputError naming
    # screening/2022-03-31/run_manifest.json)
    assert (out / DAY / "review_list.csv").is_file()
    # and the outputs were never taken for export files: the labs' inputs are the export's
    # Observation file (and the files it reads beside it), none under screening/
    assert not [f for f in summary.manifest["inputs"]["labs"] if "screening" in str(f["path"])]


def test_an_export_file_written_after_the_read_beside_the_outputs_still_stops_the_night(
    tmp_path: Path,
) -> None:
    root = shutil.copytree(FHIR, tmp_path / "fhir")
    out = root / "screening"
    late = root / "Observation.001.ndjson"
    with pytest.raises(InputError, match=r"Observation\.001\.ndjson appeared in"):
        _screen(root, out, lambda: late.write_text("", encoding="utf-8"))


def test_links_the_reader_does_not_follow_are_no_export_file(tmp_path: Path) -> None:
    root = tmp_path / "fhir"
    shutil.copytree(FHIR, root / "exports" / "2022-04-01")
    (root / "latest").symlink_to(root / "exports" / "2022-04-01")  # a link to a folder
    (root / "old.ndjson").symlink_to(tmp_path / "gone.ndjson")  # a link to nothing
    _screen(root, tmp_path / "out")
    # published (before: InputError "…/latest is a symbolic link to a folder")
    assert (tmp_path / "out" / DAY / "review_list.csv").is_file()


def test_the_listing_skips_output_folders_and_bookkeeping_without_entering_them(
    tmp_path: Path,
) -> None:
    (tmp_path / "Observation.ndjson").write_text("", encoding="utf-8")
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "Patient.ndjson").write_text("", encoding="utf-8")
    (tmp_path / "out" / "2022-03-30").mkdir(parents=True)
    (tmp_path / "out" / "2022-03-30" / FAILED_FILE).write_text("{}", encoding="utf-8")
    (tmp_path / ".2022-03-31.partial-1" / "x").mkdir(parents=True)
    (tmp_path / ".2022-03-31.partial-1" / "x" / "y.json").write_text("{}", encoding="utf-8")
    (tmp_path / "_SUCCESS").write_text("", encoding="utf-8")
    # two files: the failed night's folder, the staging folder and _SUCCESS are none
    assert listed_files(tmp_path) == [tmp_path / "Observation.ndjson", tmp_path / "a" / "b" /
                                      "Patient.ndjson"]  # fmt: skip
    # the markers are the names hyposcreen writes
    assert {"run_manifest.json", FAILED_FILE, "audit_manifest.json"} == OUTPUT_MARKERS


def test_a_json_document_written_after_the_read_is_not_named(tmp_path: Path) -> None:
    """Synthea names each patient's Bundle for the patient (`Given_Family_<id>.json`): the stop
    on one written after the read names its folder, never the file (before, the message and
    the failure record named `Maria_Garcia_….json`)."""
    root = shutil.copytree(FHIR, tmp_path / "fhir")
    late = root / "bundles" / "Maria_Garcia_0f9c.json"
    late.parent.mkdir()

    def written() -> None:
        late.write_text('{"resourceType":"Bundle","type":"collection","entry":[]}')

    with pytest.raises(InputError) as stopped:
        _screen(root, tmp_path / "out", written)
    assert "a JSON document in " in str(stopped.value) and "appeared in" in str(stopped.value)
    assert "Garcia" not in str(stopped.value) and "Garcia" not in str(stopped.value.file)
