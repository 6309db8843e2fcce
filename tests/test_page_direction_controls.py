"""Unicode direction controls in extract text (U+202E, right-to-left override, and its kin)
reorder what a browser shows: on the review page each is written as its code point, so a
drug name or patient id reads in the order it was stored. The CSV keeps the text as written."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from hyposcreen.config import RunSettings, parse_window
from hyposcreen.report.html_text import direction_controls_shown
from hyposcreen.runners.in_process import run_pipeline

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data" / "canonical"
WINDOW = ("2026-11-20T00:00:00", "2026-11-21T00:00:00")
# shown by a browser as "Lasix ml 40 te tab": the override reverses "et 04 lm"
DRUG = "Lasix \u202eet 04 lm\u202c tab"
PATIENT = "P\u2067003\u2069"


def test_direction_controls_are_written_as_code_points() -> None:
    texts = np.array([DRUG, "Furosemide 40 mg", None, "\u05d0\u05d1 Hebrew letters"], object)
    shown = direction_controls_shown(texts)
    assert shown.tolist() == [
        "Lasix [U+202E]et 04 lm[U+202C] tab", "Furosemide 40 mg", None,
        "\u05d0\u05d1 Hebrew letters",
    ]  # fmt: skip


def test_the_page_shows_direction_controls_in_evidence_and_patient_ids(tmp_path: Path) -> None:
    inputs = tmp_path / "in"
    inputs.mkdir()
    for name in ("labs", "medications", "diagnoses", "patients"):
        frame = pd.read_csv(SAMPLE / f"{name}.csv", dtype=str, keep_default_na=False)
        if name == "medications":  # P003 is listed for its loop diuretic (Lasix)
            frame.loc[frame["patient_id"] == "P003", "drug_name"] = DRUG
        frame.loc[frame["patient_id"] == "P003", "patient_id"] = PATIENT
        frame.to_csv(inputs / f"{name}.csv", index=False)
    out = tmp_path / "out"
    run_pipeline(RunSettings(input_dir=inputs, out_dir=out, window=parse_window(*WINDOW)))
    page = next(out.rglob("review_list.html")).read_text(encoding="utf-8")
    for control in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069":
        assert control not in page, hex(ord(control))
    assert "Lasix [U+202E]et 04 lm[U+202C] tab" in page
    assert "P[U+2067]003[U+2069]" in page
    listed = pd.read_csv(next(out.rglob("evidence.csv")), dtype=str, keep_default_na=False)
    assert any(DRUG in text for text in listed["text"])  # the CSV keeps it as written
