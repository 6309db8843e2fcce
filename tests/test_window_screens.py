"""A loop's windows screened in one pass (recipe_screen_windows, screen.windows): each window's
screen is that of the window alone, frame for frame (cases, sodium results, evidence); a
window whose cleaned inputs are not those foreseen screens itself.

Whole backfills against lone nights, byte for byte: tests/test_shared_read_property.py.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import example, given

from hyposcreen import recipe
from hyposcreen.recipe_read import read_once
from hyposcreen.recipe_screen_windows import WINDOWS, screened_window
from hyposcreen.screen.cases import LAB_COLUMNS
from shared_read_runs import SAMPLE, site_mapping, window_contexts
from test_shared_read_property import SCREENS, _extract, _hand_cases, extracts

FRAMES = (
    "cases", "sodium_results", "medication_evidence", "condition_evidence", "cofactor_evidence",
)  # fmt: skip


def _screened_labs(cleaned: Any) -> pd.DataFrame:
    labs = cleaned.labs
    return labs[[c for c in (*LAB_COLUMNS, "bucket") if c in labs.columns]]


def _each_night_as_alone(extract: Path, mapping: Path, labels: list[str]) -> list[str]:
    """Screen every night of one read in one pass; assert each night's screen is its lone
    screen; the nights screened in the pass (the others screened themselves)."""
    ctx, *lone_nights = window_contexts(extract, mapping, labels, None)
    windows = [n.settings.window for n in lone_nights]
    shared = read_once(ctx, windows)
    shared.decided[WINDOWS] = tuple(windows)
    taken = []
    for label, lone in zip(labels, lone_nights):
        expected = recipe.screen(lone, recipe.clean(lone, recipe.read(lone)))
        night = replace(lone, shared_read=shared, timings={})
        cleaned = recipe.clean(night, recipe.read(night))
        found = screened_window(night, _screened_labs(cleaned), cleaned)
        if found is None:
            assert expected.cases.empty, f"{label}: a night with cases not screened in the pass"
            continue
        taken.append(label)
        found.attrition = expected.attrition  # the screen stage adds the same steps
        for name in FRAMES:
            pd.testing.assert_frame_equal(
                getattr(found, name), getattr(expected, name), obj=f"{label} {name}"
            )
    return taken


def test_the_sample_nights_screened_in_one_pass_are_each_nights_lone_screen(
    tmp_path: Path,
) -> None:
    """Three nights of the sample extract (cases with drug, condition and co-factor
    evidence): each night's cut of the one pass equals its lone screen in every frame."""
    labels = ["2026-11-18", "2026-11-19", "2026-11-20"]
    taken = _each_night_as_alone(SAMPLE, site_mapping(tmp_path, "UTC"), labels)
    assert taken == labels


