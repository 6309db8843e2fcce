"""MIMIC-IV dictionary rows that were not read (mimic_dictionary_rows): a d_labitems or
admissions row that does not split into the header's columns is skipped, and an item id
d_labitems lists on rows telling different tests is set aside, never read by the file's row
order. Each warns (exit 4) naming the file and line, never a value."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

from hyposcreen.cli import main

MIMIC = Path(__file__).resolve().parent / "data" / "mimic"


def _run(root: Path, out: Path) -> tuple[int, dict, list[tuple[str, str]]]:
    status = main(
        ["run", "--no-flow", "--source", "mimic", "--input", str(root), "--out", str(out),
         "--window-start", "2150-03-10"]
    )  # fmt: skip
    day = out / "2150-03-10"
    manifest = json.loads((day / "run_manifest.json").read_text())
    with (day / "review_list.csv").open(newline="") as handle:
        listed = [(row["patient_id"], row["tier"]) for row in csv.DictReader(handle)]
    return status, manifest, listed


def _extract(tmp_path: Path, table: str, old: str, new: str, name: str = "mimic") -> Path:
    root = tmp_path / name
    shutil.copytree(MIMIC, root)
    path = root / "hosp" / f"{table}.csv"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))
    return root


def _warnings(manifest: dict) -> dict[str, str]:
    return {w["code"]: w["message"] for w in manifest["warnings"]}


def test_a_short_d_labitems_row_warns_with_its_line(tmp_path: Path) -> None:
    """Ascites sodium 59994 written `59994,Sodium,Ascites` (no category, line 15: header = 1):
    before, the row was skipped without a word but for the dangling-item warning, which said
    d_labitems does not hold the item and named no line."""
    root = _extract(
        tmp_path, "d_labitems", "59994,Sodium,Ascites,Chemistry", "59994,Sodium,Ascites"
    )
    status, manifest, _ = _run(root, tmp_path / "out")
    assert status == 4
    message = _warnings(manifest)["dictionary_rows_unsplit"]
    assert "d_labitems 1 of 15 row(s) do not split" in message
    assert "(e.g. d_labitems.csv:15)" in message
    assert "Ascites" not in message  # places only, never a value
    dangling = _warnings(manifest)["lab_items_not_in_dictionary"]
    assert "or lists on a row that did not read: dictionary_rows_unsplit" in dangling
    assert manifest["source_counts"]["labs"]["d_labitems"] == {"read": 15, "unsplit": 1}


def test_a_short_admissions_row_warns_with_its_line(tmp_path: Path) -> None:
    """Stay 20003 (patient 10004's heart failure, ICD-9 4280, admitted 2149-12-01) with its
    deathtime column left out (line 4): before, the row was skipped, the codes of the stay had
    no time and were quarantined, and 10004 (Na 128, listed soon for heart failure) left the
    list at exit 0."""
    old = "2149-12-06 15:00:00,,URGENT,"
    root = _extract(tmp_path, "admissions", old, "2149-12-06 15:00:00,URGENT,")
    status, manifest, listed = _run(root, tmp_path / "out")
    assert status == 4
    message = _warnings(manifest)["dictionary_rows_unsplit"]
    assert "admissions 1 of 5 row(s) do not split" in message
    assert "(e.g. admissions.csv:4)" in message
    assert "10004" not in [patient for patient, _ in listed]


@pytest.mark.parametrize("blood_row_first", [False, True])
def test_an_item_id_listed_with_two_fluids_is_set_aside_whatever_the_row_order(
    tmp_path: Path, blood_row_first: bool
) -> None:
    """d_labitems lists ascites sodium 59994 again as `59994,Sodium,Blood,Chemistry`. Before,
    the last row won: with the blood row last, patient 10003's ascites sodium of 115 was read
    as serum sodium and 10003 listed urgent (severe) at exit 0; with it first, not. Now the
    item is set aside (its one labevents row, labevents.csv:11) and warned, either order."""
    ascites = "59994,Sodium,Ascites,Chemistry\n"
    both = (
        "59994,Sodium,Blood,Chemistry\n" + ascites
        if blood_row_first
        else ascites + "59994,Sodium,Blood,Chemistry\n"
    )
    root = _extract(tmp_path, "d_labitems", ascites, both)
    status, manifest, listed = _run(root, tmp_path / "out")
    assert status == 4
    assert "10003" not in [patient for patient, _ in listed]
    message = _warnings(manifest)["lab_items_listed_twice"]
    assert "lists 1 item id(s) on several rows" in message
    assert "(label or fluid; e.g. d_labitems.csv:15, d_labitems.csv:16)" in message
    assert "so the extract's 1 labevents row(s) of them are set aside" in message
    reasons = manifest["reconciliation"]["labs"]["reasons"]["not_relevant"]
    assert reasons["conflicting_itemid"] == 1


def test_a_repeated_row_or_another_category_reads_as_one_item(tmp_path: Path) -> None:
    """Serum sodium 50983 listed twice (once as category `Blood Gas`), ascites sodium 59994
    repeated as it is, and hematocrit 51221 (no analyte of the screen) again with fluid Urine:
    no test differs that the screen reads, so the fixture's five cases are listed and no
    dictionary warning is given (before, the hematocrit's two fluids warned)."""
    _, _, fixture = _run(MIMIC, tmp_path / "fixture")
    sodium = "50983,Sodium,Blood,Chemistry\n"
    root = _extract(tmp_path, "d_labitems", sodium, sodium + "50983,SODIUM,Blood,Blood Gas\n")
    path = root / "hosp" / "d_labitems.csv"
    path.write_text(path.read_text() + "59994,Sodium,Ascites,Chemistry\n51221,Hematocrit,Urine,X\n")
    _, manifest, listed = _run(root, tmp_path / "out")
    assert not {"dictionary_rows_unsplit", "lab_items_listed_twice"} & set(_warnings(manifest))
    assert "lab_items_not_in_dictionary" not in _warnings(manifest)
    assert listed == fixture
    assert len(listed) == 5


def test_a_listed_condition_coded_for_a_stay_admissions_lacks_warns(tmp_path: Path) -> None:
    """The fixture codes CKD (N183) for stay 20099 of patient 10007 and E119 (diabetes, not
    listed) for stay 20005, neither in admissions: both are quarantined without a time (spec
    §3). Before, the night passed at exit 0 with 10007 listed without ckd; now the listed code
    warns, naming diagnoses_icd.csv:7 (header = 1), and the unlisted one does not count."""
    status, manifest, listed = _run(MIMIC, tmp_path / "out")
    assert status == 4
    message = _warnings(manifest)["listed_codes_without_stay"]
    assert message.startswith("1 diagnoses_icd row(s) code a condition the rules list but name")
    assert "(e.g. diagnoses_icd.csv:7)" in message
    assert "N183" not in message and "20099" not in message
    assert ("10007", "2") in listed


def test_a_d_labitems_of_a_header_alone_is_named_so(tmp_path: Path) -> None:
    """d_labitems cut to its header: the 5 labevents rows of items only it names (59993,
    59994, 59998, 51221, 50912) are set aside; before, the warning said d_labitems does not
    hold their item ids, as if it had been read."""
    root = tmp_path / "mimic"
    shutil.copytree(MIMIC, root)
    (root / "hosp" / "d_labitems.csv").write_text("itemid,label,fluid,category\n")
    status, manifest, _ = _run(root, tmp_path / "out")
    assert status == 4
    message = _warnings(manifest)["lab_items_not_in_dictionary"]
    assert message.startswith("5 of the 56 labevents row(s) of the extract carry an itemid its")
    assert "d_labitems does not hold (it holds no row: a header alone" in message


def test_a_header_line_repeated_in_d_labitems_is_no_unsplit_row(tmp_path: Path) -> None:
    """d_labitems joined from two parts, the second part's header line at line 17 (its rows
    repeat the first's): the header holds no item, so no dictionary warning and the fixture's
    five cases. Before, the repeated header counted as a d_labitems row that did not split."""
    _, _, fixture = _run(MIMIC, tmp_path / "fixture")
    root = tmp_path / "mimic"
    shutil.copytree(MIMIC, root)
    path = root / "hosp" / "d_labitems.csv"
    text = path.read_text()
    path.write_text(text + text)
    _, manifest, listed = _run(root, tmp_path / "out")
    assert "dictionary_rows_unsplit" not in _warnings(manifest)
    assert "lab_items_listed_twice" not in _warnings(manifest)
    assert listed == fixture


def test_an_undated_listed_code_is_quarantined_under_the_reason_its_warning_names(
    tmp_path: Path,
) -> None:
    """The fixture's diagnoses_icd.csv:7 codes a listed condition for a stay admissions does
    not hold. Its warning (listed_codes_without_stay) said the row was quarantined
    `no_admission_time`, a reason quarantine.csv never holds (it writes `missing_key`, the
    manifest counts `no_admission_time`): an engineer looking the row up by the warning's
    reason found nothing. The warning names the reason quarantine.csv writes."""
    status, manifest, _ = _run(MIMIC, tmp_path / "out")
    assert status == 4
    message = _warnings(manifest)["listed_codes_without_stay"]
    with (tmp_path / "out" / "2150-03-10" / "quarantine.csv").open(newline="") as handle:
        reasons = {
            f"{row['source_file']}:{row['source_row']}": row["reason"]
            for row in csv.DictReader(handle)
        }
    assert "diagnoses_icd.csv:7" in message
    assert f"quarantined ({reasons['diagnoses_icd.csv:7']}" in message
