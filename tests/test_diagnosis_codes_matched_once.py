"""A diagnosis table holding a SNOMED CT code written as a decimal (`19943007.0`, a float column
saved) had its conditions matched twice, the whole table over: once as read, then again with
the code made whole. The code is now made whole first and every distinct (code system, code)
pair looked up once, with the same conditions as before."""

from __future__ import annotations

import pytest
from tests.helpers import DIAGNOSES, RULES, dx, frame

from hyposcreen.clean.events import diagnosis_facts
from hyposcreen.rules import matching


def test_each_code_is_matched_once_when_a_snomed_code_is_a_decimal(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rows = [
        dx("19943007.0", system="SNOMED"),  # cirrhosis, the rules' SNOMED CT code
        dx("K74.60"),
        dx("I50.9", patient_id="P2"),
        dx("J01.90", patient_id="P3"),
    ]
    looked_up: list[tuple[str | None, str | None]] = []
    lookup = matching.condition_for_code

    def counted(system: str | None, code: str | None, rules: object) -> str | None:
        looked_up.append((system, code))
        return lookup(system, code, rules)  # type: ignore[arg-type]

    monkeypatch.setattr(matching, "condition_for_code", counted)
    facts = diagnosis_facts(frame(DIAGNOSES, rows), RULES)
    assert list(facts.frame["code"]) == ["19943007", "K74.60", "I50.9", "J01.90"]
    assert list(facts.frame["condition"]) == ["cirrhosis", "cirrhosis", "heart_failure", None]
    assert sorted(looked_up, key=str) == sorted(
        [("SNOMED", "19943007"), ("ICD-10-CM", "K74.60"), ("ICD-10-CM", "I50.9"),
         ("ICD-10-CM", "J01.90")], key=str
    )  # fmt: skip
