"""The page's sodium trajectories: one small inline SVG per listed case, all cases at once.

Each plot shows a case's corrected sodium over the days read for the run (at most seven) up
to the window end, the hyponatremia threshold, and the index result as an open red circle.
The geometry is computed for every point of every case in a few column operations and the
markup joined per case; nothing depends on the wall clock, so the same run gives the same
bytes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from hyposcreen.arrow_columns import is_listed, positions_in
from hyposcreen.ingest.clock_folds import offset_column, time_offsets
from hyposcreen.report.clinical_times import clinical_time_objects
from hyposcreen.report.html_text import (
    Parts,
    choose,
    escape_texts,
    formatted,
    int_texts,
    join_part_runs,
    number_texts,
    one_place,
    one_place_texts,
    run_starts,
)
from hyposcreen.report.numbers import one_decimal_array
from hyposcreen.report.review_text import review_offsets

if TYPE_CHECKING:
    from hyposcreen.report.review_page import PageInfo

TRAJECTORY_DAYS = 7
PLOT = {"width": 250, "height": 62, "left": 26, "right": 4, "top": 4, "bottom": 12}
_WIDTH = PLOT["width"] - PLOT["left"] - PLOT["right"]
_HEIGHT = PLOT["height"] - PLOT["top"] - PLOT["bottom"]
_BOTTOM = PLOT["height"] - PLOT["bottom"]


def plot_start(info: PageInfo) -> pd.Timestamp:
    """The trajectory spans the days that were read: from the start of the results read for
    the run (window start minus the context) or 7 days, whichever is shorter, to the end."""
    return max(info.context_start, info.window_end - pd.Timedelta(days=TRAJECTORY_DAYS))


def plot_days(info: PageInfo) -> int:
    return round((info.window_end - plot_start(info)).total_seconds() / 86400)


def _x_of(seconds: np.ndarray | float, span: float) -> np.ndarray:
    """Horizontal position of times `seconds` after the plot's start, to 0.1."""
    return one_place(PLOT["left"] + _WIDTH * np.asarray(seconds, dtype="float64") / span)


def _axis(info: PageInfo) -> str:
    """The markup every plot shares: the unread days' shading and the day ticks."""
    start, end = plot_start(info), info.window_end
    span = (end - start).total_seconds()
    read_from = (max(info.context_start, start) - start).total_seconds()
    read_from_x = float(_x_of(read_from, span))
    left, top = PLOT["left"], PLOT["top"]
    unread = (
        f'<rect class="unread" x="{left}" y="{top}" width="{round(read_from_x - left, 1)}" '
        f'height="{_BOTTOM - top}"/>'
        if read_from_x > left
        else ""
    )
    n_days = round(span / 86400)
    ticks = []
    for day in range(0, n_days + 1):
        seconds = (end - pd.Timedelta(days=n_days - day) - start).total_seconds()
        x = float(_x_of(seconds, span))
        ticks.append(f'<line class="tick" x1="{x}" x2="{x}" y1="{_BOTTOM}" y2="{_BOTTOM + 3}"/>')
        if day in (0, n_days) or day % 2 == 0:
            label = "end" if day == n_days else f"-{n_days - day}d"
            ticks.append(
                f'<text x="{x}" y="{PLOT["height"] - 2}" text-anchor="middle">{label}</text>'
            )
    return unread + "".join(ticks)


