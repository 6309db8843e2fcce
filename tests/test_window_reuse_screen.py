"""Many windows, one read, on the screen's side: the settings a loop's windows load once
(runners.window_loop.WindowContexts), and the glucose pairs and delta-check flags decided once
over the shared read (recipe_screen), each window's equal to its lone screen.

Cleaning and contracts decided once: tests/test_window_reuse.py; random edge labs:
tests/test_shared_read_property.py.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from helpers import RULES
from hyposcreen.config import Window
from test_window_reuse import NIGHTS, ONE_DAY

# ------------------------------------------------------------------ contexts prepared once


def test_window_contexts_load_settings_once_and_give_each_window_its_own(tmp_path: Path) -> None:
    """Windows that differ only in window and output folder share the loaded mapping, rules
    and words (the same objects) and get contexts of their own; other settings (a profile)
    are prepared again, as `prepare` alone gives them."""
    from dataclasses import replace

    from hyposcreen.config import RunSettings
    from hyposcreen.context import prepare
    from hyposcreen.runners.window_loop import WindowContexts
    from shared_read_runs import SAMPLE

    first = RunSettings(input_dir=SAMPLE, out_dir=tmp_path / "a", window=NIGHTS[0])
    second = replace(first, out_dir=tmp_path / "b", window=NIGHTS[1])
    contexts = WindowContexts()
    one, two = contexts(first), contexts(second)
    assert two.rules is one.rules and two.mapping is one.mapping and two.words is one.words
    assert two.settings == second and two.profile == prepare(second).profile
    one.timings["read"] = 1.0
    assert two.timings == {} and two.shared_read is None and two.staging is None
    assert two.rules == prepare(second).rules and two.words == prepare(second).words
    other = replace(second, profile="eu2014")
    three = contexts(other)
    assert three.rules is not one.rules and three.profile == prepare(other).profile


# ------------------------------------------------------------------ glucose paired once


def test_glucose_paired_once_holds_in_each_window_and_the_edges_pair_again(tmp_path: Path) -> None:
    """Per night n: E1n sodium 10 min after its read range's start, glucose 20 min before that
    start (30 min away, 500 mg/dL) and 50 min after it (40 min away, 300); E3n sodium 10 min
    before its window's end, glucose 5 min after it (600). The shared read (from night 0's
    range start to night 1's end) pairs E11 with 500 and E30 with 600 (E10's 500 and E31's
    600 were never read). Night 1's range lacks E11's 500: paired again, 300; night 0's lacks
    E30's 600: paired again, none; night 0 holds E11 and both its glucose: 500; night 1 holds
    E30 and its glucose: 600. Sn: a dip 15 mmol/L below both neighbours (spec §8), the
    earlier 3 h before it, 2 h before night n's range. Every night's screen equals its lone
    screen."""
    from dataclasses import replace

    from hyposcreen import recipe
    from hyposcreen.clean import read_window_start
    from hyposcreen.recipe_read import read_once
    from hyposcreen.recipe_screen import window_used_labs
    from shared_read_runs import (
        LAB_COLUMNS,
        glucose_row,
        site_mapping,
        sodium_row,
        window_contexts,
        write_rows,
    )

    nights = ["2026-11-19", "2026-11-20"]
    folder = tmp_path / "in"
    folder.mkdir()
    rows = []
    for number, night in enumerate(nights):
        start = pd.Timestamp(night).as_unit("us")
        edge = read_window_start(Window(start, start + ONE_DAY), RULES, False, "UTC")
        minutes = [pd.Timedelta(minutes=m) for m in (10, 20, 50, 5)]
        rows += [
            sodium_row(f"E1{number}", edge + minutes[0], "128"),
            glucose_row(f"E1{number}", edge - minutes[1], "500"),
            glucose_row(f"E1{number}", edge + minutes[2], "300"),
            sodium_row(f"E3{number}", start + ONE_DAY - minutes[0], "127"),
            glucose_row(f"E3{number}", start + ONE_DAY + minutes[3], "600"),
            # a dip 15 below both neighbours, the earlier one 2 h before the range's start
            sodium_row(f"S{number}", edge - pd.Timedelta(hours=2), "140"),
            sodium_row(f"S{number}", edge + pd.Timedelta(hours=1), "125"),
            sodium_row(f"S{number}", edge + pd.Timedelta(hours=3), "140"),
        ]
    write_rows(folder / "labs.csv", LAB_COLUMNS, rows)
    write_rows(folder / "medications.csv", ["patient_id", "drug_name", "start_time"], [])
    write_rows(folder / "diagnoses.csv", ["patient_id", "code", "code_system", "recorded_time"], [])
    ctx, *lone_nights = window_contexts(folder, site_mapping(tmp_path, "UTC"), nights, None)
    shared = read_once(ctx, [n.settings.window for n in lone_nights])
    glucose_of: dict[tuple[int, str], float] = {}
    dip_flagged: dict[tuple[int, str], bool] = {}
    unsettled = 0
    for number, lone in enumerate(lone_nights):
        expected = recipe.screen(lone, recipe.clean(lone, recipe.read(lone)))
        night = replace(lone, shared_read=shared, timings={})
        cleaned = recipe.clean(night, recipe.read(night))
        used = (cleaned.labs["bucket"] == "used").to_numpy()
        cut = window_used_labs(night, cleaned.labs, used)
        assert cut is not None
        unsettled += len(cut[2].changed if cut[2].changed is not None else [])
        got = recipe.screen(night, cleaned)
        for name in ("sodium_results", "cases"):
            pd.testing.assert_frame_equal(getattr(got, name), getattr(expected, name))
        results = got.sodium_results.set_index("patient_id")["glucose_mg_dl"]
        for patient, value in results.items():
            glucose_of[(number, str(patient))] = value
        dips = got.sodium_results.loc[got.sodium_results["value_num"] == 125.0]
        for patient, flagged in zip(dips["patient_id"], dips["possibly_spurious"]):
            dip_flagged[(number, str(patient))] = bool(flagged)
    assert unsettled == 2  # E11 in night 1, E30 in night 0: corrected otherwise in the window
    assert glucose_of[(0, "E10")] == 300.0 and glucose_of[(0, "E11")] == 500.0
    assert glucose_of[(1, "E11")] == 300.0
    assert pd.isna(glucose_of[(0, "E30")]) and glucose_of[(1, "E30")] == 600.0
    assert pd.isna(glucose_of[(1, "E31")])
    # S1's dip has both neighbours in the read and in night 0 (flagged), not in night 1 (its
    # earlier neighbour lies before night 1's range); S0's earlier neighbour was never read
    assert dip_flagged == {(0, "S0"): False, (0, "S1"): True, (1, "S1"): False}
    # a window whose used rows or values are not the cut's prepares its own
    first = cleaned.labs.index[used][0]
    quarantined = cleaned.labs.assign(bucket=cleaned.labs["bucket"].where(
        cleaned.labs.index != first, "quarantined"
    ))  # fmt: skip
    fewer = (quarantined["bucket"] == "used").to_numpy()
    assert window_used_labs(night, quarantined, fewer) is None
    changed = cleaned.labs.assign(value_num=cleaned.labs["value_num"] + 1.0)
    assert window_used_labs(night, changed, used) is None
    assert window_used_labs(night, cleaned.labs, used) is not None
