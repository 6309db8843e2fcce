"""The reconciliation's (bucket, reason) sizes of a window's medications and diagnoses, found
from the codes cleaning made their columns from (clean.buckets.HeldSizes): equal to counting
the frame, on nights whose buckets differ (a medication started after the first night's end),
and never used once a later stage wrote into the frame's bucket or reason column (a contract
warning quarantining a row), replaced a column or handed another frame."""

from __future__ import annotations

import pandas as pd
import pytest

from helpers import RULES, frame
from hyposcreen.clean.buckets import bucket_sizes, count_buckets
from hyposcreen.clean.events import (
    EventFacts,
    diagnosis_facts,
    medication_facts,
    window_buckets,
)
from hyposcreen.config import Window
from hyposcreen.ingest.canonical import DIAGNOSES, MEDICATIONS

ONE_DAY = pd.Timedelta(days=1)
NIGHTS = [Window(pd.Timestamp(d), pd.Timestamp(d) + ONE_DAY) for d in ("2026-11-19", "2026-11-20")]


def _meds() -> EventFacts:
    """A loop diuretic started on the second night (not relevant on the first), one before
    both, an unlisted drug, an excluded status and a missing patient."""
    rows = [
        {"patient_id": "P1", "drug_name": "Furosemide 40 mg", "start_time": "2026-11-20 08:00"},
        {"patient_id": "P2", "drug_name": "Hydrochlorothiazide", "start_time": "2026-11-01 08:00"},
        {"patient_id": "P3", "drug_name": "Paracetamol 500 mg", "start_time": "2026-11-20 09:00"},
        {
            "patient_id": "P4",
            "drug_name": "Sertraline 50 mg",
            "start_time": "2026-11-20 10:00",
            "status": "entered-in-error",
        },
        {"patient_id": "", "drug_name": "Furosemide", "start_time": "2026-11-20 11:00"},
    ]
    return medication_facts(frame(MEDICATIONS, rows), RULES)


def _diagnoses() -> EventFacts:
    """Recorded on the second night (then used), a listed code, an unlisted code and an
    unknown code system."""
    coded = [
        ("P1", "N18.3", "ICD-10-CM", "2026-11-20 08:00"),
        ("P2", "I50.9", "ICD-10-CM", "2025-01-01 08:00"),
        ("P3", "Z99.9", "ICD-10-CM", "2025-01-01 08:00"),
        ("P4", "N18.3", "SNOMEDish", "2025-01-01 08:00"),
    ]
    columns = ("patient_id", "code", "code_system", "recorded_time")
    rows = [dict(zip(columns, row)) for row in coded]
    return diagnosis_facts(frame(DIAGNOSES, rows), RULES)


@pytest.mark.parametrize("facts", [_meds, _diagnoses])
def test_held_sizes_are_the_counted_sizes_on_each_night(facts: object) -> None:
    made = facts()  # type: ignore[operator]
    found = []
    for window in NIGHTS:
        frame, _, held = window_buckets(made, window)
        assert held.hold_for(frame)
        assert held.sizes == bucket_sizes(frame.copy(deep=True))  # counted from the values
        found.append(held.sizes)
    assert found[0] != found[1]  # the row dated on the second night: after_window, then used


def test_hand_computed_sizes_of_the_medications() -> None:
    frame, _, held = window_buckets(_meds(), NIGHTS[0])
    assert held.sizes == {
        ("not_relevant", "after_window"): 1,  # the furosemide of the second night
        ("not_relevant", "unlisted_drug"): 1,  # paracetamol
        ("quarantined", "missing_key"): 1,  # no patient
        ("quarantined", "status"): 1,  # the SSRI entered in error
        ("used", ""): 1,  # hydrochlorothiazide
    }
    assert count_buckets(frame, {}, 5, held)["reconciled"]


def test_a_write_into_the_frame_after_cleaning_is_counted_from_the_frame() -> None:
    """As a contract warning does (recipe_contracts.apply_contract_warnings): the held sizes
    no longer hold and the frame's own buckets are counted."""
    frame, _, held = window_buckets(_meds(), NIGHTS[1])
    used = frame.index[frame["bucket"] == "used"]
    frame.loc[pd.Index([], dtype="int64"), "bucket"] = "quarantined"  # no row flagged
    assert held.hold_for(frame)
    frame.loc[used[:1], "bucket"] = "quarantined"
    frame.loc[used[:1], "reason"] = ["end_before_start:1"]
    assert not held.hold_for(frame)
    counted = count_buckets(frame, {}, 5, held)
    assert counted["quarantined"] == 3 and counted["used"] == len(used) - 1 == 1
    assert counted["reasons"]["quarantined"] == {
        "end_before_start:1": 1,
        "missing_key": 1,
        "status": 1,
    }


def test_a_reason_written_alone_or_a_column_replaced_is_counted_from_the_frame() -> None:
    frame, _, held = window_buckets(_meds(), NIGHTS[1])
    frame.loc[frame.index[:1], "reason"] = ["oversized_row"]
    assert not held.hold_for(frame)
    assert bucket_sizes(frame, held) == bucket_sizes(frame.copy(deep=True))
    assert ("not_relevant", "oversized_row") in bucket_sizes(frame, held) or (
        ("used", "oversized_row") in bucket_sizes(frame, held)
    )
    other, _, held = window_buckets(_meds(), NIGHTS[1])
    other["bucket"] = other["bucket"].where(other["reason"] != "missing_key", "duplicate")
    assert not held.hold_for(other)
    assert ("duplicate", "missing_key") in bucket_sizes(other, held)
    shown = other.copy(deep=True)  # another frame, other arrays (same values: not held)
    assert not held.hold_for(shown)
    assert bucket_sizes(shown, held) == bucket_sizes(other)


@pytest.mark.parametrize("facts", [_meds, _diagnoses])
def test_the_used_rows_come_from_the_codes_while_the_frame_holds_its_buckets(
    facts: object,
) -> None:
    """`HeldSizes.used`: the rows whose bucket is used, from the codes the buckets were made
    of, on each night; none once a contract warning wrote a bucket (the frame tells then)."""
    made = facts()  # type: ignore[operator]
    for window in NIGHTS:
        frame, _, held = window_buckets(made, window)
        used = held.used(frame)
        assert used is not None
        assert used.tolist() == (frame["bucket"] == "used").tolist()
    first = frame.index[frame["bucket"] == "used"][:1]
    frame.loc[first, "bucket"] = "quarantined"
    assert held.used(frame) is None
