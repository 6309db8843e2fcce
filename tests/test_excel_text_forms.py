"""Canonical CSVs delivered from a spreadsheet with Excel's text-forcing forms: `="P001"` as
a patient id, `="135"` as a value. They are read as written (nothing says a cell is other than
its text): the labs' `="P001"` never met the medications' `P001`, so a hyponatremic patient on
furosemide lost the risk factor and left the list at exit 0, without a word. The night now
warns (`excel_text_forms`, exit 4) naming the file, the column and `file:row` examples, never
a value, and says what to ask the sender for; the ids are not stripped of the form."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from bad_input_rows import glucose, lab, med
from cli_night import DAY, extract, run
from hyposcreen.adapters import mimic
from hyposcreen.config import SiteMapping, parse_window
from hyposcreen.excel_form_warnings import excel_form_warnings
from hyposcreen.rules.loader import load_rules
from omop_extract import extract as omop_extract

MIMIC = Path(__file__).resolve().parent / "data" / "mimic"


def _texts(rows: list[dict[str, str]], *columns: str) -> list[dict[str, str]]:
    return [{**row, **{c: f'="{row[c]}"' for c in columns}} for row in rows]


def _warnings(out: Path) -> list[str]:
    manifest = json.loads((out / DAY / "run_manifest.json").read_text("utf-8"))
    return [w["message"] for w in manifest["warnings"] if w["code"] == "excel_text_forms"]


@pytest.mark.parametrize("partitions", ["1", "2"])
def test_patient_ids_written_for_excel_warn_naming_file_column_and_rows(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], partitions: str
) -> None:
    labs = _texts([lab("125", patient_id="P001"), glucose(patient_id="P001")], "patient_id")
    labs.append(lab("126", patient_id="P003"))
    meds = [med(patient_id="P001"), med(patient_id="P003")]
    folder = extract(tmp_path / "in", labs=labs, meds=meds)
    status, err = run(capsys, folder, tmp_path / "out", "--partitions", partitions)
    assert status == 4
    [message] = _warnings(tmp_path / "out")
    assert message.startswith(
        "2 cell(s) of the extract's table labs (its files as delivered, not only this night's "
        "rows) are written in a spreadsheet's text-forcing form "
        '="..." (labs.csv, column patient_id: 2; e.g. labs.csv:2, labs.csv:3), or as a '
        "formula such as =HYPERLINK(...)."
    )
    assert "a patient id so written matches no id of the other tables" in message
    assert "Ask the sender for the file saved as plain CSV" in message
    assert f"warning: {message}" in err
    assert "P00" not in message and "125" not in message  # never a value
    review = pd.read_csv(tmp_path / "out" / DAY / "review_list.csv", dtype=str)
    # read as written, not stripped: P001's labs still meet no medication (hence the warning)
    assert list(review["patient_id"]) == ["P003"]


def test_values_written_for_excel_are_named_too(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    labs = [lab("125", patient_id="P001"), *_texts([lab("128", patient_id="P002")], "value_raw")]
    status, _ = run(capsys, extract(tmp_path / "in", labs=labs), tmp_path / "out")
    assert status == 4
    [message] = _warnings(tmp_path / "out")
    assert "(labs.csv, column value_raw: 1; e.g. labs.csv:3)" in message
    assert set(re.findall(r"\d+", message)) <= {"1", "3"}


def test_a_form_after_a_blank_and_a_formula_are_counted_too(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """` ="135"` (a blank after the delimiter) and `=HYPERLINK("...","P002")` (a report linking
    each id to the record) are read as written alike; a value padded with blanks (` 128`) or
    holding `=` after its first character is no form."""
    labs = [
        lab("125", patient_id="P001"),
        {**lab("128", patient_id="P002"), "value_raw": ' ="128"'},
        {**lab("127", patient_id='=HYPERLINK("https://ehr/P003","P003")')},
        lab(" 126", patient_id="P004"),
        lab("124", patient_id="P005 =x"),
    ]
    status, _ = run(capsys, extract(tmp_path / "in", labs=labs), tmp_path / "out")
    assert status == 4
    [message] = _warnings(tmp_path / "out")
    assert message.startswith("2 cell(s) of the extract's table labs")
    assert "labs.csv, column patient_id: 1; labs.csv, column value_raw: 1" in message
    assert "e.g. labs.csv:3, labs.csv:4)" in message
    assert 'HYPERLINK("' not in message and "ehr" not in message  # never a value


def test_a_plain_delivery_does_not_warn(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A value merely holding `="` inside (a drug name quoting) is no text-forcing form."""
    meds = [med('Furosemide ="loop" 40mg tab', patient_id="P1")]
    status, _ = run(capsys, extract(tmp_path / "in", meds=meds), tmp_path / "out")
    assert _warnings(tmp_path / "out") == []
    assert status == 0


@pytest.mark.parametrize("partitions", ["1", "3"])
def test_an_omop_csv_written_for_excel_warns_too(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], partitions: str
) -> None:
    """`--source omop` reads its CSV tables through the source adapter, not the canonical
    reader: a drug_exposure person_id written ="7" met no measurement of person 7, so the
    furosemide never reached the hyponatremic case, at exit 0 and without a word."""
    drug = {"person_id": '="7"', "drug_concept_id": "0", "drug_exposure_start_date": "2026-11-01"}
    folder = omop_extract(tmp_path / "omop", drugs=[{**drug, "drug_source_value": "Furosemide"}])
    status, err = run(
        capsys, folder, tmp_path / "out", "--source", "omop", "--partitions", partitions
    )
    assert status == 4, err
    [message] = _warnings(tmp_path / "out")
    assert message.startswith(
        "1 cell(s) of the extract's table medications (its files as delivered, not only this "
        "night's rows) are written in a spreadsheet's text-forcing form "
        '="..." (drug_exposure.csv, column person_id: 1; e.g. drug_exposure.csv:2), or as'
    )
    assert '"7"' not in err


def test_a_mimic_table_read_beside_another_counts_its_cells_too(tmp_path: Path) -> None:
    """MIMIC's diagnoses take their time from their stay in admissions: an admissions.csv
    whose hadm_id is written ="20001" gives that stay's diagnoses no time, so the table read
    beside diagnoses_icd is counted with it (file, column, `file:row`)."""
    folder = tmp_path / "mimic"
    shutil.copytree(MIMIC, folder)
    admissions = folder / "hosp" / "admissions.csv"
    header, first, *rest = admissions.read_text("utf-8").splitlines(keepends=True)
    subject, stay, others = first.split(",", 2)
    admissions.write_text("".join([header, f'{subject},"=""{stay}""",{others}', *rest]), "utf-8")
    rules, window = load_rules(), parse_window("2150-03-10", "2150-03-11")
    table = mimic.read_table(folder, "diagnoses", SiteMapping(), rules, window, None)
    [message] = [w.message for w in excel_form_warnings("diagnoses", table.excel_forms)]
    assert "(admissions.csv, column hadm_id: 1; e.g. admissions.csv:2)" in message
    assert stay not in message
