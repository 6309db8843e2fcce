"""review_list.html: the review list as one self-contained page for clinicians.

The page is rendered from a Jinja2 template shipped with the package (templates/). Python only
prepares plain values: text, numbers and the geometry of each inline-SVG sodium trajectory.
Nothing on the page depends on the wall clock, so the same run gives the same bytes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from hyposcreen.report.display import (
    clinical_time,
    clinical_times_in,
    clinical_value,
    drug_label,
    evidence_in_words,
    lab_label,
    short_considerations,
)
from hyposcreen.report.numbers import format_one_decimal
from hyposcreen.report.review_list import DISCLAIMER, IDENTIFIER_COLUMNS, TIER_NAMES
from hyposcreen.report.writers import write_atomic

TRAJECTORY_DAYS = 7
TIER_SYMBOLS = {1: "▲", 2: "◆", 3: "●"}  # shape as well as colour tells the tier apart
_PLOT = {"width": 250, "height": 62, "left": 26, "right": 4, "top": 4, "bottom": 12}


@dataclass(frozen=True)
class PageInfo:
    """What the page states about the run besides its rows."""

    rules_version: str
    profile: str
    profile_description: str
    hyponatremia_threshold: float
    window_start: pd.Timestamp
    window_end: pd.Timestamp
    context_start: pd.Timestamp
    run_id: str
    site: str
    timezone: str = "UTC"  # the site's zone: every time on the page is named in it
    bands: str = ""  # the profile's severity bands as inequalities (display.band_text)
    drug_names: dict[str, str] = field(default_factory=dict)  # "RxNorm 4603" -> furosemide
    atc_combinations: dict[str, tuple[str, ...]] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()  # why the run should not be trusted (top of the page)
    coverage: tuple[dict[str, Any], ...] = ()  # seen but not recognised (bottom of the page)


@cache
def template_environment() -> Environment:
    return Environment(
        loader=PackageLoader("hyposcreen.report", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def _stamp(value: Any, timezone: str = "UTC") -> str:
    return clinical_time(value, timezone)


def _number(value: Any) -> str:
    return format_one_decimal(value)


def plot_start(info: PageInfo) -> pd.Timestamp:
    """The trajectory spans the days that were read: from the start of the results read for
    the run (window start minus the context) or 7 days, whichever is shorter, to the end."""
    return max(info.context_start, info.window_end - pd.Timedelta(days=TRAJECTORY_DAYS))


def trajectory(points: pd.DataFrame, info: PageInfo, index_time: Any) -> dict[str, Any]:
    """Plot geometry of one patient's corrected sodium over the days read to the window end.

    `points` come in time order (then by value), as `page_rows` sorts them once for all."""
    plot_end = info.window_end
    plot_start_time = plot_start(info)
    values = points["corrected_sodium"].astype("float64")
    threshold = info.hyponatremia_threshold
    low = min(float(values.min()) if len(values) else threshold, threshold - 10.0) - 2.0
    high = max(float(values.max()) if len(values) else threshold, threshold + 4.0) + 2.0
    width = _PLOT["width"] - _PLOT["left"] - _PLOT["right"]
    height = _PLOT["height"] - _PLOT["top"] - _PLOT["bottom"]
    span = (plot_end - plot_start_time).total_seconds()
    bottom = _PLOT["height"] - _PLOT["bottom"]

    def x_of(time: pd.Timestamp) -> float:
        return round(_PLOT["left"] + width * (time - plot_start_time).total_seconds() / span, 1)

    def y_of(value: float) -> float:
        return round(_PLOT["top"] + height * (high - value) / (high - low), 1)

    dots = [
        {
            "x": x_of(time),
            "y": y_of(value),
            "index": bool(pd.notna(index_time) and time == index_time),
            "title": f"{_stamp(time, info.timezone)}: {format_one_decimal(value)} mmol/L",
        }
        for time, value in zip(points["specimen_time"], values, strict=True)
    ]
    n_days = round(span / 86400)
    days = [
        {"x": x_of(plot_end - pd.Timedelta(days=n_days - d)), "label": f"-{n_days - d}d"}
        for d in range(0, n_days + 1)
    ]
    first, last = (values.iloc[0], values.iloc[-1]) if len(values) else (None, None)
    summary = (
        f"{len(values)} sodium result(s) in the {n_days} days to the window end, from "
        f"{format_one_decimal(first)} to {format_one_decimal(last)} mmol/L; "
        f"hyponatremia threshold {threshold:g}"
        if len(values)
        else f"no sodium results in the {n_days} days to the window end"
    )
    return {
        **_PLOT,
        "line": " ".join(f"{d['x']},{d['y']}" for d in dots),
        "dots": dots,
        "threshold_y": y_of(threshold),
        "threshold": f"{threshold:g}",
        # axis labels only where they do not collide with the threshold's label
        "top_label": f"{high:.0f}" if y_of(threshold) - _PLOT["top"] > 9 else "",
        "bottom_label": f"{low:.0f}" if bottom - y_of(threshold) > 9 else "",
        "bottom_y": bottom,
        "read_from_x": x_of(max(info.context_start, plot_start_time)),
        "days": days,
        "summary": summary,
    }


def _evidence_by_patient(evidence: pd.DataFrame, info: PageInfo) -> dict[str, dict[str, list[str]]]:
    """patient -> risk factor (or correction-risk condition) -> evidence texts, in order, in
    clinical words (drug as written or named by its ingredient, clinical precision and time)."""
    grouped: dict[str, dict[str, list[str]]] = {}
    for row in evidence.itertuples(index=False):
        factor = str(row.risk_factor)
        texts = grouped.setdefault(str(row.patient_id), {}).setdefault(factor, [])
        text = str(row.text)
        if row.source == "medication":
            text = drug_label(text, info.drug_names, info.atc_combinations)
        elif row.source == "lab":
            text = lab_label(text)
        texts.append(f"{row.source}: {clinical_times_in(text, info.timezone)}")
    return grouped


def _factor_label(factor: str) -> str:
    return factor.replace("correction_risk:", "correction risk: ").replace("_", " ")


def page_rows(
    review: pd.DataFrame, sodium_results: pd.DataFrame, evidence: pd.DataFrame, info: PageInfo
) -> list[dict[str, Any]]:
    """One dict of display values per listed case, in the list's order."""
    shown = sodium_results.loc[
        (sodium_results["specimen_time"] >= plot_start(info))
        & (sodium_results["specimen_time"] < info.window_end),
        ["patient_id", "specimen_time", "corrected_sodium"],
    ].sort_values(["patient_id", "specimen_time", "corrected_sodium"], kind="stable")
    by_patient = {str(pid): frame for pid, frame in shown.groupby("patient_id", sort=False)}
    empty = shown.iloc[0:0]
    evidence_of = _evidence_by_patient(evidence, info)
    identifiers = [c for c in IDENTIFIER_COLUMNS if c in review.columns]
    rows = []
    for case in review.to_dict("records"):
        patient = str(case["patient_id"])
        tier = int(case["tier"])
        factors = [f for f in str(case["risk_factors"]).split(";") if f]
        rows.append(
            {
                "rank": int(case["rank"]),
                "tier": tier,
                "tier_name": TIER_NAMES[tier],
                "tier_symbol": TIER_SYMBOLS[tier],
                "patient_id": patient,
                "identifiers": [
                    {"label": c.upper() if c == "mrn" else c, "value": str(case[c])}
                    for c in identifiers
                    if str(case[c])
                ],
                "index_time": _stamp(case["index_time"], info.timezone),
                "sort_time": pd.Timestamp(case["index_time"]).isoformat(),
                "index_sodium": _number(case["index_sodium"]),
                "corrected_sodium": _number(case["corrected_sodium"]),
                "sort_sodium": f"{float(case['corrected_sodium']):.3f}",
                "glucose": ""
                if pd.isna(case["index_glucose"])
                else clinical_value("glucose", float(case["index_glucose"])),
                "corrected_differs": _number(case["index_sodium"])
                != _number(case["corrected_sodium"]),
                "severity": str(case["severity"]),
                "latest_sodium": _number(case["latest_sodium"]),
                "delta_48h": _number(case["delta_48h"]),
                "trend": str(case["trend"]),
                "n_low_results": int(case["n_low_results"]),
                "factors": factors,
                "evidence": [
                    {"factor": _factor_label(factor), "texts": texts}
                    for factor, texts in sorted(
                        evidence_of.get(patient, {}).items(),
                        key=lambda item: (item[0].startswith("correction_risk:"), item[0]),
                    )
                ],
                "overcorrection": bool(case["overcorrection"]),
                "overcorrection_pair": clinical_times_in(
                    str(case["overcorrection_pair"]), info.timezone
                ),
                "possibly_spurious": bool(case.get("possibly_spurious", False)),
                "correction_risk": bool(case["correction_risk"]),
                "cramp_documented": bool(case["cramp_documented"]),
                "missing_workup": [
                    m.replace("_", " ") for m in str(case["missing_workup"]).split(";") if m
                ],
                "considerations": [c for c in str(case["considerations"]).split(" | ") if c],
                "plot": trajectory(by_patient.get(patient, empty), info, case["index_time"]),
            }
        )
    return rows


