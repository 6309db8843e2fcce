"""Plain clinical words for the page and the spreadsheet (the CSV keeps machine values).

- times in one format with the site's zone named: "20 Nov 2026 05:00 CET", dates as
  "12 May 2026";
- lab values at clinical precision (rules/display_precision.csv);
- a code-only drug record named by its ingredient, the code after it:
  "furosemide (RxNorm 4603)" rather than "RxNorm 4603";
- severity bands written from the profile's real inequalities, so they never overlap;
- considerations as at most three short lines per case, the full text once in a legend.
"""

from __future__ import annotations

import csv
import re
from datetime import date, datetime
from functools import cache, lru_cache
from importlib import resources
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from hyposcreen.report.numbers import format_decimals
from hyposcreen.rules.loader import Profile, RuleSet

_ISO = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2})?")
_LAB = re.compile(
    r"^(?P<analyte>\w+) (?P<sign>[<>≤≥] )?(?P<value>-?[\d.]+(?:e-?\d+)?) (?P<rest>.*)$"
)
_DATE = re.compile(r"\b(\d{4}-\d{2}-\d{2})\b(?!T)")
_CODED_DRUG = re.compile(r"^(?P<system>RxNorm|ATC) (?P<code>[0-9A-Za-z]+)\b")
_OPS = {"<": "<", "<=": "≤", ">": ">", ">=": "≥"}
_COMPLEMENT = {"<": "≥", "<=": ">"}


@cache
def decimals() -> dict[str, int]:
    """analyte -> decimals shown (rules/display_precision.csv)."""
    text = resources.files("hyposcreen.rules").joinpath("display_precision.csv")
    with text.open(encoding="utf-8") as handle:
        return {row["analyte"]: int(row["decimals"]) for row in csv.DictReader(handle)}


def clinical_value(analyte: str, value: float) -> str:
    return format_decimals(value, decimals().get(analyte, 1))


