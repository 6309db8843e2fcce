"""MIMIC-IV `labevents` rows to canonical lab rows, item by item (see
`hyposcreen.adapters.mimic`)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from hyposcreen.adapters._files import (
    Prefilter,
    SourceTable,
    batch_column,
    find_source_files,
    finish,
    id_text,
    normalize_ids,
    outside_read_window,
)
from hyposcreen.config import SiteMapping
from hyposcreen.ingest.canonical import SCHEMAS
from hyposcreen.ingest.tabular import RowFilter
from hyposcreen.rules.loader import RuleSet, load_source_map, normalize_label
from hyposcreen.rules.matching import identify_analytes

SUBFOLDERS = ("hosp",)
Reader = tuple[list[pd.DataFrame], Counter[str], Counter[str], list[SourceTable]]


def mimic_files(input_dir: Path, table: str) -> list[Path]:
    """Files of one MIMIC table, in the input folder or its hosp/ subfolder."""
    return find_source_files(input_dir, table, SUBFOLDERS)


def auxiliary(input_dir: Path, stem: str, mapping: SiteMapping) -> SourceTable | None:
    """A dictionary / admissions table when the extract has it."""
    files = mimic_files(input_dir, stem)
    return SourceTable(stem, files, mapping) if files else None


# ------------------------------------------------------------------ labevents


def identify_items(items: pd.DataFrame, rules: RuleSet) -> pd.DataFrame:
    """Analyte (or not-relevant reason) of each lab item: itemid, label, fluid -> analyte, reason.

    Site dictionary entry for the item id, else the shipped item dictionary, else the label;
    the fluid decides between blood, urine and other body fluids. The shipped entries are
    recalled item ids: one counts only while the item's label (the extract's d_labitems when
    it has the item) is the shipped label or missing, so the extract's own label decides.
    """
    given = dict(zip(items["itemid"].astype("str"), items["label"], strict=True))
    extra = {
        k: r["analyte"]
        for k, r in shipped_labitems().items()
        if k not in rules.lab_dictionary and confirmed_by_label(given.get(k), r["label"])
    }
    known = rules.with_lab_dictionary(extra)
    itemid = items["itemid"].astype("str")
    by_id = itemid.map(lambda i: normalize_label(i) in known.lab_dictionary).astype(bool)
    probe = pd.DataFrame(
        {
            "loinc": pd.Series(None, index=items.index, dtype="str"),
            "lab_name": itemid.where(by_id | items["label"].isna(), items["label"]),
            "specimen_type": items["fluid"],
        }
    )
    analyte, reason = identify_analytes(probe, known)
    return items.assign(analyte=analyte, reason=reason)


def shipped_labitems() -> dict[str, dict[str, str]]:
    """The shipped item dictionary (rules/mimic_labitems.csv): item id -> its row (label,
    fluid, category, analyte). Read by this adapter and by the FHIR one (MIMIC-IV on FHIR
    codes its lab Observations by the same item ids)."""
    return {r["itemid"]: r for r in load_source_map("mimic_labitems.csv")}


def confirmed_by_label(given: object, shipped: str) -> bool:
    """Whether a shipped item id counts: the extract's label of the item is missing or is
    the shipped label (the shipped ids are recalled; a different label means another test)."""
    return bool(pd.isna(given)) or normalize_label(str(given)) == normalize_label(shipped)


def _lab_items(input_dir: Path, mapping: SiteMapping, rules: RuleSet) -> tuple[pd.DataFrame, list]:
    shipped = pd.DataFrame(load_source_map("mimic_labitems.csv"), dtype="str")
    shipped = shipped[["itemid", "label", "fluid", "category"]]
    dictionary = auxiliary(input_dir, "d_labitems", mapping)
    tables = []
    if dictionary is not None:
        given = dictionary.read_all(
            ("itemid", "label", "fluid", "category"), required=("itemid", "label")
        )
        given = given.assign(itemid=id_text(given["itemid"])).dropna(subset=["itemid"])
        shipped = pd.concat([shipped, given[shipped.columns]], ignore_index=True)
        tables.append(dictionary)
    # an item id the site's lab dictionary names counts though neither dictionary holds it
    known = set(shipped.itemid)
    site_ids = sorted(k for k in rules.lab_dictionary if k.isdigit() and k not in known)
    shipped = pd.concat(
        [shipped, pd.DataFrame({"itemid": site_ids}, dtype="str")], ignore_index=True
    )
    items = shipped.drop_duplicates("itemid", keep="last").reset_index(drop=True)
    return identify_items(items, rules), tables


def _labevents_prefilter(items: pd.DataFrame, row_filter: RowFilter) -> Prefilter:
    """Relevant item ids dated near the read window, in Arrow (labevents has 100M+ rows)."""
    relevant = pa.array(sorted(items.loc[items["analyte"].notna(), "itemid"]), pa.string())
    reasons = items.set_index("itemid")["reason"].dropna().to_dict()

    def prefilter(batch: pa.RecordBatch) -> tuple[pa.Array, Counter[str]]:
        itemid = normalize_ids(batch_column(batch, "itemid"))
        known = pc.fill_null(pc.is_in(itemid, relevant), False)
        dropped: Counter[str] = Counter()
        for entry in pc.value_counts(pc.filter(itemid, pc.invert(known))).to_pylist():
            reason = reasons.get(entry["values"], "unknown_itemid")
            dropped[reason] += entry["counts"]
            if reason.startswith("unknown"):  # the coverage report lists these item ids
                row_filter.unrecognised[("itemid", str(entry["values"]))] += entry["counts"]
        outside = pc.and_(known, outside_read_window(batch.column("charttime"), row_filter.window))
        dropped["outside_window"] += pc.sum(outside).as_py() or 0
        return pc.and_(known, pc.invert(outside)), dropped

    return prefilter


# MIMIC-IV keeps some censored results only in `comments` ("<20.", "GREATER THAN 500.")
_CENSORED_COMMENT = r"^\s*(?:<=|>=|<|>|less\s+than|greater\s+than)\s*[+-]?(?:\d+\.?\d*|\.\d+)\s*$"


def censored_comment(comments: pd.Series) -> pd.Series:
    """The comment text of results censored there (e.g. '<20.'), else null."""
    text = comments.astype("str").str.strip().where(comments.notna())
    hit = text.str.match(_CENSORED_COMMENT, case=False).fillna(False).astype(bool)
    return text.where(hit)


_LABEVENTS = (
    "subject_id", "hadm_id", "specimen_id", "itemid", "charttime", "storetime", "value",
    "valuenum", "valueuom", "ref_range_lower", "ref_range_upper", "comments",
)  # fmt: skip


def read_labevents(
    input_dir: Path, table: SourceTable, rules: RuleSet, mapping: SiteMapping, row_filter: RowFilter
) -> Reader:
    items, extra = _lab_items(input_dir, mapping, rules)
    by_item = items.set_index("itemid")
    label = by_item["label"].fillna("")
    # the selector's work is done per item above; only the read window still applies
    window_only = RowFilter(window=row_filter.window)
    not_relevant: Counter[str] = Counter()
    frames = []
    for raw in table.batches(
        _LABEVENTS,
        required=("subject_id", "itemid", "charttime"),
        one_of=("value", "valuenum"),
        prefilter=_labevents_prefilter(items, row_filter),
        dropped=not_relevant,
    ):
        itemid = id_text(raw["itemid"])
        value_raw = raw["value"].where(raw["value"].notna(), raw["valuenum"])
        value_raw = value_raw.where(value_raw.notna(), censored_comment(raw["comments"]))
        no_result = value_raw.isna() | (raw["valuenum"].isna() & (raw["value"] == "___"))
        cancelled = raw["comments"].str.contains("cancel", case=False).fillna(False).astype(bool)
        frame = pd.DataFrame(
            {
                "patient_id": id_text(raw["subject_id"]),
                "encounter_id": id_text(raw["hadm_id"]),
                "specimen_id": id_text(raw["specimen_id"]),
                "specimen_time": raw["charttime"],
                "result_time": raw["storetime"],
                "value_raw": value_raw,
                "value": raw["valuenum"],
                "unit": raw["valueuom"],
                "lab_name": (itemid.map(label) + " (itemid " + itemid + ")").str.lstrip(),
                "specimen_type": itemid.map(by_item["fluid"]),
                "status": pd.Series("cancelled", index=raw.index, dtype="str").where(
                    no_result & cancelled
                ),
                "ref_low": raw["ref_range_lower"],
                "ref_high": raw["ref_range_upper"],
                "analyte": itemid.map(by_item["analyte"]),
                "source_file": raw["source_file"],
                "source_row": raw["source_row"],
            }
        )
        frames.append(finish(frame, SCHEMAS["labs"], mapping, window_only, not_relevant))
    unmapped = Counter({k: v for k, v in not_relevant.items() if k != "outside_window"})
    return frames, not_relevant, unmapped, extra
