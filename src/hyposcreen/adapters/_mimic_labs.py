"""MIMIC-IV `labevents` rows to canonical lab rows, item by item (see
`hyposcreen.adapters.mimic`; the items: adapters._mimic_lab_items, whose names this module
re-exports)."""

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
    finish,
    id_text,
    normalize_ids,
    outside_read_window,
)
from hyposcreen.adapters._mimic_lab_items import (
    SUBFOLDERS,
    auxiliary,
    confirmed_by_label,
    identify_items,
    lab_items,
    mimic_files,
    shipped_labitems,
)
from hyposcreen.config import SiteMapping
from hyposcreen.ingest.canonical import SCHEMAS
from hyposcreen.ingest.tabular import RowFilter
from hyposcreen.rules.loader import RuleSet

__all__ = [
    "SUBFOLDERS", "Reader", "auxiliary", "censored_comment", "confirmed_by_label",
    "identify_items", "mimic_files", "read_labevents", "shipped_labitems",
]  # fmt: skip

Reader = tuple[list[pd.DataFrame], Counter[str], Counter[str], list[SourceTable]]


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
# the period ending the comment's sentence after a decimal ("LESS THAN 0.5."): not the number's
_SENTENCE_END = r"(\.\d+)\.$"


def censored_comment(comments: pd.Series) -> pd.Series:
    """The comment text of results censored there (e.g. '<20.'; 'LESS THAN 0.5.' without the
    period that ends its sentence), else null."""
    text = comments.astype("str").str.strip().where(comments.notna())
    text = text.str.replace(_SENTENCE_END, r"\1", regex=True)
    hit = text.str.match(_CENSORED_COMMENT, case=False).fillna(False).astype(bool)
    return text.where(hit)


_LABEVENTS = (
    "subject_id", "hadm_id", "specimen_id", "itemid", "charttime", "storetime", "value",
    "valuenum", "valueuom", "ref_range_lower", "ref_range_upper", "comments",
)  # fmt: skip


def read_labevents(
    input_dir: Path, table: SourceTable, rules: RuleSet, mapping: SiteMapping, row_filter: RowFilter
) -> Reader:
    items, extra = lab_items(input_dir, mapping, rules)
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
