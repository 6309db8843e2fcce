"""Table files whose suffix is written in upper case, as Windows and database exports name them
(`MEASUREMENT.CSV.GZ`, `MEASUREMENT.PARQUET`, a mapping's `file: LABS.CSV.GZ`): found, and read
as what their suffix says (gzip, Parquet), not as plain text."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import pandas as pd
import pytest

from hyposcreen.cli import main
from omop_extract import extract, measurement

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data" / "canonical"
COLUMNS = ["tier", "patient_id", "corrected_sodium", "risk_factors"]


def _review(status: int, out: Path, err: str) -> list[list[str]]:
    assert status in (0, 4), err
    review = pd.read_csv(out / "review_list.csv", dtype=str, keep_default_na=False)
    return review[COLUMNS].values.tolist()


@pytest.mark.parametrize("suffix", [".CSV.GZ", ".PARQUET"])
def test_an_omop_table_with_an_upper_case_suffix_is_read_as_its_suffix_says(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], suffix: str
) -> None:
    """Hand-computed: person 7, Na 128 mmol/L (mild), furosemide since 2026-11-01 (loop
    diuretic): listed routine (tier 3). The measurement table was found before, then parsed
    as plain text ("not a text CSV file (it holds binary bytes)", exit 3)."""
    cdm = tmp_path / "cdm"
    drug = {"person_id": "7", "drug_concept_id": "0", "drug_source_value": "Furosemide 40 mg",
            "drug_exposure_start_date": "2026-11-01"}  # fmt: skip
    extract(cdm, labs=[measurement()], drugs=[drug])
    plain = cdm / "measurement.csv"
    frame = pd.read_csv(plain, sep="\t", dtype=str)
    packed = cdm / f"MEASUREMENT{suffix}"
    if suffix == ".PARQUET":
        frame.to_parquet(packed, index=False)
    else:
        with plain.open("rb") as source, gzip.open(packed, "wb") as target:
            shutil.copyfileobj(source, target)
    plain.unlink()
    out = tmp_path / "out"
    status = main(["run", "--no-flow", "--source", "omop", "--input", str(tmp_path), "--out",
                   str(out), "--window-start", "2026-11-20",
                   "--window-end", "2026-11-21"])  # fmt: skip
    got = _review(status, out / "2026-11-20", capsys.readouterr().err)
    assert got == [["3", "7", "128.0", "loop_diuretic"]]


def test_a_mapping_naming_a_file_with_an_upper_case_suffix_reads_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The canonical sample renamed `LABS.CSV.GZ` (gzipped), `MEDICATIONS.CSV`, `DIAGNOSES.CSV`
    and named so in the mapping screens to the same list as the sample as shipped. Before, no
    name in the mapping found them (exit 3), though the error said to name the file there."""
    window = ["--window-start", "2026-11-20", "--window-end", "2026-11-21"]
    status = main(["run", "--no-flow", "--input", str(SAMPLE), "--out", str(tmp_path / "base"),
                   *window])  # fmt: skip
    expected = _review(status, tmp_path / "base" / "2026-11-20", capsys.readouterr().err)
    assert expected  # the sample lists cases
    extract_dir = tmp_path / "extract"
    extract_dir.mkdir()
    with (SAMPLE / "labs.csv").open("rb") as source:
        with gzip.open(extract_dir / "LABS.CSV.GZ", "wb") as target:
            shutil.copyfileobj(source, target)
    shutil.copy(SAMPLE / "medications.csv", extract_dir / "MEDICATIONS.CSV")
    shutil.copy(SAMPLE / "diagnoses.csv", extract_dir / "DIAGNOSES.CSV")
    shutil.copy(SAMPLE / "patients.csv", extract_dir / "patients.csv")
    mapping = tmp_path / "site.yaml"
    mapping.write_text(
        "tables:\n  labs: {file: LABS.CSV.GZ}\n  medications: {file: MEDICATIONS.CSV}\n"
        "  diagnoses: {file: DIAGNOSES.CSV}\n"
    )
    status = main(["run", "--no-flow", "--input", str(extract_dir), "--mapping", str(mapping),
                   "--out", str(tmp_path / "out"), *window])  # fmt: skip
    assert _review(status, tmp_path / "out" / "2026-11-20", capsys.readouterr().err) == expected
