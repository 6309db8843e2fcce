"""A query saved as CSV by a SQL client ends with the client's footer: `(171 rows affected)` and
`Completion time: …` (sqlcmd, Management Studio), `(33 rows)` (psql). Such a line warned that
rows did not read as rows and the list might lack patients (malformed_row, exit 4), and one
without a line end after it stopped the night as a file cut off mid-row (exit 3). It is now
quarantined `footer_line` with its text (the reconciliation adds up) and the night screens as
the sample does."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from sample_delivery import SAMPLE, screen


def _review(night: Path) -> pd.DataFrame:
    return pd.read_csv(night / "review_list.csv", dtype=str).drop(columns=["run_id"])


@pytest.mark.parametrize("last_line_end", ["\n", ""])
def test_sql_client_footers_are_footer_lines(tmp_path: Path, last_line_end: str) -> None:
    folder = shutil.copytree(SAMPLE, tmp_path / "delivery")
    with (folder / "labs.csv").open("a", encoding="utf-8") as labs:
        labs.write("\n(171 rows affected)\n\nCompletion time: 2026-11-21T01:00:00.1234567+01:00")
        labs.write(last_line_end)
    with (folder / "medications.csv").open("a", encoding="utf-8") as medications:
        medications.write("(33 rows)" + last_line_end)
    status, night = screen(folder)
    expected_status, expected = screen(shutil.copytree(SAMPLE, tmp_path / "sample"))
    assert status == expected_status == 0
    pd.testing.assert_frame_equal(_review(night), _review(expected))
    got = json.loads((night / "run_manifest.json").read_text())["reconciliation"]
    want = json.loads((expected / "run_manifest.json").read_text())["reconciliation"]
    for table, footers in (("labs", 2), ("medications", 1)):
        assert got[table]["rows_in"] == want[table]["rows_in"] + footers
        assert got[table]["quarantined"] == want[table]["quarantined"] + footers
        assert got[table]["reasons"]["quarantined"]["footer_line"] == footers
        assert got[table]["reconciled"] is True
    quarantine = pd.read_csv(night / "quarantine.csv", dtype=str, keep_default_na=False)
    footer = quarantine.loc[quarantine["reason"] == "footer_line"]
    assert footer[["table", "source_row"]].values.tolist() == [
        ["labs", "174"],
        ["labs", "176"],
        ["medications", "35"],
    ]


# the sample's labs.csv: 171 data rows under its header
SAMPLE_LAB_ROWS = 171


@pytest.mark.parametrize(
    "count_form", ["labs.count", "delivery_manifest.json"], ids=["count", "manifest"]
)
def test_control_totals_count_data_rows_alone(tmp_path: Path, count_form: str) -> None:
    """A sender's control total counts the query's data rows (171, as its own footer says):
    neither the footer lines nor a header line repeated inside the file are among them."""
    folder = shutil.copytree(SAMPLE, tmp_path / "delivery")
    labs = (folder / "labs.csv").read_text(encoding="utf-8")
    header, rows = labs.split("\n", 1)
    rows = rows.splitlines(keepends=True)
    concatenated = "".join([header, "\n", *rows[:100], header, "\n", *rows[100:]])
    (folder / "labs.csv").write_text(
        concatenated + "\n(171 rows affected)\n\nCompletion time: 2026-11-21T01:00:00+01:00\n",
        encoding="utf-8",
    )
    if count_form == "labs.count":
        (folder / "labs.count").write_text(f"{SAMPLE_LAB_ROWS}\n", encoding="utf-8")
    else:
        files = {"files": {"labs.csv": {"rows": SAMPLE_LAB_ROWS}}}
        (folder / "delivery_manifest.json").write_text(json.dumps(files), encoding="utf-8")
    status, night = screen(folder)
    assert status == 0
    got = json.loads((night / "run_manifest.json").read_text())["reconciliation"]["labs"]
    assert got["rows_in"] == SAMPLE_LAB_ROWS + 3  # every line is still accounted for
    assert got["reasons"]["quarantined"]["footer_line"] == 2
    assert got["reasons"]["quarantined"]["repeated_header"] == 1
    assert got["reconciled"] is True


def test_control_totals_still_catch_a_missing_row(tmp_path: Path) -> None:
    folder = shutil.copytree(SAMPLE, tmp_path / "delivery")
    with (folder / "labs.csv").open("a", encoding="utf-8") as labs:
        labs.write("(171 rows affected)\n")
    (folder / "labs.count").write_text(f"{SAMPLE_LAB_ROWS + 1}\n", encoding="utf-8")
    status, _ = screen(folder)
    assert status == 3


@pytest.mark.parametrize(
    "footer",
    ["Total: 171", "Total rows: 171", "171 rows selected.", "(171 row(s) affected)"],
)
@pytest.mark.parametrize("last_line_end", ["\n", ""])
def test_report_and_oracle_footers_are_footer_lines(
    tmp_path: Path, footer: str, last_line_end: str
) -> None:
    """`Total: 171` (report tools), `171 rows selected.` (Oracle SQL*Plus) and osql's
    `(171 row(s) affected)` as a file's last line: a footer, which the labs.count of the
    file's 171 data rows does not count (before, a malformed row: exit 4)."""
    folder = shutil.copytree(SAMPLE, tmp_path / "delivery")
    with (folder / "labs.csv").open("a", encoding="utf-8") as labs:
        labs.write(f"\n{footer}{last_line_end}")
    (folder / "labs.count").write_text(f"{SAMPLE_LAB_ROWS}\n", encoding="utf-8")
    status, night = screen(folder)
    assert status == 0
    got = json.loads((night / "run_manifest.json").read_text())["reconciliation"]["labs"]
    assert got["rows_in"] == SAMPLE_LAB_ROWS + 1
    assert got["reasons"]["quarantined"]["footer_line"] == 1
    assert "malformed_row" not in got["reasons"]["quarantined"]
    assert got["reconciled"] is True
    quarantine = pd.read_csv(night / "quarantine.csv", dtype=str, keep_default_na=False)
    footer_rows = quarantine.loc[quarantine["reason"] == "footer_line"]
    assert footer_rows["source_row"].tolist() == ["174"]  # header 1, rows 2-172, blank 173


