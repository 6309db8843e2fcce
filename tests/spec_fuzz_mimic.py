"""A generated canonical extract (spec_fuzz_generate) written again as a MIMIC-IV `hosp`
delivery, for the canonical-vs-MIMIC differential check (spec_fuzz_compare.compare_mimic, also
`tests/spec_fuzz_compare.py FIRST LAST N mimic`).

MIMIC-IV says less than the canonical layout, so the extract is first cut down to the rows
MIMIC can express (`expressible`), the cut canonical extract is written again as CSV and as
MIMIC, and both are screened: the comparison is of one set of facts told two ways. What MIMIC
cannot carry, and so is left out of both sides:
- a lab row of an excluded status (entered-in-error, cancelled): labevents has no status (a
  cancelled result is one with no value and a comment; the canonical row has a value);
- a medication named by RxNorm or ATC alone (prescriptions names the drug; its NDC/GSN codes
  are no RxNorm), or of an excluded status (cancelled, entered-in-error, not-done);
- a diagnosis coded otherwise than ICD-9-CM / ICD-10-CM (SNOMED CT, ICD-11), or of an excluded
  status (diagnoses_icd codes are billed for a stay, never refuted or resolved);
- any row whose time is the second pass of a wall time the clocks go back over: MIMIC writes
  naive site-local times (`2026-11-01 01:30:00`), which read as the first pass (spec §11).
How the rest is written, the MIMIC way:
- subject_id is a number that sorts as the canonical id does (ties of the ranking keep their
  order); specimen ids become numbers (a blank one stays blank: the canonical row pairs its
  glucose by time alone, and so must the MIMIC one);
- a lab row's item is an item of rules/mimic_labitems.csv for the analyte the canonical reader
  identifies (the same item for every row of one code, so duplicates stay duplicates), its
  d_labitems row the file's label and fluid (a urine sodium is item 51100, fluid Urine); a row
  of no analyte is a local item whose label is no test of the screen (so the not-relevant
  reason differs, unknown_loinc against unknown_lab_name: not compared). The row's own
  specimen type (Serum, Plasma, Whole blood) is not carried: MIMIC has a fluid per item, and
  only the analyte the type decides is;
- `value` is the text as received (without surrounding spaces), `valuenum` its number when it
  is one (MIMIC's `___` beside a parsed number: that number; at times as a float's text,
  `135.0`), `valueuom` the unit as written; half the censored results are kept in `comments`
  alone, as a sentence (`LESS THAN 125.5.`), with `value` empty; a lab row at times names an
  `hadm_id`;
- drawn per extract (STYLES): a blank specimen id becomes one of the row's own (MIMIC has one
  on every row; a duplicate shares it), d_labitems labels in upper case, no d_labitems at all
  (the shipped item list alone identifies the items), icd_code padded with spaces to CHAR(7),
  the tables as plain CSVs in the folder itself;
- `charttime` is the naive site-local wall time of the canonical instant, `storetime` up to a
  day later (the canonical extract has no report time: a run's list must not depend on it;
  the nightly late-result lookback, which reads it, is not compared here);
- prescriptions: `drug`, `starttime`, `stoptime`; a stopped/completed order without an end,
  which spec §6 holds active until start + 30 days without grace, ends 23 elapsed days
  after its start (+ the 7-day grace = 30 days): MIMIC writes a stop time for a finished order;
- diagnoses_icd: `icd_code` upper case without dots, `icd_version` 9/10, `hadm_id` of a stay
  in admissions that starts at the canonical recorded time (the adapter dates a code at its
  stay's start: `admittime`, or `edregtime` when earlier; both ways are written).
"""

from __future__ import annotations

import random
from pathlib import Path

import pandas as pd

from hyposcreen.rules.loader import load_rules, load_source_map
from hyposcreen.rules.matching import identify_analytes
from spec_fuzz_fhir import read_tables
from spec_fuzz_generate import DX_COLUMNS, LAB_COLUMNS, MED_COLUMNS
from spec_fuzz_rules import CENSORED, NUMBER, Rules, read_time

