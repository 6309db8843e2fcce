"""A site onboarded with a mapping file and a lab dictionary screens like the canonical sample."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from hyposcreen.config import RunSettings, load_mapping, parse_window
from hyposcreen.errors import ConfigError
from hyposcreen.rules.loader import load_rules
from hyposcreen.runners.in_process import run_pipeline
from hyposcreen.site_words import apply_site_words

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "sample_data" / "site_example"
EXPECTED = ROOT / "tests" / "data" / "golden" / "sample" / "expected_review_list.csv"


def test_site_extract_gives_the_same_list_as_the_canonical_sample(tmp_path: Path) -> None:
    """Upper-case columns, admission ids, local codes, ';', Latin-1 and day-first times."""
    settings = RunSettings(
        input_dir=SITE / "extract",
        out_dir=tmp_path,
        window=parse_window("2026-11-20", "2026-11-21", "Europe/Berlin"),
        mapping_path=SITE / "site_mapping.yaml",
    )
    review = pd.read_csv(run_pipeline(settings).review_csv, dtype=str, keep_default_na=False)
    expected = pd.read_csv(EXPECTED, dtype=str, keep_default_na=False)
    expected["patient_id"] = "ADM" + expected["patient_id"].str.removeprefix("P").str.zfill(6)
    pd.testing.assert_frame_equal(review[expected.columns], expected)


def test_a_typo_in_the_mapping_is_an_error_naming_the_key(tmp_path: Path) -> None:
    mapping = tmp_path / "site.yaml"
    mapping.write_text("site: x\ntimezon: Europe/Berlin\n")
    with pytest.raises(ConfigError, match="timezon"):
        load_mapping(mapping)


def test_an_unknown_table_key_is_an_error_naming_it(tmp_path: Path) -> None:
    mapping = tmp_path / "site.yaml"
    mapping.write_text("tables:\n  labs:\n    colums: {patient_id: PID}\n")
    with pytest.raises(ConfigError, match="colums"):
        load_mapping(mapping)


def _german_extract(folder: Path) -> Path:
    """The site example as a German hospital delivers it: decimal commas, German status words,
    German INN spellings, plus a cancelled (storniert) and a withdrawn (site word) low sodium."""
    source = SITE / "extract"
    folder.mkdir()
    read = {"sep": ";", "encoding": "latin-1", "dtype": str, "keep_default_na": False}
    labs = pd.read_csv(source / "LAB_RESULTS.csv", **read)
    labs["RESULT"] = labs["RESULT"].str.replace(".", ",", regex=False)
    german = {"final": "endgültig", "entered-in-error": "fehlerhaft"}
    labs["STATUS"] = labs["STATUS"].replace(german)
    extra = [
        ["ADM000001", "S001-99", "20.11.2026 07:00", "NA-S", "118,5", "mmol/L", "storniert",
         "Serum"],
        ["ADM000002", "S002-99", "20.11.2026 07:30", "NA-S", "115,0", "mmol/L", "zurückgezogen",
         "Serum"],
    ]  # fmt: skip
    labs = pd.concat([labs, pd.DataFrame(extra, columns=labs.columns)], ignore_index=True)
    meds = pd.read_csv(source / "MEDS.csv", **read)
    meds["DRUG"] = (
        meds["DRUG"]
        .str.replace("Hydrochlorothiazide", "Hydrochlorothiazid", regex=False)
        .str.replace("Sertraline", "Sertralin", regex=False)
    )
    meds["ORDER_STATUS"] = meds["ORDER_STATUS"].replace(
        {"stopped": "abgesetzt", "completed": "beendet", "active": "aktiv"}
    )
    diagnoses = pd.read_csv(source / "DIAGNOSES.csv", **read)
    diagnoses["DX_STATUS"] = diagnoses["DX_STATUS"].replace({"resolved": "abgeklungen"})
    for name, frame in (("LAB_RESULTS", labs), ("MEDS", meds), ("DIAGNOSES", diagnoses)):
        frame.to_csv(folder / f"{name}.csv", sep=";", index=False, encoding="latin-1")
    return folder


def test_a_german_extract_screens_correctly_with_a_mapping_only(tmp_path: Path) -> None:
    """Latin-1, ';', decimal commas, German status words and drug spellings: the same list as
    the canonical sample, the storniert Na 118,5 quarantined (status), no rules copy."""
    extract = _german_extract(tmp_path / "extract")
    mapping = tmp_path / "site.yaml"
    text = (SITE / "site_mapping.yaml").read_text(encoding="utf-8")
    text = text.replace("lab_dictionary.csv", f"{SITE}/lab_dictionary.csv")
    text = text.replace("  encoding: latin-1\n", '  encoding: latin-1\n  decimal: ","\n')
    text += "status_words:\n  cancelled: [zurückgezogen]\n"
    mapping.write_text(text, encoding="utf-8")
    settings = RunSettings(
        input_dir=extract,
        out_dir=tmp_path / "out",
        window=parse_window("2026-11-20", "2026-11-21", "Europe/Berlin"),
        mapping_path=mapping,
    )
    summary = run_pipeline(settings)
    review = pd.read_csv(summary.review_csv, dtype=str, keep_default_na=False)
    expected = pd.read_csv(EXPECTED, dtype=str, keep_default_na=False)
    expected["patient_id"] = "ADM" + expected["patient_id"].str.removeprefix("P").str.zfill(6)
    pd.testing.assert_frame_equal(review[expected.columns], expected)
    assert summary.manifest["warnings"] == []
    quarantine = pd.read_csv(summary.out_dir / "quarantine.csv", dtype=str, keep_default_na=False)
    withdrawn = quarantine.loc[quarantine["original"].str.contains('"118,5"|"115,0"')]
    assert len(withdrawn) == 2 and set(withdrawn["reason"]) == {"status"}, quarantine
    thiazide = review.loc[review["patient_id"] == "ADM000002"]
    assert thiazide.empty or "thiazide_diuretic" in thiazide["risk_factors"].iloc[0]
    assert "thiazide_diuretic" in ";".join(review["risk_factors"])
    assert "ssri" in ";".join(review["risk_factors"])


def test_decimal_commas_thousands_and_censored_values() -> None:
    from hyposcreen.ingest.values import decimal_comma_text, parse_values

    raw = pd.Series(["3,1", "<3,5", "1.234,5", "12.345", "135", "3.1", "> 2.000,0", None])
    numbers, censor = parse_values(decimal_comma_text(raw), pd.Series([float("nan")] * len(raw)))
    assert numbers.tolist()[:7] == [3.1, 3.5, 1234.5, 12345.0, 135.0, 3.1, 2000.0]
    assert pd.isna(numbers.iloc[7])
    assert censor.tolist() == ["", "<", "", "", "", "", ">", ""]


def test_a_misspelt_column_key_is_named_not_reported_as_missing(tmp_path: Path) -> None:
    mapping = tmp_path / "site.yaml"
    mapping.write_text("tables:\n  labs:\n    columns: {specimen_tme: COLLECTED}\n")
    with pytest.raises(ConfigError, match=r"tables\.labs\.columns: unknown key\(s\) specimen_tme"):
        load_mapping(mapping)


def test_inn_spellings_and_combination_brands_match_their_ingredients() -> None:
    from hyposcreen.clean import clean_medications
    from hyposcreen.config import SiteMapping
    from hyposcreen.rules.loader import load_rules
    from hyposcreen.site_words import apply_site_words

    rules, _ = apply_site_words(load_rules(), None, SiteMapping())
    names = {
        "Hydrochlorothiazid 25 mg": "hydrochlorothiazide",
        "Sertralin 50 mg": "sertraline",
        "Furosémide 40 mg": "furosemide",
        "Etacrynsäure": "ethacrynic acid",
        "Valproinsäure 300 mg": "valproic acid",
        "Quétiapine": "quetiapine",
        "Zestoretic 20/12.5": "hydrochlorothiazide",
        "Hyzaar 50/12.5": "hydrochlorothiazide",
        "Diovan HCT": "hydrochlorothiazide",
        "Tenoretic 50": "chlorthalidone",
        "Co-amilofruse 5/40": "furosemide",
        "Frumil": "amiloride",
    }
    frame = pd.DataFrame(
        {
            "patient_id": [f"P{i}" for i in range(len(names))],
            "drug_name": list(names),
            "rxnorm": None,
            "atc": None,
            "start_time": pd.Timestamp("2026-11-01"),
            "status": "active",
        }
    )
    _, matches = clean_medications(frame, rules, parse_window("2026-11-20", "2026-11-21"))
    for row, (name, ingredient) in enumerate(names.items()):
        found = set(matches.loc[matches["row"] == row, "ingredient"])
        assert ingredient in found, (name, found)


def test_german_and_french_status_words_exclude_results_without_a_mapping() -> None:
    from hyposcreen.clean import clean_labs
    from hyposcreen.config import SiteMapping
    from hyposcreen.rules.loader import load_rules
    from hyposcreen.site_words import apply_site_words

    rules, words = apply_site_words(load_rules(), None, SiteMapping())
    statuses = ["Storniert", "annulé", "FEHLERHAFT", "erreur de saisie", "endgültig", "validé"]
    frame = pd.DataFrame(
        {
            "patient_id": [f"P{i}" for i in range(len(statuses))],
            "specimen_time": pd.Timestamp("2026-11-20 08:00"),
            "value_raw": "120",
            "value": float("nan"),
            "unit": "mmol/L",
            "analyte": "sodium",
            "status": statuses,
        }
    )
    reasons = clean_labs(frame, rules)["reason"].fillna("").tolist()
    assert reasons == ["status", "status", "status", "status", "", ""]
    assert {"arrete", "abgesetzt", "beendet"} <= set(rules.statuses["medication_stopped"])
    assert "zwischenbefund" not in words.known_statuses and "endgultig" in words.known_statuses


@pytest.mark.parametrize("key", ["5", "true"])
def test_a_status_words_key_yaml_reads_as_no_text_is_named(tmp_path: Path, key: str) -> None:
    """`status_words: {5: [...]}` (or `true:`, YAML's boolean) stopped the run as a bug (exit
    70, AttributeError where the key was folded as text): now it is named as any unknown
    status (exit 2)."""
    path = tmp_path / "mapping.yaml"
    path.write_text(f"site: default\nstatus_words:\n  {key}: [storniert]\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"status_words\.(5|True) is not a known status"):
        apply_site_words(load_rules(), None, load_mapping(path))