def test_a_total_line_between_rows_is_no_footer(tmp_path: Path) -> None:
    """`Total: 171` is a footer only after the file's last row: between rows it is a line that
    does not read as a row (malformed_row, exit 4), and a lab row whose values hold `Total` or
    `(5 rows)` is a row like any other."""
    folder = shutil.copytree(SAMPLE, tmp_path / "delivery")
    header, *rows = (folder / "labs.csv").read_text(encoding="utf-8").splitlines()
    valued = "P099,E099,S099-01,2026-11-20T06:00:00,2026-11-20T07:00:00,,Total,(5 rows),,final,"
    lines = [header, *rows[:100], "Total: 100", *rows[100:], valued, "Total: 72"]
    (folder / "labs.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    status, night = screen(folder)
    assert status == 4
    got = json.loads((night / "run_manifest.json").read_text())["reconciliation"]["labs"]
    assert got["rows_in"] == SAMPLE_LAB_ROWS + 3
    assert got["reasons"]["quarantined"]["footer_line"] == 1
    assert got["reasons"]["quarantined"]["malformed_row"] == 1
    assert got["reconciled"] is True
    quarantine = pd.read_csv(night / "quarantine.csv", dtype=str, keep_default_na=False)
    labs = quarantine.loc[quarantine["table"] == "labs"].set_index("source_row")["reason"]
    assert labs["102"] == "malformed_row"  # header 1, rows 2-101, the line 102
    assert labs["175"] == "footer_line"  # rows 103-173, the valued row 174
    assert "174" not in labs.index  # `Total` and `(5 rows)` as values: a row, screened


def test_a_total_line_ending_each_concatenated_query_is_a_footer(tmp_path: Path) -> None:
    """Two saved queries concatenated, each ending with its `Total:` line: the first ends its
    query's output (the next line repeats the header), so both are footers."""
    folder = shutil.copytree(SAMPLE, tmp_path / "delivery")
    header, *rows = (folder / "labs.csv").read_text(encoding="utf-8").splitlines()
    lines = [header, *rows[:100], "Total: 100", "", header, *rows[100:], "Total: 71"]
    (folder / "labs.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (folder / "labs.count").write_text(f"{SAMPLE_LAB_ROWS}\n", encoding="utf-8")
    status, night = screen(folder)
    assert status == 0
    got = json.loads((night / "run_manifest.json").read_text())["reconciliation"]["labs"]
    assert got["rows_in"] == SAMPLE_LAB_ROWS + 3
    assert got["reasons"]["quarantined"]["footer_line"] == 2
    assert got["reasons"]["quarantined"]["repeated_header"] == 1
    assert "malformed_row" not in got["reasons"]["quarantined"]
    quarantine = pd.read_csv(night / "quarantine.csv", dtype=str, keep_default_na=False)
    labs = quarantine.loc[quarantine["table"] == "labs"].set_index("source_row")["reason"]
    # header 1, rows 2-101, Total 102, blank 103, header 104, rows 105-175, Total 176
    assert (labs["102"], labs["104"], labs["176"]) == (
        "footer_line",
        "repeated_header",
        "footer_line",
    )


def test_lines_of_spaces_alone_are_no_records(tmp_path: Path) -> None:
    """SQL*Plus spools a blank line padded with spaces to its line size (TRIMSPOOL OFF, its
    default): such a line between rows and before the footer was quarantined malformed_row and
    warned that the list might lack patients (exit 4). It is no record, as an empty line is
    none: quarantined footer_line, the rows and a sender's total as without it."""
    folder = shutil.copytree(SAMPLE, tmp_path / "delivery")
    header, rows = (folder / "labs.csv").read_text(encoding="utf-8").split("\n", 1)
    lines = rows.splitlines(keepends=True)
    padded = " " * 80 + "\n"
    text = "".join([header, "\n", *lines[:50], padded, *lines[50:], padded, "\t \r\n"])
    (folder / "labs.csv").write_text(text + "171 rows selected.\n", encoding="utf-8")
    (folder / "labs.count").write_text(f"{SAMPLE_LAB_ROWS}\n", encoding="utf-8")
    status, night = screen(folder)
    expected_status, expected = screen(shutil.copytree(SAMPLE, tmp_path / "sample"))
    assert status == expected_status == 0
    pd.testing.assert_frame_equal(_review(night), _review(expected))
    got = json.loads((night / "run_manifest.json").read_text())["reconciliation"]["labs"]
    assert got["reasons"]["quarantined"]["footer_line"] == 4  # three padded lines, the footer
    assert "malformed_row" not in got["reasons"]["quarantined"]
    quarantine = pd.read_csv(night / "quarantine.csv", dtype=str, keep_default_na=False)
    footer = quarantine.loc[quarantine["reason"] == "footer_line", "source_row"]
    # header line 1, rows 1-50 on lines 2-51, the padded line 52, rows 51-171 on 53-173,
    # then the two padded lines 174-175 and the footer 176
    assert footer.tolist() == ["52", "174", "175", "176"]