LABEVENTS = (
    "labevent_id subject_id hadm_id specimen_id itemid order_provider_id charttime storetime "
    "value valuenum valueuom ref_range_lower ref_range_upper flag priority comments"
).split()
PRESCRIPTIONS = (
    "subject_id hadm_id pharmacy_id poe_id poe_seq order_provider_id starttime stoptime "
    "drug_type drug formulary_drug_cd gsn ndc prod_strength form_rx dose_val_rx dose_unit_rx "
    "form_val_disp form_unit_disp doses_per_24_hrs route"
).split()
ADMISSIONS = (
    "subject_id hadm_id admittime dischtime deathtime admission_type admit_provider_id "
    "admission_location discharge_location insurance language marital_status race edregtime "
    "edouttime hospital_expire_flag"
).split()
LOCAL_ITEM = {"itemid": "59999", "label": "Research assay", "fluid": "Blood", "category": "Other"}
VERSIONS = {"ICD-9-CM": "9", "ICD-10-CM": "10"}
# ways of a delivery, drawn per extract: blank specimen ids each given one of their own (MIMIC
# has one on every row), d_labitems labels in upper case (MIMIC-III), no d_labitems at all,
# icd_code padded to 7 characters (mimic-code's Postgres build holds it as CHAR(7)), plain
# CSVs in the delivery's folder instead of hosp/*.csv.gz (a seed of 4 modulo 5)
STYLES = {"fresh_ids": 0.5, "upper_labels": 0.2, "no_d_labitems": 0.15, "padded_codes": 0.3}
STOPPED_END = pd.Timedelta(days=23)  # + the 7-day grace: active until start + 30 days


def wall(text: str, tz: str) -> str | None:
    """The naive site-local wall time MIMIC writes for a canonical time: None when there is
    none or it is the second pass of a doubled hour (a naive text reads as the first)."""
    when = read_time(text, tz)
    if when is None:
        return None
    local = when.tz_convert(tz).tz_localize(None)
    back = local.tz_localize(tz, ambiguous=True, nonexistent="shift_forward").tz_convert("UTC")
    return local.strftime("%Y-%m-%d %H:%M:%S") if back == when else None


def expressible(tables: dict[str, list[dict]], tz: str) -> dict[str, list[dict]]:
    """The canonical rows MIMIC-IV can express (the module docstring lists what it cannot)."""
    rules = Rules()

    def kept(status: str, key: str) -> bool:
        return status.strip().lower() not in rules.statuses(key)

    labs = [
        r
        for r in tables["labs"]
        if kept(r["status"], "lab_excluded") and wall(r["specimen_time"], tz)
    ]
    meds = [
        r
        for r in tables["medications"]
        if r["drug_name"].strip()
        and kept(r["status"], "medication_excluded")
        and wall(r["start_time"], tz)
        and (wall(r["end_time"], tz) if r["end_time"].strip() else _stopped_end(r, tz) is not None)
    ]
    diags = [
        r
        for r in tables["diagnoses"]
        if rules.code_system(r["code_system"]) in VERSIONS
        and kept(r["status"], "diagnosis_excluded")
        and wall(r["recorded_time"], tz)
    ]
    return {"labs": labs, "medications": meds, "diagnoses": diags}


def subject(pid: str) -> str:
    """A MIMIC subject_id for a canonical id (P03214 -> 10003214: the same sort order)."""
    return str(10_000_000 + int("".join(ch for ch in pid if ch.isdigit())))


def _analytes(labs: list[dict]) -> list[str | None]:
    """The analyte the canonical reader identifies for each lab row."""
    frame = pd.DataFrame(
        {
            key: [r[key].strip() or None for r in labs]
            for key in ("loinc", "lab_name", "specimen_type")
        },
        dtype=object,
    )
    if frame.empty:
        return []
    analyte, _ = identify_analytes(frame, load_rules())
    return [a if isinstance(a, str) else None for a in analyte]


