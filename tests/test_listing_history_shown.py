"""A case listed again tonight says why, when it was last listed and last reviewed, in the
workbook and on the page. The workbook's nightly-state times are times named in the site's zone,
as its other times: written as text ('2026-11-20T15:00:00') under a header without a zone, a
reviewer could neither sort nor filter them as times nor tell which clock they are on (spec
§11). The page said nothing of them: a case reviewed yesterday read as a new one."""

from __future__ import annotations

import datetime as dt
import html
from pathlib import Path

import openpyxl

from hyposcreen.cli import main

LABS = (
    "patient_id,specimen_id,specimen_time,loinc,lab_name,value_raw,unit,status,specimen_type\n"
    # Q1: 130 (mild, one risk factor: routine) on 20 Nov, 124 (moderate: lower, soon) on 21 Nov
    "Q1,S1,2026-11-20T06:00:00,2951-2,Sodium,130,mmol/L,final,Serum\n"
    "Q1,S2,2026-11-21T06:00:00,2951-2,Sodium,124,mmol/L,final,Serum\n"
)


def test_the_listing_history_is_shown_with_zoned_times(tmp_path: Path) -> None:
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

    page = (tmp_path / "out" / "2026-11-21" / "review_list.html").read_text(encoding="utf-8")
    row = html.unescape(page[page.index('class="pid">Q1') :])
    assert (
        '<div class="small relisted">Listed again: lower sodium, more urgent tier · last listed '
        "for the window from 20 Nov 2026 00:00 CET · reviewed 20 Nov 2026 15:00 CET</div>"
    ) in row[: row.index("</tr>")]
    first = (tmp_path / "out" / "2026-11-20" / "review_list.html").read_text(encoding="utf-8")
    assert 'class="small relisted"' not in first  # listed for the first time: no history
