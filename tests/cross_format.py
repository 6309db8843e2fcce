"""Cross-format equivalence (issue 5 acceptance): the sample screened from another source layout
gives the review list of the canonical run — same patients, tiers, risk factors, severity,
sodium values, serial figures and considerations. Only the evidence text (drug names and codes
as written in each source) and the run id (a hash of the input files) may differ.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from hyposcreen.config import RunSettings, parse_window
from hyposcreen.context import RunSummary
from hyposcreen.runners.in_process import run_pipeline

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data" / "canonical"
WINDOW = ("2026-11-20T00:00:00", "2026-11-21T00:00:00")
NOT_COMPARED = ("evidence", "run_id")


def run(input_dir: Path, out_dir: Path, source: str = "canonical") -> RunSummary:
    settings = RunSettings(
        input_dir=input_dir, out_dir=out_dir, window=parse_window(*WINDOW), source=source
    )
    return run_pipeline(settings)


def review_list(summary: RunSummary) -> pd.DataFrame:
    return pd.read_csv(summary.review_csv, dtype=str, keep_default_na=False)


def sample_patient_id(number: str) -> str:
    """OMOP person_id / MIMIC subject_id of the converted sample back to its canonical id."""
    return f"P{int(number):03d}"


def comparable(review: pd.DataFrame, numeric_ids: bool = False) -> pd.DataFrame:
    out = review.drop(columns=[c for c in NOT_COMPARED if c in review.columns])
    if numeric_ids:
        out["patient_id"] = out["patient_id"].map(sample_patient_id)
    return out.reset_index(drop=True)
