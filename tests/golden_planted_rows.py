"""The hand-computed expectations of the sample's planted cases (test_golden_planted_cases.py),
every output field derived from the spec.

These expectations do not read the golden files: each row below was derived from
/work/shared/SCREENING_SPEC.md, rules.yaml defaults and the rows of sample_data/canonical
(planted-case table in sample_data/README.md), with the arithmetic in comments. They cover
glucose correction (§4), severe tier 1 (§5, §9), over-rapid correction pairs (§8), medication
exposure with new_start evidence (§6), electrolyte co-factors with albumin-corrected and ionized
calcium (§6), a documented cramp (§6, §9), quarantine reasons (§3) and a duplicate (§3).

Dates used below: drugs start 2026-05-12T09:00; 2026-05-12 -> 2026-11-12 is 184 days, so
2026-11-20T09:00 is day 192 and any index before 09:00 that day is day 191 (whole days elapsed).
Ranks follow §7 (tier, then corrected sodium, index time, patient_id) over the 35 listed cases:
tier 1 has 5 rows (ranks 1-5), tier 2 has 13 (6-18), tier 3 has 17 (19-35).
"""

from __future__ import annotations

from hyposcreen.rules.loader import load_rules

# Considerations, in the order the review list gives them (spec §10).
DIURETIC = (
    "Check whether the diuretic is adding to the low sodium or the cramps; a dose cut or pause "
    "may be worth weighing."
)
SIADH_DRUG = (
    "A listed drug (SSRI, other antidepressant, antiepileptic or antipsychotic) can cause SIADH; "
    "review its role, especially after a recent start."
)
LIMIT_8 = "Raise sodium by no more than 8 mmol/L in 24 h."
LIMIT_WITH_RISK = (
    "Correction risk (liver disease, alcohol use, malnutrition, low potassium or very low "
    "sodium): aim for about 4-6 mmol/L per 24 h."
)
MILD = (
    "Mild case: after assessing volume status, restricting fluid to about 1 L a day is the usual "
    "first step if euvolemic or hypervolemic and symptomatic; hypertonic saline is not for mild "
    "cases without life-threatening symptoms."
)
ELECTROLYTES = "Low potassium, magnesium or calcium may add to cramps."
OVERCORRECTED = "Sodium rose faster than the limit: review the correction plan now."
ALL_THREE = "serum_osmolality;urine_osmolality;urine_sodium"
TIER_NAMES = {"1": "urgent", "2": "soon", "3": "routine"}


def workup(missing: str) -> str:
    listed = missing.replace(";", ", ").replace("_", " ")
    return f"Workup incomplete: no {listed} around the index result."


def considerations(*notes: str) -> str:
    return " | ".join(notes)


def expected_row(**fields: str) -> dict[str, str]:
    """A full review-list row: the given fields plus what every row of this run shares."""
    row = {
        "delta_48h": "",
        "overcorrection": "false",
        "risk_factors": "",
        "correction_risk": "false",
        "missing_workup": ALL_THREE,
        "evidence": "",
        "profile": "seed",  # default profile of rules.yaml
        "rules_version": load_rules().version,
        "nadir_time": fields["index_time"],  # the index is the lowest result in the window
        "trend": "",  # no earlier result within 48 h -> no delta -> no trend
        "overcorrection_pair": "",
        "cramp_documented": "false",
        "index_glucose": "",
        "window_start": "2026-11-20T00:00:00",
        "window_end": "2026-11-21T00:00:00",
        "relisted_because": "",  # stateless run: nightly columns stay empty
        "previously_listed": "",
        "last_reviewed": "",
        "possibly_spurious": "",  # no result lies >= 10 below both neighbours within 24 h (§8)
        "time_zone": "UTC",  # the sample has no site mapping: its times are UTC (§11)
        "index_censored": "",  # no planted index sodium is written as <N or >N (§3)
    }
    row.update(fields)
    row["tier_name"] = TIER_NAMES[row["tier"]]
    return row


