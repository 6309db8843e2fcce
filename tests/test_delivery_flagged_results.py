"""A laboratory's report export writes the abnormal-result flag beside the number: `125 L`,
`3.1 (L)`, `118 LL`, `125*`. Such a text is no number (spec §3: quarantined non_numeric), so
the abnormal results are exactly the ones the screen does not see. A flagged potassium lost the
case its hypokalemia, and the night passed as quiet (exit 0); a flagged sodium was told only by
the non-numeric sodium contract. Any flagged result now warns (`result_flags`, exit 4) with the
count and `file:row` examples, never a value; other text after a number is not a flag."""

from __future__ import annotations

import itertools
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hyposcreen.ingest.values import flagged_numbers, parse_values
from sample_delivery import SAMPLE, screen

# how report exports write a flag after the value (each row takes the next form)
FLAG_FORMS = [" L", "L", " (L)", " LL", "*", " [L]", " L*", "!"]


def flagged_night(tmp_path: Path, loincs: tuple[str, ...], limit: float) -> tuple[int, dict, int]:
    """Exit status and manifest of the sample screened with its results of `loincs` below
    `limit` written with a flag after them, and how many of them quarantine.csv holds as
    non_numeric (a flagged row dated outside the read window is not relevant instead)."""
    folder = shutil.copytree(SAMPLE, tmp_path / "delivery")
    labs = pd.read_csv(folder / "labs.csv", dtype=str, keep_default_na=False)
    number = pd.to_numeric(labs["value_raw"], errors="coerce")
    low = labs["loinc"].isin(loincs) & (number < limit)
    forms = itertools.cycle(FLAG_FORMS)
    labs.loc[low, "value_raw"] = [value + next(forms) for value in labs.loc[low, "value_raw"]]
    labs.to_csv(folder / "labs.csv", index=False)
    status, night = screen(folder)
    quarantine = pd.read_csv(night / "quarantine.csv", dtype=str)
    values = quarantine["original"].map(lambda text: json.loads(text).get("value_raw") or "")
    flagged = (quarantine["reason"] == "non_numeric") & values.str.endswith(tuple(FLAG_FORMS))
    manifest = json.loads((night / "run_manifest.json").read_text("utf-8"))
    return status, manifest, int(flagged.sum())


def test_a_flagged_low_potassium_is_not_a_quiet_night(tmp_path: Path) -> None:
    status, manifest, flagged = flagged_night(tmp_path, ("2823-3",), 3.5)
    assert flagged == 2  # the sample's low potassium results in the read window (`<3.0` is
    assert status == 4  # censored, not flagged): the night said nothing (exit 0)
    (warning,) = [w for w in manifest["warnings"] if w["code"] == "result_flags"]
    assert warning["message"].startswith(
        "2 lab result(s) are numbers written with the laboratory's abnormal-result flag after "
        "them (e.g. labs.csv:"
    )


def test_flagged_low_sodium_results_are_told_by_count_and_row(tmp_path: Path) -> None:
    status, manifest, flagged = flagged_night(tmp_path, ("2951-2",), 135)
    assert status == 4
    assert flagged > 40
    (warning,) = [w for w in manifest["warnings"] if w["code"] == "result_flags"]
    assert warning["message"].startswith(f"{flagged} lab result(s) are numbers written with")
    assert " L " not in warning["message"] and "(L)" not in warning["message"]
    assert "P0" not in json.dumps(manifest)


@pytest.mark.parametrize(
    ("text", "flagged"),
    [
        ("125 L", True),
        ("125.0 (H)", True),
        ("3.1LL", True),
        ("125*", True),
        ("118 ll!", True),
        ("<2.0 L", True),
        ("GREATER THAN 500 H", True),
        ("125", False),
        ("125 mmol/L", False),  # a unit in the value: not a flag
        ("125 C", False),
        ("125 Hemolyzed", False),
        ("125 L H", False),
        ("*125", False),
        ("L", False),
        ("(H)", False),
    ],
)
def test_a_flag_after_a_number_is_told_apart(text: str, flagged: bool) -> None:
    assert flagged_numbers(pd.Series([text], dtype=object)).tolist() == [flagged]
    if flagged:  # still no number (spec §3)
        assert np.isnan(parse_values(pd.Series([text]), pd.Series([np.nan]))[0].iloc[0])


def test_texts_without_a_flags_shape_are_not_read_as_numbers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A night's usual non-numeric texts (`QNS`, `HEMOLYZED`, blank) have no flag after a
    digit: they are told apart without reading any text as a number, and a mix is read only
    where a flag's shape is (each text as it is judged alone)."""
    from hyposcreen.ingest import values

    read: list[list[str]] = []
    parse = values.parse_values

    def noted(text: pd.Series, value: pd.Series) -> tuple[pd.Series, pd.Series]:
        read.append([str(t) for t in text])
        return parse(text, value)

    monkeypatch.setattr(values, "parse_values", noted)
    values._FLAGGED_NUMBERS.known.clear()  # every text judged here, none remembered
    usual = pd.Series(["QNS", "HEMOLYZED", "", None, "See Comments"] * 40, dtype="str")
    assert not values.flagged_numbers(usual).any()
    assert read == []
    mixed = pd.Series(["QNS", "125 L", "125 mmol/L", None, "QNS", "(H)"], dtype="str")
    assert values.flagged_numbers(mixed).tolist() == [False, True, False, False, False, False]
    assert [sorted(texts) for texts in read] == [["125 L"], ["125"]]
