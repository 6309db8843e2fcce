"""The rows of the review page: one `<tr>` per listed case, built a column at a time.

A list of thousands of cases made the per-case template loop the slowest part of a run; here
each cell's markup is built for all cases at once (text escaped as the template's autoescape
does) and the rows joined once. The page's frame (header, filters, legend, script) stays in
the Jinja2 template (templates/review_list.html.j2), which inserts these rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from markupsafe import escape

from hyposcreen.arrow_columns import positions_in
from hyposcreen.report.clinical_times import clinical_time_texts
from hyposcreen.report.display import clinical_value, short_considerations
from hyposcreen.report.html_text import (
    Parts,
    choose,
    escape_html,
    join_parts,
    join_runs,
    joined_list,
    looked_up,
    per_distinct,
    run_starts,
    texts_of,
)
from hyposcreen.report.numbers import one_decimal_objects
from hyposcreen.report.review_list import IDENTIFIER_COLUMNS, TIER_NAMES
from hyposcreen.report.trajectory import plot_start, trajectory_svgs
from hyposcreen.report.words import evidence_lines, times_in_words

if TYPE_CHECKING:
    from hyposcreen.report.review_page import PageInfo

TIER_SYMBOLS = {1: "▲", 2: "◆", 3: "●"}  # shape as well as colour tells the tier apart
_SPURIOUS_TITLE = (
    "A drop of 10 mmol/L or more below the results before and after it, each within 24 h"
)


CASES_PER_SLICE = 4096  # rows are built and written this many cases at a time


@dataclass
class PageCases:
    """What the page's frame says about the listed cases (their rows: `page_rows`)."""

    listed: int = 0
    counts: dict[str, int] = field(default_factory=dict)  # tier name -> cases
    factors: list[str] = field(default_factory=list)  # every risk factor listed, sorted
    legend: list[tuple[str, str]] = field(default_factory=list)  # short -> full consideration
    advice: dict[str, str] = field(default_factory=dict)  # considerations -> their `<li>`s


def _mapped(values: pd.Series, table: dict[Any, str]) -> pd.Series:
    """`values.map(table)` as objects (index 0..n-1), each distinct value looked up once."""
    shown = looked_up(values.to_numpy(), table)
    if shown is None:
        return values.map(table).astype(object)
    return pd.Series(shown, index=values.index, dtype=object)


def _evidence_items(evidence: pd.DataFrame, info: PageInfo) -> pd.Series:
    """patient -> `<li>` per risk factor (correction-risk conditions last, then by name) with
    its evidence texts in order, in clinical words (drug named by its ingredient, clinical
    precision and time)."""
    if evidence.empty:
        return pd.Series(dtype=object)
    rows = evidence.reset_index(drop=True)
    shown = evidence_lines(
        texts_of(rows["source"]).to_numpy(),
        texts_of(rows["text"]).to_numpy(),
        info.drug_names,
        info.atc_combinations,
        info.timezone,
    )
    patients = rows["patient_id"].astype("str")
    factors = rows["risk_factor"].astype("str")
    order = _evidence_order(patients, factors)
    patient = patients.to_numpy(dtype=object)[order]
    factor = factors.to_numpy(dtype=object)[order]
    div = ('<div class="ev">' + escape_html(shown) + "</div>").to_numpy(dtype=object)[order]
    item_starts = run_starts(patient, factor)
    item_ends = np.r_[item_starts[1:], True]
    opening = np.full(len(rows), "", dtype=object)
    opening[item_starts] = (
        '<li><span class="factor">' + escape_html(_factor_labels(factor[item_starts])) + "</span>"
    ).to_numpy()
    items = opening + div + choose(item_ends, "</li>", "")
    patient_starts = run_starts(patient)
    return pd.Series(join_runs(items, patient_starts), index=patient[patient_starts])


def _factor_labels(factors: np.ndarray) -> pd.Series:
    """'correction_risk:liver_disease' -> 'correction risk: liver disease', each distinct
    factor once (a list names a few dozen); pandas' text replacements for anything else."""
    shown = per_distinct(
        factors, lambda f: f.replace("correction_risk:", "correction risk: ").replace("_", " ")
    )
    if shown is not None:
        return pd.Series(shown, dtype=object)
    label = pd.Series(factors, dtype=object).str.replace("correction_risk:", "correction risk: ")
    return label.str.replace("_", " ")


