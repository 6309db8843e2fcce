"""`--source fhir`: a FHIR R4 Bulk Data export (NDJSON) read into the canonical tables.

labs        <- Observation (values of `component[]` too), Specimen types resolved
medications <- MedicationRequest, MedicationStatement, MedicationAdministration (+ Medication)
diagnoses   <- Condition
patients    <- Patient

Row accounting (the manifest's reconciliation): `rows_in` counts every non-blank line of the
files of the table's resource types; an Observation line whose `component[]` yields k > 1
relevant rows counts k. Observation lines without a relevant code are skipped before parsing
(not relevant, `unknown_loinc`); lines of another resource type are not relevant
(`other_resource_type`); a line that is not JSON, or not a resource object, is quarantined
(`malformed_row`). `source_file` is the file's path inside the export, `source_row` its line.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pandas as pd

from hyposcreen.adapters.fhir_files import (
    SUFFIXES,
    classify,
    count_lines,
    iter_blocks,
    iter_lines,
)
from hyposcreen.adapters.fhir_labs import LAB_COLUMNS, ObservationMapper, specimen_type
from hyposcreen.adapters.fhir_records import (
    DIAGNOSIS_COLUMNS,
    MEDICATION_COLUMNS,
    PATIENT_COLUMNS,
    ConditionMapper,
    MedicationMapper,
    medication_index_entry,
    patient_row,
)
from hyposcreen.config import SiteMapping, Window
from hyposcreen.errors import InputError
from hyposcreen.ingest.canonical import SCHEMAS, IngestedTable, TableSchema
from hyposcreen.ingest.tabular import (
    RowFilter,
    canonical_columns,
    empty_frame,
    finish_batch,
    sha256_of,
)
from hyposcreen.rules.loader import RuleSet

log = logging.getLogger(__name__)

TABLE_TYPES = {
    "labs": ("Observation",),
    "medications": ("MedicationRequest", "MedicationStatement", "MedicationAdministration"),
    "diagnoses": ("Condition",),
    "patients": ("Patient",),
}
SUPPORT_TYPES = {"labs": ("Specimen",), "medications": ("Medication",)}
_BATCH_ROWS = 50_000  # pending rows cost ~1 kB each; small batches keep the peak low
_MALFORMED_TEXT = 500


def check_layout(input_dir: Path) -> None:
    """Raise InputError unless the folder holds NDJSON files of FHIR resources, Observations
    among them."""
    by_type, unknown = classify(input_dir)
    if not by_type and not unknown:
        found = sorted(p.name for p in input_dir.iterdir())[:8]
        raise InputError(
            f"Input folder {input_dir} is not a FHIR Bulk Data export: it holds no "
            f"{' / '.join(SUFFIXES)} files. Expected one or more NDJSON files per resource type "
            "(Observation, MedicationRequest / MedicationStatement / MedicationAdministration, "
            "Condition, Patient), e.g. Observation.ndjson or Observation.000.ndjson.gz. "
            f"Found: {', '.join(found) or 'nothing'}."
        )
    if unknown:
        names = ", ".join(str(p.relative_to(input_dir)) for p in unknown[:5])
        raise InputError(
            f"Input folder {input_dir} holds NDJSON files that are not FHIR resources ({names}): "
            "their names do not start with a resource type and their first lines are not JSON "
            'objects with a "resourceType". Remove them or name them <Type>.ndjson.',
            file=str(unknown[0]),
        )
    if "Observation" not in by_type:
        raise InputError(
            f"FHIR export {input_dir} has no Observation files (found: "
            f"{', '.join(sorted(by_type))}); lab results are read from Observation resources."
        )


def input_files(input_dir: Path, name: str) -> list[Path]:
    by_type, _ = classify(input_dir)
    wanted = TABLE_TYPES.get(name, ()) + SUPPORT_TYPES.get(name, ())
    return sorted(p for t in wanted for p in by_type.get(t, []))


class _TableBuilder:
    """Collects canonical rows in column lists and hands full batches to `finish_batch`."""

    def __init__(
        self,
        schema: TableSchema,
        columns: tuple[str, ...],
        mapping: SiteMapping,
        row_filter: RowFilter,
    ) -> None:
        self.schema, self.columns, self.mapping, self.row_filter = (
            schema,
            columns,
            mapping,
            row_filter,
        )
        self.rows: list[tuple[object, ...]] = []
        self.where: list[tuple[str, str]] = []
        self.malformed: list[tuple[str, str, str]] = []
        self.not_relevant: Counter[str] = Counter()
        self.frames: list[pd.DataFrame] = []

    def add(self, row: tuple[object, ...], source_file: str, source_row: str) -> None:
        self.rows.append(row)
        self.where.append((source_file, source_row))
        if len(self.rows) >= _BATCH_ROWS:
            self.flush()

    def add_malformed(self, source_file: str, line: int, raw: bytes | bytearray) -> None:
        content = raw[:_MALFORMED_TEXT].decode("utf-8", errors="replace")
        self.malformed.append((source_file, str(line), content))

    def flush(self) -> None:
        if not self.rows:
            return
        values = list(zip(*self.rows, strict=True))
        data = {c: pd.Series(v, dtype="object") for c, v in zip(self.columns, values, strict=True)}
        frame = pd.DataFrame(data)
        for column in self.columns:
            if column not in self.schema.float_columns:
                frame[column] = frame[column].astype("str").where(frame[column].notna())
        frame["source_file"] = pd.Series([w[0] for w in self.where], dtype="str")
        frame["source_row"] = pd.Series([w[1] for w in self.where], dtype="str")
        frame = canonical_columns(frame, self.schema)
        self.frames.append(
            finish_batch(frame, self.schema, self.mapping, self.row_filter, self.not_relevant)
        )
        self.rows, self.where = [], []

    def frame(self) -> pd.DataFrame:
        self.flush()
        frames = list(self.frames)
        if self.malformed:
            bad = empty_frame(self.schema, len(self.malformed))
            bad["source_file"] = [m[0] for m in self.malformed]
            bad["source_row"] = [m[1] for m in self.malformed]
            bad["malformed_text"] = [m[2] for m in self.malformed]
            frames.append(bad)
        return pd.concat(frames, ignore_index=True) if frames else empty_frame(self.schema)


def _parse(line: bytes | bytearray) -> dict[str, Any] | None:
    """A resource object, or None when the line is not JSON or not a FHIR resource."""
    try:
        parsed = orjson.loads(line)
    except orjson.JSONDecodeError:
        return None
    if isinstance(parsed, dict) and isinstance(parsed.get("resourceType"), str):
        return parsed
    return None


def _index(files: list[Path], entry: Callable[[dict[str, Any]], Any]) -> dict[str, Any]:
    """id -> entry for every resource of the given files (Medication, Specimen)."""
    found: dict[str, Any] = {}
    for path in files:
        for _, line in iter_lines(path):
            resource = _parse(line)
            if resource is not None and isinstance(resource.get("id"), str):
                found[resource["id"]] = entry(resource)
    return found


def _scan_observations(
    path: Path, rel: str, mapper: ObservationMapper, builder: _TableBuilder, counts: Counter[str]
) -> int:
    """Stream one Observation file; only lines the pre-filter finds are parsed. Returns the
    file's row count (lines, plus extra component rows)."""
    base = 0  # newlines before the current block
    rows = 0
    search = mapper.needle.search
    for block, end in iter_blocks(path):
        lines, newlines = count_lines(block, end)
        counts["read"] += lines
        seen = 0
        position = 0
        counted_to, newlines_before = 0, 0
        while (match := search(block, position, end)) is not None:
            start = block.rfind(b"\n", 0, match.start()) + 1
            stop = block.find(b"\n", match.end(), end)
            stop = end if stop < 0 else stop
            newlines_before += block.count(b"\n", counted_to, start)
            counted_to, position = start, stop + 1
            seen += 1
            line_no = base + newlines_before + 1
            rows += _observation_line(block[start:stop], rel, line_no, mapper, builder, counts)
        skipped = lines - seen
        counts["unmapped_prefilter_no_relevant_code"] += skipped
        builder.not_relevant["unknown_loinc"] += skipped
        rows += skipped
        base += newlines
    return rows


