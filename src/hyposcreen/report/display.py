"""Plain clinical words for the page and the spreadsheet (the CSV keeps machine values).

- times and dates through report/clinical_times.py ("20 Nov 2026 05:00 CET", "12 May 2026");
- lab values at clinical precision (rules/display_precision.csv);
- a code-only drug record named by its ingredient, the code after it:
  "furosemide (RxNorm 4603)" rather than "RxNorm 4603";
- severity bands written from the profile's real inequalities, so they never overlap;
- considerations as at most three short lines per case, the full text once in a legend.
"""

from __future__ import annotations

import csv
import re
from functools import cache
from importlib import resources
from typing import Any

from hyposcreen.report.clinical_times import clinical_times_in
from hyposcreen.report.numbers import format_decimals
from hyposcreen.rules.loader import Profile, RuleSet, load_rules

_LAB = re.compile(
    r"^(?P<analyte>\w+) (?P<sign>[<>≤≥] )?(?P<value>-?[\d.]+(?:e-?\d+)?) (?P<rest>.*)$"
)
# the co-factor threshold an evidence text states: '(< 3.5 mmol/L)', '(ionized < 1.12 mmol/L)'
_STATED_LIMIT = re.compile(r"\((?:\w+ )?< (?P<limit>-?\d+(?:\.\d+)?) ")
_MORE_DECIMALS = 4  # at most this many more than display_precision.csv, to stay below a limit
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


def lab_value_in_words(analyte: str, value: str, limit: str = "") -> str | None:
    """A lab evidence value at clinical precision; None for text that is no number ('1.2.3').
    `limit`: the threshold its text states ('3.5' of '(< 3.5 mmol/L)'), kept true when shown."""
    try:
        number = float(value)
    except ValueError:
        return None
    shown = clinical_value(analyte, number)
    return _below(analyte, number, float(limit), shown) if limit else shown


def stated_limit(rest: str) -> str:
    """The co-factor threshold a lab evidence text states ('3.5' of '... (< 3.5 mmol/L)'), or ''."""
    found = _STATED_LIMIT.search(rest)
    return found.group("limit") if found else ""


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
    value = lab_value_in_words(analyte, found.group("value"), stated_limit(found.group("rest")))
    if value is None:
        return text
    sign = found.group("sign") or ""
    name = analyte.replace("_", " ")
    if analyte == "calcium_total" and re.search(r"albumin \d", found.group("rest")):
        name = "calcium (albumin-corrected)"  # the value is corrected; the measured follows
    return f"{name} {sign}{value} {found.group('rest')}"


def _below(analyte: str, number: float, limit: float, shown: str) -> str:
    """`shown` (`number` at clinical precision), or with as many more decimals as it takes to
    stay below the `limit` the text states when `number` is below it: potassium 3.45 with the
    limit 3.5 shows 3.45, not '3.5 mmol/L (< 3.5 mmol/L)'."""
    places = decimals().get(analyte, 1)
    while number < limit <= float(shown) and places < decimals().get(analyte, 1) + _MORE_DECIMALS:
        places += 1
        shown = format_decimals(number, places)
    return shown


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


@cache
def _packaged_hash() -> str:
    return load_rules().content_hash


def rules_named(rules: RuleSet) -> str:
    """The rules as the page and workbook name them: their version, and for a copy whose files
    differ from the packaged rules (`--rules`, edited) the start of its files' hash, which the
    run manifest holds whole: '2026.12.15 (site copy, files 0df114bff7cb)'."""
    if rules.content_hash == _packaged_hash():
        return rules.version
    return f"{rules.version} (site copy, files {rules.content_hash[:12]})"


def page_rule_texts(rules: RuleSet) -> dict[str, Any]:
    """What the page and workbook say of the rules (review_page.PageInfo's fields)."""
    return {
        "rules_version": rules_named(rules),
        "tier_rule": tier_rule_text(rules),
        "spurious_rule": spurious_rule_text(rules),
        "delta_hours": rules.windows.delta_window_hours,
    }


def tier_rule_text(rules: RuleSet) -> str:
    """The tiers of spec §9 in words, with the rules' numbers: 'mild with ≥ 2 risk factors',
    'a fall of ≥ 5 mmol/L in 48 h' with the packaged rules."""
    limits = rules.limits
    return (
        "Tier 1 urgent: severe/profound or over-rapid correction; 2 soon: moderate, mild with "
        f"≥ {limits.soon_mild_min_risk_categories:g} risk factors, documented cramp or a fall of "
        f"≥ {abs(limits.soon_delta_48h_max):g} mmol/L in {rules.windows.delta_window_hours:g} h; "
        "3 routine: other listed cases."
    )


def spurious_rule_text(rules: RuleSet) -> str:
    """Spec §8's delta check in words with the rules' numbers (10 mmol/L, 24 h packaged)."""
    return (
        f"A drop of {rules.limits.spurious_drop_mmol_l:g} mmol/L or more below the results "
        f"before and after it, each within {rules.windows.spurious_neighbour_hours:g} h"
    )


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
