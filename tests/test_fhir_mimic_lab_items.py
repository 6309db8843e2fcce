"""MIMIC-IV on FHIR lab Observations identified by their MIMIC item id (the code of the
`mimic-d-labitems` system), through the item dictionary `--source mimic` reads
(rules/mimic_labitems.csv). The export may leave an item's display out; before, such a result
was skipped unread (its line held no name the lab dictionary knows), and the hyponatremic
patients of tests/data/fhir/mimic went unlisted. A result without its display now reads exactly
as with it; a LOINC still decides alone (spec §2), and a display other than the item's shipped
label decides as the extract's own label (as for --source mimic)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from hyposcreen.adapters._mimic_labs import shipped_labitems
from hyposcreen.adapters.fhir_labs import ObservationMapper
from hyposcreen.cli import main
from hyposcreen.rules.loader import load_rules, normalize_label

EXPORT = Path(__file__).resolve().parent / "data" / "fhir" / "mimic"
LABS = "MimicObservationLabevents.ndjson"
DAY = "2180-07-23"
ITEMS = "http://mimic.mit.edu/fhir/mimic/CodeSystem/mimic-d-labitems"
OUTPUTS = ("review_list.csv", "evidence.csv", "coverage.csv")


def _screen(export: Path, out: Path) -> dict[str, bytes]:
    status = main(
        ["run", "--no-flow", "--source", "fhir", "--input", str(export), "--out", str(out),
         "--window-start", DAY, "--window-end", "2180-07-24"]
    )  # fmt: skip
    assert status == 0
    # the run id hashes the input files, which differ by the displays
    run_id = json.loads((out / DAY / "run_manifest.json").read_text("utf-8"))["run_id"]
    return {
        name: (out / DAY / name).read_bytes().replace(run_id.encode(), b"RUN") for name in OUTPUTS
    }


def test_lab_results_without_their_display_read_as_with_it(tmp_path: Path) -> None:
    export = tmp_path / "export"
    shutil.copytree(EXPORT, export)
    lines = (export / LABS).read_text("utf-8").splitlines()
    stripped = []
    for line in lines:
        observation = json.loads(line)
        for coding in observation["code"]["coding"]:
            assert coding["system"] == ITEMS
            del coding["display"]
        stripped.append(json.dumps(observation))
    (export / LABS).write_text("\n".join(stripped) + "\n", "utf-8")
    assert _screen(export, tmp_path / "bare") == _screen(EXPORT, tmp_path / "as-published")


def _observation(*codings: dict[str, str]) -> dict[str, object]:
    return {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": list(codings)},
        "subject": {"reference": "Patient/p"},
        "effectiveDateTime": "2180-07-23T05:31:00-04:00",
        "valueQuantity": {"value": 118, "unit": "mEq/L"},
    }


def test_item_ids_name_the_result_in_each_published_system_unless_a_loinc_or_label_decides() -> (
    None
):
    rules = load_rules()
    mapper = ObservationMapper(rules, {})
    # an item reads as its label, which the lab dictionary must name as the item's analyte
    for item, row in shipped_labitems().items():
        assert rules.lab_dictionary.get(normalize_label(row["label"])) == row["analyte"], item
    for system in (
        ITEMS,
        "http://fhir.mimic.mit.edu/CodeSystem/mimic-d-labitems",
        "http://fhir.mimic.mit.edu/CodeSystem/d-labitems/",
    ):
        observation = _observation({"system": system, "code": "52455"})
        assert mapper.needle.search(json.dumps(observation).encode())
        (row,) = mapper.rows(observation)
        assert (row[5], row[6]) == (None, "Sodium, Whole Blood")
    # another code system's 52455 is no MIMIC item
    (row,) = mapper.rows(_observation({"system": "http://example.org/labs", "code": "52455"}))
    assert row[6] == "52455"
    # a LOINC identifies the row alone (spec §2): an unknown one leaves it unnamed by the item
    with_loinc = _observation(
        {"system": ITEMS, "code": "50983"}, {"system": "http://loinc.org", "code": "9999-9"}
    )
    assert mapper.rows(with_loinc)[0][5:7] == ("9999-9", None)
    # the extract's own label decides when it is not the item's shipped one (as --source mimic)
    relabelled = _observation({"system": ITEMS, "code": "50983", "display": "Sodium, Stool"})
    assert mapper.rows(relabelled)[0][6] == "Sodium, Stool"
