"""OMOP CDM 5.4 adapter (`--source omop`): measurement, drug_exposure, condition_occurrence, person.

Tables are CSV (comma- or tab-delimited, any suffix .csv/.tsv/.txt, optionally gzipped) or
Parquet, one file or a folder of parts per table, table and column names in any letter case.
`concept` and `concept_ancestor` are used when present; otherwise the shipped concept map.

Mapping (decisions where the CDM leaves room are marked *):
- measurement: LOINC from `measurement_concept_id` (then `measurement_source_concept_id`) via
  the vocabulary, else `measurement_source_value` when it is LOINC-shaped, else that value is the
  lab name for the lab dictionary. A standard concept that is a LOINC outside spec §2 is dropped
  in Arrow as `unknown_loinc`. `value_raw` is the operator plus `value_as_number` (`<100`), else
  `value_source_value` (`HEMOLYZED`, `___` are quarantined as non-numeric by the cleaner).
  *Unit: UCUM code of `unit_concept_id`, else `unit_source_value`. *specimen_time:
  `measurement_datetime`, else `measurement_date` (+ `measurement_time` when given).
- drug_exposure: drug_name = `drug_source_value` (as written), else the drug concept's name; the
  listed ingredients found through `concept_ancestor` are appended in brackets when the name does
  not already say them, and their RxNorm code fills `rxnorm` when there is one. *end_time:
  `drug_exposure_end_datetime`, else `_end_date`, else `verbatim_end_date`, else start +
  `days_supply` days. *status from
  `stop_reason` words (error -> entered-in-error, cancel -> cancelled, complete -> completed,
  stop/discontinu -> stopped), so an ETL's stopped record without end date is not ongoing.
- condition_occurrence: the ICD-10-CM / ICD-9-CM code of `condition_source_concept_id`, else
  `condition_source_value` (dotted or not; a leading digit means ICD-9-CM, 6+ digits SNOMED),
  else the SNOMED code of `condition_concept_id`; *when the source code is not a listed
  condition but the SNOMED concept is, the SNOMED code is used. A row with no code at all is
  not relevant (`no_condition_code`). recorded_time = `condition_start_datetime` / `_date`;
  status = `condition_status_source_value`.
- person: person_id, `person_source_value` as mrn, birth date from `birth_datetime` or
  year/month/day_of_birth (year only when month/day are missing), sex from gender concept.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from hyposcreen.adapters._files import (
    Prefilter,
    SourceTable,
    batch_column,
    counts_entry,
    first_present,
    id_text,
    listing,
    normalize_ids,
    outside_read_window,
)
from hyposcreen.adapters._omop_vocab import ICD_SYSTEMS, Vocabulary, load_vocabulary, omop_files
from hyposcreen.config import SiteMapping, Window
from hyposcreen.errors import InputError
from hyposcreen.ingest.canonical import SCHEMAS, IngestedTable, TableSchema
from hyposcreen.ingest.tabular import RowFilter, canonical_columns, empty_frame, finish_batch
from hyposcreen.rules.loader import RuleSet
from hyposcreen.screen.matching import map_distinct, match_conditions

SOURCE_TABLES = {
    "labs": "measurement",
    "medications": "drug_exposure",
    "diagnoses": "condition_occurrence",
    "patients": "person",
}
REQUIRED = ("measurement", "drug_exposure", "condition_occurrence")
OPTIONAL = ("person", "concept", "concept_ancestor", "visit_occurrence")
_VOCABULARY = {  # vocabulary tables each canonical table is mapped through
    "labs": ("concept",),
    "medications": ("concept", "concept_ancestor"),
    "diagnoses": ("concept",),
    "patients": ("concept",),
}
_LOINC_SHAPE = r"\d{1,7}-\d"
# canonical columns each table is mapped onto (the rest stay empty)
MAPPED_COLUMNS = {
    "labs": ("patient_id", "encounter_id", "specimen_time", "value_raw", "value", "unit", "loinc",
             "lab_name", "ref_low", "ref_high", "source_row"),
    "medications": ("patient_id", "encounter_id", "drug_name", "rxnorm", "start_time",
                    "end_time", "status", "route", "source_row"),
    "diagnoses": ("patient_id", "encounter_id", "code", "code_system", "recorded_time",
                  "status", "description", "source_row"),
    "patients": ("patient_id", "mrn", "birth_date", "sex", "source_row"),
}  # fmt: skip


def check_layout(input_dir: Path) -> None:
    missing = [t for t in REQUIRED if not omop_files(input_dir, t)]
    if missing:
        raise InputError(
            f"Input folder {input_dir} does not look like an OMOP CDM 5.4 extract: no "
            f"{', '.join(missing)} table. --source omop expects {', '.join(REQUIRED)} (and "
            f"optionally {', '.join(OPTIONAL)}) as .csv/.csv.gz/.tsv/.parquet files or folders "
            f"named after the table, in any letter case, in the folder or one subfolder. "
            f"Found: {listing(input_dir)}."
        )


def input_files(input_dir: Path, name: str) -> list[Path]:
    """The table's files plus the vocabulary files its mapping reads."""
    files = omop_files(input_dir, SOURCE_TABLES[name])
    for table in _VOCABULARY[name]:
        files += omop_files(input_dir, table)
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
    files = omop_files(input_dir, stem)
    if not files:
        if name == "patients":
            return IngestedTable(name, empty_frame(schema), rows_in=0)
        check_layout(input_dir)
    vocab = load_vocabulary(input_dir, mapping, rules, with_ancestors=name == "medications")
    table = SourceTable(stem, files, mapping)
    row_filter = row_filter or RowFilter()
    reader = {
        "labs": _read_measurement,
        "medications": _read_drug_exposure,
        "diagnoses": _read_condition_occurrence,
        "patients": _read_person,
    }[name]
    frames, not_relevant, unmapped = reader(table, vocab, rules, mapping, row_filter)
    malformed = table.malformed_frame(schema)
    if malformed is not None:
        frames.append(malformed)
        unmapped["malformed_row"] += table.malformed_count
    frame = pd.concat(frames, ignore_index=True) if frames else empty_frame(schema)
    records, vocab_counts = vocab.used_by(_VOCABULARY[name])
    return IngestedTable(
        name,
        frame,
        rows_in=table.rows_read,
        not_relevant={k: v for k, v in not_relevant.items() if v},
        files=table.records + records,
        present_columns=MAPPED_COLUMNS[name],
        source_counts={stem: counts_entry(table.rows_read, unmapped), **vocab_counts},
    )


