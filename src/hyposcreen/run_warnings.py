"""Why a completed run should not be trusted as a quiet night (it then exits 4).

Each warning is a code and one line of text holding counts only, never values from the
extract: the CLI prints it on stderr, run_manifest.json lists it under `warnings`, the review
page shows it at the top. Thresholds are rules data (rules.yaml `warnings:` and `contracts:`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from hyposcreen.night_counts import trailing_counts
from hyposcreen.rules.loader import WarningThresholds

# what a warning counting rows of the medication or diagnosis tables says of its counts: those
# tables are read whole for every night (not cut to its window, as its labs are), so each night
# of a backfill and each month of an audit repeats them (`these`: "These are counts";
# `tables`: "medication table")
WHOLE_TABLE_COUNTS = (
    " {these} of the extract's whole {tables}, which every night reads whole (each night of a "
    "backfill and each month of an audit repeats them), not of this night's rows alone."
)
# rows a site names but no dictionary knows (an unknown LOINC is another test: spec §2)
UNRECOGNISED_LAB_REASONS = ("unknown_lab_name", "no_lab_identifier")
READER_LAB_REASONS = ("unknown_loinc", *UNRECOGNISED_LAB_REASONS)
# rows a FHIR file of several resource types (Bundles, a Synthea document) gives every table it
# is read for: another table's resource, or a Bundle entry holding none; not the table's own
OTHER_RESOURCE_REASONS = ("other_resource_type", "entry_without_resource")


@dataclass(frozen=True)
class RunWarning:
    code: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


def step_count(attrition: Sequence[Mapping[str, Any]], name: str) -> int:
    return next((int(s["count"]) for s in attrition if s["step"] == name), 0)


def _not_relevant(table: Mapping[str, Any], *reasons: str) -> int:
    found = table.get("reasons", {}).get("not_relevant", {})
    return sum(int(found.get(r, 0)) for r in reasons)


def share_over(count: int, of: int, limit: float, limits: WarningThresholds) -> bool:
    """Whether `count` of `of` rows is a share over `limit`, judged on enough rows
    (`min_rows_for_share`, and never on none)."""
    return count > 0 and of >= max(limits.min_rows_for_share, 1) and count / of > limit


def sodium_warnings(attrition: Sequence[Mapping[str, Any]]) -> list[RunWarning]:
    in_window = step_count(attrition, "sodium_results_in_window")
    if step_count(attrition, "usable_results"):
        return []
    return [
        RunWarning(
            "no_usable_sodium",
            f"no usable serum sodium result in the window ({in_window} sodium row(s) dated in "
            "it, none usable): the empty list does not mean a quiet night; check the lab "
            "dictionary, units and the extract's dates (coverage.csv lists what was not "
            "recognised).",
        )
    ]


def table_warnings(
    reconciliation: Mapping[str, Mapping[str, Any]],
    limits: WarningThresholds,
    unknown_drug_rows: int | None,
    named_drug_rows: int | None,
    lab_names: bool = True,
    code_like_drug_rows: int = 0,
    vocabulary_tables: bool = False,
) -> list[RunWarning]:
    """Empty or stale tables and tables where most rows matched nothing (`lab_names`: judge
    the share of lab rows whose site name is unknown; source adapters map standard codes).
    `code_like_drug_rows`: the unknown drug names written as digits alone; when they are most
    of them and the source reads an OMOP vocabulary (`vocabulary_tables`), the warning says
    they look like codes the extract's concept tables would resolve."""
    found: list[RunWarning] = []
    labs = reconciliation["labs"]
    unrecognised = _not_relevant(labs, *UNRECOGNISED_LAB_REASONS)
    known = labs["rows_in"] - _not_relevant(labs, *READER_LAB_REASONS)
    outside = _not_relevant(labs, "outside_window")
    if labs["rows_in"] == 0:
        found.append(RunWarning("empty_table", "table labs has no rows."))
    elif known > 0 and known == outside:
        found.append(
            RunWarning(
                "no_rows_near_window",
                f"table labs has no row in or near the window: all {known} row(s) of known "
                "analytes are dated outside it (a stale extract, or the wrong window?).",
            )
        )
    for name in ("medications", "diagnoses"):
        table = reconciliation[name]
        after = _not_relevant(table, "after_window")
        others = _not_relevant(table, *OTHER_RESOURCE_REASONS)
        own = table["rows_in"] - others
        if own == 0:
            told = f" (the {others} row(s) read for it are of other resource types)"
            found.append(
                RunWarning("empty_table", f"table {name} has no rows{told if others else ''}.")
            )
        elif after == own:
            found.append(
                RunWarning(
                    "no_rows_near_window",
                    f"table {name} has no row in or before the window: all {after} row(s) are "
                    "dated after it.",
                )
            )
    rows_in = labs["rows_in"]
    if lab_names and share_over(unrecognised, rows_in, limits.max_unrecognised_lab_share, limits):
        found.append(
            RunWarning(
                "unrecognised_labs",
                f"{unrecognised} of {rows_in} lab row(s) ({unrecognised / rows_in:.0%}) have no "
                "LOINC and a name or item id the lab dictionary does not know (limit "
                f"{limits.max_unrecognised_lab_share:.0%}); see coverage.csv.",
            )
        )
    if unknown_drug_rows is not None and named_drug_rows:
        share = unknown_drug_rows / named_drug_rows
        if share_over(
            unknown_drug_rows, named_drug_rows, limits.max_unrecognised_medication_share, limits
        ):
            found.append(
                RunWarning(
                    "unrecognised_medications",
                    f"{unknown_drug_rows} of {named_drug_rows} medication name(s) ({share:.0%}) "
                    "match neither a listed drug nor a known non-listed drug (limit "
                    f"{limits.max_unrecognised_medication_share:.0%}); see coverage.csv."
                    + _code_like_hint(code_like_drug_rows, unknown_drug_rows, vocabulary_tables),
                )
            )
    return found


