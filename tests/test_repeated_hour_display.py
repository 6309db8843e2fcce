"""Spec §11 in the outputs: a time in the hour the clocks repeat is shown with the zone and
offset of its own instant, not the first occurrence's.

Europe/Berlin goes back on 25 Oct 2026 at 01:00Z (03:00 CEST -> 02:00 CET): 02:00-02:59 on
the wall happens at 00:00-00:59Z (CEST, +02:00) and again at 01:00-01:59Z (CET, +01:00).
America/New_York goes back on 1 Nov 2026 at 06:00Z (02:00 EDT -> 01:00 EST): 01:00-01:59
happens at 05:00-05:59Z (EDT, -04:00) and again at 06:00-06:59Z (EST, -05:00).

Times are held as wall time; before, every output showed such a time as its first occurrence
(CEST, EDT, and in the CSVs a bare wall time a reader takes as such), an hour off the instant
the screen measured from. Now the CSVs write a time of a repeated hour with its offset
(`2026-10-25T02:30:00+01:00`) and the page and workbook name its zone ("25 Oct 2026 02:30 CET").
"""

from __future__ import annotations

import html
import json
from pathlib import Path

import openpyxl
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import hyposcreen.report.evidence_arrays
from hyposcreen.cli import main
from hyposcreen.ingest import clock_folds
from hyposcreen.report.clinical_times import clinical_time, clinical_time_objects

BERLIN, NEW_YORK = "Europe/Berlin", "America/New_York"


def _utc(texts: list[str]) -> pd.Series:
    return pd.Series(pd.to_datetime(texts)).astype("datetime64[us]")


# ------------------------------------------------------------------ the pieces


def test_each_instant_of_a_repeated_hour_gets_the_offset_it_was_in() -> None:
    # Berlin: 00:30Z is 02:30 CEST (+02:00), 01:30Z is 02:30 CET (+01:00); 02:30Z (03:30 CET)
    # and 23:59Z the day before (01:59 CEST) are in no repeated hour
    berlin = _utc(["2026-10-25 00:30", "2026-10-25 01:30", "2026-10-25 02:30", "2026-10-24 23:59"])
    offsets = clock_folds.repeated_hour_offsets(berlin, BERLIN)
    assert offsets is not None
    assert offsets.tolist() == ["+02:00", "+01:00", None, None]
    # New York: 05:30Z is 01:30 EDT (-04:00), 06:30Z 01:30 EST (-05:00), 07:00Z 02:00 EST
    new_york = _utc(["2026-11-01 05:30", "2026-11-01 06:30", "2026-11-01 07:00"])
    offsets = clock_folds.repeated_hour_offsets(new_york, NEW_YORK)
    assert offsets is not None
    assert offsets.tolist() == ["-04:00", "-05:00", None]
    assert clock_folds.repeated_hour_offsets(_utc(["2026-11-20 05:00"]), BERLIN) is None
    assert clock_folds.repeated_hour_offsets(berlin, "UTC") is None


def test_a_time_with_its_offset_is_named_in_the_zone_of_its_instant() -> None:
    assert clinical_time("2026-10-25T02:30:00+01:00", BERLIN) == "25 Oct 2026 02:30 CET"
    assert clinical_time("2026-10-25T02:30:00+02:00", BERLIN) == "25 Oct 2026 02:30 CEST"
    assert clinical_time("2026-11-01T01:30:00-05:00", NEW_YORK) == "01 Nov 2026 01:30 EST"
    assert clinical_time("2026-11-01T01:30:00-04:00", NEW_YORK) == "01 Nov 2026 01:30 EDT"
    wall = pd.to_datetime(["2026-10-25 02:30", "2026-10-25 02:30", "2026-10-25 02:30"])
    shown = clinical_time_objects(
        wall.to_numpy(), BERLIN, pd.array(["+01:00", "+02:00", None], dtype=object).to_numpy()
    )
    # the third has no offset: a time read without one is the first occurrence (summer)
    assert shown.tolist() == [f"25 Oct 2026 02:30 {z}" for z in ("CET", "CEST", "CEST")]
    text = hyposcreen.report.evidence_arrays.iso_texts(
        wall.to_numpy(), pd.array(["+01:00", None, None], dtype=object).to_numpy()
    )
    assert text.tolist() == ["2026-10-25T02:30:00+01:00", *["2026-10-25T02:30:00"] * 2]


# ------------------------------------------------------------------ a night's outputs

