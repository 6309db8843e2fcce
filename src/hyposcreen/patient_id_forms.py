"""Patient ids written otherwise in different tables of one delivery: `000123` (a fixed-width
export) or `123.0` (a spreadsheet that read the ids as numbers) in the medications or
diagnoses against `123` in the labs. Risk factors reach a case through its patient id as
written, so such rows give no case a risk factor and the list still looks complete.

An id's *matching form* sets its writing aside: a number with leading zeros or a trailing
`.0` is read as its digits (`000123`, `123.0` -> `123`); any other id (`P00123`) is its own
form. Ids are never matched in that form (two ids may be two patients); a table whose ids
match the labs' ids only in it, for more than rules.yaml `warnings: max_near_match_id_share`
of its distinct ids (judged on `min_rows_for_share` ids), warns. The patient-hash partitions
hash the matching form (runners.spill), so ids alike in it meet in one partition and the
per-partition counts add up to the whole run's. Counts only, never an id."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from hyposcreen.rules.loader import WarningThresholds
from hyposcreen.run_warnings import RunWarning

# digits (ASCII), perhaps zero-padded, perhaps with a trailing .0
_NUMBER = r"^[0-9]+(?:\.0+)?$"

NearMatches = dict[str, tuple[int, int]]  # table -> (its patient ids, those matching in form)


def matching_form(ids: pd.Series) -> pd.Series:
    """Each id (text, without surrounding spaces) in its matching form: a number without its
    leading zeros and trailing `.0` (`0` for zeros alone); another id as it is (the partitions
    hash every distinct id in this form)."""
    values = pa.array(ids, type=pa.large_string(), from_pandas=True)
    formed = _formed(values)
    if formed is values:
        return ids
    return pd.Series(pd.array(formed, dtype="str"), index=ids.index)


def _formed(values: pa.Array) -> pa.Array:
    """`matching_form` in Arrow (`values` itself when no id is a number)."""
    number = pc.fill_null(pc.match_substring_regex(values, _NUMBER), False)
    if not pc.any(number).as_py():
        return values
    digits = pc.utf8_ltrim(pc.replace_substring_regex(values, r"\.0+$", ""), "0")
    digits = pc.if_else(pc.equal(digits, ""), "0", digits)
    return pc.if_else(number, digits, values)


def near_matches(ids: Mapping[str, pa.Array]) -> NearMatches:
    """Per table of `ids` but the labs (distinct patient ids by table): its count of ids,
    without surrounding spaces, and how many of them the labs do not hold as written but hold
    in matching form."""
    lab_ids = _stripped(ids["labs"])
    lab_forms = pc.unique(_formed(lab_ids))
    found = {}
    for name, table_ids in ids.items():
        if name == "labs":
            continue
        others = _stripped(table_ids)
        apart = others.filter(pc.invert(pc.is_in(others, value_set=lab_ids)))
        near = pc.sum(pc.is_in(_formed(apart), value_set=lab_forms)).as_py() or 0
        found[name] = (len(others), int(near))
    return found


def _stripped(ids: pa.Array) -> pa.Array:
    values = pc.unique(pc.utf8_trim_whitespace(ids))
    return values.filter(pc.not_equal(values, ""))


def near_match_warnings(
    counts: Mapping[str, tuple[int, int]] | None, limits: WarningThresholds
) -> list[RunWarning]:
    """A warning for each table whose share of ids matching the labs' only in matching form is
    over the limit; a table sharing no id as written also has patient_overlap's warning, this
    one saying how its ids would match."""
    enough = max(limits.min_rows_for_share, 1)
    limit = limits.max_near_match_id_share
    return [
        RunWarning(
            "patient_ids_written_otherwise",
            f"{near} of the {patients} patient id(s) of table {name} ({near / patients:.0%}) "
            "match an id of table labs only with leading zeros or a trailing .0 set aside "
            f"(000123 or 123.0 against 123; limit {limit:.0%}): no risk factor from those "
            f"{name} rows reaches a case. Ask for the ids written alike in every table.",
        )
        for name, (patients, near) in sorted((counts or {}).items())
        if patients >= enough and near / patients > limit
    ]
