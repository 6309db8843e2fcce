"""A file named by a download's id (`7c0e1f2a-....ndjson`: a Bulk Data client saving each output
URL by its last part) says its resource type only in its lines. When its first lines are of one
type, all its lines are looked at: a dump whose first lines are Patients and whose later lines
are Observations is read for every table. Before, the first five lines decided: the file was
read as Patients only, and its Observations were dropped without a quarantine row or a warning
(exit 0, nobody listed)."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.fhir_generators import (
    listed,
    observation,
    quantity,
    run,
    write_ndjson,
    write_thiazide_orders,
    write_unlisted_condition,
)

from hyposcreen.adapters.fhir_files import line_types

PATIENTS = [f"G{i}" for i in range(1, 7)]  # more than the five first lines a peek reads


def test_a_file_named_by_an_id_is_read_by_all_its_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    export = tmp_path / "export"
    dump = write_ndjson(
        export / "7c0e1f2a-0b1c-4d2e-9f3a-abcdef012345.ndjson",
        [{"resourceType": "Patient", "id": p} for p in PATIENTS]
        + [
            observation(f"o{p}", f"Patient/{p}", "2951-2", "Sodium", "2026-11-20T10:00:00Z",
                        valueQuantity=quantity(126, "mmol/L"))
            for p in PATIENTS
        ],
    )  # fmt: skip
    assert line_types(dump) == {"Patient", "Observation"}
    # beside it, an Observation file named so (G0: sodium 140, no case): before, the run then
    # went on at exit 0 without the dump's Observations
    write_ndjson(
        export / "Observation.ndjson",
        [observation("o0", "Patient/G0", "2951-2", "Sodium", "2026-11-20T10:00:00Z",
                     valueQuantity=quantity(140, "mmol/L"))],
    )  # fmt: skip
    write_thiazide_orders(export, PATIENTS)
    write_unlisted_condition(export, "Patient/G1")
    status, err = run(capsys, export, tmp_path / "out")
    assert status == 0, err
    # each: sodium 126 (mild: 125 < 126 <= 135) with one risk factor (thiazide): routine
    assert listed(tmp_path / "out") == {p: ("3", "126.0", "thiazide_diuretic") for p in PATIENTS}


def test_line_types_reads_lines_that_do_not_start_with_their_type(tmp_path: Path) -> None:
    # a line whose resourceType is not its first key is parsed: its own type counts, not that
    # of a resource it contains; a blank line is none
    path = tmp_path / "x.ndjson"
    path.write_text(
        '{"resourceType": "Observation", "id": "1"}\n'
        '{"id": "2", "contained": [{"resourceType": "Specimen"}], "resourceType": "Condition"}\n'
        "\n"
    )
    assert line_types(path) == {"Observation", "Condition"}