# per site: (patient, specimen id, time as written, LOINC, value, unit), the diagnoses, the night
_SITES = {
    BERLIN: (
        [
            # P1: sodium 125 at 02:30+01:00 = 01:30Z (CET, the second 02:30). Glucose 400 mg/dL
            # at 02:50+02:00 = 00:50Z, 40 min BEFORE it though later on the wall: paired
            # (within 60 min), corrected 125 + 1.6 * (400 - 100) / 100 = 129.8.
            ("P1", "S1", "2026-10-25T02:30:00+01:00", "2951-2", "125", "mmol/L"),
            ("P1", "S2", "2026-10-25T02:50:00+02:00", "2345-7", "400", "mg/dL"),
            # potassium 3.0 at 01:40Z, written in UTC: 02:40 CET, hypokalemia evidence
            ("P1", "S3", "2026-10-25T01:40:00Z", "2823-3", "3.0", "mmol/L"),
            # P2: sodium 124 at 02:30+02:00 = 00:30Z (CEST, the first 02:30); no glucose
            ("P2", "S4", "2026-10-25T02:30:00+02:00", "2951-2", "124", "mmol/L"),
        ],
        # P1's CKD recorded at 02:45+02:00 = 00:45Z: before the index instant (01:30Z),
        # though 02:45 is after 02:30 on the wall
        [("P1", "N18.3", "ICD-10-CM", "2026-10-25T02:45:00+02:00")],
        "2026-10-25",
        {"P1": ("+01:00", "CET"), "P2": ("+02:00", "CEST")},
        ("2026-10-25T02:40:00+01:00", "02:40 CET", "2026-10-25T02:45:00+02:00", "02:45 CEST"),
        "25 Oct 2026",
    ),
    NEW_YORK: (
        [
            # P1: sodium 125 at 01:30-05:00 = 06:30Z (EST, the second 01:30); glucose 400 at
            # 01:50-04:00 = 05:50Z, 40 min before: paired, corrected 129.8 as above
            ("P1", "S1", "2026-11-01T01:30:00-05:00", "2951-2", "125", "mmol/L"),
            ("P1", "S2", "2026-11-01T01:50:00-04:00", "2345-7", "400", "mg/dL"),
            # potassium 3.0 at 06:40Z: 01:40 EST
            ("P1", "S3", "2026-11-01T06:40:00Z", "2823-3", "3.0", "mmol/L"),
            # P2: sodium 124 at 01:30-04:00 = 05:30Z (EDT, the first 01:30)
            ("P2", "S4", "2026-11-01T01:30:00-04:00", "2951-2", "124", "mmol/L"),
        ],
        # CKD recorded at 01:45-04:00 = 05:45Z, before the index instant 06:30Z
        [("P1", "N18.3", "ICD-10-CM", "2026-11-01T01:45:00-04:00")],
        "2026-11-01",
        {"P1": ("-05:00", "EST"), "P2": ("-04:00", "EDT")},
        ("2026-11-01T01:40:00-05:00", "01:40 EST", "2026-11-01T01:45:00-04:00", "01:45 EDT"),
        "01 Nov 2026",
    ),
}


def _night(tmp_path: Path, timezone: str) -> Path:
    labs, diagnoses, night, *_ = _SITES[timezone]
    folder = tmp_path / "in"
    folder.mkdir()
    frame = pd.DataFrame(
        labs, columns=["patient_id", "specimen_id", "specimen_time", "loinc", "value_raw", "unit"]
    )
    frame["status"], frame["specimen_type"] = "final", "Serum"
    frame.to_csv(folder / "labs.csv", index=False)
    meds = pd.DataFrame({"patient_id": ["P2"], "drug_name": ["Furosemide 40mg"]})  # listed
    meds["start_time"] = "2026-01-01T00:00:00"
    meds.to_csv(folder / "medications.csv", index=False)
    pd.DataFrame(diagnoses, columns=["patient_id", "code", "code_system", "recorded_time"]).to_csv(
        folder / "diagnoses.csv", index=False
    )
    mapping = tmp_path / "site.yaml"
    mapping.write_text(f"timezone: {timezone}\n")
    out = tmp_path / "out"
    status = main(
        ["run", "--no-flow", "--input", str(folder), "--mapping", str(mapping),
         "--out", str(out), "--window-start", night]
    )  # fmt: skip
    assert status == 0
    return out / night


