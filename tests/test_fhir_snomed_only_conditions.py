"""Diagnoses coded in SNOMED CT alone. Synthea, problem lists of many EHRs and OMOP's
`condition_concept_id` code a condition by SNOMED CT; the rules list conditions by ICD-10-CM and
ICD-9-CM codes and one SNOMED CT code (cirrhosis, 19943007: spec §6), so a heart failure coded
84114007 was set aside as `unlisted_code` at exit 0 without a word. The rules' hints
(snomed_condition_hints.csv, read only to warn) name SNOMED CT codes of the screen's conditions:
a row coded by one that no condition lists warns (`snomed_only_diagnoses`, exit 4, counts per
condition only), whatever the share of such rows, in FHIR and canonical deliveries alike. An
export of unrelated SNOMED CT conditions (sinusitis, bronchitis) does not warn, and a site that
lists its SNOMED CT code in a rules copy reads the rows as the condition and is not warned. A
Condition that carries an ICD coding beside its SNOMED CT one is read by the ICD coding."""

from __future__ import annotations

import csv
import json
import re
import shutil
from pathlib import Path

import orjson
import pytest
from sample_data import to_fhir

import omop_extract
from fhir_export import condition, read, write_export
from hyposcreen.clean.events import diagnosis_facts
from hyposcreen.errors import ConfigError
from hyposcreen.rules.loader import RULES_DIR, load_rules
from sample_delivery import SAMPLE, screen

SNOMED = "http://snomed.info/sct"
ICD10 = "http://hl7.org/fhir/sid/icd-10-cm"
# SNOMED CT codes of conditions the screen has no use for, as Synthea writes its problem list
# (viral sinusitis, acute bronchitis, acute viral pharyngitis, hypertension)
UNRELATED = ("444814009", "10509002", "195662009", "38341003")
HEART_FAILURE = "84114007"
HEART_FAILURE_ICD = ("I50.9", "428.0")  # the sample's: P011, P028, P030
CODE = "snomed_only_diagnoses"


def _export(tmp_path: Path, heart_failure: str | None = None, keep_icd: bool = False) -> Path:
    """The sample as FHIR, each Condition coded in SNOMED CT alone by an unrelated code, its
    heart failures by `heart_failure` when given; its ICD coding kept after it (`keep_icd`)."""
    folder = tmp_path / "fhir"
    to_fhir.convert(SAMPLE, folder)
    for path in folder.rglob("*.ndjson"):
        resources = [orjson.loads(line) for line in path.read_bytes().splitlines()]
        if not resources or resources[0]["resourceType"] != "Condition":
            continue
        for number, resource in enumerate(resources):
            icd = resource["code"]["coding"]
            code = UNRELATED[number % len(UNRELATED)]
            if heart_failure and icd[0]["code"] in HEART_FAILURE_ICD:
                code = heart_failure
            snomed = {"system": SNOMED, "code": code}
            resource["code"]["coding"] = [snomed, *icd] if keep_icd else [snomed]
        path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in resources))
    return folder


def _run(folder: Path, *options: str) -> tuple[int, Path]:
    return screen(folder, "--source", "fhir", *options)


def _warnings(night: Path) -> list[str]:
    manifest = json.loads((night / "run_manifest.json").read_text("utf-8"))
    return [w["message"] for w in manifest["warnings"] if w["code"] == CODE]


def _risk_factors(night: Path) -> dict[str, set[str]]:
    with (night / "review_list.csv").open(encoding="utf-8") as rows:
        return {
            row["patient_id"]: set(row["risk_factors"].split(";")) for row in csv.DictReader(rows)
        }


def _site_rules(tmp_path: Path, *lines: str) -> Path:
    """A site's rules copy whose condition_codes.csv lists `lines` besides the packaged codes."""
    rules = shutil.copytree(
        RULES_DIR, tmp_path / "site_rules", ignore=shutil.ignore_patterns("*.py", "__pycache__")
    )
    with (rules / "condition_codes.csv").open("a", encoding="utf-8") as codes:
        codes.writelines(f"{line}\n" for line in lines)
    return rules


