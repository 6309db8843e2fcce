"""A site onboarded with a mapping file and a lab dictionary screens like the canonical sample."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from hyposcreen.config import RunSettings, load_mapping, parse_window
from hyposcreen.errors import ConfigError
from hyposcreen.pipeline import run_pipeline

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "sample_data" / "site_example"
EXPECTED = ROOT / "tests" / "data" / "golden" / "sample" / "expected_review_list.csv"


def test_site_extract_gives_the_same_list_as_the_canonical_sample(tmp_path: Path) -> None:
    """Upper-case columns, admission ids, local codes, ';', Latin-1 and day-first times."""
    settings = RunSettings(
        input_dir=SITE / "extract",
        out_dir=tmp_path,
        window=parse_window("2026-11-20", "2026-11-21", "Europe/Berlin"),
        mapping_path=SITE / "site_mapping.yaml",
    )
    review = pd.read_csv(run_pipeline(settings).review_csv, dtype=str, keep_default_na=False)
    expected = pd.read_csv(EXPECTED, dtype=str, keep_default_na=False)
    expected["patient_id"] = "ADM" + expected["patient_id"].str.removeprefix("P").str.zfill(6)
    pd.testing.assert_frame_equal(review[expected.columns], expected)


def test_a_typo_in_the_mapping_is_an_error_naming_the_key(tmp_path: Path) -> None:
    mapping = tmp_path / "site.yaml"
    mapping.write_text("site: x\ntimezon: Europe/Berlin\n")
    with pytest.raises(ConfigError, match="timezon"):
        load_mapping(mapping)


def test_an_unknown_table_key_is_an_error_naming_it(tmp_path: Path) -> None:
    mapping = tmp_path / "site.yaml"
    mapping.write_text("tables:\n  labs:\n    colums: {patient_id: PID}\n")
    with pytest.raises(ConfigError, match="colums"):
        load_mapping(mapping)
