"""A delivery whose medications write a single patient's id in another letter case (`p007`
where the labs write `P007`) or with leading zeros (`0007` against `7`): that patient's risk
factors reached no case, and the night exited 0 (the tables share their other ids, and one id
is under the near-match share). Any such id now warns (patient_id_forms, exit 4) with counts
by form only, alike in one process and in patient-hash partitions, which put `p007` and
`P007` in one partition."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from hyposcreen.patient_id_forms import (
    IdForms,
    apostrophe_matches,
    apostrophe_matches_within,
    case_matches,
    case_matches_within,
    folded_labs,
    hashed_form,
    id_forms,
    placed_ids,
)
from sample_delivery import SAMPLE, rewrite_patient_ids, screen

MEDICATION_PATIENTS = 28  # distinct patient ids of the sample's medications


def _forms(night: Path) -> list[str]:
    manifest = json.loads((night / "run_manifest.json").read_text())
    return [w["message"] for w in manifest["warnings"] if w["code"] == "patient_id_forms"]


@pytest.mark.parametrize("partitions", ["1", "3"])
@pytest.mark.parametrize(
    ("written", "told"),
    [
        ("p007", "1 only in letter case (p007 against P007)"),
        # a spreadsheet's mark of a cell kept as text: one patient, far under every share,
        # warned all the same; the message's example is a made-up id, not the extract's
        ("'P007", "1 only with a spreadsheet's leading apostrophe set aside ('P001 against P001)"),
    ],
)
def test_one_medication_id_in_another_form_warns(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], partitions: str, written: str, told: str
) -> None:
    """One medication row's `P007` written otherwise than the labs' `P007`: in lower case, or
    as `'P007`."""
    folder = shutil.copytree(SAMPLE, tmp_path / "delivery")
    rewrite_patient_ids(folder, "medications", lambda ids: ids.where(ids != "P007", written))
    status, night = screen(folder, "--partitions", partitions)
    err = capsys.readouterr().err
    assert status == 4
    assert _forms(night) == [
        f"1 of the {MEDICATION_PATIENTS} patient id(s) of table medications match no id of "
        f"table labs as written but match one in another form: {told}. No risk factor from "
        "those medications rows reaches a case. Ask for the ids written alike in every table."
    ]
    assert "P007" not in err.replace("p007 against P007", "")  # the example only, no id


def test_one_medication_id_with_leading_zeros_warns(tmp_path: Path) -> None:
    folder = shutil.copytree(SAMPLE, tmp_path / "delivery")
    for table in ("labs", "medications", "diagnoses"):
        rewrite_patient_ids(folder, table, lambda ids: ids.str[1:].astype(int).astype(str))
    rewrite_patient_ids(folder, "medications", lambda ids: ids.where(ids != "7", "0007"))
    status, night = screen(folder)
    assert status == 4
    (message,) = _forms(night)
    assert message.startswith(f"1 of the {MEDICATION_PATIENTS} patient id(s) of table medications")
    assert "1 only with leading zeros or a trailing .0 set aside" in message


def _id_forms(*ids: str) -> IdForms:
    return id_forms(pa.array(ids, pa.large_string()))


def test_case_matches_count_ids_the_labs_hold_only_in_another_case() -> None:
    counted = case_matches(
        {
            "labs": _id_forms("P007", "p008", "P008", "7", "Ärztin"),
            "medications": _id_forms("p007", "P008", "x1", "7", "ärztin", "ÄRZTIN"),
        }
    )
    assert counted == {"medications": (6, 3)}  # p007, ärztin, ÄRZTIN


def test_apostrophe_matches_count_either_way_round() -> None:
    counted = apostrophe_matches(
        {
            "labs": _id_forms("P007", "'P008", "P009"),
            "medications": _id_forms("'P007", "P008", "P009", "'x1", "p007"),
        }
    )
    assert counted == {"medications": (5, 2)}  # 'P007, P008


def test_a_windows_case_matches_are_counted_from_the_reads_lab_ids() -> None:
    """A window cut from one read counts its case matches from the read's lab ids kept
    (case_matches_within): the counts of case_matches over the window's own lab ids, for
    every window, one lab id or its other case kept or not."""
    read = _id_forms("P007", "p008", "P008", "7", "Ärztin", "Q1")
    medications = _id_forms("p007", "P008", "x1", "7", "ärztin", "q1")
    folded = folded_labs(read)
    placed = {"medications": placed_ids(medications, folded)}
    for window in range(1 << len(read.ids)):
        kept = np.array([bool(window >> n & 1) for n in range(len(read.ids))])
        labs = id_forms(read.ids.filter(pa.array(kept)))
        expected = case_matches({"labs": labs, "medications": medications})
        assert case_matches_within(folded, kept, placed) == expected


@pytest.mark.parametrize("partitions", ["1", "3"])
def test_an_apostrophe_before_a_zero_padded_number_is_counted_alike_in_partitions(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], partitions: str
) -> None:
    """The labs' `000123` and the medications' `'000123`: one process and patient-hash
    partitions both count the pair (the partitions hashed `'000123` apart from `000123`,
    whose matching form is `123`, so they met in no partition and the count was lost)."""
    folder = shutil.copytree(SAMPLE, tmp_path / "delivery")
    for table, written in (("labs", "000123"), ("patients", "000123"), ("medications", "'000123")):
        rewrite_patient_ids(folder, table, lambda ids, w=written: ids.where(ids != "P007", w))
    status, night = screen(folder, "--partitions", partitions)
    assert status == 4, capsys.readouterr().err
    (message,) = _forms(night)
    assert message.startswith("1 of the 28 patient id(s) of table medications"), message


def test_the_hashed_form_sets_the_apostrophe_aside_before_the_leading_zeros() -> None:
    ids = pd.Series(["'000123", "000123", "123.0", "'P007", "p007", "O'Brien", "'O'Brien"])
    assert list(hashed_form(ids)) == ["123", "123", "123", "p007", "p007", "o'brien", "o'brien"]


def test_a_windows_apostrophe_matches_are_counted_from_the_reads_lab_ids() -> None:
    """A window cut from one read counts its apostrophe matches from the read's lab ids kept
    (apostrophe_matches_within): the counts of apostrophe_matches over the window's own lab
    ids, for every window, an id and its apostrophe-marked twin kept or not, either way
    round."""
    read = _id_forms("P007", "'P007", "'P008", "P009", "''Q1", "7")
    medications = _id_forms("'P007", "P008", "P009", "'x1", "p007", "Q1", "'7")
    folded = folded_labs(read)
    placed = {"medications": placed_ids(medications, folded)}
    counts = set()
    for window in range(1 << len(read.ids)):
        kept = np.array([bool(window >> n & 1) for n in range(len(read.ids))])
        labs = id_forms(read.ids.filter(pa.array(kept)))
        expected = apostrophe_matches({"labs": labs, "medications": medications})
        assert apostrophe_matches_within(folded, kept, placed) == expected
        counts.add(expected["medications"][1])
    assert len(counts) > 2  # windows that count none, some and more of them
