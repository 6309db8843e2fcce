"""OMOP vocabulary lookups: concept ids to LOINC / UCUM / ICD / SNOMED codes and drug ingredients.

The extract's own `concept` and `concept_ancestor` tables are used when present (read with a
projection and an Arrow filter, so a full Athena download stays cheap); the small shipped map
`rules/omop_concepts.csv` fills in when they are absent or incomplete. The same scan collects
every concept id the `concept` table holds (adapters._omop_concept_ids: which ids of the events
it lacks). A vocabulary table holding no row (a header alone) is read as absent, and its rows
that do not split into the header's columns (a wrong number of tabs) are counted with their
`file:row`: both warn (omop_vocabulary_gaps).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from hyposcreen.adapters._files import (
    Prefilter,
    SourceTable,
    batch_column,
    find_source_files,
    id_text,
    normalize_ids,
)
from hyposcreen.adapters._omop_concept_ids import HeldConcepts, id_numbers
from hyposcreen.adapters._omop_vocab_rows import note_read, runs_on, without_run_on
from hyposcreen.config import SiteMapping
from hyposcreen.errors import InputError
from hyposcreen.rules.loader import RuleSet, load_source_map
from hyposcreen.rules.loinc_text import loinc_key

OPERATORS = ("<", ">", "<=", ">=", "=")
_RXNORM = ("RxNorm", "RxNorm Extension")
# vocabularies kept whole from a concept table; RxNorm Extension and SNOMED only in part
_KEEP_WHOLE = ("LOINC", "UCUM", "ICD10CM", "ICD9CM", "ICD10", "Gender", "RxNorm")
_CONCEPT_COLUMNS = (
    "concept_id",
    "concept_name",
    "vocabulary_id",
    "concept_class_id",
    "concept_code",
)
ICD_SYSTEMS = {"ICD10CM": "ICD-10-CM", "ICD10": "ICD-10-CM", "ICD9CM": "ICD-9-CM"}
CDM_TABLES = (
    "measurement", "drug_exposure", "condition_occurrence", "person", "concept",
    "concept_ancestor", "visit_occurrence",
)  # fmt: skip


def omop_files(input_dir: Path, stem: str) -> list[Path]:
    """Files of one OMOP table: in the input folder, else in the one subfolder that has it
    (exports often put the CDM tables and the vocabulary in folders of their own)."""
    found = find_source_files(input_dir, stem)
    if found or not input_dir.is_dir():
        return found
    subfolders = table_subfolders(input_dir)
    hits = [(d, files) for d in subfolders if (files := find_source_files(d, stem))]
    if len(hits) > 1:
        names = ", ".join(f"{d.name}/" for d, _ in hits)
        raise InputError(
            f"Input folder {input_dir} holds the {stem} table in several subfolders ({names}); "
            "point --input at the one to screen."
        )
    return hits[0][1] if hits else []


def table_subfolders(input_dir: Path) -> list[Path]:
    """The input folder's subfolders that may hold tables (`cdm/`, `vocabulary/`), in name
    order: not a folder of one table's parts (`measurement/`)."""
    if not input_dir.is_dir():
        return []
    return [
        d for d in sorted(input_dir.iterdir()) if d.is_dir() and d.name.lower() not in CDM_TABLES
    ]


@dataclass
class Vocabulary:
    """Concept lookups indexed by concept id (text)."""

    concepts: pd.DataFrame  # index concept_id; vocabulary, code, name, concept_class
    ingredients: pd.Series  # drug concept id -> listed ingredient names ("a / b")
    ingredient_rxnorm: pd.Series  # drug concept id -> RxNorm code of its single listed ingredient
    # per vocabulary table read (concept, concept_ancestor): file records and row counts
    records: dict[str, list[dict[str, object]]] = field(default_factory=dict)
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    has_ancestors: bool = False
    # every concept id of a concept table with rows (None: no such table, judge none)
    held: HeldConcepts | None = None
    # per vocabulary table: the first `file:row` of the rows not read as rows (_omop_vocab_rows)
    row_places: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def used_by(self, tables: tuple[str, ...]) -> tuple[list[dict[str, object]], dict]:
        """File records and source counts of the vocabulary tables a canonical table used."""
        records = [r for t in tables for r in self.records.get(t, [])]
        return records, {t: self.counts[t] for t in tables if t in self.counts}

    _columns: dict[tuple[str, tuple[str, ...]], pd.Series] = field(default_factory=dict)

    def lookup(self, ids: pd.Series, what: str, vocabularies: tuple[str, ...] = ()) -> pd.Series:
        """`what` (code, name, vocabulary) of each concept id, null when unknown or when its
        vocabulary is not one of `vocabularies`."""
        key = (what, vocabularies)
        if key not in self._columns:  # built once: its index hash table is reused per batch
            table = self.concepts
            if vocabularies:
                table = table.loc[table["vocabulary"].isin(vocabularies)]
            self._columns[key] = table[what]
        return id_text(ids).map(self._columns[key]).astype("str").where(lambda s: s.notna())

    def operator(self, ids: pd.Series) -> pd.Series:
        name = self.lookup(ids, "name")
        return name.where(name.isin(OPERATORS))

    def loinc_ids(self) -> pd.Series:
        """concept id -> LOINC code of every LOINC concept known, its dash read as `-` (a
        vocabulary written `2951–2` names the rules' `2951-2`: rules.loinc_text)."""
        table = self.concepts
        return table.loc[table["vocabulary"] == "LOINC", "code"].map(loinc_key, na_action="ignore")


