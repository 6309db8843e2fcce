"""audit.html: the QI report page — suppressed tables and inline-SVG plots (matplotlib).

Plots are drawn with matplotlib's object API (no pyplot global state) into SVG text that the
Jinja2 template embeds; a fixed hash salt and no date metadata keep the bytes stable.
"""

from __future__ import annotations

import io
import re
from typing import Any

import matplotlib as mpl
import pandas as pd
from markupsafe import Markup
from matplotlib.figure import Figure

from hyposcreen.report.audit_coverage import coverage_marks, tick_label
from hyposcreen.report.audit_measures import TOTAL
from hyposcreen.report.audit_rule_numbers import PACKAGED_NUMBERS
from hyposcreen.report.review_page import template_environment
from hyposcreen.report.suppression import COMPLEMENTARY

TIER_SERIES = [
    ("tier_1", "tier 1 urgent", "#b42318", "///"),
    ("tier_2", "tier 2 soon", "#b54708", "\\\\\\"),
    ("tier_3", "tier 3 routine", "#2e6bb0", "..."),
    ("not_listed", "not listed", "#6b7280", ""),
]
SECTIONS = [
    ("coverage", "Data coverage", "Days of each month with at least one sodium result dated "
     "in the extract, of the month's days in the audit period. A month with days without one "
     "is marked 'partial data' (none: 'no data') in the column heads and plots below: its "
     "counts cover part of it and are not comparable with a whole month's (a delivery cut "
     "early, a gap in the feed). Days are not patients: not suppressed for being few, but "
     "suppressed with the month's sodium results (attrition) when those are."),
    ("cases_by_tier", "Cases by tier", "Patients with a hyponatremic result in the month, by "
     "review-list tier (spec §9): tier 1 urgent: a severe value or an over-rapid correction; "
     "tier 2 soon: moderate, or mild with {soon_factors} or more risk factors, a documented "
     "cramp or a fall of {soon_drop} mmol/L or more within {delta_hours} h; tier 3 routine: "
     "the other listed cases. 'Not listed' cases had no risk factor and were neither severe "
     "nor over-corrected. The whole-period column adds up the months: a patient who is a case "
     "in two months counts twice (patient-months, not patients)."),
    ("risk_factors", "Share of cases with each risk factor", "Denominator: all cases of the "
     "column (the whole period's: patient-months). A case may have several risk factors, so "
     "the shares add up to more than 100 %."),
    ("over_rapid_correction", "Over-rapid correction", "Cases with a rise of more than "
     "{oc_limit} mmol/L within {oc_hours} h from a hyponatremic result ({oc_limit_risk} mmol/L "
     "with a correction risk: cirrhosis, alcohol use disorder, malnutrition, hypokalemia or an "
     "index sodium of {risk_index_max} or less; spec §8). As in a run of the month, both "
     "results may lie from {context_hours} h before the month to its end: a rise in a month's "
     "last days counts again in the next month when the patient is a case there too."),
    ("workup", "Workup completeness", "Cases with serum osmolality, urine osmolality and urine "
     "sodium from {workup_before} h before to {workup_after} h after the index result."),
    ("severe_follow_up", "Time to the next sodium after a severe value", "Median hours from a "
     "severe result in the month to the patient's next sodium; n = severe results followed "
     "by another sodium before the month's end (one drawn after it is not counted)."),
    ("coding_gap", "Coding gap", "Cases coded share: cases with a hyponatremia code "
     "({codes}) recorded before the month's end, at any earlier date; coded without low "
     "sodium share: patients coded in the month with no hyponatremic result read for it (in "
     "the month or the {context_hours} h before it)."),
    ("attrition", "Attrition", "Where results and patients leave the funnel; the "
     "whole-period column sums the months (a patient screened in two months counts twice). "
     "Sodium results in window: serum, plasma or blood sodium rows dated in the month; usable: "
     "numeric, in a known unit, plausible, not a duplicate; hyperglycemia related: low only "
     "before the glucose correction (beside the funnel, not a step of it: neither hyponatremic "
     "nor cases); hyponatremic: low after it; cases: patients with at least one "
     "hyponatremic result; with risk factor: at least one listed risk factor; listed: a risk "
     "factor, a severe value or an over-rapid correction, so listed can exceed the cases with "
     "a risk factor."),
]  # fmt: skip


HIDDEN_TO_PROTECT = "hidden"  # complementary suppression: not small, hidden to protect another


def _mark(kind: str, label: str) -> str:
    """The text in place of a hidden cell: `<11` (small) or `hidden` (complementary)."""
    return HIDDEN_TO_PROTECT if kind == COMPLEMENTARY else label


def _cases_mark(kind: str, label: str) -> str:
    """A plot's text for a share it does not draw: `<11 cases` (never read as `<11 %`)."""
    mark = _mark(kind, label)
    return mark if mark == HIDDEN_TO_PROTECT else f"{mark} cases"


