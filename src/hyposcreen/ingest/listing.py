"""The files under an input folder as the readers list them: what the publish check lists again
(ingest.files.check_no_parts_added) and what a FHIR export is classified from
(adapters.fhir_files.classify), so that both see the same files.

Not listed: bookkeeping (a name starting with '.' or '_', ingest.files.is_bookkeeping), whose
folders are not entered at all (a run's `.<date>.partial-<pid>` staging folder may be renamed
or removed while it is listed); a folder hyposcreen wrote a run's outputs into (it holds one of
`OUTPUT_MARKERS`), for an `--out` inside the input folder holds the earlier nights' outputs,
and a loop's night publishes its folder while the next night reads; the files a symbolic link
to a folder holds (never followed) and a link that leads to no file.
"""

from __future__ import annotations

import os
from pathlib import Path

BOOKKEEPING = ("_", ".")
# the files a window's (or an audit's) output folder always holds once it is in place:
# report.manifest's run_manifest.json, failures.FAILED_FILE, audit's audit_manifest.json
OUTPUT_MARKERS = frozenset({"run_manifest.json", "FAILED.json", "audit_manifest.json"})


def listed_files(folder: Path) -> list[Path]:
    """The files under `folder` (module docstring), in name order; a subfolder removed while
    it is listed holds none."""
    found: list[Path] = []
    for top, folders, files in os.walk(folder):
        here = Path(top)
        if here != folder and not OUTPUT_MARKERS.isdisjoint(files):
            folders.clear()  # hyposcreen's own outputs: no part of the input
            continue
        folders[:] = [name for name in folders if not name.startswith(BOOKKEEPING)]
        found += [
            here / name
            for name in files
            if not name.startswith(BOOKKEEPING) and (here / name).is_file()
        ]
    return sorted(found)