def test_a_loop_longer_than_one_pass_is_screened_a_pass_at_a_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Passes of two windows: the third night starts a second pass; every night equal to
    its lone screen."""
    import hyposcreen.recipe_screen_windows as windows_module

    monkeypatch.setattr(windows_module, "PASS", 2)
    labels = ["2026-11-18", "2026-11-19", "2026-11-20"]
    taken = _each_night_as_alone(SAMPLE, site_mapping(tmp_path, "UTC"), labels)
    assert taken == labels


def test_a_night_whose_inputs_are_not_those_foreseen_screens_itself(tmp_path: Path) -> None:
    """A quarantined lab, medication or diagnosis row, or a changed lab value, in the
    night's cleaned inputs: not the pass's cut (None); the night as cleaned: its cut."""
    labels = ["2026-11-19", "2026-11-20"]
    ctx, *nights = window_contexts(SAMPLE, site_mapping(tmp_path, "UTC"), labels, None)
    windows = [n.settings.window for n in nights]
    shared = read_once(ctx, windows)
    shared.decided[WINDOWS] = tuple(windows)
    night = replace(nights[1], shared_read=shared, timings={})
    cleaned = recipe.clean(night, recipe.read(night))
    labs = _screened_labs(cleaned)
    for name, frame in (("labs", labs), ("medications", cleaned.medications),
                        ("diagnoses", cleaned.diagnoses)):  # fmt: skip
        first = frame.index[(frame["bucket"] == "used").to_numpy()][0]
        fewer = frame.assign(bucket=frame["bucket"].where(frame.index != first, "quarantined"))
        changed = replace(cleaned, **({} if name == "labs" else {name: fewer}))
        assert screened_window(night, fewer if name == "labs" else labs, changed) is None, name
    assert screened_window(night, labs.assign(value_num=labs["value_num"] + 1.0), cleaned) is None
    assert screened_window(night, labs, cleaned) is not None


@SCREENS
@given(extracts(most_nights=3))
@example(_hand_cases())
def test_windows_of_random_edge_labs_screened_in_one_pass_are_each_lone_screen(
    extract: tuple[list[str], str, list[list[str]]],
) -> None:
    """Labs on every window and read-range edge (tests/test_shared_read_property.py), UTC
    and Berlin: each night with cases is screened in the pass, equal to its lone screen."""
    labels, timezone, rows = extract
    folder = Path(tempfile.mkdtemp(prefix="hyposcreen-pass-"))
    try:
        extract_dir = _extract(folder / "in", rows)
        _each_night_as_alone(extract_dir, site_mapping(folder, timezone), labels)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def test_cases_ordered_once_for_every_window_are_each_windows_own_order() -> None:
    """Cases of three windows (ids behind their window's prefix), with ties on every key but
    the patient, a missing corrected sodium and a window with no listed case: put in order
    and ranked in one sort, each window's rows are `order_cases` of its own rows."""
    from hyposcreen.screen.listing import order_cases
    from hyposcreen.screen.window_ids import cut_by_window as _cuts
    from hyposcreen.screen.window_ids import window_prefix
    from hyposcreen.screen.windows import _ordered_by_window

    times = pd.to_datetime(["2026-11-20 08:00", "2026-11-20 07:00", "2026-11-20 08:00"])
    rows = []
    for number in (2, 0, 1):
        for n, (listed, tier, sodium) in enumerate(
            [(True, 2, 128.0), (False, 3, 131.0), (True, 2, 128.0), (True, 1, float("nan"))]
        ):
            rows.append(
                {
                    "patient_id": f"{window_prefix(number, 3)}P{(7 * n + number) % 5}{n}",
                    "corrected_sodium": sodium,
                    "index_time": times[n % 3],
                    "listed": listed and number != 1,
                    "tier": tier,
                }
            )
    cases = pd.DataFrame(rows)
    cases = cases.iloc[cases["patient_id"].str.slice(0, 1).argsort(kind="stable")]
    got = _cuts(_ordered_by_window(cases.reset_index(drop=True), 3), 3)
    expected = [order_cases(c) for c in _cuts(cases.reset_index(drop=True), 3)]
    for mine, own in zip(got, expected, strict=True):
        pd.testing.assert_frame_equal(mine, own, check_exact=True)
    assert [list(c["rank"]) for c in got][1] == [0, 0, 0, 0]


def test_the_results_registered_for_the_case_query_are_the_case_patients_only() -> None:
    """Of the windows' sodium results, those registered for the case query and the case steps
    are every row of each patient with a hyponatremic result in its window (one found in the
    window only, or low only outside it, registers nothing), each numbered by
    its position among all the results, as `find_cases` of all the results finds them."""
    from hyposcreen.screen.finding import find_cases
    from hyposcreen.screen.windows import _of_case_patients

    results = pd.DataFrame(
        {
            "patient_id": pd.array(["0:A", "0:B", "1:A", "0:A", "0:C", None, "1:A"], dtype="str"),
            "specimen_time": pd.to_datetime([f"2026-11-20 0{h}:00" for h in range(7)]),
            "value_num": [130.0, 129.0, 140.0, 139.0, 131.0, 128.0, 141.0],
            "glucose_mg_dl": [float("nan")] * 7,
            "censored": pd.array([""] * 7, dtype="str"),
            "corrected_sodium": [130.0, 129.0, 140.0, 139.0, 131.0, 128.0, 141.0],
            "hyponatremic": [True, True, False, False, False, True, False],
            "in_window": [True, False, True, True, True, False, True],
            "severity": pd.array(["mild", "mild", None, None, None, "mild", None], dtype="str"),
            "level": pd.array(["1", "1", None, None, None, "1", None], dtype="str"),
        }
    )
    registered = _of_case_patients(results)
    assert list(registered["row"]) == [0, 3]
    assert list(registered["patient_id"]) == ["0:A", "0:A"]
    expected = find_cases(results)
    pd.testing.assert_frame_equal(find_cases(registered.drop(columns="row")), expected)
