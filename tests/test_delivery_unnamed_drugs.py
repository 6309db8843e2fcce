"""A canonical medications table whose rows mostly name no drug: `drug_name`, `rxnorm` and
`atc` all empty, as when the extract renames its drug column (`medication` for `drug_name`:
the table still has `rxnorm` and `atc`, so it is read) or leaves it blank. Every such row was
set aside as an unlisted drug, silently: the sample so delivered listed 22 cases where it lists
35 (their drugs unread), and the night ended 0 as a quiet one. Over
half of the rows (rules.yaml `warnings: max_missing_key_share`, judged on `min_rows_for_share`
rows) now warn `unidentified_medications` (exit 4), naming the drug columns the files lack;
counts only. The same in one process and by partition."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from sample_delivery import SAMPLE, screen


def _medications(folder: Path) -> pd.DataFrame:
    return pd.read_csv(folder / "medications.csv", dtype=str, keep_default_na=False)


def _warnings(night: Path) -> dict[str, str]:
    manifest = json.loads((night / "run_manifest.json").read_text())
    return {w["code"]: w["message"] for w in manifest["warnings"]}


@pytest.mark.parametrize("options", [(), ("--partitions", "2")])
def test_a_drug_column_renamed_warns(tmp_path: Path, options: tuple[str, ...]) -> None:
    folder = shutil.copytree(SAMPLE, tmp_path / "renamed")
    meds = _medications(folder).rename(columns={"drug_name": "medication"})
    meds.to_csv(folder / "medications.csv", index=False)
    status, night = screen(folder, *options)
    assert status == 4  # before: 0, with 22 of the sample's 35 cases
    message = _warnings(night)["unidentified_medications"]
    # 33 rows; 5 name a drug by rxnorm (P010, P018, P038) or atc (P009, P022): 28 name none
    assert "28 of 33 medication row(s) (85%" in message
    assert "no drug_name column" in message
    assert "P0" not in message  # counts only


def test_drug_names_left_blank_warn(tmp_path: Path) -> None:
    folder = shutil.copytree(SAMPLE, tmp_path / "blank")
    meds = _medications(folder)
    meds["drug_name"] = ""
    meds.to_csv(folder / "medications.csv", index=False)
    status, night = screen(folder)
    assert status == 4
    message = _warnings(night)["unidentified_medications"]
    assert "28 of 33 medication row(s)" in message
    assert "drug_name column" not in message  # the column is there, its cells are empty


def test_a_few_rows_without_a_drug_do_not_warn(tmp_path: Path) -> None:
    folder = shutil.copytree(SAMPLE, tmp_path / "few")
    meds = _medications(folder)
    meds.loc[:15, "drug_name"] = ""  # 16 rows; 3 of them have a code: 13 of 33 name none
    meds.to_csv(folder / "medications.csv", index=False)
    _, night = screen(folder)
    assert "unidentified_medications" not in _warnings(night)
