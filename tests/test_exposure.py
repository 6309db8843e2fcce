"""Spec §6, medications: a drug class counts when the record is active at the index time."""

from __future__ import annotations

import pandas as pd

from helpers import RULES, T0, WINDOW, cleaned_meds, days, med, minutes, run_screen, sodium
from hyposcreen.clean import USED
from hyposcreen.screen.exposure import active_drug_classes


def active(rows: list[dict], index_time: pd.Timestamp = T0) -> pd.DataFrame:
    """Active-drug evidence for one case of P1 at `index_time`."""
    meds, matches = cleaned_meds(rows)
    cases = pd.DataFrame({"patient_id": ["P1"], "index_time": [index_time]})
    return active_drug_classes(cases, meds.loc[meds["bucket"] == USED], matches, RULES)


def test_record_starting_at_the_index_time_is_active() -> None:
    assert list(active([med("Lasix", start=T0)])["risk_factor"]) == ["loop_diuretic"]


def test_record_starting_after_the_index_time_is_not_active() -> None:
    assert active([med("Lasix", start=T0 + minutes(1))]).empty


def test_record_is_active_until_end_plus_7_days_inclusive() -> None:
    # end = T0 − 7 d → end + 7 d = T0 ≥ index → active
    assert len(active([med("Lasix", start=T0 - days(60), end=T0 - days(7))])) == 1


def test_record_stopped_more_than_7_days_before_the_index_is_not_active() -> None:
    # end + 7 d = T0 − 1 min < index → not active
    end = T0 - days(7) - minutes(1)
    assert active([med("Lasix", start=T0 - days(60), end=end)]).empty


def test_record_without_end_time_is_ongoing() -> None:
    assert len(active([med("Lasix", start=T0 - days(2000), end=None)])) == 1


def test_stopped_record_without_end_is_active_for_30_days_from_start() -> None:
    # stopped, no end: active until start + 30 d, no grace. start = T0 − 30 d → T0 is the last day
    assert len(active([med("Lasix", start=T0 - days(30), status="stopped")])) == 1
    assert len(active([med("Lasix", start=T0 - days(30), status="completed")])) == 1


def test_stopped_record_without_end_gets_no_further_grace() -> None:
    # start + 30 d = T0 − 1 min < index → not active (no 7-day grace on top)
    start = T0 - days(30) - minutes(1)
    assert active([med("Lasix", start=start, status="stopped")]).empty


def test_stopped_record_with_an_end_uses_end_plus_grace() -> None:
    # stopped with end = T0 − 5 d: end + 7 d = T0 + 2 d ≥ index → active
    row = med("Lasix", start=T0 - days(100), end=T0 - days(5), status="stopped")
    assert len(active([row])) == 1


def test_entered_in_error_record_is_ignored_and_quarantined() -> None:
    rows = [med("Lasix", status="entered-in-error"), med("Zoloft", status="not-done")]
    meds, _ = cleaned_meds(rows)
    assert list(meds["bucket"]) == ["quarantined", "quarantined"]
    assert list(meds["reason"]) == ["status", "status"]
    assert active(rows).empty


def test_medication_without_patient_or_readable_start_is_missing_key() -> None:
    meds, matches = cleaned_meds([med("Lasix", patient_id=None), med("Lasix", start="garbage")])
    assert list(meds["reason"]) == ["missing_key", "missing_key"]
    assert matches.empty


def test_cancelled_record_is_ignored() -> None:
    assert active([med("Lasix", status="cancelled")]).empty


def test_new_start_is_a_start_within_90_days_before_the_index() -> None:
    evidence = active(
        [
            med("Zoloft 50 mg", start=T0 - days(90)),  # 90 d → new start
            med("Lasix 40 mg", start=T0 - days(91)),  # 91 d → not
        ]
    ).set_index("risk_factor")
    assert bool(evidence.loc["ssri", "new_start"]) is True
    assert evidence.loc["ssri", "days_since_start"] == 90
    assert bool(evidence.loc["loop_diuretic", "new_start"]) is False
    assert evidence.loc["loop_diuretic", "days_since_start"] == 91


def test_evidence_keeps_the_drug_as_written_and_its_dates() -> None:
    start, end = T0 - days(3), T0 + days(4)
    row = active([med("Furosemide 40mg tab", start=start, end=end)]).iloc[0]
    assert row["drug"] == "Furosemide 40mg tab"
    assert (row["start_time"], row["end_time"]) == (start, end)
    assert row["ingredient"] == "furosemide"


def test_code_only_record_shows_its_code_as_the_drug() -> None:
    row = active([med(None, atc="N06AB06")]).iloc[0]
    assert (row["risk_factor"], row["drug"]) == ("ssri", "ATC N06AB06")


def test_other_patients_medication_does_not_count() -> None:
    assert active([med("Lasix", patient_id="P2")]).empty


def test_medication_starting_at_window_end_is_never_used() -> None:
    meds, matches = cleaned_meds([med("Lasix", start=WINDOW.end)])
    assert (meds.iloc[0]["bucket"], meds.iloc[0]["reason"]) == ("not_relevant", "after_window")
    assert matches.empty


def test_active_drug_class_is_a_risk_factor_of_the_case() -> None:
    result = run_screen([sodium("130")], [med("Lisinopril-HCTZ 20-12.5mg", start=T0 - days(10))])
    case = result.cases.iloc[0]
    # mild (125 < 130 ≤ 135) with one risk factor → listed, routine
    assert (case["risk_factors"], bool(case["listed"]), case["tier"]) == (
        "thiazide_diuretic",
        True,
        3,
    )
