"""A hostile delivery (patient ids padded with spaces, NBSP, tabs, ideographic spaces or blank;
numeric-looking ids with leading zeros; LOINCs padded, with NUL, tab or full-width digits; lab
names and specimen types differing by case and spaces; labs not in time order across three
nights; medications and diagnoses exactly at a window's end, undated, unparseable or entered in
error) gives the same bytes however it is read: a CSV read in many small batches with a
remembered-answers bound far below its combinations (clean.selector) as in one batch; each
night of a backfill as that night run alone (review list, evidence, quarantine, coverage and
the manifest's reconciliation); `--partitions 3` as in process; the system memory pool as
jemalloc. And the padded ids are one patient, a blank id is quarantined as missing_key.
"""

from __future__ import annotations

import csv
import json
import os
import random
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.csv as pacsv
import pytest

from helpers import run_script
from hyposcreen.clean import selector
from hyposcreen.cli import main
from hyposcreen.ingest import csv_parser
from hyposcreen.rules.lab_identity import identify_rows

NIGHTS = ["2026-11-18", "2026-11-19", "2026-11-20"]
OUTPUTS = ["review_list.csv", "evidence.csv", "quarantine.csv", "coverage.csv"]
PADS = ["{}", " {}", "{} ", "\t{}", "{}\u00a0", "\u3000{}"]
LOINCS = ["2951-2", " 2951-2", "2951-2 ", "2951-2\x00", "２９５１-２", "2951-2\t", "2947-0",
          "2345-7", " 2345-7 ", "2823-3", "", "9999-9", "2955-3"]  # fmt: skip
NAMES = [
    "Sodium",
    "sodium ",
    " SODIUM",
    "Na",
    "Glucose",
    "glucose",
    "Potassium",
    "",
    "Sodium\u00a0",
]
SPECIMENS = ["Serum", "Urine", "urine ", " URINE", "", "Plasma", "CSF", "Blood", "urine\u00a0"]
EDGES = ["2026-11-19T00:00:00", "2026-11-20T00:00:00", "2026-11-21T00:00:00", "",
         "2026-05-01T09:00:00", "2026-11-19T23:59:59", "not a time"]  # fmt: skip
PATIENTS = 60


