"""A European export whose every lab result, sodium too, is written with a decimal comma
(`135,0`, `3,4`) at a site whose mapping has no `csv: {decimal: ","}`. Every sodium is then
non-numeric and the night stops on the critical non-numeric sodium check (exit 3): right, but
the decimal_commas warning that names the mapping key is a warning of a screened night, never
reached. The stop must say why and what to set (in the message FAILED.json and the alerts
keep, before the examples), with a count only: never a value."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from hyposcreen.cli import main

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data" / "canonical"
DAY = "2026-11-20"


def comma_delivery(tmp_path: Path) -> Path:
    folder = tmp_path / "delivery"
    shutil.copytree(SAMPLE, folder)
    labs = pd.read_csv(folder / "labs.csv", dtype=str, keep_default_na=False)
    value = labs["value_raw"]
    number = pd.to_numeric(value, errors="coerce").notna()
    labs.loc[number, "value_raw"] = value[number].map(
        lambda text: text.replace(".", ",") if "." in text else f"{text},0"
    )
    labs.to_csv(folder / "labs.csv", index=False)
    return folder


def test_a_night_stopped_by_decimal_commas_names_the_mapping_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    args = ["run", "--no-flow", "--input", str(comma_delivery(tmp_path)), "--out", str(out)]
    status = main([*args, "--window-start", DAY])
    err = capsys.readouterr().err
    assert status == 3, err
    assert "non-numeric sodium" in err
    failed = json.loads((out / DAY / "FAILED.json").read_text("utf-8"))["message"]
    assert "decimal comma" in failed and 'decimal: ","' in failed, failed
    assert "135,0" not in failed and "135,0" not in err


def test_the_same_delivery_with_the_mapping_key_screens(tmp_path: Path) -> None:
    mapping = tmp_path / "site_mapping.yaml"
    mapping.write_text('site: test\ncsv:\n  decimal: ","\n', encoding="utf-8")
    out = tmp_path / "out"
    args = ["run", "--no-flow", "--input", str(comma_delivery(tmp_path)), "--out", str(out)]
    assert main([*args, "--mapping", str(mapping), "--window-start", DAY]) in (0, 4)
    assert (out / DAY / "review_list.csv").exists()


def test_a_partitioned_night_stopped_by_decimal_commas_names_the_mapping_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    args = ["run", "--no-flow", "--input", str(comma_delivery(tmp_path)), "--out", str(out)]
    status = main([*args, "--window-start", DAY, "--partitions", "2"])
    err = capsys.readouterr().err
    assert status == 3, err
    failed = json.loads((out / DAY / "FAILED.json").read_text("utf-8"))["message"]
    assert 'decimal: ","' in failed, failed
