"""OMOP `measurement` rows to canonical lab rows (see `hyposcreen.adapters.omop`)."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from hyposcreen.adapters._files import (
    Prefilter,
    SourceTable,
    batch_column,
    finish,
    id_text,
    normalize_ids,
    outside_read_window,
    timestamp,
)
from hyposcreen.adapters._omop_concept_ids import ConceptGaps
from hyposcreen.adapters._omop_vocab import Vocabulary
from hyposcreen.config import SiteMapping
from hyposcreen.ingest.canonical import SCHEMAS
from hyposcreen.ingest.frames import date_alone_column, written_without_clock
from hyposcreen.ingest.tabular import RowFilter
from hyposcreen.rules.lab_identity import identify
from hyposcreen.rules.loader import RuleSet
from hyposcreen.rules.loinc_text import DASHES

Reader = tuple[list[pd.DataFrame], Counter[str], Counter[str]]
_LOINC_SHAPE = r"\d{1,7}[-" + DASHES + r"]\d"  # any dash (rules.loinc_text)
_IDENTIFY_REASONS = (
    "unknown_loinc",
    "unknown_lab_name",
    "no_lab_identifier",
    "urine_specimen",
    "other_fluid",
)


# ------------------------------------------------------------------ measurement

_MEASUREMENT = (
    "person_id", "measurement_concept_id", "measurement_date",
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


def read_measurement(
    table: SourceTable,
    vocab: Vocabulary,
    rules: RuleSet,
    mapping: SiteMapping,
    row_filter: RowFilter,
    gaps: ConceptGaps,
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
        labs = _labs(raw, vocab, mapping.decimal)
        _count_gaps(gaps, raw, labs, rules)
        frames.append(finish(labs, SCHEMAS["labs"], mapping, row_filter, not_relevant))
    unmapped = Counter({r: not_relevant[r] for r in _IDENTIFY_REASONS})
    return frames, not_relevant, unmapped


_UNTOLD_TEST = ("no_lab_identifier", "unknown_lab_name")  # lab_identity: the test is not told


def _count_gaps(gaps: ConceptGaps, raw: pd.DataFrame, labs: pd.DataFrame, rules: RuleSet) -> None:
    """Count the rows naming a concept id (measurement, its source, its unit) the vocabulary
    lacks; not told otherwise: the test, when the row is judged of no known test
    (`_UNTOLD_TEST`: no source value naming a listed LOINC or a dictionary's lab), or the unit
    of a row of a listed test, when no `unit_source_value` gives it. Judged (lab_identity, as
    the reader's selector judges) for those rows alone: few or none."""
    concept = gaps.absent(raw["measurement_concept_id"], raw["measurement_source_concept_id"])
    unit = gaps.absent(raw["unit_concept_id"])
    absent = concept | unit
    if not absent.any():
        return
    judged = labs.loc[absent, ["loinc", "lab_name"]].assign(specimen_type=None)
    reason = pd.Series(identify(judged.astype("str"), rules)[1], dtype="object")
    untold = np.zeros(len(raw), dtype=bool)
    untold[absent] = (concept[absent] & reason.isin(_UNTOLD_TEST).to_numpy()) | (
        unit[absent] & labs["unit"][absent].isna().to_numpy() & reason.isna().to_numpy()
    )
    gaps.count(raw, absent, untold)


def _labs(raw: pd.DataFrame, vocab: Vocabulary, decimal: str) -> pd.DataFrame:
    loinc = vocab.lookup(raw["measurement_concept_id"], "code", ("LOINC",))
    source_loinc = vocab.lookup(raw["measurement_source_concept_id"], "code", ("LOINC",))
    source_value = raw["measurement_source_value"]
    loinc_shaped = source_value.str.fullmatch(_LOINC_SHAPE).fillna(False).astype(bool)
    loinc = loinc.where(loinc.notna(), source_loinc)
    loinc = loinc.where(loinc.notna(), source_value.where(loinc_shaped))
    concept_name = vocab.lookup(raw["measurement_concept_id"], "name")
    lab_name = source_value.where(~loinc_shaped & source_value.notna(), concept_name)
    unit = vocab.lookup(raw["unit_concept_id"], "code", ("UCUM",))
    # which datetimes hold a date alone: judged once, for the clock time and the date-only mark
    without_clock = written_without_clock(raw["measurement_datetime"])
    specimen_time, clocked = _specimen_time(raw, without_clock)
    return pd.DataFrame(
        {
            "patient_id": id_text(raw["person_id"]),
            "encounter_id": id_text(raw["visit_occurrence_id"]),
            "specimen_time": specimen_time,
            date_alone_column("specimen_time"): _dated_alone(raw, without_clock) & ~clocked,
            "value_raw": _value_raw(raw, vocab, decimal),
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


# a datetime at midnight (ISO text; the day kept) and a clock time of `measurement_time`
_MIDNIGHT = r"^\s*(\d{4}-\d{2}-\d{2})[T ]00:00(?::00(?:\.0+)?)?\s*$"
_CLOCK = r"^\s*(?:[01]?\d|2[0-3]):[0-5]\d(?::[0-5]\d(?:\.\d+)?)?\s*$"  # 00:00 to 23:59:59
_ZERO_CLOCK = r"^\s*0?0:00(?::00(?:\.0+)?)?\s*$"


def _specimen_time(raw: pd.DataFrame, without_clock: np.ndarray) -> tuple[pd.Series, pd.Series]:
    """The specimen time text of each row, and whether `measurement_time` gave its clock
    (`without_clock`: the rows whose `measurement_datetime` holds no clock time).

    `measurement_datetime`, else `measurement_date` (+ `measurement_time`). A datetime holding
    a date alone or 00:00 while `measurement_time` holds another clock time is an ETL's
    datetime filled from the date: the day with that clock time is the draw (read at midnight,
    a 13:45 sodium moves 13 h: another night, another glucose, another 24 h pair)."""
    stated, clock = raw["measurement_datetime"], raw["measurement_time"]
    timed = clock.str.match(_CLOCK).fillna(False).astype(bool)
    timed &= ~clock.str.match(_ZERO_CLOCK).fillna(False).astype(bool)
    day = stated.str.extract(_MIDNIGHT, expand=False)
    alone = pd.Series(without_clock, index=stated.index) & stated.notna()
    day = day.where(day.notna(), stated.str.strip().where(alone))
    clocked = timed & day.notna()
    completed = day + " " + clock.str.strip()
    stamped = timestamp(raw, "measurement", "measurement_time")
    return stamped.where(~clocked, completed), clocked


def _dated_alone(raw: pd.DataFrame, without_clock: np.ndarray) -> pd.Series:
    """The rows whose specimen_time is a date without a clock time: `measurement_date` alone
    (no `measurement_datetime` nor `measurement_time`), or a `measurement_datetime` holding
    a date alone (`2026-11-20`, a Parquet column typed date; unless `measurement_time` gives
    its clock: `_specimen_time`), judged as canonical time text is
    (`without_clock`: ingest.frames.written_without_clock of `measurement_datetime`)."""
    stated = raw["measurement_datetime"]
    by_date = stated.isna() & raw["measurement_time"].isna() & raw["measurement_date"].notna()
    return by_date | without_clock


def _site_number(number: pd.Series, decimal: str) -> pd.Series:
    """`value_as_number` in the site's decimal convention, which cleaning reads result text in.

    It is a database number: its one separator is the decimal sign, never a thousands
    separator. At a decimal-comma site `135.000` is written `135,000` so cleaning reads 135
    (not 135000); a localized export's `135,000` is already so."""
    if decimal != ",":
        return number
    pointed = number.str.contains(".", regex=False).fillna(False).astype(bool)
    pointed &= ~number.str.contains(",", regex=False).fillna(False).astype(bool)
    return number.where(~pointed, number.str.replace(".", ",", regex=False))


def _value_raw(raw: pd.DataFrame, vocab: Vocabulary, decimal: str) -> pd.Series:
    """Operator + number (`<100`), or the source text when it carries the operator itself."""
    number = _site_number(raw["value_as_number"], decimal)
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
