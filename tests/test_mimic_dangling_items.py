"""MIMIC-IV labevents rows whose itemid the export's own d_labitems lacks (dangling_lab_items):
the test cannot be told, so the rows are set aside as not relevant, and a laboratory's new
sodium item would leave its patients off a list that looked complete. Any such row warns
(exit 4); a site lab dictionary entry for the item id reads it as that analyte."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

from hyposcreen.cli import main

MIMIC = Path(__file__).resolve().parent / "data" / "mimic"


def _run(root: Path, out: Path, *extra: str) -> tuple[int, dict, list[tuple[str, str]]]:
    status = main(
        ["run", "--no-flow", "--source", "mimic", "--input", str(root), "--out", str(out),
         "--window-start", "2150-03-10", *extra]
    )  # fmt: skip
    day = out / "2150-03-10"
    manifest = json.loads((day / "run_manifest.json").read_text())
    with (day / "review_list.csv").open(newline="") as handle:
        listed = [(row["patient_id"], row["tier"]) for row in csv.DictReader(handle)]
    return status, manifest, listed


def _renumbered(tmp_path: Path) -> Path:
    """The fixture with its serum sodium item 50983 written 51999 (42 of its 56 labevents
    rows), an item id neither its d_labitems nor rules/mimic_labitems.csv holds."""
    root = tmp_path / "mimic"
    shutil.copytree(MIMIC, root)
    labevents = root / "hosp" / "labevents.csv"
    labevents.write_text(labevents.read_text().replace(",50983,", ",51999,"))
    return root


def test_sodium_rows_under_an_item_id_d_labitems_lacks_warn(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Before, the 42 rows were set aside as unknown_itemid and the night passed as clean
    (exit 0) with the sodium cases they held off the list."""
    status, manifest, _ = _run(_renumbered(tmp_path), tmp_path / "out")
    err = capsys.readouterr().err
    assert status == 4, err
    assert manifest["reconciliation"]["labs"]["reasons"]["not_relevant"]["unknown_itemid"] == 42
    warnings = {w["code"]: w["message"] for w in manifest["warnings"]}
    message = warnings["lab_items_not_in_dictionary"]
    assert message.startswith("42 of the 56 labevents row(s) of the extract carry an itemid")
    assert "51999" not in message  # counts only: the item ids are in coverage.csv


def test_a_site_dictionary_entry_for_the_item_id_reads_it(tmp_path: Path) -> None:
    """`51999,sodium` in the site's lab dictionary: before, an item id absent from both
    dictionaries stayed unknown whatever the site's dictionary said; now the renumbered
    extract lists the fixture's own five cases, with no warning about the item."""
    _, _, fixture_list = _run(MIMIC, tmp_path / "fixture")
    (tmp_path / "labs.csv").write_text("local_name,analyte\n51999,sodium\n")
    (tmp_path / "site.yaml").write_text("lab_dictionary: labs.csv\n")
    mapping = ["--mapping", str(tmp_path / "site.yaml")]
    _, manifest, listed = _run(_renumbered(tmp_path), tmp_path / "out", *mapping)
    assert len(fixture_list) == 5
    assert listed == fixture_list
    assert "lab_items_not_in_dictionary" not in [w["code"] for w in manifest["warnings"]]