def _svg(figure: Figure) -> Markup:
    buffer = io.StringIO()
    with mpl.rc_context({"svg.hashsalt": "hyposcreen", "svg.fonttype": "none"}):
        figure.savefig(buffer, format="svg", metadata={"Date": None}, bbox_inches="tight")
    text = buffer.getvalue()
    text = re.sub(r"\s*<metadata>.*?</metadata>", "", text[text.index("<svg") :], flags=re.S)
    return Markup(text)  # noqa: S704 - matplotlib's own SVG: it escapes every text it draws


def _figure(width: float, height: float) -> tuple[Figure, Any]:
    figure = Figure(figsize=(width, height), dpi=96)
    axes = figure.add_subplot()
    axes.spines[["top", "right"]].set_visible(False)
    return figure, axes


def _values(frame: pd.DataFrame, table: str) -> pd.DataFrame:
    return frame.loc[frame["table"] == table]


def plot_cases_by_tier(frame: pd.DataFrame, label: str) -> Markup:
    rows = _values(frame, "cases_by_tier")
    periods = [p for p in dict.fromkeys(rows["period"]) if p != TOTAL]
    figure, axes = _figure(max(5.5, 1.2 * len(periods) + 2), 3.0)
    width = 0.8 / len(TIER_SERIES)
    for offset, (measure, name, colour, hatch) in enumerate(TIER_SERIES):
        for x, period in enumerate(periods):
            cell = rows.loc[(rows["period"] == period) & (rows["measure"] == measure)].iloc[0]
            position = x + (offset - 1.5) * width
            if cell["suppressed"]:
                axes.text(
                    position,
                    0,
                    _mark(cell["suppressed"], label),
                    rotation=90,
                    ha="center",
                    va="bottom",
                    fontsize=7,
                )
                continue
            axes.bar(position, cell["value"], width, color=colour, hatch=hatch,
                     edgecolor="white", label=name if x == 0 else None)  # fmt: skip
    marks = coverage_marks(frame)
    axes.set_xticks(range(len(periods)), [tick_label(p, marks) for p in periods])
    axes.set_ylabel("cases")
    axes.set_title("Cases per month by tier (suppressed cells marked)", fontsize=10)
    axes.legend(fontsize=7, frameon=False, ncols=2)
    return _svg(figure)


def plot_risk_factors(frame: pd.DataFrame, label: str) -> Markup:
    rows = _values(frame, "risk_factors")
    rows = rows.loc[rows["period"] == TOTAL].iloc[::-1]
    figure, axes = _figure(6.0, 0.25 * len(rows) + 1.0)
    names = [m.replace("_", " ") for m in rows["measure"]]
    values = rows["value"].fillna(0)
    shares = [
        0.0 if hide else 100 * float(v) for hide, v in zip(rows["suppressed"], values, strict=True)
    ]
    axes.barh(names, shares, color="#2e6bb0")
    for y, (suppressed, share) in enumerate(zip(rows["suppressed"], shares, strict=True)):
        # a suppressed share is not drawn: its count is named, never read as a percentage
        text = _cases_mark(suppressed, label) if suppressed else f"{share:.0f} %"
        axes.text(share + 1, y, text, va="center", fontsize=7)
    axes.set_xlim(0, 105)
    axes.set_xlabel("% of cases (whole period)")
    axes.tick_params(axis="y", labelsize=8)
    axes.set_title("Risk factors among cases", fontsize=10)
    return _svg(figure)


def plot_rates(frame: pd.DataFrame, label: str) -> Markup:
    measures = [
        ("over_rapid_correction", "overcorrection_rate", "over-rapid correction", "o", "-"),
        ("workup", "workup_complete_rate", "workup complete", "s", "--"),
        ("coding_gap", "cases_coded_share", "cases coded E87.1/276.1", "^", ":"),
    ]
    figure, axes = _figure(6.0, 3.0)
    periods: list[str] = []
    notes = []
    for table, measure, name, marker, style in measures:
        rows = _values(frame, table)
        rows = rows.loc[(rows["measure"] == measure) & (rows["period"] != TOTAL)]
        periods = list(rows["period"])
        shown = rows.loc[~rows["suppressed"].astype(bool) & rows["value"].notna()]
        positions = [periods.index(p) for p in shown["period"]]
        axes.plot(positions, 100 * shown["value"].astype(float), marker=marker,
                  linestyle=style, label=name)  # fmt: skip
        hidden = [_cases_mark(kind, label) for kind in rows["suppressed"] if kind]
        if hidden:  # not drawn (never drawn as 0 %): how many months, under which mark
            counted = ", ".join(f"{m} in {hidden.count(m)} month(s)" for m in dict.fromkeys(hidden))
            notes.append(f"{name}: {counted}")
    marks = coverage_marks(frame)
    axes.set_xticks(range(len(periods)), [tick_label(p, marks) for p in periods])
    axes.set_ylim(0, 105)
    axes.set_ylabel("% of cases")
    suppressed = "\nnot drawn (suppressed): " + "; ".join(notes) if notes else ""
    axes.set_title("Monthly rates" + suppressed, fontsize=9)
    axes.legend(fontsize=7, frameon=False)
    return _svg(figure)


