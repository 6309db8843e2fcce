"""MIMIC-IV `hosp` adapter (`--source mimic`): labevents, prescriptions, diagnoses_icd, patients.

Files are `<table>.csv` or `.csv.gz` (also Parquet, a folder per table, upper-case names) in
the input folder or its `hosp/` subfolder. `admissions` is required (diagnosis times, below);
`d_labitems`, `patients` and `d_icd_diagnoses` are optional.

Labs: each `itemid` is identified once, not per row. A site lab dictionary entry for the item id
wins, then the shipped `rules/mimic_labitems.csv`, then the `d_labitems` label through the lab
dictionary. The `d_labitems` fluid is the specimen type, so a sodium item measured in urine is
urine sodium and one in ascites or pleural fluid is not relevant — never serum sodium (the same
rule as the canonical path, `screen.matching.identify_analytes`). `labevents` (100M+ rows in
MIMIC-IV) is read with a projection and filtered to the relevant item ids in Arrow before any
pandas conversion. value_raw = `value` (`___` and text are quarantined as non-numeric unless
`valuenum` holds a number), unit = `valueuom`, specimen_time = `charttime`, result_time =
`storetime`, specimen_id and hadm_id (encounter) are kept. A result with no value whose
`comments` say it was cancelled gets status `cancelled` (quarantined with that reason).

Diagnosis times: `diagnoses_icd` rows carry no time. They are billing codes assigned for a
whole hospital stay, so a code is dated at the `admittime` of its `hadm_id`: the conditions of
spec §6 (cirrhosis, heart failure, CKD, SIADH, alcohol use, malnutrition) are present during
the stay they were coded for, and a retrospective screen of that stay must see them at its
sodium results; `dischtime` would hide every condition of the stay in which the hyponatremia
happened. For a nightly screen the codes of a stay exist only after discharge, so the current
stay contributes no codes and nothing leaks; previous stays count from their admission. A
code whose hadm_id is not in `admissions` has no time and is quarantined (missing_key).

MIMIC-III spellings (upper-case names, prescriptions startdate/enddate, diagnoses icd9_code)
are read too.

Patients: MIMIC-IV has no birth date (only anchor_age/anchor_year in a shifted calendar); the
birth date stays empty rather than being guessed. sex = `gender`.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from hyposcreen.adapters._files import (
    Prefilter,
    SourceTable,
    batch_column,
    counts_entry,
    find_source_files,
    first_present,
    id_text,
    listing,
    normalize_ids,
    outside_read_window,
)
from hyposcreen.config import SiteMapping, Window
from hyposcreen.errors import InputError
from hyposcreen.ingest.canonical import SCHEMAS, IngestedTable, TableSchema
from hyposcreen.ingest.tabular import RowFilter, canonical_columns, empty_frame, finish_batch
from hyposcreen.rules.loader import RuleSet, load_source_map, normalize_label
from hyposcreen.screen.matching import identify_analytes

SOURCE_TABLES = {
    "labs": "labevents",
    "medications": "prescriptions",
    "diagnoses": "diagnoses_icd",
    "patients": "patients",
}
REQUIRED = ("labevents", "prescriptions", "diagnoses_icd", "admissions")
OPTIONAL = ("d_labitems", "patients", "d_icd_diagnoses")
SUBFOLDERS = ("hosp",)
# canonical columns each table is mapped onto (the rest stay empty)
MAPPED_COLUMNS = {
    "labs": ("patient_id", "encounter_id", "specimen_id", "specimen_time", "result_time",
             "value_raw", "value", "unit", "lab_name", "specimen_type", "status", "ref_low",
             "ref_high", "source_row"),
    "medications": ("patient_id", "encounter_id", "drug_name", "start_time", "end_time", "route",
                    "source_row"),
    "diagnoses": ("patient_id", "encounter_id", "code", "code_system", "recorded_time",
                  "description", "source_row"),
    "patients": ("patient_id", "sex", "source_row"),
}  # fmt: skip
_AUXILIARY = {
    "labs": ("d_labitems",),
    "diagnoses": ("admissions", "d_icd_diagnoses"),
}


def _files(input_dir: Path, table: str) -> list[Path]:
    return find_source_files(input_dir, table, SUBFOLDERS)


def check_layout(input_dir: Path) -> None:
    missing = [t for t in REQUIRED if not _files(input_dir, t)]
    if missing:
        raise InputError(
            f"Input folder {input_dir} does not look like a MIMIC-IV hosp extract: no "
            f"{', '.join(missing)} table. --source mimic expects {', '.join(REQUIRED)} (and "
            f"optionally {', '.join(OPTIONAL)}) as .csv or .csv.gz files, in the folder or its "
            f"hosp/ subfolder. Found: {listing(input_dir, SUBFOLDERS)}."
        )


def input_files(input_dir: Path, name: str) -> list[Path]:
    """The table's files plus the dictionaries / admissions its mapping reads."""
    files = _files(input_dir, SOURCE_TABLES[name])
    for table in _AUXILIARY.get(name, ()):
        files += _files(input_dir, table)
    return files


