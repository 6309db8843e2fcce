"""A corpus of bad inputs: each one either stops the run with a clear error or is accounted for.

Every case starts from the same minimal valid extract (one hyponatremic patient P1 on
furosemide with heart failure, a glucose, nothing else) built in tmp_path, adds exactly one
defect, runs the pipeline without Prefect and asserts the outcome:

* `Fails`: the run raises InputError / ConfigError whose message names the file (and the
  column where one is at fault);
* `Ok`: the run completes, the manifest reconciles, rows_in of every table equals the data rows
  really written (counted here independently of hyposcreen), the reason codes of every row not
  used are exactly the expected ones (and sit in the right bucket), quarantine.csv holds the
  quarantined rows with the same reasons, and the listed patients are the expected ones.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import shutil
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from tests.cli_process import run_night

from bad_input_cases import BUCKET_OF, FILE_CASES, Fails, Ok
from bad_input_defects import all_sodium_non_numeric
from bad_input_row_cases import ROW_CASES
from bad_input_rows import TABLES, WINDOW, lab, labs_with, write_base
from hyposcreen.config import RunSettings, parse_window
from hyposcreen.errors import InputError
from hyposcreen.rules.loader import RULES_DIR
from hyposcreen.runners.in_process import run_pipeline

CASES = FILE_CASES + ROW_CASES


# ---------------------------------------------------------------- runner


csv.field_size_limit(1 << 30)  # the 1 MB value


def _count_csv_rows(data: bytes) -> int:
    try:
        text = data.decode("utf-16" if data.startswith((b"\xff\xfe", b"\xfe\xff")) else "utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    header = text.split("\n", 1)[0]
    sep = max(",;\t|", key=header.count)
    return (
        sum(1 for record in csv.reader(io.StringIO(text, newline=""), delimiter=sep) if record) - 1
    )


def data_rows_written(folder: Path, table: str) -> int:
    """Data rows of one table as written by the test, counted without hyposcreen."""
    files = [folder / f"{table}{s}" for s in (".csv", ".csv.gz", ".parquet")]
    if (folder / table).is_dir():
        files += sorted((folder / table).rglob("*"))
    total = 0
    for path in (p for p in files if p.is_file()):
        if path.name.endswith(".parquet"):
            total += pq.ParquetFile(path).metadata.num_rows
        elif path.name.endswith(".gz"):
            total += _count_csv_rows(gzip.decompress(path.read_bytes()))
        else:
            total += _count_csv_rows(path.read_bytes())
    return total


def _settings(
    input_dir: Path, out: Path, window: tuple[str, str] = WINDOW, rules: Path | None = None
) -> RunSettings:
    mapping = input_dir / "site.yaml"
    return RunSettings(
        input_dir=input_dir,
        out_dir=out,
        window=parse_window(*window),
        mapping_path=mapping if mapping.exists() else None,
        rules_dir=rules,
    )


def _prepare(tmp_path: Path, defect: Callable[[Path], None] | None) -> Path:
    input_dir = tmp_path / "in"
    input_dir.mkdir()
    write_base(input_dir)
    if defect is not None:
        defect(input_dir)
    return input_dir


@pytest.fixture(scope="module")
def small_extract_rules(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The packaged rules with the data contract's rate limits lifted.

    The corpus runs the real Great Expectations suites, but its extracts hold two or three
    rows: one bad value among them is far above the default 5 % / 20 % rate limits, which
    would stop every run. `test_contracts_*` below check those limits with the defaults.
    """
    rules = tmp_path_factory.mktemp("rules")
    shutil.copytree(RULES_DIR, rules, dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("*.py", "__pycache__"))  # fmt: skip
    text = (rules / "rules.yaml").read_text(encoding="utf-8")
    text = text.replace("max_duplicate_rate: 0.20", "max_duplicate_rate: 1.0")
    text = text.replace("max_non_numeric_sodium_rate: 0.05", "max_non_numeric_sodium_rate: 1.0")
    (rules / "rules.yaml").write_text(text, encoding="utf-8")
    return rules


