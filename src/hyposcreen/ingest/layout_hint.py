"""Which other source's layout a folder given as a canonical extract looks like (MIMIC-IV's
labevents, OMOP's measurement, FHIR's NDJSON or Bundles), for the error that says a canonical
table is missing."""

from __future__ import annotations

from pathlib import Path

from hyposcreen.ingest.linescan import open_bytes

# names that tell another source's layout: (first words of a file or folder name, the source)
_LAYOUT_NAMES = (("labevents", "mimic"), ("measurement", "omop"))
_FHIR_SUFFIXES = (".ndjson", ".ndjson.gz", ".json", ".json.gz")


def layout_hint(input_dir: Path) -> str:
    """A sentence for the error that says a canonical table is missing when the folder looks
    like an extract of another source (MIMIC-IV's labevents, OMOP's measurement, FHIR's
    NDJSON or Bundles): which `--source` reads it. Empty when nothing suggests one."""
    folders = [input_dir, input_dir / "hosp"]
    paths = [p for f in folders if f.is_dir() for p in sorted(f.iterdir())]
    names = [p.name.lower() for p in paths]
    for start, source in _LAYOUT_NAMES:
        if any(name.startswith(start) for name in names):
            return f" It looks like a {_SOURCE_NAMES[source]} extract: add --source {source}."
    if any(p.name.lower().endswith(_FHIR_SUFFIXES) and _holds_fhir(p) for p in paths):
        return f" It looks like a {_SOURCE_NAMES['fhir']} export: add --source fhir."
    return ""


def _holds_fhir(path: Path) -> bool:
    """Whether a JSON file's first bytes name a FHIR resource (`"resourceType"`): a JSON file
    beside a canonical extract (the sender's manifest.json, a schema) is no FHIR export."""
    try:
        with open_bytes(path) as stream:
            return _RESOURCE_TYPE in stream.read(_FHIR_PEEK)
    except (OSError, EOFError):  # a folder, an unreadable or damaged file: no hint from it
        return False


_RESOURCE_TYPE = b'"resourceType"'
_FHIR_PEEK = 1 << 16  # a Bundle's or resource's first key, also pretty-printed


_SOURCE_NAMES = {"mimic": "MIMIC-IV", "omop": "OMOP CDM", "fhir": "FHIR"}
