"""review_list.html: the review list as one self-contained page for clinicians.

The page's frame is a Jinja2 template shipped with the package (templates/); its rows, one per
listed case with an inline-SVG sodium trajectory, are built a column at a time (page_cases,
trajectory). Nothing on the page depends on the wall clock, so the same run gives the same
bytes.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from hyposcreen.report.clinical_times import clinical_time
from hyposcreen.report.page_cases import TIER_SYMBOLS, page_cases, page_rows
from hyposcreen.report.review_list import DISCLAIMER, TIER_NAMES
from hyposcreen.report.trajectory import TRAJECTORY_DAYS, plot_days
from hyposcreen.report.words import evidence_in_words
from hyposcreen.report.writers import write_atomic


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
    # the rules' numbers in the page's texts (display.tier_rule_text, spurious_rule_text; the
    # delta window); the defaults are the packaged rules'
    tier_rule: str = (
        "Tier 1 urgent: severe/profound or over-rapid correction; 2 soon: moderate, mild with "
        "≥ 2 risk factors, documented cramp or a fall of ≥ 5 mmol/L in 48 h; 3 routine: other "
        "listed cases."
    )
    spurious_rule: str = (
        "A drop of 10 mmol/L or more below the results before and after it, each within 24 h"
    )
    delta_hours: float = 48.0


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


_ROWS_MARK = "\x00rows\x00"  # where the rows go in the rendered frame (no page holds a NUL)


def render_review_page(
    review: pd.DataFrame, sodium_results: pd.DataFrame, evidence: pd.DataFrame, info: PageInfo
) -> str:
    """The whole page: the template's frame around the rows of `page_rows`."""
    return "".join(_page_parts(review, sodium_results, evidence, info))


def _page_parts(
    review: pd.DataFrame, sodium_results: pd.DataFrame, evidence: pd.DataFrame, info: PageInfo
) -> Iterator[str]:
    """The page in pieces: the frame before the rows, the rows a slice of cases at a time,
    the frame after. The template is rendered around a mark, so the rows (~150 MB at 60k
    cases) are never held whole nor copied into the page's text."""
    cases = page_cases(review)
    frame = (
        template_environment()
        .get_template("review_list.html.j2")
        .render(
            info=info,
            window_start=_stamp(info.window_start, info.timezone),
            window_end=_stamp(info.window_end, info.timezone),
            context_start=_stamp(info.context_start, info.timezone),
            legend=cases.legend,
            plot_days=plot_days(info),
            rows_html=Markup(_ROWS_MARK),  # noqa: S704 - the rows are escaped (page_cases)
            listed=cases.listed,
            counts=cases.counts,
            tiers=[
                {"tier": t, "name": n, "symbol": TIER_SYMBOLS[t]} for t, n in TIER_NAMES.items()
            ],
            factors=[{"value": f, "label": f.replace("_", " ")} for f in cases.factors],
            disclaimer=DISCLAIMER,
            days=TRAJECTORY_DAYS,
        )
    )
    rows = page_rows(review, sodium_results, evidence, info, cases)
    if frame.count(_ROWS_MARK) != 1:  # a page without its table of rows (no case listed)
        yield frame.replace(_ROWS_MARK, "".join(rows))
        return
    head, tail = frame.split(_ROWS_MARK)
    yield head
    yield from rows
    yield tail


def write_review_page(
    path: Path,
    review: pd.DataFrame,
    sodium_results: pd.DataFrame,
    evidence: pd.DataFrame,
    info: PageInfo,
) -> Path:
    """The page holds identifiers: written atomically with mode 0600, like the CSV."""

    def _write(tmp: Path) -> None:
        with tmp.open("w", encoding="utf-8") as page:
            for part in _page_parts(review, sodium_results, evidence, info):
                page.write(part)

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
            lambda texts: evidence_in_words(
                texts, info.drug_names, info.atc_combinations, info.timezone
            ),
            info.timezone,
            info.delta_hours,
        ),
    ]
