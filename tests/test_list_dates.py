"""Dated list entries on the real bundled lists: the lists of a past day, what changed, what is
coming; the loader's date checks; dates kept in the store."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import shutil
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa

from precursorwatch.errors import ListFileError
from precursorwatch.lists.changes import ListChange, list_changes
from precursorwatch.lists.dates import parse_day
from precursorwatch.lists.load import (
    bundled_lists_dir,
    content_hash,
    listdef_from_dict,
    listdef_to_dict,
    load_bundled,
    load_list_file,
    load_sources,
    load_substances,
)
from precursorwatch.models import ListEntry, Watchlist
from precursorwatch.serial import substance_to_dict
from precursorwatch.store import current_watchlist, import_lists, open_store

DATA = Path(__file__).parent / "data" / "lists"
TODAY = date(2026, 12, 7)  # the day the December 2026 lists were checked
A_2026_314 = "Commission Delegated Regulation (EU) 2026/314"
FR_2026_06523 = "FR Doc 2026-06523 (final rule)"
NINE = {
    "3-chloropropiophenone",
    "2-bromo-3-chloropropiophenone",
    "3-methylpropiophenone",
    "2-bromo-3-methylpropiophenone",
    "4-methylpropiophenone",
    "2-bromo-4-methylpropiophenone",
    "4-chloropropiophenone",
    "2-bromo-4-chloropropiophenone",
    "phenyl-2-nitropropene",
}


@pytest.fixture(scope="module")
def wl() -> Watchlist:
    return load_bundled()


def _keys(watchlist: Watchlist, code: str) -> set[str]:
    return {e.substance_key for e in watchlist.lists[code].entries}


def _entry(watchlist: Watchlist, code: str, key: str) -> ListEntry:
    (entry,) = [e for e in watchlist.lists[code].entries if e.substance_key == key]
    return entry


# --- the bundled lists as of a day --------------------------------------------------------------


def test_2_bromo_4_methylpropiophenone_is_listed_from_2026_314(wl: Watchlist) -> None:
    key = "2-bromo-4-methylpropiophenone"
    assert key not in _keys(wl.as_of(date(2026, 1, 10)), "EU-CAT1")
    assert key in _keys(wl.as_of(TODAY), "EU-CAT1")
    entry = _entry(wl, "EU-CAT1", key)
    assert (entry.applies_from, entry.act) == ("2026-05-18", A_2026_314)
    assert "UNCONFIRMED" in entry.note  # the twentieth-day date is not read in a source
    assert wl.listed_from(key, "EU-CAT1") == "2026-05-18"
    # on 10 January 2026 every other EU category 1 substance of the day is still there
    assert "1-phenyl-2-propanone" in _keys(wl.as_of(date(2026, 1, 10)), "EU-CAT1")


def test_bmk_glycidic_acid_is_us_list_i_from_4_may_2026(wl: Watchlist) -> None:
    for key in ("bmk-glycidic-acid", "bmk-methyl-glycidate"):
        assert key not in _keys(wl.as_of(date(2026, 5, 3)), "US-DEA-L1")
        assert key in _keys(wl.as_of(date(2026, 5, 4)), "US-DEA-L1")
        assert wl.lists["US-DEA-L1"].entry_act(_entry(wl, "US-DEA-L1", key)) == FR_2026_06523
    # on the EU list since Delegated Regulation 2020/1737 (13 Dec 2020)
    assert "bmk-glycidic-acid" in _keys(wl.as_of(date(2026, 5, 3)), "EU-CAT1")
    family = _entry(wl, "US-DEA-L1", "bmk-methyl-glycidate")
    assert "esters of BMK glycidic acid" in family.family_name


def test_today_every_bundled_entry_is_in_force(wl: Watchlist) -> None:
    today = wl.as_of(TODAY)
    for code, listdef in wl.lists.items():
        assert today.lists[code].entries == listdef.entries, code
    assert wl.unknown_on(TODAY) == ()
    counts = {code: len(d.entries) for code, d in wl.lists.items()}
    assert counts["EU-CAT1"] == 43 and counts["US-DEA-L1"] == 42 and counts["US-DEA-L2"] == 11


def test_every_bundled_list_and_entry_is_dated(wl: Watchlist) -> None:
    for code, listdef in wl.lists.items():
        assert parse_day(listdef.applies_from), code
        assert listdef.act, code
        for entry in listdef.entries:
            start = listdef.entry_from(entry)
            assert parse_day(start), (code, entry.substance_key)
            assert listdef.entry_act(entry), (code, entry.substance_key)
            assert entry.applies_from == "" or entry.act, (code, entry.substance_key)


def test_a_day_before_the_data_keeps_only_dated_entries(wl: Watchlist) -> None:
    day = date(2019, 1, 1)
    assert set(wl.unknown_on(day)) == set(wl.lists)  # every list's data starts later
    old = wl.as_of(day)
    assert _keys(old, "US-DEA-L1") == {"apaan", "iodine"}  # 14 Aug 2017, 1 Aug 2007
    assert _keys(old, "EU-CAT1") == set()
    assert old.substances == wl.substances  # structures stay judgeable


def test_dated_thresholds_follow_the_day(wl: Watchlist) -> None:
    def thresholds(day: date) -> int:
        return len(_entry(wl.as_of(day), "US-DEA-L1", "4-ap").thresholds)

    assert thresholds(date(2023, 11, 29)) == 1  # no threshold for the halides before 30 Nov 2023
    assert thresholds(date(2023, 11, 30)) == 2
    red = _entry(wl.as_of(TODAY), "EU-CAT2A", "red-phosphorus")
    assert red.applies_from == "2021-01-13"
    assert [(t.quantity, t.unit, t.per) for t in red.thresholds] == [(0.1, "kg", "calendar year")]


def test_what_is_coming(wl: Watchlist) -> None:
    coming = wl.coming(date(2026, 4, 1), days=60)
    keys = [e.substance_key for e in coming]
    assert set(keys) == NINE | {"bmk-glycidic-acid", "bmk-methyl-glycidate"}
    assert keys[:2] == ["bmk-glycidic-acid", "bmk-methyl-glycidate"]  # 4 May before 18 May
    assert wl.coming(date(2026, 4, 1), days=35) == tuple(coming[:2])  # up to 6 May
    assert wl.coming(TODAY, days=365) == ()


# --- what changed -------------------------------------------------------------------------------


def test_changes_since_2026_name_the_acts_and_their_substances(wl: Watchlist) -> None:
    changes = list_changes(wl, since=date(2026, 1, 1))
    assert all(isinstance(c, ListChange) and c.day >= date(2026, 1, 1) for c in changes)
    eu = [c for c in changes if c.act == A_2026_314]
    assert {c.substance_key for c in eu} == NINE
    assert {(c.kind, c.list_code, c.day) for c in eu} == {("added", "EU-CAT1", date(2026, 5, 18))}
    us = [c for c in changes if c.act == FR_2026_06523]
    assert {c.substance_key for c in us} == {"bmk-glycidic-acid", "bmk-methyl-glycidate"}
    assert {(c.kind, c.list_code, c.day) for c in us} == {("added", "US-DEA-L1", date(2026, 5, 4))}
    assert [c.day for c in changes] == sorted(c.day for c in changes)
    p2np = next(c for c in eu if c.substance_key == "phenyl-2-nitropropene")
    assert "2026/314" in p2np.summary and "P2NP" in p2np.substance_name


def test_changes_of_one_list_and_threshold_changes(wl: Watchlist) -> None:
    us = list_changes(wl, since=date(2023, 1, 1), list_code="US-DEA-L1")
    assert {c.list_code for c in us} == {"US-DEA-L1"}
    halides = [c for c in us if c.kind == "threshold-added"]
    assert [(c.substance_key, c.day) for c in halides] == [("4-ap", date(2023, 11, 30))]
    assert halides[0].threshold is not None and halides[0].threshold.quantity == 0
    assert ("4-piperidone", date(2023, 5, 12)) in {(c.substance_key, c.day) for c in us}
    every = list_changes(wl)
    assert len(every) > len(list_changes(wl, since=date(2023, 1, 1)))
    assert list_changes(wl, list_code="NO-SUCH-LIST") == []
    eu_2a = list_changes(wl, list_code="EU-CAT2A")
    assert [(c.kind, c.substance_key, c.day) for c in eu_2a] == [
        ("threshold-added", "acetic-anhydride", date(2015, 6, 30)),
        ("added", "red-phosphorus", date(2021, 1, 13)),
    ]


# --- a removed entry, and the loader's checks -------------------------------------------------


def _lists_copy(tmp_path: Path, name: str, text: str) -> Path:
    shutil.copy(DATA / "good" / "substances.yaml", tmp_path / "substances.yaml")
    shutil.copy(DATA / "good" / "sources.yaml", tmp_path / "sources.yaml")
    path = tmp_path / name
    path.write_text(text, "utf-8")
    return path


HEADER = "code: DATED\ntitle: dated list\napplies_from: '2020-01-01'\nact: an old act\nentries:\n"


def test_a_removed_entry_keeps_its_dates(tmp_path: Path) -> None:
    body = (
        "- {substance: acetone, category: A}\n"
        "- substance: toluene\n"
        "  applies_from: '2021-03-01'\n"
        "  act: Act 1\n"
        "  applies_until: '2024-07-01'\n"
        "  removed_by: Act 2\n"
    )
    path = _lists_copy(tmp_path, "dated.yaml", HEADER + body)
    listdef, _ = load_list_file(path, load_substances(tmp_path / "substances.yaml"))
    wl = Watchlist(
        substances=load_substances(tmp_path / "substances.yaml"), lists={"DATED": listdef}
    )
    assert _keys(wl.as_of(date(2024, 6, 30)), "DATED") == {"acetone", "toluene"}
    assert _keys(wl.as_of(date(2024, 7, 1)), "DATED") == {"acetone"}
    assert _keys(wl.as_of(date(2021, 2, 1)), "DATED") == {"acetone"}
    changes = [(c.kind, c.substance_key, c.act, c.day) for c in list_changes(wl)]
    assert changes == [
        ("added", "toluene", "Act 1", date(2021, 3, 1)),
        ("removed", "toluene", "Act 2", date(2024, 7, 1)),
    ]
    assert listdef.entry_act(listdef.entries[0]) == "an old act"
    # the dates survive the store's JSON form
    assert listdef_from_dict(listdef_to_dict(listdef)) == listdef


@pytest.mark.parametrize(
    ("body", "entry", "field", "words"),
    [
        ("- {substance: acetone, applies_from: '2026-13-45'}\n", "acetone", "applies_from",
         "not a calendar day"),
        ("- {substance: acetone, applies_from: tomorrow}\n", "acetone", "applies_from",
         "YYYY-MM-DD"),
        ("- {substance: acetone, applies_from: '2022-01-01', applies_until: '2021-01-01'}\n",
         "acetone", "applies_until", "not after"),
        ("- {substance: acetone, applies_until: '2019-06-01'}\n", "acetone", "applies_until",
         "the list's applies_from"),
        ("- {substance: acetone, applies_until: '2023-06-01', removed_by: X}\n"
         "- {substance: toluene, removed_by: Act 2}\n", "toluene", "removed_by",
         "needs applies_until"),
        ("- substance: acetone\n  applies_from: '2022-01-01'\n  thresholds:\n  - {quantity: 1, "
         "unit: kg, applies_from: '2021-01-01'}\n", "acetone", "thresholds", "before its entry"),
        ("- substance: acetone\n  thresholds:\n  - {quantity: 1, unit: kg, applies_until: "
         "'2021-02-30'}\n", "acetone", "thresholds", "applies_until"),
        ("- {substance: acetone, act: [a, b]}\n", "acetone", "act", "must be text"),
    ],
)  # fmt: skip
def test_bad_dates_are_refused_naming_file_entry_and_field(
    tmp_path: Path, body: str, entry: str, field: str, words: str
) -> None:
    path = _lists_copy(tmp_path, "dated.yaml", HEADER + body)
    with pytest.raises(ListFileError) as info:
        load_list_file(path, load_substances(tmp_path / "substances.yaml"))
    message = str(info.value)
    assert "dated.yaml" in message and f"entry {entry!r}" in message
    assert f"field {field!r}" in message and words in message
    assert (info.value.entry, info.value.field) == (entry, field)


def test_bad_list_date_and_csv_date_are_refused(tmp_path: Path) -> None:
    path = _lists_copy(
        tmp_path,
        "dated.yaml",
        HEADER.replace("2020-01-01", "2020-1-1") + "- {substance: acetone}\n",
    )
    substances = load_substances(tmp_path / "substances.yaml")
    with pytest.raises(ListFileError, match=r"field 'applies_from'.*YYYY-MM-DD"):
        load_list_file(path, substances)
    csv = tmp_path / "firm.csv"
    csv.write_text("key,name,applies_from,act\nacetone,Acetone,2026-02-29,Act\n", "utf-8")
    with pytest.raises(ListFileError, match=r"entry 'acetone', field 'applies_from'"):
        load_list_file(csv, substances)
    csv.write_text("key,name,applies_from,act\nacetone,Acetone,2026-02-28,Act 9\n", "utf-8")
    listdef, _ = load_list_file(csv, substances)
    assert (listdef.entries[0].applies_from, listdef.entries[0].act) == ("2026-02-28", "Act 9")


def test_a_list_without_dates_keeps_its_hash(tmp_path: Path) -> None:
    substances = load_substances(DATA / "good" / "substances.yaml")
    listdef, _ = load_list_file(DATA / "good" / "mini.yaml", substances)
    assert listdef.applies_from == "" and all(not e.applies_from for e in listdef.entries)
    plain = {"list": listdef_to_dict(dataclasses.replace(listdef, content_hash="", version=0))}
    for key in ("applies_from", "act"):
        del plain["list"][key]
    for item in plain["list"]["entries"]:
        for key in ("applies_from", "applies_until", "act", "removed_by"):
            del item[key]
        for t in item["thresholds"]:
            for key in ("applies_from", "applies_until", "act"):
                del t[key]
    named = {k: substances[k] for k in {e.substance_key for e in listdef.entries}}
    plain["substances"] = {k: substance_to_dict(s) for k, s in sorted(named.items())}
    text = json.dumps(plain, sort_keys=True, ensure_ascii=False)
    assert content_hash(listdef, substances) == hashlib.sha256(text.encode()).hexdigest()
    dated = dataclasses.replace(listdef, applies_from="2020-01-01")
    assert content_hash(dated, substances) != content_hash(listdef, substances)


def test_bundled_sources_name_every_new_source(wl: Watchlist) -> None:
    sources = load_sources(bundled_lists_dir() / "sources.yaml")
    for sid in ("E17", "E20", "E21", "E23", "S17", "S18", "U3", "HS-PW"):
        assert sid in sources, sid


# --- the store keeps the dates -----------------------------------------------------------------


def test_the_store_keeps_entry_dates(tmp_path: Path, wl: Watchlist) -> None:
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    store = open_store(url)
    try:
        lists = [wl.lists["EU-CAT1"], wl.lists["US-DEA-L1"]]
        with store.session() as session:
            import_lists(session=session, lists=lists, substances=wl.substances, source_file="t")
        with store.session() as session:
            stored = current_watchlist(session=session)
    finally:
        store.dispose()
    entry = _entry(stored, "EU-CAT1", "4-methylpropiophenone")
    assert (entry.applies_from, entry.act) == ("2026-05-18", A_2026_314)
    assert stored.lists["EU-CAT1"].applies_from == "2020-12-13"
    assert _keys(stored.as_of(date(2026, 1, 10)), "EU-CAT1") == _keys(
        wl.as_of(date(2026, 1, 10)), "EU-CAT1"
    )
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        found = conn.execute(
            sa.text(
                "SELECT l.applies_from, l.act FROM listing l JOIN list_version v "
                "ON v.id = l.list_version_id JOIN list ON list.id = v.list_id "
                "WHERE list.code = 'US-DEA-L1' AND l.substance_key = 'bmk-glycidic-acid'"
            )
        ).one()
    engine.dispose()
    assert tuple(found) == ("2026-05-04", FR_2026_06523)