def _code_like_hint(code_like: int, unknown: int, vocabulary_tables: bool) -> str:
    """What a warning of unknown drug names adds when most are digits alone: an OMOP extract
    naming its drugs by concept id or RxNorm code (ETL-Synthea's drug_source_value) without
    the vocabulary that resolves them."""
    if not vocabulary_tables or code_like * 2 <= unknown:
        return ""
    return (
        f" {code_like} of the {unknown} are digits alone: concept ids or RxNorm codes, not "
        "names; deliver the vocabulary tables (concept, concept_ancestor) with the extract "
        "so they can be read."
    )


# what a demoted contract's warning says it did not stop, and where the breaching rows went
RUN_SETS_ASIDE = ("the night", "the rows are quarantined (quarantine.csv).")
AUDIT_SETS_ASIDE = ("the audit", "the rows are set aside, as a run quarantines them.")


def contract_warnings(
    demoted: Sequence[Mapping[str, Any]], set_aside: tuple[str, str] = RUN_SETS_ASIDE
) -> list[RunWarning]:
    """Share contracts breached by a delivery too small or too little affected to stop it;
    `set_aside`: what was not stopped and where the breaching rows went (RUN_SETS_ASIDE)."""
    stopped, went = set_aside
    return [
        RunWarning(
            f"contract_{o['reason']}",
            f"data contract breached but not stopping {stopped}: {o['table']}: {o['detail']}; "
            f"{went}",
        )
        for o in demoted
    ]


def demoted_contract_warnings(
    validation: Mapping[str, Any] | None, set_aside: tuple[str, str] = RUN_SETS_ASIDE
) -> list[RunWarning]:
    """`contract_warnings` of a validation summary's share contracts demoted to warnings."""
    demoted = [
        o
        for o in (validation or {}).get("outcomes", [])
        if o["severity"] == "warning" and not o["success"] and str(o["reason"]).endswith("_rate")
    ]
    return contract_warnings(demoted, set_aside)


def sodium_drop_warning(
    usable: int, trailing: Sequence[int], limits: WarningThresholds
) -> list[RunWarning]:
    """Usable sodium results far below the trailing nights' median (a partial delivery?)."""
    if not trailing:
        return []
    ordered = sorted(trailing)
    middle = len(ordered) // 2
    median = (
        float(ordered[middle]) if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2
    )
    if median <= 0 or usable >= limits.sodium_drop_fraction * median:
        return []
    return [
        RunWarning(
            "sodium_volume_drop",
            f"{usable} usable sodium result(s) in this window, below "
            f"{limits.sodium_drop_fraction:.0%} of the median {median:g} of the "
            f"{len(trailing)} previous night(s): a partial delivery?",
        )
    ]


def collect_warnings(
    limits: WarningThresholds,
    attrition: Sequence[Mapping[str, Any]],
    reconciliation: Mapping[str, Mapping[str, Any]],
    validation: Mapping[str, Any] | None,
    drug_names: tuple[int, int, int] | None,
    state: tuple[Path, str, pd.Timestamp] | None,
    lab_names: bool = True,
    vocabulary_tables: bool = False,
) -> list[RunWarning]:
    """Every reason this run should not be trusted as a quiet night; empty when it can be.

    `drug_names`: (names matching no drug at all, names, those of the first written as digits
    alone) when known; `state`: (state DB, site, window start) of a nightly run, for the
    trailing per-night sodium counts; `vocabulary_tables`: the source resolves codes with an
    OMOP vocabulary (concept, concept_ancestor)."""
    unknown, named, code_like = drug_names if drug_names is not None else (None, None, 0)
    found = sodium_warnings(attrition)
    found += table_warnings(
        reconciliation, limits, unknown, named, lab_names, code_like, vocabulary_tables
    )
    found += demoted_contract_warnings(validation)
    if state is not None:
        path, site, window_start = state
        trailing = trailing_counts(path, site, window_start, limits.sodium_trailing_nights)
        found += sodium_drop_warning(step_count(attrition, "usable_results"), trailing, limits)
    return found


def warning_texts(warnings: Sequence[Any] | None) -> list[str]:
    """The messages of a manifest's `warnings` (each a {code, message} mapping)."""
    return [str(w["message"]) if isinstance(w, Mapping) else str(w) for w in warnings or ()]
