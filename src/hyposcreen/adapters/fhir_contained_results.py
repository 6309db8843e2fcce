"""The results a FHIR resource holds inside itself: the Observations `contained` in a
DiagnosticReport (`result: #r1`, as HL7's own laboratory example writes it) or in a panel
Observation (`hasMember: #na`, as some HL7 v2 converters write a basic metabolic panel).

Each contained result is completed from its holder where it is silent (patient, encounter,
effective time, issued, specimen and the holder's other contained resources); a holder entered
in error or cancelled voids them. A report's rows are those of its results; a panel's are those
of its members, and its own when its own code or a component is one the screen reads (a panel
code, `51990-0`, is not).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hyposcreen.adapters.fhir_types import first_item, objects, text

Resource = dict[str, Any]
Row = tuple[object, ...]

_HOLDER_CONTEXT = ("subject", "patient", "encounter", "context", "issued")
_EFFECTIVE_KEYS = ("effectiveDateTime", "effectivePeriod", "effectiveInstant")
_VOIDED = frozenset({"entered-in-error", "cancelled"})


def contained_results(holder: Resource) -> list[Resource]:
    """The Observations a DiagnosticReport or an Observation holds as contained resources, each
    completed from the holder where it is silent."""
    contained = objects(holder.get("contained"))
    found = []
    for item in contained:
        if item.get("resourceType") != "Observation":
            continue
        result = {k: holder[k] for k in _HOLDER_CONTEXT if k in holder}
        if not any(k in item for k in _EFFECTIVE_KEYS):
            result.update({k: holder[k] for k in _EFFECTIVE_KEYS if k in holder})
        if (specimen := first_item(holder.get("specimen"))) is not None:
            result["specimen"] = specimen
        result.update(item)
        result.setdefault("contained", contained)
        status = text(holder.get("status"))
        if status in _VOIDED or not text(result.get("status")):
            result["status"] = status
        found.append(result)
    return found


def result_rows(
    resource: Resource,
    rows_of: Callable[[Resource], list[Row]],
    relevant: Callable[[Resource], bool],
) -> list[Row]:
    """The lab rows of a DiagnosticReport or an Observation (`rows_of` one Observation),
    with those of the results it contains."""
    members = [row for item in contained_results(resource) for row in rows_of(item)]
    if resource["resourceType"] == "DiagnosticReport":
        return members
    if members and not relevant(resource):
        return members
    return [*rows_of(resource), *members]
