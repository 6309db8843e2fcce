"""A lab export that leaves the comma inside one name unquoted (`Osmolality, serum`): its
line splits into one field too many, so the row is quarantined `malformed_row` (spec §3) and
patient P003's serum osmolality is lost. A broken line is a broken delivery, and one row can
take a patient off the list: the night exits 4 with a warning naming the table, the count, the
share and the row as `file:row`, never a value (quarantine_warnings, rules.yaml `warnings:
max_malformed_rows`)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from hyposcreen.cli import main
from hyposcreen.errors import ConfigError
from hyposcreen.rules.loader import load_rules

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data" / "canonical"
RULES_DIR = Path(__file__).resolve().parents[1] / "src" / "hyposcreen" / "rules"
DAY = "2026-11-20"


def test_one_row_with_an_unquoted_comma_is_not_a_quiet_night(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "delivery"
    shutil.copytree(SAMPLE, folder)
    labs = (folder / "labs.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    assert ',"Osmolality, serum",' in labs[4]  # line 5 of the file: P003's serum osmolality
    labs[4] = labs[4].replace('"Osmolality, serum"', "Osmolality, serum")
    (folder / "labs.csv").write_text("".join(labs), encoding="utf-8")
    out = tmp_path / "out"
    status = main(
        ["run", "--no-flow", "--input", str(folder), "--out", str(out), "--window-start", DAY]
    )
    err = capsys.readouterr().err
    manifest = json.loads((out / DAY / "run_manifest.json").read_text())
    assert status == 4, err
    assert manifest["reconciliation"]["labs"]["reasons"]["quarantined"]["malformed_row"] == 1
    (warning,) = [w for w in manifest["warnings"] if w["code"] == "malformed_rows"]
    # 1 of the sample's 171 lab rows: 0.58 %, printed as 1 %
    assert warning["message"].startswith(
        "1 of 171 labs row(s) (1%) do not read as a row (e.g. labs.csv:5)"
    )
    assert warning["message"] in err
    assert "P003" not in err and "Osmolality" not in err


def test_the_malformed_row_limit_is_a_whole_number_of_the_rules(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(RULES_DIR, rules, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    text = (rules / "rules.yaml").read_text(encoding="utf-8")
    assert "max_malformed_rows: 0 " in text
    (rules / "rules.yaml").write_text(
        text.replace("max_malformed_rows: 0 ", "max_malformed_rows: 0.5 "), encoding="utf-8"
    )
    with pytest.raises(ConfigError, match=r"warnings\.max_malformed_rows must be a whole number"):
        load_rules(rules)
