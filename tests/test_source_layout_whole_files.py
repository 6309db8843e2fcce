"""A MIMIC-IV or OMOP table's text file is checked for being whole as a canonical CSV is: one
cut off mid-row (an interrupted copy) or with a stray double quote running to its end stops
the night (exit 3) naming the file, and one in UTF-16 (SQL Server's `bcp -w`) is read, not
split into rows of garbage. Before, these files were read row by row as far as they went: the
rows after the cut were lost with the night screened (exit 0 or 4), and a cut-off dictionary
(`d_labitems`, `concept`) lost its items without a word."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from hyposcreen.cli import main
from omop_extract import extract, measurement, write

MIMIC = Path(__file__).resolve().parent / "data" / "mimic"


def _run(root: Path, source: str, day: str) -> int:
    return main(
        ["run", "--no-flow", "--source", source, "--input", str(root), "--out",
         str(root / "out"), "--window-start", day]
    )  # fmt: skip


@pytest.mark.parametrize(
    ("table", "cut_after"),
    [
        ("labevents", b"\n33,10008,20008,71033,50983,,2150-03-10 08"),
        ("d_labitems", b"\n50931,Gluc"),
    ],
)
def test_a_mimic_table_cut_off_mid_row_stops_the_night(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], table: str, cut_after: bytes
) -> None:
    """labevents.csv cut inside row 33's charttime: before, its 32 rows before the cut were
    screened and the cut row quarantined malformed_row (exit 4, 33 of 56 rows 'in');
    d_labitems.csv cut inside the glucose item's label lost the items after the cut, read by
    the shipped map or not at all (exit 0). Either is a delivery cut off: exit 3 naming the
    file, no list."""
    root = tmp_path / "mimic"
    shutil.copytree(MIMIC, root)
    path = root / "hosp" / f"{table}.csv"
    data = path.read_bytes()
    path.write_bytes(data[: data.index(cut_after) + len(cut_after)])
    status = _run(root, "mimic", "2150-03-10")
    error = capsys.readouterr().err
    assert status == 3, error
    assert f"hosp/{table}.csv ends in the middle of a row" in error
    assert not (root / "out" / "2150-03-10" / "review_list.csv").exists()


def test_a_stray_quote_running_to_the_end_of_labevents_stops_the_night(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A double quote opened in labevents row 2's priority field and never closed: the parser
    reads the 55 lines after it into that field. Before, the night ran on '1 of 1 labs row(s)',
    quarantined as malformed (exit 4) with 55 rows unaccounted for; now exit 3 naming the file."""
    root = tmp_path / "mimic"
    shutil.copytree(MIMIC, root)
    labevents = root / "hosp" / "labevents.csv"
    text = labevents.read_text()
    labevents.write_text(text.replace(",ROUTINE,\n", ',"ROUTINE,\n', 1))
    status = _run(root, "mimic", "2150-03-10")
    error = capsys.readouterr().err
    assert status == 3, error
    assert "hosp/labevents.csv ends inside a quoted field" in error


def test_an_omop_concept_table_cut_off_mid_row_stops_the_night(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """CONCEPT.csv (an Athena vocabulary file: tab-delimited, no quoting) ending inside its
    third row, `3000285<TAB>Sodi`: before, the cut row was dropped and the night screened
    (exit 0) without the concepts after the cut; now exit 3 naming the file."""
    extract(tmp_path / "cdm")
    concept = write(tmp_path / "vocab", "CONCEPT", [
        {"concept_id": "3019550", "concept_name": "Sodium", "vocabulary_id": "LOINC",
         "concept_class_id": "Lab Test", "concept_code": "2951-2"},
        {"concept_id": "3000285", "concept_name": "Sodium in Blood", "vocabulary_id": "LOINC",
         "concept_class_id": "Lab Test", "concept_code": "2947-0"}])  # fmt: skip
    data = concept.read_bytes()
    concept.write_bytes(data[: data.index(b"Sodium in") + 4])
    status = _run(tmp_path, "omop", "2026-11-20")
    error = capsys.readouterr().err
    assert status == 3, error
    assert "vocab/CONCEPT.csv ends in the middle of a row" in error


def test_an_omop_measurement_table_in_utf16_is_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The same three measurements (Na 118, 119, 117 for persons 7, 8, 9) written in UTF-8 and
    in UTF-16 with CR LF line ends (`bcp -w`): before, the UTF-16 file read as 3 rows of
    garbage plus a malformed one, no sodium usable (exit 4, 0 cases); now both list the same
    three severe cases, ranked by sodium: 9, 7, 8, and the manifest counts the 3 rows of each."""
    rows = [measurement(measurement_id=p, person_id=p, value_as_number=v, value_source_value=v)
            for p, v in (("7", "118"), ("8", "119"), ("9", "117"))]  # fmt: skip
    lists = []
    for name in ("utf8", "utf16"):
        root = tmp_path / name
        extract(root, labs=rows)
        if name == "utf16":
            table = root / "measurement.csv"
            table.write_bytes(table.read_text().replace("\n", "\r\n").encode("utf-16"))
        status = _run(root, "omop", "2026-11-20")
        assert status in (0, 4), capsys.readouterr().err
        day = root / "out" / "2026-11-20"
        manifest = json.loads((day / "run_manifest.json").read_text())
        assert manifest["reconciliation"]["labs"]["rows_in"] == 3
        assert "malformed_rows" not in [w["code"] for w in manifest["warnings"]]
        lists.append((day / "review_list.csv").read_text().splitlines())
    assert [line.split(",")[2] for line in lists[1][1:]] == ["9", "7", "8"]
    assert [line.split(",")[:3] for line in lists[0]] == [line.split(",")[:3] for line in lists[1]]
