"""`--source omop` deliveries whose vocabulary does not cover their events (omop_vocabulary_gaps):
an event naming a concept id the delivered concept table lacks, with nothing else telling it,
is set aside while the list looks complete; a concept table of a header alone, or with rows
that do not split into its columns, is no vocabulary read whole. Each warns (exit 4), counts
and `file:row` only."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sample_data import to_omop

from hyposcreen.adapters._omop_concept_ids import HeldConcepts, id_numbers
from hyposcreen.cli import main
from omop_extract import extract, measurement, write

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data" / "canonical"
ABSENT = "40653596"  # a concept id neither the sample's concept table nor the shipped map holds


def _run(root: Path, out: Path) -> tuple[int, dict]:
    status = main(
        ["run", "--no-flow", "--source", "omop", "--input", str(root), "--out", str(out),
         "--window-start", "2026-11-20", "--window-end", "2026-11-21"]
    )  # fmt: skip
    return status, json.loads((out / "2026-11-20" / "run_manifest.json").read_text("utf-8"))


def _warnings(manifest: dict) -> dict[str, str]:
    return {w["code"]: w["message"] for w in manifest["warnings"]}


def _sample(root: Path, *, blank_source_values: bool) -> Path:
    """The sample as OMOP tables with its serum sodium concept (3019550, 120 of the 170
    measurement rows) renumbered to an id the vocabulary lacks."""
    to_omop.convert(root, SAMPLE)
    path = root / "measurement.csv"
    rows = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)
    rows.loc[rows["measurement_concept_id"] == "3019550", "measurement_concept_id"] = ABSENT
    if blank_source_values:
        rows["measurement_source_value"] = ""
    rows.to_csv(path, sep="\t", index=False)
    return root


def test_sodiums_under_a_concept_id_the_vocabulary_lacks_warn(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Blank source values: the 120 sodium rows tell no test (no_lab_identifier), so 33 of the
    sample's 35 cases are off the list. Before, that passed as a clean night (exit 0); now it
    warns, counting the rows (all 120 in the night's read: none lies over a day from it) and
    naming the first three by file:row (rows 2-4 of measurement.csv are sodiums), no id."""
    status, manifest = _run(_sample(tmp_path / "omop", blank_source_values=True), tmp_path / "o")
    err = capsys.readouterr().err
    assert status == 4, err
    assert manifest["listed"] == 2
    assert manifest["reconciled"] is True
    counts = manifest["source_counts"]["labs"]["measurement"]
    assert (counts["not_in_vocabulary"], counts["not_in_vocabulary_untold"]) == (120, 120)
    message = _warnings(manifest)["concepts_not_in_vocabulary"]
    assert "measurement 120 row(s) whose test or unit nothing else tells, of the 120" in message
    assert "(e.g. measurement.csv:2, measurement.csv:3, measurement.csv:4)" in message
    assert ABSENT not in message and ABSENT not in err


def test_rows_their_source_values_tell_are_counted_without_a_warning(tmp_path: Path) -> None:
    """The same rows with `measurement_source_value` 2951-2 are read by that LOINC: the 35
    cases are listed, the night is clean, the manifest counts the 120 rows (0 untold)."""
    status, manifest = _run(_sample(tmp_path / "omop", blank_source_values=False), tmp_path / "o")
    assert status == 0, manifest["warnings"]
    assert manifest["listed"] == 35
    counts = manifest["source_counts"]["labs"]["measurement"]
    assert (counts["not_in_vocabulary"], counts["not_in_vocabulary_untold"]) == (120, 0)


def _named_by_concepts(root: Path) -> Path:
    """Twelve patients, each Na 128 on 2026-11-20, an HCTZ tablet (drug concept 40164929) and
    heart failure (SNOMED concept 319835), both named by concept id only; two of the drug rows
    name a drug concept the vocabulary lacks, as do three of the condition rows."""
    people = [str(p) for p in range(1, 13)]
    extract(
        root / "cdm",
        labs=[measurement(measurement_id=p, person_id=p) for p in people],
        drugs=[{"person_id": p, "drug_concept_id": ABSENT if p in ("3", "9") else "40164929",
                "drug_source_value": "", "drug_exposure_start_date": "2026-10-01"}
               for p in people],
        conditions=[{"person_id": p, "condition_source_value": "",
                     "condition_concept_id": ABSENT if int(p) > 9 else "319835",
                     "condition_source_concept_id": "0", "condition_start_date": "2025-01-01"}
                    for p in people],
    )  # fmt: skip
    return root


