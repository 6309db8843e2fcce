"""Write the synthetic screening sample in sample_data/canonical/ (deterministic, no randomness).

Each patient is one planted case, declared by one small function below that lists its rows.
The screening window is [2026-11-20T00:00, 2026-11-21T00:00), profile `seed`, glucose factor
1.6; context labs reach back to 2026-11-17T00:00. README.md lists what every case must produce;
tests/data/golden/sample/expected_review_list.csv is the hand-computed review list.

Run `python sample_data/generate.py` from the repository root; the CSVs it writes are committed
and must not change unless a case is changed on purpose. All data are invented.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd

OUT_DIR = Path(__file__).resolve().parent / "canonical"

LAB_COLUMNS = [
    "patient_id",
    "encounter_id",
    "specimen_id",
    "specimen_time",
    "result_time",
    "loinc",
    "lab_name",
    "value_raw",
    "unit",
    "status",
    "specimen_type",
]
MED_COLUMNS = [
    "patient_id",
    "encounter_id",
    "drug_name",
    "rxnorm",
    "atc",
    "start_time",
    "end_time",
    "status",
    "route",
]
DX_COLUMNS = [
    "patient_id",
    "encounter_id",
    "code",
    "code_system",
    "recorded_time",
    "status",
    "description",
]
PATIENT_COLUMNS = ["patient_id", "mrn", "name", "birth_date", "sex", "unit"]

# LOINC → (lab name as a site would print it, default unit, default specimen type)
LOINC = {
    "2951-2": ("Sodium", "mmol/L", "Serum"),
    "2947-0": ("Sodium, whole blood", "mmol/L", "Blood"),
    "39791-9": ("Sodium, venous blood", "mmol/L", "Blood"),
    "2345-7": ("Glucose", "mg/dL", "Serum"),
    "41653-7": ("Glucose, POC", "mg/dL", "Blood"),
    "2823-3": ("Potassium", "mmol/L", "Serum"),
    "19123-9": ("Magnesium", "mg/dL", "Serum"),
    "2601-3": ("Magnesium", "mmol/L", "Serum"),
    "17861-6": ("Calcium, total", "mg/dL", "Serum"),
    "1994-3": ("Calcium, ionized", "mmol/L", "Blood"),
    "1751-7": ("Albumin", "g/dL", "Serum"),
    "2692-2": ("Osmolality, serum", "mOsm/kg", "Serum"),
    "2695-5": ("Osmolality, urine", "mOsm/kg", "Urine"),
    "2955-3": ("Sodium, urine", "mmol/L", "Urine"),
}
SERUM_SODIUM = "2951-2"
UNKNOWN_SODIUM_LOINC = "99999-9"  # not a LOINC of spec §2: the row is not relevant


def nov(day: int, hhmm: str) -> str:
    """An ISO time in November 2026, e.g. nov(20, "08:15") -> "2026-11-20T08:15:00"."""
    return f"2026-11-{day:02d}T{hhmm}:00"


def _one_hour_later(iso: str) -> str:
    try:
        return (datetime.fromisoformat(iso) + timedelta(hours=1)).isoformat()
    except ValueError:
        return ""  # an unreadable specimen time has no result time either


@dataclass
class Case:
    """One planted patient: its rows in the four canonical tables."""

    patient_id: str
    labs: list[dict[str, str]] = field(default_factory=list)
    meds: list[dict[str, str]] = field(default_factory=list)
    dx: list[dict[str, str]] = field(default_factory=list)

    @property
    def encounter_id(self) -> str:
        return f"E{self.patient_id[1:]}" if self.patient_id else ""

    def lab(
        self,
        time: str,
        loinc: str,
        value: str,
        unit: str | None = None,
        *,
        name: str | None = None,
        specimen: str | None = None,
        status: str = "final",
        specimen_type: str | None = None,
    ) -> Case:
        default_name, default_unit, default_type = LOINC.get(loinc, ("", "", "Serum"))
        number = len(self.labs) + 1
        self.labs.append(
            {
                "patient_id": self.patient_id,
                "encounter_id": self.encounter_id,
                "specimen_id": specimen or f"S{self.patient_id[1:] or 'X'}-{number:02d}",
                "specimen_time": time,
                "result_time": _one_hour_later(time),
                "loinc": loinc,
                "lab_name": default_name if name is None else name,
                "value_raw": value,
                "unit": default_unit if unit is None else unit,
                "status": status,
                "specimen_type": default_type if specimen_type is None else specimen_type,
            }
        )
        return self

    def sodium(self, time: str, value: str, **kwargs: str) -> Case:
        loinc = kwargs.pop("loinc", SERUM_SODIUM)
        return self.lab(time, loinc, value, **kwargs)

    def workup(self, serum_osm: str | None, urine_osm: str | None, urine_na: str | None) -> Case:
        """Workup labs at the given times (None: not drawn)."""
        if serum_osm:
            self.lab(serum_osm, "2692-2", "262")
        if urine_osm:
            self.lab(urine_osm, "2695-5", "410")
        if urine_na:
            self.lab(urine_na, "2955-3", "48")
        return self

    def med(
        self,
        drug_name: str,
        start: str,
        end: str = "",
        *,
        status: str = "active",
        rxnorm: str = "",
        atc: str = "",
    ) -> Case:
        self.meds.append(
            {
                "patient_id": self.patient_id,
                "encounter_id": self.encounter_id,
                "drug_name": drug_name,
                "rxnorm": rxnorm,
                "atc": atc,
                "start_time": start,
                "end_time": end,
                "status": status,
                "route": "oral",
            }
        )
        return self

    def diagnosis(
        self,
        code: str,
        recorded: str,
        description: str,
        *,
        system: str = "ICD-10-CM",
        status: str = "active",
    ) -> Case:
        self.dx.append(
            {
                "patient_id": self.patient_id,
                "encounter_id": self.encounter_id,
                "code": code,
                "code_system": system,
                "recorded_time": recorded,
                "status": status,
                "description": description,
            }
        )
        return self


CASES: list[Callable[[], Case]] = []


def planted(build: Callable[[], Case]) -> Callable[[], Case]:
    CASES.append(build)
    return build


LONG_AGO = "2026-05-12T09:00:00"  # a start long before the index: not a new start
ALL_WORKUP = (nov(20, "12:00"), nov(20, "13:00"), nov(20, "13:00"))


# --- severity bands and their boundaries (spec §5) -------------------------------------------


@planted
def p001_mild_upper_boundary() -> Case:
    """135.0 is hyponatremic (<= 135): mild; loop diuretic written with a strength."""
    return Case("P001").sodium(nov(20, "06:10"), "135").med("Furosemide 40mg tab", LONG_AGO)


@planted
def p002_just_above_definition() -> Case:
    """135.1 is not hyponatremia: no case even with a thiazide."""
    return Case("P002").sodium(nov(20, "06:20"), "135.1").med("Hydrochlorothiazide 25 mg", LONG_AGO)


@planted
def p003_moderate_upper_boundary() -> Case:
    """125.0 is moderate; brand Lasix; complete workup."""
    case = Case("P003").sodium(nov(20, "04:30"), "125.0").med("Lasix", LONG_AGO)
    return case.workup(nov(20, "05:00"), nov(20, "06:00"), nov(20, "06:00"))


@planted
def p004_mild_lower_boundary() -> Case:
    """125.1 is mild; brand Zoloft started 50 days before (new start)."""
    case = Case("P004").sodium(nov(20, "07:40"), "125.1")
    return case.med("Zoloft 50 mg tablet", "2026-10-01T09:00:00")


@planted
def p005_moderate_lower_boundary() -> Case:
    """120.0 is moderate; CKD. Urine osmolality 30 h before and serum osmolality after
    window_end do not count for the workup; the urine sodium does."""
    case = Case("P005").sodium(nov(20, "10:00"), "120.0")
    case.diagnosis("N18.3", "2025-06-15T10:00:00", "Chronic kidney disease, stage 3")
    case.lab(nov(19, "04:00"), "2695-5", "380")
    case.lab(nov(21, "02:00"), "2692-2", "258")
    return case.lab(nov(20, "11:00"), "2955-3", "35")


@planted
def p006_severe_without_risk_factor() -> Case:
    """119.9 is severe: listed (tier 1) with no risk factor; only serum osmolality drawn."""
    return Case("P006").sodium(nov(20, "03:30"), "119.9").workup(nov(20, "04:00"), None, None)


# --- glucose correction (spec §4) ------------------------------------------------------------


@planted
def p007_glucose_same_specimen() -> Case:
    """Na 130 with glucose 400 in the same specimen -> 134.8; thiazide inside a combination."""
    case = Case("P007").sodium(nov(20, "08:15"), "130", specimen="S007-NA")
    case.lab(nov(20, "08:15"), "2345-7", "400", specimen="S007-NA")
    return case.med("Lisinopril-HCTZ 20-12.5mg", LONG_AGO)


@planted
def p008_hyperglycemia_related() -> Case:
    """Na 133 with glucose 300 -> 136.2: low only before correction, not a case."""
    case = Case("P008").sodium(nov(20, "07:00"), "133", specimen="S008-NA")
    case.lab(nov(20, "07:00"), "2345-7", "300", specimen="S008-NA")
    return case.med("Furosemide 20 mg", LONG_AGO)


@planted
def p009_glucose_tie_takes_earlier() -> Case:
    """Glucose 30 min before (300) and 30 min after (200): the earlier wins -> 134.2.
    Potassium-sparing diuretic given only as an ATC code."""
    case = Case("P009").sodium(nov(20, "10:00"), "131")
    case.lab(nov(20, "09:30"), "41653-7", "300")
    case.lab(nov(20, "10:30"), "2345-7", "200")
    return case.med("", LONG_AGO, atc="C03DA01")


@planted
def p010_glucose_61_minutes_away() -> Case:
    """Glucose 500 drawn 61 min before is not paired: stays 133.0; SSRI as RxNorm code only."""
    case = Case("P010").sodium(nov(20, "12:00"), "133")
    case.lab(nov(20, "10:59"), "2345-7", "500")
    return case.med("", LONG_AGO, rxnorm="36437")


@planted
def p011_glucose_in_mmol() -> Case:
    """Na 124 with glucose 25.0 mmol/L (450.4 mg/dL) -> 129.6 (mild); heart failure and brand
    Aldactone (2 categories); urine sodium missing from the workup."""
    case = Case("P011").sodium(nov(20, "07:00"), "124", specimen="S011-NA")
    case.lab(nov(20, "07:00"), "2345-7", "25.0", "mmol/L", specimen="S011-NA")
    case.diagnosis("I50.9", "2024-02-01T10:00:00", "Heart failure, unspecified")
    case.med("Aldactone 25 mg tablet", LONG_AGO)
    return case.workup(nov(20, "08:00"), nov(20, "09:00"), None)


@planted
def p012_censored_glucose() -> Case:
    """Glucose ">500" is used as 500: Na 127 -> 133.4 (mild); brand Seroquel."""
    case = Case("P012").sodium(nov(20, "05:30"), "127", specimen="S012-NA")
    case.lab(nov(20, "05:30"), "2345-7", ">500", specimen="S012-NA")
    return case.med("Seroquel 100 mg tablet", LONG_AGO)


# --- cleaning: censored, non-numeric, units, plausibility, status, keys, duplicates (§3) ----


@planted
def p013_censored_potassium() -> Case:
    """Potassium "<3.0" is used as 3.0: hypokalemia (also correction risk). A normal ionized
    calcium (1.20) decides over a low total calcium (7.6): no hypocalcemia."""
    case = Case("P013").sodium(nov(20, "08:00"), "131")
    case.lab(nov(20, "08:00"), "2823-3", "<3.0")
    case.lab(nov(20, "08:00"), "1994-3", "1.20")
    return case.lab(nov(20, "08:00"), "17861-6", "7.6")


@planted
def p014_only_non_numeric_low() -> Case:
    """Sodium rows HEMOLYZED, ___, empty and an unreadable time are quarantined; the only
    usable sodium is 139: no case."""
    case = Case("P014").sodium(nov(20, "05:00"), "HEMOLYZED")
    case.lab(nov(20, "05:00"), "2823-3", "HEMOLYZED")
    case.sodium(nov(20, "06:00"), "___")
    case.sodium(nov(20, "07:00"), "")
    case.sodium("unknown", "118")
    case.sodium(nov(20, "09:00"), "139")
    return case.med("Hydrochlorothiazide 25 mg", LONG_AGO)


@planted
def p015_non_numeric_beside_valid() -> Case:
    """Na 124 (moderate); later "See Comments" and "cancelled" sodium rows are quarantined;
    serum osmolality "___" does not count, so it is missing from the workup."""
    case = Case("P015").sodium(nov(20, "09:00"), "124")
    case.sodium(nov(20, "10:00"), "See Comments")
    case.sodium(nov(20, "11:00"), "cancelled")
    case.lab(nov(20, "10:00"), "2692-2", "___")
    case.workup(None, nov(20, "10:00"), nov(20, "10:00"))
    return case.med("Amitriptyline 25 mg tablet", LONG_AGO)


@planted
def p016_bad_unit_and_implausible() -> Case:
    """Sodium "115" in mg/dL (bad_unit) and 1350 (implausible) are not used: index 123."""
    case = Case("P016").sodium(nov(20, "04:00"), "115", unit="mg/dL")
    case.sodium(nov(20, "08:00"), "123")
    case.sodium(nov(20, "12:00"), "1350")
    return case.med("Tegretol 200mg", LONG_AGO)


@planted
def p017_entered_in_error() -> Case:
    """Sodium 119 entered-in-error is quarantined: index 130 (mild); plain oxcarbazepine."""
    case = Case("P017").sodium(nov(20, "03:00"), "119", status="entered-in-error")
    case.sodium(nov(20, "07:00"), "130")
    return case.med("oxcarbazepine", LONG_AGO)


@planted
def p018_exact_duplicate() -> Case:
    """The same sodium row twice: counted once; risperidone as RxNorm code only."""
    case = Case("P018").sodium(nov(20, "06:00"), "122", specimen="S018-NA")
    case.sodium(nov(20, "06:00"), "122", specimen="S018-NA")
    return case.med("", LONG_AGO, rxnorm="35636")


@planted
def missing_patient_id() -> Case:
    """A sodium 110 without patient_id: quarantined missing_key, belongs to no case."""
    return Case("").sodium(nov(20, "05:00"), "110")


# --- analyte identification (spec §2) --------------------------------------------------------


@planted
def p019_low_sodium_only_in_urine() -> Case:
    """Urine sodium (2955-3, serum LOINC with specimen Urine, name-only Urine row) is never
    serum sodium: serum 140 only, no case."""
    case = Case("P019").sodium(nov(20, "08:00"), "140")
    case.lab(nov(20, "08:30"), "2955-3", "22")
    case.sodium(nov(20, "09:00"), "35", specimen_type="Urine")
    case.lab(nov(20, "10:00"), "", "30", "mmol/L", name="Sodium", specimen_type="Urine")
    return case.med("Furosemide 40 mg", LONG_AGO)


@planted
def p020_unknown_loinc_named_sodium() -> Case:
    """A row with unknown LOINC 99999-9 named "Sodium" (118) is not relevant: no case."""
    case = Case("P020").lab(nov(20, "06:00"), UNKNOWN_SODIUM_LOINC, "118", "mmol/L", name="Sodium")
    case.sodium(nov(20, "06:30"), "139")
    return case.med("Hydrochlorothiazide 12.5 mg", LONG_AGO)


@planted
def p021_identified_by_name_only() -> Case:
    """Rows without LOINC named "Sodium" (126) and "Potassium" (3.2): hypokalemia plus brand
    Effexor XR (2 categories)."""
    case = Case("P021").lab(nov(20, "11:00"), "", "126", "mmol/L", name="Sodium")
    case.lab(nov(20, "11:00"), "", "3.2", "mmol/L", name="Potassium")
    return case.med("Effexor XR 75mg", LONG_AGO)


# --- medication matching and exposure (spec §6) ----------------------------------------------


@planted
def p022_combination_atc() -> Case:
    """ATC C03EA01 only: thiazide + potassium-sparing (2 categories)."""
    return Case("P022").sodium(nov(20, "10:00"), "132").med("", LONG_AGO, atc="C03EA01")


@planted
def p023_no_active_listed_drug() -> Case:
    """Thiazide stopped 8 days before (end + 7 d < index), chlorthalidone started after the
    index, and unlisted bupropion/trazodone/lithium: no risk factor, mild, not listed."""
    case = Case("P023").sodium(nov(20, "07:00"), "131")
    case.med("Hydrochlorothiazide 25 mg tablet", "2026-06-01T09:00:00", nov(12, "00:00"))
    case.med("Chlorthalidone 25 mg", nov(20, "15:00"))
    case.med("Bupropion XL 150 mg", LONG_AGO)
    case.med("Trazodone 50 mg", LONG_AGO)
    return case.med("Lithium carbonate 300 mg", LONG_AGO)


@planted
def p024_stopped_and_entered_in_error() -> Case:
    """Citalopram status stopped, no end, started > 30 d before: inactive. Sertraline
    entered-in-error: ignored. Mild, no risk factor: not listed."""
    case = Case("P024").sodium(nov(20, "08:30"), "130")
    case.med("Citalopram 20 mg", "2026-09-01T09:00:00", status="stopped")
    return case.med("Sertraline 50 mg", "2026-11-01T09:00:00", status="entered-in-error")


@planted
def p025_active_through_grace() -> Case:
    """Bumetanide ended 2026-11-15: still active at the index through the 7-day grace."""
    case = Case("P025").sodium(nov(20, "10:00"), "129")
    return case.med("Bumetanide 1 mg tablet", "2026-10-01T09:00:00", nov(15, "00:00"))


@planted
def p026_completed_within_30_days() -> Case:
    """Mirtazapine completed, no end, started 19 days before: active (start + 30 d); new start."""
    case = Case("P026").sodium(nov(20, "06:00"), "129")
    return case.med("Mirtazapine 15 mg", nov(1, "09:00"), status="completed")


# --- conditions (spec §6) and over-correction limit with correction risk (§8) ---------------


@planted
def p027_cirrhosis_rise_7() -> Case:
    """Cirrhosis K74.60: limit 6, so 123 -> 130 in 18 h is over-rapid (tier 1); full workup."""
    case = Case("P027").sodium(nov(20, "02:00"), "123").sodium(nov(20, "20:00"), "130")
    case.diagnosis("K74.60", "2025-03-01T10:00:00", "Unspecified cirrhosis of liver")
    return case.workup(nov(19, "22:00"), nov(20, "03:00"), nov(20, "03:00"))


@planted
def p028_rise_7_without_correction_risk() -> Case:
    """Heart failure (ICD-9 428.0), 123 -> 130 in 18 h: within the limit of 8, moderate."""
    case = Case("P028").sodium(nov(20, "02:00"), "123").sodium(nov(20, "20:00"), "130")
    return case.diagnosis(
        "428.0", "2019-04-01T10:00:00", "Congestive heart failure", system="ICD-9-CM"
    )


@planted
def p029_cirrhosis_code_without_dot() -> Case:
    """Cirrhosis written K7460 (no dot) is the same code: risk factor and correction risk."""
    case = Case("P029").sodium(nov(20, "08:00"), "131")
    return case.diagnosis("K7460", "2024-08-20T10:00:00", "Other cirrhosis of liver")


@planted
def p030_condition_timing_and_status() -> Case:
    """SIADH counts; heart failure recorded after the index and resolved CKD do not."""
    case = Case("P030").sodium(nov(20, "09:00"), "126")
    case.diagnosis("E22.2", "2026-09-01T10:00:00", "SIADH")
    case.diagnosis("I50.9", nov(20, "18:00"), "Heart failure, unspecified")
    return case.diagnosis(
        "N18.3", "2025-01-01T10:00:00", "Chronic kidney disease, stage 3", status="resolved"
    )


@planted
def p031_correction_risk_only_conditions() -> Case:
    """Alcohol use disorder and malnutrition are not risk factors: mild, not listed."""
    case = Case("P031").sodium(nov(20, "07:30"), "130")
    case.diagnosis("F10.20", "2025-10-01T10:00:00", "Alcohol dependence, uncomplicated")
    return case.diagnosis("E43", "2026-10-15T10:00:00", "Severe protein-calorie malnutrition")


@planted
def p032_cramp_within_30_days() -> Case:
    """Cramp R25.2 recorded 10 days before the index: cramp_documented, tier 2."""
    case = Case("P032").sodium(nov(20, "08:00"), "133")
    return case.diagnosis("R25.2", nov(10, "10:00"), "Cramp and spasm")


@planted
def p033_cramp_outside_window() -> Case:
    """Cramps 40 days before and after window_end do not count; magnesium 1.6 mg/dL does."""
    case = Case("P033").sodium(nov(20, "08:00"), "132")
    case.lab(nov(20, "08:00"), "19123-9", "1.6")
    case.diagnosis("R25.2", "2026-10-11T08:00:00", "Cramp and spasm")
    return case.diagnosis("R25.2", nov(25, "10:00"), "Cramp and spasm")


# --- electrolyte co-factors (spec §6) ---------------------------------------------------------


@planted
def p034_magnesium_mmol_and_ionized_calcium() -> Case:
    """Magnesium 0.65 mmol/L (1.58 mg/dL) low; ionized calcium 1.05 low decides over a normal
    total calcium 9.4 (2 categories)."""
    case = Case("P034").sodium(nov(20, "10:00"), "132")
    case.lab(nov(20, "10:00"), "2601-3", "0.65")
    case.lab(nov(20, "10:00"), "1994-3", "1.05")
    return case.lab(nov(20, "10:00"), "17861-6", "9.4")


@planted
def p035_albumin_corrects_calcium_to_normal() -> Case:
    """Calcium 8.0 with albumin 3.0 -> 8.8, not low; potassium 3.4 after the index is."""
    case = Case("P035").sodium(nov(20, "09:00"), "130")
    case.lab(nov(20, "09:00"), "17861-6", "8.0")
    case.lab(nov(20, "09:00"), "1751-7", "3.0")
    return case.lab(nov(20, "20:00"), "2823-3", "3.4")


@planted
def p036_albumin_corrected_calcium_low() -> Case:
    """Calcium 7.8 with albumin 35 g/L (3.5 g/dL) -> 8.2, low; potassium 3.1 26 h before the
    index is outside ±24 h."""
    case = Case("P036").sodium(nov(20, "10:00"), "133")
    case.lab(nov(20, "10:00"), "17861-6", "7.8")
    case.lab(nov(20, "10:00"), "1751-7", "35", "g/L")
    return case.lab(nov(19, "08:00"), "2823-3", "3.1")


# --- serial results (spec §8) and index choice (§7) -------------------------------------------


@planted
def p037_fall_of_6_in_48h() -> Case:
    """136 (context, 47 h before) then 130: delta_48h -6.0, tier 2; brand Prozac; full workup."""
    case = Case("P037").sodium(nov(18, "10:00"), "136").sodium(nov(20, "09:00"), "130")
    case.med("Prozac 20mg capsule", LONG_AGO)
    return case.workup(nov(20, "10:00"), nov(19, "12:00"), nov(19, "12:00"))


@planted
def p038_over_rapid_rise_9() -> Case:
    """118 then 127 18 h later: rise 9 > 8, over-rapid; torsemide as RxNorm code only."""
    case = Case("P038").sodium(nov(20, "01:00"), "118")
    case.sodium(nov(20, "19:00"), "127", loinc="2947-0")
    return case.med("", LONG_AGO, rxnorm="38413")


@planted
def p039_over_rapid_from_context() -> Case:
    """Context 122 then 131 in the window 20 h later: over-rapid, listed with no risk factor."""
    return Case("P039").sodium(nov(19, "12:00"), "122").sodium(nov(20, "08:00"), "131")


@planted
def p040_index_tie() -> Case:
    """Two lowest values 128 (03:00 and 15:00): the earlier is the index; latest 131."""
    case = Case("P040").sodium(nov(20, "03:00"), "128")
    case.sodium(nov(20, "15:00"), "128", loinc="39791-9")
    case.sodium(nov(20, "21:00"), "131")
    return case.med("Lamotrigine 100 mg tablet", LONG_AGO)


@planted
def p041_result_at_window_end() -> Case:
    """Sodium 118 at 2026-11-21T00:00 (= window_end) is not used: index and latest 132."""
    case = Case("P041").sodium(nov(20, "07:00"), "132").sodium(nov(21, "00:00"), "118")
    return case.med("Escitalopram 10 mg tablet", LONG_AGO)


@planted
def p042_low_only_in_context() -> Case:
    """125 two days before the window, 138 inside it: a context result is never a case."""
    case = Case("P042").sodium(nov(18, "06:00"), "125").sodium(nov(20, "08:00"), "138")
    return case.med("Hydrochlorothiazide 25 mg", LONG_AGO)


@planted
def p043_profound_correction_risk() -> Case:
    """104: severe, index <= 105 gives correction risk; no risk factor; full workup."""
    case = Case("P043").sodium(nov(20, "05:00"), "104")
    return case.workup(nov(20, "06:00"), nov(20, "07:00"), nov(20, "07:00"))


@planted
def p044_cramp_after_index() -> Case:
    """Cramp recorded after the index but before window_end (within +30 d): counts, tier 2."""
    case = Case("P044").sodium(nov(20, "07:00"), "134")
    return case.diagnosis("R25.2", nov(20, "16:00"), "Cramp and spasm")


def normal_patient(number: int) -> Callable[[], Case]:
    """A patient whose sodium stays normal: not a case. A real extract is mostly these, and
    they keep the share of non-numeric sodium values under the data contract's 5 % limit."""

    def build() -> Case:
        case = Case(f"P{number:03d}")
        for hhmm, value in (("06:00", "139"), ("14:00", "140"), ("22:00", "141")):
            case = case.sodium(nov(20, hhmm), value)
        return case

    build.__name__ = f"p{number:03d}_normal_sodium"
    return build


