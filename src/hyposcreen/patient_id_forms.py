"""Patient ids written otherwise in different tables of one delivery: `000123` (a fixed-width
export) or `123.0` (a spreadsheet that read the ids as numbers) in the medications or
diagnoses against `123` in the labs. Risk factors reach a case through its patient id as
written, so such rows give no case a risk factor and the list still looks complete.

An id's *matching form* sets its writing aside: a number with leading zeros or a trailing
`.0` is read as its digits (`000123`, `123.0` -> `123`); any other id (`P00123`) is its own
form. Ids are never matched in that form (two ids may be two patients); a table whose ids
match the labs' ids only in it, for more than rules.yaml `warnings: max_near_match_id_share`
of its distinct ids (judged on `min_rows_for_share` ids), warns.

Letter case is another writing (`p007` in the medications against `P007` in the labs): an
id the labs do not hold as written but hold in lower case is counted too. Any id matching
only in another form, one of a thousand, loses that patient's risk factors silently while
the tables share their other ids: `patient_id_forms` warns with the counts by form (an id
with spaces around it needs none: cleaning strips them, as the partitions' hash does). So is
a spreadsheet's leading apostrophe, its mark of a cell kept as text (`'P007` against `P007`,
either way round): an export that wrote a few ids so lost those patients' risk factors under
every share (patient_overlap warns only when no id is shared). The patient-hash partitions
hash the matching form in lower case without that apostrophe (runners.spill), so ids alike in
it meet in one partition and the per-partition counts add up to the whole run's. Counts only,
never an id."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from hyposcreen.rules.loader import WarningThresholds
from hyposcreen.run_warnings import RunWarning

# digits (ASCII), perhaps zero-padded, perhaps with a trailing .0
_NUMBER = r"^[0-9]+(?:\.0+)?$"
_APOSTROPHE = "'"  # a spreadsheet's mark of a cell kept as text: `'P001`, `'000123`

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


def hashed_form(ids: pd.Series) -> pd.Series:
    """Each id (text, without surrounding spaces) in its matching form in lower case, without
    a leading apostrophe, as the patient-hash partitions hash it: ids alike but for leading
    zeros, a trailing `.0`, letter case or a spreadsheet's apostrophe meet in one partition."""
    values = pa.array(ids, type=pa.large_string(), from_pandas=True)
    return pd.Series(pd.array(hashed_form_arrow(values), dtype="str"), index=ids.index)


def hashed_form_arrow(values: pa.Array) -> pa.Array:
    """`hashed_form` of Arrow text (large_string in, large_string out)."""
    # the apostrophe first: `'000123` meets `000123`, whose matching form is `123`
    values = _formed(pc.utf8_ltrim(values, _APOSTROPHE))
    return pc.utf8_lower(values)


def _formed(values: pa.Array) -> pa.Array:
    """`matching_form` in Arrow (`values` itself when no id is a number)."""
    number = pc.fill_null(pc.match_substring_regex(values, _NUMBER), False)
    if not pc.any(number).as_py():
        return values
    digits = pc.utf8_ltrim(pc.replace_substring_regex(values, r"\.0+$", ""), "0")
    digits = pc.if_else(pc.equal(digits, ""), "0", digits)
    return pc.if_else(number, digits, values)


@dataclass(frozen=True)
class IdForms:
    """A table's distinct patient ids without surrounding spaces (and none empty) and the same
    in lower case (`folded`, in their order) and without a spreadsheet's leading apostrophe
    (`unquoted`), and those of them written as numbers, as written and in their matching form
    (in the same order)."""

    ids: pa.Array
    number_ids: pa.Array
    number_forms: pa.Array
    folded: pa.Array
    unquoted: pa.Array  # each id without its leading apostrophes (in the order of `ids`)