@pytest.mark.parametrize(("defect", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input(
    tmp_path: Path,
    defect: Callable[[Path], None] | None,
    expected: Ok | Fails,
    small_extract_rules: Path,
) -> None:
    input_dir = _prepare(tmp_path, defect)
    out = tmp_path / "out"
    window = expected.window if isinstance(expected, Ok) else WINDOW
    if isinstance(expected, Fails):
        with pytest.raises(expected.error) as caught:
            run_pipeline(_settings(input_dir, out, window, small_extract_rules))
        message = str(caught.value)
        for name in expected.names:
            assert name in message, (name, message)
        if expected.column is not None:
            assert isinstance(caught.value, InputError) and caught.value.column == expected.column
        return

    run_pipeline(_settings(input_dir, out, window, small_extract_rules))
    manifest = json.loads((out / "run_manifest.json").read_text())
    assert manifest["reconciled"] is True
    quarantine = pd.read_csv(out / "quarantine.csv", dtype=str, keep_default_na=False)
    for table in TABLES:
        counts = manifest["reconciliation"][table]
        assert counts["rows_in"] == data_rows_written(input_dir, table), table
        buckets = ("used", "not_relevant", "duplicate", "quarantined")
        assert sum(counts[b] for b in buckets) == counts["rows_in"], table
        found = {
            (bucket, reason): n
            for bucket, reasons in counts.get("reasons", {}).items()
            for reason, n in reasons.items()
        }
        wanted = {(BUCKET_OF[r], r): n for r, n in expected.reasons.get(table, {}).items()}
        assert found == wanted, table
        in_file = Counter(quarantine.loc[quarantine["table"] == table, "reason"])
        assert dict(in_file) == counts.get("reasons", {}).get("quarantined", {}), table
    review = pd.read_csv(out / "review_list.csv", dtype=str, keep_default_na=False)
    assert tuple(review["patient_id"]) == expected.listed
    if expected.listed and expected.risk_factors is not None:
        assert review.loc[0, "risk_factors"] == expected.risk_factors
    if expected.listed and expected.index_time is not None:
        assert pd.Timestamp(review.loc[0, "index_time"]) == pd.Timestamp(expected.index_time)
    if expected.check is not None:
        expected.check(out)


def test_the_corpus_is_large_and_distinct() -> None:
    ids = [c[0] for c in CASES]
    assert len(ids) == len(set(ids)) and len(ids) >= 30


# ---------------------------------------------------------------- the same through the CLI

CLI_CASES = {c[0]: c for c in CASES}


@pytest.mark.parametrize(
    ("case", "names"),
    [
        ("renamed_column_pid", ("labs.csv", "patient_id")),
        ("random_binary", ("labs.csv",)),
    ],
)
def test_cli_reports_bad_input_without_traceback(
    tmp_path: Path, case: str, names: tuple[str, ...]
) -> None:
    input_dir = _prepare(tmp_path, CLI_CASES[case][1])
    env = {k: v for k, v in os.environ.items() if k != "HYPOSCREEN_DEBUG"}
    done = run_night(input_dir, tmp_path / "out", WINDOW[0], WINDOW[1], env=env, timeout=120)
    assert done.returncode == InputError.exit_code, done.stderr
    assert "Traceback" not in done.stderr
    assert "internal error" not in done.stderr
    for name in names:
        assert name in done.stderr, (name, done.stderr)


# ---------------------------------------------------------------- with the data contracts


def test_contracts_let_one_bad_value_among_many_through(tmp_path: Path) -> None:
    """With the GX contracts on, one HEMOLYZED among 42 sodium results is quarantined."""
    normal = [lab("140", patient_id=f"N{i:02d}") for i in range(40)]
    input_dir = _prepare(tmp_path, labs_with(*normal, lab("HEMOLYZED", patient_id="P2")))
    run_pipeline(_settings(input_dir, tmp_path / "out"))
    manifest = json.loads((tmp_path / "out" / "run_manifest.json").read_text())
    assert manifest["reconciled"] is True
    labs = manifest["reconciliation"]["labs"]
    assert labs["rows_in"] == data_rows_written(input_dir, "labs") == 43
    assert labs["reasons"] == {"quarantined": {"non_numeric": 1}}
    review = pd.read_csv(tmp_path / "out" / "review_list.csv", dtype=str, keep_default_na=False)
    assert list(review["patient_id"]) == ["P1"]


def test_contracts_on_an_all_non_numeric_sodium_column(tmp_path: Path) -> None:
    """Either every sodium row is quarantined non_numeric, or the contract stops the run with
    a message naming the check and the file."""
    input_dir = _prepare(tmp_path, all_sodium_non_numeric)
    try:
        run_pipeline(_settings(input_dir, tmp_path / "out"))
    except InputError as exc:
        assert "non-numeric" in str(exc) and "labs.csv" in str(exc)
        return
    manifest = json.loads((tmp_path / "out" / "run_manifest.json").read_text())
    assert manifest["reconciled"] is True
    assert manifest["reconciliation"]["labs"]["reasons"]["quarantined"] == {"non_numeric": 5}