def _evidence_order(patients: pd.Series, factors: pd.Series) -> np.ndarray:
    """Positions of the evidence rows (index 0..n-1) by patient, then correction-risk
    conditions last, then factor, each tie in the rows' order: one stable sort of the three
    keys (each text ranked among its sorted distinct values, as pandas' sort compares
    texts), not a frame sorted by pandas."""
    late = factors.str.startswith("correction_risk:")
    if patients.hasnans or factors.hasnans:  # pandas puts a missing text last
        keys = pd.DataFrame({"patient": patients, "late": late, "factor": factors})
        return keys.sort_values(["patient", "late", "factor"], kind="stable").index.to_numpy()
    patient_rank = pd.factorize(patients.to_numpy(dtype=object), sort=True)[0]
    factor_rank = pd.factorize(factors.to_numpy(dtype=object), sort=True)[0]
    return np.lexsort((factor_rank, late.to_numpy(dtype=bool), patient_rank))


def _identifiers(review: pd.DataFrame) -> pd.Series:
    """'MRN: 0043 · name: Test Patient 43' of the identifiers a site allows ('' otherwise)."""
    shown = pd.Series("", index=range(len(review)), dtype=object)
    for column in (c for c in IDENTIFIER_COLUMNS if c in review.columns):
        value = texts_of(review[column])
        label = "MRN" if column == "mrn" else column
        part = label + ": " + escape_html(value)
        joined = choose(shown == "", part, shown + " · " + part)
        shown = pd.Series(choose(value != "", joined, shown), dtype=object)
    return pd.Series(choose(shown != "", '<div class="ids">' + shown + "</div>", ""), dtype=object)


def _advice(considerations: pd.Series) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """At most three short lines of considerations per distinct text as `<li>`s, and the
    legend of their full texts (each distinct set of considerations is shortened once)."""
    legend: dict[str, str] = {}
    markup: dict[str, str] = {}
    for text in pd.unique(texts_of(considerations)):
        lines, used = short_considerations([c for c in text.split(" | ") if c])
        for short, whole in used:
            legend.setdefault(short, whole)
        markup[text] = "".join(f"<li>{escape(line)}</li>" for line in lines)
    return markup, sorted(legend.items())


def page_cases(review: pd.DataFrame) -> PageCases:
    """What the frame of the page says about the listed cases: counts per tier, the risk
    factors to filter by, the considerations' legend (computed over distinct texts)."""
    if review.empty:
        return PageCases(counts=dict.fromkeys(TIER_NAMES.values(), 0))
    tier_numbers = review["tier"].astype("int64")
    factors = joined_list(pd.Series(pd.unique(texts_of(review["risk_factors"]))), " ")
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
    listed = pd.Index(pd.unique(texts_of(review["patient_id"])))
    times = sodium_results["specimen_time"]
    start = plot_start(info)
    shown = sodium_results.loc[
        (times >= start) & (times < info.window_end),
        ["patient_id", "specimen_time", "corrected_sodium"],
    ]
    shown_of = positions_in(shown["patient_id"], listed)
    if not (shown_of >= 0).all():
        shown = shown.loc[shown_of >= 0]
        shown_of = shown_of[shown_of >= 0]
    evidence_of = positions_in(evidence["patient_id"], listed)
    if len(review) <= step:  # one slice: every listed case, so every point and item shown
        evidence = evidence if (evidence_of >= 0).all() else evidence.loc[evidence_of >= 0]
        yield _rows(review, shown, evidence, info, summary.advice)
        return
    for first in range(0, len(review), step):
        cases = review.iloc[first : first + step].reset_index(drop=True)
        wanted = np.zeros(len(listed), dtype=bool)
        wanted[listed.get_indexer(texts_of(cases["patient_id"]))] = True
        yield _rows(
            cases,
            shown.loc[wanted[shown_of]],
            evidence.loc[(evidence_of >= 0) & wanted[np.maximum(evidence_of, 0)]],
            info,
            summary.advice,
        )


