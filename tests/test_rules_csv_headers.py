"""A site's rules CSV whose header was edited (its first column renamed) is a settings error
(exit 2) naming the file, the header found and the columns the rules read, whichever code
list it is. Before, most named the rules folder only (`Rules folder X: no 'analyte' where the
rules read it`), the hints file said its header "names no condition and code columns", the
site word lists named the file but not the header found, and a code list holding its header
alone was read as empty without a word."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from hyposcreen.cli import main
from hyposcreen.rules.loader import RULES_DIR

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data" / "canonical"
# code list -> the columns the rules read from it
READ = {
    "analytes.csv": "analyte,fluid,canonical_unit,urine_counterpart,plausible_low,plausible_high",
    "analyte_codes.csv": "loinc,analyte",
    "analyte_units.csv": "analyte,unit,factor",
    "drug_ingredients.csv": "ingredient,drug_class,atc,rxnorm",
    "drug_synonyms.csv": "synonym,ingredients",
    "atc_combinations.csv": "atc_prefix,drug_classes",
    "condition_codes.csv": "condition,code_system,code,match",
    "lab_dictionary.csv": "local_name,analyte",
    "snomed_condition_hints.csv": "condition,code",
    "status_words.csv": "word,status",
    "drug_non_listed.csv": "name",
}


def _run(tmp_path: Path, rules: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    argv = ["run", "--no-flow", "--input", str(SAMPLE), "--out", str(tmp_path / "out")]
    status = main([*argv, "--window-start", "2026-11-20", "--rules", str(rules)])
    return status, capsys.readouterr().err


@pytest.mark.parametrize("name", list(READ))
def test_a_rules_csv_with_a_renamed_column_names_the_file_and_both_headers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    rules = shutil.copytree(RULES_DIR, tmp_path / "rules", ignore=shutil.ignore_patterns("*.py"))
    lines = (rules / name).read_text(encoding="utf-8").splitlines(keepends=True)
    first = lines[0].split(",")[0]
    lines[0] = "x_" + lines[0]
    (rules / name).write_text("".join(lines), encoding="utf-8")
    status, err = _run(tmp_path, rules, capsys)
    assert status == 2, err
    assert f"Rules file {rules / name} has no column '{first}'" in err
    assert f"its header reads x_{lines[0].strip()[2:]};" in err
    assert f"the rules read the columns {READ[name]}." in err
    assert "Traceback" not in err and "internal error" not in err


def test_a_code_list_holding_its_edited_header_alone_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """No rows, and a header lacking `local_name`: the lab dictionary was read as empty."""
    rules = shutil.copytree(RULES_DIR, tmp_path / "rules", ignore=shutil.ignore_patterns("*.py"))
    (rules / "lab_dictionary.csv").write_text("name,analyte,source\n", encoding="utf-8")
    status, err = _run(tmp_path, rules, capsys)
    assert status == 2, err
    assert f"Rules file {rules / 'lab_dictionary.csv'} has no column 'local_name'" in err
    assert "its header reads name,analyte,source;" in err
