"""Spec §6 and §8 workup for the spec fuzz oracle: active drug classes, coded conditions,
electrolyte co-factors, missing workup. Exact arithmetic on fractions of the decimal texts."""

from __future__ import annotations

import re

import pandas as pd

from spec_fuzz_rules import D, H, Result, Rules, read_time


def drug_classes(row: dict, rules: Rules) -> set[str]:
    """§6: whole-word ingredient or synonym in the name, RxNorm ingredient, 7-character ATC."""
    by_name = dict(rules.ingredients[["ingredient", "drug_class"]].values)
    classes = set()
    name = row.get("drug_name", "").lower()
    terms = {i: [i] for i in by_name} | rules.synonyms
    for term, ingredients in terms.items():
        if re.search(rf"(?<![^\W_]){re.escape(term)}(?![^\W_])", name):
            classes |= {by_name[i] for i in ingredients}
    rx = row.get("rxnorm", "").strip().removesuffix(".0")
    classes |= set(
        rules.ingredients.loc[(rules.ingredients.rxnorm == rx) & (rx != ""), "drug_class"]
    )
    atc = row.get("atc", "").strip().upper()
    if len(atc) == 7:
        classes |= set(rules.ingredients.loc[rules.ingredients.atc == atc, "drug_class"])
        for prefix, parts in rules.combos.items():
            if atc.startswith(prefix):
                classes |= set(parts)
    return classes


def active_drug_classes(
    meds: pd.DataFrame, patient: str, index_time, rules: Rules, tz: str
) -> set[str]:
    grace = rules.raw["windows"]["medication_grace_days"] * D
    stopped_days = rules.raw["windows"]["medication_stopped_active_days"] * D
    out: set[str] = set()
    for row in meds[meds.patient_id.str.strip() == patient].to_dict("records"):
        status = row.get("status", "").strip().lower()
        start, end = read_time(row["start_time"], tz), read_time(row.get("end_time", ""), tz)
        if start is None or status in rules.statuses("medication_excluded"):
            continue
        if end is not None and end < start:
            continue
        if end is not None:
            last = end + grace
        elif status in rules.statuses("medication_stopped"):
            last = start + stopped_days
        else:
            last = None
        if start <= index_time and (last is None or index_time <= last):
            out |= drug_classes(row, rules)
    return out


def conditions_found(
    diags: pd.DataFrame, patient: str, index_time, window_end, rules: Rules, tz: str
) -> set[str]:
    cramp_reach = rules.raw["windows"]["cramp_window_days"] * D
    found = set()
    for row in diags[diags.patient_id.str.strip() == patient].to_dict("records"):
        when = read_time(row["recorded_time"], tz)
        system = rules.code_system(row.get("code_system", ""))
        if (
            when is None
            or system is None
            or row.get("status", "").strip().lower() in rules.statuses("diagnosis_excluded")
        ):
            continue
        code = row["code"].replace(".", "").strip().upper()
        for listed in rules.conditions[rules.conditions.code_system == system].to_dict("records"):
            want = listed["code"].replace(".", "").upper()
            if code == want if listed["match"] == "exact" else code.startswith(want):
                timing = rules.raw["conditions"][listed["condition"]]["timing"]
                if timing == "around_index":
                    ok = abs(when - index_time) <= cramp_reach and when < window_end
                else:
                    ok = when <= index_time
                if ok:
                    found.add(listed["condition"])
    return found


def cofactors(labs: list[Result], patient: str, index_time, rules: Rules) -> set[str]:
    """§6: K, Mg, Ca (ionized decides alone; else total Ca corrected by the nearest albumin)."""
    reach = rules.raw["windows"]["cofactor_window_hours"] * H
    alb_reach = rules.raw["windows"]["albumin_window_hours"] * H
    near = [r for r in labs if r.patient == patient and abs(r.time - index_time) <= reach]

    def of(analyte):
        return [r for r in near if r.analyte == analyte]

    found = set()
    if any(r.value < rules.limit("potassium_low_mmol_l") for r in of("potassium")):
        found.add("hypokalemia")
    if any(r.value < rules.limit("magnesium_low_mg_dl") for r in of("magnesium")):
        found.add("hypomagnesemia")
    ionized = of("calcium_ionized")
    if ionized:
        low = any(r.value < rules.limit("ionized_calcium_low_mmol_l") for r in ionized)
    else:
        low = False
        reference = rules.limit("albumin_reference_g_dl")
        for ca in of("calcium_total"):
            albs = [
                r
                for r in labs
                if r.patient == patient
                and r.analyte == "albumin"
                and abs(r.time - ca.time) <= alb_reach
            ]
            value = ca.value
            if albs:
                alb = min(albs, key=lambda r: (abs(r.time - ca.time), r.time, -r.value)).value
                if alb < reference:
                    value += rules.limit("albumin_calcium_factor") * (reference - alb)
            low |= value < rules.limit("total_calcium_low_mg_dl")
    if low:
        found.add("hypocalcemia")
    return found


def missing_workup(labs: list[Result], index: Result, window_end, rules: Rules) -> str:
    """§8 workup: which of the workup analytes has no usable result from 24 h before to 48 h
    after the index (nothing at or after window_end)."""
    before = rules.raw["windows"]["workup_hours_before"] * H
    after = rules.raw["windows"]["workup_hours_after"] * H
    have = {
        r.analyte
        for r in labs
        if r.patient == index.patient
        and -before <= r.time - index.time <= after
        and r.time < window_end
    }
    return ";".join(a for a in rules.raw["workup_analytes"] if a not in have)