def _write(path: Path, header: list[str], rows: list[list[str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows([header, *rows])


def _id(patient: int, pad: int) -> str:
    return PADS[pad].format(f"{patient:05d}")


def hostile_delivery(folder: Path, labs: int = 2500, seed: int = 11) -> Path:
    """The delivery described in the module's docstring (deterministic for a seed)."""
    rnd = random.Random(seed)  # noqa: S311 - test rows, not a secret
    folder.mkdir(parents=True)
    rows = []
    for n in range(labs):
        patient = rnd.randrange(PATIENTS)
        time = f"{rnd.choice(NIGHTS)}T{rnd.randrange(24):02d}:{rnd.randrange(60):02d}:00"
        loinc, name = rnd.choice(LOINCS), rnd.choice(NAMES)
        if "2345" in loinc or name.strip().lower() == "glucose":
            value, unit = rnd.choice(["90", "400", "650"]), "mg/dL"
        else:
            value, unit = rnd.choice(["118", "124", "128", "131", "138"]), "mmol/L"
        ident = _id(patient, rnd.randrange(len(PADS)) if patient % 3 == 0 else 0)
        if n % 97 == 0:
            ident = rnd.choice(["", "  ", "\t", "\u00a0"])
        status = rnd.choice(["final", "final", "entered in error", "corrected", "preliminary"])
        time = "" if n % 89 == 0 else time
        specimen = rnd.choice(SPECIMENS)
        rows.append([ident, f"E{patient}", f"S{n}", time, time, loinc, name, value, unit,
                     status, specimen])  # fmt: skip
    rnd.shuffle(rows)  # not in time order: a night's labs are not consecutive rows
    _write(
        folder / "labs.csv",
        ["patient_id", "encounter_id", "specimen_id", "specimen_time", "result_time", "loinc",
         "lab_name", "value_raw", "unit", "status", "specimen_type"],
        rows,
    )  # fmt: skip
    meds, dx = [], []
    for patient in range(PATIENTS):
        for k in range(rnd.randrange(4)):
            meds.append([_id(patient, (patient + k) % len(PADS)), f"E{patient}",
                         rnd.choice(["Furosemide 40mg tab", "Hydrochlorothiazide 25 mg",
                                     "FUROSEMIDE ", "Paracetamol", "Desmopressin 0.1 mg"]),
                         "", "", rnd.choice(EDGES),
                         rnd.choice(["", "2026-11-19T00:00:00", "2026-11-01T00:00:00"]),
                         rnd.choice(["active", "entered-in-error", "Entered in Error",
                                     "stopped", ""]), "oral"])  # fmt: skip
        for k in range(rnd.randrange(3)):
            dx.append([_id(patient, (patient + 2 * k) % len(PADS)), f"E{patient}",
                       rnd.choice(["N18.3", " I50.9", "E87.1 ", "K70.3", "Z00.0"]), "ICD-10-CM",
                       rnd.choice(EDGES), rnd.choice(["active", "entered-in-error", "refuted", ""]),
                       "x"])  # fmt: skip
    _write(
        folder / "medications.csv",
        ["patient_id", "encounter_id", "drug_name", "rxnorm", "atc", "start_time", "end_time",
         "status", "route"],
        meds,
    )  # fmt: skip
    _write(
        folder / "diagnoses.csv",
        ["patient_id", "encounter_id", "code", "code_system", "recorded_time", "status",
         "description"],
        dx,
    )  # fmt: skip
    _write(
        folder / "patients.csv",
        ["patient_id", "mrn", "name", "birth_date", "sex", "unit"],
        [
            [_id(p, p % 2), f"MRN{p}", f"Test {p}", "1950-01-01", "F", "ICU"]
            for p in range(PATIENTS)
        ],
    )
    return folder


def _run(extract: Path, out: Path, *extra: str) -> None:
    # exit 4: one medication start in seven is "not a time", which the night reports
    # (quarantine_warnings: unreadable_times) besides quarantining the rows
    assert main(["run", "--no-flow", "--input", str(extract), "--out", str(out), *extra]) == 4


def _backfill(extract: Path, out: Path, *extra: str) -> Path:
    _run(extract, out, "--backfill", NIGHTS[0], NIGHTS[-1], *extra)
    return out


def _reconciliation(folder: Path) -> tuple[Any, Any]:
    manifest = json.loads((folder / "run_manifest.json").read_text())
    return manifest["reconciliation"], manifest["reconciled"]


def assert_same_nights(left: Path, right: Path) -> None:
    for night in NIGHTS:
        for name in OUTPUTS:
            got, want = (left / night / name).read_bytes(), (right / night / name).read_bytes()
            assert got == want, f"{night} {name}"
        assert _reconciliation(left / night) == _reconciliation(right / night), night


@pytest.fixture(scope="module")
def delivery(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The hostile delivery and its backfill read in one batch, every lab row judged by the
    rules without remembered answers (the reference the other reads must give)."""
    root = tmp_path_factory.mktemp("hostile")
    extract = hostile_delivery(root / "in")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            selector, "identify_known", lambda frame, rules, _: identify_rows(frame, rules)
        )
        return extract, _backfill(extract, root / "whole")


def test_the_hostile_delivery_has_cases_one_patient_per_padded_id_and_blank_ids_quarantined(
    delivery: tuple[Path, Path],
) -> None:
    """The inputs are as hostile as meant and still screened: cases listed, no listed or
    quarantined id with spaces around it, blank ids quarantined as missing_key, and the
    manifest reconciles."""
    _, whole = delivery
    for night in NIGHTS:
        with (whole / night / "review_list.csv").open(encoding="utf-8", newline="") as handle:
            listed = [row["patient_id"] for row in csv.DictReader(handle)]
        assert listed and len(listed) == len(set(listed)), night  # one row per patient
        assert all(i == i.strip() and i.isdigit() and len(i) == 5 for i in listed), night
        with (whole / night / "quarantine.csv").open(encoding="utf-8", newline="") as handle:
            quarantined = list(csv.DictReader(handle))
        blank = [r for r in quarantined if r["table"] == "labs" and not r["patient_id"]]
        assert blank and all(r["reason"] == "missing_key" for r in blank), night
        assert all(r["patient_id"] == r["patient_id"].strip() for r in quarantined), night
        assert _reconciliation(whole / night)[1] is True, night


def test_many_small_batches_and_a_tiny_answer_bound_read_as_one_batch(
    delivery: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The labs CSV read in 32 KiB blocks (the same (LOINC, lab name, specimen type)
    combinations in many batches), the selector's remembered answers forgotten every few
    combinations: every night's outputs the bytes of the one-batch read."""
    extract, whole = delivery
    options = pacsv.ReadOptions
    monkeypatch.setattr(
        csv_parser.pacsv, "ReadOptions", lambda **kw: options(**{**kw, "block_size": 32 << 10})
    )
    monkeypatch.setattr(selector, "KNOWN_COMBINATIONS", 7)
    selected = []
    select = selector.select_known_analytes

    def counted(frame: pd.DataFrame, *args: Any) -> Any:
        selected.append(len(frame))
        return select(frame, *args)

    monkeypatch.setattr(selector, "select_known_analytes", counted)
    assert_same_nights(_backfill(extract, tmp_path / "batched"), whole)
    assert len(selected) >= 5 and sum(selected) > 1000  # many batches of labs judged


def test_each_backfill_night_is_that_night_run_alone(
    delivery: tuple[Path, Path], tmp_path: Path
) -> None:
    """Medications and diagnoses at a window's end, undated or entered in error, and labs not
    in time order: each night of the backfill has the bytes of that night run alone."""
    extract, whole = delivery
    for night, following in zip(NIGHTS, [*NIGHTS[1:], "2026-11-21"]):
        _run(extract, tmp_path / "alone", "--window-start", night, "--window-end", following)
    assert_same_nights(whole, tmp_path / "alone")


def test_three_partitions_give_the_bytes_of_one(
    delivery: tuple[Path, Path], tmp_path: Path
) -> None:
    """Spilled by patient hash into three partitions (padded ids of one patient together):
    the same bytes as in process."""
    extract, whole = delivery
    assert_same_nights(_backfill(extract, tmp_path / "parts", "--partitions", "3"), whole)


def test_the_system_memory_pool_gives_the_bytes_of_jemalloc(
    delivery: tuple[Path, Path], tmp_path: Path
) -> None:
    """A fresh process with ARROW_DEFAULT_MEMORY_POOL=system (the pool is chosen on import):
    the same bytes as this process's run."""
    extract, whole = delivery
    out = tmp_path / "system"
    env = {**os.environ, "ARROW_DEFAULT_MEMORY_POOL": "system"}
    script = (
        "import pyarrow as pa, sys\n"
        "from hyposcreen.cli import main\n"
        f"code = main(['run', '--no-flow', '--input', {str(extract)!r}, '--out', {str(out)!r},"
        f" '--backfill', {NIGHTS[0]!r}, {NIGHTS[-1]!r}])\n"
        "print(pa.default_memory_pool().backend_name)\n"
        "sys.exit(code)\n"
    )
    done = run_script(script, env=env)
    assert done.returncode == 4, done.stderr[-2000:]  # the unreadable starts, as above
    assert done.stdout.strip().splitlines()[-1] == "system"
    assert_same_nights(out, whole)
