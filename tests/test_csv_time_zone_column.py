"""Spec §11: outputs show site-local times with the zone named. The CSVs that hold site-local
times (review_list.csv, evidence.csv, quarantine.csv) and the Parquet list end with a
`time_zone` column: the site's IANA zone (the mapping's `timezone`, else UTC) on every row, and
in the header of a list with no rows. Before, a CSV read alone did not say its times' zone."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from hyposcreen.cli import main

NIGHT = "2026-11-20"
ZONED = ("review_list.csv", "evidence.csv", "quarantine.csv")


def _delivery(folder: Path, sodium: str, zone: str | None) -> list[str]:
    """A night's labs (one sodium of `sodium` and one result that does not read), a loop
    diuretic for the patient; the mapping options of a site in `zone` (none: UTC)."""
    folder.mkdir()
    pd.DataFrame(
        [
            ("Z1", "S1", "2026-11-20T05:00:00", "2951-2", sodium, "mmol/L"),
            ("Z1", "S2", "2026-11-20T09:00:00", "2951-2", "HEMOLYZED", "mmol/L"),
        ],
        columns=["patient_id", "specimen_id", "specimen_time", "loinc", "value_raw", "unit"],
    ).assign(status="final", specimen_type="Serum").to_csv(folder / "labs.csv", index=False)
    pd.DataFrame(
        [("Z1", "Furosemide 40mg", "2026-11-01T08:00:00")],
        columns=["patient_id", "drug_name", "start_time"],
    ).to_csv(folder / "medications.csv", index=False)
    pd.DataFrame(
        [("Z1", "I10", "ICD-10-CM", "2026-01-01T00:00:00")],
        columns=["patient_id", "code", "code_system", "recorded_time"],
    ).to_csv(folder / "diagnoses.csv", index=False)
    if zone is None:
        return []
    mapping = folder.parent / "site.yaml"
    mapping.write_text(f"timezone: {zone}\n")
    return ["--mapping", str(mapping)]


def _screen(tmp_path: Path, sodium: str, zone: str | None) -> Path:
    folder = tmp_path / "extract"
    mapping = _delivery(folder, sodium, zone)
    out = tmp_path / "out"
    args = ["run", "--no-flow", "--input", str(folder), "--out", str(out), "--window-start", NIGHT]
    assert main([*args, *mapping]) in (0, 4)
    return out / NIGHT


@pytest.mark.parametrize(("zone", "named"), [("Europe/Berlin", "Europe/Berlin"), (None, "UTC")])
def test_every_csv_with_site_local_times_names_the_site_zone_on_every_row(
    tmp_path: Path, zone: str | None, named: str
) -> None:
    night = _screen(tmp_path, "118", zone)
    for name in ZONED:
        rows = pd.read_csv(night / name, dtype=str, keep_default_na=False)
        assert list(rows.columns)[-1] == "time_zone", name
        assert len(rows) and set(rows["time_zone"]) == {named}, name
    review = pd.read_csv(night / "review_list.csv", dtype=str)
    assert review["patient_id"].tolist() == ["Z1"]
    assert review.loc[0, "index_time"] == "2026-11-20T05:00:00"  # the wall time, as before
    evidence = pd.read_csv(night / "evidence.csv", dtype=str)
    assert evidence["risk_factor"].tolist() == ["loop_diuretic"]
    typed = pq.read_table(night / "review_list.parquet")
    assert typed.column_names[-1] == "time_zone"
    assert typed.column("time_zone").to_pylist() == [named]


def test_a_list_with_no_rows_still_has_the_time_zone_column(tmp_path: Path) -> None:
    night = _screen(tmp_path, "140", "Europe/Berlin")
    for name in ("review_list.csv", "evidence.csv"):
        header = (night / name).read_text(encoding="utf-8").splitlines()
        assert len(header) == 1 and header[0].endswith(",time_zone"), name
    assert pq.read_table(night / "review_list.parquet").column_names[-1] == "time_zone"
