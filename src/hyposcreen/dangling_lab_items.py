"""MIMIC-IV `labevents` rows whose `itemid` the extract's own `d_labitems` does not hold.

Every item id of a MIMIC-IV export's `labevents` is an entry of its `d_labitems`. A row whose
item id is neither there nor in the shipped `rules/mimic_labitems.csv` names a test no
dictionary tells: the reader sets it aside as not relevant (`unknown_itemid`), as it does the
tests the screen does not read. When the export ships its dictionary, such a row means the
dictionary is not the one of these events (an older export beside newer events, a laboratory's
new sodium item), so the results the screen most needs can be the ones set aside while the list
looks complete: any such row warns (`lab_items_not_in_dictionary`, exit 4), counts only (the
item ids are in coverage.csv). Without a `d_labitems` only the shipped items are known, by
design (README, `--source mimic`), and nothing warns. The counts are of the extract's
`labevents` as read, the rows of every date.
"""

from __future__ import annotations

from collections.abc import Mapping

from hyposcreen.run_warnings import RunWarning

UNSPLIT = "dictionary_rows_unsplit"  # mimic_dictionary_rows names the rows not read

CODE = "lab_items_not_in_dictionary"
UNKNOWN_ITEMID = "unknown_itemid"  # the MIMIC labevents reader's reason (adapters._mimic_labs)


def dangling_item_warnings(
    lab_source_counts: Mapping[str, Mapping[str, int]] | None,
) -> list[RunWarning]:
    """The warning for a MIMIC labs table read with its `d_labitems` (`lab_source_counts`: the
    labs table's source_counts, `d_labitems` among them when the export has one)."""
    counts = lab_source_counts or {}
    if "d_labitems" not in counts:
        return []
    events = counts.get("labevents", {})
    rows = int(events.get(f"unmapped_{UNKNOWN_ITEMID}", 0))
    if not rows:
        return []
    dictionary = counts["d_labitems"]
    hidden = (
        " (it holds no row: a header alone, was the export cut short?)"
        if not int(dictionary.get("read", 0))
        else f" (or lists on a row that did not read: {UNSPLIT})"
        if int(dictionary.get("unsplit", 0))
        else ""
    )
    return [
        RunWarning(
            CODE,
            f"{rows} of the {events.get('read', 0)} labevents row(s) of the extract carry an "
            f"itemid its d_labitems does not hold{hidden} (nor rules/mimic_labitems.csv): the "
            "test they hold cannot be told, so they are set aside as not relevant "
            "(unknown_itemid), and a sodium result among them (a new item id of the "
            "laboratory) is missing from the list. coverage.csv lists the item ids; ask the "
            "sender for the d_labitems of the same export, or add the items to the site's lab "
            "dictionary.",
        )
    ]
