"""Property tests (hypothesis) for the parsers users feed: CAS, names, quantities, headers, and
the engine on random text rows. Each property runs at most 200 examples; no deadline, since the
first call of some (pint, the list index) builds a cache.
"""

from __future__ import annotations

import csv
import io
import math

import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from precursorwatch.identify.normalise import cas_check_ok, clean_name, read_cas, split_components
from precursorwatch.lists.load import bundled_lists_dir, load_bundled
from precursorwatch.manifest.quantities import parse_quantity
from precursorwatch.manifest.read import HEADER_NAMES, header_key, read_manifest_bytes
from precursorwatch.run.screener import Screener

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
TEXT = st.text(st.characters(codec="utf-8"), max_size=80)


def _cas_digits(body: int) -> str:
    """A valid CAS number (check digit computed) from its leading digits."""
    digits = str(body)
    check = sum(i * int(d) for i, d in enumerate(reversed(digits), start=1)) % 10
    return f"{digits[:-2]}-{digits[-2:]}-{check}"


@FUZZ
@given(TEXT)
def test_read_cas_never_raises_and_readings_are_well_formed(text: str) -> None:
    for reading in read_cas(text):
        assert reading.valid == cas_check_ok(reading.cas)
        assert reading.cas.count("-") == 2


@FUZZ
@given(st.integers(min_value=1000, max_value=99_999_999), st.sampled_from(range(4)))
def test_a_valid_cas_round_trips_through_any_spelling(body: int, style: int) -> None:
    cas = _cas_digits(body)
    a, b, c = cas.split("-")
    spelled = [f"{a}{b}{c}", f"{a} {b} {c}", f"CAS: {cas}", f"0{cas}"][style]
    readings = read_cas(spelled)
    assert [(r.cas, r.valid) for r in readings] == [(cas, True)]


@FUZZ
@given(TEXT)
def test_clean_name_never_raises_and_is_idempotent_on_its_name(text: str) -> None:
    parts = clean_name(text)
    assert isinstance(parts.name, str)
    assert parts.share is None or (math.isfinite(parts.share) and parts.share >= 0)
    again = clean_name(parts.name)
    assert clean_name(again.name).name == again.name


@FUZZ
@given(TEXT)
@example("\ufe39本\ufe3a")  # vertical brackets: NFKC makes 〔本〕, which is cleaned again
def test_split_components_never_raises_and_keeps_text(text: str) -> None:
    parts = split_components(text)
    assert all(isinstance(p, str) for p in parts)
    for part in parts:  # a component is not split again
        assert split_components(part) in ([part], [part.strip()], [])


@FUZZ
@given(
    st.one_of(
        TEXT,
        st.floats(allow_nan=True, allow_infinity=True).map(str),
        st.from_regex(r"-?\d{1,20}([.,]\d{1,6})?(e[-+]?\d{1,4})? ?(kg|L|x 25 kg|parsecs)?"),
    ),
    st.sampled_from(["", "kg", "L", "drums", "m**9**9**9", "parsecs"]),
)
def test_parse_quantity_never_raises_and_values_are_finite(text: str, unit: str) -> None:
    value, symbol, warning = parse_quantity(text, unit)
    assert value is None or (math.isfinite(value) and value >= 0)
    assert isinstance(symbol, str) and isinstance(warning, str)


def _respell(header: str, case: int, space: int) -> str:
    header = [header, header.upper(), header.title(), header.swapcase()][case]
    return [header, f"  {header} ", header.replace(" ", "  "), header.replace(" ", "_")][space]


@FUZZ
@given(
    st.permutations(["description", "cas", "hs_code", "quantity", "unit", "line_id"]),
    st.data(),
)
def test_shuffled_recased_respaced_headers_are_recognised(
    fields: list[str], data: st.DataObject
) -> None:
    headers = []
    for field in fields:
        name = data.draw(st.sampled_from(HEADER_NAMES[field][:6]))
        headers.append(_respell(name, data.draw(st.integers(0, 3)), data.draw(st.integers(0, 3))))
    if len({header_key(h) for h in headers}) < len(headers):
        return  # two spellings fold to the same key: ambiguous by construction
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows([headers, [f"v-{f}" for f in fields]])
    frame, info = read_manifest_bytes(buf.getvalue().encode("utf-8"), "fuzz.csv")
    for field in fields:
        assert frame[field][0] == f"v-{field}", (headers, info.columns)


@pytest.fixture(scope="module")
def screener() -> Screener:
    return Screener(load_bundled(bundled_lists_dir()), use_opsin=False)


ROW = st.fixed_dictionaries(
    {
        "description": TEXT,
        "cas": st.one_of(TEXT, st.from_regex(r"\d{2,7}-\d\d-\d", fullmatch=True)),
        "quantity": TEXT,
        "unit": TEXT,
        "smiles": st.one_of(
            st.just(""), st.from_regex(r"[CNOc1()=\[\]#@+-]{0,30}", fullmatch=True)
        ),
        "hs_code": st.from_regex(r"\d{0,10}", fullmatch=True),
    }
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(st.lists(ROW, min_size=0, max_size=6))
def test_screen_frame_never_raises_and_keeps_one_row_per_line(
    screener: Screener, rows: list[dict[str, str]]
) -> None:
    frame = pd.DataFrame(
        rows, columns=["description", "cas", "quantity", "unit", "smiles", "hs_code"]
    )
    out = screener.screen_frame(frame)
    assert len(out) == len(rows)
    for flagged, risk in zip(out["flagged"], out["risk"], strict=True):
        assert risk in ("high", "medium", "low", "none")
        assert bool(flagged) == (risk in ("high", "medium"))
