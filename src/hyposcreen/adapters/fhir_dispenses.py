"""When a FHIR MedicationDispense makes its drug active: from the hand-over for its days' supply.

A pharmacy export (an outpatient Epic or Cerner feed) may hold the drugs a patient takes only as
dispenses. A dispense starts at `whenHandedOver`, else `whenPrepared`, and runs for its
`daysSupply` (days or weeks; `d`, `day`, `wk` ...): its end is the start plus that supply, and
spec §6 adds the grace after it. Without a supply it has no end, so its status decides as spec
§6 says (completed: active until start + 30 days, the usual month's supply). A dispense the
pharmacy declined gave no drug (not-done).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from hyposcreen.adapters.fhir_types import first_time, text

# daysSupply units (`unit` or UCUM `code`, lower case) -> days per unit
_DAYS_PER_UNIT = {
    "d": 1,
    "day": 1,
    "days": 1,
    "wk": 7,
    "week": 7,
    "weeks": 7,
}
DECLINED = "declined"  # MedicationDispense.status: the drug was not dispensed


def dispense_span(resource: dict[str, Any]) -> tuple[str | None, str | None]:
    """(start, end) of a dispense as time texts: the end written like the start (same offset;
    a date alone stays a date); None when the supply or the start cannot be read."""
    start = first_time(resource, "whenHandedOver", "whenPrepared")
    days = _supply_days(resource.get("daysSupply"))
    if start is None or days is None:
        return start, None
    try:
        moment = datetime.fromisoformat(start.replace("Z", "+00:00"))
    except ValueError:
        return start, None
    end = moment + timedelta(days=days)
    if len(start) == 10:  # a date alone: its end is a date too
        return start, end.date().isoformat()
    return start, end.isoformat()


def _supply_days(quantity: object) -> float | None:
    """The days a daysSupply quantity stands for (no unit: days, as its name says)."""
    if not isinstance(quantity, dict):
        return None
    value = quantity.get("value")
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        return None
    unit = text(quantity.get("code")) or text(quantity.get("unit")) or "d"
    per_unit = _DAYS_PER_UNIT.get(unit.lower())
    return None if per_unit is None else value * per_unit
