"""An independent reading of SCREENING_SPEC.md §2-§11, for differential fuzzing of the screen.

Written from the spec text and the rules data files alone (thresholds, vocabularies, codes),
never from the project's screening code. It reads a canonical extract folder (CSV, as the fuzz
generator writes it) and returns, per listed patient, what the review list must say: tier,
severity, corrected index sodium (1 decimal, half away from zero), risk factors, over-correction,
delta_48h, latest sodium, whether the index rests on a possibly spurious value, index time,
number of low results, correction risk and missing workup.
Arithmetic is exact (fractions of the decimal texts), so a threshold is met or missed as the
decimals say, with no binary floating-point noise.
"""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from pathlib import Path

import pandas as pd

from spec_fuzz_risks import active_drug_classes, cofactors, conditions_found, missing_workup
from spec_fuzz_rules import NUMBER, D, H, Result, Rules, read_time, read_value, space_free


def usable_labs(labs: pd.DataFrame, rules: Rules, tz: str, read_from, window_end) -> list[Result]:
    """§2-§3: identify, clean and de-duplicate lab rows; keep the usable ones."""
    urine = {"sodium": "urine_sodium", "serum_osmolality": "urine_osmolality"}
    excluded = rules.statuses("lab_excluded")
    seen: set = set()
    out = []
    for row in labs.to_dict("records"):
        loinc = row.get("loinc", "").strip()
        analyte = (
            rules.loinc.get(loinc)
            if loinc
            else rules.names.get(row.get("lab_name", "").strip().lower())
        )
        if analyte is None:
            continue
        if re.search(r"\burin", row.get("specimen_type", "").lower()):
            analyte = urine.get(analyte, analyte)
        time = read_time(row["specimen_time"], tz)
        if time is not None and not (read_from <= time < window_end):
            continue
        if (
            not row["patient_id"].strip()
            or time is None
            or row.get("status", "").strip().lower() in excluded
        ):
            continue
        value = read_value(row["value_raw"])
        if value is None and re.fullmatch(NUMBER, row.get("value", "").strip()):
            value = Fraction(row["value"].strip())  # §3: the source's parsed number
        factor = rules.units.get((analyte, space_free(row["unit"])))
        if value is None or factor is None:
            continue
        value *= factor
        if value <= 0 or (analyte == "sodium" and not 80 <= value <= 200):
            continue
        key = (row["patient_id"].strip(), analyte, time, value)
        if key in seen:
            continue
        seen.add(key)
        out.append(Result(key[0], analyte, time, value, row.get("specimen_id", "").strip()))
    return out


def correct_sodium(
    sodiums: list[Result], glucoses: list[Result], rules: Rules, factor: Fraction
) -> None:
    """§4: same specimen first, else the nearest glucose within ±60 min (earlier, then lowest)."""
    threshold = Fraction(str(rules.raw["glucose_correction"]["threshold_mg_dl"]))
    reach = timedelta(minutes=rules.raw["glucose_correction"]["pairing_window_minutes"])
    for na in sodiums:
        mine = [g for g in glucoses if g.patient == na.patient]
        same = [g for g in mine if na.specimen and g.specimen == na.specimen]
        near = [g for g in mine if abs(g.time - na.time) <= reach]
        pick = min(same, key=lambda g: g.value) if same else None
        if pick is None and near:
            pick = min(near, key=lambda g: (abs(g.time - na.time), g.time, g.value))
        na.glucose = pick.value if pick else None
        na.corrected = na.value
        if pick is not None and pick.value > threshold:
            na.corrected = na.value + factor * (pick.value - threshold) / 100


def _holds(value: Fraction, op: str, threshold) -> bool:
    limit = Fraction(str(threshold))
    return value <= limit if op == "<=" else value < limit


def severity(value: Fraction, profile: dict) -> tuple[str, str] | None:
    if not _holds(value, profile["hyponatremia"]["op"], profile["hyponatremia"]["threshold"]):
        return None
    for band in profile["severity"]:
        if _holds(value, band["op"], band["threshold"]):
            return band["label"], band["level"]
    return None


def half_away(value: Fraction) -> str:
    exact = Decimal(value.numerator) / Decimal(value.denominator)
    text = str(exact.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))
    return "0.0" if text == "-0.0" else text


