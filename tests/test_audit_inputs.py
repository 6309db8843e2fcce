"""The input files as the audit's shared outputs name them: audit.html and audit_manifest.json
may go to a QI committee, so a part named for a patient (`labs/Smith_John_MRN0042.csv`) and
the input folder's path are named by table and place (`labs file 1`), in the manifest and in
a warning's `file:row` examples; a part's row count that is a count the tables hide is not
shown. Real CLI, copies of the sample and small deliveries written here."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from hyposcreen.cli import main
from sample_delivery import SAMPLE

PATIENT_NAMED = "Smith_John_MRN0042.csv"


def _audit(folder: Path, start: str, end: str) -> tuple[int, Path]:
    out = folder.parent / "audit"
    status = main(["audit", "--input", str(folder), "--start", start, "--end", end,
                   "--out", str(out)])  # fmt: skip
    return status, out


def test_a_part_named_for_a_patient_is_named_by_table_and_place(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The sample's labs as two parts, the first named for a patient and holding 15 November
    sodium rows in `mEq/dL` besides: 16 of 185 lab rows of November (9 %, over the 5 % limit;
    the sample has one) carry a unit
    the rules do not accept, and the warning gives `file:row` examples of them."""
    folder = Path(shutil.copytree(SAMPLE, tmp_path / "delivery"))
    frame = pd.read_csv(folder / "labs.csv", dtype=str, keep_default_na=False)
    (folder / "labs.csv").unlink()
    (folder / "labs").mkdir()
    bad = frame.head(15).assign(loinc="2951-2", value_raw="140", unit="mEq/dL",
                                specimen_time="2026-11-10T06:00:00", result_time="")  # fmt: skip
    pd.concat([frame.iloc[:100], bad]).to_csv(folder / "labs" / PATIENT_NAMED, index=False)
    frame.iloc[100:].to_csv(folder / "labs" / "rest.csv", index=False)
    status, out = _audit(folder, "2026-11-01", "2026-12-01")
    err = capsys.readouterr().err
    assert status == 4
    manifest = json.loads((out / "audit_manifest.json").read_text("utf-8"))
    page = (out / "audit.html").read_text("utf-8")
    units = [w for w in manifest["warnings"] if w["code"] == "unknown_units"]
    assert units and "e.g. labs file 1:46, labs file 1:102," in units[0]["message"], units
    for shared in (json.dumps(manifest), page, err.split("auditing", 1)[1].split("\n", 1)[1]):
        assert "Smith" not in shared and str(tmp_path) not in shared
    first, rest = manifest["inputs"]["labs"]
    assert (first["file"], first["rows"]) == ("labs file 1", 115)
    assert (rest["file"], rest["rows"]) == ("labs file 2", len(frame) - 100)
    assert "path" not in first and len(first["sha256"]) == 64
    # a file named as its table tells nothing: it keeps its name
    assert [f["file"] for f in manifest["inputs"]["medications"]] == ["medications.csv"]


def test_a_file_holding_the_period_s_hidden_sodium_rows_does_not_give_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """labs.csv holds the quarter's sodium rows only: January 3 (`<11`), February and March
    40 each. The tables show both 40s and hide the quarter's 83 to protect January; the
    manifest's `rows: 83` for labs.csv gave it back, and January with it: 83 - 40 - 40 = 3
    (the usable results, all 83, bound January's from below only: 3 to 10)."""
    folder = tmp_path / "delivery"
    folder.mkdir()
    lines = ["patient_id,encounter_id,specimen_id,specimen_time,result_time,loinc,lab_name,"
             "value_raw,unit,status,specimen_type"]  # fmt: skip
    for month, size in {"01": 3, "02": 40, "03": 40}.items():
        lines += [f"Q{month}{i},E{month}{i},S{month}{i},2026-{month}-{1 + i % 28:02d}T08:00:00,,"
                  "2951-2,Sodium,140,mmol/L,final,Serum" for i in range(size)]  # fmt: skip
    (folder / "labs.csv").write_text("\n".join(lines) + "\n")
    (folder / "medications.csv").write_text("patient_id,drug_name,start_time\n")
    (folder / "diagnoses.csv").write_text("patient_id,code,code_system,recorded_time\n")
    status, out = _audit(folder, "2026-01-01", "2026-04-01")
    capsys.readouterr()
    assert status in (0, 4)
    tables = pd.read_csv(out / "audit_tables.csv", dtype=str, keep_default_na=False)
    sodium = tables.loc[tables["measure"] == "sodium_results_in_window"].set_index("period")
    assert sodium["suppressed"].to_dict() == {
        "2026-01": "primary", "2026-02": "", "2026-03": "", "total": "complementary"
    }  # fmt: skip
    manifest = json.loads((out / "audit_manifest.json").read_text("utf-8"))
    (labs,) = manifest["inputs"]["labs"]
    assert labs["rows"] == "hidden" and "bytes" not in labs, labs
    assert len(labs["sha256"]) == 64  # the steward still finds the file