def render_review_page(
    review: pd.DataFrame, sodium_results: pd.DataFrame, evidence: pd.DataFrame, info: PageInfo
) -> str:
    rows = page_rows(review, sodium_results, evidence, info)
    legend: dict[str, str] = {}
    for row in rows:
        row["advice"], used = short_considerations(row["considerations"])
        for short, full in used:
            legend.setdefault(short, full)
    counts = {name: sum(r["tier"] == tier for r in rows) for tier, name in TIER_NAMES.items()}
    factors = sorted({f for r in rows for f in r["factors"]})
    return (
        template_environment()
        .get_template("review_list.html.j2")
        .render(
            info=info,
            window_start=_stamp(info.window_start, info.timezone),
            window_end=_stamp(info.window_end, info.timezone),
            context_start=_stamp(info.context_start, info.timezone),
            legend=sorted(legend.items()),
            plot_days=round((info.window_end - plot_start(info)).total_seconds() / 86400),
            rows=rows,
            counts=counts,
            tiers=[
                {"tier": t, "name": n, "symbol": TIER_SYMBOLS[t]} for t, n in TIER_NAMES.items()
            ],
            factors=[{"value": f, "label": f.replace("_", " ")} for f in factors],
            has_identifiers=any(c in review.columns for c in IDENTIFIER_COLUMNS),
            disclaimer=DISCLAIMER,
            days=TRAJECTORY_DAYS,
        )
    )


