"""Benchmark of the FHIR adapter: read the labs table from a generated Bulk Data export.

    python bench/fhir_bench.py                          # 500k Observations (quick)
    python bench/fhir_bench.py --observations 5000000   # the issue's size: 5M Observations
    python bench/fhir_bench.py --gzip                   # the same as .ndjson.gz

The export (written to bench/.data/fhir-<n>[-gz]/, git-ignored, reused when present) looks like
a hospital's: one line per Observation of ~0.8 kB in the shape Synthea and US Core servers
write; most are CBC, other chemistry and vital signs (blood pressure as a panel with
components), ~20 % sodium / potassium / glucose / magnesium / calcium / albumin (LOINC of the
rules), a few with a local code and name only; results spread over 60 days, 1M Observations per
file. The timed part is `hyposcreen.adapters.fhir.read_table(..., "labs", ...)` with the
pipeline's lab row filter (pre-filter, parse, map, canonical batches, time parsing, window),
in a process that did not generate the data, so its peak RSS is the reader's. Prints MB/s of
NDJSON (uncompressed bytes) and peak RSS, and writes bench/results/fhir_bench.json.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PER_FILE = 1_000_000
WINDOW = ("2026-11-14T00:00:00", "2026-11-21T00:00:00")

# (loinc, display, unit, low, high, weight)
RELEVANT = [
    ("2951-2", "Sodium [Moles/volume] in Serum or Plasma", "mmol/L", 118, 148, 8),
    ("2823-3", "Potassium [Moles/volume] in Serum or Plasma", "mmol/L", 2.8, 5.6, 5),
    ("2345-7", "Glucose [Mass/volume] in Serum or Plasma", "mg/dL", 60, 400, 5),
    ("19123-9", "Magnesium [Mass/volume] in Serum or Plasma", "mg/dL", 1.2, 2.6, 1),
    ("17861-6", "Calcium [Mass/volume] in Serum or Plasma", "mg/dL", 7.5, 10.5, 1),
    ("1751-7", "Albumin [Mass/volume] in Serum or Plasma", "g/dL", 2.5, 5.0, 1),
]
OTHER = [
    ("718-7", "Hemoglobin [Mass/volume] in Blood", "g/dL", 8, 17, 8),
    ("4544-3", "Hematocrit [Volume Fraction] of Blood by Automated count", "%", 25, 50, 8),
    ("6690-2", "Leukocytes [#/volume] in Blood by Automated count", "10*3/uL", 3, 15, 8),
    ("789-8", "Erythrocytes [#/volume] in Blood by Automated count", "10*6/uL", 3, 6, 7),
    ("777-3", "Platelets [#/volume] in Blood by Automated count", "10*3/uL", 100, 400, 7),
    ("787-2", "MCV [Entitic volume] by Automated count", "fL", 80, 100, 6),
    ("785-6", "MCH [Entitic mass] by Automated count", "pg", 27, 33, 6),
    ("786-4", "MCHC [Mass/volume] by Automated count", "g/dL", 32, 36, 6),
    ("2075-0", "Chloride [Moles/volume] in Serum or Plasma", "mmol/L", 95, 110, 5),
    ("2028-9", "Carbon dioxide, total [Moles/volume] in Serum or Plasma", "mmol/L", 20, 30, 5),
    ("3094-0", "Urea nitrogen [Mass/volume] in Serum or Plasma", "mg/dL", 5, 40, 5),
    ("2160-0", "Creatinine [Mass/volume] in Serum or Plasma", "mg/dL", 0.5, 3, 5),
    ("8867-4", "Heart rate", "/min", 50, 120, 4),
    ("8310-5", "Body temperature", "Cel", 36, 39.5, 3),
]
LINE = (
    '{"resourceType":"Observation","id":"%s","meta":{"profile":["http://hl7.org/fhir/us/core/'
    'StructureDefinition/us-core-observation-lab"]},"status":"final","category":[{"coding":'
    '[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":'
    '"laboratory","display":"Laboratory"}]}],"code":{"coding":[{"system":"http://loinc.org",'
    '"code":"%s","display":"%s"}],"text":"%s"},"subject":{"reference":"Patient/%s"},'
    '"encounter":{"reference":"Encounter/%s"},"effectiveDateTime":"%s","issued":"%s",'
    '"valueQuantity":{"value":%s,"unit":"%s","system":"http://unitsofmeasure.org","code":"%s"}}\n'
)
LOCAL = (
    '{"resourceType":"Observation","id":"%s","status":"final","code":{"coding":[{"system":'
    '"urn:oid:1.2.3.4.5","code":"NA-SER","display":"Sodium"}],"text":"Sodium"},"subject":'
    '{"reference":"Patient/%s"},"effectiveDateTime":"%s","valueQuantity":{"value":%s,"unit":'
    '"mmol/L"}}\n'
)
PANEL = (
    '{"resourceType":"Observation","id":"%s","status":"final","category":[{"coding":[{"system":'
    '"http://terminology.hl7.org/CodeSystem/observation-category","code":"vital-signs"}]}],'
    '"code":{"coding":[{"system":"http://loinc.org","code":"85354-9","display":"Blood pressure '
    'panel with all children optional"}],"text":"Blood pressure panel"},"subject":{"reference":'
    '"Patient/%s"},"effectiveDateTime":"%s","component":[{"code":{"coding":[{"system":'
    '"http://loinc.org","code":"8480-6","display":"Systolic blood pressure"}]},"valueQuantity":'
    '{"value":%d,"unit":"mm[Hg]","system":"http://unitsofmeasure.org","code":"mm[Hg]"}},{"code":'
    '{"coding":[{"system":"http://loinc.org","code":"8462-4","display":"Diastolic blood '
    'pressure"}]},"valueQuantity":{"value":%d,"unit":"mm[Hg]","system":'
    '"http://unitsofmeasure.org","code":"mm[Hg]"}}]}\n'
)


def generate(out: Path, observations: int, compress: bool, seed: int = 20261121) -> None:
    """Write the export (deterministic for a seed)."""
    rng = random.Random(seed)  # noqa: S311 - synthetic data, not security
    out.mkdir(parents=True, exist_ok=True)
    tests = RELEVANT + OTHER
    weights = [t[5] for t in tests]
    patients = max(1, observations // 40)
    written = 0
    part = 0
    while written < observations:
        count = min(PER_FILE, observations - written)
        name = f"Observation.{part:03d}.ndjson" + (".gz" if compress else "")
        lines = []
        for i in range(written, written + count):
            patient = f"pat-{rng.randrange(patients):07d}"
            minute = rng.randrange(60 * 24 * 60)
            day, rest = divmod(minute, 24 * 60)
            stamp = f"2026-{9 + (day + 22) // 30:02d}-{(day + 22) % 30 + 1:02d}T{rest // 60:02d}:{rest % 60:02d}:00+01:00"  # noqa: E501
            roll = rng.random()
            if roll < 0.01:
                lines.append(LOCAL % (f"obs-{i}", patient, stamp, rng.randint(118, 148)))
            elif roll < 0.06:
                lines.append(
                    PANEL % (f"obs-{i}", patient, stamp, rng.randint(95, 170), rng.randint(55, 100))
                )
            else:
                code, display, unit, low, high, _ = rng.choices(tests, weights)[0]
                value = round(rng.uniform(low, high), 1)
                lines.append(
                    LINE
                    % (f"obs-{i}", code, display, display, patient, f"enc-{patient}-{day // 5}",
                       stamp, stamp, value, unit, unit)
                )  # fmt: skip
        payload = "".join(lines).encode()
        (out / name).write_bytes(gzip.compress(payload, 1) if compress else payload)
        written += count
        part += 1
    (out / ".complete").write_text(str(observations))


def _uncompressed_bytes(folder: Path) -> int:
    total = 0
    for path in sorted(folder.glob("Observation.*")):
        if path.name.endswith(".gz"):
            with gzip.open(path, "rb") as handle:
                while chunk := handle.read(64 << 20):
                    total += len(chunk)
        else:
            total += path.stat().st_size
    return total


def _peak_rss_mb() -> float:
    """This process's peak RSS. VmHWM of /proc (Linux) belongs to the process image since its
    exec; ru_maxrss would also count the parent's memory at fork (the generator's, on a first
    run)."""
    status = Path("/proc/self/status")
    if status.is_file():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def timed_read(folder: Path) -> dict[str, object]:
    """Read the labs table once; runs in its own process (peak RSS is the reader's)."""
    from hyposcreen.adapters.fhir import read_table
    from hyposcreen.clean import lab_row_filter
    from hyposcreen.config import SiteMapping, parse_window
    from hyposcreen.rules.loader import load_rules

    rules = load_rules()
    window = parse_window(*WINDOW)
    started, cpu_started = time.perf_counter(), time.process_time()
    table = read_table(folder, "labs", SiteMapping(), rules, window, lab_row_filter(rules, window))
    seconds = time.perf_counter() - started
    return {
        "seconds": round(seconds, 2),
        "cpu_seconds": round(time.process_time() - cpu_started, 2),
        "rows_in": table.rows_in,
        "rows_kept": len(table.frame),
        "not_relevant": table.not_relevant,
        "source_counts": table.source_counts,
        "peak_rss_mb": _peak_rss_mb(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description="FHIR adapter benchmark (labs from NDJSON).")
    parser.add_argument("--observations", type=int, default=500_000)
    parser.add_argument("--gzip", action="store_true", help="write .ndjson.gz files")
    parser.add_argument("--data", type=Path, default=HERE / ".data")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "fhir_bench.json")
    parser.add_argument("--read-only", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.read_only:
        print(json.dumps(timed_read(args.read_only)))
        return
    folder = args.data / (f"fhir-{args.observations}" + ("-gz" if args.gzip else ""))
    marker = folder / ".complete"
    if not (marker.is_file() and marker.read_text() == str(args.observations)):
        started = time.perf_counter()
        generate(folder, args.observations, args.gzip)
        print(f"generated {folder} in {time.perf_counter() - started:.1f} s")
    ndjson_bytes = _uncompressed_bytes(folder)
    file_bytes = sum(p.stat().st_size for p in folder.glob("Observation.*"))
    done = subprocess.run(
        [sys.executable, __file__, "--read-only", str(folder)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    result = json.loads(done.stdout.strip().splitlines()[-1])
    seconds = float(result["seconds"])
    summary = {
        "observations": args.observations,
        "files": len(list(folder.glob("Observation.*"))),
        "gzip": args.gzip,
        "ndjson_mb": round(ndjson_bytes / 1e6, 1),
        "file_mb": round(file_bytes / 1e6, 1),
        "mb_per_s": round(ndjson_bytes / 1e6 / seconds, 1),
        "mb_per_cpu_s": round(ndjson_bytes / 1e6 / float(result["cpu_seconds"]), 1),
        "observations_per_s": round(args.observations / seconds),
        **result,
        "targets": {"mb_per_s": 40, "peak_rss_mb": 2048},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(summary, indent=2) + "\n")
    print(
        f"{args.observations:,} Observations, {summary['ndjson_mb']} MB NDJSON "
        f"({summary['file_mb']} MB on disk, {summary['files']} files): {seconds:.1f} s, "
        f"{summary['mb_per_s']} MB/s wall ({summary['mb_per_cpu_s']} MB per CPU-second), "
        f"peak RSS {result['peak_rss_mb']} MB, "
        f"{result['rows_kept']:,} lab rows kept -> {args.out}"
    )


if __name__ == "__main__":
    main()
