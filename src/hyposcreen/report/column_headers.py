"""The review list's column headers as a reader sees them in the workbook.

The CSV and Parquet files keep the machine names; a column without a header here is shown
with its machine name, underscores as spaces."""

from __future__ import annotations

HEADERS = {
    "rank": "Rank",
    "tier": "Tier",
    "patient_id": "Patient",
    "mrn": "MRN",
    "name": "Name",
    "unit": "Ward",
    "index_time": "Index result time",
    "index_sodium": "Index Na (mmol/L)",
    "corrected_sodium": "Glucose-corrected Na (mmol/L)",
    "severity": "Severity",
    "latest_sodium": "Latest Na (mmol/L)",
    # index minus the latest earlier result within the window (spec §8): not the change across
    # 48 h, which "Na change over 48 h" read as
    "delta_48h": "Na change from the previous result within 48 h (mmol/L)",
    "overcorrection": "Over-rapid correction",
    "risk_factors": "Risk factors",
    "correction_risk": "Risk factor for osmotic demyelination",
    "missing_workup": "Workup not found",
    "evidence": "Evidence",
    "considerations": "Considerations",
    "profile": "Profile",
    "rules_version": "Rules version",
    "run_id": "Run",
    "tier_name": "Tier name",
    "n_low_results": "Low results in window",
    "nadir_time": "Lowest result time",
    "trend": "Trend",
    "overcorrection_pair": "Over-rapid correction (results)",
    "cramp_documented": "Cramp documented",
    "index_glucose": "Glucose at index (mg/dL)",
    "window_start": "Window start",
    "window_end": "Window end",
    "relisted_because": "Listed again because",
    "previously_listed": "Previously listed",
    "last_reviewed": "Last reviewed",
    "possibly_spurious": "Possibly spurious result",
    "time_zone": "Time zone",
    "index_censored": "Index sodium reported as (< or > the value)",
}


def header_text(column: str, delta_hours: float = 48.0) -> str:
    """The header a reader sees for the review list's `column`; `delta_hours`: the rules'
    windows.delta_window_hours, over which `delta_48h` is measured (its name is the contract's)."""
    if column == "delta_48h":
        return f"Na change from the previous result within {delta_hours:g} h (mmol/L)"
    return HEADERS.get(column, column.replace("_", " "))
