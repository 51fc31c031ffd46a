"""The table of common unit symbols in ``manifest.quantities`` is what pint says."""

from __future__ import annotations

import pytest

from precursorwatch.manifest import quantities
from precursorwatch.manifest.quantities import PINT_NAMES, UNIT_ALIASES, to_kilograms, to_litres


@pytest.mark.parametrize("symbol", sorted(PINT_NAMES))
def test_each_symbol_has_pints_dimension_and_factor(symbol: str) -> None:
    dimension, factor = quantities._SYMBOLS[symbol]
    dims = quantities.unit_registry().parse_units(PINT_NAMES[symbol]).dimensionality
    assert dims == ({"[mass]": 1} if dimension == "mass" else {"[length]": 3})
    assert factor == quantities._pint_factor(symbol, quantities._BASE_UNIT[dimension])


def test_aliases_convert_as_their_symbol() -> None:
    for alias, symbol in UNIT_ALIASES.items():
        assert to_kilograms(3.0, alias, 0.8) == to_kilograms(3.0, symbol, 0.8), alias
        assert to_litres(3.0, alias, 0.8) == to_litres(3.0, symbol, 0.8), alias


def test_other_units_still_go_to_pint() -> None:
    assert to_kilograms(2.0, "pound") == pytest.approx(0.90718474)
    assert to_litres(1.0, "quart") == pytest.approx(0.946352946)
    assert to_kilograms(1.0, "parsec") is None
