"""MIMIC-IV dictionary rows that were not read: `d_labitems` or `admissions` rows that did not
split into the header's columns, and item ids `d_labitems` lists on rows that disagree.

The labevents reader tells a result's test by its item id's `d_labitems` row, and the
diagnoses reader dates a code by its stay's `admissions` row. A row the CSV reader could not
split (a comma too many or too few, a quote out of place) is skipped: every labevents row of
an item listed only there is set aside as an item the dictionary lacks (`unknown_itemid`, which
dangling_lab_items counts too, without the place), and every code of a stay listed only there
is quarantined without a time. An item id listed on rows telling different tests (a blood and a
urine row) is set aside (`conflicting_itemid`; adapters._mimic_lab_items), never read by the
file's row order. A `diagnoses_icd` code of a listed condition whose stay `admissions` does not
date (its hadm_id is not there, or the stay has no admittime) has no time and is quarantined
(spec §3), so the condition is missing from the list while the extract holds it: any such row
warns (`listed_codes_without_stay`; adapters._mimic_diagnoses), a count of the whole table
(every night reads it whole). Each warns (exit 4) with counts and the first `file:row` (a
file's line, header = 1), never a value. `d_icd_diagnoses` rows give only the evidence's
description: their counts stay in the manifest's source_counts and do not warn.
"""

from __future__ import annotations

from collections.abc import Mapping

from hyposcreen.ingest.canonical import IngestedTable
from hyposcreen.run_warnings import WHOLE_TABLE_COUNTS, RunWarning

UNSPLIT = "dictionary_rows_unsplit"
CONFLICTING = "lab_items_listed_twice"
CONFLICTING_REASON = "conflicting_itemid"  # adapters._mimic_lab_items' reason and count name
WITHOUT_STAY = "listed_codes_without_stay"  # adapters._mimic_diagnoses' admissions note
# dictionary table -> the canonical table reading it, what its unread rows cost
_LOST = {
    "d_labitems": (
        "labs",
        "the labevents rows of an item listed only there are set aside as an item the "
        "dictionary lacks (unknown_itemid), so a sodium among them is missing from the list",
    ),
    "admissions": (
        "diagnoses",
        "the diagnoses of a stay listed only there have no time and are quarantined "
        "(missing_key), so a listed condition among them is not found",
    ),
}


def dictionary_row_warnings(tables: Mapping[str, IngestedTable]) -> list[RunWarning]:
    """The warnings above (none unless a MIMIC table was read with its dictionaries)."""
    told = []
    for dictionary, (name, lost) in _LOST.items():
        table = tables.get(name)
        counts = table.source_counts.get(dictionary, {}) if table is not None else {}
        unsplit = int(counts.get("unsplit", 0))
        if table is None or not unsplit:
            continue
        places = ", ".join(table.auxiliary_places.get(dictionary, ()))
        told.append(
            f"{dictionary} {unsplit} of {int(counts.get('read', 0))} row(s) do not split into "
            f"the header's columns (e.g. {places}): {lost}"
        )
    found = []
    if told:
        found.append(
            RunWarning(
                UNSPLIT,
                f"Rows of the extract's dictionaries were not read as rows: {'; '.join(told)}. "
                "A comma too many or too few, or a double quote out of place, is the usual "
                "cause (a file saved again by a spreadsheet or cut by hand). Ask the sender "
                "for the tables as exported, and rerun.",
            )
        )
    return found + _conflicting_warnings(tables.get("labs")) + _undated(tables.get("diagnoses"))


def _undated(diagnoses: IngestedTable | None) -> list[RunWarning]:
    counts = diagnoses.source_counts if diagnoses is not None else {}
    rows = int(counts.get("admissions", {}).get(WITHOUT_STAY, 0))
    if diagnoses is None or not rows:
        return []
    places = ", ".join(diagnoses.auxiliary_places.get(f"admissions_{WITHOUT_STAY}", ()))
    return [
        RunWarning(
            WITHOUT_STAY,
            f"{rows} diagnoses_icd row(s) code a condition the rules list but name a stay "
            f"(hadm_id) that admissions does not date (e.g. {places}): a code is dated at the "
            "start of its stay, so these have no time and are quarantined (missing_key), "
            "and the condition is missing from the list. Is the admissions table of the same "
            "export? Ask the sender for it, and rerun."
            + WHOLE_TABLE_COUNTS.format(these="These are counts", tables="diagnoses_icd table"),
        )
    ]


def _conflicting_warnings(labs: IngestedTable | None) -> list[RunWarning]:
    counts = labs.source_counts if labs is not None else {}
    items = int(counts.get("d_labitems", {}).get(CONFLICTING_REASON, 0))
    if labs is None or not items:
        return []
    rows = int(counts.get("labevents", {}).get(f"unmapped_{CONFLICTING_REASON}", 0))
    places = ", ".join(labs.auxiliary_places.get(f"d_labitems_{CONFLICTING_REASON}", ()))
    return [
        RunWarning(
            CONFLICTING,
            f"The extract's d_labitems lists {items} item id(s) on several rows that tell "
            f"different tests (label or fluid; e.g. {places}): which test their results hold "
            f"cannot be told, so the extract's {rows} labevents row(s) of them are set "
            f"aside as not relevant ({CONFLICTING_REASON}) rather than read by the file's row "
            "order (a urine or body-fluid sodium read as serum sodium), and a sodium among "
            "them is missing from the list. d_labitems has one row per item id: ask the "
            "sender for the dictionary of the same export, and rerun.",
        )
    ]