def read_table(
    input_dir: Path,
    name: str,
    mapping: SiteMapping,
    rules: RuleSet,
    window: Window,
    row_filter: RowFilter | None,
) -> IngestedTable:
    schema = SCHEMAS[name]
    stem = SOURCE_TABLES[name]
    files = _files(input_dir, stem)
    if not files:
        if name == "patients":
            return IngestedTable(name, empty_frame(schema), rows_in=0)
        check_layout(input_dir)
    table = SourceTable(stem, files, mapping)
    reader = {
        "labs": _read_labevents,
        "medications": _read_prescriptions,
        "diagnoses": _read_diagnoses,
        "patients": _read_patients,
    }[name]
    frames, not_relevant, unmapped, extra = reader(
        input_dir, table, rules, mapping, row_filter or RowFilter()
    )
    malformed = table.malformed_frame(schema)
    if malformed is not None:
        frames.append(malformed)
        unmapped["malformed_row"] += table.malformed_count
    frame = pd.concat(frames, ignore_index=True) if frames else empty_frame(schema)
    return IngestedTable(
        name,
        frame,
        rows_in=table.rows_read,
        not_relevant={k: v for k, v in not_relevant.items() if v},
        files=table.records + [r for t in extra for r in t.records],
        present_columns=MAPPED_COLUMNS[name],
        source_counts={
            stem: counts_entry(table.rows_read, unmapped),
            **{t.name: {"read": t.rows_read} for t in extra},
        },
    )


Reader = tuple[list[pd.DataFrame], Counter[str], Counter[str], list[SourceTable]]


def _finish(
    frame: pd.DataFrame,
    schema: TableSchema,
    mapping: SiteMapping,
    row_filter: RowFilter,
    not_relevant: Counter[str],
) -> pd.DataFrame:
    return finish_batch(canonical_columns(frame, schema), schema, mapping, row_filter, not_relevant)


def _auxiliary(input_dir: Path, stem: str, mapping: SiteMapping) -> SourceTable | None:
    files = _files(input_dir, stem)
    return SourceTable(stem, files, mapping) if files else None


# ------------------------------------------------------------------ labevents


def identify_items(items: pd.DataFrame, rules: RuleSet) -> pd.DataFrame:
    """Analyte (or not-relevant reason) of each lab item: itemid, label, fluid -> analyte, reason.

    Site dictionary entry for the item id, else the shipped item dictionary, else the label;
    the fluid decides between blood, urine and other body fluids.
    """
    shipped = {r["itemid"]: r["analyte"] for r in load_source_map("mimic_labitems.csv")}
    extra = {k: v for k, v in shipped.items() if k not in rules.lab_dictionary}
    known = rules.with_lab_dictionary(extra)
    itemid = items["itemid"].astype("str")
    by_id = itemid.map(lambda i: normalize_label(i) in known.lab_dictionary).astype(bool)
    probe = pd.DataFrame(
        {
            "loinc": pd.Series(None, index=items.index, dtype="str"),
            "lab_name": itemid.where(by_id | items["label"].isna(), items["label"]),
            "specimen_type": items["fluid"],
        }
    )
    analyte, reason = identify_analytes(probe, known)
    return items.assign(analyte=analyte, reason=reason)


def _lab_items(input_dir: Path, mapping: SiteMapping, rules: RuleSet) -> tuple[pd.DataFrame, list]:
    shipped = pd.DataFrame(load_source_map("mimic_labitems.csv"), dtype="str")
    shipped = shipped[["itemid", "label", "fluid", "category"]]
    dictionary = _auxiliary(input_dir, "d_labitems", mapping)
    tables = []
    if dictionary is not None:
        given = dictionary.read_all(
            ("itemid", "label", "fluid", "category"), required=("itemid", "label")
        )
        given = given.assign(itemid=id_text(given["itemid"])).dropna(subset=["itemid"])
        shipped = pd.concat([shipped, given[shipped.columns]], ignore_index=True)
        tables.append(dictionary)
    items = shipped.drop_duplicates("itemid", keep="last").reset_index(drop=True)
    return identify_items(items, rules), tables