def plot_attrition(frame: pd.DataFrame, label: str) -> Markup:
    rows = _values(frame, "attrition")
    rows = rows.loc[rows["period"] == TOTAL].iloc[::-1]
    figure, axes = _figure(6.0, 0.3 * len(rows) + 1.0)
    names = [m.replace("_", " ") for m in rows["measure"]]
    values = rows["value"].fillna(0)
    counts = [0 if hide else int(v) for hide, v in zip(rows["suppressed"], values, strict=True)]
    axes.barh(names, counts, color="#4a5360")
    for y, (suppressed, count) in enumerate(zip(rows["suppressed"], counts, strict=True)):
        text = f" {_mark(suppressed, label)}" if suppressed else f" {count}"
        axes.text(count, y, text, va="center", fontsize=7)
    axes.tick_params(axis="y", labelsize=8)
    axes.set_title("Attrition, whole period", fontsize=10)
    return _svg(figure)


def _cell_text(row: pd.Series, label: str) -> dict[str, str]:
    """A table cell's text and its class: a share keeps the part of its fraction that is shown
    and a median its n, so a suppressed rate never reads as a percentage (`<11` alone in a rate
    row reads as "under 11 %") nor a median as hours."""
    if row["suppressed"]:
        mark = _mark(row["suppressed"], label)
        kind = "comp" if mark == HIDDEN_TO_PROTECT else "supp"
        if row["unit"] == "share":
            numerator = mark if pd.isna(row["numerator"]) else row["numerator"]
            denominator = mark if pd.isna(row["denominator"]) else row["denominator"]
            # as in audit_tables.csv: a risk factor of no case must not read as `<11` cases
            return {"text": f"– ({numerator}/{denominator})", "kind": kind}
        if row["unit"] == "hours":
            return {"text": f"– (n {mark})", "kind": kind}
        return {"text": mark, "kind": kind}
    return {"text": _shown_text(row), "kind": ""}


def _shown_text(row: pd.Series) -> str:
    if row["unit"] == "share" and not pd.isna(row["denominator"]):
        if pd.isna(row["value"]):  # nothing to count: no case (or no coded patient)
            return f"– ({row['numerator']}/{row['denominator']})"
        return f"{100 * float(row['value']):.1f} % ({row['numerator']}/{row['denominator']})"
    if row["unit"] == "hours" and not pd.isna(row["denominator"]):
        if pd.isna(row["value"]):  # no severe value followed by another sodium
            return f"– (n={row['denominator']})"
        return f"{float(row['value']):.1f} h (n={row['denominator']})"
    if pd.isna(row["value"]):
        return "–"
    if row["unit"] == "days":
        return f"{int(row['value'])} of {row['denominator']} days"
    return str(int(row["value"]))


def section_tables(
    frame: pd.DataFrame, label: str, numbers: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    """Per section: measures as rows, periods (then the total) as columns, display text;
    `numbers` fill the notes (audit_rule_numbers.rule_numbers; the packaged rules' without)."""
    filled = {**PACKAGED_NUMBERS, **(numbers or {})}
    periods = list(dict.fromkeys(frame["period"]))
    sections = []
    for table, title, note in SECTIONS:
        rows = _values(frame, table)
        measures = list(dict.fromkeys(rows["measure"]))
        body = []
        for measure in measures:
            cells = rows.loc[rows["measure"] == measure].set_index("period")
            body.append(
                {
                    "measure": measure.replace("_", " "),
                    "cells": [_cell_text(cells.loc[p], label) for p in periods if p in cells.index],
                }
            )
        sections.append({"id": table, "title": title, "note": note.format(**filled), "rows": body})
    return sections


def render_audit_page(frame: pd.DataFrame, about: dict[str, Any], min_cell: int) -> str:
    label = f"<{min_cell}"
    plots = {
        "cases_by_tier": plot_cases_by_tier(frame, label),
        "risk_factors": plot_risk_factors(frame, label),
        "over_rapid_correction": plot_rates(frame, label),
        "attrition": plot_attrition(frame, label),
    }
    marks = coverage_marks(frame)
    days = about.get("window_days", {})
    periods = [
        {
            "label": "whole period" if p == TOTAL else p,
            "days": days.get(p, ""),
            "mark": marks.get(p, ""),
        }
        for p in dict.fromkeys(frame["period"])
    ]
    return (
        template_environment()
        .get_template("audit.html.j2")
        .render(
            about=about,
            periods=periods,
            sections=section_tables(frame, label, about.get("rule_numbers")),
            plots=plots,
            min_cell=min_cell,
            label=label,
            hidden=HIDDEN_TO_PROTECT,
        )
    )
