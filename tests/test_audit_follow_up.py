"""The audit's hours from a severe sodium to the patient's next one: read from the results'
times alone, whatever the order of the extract's rows."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from hyposcreen.audit import AuditSettings, run_audit

LAB_HEAD = (
    "patient_id,encounter_id,specimen_id,specimen_time,result_time,loinc,lab_name,value_raw,"
    "unit,status,specimen_type\n"
)
# P1: severe 115 and a second specimen of 128 drawn at the same minute, then 130 six hours
# later; P2: severe 116, then 130 ten hours later. The next sodium after each severe value is
# 14:00 for P1 (6 h) and 19:00 for P2 (10 h): n = 2, median (6 + 10) / 2 = 8.0 h.
LAB_ROWS = [
    "P1,E1,S1,2026-03-02T08:00:00,2026-03-02T09:00:00,2951-2,Sodium,115,mmol/L,final,Serum",
    "P1,E1,S2,2026-03-02T08:00:00,2026-03-02T09:00:00,2951-2,Sodium,128,mmol/L,final,Serum",
    "P1,E1,S3,2026-03-02T14:00:00,2026-03-02T15:00:00,2951-2,Sodium,130,mmol/L,final,Serum",
    "P2,E2,S4,2026-03-03T09:00:00,2026-03-03T10:00:00,2951-2,Sodium,116,mmol/L,final,Serum",
    "P2,E2,S5,2026-03-03T19:00:00,2026-03-03T20:00:00,2951-2,Sodium,130,mmol/L,final,Serum",
]


def _extract(folder: Path, lab_rows: list[str]) -> Path:
    folder.mkdir()
    (folder / "labs.csv").write_text(LAB_HEAD + "\n".join(lab_rows) + "\n", encoding="utf-8")
    (folder / "medications.csv").write_text(
        "patient_id,encounter_id,drug_name,rxnorm,atc,start_time,end_time,status,route\n",
        encoding="utf-8",
    )
    (folder / "diagnoses.csv").write_text(
        "patient_id,encounter_id,code,code_system,recorded_time,status,description\n",
        encoding="utf-8",
    )
    return folder


@pytest.mark.parametrize("order", [[0, 1, 2, 3, 4], [1, 0, 2, 3, 4]], ids=["severe", "other"])
def test_a_severe_value_s_next_sodium_is_the_next_later_time_in_any_row_order(
    tmp_path: Path, order: list[int]
) -> None:
    folder = _extract(tmp_path / "in", [LAB_ROWS[i] for i in order])
    run_audit(
        AuditSettings(
            input_dir=folder,
            out_dir=tmp_path / "out",
            start=pd.Timestamp("2026-03-01"),
            end=pd.Timestamp("2026-04-01"),
            min_cell_size=2,
        )
    )
    tables = pd.read_csv(tmp_path / "out" / "audit_tables.csv", dtype=str, keep_default_na=False)
    cell = tables.loc[
        (tables["period"] == "2026-03") & (tables["measure"] == "median_hours_to_next_sodium")
    ].iloc[0]
    assert (cell["denominator"], cell["value"], cell["suppressed"]) == ("2", "8.0", "")