def _concepts(root: Path, rows: list[tuple[str, ...]]) -> Path:
    header = ("concept_id", "concept_name", "vocabulary_id", "concept_class_id", "concept_code")
    return write(root / "vocab", "concept", [dict(zip(header, r, strict=True)) for r in rows])


VOCABULARY = [
    ("974166", "hydrochlorothiazide", "RxNorm", "Ingredient", "5487"),
    ("40164929", "hydrochlorothiazide 25 MG Oral Tablet", "RxNorm", "Clinical Drug", "310798"),
    ("319835", "Congestive heart failure", "SNOMED", "Clinical Finding", "42343007"),
]


def test_drug_and_condition_rows_under_concepts_the_vocabulary_lacks_warn(
    tmp_path: Path,
) -> None:
    """2 of 12 drug rows (17 %, under the 50 % share unidentified_medications judges) and 3
    of 12 condition rows (not judged at all with a concept table) name nothing else: drug
    rows 4 and 10 (persons 3, 9; header = 1) and condition rows 11-13 (persons 10-12)."""
    root = _named_by_concepts(tmp_path / "x")
    _concepts(root, VOCABULARY)
    status, manifest = _run(root, tmp_path / "o")
    assert status == 4
    message = _warnings(manifest)["concepts_not_in_vocabulary"]
    assert "drug_exposure 2 row(s) whose drug nothing else tells, of the 2" in message
    assert "(e.g. drug_exposure.csv:4, drug_exposure.csv:10)" in message
    assert "condition_occurrence 3 row(s) whose condition nothing else tells, of the 3" in message
    assert "condition_occurrence.csv:11, condition_occurrence.csv:12, " in message
    assert "measurement" not in message.split(". The vocabulary")[0]
    assert manifest["reconciled"] is True


def test_a_concept_table_of_a_header_alone_is_read_as_absent_and_warns(tmp_path: Path) -> None:
    """Before, a header-only concept table gave no warning of its own and, taken for a
    vocabulary, stopped the condition rows from being judged: 12 of 12 condition rows naming
    no code read passed silently. Now it is read as no concept table: its own warning, and
    the conditions judged as without one."""
    root = _named_by_concepts(tmp_path / "x")
    _concepts(root, [])
    (root / "vocab" / "concept.csv").write_text(
        "concept_id\tconcept_name\tvocabulary_id\tconcept_class_id\tconcept_code\n"
    )
    status, manifest = _run(root, tmp_path / "o")
    assert status == 4
    found = _warnings(manifest)
    assert found["empty_vocabulary_table"].startswith(
        "The extract's concept table(s) hold no row (a header alone): read as absent"
    )
    assert "12 of 12 condition_occurrence row(s)" in found["unidentified_diagnoses"]
    # the table was delivered: the message says it holds no row (before: "holds no concept
    # table", which sent the reader looking for a file that is there)
    assert "(the extract's concept table holds no row)" in found["unidentified_diagnoses"]
    assert "holds no concept table" not in found["unidentified_diagnoses"]
    assert "concepts_not_in_vocabulary" not in found