Reader = tuple[list[pd.DataFrame], Counter[str], Counter[str]]
_IDENTIFY_REASONS = (
    "unknown_loinc",
    "unknown_lab_name",
    "no_lab_identifier",
    "urine_specimen",
    "other_fluid",
)


def _finish(
    frame: pd.DataFrame,
    schema: TableSchema,
    mapping: SiteMapping,
    row_filter: RowFilter,
    not_relevant: Counter[str],
) -> pd.DataFrame:
    return finish_batch(canonical_columns(frame, schema), schema, mapping, row_filter, not_relevant)


def _timestamp(frame: pd.DataFrame, stem: str, time: str = "") -> pd.Series:
    """`<stem>_datetime`, else `<stem>_date` (plus a separate time-of-day column when given)."""
    date = frame[f"{stem}_date"]
    if time:
        clock = frame[time]
        date = date.where(clock.isna() | date.isna(), date + " " + clock)
    return first_present(frame.assign(_date=date), [f"{stem}_datetime", "_date"])


# ------------------------------------------------------------------ measurement

_MEASUREMENT = (
    "measurement_id", "person_id", "measurement_concept_id", "measurement_date",
    "measurement_datetime", "measurement_time", "operator_concept_id", "value_as_number",
    "unit_concept_id", "range_low", "range_high", "visit_occurrence_id",
    "measurement_source_value", "measurement_source_concept_id", "unit_source_value",
    "value_source_value",
)  # fmt: skip


def _measurement_prefilter(
    vocab: Vocabulary, keep: frozenset[str], row_filter: RowFilter
) -> Prefilter:
    """Standard LOINC concepts outside spec §2 and rows dated far from the read window go in
    Arrow, before pandas (a CDM measurement table can hold billions of rows)."""
    loinc = vocab.loinc_ids()
    other = pa.array(sorted(loinc.index[~loinc.isin(list(keep))].astype("str")), pa.string())

    def prefilter(batch: pa.RecordBatch) -> tuple[pa.Array, Counter[str]]:
        concept = normalize_ids(batch_column(batch, "measurement_concept_id"))
        unknown = pc.fill_null(pc.is_in(concept, other), False)
        when = pc.coalesce(
            batch_column(batch, "measurement_datetime"), batch_column(batch, "measurement_date")
        )
        outside = pc.and_(pc.invert(unknown), outside_read_window(when, row_filter.window))
        dropped = Counter(
            {
                "unknown_loinc": pc.sum(unknown).as_py() or 0,
                "outside_window": pc.sum(outside).as_py() or 0,
            }
        )
        return pc.invert(pc.or_(unknown, outside)), dropped

    return prefilter


