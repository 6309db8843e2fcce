"""The review page's evidence cell: for each listed patient with evidence, an `<li>` per risk
factor (correction-risk conditions last, then by name) holding its evidence texts in clinical
words, built for all evidence rows at once and joined per patient."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from hyposcreen.report.html_text import (
    choose,
    direction_controls_shown,
    escape_texts,
    join_runs,
    per_distinct,
    run_starts,
    text_objects,
)
from hyposcreen.report.words import evidence_lines

if TYPE_CHECKING:
    from hyposcreen.report.review_page import PageInfo


def evidence_items(evidence: pd.DataFrame, info: PageInfo) -> tuple[np.ndarray, np.ndarray]:
    """(patients, the `<li>`s of each) with evidence: an `<li>` per risk factor
    (correction-risk conditions last, then by name) with its evidence texts in order, in
    clinical words (drug named by its ingredient, clinical precision and time)."""
    if evidence.empty:
        return np.array([], dtype=object), np.array([], dtype=object)
    shown = evidence_lines(
        text_objects(evidence["source"]),
        text_objects(evidence["text"]),
        info.drug_names,
        info.atc_combinations,
        info.timezone,
    )
    patients = evidence["patient_id"].astype("str").reset_index(drop=True)
    factors = evidence["risk_factor"].astype("str").reset_index(drop=True)
    order = _evidence_order(patients, factors)
    patient = patients.to_numpy(dtype=object)[order]
    factor = factors.to_numpy(dtype=object)[order]
    div = ('<div class="ev">' + escape_texts(direction_controls_shown(shown)) + "</div>")[order]
    item_starts = run_starts(patient, factor)
    item_ends = np.r_[item_starts[1:], True]
    opening = np.full(len(patient), "", dtype=object)
    opening[item_starts] = (
        '<li><span class="factor">' + escape_texts(_factor_labels(factor[item_starts])) + "</span>"
    )
    items = opening + div + choose(item_ends, "</li>", "")
    patient_starts = run_starts(patient)
    return patient[patient_starts], join_runs(items, patient_starts)


def _factor_labels(factors: np.ndarray) -> np.ndarray:
    """'correction_risk:liver_disease' -> 'correction risk: liver disease', each distinct
    factor once (a list names a few dozen); pandas' text replacements for anything else."""
    shown = per_distinct(
        factors, lambda f: f.replace("correction_risk:", "correction risk: ").replace("_", " ")
    )
    if shown is not None:
        return shown
    label = pd.Series(factors, dtype=object).str.replace("correction_risk:", "correction risk: ")
    return label.str.replace("_", " ").to_numpy(dtype=object)


def _evidence_order(patients: pd.Series, factors: pd.Series) -> np.ndarray:
    """Positions of the evidence rows (index 0..n-1) by patient, then correction-risk
    conditions last, then factor, each tie in the rows' order: one stable sort of the three
    keys (each text ranked among its sorted distinct values, as pandas' sort compares
    texts), not a frame sorted by pandas."""
    if patients.hasnans or factors.hasnans:  # pandas puts a missing text last
        late = factors.str.startswith("correction_risk:")
        keys = pd.DataFrame({"patient": patients, "late": late, "factor": factors})
        return keys.sort_values(["patient", "late", "factor"], kind="stable").index.to_numpy()
    patient_rank = pd.factorize(patients.to_numpy(dtype=object), sort=True)[0]
    factor_rank, factor_names = pd.factorize(factors.to_numpy(dtype=object), sort=True)
    late_names = np.array([f.startswith("correction_risk:") for f in factor_names], dtype=bool)
    late = late_names[factor_rank] if len(factor_rank) else np.zeros(0, dtype=bool)
    return np.lexsort((factor_rank, late, patient_rank))