def test_rows_of_an_athena_concept_file_that_do_not_split_warn(tmp_path: Path) -> None:
    """An Athena CONCEPT.csv (tab-separated, no quoting) whose line 3 has a tab too many and
    whose line 5 a name opening with a stray quote: before, line 3 was skipped without a word
    (and its drug concept then unknown). Now it warns with its place; the stray quote is read
    as part of the name (it swallows no line), so 4 of the 5 concepts are read."""
    root = _named_by_concepts(tmp_path / "x")
    header = "concept_id\tconcept_name\tvocabulary_id\tconcept_class_id\tconcept_code\n"
    lines = [
        "974166\thydrochlorothiazide\tRxNorm\tIngredient\t5487\n",
        "40164929\thydrochlorothiazide 25 MG Oral Tablet\tRxNorm\tClinical Drug\t310798\textra\n",
        "319835\tCongestive heart failure\tSNOMED\tClinical Finding\t42343007\n",
        '8507\t"MALE\tGender\tGender\tM\n',
        "8532\tFEMALE\tGender\tGender\tF\n",
    ]
    (root / "vocab").mkdir()
    (root / "vocab" / "CONCEPT.csv").write_text(header + "".join(lines))
    status, manifest = _run(root, tmp_path / "o")
    assert status == 4
    counts = manifest["source_counts"]["labs"]["concept"]
    assert (counts["read"], counts["unsplit"]) == (5, 1)
    found = _warnings(manifest)
    assert (
        "concept 1 of 5 row(s) do not split into the header's columns, a tab too many or too "
        "few (e.g. CONCEPT.csv:3)" in found["vocabulary_rows_unsplit"]
    )
    # the 10 drug rows under the skipped concept 40164929 now name an unknown concept
    assert "drug_exposure 12 row(s) whose drug" in found["concepts_not_in_vocabulary"]


def test_a_stray_quote_in_a_comma_separated_concept_file_that_swallows_rows_warns(
    tmp_path: Path,
) -> None:
    """A quoted (comma-separated) concept.csv whose line 3 opens a quote that line 5 closes:
    one record of five fields holding lines 3-5. Before, the rows of lines 4 and 5 (the heart
    failure and MALE concepts) vanished without a word: 3 rows read. Now that record is not
    used and warns with its place; the 3 condition rows under 319835 name an absent concept."""
    root = _named_by_concepts(tmp_path / "x")
    lines = [
        "concept_id,concept_name,vocabulary_id,concept_class_id,concept_code\n",
        "974166,hydrochlorothiazide,RxNorm,Ingredient,5487\n",
        '40164929,"hctz 25 MG Oral Tablet,RxNorm,Clinical Drug,310798\n',
        "319835,Congestive heart failure,SNOMED,Clinical Finding,42343007\n",
        '8507,MALE",Gender,Gender,M\n',
        "8532,FEMALE,Gender,Gender,F\n",
    ]
    (root / "vocab").mkdir()
    (root / "vocab" / "concept.csv").write_text("".join(lines))
    status, manifest = _run(root, tmp_path / "o")
    assert status == 4
    counts = manifest["source_counts"]["labs"]["concept"]
    assert (counts["read"], counts["run_on"], counts["run_on_line_ends"]) == (3, 1, 2)
    found = _warnings(manifest)
    assert (
        "concept 1 row(s) hold a field running on over 2 line end(s), a stray double quote that "
        "swallowed the rows on those lines (e.g. concept.csv:3)"
    ) in found["vocabulary_rows_unsplit"]
    # every drug row names 40164929 (its record not used) or the absent id; 9 condition rows
    # name the swallowed 319835, 3 the absent id
    message = found["concepts_not_in_vocabulary"]
    assert "drug_exposure 12 row(s)" in message
    assert "condition_occurrence 12 row(s)" in message


def test_a_header_line_repeated_in_a_comma_separated_concept_file_is_no_unsplit_row(
    tmp_path: Path,
) -> None:
    """A concept.csv joined from two parts (`cat part1 part2`): the second part's header at
    line 3 holds no concept. Before, it counted as a row that did not split and warned
    vocabulary_rows_unsplit; now it is set aside as the repeated header it is (the three
    absent drug and condition concepts still warn)."""
    root = _named_by_concepts(tmp_path / "x")
    header = "concept_id,concept_name,vocabulary_id,concept_class_id,concept_code\n"
    first = "974166,hydrochlorothiazide,RxNorm,Ingredient,5487\n"
    rest = [
        "40164929,hydrochlorothiazide 25 MG Oral Tablet,RxNorm,Clinical Drug,310798\n",
        "319835,Congestive heart failure,SNOMED,Clinical Finding,42343007\n",
    ]
    (root / "vocab").mkdir()
    (root / "vocab" / "concept.csv").write_text(header + first + header + "".join(rest))
    status, manifest = _run(root, tmp_path / "o")
    assert status == 4
    found = _warnings(manifest)
    assert "vocabulary_rows_unsplit" not in found
    assert "unsplit" not in manifest["source_counts"]["labs"]["concept"]
    assert "drug_exposure 2 row(s) whose drug" in found["concepts_not_in_vocabulary"]