def _rows(
    review: pd.DataFrame,
    sodium_results: pd.DataFrame,
    evidence: pd.DataFrame,
    info: PageInfo,
    advice_of: dict[str, str],
) -> str:
    """The `<tr>` of each case of `review` (index 0..n-1), in order."""
    tier_numbers = review["tier"].astype("int64")
    tier = texts_of(tier_numbers)
    rank = texts_of(review["rank"].astype("int64"))
    tier_name = _mapped(tier_numbers, TIER_NAMES)
    patient = texts_of(review["patient_id"])
    factors = joined_list(review["risk_factors"], " ")
    index_sodium = one_decimal_objects(review["index_sodium"])
    corrected = one_decimal_objects(review["corrected_sodium"])
    delta = one_decimal_objects(review["delta_48h"])
    glucose = review["index_glucose"].astype("float64")
    glucose_text = glucose.map(
        {v: clinical_value("glucose", v) for v in glucose.dropna().unique()}
    ).fillna("")
    index_time = pd.to_datetime(review["index_time"])
    sort_time = index_time.dt.strftime("%Y-%m-%dT%H:%M:%S")
    if (index_time.dt.microsecond != 0).any() or index_time.isna().any():
        sort_time = index_time.map(lambda t: pd.Timestamp(t).isoformat())
    pair = np.array(texts_of(review["overcorrection_pair"]), dtype=object)
    paired = pair != ""  # most cases have no pair: only the pairs' texts are rewritten
    pair[paired] = times_in_words(pair[paired], info.timezone)
    missing = joined_list(review["missing_workup"], ", ", underscores=" ")
    spurious = (
        texts_of(review["possibly_spurious"]) != ""
        if "possibly_spurious" in review
        else pd.Series(False, index=review.index)
    )
    evidence_of = patient.map(_evidence_items(evidence, info)).fillna("")
    advice = _mapped(texts_of(review["considerations"]), advice_of)
    sort_sodium = np.char.mod("%.3f", review["corrected_sodium"].astype("float64").to_numpy())
    parts: Parts = [
        '<tr class="case tier-', tier, '" data-rank="', rank, '" data-tier="', tier,
        '" data-sodium="', sort_sodium, '" data-time="', texts_of(sort_time),
        '" data-factors=" ', escape_html(factors), ' ">\n<td class="rank">', rank,
        '</td>\n<td><span class="badge" title="Tier ', tier, ": ", tier_name, '">',
        _mapped(tier_numbers, TIER_SYMBOLS), " ", tier, " ", tier_name,
        '</span></td>\n<td><span class="pid">', escape_html(patient), "</span>\n",
        _identifiers(review), '<div class="small">index ',
        escape_html(clinical_time_texts(index_time, info.timezone)),
        '</div></td>\n<td><span class="na" data-col="corrected">', corrected, "</span>",
        choose(index_sodium != corrected, ' <span class="small">corrected<br>measured '
               + index_sodium + ", glucose " + escape_html(glucose_text) + " mg/dL</span>", ""),
        '<div class="sev">', escape_html(review["severity"]), "</div>\n"
        '<div class="small">latest ', one_decimal_objects(review["latest_sodium"]),
        choose(delta != "", " · Δ48h " + delta + " (" + escape_html(review["trend"]) + ")", ""),
        " · ", texts_of(review["n_low_results"].astype("int64")), " low result(s)</div>\n",
        choose(review["correction_risk"], '<span class="flag" title="Lower correction limit '
               'applies">correction risk</span>', ""),
        choose(spurious, f'<span class="flag" title="{_SPURIOUS_TITLE}">possibly spurious'
               "</span>", ""),
        "</td>\n<td>", *trajectory_svgs(review, sodium_results, info), "</td>\n<td>",
        choose(evidence_of != "", '<ul class="factors">' + evidence_of + "</ul>", ""),
        choose(factors == "", '<div class="none">no risk factor: listed for severity or '
               "over-rapid correction</div>", ""),
        "</td>\n<td>",
        choose(review["overcorrection"], '<span class="flag">over-rapid correction</span>'
               '<div class="small">' + escape_html(pair) + "</div>",
               '<div class="small">no over-rapid correction</div>'),
        choose(missing != "", "<div><strong>Missing workup:</strong> " + escape_html(missing)
               + "</div>", '<div class="small">workup complete</div>'),
        '</td>\n<td><ul class="considerations">', advice, "</ul></td>\n</tr>\n",
    ]  # fmt: skip
    return join_parts(parts, len(review))
