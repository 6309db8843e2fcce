"""QI audit counts of one period: the raw (unsuppressed) numbers of a screened window, which
report.audit_measures turns into the suppressed long table of measures.

A period's numbers are the cases (listed or not, by tier, by risk factor), the over-corrected
and fully worked-up cases, the severe results and the hours to each one's next sodium result,
the hyponatremia coding of the diagnoses against the low sodium results, the screen's
attrition funnel, and the data's coverage of the window: its calendar days, and those on which
a sodium row is dated (a month the extract covers in part has days without one). They are
never written out as they are.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from hyposcreen.config import Window
from hyposcreen.screen.cases import ScreenResult


@dataclass
class PeriodCounts:
    """The raw (unsuppressed) numbers of one period; never written out as they are."""

    period: str
    counts: dict[str, int] = field(default_factory=dict)
    hours_to_next_sodium: list[float] = field(default_factory=list)
    attrition: list[tuple[str, int]] = field(default_factory=list)
    # calendar days of the window, and those with a sodium row dated in it (days, not patients)
    days_in_window: int = 0
    days_with_sodium_rows: int = 0

    def add(self, other: PeriodCounts) -> None:
        self.days_in_window += other.days_in_window
        self.days_with_sodium_rows += other.days_with_sodium_rows
        for name, value in other.counts.items():
            self.counts[name] = self.counts.get(name, 0) + value
        self.hours_to_next_sodium += other.hours_to_next_sodium
        if not self.attrition:
            self.attrition = list(other.attrition)
        else:
            self.attrition = [
                (step, mine + theirs)
                for (step, mine), (_, theirs) in zip(self.attrition, other.attrition, strict=True)
            ]


def _normalize_code(codes: pd.Series) -> pd.Series:
    return codes.astype("str").str.strip().str.upper().str.replace(".", "", regex=False)


def hyponatremia_coded(diagnoses: pd.DataFrame, codes: dict[str, list[str]]) -> pd.DataFrame:
    """Diagnosis rows carrying a hyponatremia code (E87.1, 276.1 by default): patient_id and
    recorded_time. Rows are taken when usable apart from not being a listed risk condition."""
    if diagnoses.empty:  # typed empty columns: later steps compare times and match ids
        return pd.DataFrame(
            {
                "patient_id": pd.Series([], dtype="str"),
                "recorded_time": pd.Series([], dtype="datetime64[us]"),
            }
        )
    usable = diagnoses["reason"].isna() | (diagnoses["reason"] == "unlisted_code")
    wanted = pd.Series(False, index=diagnoses.index)
    code = _normalize_code(diagnoses["code"])
    for system, listed in codes.items():
        normalized = {str(c).replace(".", "").upper() for c in listed}
        wanted |= (diagnoses["code_system_norm"] == system) & code.isin(normalized)
    return diagnoses.loc[usable & wanted, ["patient_id", "recorded_time"]]


def _hours_to_next_sodium(results: pd.DataFrame) -> list[float]:
    """For each severe result in the window: hours until the patient's next sodium result, the
    first one drawn later (a second specimen of the same minute is no follow-up), so the rows'
    order in the extract changes nothing."""
    key = ["patient_id", "specimen_time"]
    times = results[key].drop_duplicates().sort_values(key, kind="stable")
    times["following"] = times.groupby("patient_id")["specimen_time"].shift(-1)
    severe = results.loc[results["in_window"] & (results["level"] == "severe")]
    severe = severe[key].merge(times, on=key)
    severe = severe.loc[severe["following"].notna()].sort_values(key, kind="stable")
    gaps = (severe["following"] - severe["specimen_time"]).dt.total_seconds() / 3600
    return [round(float(g), 2) for g in gaps]


def window_days(labs: pd.DataFrame, window: Window) -> tuple[int, int]:
    """The calendar dates the window touches (site-local; a part-day at either end counts as
    one, as the page's `15–31 Oct` names them) and those on which a sodium row is dated: the
    rows of the funnel's `sodium_results_in_window`, of any bucket."""
    first = window.start.normalize()
    days = (window.end - pd.Timedelta(microseconds=1)).normalize() - first
    dated = days.days + 1
    if labs.empty:
        return dated, 0
    time = labs["specimen_time"]
    in_window = (labs["analyte"] == "sodium") & (time >= window.start) & (time < window.end)
    return dated, int(time[in_window].dt.normalize().nunique())


def period_counts(
    period: str,
    result: ScreenResult,
    diagnoses: pd.DataFrame,
    window: Window,
    vocabulary: tuple[str, ...],
    codes: dict[str, list[str]],
    labs: pd.DataFrame | None = None,
) -> PeriodCounts:
    """All audit numbers of one screened window (cases, listing, measures, coding, attrition,
    and, given its cleaned `labs`, the days the data cover)."""
    cases = result.cases
    listed = cases["listed"].astype(bool) if len(cases) else pd.Series(dtype=bool)
    factors = cases["risk_factors"].astype("str").str.split(";") if len(cases) else pd.Series()
    results = result.sodium_results
    coded = hyponatremia_coded(diagnoses, codes)
    coded = coded.loc[coded["recorded_time"] < window.end]
    coded_in_period = set(coded.loc[coded["recorded_time"] >= window.start, "patient_id"])
    low_patients = set(results.loc[results["hyponatremic"].astype(bool), "patient_id"])
    severe_in_window = results["in_window"] & (results["level"] == "severe")
    counts = {
        "cases": len(cases),
        "listed": int(listed.sum()),
        "not_listed": int((~listed).sum()),
        **{f"tier_{t}": int((listed & (cases["tier"] == t)).sum()) for t in (1, 2, 3)},
        **{f"rf_{name}": int(factors.map(lambda f, n=name: n in f).sum()) for name in vocabulary},
        "overcorrection": int(cases["overcorrection"].sum()) if len(cases) else 0,
        "workup_complete": int((cases["missing_workup"] == "").sum()) if len(cases) else 0,
        "severe_results": int(severe_in_window.sum()),
        "cases_coded": int(cases["patient_id"].isin(set(coded["patient_id"])).sum()),
        "coded_patients": len(coded_in_period),
        "coded_without_low_sodium": len(coded_in_period - low_patients),
    }
    hours = _hours_to_next_sodium(results)
    counts["severe_with_next_sodium"] = len(hours)
    attrition = [(str(s["step"]), int(s["count"])) for s in result.attrition]  # type: ignore[call-overload]
    days, with_rows = window_days(labs, window) if labs is not None else (0, 0)
    return PeriodCounts(period, counts, hours, attrition, days, with_rows)
