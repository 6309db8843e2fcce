"""A decimal-point site's report writer may group thousands: a glucose of `1,234` mg/dL (a
hyperosmolar state). It is 1234, the shape the decimal-comma warning already reads as
thousands; quarantined non_numeric without a word, it left the sodium uncorrected.

By hand (spec §4): sodium 120 with glucose 1234 mg/dL at the same time is corrected to
120 + 1.6 × (1234 − 100) / 100 = 138.1: not hyponatremic, no case, hyperglycemia-related."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from bad_input_rows import glucose, lab
from cli_night import DAY, extract, run


@pytest.mark.parametrize("written", ["1,234", " 1,234 ", "1,234.0"])
def test_a_glucose_with_thousands_grouped_corrects_the_sodium(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], written: str
) -> None:
    folder = extract(tmp_path / "in", labs=[lab("120"), glucose(written)])
    status, err = run(capsys, folder, tmp_path / "out")
    assert status == 0, err
    assert pd.read_csv(tmp_path / "out" / DAY / "review_list.csv").empty
    quarantine = pd.read_csv(tmp_path / "out" / DAY / "quarantine.csv")
    assert quarantine.empty


def test_a_decimal_comma_is_still_no_number_at_a_decimal_point_site(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`12,5` is no grouping of thousands: quarantined non_numeric, and the night warns."""
    folder = extract(tmp_path / "in", labs=[lab("120"), glucose("12,5")])
    status, err = run(capsys, folder, tmp_path / "out")
    assert status == 4 and "decimal" in err
    quarantine = pd.read_csv(tmp_path / "out" / DAY / "quarantine.csv")
    assert list(quarantine["reason"]) == ["non_numeric"]
