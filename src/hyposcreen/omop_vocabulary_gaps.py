"""OMOP extracts whose delivered vocabulary does not cover their events, or did not read whole.

The `concept` table names every concept an OMOP CDM's events refer to. An event row naming a
concept id that neither it nor the shipped `rules/omop_concepts.csv` holds (an Athena download
older than the CDM, a vocabulary left out of the download) cannot be told by its concept: when
nothing else tells it either (no source value naming the test, the drug or an ICD code; for a
lab of a listed test, no `unit_source_value` for a unit concept the vocabulary lacks), the
reader sets it aside (`no_lab_identifier`, `unknown_lab_name`, `no_drug_identifier`,
`no_condition_code`) or its unit is lost, and a sodium, a listed drug or a listed condition
among such rows is missing from a list that looks complete. Any such row warns
(`concepts_not_in_vocabulary`, exit 4), as a MIMIC item id its d_labitems lacks does
(dangling_lab_items); rows under an absent id that their source values tell are counted in the
manifest's `source_counts` (`not_in_vocabulary`) and do not warn. Without a concept table only
the shipped concepts are known, by design (README, `--source omop`; unidentified_events judges
that case), and nothing here is judged.

A vocabulary table delivered with no row (a header alone) is read as absent, and warns
(`empty_vocabulary_table`); rows of one that do not split into its header's columns (a tab too
many or too few in an Athena file) are skipped, and in a quoted (comma-separated) one a record
whose field runs over line ends (a stray double quote that swallowed the rows on them) is not
used: both warn (`vocabulary_rows_unsplit`; adapters._omop_vocab_rows). Counts and
`file:row` references only, never an id. The measurement counts are of the rows read for the
night (the rows far from its read window are not judged); drug and condition counts are of
the whole tables, which every night reads whole.
"""

from __future__ import annotations

from collections.abc import Mapping

from hyposcreen.adapters._omop_concept_ids import ROWS, UNTOLD  # the source_counts it writes
from hyposcreen.ingest.canonical import IngestedTable
from hyposcreen.run_warnings import WHOLE_TABLE_COUNTS, RunWarning

CODE = "concepts_not_in_vocabulary"
EMPTY = "empty_vocabulary_table"
UNSPLIT = "vocabulary_rows_unsplit"
VOCABULARY_TABLES = ("concept", "concept_ancestor")
# canonical table -> the OMOP table it is read from, what its rows lose when not told
_EVENTS = {
    "labs": ("measurement", "test or unit"),
    "medications": ("drug_exposure", "drug"),
    "diagnoses": ("condition_occurrence", "condition"),
}


def vocabulary_gap_warnings(tables: Mapping[str, IngestedTable]) -> list[RunWarning]:
    """The warnings above, from the tables' source_counts and concept_places (none for a
    source other than OMOP: no table counts so)."""
    return _untold_warnings(tables) + _vocabulary_table_warnings(tables)


def _untold_warnings(tables: Mapping[str, IngestedTable]) -> list[RunWarning]:
    parts = []
    for name, (source, what) in _EVENTS.items():
        table = tables.get(name)
        counts = table.source_counts.get(source, {}) if table is not None else {}
        untold = int(counts.get(UNTOLD, 0))
        if table is None or not untold:
            continue
        places = ", ".join(table.concept_places.get(source, ()))
        parts.append(
            f"{source} {untold} row(s) whose {what} nothing else tells, of the "
            f"{int(counts.get(ROWS, 0))} naming such an id (e.g. {places})"
        )
    if not parts:
        return []
    return [
        RunWarning(
            CODE,
            "Rows of the extract name a concept id its concept table does not hold (nor "
            f"rules/omop_concepts.csv): {'; '.join(parts)}. The vocabulary delivered is not "
            "the one these events were coded with (an older Athena download, a vocabulary left "
            "out), so what those rows hold cannot be told: they are set aside (no_lab_identifier "
            "or unknown_lab_name, no_drug_identifier, no_condition_code) or read without their "
            "unit, and a sodium, a listed drug or a listed condition among them is missing "
            "from the list. Deliver the concept table of the vocabulary the CDM was built with "
            "(or the source values), and rerun. The measurement counts are of the rows read "
            "for this night;"
            + WHOLE_TABLE_COUNTS.format(these="the drug and condition counts are", tables="tables"),
        )
    ]


def _vocabulary_table_warnings(tables: Mapping[str, IngestedTable]) -> list[RunWarning]:
    counts: dict[str, Mapping[str, int]] = {}
    places: dict[str, tuple[str, ...]] = {}
    for table in tables.values():  # each table read names the vocabulary tables it used
        read = table.source_counts
        counts.update({t: read[t] for t in VOCABULARY_TABLES if t in read})
        vocabulary = table.concept_places.items()  # "concept", "concept_run_on", ...
        places.update(
            {t: p for t, p in vocabulary if t.removesuffix("_run_on") in VOCABULARY_TABLES}
        )
    found = []
    empty = [t for t, c in counts.items() if int(c.get("read", 0)) == 0]
    if empty:
        found.append(
            RunWarning(
                EMPTY,
                f"The extract's {' and '.join(empty)} table(s) hold no row (a header alone): "
                "read as absent, so concept ids resolve through rules/omop_concepts.csv alone "
                "and a drug reaches its listed ingredients only through its source value or "
                "an ingredient concept. Was the vocabulary export cut short? Deliver the "
                "tables with their rows, and rerun.",
            )
        )
    told = [
        f"{t} {int(c['unsplit'])} of {int(c['read'])} row(s) do not split into the header's "
        f"columns, a tab too many or too few (e.g. {', '.join(places.get(t, ()))})"
        for t, c in counts.items()
        if int(c.get("unsplit", 0))
    ] + [
        f"{t} {int(c['run_on'])} row(s) hold a field running on over "
        f"{int(c['run_on_line_ends'])} line end(s), a stray double quote that swallowed the rows "
        f"on those lines (e.g. {', '.join(places.get(f'{t}_run_on', ()))})"
        for t, c in counts.items()
        if int(c.get("run_on", 0))
    ]
    if told:
        found.append(
            RunWarning(
                UNSPLIT,
                f"Rows of the extract's vocabulary were not read as rows: {'; '.join(told)}. "
                "The concepts they hold are unknown to the screen: an event naming one is read "
                "as one the vocabulary lacks. Download the vocabulary again (Athena's files are "
                "tab-separated without quoting; saving one from a spreadsheet changes that), "
                "and rerun.",
            )
        )
    return found
