"""Spec §7 (listing, order) and §9 (tiers), and a whole pipeline run writing the review list
with its profile, rules version and a reconciled manifest."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd

from helpers import (
    T0,
    dx,
    hours,
    med,
    only_case,
    run_screen,
    sodium,
)
from hyposcreen.config import RunSettings, Window
from hyposcreen.rules.loader import RULES_DIR, load_rules
from hyposcreen.runners.in_process import run_pipeline
from hyposcreen.screen.cases import order_cases

# ------------------------------------------------------------------ listing and tiers


def test_mild_case_without_risk_factor_is_not_listed() -> None:
    case = only_case([sodium("130")])
    assert not case["listed"] and case["rank"] == 0


def test_moderate_case_without_risk_factor_is_not_listed() -> None:
    assert not only_case([sodium("122")])["listed"]


def test_severe_case_without_risk_factor_is_listed_tier_1() -> None:
    case = only_case([sodium("119.9")])
    assert (bool(case["listed"]), case["tier"], case["severity"]) == (True, 1, "severe")


def test_moderate_case_with_a_risk_factor_is_tier_2() -> None:
    case = only_case([sodium("125")], [med("Zoloft")])
    assert (bool(case["listed"]), case["tier"]) == (True, 2)


def test_mild_case_with_two_risk_factor_categories_is_tier_2() -> None:
    case = only_case([sodium("130")], [med("Lasix"), med("Zoloft")])
    assert case["risk_factors"] == "loop_diuretic;ssri"
    assert case["tier"] == 2


def test_two_drugs_of_one_class_are_one_risk_factor_category() -> None:
    case = only_case([sodium("130")], [med("Lasix"), med("bumetanide 1 mg")])
    assert (case["risk_factors"], case["n_risk_factors"], case["tier"]) == ("loop_diuretic", 1, 3)


def test_correction_risk_condition_alone_does_not_list_a_mild_case() -> None:
    assert not only_case([sodium("130")], diagnoses=[dx("E43")])["listed"]


def test_order_is_tier_then_corrected_sodium_then_time_then_patient() -> None:
    cases = pd.DataFrame(
        {
            "patient_id": ["E", "D", "C", "B", "A", "Z"],
            "listed": [True, True, True, True, True, False],
            "tier": [3, 2, 2, 2, 1, 1],
            "corrected_sodium": [128.0, 124.0, 124.0, 121.0, 133.0, 110.0],
            "index_time": [T0, T0 + hours(1), T0, T0, T0, T0],
        }
    )
    ordered = order_cases(cases)
    # tier 1: A; tier 2: B (121) < C (124, T0) < D (124, T0 + 1 h); tier 3: E; Z not listed
    assert list(ordered["patient_id"]) == ["A", "B", "C", "D", "E", "Z"]
    assert list(ordered["rank"]) == [1, 2, 3, 4, 5, 0]


def test_order_ties_on_everything_but_patient_id() -> None:
    cases = pd.DataFrame(
        {
            "patient_id": ["P9", "P10", "P2"],
            "listed": [True, True, True],
            "tier": [1, 1, 1],
            "corrected_sodium": [115.0, 115.0, 115.0],
            "index_time": [T0, T0, T0],
        }
    )
    assert list(order_cases(cases)["patient_id"]) == ["P10", "P2", "P9"]  # string order


def test_screen_orders_listed_cases() -> None:
    result = run_screen(
        [
            sodium("130", patient_id="P1"),  # mild + thiazide → tier 3
            sodium("124", patient_id="P2"),  # moderate + SSRI → tier 2
            sodium("118", patient_id="P3"),  # severe → tier 1
            sodium("123", patient_id="P4"),  # moderate + SSRI → tier 2, lower than P2
        ],
        [
            med("HCTZ", patient_id="P1"),
            med("Zoloft", patient_id="P2"),
            med("Zoloft", patient_id="P4"),
        ],
    )
    listed = result.cases.loc[result.cases["listed"]]
    assert list(listed["patient_id"]) == ["P3", "P4", "P2", "P1"]
    assert list(listed["tier"]) == [1, 2, 2, 3]


# ------------------------------------------------------------------ end to end


LABS_CSV = """patient_id,specimen_time,loinc,value_raw,unit
P1,2026-11-20T08:00:00,2951-2,118,mmol/L
P2,2026-11-20T09:00:00,2951-2,130,mmol/L
P2,2026-11-20T09:00:00,2951-2,130,mmol/L
P3,2026-11-20T10:00:00,2951-2,HEMOLYZED,mmol/L
P3,2026-11-20T10:00:00,9999-9,1,x
"""
MEDICATIONS_CSV = """patient_id,drug_name,start_time
P2,Lasix,2026-11-01T00:00:00
"""
DIAGNOSES_CSV = """patient_id,code,code_system,recorded_time
P2,R25.2,ICD-10-CM,2026-11-19T00:00:00
"""


def test_pipeline_writes_review_list_with_profile_version_and_reconciled_manifest(
    tmp_path: Path,
) -> None:
    (tmp_path / "labs.csv").write_text(LABS_CSV, encoding="utf-8")
    (tmp_path / "medications.csv").write_text(MEDICATIONS_CSV, encoding="utf-8")
    (tmp_path / "diagnoses.csv").write_text(DIAGNOSES_CSV, encoding="utf-8")
    out = tmp_path / "out"
    window = Window(pd.Timestamp("2026-11-20"), pd.Timestamp("2026-11-21"))
    # five rows with one duplicate and one non-numeric sodium: above the data contract's
    # default limits, so this run uses a rules copy whose limits allow them
    rules = tmp_path / "rules"
    shutil.copytree(RULES_DIR, rules, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    text = (rules / "rules.yaml").read_text(encoding="utf-8")
    text = text.replace("max_duplicate_rate: 0.20", "max_duplicate_rate: 1.0")
    text = text.replace("max_non_numeric_sodium_rate: 0.05", "max_non_numeric_sodium_rate: 1.0")
    (rules / "rules.yaml").write_text(text, encoding="utf-8")
    settings = RunSettings(
        input_dir=tmp_path, out_dir=out, window=window, profile="eu2014", rules_dir=rules
    )
    run_pipeline(settings)
    review = pd.read_csv(out / "review_list.csv", dtype=str, keep_default_na=False)
    # P1 118 < 125 → profound, tier 1; P2 130 mild + loop diuretic + cramp → tier 2
    assert list(review["patient_id"]) == ["P1", "P2"]
    assert list(review["tier"]) == ["1", "2"]
    assert list(review["severity"]) == ["profound", "mild"]
    assert list(review["corrected_sodium"]) == ["118.0", "130.0"]  # one decimal
    assert list(review["risk_factors"]) == ["", "cramp_documented;loop_diuretic"]
    assert set(review["profile"]) == {"eu2014"}
    assert set(review["rules_version"]) == {load_rules().version}
    manifest = json.loads((out / "run_manifest.json").read_text(encoding="utf-8"))
    labs = manifest["reconciliation"]["labs"]
    # 5 rows in = used 2 + duplicate 1 + quarantined 1 (non_numeric) + not relevant 1 (LOINC)
    assert (labs["rows_in"], labs["used"], labs["duplicate"]) == (5, 2, 1)
    assert (labs["quarantined"], labs["not_relevant"]) == (1, 1)
    assert manifest["reconciled"] is True
    assert manifest["profile"] == "eu2014"