def write_review_page(
    path: Path,
    review: pd.DataFrame,
    sodium_results: pd.DataFrame,
    evidence: pd.DataFrame,
    info: PageInfo,
) -> Path:
    """The page holds identifiers: written atomically with mode 0600, like the CSV."""
    html = render_review_page(review, sodium_results, evidence, info)

    def _write(tmp: Path) -> None:
        tmp.write_text(html, encoding="utf-8")

    return write_atomic(path, _write)


def write_review_views(
    out_dir: Path,
    review: pd.DataFrame,
    sodium_results: pd.DataFrame,
    evidence: pd.DataFrame,
    info: PageInfo,
) -> list[Path]:
    """The clinician-facing copies of the list: review_list.html and review_list.xlsx."""
    from hyposcreen.report.spreadsheet import write_review_workbook

    about = {
        "rules_version": info.rules_version,
        "profile": info.profile,
        "window": f"{_stamp(info.window_start, info.timezone)} to "
        f"{_stamp(info.window_end, info.timezone)} (end excluded)",
        "severity bands": info.bands or info.profile_description,
        "site": info.site,
        "run_id": info.run_id,
    }
    return [
        write_review_page(out_dir / "review_list.html", review, sodium_results, evidence, info),
        write_review_workbook(
            out_dir / "review_list.xlsx",
            review,
            about,
            info.window_end,
            lambda text: evidence_in_words(
                text, info.drug_names, info.atc_combinations, info.timezone
            ),
            info.timezone,
        ),
    ]
