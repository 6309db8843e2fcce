"""A site's rules copy with every threshold moved (definition < 136 with its bands, glucose
factor 2.4 above 120 mg/dL, pairing ±90 min, context 96 h, grace 3 d, cramps ±14 d, co-factors
±12 h with K < 3.6, Mg < 1.8, ionized Ca < 1.15, total Ca < 8.6 corrected to albumin 3.8 by
1.0, delta 36 h, over-correction 10 / 4 per 12 h, soon at a fall of 4) and a local unit, lab
name, LOINC-form code, drug synonym, ATC code and condition code added: the review list equals
the one an independent screen written from the spec alone (tests/spec_screen.py) gives with
those numbers, for patients placed at each changed edge, and the packaged rules' list equals
the one it gives with the spec's defaults."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest
from tests.helpers import run_cli

from hyposcreen.rules.loader import RULES_DIR
from spec_screen import SpecRules, spec_screen

DAY = "2026-11-20T"
LAB = "patient_id,specimen_id,specimen_time,loinc,lab_name,value_raw,unit,specimen_type"
# patient, specimen, time, loinc, name, value, unit; each patient's reason is hand-computed
LABS = [
    ("E01", "S01", DAY + "08:00", "2951-2", "Sodium", "135.5", "mmol/L"),  # < 136 only: mild
    ("E02", "S02", DAY + "08:00", "2951-2", "Sodium", "136.0", "mmol/L"),  # never low
    ("E03", "S03", DAY + "08:00", "2951-2", "Sodium", "120.5", "mmol/L"),  # severe < 121 only
    ("E04", "S04", DAY + "08:00", "2951-2", "Sodium", "121.0", "mmol/L"),  # moderate, no factor
    # 130 + 2.4 x (200 - 120) / 100 = 131.92 with a glucose 80 min before (±90 min only)
    ("E05", "S05", DAY + "10:00", "2951-2", "Sodium", "130", "mmol/L"),
    ("E05", "G05", DAY + "08:40", "2345-7", "Glucose", "200", "mg/dL"),
    ("E06", "S06", DAY + "10:00", "2951-2", "Sodium", "134", "mmol/L"),  # glucose 95 min away
    ("E06", "G06", DAY + "08:25", "2345-7", "Glucose", "500", "mg/dL"),
    # same specimen: 134.5 + 2.4 x 30 / 100 = 135.22 (< 136); packaged 134.5 + 0.8 = 135.3
    ("E07", "S07", DAY + "10:00", "2951-2", "Sodium", "134.5", "mmol/L"),
    ("E07", "S07", DAY + "10:00", "2345-7", "Glucose", "150", "mg/dL"),
    # 136 then 130: 40 h apart (no 36 h change) and 30 h apart (-6: soon either way)
    ("E08", "S08a", "2026-11-18T14:00", "2951-2", "Sodium", "136", "mmol/L"),
    ("E08", "S08b", DAY + "06:00", "2951-2", "Sodium", "130", "mmol/L"),
    ("E09", "S09a", "2026-11-19T00:00", "2951-2", "Sodium", "136", "mmol/L"),
    ("E09", "S09b", DAY + "06:00", "2951-2", "Sodium", "130", "mmol/L"),
    # +9 in 18 h (outside 12 h) and +9.5 in 10 h (within 12 h, not above 10)
    ("E10", "S10a", DAY + "02:00", "2951-2", "Sodium", "122", "mmol/L"),
    ("E10", "S10b", DAY + "20:00", "2951-2", "Sodium", "131", "mmol/L"),
    ("E11", "S11a", DAY + "02:00", "2951-2", "Sodium", "122", "mmol/L"),
    ("E11", "S11b", DAY + "12:00", "2951-2", "Sodium", "131.5", "mmol/L"),
    ("E12", "S12", DAY + "08:00", "2951-2", "Sodium", "130", "mmol/L"),  # K 3.55 < 3.6 only
    ("E12", "K12", DAY + "09:00", "2823-3", "Potassium", "3.55", "mmol/L"),
    ("E13", "S13", DAY + "08:00", "2951-2", "Sodium", "130", "mmol/L"),  # Mg 1.75 < 1.8 only
    ("E13", "M13", DAY + "09:00", "19123-9", "Magnesium", "1.75", "mg/dL"),
    ("E14", "S14", DAY + "08:00", "2951-2", "Sodium", "130", "mmol/L"),  # iCa 1.13 < 1.15 only
    ("E14", "C14", DAY + "09:00", "1994-3", "Ionized calcium", "1.13", "mmol/L"),
    # total Ca 8.45, albumin 3.9: site 8.45 (no correction, 3.9 >= 3.8) < 8.6; packaged
    # 8.45 + 0.8 x 0.1 = 8.53, not < 8.5
    ("E15", "S15", DAY + "08:00", "2951-2", "Sodium", "130", "mmol/L"),
    ("E15", "C15", DAY + "09:00", "17861-6", "Calcium", "8.45", "mg/dL"),
    ("E15", "C15", DAY + "09:00", "1751-7", "Albumin", "3.9", "g/dL"),
    # K 3.2 13 h after the index: outside ±12 h only (listed either way for its sertraline)
    ("E24", "S24", DAY + "08:00", "2951-2", "Sodium", "130", "mmol/L"),
    ("E24", "K24", DAY + "21:00", "2823-3", "Potassium", "3.2", "mmol/L"),
    ("E16", "S16", DAY + "08:00", "2951-2", "Sodium", "130", "mmol/L"),  # drug ended 5 d before
    ("E17", "S17", DAY + "08:00", "2951-2", "Sodium", "130", "mmol/L"),  # cramp 20 d before
    ("E18", "S18", DAY + "08:00", "2951-2", "Sodium", "130", "mval/l"),  # the site's unit
    ("E19", "S19", DAY + "08:00", "", "Natrium i.S.", "130", "mmol/L"),  # the site's lab name
    ("E20", "S20", DAY + "08:00", "2951-2", "Sodium", "130", "mmol/L"),  # xipamide by ATC
    ("E21", "S21", DAY + "08:00", "2951-2", "Sodium", "130", "mmol/L"),  # K72.10 cirrhosis
    ("E22", "S22", DAY + "08:00", "12345-6", "Na local", "130", "mmol/L"),  # the site's code
    ("E23", "S23", DAY + "08:00", "2951-2", "Sodium", "125.5", "mmol/L"),  # mild, sertraline
]
FUROSEMIDE = ("Furosemide 40mg tab", "", "2026-05-12T09:00", "")
MEDICATIONS = [
    (p, *FUROSEMIDE)
    for p in ("E01", "E02", "E06", "E07", "E08", "E09", "E10", "E11", "E18", "E19", "E22")
] + [
    ("E05", "Esidrex 25mg", "", "2026-05-12T09:00", ""),  # the site's synonym
    ("E16", "Bumetanide 1 mg tablet", "", "2026-05-12T09:00", "2026-11-15T08:00"),
    ("E20", "", "C03BA10", "2026-05-12T09:00", ""),
    ("E23", "Sertraline 50 mg", "", "2026-05-12T09:00", ""),
    ("E24", "Sertraline 50 mg", "", "2026-05-12T09:00", ""),
]
DIAGNOSES = [("E17", "R25.2", "2026-10-31T08:00"), ("E21", "K72.10", "2025-01-01T08:00")]
SEED = 'hyponatremia: {op: "<=", threshold: 135}'
CHANGES = [
    (SEED, 'hyponatremia: {op: "<", threshold: 136}'),
    ("threshold: 120}", "threshold: 121}"),
    ('level: mild, op: "<=", threshold: 135}', 'level: mild, op: "<", threshold: 136}'),
    ("threshold_mg_dl: 100", "threshold_mg_dl: 120"),
    ("factor: 1.6 ", "factor: 2.4 "),
    ("pairing_window_minutes: 60", "pairing_window_minutes: 90"),
    ("context_hours_before_window: 72", "context_hours_before_window: 96"),
    ("medication_grace_days: 7", "medication_grace_days: 3"),
    ("cramp_window_days: 30", "cramp_window_days: 14"),
    ("cofactor_window_hours: 24", "cofactor_window_hours: 12"),
    ("delta_window_hours: 48", "delta_window_hours: 36"),
    ("overcorrection_window_hours: 24", "overcorrection_window_hours: 12"),
    ("overcorrection_mmol_per_24h: 8", "overcorrection_mmol_per_24h: 10"),
    ("overcorrection_with_risk_mmol_per_24h: 6", "overcorrection_with_risk_mmol_per_24h: 4"),
    ("soon_delta_48h_max: -5", "soon_delta_48h_max: -4"),
    ("potassium_low_mmol_l: 3.5", "potassium_low_mmol_l: 3.6"),
    ("magnesium_low_mg_dl: 1.7", "magnesium_low_mg_dl: 1.8"),
    ("ionized_calcium_low_mmol_l: 1.12", "ionized_calcium_low_mmol_l: 1.15"),
    ("total_calcium_low_mg_dl: 8.5", "total_calcium_low_mg_dl: 8.6"),
    ("albumin_reference_g_dl: 4.0", "albumin_reference_g_dl: 3.8"),
    ("albumin_calcium_factor: 0.8", "albumin_calcium_factor: 1.0"),
]
ADDED = {
    "analyte_units.csv": "sodium,mval/l,1,site: old German spelling of mEq/L",
    "lab_dictionary.csv": "Natrium i.S.,sodium,site lab name",
    "analyte_codes.csv": "12345-6,sodium,site code in LOINC form",
    "drug_synonyms.csv": "esidrex,hydrochlorothiazide,site brand spelling",
    "drug_ingredients.csv": "xipamide,thiazide_diuretic,C03BA10,,site: thiazide-like",
    "condition_codes.csv": "cirrhosis,ICD-10-CM,K72.1,prefix,site: chronic hepatic failure",
}
SITE = SpecRules(
    hypo=("<", 136),
    bands=[("severe", "severe", "<", 121), ("moderate", "moderate", "<=", 125),
           ("mild", "mild", "<", 136)],
    glucose_threshold=120, glucose_factor=2.4, pairing_minutes=90, context_hours=96,
    grace_days=3, cramp_days=14, cofactor_hours=12, delta_hours=36, overcorrection_hours=12,
    overcorrection=10, overcorrection_with_risk=4, soon_delta=-4, potassium=3.6, magnesium=1.8,
    ionized_calcium=1.15, total_calcium=8.6, albumin_reference=3.8, albumin_factor=1.0,
)  # fmt: skip
SITE.units[("sodium", "mval/l")] = 1
SITE.names["natrium i.s."] = "sodium"
SITE.loinc["12345-6"] = "sodium"
SITE.drugs.update(esidrex="thiazide_diuretic", xipamide="thiazide_diuretic")
SITE.atc["C03BA10"] = "thiazide_diuretic"
SITE.codes["K72.1"] = "cirrhosis"


def _extract(folder: Path) -> Path:
    folder.mkdir()
    lines = [LAB] + [f"{p},{s},{t}:00,{c},{n},{v},{u},Serum" for p, s, t, c, n, v, u in LABS]
    (folder / "labs.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    lines = ["patient_id,drug_name,atc,start_time,end_time"]
    lines += [f"{p},{d},{a},{s}:00,{e + ':00' if e else ''}" for p, d, a, s, e in MEDICATIONS]
    (folder / "medications.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    lines = ["patient_id,code,code_system,recorded_time"]
    lines += [f"{p},{c},ICD-10-CM,{t}:00" for p, c, t in DIAGNOSES]
    (folder / "diagnoses.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def _site_rules(folder: Path) -> Path:
    shutil.copytree(RULES_DIR, folder, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    text = (folder / "rules.yaml").read_text(encoding="utf-8")
    for old, new in CHANGES:
        assert old in text
        text = text.replace(old, new, 1)
    (folder / "rules.yaml").write_text(text, encoding="utf-8")
    for name, line in ADDED.items():
        with (folder / name).open("a", encoding="utf-8") as codes:
            codes.write(line + "\n")
    return folder


def _listed(extract: Path, out: Path, *rules: str) -> dict[str, dict]:
    done = run_cli(
        "run", "--no-flow", "--input", str(extract), "--out", str(out),
        "--window-start", "2026-11-20", *rules,
    )  # fmt: skip
    assert done.returncode in (0, 4), done.stderr[-600:]
    with (out / "2026-11-20" / "review_list.csv").open(encoding="utf-8") as f:
        return {
            row["patient_id"]: {
                "tier": int(row["tier"]),
                "severity": row["severity"],
                "corrected": row["corrected_sodium"],
                "risk_factors": row["risk_factors"],
                "correction_risk": row["correction_risk"] == "true",
                "overcorrection": row["overcorrection"] == "true",
                "delta": row["delta_48h"] or None,
            }
            for row in csv.DictReader(f)
        }


@pytest.mark.parametrize("site", [False, True], ids=["packaged", "site copy"])
def test_the_list_is_the_spec_s_with_the_rules_numbers(tmp_path: Path, site: bool) -> None:
    extract = _extract(tmp_path / "extract")
    rules = ["--rules", str(_site_rules(tmp_path / "rules"))] if site else []
    listed = _listed(extract, tmp_path / "out", *rules)
    expected = spec_screen(extract, SITE if site else SpecRules(), "2026-11-20", "2026-11-21")
    assert listed == expected
    # not vacuous: the edges fall on either side (packaged: 9 cases, the site copy: 20)
    if site:
        assert {"E01", "E03", "E07", "E12", "E13", "E14", "E15", "E18", "E22"} <= set(listed)
        assert not {"E02", "E04", "E16", "E17"} & set(listed)
        assert listed["E24"]["risk_factors"] == "ssri"  # K 13 h away, outside ±12 h
        assert listed["E05"]["corrected"] == "131.9"  # 131.92: paired 80 min away
        assert listed["E11"]["overcorrection"] is False  # +9.5 within 12 h, limit 10
    else:
        assert {"E10", "E11", "E16", "E17"} <= set(listed)
        assert listed["E24"]["risk_factors"] == "hypokalemia;ssri"
        assert not {"E01", "E03", "E07", "E15"} & set(listed)
