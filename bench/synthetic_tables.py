"""The synthetic extract's tables, built vectorized from the catalog (numpy + pyarrow, no
Python loop per row) and deterministic per seed: patients with a stay and a sodium profile,
labs in specimens with their dirt, medications, diagnoses."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from synthetic_catalog import (
    DAY,
    DEFAULT_SEED,
    DIAGNOSIS_CATALOG,
    DRUG_CATALOG,
    FIRST_NAMES,
    GLUCOSE_LOINCS,
    LABS_CATALOG,
    LAST_NAMES,
    LISTED_DRUG_SHARE,
    PANELS,
    PERIOD_END,
    PERIOD_START,
    ROWS_PER_PATIENT,
    SODIUM_LOINCS,
    WARDS,
    choose_weighted,
    epoch_seconds,
    format_ids,
    format_numbers,
    take_strings,
    to_timestamps,
)


def generate_patients(rng: np.random.Generator, n_patients: int) -> dict[str, np.ndarray]:
    """Return per-patient latent attributes: stay, sodium profile, diabetes."""
    start = epoch_seconds(PERIOD_START)
    end = epoch_seconds(PERIOD_END)
    stay_days = np.clip(1.0 + rng.exponential(5.0, n_patients), 1.0, 30.0)
    admit = rng.uniform(start, end - DAY, n_patients)
    discharge = np.minimum(admit + stay_days * DAY, end - 60)
    hypo = rng.random(n_patients) < 0.10
    nadir = np.where(hypo, np.clip(132.0 - rng.exponential(6.0, n_patients), 110.0, 133.0), 0.0)
    baseline = np.where(hypo, nadir, rng.normal(140.0, 1.8, n_patients))
    recovery = np.where(hypo, rng.uniform(0.0, 2.5, n_patients), 0.0)  # mmol/L per day
    return {
        "admit": admit,
        "discharge": discharge,
        "hypo": hypo,
        "baseline": baseline,
        "recovery": recovery,
        "diabetic": rng.random(n_patients) < 0.15,
    }


def expand_panels(rng: np.random.Generator, n_rows: int) -> tuple[np.ndarray, np.ndarray]:
    """Return (draw index, LOINC index) per lab row: specimens of panels cut to ``n_rows``."""
    weights = np.array([w for w, _ in PANELS])
    lengths = np.array([len(codes) for _, codes in PANELS])
    loinc_keys = list(LABS_CATALOG)
    flat = np.array([loinc_keys.index(c) for _, codes in PANELS for c in codes])
    offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    mean_len = float((weights / weights.sum()) @ lengths)
    n_draws = int(n_rows / mean_len * 1.05) + 16
    panel = choose_weighted(rng, n_draws, weights)
    draw_len = lengths[panel]
    draw_of_row = np.repeat(np.arange(n_draws), draw_len)[:n_rows]
    starts = np.concatenate([[0], np.cumsum(draw_len)[:-1]])
    position = np.arange(len(draw_of_row)) - starts[draw_of_row]
    return draw_of_row, flat[offsets[panel[draw_of_row]] + position]


def simulate_values(
    rng: np.random.Generator,
    loinc_idx: np.ndarray,
    patient: np.ndarray,
    days_in: np.ndarray,
    people: dict[str, np.ndarray],
) -> np.ndarray:
    """Return one numeric result per lab row in the catalog's unit."""
    codes = list(LABS_CATALOG)
    means = np.array([LABS_CATALOG[c][3] for c in codes])
    sds = np.array([LABS_CATALOG[c][4] for c in codes])
    values = np.abs(means[loinc_idx] + sds[loinc_idx] * rng.standard_normal(len(loinc_idx)))
    hypo = people["hypo"][patient]

    is_na = np.isin(loinc_idx, [codes.index(c) for c in SODIUM_LOINCS])
    sodium = people["baseline"][patient] + people["recovery"][patient] * days_in
    sodium = np.where(hypo, np.minimum(sodium, 141.0), sodium)
    sodium = np.clip(sodium + rng.normal(0.0, 1.5, len(sodium)), 108.0, 152.0)
    values = np.where(is_na, sodium, values)

    is_glu = np.isin(loinc_idx, [codes.index(c) for c in GLUCOSE_LOINCS])
    high = people["diabetic"][patient] & (rng.random(len(values)) < 0.6)
    glucose = np.where(high, np.minimum(170.0 + rng.exponential(120.0, len(values)), 900.0), values)
    values = np.where(is_glu, glucose, values)

    for code, shift in (("2823-3", -0.5), ("6298-4", -0.5), ("19123-9", -0.25)):
        values = np.where((loinc_idx == codes.index(code)) & hypo, values + shift, values)
    return values


