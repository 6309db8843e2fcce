"""The differential checks of the spec fuzz extracts: a review list against the spec oracle
(spec_fuzz_oracle), and the canonical run's review list against the run of the same extract
written as a FHIR export (spec_fuzz_fhir) or as a MIMIC-IV delivery (spec_fuzz_mimic), patient
by patient and column by column.

    PYTHONPATH=src:tests .venv/bin/python tests/spec_fuzz_compare.py 1 60 20 [SHAPE ...]

screens seeds 1..60 (20 patients each) as canonical CSV and as a FHIR export in each shape
(bulk synthea vendor pages: all by default) and prints every difference; the funnel of the
manifest's attrition table is compared as the patient `(attrition)`. The shape `mimic` screens
each extract, cut to what MIMIC-IV can express, as canonical CSV and as a MIMIC-IV hosp
delivery instead (compare_mimic).
"""

from __future__ import annotations

import csv
import json
import os
import sys
import tempfile
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pandas as pd

from hyposcreen.cli import main
from spec_fuzz_fhir import write_fhir
from spec_fuzz_generate import write_extract
from spec_fuzz_mimic import write_mimic
from spec_fuzz_oracle import screen

# columns that say how the source wrote a fact (drug names and codes as written, the input's
# hash), not what the screen found
NOT_COMPARED = ("evidence", "run_id")
SUMMARIES = ("(attrition)", "(rows)")  # the manifest's counts, compared as pseudo-patients


def disagreements(expected: dict, listed: dict) -> list[tuple]:
    """(patient, field, oracle, project) for every difference; [] when the lists agree."""
    out = []
    for pid in sorted(set(expected) | set(listed)):
        want, got = expected.get(pid), listed.get(pid)
        if want is None or got is None:
            out.append((pid, "listed", want is not None, got is not None))
            continue
        shown = pd.Timestamp(got["index_time"])  # site-local; an offset on a doubled wall time
        if shown.tzinfo is None:
            shown = shown.tz_localize(got["time_zone"])
        fields = {
            "tier": (str(want["tier"]), got["tier"]),
            "severity": (want["severity"], got["severity"]),
            "corrected_sodium": (want["corrected"], got["corrected_sodium"]),
            "risk_factors": (want["risk_factors"], got["risk_factors"]),
            "overcorrection": (str(want["overcorrection"]).lower(), got["overcorrection"]),
            "delta_48h": (want["delta_48h"] or "", got["delta_48h"]),
            "latest_sodium": (want["latest_sodium"], got["latest_sodium"]),
            "spurious_index": (
                want["spurious_index"],
                "index" in got["possibly_spurious"].split(";"),
            ),
            "index_time": (want["index_time"], shown),
            "n_low_results": (str(want["n_low_results"]), got["n_low_results"]),
            "correction_risk": (str(want["correction_risk"]).lower(), got["correction_risk"]),
            "missing_workup": (want["missing_workup"], got["missing_workup"]),
        }
        out += [(pid, name, a, b) for name, (a, b) in fields.items() if a != b]
    return out


def review(folder: Path, out: Path, settings: dict, source: str = "canonical") -> tuple:
    """(exit status, {patient_id: review row}) of the real CLI on one extract."""
    argv = [
        "run",
        "--no-flow",
        "--input",
        str(folder),
        "--out",
        str(out),
        "--source",
        source,
        "--window-start",
        settings["window_start"],
        "--profile",
        settings["profile"],
        "--glucose-factor",
        settings["factor"],
    ]
    if settings["mapping"]:
        argv += ["--mapping", str(settings["mapping"])]
    status = main(argv)
    listed: dict[str, dict] = {}
    for path in out.glob("*/review_list.csv"):
        with path.open(newline="") as handle:
            listed = {row["patient_id"]: row for row in csv.DictReader(handle)}
        manifest = json.loads((path.parent / "run_manifest.json").read_text())
        # the funnel from sodium results to listed patients, as the patient "(attrition)"
        listed["(attrition)"] = {s["step"]: str(s["count"]) for s in manifest["attrition"]}
        listed["(attrition)"]["patient_id"] = "(attrition)"
        # rows used, duplicate and quarantined (by reason) of each table: what was read
        counts = {"patient_id": "(rows)"}
        for table in ("labs", "medications", "diagnoses"):
            found = manifest["reconciliation"][table]
            counts |= {f"{table}.{k}": str(found[k]) for k in ("used", "duplicate")}
            for reason, n in found["reasons"].get("quarantined", {}).items():
                counts[f"{table}.quarantined.{reason}"] = str(n)
        listed["(rows)"] = counts
    return status, listed


def list_differences(canonical: dict, fhir: dict, ids: dict[str, str]) -> list[tuple]:
    """(patient, column, canonical, FHIR) for every difference between the two review lists
    (FHIR patient ids read back as the canonical ones)."""
    # a tie of tier, sodium and time is ranked by patient id: ids that sort otherwise
    # (Synthea's uuids) may rank it otherwise
    reordered = [ids[k] for k in sorted(ids)] != sorted(ids.values())
    skipped = (*NOT_COMPARED, "rank") if reordered else NOT_COMPARED
    fhir = {ids.get(pid, pid): row for pid, row in fhir.items()}
    out = []
    for pid in sorted(set(canonical) | set(fhir)):
        want, got = canonical.get(pid), fhir.get(pid)
        if want is None or got is None:
            out.append((pid, "listed", want is not None, got is not None))
            continue
        got = dict(got, patient_id=pid)
        out += [
            (pid, column, want.get(column), got.get(column))
            for column in dict.fromkeys([*want, *got])
            if column not in skipped and want.get(column) != got.get(column)
        ]
    return out