def id_forms(distinct: pa.Array) -> IdForms:
    """`IdForms` of a table's distinct patient ids (patient_overlap.distinct_ids)."""
    values = pc.unique(pc.utf8_trim_whitespace(distinct))
    values = values.filter(pc.not_equal(values, ""))
    numbers = values.filter(pc.fill_null(pc.match_substring_regex(values, _NUMBER), False))
    unquoted = pc.utf8_ltrim(values, _APOSTROPHE)
    return IdForms(values, numbers, _formed(numbers), pc.utf8_lower(values), unquoted)


def near_matches(forms: Mapping[str, IdForms]) -> NearMatches:
    """Per table of `forms` but the labs: its count of ids, without surrounding spaces, and
    how many of them the labs do not hold as written but hold in matching form. Only an id
    written as a number can: another id is its own form, and the form of a lab id is either
    that lab id itself (which the table's id is not) or digits (which another id is not)."""
    return _matching_only_otherwise(forms, lambda t: t.number_ids, lambda t: t.number_forms)


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


def case_matches(forms: Mapping[str, IdForms]) -> NearMatches:
    """Per table of `forms` but the labs: its count of ids, without surrounding spaces, and
    how many of them the labs do not hold as written but hold in lower case (`p007` against
    `P007`). An id written as a number never does: its lower case is itself."""
    return _matching_only_otherwise(forms, lambda t: t.ids, lambda t: t.folded)


def apostrophe_matches(forms: Mapping[str, IdForms]) -> NearMatches:
    """Per table of `forms` but the labs: its count of ids, and how many of them the labs do
    not hold as written but hold with a spreadsheet's leading apostrophe set aside on either
    side (`'P001` against `P001`, or `P001` against the labs' `'P001`)."""
    return _matching_only_otherwise(forms, lambda t: t.ids, lambda t: t.unquoted)


def _matching_only_otherwise(
    forms: Mapping[str, IdForms],
    written: Callable[[IdForms], pa.Array],
    formed: Callable[[IdForms], pa.Array],
) -> NearMatches:
    """Per table but the labs: its count of ids, and how many of its `written` ids the labs
    do not hold as written whose `formed` id (in the same order) is one of the labs'."""
    labs = forms["labs"]
    found = {}
    for name, table in forms.items():
        if name == "labs":
            continue
        near = 0
        if len(written(table)) and len(formed(labs)):
            apart = pc.invert(pc.is_in(written(table), value_set=labs.ids))
            found_formed = formed(table).filter(apart)
            near = pc.sum(pc.is_in(found_formed, value_set=formed(labs))).as_py() or 0
        found[name] = (len(table.ids), int(near))
    return found


@dataclass(frozen=True)
class FoldedLabs:
    """The lab ids' forms of a whole read (`labs`) with each id's lower case numbered among
    their distinct lower cases (`folds`), and its form without leading apostrophes among
    theirs (`unquoteds`), so that the case and apostrophe matches of the ids of any window
    cut from the read are counted from numbers (`case_matches_within`,
    `apostrophe_matches_within`), without hashing the window's ids again."""

    labs: IdForms
    fold_of: np.ndarray
    folds: pa.Array
    unquote_of: np.ndarray
    unquoteds: pa.Array


Placed = tuple[np.ndarray, np.ndarray, np.ndarray]  # placed_ids: a table's ids' numbers


def folded_labs(labs: IdForms) -> FoldedLabs:
    encoded = pc.dictionary_encode(labs.folded)
    unquoted = pc.dictionary_encode(labs.unquoted)
    return FoldedLabs(
        labs, _numbers(encoded.indices), encoded.dictionary,
        _numbers(unquoted.indices), unquoted.dictionary,
    )  # fmt: skip


def placed_ids(table: IdForms, labs: FoldedLabs) -> Placed:
    """Each of a table's ids: its number among the read's lab ids as written, its lower
    case's among their lower cases and its unquoted form's among theirs (-1: none)."""
    written = pc.index_in(table.ids, value_set=labs.labs.ids).fill_null(-1)
    folded = pc.index_in(table.folded, value_set=labs.folds).fill_null(-1)
    unquoted = pc.index_in(table.unquoted, value_set=labs.unquoteds).fill_null(-1)
    return _numbers(written), _numbers(folded), _numbers(unquoted)