def add_lab_dirt(
    rng: np.random.Generator, value_raw: pa.Array, unit: pa.Array, status: pa.Array
) -> tuple[pa.Array, pa.Array]:
    """Return (value_raw, unit) with non-numeric, censored, padded and bad-unit rows mixed in."""
    n = len(value_raw)
    draw = rng.random(n)
    words = ("HEMOLYZED", "___", "See Comments", "cancelled", "", "QNS")
    word = take_strings(words, rng.integers(0, len(words), n))
    signs = ("<", ">", "<=", "LESS THAN ")
    censored = pc.binary_join_element_wise(
        take_strings(signs, rng.integers(0, len(signs), n)), value_raw, ""
    )
    padded = pc.binary_join_element_wise(" ", value_raw, " ", "")
    value_raw = pc.if_else(pa.array(draw < 0.008), word, value_raw)
    value_raw = pc.if_else(pa.array((draw >= 0.008) & (draw < 0.010)), censored, value_raw)
    value_raw = pc.if_else(pa.array((draw >= 0.010) & (draw < 0.015)), padded, value_raw)
    bad_units = ("mg/L", "%", "g/L", "")
    bad = take_strings(bad_units, rng.integers(0, len(bad_units), n))
    unit = pc.if_else(pa.array(rng.random(n) < 0.002), bad, unit)
    return value_raw, unit


