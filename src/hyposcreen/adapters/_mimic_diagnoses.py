"""MIMIC-IV `diagnoses_icd` rows to canonical diagnoses, each code dated at the start of its
stay in `admissions` (why: `hyposcreen.adapters.mimic`).

A code whose stay `admissions` does not date (its hadm_id is not there, or its admittime is
blank) has no time and is quarantined (`missing_key`; counted `no_admission_time`). When the
code stands for a condition the rules list (spec §6), that condition is lost from the list
although the extract holds it: such rows are noted on the admissions table
(`listed_codes_without_stay`, count and first `file:row`), and mimic_dictionary_rows warns.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pandas as pd

from hyposcreen.adapters._files import SourceTable, finish, first_present, id_text
from hyposcreen.adapters._mimic_lab_items import EXAMPLES, auxiliary
from hyposcreen.adapters._mimic_labs import Reader
from hyposcreen.config import SiteMapping
from hyposcreen.ingest.canonical import SCHEMAS
from hyposcreen.ingest.tabular import RowFilter
from hyposcreen.ingest.timeparse import parse_times
from hyposcreen.rules.loader import RuleSet
from hyposcreen.rules.matching import conditions_of

WITHOUT_STAY = "listed_codes_without_stay"  # the admissions note (mimic_dictionary_rows)

_VERSIONS = {"9": "ICD-9-CM", "10": "ICD-10-CM"}


def _admission_times(input_dir: Path, mapping: SiteMapping) -> tuple[pd.Series, SourceTable]:
    """hadm_id -> start of the stay: its ED registration when that came first, else admittime;
    a stay listed twice starts at the earliest of its rows (whatever their order)."""
    admissions = auxiliary(input_dir, "admissions", mapping)
    if admissions is None:  # mimic.check_layout refused the extract before
        raise AssertionError("unreachable: admissions is a required table")  # pragma: no cover
    frame = admissions.read_all(
        ("hadm_id", "admittime", "edregtime"), required=("hadm_id", "admittime")
    )
    hadm = id_text(frame["hadm_id"])
    formats = mapping.table("diagnoses").datetime_formats + mapping.datetime_formats
    admitted = parse_times(frame["admittime"], mapping.timezone, formats)
    registered = parse_times(frame["edregtime"], mapping.timezone, formats)
    earlier = registered < admitted
    starts = pd.DataFrame(
        {
            "hadm": hadm,
            "start": admitted.where(~earlier, registered),
            "text": frame["admittime"].where(~earlier, frame["edregtime"]),
        }
    ).sort_values(["hadm", "start", "text"], na_position="last", kind="stable")
    first = starts.loc[~starts["hadm"].duplicated() & starts["hadm"].notna()]
    return first["text"].set_axis(first["hadm"]), admissions


def _descriptions(input_dir: Path, mapping: SiteMapping) -> tuple[pd.Series, list[SourceTable]]:
    titles = auxiliary(input_dir, "d_icd_diagnoses", mapping)
    if titles is None:
        return pd.Series(dtype="str"), []
    frame = titles.read_all(("icd_code", "icd_version", "long_title"), required=("icd_code",))
    key = frame["icd_version"].fillna("") + ":" + frame["icd_code"].fillna("")
    return frame["long_title"].set_axis(key).loc[lambda s: ~s.index.duplicated()], [titles]


def read_diagnoses(
    input_dir: Path, table: SourceTable, rules: RuleSet, mapping: SiteMapping, row_filter: RowFilter
) -> Reader:
    admitted, admissions = _admission_times(input_dir, mapping)
    titles, extra = _descriptions(input_dir, mapping)
    not_relevant: Counter[str] = Counter()
    unmapped: Counter[str] = Counter()
    frames = []
    places: list[str] = []  # rows of a listed condition's code whose stay is not dated
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
        undated = frame.loc[recorded.isna() & code.notna()]
        listed = conditions_of(undated["code_system"], undated["code"], rules).notna()
        places += [f"{f}:{r}" for f, r in undated.loc[listed, ["source_file", "source_row"]].values]
        frames.append(finish(frame, SCHEMAS["diagnoses"], mapping, row_filter, not_relevant))
    if places:
        admissions.notes[WITHOUT_STAY] = (len(places), tuple(places[:EXAMPLES]))
    return frames, not_relevant, unmapped, [admissions, *extra]
