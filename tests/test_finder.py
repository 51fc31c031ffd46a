"""Finding screenings and lines again (issue 21): the store's finder functions on a real
SQLite store with generated screenings."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest

from _finder_data import decide, kind_of, stored
from precursorwatch.store import Store, open_store
from precursorwatch.store.finder import LineFilter, find_screenings, line_page
from precursorwatch.store.linesearch import search_lines

RANK = {"high": 0, "medium": 1, "low": 2, "none": 3}


@pytest.fixture
def store(tmp_db_url: str) -> Iterator[Store]:
    s = open_store(tmp_db_url)
    yield s
    s.dispose()


def test_screenings_are_listed_newest_first_with_filters_and_paging(store: Store) -> None:
    old = stored(store, 60, name="march.csv", actor="anna", key_id="k1",
                 created_at=datetime(2026, 3, 2, 9, tzinfo=UTC))  # fmt: skip
    mid = stored(store, 60, name="April_Imports.xlsx", actor="bert", key_id="k2",
                 created_at=datetime(2026, 4, 10, 9, tzinfo=UTC))  # fmt: skip
    new = stored(store, 60, name="may.csv", actor="anna", key_id="k1",
                 created_at=datetime(2026, 5, 1, 23, 59, tzinfo=UTC))  # fmt: skip
    with store.session(write=False) as session:
        every = find_screenings(session=session)
        assert [x.summary.screening_id for x in every.items] == [new, mid, old]
        assert every.total == 3 and every.next_offset is None
        first = find_screenings(session=session, limit=2)
        assert [x.summary.screening_id for x in first.items] == [new, mid]
        assert first.next_offset == 2
        second = find_screenings(session=session, offset=2, limit=2)
        assert [x.summary.screening_id for x in second.items] == [old]
        # days are whole days, both ends included
        spring = find_screenings(session=session, since=date(2026, 4, 10), until=date(2026, 5, 1))
        assert [x.summary.screening_id for x in spring.items] == [new, mid]
        assert find_screenings(session=session, actor="ANN").total == 2
        assert [x.summary.screening_id for x in find_screenings(
            session=session, file="april").items] == [mid]  # fmt: skip
        assert find_screenings(session=session, file="%").total == 0  # no wildcard
        own = find_screenings(session=session, owner_key_id="k2")
        assert [x.summary.screening_id for x in own.items] == [mid]
        assert find_screenings(session=session, limit=10_000).limit == 200
    flagged = sum(1 for i in range(60) if kind_of(i) in {"bmk", "acetone"})
    with store.session(write=False) as session:
        (listed,) = find_screenings(session=session, file="may").items
        assert listed.open == flagged and listed.decided == 0
    # every flagged line of "may" decided (one twice): no longer open
    for i in range(60):
        if kind_of(i) in {"bmk", "acetone"}:
            decide(store, new, f"L{i + 1}", "cleared")
    decide(store, new, "L1", "detained")
    with store.session(write=False) as session:
        still = find_screenings(session=session, open_only=True)
        assert [x.summary.screening_id for x in still.items] == [mid, old]
        (listed,) = find_screenings(session=session, file="may").items
        assert listed.open == 0 and listed.decided == flagged


def test_a_page_of_lines_flagged_first_filtered_and_sorted(store: Store) -> None:
    sid = stored(store, 1_000)
    kinds = [kind_of(i) for i in range(1_000)]
    risk = {"bmk": "high", "acetone": "medium", "similar": "low", "clear": "none"}
    with store.session(write=False) as session:
        page = line_page(session=session, screening_id=sid, limit=30)
        assert page.total == page.matched == 1_000 and page.next_offset == 30
        expected = sorted(range(1_000), key=lambda i: (RANK[risk[kinds[i]]], i))
        assert [p.position for p in page.lines] == expected[:30]
        assert all(p.result.line_id == p.line.line_id == f"L{p.position + 1}" for p in page.lines)
        assert page.lines[0].result.risk == "high" and page.lines[0].line.row == 1
        later = line_page(session=session, screening_id=sid, offset=990, limit=30)
        assert [p.position for p in later.lines] == expected[990:]
        assert later.next_offset is None
        in_order = line_page(
            session=session, screening_id=sid, limit=5, where=LineFilter(sort="input")
        )
        assert [p.position for p in in_order.lines] == [0, 1, 2, 3, 4]
        lowest = line_page(
            session=session, screening_id=sid, limit=3, where=LineFilter(sort="risk-asc")
        )
        assert {p.result.risk for p in lowest.lines} == {"none"}
        high = line_page(
            session=session, screening_id=sid, where=LineFilter(risks=frozenset({"high"}))
        )
        assert high.matched == kinds.count("bmk") == 20
        assert {p.result.matched_key for p in high.lines} == {"1-phenyl-2-propanone"}
        named = line_page(session=session, screening_id=sid,
                          where=LineFilter(match_types=frozenset({"name"})))  # fmt: skip
        assert named.matched == kinds.count("acetone")
        cat1 = line_page(
            session=session, screening_id=sid, where=LineFilter(lists=frozenset({"UN-T1"}))
        )
        assert cat1.matched == kinds.count("bmk") + kinds.count("similar")
    decide(store, sid, "L1", "inspect")
    decide(store, sid, "L1", "cleared")  # the newest is the decision
    decide(store, sid, "L4", "detained")
    with store.session(write=False) as session:
        cleared = line_page(session=session, screening_id=sid,
                            where=LineFilter(decisions=frozenset({"cleared"})))  # fmt: skip
        assert [p.line.line_id for p in cleared.lines] == ["L1"]
        assert cleared.lines[0].decision == "cleared" and cleared.decided == {
            "cleared": 1,
            "detained": 1,
        }
        opened = line_page(session=session, screening_id=sid, limit=1_000,
                           where=LineFilter(decisions=frozenset({"open"})))  # fmt: skip
        flagged = kinds.count("bmk") + kinds.count("acetone")
        assert opened.matched == flagged - 2
        assert all(p.result.flagged and not p.decision for p in opened.lines)
        both = line_page(session=session, screening_id=sid,
                         where=LineFilter(decisions=frozenset({"open", "detained"})))  # fmt: skip
        assert both.matched == flagged - 1
        undecided = line_page(session=session, screening_id=sid,
                              where=LineFilter(decisions=frozenset({"undecided"})))  # fmt: skip
        assert undecided.matched == 998
        none = line_page(session=session, screening_id="0" * 32)
        assert none.total == 0 and none.lines == ()


def test_searching_lines_by_substance_consignee_and_day_shows_a_file_once(store: Store) -> None:
    day = datetime(2026, 6, 1, 12, tzinfo=UTC)
    first = stored(store, 200, name="june.csv", created_at=day, input_hash="same")
    again = stored(store, 200, name="june-again.csv", created_at=datetime(2026, 6, 2, tzinfo=UTC),
                   input_hash="same")  # fmt: skip
    other = stored(store, 100, name="july.csv", created_at=datetime(2026, 7, 1, tzinfo=UTC),
                   key_id="k9", prefix="J")  # fmt: skip
    with store.session(write=False) as session:
        bmk = search_lines(session=session, keys=["1-phenyl-2-propanone"])
        # the newest screening first; the same file's two screenings read once, counted twice
        assert [f.screening_id for f in bmk.lines] == [other] * 2 + [again] * 4
        assert [f.times for f in bmk.lines] == [1, 1, 2, 2, 2, 2]
        assert (
            bmk.screenings_read == 2
            and not bmk.more
            and first not in {f.screening_id for f in bmk.lines}
        )
        firm = search_lines(session=session, consignee="firm 3", keys=["acetone"])
        assert firm.lines and all(f.line.consignee == "Firm 3" for f in firm.lines)
        assert all(f.result.matched_key == "acetone" for f in firm.lines)
        june = search_lines(session=session, consignee="FIRM", since=date(2026, 6, 1),
                            until=date(2026, 6, 1), limit=10)  # fmt: skip
        assert len(june.lines) == 10 and june.more
        assert {f.screening_id for f in june.lines} == {first}
        mine = search_lines(session=session, consignee="firm", owner_key_id="k9", limit=1_000)
        assert len(mine.lines) == 100 and {f.screening_id for f in mine.lines} == {other}
        assert search_lines(session=session).lines == ()
        assert search_lines(session=session, keys=["no-such-substance"]).lines == ()