def _numbers(found: pa.Array) -> np.ndarray:
    return np.asarray(found.to_numpy(zero_copy_only=False), dtype=np.int64)


def case_matches_within(
    labs: FoldedLabs, kept: np.ndarray, placed: Mapping[str, Placed]
) -> NearMatches:
    """`case_matches` of the read's lab ids where `kept` holds (a window's) and the other
    tables (`placed`: each one's `placed_ids`, in the order of the tables)."""
    return _within(labs.fold_of, len(labs.folds), kept, {n: p[:2] for n, p in placed.items()})


def apostrophe_matches_within(
    labs: FoldedLabs, kept: np.ndarray, placed: Mapping[str, Placed]
) -> NearMatches:
    """`apostrophe_matches` of the read's lab ids where `kept` holds (a window's) and the
    other tables (`placed`: each one's `placed_ids`)."""
    pairs = {n: (p[0], p[2]) for n, p in placed.items()}
    return _within(labs.unquote_of, len(labs.unquoteds), kept, pairs)


def _within(
    form_of: np.ndarray,
    forms: int,
    kept: np.ndarray,
    placed: Mapping[str, tuple[np.ndarray, np.ndarray]],
) -> NearMatches:
    """Per table: its count of ids, and how many of them the kept lab ids do not hold as
    written (`placed` [0]) whose other form (`placed` [1], a number among the `forms` other
    forms of the read's lab ids, `form_of` each lab id's) one of the kept lab ids has."""
    held_form = np.bincount(form_of[kept], minlength=forms) > 0
    found = {}
    for name, (written, formed) in placed.items():
        as_written = np.append(kept, False)[written]  # -1 (not a lab id): not held
        in_other_form = np.append(held_form, False)[formed]
        found[name] = (len(written), int((in_other_form & ~as_written).sum()))
    return found


def id_form_warnings(
    near: Mapping[str, tuple[int, int]] | None,
    case: Mapping[str, tuple[int, int]] | None,
    limits: WarningThresholds,
    quoted: Mapping[str, tuple[int, int]] | None = None,
) -> list[RunWarning]:
    """A warning for each table any of whose ids match a lab id only in another form (leading
    zeros or a trailing .0 set aside: `near`, near_matches; letter case: `case`), but a table
    whose ids match so only without leading zeros, already over near_match_warnings' limit;
    `quoted`: apostrophe_matches (`'P001` against `P001`)."""
    near, case, quoted = near or {}, case or {}, quoted or {}
    found = []
    over = _over_limit(near, limits)
    for name in sorted(set(near) | set(case) | set(quoted)):
        patients = max(t.get(name, (0, 0))[0] for t in (near, case, quoted))
        zeros, letters = near.get(name, (0, 0))[1], case.get(name, (0, 0))[1]
        marked = quoted.get(name, (0, 0))[1]
        total = zeros + letters + marked
        if not total or (name in over and not letters + marked):
            continue
        forms = [f"{n} only in letter case (p007 against P007)" for n in [letters] if n] + [
            f"{n} only with leading zeros or a trailing .0 set aside (0007 or 7.0 against 7)"
            for n in [zeros]
            if n
        ]
        forms += [
            f"{n} only with a spreadsheet's leading apostrophe set aside ('P001 against P001)"
            for n in [marked]
            if n
        ]
        found.append(
            RunWarning(
                "patient_id_forms",
                f"{total} of the {patients} patient id(s) of table {name} match no "
                f"id of table labs as written but match one in another form: "
                f"{'; '.join(forms)}. No risk factor from those {name} rows reaches a case. "
                "Ask for the ids written alike in every table.",
            )
        )
    return found


def _over_limit(near: Mapping[str, tuple[int, int]], limits: WarningThresholds) -> set[str]:
    """The tables near_match_warnings warns of."""
    enough = max(limits.min_rows_for_share, 1)
    limit = limits.max_near_match_id_share
    return {
        name
        for name, (patients, count) in near.items()
        if patients >= enough and count / patients > limit
    }