def _later(wall_time: str, minutes: int) -> str:
    """A naive wall time `minutes` later (MIMIC stores a result after the draw)."""
    return (pd.Timestamp(wall_time) + pd.Timedelta(minutes=minutes)).strftime("%Y-%m-%d %H:%M:%S")


def _number(raw: str, parsed: str) -> str:
    if pd.Series([raw]).str.fullmatch(NUMBER).iloc[0]:
        return raw
    if raw == "___" and pd.Series([parsed.strip()]).str.fullmatch(NUMBER).iloc[0]:
        return parsed.strip()
    return ""


def _labevents(labs: list[dict], tz: str, rng: random.Random, style: dict) -> tuple[list, list]:
    """labevents rows and the d_labitems rows of their items."""
    items: dict[str, list[dict]] = {}
    for row in load_source_map("mimic_labitems.csv"):
        items.setdefault(row["analyte"], []).append(row)
    chosen: dict[tuple, dict] = {}  # one item per (code, name, analyte): duplicates stay so
    specimens: dict[str, str] = {}
    rows = []
    for n, (lab, analyte) in enumerate(zip(labs, _analytes(labs), strict=True)):
        key = (lab["loinc"].strip(), lab["lab_name"].strip().lower(), analyte)
        if key not in chosen:
            chosen[key] = rng.choice(items[analyte]) if analyte in items else LOCAL_ITEM
        chart = wall(lab["specimen_time"], tz)
        sid = lab["specimen_id"].strip()
        if not sid and style["fresh_ids"]:  # one of its own, shared by a duplicate only
            sid = f"{lab['patient_id']} {chart} {chosen[key]['itemid']}"
        if sid:
            specimens.setdefault(sid, str(30_000_000 + len(specimens)))
        raw = lab["value_raw"].strip()
        number = _number(raw, lab.get("value", ""))
        row = {
            "labevent_id": str(n + 1),
            "subject_id": subject(lab["patient_id"]),
            "hadm_id": str(29_000_000 + n) if rng.random() < 0.3 else "",
            "specimen_id": specimens.get(sid, ""),
            "itemid": chosen[key]["itemid"],
            "order_provider_id": "P49AFC",
            "charttime": chart,
            "storetime": _later(chart, rng.choice([0, 0, 17, 45, 190, 1500])),
            "value": raw,
            "valuenum": f"{float(number)!r}" if number and rng.random() < 0.3 else number,
            "valueuom": lab["unit"],
            "priority": "ROUTINE",
        }
        if CENSORED.match(raw) and rng.random() < 0.5:  # kept in the comment alone
            row |= {"value": "", "comments": raw + "."}
        rows.append(row)
    d_labitems = [
        {k: item[k] for k in ("itemid", "label", "fluid", "category")}
        | ({"label": item["label"].upper()} if style["upper_labels"] else {})
        for item in {i["itemid"]: i for i in chosen.values()}.values()
    ]
    return rows, d_labitems


def _stopped_end(med: dict, tz: str) -> str | None:
    """The stoptime of a stopped/completed order without an end: 23 elapsed days after its
    start (spec §11; None when that is the second pass of a doubled hour), else ''."""
    if med["status"].strip().lower() not in Rules().statuses("medication_stopped"):
        return ""
    start = read_time(med["start_time"], tz)
    return wall((start + STOPPED_END).isoformat(), tz) if start is not None else None


def _prescriptions(meds: list[dict], tz: str) -> list[dict]:
    rows = []
    for med in meds:
        stop = wall(med["end_time"], tz) if med["end_time"].strip() else _stopped_end(med, tz)
        row = {"subject_id": subject(med["patient_id"]), "drug_type": "MAIN"}
        rows.append(row | {"starttime": wall(med["start_time"], tz), "stoptime": stop})
        rows[-1] |= {"drug": med["drug_name"], "route": "PO"}
    return rows