def screen(
    folder: Path,
    window_start: str,
    tz: str = "UTC",
    profile_name: str = "seed",
    factor: str = "1.6",
) -> dict:
    """Listed patients of one window: {patient_id: {tier, severity, corrected, ...}}."""
    rules = Rules()
    profile = rules.raw["profiles"][profile_name]
    day = pd.Timestamp(window_start)
    ws = day.tz_localize(tz).tz_convert("UTC")
    we = (day + D).tz_localize(tz).tz_convert("UTC")
    context_from = ws - rules.raw["windows"]["context_hours_before_window"] * H
    # §4 pairs context results too with a glucose within ±60 min: one at the very start of the
    # context may take a glucose up to 60 min before it (the project's reading; §7 alone
    # would read nothing before the context)
    pairing = rules.raw["glucose_correction"]["pairing_window_minutes"] * timedelta(minutes=1)
    read_from = context_from - pairing

    def table(name):
        return pd.read_csv(folder / f"{name}.csv", dtype=str, keep_default_na=False)

    labs = usable_labs(table("labs"), rules, tz, read_from, we)
    sodiums = [r for r in labs if r.analyte == "sodium"]
    correct_sodium(sodiums, [r for r in labs if r.analyte == "glucose"], rules, Fraction(factor))
    meds, diags = table("medications"), table("diagnoses")
    listed = {}
    for patient in sorted({r.patient for r in sodiums}):
        series = sorted(
            (r for r in sodiums if r.patient == patient), key=lambda r: (r.time, r.corrected)
        )
        low_in_window = [r for r in series if r.time >= ws and severity(r.corrected, profile)]
        if not low_in_window:
            continue
        index = min(low_in_window, key=lambda r: (r.corrected, r.time, r.value, r.glucose or 0))
        label, level = severity(index.corrected, profile)
        conds = conditions_found(diags, patient, index.time, we, rules, tz)
        factors = active_drug_classes(meds, patient, index.time, rules, tz) | cofactors(
            labs, patient, index.time, rules
        )
        factors |= {rules.raw["conditions"][c]["risk_factor"] for c in conds} - {None}
        correction_risk = bool(
            "hypokalemia" in factors
            or any(rules.raw["conditions"][c]["correction_risk"] for c in conds)
            or index.corrected <= rules.limit("correction_risk_index_sodium_max")
        )
        limit = rules.limit(
            "overcorrection_with_risk_mmol_per_24h"
            if correction_risk
            else "overcorrection_mmol_per_24h"
        )
        over = any(
            timedelta(0)
            < b.time - a.time
            <= rules.raw["windows"]["overcorrection_window_hours"] * H
            and severity(a.corrected, profile)
            and b.corrected - a.corrected > limit
            for a in series
            for b in series
            if a.time >= context_from and b.time >= context_from
        )
        earlier = [
            r
            for r in series
            if timedelta(0) < index.time - r.time <= rules.raw["windows"]["delta_window_hours"] * H
        ]
        delta = None
        if earlier:
            last_time = max(r.time for r in earlier)
            delta = index.corrected - min(r.corrected for r in earlier if r.time == last_time)
        if not (factors or level == "severe" or over):
            continue
        if level == "severe" or over:
            tier = 1
        elif (
            level == "moderate"
            or (
                level == "mild"
                and len(factors) >= rules.raw["limits"]["soon_mild_min_risk_categories"]
            )
            or "cramp_documented" in factors
            or (delta is not None and delta <= rules.limit("soon_delta_48h_max"))
        ):
            tier = 2
        else:
            tier = 3
        last_time = max(r.time for r in series)
        latest = min(r.corrected for r in series if r.time == last_time)
        listed[patient] = {
            "tier": tier,
            "severity": label,
            "corrected": half_away(index.corrected),
            "risk_factors": ";".join(sorted(factors)),
            "overcorrection": over,
            "delta_48h": None if delta is None else half_away(delta),
            "latest_sodium": half_away(latest),
            "spurious_index": _spurious(index, series, rules),
            "index_time": index.time,
            "n_low_results": len(low_in_window),
            "correction_risk": correction_risk,
            "missing_workup": missing_workup(labs, index, we, rules),
        }
    return listed


def _spurious(result: Result, series: list[Result], rules: Rules) -> bool:
    """§8 delta check: ≥ 10 below both the previous and the next result, each within 24 h."""
    reach = rules.raw["windows"]["spurious_neighbour_hours"] * H
    drop = rules.limit("spurious_drop_mmol_l")
    before = [r for r in series if r.time < result.time]
    after = [r for r in series if r.time > result.time]
    if not before or not after:
        return False
    prev_time, next_time = max(r.time for r in before), min(r.time for r in after)
    if result.time - prev_time > reach or next_time - result.time > reach:
        return False
    prev = min(r.corrected for r in before if r.time == prev_time)
    nxt = min(r.corrected for r in after if r.time == next_time)
    return prev - result.corrected >= drop and nxt - result.corrected >= drop
