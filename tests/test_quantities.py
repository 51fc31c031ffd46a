"""Declared quantities: numbers in every locale, units through pint, never an exception."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from precursorwatch.manifest.quantities import (
    normalise_unit,
    parse_number,
    parse_quantity,
    to_kilograms,
    to_litres,
)


@pytest.mark.parametrize(
    ("text", "unit", "expected"),
    [
        ("200", "", (200.0, "")),
        ("1,5", "kg", (1.5, "kg")),
        ("1.200,50", "kg", (1200.5, "kg")),
        ("1,200.50", "kg", (1200.5, "kg")),
        ("1 200,5 kg", "", (1200.5, "kg")),
        ("1'200 kg", "", (1200.0, "kg")),
        ("25 kg", "", (25.0, "kg")),
        ("25KGS.", "", (25.0, "kg")),
        ("200 L", "", (200.0, "L")),
        ("200", "Ltr", (200.0, "L")),
        ("5 gal", "", (5.0, "gal")),
        ("3 t", "", (3.0, "t")),
        ("2 tonnes", "", (2.0, "t")),
        ("500 mL", "", (500.0, "mL")),
        ("12 lbs", "", (12.0, "lb")),
        ("1.5 m3", "", (1.5, "m3")),
        ("0,500", "kg", (0.5, "kg")),
        ("25.000", "kg", (25.0, "kg")),
        ("1.200.000", "g", (1_200_000.0, "g")),
        ("2 x 25 kg", "", (50.0, "kg")),
        ("2x25kg", "", (50.0, "kg")),
        ("25 kg x 2", "", (50.0, "kg")),
        ("4 drums of 200 L", "", (800.0, "L")),
        ("3 × 10", "kg", (30.0, "kg")),
    ],
)
def test_parse_quantity_reads_without_warning(
    text: str, unit: str, expected: tuple[float, str]
) -> None:
    value, symbol, warning = parse_quantity(text, unit)
    assert (value, symbol) == expected
    assert warning == ""


def test_empty_quantity() -> None:
    assert parse_quantity("") == (None, "", "")
    assert parse_quantity("   ", "kg") == (None, "", "")


def test_ambiguous_thousands_comma_is_read_large_with_a_warning() -> None:
    value, unit, warning = parse_quantity("1,200", "kg")
    assert (value, unit) == (1200.0, "kg")
    assert "thousands separator" in warning
    # a European file (decimal comma) settles it
    assert parse_quantity("1,200", "kg", decimal_comma=True) == (1.2, "kg", "")
    assert parse_quantity("1.200", "kg", decimal_comma=True) == (1200.0, "kg", "")
    assert parse_quantity("1,200", "kg", decimal_comma=False) == (1200.0, "kg", "")


def test_non_physical_units_keep_the_value_and_warn() -> None:
    assert parse_quantity("10 drums") == (10.0, "drums", "unit 'drums' is not a mass or volume")
    value, unit, warning = parse_quantity("3", "PCS")
    assert (value, unit) == (3.0, "pcs") and "not a mass or volume" in warning


@pytest.mark.parametrize("text", ["-5", "1e400 kg", "2000000000000", "NaN", "inf", "n/a"])
def test_absurd_or_unreadable_quantities_give_none_and_a_warning(text: str) -> None:
    value, _unit, warning = parse_quantity(text, "kg")
    assert value is None
    assert warning


def test_text_around_a_number_is_read_with_a_warning() -> None:
    value, unit, warning = parse_quantity("approx. 200 kg")
    assert (value, unit) == (200.0, "kg")
    assert "read as" in warning


def test_conflicting_unit_column_is_reported() -> None:
    value, unit, warning = parse_quantity("5 kg", "L")
    assert (value, unit) == (5.0, "kg")
    assert "unit column says 'L'" in warning


def test_parse_number_rejects_malformed_groups() -> None:
    assert parse_number("1,2,3")[0] is None
    assert parse_number("1.2.3,4,5")[0] is None
    assert parse_number(".5") == (0.5, "")


def test_normalise_unit() -> None:
    assert normalise_unit("Kilogramm") == ("kg", "")
    assert normalise_unit("litres") == ("L", "")
    assert normalise_unit("") == ("", "")
    assert normalise_unit("kilotonne") == ("kilotonne", "")  # pint knows it
    assert normalise_unit("pallets")[1] == "unit 'pallets' is not a mass or volume"


def test_to_kilograms() -> None:
    assert to_kilograms(3, "t") == pytest.approx(3000)
    assert to_kilograms(500, "g") == pytest.approx(0.5)
    assert to_kilograms(1, "lb") == pytest.approx(0.45359237)
    assert to_kilograms(200, "L", 0.79) == pytest.approx(158)
    assert to_kilograms(5, "gal", 1.0) == pytest.approx(18.927, rel=1e-4)  # US gallons
    assert to_kilograms(200, "L") is None  # no density
    assert to_kilograms(10, "drums", 1.0) is None
    assert to_kilograms(math.nan, "kg") is None
    assert to_kilograms(1, "kg", -1.0) is None
    assert to_kilograms(1, "") is None


def test_to_litres() -> None:
    assert to_litres(500, "mL") == pytest.approx(0.5)
    assert to_litres(1.5, "m3") == pytest.approx(1500)
    assert to_litres(1080, "kg", 1.08) == pytest.approx(1000)
    assert to_litres(1, "kg") is None
    assert to_litres(1, "pcs", 1.0) is None


@given(st.text(max_size=40), st.text(max_size=10))
def test_parse_quantity_never_raises(text: str, unit: str) -> None:
    value, symbol, warning = parse_quantity(text, unit)
    assert value is None or (math.isfinite(value) and 0 <= value <= 1e12)
    assert isinstance(symbol, str) and isinstance(warning, str)


def test_unit_expressions_are_not_evaluated() -> None:
    """pint evaluates what it parses; "m**9**9**9" would never finish."""
    assert parse_quantity("5 m**9**9**9") == (
        5.0,
        "m**9**9**9",
        "unit 'm**9**9**9' is not a mass or volume",
    )
    assert to_kilograms(1, "kg**9**9**9") is None
    assert to_litres(1, "(" * 500) is None


def test_long_text_is_refused_quickly() -> None:
    value, _unit, warning = parse_quantity("1" * 50_000 + "x")
    assert value is None and "too long" in warning
    assert parse_number("1" * 50_000 + "a")[0] is None
