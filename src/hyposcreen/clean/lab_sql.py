"""The lab cleaning queries (spec §3): each row's problem and value in canonical units, then the
exact duplicates among the used rows, joined from the rule tables in the engine.

The rows arrive with their texts as codes of distinct values (`value_texts`, `unit_texts`,
`analyte_texts`, `status_texts`, each mapped once per distinct text); the rule tables are
`analytes` (plausible ranges, presence-only analytes), `unit_factors` and `statuses`.
"""

from __future__ import annotations

from collections.abc import Sequence

# the problem of a row, by the code the query gives it; the first problem of this order wins
PROBLEMS = (None, "malformed", "missing_key", "status", "non_numeric", "bad_unit", "implausible")

# `kinds`: the distinct (analyte, unit) code pairs of the rows; each row names its pair (kind)
JUDGE_SQL = """
WITH kind_rules AS (
    SELECT k.kind,
        CASE WHEN a.presence_only THEN 1.0 ELSE uf.factor END AS factor,
        a.plausible_low, a.plausible_high
    FROM kinds k
    LEFT JOIN analyte_texts atx ON k.analyte = atx.code
    LEFT JOIN analytes a ON atx.value = a.analyte
    LEFT JOIN unit_texts ut ON k.unit = ut.code
    LEFT JOIN unit_factors uf ON uf.analyte = atx.value AND uf.unit_key = coalesce(ut.value, '')
), status_rules AS (
    SELECT st.code, ex.status_key IS NOT NULL AS excluded
    FROM status_texts st
    LEFT JOIN (SELECT status_key FROM statuses WHERE category = $excluded) ex
        ON st.value = ex.status_key
), judged AS (
    SELECT r.rn, r.malformed, r.no_key, k.factor, k.plausible_low, k.plausible_high,
        coalesce(sr.excluded, false) AS excluded,
        coalesce(vt.numeric, CASE WHEN isfinite(r.value) THEN r.value END) AS number
    FROM rows r
    LEFT JOIN value_texts vt ON r.value_raw = vt.code
    LEFT JOIN kind_rules k ON r.kind = k.kind
    LEFT JOIN status_rules sr ON r.status = sr.code
), measured AS (
    -- rounded to 9 decimals like every compared value (screen.engine): 4.48896 mg/dL / 4.008
    -- is 1.12 mmol/L, where the binary product reads 1.1199999999999999 (below the limit)
    SELECT *, round9(number * factor) AS canonical FROM judged
)
SELECT rn, number AS numeric, canonical,
    CASE
        WHEN malformed THEN 1
        WHEN no_key THEN 2
        WHEN excluded THEN 3
        WHEN number IS NULL THEN 4
        WHEN factor IS NULL THEN 5
        WHEN canonical <= 0 OR canonical < plausible_low OR canonical > plausible_high THEN 6
        ELSE 0
    END AS problem
FROM measured
"""

# spec §3 exact duplicates (patient, analyte, time, value) among the used rows of `candidates`
# (patients and texts as codes):
# all but one of each group. Which one is used is decided by content, never by file order
# (spec §6, last line): an exact value before a censored one, a row whose specimen holds a used
# result of another analyte before one whose specimen holds none (a glucose repeated from a
# blood gas stays paired with the sodium of its own specimen, spec §4), a row with a specimen_id
# before one without, then the text as received. Rows equal in all of these are
# interchangeable for the screen; the one that comes first in the file is then the used one.
_DUPLICATES = """
WITH repeated AS (
    SELECT {group}
    FROM candidates WHERE used GROUP BY ALL HAVING count(*) > 1
), grouped AS (
    SELECT c.*, coalesce(vt.censor, '') AS censor, vt.raw AS value_text, ut.raw AS unit_text
    FROM candidates c
    SEMI JOIN repeated USING ({group})
    LEFT JOIN value_texts vt ON c.value_raw = vt.code
    LEFT JOIN unit_texts ut ON c.unit = ut.code
    WHERE c.used
){shared}
SELECT rn FROM {ranked}
QUALIFY row_number() OVER (
    PARTITION BY {group} ORDER BY {order}
) > 1
"""

# with specimen ids: how many analytes the used rows of each repeated row's specimen hold
_SHARED_SPECIMENS = """, specimen_analytes AS (
    SELECT patient_id, specimen_id, count(DISTINCT analyte) AS analytes
    FROM candidates
    SEMI JOIN (SELECT patient_id, specimen_id FROM grouped) USING (patient_id, specimen_id)
    WHERE used
    GROUP BY ALL
), ranked AS (
    SELECT g.*, coalesce(s.analytes, 0) > 1 AS shares_specimen
    FROM grouped g LEFT JOIN specimen_analytes s USING (patient_id, specimen_id)
)"""

KEEP_ORDER = ("censor", "shares_specimen", "specimen_id", "value_text", "unit_text", "result_time")
OPTIONAL = ("specimen_id", "result_time")  # columns some sources do not have
_DESCENDING = ("shares_specimen",)


def duplicates_sql(present: Sequence[str], folded: bool = False) -> str:
    """The duplicates query; `present` names the OPTIONAL columns the candidates have, which
    then take part in choosing the used row. `folded`: the candidates have `fold` (a repeated
    hour's second occurrence), which tells two results at one wall time apart."""
    specimens = "specimen_id" in present
    order = [
        c
        for c in KEEP_ORDER
        if (c not in OPTIONAL or c in present) and (c != "shares_specimen" or specimens)
    ]
    keys = ", ".join(f"{c} {'DESC' if c in _DESCENDING else 'ASC'} NULLS LAST" for c in order)
    group = "patient_id, analyte, specimen_time, " + ("fold, " if folded else "") + "canonical"
    return _DUPLICATES.format(
        order=f"{keys}, rn ASC",
        group=group,
        shared=_SHARED_SPECIMENS if specimens else "",
        ranked="ranked" if specimens else "grouped",
    )
