"""Whether a folder is a FHIR export the reader can screen (`check_layout`: NDJSON / JSON files
of FHIR resources, lab results among them, none packed in a way the reader does not open), and
which of its files a canonical table reads (`input_files`), and the folder as a table's folder
of parts (`export_parts`). The files are classified by
fhir_files; the tables are read by `hyposcreen.adapters.fhir`.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from hyposcreen.adapters.fhir_documents import is_document_name, shown_name
from hyposcreen.adapters.fhir_files import (
    DOCUMENTS,
    MIXED,
    SUFFIXES,
    classify,
    type_from_name,
    unread_packed,
)
from hyposcreen.adapters.fhir_parsed import SUPPORT_TYPES, TABLE_TYPES
from hyposcreen.errors import InputError

log = logging.getLogger(__name__)

# files that can hold lab results (a DiagnosticReport its contained Observations)
LAB_SOURCES = ("Observation", "DiagnosticReport", MIXED, DOCUMENTS)


def check_layout(input_dir: Path) -> None:
    """Raise InputError unless the folder holds NDJSON files of FHIR resources, Observations
    among them (or files of Bundles / mixed types that may hold them). Files that are not FHIR
    (an export client's `log.ndjson`) are ignored with a warning."""
    if packed := unread_packed(input_dir):
        # an NDJSON file named for its resource type is named; a document's name may carry the
        # patient's name (Synthea's Given_Family_<id>.json)
        named = [
            p.relative_to(input_dir)
            for p in packed
            if type_from_name(p.name) and not is_document_name(p.name.rsplit(".", 1)[0])
        ]
        raise InputError(
            f"{len(packed)} file(s) of the FHIR export "
            f"{f'(e.g. {named[0]}) ' if named else ''}are packed in a way the reader does not "
            "open (it reads NDJSON and JSON files, plain or gzip-compressed: .gz); their "
            "resources would be missing from the screen. Unpack them, or compress them with "
            "gzip, and rerun.",
            file=str(named[0]) if named else None,
        )
    by_type, unknown = classify(input_dir)
    if not by_type and not unknown:
        found = sorted(p.name for p in input_dir.iterdir())[:8]
        raise InputError(
            f"Input folder {input_dir} is not a FHIR Bulk Data export: it holds no "
            f"{' / '.join(SUFFIXES)} files. Expected one or more NDJSON files per resource type "
            "(Observation, MedicationRequest / MedicationStatement / MedicationAdministration / "
            "MedicationDispense, "
            "Condition, Patient), e.g. Observation.ndjson or Observation.000.ndjson.gz, "
            "or JSON documents holding a Bundle or a resource (Synthea's <name>_<uuid>.json). "
            f"Found: {', '.join(found) or 'nothing'}."
        )
    # a document is not named (shown_name): its name may be the patient's
    shown = list(dict.fromkeys(shown_name(p.relative_to(input_dir)) for p in unknown))
    names = ", ".join(shown[:5])
    if not by_type:
        raise InputError(
            f"Input folder {input_dir} is not a FHIR Bulk Data export: its NDJSON / JSON files "
            f"({names}) hold no FHIR resources (their names do not start with a resource type "
            'and their first lines are not JSON objects with a "resourceType").',
            file=shown[0],
        )
    if unknown:
        log.warning(
            "ignoring %d NDJSON / JSON file(s) that hold no FHIR resources: %s",
            len(unknown),
            names,
        )
    if not any(by_type.get(t) for t in LAB_SOURCES):
        raise InputError(
            f"FHIR export {input_dir} has no Observation files (found: "
            f"{', '.join(sorted(by_type))}); lab results are read from Observation resources "
            "(also those a DiagnosticReport contains)."
        )


def input_files(input_dir: Path, name: str) -> list[Path]:
    """The files a canonical table reads: its resource types', those of the resources it
    looks up (Specimen, Medication, Encounter), and files of Bundles or several types."""
    by_type, _ = classify(input_dir)
    wanted = TABLE_TYPES.get(name, ()) + SUPPORT_TYPES.get(name, ()) + (MIXED, DOCUMENTS)
    return sorted({p for t in wanted for p in by_type.get(t, [])})


def export_parts(
    input_dir: Path, by_type: dict[str, list[Path]], unknown: list[Path]
) -> dict[str, Any]:
    """The export folder as a table's folder of parts (`classify`'s files: by type, and those
    holding no resources), listed again before the night is published: an export file written
    since stops the night (ingest.files.check_no_parts_added), as a part of a canonical
    table's folder does."""
    listed = sorted({str(p) for paths in [*by_type.values(), unknown] for p in paths})
    return {"parts_folder": input_dir, "part_suffixes": SUFFIXES, "parts_listed": tuple(listed)}