@pytest.mark.parametrize("timezone", [BERLIN, NEW_YORK])
def test_a_night_shows_each_repeated_hour_time_in_the_zone_of_its_instant(
    tmp_path: Path, timezone: str
) -> None:
    _, _, night_day, zones, (potassium, potassium_words, recorded, recorded_words), day = _SITES[
        timezone
    ]
    night = _night(tmp_path, timezone)
    wall = "02:30" if timezone == BERLIN else "01:30"
    review = pd.read_csv(night / "review_list.csv", dtype=str, keep_default_na=False)
    rows = review.set_index("patient_id")
    # the instants: P1's glucose 40 min before its sodium (across the change) is paired
    assert rows.loc["P1", "corrected_sodium"] == "129.8"
    assert rows.loc["P1", "index_glucose"] == "400.0"
    assert "ckd" in rows.loc["P1", "risk_factors"]  # recorded before the index instant
    assert "hypokalemia" in rows.loc["P1", "risk_factors"]
    # review_list.csv: the same wall time, each with its own offset
    for patient, (offset, _) in zones.items():
        assert rows.loc[patient, "index_time"] == f"{night_day}T{wall}:00{offset}"
        assert rows.loc[patient, "nadir_time"] == f"{night_day}T{wall}:00{offset}"
    assert f"at {potassium} (" in rows.loc["P1", "evidence"]
    assert f"recorded {recorded}" in rows.loc["P1", "evidence"]
    # evidence.csv: the texts and the time column
    evidence = pd.read_csv(night / "evidence.csv", dtype=str).set_index("risk_factor")
    assert f"at {potassium} (" in evidence.loc["hypokalemia", "text"]
    assert evidence.loc["hypokalemia", "time"] == potassium.replace("T", " ")
    assert evidence.loc["ckd", "text"].endswith(f"recorded {recorded}")
    assert evidence.loc["ckd", "time"] == recorded.replace("T", " ")
    # the page: index times and evidence in words with the zone of each instant
    page = html.unescape((night / "review_list.html").read_text("utf-8"))
    for _, zone in zones.values():
        assert f"{day} {wall} {zone}" in page
    assert f"{day} {potassium_words}" in page
    assert f"{day} {recorded_words}" in page
    # the workbook: the times stay times, each case's cell format naming its instant's zone
    sheet = openpyxl.load_workbook(night / "review_list.xlsx")["Review list"]
    header = [cell.value for cell in sheet[1]]
    patient_at, index_at = header.index("Patient"), header.index(f"Index result time ({timezone})")
    for row in sheet.iter_rows(min_row=2):
        _, zone = zones[row[patient_at].value]
        cell = row[index_at]
        assert cell.value == pd.Timestamp(f"{night_day}T{wall}")
        assert cell.number_format == f'dd mmm yyyy hh:mm "{zone}"'


def _typed_delivery(tmp_path: Path) -> tuple[Path, Path]:
    """Berlin labs in Parquet with their times typed in UTC (a TIMESTAMPTZ column, no text
    kept): two unreadable sodium values at 01:30Z (02:30 CET, the second 02:30) and 00:30Z
    (02:30 CEST, the first), and a readable one."""
    folder = tmp_path / "typed"
    folder.mkdir()
    times = ["2026-10-25 01:30Z", "2026-10-25 00:30Z", "2026-10-25 05:00Z"]
    table = pa.table(
        {
            "patient_id": ["Q1", "Q2", "Q3"],
            "specimen_id": ["S1", "S2", "S3"],
            "specimen_time": pa.array(
                [pd.Timestamp(t) for t in times], type=pa.timestamp("us", "UTC")
            ),
            "loinc": ["2951-2"] * 3,
            "value_raw": ["HEMOLYZED", "HEMOLYZED", "130"],
            "unit": ["mmol/L"] * 3,
            "status": ["final"] * 3,
            "specimen_type": ["Serum"] * 3,
        }
    )
    pq.write_table(table, folder / "labs.parquet")
    meds = pd.DataFrame({"patient_id": ["Q3"], "drug_name": ["Furosemide 40mg"]})
    meds["start_time"] = "2026-01-01T00:00:00"
    meds.to_csv(folder / "medications.csv", index=False)
    pd.DataFrame(
        [("Q9", "I10", "ICD-10-CM", "2026-01-01T00:00:00")],
        columns=["patient_id", "code", "code_system", "recorded_time"],
    ).to_csv(folder / "diagnoses.csv", index=False)
    mapping = tmp_path / "site.yaml"
    mapping.write_text(f"timezone: {BERLIN}\n")
    return folder, mapping


@pytest.mark.parametrize(
    "nights", [["--window-start", "2026-10-25"], ["--backfill", "2026-10-24", "2026-10-25"]]
)
def test_a_quarantined_time_typed_with_its_zone_keeps_its_instant(
    tmp_path: Path, nights: list[str]
) -> None:
    folder, mapping = _typed_delivery(tmp_path)
    out = tmp_path / "out"
    status = main(
        ["run", "--no-flow", "--input", str(folder), "--mapping", str(mapping),
         "--out", str(out), *nights]
    )  # fmt: skip
    assert status == 4  # screened with warnings: two of three sodium values unreadable
    quarantine = pd.read_csv(out / "2026-10-25" / "quarantine.csv", dtype=str)
    originals = quarantine.set_index("patient_id")["original"].map(json.loads)
    # 01:30Z is 02:30 CET: written with its offset; 00:30Z, 02:30 CEST, is the first
    # occurrence, which a bare 02:30 names by the rules (README, rules.yaml's header)
    assert originals["Q1"]["specimen_time"] == "2026-10-25 02:30:00+01:00"
    assert originals["Q2"]["specimen_time"] == "2026-10-25 02:30:00"
