"""Source event rows that name nothing the screen can read: an OMOP `drug_exposure` row with
no `drug_source_value` and a `drug_concept_id` the vocabulary does not resolve, or a
`condition_occurrence` row with no ICD code and a `condition_concept_id` resolving to no SNOMED
code. A de-identified OMOP extract that blanks the source values and ships no `concept` table
is all such rows: no case gets a medication or condition risk factor from them and the list
still looks complete, so a share of them over rules.yaml `warnings: max_missing_key_share` (the
share of rows whose identifying code is empty; judged on `min_rows_for_share` rows) warns.
With a concept table only drugs are judged: it holds every RxNorm drug, but of SNOMED only the
listed codes (adapters._omop_vocab), so there a condition concept it does not resolve is an
unlisted condition, not an unreadable one. A FHIR export is judged alike on its medication
resources (MedicationRequest, -Statement, -Administration, -Dispense), added up: those
that name their drug by codes alone (no text or display; an RxNorm product code, an NDC),
none an ATC code or the RxNorm code of a listed ingredient (adapters.fhir_medications). The
rules name drugs by ingredient name and ATC (spec §6): such codes are not read. Diagnoses of
any source coded in SNOMED CT by a code that stands for a listed condition but is not listed
(a code of rules/snomed_condition_hints.csv: Synthea writes heart failure as 84114007) warn
from one row: their condition is not read (rules.condition_hints counts them). Counts only,
never a value. The medication and diagnosis tables are read whole for every night (not cut to
its window, as its labs are), so these are the extract's counts, the same for each night of a
backfill and each month of an audit: the message says so, lest a night seem to claim them.
A canonical medications table is judged on its rows that name no drug at all (drug_name,
rxnorm and atc empty: clean.unnamed_drugs), over the same share: its drug column
renamed (`medication` for `drug_name`, the table still read by its code columns) or left
empty, every row set aside as an unlisted drug while the night looked quiet.
"""

from __future__ import annotations

from collections.abc import Mapping

from hyposcreen.adapters.fhir_medications import DRUG_ROWS, UNIDENTIFIED_DRUG
from hyposcreen.clean.unnamed_drugs import DRUG_COLUMNS
from hyposcreen.ingest.canonical import IngestedTable
from hyposcreen.rules.condition_hints import SNOMED_HINTS
from hyposcreen.rules.loader import WarningThresholds
from hyposcreen.run_warnings import WHOLE_TABLE_COUNTS, RunWarning, share_over

# canonical table -> (source table, its reader's unmapped reason, what its rows name, risk,
# whether judged when the extract holds a concept table)
# the counts are the whole table's: said in each message (see the module text)
_UNIDENTIFIED = {
    "medications": ("drug_exposure", "no_drug_identifier", "drug", "medication", True),
    "diagnoses": (
        "condition_occurrence",
        "no_condition_code",
        "condition code",
        "condition",
        False,
    ),
}


def unidentified_event_warnings(
    tables: Mapping[str, IngestedTable],
    limits: WarningThresholds,
    delivery_counts: Mapping[str, Mapping[str, tuple[int, int]]] | None = None,
) -> list[RunWarning]:
    """One warning per source event table whose rows name nothing readable over the limit,
    and one of the diagnoses coded in SNOMED CT for a condition the rules list otherwise (their
    counts among the clean stage's `delivery_counts`)."""
    found = _fhir_medication_warnings(tables.get("medications"), limits)
    found += snomed_hint_warnings((delivery_counts or {}).get(SNOMED_HINTS))
    for name, (source, reason, what, risk, with_concepts) in _UNIDENTIFIED.items():
        table = tables.get(name)
        counts = table.source_counts.get(source) if table is not None else None
        if not counts or table is None:
            continue
        # a concept table of a header alone is read as absent (adapters._omop_vocab)
        delivered = "concept" in table.source_counts
        has_concepts = int(table.source_counts.get("concept", {}).get("read", 0)) > 0
        if has_concepts and not with_concepts:
            continue
        unidentified, read = int(counts.get(f"unmapped_{reason}", 0)), int(counts["read"])
        if not share_over(unidentified, read, limits.max_missing_key_share, limits):
            continue
        vocabulary = (
            "the extract's vocabulary tables do not resolve"
            if has_concepts
            else "only the shipped rules/omop_concepts.csv resolves (the extract's concept "
            "table holds no row)"
            if delivered
            else "only the OMOP vocabulary resolves (the extract holds no concept table)"
        )
        found.append(
            RunWarning(
                f"unidentified_{name}",
                f"{unidentified} of {read} {source} row(s) ({unidentified / read:.0%}; limit "
                f"{limits.max_missing_key_share:.0%}) name no {what} the screen can read: no "
                f"source value and a concept id {vocabulary}. No {risk} risk factor can be "
                "found in them, so the list may lack patients: deliver the vocabulary tables "
                "(concept, and concept_ancestor for drugs) or the source values with the "
                "extract."
                + WHOLE_TABLE_COUNTS.format(these="These are counts", tables=f"{source} table"),
            )
        )
    return found


