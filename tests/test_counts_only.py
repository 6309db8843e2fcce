"""Files documented as identifier-free hold counts and `file:row` references only.

An identifier-like marker is planted in every free-text column of every input table (and in
a time column, which the contracts quote when it does not parse); a real nightly run and a
real audit then must not carry the marker into the run manifest, the Data Docs, the audit
page/tables/manifest, or the process output.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pandas as pd
import pytest
from tests.helpers import run_cli

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data" / "canonical"
WINDOW = ("2026-11-20T00:00:00", "2026-11-21T00:00:00")
MARK = "ZZLEAK123"
FREE_TEXT = {
    "labs": ["value_raw", "unit", "lab_name", "status", "specimen_type", "specimen_id",
             "encounter_id"],
    "medications": ["drug_name", "status", "route", "end_time", "encounter_id"],
    "diagnoses": ["code", "code_system", "description", "status", "recorded_time"],
    "patients": ["name", "mrn", "unit", "sex"],
}  # fmt: skip


def _planted(target: Path) -> Path:
    """The sample with the marker in every free-text column: for each column a few rows
    (including sodium rows for the lab columns, so the contracts and cleaning see them)."""
    target.mkdir(parents=True)
    for table, columns in FREE_TEXT.items():
        frame = pd.read_csv(SAMPLE / f"{table}.csv", dtype=str, keep_default_na=False)
        for number, column in enumerate(columns):
            # one non-numeric sodium only: more would stop the run (the 5 % limit)
            rows = frame.index[number * 3 : number * 3 + (1 if column == "value_raw" else 2)]
            frame.loc[rows, column] = f"see note pt {MARK} Test Patient 44"
        frame.to_csv(target / f"{table}.csv", index=False)
    return target


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _planted(tmp_path_factory.mktemp("planted") / "in")


def _identifier_free_files(out: Path) -> list[Path]:
    manifest = sorted(out.rglob("run_manifest.json"))
    validation = sorted(p for p in out.rglob("validation/**/*") if p.is_file())
    return manifest + validation


@pytest.fixture(scope="module")
def planted_run(
    planted: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, subprocess.CompletedProcess[str]]:
    out = tmp_path_factory.mktemp("planted_out") / "out"
    done = run_cli("run", "--no-flow", "--input", str(planted), "--window-start", WINDOW[0],
                   "--window-end", WINDOW[1], "--out", str(out))  # fmt: skip
    assert done.returncode in (0, 4), done.stderr
    return out, done


def test_the_planted_marker_reaches_the_private_outputs(
    planted_run: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    """The test can fail: the marker is in the input and in the 0600 quarantine file."""
    out, _ = planted_run
    quarantine = next(out.rglob("quarantine.csv")).read_text(encoding="utf-8")
    assert MARK in quarantine


def test_no_extract_value_in_manifest_validation_docs_or_process_output(
    planted_run: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    out, done = planted_run
    files = _identifier_free_files(out)
    assert any(p.name == "run_manifest.json" for p in files)
    assert any(p.suffix == ".html" and "validations" in p.parts for p in files)
    leaking = [str(p.relative_to(out)) for p in files if MARK.encode() in p.read_bytes()]
    assert leaking == []
    assert MARK not in done.stdout and MARK not in done.stderr


def test_no_extract_value_in_the_audit_outputs(planted: Path, tmp_path: Path) -> None:
    out = tmp_path / "audit"
    done = run_cli("audit", "--input", str(planted), "--start", "2026-10-01", "--end",
                   "2026-12-01", "--out", str(out))  # fmt: skip
    assert done.returncode in (0, 4), done.stderr  # the planted rows warn, as in a run
    for name in ("audit.html", "audit_tables.csv", "audit_manifest.json"):
        assert MARK not in (out / name).read_text(encoding="utf-8"), name
    assert MARK not in done.stdout and MARK not in done.stderr


def test_data_docs_read_cleanly_offline(
    planted_run: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    """No control that needs GX's scripts, no third-party footer, no 'Data asset: None', no
    percentages to seven decimals; our index states each rate check's limit."""
    out, _ = planted_run
    docs = next(out.rglob("validation"))
    pages = sorted(docs.rglob("*.html"))
    assert not (docs / "gx_index.html").exists()
    for page in pages:
        html = page.read_text(encoding="utf-8")
        for dead in ("Clear Filters", "newsletter", "Data asset: None", "Validation Filter",
                     "Show more info", "data-toggle=\"collapse\""):  # fmt: skip
            assert dead not in html, (page.name, dead)
        assert not re.search(r"\d+\.\d{3,}\s*%", html), page.name
    index = (docs / "index.html").read_text(encoding="utf-8")
    assert "limit 5 %" in index and "limit 20 %" in index


def test_identifier_files_are_private_and_counts_only_files_may_be_read(
    planted_run: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    """Files with values from the extract are 0600; the manifest and the Data Docs, which
    the tests above show to be free of them, may be readable by others (0644)."""
    out, _ = planted_run
    folder = next(out.rglob("review_list.csv")).parent
    private = ["review_list.csv", "review_list.parquet", "review_list.html", "review_list.xlsx",
               "evidence.csv", "quarantine.csv", "coverage.csv"]  # fmt: skip
    for name in private:
        assert (folder / name).stat().st_mode & 0o777 == 0o600, name
    for path in _identifier_free_files(out):
        assert path.stat().st_mode & 0o022 == 0, path  # nobody else may change them
    assert (folder / "run_manifest.json").stat().st_mode & 0o777 == 0o644
    # every file in the folder is one or the other: nothing else is written
    written = {p.name for p in folder.iterdir() if p.is_file()}
    assert written == {*private, "run_manifest.json"}
