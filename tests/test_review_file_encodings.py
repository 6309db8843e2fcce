"""The clinician review CSV as spreadsheets save it: UTF-8 with a byte order mark, or
Windows-1252 (Excel on Windows, a reviewer named Zoë); an undecodable file stays a clear
error naming the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from hyposcreen.errors import InputError
from hyposcreen.review_file import read_reviews

ROWS = "patient_id,reviewed_at,reviewer\r\nP004,2026-11-21T09:30,Dr. Zoë Müller\r\n"


@pytest.mark.parametrize("encoding", ["utf-8-sig", "cp1252", "utf-8"])
def test_a_review_file_reads_in_the_encodings_spreadsheets_save(
    encoding: str, tmp_path: Path
) -> None:
    path = tmp_path / "reviews.csv"
    path.write_bytes(ROWS.encode(encoding))
    reviews = read_reviews(path)
    assert reviews["patient_id"].tolist() == ["P004"]
    assert reviews["reviewer"].tolist() == ["Dr. Zoë Müller"]


def test_a_review_file_of_no_text_encoding_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "reviews.csv"
    path.write_bytes(b"patient_id,reviewed_at,reviewer\nP004,2026-11-21T09:30,\x81\x8d\xff\n")
    with pytest.raises(InputError, match="is not a readable CSV"):
        read_reviews(path)


@pytest.mark.parametrize("written", ['="P004"', '=HYPERLINK("https://ehr/P004","P004")', "'P004"])
def test_an_id_left_in_a_spreadsheets_form_is_refused_by_its_row(
    written: str, tmp_path: Path
) -> None:
    """Recorded as written, `="P004"` marked no case reviewed without a word; now the file is
    refused, naming the row (never the value)."""
    path = tmp_path / "reviews.csv"
    quoted = '"' + written.replace('"', '""') + '"' if "," in written else written
    path.write_text(
        "patient_id,reviewed_at,reviewer\nP003,2026-11-21T09:30,dr-a\n"
        f"{quoted},2026-11-21T09:30,dr-a\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError) as raised:
        read_reviews(path)
    assert "1 row(s) hold a patient_id in a spreadsheet's form" in str(raised.value)
    assert "(rows 3)" in str(raised.value) and "P004" not in str(raised.value)


@pytest.mark.parametrize("delimiter", [";", "\t"])
def test_a_review_file_saved_with_semicolons_or_tabs_reads(delimiter: str, tmp_path: Path) -> None:
    """Excel where the decimal is a comma (pt-BR, de-DE) saves "CSV" with `;`, in
    Windows-1252. It was refused as lacking patient_id, reviewed_at and reviewer, the very
    names its header holds; the header now decides the delimiter. The reviewer's name holds
    a comma, which split the rows unevenly when read with `,`."""
    path = tmp_path / "reviews.csv"
    rows = ["patient_id;reviewed_at;reviewer", "P004;2026-11-21 09:30;Silva, João"]
    path.write_bytes("\r\n".join(rows).replace(";", delimiter).encode("cp1252") + b"\r\n")
    reviews = read_reviews(path)
    assert reviews["patient_id"].tolist() == ["P004"]
    assert reviews["reviewer"].tolist() == ["Silva, João"]
    assert str(reviews["reviewed_at"].iloc[0]) == "2026-11-21 09:30:00"


def test_a_review_file_without_the_columns_says_which_header_it_expects(tmp_path: Path) -> None:
    path = tmp_path / "reviews.csv"
    path.write_text("MRN;REVIEWED;BY\nP004;2026-11-21 09:30;dr-a\n", encoding="utf-8")
    with pytest.raises(InputError) as raised:
        read_reviews(path)
    assert "expected a header row patient_id, reviewed_at, reviewer" in str(raised.value)
    assert "semicolons" in str(raised.value) and "P004" not in str(raised.value)
