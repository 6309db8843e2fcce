"""Whether the lab rows set aside as an unknown LOINC hide the rules' own codes (exit 4).

An unknown LOINC is not relevant, whatever its name says (spec §2), and stays so: these rows
are not read as LOINC. But when more than rules.yaml `warnings: max_loinc_shape_share` of the
rows set aside as unknown_loinc (judged on at least `min_rows_for_share`) hold a listed LOINC
written another way (`LN:2951-2`, `LOINC:2951-2`, `2951 - 2`, `2951` without its check digit)
or no LOINC at all on a lab name the lab dictionary knows (the ingest.loinc_shapes counts of
the read), the export, not the laboratory, hides whole analytes, and the night must not pass
as quiet: `loinc_shapes` warns with the counts by shape and `file:row` examples, never a code.
"""

from __future__ import annotations

from hyposcreen.ingest.loinc_shapes import LoincShapeCounts
from hyposcreen.rules.loader import WarningThresholds
from hyposcreen.run_warnings import RunWarning, share_over

_SHAPE_TEXT = {
    "prefixed": "with a LN: or LOINC: prefix",
    "spaced": "with spaces in the code",
    "no_check_digit": "without the check digit",
    "known_name": "holding no LOINC but a lab name the lab dictionary knows",
}


def loinc_shape_warnings(
    counts: LoincShapeCounts | None, limits: WarningThresholds
) -> list[RunWarning]:
    """The `loinc_shapes` warning of a read's counts (None: a reader that does not count)."""
    if counts is None:
        return []
    found, of, limit = counts.counted, counts.unknown_rows, limits.max_loinc_shape_share
    if not share_over(found, of, limit, limits):
        return []
    shapes = ", ".join(f"{rows} {_SHAPE_TEXT[shape]}" for shape, rows in counts.rows)
    return [
        RunWarning(
            "loinc_shapes",
            f"{found} of {of} lab row(s) set aside as an unknown LOINC ({found / of:.0%}; "
            f"limit {limit:.0%}) hold a listed LOINC written another way or no LOINC on a "
            f"known lab name: {shapes} (e.g. {', '.join(counts.examples)}). An unknown LOINC "
            "is not relevant whatever its name says, so these results are not screened and "
            "the list may lack patients. Ask the sender to export LOINC codes as NNNN-N "
            "(digits, a hyphen and the check digit, nothing else); a column holding the "
            "laboratory's own codes is mapped as lab_name, not loinc, in the site mapping "
            "(the site's names in its lab_dictionary). coverage.csv names each code.",
        )
    ]