def _read_measurement(
    table: SourceTable,
    vocab: Vocabulary,
    rules: RuleSet,
    mapping: SiteMapping,
    row_filter: RowFilter,
) -> Reader:
    not_relevant: Counter[str] = Counter()
    keep = row_filter.loinc_keep or frozenset(rules.loinc_to_analyte)
    frames = []
    for raw in table.batches(
        _MEASUREMENT,
        required=("person_id",),
        one_of=("measurement_date", "measurement_datetime"),
        prefilter=_measurement_prefilter(vocab, keep, row_filter),
        dropped=not_relevant,
    ):
        labs = _labs(raw, vocab)
        frames.append(_finish(labs, SCHEMAS["labs"], mapping, row_filter, not_relevant))
    unmapped = Counter({r: not_relevant[r] for r in _IDENTIFY_REASONS})
    return frames, not_relevant, unmapped


def _labs(raw: pd.DataFrame, vocab: Vocabulary) -> pd.DataFrame:
    loinc = vocab.lookup(raw["measurement_concept_id"], "code", ("LOINC",))
    source_loinc = vocab.lookup(raw["measurement_source_concept_id"], "code", ("LOINC",))
    source_value = raw["measurement_source_value"]
    loinc_shaped = source_value.str.fullmatch(_LOINC_SHAPE).fillna(False).astype(bool)
    loinc = loinc.where(loinc.notna(), source_loinc)
    loinc = loinc.where(loinc.notna(), source_value.where(loinc_shaped))
    concept_name = vocab.lookup(raw["measurement_concept_id"], "name")
    lab_name = source_value.where(~loinc_shaped & source_value.notna(), concept_name)
    unit = vocab.lookup(raw["unit_concept_id"], "code", ("UCUM",))
    return pd.DataFrame(
        {
            "patient_id": id_text(raw["person_id"]),
            "encounter_id": id_text(raw["visit_occurrence_id"]),
            "specimen_time": _timestamp(raw, "measurement", "measurement_time"),
            "value_raw": _value_raw(raw, vocab),
            "value": raw["value_as_number"],
            "unit": unit.where(unit.notna(), raw["unit_source_value"]),
            "loinc": loinc,
            "lab_name": lab_name,
            "ref_low": raw["range_low"],
            "ref_high": raw["range_high"],
            "source_file": raw["source_file"],
            "source_row": raw["source_row"],
        }
    )


def _value_raw(raw: pd.DataFrame, vocab: Vocabulary) -> pd.Series:
    """Operator + number (`<100`), or the source text when it carries the operator itself."""
    number = raw["value_as_number"]
    text = raw["value_source_value"]
    operator = vocab.operator(raw["operator_concept_id"])
    censored = operator.notna() & (operator != "=")
    text_censored = text.str.match(r"\s*(<|>|≤|≥)").fillna(False).astype(bool)
    choice = np.select(
        [
            number.notna() & censored,
            number.notna() & text_censored,
            number.notna(),
        ],
        [operator.fillna("") + number.fillna(""), text, number],
        default=text,
    )
    return pd.Series(choice, index=raw.index, dtype="str")


# ------------------------------------------------------------------ drug_exposure

_DRUG = (
    "drug_exposure_id", "person_id", "drug_concept_id", "drug_exposure_start_date",
    "drug_exposure_start_datetime", "drug_exposure_end_date", "drug_exposure_end_datetime",
    "verbatim_end_date", "days_supply", "stop_reason", "route_source_value", "drug_source_value",
    "drug_source_concept_id", "visit_occurrence_id",
)  # fmt: skip
_STOP_WORDS = (
    (r"error", "entered-in-error"),
    (r"cancel", "cancelled"),
    (r"complet", "completed"),
    (r"stop|discontinu", "stopped"),
)


def _status_of(reason: str) -> str:
    lowered = reason.lower()
    for pattern, status in _STOP_WORDS:
        if re.search(pattern, lowered):
            return status
    return reason


def _with_ingredients(key: str) -> str | None:
    written, _, ingredients = key.partition("\x1f")
    if not ingredients:
        return written or None
    if not written:
        return ingredients
    lowered = written.lower()
    if all(name in lowered for name in ingredients.split(" / ")):
        return written
    return f"{written} [{ingredients}]"


