"""`--source omop` on broken or unusual deliveries: a table that cannot be read stops the run
naming what to do, rather than screening without it."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from hyposcreen.cli import main
from omop_extract import extract, write


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