def _shipped() -> pd.DataFrame:
    rows = pd.DataFrame(load_source_map("omop_concepts.csv"), dtype="str")
    frame = pd.DataFrame(
        {
            "concept_id": rows["concept_id"],
            "vocabulary": rows["vocabulary"],
            "code": rows["concept_code"],
            "name": rows["name"],
            "concept_class": rows["vocabulary"].map({"RxNorm": "Ingredient"}),
        }
    )
    return frame.astype("str").where(frame.notna())


def _concept_prefilter(rules: RuleSet, every_id: list[pa.Array]) -> Prefilter:
    """The concepts the screen reads; `every_id` collects each batch's concept ids, all of
    them (adapters._omop_concept_ids)."""
    # SNOMED: the listed codes, and the hints' (read only to warn: rules.condition_hints)
    listed = {c.code for c in rules.condition_codes if c.code_system == "SNOMED"}
    snomed_codes = sorted(listed | set(rules.snomed_condition_hints))

    def keep(batch: pa.RecordBatch) -> tuple[pa.Array, Counter[str]]:
        # a record run on over line ends is not used but goes on to be counted
        run_on = runs_on(batch, _CONCEPT_COLUMNS)
        every_id.append(id_numbers(pc.filter(batch_column(batch, "concept_id"), pc.invert(run_on))))
        vocab = batch_column(batch, "vocabulary_id")
        klass = batch_column(batch, "concept_class_id")
        code = batch_column(batch, "concept_code")
        name = batch_column(batch, "concept_name")
        whole = pc.is_in(vocab, pa.array(_KEEP_WHOLE))
        ingredient = pc.and_kleene(
            pc.equal(vocab, "RxNorm Extension"), pc.equal(pc.utf8_lower(klass), "ingredient")
        )
        snomed = pc.and_kleene(
            pc.equal(vocab, "SNOMED"),
            pc.or_kleene(
                pc.is_in(code, pa.array(snomed_codes, pa.string())),
                pc.is_in(name, pa.array(OPERATORS)),
            ),
        )
        mask = pc.fill_null(pc.or_kleene(pc.or_kleene(whole, ingredient), snomed), False)
        return pc.or_(mask, run_on), Counter()

    return keep


def _read_concepts(
    input_dir: Path, mapping: SiteMapping, rules: RuleSet, vocab: Vocabulary
) -> pd.DataFrame:
    files = omop_files(input_dir, "concept")
    if not files:
        return _shipped()
    table = SourceTable("concept", files, mapping, unquoted_tabs=True)
    every_id: list[pa.Array] = []
    raw = table.read_all(
        _CONCEPT_COLUMNS,
        required=("concept_id", "vocabulary_id", "concept_code"),
        prefilter=_concept_prefilter(rules, every_id),
    )
    note_read(table, vocab.counts, vocab.row_places)
    vocab.records["concept"] = table.records
    raw = without_run_on(raw, "concept", _CONCEPT_COLUMNS, vocab.counts, vocab.row_places)
    vocab.counts["concept"]["kept"] = len(raw)
    shipped = _shipped()
    if table.rows_read > vocab.counts["concept"].get("unsplit", 0):  # a header alone: absent
        vocab.held = HeldConcepts.of(every_id, shipped["concept_id"])
    del every_id
    vocabulary = raw["vocabulary_id"].where(~raw["concept_name"].isin(OPERATORS))
    loaded = pd.DataFrame(
        {
            "concept_id": id_text(raw["concept_id"]),
            "vocabulary": vocabulary.fillna("Meas Value Operator"),
            "code": raw["concept_code"],
            "name": raw["concept_name"],
            "concept_class": raw["concept_class_id"],
        }
    )
    both = pd.concat([shipped, loaded], ignore_index=True)
    return both.drop_duplicates("concept_id", keep="last")


