"""The quarantine file of windows cut from one read (recipe_quarantine.quarantined_rows): the rows
built once over the read (the labs cleaned once, the medications' and diagnoses' window-free
cleaning) and taken per window give, byte for byte, what each window's own encoding gives, on
nights whose quarantine differs: a lab problem inside one night's read range only, a
medication entered after the first night's end and quarantined by a contract warning on the
second, a lab row quarantined since the cleaning, one quarantined for another reason and one
made not relevant again (late results). The reconciliation of the medications and diagnoses
by the sizes held from their cleaning is the frames' own, before and after such writes. Real
files, real cleaning.
"""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd

from hyposcreen import recipe
from hyposcreen.context import CleanedInputs, RunContext
from hyposcreen.recipe_clean import held_sizes
from hyposcreen.recipe_quarantine import quarantined_rows
from hyposcreen.recipe_read import read_once
from hyposcreen.report.quarantine import QUARANTINE_COLUMNS, SODIUM_NUMBER, quarantine_rows
from shared_read_runs import SAMPLE, window_contexts

NIGHTS = ["2026-11-19", "2026-11-20"]
LAB_ROWS = [  # a bad unit on the second night only; a non-numeric value in both nights' range
    "P090,E090,S090-01,2026-11-20T10:00:00,2026-11-20T11:00:00,2951-2,Sodium,131,furlongs,"
    "final,Serum",
    "P091,E091,S091-01,2026-11-19T12:00:00,2026-11-19T13:00:00,2951-2,Sodium,see note,mmol/L,"
    "final,Serum",
]
MEDICATION_ROWS = [  # entered after the first night's end: not relevant then, used on the second
    "P092,E092,Furosemide 40mg tab,,,2026-11-20T08:00:00,,active,oral",
]


def _extract(tmp_path: Path) -> Path:
    extract = tmp_path / "extract"
    shutil.copytree(SAMPLE, extract)
    for name, rows in (("labs", LAB_ROWS), ("medications", MEDICATION_ROWS)):
        with (extract / f"{name}.csv").open("a", encoding="utf-8") as out:
            out.write("".join(f"{row}\n" for row in rows))
    return extract


def _nights(tmp_path: Path) -> list[tuple[RunContext, CleanedInputs]]:
    mapping = tmp_path / "site.yaml"
    mapping.write_text("site: test\ntimezone: UTC\n", encoding="utf-8")
    ctx, *nights = window_contexts(_extract(tmp_path), mapping, NIGHTS, None)
    shared = read_once(ctx, [night.settings.window for night in nights])
    cleaned = []
    for night in nights:
        night = replace(night, shared_read=shared)
        cleaned.append((night, recipe.clean(night, recipe.read(night))))
    return cleaned


def _own(cleaned: CleanedInputs) -> pd.DataFrame:
    """The window's quarantine rows encoded for it alone (as a run without a shared read)."""
    return quarantine_rows({n: getattr(cleaned, n) for n in ("labs", "medications", "diagnoses")})


def _csv(rows: pd.DataFrame) -> str:
    return str(rows.to_csv(index=False))


def _rows_of(rows: pd.DataFrame, table: str) -> list[Any]:
    return rows.loc[rows["table"] == table, ["source_row", "reason"]].values.tolist()


def test_each_night_takes_its_own_quarantine_rows_from_the_read_encoded_once(
    tmp_path: Path,
) -> None:
    (first, first_cleaned), (second, second_cleaned) = _nights(tmp_path)
    found = [quarantined_rows(first, first_cleaned), quarantined_rows(second, second_cleaned)]
    built = first.shared_read.decided["lab_quarantine"] if first.shared_read else None
    expected = [_own(first_cleaned), _own(second_cleaned)]
    for mine, own in zip(found, expected):
        assert list(mine.columns) == [*QUARANTINE_COLUMNS, SODIUM_NUMBER]  # the last unwritten
        pd.testing.assert_frame_equal(mine, own, check_exact=True)
        assert _csv(mine) == _csv(own)
    # the nights' lab quarantine differs: the bad unit is in the second night's range only
    labs = [_rows_of(rows, "labs") for rows in found]
    assert ["173", "bad_unit"] in labs[1] and ["173", "bad_unit"] not in labs[0]
    assert ["174", "non_numeric"] in labs[0] and ["174", "non_numeric"] in labs[1]
    assert len(labs[1]) > len(labs[0]) > 1
    assert second.shared_read is not None
    assert second.shared_read.decided["lab_quarantine"] is built  # encoded once for both


def test_rows_quarantined_since_the_cleaning_are_encoded_for_the_night(tmp_path: Path) -> None:
    """On the second night a contract warning quarantines a used lab row and the medication
    entered after the first night's end; one quarantined lab row is quarantined for another
    reason, one made not relevant again (as late results do): the rows taken from the read
    would be wrong for all four."""
    (_, first_cleaned), (second, cleaned) = _nights(tmp_path)
    held = held_sizes(second)  # the second night's events, as cleaning made them
    assert set(held) == {"medications", "diagnoses"}
    assert all(held[name].hold_for(getattr(cleaned, name)) for name in held)
    assert cleaned.reconciled(held) == cleaned.reconciliation
    labs = cleaned.labs
    used = labs.index[labs["bucket"] == "used"]
    quarantined = labs.index[labs["bucket"] == "quarantined"]
    labs.loc[used[0], ["bucket", "reason"]] = ["quarantined", "value_in_range:2"]
    assert labs.loc[quarantined[0], "reason"] != "implausible"
    labs.loc[quarantined[0], "reason"] = "implausible"
    labs.loc[quarantined[1], ["bucket", "reason"]] = ["not_relevant", "outside_window"]
    meds = cleaned.medications
    entered = meds.index[(meds["patient_id"] == "P092") & (meds["bucket"] == "used")]
    assert len(entered) == 1
    meds.loc[entered, ["bucket", "reason"]] = ["quarantined", "end_before_start:1"]

    found = quarantined_rows(second, cleaned)
    own = _own(cleaned)
    pd.testing.assert_frame_equal(found, own, check_exact=True)
    assert _csv(found) == _csv(own)
    assert "value_in_range:2" in set(found["reason"])
    assert "end_before_start:1" in set(found["reason"])
    assert "end_before_start:1" not in set(_own(first_cleaned)["reason"])
    # the reconciliation counts the medications the warning wrote into, not the held sizes
    assert not held["medications"].hold_for(meds)
    reconciled = cleaned.reconciled(held)
    assert reconciled == cleaned.reconciliation
    assert reconciled["medications"]["reasons"]["quarantined"]["end_before_start:1"] == 1


def test_a_night_cleaned_before_the_night_after_it_publishes_keeps_its_sizes(
    tmp_path: Path,
) -> None:
    """A window read ahead is cleaned before the window before it publishes: each night's
    reconciliation and quarantine rows are still found from its own cleaning's columns."""
    (first, first_cleaned), (second, second_cleaned) = _nights(tmp_path)
    for night, cleaned in ((first, first_cleaned), (second, second_cleaned)):
        held = held_sizes(night)
        assert set(held) == {"medications", "diagnoses"}
        assert all(held[name].hold_for(getattr(cleaned, name)) for name in held)
        assert cleaned.reconciled(held) == cleaned.reconciliation
        found = quarantined_rows(night, cleaned)
        pd.testing.assert_frame_equal(found, _own(cleaned), check_exact=True)