def _end_from_supply(start: pd.Series, days_supply: pd.Series) -> pd.Series:
    """start + days_supply (as ISO text) for records without any end date."""
    days = pd.to_numeric(days_supply, errors="coerce")
    began = pd.to_datetime(start.str.slice(0, 19), format="ISO8601", errors="coerce")
    end = began + pd.to_timedelta(days.where(days > 0), unit="D")
    return end.dt.strftime("%Y-%m-%dT%H:%M:%S").astype("str").where(end.notna())


def _read_drug_exposure(
    table: SourceTable,
    vocab: Vocabulary,
    rules: RuleSet,
    mapping: SiteMapping,
    row_filter: RowFilter,
) -> Reader:
    not_relevant: Counter[str] = Counter()
    unmapped: Counter[str] = Counter()
    frames = []
    for raw in table.batches(
        _DRUG,
        required=("person_id",),
        one_of=("drug_exposure_start_date", "drug_exposure_start_datetime"),
    ):
        concept = id_text(raw["drug_concept_id"])
        source_concept = id_text(raw["drug_source_concept_id"])
        ingredients = concept.map(vocab.ingredients)
        ingredients = ingredients.where(ingredients.notna(), source_concept.map(vocab.ingredients))
        rxnorm = concept.map(vocab.ingredient_rxnorm)
        rxnorm = rxnorm.where(rxnorm.notna(), source_concept.map(vocab.ingredient_rxnorm))
        written = raw["drug_source_value"]
        written = written.where(written.notna(), vocab.lookup(concept, "name"))
        key = written.fillna("") + "\x1f" + ingredients.fillna("")
        drug_name = map_distinct(key, _with_ingredients)
        start = _timestamp(raw, "drug_exposure_start")
        end = first_present(
            raw.assign(_supplied=_end_from_supply(start, raw["days_supply"])),
            ["drug_exposure_end_datetime", "drug_exposure_end_date", "verbatim_end_date",
             "_supplied"],
        )  # fmt: skip
        frame = pd.DataFrame(
            {
                "patient_id": id_text(raw["person_id"]),
                "encounter_id": id_text(raw["visit_occurrence_id"]),
                "drug_name": drug_name,
                "rxnorm": rxnorm,
                "start_time": start,
                "end_time": end,
                "status": map_distinct(raw["stop_reason"], _status_of),
                "route": raw["route_source_value"],
                "source_file": raw["source_file"],
                "source_row": raw["source_row"],
            }
        )
        unmapped["no_drug_identifier"] += int((drug_name.isna() & rxnorm.isna()).sum())
        frames.append(_finish(frame, SCHEMAS["medications"], mapping, row_filter, not_relevant))
    return frames, not_relevant, unmapped


# ------------------------------------------------------------------ condition_occurrence

_CONDITION = (
    "condition_occurrence_id", "person_id", "condition_concept_id", "condition_start_date",
    "condition_start_datetime", "condition_status_source_value", "condition_source_value",
    "condition_source_concept_id", "visit_occurrence_id",
)  # fmt: skip
_SOURCE_CODE = (
    r"^(?:(?P<system>icd-?(?:10|9)(?:-?cm)?)\s*[:|/ ]\s*)?"
    r"(?P<code>[A-Za-z]?\d[0-9A-Za-z]*(?:\.[0-9A-Za-z]+)?)$"
)


def _parse_source_codes(values: pd.Series) -> pd.DataFrame:
    """(code, code_system) of condition_source_value text such as K74.60, 4280, ICD10CM:E22.2."""
    parts = values.str.strip().str.extract(_SOURCE_CODE, flags=re.IGNORECASE)
    code = parts["code"].astype("str").where(parts["code"].notna())
    hinted = parts["system"].str.lower()
    system = pd.Series(None, index=values.index, dtype="str")
    system[code.str.match(r"[A-Za-z]").fillna(False).astype(bool)] = "ICD-10-CM"
    system[code.str.match(r"\d").fillna(False).astype(bool)] = "ICD-9-CM"
    system[code.str.fullmatch(r"\d{6,18}").fillna(False).astype(bool)] = "SNOMED"
    system[hinted.str.contains("10").fillna(False).astype(bool)] = "ICD-10-CM"
    system[hinted.str.contains("9").fillna(False).astype(bool)] = "ICD-9-CM"
    return pd.DataFrame({"code": code, "code_system": system.where(code.notna())})


