"""CAS, names, grade words, salts and mixtures: pure string work."""

from __future__ import annotations

import pytest

from precursorwatch.identify.normalise import (
    cas_check_ok,
    clean_name,
    compact,
    fold_variants,
    normalise_hs,
    read_cas,
    split_components,
)


@pytest.mark.parametrize(
    ("text", "cas"),
    [
        ("108-24-7", "108-24-7"),
        ("108247", "108-24-7"),
        ("CAS: 108-24-7", "108-24-7"),
        ("CAS No. 67-64-1", "67-64-1"),
        ("0067-64-1", "67-64-1"),
        ("108 24 7", "108-24-7"),
    ],
)
def test_cas_written_many_ways(text: str, cas: str) -> None:
    (reading,) = read_cas(text)
    assert reading.cas == cas and reading.valid


def test_check_digit() -> None:
    assert cas_check_ok("7732-18-5")
    assert not cas_check_ok("108-24-8")
    assert read_cas("108-24-8")[0].valid is False
    assert read_cas("") == []


def test_clean_name_strips_grade_packaging_and_salt() -> None:
    parts = clean_name("Ephedrine hydrochloride USP, 25 kg drums")
    assert (parts.name, parts.salt) == ("Ephedrine", "hydrochloride")
    assert clean_name("Acetone technical grade 99.5% in 200 L drums").name == "Acetone"
    assert clean_name("hydrochloric acid 32 % solution").share == pytest.approx(0.32)
    assert clean_name("(1S,2S)-pseudoephedrine").name == "pseudoephedrine"
    assert clean_name("sodium acetate").name == "sodium acetate"


def test_mixtures_split_but_systematic_names_do_not() -> None:
    assert split_components("acetone 40 % / ethyl acetate 60 %") == [
        "acetone 40 %",
        "ethyl acetate 60 %",
    ]
    assert split_components("1-(1,3-benzodioxol-5-yl)propan-2-one") == [
        "1-(1,3-benzodioxol-5-yl)propan-2-one"
    ]


def test_folding() -> None:
    assert fold_variants("Essigsäureanhydrid") == {"essigsaureanhydrid", "essigsaeureanhydrid"}
    assert compact("P-2-P") == compact("p2p")
    assert normalise_hs("2915.24.00") == "29152400"


def test_solution_words_in_other_languages_leave_the_name() -> None:
    assert clean_name("Solución de ácido clorhídrico 33 %").name == "ácido clorhídrico"
    assert clean_name("soluzione di acido solforico").name == "acido solforico"
    assert clean_name("Lösung von Essigsäureanhydrid").name == "Essigsäureanhydrid"