def _observation_line(
    line: bytearray,
    rel: str,
    line_no: int,
    mapper: ObservationMapper,
    builder: _TableBuilder,
    counts: Counter[str],
) -> int:
    resource = _parse(line)
    if resource is None:
        counts["unmapped_malformed_row"] += 1
        builder.add_malformed(rel, line_no, line)
        return 1
    if resource["resourceType"] != "Observation":
        counts["unmapped_other_resource_type"] += 1
        builder.not_relevant["other_resource_type"] += 1
        return 1
    try:
        rows = mapper.rows(resource)
    except Exception:  # an oddly shaped resource is quarantined, never fatal
        counts["unmapped_malformed_row"] += 1
        builder.add_malformed(rel, line_no, line)
        return 1
    counts["mapped"] += 1
    counts["component_rows"] += len(rows) - 1 if len(rows) > 1 else 0
    for index, row in enumerate(rows):
        builder.add(row, rel, str(line_no) if index == 0 else f"{line_no}.{index}")
    return len(rows)


def _scan_resources(
    path: Path,
    rel: str,
    mappers: dict[str, Callable[[dict[str, Any]], tuple[object, ...]]],
    builder: _TableBuilder,
    counts: dict[str, Counter[str]],
    file_type: str,
) -> int:
    """Stream one file of medication, Condition or Patient resources (every line parsed)."""
    rows = 0
    for line_no, line in iter_lines(path):
        rows += 1
        resource = _parse(line)
        kind = resource["resourceType"] if resource is not None else file_type
        tally = counts.setdefault(kind if kind in mappers else file_type, Counter())
        tally["read"] += 1
        if resource is None:
            tally["unmapped_malformed_row"] += 1
            builder.add_malformed(rel, line_no, line)
            continue
        if kind not in mappers:
            tally["unmapped_other_resource_type"] += 1
            builder.not_relevant["other_resource_type"] += 1
            continue
        try:
            row = mappers[kind](resource)
        except Exception:  # an oddly shaped resource is quarantined, never fatal
            tally["unmapped_malformed_row"] += 1
            builder.add_malformed(rel, line_no, line)
            continue
        tally["mapped"] += 1
        builder.add(row, rel, str(line_no))
    return rows


