"""The lab items of a MIMIC-IV extract: which analyte each `itemid` holds (see
`hyposcreen.adapters.mimic`), from the site lab dictionary, the shipped
`rules/mimic_labitems.csv` and the extract's own `d_labitems`.

`d_labitems` has one row per item id. An extract whose dictionary lists an item id on several
rows that disagree on the test (a label or fluid telling another analyte, or serum against
urine) cannot tell which test the item's results hold: the file's row order must not decide
(keeping the last row read a urine or ascites sodium as serum sodium when a blood row came
first). Such an item is set aside (`conflicting_itemid`), counted with the first `file:row` of
its rows; rows that only repeat a row (or differ in what does not change the test, such as
the category) are read once. Rows of `d_labitems` (and of `admissions`, `d_icd_diagnoses`)
that did not split into the header's columns are counted with their places too
(`dictionary_counts`); mimic_dictionary_rows warns about both.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from hyposcreen.adapters._files import SourceTable, find_source_files, id_text
from hyposcreen.config import SiteMapping
from hyposcreen.rules.loader import RuleSet, load_source_map, normalize_label
from hyposcreen.rules.matching import identify_analytes

SUBFOLDERS = ("hosp",)
CONFLICTING = "conflicting_itemid"  # the labevents reason of an item set aside so
EXAMPLES = 3  # places named per count


def mimic_files(input_dir: Path, table: str) -> list[Path]:
    """Files of one MIMIC table, in the input folder or its hosp/ subfolder."""
    return find_source_files(input_dir, table, SUBFOLDERS)


def auxiliary(input_dir: Path, stem: str, mapping: SiteMapping) -> SourceTable | None:
    """A dictionary / admissions table when the extract has it."""
    files = mimic_files(input_dir, stem)
    return SourceTable(stem, files, mapping) if files else None


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


def lab_items(
    input_dir: Path, mapping: SiteMapping, rules: RuleSet
) -> tuple[pd.DataFrame, list[SourceTable]]:
    """Every item id known (shipped, the extract's d_labitems, the site's dictionary) with its
    label, fluid, analyte and not-relevant reason; the d_labitems table read, if any, with
    its item ids listed on disagreeing rows noted (`notes[CONFLICTING]`)."""
    shipped = pd.DataFrame(load_source_map("mimic_labitems.csv"), dtype="str")
    shipped = shipped[["itemid", "label", "fluid", "category"]]
    dictionary = auxiliary(input_dir, "d_labitems", mapping)
    tables, conflicting = [], pd.Series(dtype="str")
    if dictionary is not None:
        given = dictionary.read_all(
            ("itemid", "label", "fluid", "category"), required=("itemid", "label")
        )
        given = given.assign(itemid=id_text(given["itemid"])).dropna(subset=["itemid"])
        conflicting = _conflicting_items(given, rules, dictionary)
        # one row per item id whatever the file's order (a conflicting item is set aside)
        given = given.sort_values(["itemid", "label", "fluid", "category"], kind="stable")
        shipped = pd.concat([shipped, given[shipped.columns]], ignore_index=True)
        tables.append(dictionary)
    # an item id the site's lab dictionary names counts though neither dictionary holds it
    known = set(shipped.itemid)
    site_ids = sorted(k for k in rules.lab_dictionary if k.isdigit() and k not in known)
    shipped = pd.concat(
        [shipped, pd.DataFrame({"itemid": site_ids}, dtype="str")], ignore_index=True
    )
    items = shipped.drop_duplicates("itemid", keep="last").reset_index(drop=True)
    items = identify_items(items, rules)
    unclear = items["itemid"].isin(conflicting)
    items.loc[unclear, "analyte"] = None
    items.loc[unclear, "reason"] = CONFLICTING
    return items, tables


def _conflicting_items(given: pd.DataFrame, rules: RuleSet, table: SourceTable) -> pd.Series:
    """The item ids d_labitems lists on rows telling different tests (analyte, reason, or the
    fluid of an item read as an analyte), noted on `table` with the first places of their
    rows. An item of no interest by every row is not one, whatever its fluids."""
    label = given["label"].map(normalize_label, na_action="ignore")
    fluid = given["fluid"].map(normalize_label, na_action="ignore")
    distinct = given.loc[~pd.DataFrame({"i": given["itemid"], "l": label, "f": fluid}).duplicated()]
    repeated = distinct.loc[distinct["itemid"].duplicated(keep=False)]
    if repeated.empty:
        return pd.Series(dtype="str")
    # each row judged with its own label: one row per item id in each judged frame
    rank = repeated.groupby("itemid").cumcount()
    judged = pd.concat([identify_items(repeated.loc[rank == k], rules) for k in sorted(set(rank))])
    # the fluid counts where it becomes a result's specimen type: an item read as an analyte
    fluid = judged["fluid"].map(normalize_label, na_action="ignore").fillna("")
    told = judged["analyte"].fillna("") + "|" + judged["reason"].fillna("")
    told += "|" + fluid.where(judged["analyte"].notna(), "")
    differs = told.groupby(judged["itemid"]).nunique() > 1
    conflicting = pd.Series(sorted(differs.index[differs]), dtype="str")
    rows = given.loc[given["itemid"].isin(conflicting)]
    rows = rows.assign(line=pd.to_numeric(rows["source_row"])).sort_values(["source_file", "line"])
    places = [f"{f}:{r}" for f, r in zip(rows["source_file"], rows["source_row"], strict=True)]
    if len(conflicting):
        table.notes[CONFLICTING] = (len(conflicting), tuple(places[:EXAMPLES]))
    return conflicting


def dictionary_counts(
    tables: list[SourceTable],
) -> tuple[dict[str, dict[str, int]], dict[str, tuple[str, ...]]]:
    """source_counts of the tables read to map a table (rows read; rows that did not split
    into the header's columns, `unsplit`; the tables' notes) and the first places of each."""
    counts: dict[str, dict[str, int]] = {}
    places: dict[str, tuple[str, ...]] = {}
    for table in tables:
        counts[table.name] = {"read": table.rows_read}
        found = table.unsplit_places()
        if found:
            counts[table.name]["unsplit"] = len(found)
            places[table.name] = tuple(found[:EXAMPLES])
        for note, (count, where) in table.notes.items():
            counts[table.name][note] = count
            places[f"{table.name}_{note}"] = where
    return counts, places