def _condition_codes(raw: pd.DataFrame, vocab: Vocabulary, rules: RuleSet) -> pd.DataFrame:
    icd_vocab = vocab.lookup(raw["condition_source_concept_id"], "vocabulary", tuple(ICD_SYSTEMS))
    source = pd.DataFrame(
        {
            "code": vocab.lookup(raw["condition_source_concept_id"], "code", tuple(ICD_SYSTEMS)),
            "code_system": icd_vocab.map(ICD_SYSTEMS),
        }
    )
    parsed = _parse_source_codes(raw["condition_source_value"])
    source = _choose(source["code"].notna(), source, parsed)
    snomed_code = vocab.lookup(raw["condition_concept_id"], "code", ("SNOMED",))
    snomed = pd.DataFrame(
        {
            "code": snomed_code,
            "code_system": pd.Series("SNOMED", index=raw.index, dtype="str").where(
                snomed_code.notna()
            ),
        }
    )
    _, source_condition = match_conditions(source, rules)
    _, snomed_condition = match_conditions(snomed, rules)
    use_snomed = source["code"].isna() | (source_condition.isna() & snomed_condition.notna())
    return _choose(~use_snomed, source, snomed)


def _choose(mask: pd.Series, first: pd.DataFrame, second: pd.DataFrame) -> pd.DataFrame:
    """Rows of `first` where `mask` holds, else of `second` (same index and columns)."""
    return pd.DataFrame(
        {c: first[c].astype("str").where(mask, second[c].astype("str")) for c in first.columns}
    )


def _read_condition_occurrence(
    table: SourceTable,
    vocab: Vocabulary,
    rules: RuleSet,
    mapping: SiteMapping,
    row_filter: RowFilter,
) -> Reader:
    not_relevant: Counter[str] = Counter()
    frames = []
    for raw in table.batches(
        _CONDITION,
        required=("person_id",),
        one_of=("condition_start_date", "condition_start_datetime"),
    ):
        codes = _condition_codes(raw, vocab, rules)
        description = vocab.lookup(raw["condition_source_concept_id"], "name")
        description = description.where(
            description.notna(), vocab.lookup(raw["condition_concept_id"], "name")
        )
        frame = pd.DataFrame(
            {
                "patient_id": id_text(raw["person_id"]),
                "encounter_id": id_text(raw["visit_occurrence_id"]),
                "code": codes["code"],
                "code_system": codes["code_system"],
                "recorded_time": _timestamp(raw, "condition_start"),
                "status": raw["condition_status_source_value"],
                "description": description,
                "source_file": raw["source_file"],
                "source_row": raw["source_row"],
            }
        )
        no_code = frame["code"].isna()
        not_relevant["no_condition_code"] += int(no_code.sum())
        frames.append(
            _finish(frame.loc[~no_code], SCHEMAS["diagnoses"], mapping, row_filter, not_relevant)
        )
    unmapped = Counter({"no_condition_code": not_relevant["no_condition_code"]})
    return frames, not_relevant, unmapped


# ------------------------------------------------------------------ person

_PERSON = (
    "person_id", "person_source_value", "year_of_birth", "month_of_birth", "day_of_birth",
    "birth_datetime", "gender_concept_id", "gender_source_value",
)  # fmt: skip


def _read_person(
    table: SourceTable,
    vocab: Vocabulary,
    rules: RuleSet,
    mapping: SiteMapping,
    row_filter: RowFilter,
) -> Reader:
    not_relevant: Counter[str] = Counter()
    frames = []
    for raw in table.batches(_PERSON, required=("person_id",)):
        year = raw["year_of_birth"].str.extract(r"^(\d{4})")[0]
        month = raw["month_of_birth"].str.extract(r"^(\d{1,2})")[0].str.zfill(2)
        day = raw["day_of_birth"].str.extract(r"^(\d{1,2})")[0].str.zfill(2)
        full = year + "-" + month + "-" + day
        birth = raw["birth_datetime"].str.slice(0, 10)
        birth = birth.where(birth.notna(), full.where(full.notna(), year))
        sex = vocab.lookup(raw["gender_concept_id"], "code", ("Gender",))
        frame = pd.DataFrame(
            {
                "patient_id": id_text(raw["person_id"]),
                "mrn": raw["person_source_value"],
                "birth_date": birth,
                "sex": sex.where(sex.notna(), raw["gender_source_value"]),
                "source_file": raw["source_file"],
                "source_row": raw["source_row"],
            }
        )
        frames.append(_finish(frame, SCHEMAS["patients"], mapping, row_filter, not_relevant))
    return frames, not_relevant, Counter()