def _listed_ingredient_ids(concepts: pd.DataFrame, rules: RuleSet) -> pd.Series:
    """concept id -> rules ingredient name, for RxNorm ingredient concepts of the drug list."""
    by_code = {i.rxnorm: i.name for i in rules.ingredients.values() if i.rxnorm}
    rx = concepts.loc[
        concepts["vocabulary"].isin(_RXNORM)
        & (concepts["concept_class"].str.lower() == "ingredient")
    ]
    name = rx["code"].map(by_code)
    lowered = rx["name"].str.lower().str.strip()
    name = name.where(name.notna(), lowered.where(lowered.isin(list(rules.ingredients))))
    return name.dropna().astype("str")


def _read_ancestors(
    input_dir: Path, mapping: SiteMapping, listed: pd.Series, vocab: Vocabulary
) -> pd.DataFrame:
    """(descendant, ingredient) pairs: every drug concept under a listed ingredient."""
    own = pd.DataFrame({"descendant": listed.index.astype("str"), "ingredient": listed.values})
    files = omop_files(input_dir, "concept_ancestor")
    if not files or listed.empty:
        return own
    wanted_ids = pa.array(sorted(listed.index.astype("str")), pa.string())

    def keep(batch: pa.RecordBatch) -> tuple[pa.Array, Counter[str]]:
        ancestor = normalize_ids(batch_column(batch, "ancestor_concept_id"))
        return pc.fill_null(pc.is_in(ancestor, wanted_ids), False), Counter()

    table = SourceTable("concept_ancestor", files, mapping, unquoted_tabs=True)
    raw = table.read_all(
        ("ancestor_concept_id", "descendant_concept_id"),
        required=("ancestor_concept_id", "descendant_concept_id"),
        prefilter=keep,
    )
    note_read(table, vocab.counts, vocab.row_places)
    vocab.records["concept_ancestor"] = table.records
    vocab.counts["concept_ancestor"]["kept"] = len(raw)
    pairs = pd.DataFrame(
        {
            "descendant": id_text(raw["descendant_concept_id"]),
            "ingredient": id_text(raw["ancestor_concept_id"]).map(listed),
        }
    )
    return pd.concat([own, pairs.dropna()], ignore_index=True)


_CACHE: dict[tuple[object, ...], Vocabulary] = {}


def load_vocabulary(
    input_dir: Path, mapping: SiteMapping, rules: RuleSet, with_ancestors: bool
) -> Vocabulary:
    """The concept lookups of one run (concept_ancestor only once drugs need it).

    A large `concept` file is read once per process for the tables of one run: the result is
    kept for the same files (path, size, modification time), rules and CSV options.
    """
    files = omop_files(input_dir, "concept") + omop_files(input_dir, "concept_ancestor")
    key = (
        tuple((str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in files),
        rules.content_hash,
        tuple(sorted(rules.ingredients)),
        mapping.delimiter,
        mapping.encoding,
    )
    vocab = _CACHE.get(key)
    if vocab is None:
        empty = pd.Series(dtype="str")
        vocab = Vocabulary(pd.DataFrame(), empty, empty)
        vocab.concepts = _read_concepts(input_dir, mapping, rules, vocab).set_index("concept_id")
        _CACHE.clear()
        _CACHE[key] = vocab
    if with_ancestors and not vocab.has_ancestors:
        _add_ingredients(vocab, input_dir, mapping, rules)
    return vocab


def _add_ingredients(
    vocab: Vocabulary, input_dir: Path, mapping: SiteMapping, rules: RuleSet
) -> None:
    listed = _listed_ingredient_ids(vocab.concepts, rules)
    pairs = _read_ancestors(input_dir, mapping, listed, vocab).drop_duplicates()
    grouped = pairs.sort_values("ingredient").groupby("descendant")["ingredient"]
    vocab.ingredients = grouped.agg(" / ".join).astype("str")
    single = grouped.nunique() == 1
    rxnorm = {i.name: i.rxnorm for i in rules.ingredients.values() if i.rxnorm}
    first = grouped.first().map(rxnorm)
    vocab.ingredient_rxnorm = first.where(single).dropna().astype("str")
    vocab.has_ancestors = True