def _fhir_medication_warnings(
    table: IngestedTable | None, limits: WarningThresholds
) -> list[RunWarning]:
    """The warning of a FHIR export whose medication resources mostly name their drug by codes
    the screen does not read (none when the table was not read from FHIR)."""
    kinds = {k: c for k, c in (table.source_counts if table else {}).items() if DRUG_ROWS in c}
    read = sum(int(c[DRUG_ROWS]) for c in kinds.values())
    unidentified = sum(int(c.get(f"note_{UNIDENTIFIED_DRUG}", 0)) for c in kinds.values())
    if not share_over(unidentified, read, limits.max_missing_key_share, limits):
        return []
    return [
        RunWarning(
            "unidentified_medications",
            f"{unidentified} of {read} FHIR {'/'.join(sorted(kinds))} row(s) "
            f"({unidentified / read:.0%}; limit {limits.max_missing_key_share:.0%}) name no "
            "drug the screen can read: their medicationCodeableConcept (or Medication code) "
            "has no text or display, and none of its codes is an ATC code or the RxNorm code "
            "of a listed ingredient (an RxNorm product code is not read: the rules name drugs "
            "by ingredient and ATC). No medication risk factor can be found in them, so the "
            "list may lack patients: ask for an export whose medication codings carry their "
            "display (or a text naming the drug)."
            + WHOLE_TABLE_COUNTS.format(these="These are counts", tables="medication table"),
        )
    ]


def snomed_hint_warnings(
    counts: Mapping[str, tuple[int, int]] | None,
) -> list[RunWarning]:
    """The warning of diagnosis rows coded in SNOMED CT by a code of the rules' hints that no
    condition lists (rules.condition_hints: {condition: (rows, patients)}), whatever their
    share: one such row is a condition the screen did not read."""
    found = {name: sizes for name, sizes in (counts or {}).items() if sizes[0] > 0}
    if not found:
        return []
    rows = sum(sizes[0] for sizes in found.values())
    each = ", ".join(
        f"{name} {size} ({patients} patient(s))" for name, (size, patients) in sorted(found.items())
    )
    return [
        RunWarning(
            "snomed_only_diagnoses",
            f"{rows} diagnosis row(s) are coded in SNOMED CT by a code that stands for a "
            f"condition of the screen but that the rules do not list, by condition: {each}. "
            "The rules list these conditions by ICD-10-CM and ICD-9-CM codes (cirrhosis also "
            "by one SNOMED CT code), so these rows are not read as the condition (they are set "
            "aside as unlisted_code) and the list may lack patients or risk factors. To read "
            "them, list the site's SNOMED CT codes for these conditions in condition_codes.csv "
            "of a site rules copy (--rules; code_system SNOMED; the codes counted here are "
            "those of rules/snomed_condition_hints.csv), or ask for an export whose diagnoses "
            "carry their ICD-10-CM coding."
            + WHOLE_TABLE_COUNTS.format(these="These are counts", tables="diagnosis table"),
        )
    ]


def unnamed_drug_warnings(
    counts: Mapping[str, tuple[int, int]] | None,
    limits: WarningThresholds,
    present_columns: tuple[str, ...] = DRUG_COLUMNS,
) -> list[RunWarning]:
    """The warning of a canonical medications table whose rows mostly name no drug (`counts`:
    {"medications": (rows naming none, rows judged)}), naming the drug columns its files do
    not have (`present_columns`: the table's columns, canonical names)."""
    unnamed, judged = (counts or {}).get("medications", (0, 0))
    if not share_over(unnamed, judged, limits.max_missing_key_share, limits):
        return []
    absent = [c for c in DRUG_COLUMNS if c not in present_columns]
    lacking = f" (the files have no {' or '.join(absent)} column)" if absent else ""
    return [
        RunWarning(
            "unidentified_medications",
            f"{unnamed} of {judged} medication row(s) ({unnamed / judged:.0%}; limit "
            f"{limits.max_missing_key_share:.0%}) name no drug: their drug_name, rxnorm and "
            f"atc are all empty{lacking}. They are set aside as unlisted drugs, so no "
            "medication risk factor can be found in them and the list may lack patients: "
            "check which column holds the drug's name (map it under tables.medications."
            "columns in the site mapping) or ask for an extract that names the drugs."
            + WHOLE_TABLE_COUNTS.format(these="These are counts", tables="medication table"),
        )
    ]
