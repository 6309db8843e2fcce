"""`--source mimic` on extracts written the way PhysioNet ships MIMIC-IV (v2.x/v3.x): gzipped
CSVs in `hosp/` next to an `icu/` folder, `labevents` with every published column, empty
hadm_id, `___` and `ERROR` values, ICD-9 and ICD-10 codes without dots. Each test states the
spec's answer, computed by hand."""

from __future__ import annotations

import gzip
from pathlib import Path

import pandas as pd
import pytest

from hyposcreen.adapters import mimic
from hyposcreen.cli import main
from hyposcreen.rules.loader import load_rules

RULES = load_rules()

# ------------------------------------------------------------------ lab items


def test_the_extracts_own_d_labitems_label_decides_over_the_shipped_item_list() -> None:
    """The shipped item list (rules/mimic_labitems.csv) is recalled, not read from the data:
    when the extract's d_labitems names an item differently, its label decides (through the
    lab dictionary); the shipped entry only fills in for items d_labitems does not have or
    names the same way (any letter case)."""
    items = pd.DataFrame(
        {
            "itemid": ["51093", "50964", "50983", "50824", "50971"],
            "label": ["Hemoglobin", "Osmolality, Measured", "SODIUM", None, "Potassium"],
            "fluid": ["Blood", "Blood", "BLOOD", "Blood", "Urine"],
        }
    )
    found = mimic.identify_items(items, RULES)
    assert list(found["analyte"].fillna("")) == [
        "", "serum_osmolality", "sodium", "sodium", "",
    ]  # fmt: skip
    assert list(found["reason"].fillna("")) == ["unknown_lab_name", "", "", "", "urine_specimen"]


# ------------------------------------------------------------------ a whole extract, CLI

_LABEVENTS = (
    "labevent_id,subject_id,hadm_id,specimen_id,itemid,order_provider_id,charttime,storetime,"
    "value,valuenum,valueuom,ref_range_lower,ref_range_upper,flag,priority,comments"
)
_PRESCRIPTIONS = (
    "subject_id,hadm_id,pharmacy_id,poe_id,poe_seq,order_provider_id,starttime,stoptime,"
    "drug_type,drug,formulary_drug_cd,gsn,ndc,prod_strength,form_rx,dose_val_rx,dose_unit_rx,"
    "form_val_disp,form_unit_disp,doses_per_24_hrs,route"
)
_ADMISSIONS = (
    "subject_id,hadm_id,admittime,dischtime,deathtime,admission_type,admit_provider_id,"
    "admission_location,discharge_location,insurance,language,marital_status,race,edregtime,"
    "edouttime,hospital_expire_flag"
)
_D = "2180-05-06"


def _lab(n: int, subject: str, hadm: str, specimen: str, item: str, hour: str, value: str,
         number: str, unit: str, comments: str = "") -> str:  # fmt: skip
    chart, store = f"{_D} {hour}:00:00", f"{_D} {hour}:45:00"
    return (f"{n},{subject},{hadm},{specimen},{item},P49AFC,{chart},{store},{value},{number},"
            f"{unit},133,145,abnormal,ROUTINE,{comments}")  # fmt: skip


