"""MIMIC-IV lab item ids in a FHIR Observation's code: MIMIC-IV on FHIR codes a lab result only
in its `mimic-d-labitems` code system (the `labevents` item id, the item's label as the
display; the display may be missing). An item of the shipped item dictionary
(rules/mimic_labitems.csv, the one `--source mimic` reads) is read as if the coding had that
item's label as its display, so a result reads the same with or without it; as for
`--source mimic`, the item id counts only while the display is missing or is the shipped label
(`_mimic_labs.confirmed_by_label`). The label is then identified by the lab dictionary like any
other lab name.
"""

from __future__ import annotations

from hyposcreen.adapters._mimic_labs import confirmed_by_label, shipped_labitems
from hyposcreen.adapters.fhir_types import system_key

# the lab item code system as MIMIC-IV on FHIR published it: under mimic.mit.edu/fhir/mimic,
# and before its URLs moved there under fhir.mimic.mit.edu (with and without `mimic-`)
LAB_ITEM_SYSTEMS = frozenset(
    {
        "http://mimic.mit.edu/fhir/mimic/codesystem/mimic-d-labitems",
        "http://fhir.mimic.mit.edu/codesystem/mimic-d-labitems",
        "http://fhir.mimic.mit.edu/codesystem/d-labitems",
    }
)


class LabItems:
    """The shipped MIMIC lab items: which codes the Observation pre-filter looks for, and the
    label a coding of one of them reads as."""

    def __init__(self) -> None:
        self.labels = {item: row["label"] for item, row in shipped_labitems().items()}

    def codes(self) -> tuple[str, ...]:
        """The shipped item ids (for the pre-filter: a line coded only by one is parsed)."""
        return tuple(sorted(self.labels))

    def label(self, coding: dict[str, object], code: str, display: str | None) -> str | None:
        """The shipped label of a lab item coding whose display is missing or that label."""
        if system_key(coding.get("system")) not in LAB_ITEM_SYSTEMS:
            return None
        shipped = self.labels.get(code)
        if shipped is None or not confirmed_by_label(display, shipped):
            return None
        return shipped
