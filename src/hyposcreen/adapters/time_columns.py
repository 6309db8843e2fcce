"""The source's own name for each canonical time column, as a message about times that do not
read names it: `measurement_datetime or measurement_date (read as specimen_time)`, not the
canonical name a data engineer does not find in the delivery. Column names only, never values.

- canonical: the site mapping's column (`tables.labs.columns.specimen_time: COLLECTED`), or
  its date and time-of-day columns read together; a column under its canonical name is named
  so, without `read as`.
- omop, mimic: the columns the adapters read each time from (adapters/omop.py, mimic.py): a
  datetime column, else its date column. A MIMIC diagnosis carries no time: it is dated at
  the start of its stay in `admissions` (admittime, or edregtime when earlier), so an empty
  one means its admission is not there (`absent`).
- fhir: the canonical names (a time is read from one of several elements of a resource), but
  a Condition's: its own dates, else the start of its Encounter (MIMIC-IV on FHIR dates its
  diagnoses so), so an empty one means the Condition has no date and its Encounter is not in
  the export (`absent`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from hyposcreen.config import SiteMapping

_ADAPTER_TIMES: dict[str, dict[tuple[str, str], str]] = {
    "omop": {
        ("labs", "specimen_time"): "measurement_datetime or measurement_date",
        ("medications", "start_time"): "drug_exposure_start_datetime or drug_exposure_start_date",
        ("medications", "end_time"): "drug_exposure_end_datetime or drug_exposure_end_date",
        ("diagnoses", "recorded_time"): "condition_start_datetime or condition_start_date",
    },
    "mimic": {
        ("labs", "specimen_time"): "charttime",
        ("medications", "start_time"): "starttime or startdate",
        ("medications", "end_time"): "stoptime or enddate",
        ("diagnoses", "recorded_time"): "admittime (or edregtime) of the stay in admissions",
    },
    "fhir": {
        ("diagnoses", "recorded_time"): (
            "recordedDate, onsetDateTime or onsetPeriod.start, else the period.start of the "
            "Condition's Encounter"
        ),
    },
}
# why a time the adapter gives is empty, where that is known: (table, column) -> the reason
_ADAPTER_ABSENT: dict[str, dict[tuple[str, str], str]] = {
    "mimic": {
        ("diagnoses", "recorded_time"): (
            "their admission (hadm_id) is not in the admissions file, or has no admittime there "
            "(a diagnoses_icd row carries no time of its own and is dated at the start of its "
            "stay). An admissions file of part of the stays, or diagnoses of stays it lacks?"
        ),
    },
    "fhir": {
        ("diagnoses", "recorded_time"): (
            "the Condition carries no date of its own and the Encounter it names is not in the "
            "export, or has no period.start (MIMIC-IV on FHIR dates its diagnoses only by their "
            "stay). An export made without its Encounter resources (a _type list leaving them "
            "out)? Ask for them with the export."
        ),
    },
}


@dataclass(frozen=True)
class TimeColumns:
    """Each (table, canonical time column)'s name in the source (`names`), and why such a time
    is empty where the source tells (`absent`); a column of neither goes by its own name."""

    names: Mapping[tuple[str, str], str] = field(default_factory=dict)
    absent: Mapping[tuple[str, str], str] = field(default_factory=dict)

    def shown(self, table: str, column: str) -> str:
        """The column as a message names it: `COLLECTED (read as specimen_time)`."""
        source = self.names.get((table, column))
        return column if source is None or source == column else f"{source} (read as {column})"


def time_columns(source: str, mapping: SiteMapping) -> TimeColumns:
    """The time columns' names of a run reading `source` with the site `mapping`."""
    if source != "canonical":
        return TimeColumns(_ADAPTER_TIMES.get(source, {}), _ADAPTER_ABSENT.get(source, {}))
    names = {}
    for table, read in mapping.tables.items():
        for column, site in read.columns.items():
            parts = read.joined.get(column)
            names[table, column] = f"{parts[0]} and {parts[1]}" if parts else site
    return TimeColumns(names)
