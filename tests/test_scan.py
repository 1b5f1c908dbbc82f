"""Reading many cases: ``desk.cases.scan`` pages through the store by key and hands out one
case at a time, in ``find``'s order; ``find`` reads its list the same way."""

from __future__ import annotations

import gc
import sqlite3
import threading
from datetime import timedelta
from typing import Any

import pytest
from conftest import REPORT, at

from aftersales import NotFound, ServiceDesk, ValidationError
from aftersales.plugins.sqlite import MIGRATIONS, find_sql
from aftersales.ports.storage import CaseQuery
from aftersales.services.bulk import gc_paused


def report_many(desk: ServiceDesk, n: int, *, same_minute: int = 3) -> list[str]:
    """``n`` cases, ``same_minute`` of them at a time reported in the same minute (ties on
    the report time are broken by id), every third assigned to e7, every fifth to e8."""
    ids = []
    for i in range(n):
        when = at(i // same_minute)
        case = desk.cases.report(**REPORT, by="cs1", at=when)
        if i % 3 == 0 or i % 5 == 0:
            desk.cases.respond(case.id, by="cs1", at=when)
            engineer = "e7" if i % 3 == 0 else "e8"
            desk.cases.assign(case.id, engineer=engineer, by="cs1", at=when)
        ids.append(case.id)
    return ids


def reads(desk: ServiceDesk) -> list[CaseQuery]:
    """Every query the desk's store answers from now on, recorded."""
    seen: list[CaseQuery] = []
    find_cases = desk.storage.find_cases

    def spy(query: CaseQuery) -> Any:
        seen.append(query)
        return find_cases(query)

    desk.storage.find_cases = spy  # type: ignore[method-assign]
    return seen


@pytest.mark.parametrize("page", [1, 2, 7, 500])
def test_scan_gives_finds_cases_in_its_order(desk: ServiceDesk, page: int) -> None:
    report_many(desk, 23)
    for kw in ({}, {"newest_first": True}, {"status": "assigned"}, {"engineer": "e7"},
               {"since": at(2), "until": at(5)}, {"status": ["reported", "assigned"],
                                                   "newest_first": True}):  # fmt: skip
        want = [c.id for c in desk.cases.find(**kw)]
        assert [c.id for c in desk.cases.scan(**kw, page=page)] == want, kw
    everything = [c.id for c in desk.cases.find()]
    assert len(everything) == len(set(everything)) == 23


def test_scan_reads_a_page_at_a_time(desk: ServiceDesk) -> None:
    report_many(desk, 10)
    seen = reads(desk)
    scan = desk.cases.scan(page=4)
    assert seen == []  # nothing is read until the first case is asked for
    first = next(scan)
    assert [q.limit for q in seen] == [4] and seen[0].after is None
    rest = list(scan)
    assert len(rest) == 9
    # three pages of 4, 4 and 2: each starts after the last case of the one before
    assert [q.limit for q in seen] == [4, 4, 4]
    assert seen[1].after is not None and seen[1].after[1] == rest[2].id
    assert first.id not in {c.id for c in rest}


def test_find_with_a_limit_reads_only_that_many(desk: ServiceDesk) -> None:
    report_many(desk, 12)
    seen = reads(desk)
    newest = desk.cases.find(limit=5, newest_first=True)
    assert [q.limit for q in seen] == [5]
    assert newest == desk.cases.find(newest_first=True)[:5]


def test_a_case_reported_during_a_scan_is_met_at_most_once(desk: ServiceDesk) -> None:
    report_many(desk, 9)
    ids = [c.id for c in desk.cases.find()]
    scan = desk.cases.scan(page=2)
    met = [next(scan).id for _ in range(3)]
    later = desk.cases.report(**REPORT, by="cs1", at=at(60))  # after every case: met
    earlier = desk.cases.report(**REPORT, by="cs1", at=at(0) - timedelta(days=1))  # behind
    met += [c.id for c in scan]
    assert met == [*ids, later.id]
    assert earlier.id not in met


def test_scan_checks_its_arguments_when_called(desk: ServiceDesk) -> None:
    with pytest.raises(ValidationError, match="unknown status 'nonsense'"):
        desk.cases.scan(status="nonsense")
    with pytest.raises(ValidationError, match="page"):
        desk.cases.scan(page=0)
    with pytest.raises(ValidationError, match="page"):
        desk.cases.scan(team="north", page=0)
    with pytest.raises(ValidationError, match="unknown status"):
        desk.cases.scan(team="north", status="nonsense")
    with pytest.raises(ValidationError, match="limit"):
        desk.cases.find(limit=0)


def test_scan_of_a_team_merges_its_members_and_its_queue(desk: ServiceDesk) -> None:
    desk.staff.update("e7", by="m1", team="north", at=at(0))
    desk.staff.update("e8", by="m1", team="south", at=at(0))
    report_many(desk, 30)
    queued = desk.cases.report(**REPORT, by="cs1", at=at(3))
    desk.cases.queue(queued.id, team="north", by="cs1", at=at(3))
    for kw in ({}, {"newest_first": True}, {"status": "reported"}, {"engineer": "e7"}):
        want = [c.id for c in desk.cases.find(team="north", **kw)]
        got = [c.id for c in desk.cases.scan(team="north", page=1, **kw)]
        assert got == want, kw
    north = [c.id for c in desk.cases.scan(team="north")]
    assert queued.id in north
    assert {desk.cases.get(i).engineer for i in north} == {"e7", None}
    assert north == sorted(north, key=lambda i: (desk.cases.get(i).reported_at, i))
    assert desk.cases.find(team="north", limit=3) == desk.cases.find(team="north")[:3]
    # statuses as any iterable, read once, as find without a team takes them
    listed = desk.cases.find(team="north", status=["reported", "assigned"])
    assert desk.cases.find(team="north", status=iter(["reported", "assigned"])) == listed


def test_gc_paused_nests_and_restores_the_collector() -> None:
    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()  # it was off before: left off
    finally:
        gc.enable()
    with pytest.raises(RuntimeError), gc_paused():
        raise RuntimeError("boom")
    assert gc.isenabled()


def test_gc_paused_from_several_threads_turns_it_on_once_all_are_done() -> None:
    inside, leave = threading.Barrier(3), threading.Event()

    def decode() -> None:
        with gc_paused():
            inside.wait()
            leave.wait()

    threads = [threading.Thread(target=decode) for _ in range(2)]
    for t in threads:
        t.start()
    inside.wait()
    assert not gc.isenabled()
    leave.set()
    for t in threads:
        t.join()
    assert gc.isenabled()


def test_after_a_case_is_a_cursor_that_skips_and_repeats_nothing(desk: ServiceDesk) -> None:
    desk.staff.update("e7", by="m1", team="north", at=at(0))
    report_many(desk, 12)
    earlier = (at(-60 - minutes) for minutes in range(1000))  # each before all the others
    for kw in ({}, {"newest_first": True}, {"team": "north"}, {"status": "assigned"}):
        every = [c.id for c in desk.cases.find(**kw)]
        paged: list[str] = []
        new: list[str] = []
        while page := desk.cases.find(**kw, limit=5, after=paged[-1] if paged else None):
            paged += [c.id for c in page]
            # a case reported between two pages, earlier than all, comes in a later page
            # when the pages go back in time, in none when they go forward
            if len(new) < 2:
                new.append(desk.cases.report(**REPORT, by="cs1", at=next(earlier)).id)
        ahead = [i for i in paged if i not in every]
        assert paged == every + ahead and len(set(paged)) == len(paged), kw
        if kw.get("newest_first"):
            assert ahead == new
        else:
            assert ahead == []
        assert [c.id for c in desk.cases.scan(**kw, after=paged[3])] == paged[4:]
    with pytest.raises(NotFound, match="no case 'nope'"):
        desk.cases.find(after="nope")


@pytest.mark.parametrize("newest_first", [False, True])
@pytest.mark.parametrize("status", [None, ("assigned",), ("reported", "assigned")])
def test_a_page_after_a_key_seeks_to_it_in_sqlite(
    tmp_path: Any, newest_first: bool, status: tuple[str, ...] | None
) -> None:
    """Each page of a scan starts where the last ended: SQLite searches an index from the
    key instead of walking it from its start (which made a scan of a million cases take
    minutes: each page walked all the pages before it)."""
    conn = sqlite3.connect(tmp_path / "plan.db")
    for script in MIGRATIONS:
        conn.executescript(script)
    query = CaseQuery(status=status, newest_first=newest_first, limit=500,
                      after=("2026-11-23T01:00:00+00:00", "c1"))  # fmt: skip
    sql, args = find_sql(query)
    plan = " | ".join(r[3] for r in conn.execute("EXPLAIN QUERY PLAN " + sql, args))
    assert "SEARCH i USING COVERING INDEX" in plan and "(reported_at,id)" in plan, plan


@pytest.mark.parametrize(
    ("kw", "error"),
    [
        ({"page": True}, ValidationError),
        ({"page": 10**12}, ValidationError),
        ({"page": -1}, ValidationError),
        ({"page": "5"}, ValidationError),
        ({"page": None}, ValidationError),
        ({"after": 123}, ValidationError),
        ({"after": ""}, NotFound),
        ({"after": "x" * 10_000}, NotFound),
        ({"after": "\x00"}, NotFound),
        ({"after": "<b>AS-2026-000001</b>"}, NotFound),
    ],
)
def test_careless_scan_arguments_are_refused_by_name(
    desk: ServiceDesk, kw: dict[str, Any], error: type[Exception]
) -> None:
    report_many(desk, 3)
    with pytest.raises(error):
        desk.cases.scan(**kw)
    if "after" in kw:
        with pytest.raises(error):
            desk.cases.find(**kw)
    assert len(desk.cases.find()) == 3  # nothing read or changed on the way
