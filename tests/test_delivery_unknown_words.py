"""Words the rules do not know, written by a whole delivery: a laboratory writing sodium in
`mval/l` (the old German name of mEq/L), a warehouse fed by HL7 v2 naming the diagnoses' code
system `ICD-10-GM` (a German site). HL7 v2 table 0396 names (`I10`, `I9C`) and the OIDs
of CDA documents are the systems they name. Each such row is quarantined
(`bad_unit`, `unknown_code_system`: spec §3, §6), and that is right for a row; but a whole
analyte or table arriving so hid most of the night's sodium results or every condition, and the
short list passed as a quiet night (exit 0, no warning). More than rules.yaml `warnings:
max_bad_unit_share` (of the lab rows that matter) or `max_unknown_code_system_share` (of the
diagnoses that matter), 5 %, judged on at least `min_rows_for_share` rows, warns
(`unknown_units`, `unknown_code_systems`, exit 4) with the count, the share and `file:row`
examples, never a value or the unknown word (coverage.csv names it). One stray unit, as in the
sample, does not.
"""

from __future__ import annotations

import itertools
import json
import shutil
from pathlib import Path

import pandas as pd

from hyposcreen.cli import main
from sample_delivery import assert_screens_as_the_sample

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data" / "canonical"
DAY = "2026-11-20"


def night(
    tmp_path: Path, table: str = "labs", rewrite: dict[str, str] | None = None
) -> tuple[int, dict, str]:
    """Exit status, manifest and coverage.csv of the sample with `table`'s unit (labs, of its
    2951-2 sodium results) or code system (diagnoses) rewritten as `rewrite` says."""
    folder = shutil.copytree(SAMPLE, tmp_path / "delivery")
    if rewrite is not None:
        frame = pd.read_csv(folder / f"{table}.csv", dtype=str, keep_default_na=False)
        if table == "labs":
            frame.loc[frame["loinc"] == "2951-2", "unit"] = rewrite["unit"]
        else:
            frame["code_system"] = frame["code_system"].replace(rewrite)
        frame.to_csv(folder / f"{table}.csv", index=False)
    out = tmp_path / "out"
    night_of = ["--out", str(out), "--window-start", DAY]
    status = main(["run", "--no-flow", "--input", str(folder), *night_of])
    manifest = json.loads((out / DAY / "run_manifest.json").read_text("utf-8"))
    return status, manifest, (out / DAY / "coverage.csv").read_text("utf-8")


def test_sodium_in_a_unit_the_rules_do_not_know_warns(tmp_path: Path) -> None:
    status, manifest, coverage = night(tmp_path, "labs", {"unit": "mval/l"})
    labs = manifest["reconciliation"]["labs"]
    unknown = labs["reasons"]["quarantined"]["bad_unit"]
    assert unknown > 100  # nearly every sodium result of the night
    assert status == 4
    (warning,) = [w for w in manifest["warnings"] if w["code"] == "unknown_units"]
    matter = labs["rows_in"] - labs["not_relevant"]
    assert warning["message"].startswith(
        f"{unknown} of {matter} lab row(s) ({unknown / matter:.0%}) carry a unit the rules do "
        "not accept for their analyte (e.g. labs.csv:2, labs.csv:3, labs.csv:4"
    )
    assert "mval" not in json.dumps(manifest)  # the unit text stays in coverage.csv
    assert "sodium: mval/l" in coverage


def test_diagnoses_in_a_code_system_the_rules_do_not_know_warn(tmp_path: Path) -> None:
    status, manifest, coverage = night(
        tmp_path, "diagnoses", {"ICD-10-CM": "ICD-10-GM", "ICD-9-CM": "ICD-9-GM"}
    )
    diagnoses = manifest["reconciliation"]["diagnoses"]
    assert diagnoses["reasons"]["quarantined"] == {"unknown_code_system": 14}  # every row
    assert status == 4
    (warning,) = [w for w in manifest["warnings"] if w["code"] == "unknown_code_systems"]
    assert warning["message"].startswith(
        "14 of 14 diagnosis row(s) (100%) carry a code system the rules do not know (e.g. "
        "diagnoses.csv:2, diagnoses.csv:3, diagnoses.csv:4; limit 5%)"
    )
    assert "-GM" not in json.dumps(manifest)
    assert "diagnoses,code_system,ICD-10-GM," in coverage


