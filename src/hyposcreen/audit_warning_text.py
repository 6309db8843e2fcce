"""The audit's warnings as its shared outputs state them: no count the tables would suppress.

A run's warning messages (recipe_warnings.run_warnings and the modules it gathers) carry counts
and `file:row` references, fit for a night's outputs, which the review team reads. The audit's
warnings go to audit.html and audit_manifest.json, which may go to a QI committee and where a
count from 1 to min_cell-1 is suppressed. A run's message would give such counts back:
`no usable serum sodium result in the window (3 sodium row(s) dated in it, none usable)` is the
month's `sodium_results_in_window`, which the tables hide as `<11`; `2 sodium result(s) at or
below 135 were set aside (…; e.g. labs.csv:40, labs.csv:41)` is results its funnel loses, told
by the number and again by the number of examples.

So a message holding a number from 1 to min_cell-1 as a word of its own (or, of rows set
aside, a part `20 of 21` whose rest is one) (not a part of a code,
a date, a time, a decimal, a percentage or a `file:row`) is replaced, whole, by one that names
its code and where its counts are: a run over the month, whose outputs are the review team's.
A number this takes for a count that is none (`§6`) only costs the message its detail. So
too (audit.py, tells_any) a message holding the count of a cell its period's tables hide to
protect another: `120 sodium row(s) dated in it` of a month whose 120 is `hidden` gives a `<11`
month back from the total. Other messages stay as they are.
"""

from __future__ import annotations

import re

# a number standing alone: not inside a code (2951-2, E87.1, ICD-10), a date (2026-10), a
# time (05:00), a decimal, a percentage (5%) or a `file:row` (labs.csv:40)
_NUMBER = re.compile(r"(?<![\w.:/%-])\d+(?![\w:%/-]|\.\d)")
# `x of y` (`20 of 21 lab row(s)`): its rest, y - x, is a count too
_PART = re.compile(r"(?<![\w.:/%-])(\d+) of (\d+)(?![\w:%/-]|\.\d)")
_SET_ASIDE = re.compile(r"\b(quarantined|set aside)\b")


def shown_count(count: int, min_cell: int) -> int | str:
    """`count` as the audit's shared outputs may show it: 0 or at least min_cell, else `<k`."""
    return count if count == 0 or count >= min_cell else f"<{min_cell}"


def small_count(message: str, min_cell: int) -> bool:
    """Whether `message` holds a number from 1 to min_cell-1 standing alone, or, when it tells
    rows set aside from the screen, a part `x of y` whose rest, y - x, is one: `20 of 21 lab
    row(s) … carry a unit the rules do not accept … quarantined` leaves 1 row, and a month's
    `<11` usable results are at most that. (Rows the screen still reads, `159 of 169 …
    have an effective time … as midnight`, bound no count of the tables.)"""
    if any(0 < int(found) < min_cell for found in _NUMBER.findall(message)):
        return True
    if not _SET_ASIDE.search(message):
        return False
    return any(0 < int(whole) - int(part) < min_cell for part, whole in _PART.findall(message))


def tells_any(message: str, counts: set[int]) -> bool:
    """Whether `message` holds one of `counts` as a number standing alone."""
    return any(int(found) in counts for found in _NUMBER.findall(message))


def shared_message(code: str, message: str, min_cell: int) -> str:
    """`message` as audit.html and audit_manifest.json may state it (see above)."""
    if min_cell < 2 or not small_count(message, min_cell):
        return message
    return count_withheld(code, min_cell)


def count_withheld(code: str, min_cell: int) -> str:
    """What the audit says of a warning `code` whose message would tell a count below
    min_cell (outright, or as a share of rows a reader can count)."""
    return (
        f"a run over this period warns `{code}` with a count the audit tables suppress "
        f"(below {min_cell}) or hide to protect one, not shown here; `hyposcreen run` over the "
        "period gives the message, with its counts and rows, to the review team."
    )