PLANTED_ROWS = {
    # Glucose correction (§4). Sodium 130 and glucose 400 mg/dL share specimen S007-NA:
    # 130 + 1.6 x (400 - 100) / 100 = 130 + 4.8 = 134.8 <= 135 -> hyponatremic, mild (> 125).
    # `Lisinopril-HCTZ 20-12.5mg`: HCTZ synonym inside a combination name -> thiazide_diuretic.
    # One risk factor, mild, no cramp, no delta -> tier 3; 134.8 is the second-highest corrected
    # sodium of tier 3 (after P001's 135.0) -> rank 34.
    "P007": expected_row(
        rank="34", tier="3", patient_id="P007", index_time="2026-11-20T08:15:00",
        index_sodium="130.0", corrected_sodium="134.8", severity="mild", latest_sodium="134.8",
        risk_factors="thiazide_diuretic",
        evidence="thiazide_diuretic: Lisinopril-HCTZ 20-12.5mg "
        "(start 2026-05-12, end ongoing, day 191)",
        considerations=considerations(DIURETIC, LIMIT_8, MILD, workup(ALL_THREE)),
        n_low_results="1", index_glucose="400.0",
    ),
    # Glucose in mmol/L (§2): 25.0 x 18.016 = 450.4 mg/dL;
    # 124 + 1.6 x (450.4 - 100) / 100 = 124 + 5.6064 = 129.6064 -> 129.6, mild.
    # I50.9 (2024) -> heart_failure; Aldactone -> spironolactone -> potassium_sparing_diuretic.
    # Mild with 2 risk-factor categories -> tier 2; 129.6 is the 8th lowest of tier 2 -> rank 13.
    # Serum osm at 08:00 and urine osm at 09:00 lie in -24 h..+48 h: only urine sodium missing.
    "P011": expected_row(
        rank="13", tier="2", patient_id="P011", index_time="2026-11-20T07:00:00",
        index_sodium="124.0", corrected_sodium="129.6", severity="mild", latest_sodium="129.6",
        risk_factors="heart_failure;potassium_sparing_diuretic", missing_workup="urine_sodium",
        evidence="heart_failure: I50.9 (ICD-10-CM) recorded 2024-02-01T10:00:00 | "
        "potassium_sparing_diuretic: Aldactone 25 mg tablet "
        "(start 2026-05-12, end ongoing, day 191)",
        considerations=considerations(DIURETIC, LIMIT_8, MILD, workup("urine_sodium")),
        n_low_results="1", index_glucose="450.4",
    ),
    # Severe tier 1 (§5, §9): 104 < 120 -> severe -> listed without a risk factor, tier 1, and
    # 104 is the lowest corrected sodium of the run -> rank 1. Index 104 <= 105 -> correction
    # risk (§8), so the 4-6 mmol/L note replaces the 8 mmol/L one. Serum osm (06:00), urine osm
    # and urine Na (07:00) are all within -24 h..+48 h -> workup complete.
    "P043": expected_row(
        rank="1", tier="1", patient_id="P043", index_time="2026-11-20T05:00:00",
        index_sodium="104.0", corrected_sodium="104.0", severity="severe", latest_sodium="104.0",
        correction_risk="true", missing_workup="",
        considerations=considerations(LIMIT_WITH_RISK),
        n_low_results="1",
    ),
    # Over-rapid correction (§8): 118 at 01:00 -> 127 (LOINC 2947-0, whole blood) at 19:00:
    # 18 h <= 24 h, 118 hyponatremic, 127 - 118 = +9 > 8 (no correction risk: RxNorm 38413 is
    # furosemide, 118 > 105) -> over-corrected, tier 1. Both 118 and 127 are <= 135 in the
    # window -> n_low_results 2; the latest result is 127. Rank 2 (118 after P043's 104).
    "P038": expected_row(
        rank="2", tier="1", patient_id="P038", index_time="2026-11-20T01:00:00",
        index_sodium="118.0", corrected_sodium="118.0", severity="severe", latest_sodium="127.0",
        overcorrection="true", risk_factors="loop_diuretic",
        evidence="loop_diuretic: RxNorm 38413 (start 2026-05-12, end ongoing, day 191) | "
        "over-rapid correction: 118.0 at 2026-11-20T01:00:00 -> 127.0 at 2026-11-20T19:00:00 "
        "(+9.0 mmol/L; limit 8 per 24 h)",
        considerations=considerations(DIURETIC, LIMIT_8, OVERCORRECTED, workup(ALL_THREE)),
        n_low_results="2",
        overcorrection_pair="118.0 at 2026-11-20T01:00:00 -> 127.0 at 2026-11-20T19:00:00 "
        "(+9.0 mmol/L; limit 8 per 24 h)",
    ),
    # Correction-risk limit (§8): cirrhosis K74.60 -> limit 6; 123 at 02:00 -> 130 at 20:00 is
    # +7 in 18 h > 6 -> over-corrected, tier 1 (rank 4: 123 after 104, 118, 119.9).
    # Full workup: serum osm 4 h before, urine osm and urine Na 1 h after the index.
    "P027": expected_row(
        rank="4", tier="1", patient_id="P027", index_time="2026-11-20T02:00:00",
        index_sodium="123.0", corrected_sodium="123.0", severity="moderate", latest_sodium="130.0",
        overcorrection="true", risk_factors="cirrhosis", correction_risk="true",
        missing_workup="",
        evidence="cirrhosis: K74.60 (ICD-10-CM) recorded 2025-03-01T10:00:00 | "
        "over-rapid correction: 123.0 at 2026-11-20T02:00:00 -> 130.0 at 2026-11-20T20:00:00 "
        "(+7.0 mmol/L; limit 6 per 24 h)",
        considerations=considerations(LIMIT_WITH_RISK, OVERCORRECTED),
        n_low_results="2",
        overcorrection_pair="123.0 at 2026-11-20T02:00:00 -> 130.0 at 2026-11-20T20:00:00 "
        "(+7.0 mmol/L; limit 6 per 24 h)",
    ),
    # Same rise without correction risk (heart failure ICD-9 428.0): +7 <= 8 -> not over-corrected;
    # moderate (120 <= 123 <= 125) -> tier 2; ranks 6 (P005 120) and 7 (P018 122) come first.
    "P028": expected_row(
        rank="8", tier="2", patient_id="P028", index_time="2026-11-20T02:00:00",
        index_sodium="123.0", corrected_sodium="123.0", severity="moderate", latest_sodium="130.0",
        risk_factors="heart_failure",
        evidence="heart_failure: 428.0 (ICD-9-CM) recorded 2019-04-01T10:00:00",
        considerations=considerations(LIMIT_8, workup(ALL_THREE)),
        n_low_results="2",
    ),
    # Medication exposure with new_start (§6): Zoloft -> sertraline -> ssri, started
    # 2026-10-01T09:00; index 2026-11-20T07:40 is 50 days minus 1 h 20 min -> day 49 <= 90 ->
    # new start. 125.1 > 125 -> mild; one risk factor -> tier 3, lowest of tier 3 -> rank 19.
    "P004": expected_row(
        rank="19", tier="3", patient_id="P004", index_time="2026-11-20T07:40:00",
        index_sodium="125.1", corrected_sodium="125.1", severity="mild", latest_sodium="125.1",
        risk_factors="ssri",
        evidence="ssri: Zoloft 50 mg tablet (start 2026-10-01, end ongoing, day 49, new start)",
        considerations=considerations(SIADH_DRUG, LIMIT_8, MILD, workup(ALL_THREE)),
        n_low_results="1",
    ),
    # Ended drug within grace (§6): bumetanide 2026-10-01T09:00 .. 2026-11-15T00:00; the end + 7 d
    # = 2026-11-22 >= index 2026-11-20T10:00 -> active; day 50 (50 d 1 h) <= 90 -> new start.
    # Tier 3; 129 at 10:00 comes after P026's 129 at 06:00 -> rank 23.
    "P025": expected_row(
        rank="23", tier="3", patient_id="P025", index_time="2026-11-20T10:00:00",
        index_sodium="129.0", corrected_sodium="129.0", severity="mild", latest_sodium="129.0",
        risk_factors="loop_diuretic",
        evidence="loop_diuretic: Bumetanide 1 mg tablet "
        "(start 2026-10-01, end 2026-11-15, day 50, new start)",
        considerations=considerations(DIURETIC, LIMIT_8, MILD, workup(ALL_THREE)),
        n_low_results="1",
    ),
    # Albumin-corrected calcium (§6): albumin 35 g/L / 10 = 3.5 g/dL < 4.0;
    # 7.8 + 0.8 x (4.0 - 3.5) = 7.8 + 0.4 = 8.2 < 8.5 -> hypocalcemia. Potassium 3.1 at
    # 2026-11-19T08:00 is 26 h before the 10:00 index, outside +/-24 h -> no hypokalemia.
    # One risk factor -> tier 3; 133 at 10:00 before P010's 133 at 12:00 -> rank 30.
    "P036": expected_row(
        rank="30", tier="3", patient_id="P036", index_time="2026-11-20T10:00:00",
        index_sodium="133.0", corrected_sodium="133.0", severity="mild", latest_sodium="133.0",
        risk_factors="hypocalcemia",
        evidence="hypocalcemia: calcium_total 8.2 mg/dL at 2026-11-20T10:00:00 "
        "(< 8.5 mg/dL; total 7.8 mg/dL, albumin 3.5 g/dL)",
        considerations=considerations(LIMIT_8, MILD, ELECTROLYTES, workup(ALL_THREE)),
        n_low_results="1",
    ),
    # Ionized calcium decides (§6): 1.05 < 1.12 mmol/L -> hypocalcemia although total Ca 9.4 is
    # normal. Magnesium 0.65 mmol/L x 2.431 = 1.58015 mg/dL < 1.7 -> hypomagnesemia.
    # Mild with 2 categories -> tier 2; 132 at 10:00, P022 < P034 by id -> rank 16.
    "P034": expected_row(
        rank="16", tier="2", patient_id="P034", index_time="2026-11-20T10:00:00",
        index_sodium="132.0", corrected_sodium="132.0", severity="mild", latest_sodium="132.0",
        risk_factors="hypocalcemia;hypomagnesemia",
        evidence="hypocalcemia: calcium_ionized 1.05 mmol/L at 2026-11-20T10:00:00 "
        "(ionized < 1.12 mmol/L) | hypomagnesemia: magnesium 1.58015 mg/dL at "
        "2026-11-20T10:00:00 (< 1.7 mg/dL)",
        considerations=considerations(LIMIT_8, MILD, ELECTROLYTES, workup(ALL_THREE)),
        n_low_results="1",
    ),
    # Documented cramp (§6, §9): R25.2 recorded 2026-11-10T10:00, 9 d 22 h before the index,
    # inside +/-30 d -> cramp_documented -> tier 2 although mild with one category; rank 17.
    "P032": expected_row(
        rank="17", tier="2", patient_id="P032", index_time="2026-11-20T08:00:00",
        index_sodium="133.0", corrected_sodium="133.0", severity="mild", latest_sodium="133.0",
        risk_factors="cramp_documented", cramp_documented="true",
        evidence="cramp_documented: R25.2 (ICD-10-CM) recorded 2026-11-10T10:00:00",
        considerations=considerations(LIMIT_8, MILD, workup(ALL_THREE)),
        n_low_results="1",
    ),
    # Quarantined rows leave the case to its usable result (§3): 115 mg/dL is bad_unit, 1350 is
    # implausible (> 200); the 123 at 08:00 is the only usable sodium -> index and latest 123.0,
    # one low result, no delta. Tegretol -> carbamazepine -> antiepileptic; moderate -> tier 2;
    # 123 at 08:00 after P028's 123 at 02:00 -> rank 9.
    "P016": expected_row(
        rank="9", tier="2", patient_id="P016", index_time="2026-11-20T08:00:00",
        index_sodium="123.0", corrected_sodium="123.0", severity="moderate", latest_sodium="123.0",
        risk_factors="antiepileptic",
        evidence="antiepileptic: Tegretol 200mg (start 2026-05-12, end ongoing, day 191)",
        considerations=considerations(SIADH_DRUG, LIMIT_8, workup(ALL_THREE)),
        n_low_results="1",
    ),
    # Exact duplicate (§3): two identical 122 rows -> one used, one duplicate, so one low result.
    # RxNorm 35636 is risperidone -> antipsychotic; moderate -> tier 2, rank 7.
    "P018": expected_row(
        rank="7", tier="2", patient_id="P018", index_time="2026-11-20T06:00:00",
        index_sodium="122.0", corrected_sodium="122.0", severity="moderate", latest_sodium="122.0",
        risk_factors="antipsychotic",
        evidence="antipsychotic: RxNorm 35636 (start 2026-05-12, end ongoing, day 191)",
        considerations=considerations(SIADH_DRUG, LIMIT_8, workup(ALL_THREE)),
        n_low_results="1",
    ),
    # Over-correction from the context period (§8): 122 on 2026-11-19T12:00 -> 131 on
    # 2026-11-20T08:00: 20 h, +9 > 8 -> over-corrected, tier 1 with no risk factor. Delta within
    # 48 h: 131 - 122 = +9.0 >= 2 -> trend rising. Rank 5 (highest sodium of tier 1).
    # Mild, but no fluid-restriction advice: restricting fluid raises sodium further, and it
    # already rose too fast.
    "P039": expected_row(
        rank="5", tier="1", patient_id="P039", index_time="2026-11-20T08:00:00",
        index_sodium="131.0", corrected_sodium="131.0", severity="mild", latest_sodium="131.0",
        delta_48h="9.0", overcorrection="true", trend="rising",
        evidence="over-rapid correction: 122.0 at 2026-11-19T12:00:00 -> 131.0 at "
        "2026-11-20T08:00:00 (+9.0 mmol/L; limit 8 per 24 h)",
        considerations=considerations(LIMIT_8, OVERCORRECTED, workup(ALL_THREE)),
        n_low_results="1",
        overcorrection_pair="122.0 at 2026-11-19T12:00:00 -> 131.0 at 2026-11-20T08:00:00 "
        "(+9.0 mmol/L; limit 8 per 24 h)",
    ),
}  # fmt: skip