def _write(path: Path, header: str, rows: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wt", encoding="utf-8", newline="") as handle:
        handle.write("\n".join([header, *rows]) + "\n")


def _admission(subject: str, hadm: str, admit: str, discharge: str) -> str:
    return f"{subject},{hadm},{admit},{discharge},,EW EMER.,P1,EMERGENCY ROOM,HOME,Other,,,,,,0"


def _screen_day(root: Path, out: Path) -> tuple[int, pd.DataFrame]:
    """`run --no-flow --source mimic` of `root` for the day _D: (exit status, its review list)."""
    window = ["--window-start", _D, "--window-end", "2180-05-07"]
    status = main(["run", "--no-flow", "--source", "mimic", "--input", str(root), "--out",
                   str(out), *window])  # fmt: skip
    return status, pd.read_csv(out / _D / "review_list.csv", dtype=str, keep_default_na=False)


def _extract(root: Path) -> Path:
    hosp = root / "hosp"
    labs = [
        _lab(1, "10000032", "22595853", "1001", "50983", "08", "128", "128", "mEq/L"),
        _lab(2, "10000032", "22595853", "1001", "50931", "08", "100", "100", "mg/dL"),
        _lab(3, "10000032", "22595853", "1001", "50971", "08", "3.2", "3.2", "mEq/L"),
        _lab(4, "10000084", "", "2002", "50824", "10", "118", "118", "mEq/L"),
        _lab(5, "10000084", "", "2003", "51100", "11", "20", "20", "mEq/L"),
        _lab(6, "10000117", "27988844", "3001", "52623", "06", "___", "131", "mEq/L"),
        _lab(7, "10001217", "24597018", "4001", "50983", "05", "133", "133", "mEq/L"),
        _lab(8, "10001217", "24597018", "4001", "50931", "05", "400", "400", "mg/dL"),
        _lab(9, "10001725", "", "5001", "51100", "05", "15", "15", "mEq/L"),
        _lab(10, "10001725", "", "5002", "51624", "05", "120", "120", "mEq/L"),
        _lab(11, "10001725", "", "5003", "50983", "05", "138", "138", "mEq/L"),
        _lab(12, "10002428", "", "6001", "50983", "13", "127", "127", "mEq/L"),
        _lab(13, "10002495", "25000001", "7001", "50983", "09", "124", "124", "mEq/L"),
        _lab(14, "10002495", "25000001", "7001", "50960", "09", "1.5", "1.5", "mg/dL"),
        _lab(15, "10003046", "", "8001", "50983", "09", "130", "130", "mEq/L"),
        _lab(16, "10003046", "", "8001", "50893", "09", "8.0", "8", "mg/dL"),
        _lab(17, "10003046", "", "8001", "50862", "09", "3.0", "3", "g/dL"),
        _lab(18, "10003400", "26000001", "9001", "50983", "01", "ERROR", "", "mEq/L", "___"),
        _lab(19, "10003400", "26000001", "9002", "50983", "03", "132", "132", "mEq/L"),
        _lab(20, "10003400", "26000001", "9002", "51221", "03", "30", "30", "%"),
    ]
    _write(hosp / "labevents.csv.gz", _LABEVENTS, labs)
    _write(hosp / "d_labitems.csv.gz", "itemid,label,fluid,category", [
        "50983,Sodium,Blood,Chemistry", "52623,Sodium,Blood,Chemistry",
        '50824,"Sodium, Whole Blood",Blood,Blood Gas', '51100,"Sodium, Urine",Urine,Chemistry',
        "51624,Sodium,Ascites,Chemistry", "50931,Glucose,Blood,Chemistry",
        "50971,Potassium,Blood,Chemistry", "50960,Magnesium,Blood,Chemistry",
        '50893,"Calcium, Total",Blood,Chemistry', "50862,Albumin,Blood,Chemistry",
        "51221,Hematocrit,Blood,Hematology",
    ])  # fmt: skip
    drug = ",MAIN,{},X,,,{},,1,mg,1,TAB,1,PO"
    _write(hosp / "prescriptions.csv.gz", _PRESCRIPTIONS, [
        "10000032,22595853,1,p-1,1,P49AFC,2180-05-01 08:00:00,2180-05-10 12:00:00"
        + drug.format("Furosemide", "20mg Tablet"),
        "10001217,24597018,2,p-2,1,,2180-04-01 08:00:00,2180-06-01 08:00:00"
        + drug.format("HydroCHLOROthiazide", "25mg Tablet"),
        "10002428,,3,p-3,1,,2180-04-20 08:00:00," + drug.format("Sertraline", "50mg Tablet"),
    ])  # fmt: skip
    _write(hosp / "diagnoses_icd.csv.gz", "subject_id,hadm_id,seq_num,icd_code,icd_version", [
        "10000117,20000117,1,K7031,10", "10002428,20002428,3,4280,9",
        "10002495,25000001,2,5715,9", "10003400,26000001,1,E222,10",
        "10000032,22595853,5,Z7901,10",
    ])  # fmt: skip
    _write(hosp / "admissions.csv.gz", _ADMISSIONS, [
        _admission("10000117", "20000117", "2179-01-01 10:00:00", "2179-01-05 10:00:00"),
        _admission("10002428", "20002428", "2178-06-01 10:00:00", "2178-06-05 10:00:00"),
        _admission("10002495", "25000001", "2180-05-05 22:00:00", "2180-05-12 10:00:00"),
        _admission("10003400", "26000001", "2180-05-05 20:00:00", "2180-05-09 10:00:00"),
        _admission("10000032", "22595853", "2180-05-06 22:23:00", "2180-05-07 17:15:00"),
    ])  # fmt: skip
    _write(hosp / "patients.csv.gz", "subject_id,gender,anchor_age,anchor_year,"
           "anchor_year_group,dod", ["10000032,F,52,2180,2014 - 2016,2180-09-09"])  # fmt: skip
    _write(root / "icu" / "icustays.csv.gz", "subject_id,hadm_id,stay_id,first_careunit,"
           "last_careunit,intime,outtime,los", ["10000032,22595853,1,MICU,MICU,,,0.5"])  # fmt: skip
    return root


def test_a_physionet_layout_extract_lists_the_hand_computed_cases(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Hand-computed (seed profile, window 2180-05-06):
    10000084: whole-blood sodium 118 -> severe -> urgent (no risk factor needed); the urine
      sodium 20 is workup, not serum sodium.
    10002495: 124 moderate; Mg 1.5 -> hypomagnesemia; ICD-9 5715 (stay admitted the evening
      before) -> cirrhosis, a correction risk -> soon.
    10002428: 127 (hadm_id empty) mild; sertraline ongoing -> ssri; ICD-9 4280 of a 2178 stay
      -> heart failure: 2 factors -> soon.
    10000032: 128 with glucose 100 (no correction); K 3.2 -> hypokalemia (correction risk);
      furosemide -> loop: 2 factors -> soon.
    10000117: item 52623 (not in the shipped list; d_labitems says Sodium/Blood), value `___`
      with valuenum 131 -> 131 mild; K7031 of a 2179 stay -> cirrhosis -> routine.
    10003400: `ERROR` is non-numeric (quarantined); 132 mild; E222 -> SIADH -> routine.
    Not cases: 10001217 (133 with glucose 400 -> 137.8), 10001725 (urine and ascites sodium,
    serum 138), 10003046 (130, calcium 8.0 with albumin 3.0 -> 8.8: no risk factor)."""
    root = _extract(tmp_path / "mimic-iv-3.1")
    out = tmp_path / "out"
    status, review = _screen_day(root, out)
    err = capsys.readouterr().err
    assert status == 4, err  # the one `ERROR` sodium of ten is above the 5% contract share
    day = out / _D
    got = review[["tier", "patient_id", "corrected_sodium", "severity", "risk_factors",
                  "correction_risk"]].values.tolist()  # fmt: skip
    assert got == [
        ["1", "10000084", "118.0", "severe", "", "false"],
        ["2", "10002495", "124.0", "moderate", "cirrhosis;hypomagnesemia", "true"],
        ["2", "10002428", "127.0", "mild", "heart_failure;ssri", "false"],
        ["2", "10000032", "128.0", "mild", "hypokalemia;loop_diuretic", "true"],
        ["3", "10000117", "131.0", "mild", "cirrhosis", "true"],
        ["3", "10003400", "132.0", "mild", "siadh", "false"],
    ]
    quarantine = pd.read_csv(day / "quarantine.csv", dtype=str)
    assert quarantine[["source_file", "source_row", "reason"]].values.tolist() == [
        ["labevents.csv.gz", "19", "non_numeric"]
    ]
    assert "10003400" not in err and "ERROR" not in err


def test_mimic_iv_v2_item_ids_are_known_without_d_labitems(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """MIMIC-IV v2+ also files sodium, potassium, glucose, free calcium and the workup under
    52xxx item ids (52623 Sodium, 52455 whole-blood sodium, 52610 and 51677 potassium, 52569
    and 52027 glucose, 51624 free calcium, 52031/52044 osmolalities, 52047 urine sodium). An
    extract shipped without d_labitems (optional) is read through the shipped item list.
    Hand-computed (seed profile, window 2180-05-06):
    10000002: whole-blood sodium 118 (52455) -> severe -> urgent; K 3.0 (52452) -> hypokalemia.
    10000003: sodium 131; free calcium 1.00 mmol/L (51624) -> hypocalcemia; K (GREEN) 3.1
      (51677) -> hypokalemia: 2 factors -> soon.
    10000004: sodium 128 (52623); furosemide -> loop -> routine; serum osmolality (52031),
      urine osmolality (52044) and urine sodium 40 (52047, never serum sodium) -> no missing
      workup.
    10000001: sodium 126 (52623) with glucose 300 (52569) in its specimen -> 126 + 1.6 x 2 =
      129.2, mild; K 3.2 (52610) -> hypokalemia -> routine."""
    hosp = tmp_path / "mimic-iv-3.1" / "hosp"
    labs = [
        _lab(1, "10000001", "21", "101", "52623", "08", "126", "126", "mEq/L"),
        _lab(2, "10000001", "21", "101", "52569", "08", "300", "300", "mg/dL"),
        _lab(3, "10000001", "21", "101", "52610", "08", "3.2", "3.2", "mEq/L"),
        _lab(4, "10000002", "22", "201", "52455", "09", "118", "118", "mEq/L"),
        _lab(5, "10000002", "22", "201", "52452", "09", "3.0", "3", "mEq/L"),
        _lab(6, "10000002", "22", "201", "52027", "09", "100", "100", "mg/dL"),
        _lab(7, "10000003", "23", "301", "50983", "10", "131", "131", "mEq/L"),
        _lab(8, "10000003", "23", "302", "51624", "10", "1.00", "1", "mmol/L"),
        _lab(9, "10000003", "23", "301", "51677", "10", "3.1", "3.1", "mEq/L"),
        _lab(10, "10000004", "24", "401", "52623", "11", "128", "128", "mEq/L"),
        _lab(11, "10000004", "24", "402", "52031", "11", "268", "268", "mOsm/kg"),
        _lab(12, "10000004", "24", "403", "52044", "12", "450", "450", "mOsm/kg"),
        _lab(13, "10000004", "24", "403", "52047", "12", "40", "40", "mEq/L"),
    ]
    _write(hosp / "labevents.csv.gz", _LABEVENTS, labs)
    drug = ",MAIN,Furosemide,X,,,20mg Tablet,,1,mg,1,TAB,1,PO"
    _write(hosp / "prescriptions.csv.gz", _PRESCRIPTIONS,
           ["10000004,24,1,p-1,1,,2180-05-01 08:00:00,2180-05-10 12:00:00" + drug])  # fmt: skip
    _write(hosp / "diagnoses_icd.csv.gz", "subject_id,hadm_id,seq_num,icd_code,icd_version",
           ["10000001,21,1,Z7901,10"])  # fmt: skip
    stay = _admission("10000001", "21", "2180-05-05 22:00:00", "2180-05-08 10:00:00")
    _write(hosp / "admissions.csv.gz", _ADMISSIONS, [stay])
    out = tmp_path / "out"
    status, review = _screen_day(hosp.parent, out)
    assert status == 0, capsys.readouterr().err
    got = review[["tier", "patient_id", "corrected_sodium", "severity", "risk_factors",
                  "missing_workup"]].values.tolist()  # fmt: skip
    assert got == [
        ["1", "10000002", "118.0", "severe", "hypokalemia",
         "serum_osmolality;urine_osmolality;urine_sodium"],
        ["2", "10000003", "131.0", "mild", "hypocalcemia;hypokalemia",
         "serum_osmolality;urine_osmolality;urine_sodium"],
        ["3", "10000004", "128.0", "mild", "loop_diuretic", ""],
        ["3", "10000001", "129.2", "mild", "hypokalemia",
         "serum_osmolality;urine_osmolality;urine_sodium"],
    ]  # fmt: skip
    coverage = pd.read_csv(out / _D / "coverage.csv", dtype=str)
    assert coverage.empty  # no item id left unrecognised


def test_a_stay_begins_at_its_emergency_department_registration(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A stay's codes are dated at its start; for a patient admitted through the emergency
    department that is `edregtime` (06:00), not the later `admittime` (14:00). Hand-computed
    (seed profile, window 2180-05-06): 10000005's sodium 124 drawn in the ED at 08:00 (no
    hadm_id yet) is the index (lowest; 130 at 20:00): moderate; K7031 of that stay ->
    cirrhosis, recorded 06:00 <= 08:00 -> listed, soon (tier 2), correction risk. Dated at
    admittime the cirrhosis would postdate the index and the moderate case would go unlisted.
    10000006 has no ED registration: its code stays at admittime (12:00), after its index
    sodium 126 at 09:00, so it has no risk factor and is not listed."""
    hosp = tmp_path / "mimic-iv-3.1" / "hosp"
    labs = [
        _lab(1, "10000005", "", "501", "50983", "08", "124", "124", "mEq/L"),
        _lab(2, "10000005", "25", "502", "50983", "20", "130", "130", "mEq/L"),
        _lab(3, "10000006", "26", "601", "50983", "09", "126", "126", "mEq/L"),
    ]
    _write(hosp / "labevents.csv.gz", _LABEVENTS, labs)
    drug = ",MAIN,Acetaminophen,X,,,500mg Tablet,,1,mg,1,TAB,1,PO"
    _write(hosp / "prescriptions.csv.gz", _PRESCRIPTIONS,
           [f"10000006,26,1,p-1,1,,{_D} 12:00:00,2180-05-09 10:00:00" + drug])  # fmt: skip
    _write(hosp / "diagnoses_icd.csv.gz", "subject_id,hadm_id,seq_num,icd_code,icd_version",
           ["10000005,25,1,K7031,10", "10000006,26,1,K7031,10"])  # fmt: skip
    ed = f"10000005,25,{_D} 14:00:00,2180-05-09 10:00:00,,EW EMER.,P1,EMERGENCY ROOM,HOME,"
    _write(hosp / "admissions.csv.gz", _ADMISSIONS, [
        ed + f"Other,,,,{_D} 06:00:00,{_D} 14:00:00,0",
        _admission("10000006", "26", f"{_D} 12:00:00", "2180-05-09 10:00:00"),
    ])  # fmt: skip
    out = tmp_path / "out"
    status, review = _screen_day(hosp.parent, out)
    err = capsys.readouterr().err
    got = review[["tier", "patient_id", "index_time", "corrected_sodium", "severity",
                  "risk_factors", "correction_risk"]].values.tolist()  # fmt: skip
    assert got == [["2", "10000005", "2180-05-06T08:00:00", "124.0", "moderate", "cirrhosis",
                    "true"]], err  # fmt: skip
    assert "recorded 2180-05-06T06:00:00" in review.loc[0, "evidence"]
    assert status == 0, err


@pytest.mark.parametrize("order", [1, -1], ids=["earlier-first", "later-first"])
def test_a_stay_listed_twice_starts_at_its_earliest_row_whatever_their_order(
    tmp_path: Path, order: int, capsys: pytest.CaptureFixture[str]
) -> None:
    """admissions.csv lists stay 25 twice (a re-export): admitted 07:00 and 15:00. The stay
    starts at 07:00 in either row order, so its cirrhosis (K7031, dated at the stay's start)
    is recorded before the index sodium 124 at 08:00: moderate, cirrhosis -> listed, tier 2.
    Taken from the later row, the condition would postdate the index and the case would go."""
    hosp = tmp_path / "mimic" / "hosp"
    _write(hosp / "labevents.csv.gz", _LABEVENTS,
           [_lab(1, "10000005", "25", "501", "50983", "08", "124", "124", "mEq/L")])  # fmt: skip
    drug = ",MAIN,Acetaminophen,X,,,500mg Tablet,,1,mg,1,TAB,1,PO"
    _write(hosp / "prescriptions.csv.gz", _PRESCRIPTIONS,
           [f"10000005,25,1,p-1,1,,{_D} 12:00:00,2180-05-09 10:00:00" + drug])  # fmt: skip
    _write(hosp / "diagnoses_icd.csv.gz", "subject_id,hadm_id,seq_num,icd_code,icd_version",
           ["10000005,25,1,K7031,10"])  # fmt: skip
    stays = [_admission("10000005", "25", f"{_D} {hour}:00:00", "2180-05-09 10:00:00")
             for hour in ("07", "15")]  # fmt: skip
    _write(hosp / "admissions.csv.gz", _ADMISSIONS, stays[::order])
    out = tmp_path / "out"
    status, review = _screen_day(hosp.parent, out)
    err = capsys.readouterr().err
    got = review[["tier", "patient_id", "risk_factors"]].values.tolist()
    assert got == [["2", "10000005", "cirrhosis"]], err
    assert "recorded 2180-05-06T07:00:00" in review.loc[0, "evidence"]
    assert status == 0, err