def clinical_time(value: Any, timezone: str) -> str:
    """'20 Nov 2026 05:00 CET' for a naive site-local time (or its ISO text); '' for missing."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    stamp = _parse_time(value)
    hour = stamp.strftime("%Y-%m-%dT%H")
    zone = _zone_of_hour(timezone, hour) or _zone_name(timezone, stamp.strftime("%Y-%m-%dT%H:%M"))
    return f"{stamp.strftime('%d %b %Y %H:%M')} {zone}"


def _parse_time(value: Any) -> datetime:
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)  # the ISO text inside evidence (fast)
        except ValueError:
            pass
    return pd.Timestamp(value)


@cache
def _zone_name(timezone: str, minute: str) -> str:
    """The zone's abbreviation at a site-local minute: an ambiguous time (clocks back) counts
    as summer time, a skipped one (clocks forward) is shifted past the gap."""
    plain = _unambiguous_zone_name(timezone, minute)
    if plain is not None:
        return plain
    try:
        return (
            pd.Timestamp(minute)
            .tz_localize(timezone, ambiguous=True, nonexistent="shift_forward")
            .strftime("%Z")
        )
    except (TypeError, ValueError):
        return timezone


def _unambiguous_zone_name(timezone: str, minute: str) -> str | None:
    """The abbreviation of a minute the clocks neither repeat nor skip, straight from the zone
    database (what pandas reads too, ~10x faster than localising a Timestamp); None for any
    other minute or a zone name zoneinfo does not know (pandas decides those)."""
    try:
        zone = ZoneInfo(timezone)
        moment = datetime.fromisoformat(minute)
    except (ValueError, KeyError, TypeError, OSError):  # ZoneInfoNotFoundError is a KeyError
        return None
    first, second = moment.replace(tzinfo=zone), moment.replace(tzinfo=zone, fold=1)
    if first.utcoffset() != second.utcoffset():  # repeated or skipped
        return None
    return first.tzname()


@cache
def _zone_of_hour(timezone: str, hour: str) -> str | None:
    """The abbreviation shared by every minute of a site-local hour (None when it changes
    within the hour): zones change at most once an hour, so its first and last minute tell."""
    first, last = _zone_name(timezone, f"{hour}:00"), _zone_name(timezone, f"{hour}:59")
    return first if first == last else None


def clinical_time_texts(values: pd.Series, timezone: str) -> pd.Series:
    """`clinical_time` of each naive site-local time, a column at once ('' for missing): the
    zone is looked up once per hour shown (per minute only in an hour the clocks change)."""
    stamps = pd.Series(pd.to_datetime(values).to_numpy())
    present = stamps.notna()
    zones = pd.Series(_zones_of_hours(stamps, timezone), dtype=object)
    unsure = (present & zones.isna()).to_numpy()
    if unsure.any():
        zones[unsure] = [_zone_name(timezone, t.strftime("%Y-%m-%dT%H:%M")) for t in stamps[unsure]]
    text = pd.Series(_day_month_year_minute(stamps), dtype=object) + " " + zones.fillna("")
    return text.where(present, "").astype(object)


def _zones_of_hours(stamps: pd.Series, timezone: str) -> np.ndarray:
    """`_zone_of_hour` of each time (None where missing or the zone changes in its hour),
    each distinct hour named once (numpy's ISO text of it: '2026-11-20T05')."""
    present = stamps.notna().to_numpy()
    zones = np.full(len(stamps), None, dtype=object)
    hours = stamps.to_numpy()[present].astype("datetime64[h]")  # floored, as dt.floor("h")
    if not len(hours):
        return zones
    distinct, position = np.unique(hours, return_inverse=True)
    years = distinct.astype("datetime64[Y]").astype("int64") + 1970
    if years.min() < 1000 or years.max() > 9999:  # not four digits: as strftime writes them
        texts = [pd.Timestamp(h).strftime("%Y-%m-%dT%H") for h in distinct]
    else:
        texts = list(np.datetime_as_string(distinct, unit="h"))
    named = np.array([_zone_of_hour(timezone, str(hour)) for hour in texts], dtype=object)
    zones[present] = named[position.reshape(-1)]
    return zones


_MONTHS = np.array("Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split())


def _day_month_year_minute(stamps: pd.Series) -> np.ndarray:
    """strftime('%d %b %Y %H:%M') of each naive time, cut out of numpy's ISO text (anything
    but a missing value)."""
    minutes = stamps.to_numpy().astype("datetime64[m]")  # floored, as %M shows a minute
    years = minutes.astype("datetime64[Y]").astype("int64")[stamps.notna().to_numpy()] + 1970
    if len(years) and (years.min() < 1000 or years.max() > 9999):  # not four digits
        return stamps.dt.strftime("%d %b %Y %H:%M").to_numpy(dtype=object, na_value="")
    iso = np.datetime_as_string(minutes, unit="m")  # 2026-11-20T05:07
    month = _MONTHS[minutes.astype("datetime64[M]").astype("int64") % 12]
    text = np.strings.add(np.strings.slice(iso, 8, 10), " ")
    for piece in (month, " ", np.strings.slice(iso, 0, 4), " ", np.strings.slice(iso, 11, 16)):
        text = np.strings.add(text, piece)
    return text.astype(object)


def clinical_times_in(text: str, timezone: str) -> str:
    """Every ISO time inside `text` rewritten in the clinical format, and every calendar
    date (a medication's start/end) in the same day-month-year form: '12 May 2026'. Each
    distinct time and date is put in words once (the page and the workbook show the same
    evidence times, a case's times recur in its evidence texts)."""
    if "-" not in text:  # neither a time nor a date
        return text
    timed = _ISO.sub(lambda m: _time_in_words(m.group(0), timezone), text)
    return _DATE.sub(lambda m: _date_in_words(m.group(1)), timed)


@lru_cache(maxsize=1 << 16)
def _time_in_words(iso: str, timezone: str) -> str:
    """The time in words; text that only looks like one (month 13, 30 Feb) as written."""
    try:
        return clinical_time(iso, timezone)
    except (ValueError, OverflowError):  # free text (a drug name), not a time
        return iso


@lru_cache(maxsize=1 << 12)
def _date_in_words(day: str) -> str:
    try:
        return date.fromisoformat(day).strftime("%d %b %Y")
    except ValueError:  # free text that only looks like a date: as written
        return day


def lab_value_in_words(analyte: str, value: str) -> str | None:
    """A lab evidence value at clinical precision; None for text that is no number ('1.2.3')."""
    try:
        number = float(value)
    except ValueError:
        return None
    return clinical_value(analyte, number)


def drug_names(rules: RuleSet) -> dict[str, str]:
    """'RxNorm 4603' / 'ATC C03CA01' -> ingredient name; an ATC combination -> its classes."""
    names: dict[str, str] = {}
    for ingredient in rules.ingredients.values():
        if ingredient.rxnorm:
            names[f"RxNorm {ingredient.rxnorm}"] = ingredient.name
        if ingredient.atc:
            names[f"ATC {ingredient.atc}".upper()] = ingredient.name
    return names


def drug_label(text: str, names: dict[str, str], combinations: dict[str, tuple[str, ...]]) -> str:
    """A medication evidence text with a code-only drug named first."""
    found = _CODED_DRUG.match(text)
    if not found:
        return text
    code = f"{found.group('system')} {found.group('code')}"
    name = coded_drug_name(code, names, combinations)
    rest = text[found.end() :]
    if rest.startswith(" ("):  # "(start ..., end ...)" joins the code's brackets
        rest = ", " + rest[2:-1] if rest.endswith(")") else rest
        return f"{name} ({code}{rest})" if name else text
    return text if name is None else f"{name} ({code}){rest}"


def coded_drug_name(
    code: str, names: dict[str, str], combinations: dict[str, tuple[str, ...]]
) -> str | None:
    """The ingredient (or an ATC combination's classes) of 'RxNorm 4603' / 'ATC C03CA01'."""
    name = names.get(code) or names.get(code.upper())
    system, _, number = code.partition(" ")
    if name is None and system == "ATC":
        classes = next(
            (c for prefix, c in combinations.items() if number.upper().startswith(prefix)),
            None,
        )
        name = " + ".join(c.replace("_", " ") for c in classes) if classes else None
    return name


def lab_label(text: str) -> str:
    """'magnesium 1.58015 mg/dL at ...' -> 'magnesium 1.58 mg/dL at ...'."""
    found = _LAB.match(text)
    if not found or found.group("analyte") not in decimals():
        return text
    analyte = found.group("analyte")
    value = lab_value_in_words(analyte, found.group("value"))
    if value is None:
        return text
    sign = found.group("sign") or ""
    name = analyte.replace("_", " ")
    if analyte == "calcium_total" and re.search(r"albumin \d", found.group("rest")):
        name = "calcium (albumin-corrected)"  # the value is corrected; the measured follows
    return f"{name} {sign}{value} {found.group('rest')}"


def evidence_in_words(
    text: str, names: dict[str, str], combinations: dict[str, tuple[str, ...]], timezone: str
) -> str:
    """The review list's evidence column ("factor: text | factor: text") in clinical words."""
    pieces = []
    for piece in text.split(" | "):
        factor, sep, body = piece.partition(": ")
        if sep:
            body = lab_label(drug_label(body, names, combinations))
        pieces.append(clinical_times_in(f"{factor}{sep}{body}", timezone))
    return " | ".join(pieces)


def band_text(profile: Profile) -> str:
    """'hyponatremia Na ≤ 135; mild 125 < Na ≤ 135; moderate 120 ≤ Na ≤ 125; severe Na < 120'
    from the profile's own inequalities (corrected sodium, mmol/L)."""
    parts = [f"hyponatremia Na {_OPS[profile.hyponatremia_op]} {profile.hyponatremia_threshold:g}"]
    bands = sorted(profile.bands, key=lambda b: (b.threshold, b.op == "<="))
    texts = []
    below: Any = None
    for band in bands:
        upper = f"Na {_OPS[band.op]} {band.threshold:g}"
        if below is None:
            texts.append(f"{band.label} {upper}")
        else:
            texts.append(f"{band.label} {below.threshold:g} {_flip(_COMPLEMENT[below.op])} {upper}")
        below = band
    return "; ".join(parts + texts[::-1])


def _flip(op: str) -> str:
    """'≥' read from the left ('120 ≤ Na'), '>' as '<' ('125 < Na')."""
    return {"≥": "≤", ">": "<"}[op]


# ------------------------------------------------------------------ considerations

# (prefix of the full text, short line, group): the groups are shown in this order, one line
# each, at most three per case; a repeat of the general correction limit is left to the legend
CONSIDERATIONS = [
    ("Sodium rose faster than the limit", "Over-rapid rise: review the correction plan now",
     "correction"),
    ("Possibly spurious", "Possibly spurious result: repeat the sample before acting",
     "spurious"),
    ("Correction risk", "Correction risk: slower limit", "correction"),
    ("Check whether the diuretic", "Diuretic: weigh a dose cut or pause", "drugs"),
    ("A listed drug (SSRI", "SIADH-associated drug: review its role", "drugs"),
    ("Low potassium, magnesium or calcium", "Low K/Mg/Ca may add to cramps", "cofactors"),
    ("Mild case:", "Mild: assess volume; fluid restriction only if indicated", "mild"),
    ("Workup incomplete", "", "workup"),  # the page shows the missing tests in their column
]  # fmt: skip
GENERAL = "Raise sodium by no more than"  # the same for every case without correction risk
_GROUP_ORDER = ["correction", "spurious", "drugs", "cofactors", "mild", "workup"]
MAX_LINES = 3


def short_considerations(full: list[str]) -> tuple[list[str], list[tuple[str, str]]]:
    """(at most three short lines, (short, full) pairs for the legend) of one case."""
    groups: dict[str, list[str]] = {}
    legend = []
    for text in full:
        if text.startswith(GENERAL):
            legend.append(("Correction limit", text))
            continue
        match = next((c for c in CONSIDERATIONS if text.startswith(c[0])), None)
        short, group = (match[1], match[2]) if match else (text, "other")
        if not short:
            continue
        if match:
            legend.append((short, text))
        groups.setdefault(group, []).append(short)
    ordered = [groups[g] for g in [*_GROUP_ORDER, "other"] if g in groups]
    lines = ["; ".join(items) for items in ordered]
    if len(lines) > MAX_LINES:
        lines = [*lines[: MAX_LINES - 1], "; ".join(lines[MAX_LINES - 1 :])]
    return lines, legend