def build_labs(rng: np.random.Generator, n_rows: int, people: dict[str, np.ndarray]) -> pa.Table:
    """Return the ``labs`` table with ``n_rows`` rows."""
    codes = list(LABS_CATALOG)
    draw_of_row, loinc_idx = expand_panels(rng, n_rows)
    n_draws = int(draw_of_row[-1]) + 1
    n_patients = len(people["admit"])
    draw_patient = rng.integers(0, n_patients, n_draws)
    draw_time = rng.uniform(people["admit"][draw_patient], people["discharge"][draw_patient])
    draw_time = np.floor(draw_time / 60.0) * 60.0
    order = np.argsort(draw_time, kind="stable")  # extracts come roughly in time order
    rank = np.empty(n_draws, dtype=np.int64)
    rank[order] = np.arange(n_draws)
    sort_rows = np.argsort(rank[draw_of_row], kind="stable")
    draw_of_row, loinc_idx = draw_of_row[sort_rows], loinc_idx[sort_rows]

    patient = draw_patient[draw_of_row]
    spec_time = draw_time[draw_of_row]
    days_in = (spec_time - people["admit"][patient]) / DAY
    values = simulate_values(rng, loinc_idx, patient, days_in, people)

    unit_idx = np.zeros(n_rows, dtype=np.int64)  # 0: catalog unit, 1: mEq/L, 2: mmol/L, 3: g/L
    is_na = np.isin(loinc_idx, [codes.index(c) for c in SODIUM_LOINCS])
    unit_idx[is_na & (rng.random(n_rows) < 0.15)] = 1
    glu_mol = (loinc_idx == codes.index("2345-7")) & (rng.random(n_rows) < 0.05)
    unit_idx[glu_mol] = 2
    values = np.where(glu_mol, values / 18.016, values)
    alb_gl = (loinc_idx == codes.index("1751-7")) & (rng.random(n_rows) < 0.05)
    unit_idx[alb_gl] = 3
    values = np.where(alb_gl, values * 10.0, values)
    implausible = is_na & (rng.random(n_rows) < 0.0003)
    values = np.where(implausible, values * 10.0, values)
    decimals = np.array([LABS_CATALOG[c][5] for c in codes])[loinc_idx]
    decimals = np.where(glu_mol, 1, np.where(alb_gl, 0, decimals))

    catalog_unit = take_strings([LABS_CATALOG[c][2] for c in codes], loinc_idx)
    alt_unit = take_strings([None, "mEq/L", "mmol/L", "g/L"], unit_idx)
    unit = pc.if_else(pa.array(unit_idx > 0), alt_unit, catalog_unit)
    statuses = ("final", "corrected", "preliminary", "entered-in-error", "cancelled")
    status = take_strings(statuses, choose_weighted(rng, n_rows, [0.96, 0.02, 0.015, 0.003, 0.002]))
    value_raw, unit = add_lab_dirt(rng, format_numbers(values, decimals), unit, status)

    patient_id = format_ids("P", patient, 7)
    patient_id = pc.if_else(pa.array(rng.random(n_rows) < 0.0001), pa.nulls(n_rows, pa.string()),
                            patient_id)  # fmt: skip
    result_time = spec_time + np.floor(rng.uniform(20, 240, n_rows)) * 60.0
    table = pa.table(
        {
            "patient_id": patient_id,
            "encounter_id": format_ids("E", patient, 7),
            "specimen_id": format_ids("S", draw_of_row, 9),
            "specimen_time": to_timestamps(spec_time),
            "result_time": to_timestamps(result_time),
            "loinc": take_strings(codes, loinc_idx),
            "lab_name": take_strings([LABS_CATALOG[c][0] for c in codes], loinc_idx),
            "value_raw": value_raw,
            "unit": unit,
            "status": status,
            "specimen_type": take_strings([LABS_CATALOG[c][1] for c in codes], loinc_idx),
        }
    )
    return insert_duplicates(rng, table, share=0.003)


def insert_duplicates(rng: np.random.Generator, table: pa.Table, share: float) -> pa.Table:
    """Return ``table`` where a ``share`` of rows is replaced by an exact copy of the row before."""
    n = table.num_rows
    source = np.arange(n)
    dup = np.flatnonzero(rng.random(n) < share)
    dup = dup[dup > 0]
    source[dup] = dup - 1
    return table.take(pa.array(source))


def build_medications(rng: np.random.Generator, people: dict[str, np.ndarray]) -> pa.Table:
    """Return the ``medications`` table, ~2 records per patient."""
    n_patients = len(people["admit"])
    n = 2 * n_patients
    patient = rng.integers(0, n_patients, n)
    listed = np.array([d[4] for d in DRUG_CATALOG])
    weights = np.where(
        listed, LISTED_DRUG_SHARE / listed.sum(), (1 - LISTED_DRUG_SHARE) / (~listed).sum()
    )
    drug = choose_weighted(rng, n, weights)
    admit = people["admit"][patient]
    stay = people["discharge"][patient] - admit
    chronic = rng.random(n) < 0.6
    start = np.where(
        chronic, admit - rng.uniform(0, 400, n) * DAY, admit + rng.uniform(-2 * DAY, stay)
    )
    start = np.floor(start / 60.0) * 60.0
    statuses = ("active", "completed", "stopped", "on-hold", "entered-in-error", "cancelled")
    status_idx = choose_weighted(rng, n, [0.55, 0.2, 0.15, 0.08, 0.01, 0.01])
    ended = np.isin(status_idx, [1, 2]) & (rng.random(n) < 0.8)
    ended |= (status_idx == 0) & (rng.random(n) < 0.1)
    end = np.where(ended, start + np.floor(rng.uniform(1, 60, n)) * DAY, np.nan)
    keep_codes = rng.random(n) < 0.7
    rxnorm = take_strings([d[1] for d in DRUG_CATALOG], drug)
    atc = take_strings([d[2] for d in DRUG_CATALOG], drug)
    return pa.table(
        {
            "patient_id": format_ids("P", patient, 7),
            "drug_name": take_strings([d[0] for d in DRUG_CATALOG], drug),
            "rxnorm": pc.if_else(pa.array(keep_codes), rxnorm, pa.nulls(n, pa.string())),
            "atc": pc.if_else(pa.array(keep_codes), atc, pa.nulls(n, pa.string())),
            "start_time": to_timestamps(start),
            "end_time": to_timestamps(end),
            "status": take_strings(statuses, status_idx),
            "route": take_strings([d[3] for d in DRUG_CATALOG], drug),
        }
    )


