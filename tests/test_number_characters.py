"""Lab results whose number is written in characters other than ASCII digits (full-width
digits, a Unicode minus, a blank between digits) are quarantined non_numeric as spec §3 reads
them, and the night says so (number_characters, exit 4): a lone severe sodium written `１２０`
was off the list at exit 0 with no word, under the non-numeric sodium share's limit."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from hyposcreen.cli import main
from hyposcreen.number_characters import other_character_numbers

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data" / "canonical"
DAY = "2026-11-20"


@pytest.mark.parametrize(
    ("text", "is_such_number"),
    [
        ("１２０", True),  # full-width digits: NFKC folds them to 120
        ("１２０.５", True),
        ("\u22123.1", True),  # Unicode minus sign
        ("1 050", True),  # a space between groups of digits
        ("1\u00a0050", True),  # a no-break space between them
        ("\u0661\u0662\u0660", True),  # Arabic-Indic digits 1, 2, 0
        ("120", False),  # a number as written: never quarantined for this
        ("120\u00a0", False),  # a trailing blank is allowed by spec §3 and reads
        ("HEMOLYZED", False),
        ("１２０ mmol/L", False),  # text after the number: numbers_with_text's
        ("120 L", False),  # a flag: result_flags'
    ],
)
def test_which_texts_are_numbers_in_other_characters(text: str, is_such_number: bool) -> None:
    assert bool(other_character_numbers(pd.Series([text], dtype=object))[0]) is is_such_number


def night(tmp_path: Path, sodium: str) -> tuple[int, dict, pd.DataFrame]:
    folder = tmp_path / "delivery"
    shutil.copytree(SAMPLE, folder)
    labs = pd.read_csv(folder / "labs.csv", dtype=str, keep_default_na=False)
    first_sodium = labs.index[labs["loinc"] == "2951-2"][0]
    labs.loc[first_sodium, "value_raw"] = sodium
    labs.to_csv(folder / "labs.csv", index=False)
    out = tmp_path / "out"
    args = ["run", "--no-flow", "--input", str(folder), "--out", str(out), "--window-start", DAY]
    status = main(args)
    manifest = json.loads((out / DAY / "run_manifest.json").read_text("utf-8"))
    return status, manifest, labs


def test_a_sodium_in_full_width_digits_warns_without_its_text(tmp_path: Path) -> None:
    status, manifest, labs = night(tmp_path, "１２０")
    line = int(labs.index[labs["loinc"] == "2951-2"][0]) + 2  # header is line 1
    assert status == 4
    (warning,) = [w for w in manifest["warnings"] if w["code"] == "number_characters"]
    assert warning["message"].startswith(
        f"1 lab result(s) are numbers written in characters other than ASCII digits "
        f"(e.g. labs.csv:{line}"
    )
    assert "１２０" not in json.dumps(manifest, ensure_ascii=False)
    # told once, as what it is, not also as a number with text after it
    assert "numbers_with_text" not in [w["code"] for w in manifest["warnings"]]


def test_a_sodium_in_ascii_digits_gives_no_such_warning(tmp_path: Path) -> None:
    _, manifest, _ = night(tmp_path, "120")
    assert "number_characters" not in [w["code"] for w in manifest["warnings"]]
