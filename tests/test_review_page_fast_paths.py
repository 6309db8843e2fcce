"""The review page's per-night shortcuts give what the general code gives: ids found in Arrow
(arrow_columns.positions_in) as pandas' get_indexer finds them, and a list's plotted sodium
points (trajectory._points) in the order of the merge they replace."""

from __future__ import annotations

import numpy as np
import pandas as pd

from hyposcreen.arrow_columns import positions_in
from hyposcreen.report.trajectory import _points


def test_ids_are_found_where_pandas_get_indexer_finds_them() -> None:
    listed = pd.Index(["P3", "P1", "P7"])
    for ids in (
        pd.Series(["P1", "P2", None, "P3", "P7", "P1"], dtype="str"),
        pd.Series(["P1", np.nan, "P7", "x"], dtype=object),
        pd.Series([], dtype="str"),
    ):
        expected = listed.get_indexer(ids.astype("str"))
        assert list(positions_in(ids, listed)) == list(expected)
    assert list(positions_in(pd.Series(["P7", None, "P9"], dtype="str"), listed)) == [2, -1, -1]


def test_ids_that_are_not_text_or_a_listing_with_repeats_go_through_pandas() -> None:
    numbers = pd.Series([7, 1, 3])
    listed = pd.Index(["3", "1"])
    assert list(positions_in(numbers, listed)) == [-1, 1, 0]
    mixed = pd.Series(["P1", 5], dtype=object)
    assert list(positions_in(mixed, pd.Index(["5", "P1"]))) == [1, 0]


def _merged_points(
    cases: pd.DataFrame, results: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp
) -> pd.DataFrame:
    """The plotted points as the page made them before: the results in the plot's days sorted
    by patient, time and value, merged onto the cases and sorted by case."""
    keys = pd.DataFrame(
        {
            "case": np.arange(len(cases)),
            "patient_id": cases["patient_id"].astype("str").to_numpy(),
            "index_time": pd.to_datetime(cases["index_time"]).to_numpy(),
        }
    )
    times = results["specimen_time"]
    shown = results.loc[(times >= start) & (times < end)]
    shown = shown.loc[shown["patient_id"].isin(keys["patient_id"])].sort_values(
        ["patient_id", "specimen_time", "corrected_sodium"], kind="stable"
    )
    shown = shown.assign(_order=np.arange(len(shown)))
    return keys.merge(shown, on="patient_id", how="inner").sort_values(
        ["case", "_order"], kind="stable"
    )


def test_plotted_points_come_by_case_then_time_then_value_as_the_merge_gave_them() -> None:
    start, end = pd.Timestamp("2026-11-14"), pd.Timestamp("2026-11-21")
    cases = pd.DataFrame(
        {
            "patient_id": pd.Series(["B", "A", "C"], dtype="str"),  # list order, not by id
            "index_time": pd.to_datetime(["2026-11-20 05:00", "2026-11-20 06:00", None]),
        }
    )
    t = pd.to_datetime
    results = pd.DataFrame(
        {
            "patient_id": pd.Series(["A", "B", "A", "Z", "A", "B", "A", "B", "A"], dtype="str"),
            "specimen_time": t(
                [
                    "2026-11-20 06:00",  # A's index
                    "2026-11-19 01:00",
                    "2026-11-18 00:00",
                    "2026-11-18 00:00",  # not listed
                    "2026-11-18 00:00",  # same time as the one before: by value
                    "2026-11-21 00:00",  # the window's end: not shown
                    "2026-11-18 00:00",  # same time and value: in the results' order
                    "2026-11-13 23:59",  # before the plot: not shown
                    "2026-11-19 12:00",
                ]
            ),
            "corrected_sodium": [128.0, 131.0, 127.5, 120.0, 125.0, 140.0, 125.0, 119.0, np.nan],
            "row": range(9),
        }
    )
    points = _points(cases, results, start, end)
    # B (case 0): its 19 Nov result; A (case 1): 18 Nov by value (125.0 twice, rows 4 then
    # 6, then 127.5), 19 Nov (no value), 20 Nov; C (case 2): none
    assert points["case"].tolist() == [0, 1, 1, 1, 1, 1]
    assert points["corrected_sodium"].tolist()[:4] == [131.0, 125.0, 125.0, 127.5]
    assert np.isnan(points["corrected_sodium"].iloc[4])
    assert points["corrected_sodium"].iloc[5] == 128.0
    assert points["index_time"].tolist() == [t("2026-11-20 05:00")] + [t("2026-11-20 06:00")] * 5

    merged = _merged_points(cases, results, start, end)
    assert merged["row"].tolist() == [1, 4, 6, 2, 8, 0]
    for column in ("case", "specimen_time", "corrected_sodium", "index_time"):
        pd.testing.assert_series_equal(
            points[column].reset_index(drop=True),
            merged[column].reset_index(drop=True),
            check_names=False,
        )