def test_each_event_id_is_judged_once_against_every_concept_id() -> None:
    """Concept table ids 1, 2, 3 and the shipped 8753: of the events' 2, 5, blank, 0, 8753, 5
    only 5 is absent (0 and blank name no concept); a later batch's 5, 7 and x (no number,
    no concept) are absent, and only 7 and x are new to the anti-join."""
    held = HeldConcepts.of([id_numbers(pa.array(["1", "2", "3"]))], pd.Series(["8753"]))
    first = held.absent_rows(pa.array(["2", "5", None, "0", "8753", "5"]))
    assert first.tolist() == [False, True, False, False, False, True]
    assert sorted(held.judged.to_pylist()) == ["2", "5", "8753"]
    later = held.absent_rows(pa.array(["5", "7", "x"]))
    assert later.tolist() == [True, True, True]
    assert sorted(held.absent.to_pylist()) == ["5", "7", "x"]


def _as_decimal_parquet(root: Path) -> None:
    """Each table of `root` as Parquet, its `*_concept_id` columns decimal(38,10), as Spark
    writes an Oracle NUMBER without precision (Arrow writes a zero of that type as `0E-10`)."""
    for path in sorted(root.glob("*.csv")):
        rows = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)
        columns = {
            name: pa.array(
                [Decimal(v).quantize(Decimal("1E-10")) if v else None for v in rows[name]]
                if name.endswith("concept_id")
                else rows[name].replace("", None),
                pa.decimal128(38, 10) if name.endswith("concept_id") else pa.string(),
            )
            for name in rows.columns
        }
        pq.write_table(pa.table(columns), path.with_suffix(".parquet"))
        path.unlink()


def test_concept_id_zero_written_as_a_decimal_names_no_concept(tmp_path: Path) -> None:
    """The sample as Parquet with decimal(38,10) concept ids, plus a condition row an ETL did
    not map (concept ids 0, no source value). Concept 0 ("No matching concept") names no
    concept, but its text `0E-10` was judged an id the vocabulary lacks: 18 measurement rows
    (unit concept 0) counted, and the unmapped condition warned concepts_not_in_vocabulary
    (exit 4) on a clean delivery. Now: exit 0, no such count."""
    root = tmp_path / "omop"
    to_omop.convert(root, SAMPLE)
    conditions = root / "condition_occurrence.csv"
    rows = pd.read_csv(conditions, sep="\t", dtype=str, keep_default_na=False)
    unmapped = {**rows.iloc[0].to_dict(), "condition_source_value": ""}
    unmapped.update({"condition_concept_id": "0", "condition_source_concept_id": "0"})
    pd.concat([rows, pd.DataFrame([unmapped])]).to_csv(conditions, sep="\t", index=False)
    _as_decimal_parquet(root)
    status, manifest = _run(root, tmp_path / "o")
    assert status == 0, manifest["warnings"]
    assert manifest["listed"] == 35
    for counts in manifest["source_counts"].values():
        assert not any("not_in_vocabulary" in c for entry in counts.values() for c in entry)


def test_concept_id_zero_in_any_spelling_names_no_concept() -> None:
    """Held: 8753 only. `00`, `-0`, `0.000` and `0E-10` are concept 0 (none named); 5 is
    absent."""
    held = HeldConcepts.of([id_numbers(pa.array(["8753"]))], pd.Series([], dtype=str))
    found = held.absent_rows(pa.array(["00", "-0", "0.000", "0E-10", "5", "8753"]))
    assert found.tolist() == [False, False, False, False, True, False]