def _labevents_prefilter(items: pd.DataFrame, row_filter: RowFilter) -> Prefilter:
    """Relevant item ids dated near the read window, in Arrow (labevents has 100M+ rows)."""
    relevant = pa.array(sorted(items.loc[items["analyte"].notna(), "itemid"]), pa.string())
    reasons = items.set_index("itemid")["reason"].dropna().to_dict()

    def prefilter(batch: pa.RecordBatch) -> tuple[pa.Array, Counter[str]]:
        itemid = normalize_ids(batch_column(batch, "itemid"))
        known = pc.fill_null(pc.is_in(itemid, relevant), False)
        dropped: Counter[str] = Counter()
        for entry in pc.value_counts(pc.filter(itemid, pc.invert(known))).to_pylist():
            dropped[reasons.get(entry["values"], "unknown_itemid")] += entry["counts"]
        outside = pc.and_(known, outside_read_window(batch.column("charttime"), row_filter.window))
        dropped["outside_window"] += pc.sum(outside).as_py() or 0
        return pc.and_(known, pc.invert(outside)), dropped

    return prefilter


_LABEVENTS = (
    "subject_id", "hadm_id", "specimen_id", "itemid", "charttime", "storetime", "value",
    "valuenum", "valueuom", "ref_range_lower", "ref_range_upper", "comments",
)  # fmt: skip


def _read_labevents(
    input_dir: Path, table: SourceTable, rules: RuleSet, mapping: SiteMapping, row_filter: RowFilter
) -> Reader:
    items, extra = _lab_items(input_dir, mapping, rules)
    by_item = items.set_index("itemid")
    label = by_item["label"].fillna("")
    # the selector's work is done per item above; only the read window still applies
    window_only = RowFilter(window=row_filter.window)
    not_relevant: Counter[str] = Counter()
    frames = []
    for raw in table.batches(
        _LABEVENTS,
        required=("subject_id", "itemid", "charttime"),
        one_of=("value", "valuenum"),
        prefilter=_labevents_prefilter(items, row_filter),
        dropped=not_relevant,
    ):
        itemid = id_text(raw["itemid"])
        value_raw = raw["value"].where(raw["value"].notna(), raw["valuenum"])
        no_result = value_raw.isna() | (raw["valuenum"].isna() & (raw["value"] == "___"))
        cancelled = raw["comments"].str.contains("cancel", case=False).fillna(False).astype(bool)
        frame = pd.DataFrame(
            {
                "patient_id": id_text(raw["subject_id"]),
                "encounter_id": id_text(raw["hadm_id"]),
                "specimen_id": id_text(raw["specimen_id"]),
                "specimen_time": raw["charttime"],
                "result_time": raw["storetime"],
                "value_raw": value_raw,
                "value": raw["valuenum"],
                "unit": raw["valueuom"],
                "lab_name": (itemid.map(label) + " (itemid " + itemid + ")").str.lstrip(),
                "specimen_type": itemid.map(by_item["fluid"]),
                "status": pd.Series("cancelled", index=raw.index, dtype="str").where(
                    no_result & cancelled
                ),
                "ref_low": raw["ref_range_lower"],
                "ref_high": raw["ref_range_upper"],
                "analyte": itemid.map(by_item["analyte"]),
                "source_file": raw["source_file"],
                "source_row": raw["source_row"],
            }
        )
        frames.append(_finish(frame, SCHEMAS["labs"], mapping, window_only, not_relevant))
    unmapped = Counter({k: v for k, v in not_relevant.items() if k != "outside_window"})
    return frames, not_relevant, unmapped, extra


# ------------------------------------------------------------------ prescriptions

# MIMIC-III spelled the times startdate/enddate: read too
_PRESCRIPTIONS = (
    "subject_id", "hadm_id", "starttime", "stoptime", "startdate", "enddate", "drug", "route",
)  # fmt: skip


