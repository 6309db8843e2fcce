"""The workbook's nightly-state times are times, named in the site's zone, as its other times:
a case listed again tonight says when it was last listed and last reviewed. Written as text
('2026-11-20T15:00:00') under a header without a zone, a reviewer could neither sort nor filter
them as times nor tell which clock they are on (spec §11)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl

from hyposcreen.cli import main

LABS = (
    "patient_id,specimen_id,specimen_time,loinc,lab_name,value_raw,unit,status,specimen_type\n"
    # Q1: 130 (mild, one risk factor: routine) on 20 Nov, 124 (moderate: lower, soon) on 21 Nov
    "Q1,S1,2026-11-20T06:00:00,2951-2,Sodium,130,mmol/L,final,Serum\n"
    "Q1,S2,2026-11-21T06:00:00,2951-2,Sodium,124,mmol/L,final,Serum\n"
)


def test_previously_listed_and_last_reviewed_are_zoned_times(tmp_path: Path) -> None:
    extract = tmp_path / "in"
    extract.mkdir()
    (extract / "labs.csv").write_text(LABS, encoding="utf-8")
    (extract / "medications.csv").write_text(
        "patient_id,drug_name,start_time,end_time,status\n"
        "Q1,Furosemide 40mg tab,2026-05-12T09:00:00,,active\n",
        encoding="utf-8",
    )
    (extract / "diagnoses.csv").write_text(
        "patient_id,code,code_system,recorded_time,status\n"
        "Q9,N18.3,ICD-10-CM,2025-06-15T10:00:00,active\n",
        encoding="utf-8",
    )
    site = tmp_path / "site.yaml"
    site.write_text("site: berlin\ntimezone: Europe/Berlin\n", encoding="utf-8")
    reviews = tmp_path / "reviews.csv"
    reviews.write_text("patient_id,reviewed_at,reviewer\nQ1,2026-11-20T15:00:00,dr a\n")
    common = ["--mapping", str(site), "--state-dir", str(tmp_path / "state")]
    run = ["run", "--no-flow", "--input", str(extract), "--out", str(tmp_path / "out"), *common]
    assert main([*run, "--window-start", "2026-11-20"]) == 0
    assert main(["reviewed", "--file", str(reviews), *common]) == 0
    assert main([*run, "--window-start", "2026-11-21"]) == 0

    sheet = openpyxl.load_workbook(tmp_path / "out" / "2026-11-21" / "review_list.xlsx")
    rows = list(sheet["Review list"].iter_rows(min_row=1, max_row=2))
    cells = {header.value: cell for header, cell in zip(rows[0], rows[1], strict=True)}
    listed = cells["Previously listed (Europe/Berlin)"]  # the night of 20 Nov listed Q1
    assert listed.value == dt.datetime(2026, 11, 20, 0, 0)
    assert listed.number_format == "dd mmm yyyy hh:mm"
    reviewed = cells["Last reviewed (Europe/Berlin)"]  # the review recorded, site-local
    assert reviewed.value == dt.datetime(2026, 11, 20, 15, 0)
    assert cells["Listed again because"].value == "nadir_lower;tier_escalation"