def build_diagnoses(rng: np.random.Generator, people: dict[str, np.ndarray]) -> pa.Table:
    """Return the ``diagnoses`` table, ~2 records per patient."""
    n_patients = len(people["admit"])
    n = 2 * n_patients
    patient = rng.integers(0, n_patients, n)
    which = choose_weighted(rng, n, [d[2] for d in DIAGNOSIS_CATALOG])
    code = take_strings([d[0] for d in DIAGNOSIS_CATALOG], which)
    undotted = pc.replace_substring(code, ".", "")
    code = pc.if_else(pa.array(rng.random(n) < 0.2), undotted, code)
    admit = people["admit"][patient]
    stay = people["discharge"][patient] - admit
    history = rng.random(n) < 0.8
    recorded = np.where(
        history, admit - rng.uniform(0, 1000, n) * DAY, admit + rng.uniform(0, stay + 3 * DAY)
    )
    statuses = ("active", "confirmed", "resolved", "inactive", "refuted", "entered-in-error")
    status_idx = choose_weighted(rng, n, [0.86, 0.04, 0.06, 0.02, 0.01, 0.01])
    return pa.table(
        {
            "patient_id": format_ids("P", patient, 7),
            "code": code,
            "code_system": take_strings([d[1] for d in DIAGNOSIS_CATALOG], which),
            "recorded_time": to_timestamps(np.floor(recorded / 60.0) * 60.0),
            "status": take_strings(statuses, status_idx),
        }
    )


def build_patients(rng: np.random.Generator, n_patients: int) -> pa.Table:
    """Return the ``patients`` table (one row per patient)."""
    ids = np.arange(n_patients)
    last = take_strings(LAST_NAMES, rng.integers(0, len(LAST_NAMES), n_patients))
    first = take_strings(FIRST_NAMES, rng.integers(0, len(FIRST_NAMES), n_patients))
    return pa.table(
        {
            "patient_id": format_ids("P", ids, 7),
            "mrn": format_ids("MRN", 10_000_000 + rng.permutation(n_patients), 8),
            "name": pc.binary_join_element_wise(last, first, ", "),
            "unit": take_strings(WARDS, rng.integers(0, len(WARDS), n_patients)),
        }
    )


def generate_tables(lab_rows: int, seed: int = DEFAULT_SEED) -> dict[str, pa.Table]:
    """Return the four canonical tables for ``lab_rows`` lab rows (deterministic per seed)."""
    if lab_rows < 1:
        raise ValueError("lab_rows must be >= 1")
    rng = np.random.default_rng(seed)
    n_patients = max(1, lab_rows // ROWS_PER_PATIENT)
    people = generate_patients(rng, n_patients)
    return {
        "labs": build_labs(rng, lab_rows, people),
        "medications": build_medications(rng, people),
        "diagnoses": build_diagnoses(rng, people),
        "patients": build_patients(rng, n_patients),
    }