def _read_prescriptions(
    input_dir: Path, table: SourceTable, rules: RuleSet, mapping: SiteMapping, row_filter: RowFilter
) -> Reader:
    not_relevant: Counter[str] = Counter()
    unmapped: Counter[str] = Counter()
    frames = []
    for raw in table.batches(
        _PRESCRIPTIONS, required=("subject_id", "drug"), one_of=("starttime", "startdate")
    ):
        frame = pd.DataFrame(
            {
                "patient_id": id_text(raw["subject_id"]),
                "encounter_id": id_text(raw["hadm_id"]),
                "drug_name": raw["drug"],
                "start_time": first_present(raw, ["starttime", "startdate"]),
                "end_time": first_present(raw, ["stoptime", "enddate"]),
                "route": raw["route"],
                "source_file": raw["source_file"],
                "source_row": raw["source_row"],
            }
        )
        unmapped["no_drug_name"] += int(raw["drug"].isna().sum())
        frames.append(_finish(frame, SCHEMAS["medications"], mapping, row_filter, not_relevant))
    return frames, not_relevant, unmapped, []


# ------------------------------------------------------------------ diagnoses_icd

_VERSIONS = {"9": "ICD-9-CM", "10": "ICD-10-CM"}


def _admission_times(input_dir: Path, mapping: SiteMapping) -> tuple[pd.Series, SourceTable]:
    admissions = _auxiliary(input_dir, "admissions", mapping)
    if admissions is None:
        check_layout(input_dir)
        raise AssertionError("unreachable: check_layout raises")  # pragma: no cover
    frame = admissions.read_all(("hadm_id", "admittime"), required=("hadm_id", "admittime"))
    hadm = id_text(frame["hadm_id"])
    times = frame["admittime"].set_axis(hadm)
    return times[~times.index.duplicated()].loc[lambda s: s.index.notna()], admissions


def _descriptions(input_dir: Path, mapping: SiteMapping) -> tuple[pd.Series, list[SourceTable]]:
    titles = _auxiliary(input_dir, "d_icd_diagnoses", mapping)
    if titles is None:
        return pd.Series(dtype="str"), []
    frame = titles.read_all(("icd_code", "icd_version", "long_title"), required=("icd_code",))
    key = frame["icd_version"].fillna("") + ":" + frame["icd_code"].fillna("")
    return frame["long_title"].set_axis(key).loc[lambda s: ~s.index.duplicated()], [titles]


def _read_diagnoses(
    input_dir: Path, table: SourceTable, rules: RuleSet, mapping: SiteMapping, row_filter: RowFilter
) -> Reader:
    admitted, admissions = _admission_times(input_dir, mapping)
    titles, extra = _descriptions(input_dir, mapping)
    not_relevant: Counter[str] = Counter()
    unmapped: Counter[str] = Counter()
    frames = []
    for raw in table.batches(
        ("subject_id", "hadm_id", "seq_num", "icd_code", "icd_version", "icd9_code"),
        required=("subject_id", "hadm_id"),
        one_of=("icd_code", "icd9_code"),
    ):
        hadm = id_text(raw["hadm_id"])
        # MIMIC-III: icd9_code and no version column
        version = id_text(raw["icd_version"]).where(raw["icd9_code"].isna(), "9")
        code = first_present(raw, ["icd_code", "icd9_code"])
        system = version.map(_VERSIONS)
        by_shape = code.str.match(r"\d").map({True: "ICD-9-CM", False: "ICD-10-CM"})
        recorded = hadm.map(admitted)
        frame = pd.DataFrame(
            {
                "patient_id": id_text(raw["subject_id"]),
                "encounter_id": hadm,
                "code": code,
                "code_system": system.where(system.notna(), by_shape),
                "recorded_time": recorded,
                "description": (version.fillna("") + ":" + code.fillna("")).map(titles),
                "source_file": raw["source_file"],
                "source_row": raw["source_row"],
            }
        )
        unmapped["no_admission_time"] += int(recorded.isna().sum())
        frames.append(_finish(frame, SCHEMAS["diagnoses"], mapping, row_filter, not_relevant))
    return frames, not_relevant, unmapped, [admissions, *extra]


# ------------------------------------------------------------------ patients


def _read_patients(
    input_dir: Path, table: SourceTable, rules: RuleSet, mapping: SiteMapping, row_filter: RowFilter
) -> Reader:
    not_relevant: Counter[str] = Counter()
    frames = []
    for raw in table.batches(("subject_id", "gender"), required=("subject_id",)):
        frame = pd.DataFrame(
            {
                "patient_id": id_text(raw["subject_id"]),
                "sex": raw["gender"],
                "source_file": raw["source_file"],
                "source_row": raw["source_row"],
            }
        )
        frames.append(_finish(frame, SCHEMAS["patients"], mapping, row_filter, not_relevant))
    return frames, not_relevant, Counter(), []