def compare(seed: int, shapes: list[str], work: Path, patients: int | None = None, **fixed) -> dict:
    """Screen one generated extract as canonical CSV and as a FHIR export of each shape; the
    differences between the lists and of each against the oracle (keys `canonical_vs_oracle`,
    and per shape `<shape>_vs_canonical`, `<shape>_vs_oracle`, `<shape>_status`); an exit status
    other than the canonical run's is the difference `("(run)", "exit", canonical, FHIR)`."""
    settings = write_extract(work, seed, patients, **fixed)
    status, canonical = review(work / "input", work / "out_canonical", settings)
    expected = screen(
        work / "input",
        settings["window_start"],
        settings["tz"],
        settings["profile"],
        settings["factor"],
    )
    found = {"settings": settings, "expected": expected, "canonical_status": status}
    summaries = {key: canonical.pop(key) for key in SUMMARIES}
    found["canonical_vs_oracle"] = disagreements(expected, canonical)
    canonical |= summaries
    for shape in shapes:
        ids = write_fhir(work / "input", work / shape, shape, settings["tz"], seed)
        status, fhir = review(work / shape, work / f"out_{shape}", settings, "fhir")
        found[f"{shape}_status"] = status
        found[f"{shape}_vs_canonical"] = list_differences(canonical, fhir, ids)
        if status != found["canonical_status"]:  # 0 or 4: the same warnings or none
            found[f"{shape}_vs_canonical"].append(
                ("(run)", "exit", found["canonical_status"], status)
            )
        for key in SUMMARIES:
            fhir.pop(key, None)
        by_canonical_id = {ids.get(pid, pid): row for pid, row in fhir.items()}
        found[f"{shape}_vs_oracle"] = disagreements(expected, by_canonical_id)
    return found


def compare_mimic(seed: int, work: Path, patients: int | None = None, **fixed: str) -> dict:
    """Screen one generated extract, cut to what MIMIC-IV expresses, as canonical CSV and as a
    MIMIC-IV delivery: the differences between the two lists (`mimic_vs_canonical`; an exit
    status other than the canonical run's is `("(run)", "exit", canonical, MIMIC)`), and of
    each against the spec oracle (`canonical_vs_oracle`, `mimic_vs_oracle`)."""
    settings = write_extract(work, seed, patients, **fixed)
    ids = write_mimic(work / "input", work / "kept", work / "mimic", settings["tz"], seed)
    status, canonical = review(work / "kept", work / "out_canonical", settings)
    args = [settings[k] for k in ("window_start", "tz", "profile", "factor")]
    expected = screen(work / "kept", *args)
    found = {"settings": settings, "expected": expected, "canonical_status": status}
    summaries = {key: canonical.pop(key) for key in SUMMARIES}
    found["canonical_vs_oracle"] = disagreements(expected, canonical)
    canonical |= summaries
    found["mimic_status"], mimic = review(work / "mimic", work / "out_mimic", settings, "mimic")
    found["mimic_vs_canonical"] = list_differences(canonical, mimic, ids)
    if found["mimic_status"] != status:
        found["mimic_vs_canonical"].append(("(run)", "exit", status, found["mimic_status"]))
    for key in SUMMARIES:
        mimic.pop(key, None)
    found["mimic_vs_oracle"] = disagreements(expected, {ids.get(p, p): r for p, r in mimic.items()})
    return found


def _compared(seed: int, shapes: list[str], patients: int) -> list[tuple[dict, list[str]]]:
    """(result, its keys of differences) of the FHIR shapes' comparison and of the MIMIC one."""
    fhir = [s for s in shapes if s != "mimic"]
    out = []
    with tempfile.TemporaryDirectory() as work, open(os.devnull, "w") as quiet:
        with redirect_stdout(quiet), redirect_stderr(quiet):
            if fhir:
                result = compare(seed, fhir, Path(work) / "fhir", patients)
                keys = [f"{s}_vs_{o}" for s in fhir for o in ("canonical", "oracle")]
                out.append((result, ["canonical_vs_oracle", *keys]))
            if "mimic" in shapes:
                result = compare_mimic(seed, Path(work) / "mimic", patients)
                keys = ["canonical_vs_oracle", "mimic_vs_canonical", "mimic_vs_oracle"]
                out.append((result, keys))
    return out


def _main(first: int, last: int, patients: int, shapes: list[str]) -> int:
    os.environ.pop("HYPOSCREEN_STATE_DIR", None)
    found = compared = listed = 0
    for seed in range(first, last + 1):
        for result, keys in _compared(seed, shapes, patients):
            compared += patients
            listed += len(result["expected"])
            for key in keys:
                for difference in result[key]:
                    found += 1
                    print(seed, key, *difference, sep="\t", flush=True)
    print(
        f"seeds {first}..{last}, {patients} patients each, shapes {shapes}: "
        f"{compared} patients, {listed} listed by the oracle, {found} differences"
    )
    return 1 if found else 0


if __name__ == "__main__":
    shapes = sys.argv[4:] or ["bulk", "synthea", "vendor", "pages"]
    sys.exit(_main(int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), shapes))