def test_an_export_of_unrelated_snomed_conditions_does_not_warn(tmp_path: Path) -> None:
    status, night = _run(_export(tmp_path))
    assert status == 0
    assert _warnings(night) == []


def test_a_heart_failure_coded_in_snomed_alone_warns(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, night = _run(_export(tmp_path, heart_failure=HEART_FAILURE))
    err = capsys.readouterr().err
    assert status == 4
    [message] = _warnings(night)
    assert message.startswith(
        "3 diagnosis row(s) are coded in SNOMED CT by a code that stands for a condition of "
        "the screen but that the rules do not list, by condition: heart_failure 3 (3 patient(s))."
    )
    assert "site rules copy" in message and "whole diagnosis table" in message
    assert f"warning: {message}" in err
    # counts only: neither a code nor a patient of the export is named
    assert set(re.findall(r"\d+", message)) <= {"3", "9", "10"}
    assert "P0" not in message and HEART_FAILURE not in message
    assert not any("heart_failure" in found for found in _risk_factors(night).values())


def test_a_site_listing_its_snomed_code_reads_the_condition_and_is_not_warned(
    tmp_path: Path,
) -> None:
    rules = _site_rules(tmp_path, f"heart_failure,SNOMED,{HEART_FAILURE},exact,site decision")
    status, night = _run(_export(tmp_path, heart_failure=HEART_FAILURE), "--rules", str(rules))
    assert status == 0
    assert _warnings(night) == []
    assert "heart_failure" in _risk_factors(night)["P011"]


def test_a_canonical_diagnosis_coded_in_snomed_warns(tmp_path: Path) -> None:
    folder = shutil.copytree(SAMPLE, tmp_path / "canonical")
    with (folder / "diagnoses.csv").open("a", encoding="utf-8") as rows:
        rows.write("P005,E005,433144002,SNOMED,2025-06-16T10:00:00,active,CKD stage 3\n")
    status, night = screen(folder)
    assert status == 4
    [message] = _warnings(night)
    assert "by condition: ckd 1 (1 patient(s))." in message


def test_conditions_with_an_icd_coding_beside_snomed_do_not_warn(tmp_path: Path) -> None:
    status, night = _run(_export(tmp_path, heart_failure=HEART_FAILURE, keep_icd=True))
    assert status == 0
    assert _warnings(night) == []
    assert "heart_failure" in _risk_factors(night)["P011"]


def test_an_unlisted_condition_is_read_by_its_icd_coding_before_snomed(tmp_path: Path) -> None:
    write_export(
        tmp_path,
        {
            "Condition.ndjson": [
                condition({"system": SNOMED, "code": "38341003"}, {"system": ICD10, "code": "I10"}),
                condition({"system": SNOMED, "code": "19943007"}, {"system": ICD10, "code": "I10"}),
                condition({"system": SNOMED, "code": "38341003"}),
            ]
        },
    )
    table = read(tmp_path, "diagnoses")
    assert list(table.frame["code"]) == ["I10", "19943007", "38341003"]
    assert list(table.frame["code_system"]) == ["ICD-10-CM", "SNOMED", "SNOMED"]


def test_an_omop_condition_concept_coded_in_snomed_alone_is_counted(tmp_path: Path) -> None:
    concepts = [
        {"concept_id": "2000000101", "concept_name": "Heart failure", "vocabulary_id": "SNOMED",
         "concept_class_id": "Clinical Finding", "concept_code": HEART_FAILURE},
        {"concept_id": "2000000102", "concept_name": "Viral sinusitis", "vocabulary_id": "SNOMED",
         "concept_class_id": "Clinical Finding", "concept_code": UNRELATED[0]},
    ]  # fmt: skip
    base = {"condition_start_date": "2026-01-05", "condition_source_value": ""}
    conditions = [
        {**base, "person_id": "7", "condition_concept_id": "2000000101"},
        {**base, "person_id": "8", "condition_concept_id": "2000000101"},
        {**base, "person_id": "8", "condition_concept_id": "2000000102"},
        # an ICD source code beside the concept: read by it, not counted
        {**base, "person_id": "9", "condition_concept_id": "2000000101",
         "condition_source_value": "I10"},
    ]  # fmt: skip
    folder = omop_extract.extract(tmp_path, conditions=conditions)
    omop_extract.write(folder, "concept", concepts)
    frame = omop_extract.read(folder, "diagnoses").frame
    assert list(frame["code"]) == [HEART_FAILURE, HEART_FAILURE, "I10"]
    facts = diagnosis_facts(frame, omop_extract.RULES)
    assert facts.snomed_hints == {"heart_failure": (2, 2)}


def test_a_site_rules_copy_without_the_hints_reads_the_packaged_ones(tmp_path: Path) -> None:
    rules = _site_rules(tmp_path)
    (rules / "snomed_condition_hints.csv").unlink()
    assert load_rules(rules).snomed_condition_hints == load_rules().snomed_condition_hints
    assert load_rules().snomed_condition_hints["433144002"] == "ckd"


def test_a_hint_naming_a_condition_the_rules_lack_stops_the_run(tmp_path: Path) -> None:
    rules = _site_rules(tmp_path)
    with (rules / "snomed_condition_hints.csv").open("a", encoding="utf-8") as hints:
        hints.write("gout,90560007,Gout,site\n")
    with pytest.raises(ConfigError, match=r"snomed_condition_hints.csv: conditions \['gout'\]"):
        load_rules(rules)


def _canonical(tmp_path: Path, *lines: str) -> Path:
    folder = shutil.copytree(SAMPLE, tmp_path / "canonical")
    with (folder / "diagnoses.csv").open("a", encoding="utf-8") as rows:
        rows.writelines(f"{line}\n" for line in lines)
    return folder


def test_snomed_rows_not_read_for_another_reason_do_not_warn(tmp_path: Path) -> None:
    """A resolved, refuted or entered-in-error heart failure, or one without a patient or a
    time, would be set aside were its code listed: counting it would be a false alarm."""
    folder = _canonical(
        tmp_path,
        f"P011,E011,{HEART_FAILURE},SNOMED,2025-06-16T10:00:00,resolved,HF",
        f"P012,E012,{HEART_FAILURE},SNOMED,2025-06-16T10:00:00,refuted,HF",
        f"P013,E013,{HEART_FAILURE},SNOMED,2025-06-16T10:00:00,entered-in-error,HF",
        f",E014,{HEART_FAILURE},SNOMED,2025-06-16T10:00:00,active,HF",
        f"P015,E015,{HEART_FAILURE},SNOMED,,active,HF",
    )
    status, night = screen(folder)
    assert status == 0
    assert _warnings(night) == []


def test_a_snomed_code_written_as_a_decimal_is_read_as_its_whole_code(tmp_path: Path) -> None:
    """`84114007.0` (a code column a spreadsheet or pandas saved as floats) is the hinted heart
    failure, and `19943007.0` the listed cirrhosis; an ICD-9 code keeps its dot."""
    folder = _canonical(
        tmp_path, f"P005,E005,{HEART_FAILURE}.0,snomed ct,2025-06-16T10:00:00,active,HF"
    )
    codes = folder / "diagnoses.csv"
    codes.write_text(
        codes.read_text("utf-8").replace("K74.60,ICD-10-CM", "19943007.0,SNOMED"), "utf-8"
    )
    status, night = screen(folder)
    assert status == 4
    [message] = _warnings(night)
    assert "by condition: heart_failure 1 (1 patient(s))." in message
    assert "cirrhosis" in _risk_factors(night)["P027"]
    assert "heart_failure" in _risk_factors(night)["P028"]  # 428.0, ICD-9-CM


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda text: text.replace("condition,code,", "cond,snomed,", 1),
            " has no column 'condition', 'code' (its header row was edited?)",
        ),
        (lambda text: text + "heart_failure,,Heart failure,site\n", ": a row has no code"),
    ],
)
def test_a_site_hints_file_out_of_shape_is_refused_naming_it(
    tmp_path: Path, edit: object, message: str
) -> None:
    rules = _site_rules(tmp_path)
    hints = rules / "snomed_condition_hints.csv"
    hints.write_text(edit(hints.read_text("utf-8")), "utf-8")  # type: ignore[operator]
    with pytest.raises(ConfigError, match=re.escape(f"Rules file {hints}{message}")):
        load_rules(rules)
