"""`--source omop` and `--source fhir` read a table's folder as `--source canonical` does:
nothing under a name starting with '.' or '_' (a notebook's `.ipynb_checkpoints/` copy, an
unfinished Spark job's `_temporary/` attempt) is a part. An OMOP CDM written by Spark
(`measurement/part-0.parquet`) with a checkpoint copy beside it, or a FHIR export folder
holding a notebook's checkpoint of an Observation file, had those rows read twice: duplicates
that broke the duplicate contract (exit 4) or, with more copies, stopped the night."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from sample_data import to_fhir, to_omop

from hyposcreen.cli import main

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data" / "canonical"
DAY = "2026-11-20"


def screen(source: str, folder: Path, out: Path) -> tuple[int, dict[str, object]]:
    args = ["run", "--no-flow", "--source", source, "--input", str(folder), "--out", str(out)]
    status = main([*args, "--window-start", DAY])
    return status, json.loads((out / DAY / "run_manifest.json").read_text("utf-8"))


def labs_in(manifest: dict[str, object]) -> int:
    return int(manifest["reconciliation"]["labs"]["rows_in"])  # type: ignore[index]


@pytest.mark.parametrize("bookkeeping", [".ipynb_checkpoints", "_temporary/0"])
def test_an_omop_table_folder_reads_only_its_parts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], bookkeeping: str
) -> None:
    folder = tmp_path / "omop"
    to_omop.convert(folder, SAMPLE, parquet=True)
    status, plain = screen("omop", folder, tmp_path / "plain")
    assert status == 0, capsys.readouterr().err
    parts = folder / "measurement"
    (parts / bookkeeping).mkdir(parents=True)
    shutil.move(folder / "measurement.parquet", parts / "part-0.parquet")
    shutil.copy(parts / "part-0.parquet", parts / bookkeeping / "part-0.parquet")
    status, manifest = screen("omop", folder, tmp_path / "out")
    assert status == 0, capsys.readouterr().err
    assert labs_in(manifest) == labs_in(plain)


def test_a_fhir_export_reads_no_notebook_checkpoint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "fhir"
    to_fhir.convert(SAMPLE, folder)
    status, plain = screen("fhir", folder, tmp_path / "plain")
    assert status == 0, capsys.readouterr().err
    checkpoints = folder / ".ipynb_checkpoints"
    checkpoints.mkdir()
    observations = sorted(folder.glob("Observation.*.ndjson"))[0]
    shutil.copy(
        observations, checkpoints / observations.name.replace(".ndjson", "-checkpoint.ndjson")
    )
    status, manifest = screen("fhir", folder, tmp_path / "out")
    assert status == 0, capsys.readouterr().err
    assert labs_in(manifest) == labs_in(plain)
