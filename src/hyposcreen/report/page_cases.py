"""The rows of the review page: one `<tr>` per listed case, built a column at a time.

A list of thousands of cases made the per-case template loop the slowest part of a run; here
each cell's markup is built for all cases at once (text escaped as the template's autoescape
does) and the rows joined once. The page's frame (header, filters, legend, script) stays in
the Jinja2 template (templates/review_list.html.j2), which inserts these rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from markupsafe import escape

from hyposcreen.arrow_columns import positions_in
from hyposcreen.ingest.clock_folds import offset_column
from hyposcreen.report.clinical_times import clinical_time_objects
from hyposcreen.report.display import clinical_value, short_considerations
from hyposcreen.report.evidence_arrays import CENSOR_SIGNS
from hyposcreen.report.html_text import (
    Parts,
    choose,
    direction_controls_shown,
    escape_texts,
    formatted,
    int_texts,
    join_parts,
    joined_objects,
    looked_up,
    text_objects,
    texts_of,
)
from hyposcreen.report.numbers import one_decimal_array
from hyposcreen.report.page_evidence import evidence_items
from hyposcreen.report.page_relisting import relisting_lines
from hyposcreen.report.review_list import IDENTIFIER_COLUMNS, TIER_NAMES
from hyposcreen.report.review_text import review_offsets
from hyposcreen.report.trajectory import between, plot_start, trajectory_svgs
from hyposcreen.report.words import times_in_words

if TYPE_CHECKING:
    from hyposcreen.report.review_page import PageInfo

TIER_SYMBOLS = {1: "▲", 2: "◆", 3: "●"}  # shape as well as colour tells the tier apart


_PLOTTED = ["patient_id", "specimen_time", "corrected_sodium"]  # a sodium result, as plotted
# with the UTC offset of a result in an hour the clocks repeat, when one is (clock_folds)
_PLOTTED_OFFSET = [offset_column("specimen_time")]
CASES_PER_SLICE = 4096  # rows are built and written this many cases at a time


@dataclass
class PageCases:
    """What the page's frame says about the listed cases (their rows: `page_rows`)."""

    listed: int = 0
    counts: dict[str, int] = field(default_factory=dict)  # tier name -> cases
    factors: list[str] = field(default_factory=list)  # every risk factor listed, sorted
    legend: list[tuple[str, str]] = field(default_factory=list)  # short -> full consideration
    advice: dict[str, str] = field(default_factory=dict)  # considerations -> their `<li>`s


def _mapped(values: pd.Series | np.ndarray, table: dict[Any, str]) -> np.ndarray:
    """`values.map(table)` as an object array, each distinct value looked up once."""
    shown = looked_up(np.asarray(values), table)
    if shown is None:
        return pd.Series(values).map(table).astype(object).to_numpy()
    return shown


def _identifiers(review: pd.DataFrame) -> np.ndarray:
    """'MRN: 0043 · name: Test Patient 43' of the identifiers a site allows ('' otherwise)."""
    shown = np.full(len(review), "", dtype=object)
    for column in (c for c in IDENTIFIER_COLUMNS if c in review.columns):
        value = text_objects(review[column])
        label = "MRN" if column == "mrn" else column
        part = label + ": " + escape_texts(direction_controls_shown(value))
        joined = choose(shown == "", part, shown + " · " + part)
        shown = choose(value != "", joined, shown)
    return choose(shown != "", '<div class="ids">' + shown + "</div>", "")


