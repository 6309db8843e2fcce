"""MIMIC-IV and OMOP tables delivered as a folder of parts (`hosp/labevents/part-0.csv.gz`,
`measurement/part-0.tsv`) that the export job goes on writing after the night read them: the
night was published from the parts already there (exit 0) and nothing said one had come, as a
canonical table's folder did before. The folder is listed again before the outputs are written:
a part that was not read stops the night (InputError, exit 3) naming it; a file beside the
folder (another table) and bookkeeping are no part of it."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from hyposcreen.adapters._source_files import parts_folder
from hyposcreen.config import RunSettings, Window
from hyposcreen.context import prepare
from hyposcreen.errors import InputError
from hyposcreen.runners.in_process import run_recipe
from omop_extract import extract, measurement

MIMIC = Path(__file__).resolve().parent / "data" / "mimic"


def _screen(folder: Path, source: str, day: str, after_read: Callable[[], object]) -> object:
    night = Window(pd.Timestamp(day), pd.Timestamp(day) + pd.Timedelta(days=1))
    settings = RunSettings(
        input_dir=folder, out_dir=folder.parent / "out", window=night, source=source
    )

    def observe(stage: str, _output: object) -> None:
        if stage == "read":
            after_read()

    return run_recipe(prepare(settings), observe=observe)


def _split(path: Path, first_rows: int) -> str:
    """`path` (a CSV) moved into a folder named after its table, as part-0 holding its first
    rows; returns the text of the part the job writes later (the other rows, same header)."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    folder = path.parent / path.name.split(".")[0]
    folder.mkdir()
    (folder / f"part-0{''.join(path.suffixes)}").write_text(
        "".join(lines[: first_rows + 1]), encoding="utf-8"
    )
    path.unlink()
    return "".join([lines[0], *lines[first_rows + 1 :]])


def test_a_mimic_labevents_part_written_after_the_read_stops_the_night(tmp_path: Path) -> None:
    root = shutil.copytree(MIMIC, tmp_path / "mimic")
    late = _split(root / "hosp" / "labevents.csv", 5)
    late_part = root / "hosp" / "labevents" / "part-1.csv"

    with pytest.raises(InputError, match=r"part-1\.csv appeared in .*labevents after the folder"):
        _screen(root, "mimic", "2150-03-10", lambda: late_part.write_text(late))
    assert not (tmp_path / "out" / "2150-03-10" / "review_list.csv").exists()


def test_a_mimic_folder_of_parts_left_alone_is_published(tmp_path: Path) -> None:
    root = shutil.copytree(MIMIC, tmp_path / "mimic")
    late = _split(root / "hosp" / "labevents.csv", 5)
    (root / "hosp" / "labevents" / "part-1.csv").write_text(late)

    def bookkeeping_and_another_table() -> None:  # written beside and inside: no part
        (root / "hosp" / "labevents" / "_SUCCESS").write_text("")
        (root / "hosp" / "emar.csv").write_text("subject_id\n1\n")

    summary = _screen(root, "mimic", "2150-03-10", bookkeeping_and_another_table)
    assert [Path(str(f["path"])).name for f in summary.manifest["inputs"]["labs"][:2]] == [
        "part-0.csv",
        "part-1.csv",
    ]


def test_an_omop_measurement_part_in_upper_case_written_after_the_read_stops_the_night(
    tmp_path: Path,
) -> None:
    root = extract(tmp_path / "omop", labs=[measurement(), measurement(measurement_id="2")])
    late = _split(root / "measurement.csv", 1)
    late_part = root / "measurement" / "PART-1.TSV"  # any letter case, any of the suffixes

    with pytest.raises(InputError, match=r"PART-1\.TSV appeared in .*measurement after"):
        _screen(root, "omop", "2026-11-20", lambda: late_part.write_text(late))


def test_the_parts_folder_is_the_tables_own_and_never_the_input_folder(tmp_path: Path) -> None:
    # an input folder named after a table, holding that table as one file: no folder of parts
    named = tmp_path / "labevents"
    assert parts_folder(named, "labevents", [named / "labevents.csv"]) is None
    assert parts_folder(named, "labevents", [named / "hosp" / "labevents.csv.gz"]) is None
    # parts in the table's folder, directly in the input or in a subfolder, nested or not
    inside = [named / "hosp" / "LABEVENTS" / "2150" / "part-0.csv.gz"]
    assert parts_folder(named, "labevents", inside) == named / "hosp" / "LABEVENTS"
    assert parts_folder(tmp_path, "measurement", [tmp_path / "measurement" / "a.tsv"]) == (
        tmp_path / "measurement"
    )


FHIR = Path(__file__).resolve().parent / "data" / "fhir" / "independent"


def test_a_fhir_export_file_written_after_the_read_stops_the_night(tmp_path: Path) -> None:
    """A Bulk Data export goes on writing its files (Observation.001.ndjson after .000): the
    night read the folder before it came and was published without its rows."""
    root = shutil.copytree(FHIR, tmp_path / "fhir")
    late = root / "Observation.001.ndjson"
    with pytest.raises(InputError, match=r"Observation\.001\.ndjson appeared in"):
        _screen(root, "fhir", "2022-04-01", lambda: late.write_text("", encoding="utf-8"))


def test_fhir_files_no_table_reads_are_no_part_added(tmp_path: Path) -> None:
    """Files there when the export was read but read by no table (an Encounter file, the
    export's manifest.json without resources) are no file written since; bookkeeping written
    after the read is none either."""
    root = shutil.copytree(FHIR, tmp_path / "fhir")
    (root / "Encounter.000.ndjson").write_text('{"resourceType":"Encounter","id":"e1"}\n')
    (root / "manifest.json").write_text('{"transactionTime":"2022-04-02T00:00:00Z"}\n')
    summary = _screen(
        root, "fhir", "2022-04-01", lambda: (root / "_SUCCESS").write_text("", encoding="utf-8")
    )
    assert summary.manifest["inputs"]["labs"]
