"""A delivery whose medications write half their patient ids zero-padded (`000007` where the
labs write `7`) and whose diagnoses write half as numbers (`5.0`): those patients' risk factors
reached no case, the list was short (22 cases where the same delivery written alike lists 35)
and the night exited 0, since the tables still shared some ids with the labs. It now warns
(exit 4) with counts only, alike in one process and in patient-hash partitions; a single id
written otherwise, under rules.yaml `max_near_match_id_share`, does not."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hyposcreen.patient_id_forms import id_forms, matching_form, near_matches
from hyposcreen.runners.spill import partition_of
from sample_delivery import SAMPLE, rewrite_patient_ids, screen

# distinct patient ids of the sample's tables, and those with an odd number (P001 -> 1), all
# of them among the labs' ids (cut -d, -f1 | sort -u; comm -12 with the labs')
MEDICATION_PATIENTS, ODD_MEDICATION_PATIENTS = 28, 13
DIAGNOSIS_PATIENTS, ODD_DIAGNOSIS_PATIENTS = 10, 6


def _numbered(folder: Path, table: str, odd_form: str, odd_only: set[int] | None = None) -> None:
    """`table`'s ids as numbers (P007 -> 7); odd ones (or those of `odd_only`) written
    zero-padded (`pad`: 000007) or as a spreadsheet's number (`dot`: 7.0)."""

    def written(ids: pd.Series) -> pd.Series:
        numbers = ids.str[1:].astype(int)
        other = numbers.isin(odd_only) if odd_only is not None else numbers % 2 == 1
        odd = numbers.map(lambda n: f"{n:06d}" if odd_form == "pad" else f"{n}.0")
        return numbers.astype(str).where(~other, odd)

    rewrite_patient_ids(folder, table, written)


def _warnings(night: Path) -> list[dict[str, str]]:
    manifest = json.loads((night / "run_manifest.json").read_text())
    return [w for w in manifest["warnings"] if w["code"] == "patient_ids_written_otherwise"]


@pytest.mark.parametrize("partitions", ["1", "3"])
def test_ids_matching_the_labs_only_when_padded_or_dotted_warn(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], partitions: str
) -> None:
    folder = shutil.copytree(SAMPLE, tmp_path / "delivery")
    _numbered(folder, "labs", "plain", odd_only=set())
    _numbered(folder, "medications", "pad")
    _numbered(folder, "diagnoses", "dot")
    status, night = screen(folder, "--partitions", partitions)
    err = capsys.readouterr().err
    assert status == 4
    messages = [w["message"] for w in _warnings(night)]
    assert messages == [
        f"{ODD_DIAGNOSIS_PATIENTS} of the {DIAGNOSIS_PATIENTS} patient id(s) of table diagnoses "
        "(60%) match an id of table labs only with leading zeros or a trailing .0 set aside "
        "(000123 or 123.0 against 123; limit 5%): no risk factor from those diagnoses rows "
        "reaches a case. Ask for the ids written alike in every table.",
        f"{ODD_MEDICATION_PATIENTS} of the {MEDICATION_PATIENTS} patient id(s) of table "
        "medications (46%) match an id of table labs only with leading zeros or a trailing .0 "
        "set aside (000123 or 123.0 against 123; limit 5%): no risk factor from those "
        "medications rows reaches a case. Ask for the ids written alike in every table.",
    ]
    assert all(f"warning: {text}" in err for text in messages)
    assert "00001" not in err and "5.0" not in err  # no id of the delivery


def test_one_id_written_otherwise_is_under_the_limit(tmp_path: Path) -> None:
    """1 of the 28 medication ids (4%) is no share over 5%: this warning stays quiet, the
    night warns of the id by its count alone (patient_id_forms)."""
    folder = shutil.copytree(SAMPLE, tmp_path / "delivery")
    _numbered(folder, "labs", "plain", odd_only=set())
    _numbered(folder, "medications", "pad", odd_only={1})
    _numbered(folder, "diagnoses", "plain", odd_only=set())
    status, night = screen(folder)
    assert _warnings(night) == []
    manifest = json.loads((night / "run_manifest.json").read_text())
    assert [w["code"] for w in manifest["warnings"]] == ["patient_id_forms"]
    assert status == 4


def test_the_matching_form_sets_aside_leading_zeros_and_a_trailing_point_zero() -> None:
    ids = pd.Series(["000123", "123.0", "123", "0", "000", "P00123", "12.5", "1.23E+05", ""])
    assert matching_form(ids).tolist() == [
        "123", "123", "123", "0", "0", "P00123", "12.5", "1.23E+05", "",
    ]  # fmt: skip


def test_ids_alike_in_matching_form_share_a_partition() -> None:
    """So a partition holds every form of an id and the partitions' counts add up."""
    parts = partition_of(pd.Series(["123", "000123", " 123.0 ", "P00123", "P001"]), 8)
    assert parts[0] == parts[1] == parts[2]
    assert partition_of(pd.Series(["P001", "P002", "Ärztin-7", "p001"]), 8).tolist() == [1, 0, 7, 1]


_IDS = st.lists(
    st.sampled_from(
        [*"7 007 7.0 07.0 7.00 0 000 0.0 12 0012 12.0 P7 P007 x 1.2E+11".split(), "", " ", " 7 "]
    ),
    max_size=12,
)


@settings(max_examples=300, deadline=None)
@given(lab_ids=_IDS, other_ids=_IDS)
def test_near_matches_count_what_the_definition_counts(
    lab_ids: list[str], other_ids: list[str]
) -> None:
    """Per table: its distinct ids without surrounding spaces (empty ones aside), and those the
    labs do not hold as written but hold in matching form; counted the plain way here."""

    def stripped(ids: list[str]) -> set[str]:
        return {i.strip() for i in ids} - {""}

    def form(text: str) -> str:
        if not re.fullmatch(r"[0-9]+(?:\.0+)?", text):
            return text
        return re.sub(r"\.0+$", "", text).lstrip("0") or "0"

    labs, others = stripped(lab_ids), stripped(other_ids)
    expected = sum(1 for i in others if i not in labs and form(i) in {form(x) for x in labs})
    distinct = {"labs": lab_ids, "medications": other_ids}
    forms = {
        name: id_forms(pc.unique(pa.array(ids, pa.large_string())))
        for name, ids in distinct.items()
    }
    assert near_matches(forms) == {"medications": (len(others), expected)}