@lru_cache(maxsize=1 << 12)
def _advice_of(text: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    """The `<li>`s of one case's considerations ('a | b') and their (short, full) texts for
    the legend (the same few texts recur night after night: each is shortened once)."""
    lines, used = short_considerations([c for c in text.split(" | ") if c])
    return "".join(f"<li>{escape(line)}</li>" for line in lines), tuple(used)


def _advice(considerations: pd.Series) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """At most three short lines of considerations per distinct text as `<li>`s, and the
    legend of their full texts (each distinct set of considerations is shortened once)."""
    legend: dict[str, str] = {}
    markup: dict[str, str] = {}
    for text in pd.unique(text_objects(considerations)):
        markup[text], used = _advice_of(text)
        for short, whole in used:
            legend.setdefault(short, whole)
    return markup, sorted(legend.items())


def page_cases(review: pd.DataFrame) -> PageCases:
    """What the frame of the page says about the listed cases: counts per tier, the risk
    factors to filter by, the considerations' legend (computed over distinct texts)."""
    if review.empty:
        return PageCases(counts=dict.fromkeys(TIER_NAMES.values(), 0))
    tier_numbers = _ints(review["tier"])
    factors = joined_objects(pd.Series(pd.unique(text_objects(review["risk_factors"]))), " ")
    advice, legend = _advice(review["considerations"])
    return PageCases(
        listed=len(review),
        counts={name: int((tier_numbers == t).sum()) for t, name in TIER_NAMES.items()},
        factors=sorted({f for text in factors for f in text.split(" ") if f}),
        legend=legend,
        advice=advice,
    )


def page_rows(
    review: pd.DataFrame,
    sodium_results: pd.DataFrame,
    evidence: pd.DataFrame,
    info: PageInfo,
    summary: PageCases,
    cases_per_slice: int | None = None,
) -> Iterator[str]:
    """The `<tr>`s of the listed cases in the list's order, a slice of cases at a time: each
    slice's markup (and the sodium points and evidence it is drawn from) is built, handed on
    and dropped before the next, so the rows of a long list never exist whole."""
    if review.empty:
        return
    review = review.reset_index(drop=True)
    step = cases_per_slice or CASES_PER_SLICE
    listed = pd.Index(pd.unique(text_objects(review["patient_id"])))
    in_range = between(sodium_results["specimen_time"], plot_start(info), info.window_end)
    listed_of = positions_in(sodium_results["patient_id"], listed)
    kept = in_range & (listed_of >= 0)  # a listed case's result in the plot's days
    rows = np.flatnonzero(kept)
    plotted = [*_PLOTTED, *[c for c in _PLOTTED_OFFSET if c in sodium_results]]
    shown = pd.DataFrame(  # the few kept rows taken from each column (no frame-wide `loc`)
        {c: sodium_results[c].array.take(rows) for c in plotted}, copy=False
    )
    shown_of = listed_of[kept]
    evidence_of = positions_in(evidence["patient_id"], listed)
    if len(review) <= step:  # one slice: every listed case, so every point and item shown
        evidence = evidence if (evidence_of >= 0).all() else evidence.loc[evidence_of >= 0]
        yield _rows(review, shown, evidence, info, summary.advice)
        return
    for first in range(0, len(review), step):
        cases = review.iloc[first : first + step].reset_index(drop=True)
        wanted = np.zeros(len(listed), dtype=bool)
        wanted[listed.get_indexer(text_objects(cases["patient_id"]))] = True
        yield _rows(
            cases,
            shown.loc[wanted[shown_of]],
            evidence.loc[(evidence_of >= 0) & wanted[np.maximum(evidence_of, 0)]],
            info,
            summary.advice,
        )


def _sort_times(index_time: np.ndarray) -> np.ndarray:
    """Each index time as '2026-11-20T05:00:00' (pandas' isoformat where a time has a
    fraction of a second, is missing or has no four-digit year)."""
    seconds = index_time.astype("datetime64[s]")
    years = seconds.astype("datetime64[Y]").astype("int64") + 1970
    if (
        len(index_time)
        and not np.isnat(index_time).any()
        and (seconds == index_time).all()
        and years.min() >= 1000
        and years.max() <= 9999
    ):
        return np.datetime_as_string(seconds, unit="s").astype(object)
    stamps = pd.Series(index_time)
    shown = stamps.dt.strftime("%Y-%m-%dT%H:%M:%S")
    if (stamps.dt.microsecond != 0).any() or stamps.isna().any():
        shown = stamps.map(lambda t: pd.Timestamp(t).isoformat())
    return texts_of(shown).to_numpy()


def _glucose_texts(glucose: np.ndarray) -> np.ndarray:
    """Each glucose at clinical precision ('' where missing), each distinct value once."""
    position, distinct = pd.factorize(glucose)
    shown = [clinical_value("glucose", v) for v in distinct.tolist()]
    return np.array([*shown, ""], dtype=object)[position]


def _floats(values: pd.Series) -> np.ndarray:
    return values.to_numpy(dtype="float64", na_value=np.nan)


def _ints(values: pd.Series) -> np.ndarray:
    """`values.astype("int64")` as numpy's (a column of int64 taken as it is)."""
    if values.dtype == np.dtype("int64"):
        return values.to_numpy()
    return values.astype("int64").to_numpy()


def _rows(
    review: pd.DataFrame,
    sodium_results: pd.DataFrame,
    evidence: pd.DataFrame,
    info: PageInfo,
    advice_of: dict[str, str],
) -> str:
    """The `<tr>` of each case of `review` (index 0..n-1), in order: each cell a column of
    texts (numpy object arrays) for all cases at once."""
    tier_numbers = _ints(review["tier"])
    tier = int_texts(tier_numbers)
    rank = int_texts(_ints(review["rank"]))
    tier_name = _mapped(tier_numbers, TIER_NAMES)
    patient = text_objects(review["patient_id"])
    factors = joined_objects(review["risk_factors"], " ")
    index_sodium = one_decimal_array(_floats(review["index_sodium"]))
    corrected = one_decimal_array(_floats(review["corrected_sodium"]))
    delta = one_decimal_array(_floats(review["delta_48h"]))
    glucose_text = _glucose_texts(_floats(review["index_glucose"]))
    index_time = pd.to_datetime(review["index_time"]).to_numpy()
    pair = text_objects(review["overcorrection_pair"]).copy()
    paired = pair != ""  # most cases have no pair: only the pairs' texts are rewritten
    pair[paired] = times_in_words(pair[paired], info.timezone)
    missing = joined_objects(review["missing_workup"], ", ", underscores=" ")
    spurious = (
        text_objects(review["possibly_spurious"]) != ""
        if "possibly_spurious" in review
        else np.zeros(len(review), dtype=bool)
    )
    with_evidence, items = evidence_items(evidence, info)
    found = pd.Index(with_evidence).get_indexer(patient) if len(items) else -1
    evidence_of = np.append(items, "")[found] if len(items) else np.full(len(patient), "", object)
    advice = _mapped(text_objects(review["considerations"]), advice_of)
    sort_sodium = formatted("%.3f", _floats(review["corrected_sodium"]))
    censored = (
        _mapped(text_objects(review["index_censored"]), CENSOR_SIGNS | {"": ""})
        if "index_censored" in review
        else np.full(len(review), "", dtype=object)
    )
    parts: Parts = [
        '<tr class="case tier-', tier, '" data-rank="', rank, '" data-tier="', tier,
        '" data-sodium="', sort_sodium, '" data-time="', _sort_times(index_time),
        '" data-factors=" ', escape_texts(factors), ' ">\n<td class="rank">', rank,
        '</td>\n<td><span class="badge" title="Tier ', tier, ": ", tier_name, '">',
        _mapped(tier_numbers, TIER_SYMBOLS), " ", tier, " ", tier_name,
        '</span></td>\n<td><span class="pid">', escape_texts(direction_controls_shown(patient)),
        "</span>\n",
        _identifiers(review), relisting_lines(review, info.timezone), '<div class="small">index ',
        escape_texts(
            clinical_time_objects(index_time, info.timezone, review_offsets(review, "index_time"))
        ),
        '</div></td>\n<td><span class="na" data-col="corrected">', corrected, "</span>",
        choose(index_sodium != corrected, ' <span class="small">corrected<br>measured '
               + index_sodium + ", glucose " + escape_texts(glucose_text) + " mg/dL</span>", ""),
        choose(censored != "", ' <span class="flag" title="Reported beyond the measuring range: '
               'banded at this value, the true value lies beyond it">reported '
               + escape_texts(censored) + index_sodium + "</span>", ""),
        '<div class="sev">', escape_texts(review["severity"]), "</div>\n"
        '<div class="small">latest ', one_decimal_array(_floats(review["latest_sodium"])),
        choose(delta != "", f" · Δ from previous (≤ {info.delta_hours:g} h) " + delta + " ("
               + escape_texts(review["trend"]) + ")", ""),
        " · ", int_texts(_ints(review["n_low_results"])),
        " low result(s)</div>\n",
        choose(review["correction_risk"], '<span class="flag" title="Lower correction limit '
               'applies">correction risk</span>', ""),
        choose(spurious, f'<span class="flag" title="{escape(info.spurious_rule)}">possibly '
               "spurious</span>", ""),
        "</td>\n<td>", *trajectory_svgs(review, sodium_results, info), "</td>\n<td>",
        choose(evidence_of != "", '<ul class="factors">' + evidence_of + "</ul>", ""),
        choose(factors == "", '<div class="none">no risk factor: listed for severity or '
               "over-rapid correction</div>", ""),
        "</td>\n<td>",
        choose(review["overcorrection"], '<span class="flag">over-rapid correction</span>'
               '<div class="small">' + escape_texts(pair) + "</div>",
               '<div class="small">no over-rapid correction</div>'),
        choose(missing != "", "<div><strong>Missing workup:</strong> " + escape_texts(missing)
               + "</div>", '<div class="small">workup complete</div>'),
        '</td>\n<td><ul class="considerations">', advice, "</ul></td>\n</tr>\n",
    ]  # fmt: skip
    return join_parts(parts, len(review))
