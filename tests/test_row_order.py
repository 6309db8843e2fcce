"""No result depends on the order of rows in a file (spec §6, last line).

Hypothesis shuffles the rows of every input table of the committed sample and of small
generated tables full of ties, and the outputs stay the same: review_list.csv, evidence.csv
and the HTML page byte for byte (but the run_id, a hash of the input files' bytes),
quarantine.csv once its rows are sorted and the file-order column (source_row) left out, and
the manifest's counts. Which of two rows equal in every content column is called the
`duplicate` may follow file order: they are interchangeable.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers import RULES, T0, WINDOW, hours, lab, run_screen
from hyposcreen.config import RunSettings, parse_window
from hyposcreen.report.review_list import build_review_list, evidence_table, to_text
from hyposcreen.runners.in_process import run_pipeline

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data" / "canonical"
TABLES = ("labs.csv", "medications.csv", "diagnoses.csv", "patients.csv")


def _shuffled_copy(target: Path, seed: int) -> None:
    """The sample with the data rows of every table in a random order (header kept first)."""
    target.mkdir()
    rng = random.Random(seed)  # noqa: S311 - a shuffle, not a secret
    for name in TABLES:
        header, *rows = (SAMPLE / name).read_text(encoding="utf-8").splitlines(keepends=True)
        assert all('"' not in r or r.count('"') % 2 == 0 for r in rows)  # one record per line
        rng.shuffle(rows)
        (target / name).write_text(header + "".join(rows), encoding="utf-8")


def _outputs(input_dir: Path, out: Path) -> dict[str, object]:
    summary = run_pipeline(
        RunSettings(
            input_dir=input_dir,
            out_dir=out,
            window=parse_window("2026-11-20T00:00:00", "2026-11-21T00:00:00"),
        )
    )
    folder = summary.review_csv.parent
    manifest = json.loads((folder / "run_manifest.json").read_text(encoding="utf-8"))
    run_id = manifest["run_id"]
    quarantine = pd.read_csv(folder / "quarantine.csv", dtype=str, keep_default_na=False)
    quarantine = quarantine.drop(columns="source_row")
    quarantine = quarantine.sort_values(list(quarantine.columns)).reset_index(drop=True)
    return {
        "review_list.csv": (folder / "review_list.csv").read_text().replace(run_id, "RUN"),
        "evidence.csv": (folder / "evidence.csv").read_text(),
        "review_list.html": (folder / "review_list.html").read_text().replace(run_id, "RUN"),
        "quarantine.csv": quarantine.to_csv(index=False),
        "counts": (manifest["reconciliation"], manifest["attrition"], manifest["listed"]),
    }


_EXPECTED: dict[str, dict[str, object]] = {}


@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(min_value=0, max_value=2**32 - 1))
def test_shuffling_the_sample_rows_changes_no_output(tmp_path_factory, seed: int) -> None:
    base = tmp_path_factory.mktemp("order")
    if "sample" not in _EXPECTED:  # the committed order's outputs, computed once
        _EXPECTED["sample"] = _outputs(SAMPLE, base / "as_committed")
    expected = _EXPECTED["sample"]
    _shuffled_copy(base / "input", seed)
    assert _outputs(base / "input", base / "shuffled") == expected


# ------------------------------------------------------------------ generated ties

CODES = {  # analyte -> (loinc, unit, values): few values and times, so ties are frequent
    "sodium": ("2951-2", "mmol/L", ["118", "124", "128", "130", "<120"]),
    "glucose": ("2345-7", "mg/dL", ["90", "225", "400", "<100", "100"]),
    "potassium": ("2823-3", "mmol/L", ["0.9", "3.3", "4.0"]),
    "calcium_total": ("17861-6", "mg/dL", ["7.8"]),
    "albumin": ("1751-7", "g/dL", ["3.0", "3.5"]),
}

# Each generated group is two rows of one analyte, patient and time with values and specimen
# ids drawn independently: a tie that only the rules may decide.
tie_groups = st.lists(
    st.tuples(
        st.sampled_from(["P1", "P1", "P2"]),
        st.sampled_from(sorted(CODES)),
        st.tuples(st.integers(0, 4), st.integers(0, 4)),  # which values (modulo their number)
        st.sampled_from([0, 1, 1, 30]),  # hours after T0
        st.tuples(st.sampled_from([None, "S1", "S2"]), st.sampled_from([None, "S1", "S2"])),
    ),
    min_size=1,
    max_size=5,
)


def _rows(groups: list) -> list[dict]:
    """Lab rows of the generated groups, after a hyponatremic sodium of each patient at T0 and
    a total calcium of P1 1 h later (so albumin ties matter)."""
    rows = [
        lab("126", T0, patient_id="P1"),
        lab("126", T0, patient_id="P2"),
        lab("7.8", T0 + hours(1), loinc="17861-6", unit="mg/dL", patient_id="P1"),
    ]
    for patient, analyte, picks, offset, specimens in groups:
        loinc, unit, values = CODES[analyte]
        for pick, specimen in zip(picks, specimens, strict=True):
            rows.append(
                lab(
                    values[pick % len(values)],
                    T0 + hours(offset),
                    loinc=loinc,
                    unit=unit,
                    patient_id=patient,
                    specimen_id=specimen,
                )
            )
    return rows


def _rendered(rows: list[dict]) -> tuple[str, str]:
    result = run_screen(rows)
    review = build_review_list(result, RULES, "seed", "RUN", WINDOW.start, WINDOW.end)
    cases = result.cases.drop(columns=[c for c in ("rank",) if c in result.cases])
    return (
        to_text(review).to_csv(index=False) + cases.to_csv(index=False),
        evidence_table(result).to_csv(index=False),
    )


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tie_groups, st.randoms(use_true_random=False))
def test_shuffling_tied_rows_changes_no_case_or_evidence(groups: list, rng: random.Random) -> None:
    rows = _rows(groups)
    shuffled = rows[:]
    rng.shuffle(shuffled)
    assert _rendered(shuffled) == _rendered(rows)