# Not listed (§4, §6, §7): P008 133 + 1.6 x (300 - 100) / 100 = 136.2 > 135 (hyperglycemia-related);
# P033 has no cramp inside +/-30 d (40 d before; 2026-11-25 is after window_end) but is listed for
# magnesium 1.6 < 1.7 only; P031's alcohol use and malnutrition are correction-risk only.
NOT_LISTED = ("P002", "P008", "P014", "P019", "P020", "P023", "P024", "P031", "P042")

# Quarantine (§3): (table, source_file, line in the file with header = line 1, reason, patient).
QUARANTINED = [
    ("diagnoses", "diagnoses.csv", "9", "status", "P030"),  # CKD `resolved`
    ("labs", "labs.csv", "34", "non_numeric", "P014"),  # sodium HEMOLYZED
    ("labs", "labs.csv", "35", "non_numeric", "P014"),  # potassium HEMOLYZED
    ("labs", "labs.csv", "36", "non_numeric", "P014"),  # sodium ___
    ("labs", "labs.csv", "37", "non_numeric", "P014"),  # sodium empty
    ("labs", "labs.csv", "38", "missing_key", "P014"),  # specimen_time `unknown`
    ("labs", "labs.csv", "41", "non_numeric", "P015"),  # sodium See Comments
    ("labs", "labs.csv", "42", "non_numeric", "P015"),  # sodium cancelled (as a value)
    ("labs", "labs.csv", "43", "non_numeric", "P015"),  # serum osmolality ___
    ("labs", "labs.csv", "46", "bad_unit", "P016"),  # sodium 115 mg/dL
    ("labs", "labs.csv", "48", "implausible", "P016"),  # sodium 1350 > 200
    ("labs", "labs.csv", "49", "status", "P017"),  # entered-in-error
    ("labs", "labs.csv", "53", "missing_key", ""),  # sodium 110, empty patient_id
    ("medications", "medications.csv", "27", "status", "P024"),  # sertraline entered-in-error
]