def _per_case(
    values: np.ndarray, case_of: np.ndarray, count: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per case (0..count-1): its points, lowest, highest, first and last value (NaN for a
    case without points), as groupby's size, min, max, first and last give them. Points come
    grouped by case, so each is one reduction over runs; a missing value (which groupby
    skips) sends the column through groupby itself."""
    if np.isnan(values).any() or not len(values):
        per_case = pd.Series(values, dtype="float64").groupby(case_of)
        return (
            per_case.size().reindex(range(count), fill_value=0).to_numpy(),
            per_case.min().reindex(range(count)).to_numpy(),
            per_case.max().reindex(range(count)).to_numpy(),
            per_case.first().reindex(range(count)).to_numpy(),
            per_case.last().reindex(range(count)).to_numpy(),
        )
    firsts = np.flatnonzero(run_starts(case_of))
    lasts = np.r_[firsts[1:], len(values)] - 1
    cases = case_of[firsts]
    shown = np.full((4, count), np.nan)
    shown[0, cases] = np.minimum.reduceat(values, firsts)
    shown[1, cases] = np.maximum.reduceat(values, firsts)
    shown[2, cases], shown[3, cases] = values[firsts], values[lasts]
    n = np.bincount(case_of, minlength=count)
    return n, shown[0], shown[1], shown[2], shown[3]


def between(times: pd.Series, start: pd.Timestamp, end: pd.Timestamp) -> np.ndarray:
    """`(times >= start) & (times < end)` as a numpy mask (numpy's own comparison for a column
    of naive datetime64)."""
    if isinstance(times.dtype, np.dtype) and times.dtype.kind == "M":
        values = times.to_numpy()
        return (values >= start.to_datetime64()) & (values < end.to_datetime64())
    return ((times >= start) & (times < end)).to_numpy(dtype=bool)


_COLUMNS = ["patient_id", "specimen_time", "corrected_sodium"]
_OFFSET = offset_column("specimen_time")  # present when a result is in a repeated hour
_POINT_COLUMNS = ["case", "specimen_time", "corrected_sodium", "index_time"]


def _points(
    cases: pd.DataFrame, sodium_results: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp
) -> pd.DataFrame:
    """The plotted sodium results (`start` <= time < `end`) of each case: case (position in
    `cases`), specimen_time, corrected_sodium and the case's index_time, by case, then time,
    then value (results alike in both: in their order in `sodium_results`)."""
    return pd.DataFrame(
        dict(zip(_POINT_COLUMNS, _point_arrays(cases, sodium_results, start, end)[:4], strict=True))
    )


def _point_arrays(
    cases: pd.DataFrame, sodium_results: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    """`_points`' columns as numpy arrays (no frame made for a list naming each patient once),
    and the UTC offset of each point in an hour the clocks repeat (None without any)."""
    patient_ids = cases["patient_id"].astype("str").to_numpy()
    index_times = pd.to_datetime(cases["index_time"]).to_numpy()
    in_range = between(sodium_results["specimen_time"], start, end)
    columns = _COLUMNS + [c for c in (_OFFSET,) if c in sodium_results]
    if in_range.all() and list(sodium_results.columns) == columns:  # the page's, cut already
        shown = sodium_results
    else:
        shown = sodium_results.loc[in_range, columns]
    listed = pd.Index(patient_ids)
    if listed.is_unique:  # a list names each patient once: each result is one case's point
        case_of = positions_in(shown["patient_id"], listed)
        times = shown["specimen_time"].to_numpy()
        values = shown["corrected_sodium"].to_numpy()
        offsets = time_offsets(shown, "specimen_time")
        if not (case_of >= 0).all():
            kept = case_of >= 0
            case_of, times, values = case_of[kept], times[kept], values[kept]
            offsets = None if offsets is None else offsets[kept]
        order = np.lexsort(
            (np.asarray(values, dtype="float64"), times, case_of)
        )  # stable, missing values last: as the stable sorts below
        return (
            case_of[order], times[order], values[order], index_times[case_of[order]],
            None if offsets is None else offsets[order],
        )  # fmt: skip
    keys = pd.DataFrame(
        {"case": np.arange(len(cases)), "patient_id": patient_ids, "index_time": index_times}
    )
    shown = shown.assign(patient_id=shown["patient_id"].astype("str"))
    shown = shown.loc[is_listed(shown["patient_id"], keys["patient_id"])].sort_values(
        ["patient_id", "specimen_time", "corrected_sodium"], kind="stable"
    )
    shown = shown.assign(_order=np.arange(len(shown)))
    merged = keys.merge(shown, on="patient_id", how="inner").sort_values(
        ["case", "_order"], kind="stable"
    )
    case, times, values, index = (merged[c].to_numpy() for c in _POINT_COLUMNS)
    return case, times, values, index, time_offsets(merged, "specimen_time")


def trajectory_svgs(cases: pd.DataFrame, sodium_results: pd.DataFrame, info: PageInfo) -> Parts:
    """The `<svg>` of each case (`cases`: patient_id and index_time, in the list's order), as
    markup parts (join_parts). Points come in time order, then by value."""
    start, end = plot_start(info), info.window_end
    span = (end - start).total_seconds()
    n_days = round(span / 86400)
    threshold = float(info.hyponatremia_threshold)
    count = len(cases)
    case_of, specimen_time, sodium, index_time, offsets = _point_arrays(
        cases, sodium_results, start, end
    )
    values = np.asarray(sodium, dtype="float64")
    n, lowest, highest, first, last = _per_case(values, case_of, count)
    low = np.minimum(np.where(n > 0, lowest, threshold), threshold - 10.0) - 2.0
    high = np.maximum(np.where(n > 0, highest, threshold), threshold + 4.0) + 2.0

    # every point: position, dot and its hover title
    seconds = (specimen_time - start.to_datetime64()) / np.timedelta64(1, "s")
    x_text = one_place_texts(PLOT["left"] + _WIDTH * seconds / span)  # as _x_of's, printed
    y_text = one_place_texts(
        PLOT["top"] + _HEIGHT * (high[case_of] - values) / (high - low)[case_of]
    )
    is_index = ~np.isnat(index_time) & (specimen_time == index_time)
    index_offsets = review_offsets(cases, "index_time")
    if offsets is not None or index_offsets is not None:  # the same wall time twice: by offset
        point_offsets = np.full(len(case_of), None) if offsets is None else offsets
        case_offsets = np.full(count, None) if index_offsets is None else index_offsets
        is_index &= point_offsets == case_offsets[case_of]
    title = escape_texts(
        clinical_time_objects(specimen_time, info.timezone, offsets)
        + ": "
        + one_decimal_array(values)
        + " mmol/L"
    )
    dots: Parts = [
        '<circle cx="', x_text, '" cy="', y_text, '" r="',
        choose(is_index, '3.5" class="index"', '2.2"'), "><title>", title,
        choose(is_index, " (index)", ""), "</title></circle>\n",
    ]  # fmt: skip
    starts = run_starts(case_of)
    cases_with_points = case_of[starts]
    dots_of = np.full(count, "", dtype=object)
    dots_of[cases_with_points] = join_part_runs(dots, starts)
    line_of = np.full(count, "", dtype=object)
    line_of[cases_with_points] = join_part_runs(
        [choose(starts, "", " "), x_text, ",", y_text], starts
    )

    summary = choose(
        n > 0,
        int_texts(n)
        + f" sodium result(s) in the {n_days} days to the window end, from "
        + one_decimal_array(first)
        + " to "
        + one_decimal_array(last)
        + f" mmol/L; hyponatremia threshold {threshold:g}",
        f"no sodium results in the {n_days} days to the window end",
    )
    summary = escape_texts(summary)
    threshold_y = one_place(PLOT["top"] + _HEIGHT * (high - threshold) / (high - low))
    threshold_text = number_texts(threshold_y)
    left, top = PLOT["left"], PLOT["top"]
    top_label = choose(
        threshold_y - top > 9,
        f'<text x="{left - 3}" y="{top + 6}" text-anchor="end">'
        + formatted("%.0f", high)
        + "</text>",
        "",
    )
    bottom_label = choose(
        _BOTTOM - threshold_y > 9,
        f'<text x="{left - 3}" y="{_BOTTOM}" text-anchor="end">'
        + formatted("%.0f", low)
        + "</text>",
        "",
    )
    polyline = choose(n > 1, '<polyline points="' + line_of + '"/>', "")
    return [
        f'<svg class="spark" viewBox="0 0 {PLOT["width"]} {PLOT["height"]}" '
        f'width="{PLOT["width"]}" height="{PLOT["height"]}" role="img" aria-label="',
        summary,
        '">\n<title>',
        summary,
        f'</title>\n<rect class="plot-bg" x="{left}" y="{top}" width="{_WIDTH}" '
        f'height="{_BOTTOM - top}"/>\n<rect class="low-zone" x="{left}" y="',
        threshold_text,
        f'" width="{_WIDTH}" height="',
        number_texts(one_place(_BOTTOM - threshold_y)),
        '"/>\n'
        + _axis(info)
        + f'<line class="threshold" x1="{left}" x2="{PLOT["width"] - PLOT["right"]}" y1="',
        threshold_text,
        '" y2="',
        threshold_text,
        f'"/>\n<text x="{left - 3}" y="',
        number_texts(threshold_y + 3),
        f'" text-anchor="end">{threshold:g}</text>\n',
        top_label,
        bottom_label,
        polyline,
        dots_of,
        "</svg>",
    ]
