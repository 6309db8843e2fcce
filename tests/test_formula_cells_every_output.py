"""Extract text that starts like a formula (= + - @, a tab, a carriage return, a line feed, or the
full-width ＝ ＋ － ＠ an East Asian spreadsheet reads as those signs) in
patient ids, drug names, units and raw values, through a real run of two nights (one read,
the loop's one-pass screen, the writers' per-slice neutralising): no cell of any CSV or of
the workbook starts like a formula, and each such value appears neutralised (a leading ')."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import openpyxl
import pytest

from bad_input_rows import (
    DX_COLUMNS,
    LAB_COLUMNS,
    MED_COLUMNS,
    dx,
    glucose,
    lab,
    med,
    to_csv,
    write,
)
from hyposcreen.cli import main

RISKY_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")
IDS = ["=1+1", "+P2", "-3", "@P4", '=HYPERLINK("x")', "＝1+1", "＋P7", "－8", "＠P9"]
NIGHTS = ["2026-11-19", "2026-11-20"]


def _extract(folder: Path) -> Path:
    folder.mkdir(parents=True)
    labs, meds, dxs = [], [], []
    for n, patient in enumerate(IDS):
        for night in NIGHTS:
            time = f"{night}T0{n + 1}:00:00"
            labs += [lab("124", time=time, patient_id=patient),
                     glucose(time=time, patient_id=patient)]  # fmt: skip
        labs.append(lab("130", time=f"{NIGHTS[1]}T12:00:00", unit="=cmd|x", patient_id=patient))
        labs.append(lab("131", time=f"{NIGHTS[1]}T12:30:00", unit="＝cmd|x", patient_id=patient))
        labs.append(lab("@SUM(1)", time=f"{NIGHTS[1]}T13:00:00", patient_id=patient))
        meds.append(med("=EVIL() furosemide 40mg tab", patient_id=patient))
        meds.append(med("＠EVIL() furosemide 40mg tab", patient_id=patient))
        # a line break before the formula: a reader that splits lines puts =EVIL() first
        meds.append(med("\n=EVIL() bumetanide 1mg tab", patient_id=patient))
        meds.append(med("＋EVIL() no drug known", patient_id=patient))  # to coverage.csv
        meds.append(med("Furosemide 40mg tab", patient_id=patient))
        dxs.append(dx(patient_id=patient))
    write(folder, "labs.csv", to_csv(labs, LAB_COLUMNS))
    write(folder, "medications.csv", to_csv(meds, MED_COLUMNS))
    write(folder, "diagnoses.csv", to_csv(dxs, DX_COLUMNS))
    (folder.parent / "mapping.yaml").write_text(
        "site: test\ntimezone: UTC\nallow_identifiers: true\n", encoding="utf-8"
    )
    return folder


def _csv_cells(path: Path) -> list[str]:
    with path.open(encoding="utf-8", newline="") as handle:
        return [cell for row in csv.reader(handle) for cell in row]


def _xlsx_cells(path: Path) -> list[str]:
    book = openpyxl.load_workbook(io.BytesIO(path.read_bytes()), read_only=True)
    return [
        cell
        for sheet in book.worksheets
        for row in sheet.iter_rows(values_only=True)
        for cell in row
        if isinstance(cell, str)
    ]


def test_formula_like_extract_text_is_neutralised_in_every_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    extract = _extract(tmp_path / "in")
    out = tmp_path / "out"
    status = main(["run", "--no-flow", "--input", str(extract), "--out", str(out),
                   "--mapping", str(tmp_path / "mapping.yaml"),
                   "--backfill", NIGHTS[0], NIGHTS[-1]])  # fmt: skip
    assert status in (0, 4), capsys.readouterr().err
    for night in NIGHTS:
        folder = out / night
        cells = {p.name: _csv_cells(p) for p in folder.glob("*.csv")}
        cells["review_list.xlsx"] = _xlsx_cells(folder / "review_list.xlsx")
        listed = cells["review_list.csv"]
        for patient in IDS:
            assert "'" + patient in listed, (night, patient)
        assert any(c.startswith("'=EVIL()") for c in cells["evidence.csv"]), night
        assert any(c.startswith("'＠EVIL()") for c in cells["evidence.csv"]), night
        assert any(c.startswith("'\n=EVIL()") for c in cells["evidence.csv"]), night
        assert "'＋EVIL() no drug known" in cells["coverage.csv"], night
        for name, found in cells.items():
            risky = [c for c in found if c.startswith(RISKY_STARTS)]
            assert not risky, (night, name, risky[:5])


def test_a_formula_after_blanks_is_neutralised_in_every_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A sign after blanks (` =EVIL()`, a no-break space before `@`) runs in a spreadsheet
    import that trims cells: in a drug name as evidence, an unknown drug, lab name or status
    word in coverage.csv, each gets its leading ' (a unit is shown after its analyte)."""
    folder = tmp_path / "in"
    folder.mkdir()
    labs = [lab("124", patient_id="P1"), glucose(patient_id="P1"),
            lab("130", time="2026-11-20T09:00:00", unit=" =cmd|x", patient_id="P1"),
            lab("131", time="2026-11-20T10:00:00", status="\u00a0@EVIL()", patient_id="P1"),
            {**lab("5", time="2026-11-20T11:00:00", loinc="", patient_id="P1"),
             "lab_name": "  +EVIL() lab"}]  # fmt: skip
    meds = [
        med(" =EVIL() furosemide 40mg tab", patient_id="P1"),
        med("\u3000－EVIL() no drug known", patient_id="P1"),
    ]
    named = [{"lab_name": "", **row} for row in labs]
    write(folder, "labs.csv", to_csv(named, [*LAB_COLUMNS, "lab_name"]))
    write(folder, "medications.csv", to_csv(meds, MED_COLUMNS))
    write(folder, "diagnoses.csv", to_csv([dx(patient_id="P1")], DX_COLUMNS))
    out = tmp_path / "out"
    status = main(["run", "--no-flow", "--input", str(folder), "--out", str(out),
                   "--window-start", NIGHTS[1]])  # fmt: skip
    assert status in (0, 4), capsys.readouterr().err
    night = out / NIGHTS[1]
    cells = {p.name: _csv_cells(p) for p in night.glob("*.csv")}
    cells["review_list.xlsx"] = _xlsx_cells(night / "review_list.xlsx")
    assert any(c.startswith("' =EVIL() furosemide") for c in cells["evidence.csv"])
    for shown in ["'\u3000－EVIL() no drug known", "'  +EVIL() lab"]:
        assert any(shown in c for c in cells["coverage.csv"]), shown
    assert any(c.startswith("'\u00a0@EVIL()") for c in cells["coverage.csv"])
    for name, found in cells.items():
        risky = [c for c in found if c.lstrip().startswith(RISKY_STARTS) and c[:1] != "'"]
        assert not risky, (name, risky[:5])
