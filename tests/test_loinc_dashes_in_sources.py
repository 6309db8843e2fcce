"""A LOINC written with another dash than the hyphen (rules.loinc_text) is the known code in the
FHIR and OMOP readers too: the FHIR line pre-filter finds it (raw, or as a JSON `\\u2212`
escape) and the Observation is identified by it; an OMOP vocabulary or `measurement_source_value`
written `2951–2` is sodium. Such results were not relevant (`unknown_loinc`) at exit 0."""

from __future__ import annotations

from pathlib import Path

import orjson
import pandas as pd
from sample_data import to_fhir, to_omop

from fhir_export import rewrite_observations
from hyposcreen.cli import main

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data" / "canonical"
DAY = "2026-11-20"
EN_DASH, MINUS = "2951\u20132", "2951\u22122"


def _screen(folder: Path, source: str, out: Path) -> pd.DataFrame:
    argv = ["run", "--no-flow", "--source", source, "--input", str(folder), "--out", str(out)]
    assert main([*argv, "--window-start", DAY]) == 0
    return pd.read_csv(out / DAY / "review_list.csv", dtype=str).set_index("patient_id")


def _assert_sample_severe_cases(
    listed: pd.DataFrame, p043: str = "P043", p006: str = "P006"
) -> None:
    # the sample's hand-computed list: P043 severe at 104.0, P006 severe at 119.9, 35 cases
    assert listed.loc[p043, ["index_sodium", "severity"]].tolist() == ["104.0", "severe"]
    assert listed.loc[p006, ["index_sodium", "severity"]].tolist() == ["119.9", "severe"]
    assert len(listed) == 35


def _redash(line: bytes) -> bytes:
    """P043's sodium coded with an en dash (raw UTF-8), P006's with a minus sign written as a
    JSON escape (as Python's json.dumps writes it); neither keeps a display or text."""
    resource = orjson.loads(line)
    patient = resource.get("subject", {}).get("reference", "")
    dash = {"P043": EN_DASH, "P006": MINUS}.get(patient.rsplit("/", 1)[-1].rsplit(":", 1)[-1])
    code = resource.get("code", {})
    if dash is None or code.get("coding", [{}])[0].get("code") != "2951-2":
        return line
    resource["code"] = {"coding": [{"system": "http://loinc.org", "code": dash}]}
    written = orjson.dumps(resource)
    return written.replace(MINUS.encode(), b"2951\\u22122")


def test_fhir_sodium_coded_with_other_dashes_is_sodium(tmp_path: Path) -> None:
    folder = tmp_path / "fhir"
    to_fhir.convert(SAMPLE, folder)
    changed = rewrite_observations(folder, _redash)
    assert changed >= 2
    _assert_sample_severe_cases(_screen(folder, "fhir", tmp_path / "out"))


def test_omop_vocabulary_and_source_values_with_other_dashes_are_sodium(tmp_path: Path) -> None:
    vocabulary, source = tmp_path / "vocabulary", tmp_path / "source"
    for folder in (vocabulary, source):
        to_omop.convert(folder)
    concept = vocabulary / "concept.csv"
    text = concept.read_text(encoding="utf-8")
    assert "\t2951-2\n" in text
    concept.write_text(text.replace("\t2951-2\n", f"\t{EN_DASH}\n"), encoding="utf-8")
    measurement = source / "measurement.csv"
    rows = [line.split("\t") for line in measurement.read_text(encoding="utf-8").splitlines()]
    concept_at, value_at = (
        rows[0].index("measurement_concept_id"),
        rows[0].index("measurement_source_value"),
    )
    for row in rows[1:]:
        if row[value_at] == "2951-2":  # no standard concept: the source value names the code
            row[concept_at], row[value_at] = "0", EN_DASH
    measurement.write_text("\n".join("\t".join(r) for r in rows) + "\n", encoding="utf-8")
    for folder in (vocabulary, source):  # the sample's person_id is its patient number
        listed = _screen(folder, "omop", tmp_path / f"out_{folder.name}")
        _assert_sample_severe_cases(listed, "43", "6")