for _number in range(45, 65):
    planted(normal_patient(_number))


# --- writing -----------------------------------------------------------------------------------

SEXES = ("F", "M")
UNITS = ("4 West", "5 North", "ICU", "6 East")


def patient_row(patient_id: str) -> dict[str, str]:
    number = int(patient_id[1:])
    return {
        "patient_id": patient_id,
        "mrn": f"MRN{number:04d}",
        "name": f"Test Patient {number:02d}",
        "birth_date": f"{1935 + (number * 7) % 55}-{1 + number % 12:02d}-{1 + number % 28:02d}",
        "sex": SEXES[number % 2],
        "unit": UNITS[number % len(UNITS)],
    }


def build_tables() -> dict[str, pd.DataFrame]:
    cases = [build() for build in CASES]
    patients = sorted(case.patient_id for case in cases if case.patient_id)

    def frame(rows: list[dict[str, str]], columns: list[str]) -> pd.DataFrame:
        return pd.DataFrame(rows, columns=columns, dtype=str)

    return {
        "labs": frame([row for case in cases for row in case.labs], LAB_COLUMNS),
        "medications": frame([row for case in cases for row in case.meds], MED_COLUMNS),
        "diagnoses": frame([row for case in cases for row in case.dx], DX_COLUMNS),
        "patients": frame([patient_row(pid) for pid in patients], PATIENT_COLUMNS),
    }


def main() -> None:
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    for name, table in build_tables().items():
        table.to_csv(OUT_DIR / f"{name}.csv", index=False, lineterminator="\n")
        print(f"{name}: {len(table)} rows -> {OUT_DIR / (name + '.csv')}")


if __name__ == "__main__":
    main()
