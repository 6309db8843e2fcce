"""A patients table with several rows for one patient, with identifiers shown (site mapping
`allow_identifiers: true`): the list shows the row that sorts first by mrn, name, unit (an
empty field last) whatever the rows' order in the file, and a listed case whose rows disagree
makes the run warn (exit 4) by counts and `file:row`, never a value. Before, the first row in
the file was shown silently, so swapping two rows changed the MRN and ward on the list."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from hyposcreen.cli import main

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data" / "canonical"
DAY = "2026-11-20"
# the sample's P004 (listed, tier 3): P004,MRN0004,Test Patient 04,1963-05-05,F,4 West
SAMPLE_ROWS = 64  # patients.csv: lines 2..65


def _night(
    tmp_path: Path, name: str, patients: pd.DataFrame, capsys: pytest.CaptureFixture[str]
) -> tuple[int, str, Path]:
    folder = shutil.copytree(SAMPLE, tmp_path / name)
    patients.to_csv(folder / "patients.csv", index=False)
    mapping = tmp_path / "site.yaml"
    mapping.write_text("site: test\nallow_identifiers: true\n")
    out = tmp_path / f"out-{name}"
    argv = ["run", "--no-flow", "--input", str(folder), "--out", str(out), "--window-start", DAY]
    status = main([*argv, "--mapping", str(mapping)])
    return status, capsys.readouterr().err, out / DAY


def _sample_patients() -> pd.DataFrame:
    return pd.read_csv(SAMPLE / "patients.csv", dtype=str, keep_default_na=False)


def _with_row(extra: dict[str, str], first: bool) -> pd.DataFrame:
    patients = _sample_patients()
    row = {**patients.loc[patients["patient_id"] == "P004"].iloc[0].to_dict(), **extra}
    added = pd.DataFrame([row])
    return pd.concat([added, patients] if first else [patients, added], ignore_index=True)


def _shown(night: Path, patient: str) -> tuple[str, str, str]:
    review = pd.read_csv(night / "review_list.csv", dtype=str, keep_default_na=False)
    row = review.loc[review["patient_id"] == patient].iloc[0]
    return row["mrn"], row["name"], row["unit"]


def _shown_run_id(path: Path) -> str:
    return str(pd.read_csv(path, dtype=str)["run_id"].iloc[0])


@pytest.mark.parametrize(
    "extra",
    [{"mrn": "MRN9999", "unit": "ICU"}, {"mrn": "", "name": "", "unit": "ICU"}],
    ids=["another-mrn-and-ward", "blank-mrn-another-ward"],
)
def test_disagreeing_rows_show_the_same_identifiers_in_either_order_and_warn(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: dict[str, str]
) -> None:
    """MRN0004 sorts before MRN9999, and a value before an empty MRN: the sample's row is
    shown in both orders. The extra row is line 66 when last, line 2 when first."""
    last = _night(tmp_path, "last", _with_row(extra, first=False), capsys)
    first = _night(tmp_path, "first", _with_row(extra, first=True), capsys)
    for (status, err, night), line in ((last, SAMPLE_ROWS + 2), (first, 2)):
        assert status == 4, err
        assert _shown(night, "P004") == ("MRN0004", "Test Patient 04", "4 West")
        expected = (
            "1 listed case(s) have patients rows that disagree on mrn, name or unit: 1 row(s) "
            f"besides the one shown (e.g. patients.csv:{line})"
        )
        assert expected in err
        manifest = (night / "run_manifest.json").read_text()
        codes = [w["code"] for w in json.loads(manifest)["warnings"]]
        assert codes == ["conflicting_identifiers"]
        for text in (err, manifest):
            assert "MRN" not in text and "ICU" not in text and "P004" not in text
    # the same bytes but for the run id (a hash of the input files' bytes)
    lists = [night / "review_list.csv" for _, _, night in (last, first)]
    run_ids = [_shown_run_id(path) for path in lists]
    texts = [
        path.read_text().replace(run_id, "") for path, run_id in zip(lists, run_ids, strict=True)
    ]
    assert texts[0] == texts[1]


def test_a_row_delivered_twice_does_not_warn(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, err, night = _night(tmp_path, "twice", _with_row({}, first=True), capsys)
    assert status == 0, err
    assert "disagree" not in err
    assert _shown(night, "P004") == ("MRN0004", "Test Patient 04", "4 West")


def test_a_ward_column_is_shown_as_the_unit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A patients table whose source calls the unit `ward`: shown, not left empty."""
    patients = _sample_patients().rename(columns={"unit": "ward"})
    status, err, night = _night(tmp_path, "ward", patients, capsys)
    assert status == 0, err
    assert _shown(night, "P004") == ("MRN0004", "Test Patient 04", "4 West")