def test_plotted_points_of_a_random_list_equal_the_merge() -> None:
    rng = np.random.default_rng(11)
    start, end = pd.Timestamp("2026-11-14"), pd.Timestamp("2026-11-21")
    ids = np.array([f"P{i}" for i in range(60)], dtype=object)
    listed = rng.choice(ids, 25, replace=False)
    cases = pd.DataFrame(
        {
            "patient_id": pd.Series(listed, dtype="str"),
            "index_time": start + pd.to_timedelta(rng.integers(0, 7 * 24, 25), unit="h"),
        }
    )
    n = 800
    values = rng.choice([120.0, 125.0, 126.5, np.nan], n)
    results = pd.DataFrame(
        {
            "patient_id": pd.Series(rng.choice(ids, n), dtype="str"),
            "specimen_time": start + pd.to_timedelta(rng.integers(-24, 8 * 24, n), unit="h"),
            "corrected_sodium": values,
        }
    )
    points = _points(cases, results, start, end)
    merged = _merged_points(cases, results, start, end)
    assert len(points) == len(merged) > 100
    for column in ("case", "specimen_time", "corrected_sodium", "index_time"):
        pd.testing.assert_series_equal(
            points[column].reset_index(drop=True),
            merged[column].reset_index(drop=True),
            check_names=False,
        )


def test_a_column_of_times_reads_as_each_time_put_in_words_alone() -> None:
    """clinical_time_texts (each day's words once, each minute from a table of a day's
    minutes) gives clinical_time's text of every time: every minute of a day, days across
    the clocks' changes, before 1970, missing ones ('')."""
    from hyposcreen.report.clinical_times import clinical_time, clinical_time_texts

    every_minute = pd.date_range("2026-10-25 00:00", periods=24 * 60, freq="min")
    rng = np.random.default_rng(5)
    seconds = rng.integers(0, 400 * 86400, 500)
    scattered = pd.Timestamp("2026-01-01") + pd.to_timedelta(seconds, unit="s")
    earlier = pd.to_datetime(["1969-12-31 23:59:30", "1900-02-28 13:05:59", "1970-01-01 00:00:00"])
    times = pd.Series(
        np.concatenate([every_minute.to_numpy(), scattered.to_numpy(), earlier.to_numpy()])
    )
    times = pd.concat([times, pd.Series([pd.NaT])], ignore_index=True)
    for zone in ("Europe/Berlin", "America/New_York", "UTC"):
        column = clinical_time_texts(times, zone)
        assert list(column.index) == list(range(len(times)))
        assert list(column) == [clinical_time(t, zone) for t in times]
    assert clinical_time_texts(pd.Series([pd.NaT, pd.NaT]), "UTC").tolist() == ["", ""]


def _cases_with_pairs(rises: list[float | None]) -> pd.DataFrame:
    rise = pd.Series(rises, dtype="float64")
    return pd.DataFrame(
        {
            "overcorrection": rise.notna(),
            "oc_from_sodium": rise.where(rise.isna(), 118.04),
            "oc_from_time": pd.to_datetime(["2026-11-19 06:00"] * len(rises)).where(
                rise.notna().to_numpy()
            ),
            "oc_to_sodium": rise.where(rise.isna(), 126.55),
            "oc_to_time": pd.to_datetime(["2026-11-20 05:30:10"] * len(rises)).where(
                rise.notna().to_numpy()
            ),
            "oc_rise": rise,
            "limit": [8.0] * len(rises),
        },
        index=pd.RangeIndex(len(rises)),
    )


