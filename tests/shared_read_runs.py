"""Runs for the tests of many windows from one read: an extract with window-edge rows (Berlin
or any zone), the site mapping, the CLI run of a window or of lone nights, and the comparison
of each window's outputs and manifest with its lone run's (run-time fields set aside)."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd

from helpers import RULES
from hyposcreen.clean import read_window_start
from hyposcreen.cli import main
from hyposcreen.config import RunSettings, Window
from hyposcreen.context import prepare

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data" / "canonical"
BERLIN = "Europe/Berlin"
OUTPUTS = ("review_list.csv", "evidence.csv", "quarantine.csv", "coverage.csv")
RUN_TIME = {"timings", "peak_rss_mb", "seconds"}  # differ between any two runs
DST_NIGHTS = ["2026-10-24", "2026-10-25", "2026-10-26"]  # Berlin falls back on 25 Oct, 03:00
LAB_COLUMNS = [
    "patient_id", "specimen_time", "result_time", "loinc", "lab_name", "value_raw", "unit",
    "status", "specimen_type",
]  # fmt: skip
ONE_DAY, SECOND = pd.Timedelta(days=1), pd.Timedelta(seconds=1)


# ------------------------------------------------------------------ an extract with edges


def write_rows(path: Path, columns: list[str], rows: Iterable[list[str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(rows)


def time_text(time: pd.Timestamp) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S")


def sodium_row(patient: str, time: pd.Timestamp | str, value: str, **extra: str) -> list[str]:
    when = time if isinstance(time, str) else time_text(time)
    row = {"loinc": "2951-2", "lab_name": "Sodium", "unit": "mmol/L", "status": "final"}
    row.update(extra)
    return [
        patient, when, "", row["loinc"], row["lab_name"], value, row["unit"], row["status"],
        "Serum",
    ]  # fmt: skip


def glucose_row(patient: str, time: pd.Timestamp, value: str) -> list[str]:
    return sodium_row(patient, time, value, loinc="2345-7", lab_name="Glucose", unit="mg/dL")


def edge_extract(folder: Path, nights: list[str], timezone: str) -> Path:
    """Labs on every read-range and window edge of `nights` (a lone read of one night and the
    shared read must agree on each), with the reader's other reasons mixed in; a loop diuretic
    for two patients, a hyponatremia code and a CKD code, a patients table."""
    folder.mkdir(parents=True, exist_ok=True)
    rows: list[list[str]] = []
    for number, night in enumerate(nights):
        start = pd.Timestamp(night).as_unit("us")
        window = Window(start, start + ONE_DAY)
        for late in (False, True):  # a stateless night's read range, and a nightly one's
            edge = read_window_start(window, RULES, late, timezone)
            tag = f"{'L' if late else 'R'}{number}"
            rows += [
                sodium_row(f"{tag}in", edge, "131"),
                sodium_row(f"{tag}out", edge - SECOND, "130"),
            ]
        rows += [
            sodium_row("P1", start, "128"),  # at the window start exactly
            glucose_row("P1", start + pd.Timedelta(hours=1), "400"),  # 60 min after: paired
            sodium_row("P2", start + ONE_DAY - SECOND, str(126 - number)),  # the last second
            sodium_row("P3", start + ONE_DAY, "127"),  # at the end: the next night's
            sodium_row("P4", start + pd.Timedelta(hours=9), "133"),
            sodium_row("P4", start + pd.Timedelta(hours=9), "133"),  # an exact duplicate
            sodium_row("P5", start + pd.Timedelta(hours=8), "129", loinc="9999-9"),  # unknown LOINC
            sodium_row("P5", start + pd.Timedelta(hours=8), "129", loinc="", lab_name="Mystery"),
            sodium_row("P6", start + pd.Timedelta(hours=7), "HEMOLYZED"),
            sodium_row("P6", start + pd.Timedelta(hours=6), "119", status="entered-in-error"),
            sodium_row("P7", "31/02/2026 25:00", "125"),  # a time that does not parse
            *[sodium_row(f"N{i}", start + pd.Timedelta(hours=10), "140") for i in range(5)],
        ]
    rows += [  # the night the clocks go back in Berlin, and the turn of the month
        sodium_row("P8", "2026-10-25T01:59:59", "124"),
        sodium_row("P8", "2026-10-25T02:30:00", "123"),  # happens twice: its first occurrence
        sodium_row("P8", "2026-10-25T03:00:00", "122"),
        sodium_row("P9", "2026-10-31T23:59:59", "126"),
        sodium_row("P9", "2026-11-01T00:00:00", "121"),
    ]
    write_rows(folder / "labs.csv", LAB_COLUMNS, rows)
    write_rows(
        folder / "medications.csv",
        ["patient_id", "drug_name", "start_time", "end_time", "status"],
        [
            ["P1", "Furosemide 40mg tab", "2026-01-01T08:00:00", "", "active"],
            ["P2", "Hydrochlorothiazide 25 mg", "2026-01-01T08:00:00", "", "active"],
            ["P8", "Sertraline 50 mg", "2026-01-01T08:00:00", "", "active"],
        ],
    )
    write_rows(
        folder / "diagnoses.csv",
        ["patient_id", "code", "code_system", "recorded_time", "status"],
        [
            ["P4", "N18.3", "ICD-10-CM", "2025-06-15T10:00:00", "active"],
            ["P9", "E87.1", "ICD-10-CM", "2026-10-31T12:00:00", "active"],
        ],
    )
    write_rows(folder / "patients.csv", ["patient_id", "sex"], [["P1", "F"], ["P2", "M"]])
    return folder


def site_mapping(folder: Path, timezone: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "site_mapping.yaml"
    path.write_text(f"site: test\ntimezone: {timezone}\n", encoding="utf-8")
    return path


# ------------------------------------------------------------------ comparing runs


def without_run_time(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: without_run_time(v) for k, v in value.items() if k not in RUN_TIME}
    if isinstance(value, list):
        return [without_run_time(v) for v in value]
    return value


def manifest_of(folder: Path, root: Path) -> dict[str, Any]:
    text = (folder / "run_manifest.json").read_text(encoding="utf-8")
    return without_run_time(json.loads(text.replace(str(root), "<root>")))  # type: ignore[no-any-return]


def assert_same_windows(lone: Path, shared: Path, labels: list[str]) -> None:
    """Each window's outputs under `shared/out` are those of its lone run under `lone/out`."""
    for label in labels:
        for name in OUTPUTS:
            expected = (lone / "out" / label / name).read_bytes()
            assert (shared / "out" / label / name).read_bytes() == expected, (label, name)
        expected_manifest = manifest_of(lone / "out" / label, lone)
        assert manifest_of(shared / "out" / label, shared) == expected_manifest, label


