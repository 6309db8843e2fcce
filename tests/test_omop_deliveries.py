"""`--source omop` on broken or unusual deliveries: a table that cannot be read stops the run
naming what to do, rather than screening without it."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from hyposcreen.cli import main
from omop_extract import extract, measurement, write


@pytest.mark.parametrize(("folder", "table"), [("cdm", "measurement"), ("vocab", "CONCEPT")])
def test_a_table_delivered_in_a_zip_archive_is_named_with_what_to_do(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], folder: str, table: str
) -> None:
    """The readers open gzip streams, not archives: a zipped measurement table would read as
    no measurement table, and a zipped concept table as no vocabulary at all (drug concepts
    then resolve only through the shipped ingredient map). Either stops the run at exit 3,
    naming the archive and saying to unpack it."""
    extract(tmp_path / "cdm")
    write(tmp_path / "vocab", "CONCEPT", [
        {"concept_id": "3019550", "concept_name": "Sodium", "vocabulary_id": "LOINC",
         "concept_class_id": "Lab Test", "concept_code": "2951-2"}])  # fmt: skip
    plain = tmp_path / folder / f"{table}.csv"
    with zipfile.ZipFile(plain.with_name(f"{table}.csv.zip"), "w") as packed:
        packed.write(plain, plain.name)
    plain.unlink()
    status = main(
        ["run", "--no-flow", "--source", "omop", "--input", str(tmp_path), "--out",
         str(tmp_path / "out"), "--window-start", "2026-11-20", "--window-end", "2026-11-21"]
    )  # fmt: skip
    error = capsys.readouterr().err
    assert status == 3, error
    assert f"{folder}/{table}.csv.zip is an archive the reader does not open" in error
    assert "Unpack the table file into the same folder" in error
    assert not (tmp_path / "out" / "2026-11-20" / "review_list.csv").exists()


def _blank_source_extract(root: Path) -> None:
    """Twelve patients, each Na 128 (mild) on 2026-11-20 and an HCTZ 25 mg tablet (clinical
    drug concept 40164929) and a heart failure (SNOMED concept 319835) recorded, both named by
    concept id only: the source values are blank, as de-identified extracts deliver them."""
    people = [str(p) for p in range(1, 13)]
    extract(
        root / "cdm",
        labs=[measurement(measurement_id=p, person_id=p, measurement_source_value="",
                          value_source_value="") for p in people],
        drugs=[{"person_id": p, "drug_concept_id": "40164929", "drug_source_value": "",
                "drug_exposure_start_date": "2026-10-01", "drug_exposure_end_date": "2026-12-31"}
               for p in people],
        conditions=[{"person_id": p, "condition_concept_id": "319835", "condition_source_value": "",
                     "condition_source_concept_id": "0", "condition_start_date": "2025-01-01"}
                    for p in people],
    )  # fmt: skip


def _run(root: Path) -> tuple[int, dict]:
    status = main(
        ["run", "--no-flow", "--source", "omop", "--input", str(root), "--out",
         str(root / "out"), "--window-start", "2026-11-20", "--window-end", "2026-11-21"]
    )  # fmt: skip
    manifest = json.loads((root / "out" / "2026-11-20" / "run_manifest.json").read_text())
    return status, manifest


def test_events_named_only_by_concepts_no_vocabulary_resolves_warn(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without a concept table neither concept resolves (the shipped map holds ingredients,
    not clinical drugs, and no heart failure SNOMED concept): no patient gets a risk factor,
    so the mild cases are not listed. That list must not pass as a quiet night: exit 4, one
    warning per table, counts only."""
    _blank_source_extract(tmp_path)
    status, manifest = _run(tmp_path)
    err = capsys.readouterr().err
    assert status == 4, err
    assert manifest["listed"] == 0
    codes = {w["code"]: w["message"] for w in manifest["warnings"]}
    assert (
        "12 of 12 drug_exposure row(s) (100%; limit 50%) name no drug"
        in codes["unidentified_medications"]
    )
    assert "(the extract holds no concept table)" in codes["unidentified_medications"]
    assert "12 of 12 condition_occurrence row(s)" in codes["unidentified_diagnoses"]
    assert "12 of 12 drug_exposure row(s)" in err


def test_the_same_events_with_their_vocabulary_list_every_patient(tmp_path: Path) -> None:
    """With concept and concept_ancestor the HCTZ tablet is a thiazide (spec §6) for each of
    the twelve Na 128 (mild) cases: one risk factor, tier routine (3). Heart failure's SNOMED
    concept 42343007 is no listed code (spec §6 lists ICD codes for it): not read as heart
    failure, which the night says, counts only (snomed_only_diagnoses, exit 4)."""
    _blank_source_extract(tmp_path)
    write(tmp_path / "vocab", "concept", [
        {"concept_id": cid, "concept_name": name, "vocabulary_id": vocab,
         "concept_class_id": klass, "concept_code": code}
        for cid, name, vocab, klass, code in (
            ("974166", "hydrochlorothiazide", "RxNorm", "Ingredient", "5487"),
            ("40164929", "hydrochlorothiazide 25 MG Oral Tablet", "RxNorm", "Clinical Drug",
             "310798"),
            ("319835", "Congestive heart failure", "SNOMED", "Clinical Finding", "42343007"),
        )
    ])  # fmt: skip
    write(tmp_path / "vocab", "concept_ancestor", [
        {"ancestor_concept_id": "974166", "descendant_concept_id": "40164929"}])  # fmt: skip
    status, manifest = _run(tmp_path)
    assert status == 4
    [warning] = manifest["warnings"]
    assert warning["code"] == "snomed_only_diagnoses"
    assert "by condition: heart_failure 12 (12 patient(s))." in warning["message"]
    review = pd.read_csv(tmp_path / "out" / "2026-11-20" / "review_list.csv", dtype=str)
    assert sorted(review["patient_id"], key=int) == [str(p) for p in range(1, 13)]
    assert set(review["risk_factors"]) == {"thiazide_diuretic"}
    assert set(review["tier"]) == {"3"}
