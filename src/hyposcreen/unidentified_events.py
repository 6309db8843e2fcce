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
resources (MedicationRequest, MedicationStatement, MedicationAdministration), added up: those
that name their drug by codes alone (no text or display; an RxNorm product code, an NDC),
none an ATC code or the RxNorm code of a listed ingredient (adapters.fhir_medications). The
rules name drugs by ingredient name and ATC (spec §6): such codes are not read. Counts only,
never a value. The medication and diagnosis tables are read whole for every night (not cut to
its window, as its labs are), so these are the extract's counts, the same for each night of a
backfill and each month of an audit: the message says so, lest a night seem to claim them.
"""

from __future__ import annotations

from collections.abc import Mapping

from hyposcreen.adapters.fhir_conditions import CONDITION_ROWS, SNOMED_ALONE
from hyposcreen.adapters.fhir_medications import DRUG_ROWS, UNIDENTIFIED_DRUG
from hyposcreen.ingest.canonical import IngestedTable
from hyposcreen.rules.loader import WarningThresholds
from hyposcreen.run_warnings import RunWarning, share_over

# canonical table -> (source table, its reader's unmapped reason, what its rows name, risk,
# whether judged when the extract holds a concept table)
# the counts are the whole table's: said in each message (see the module text)
_WHOLE_TABLE = (
    " These are counts of the extract's whole {what} table, which every night reads whole "
    "(each night of a backfill and each month of an audit repeats them), not of this night's "
    "rows alone."
)

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
    tables: Mapping[str, IngestedTable], limits: WarningThresholds
) -> list[RunWarning]:
    """One warning per source event table whose rows name nothing readable over the limit."""
    found = _fhir_medication_warnings(tables.get("medications"), limits)
    found += _fhir_condition_warnings(tables.get("diagnoses"), limits)
    for name, (source, reason, what, risk, with_concepts) in _UNIDENTIFIED.items():
        table = tables.get(name)
        counts = table.source_counts.get(source) if table is not None else None
        if not counts or table is None:
            continue
        has_concepts = "concept" in table.source_counts
        if has_concepts and not with_concepts:
            continue
        unidentified, read = int(counts.get(f"unmapped_{reason}", 0)), int(counts["read"])
        if not share_over(unidentified, read, limits.max_missing_key_share, limits):
            continue
        vocabulary = (
            "the extract's vocabulary tables do not resolve"
            if has_concepts
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
                "extract." + _WHOLE_TABLE.format(what=source),
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
            "display (or a text naming the drug)." + _WHOLE_TABLE.format(what="medication"),
        )
    ]


def _fhir_condition_warnings(
    table: IngestedTable | None, limits: WarningThresholds
) -> list[RunWarning]:
    """The warning of a FHIR export whose Conditions are mostly coded in SNOMED CT alone by
    codes the rules do not list (none when the table was not read from FHIR)."""
    counts = (table.source_counts if table else {}).get("Condition", {})
    read, alone = int(counts.get(CONDITION_ROWS, 0)), int(counts.get(SNOMED_ALONE, 0))
    if not share_over(alone, read, limits.max_missing_key_share, limits):
        return []
    return [
        RunWarning(
            "snomed_only_diagnoses",
            f"{alone} of {read} FHIR Condition row(s) ({alone / read:.0%}; limit "
            f"{limits.max_missing_key_share:.0%}) are coded in SNOMED CT alone (no ICD-10-CM "
            "or ICD-9-CM coding) by a code the rules do not list: the rules name conditions "
            "by ICD-10-CM and ICD-9-CM codes and few SNOMED CT codes (spec section 6 names "
            "only cirrhosis's), so heart failure, chronic kidney disease, SIADH or a "
            "documented muscle cramp coded so is not recognised and the list may lack "
            "patients or risk factors: ask for an export whose Conditions carry their ICD-10-CM "
            "coding (or list the site's SNOMED CT codes in condition_codes.csv of a site rules "
            "copy, --rules)." + _WHOLE_TABLE.format(what="Condition"),
        )
    ]