def timings_of(root: Path, label: str) -> dict[str, float]:
    manifest = json.loads((root / "out" / label / "run_manifest.json").read_text("utf-8"))
    return manifest["timings"]  # type: ignore[no-any-return]


def night_args(night: str) -> list[str]:
    end = (pd.Timestamp(night) + ONE_DAY).date().isoformat()
    return ["--window-start", f"{night}T00:00:00", "--window-end", f"{end}T00:00:00"]


def run_cli(root: Path, extract: Path, *args: str, mapping: Path | None = None) -> int:
    where = ["--input", str(extract), "--out", str(root / "out")]
    site = ["--mapping", str(mapping)] if mapping else []
    return main(["run", "--no-flow", *where, *site, *args])


def lone_nights(root: Path, extract: Path, nights: list[str], *args: str, **kw: Any) -> None:
    for night in nights:
        assert run_cli(root, extract, *night_args(night), *args, **kw) in (0, 4)


# ------------------------------------------------------------------ the cut itself


def window_contexts(
    extract: Path, mapping: Path, nights: list[str], state: Path | None
) -> list[Any]:
    settings = RunSettings(
        input_dir=extract,
        out_dir=extract.parent / "unused",
        window=Window(pd.Timestamp(nights[0]), pd.Timestamp(nights[0]) + ONE_DAY),
        mapping_path=mapping,
        state_dir=state,
    )
    ctx = prepare(settings)
    windows = [Window(pd.Timestamp(n).as_unit("us"), pd.Timestamp(n) + ONE_DAY) for n in nights]
    return [ctx, *(replace(ctx, settings=replace(settings, window=w)) for w in windows)]


def docs_pages(root: Path, night: str) -> list[tuple[str, ...]]:
    """The Data Docs pages of a night: (kind, suite, page name), run times set aside."""
    docs = root / "out" / night / "validation"
    pages = [p.relative_to(docs).parts for p in docs.rglob("*.html") if p.stat().st_size]
    return sorted((parts[0], parts[1], parts[-1]) for parts in pages if len(parts) > 1)
