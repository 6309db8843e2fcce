"""OMOP `drug_exposure`, `condition_occurrence` and `person` rows to canonical rows
(see `hyposcreen.adapters.omop`)."""

from __future__ import annotations

import re
from collections import Counter

import pandas as pd

from hyposcreen.adapters._files import SourceTable, finish, first_present, id_text, timestamp
from hyposcreen.adapters._omop_concept_ids import ConceptGaps
from hyposcreen.adapters._omop_vocab import ICD_SYSTEMS, Vocabulary
from hyposcreen.config import SiteMapping
from hyposcreen.ingest.canonical import SCHEMAS
from hyposcreen.ingest.tabular import RowFilter
from hyposcreen.rules.loader import RuleSet
from hyposcreen.rules.matching import map_distinct, match_conditions

Reader = tuple[list[pd.DataFrame], Counter[str], Counter[str]]
_RXNORM = ("RxNorm", "RxNorm Extension")


# ------------------------------------------------------------------ drug_exposure

_DRUG = (
    "person_id", "drug_concept_id", "drug_exposure_start_date",
    "drug_exposure_start_datetime", "drug_exposure_end_date", "drug_exposure_end_datetime",
    "verbatim_end_date", "days_supply", "stop_reason", "route_source_value", "drug_source_value",
    "drug_source_concept_id", "visit_occurrence_id",
)  # fmt: skip
_STOP_WORDS = (
    (r"error", "entered-in-error"), (r"cancel", "cancelled"), (r"complet", "completed"),
    (r"stop|discontinu", "stopped"),
)  # fmt: skip


def _status_of(reason: str) -> str:
    lowered = reason.lower()
    for pattern, status in _STOP_WORDS:
        if re.search(pattern, lowered):
            return status
    return reason


def _with_ingredients(key: str) -> str | None:
    """The drug as written, with its ingredients (or concept name) in brackets unless the
    written name already says them."""
    written, _, ingredients = key.partition("\x1f")
    if not ingredients:
        return written or None
    if not written:
        return ingredients
    lowered = written.lower()
    if all(name in lowered for name in ingredients.split(" / ")):
        return written
    return f"{written} [{ingredients}]"


_MAX_SUPPLY_DAYS = 36_500  # a century: beyond it a days_supply says nothing about an end


def _end_from_supply(start: pd.Series, days_supply: pd.Series) -> pd.Series:
    """start + days_supply (as ISO text) for records without any end date. A supply of more
    than a century, or one whose end passes the last date pandas holds, gives no end."""
    days = pd.to_numeric(days_supply, errors="coerce")
    days = days.where((days > 0) & (days <= _MAX_SUPPLY_DAYS))
    began = pd.to_datetime(start.str.slice(0, 19), format="ISO8601", errors="coerce")
    supply = pd.to_timedelta(days, unit="D")
    fits = began.notna() & supply.notna()
    fits[fits] = began[fits] <= pd.Timestamp.max - supply[fits]
    end = began.where(fits) + supply.where(fits)
    return end.dt.strftime("%Y-%m-%dT%H:%M:%S").astype("str").where(end.notna())


_DAY = r"(?P<day>\d{4}-\d{2}-\d{2})"
_MIDNIGHT = r"(?:[ T]00:00(?::00(?:\.0+)?)?)?"


def _end_of_day(dates: pd.Series, *only_on: pd.Series) -> pd.Series:
    """An end known only to the day lasts to the end of that day: OMOP end dates are
    inclusive (a one-day administration has end date = start date). ISO dates, or dates at
    00:00:00, become `<date> 23:59:59`; with `only_on`, only where the date is the day of one of
    them (an ETL writing the start's or the end date's day as midnight in the datetime column:
    the same end as the end date says). Other text is kept."""
    day = dates.str.extract(f"^{_DAY}{_MIDNIGHT}$")["day"]
    if only_on:
        same = pd.Series(False, index=dates.index)
        for other in only_on:
            same |= (day == other.str.slice(0, 10)).fillna(False).astype(bool)
        day = day.where(same)
    return (day + " 23:59:59").where(day.notna(), dates)


