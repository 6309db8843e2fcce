"""A MIMIC-IV on FHIR export (tests/data/fhir/mimic) screened as it is published: its
diagnoses in MIMIC's own ICD code systems and dated only by their stay (the Encounter), its
drugs named only by a MIMIC medication-name identifier or code. Before, the four hyponatremic
patients were found but three of them went unlisted at exit 0: every diagnosis was quarantined
without a time and every drug read as unnamed, so their risk factors were lost. A drip ordered
as a MedicationMix (the drug and its base solution, each a Medication it references) is named
by its parts."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from hyposcreen.cli import main

EXPORT = Path(__file__).resolve().parent / "data" / "fhir" / "mimic"
DAY = "2180-07-23"


def test_mimic_on_fhir_cases_are_listed_with_their_conditions_and_drugs(tmp_path: Path) -> None:
    status = main(
        ["run", "--no-flow", "--source", "fhir", "--input", str(EXPORT), "--out",
         str(tmp_path), "--window-start", DAY, "--window-end", "2180-07-24"]
    )  # fmt: skip
    assert status == 0
    listed = pd.read_csv(tmp_path / DAY / "review_list.csv", dtype=str)
    assert list(
        zip(listed["index_sodium"], listed["tier"], listed["risk_factors"], strict=True)
    ) == [
        ("118.0", "1", "cirrhosis;hypokalemia;loop_diuretic"),
        ("124.0", "2", "heart_failure;hypokalemia;loop_diuretic"),
        ("125.0", "2", "ckd;thiazide_diuretic"),
        ("131.0", "2", "siadh;ssri"),
    ]
    evidence = pd.read_csv(tmp_path / DAY / "evidence.csv", dtype=str)
    cirrhosis = evidence.loc[evidence["risk_factor"] == "cirrhosis", "text"].iloc[0]
    # dated at the start of the stay the code was assigned for (Encounter.period.start, -04:00)
    assert cirrhosis == "K7031 (ICD-10-CM) recorded 2180-07-21T18:20:00"


def test_conditions_dated_only_by_encounters_the_export_lacks_stop_naming_the_encounters(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The export without its Encounter resources: no diagnosis has a time. The night stops
    (as any key time empty in every row) and says why in FHIR's terms, not the mapping's."""
    export = tmp_path / "export"
    shutil.copytree(EXPORT, export)
    (export / "MimicEncounter.ndjson").unlink()
    conditions = (export / "MimicCondition.ndjson").read_text("utf-8").splitlines()
    more = [json.loads(line) for line in conditions * 6]
    for number, condition in enumerate(more):
        condition["id"] = f"condition-{number}"
    (export / "MimicCondition.ndjson").write_text(
        "".join(json.dumps(c) + "\n" for c in more), "utf-8"
    )
    status = main(
        ["run", "--no-flow", "--source", "fhir", "--input", str(export), "--out",
         str(tmp_path / "out"), "--window-start", DAY, "--window-end", "2180-07-24"]
    )  # fmt: skip
    assert status == 3
    error = capsys.readouterr().err
    assert "period.start of the Condition's Encounter (read as recorded_time)" in error
    assert "the Encounter it names is not in the export" in error
