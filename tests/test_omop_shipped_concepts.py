"""An OMOP delivery of the four clinical tables alone (spec §1), without the vocabulary's
CONCEPT table: the shipped `rules/omop_concepts.csv` names the standard concepts of spec §2.
Urine osmolality (3026782), molar magnesium (3012095) and calcium (3015377) and arterial
potassium (3043409) were missing: their rows, coded only by concept id, were not relevant, so
a urine osmolality never completed the workup and a low magnesium in mmol/L was no co-factor."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from omop_extract import extract, measurement, read


def _read_by_concept(tmp_path: Path, rows: list[tuple[str, str, str]]) -> pd.DataFrame:
    """The labs read from measurements coded by concept id alone: (concept, unit, value)."""
    labs = [
        measurement(measurement_id=str(n), measurement_concept_id=concept,
                    measurement_source_value="LOCAL", unit_concept_id="0",
                    unit_source_value=unit, value_as_number=value, value_source_value="")
        for n, (concept, unit, value) in enumerate(rows)
    ]  # fmt: skip
    return read(extract(tmp_path, labs), "labs").frame


def test_concepts_of_spec_2_read_without_a_concept_table(tmp_path: Path) -> None:
    frame = _read_by_concept(tmp_path, [
        ("3026782", "mOsm/kg", "410"), ("3012095", "mmol/L", "0.6"),
        ("3015377", "mmol/L", "2.0"), ("3043409", "mmol/L", "3.1"),
    ])  # fmt: skip
    assert list(frame["loinc"]) == ["2695-5", "2601-3", "2000-8", "32713-0"]
    assert list(frame["analyte"]) == [
        "urine_osmolality",
        "magnesium",
        "calcium_total",
        "potassium",
    ]


def test_presence_only_analytes_read_without_a_concept_table(tmp_path: Path) -> None:
    """Uric acid (3037556), TSH (3009201) and cortisol (3009682), the presence-only analytes of
    spec §2, coded by concept id alone: without the shipped concepts they were unknown lab
    names, so a site listing them as workup never saw them."""
    frame = _read_by_concept(
        tmp_path,
        [("3037556", "mg/dL", "3.1"), ("3009201", "uIU/mL", "2.4"), ("3009682", "ug/dL", "14")],
    )
    assert list(frame["loinc"]) == ["3084-1", "3016-3", "2143-6"]
    assert list(frame["analyte"]) == ["uric_acid", "tsh", "cortisol"]