def test_hl7_v2_names_and_oids_of_the_code_systems_are_the_systems(tmp_path: Path) -> None:
    # HL7 v2 table 0396 and the OIDs of CDA documents, as warehouses fed by them write them
    folder = shutil.copytree(SAMPLE, tmp_path / "delivery")
    frame = pd.read_csv(folder / "diagnoses.csv", dtype=str, keep_default_na=False)
    names = {"ICD-10-CM": ["I10", "2.16.840.1.113883.6.90", "urn:oid:2.16.840.1.113883.6.3"],
             "ICD-9-CM": ["I9C", "urn:oid:2.16.840.1.113883.6.103"]}  # fmt: skip
    forms = {system: itertools.cycle(written) for system, written in names.items()}
    frame["code_system"] = [
        next(forms[system]) if system in forms else system for system in frame["code_system"]
    ]
    assert set(frame["code_system"]) >= {"I10", "I9C"}
    frame.to_csv(folder / "diagnoses.csv", index=False)
    assert_screens_as_the_sample(folder, tmp_path, same_quarantine_file=False)


def test_the_sample_s_one_stray_unit_does_not_warn(tmp_path: Path) -> None:
    status, manifest, _ = night(tmp_path)
    assert manifest["reconciliation"]["labs"]["reasons"]["quarantined"]["bad_unit"] == 1
    assert status == 0
    codes = [w["code"] for w in manifest["warnings"]]
    assert "unknown_units" not in codes and "unknown_code_systems" not in codes


def test_a_few_diagnoses_in_a_local_code_system_among_many_unlisted_do_not_warn(
    tmp_path: Path,
) -> None:
    # a real diagnosis table is mostly codes of no listed condition (diabetes, hypertension,
    # pneumonia ...): beside the sample's 14 listed ones, 300 such ICD-10-CM rows and 4 rows
    # of a problem list's local system (1 % of the table). A code of an unknown system cannot
    # be told listed or not, so it is judged against every diagnosis with a code, not against
    # the listed ones alone (4 of 18, 22 %, warned every night on a good extract)
    folder = shutil.copytree(SAMPLE, tmp_path / "delivery")
    frame = pd.read_csv(folder / "diagnoses.csv", dtype=str, keep_default_na=False)
    unlisted = ["E11.9", "I10", "J18.9", "E78.5", "Z79.4"]
    extra = pd.DataFrame(
        {
            "patient_id": [f"P{n % 64 + 1:03d}" for n in range(304)],
            "code": [unlisted[n % 5] for n in range(300)] + ["IMO-1", "IMO-2", "IMO-3", "IMO-4"],
            "code_system": ["ICD-10-CM"] * 300 + ["IMO"] * 4,
            "recorded_time": "2026-10-01T09:00:00",
        }
    )
    pd.concat([frame, extra]).fillna("").to_csv(folder / "diagnoses.csv", index=False)
    out = tmp_path / "out"
    status = main(
        ["run", "--no-flow", "--input", str(folder), "--out", str(out), "--window-start", DAY]
    )
    manifest = json.loads((out / DAY / "run_manifest.json").read_text("utf-8"))
    diagnoses = manifest["reconciliation"]["diagnoses"]
    assert diagnoses["reasons"]["quarantined"]["unknown_code_system"] == 4
    assert diagnoses["reasons"]["not_relevant"]["unlisted_code"] == 300
    assert [w["code"] for w in manifest["warnings"]] == []
    assert status == 0
    assert len(pd.read_csv(out / DAY / "review_list.csv")) == 35