def read_drug_exposure(
    table: SourceTable,
    vocab: Vocabulary,
    rules: RuleSet,
    mapping: SiteMapping,
    row_filter: RowFilter,
    gaps: ConceptGaps,
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
        # without concept_ancestor the drug concept's own name (an RxNorm clinical drug names
        # its ingredients) is matched by name
        concept_name = vocab.lookup(concept, "name", _RXNORM)
        known = ingredients.where(ingredients.notna(), concept_name.str.lower())
        written = raw["drug_source_value"]
        written = written.where(written.notna(), concept_name)
        key = written.fillna("") + "\x1f" + known.fillna("")
        drug_name = map_distinct(key, _with_ingredients)
        start = timestamp(raw, "drug_exposure_start")
        end = first_present(
            raw.assign(
                _end=_end_of_day(
                    raw["drug_exposure_end_datetime"], start, raw["drug_exposure_end_date"]
                ),
                _end_date=_end_of_day(raw["drug_exposure_end_date"]),
                _verbatim=_end_of_day(raw["verbatim_end_date"]),
                _supplied=_end_from_supply(start, raw["days_supply"]),
            ),
            ["_end", "_end_date", "_verbatim", "_supplied"],
        )
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
        unnamed = (drug_name.isna() & rxnorm.isna()).to_numpy()
        unmapped["no_drug_identifier"] += int(unnamed.sum())
        gaps.count(raw, gaps.absent(concept, source_concept), unnamed)
        frames.append(finish(frame, SCHEMAS["medications"], mapping, row_filter, not_relevant))
    return frames, not_relevant, unmapped


# ------------------------------------------------------------------ condition_occurrence

_CONDITION = (
    "person_id", "condition_concept_id", "condition_start_date",
    "condition_start_datetime", "condition_status_source_value", "condition_source_value",
    "condition_source_concept_id", "visit_occurrence_id",
)  # fmt: skip
_SOURCE_CODE = (
    r"^(?:(?P<system>icd-?(?:10|9)(?:-?cm)?)\s*[:|/ ]\s*)?"
    r"(?P<code>[A-Za-z]?\d[0-9A-Za-z]*(?:\.[0-9A-Za-z]+)?)"
    r"(?:\s*[|;]\s*.*|\s+.*)?$"  # a title after the code: `I50.9 - Heart failure`, `N18.4|CKD`
)


def _parse_source_codes(values: pd.Series) -> pd.DataFrame:
    """(code, code_system) of condition_source_value text such as K74.60, 4280, ICD10CM:E22.2,
    also with the code's title after it (`I50.9 - Heart failure, unspecified`)."""
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


def read_condition_occurrence(
    table: SourceTable,
    vocab: Vocabulary,
    rules: RuleSet,
    mapping: SiteMapping,
    row_filter: RowFilter,
    gaps: ConceptGaps,
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
                "recorded_time": timestamp(raw, "condition_start"),
                "status": raw["condition_status_source_value"],
                "description": description,
                "source_file": raw["source_file"],
                "source_row": raw["source_row"],
            }
        )
        no_code = frame["code"].isna()
        not_relevant["no_condition_code"] += int(no_code.sum())
        absent = gaps.absent(raw["condition_concept_id"], raw["condition_source_concept_id"])
        gaps.count(raw, absent, no_code.to_numpy())
        frames.append(
            finish(frame.loc[~no_code], SCHEMAS["diagnoses"], mapping, row_filter, not_relevant)
        )
    unmapped = Counter({"no_condition_code": not_relevant["no_condition_code"]})
    return frames, not_relevant, unmapped


# ------------------------------------------------------------------ person

_PERSON = (
    "person_id", "person_source_value", "year_of_birth", "month_of_birth", "day_of_birth",
    "birth_datetime", "gender_concept_id", "gender_source_value",
)  # fmt: skip


def read_person(
    table: SourceTable,
    vocab: Vocabulary,
    rules: RuleSet,
    mapping: SiteMapping,
    row_filter: RowFilter,
    gaps: ConceptGaps,
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
        frames.append(finish(frame, SCHEMAS["patients"], mapping, row_filter, not_relevant))
    return frames, not_relevant, Counter()