def test_a_night_without_an_overcorrection_has_no_pair_text() -> None:
    from hyposcreen.report.review_list import _overcorrection_text

    with_one = _overcorrection_text(_cases_with_pairs([None, 8.5, None]))
    assert with_one.tolist() == [
        "",
        "118.0 at 2026-11-19T06:00:00 -> 126.6 at 2026-11-20T05:30:10 (+8.5 mmol/L; limit 8"
        " per 24 h)",
        "",
    ]
    without = _overcorrection_text(_cases_with_pairs([None, None]))
    assert without.tolist() == ["", ""] and without.dtype == with_one.dtype
    assert list(without.index) == [0, 1]


def test_plot_positions_print_as_rounded_then_printed_floats() -> None:
    """one_place_texts ('%.1f' at once) gives number_texts(one_place(...)): Python's
    str(round(value, 1)) of every position, halves, signs, NaN and huge values included."""
    from hyposcreen.report.html_text import number_texts, one_place, one_place_texts

    rng = np.random.default_rng(3)
    values = np.concatenate(
        [
            rng.uniform(-300.0, 300.0, 20_000),
            np.round(rng.uniform(-60.0, 60.0, 20_000), 2),  # many halves at the 2nd place
            [0.05, 0.15, 0.25, -0.05, -0.04, 0.0, -0.0, 9.95, 2.5e-8, np.nan, np.inf, -np.inf],
            [1e16, -3e17, 12.25],  # str() writes an exponent from 1e16 on
        ]
    )
    assert one_place_texts(values).tolist() == number_texts(one_place(values)).tolist()
    assert one_place_texts(np.array([26.04, -0.04, 1e16])).tolist() == ["26.0", "-0.0", "1e+16"]
    assert [str(round(v, 1)) for v in values[:1000]] == one_place_texts(values[:1000]).tolist()


def _sorted_by_pandas(patients: pd.Series, factors: pd.Series) -> list[int]:
    keys = pd.DataFrame(
        {
            "patient_id": patients,
            "late": factors.str.startswith("correction_risk:"),
            "factor": factors,
        }
    )
    return keys.sort_values(["patient_id", "late", "factor"], kind="stable").index.tolist()


def test_evidence_rows_come_in_the_order_pandas_sorted_them() -> None:
    """Each case's evidence on the page: by patient, correction-risk conditions last, then by
    factor, ties in the evidence table's order; texts compared as pandas compares them
    (code points: 'Z' before 'a' before 'é'); a missing text goes through pandas itself."""
    from hyposcreen.report.page_evidence import _evidence_order

    patients = pd.Series(["P2", "P1", "P2", "P1", "P1", "Pé", "PZ", "Pa"], dtype="str")
    factors = pd.Series(
        [
            "loop_diuretic",
            "correction_risk:alcohol",
            "ssri",
            "hypokalemia",
            "hypokalemia",
            "ssri",
            "ssri",
            "correction_risk:liver",
        ],
        dtype="str",
    )
    order = _evidence_order(patients, factors)
    # P1: hypokalemia (rows 3, 4 in order), then its correction risk; P2: loop, ssri; then
    # PZ, Pa, Pé
    assert order.tolist() == [3, 4, 1, 0, 2, 6, 7, 5]
    assert order.tolist() == _sorted_by_pandas(patients, factors)

    rng = np.random.default_rng(8)
    names = ["ssri", "hypokalemia", "correction_risk:liver", "correction_risk:alcohol", "Äb"]
    patients = pd.Series(rng.choice([f"P{i}" for i in range(30)] + ["pé", "Ω"], 600), dtype="str")
    factors = pd.Series(rng.choice(names, 600), dtype="str")
    assert _evidence_order(patients, factors).tolist() == _sorted_by_pandas(patients, factors)

    with_missing = factors.where(np.arange(600) % 50 != 0)
    assert with_missing.hasnans
    assert _evidence_order(patients, with_missing).tolist() == _sorted_by_pandas(
        patients, with_missing
    )
