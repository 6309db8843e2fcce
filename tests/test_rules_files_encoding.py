"""A site's `--rules` folder whose code list was saved by a spreadsheet as ANSI (Windows-1252:
`Furosémide Ratio` in drug_synonyms.csv, read by the rules and by the site words) or whose
rules.yaml was: the night stopped as an internal error (exit 70). It now stops as a settings
error (exit 2) naming the file: rules are versioned data, read as written or not at all."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from hyposcreen.cli import main
from hyposcreen.rules.loader import RULES_DIR

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data" / "canonical"


@pytest.mark.parametrize(
    ("name", "added"),
    [
        ("drug_synonyms.csv", "Furosémide Ratio,furosemide,a local brand\n"),
        ("rules.yaml", "# Überarbeitet für die Station\n"),
    ],
)
def test_a_rules_file_saved_as_ansi_is_a_settings_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, added: str
) -> None:
    rules = shutil.copytree(RULES_DIR, tmp_path / "rules", ignore=shutil.ignore_patterns("*.py"))
    text = (rules / name).read_text(encoding="utf-8") + added
    (rules / name).write_bytes(text.encode("cp1252", errors="replace"))  # as Notepad saves ANSI
    argv = ["run", "--no-flow", "--input", str(SAMPLE), "--out", str(tmp_path / "out")]
    status = main([*argv, "--window-start", "2026-11-20", "--rules", str(rules)])
    err = capsys.readouterr().err
    assert status == 2
    assert f"Rules file {rules / name} is not UTF-8 text" in err
    assert "internal error" not in err


@pytest.mark.parametrize("name", ["drug_synonyms.csv", "condition_codes.csv"])
def test_a_rules_file_saved_as_utf8_with_a_byte_order_mark_is_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    """Excel's "CSV UTF-8" (and Notepad's "UTF-8 with BOM") starts the file with a byte-order
    mark: the file is UTF-8 and screens as the default rules do, where its first column's name
    carried the mark and the night stopped as an internal error."""
    rules = shutil.copytree(RULES_DIR, tmp_path / "rules", ignore=shutil.ignore_patterns("*.py"))
    (rules / name).write_bytes(b"\xef\xbb\xbf" + (rules / name).read_bytes())
    statuses: list[int] = []
    lists: list[pd.DataFrame] = []
    for folder in (rules, RULES_DIR):
        out = tmp_path / f"out_{folder == rules}"
        argv = ["run", "--no-flow", "--input", str(SAMPLE), "--out", str(out)]
        statuses.append(main([*argv, "--window-start", "2026-11-20", "--rules", str(folder)]))
        review = pd.read_csv(out / "2026-11-20" / "review_list.csv", dtype=str)
        lists.append(review.drop(columns=["run_id"]))  # the run id hashes the rules' bytes
    assert "internal error" not in capsys.readouterr().err
    assert statuses == [0, 0]
    pd.testing.assert_frame_equal(lists[0], lists[1])


@pytest.mark.parametrize("shape", ["missing", "a file", "without a code list", "a folder for"])
def test_a_rules_folder_that_is_missing_or_incomplete_is_a_settings_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], shape: str
) -> None:
    """`--rules` naming no folder, naming rules.yaml itself, or a copy that lost a code list
    is the site's setting to correct (exit 2, naming the folder and the file), not a file the
    machine cannot use (exit 75)."""
    rules = shutil.copytree(RULES_DIR, tmp_path / "rules", ignore=shutil.ignore_patterns("*.py"))
    given = {"missing": tmp_path / "no_rules", "a file": rules / "rules.yaml"}.get(shape, rules)
    if shape in ("without a code list", "a folder for"):
        (rules / "drug_synonyms.csv").unlink()
    if shape == "a folder for":  # an unpacked archive's folder where the code list belongs
        (rules / "drug_synonyms.csv").mkdir()
    argv = ["run", "--no-flow", "--input", str(SAMPLE), "--out", str(tmp_path / "out")]
    status = main([*argv, "--window-start", "2026-11-20", "--rules", str(given)])
    err = capsys.readouterr().err
    assert status == 2, err
    assert f"Rules folder {given} " in err
    if shape == "without a code list":
        assert "has no drug_synonyms.csv" in err
    if shape == "a folder for":
        assert "has a folder where a file belongs: drug_synonyms.csv" in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("edit", "named"),
    [
        (lambda text: text.replace("plausible_low,", "", 1), "has no column 'plausible_low'"),
        (
            lambda text: "\n".join(
                ",".join(line.split(",")[:4] + line.split(",")[5:]) for line in text.splitlines()
            ),
            "'plausible_low'",
        ),
        (lambda text: text.replace("urine_sodium,80", "urine_sodium,abc", 1), "abc"),
    ],
    ids=["a header lost a column", "a column dropped", "a number that does not read"],
)
def test_a_code_list_edited_out_of_shape_is_a_settings_error(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    edit: Callable[[str], str],
    named: str,
) -> None:
    """A site's analytes.csv whose header lost a column, or whose plausible bound is no number,
    is the site's setting to correct (exit 2, naming the folder and what did not read), never
    an internal error (exit 70)."""
    rules = shutil.copytree(RULES_DIR, tmp_path / "rules", ignore=shutil.ignore_patterns("*.py"))
    analytes = rules / "analytes.csv"
    edited = edit(analytes.read_text(encoding="utf-8"))
    assert edited != analytes.read_text(encoding="utf-8")
    analytes.write_text(edited, encoding="utf-8")
    argv = ["run", "--no-flow", "--input", str(SAMPLE), "--out", str(tmp_path / "out")]
    status = main([*argv, "--window-start", "2026-11-20", "--rules", str(rules)])
    err = capsys.readouterr().err
    assert status == 2, err
    assert str(rules) in err and named in err
    assert "internal error" not in err


@pytest.mark.parametrize(
    ("name", "column"), [("status_words.csv", "word"), ("drug_non_listed.csv", "name")]
)
def test_a_site_word_list_without_a_column_is_a_settings_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, column: str
) -> None:
    """A site's status_words.csv or drug_non_listed.csv whose first column was cut out (header
    and rows) names the file and the column (exit 2), never an internal error (exit 70)."""
    rules = shutil.copytree(RULES_DIR, tmp_path / "rules", ignore=shutil.ignore_patterns("*.py"))
    listed = rules / name
    lines = listed.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith(f"{column},")
    listed.write_text("\n".join(line.split(",", 1)[1] for line in lines) + "\n", encoding="utf-8")
    argv = ["run", "--no-flow", "--input", str(SAMPLE), "--out", str(tmp_path / "out")]
    status = main([*argv, "--window-start", "2026-11-20", "--rules", str(rules)])
    err = capsys.readouterr().err
    assert status == 2, err
    assert f"Rules file {listed} has no column '{column}'" in err
    assert "internal error" not in err
