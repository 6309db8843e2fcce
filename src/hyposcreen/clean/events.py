"""Buckets of medication and diagnosis rows (spec §3, §6, §8).

A medication is relevant when it matches a listed drug class (rules.matching); a diagnosis when
its code stands for a listed condition. Rows starting (recorded) after the window are not
relevant; missing keys and excluded statuses are quarantined.

Only the last check (after the window) depends on the window, so cleaning comes in two parts:
`medication_facts` / `diagnosis_facts` decide everything else (drug matching per distinct
name, condition codes, patient ids, statuses, the earlier reasons) and `medications_in_window`
/ `diagnoses_in_window` add the window's check and the buckets. Windows screened from one read
(recipe_read) decide the facts once; `clean_medications` / `clean_diagnoses` do both parts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from hyposcreen.clean.buckets import (
    BUCKET_CODES,
    NOT_RELEVANT,
    QUARANTINED,
    USED,
    HeldSizes,
    coded_bucket_codes,
    coded_counts,
    excluded_statuses,
    first_reasons,
    malformed_reasons,
    patient_codes,
    sizes_of_counts,
)
from hyposcreen.clean.unnamed_drugs import unnamed_drugs
from hyposcreen.config import Window
from hyposcreen.ingest.timeparse import time_in_unit
from hyposcreen.rules import sql_engine as engine
from hyposcreen.rules.condition_hints import snomed_hint_counts
from hyposcreen.rules.loader import RuleSet
from hyposcreen.rules.matching import code_systems, conditions_of, match_drug_classes
from hyposcreen.site_words import fold_series

AFTER_WINDOW = "after_window"
# an RxNorm code written as a decimal (`36437.0`): a code column with blank cells that a
# spreadsheet or pandas read as floats and saved so (a Parquet float column reads whole)
_DECIMAL_CODE = r"^\s*(\d+)\.0*\s*$"


def whole_codes(codes: pd.Series) -> pd.Series:
    """RxNorm codes as whole numbers: `36437.0` is `36437`; any other text as it is."""
    if not codes.str.contains(".", regex=False).any():
        return codes
    return codes.str.replace(_DECIMAL_CODE, r"\1", regex=True)


def _whole_snomed_codes(code: pd.Series, system: pd.Series) -> pd.Series | None:
    """The diagnosis codes with each SNOMED CT code written as a decimal (`84114007.0`, as a
    float column saved it) made whole, as whole_codes makes RxNorm codes (a SNOMED CT code
    has no dot; an ICD code's dot is its own); None when no such code is found."""
    snomed = (system == "SNOMED").fillna(False).to_numpy(dtype=bool)
    if not snomed.any():
        return None
    text = code.astype("str")
    decimal = snomed & text.str.contains(".", regex=False).to_numpy(dtype=bool)
    if not decimal.any():
        return None
    rows = np.flatnonzero(decimal)
    out = code.copy()
    out.iloc[rows] = whole_codes(text.iloc[rows]).to_numpy(dtype=object)
    return out


@dataclass(frozen=True)
class EventFacts:
    """What cleaning decides of a medications or diagnoses table without the window: the
    frame with its normalised columns, each row's reason before the window's check (NaN when
    none), the time column that check reads and (medications) the drug-class matches."""

    frame: pd.DataFrame
    reason: pd.Series
    time_column: str
    not_relevant: tuple[str, ...]
    matches: pd.DataFrame | None = None
    # diagnoses: {condition: (rows, patients)} coded in SNOMED CT by a code of the rules'
    # hints that no condition lists (rules.condition_hints; judged by unidentified_events)
    snomed_hints: dict[str, tuple[int, int]] = field(default_factory=dict)
    # medications: (rows naming no drug, rows judged): `unnamed_drugs`
    unnamed_drugs: tuple[int, int] = (0, 0)
    # how many windows' buckets were made of these facts: from the second on, the rows after
    # a window's end are found by searching the times put in order once (`rows_after`)
    windows: list[int] = field(default_factory=lambda: [0], compare=False, repr=False)

    @cached_property
    def bucket_codes(self) -> np.ndarray:
        """Each row's bucket before the window's check, as a code of BUCKET_CODES (decided
        once; every window changes only the rows it finds after its end)."""
        codes, names = self.reason_codes
        return coded_bucket_codes(codes, names, self.not_relevant)

    @cached_property
    def match_positions(self) -> np.ndarray:
        """The position in the frame of each drug-class match's row (medications; -1 for a
        row the frame does not hold)."""
        assert self.matches is not None
        return np.asarray(self.frame.index.get_indexer(self.matches["row"]), dtype=np.int64)

    @cached_property
    def reason_codes(self) -> tuple[np.ndarray, list[object]]:
        """Each row's reason before the window's check as a code of the distinct reasons
        (-1: none), after_window among them (decided once, as `bucket_codes`)."""
        codes, distinct = pd.factorize(self.reason)
        names = list(distinct)
        if AFTER_WINDOW not in names:
            names.append(AFTER_WINDOW)
        return np.asarray(codes, dtype=np.int64), names

    @cached_property
    def unreasoned(self) -> np.ndarray:
        """Where a row has no reason before the window's check."""
        return self.reason_codes[0] < 0  # factorize's code of a missing reason

    @cached_property
    def code_counts(self) -> np.ndarray:
        """Rows per (bucket, reason) before the window's check, as `coded_counts` gives them
        (found once; a window moves only its rows after its end from one pair to another)."""
        reasons, names = self.reason_codes
        return coded_counts(self.bucket_codes, BUCKET_CODES, reasons, names)

    @cached_property
    def unreasoned_by_time(self) -> tuple[np.ndarray, np.ndarray] | None:
        """The positions of the dated rows without a reason, by time, and their times (put
        in order once, so each window finds its rows after its end by one search); None when
        the time column does not hold plain datetimes."""
        time = self.frame[self.time_column]
        if not isinstance(time.dtype, np.dtype) or time.dtype.kind != "M":
            return None
        values = time.to_numpy()
        rows = np.flatnonzero(self.unreasoned & ~np.isnat(values))
        rows = rows[np.argsort(values[rows], kind="stable")]
        return rows, values[rows]

    def rows_after(self, end: pd.Timestamp) -> np.ndarray:
        """The positions of the rows without a reason starting (recorded) at or after `end`:
        the rows a window ending there finds after it. The first window compares the times
        (a window alone sorts nothing); the next ones search them put in order once."""
        ordered = self.unreasoned_by_time if self.windows[0] > 0 else None
        bound = time_in_unit(end, ordered[1].dtype) if ordered is not None else None
        if ordered is None or bound is None:
            after = (self.frame[self.time_column] >= end).to_numpy() & self.unreasoned
            return np.flatnonzero(after)
        return ordered[0][np.searchsorted(ordered[1], bound, side="left") :]

    @cached_property
    def quarantined(self) -> tuple[np.ndarray, np.ndarray] | None:
        """The labels and reasons of the rows quarantined in every window's buckets (those
        quarantined before the window's check, when a row after the window is not relevant;
        else None: the window decides)."""
        if AFTER_WINDOW not in self.not_relevant:
            return None
        rows = np.flatnonzero(self.bucket_codes == BUCKET_CODES.index(QUARANTINED))
        return self.frame.index.to_numpy()[rows], self.reason.iloc[rows].to_numpy(dtype=object)


def medication_facts(frame: pd.DataFrame, rules: RuleSet) -> EventFacts:
    """Medications' drug-class matches, patient ids, status words and reasons but the window's."""
    out = frame.copy(deep=False)  # copy on write: the caller's frame is never changed
    out["rxnorm"] = whole_codes(out["rxnorm"])
    matches = match_drug_classes(out.assign(drug_name=fold_series(out["drug_name"])), rules)
    relevant = out.index.isin(matches["row"])
    patient, no_patient, _ = patient_codes(out["patient_id"])
    status, excluded = excluded_statuses(out["status"], rules, "medication_excluded")
    malformed = malformed_reasons(out)
    reason = first_reasons(
        malformed,
        [
            (~relevant, "unlisted_drug"),
            (no_patient | out["start_time"].isna().to_numpy(), "missing_key"),
            (excluded, "status"),
        ],
    )
    out["status_norm"] = status
    out["patient_id"] = patient
    unnamed = unnamed_drugs(out, malformed.isna().to_numpy())
    return EventFacts(
        out, reason, "start_time", ("unlisted_drug", AFTER_WINDOW), matches, unnamed_drugs=unnamed
    )


def diagnosis_facts(frame: pd.DataFrame, rules: RuleSet) -> EventFacts:
    """Diagnoses' code systems, conditions, patient ids and reasons but the window's."""
    out = frame.copy(deep=False)  # copy on write: the caller's frame is never changed
    system = code_systems(out["code_system"], rules)
    whole = _whole_snomed_codes(out["code"], system)
    if whole is not None:  # a SNOMED CT code written as a decimal: matched as the whole code
        out["code"] = whole
    condition = conditions_of(system, out["code"], rules)
    known_system = system.notna().to_numpy()
    code = out["code"].astype("str").str.strip()
    no_code = (out["code"].isna() | (code == "")).to_numpy()
    patient, no_patient, patient_key = patient_codes(out["patient_id"])
    _, excluded = excluded_statuses(out["status"], rules, "diagnosis_excluded")
    malformed = malformed_reasons(out)
    judged = malformed.isna().to_numpy()
    # counted only where a listed code would be read: no other reason (status, missing key)
    readable = judged & ~excluded & ~no_patient & ~no_code & out["recorded_time"].notna().to_numpy()
    hints = rules.snomed_condition_hints
    hinted = snomed_hint_counts(out["code"], system, condition, readable, patient_key, hints)
    reason = first_reasons(
        malformed,
        [
            (known_system & condition.isna().to_numpy() & ~no_code, "unlisted_code"),
            (no_patient | out["recorded_time"].isna().to_numpy() | no_code, "missing_key"),
            (~known_system, "unknown_code_system"),
            (excluded, "status"),
        ],
    )
    out["patient_id"] = patient
    out["code_system_norm"] = system
    out["condition"] = condition
    return EventFacts(
        out, reason, "recorded_time", ("unlisted_code", AFTER_WINDOW), snomed_hints=hinted
    )


def window_buckets(facts: EventFacts, window: Window) -> tuple[pd.DataFrame, np.ndarray, HeldSizes]:
    """The facts' frame with bucket and reason for `window`: a row with no earlier reason that
    starts (is recorded) at or after the window's end is after_window (the last check). With
    each row's bucket as a code of BUCKET_CODES and the frame's (bucket, reason) sizes, found
    from the codes its columns are made from."""
    out = facts.frame.copy(deep=False)  # a new frame per window; the facts stay unchanged
    after = facts.rows_after(window.end)
    facts.windows[0] += 1
    reason = facts.reason.to_numpy(dtype=object, copy=True)
    reason[after] = AFTER_WINDOW
    code = facts.bucket_codes.copy()  # as buckets_of gives them
    late = NOT_RELEVANT if AFTER_WINDOW in facts.not_relevant else QUARANTINED
    code[after] = BUCKET_CODES.index(late)
    out["bucket"] = engine.texts_by_code(BUCKET_CODES, code, facts.reason.index)
    out["reason"] = pd.Series(reason, index=facts.reason.index, dtype=object, copy=False)
    _, names = facts.reason_codes
    counts = facts.code_counts.copy()  # the after rows were used with no reason
    width = len(names) + 1
    counts[0] -= len(after)
    counts[BUCKET_CODES.index(late) * width + names.index(AFTER_WINDOW) + 1] += len(after)
    sizes = sizes_of_counts(counts, BUCKET_CODES, names)
    return out, code, HeldSizes(out["bucket"], out["reason"], sizes, code)


def medications_in_window(facts: EventFacts, window: Window) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Medications with bucket/reason, and the long table of drug-class matches of used rows."""
    out, code, _ = window_buckets(facts, window)
    return out, used_matches(facts, code)


def used_matches(facts: EventFacts, code: np.ndarray) -> pd.DataFrame:
    """The drug-class matches of the used rows (`code`: each row's bucket as a code of
    BUCKET_CODES, `window_buckets`), taken by the rows' positions."""
    assert facts.matches is not None
    used = np.append(code == BUCKET_CODES.index(USED), False)  # a row not held: not used
    return facts.matches.loc[used[facts.match_positions]].reset_index(drop=True)


def diagnoses_in_window(facts: EventFacts, window: Window) -> pd.DataFrame:
    """Diagnoses with bucket/reason and the condition each used row stands for."""
    return window_buckets(facts, window)[0]


def clean_medications(
    frame: pd.DataFrame, rules: RuleSet, window: Window
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Medications with bucket/reason, and the long table of drug-class matches of used rows."""
    return medications_in_window(medication_facts(frame, rules), window)


def clean_diagnoses(frame: pd.DataFrame, rules: RuleSet, window: Window) -> pd.DataFrame:
    """Diagnoses with bucket/reason and the condition each used row stands for."""
    return diagnoses_in_window(diagnosis_facts(frame, rules), window)


__all__ = [
    "EventFacts",
    "clean_diagnoses",
    "clean_medications",
    "diagnoses_in_window",
    "diagnosis_facts",
    "medication_facts",
    "medications_in_window",
    "used_matches",
    "window_buckets",
]