def _stays(diags: list[dict], tz: str, rng: random.Random, width: int) -> tuple[list, list]:
    """diagnoses_icd rows (codes padded to `width`) and one admission per patient and
    recorded time."""
    stays: dict[tuple, str] = {}
    admissions, rows = [], []
    for n, dx in enumerate(diags):
        pid = subject(dx["patient_id"])
        start = wall(dx["recorded_time"], tz)
        if (pid, start) not in stays:
            stays[(pid, start)] = hadm = str(20_000_000 + len(stays))
            later, discharged = _later(start, 180), _later(start, 5 * 1440)
            via_ed = rng.random() < 0.4  # registered in the ED first: the stay starts there
            admissions.append(
                {
                    "subject_id": pid,
                    "hadm_id": hadm,
                    "admittime": later if via_ed else start,
                    "dischtime": discharged,
                    "admission_type": "EW EMER." if via_ed else "ELECTIVE",
                    "edregtime": start if via_ed else "",
                    "edouttime": later if via_ed else "",
                    "hospital_expire_flag": "0",
                }
            )
        system = Rules().code_system(dx["code_system"]) or ""
        rows.append(
            {
                "subject_id": pid,
                "hadm_id": stays[(pid, start)],
                "seq_num": str(n + 1),
                "icd_code": dx["code"].strip().replace(".", "").upper().ljust(width),
                "icd_version": VERSIONS[system],
            }
        )
    return rows, admissions


def _write(path: Path, rows: list[dict], columns: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    frame = pd.DataFrame(rows, columns=columns, dtype=object)
    if path.parent.name != "hosp":  # unpacked into the delivery's folder itself
        path = path.with_suffix("")
    frame.to_csv(path, index=False, compression={"method": "infer", "mtime": 0})


def write_mimic(canonical: Path, kept: Path, out: Path, tz: str, seed: int) -> dict[str, str]:
    """Cut the canonical extract in `canonical` to what MIMIC-IV expresses, write the cut
    extract as canonical CSVs into `kept` and as a MIMIC-IV hosp delivery into `out/hosp`;
    return MIMIC subject_id -> canonical patient id."""
    rng = random.Random(seed)  # noqa: S311 - test data, not secrets
    tables = expressible(read_tables(canonical), tz)
    kept.mkdir(parents=True, exist_ok=True)
    for name, columns in (
        ("labs", LAB_COLUMNS),
        ("medications", MED_COLUMNS),
        ("diagnoses", DX_COLUMNS),
    ):
        pd.DataFrame(tables[name], columns=columns.split()).to_csv(
            kept / f"{name}.csv", index=False
        )
    style = {k: rng.random() < p for k, p in STYLES.items()}
    style["unpacked"] = seed % 5 == 4  # not drawn: the draws after it stay as they were
    hosp = out if style["unpacked"] else out / "hosp"
    labevents, d_labitems = _labevents(tables["labs"], tz, rng, style)
    _write(hosp / "labevents.csv.gz", labevents, LABEVENTS)
    if not style["no_d_labitems"]:
        _write(hosp / "d_labitems.csv.gz", d_labitems, ["itemid", "label", "fluid", "category"])
    _write(hosp / "prescriptions.csv.gz", _prescriptions(tables["medications"], tz), PRESCRIPTIONS)
    diagnoses, admissions = _stays(tables["diagnoses"], tz, rng, 7 * style["padded_codes"])
    icd = ["subject_id", "hadm_id", "seq_num", "icd_code", "icd_version"]
    _write(hosp / "diagnoses_icd.csv.gz", diagnoses, icd)
    _write(hosp / "admissions.csv.gz", admissions, ADMISSIONS)
    ids = {subject(r["patient_id"]): r["patient_id"] for t in tables.values() for r in t}
    patients = [
        {"subject_id": s, "gender": rng.choice("FM"), "anchor_age": "60", "anchor_year": "2026"}
        for s in sorted(ids)
    ]
    _write(hosp / "patients.csv.gz", patients, ["subject_id", "gender", "anchor_age", "anchor_year",
                                                "anchor_year_group", "dod"])  # fmt: skip
    return ids
