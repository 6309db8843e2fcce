"""Spec §6: drug records matched to the listed classes (name, synonym, RxNorm, ATC)."""

from __future__ import annotations

import pytest

from helpers import RULES, cleaned_meds, med
from hyposcreen.rules.matching import classes_for_drug, match_drug_classes


def classes(name: str | None = None, rxnorm: str | None = None, atc: str | None = None) -> set:
    return {c for c, _, _ in classes_for_drug(name, rxnorm, atc, RULES)}


def ingredients(name: str) -> set[tuple[str, str]]:
    return {(c, i) for c, i, _ in classes_for_drug(name, None, None, RULES)}


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("furosemide", {"loop_diuretic"}),
        ("FUROSEMIDE", {"loop_diuretic"}),
        ("Furosemide 40mg tab", {"loop_diuretic"}),
        ("Hydrochlorothiazide 25 mg", {"thiazide_diuretic"}),
        ("sertraline 50 mg oral tablet", {"ssri"}),
        ("Valproic Acid 250 mg", {"antiepileptic"}),
        ("Ethacrynic acid 25mg", {"loop_diuretic"}),
    ],
)
def test_ingredient_name_matches_case_insensitively_with_strengths(
    name: str, expected: set[str]
) -> None:
    assert classes(name) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Lasix", {"loop_diuretic"}),
        ("Lasix 20 mg", {"loop_diuretic"}),
        ("Zoloft", {"ssri"}),
        ("Aldactone 25mg", {"potassium_sparing_diuretic"}),
        ("HCTZ 12.5 mg", {"thiazide_diuretic"}),
        # combination brands whose name does not say hydrochlorothiazide, and one-word brands
        ("Exforge HCT 5-160-12.5 mg", {"thiazide_diuretic"}),
        ("Lotensin HCT", {"thiazide_diuretic"}),
        ("Tekturna HCT", {"thiazide_diuretic"}),
        ("Tribenzor 40-10-25 mg", {"thiazide_diuretic"}),
        ("Accuretic 20/12.5", {"thiazide_diuretic"}),
        ("Uniretic", {"thiazide_diuretic"}),
        ("Furoscix 80 mg/10 mL", {"loop_diuretic"}),
        ("RemeronSolTab 15 mg", {"other_antidepressant"}),
        # the intravenous salt of ethacrynic acid, by its USP name and by its brand
        ("Ethacrynate Sodium 50 mg/vial", {"loop_diuretic"}),
        ("Sodium Edecrin 50 mg", {"loop_diuretic"}),
    ],
)
def test_brand_and_abbreviation_synonyms_match(name: str, expected: set[str]) -> None:
    assert classes(name) == expected


def test_abbreviation_inside_a_combination_product_matches() -> None:
    # lisinopril is not listed; HCTZ = hydrochlorothiazide → thiazide only
    assert classes("Lisinopril-HCTZ 20-12.5mg") == {"thiazide_diuretic"}


def test_spelled_out_combination_product_matches() -> None:
    assert classes("lisinopril-hydrochlorothiazide") == {"thiazide_diuretic"}


def test_combination_of_two_listed_ingredients_gives_both_classes() -> None:
    assert classes("triamterene/hydrochlorothiazide 37.5-25 mg") == {
        "thiazide_diuretic",
        "potassium_sparing_diuretic",
    }


def test_rxnorm_ingredient_code_matches() -> None:
    # 5487 = hydrochlorothiazide, 36437 = sertraline
    assert classes(rxnorm="5487") == {"thiazide_diuretic"}
    assert classes(rxnorm="36437") == {"ssri"}


def test_seven_character_atc_code_matches() -> None:
    assert classes(atc="N06AB06") == {"ssri"}
    assert classes(atc="C03CA01") == {"loop_diuretic"}


def test_atc_class_level_code_does_not_match_an_ingredient() -> None:
    # N06AB is the SSRI group, not a 7-character ingredient code
    assert classes(atc="N06AB") == set()


@pytest.mark.parametrize(
    ("atc", "expected"),
    [
        ("C03EA01", {"thiazide_diuretic", "potassium_sparing_diuretic"}),
        ("C03EB01", {"loop_diuretic", "potassium_sparing_diuretic"}),
        ("C09BA03", {"thiazide_diuretic"}),
        ("C09DA01", {"thiazide_diuretic"}),
        ("C07BB07", {"thiazide_diuretic"}),
    ],
)
def test_combination_atc_codes_count_for_the_classes_of_their_parts(
    atc: str, expected: set[str]
) -> None:
    assert classes(atc=atc) == expected


@pytest.mark.parametrize(
    ("name", "atc"),
    [
        ("bupropion 150 mg", "N06AX12"),
        ("trazodone 50mg", "N06AX05"),
        ("lithium carbonate", "N05AN01"),
    ],
)
def test_unlisted_ingredients_never_match(name: str, atc: str) -> None:
    assert classes(name) == set()
    assert classes(atc=atc) == set()


def test_escitalopram_matches_only_escitalopram() -> None:
    assert ingredients("escitalopram 10 mg") == {("ssri", "escitalopram")}


def test_desvenlafaxine_matches_only_desvenlafaxine() -> None:
    assert ingredients("Desvenlafaxine ER 50mg") == {("other_antidepressant", "desvenlafaxine")}


def test_ingredient_must_be_a_whole_word() -> None:
    # "xfurosemide" and "furosemidex" are not furosemide
    assert classes("xfurosemide") == set()
    assert classes("furosemidex") == set()


def test_match_frame_has_one_row_per_record_and_class() -> None:
    meds, _ = cleaned_meds([])  # empty input is fine
    assert meds.empty
    _, matches = cleaned_meds([med("Maxzide"), med("bupropion"), med("Lasix")])
    # row 0: triamterene + HCTZ → 2 classes; row 1: unlisted; row 2: loop
    got = sorted(zip(matches["row"], matches["drug_class"], strict=True))
    assert got == [
        (0, "potassium_sparing_diuretic"),
        (0, "thiazide_diuretic"),
        (2, "loop_diuretic"),
    ]


def test_unlisted_drug_is_not_relevant() -> None:
    meds, _ = cleaned_meds([med("bupropion 150 mg")])
    assert (meds.iloc[0]["bucket"], meds.iloc[0]["reason"]) == ("not_relevant", "unlisted_drug")


def test_match_drug_classes_handles_repeated_records() -> None:
    meds, _ = cleaned_meds([med("Lasix"), med("Lasix"), med(None, atc="C03EA01")])
    long = match_drug_classes(meds, RULES)
    assert sorted(zip(long["row"], long["drug_class"], strict=True)) == [
        (0, "loop_diuretic"),
        (1, "loop_diuretic"),
        (2, "potassium_sparing_diuretic"),
        (2, "thiazide_diuretic"),
    ]