_COLUMNS = {
    "labs": LAB_COLUMNS,
    "medications": MEDICATION_COLUMNS,
    "diagnoses": DIAGNOSIS_COLUMNS,
    "patients": PATIENT_COLUMNS,
}
# scan(path, path inside the export, builder, counts by resource type, file's type) -> rows
_Counts = dict[str, Counter[str]]
Scanner = Callable[[Path, str, _TableBuilder, _Counts, str], int]


def _scanner(
    name: str, rules: RuleSet, by_type: dict[str, list[Path]], indexed: dict[str, int]
) -> tuple[Scanner, MedicationMapper | None]:
    """How the files of one table are streamed, with the reference resources it needs
    (Specimen for labs, Medication for medications) indexed first."""
    if name == "labs":
        specimens = _index(by_type.get("Specimen", []), specimen_type)
        indexed["Specimen"] = len(specimens)
        observations = ObservationMapper(rules, specimens)

        def scan_labs(
            path: Path, rel: str, builder: _TableBuilder, counts: _Counts, kind: str
        ) -> int:
            return _scan_observations(path, rel, observations, builder, counts[kind])

        return scan_labs, None
    medication_mapper = None
    mappers: dict[str, Callable[[dict[str, Any]], tuple[object, ...]]]
    if name == "medications":
        medications = _index(by_type.get("Medication", []), medication_index_entry)
        indexed["Medication"] = len(medications)
        medication_mapper = MedicationMapper(rules, medications)
        mappers = dict.fromkeys(TABLE_TYPES[name], medication_mapper.row)
    elif name == "diagnoses":
        mappers = {"Condition": ConditionMapper(rules).row}
    else:
        mappers = {"Patient": patient_row}

    def scan(path: Path, rel: str, builder: _TableBuilder, counts: _Counts, kind: str) -> int:
        return _scan_resources(path, rel, mappers, builder, counts, kind)

    return scan, medication_mapper


def _file_record(path: Path, rows: int) -> dict[str, object]:
    return {
        "path": str(path),
        "sha256": sha256_of(path),
        "rows": rows,
        "bytes": path.stat().st_size,
    }


def read_table(
    input_dir: Path,
    name: str,
    mapping: SiteMapping,
    rules: RuleSet,
    window: Window,
    row_filter: RowFilter | None,
) -> IngestedTable:
    """One canonical table from the export (see the module docstring for the row accounting);
    `window` is applied through `row_filter` (labs), like the tabular reader."""
    schema = SCHEMAS[name]
    by_type, _ = classify(input_dir)
    if name == "labs" and "Observation" not in by_type:
        check_layout(input_dir)  # raises with the reason
    builder = _TableBuilder(schema, _COLUMNS[name], mapping, row_filter or RowFilter())
    indexed: dict[str, int] = {}
    scan, medication_mapper = _scanner(name, rules, by_type, indexed)
    counts: dict[str, Counter[str]] = {}
    files: list[dict[str, object]] = []
    for kind in TABLE_TYPES[name]:
        for path in by_type.get(kind, []):
            counts.setdefault(kind, Counter())["files"] += 1
            rows = scan(path, path.relative_to(input_dir).as_posix(), builder, counts, kind)
            files.append(_file_record(path, rows))
    rows_in = sum(int(f["rows"]) for f in files)  # type: ignore[call-overload]
    if medication_mapper is not None:
        for (kind, note), count in medication_mapper.unmapped.items():
            counts.setdefault(kind, Counter())[f"note_{note}"] += count
    for kind in TABLE_TYPES[name]:
        if kind in counts:
            counts[kind]["unmapped"] = sum(
                v for k, v in counts[kind].items() if k.startswith("unmapped_")
            )
    for support, size in indexed.items():
        if by_type.get(support):
            counts[support] = Counter(files=len(by_type[support]), indexed=size)
            files += [_file_record(p, 0) for p in by_type[support]]
    if name in ("medications", "diagnoses") and not any(by_type.get(t) for t in TABLE_TYPES[name]):
        log.warning("FHIR export %s has no %s resources.", input_dir, "/".join(TABLE_TYPES[name]))
    return IngestedTable(
        name,
        builder.frame(),
        rows_in=rows_in,
        not_relevant={k: v for k, v in builder.not_relevant.items() if v},
        files=files,
        present_columns=tuple(c for c in schema.columns if c in _COLUMNS[name]),
        source_counts={kind: dict(sorted(tally.items())) for kind, tally in counts.items()},
    )
