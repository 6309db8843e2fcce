"""Hand-written FHIR R4 exports for the `--source fhir` tests: an export folder written from
resources (dicts, raw lines or bytes), read back through the adapter, and an Observation
builder."""

from __future__ import annotations

import gzip
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pandas as pd
from tests.helpers import RULES, WINDOW

from hyposcreen.adapters import fhir
from hyposcreen.clean import count_buckets
from hyposcreen.config import SiteMapping, Window
from hyposcreen.ingest.canonical import IngestedTable
from hyposcreen.rules.loader import RuleSet

ROOT = Path(__file__).resolve().parents[1]
INDEPENDENT = ROOT / "tests" / "data" / "fhir" / "independent"
SAMPLE = ROOT / "sample_data" / "canonical"
T = "2026-11-20T08:00:00Z"
LOINC = "http://loinc.org"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
Line = dict[str, Any] | str | bytes


def write_export(folder: Path, files: dict[str, list[Line]]) -> Path:
    """NDJSON files (gzipped when the name ends in .gz); str/bytes lines are written as is."""
    for name, lines in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        payload = b"".join(
            (
                line
                if isinstance(line, bytes)
                else line.encode()
                if isinstance(line, str)
                else orjson.dumps(line)
            )
            + b"\n"
            for line in lines
        )
        path.write_bytes(gzip.compress(payload) if name.endswith(".gz") else payload)
    return folder


def read(
    folder: Path,
    name: str,
    rules: RuleSet = RULES,
    window: Window = WINDOW,
    mapping: SiteMapping | None = None,
) -> IngestedTable:
    from hyposcreen.clean import lab_row_filter

    row_filter = lab_row_filter(rules, window) if name == "labs" else None
    return fhir.read_table(folder, name, mapping or SiteMapping(), rules, window, row_filter)


def obs(value: dict[str, Any] | None = None, code: str | None = "2951-2", **extra: Any) -> dict:
    """A serum sodium Observation of patient P1 at T (value 130 mmol/L unless given)."""
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": code}]} if code else {"text": "Sodium"},
        "subject": {"reference": "Patient/P1"},
        "effectiveDateTime": T,
    }
    resource.update(value or {"valueQuantity": {"value": 130, "unit": "mmol/L"}})
    resource.update(extra)
    return {k: v for k, v in resource.items() if v is not None}


def balanced(table: IngestedTable, cleaned: pd.DataFrame) -> bool:
    return bool(count_buckets(cleaned, table.not_relevant, table.rows_in)["reconciled"])


def med_request(**fields: Any) -> dict[str, Any]:
    return {
        "resourceType": "MedicationRequest",
        "status": "active",
        "subject": {"reference": "Patient/P1"},
        **fields,
    }


def condition(*codings: dict[str, str], **fields: Any) -> dict[str, Any]:
    return {
        "resourceType": "Condition",
        "code": {"coding": list(codings)},
        "subject": {"reference": "Patient/P1"},
        "recordedDate": "2026-01-05",
        **fields,
    }


def rewrite_observations(folder: Path, rewrite: Callable[[bytes], bytes]) -> int:
    """Each line of an export's Observation files (gzipped or not) through `rewrite`, in
    place; how many lines it changed."""
    changed = 0
    for path in folder.glob("Observation*.ndjson*"):
        packed = path.name.endswith(".gz")
        data = gzip.decompress(path.read_bytes()) if packed else path.read_bytes()
        lines = [rewrite(line) for line in data.splitlines()]
        changed += sum(a != b for a, b in zip(lines, data.splitlines(), strict=True))
        payload = b"\n".join(lines) + b"\n"
        path.write_bytes(gzip.compress(payload) if packed else payload)
    return changed
