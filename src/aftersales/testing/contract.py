"""The storage contract as tests: what every backend must do for the desk to be correct.

A plugin author points it at a backend and runs pytest::

    # test_my_storage.py
    import attrs
import pytest
    from aftersales.testing import StorageContract

    class TestRedisStorage(StorageContract):
        @pytest.fixture
        def aftersales_storage(self, tmp_path):
            store = RedisStorage("redis://localhost/15")
            yield store
            store.close()

or, without a fixture, names a factory ``factory(tmp_path) -> Storage`` in the pytest
configuration (``aftersales_storage_factory = "my_pkg.testing:open_store"``) and subclasses
:class:`StorageContract` with an empty body. The ``aftersales`` pytest plugin (installed with
the package) provides that fixture.
"""

from __future__ import annotations

from typing import Any

import attrs
import pytest

from aftersales.core.errors import ConflictError
from aftersales.ports.storage import (
    CaseIndex,
    CaseQuery,
    ClockFact,
    OutboxItem,
    SentNotification,
    Storage,
)


def _event(version: int, kind: str = "noted") -> dict[str, object]:
    return {"version": version, "type": kind, "at": f"2026-11-27T08:{version:02d}:00+00:00",
            "by": "tester", "data": {"n": version, "text": "漢字 ok"}}  # fmt: skip


def _index(
    number: str,
    status: str,
    reported_at: str,
    engineer: str | None = None,
    next_alert_at: str | None = None,
) -> CaseIndex:
    return CaseIndex(number=number, status=status, engineer=engineer, reported_at=reported_at,
                     serial=None, fault_code=None, accepted_at=None, priority="general",
                     next_alert_at=next_alert_at)  # fmt: skip


def _item(
    id: str, plugin: str = "mail", next_try_at: str = "2026-11-27T08:00:00+00:00"
) -> OutboxItem:
    return OutboxItem(id, plugin, {"kind": "case_assigned", "recipients": ["e7"]},
                      "2026-11-27T08:00:00+00:00", next_try_at)  # fmt: skip


class StorageContract:
    """Subclass in a test module; the ``aftersales_storage`` fixture supplies the backend,
    empty, for each test."""

    def test_append_then_read_back(self, aftersales_storage: Storage) -> None:
        s = aftersales_storage
        with s.transaction() as tx:
            tx.append("thing", "a", 0, [_event(1), _event(2)], {"state": 2, "名": "値"})
        record = s.get("thing", "a")
        assert record is not None and record.version == 2
        assert dict(record.data) == {"state": 2, "名": "値"}
        assert s.version("thing", "a") == 2
        assert [e["version"] for e in s.events("thing", "a")] == [1, 2]
        assert s.events("thing", "a")[0] == _event(1)
        assert s.get("thing", "missing") is None and s.events("thing", "missing") == []

    def test_a_stale_version_writes_nothing(self, aftersales_storage: Storage) -> None:
        s = aftersales_storage
        with s.transaction() as tx:
            tx.append("thing", "a", 0, [_event(1)], {"v": 1})
        for expected in (0, 2):
            with pytest.raises(ConflictError), s.transaction() as tx:
                tx.append("thing", "a", expected, [_event(expected + 1)], {"v": "stale"})
        assert s.get("thing", "a").data == {"v": 1}  # type: ignore[union-attr]
        assert len(s.events("thing", "a")) == 1

    def test_an_exception_discards_the_whole_transaction(self, aftersales_storage: Storage) -> None:
        s = aftersales_storage
        with pytest.raises(RuntimeError), s.transaction() as tx:
            tx.append("thing", "a", 0, [_event(1)], {"v": 1})
            assert tx.get("thing", "a") is not None  # the transaction sees its own write
            tx.next_number("seq")
            tx.record_sent([SentNotification("a", "k", "2026-11-27T08:00:00+00:00", {})])
            tx.enqueue([_item("x")])
            raise RuntimeError("crash")
        assert s.get("thing", "a") is None and s.events("thing", "a") == []
        assert s.outbox() == []
        with s.transaction() as tx:
            assert tx.next_number("seq") == 1  # the rolled-back number was not used up
            assert tx.sent_keys(["a"]) == {}

    def test_numbers_count_per_sequence(self, aftersales_storage: Storage) -> None:
        with aftersales_storage.transaction() as tx:
            assert [tx.next_number("a") for _ in range(3)] == [1, 2, 3]
            assert tx.next_number("b") == 1
        with aftersales_storage.transaction() as tx:
            assert tx.next_number("a") == 4

    def test_scan_is_in_id_order(self, aftersales_storage: Storage) -> None:
        with aftersales_storage.transaction() as tx:
            for id in ("b", "a", "C", "c"):
                tx.append("thing", id, 0, [_event(1)], {"id": id})
            tx.append("other", "z", 0, [_event(1)], {})
        assert [r.id for r in aftersales_storage.scan("thing")] == ["C", "a", "b", "c"]

    def test_find_cases(self, aftersales_storage: Storage) -> None:
        s = aftersales_storage
        with s.transaction() as tx:
            rows = [("reported", None), ("assigned", "e7"), ("assigned", "e8"), ("closed", "e7")]
            for n, (status, engineer) in enumerate(rows):
                at = f"2026-11-2{n}T08:00:00+00:00"
                tx.append("case", f"c{n}", 0, [_event(1)], {"n": n},
                          _index(f"AS-2026-00000{n}", status, at, engineer=engineer,
                                 next_alert_at=at if status != "closed" else None))  # fmt: skip

        def ids(query: CaseQuery) -> list[str]:
            return [r.id for r in s.find_cases(query)]

        assert ids(CaseQuery()) == ["c0", "c1", "c2", "c3"]
        assert ids(CaseQuery(status=("assigned",))) == ["c1", "c2"]
        assert ids(CaseQuery(engineer="e7")) == ["c1", "c3"]
        assert ids(CaseQuery(since="2026-11-21T00:00:00+00:00",
                             until="2026-11-23T00:00:00+00:00")) == ["c1", "c2"]  # fmt: skip
        assert ids(CaseQuery(number="AS-2026-000002")) == ["c2"]
        assert ids(CaseQuery(newest_first=True, limit=2)) == ["c3", "c2"]
        assert ids(CaseQuery(alert_due="2026-11-21T08:00:00+00:00")) == ["c0", "c1"]
        with s.transaction() as tx:
            tx.set_next_alert([("c0", None), ("c2", "2026-11-20T00:00:00+00:00")])
        assert ids(CaseQuery(alert_due="2026-11-21T08:00:00+00:00")) == ["c2", "c1"]
        with s.transaction() as tx:  # the index row follows the case
            tx.append("case", "c1", 1, [_event(2)], {"n": 1},
                      _index("AS-2026-000001", "closed", "2026-11-21T08:00:00+00:00"))  # fmt: skip
        assert ids(CaseQuery(status=("assigned",))) == ["c2"]

    def test_find_cases_pages_by_key(self, aftersales_storage: Storage) -> None:
        """``CaseQuery.after`` starts after a (report time, id) key in the query's order,
        both ways, with ties on the report time broken by ids compared byte by byte, and
        paging a result by its keys gives each case once, in order."""
        s = aftersales_storage
        same, before, later = (f"2026-11-2{d}T08:00:00+00:00" for d in (1, 0, 2))
        cases = [("Z", same), ("a", same), ("b", same), ("ä", same), ("c", before),
                 ("d", later)]  # fmt: skip
        with s.transaction() as tx:
            for n, (id, at) in enumerate(cases):
                status = "closed" if id in "ab" else "assigned"
                tx.append("case", id, 0, [_event(1)], {"n": n},
                          _index(f"AS-2026-{n:06d}", status, at))  # fmt: skip
        order = ["c", "Z", "a", "b", "ä", "d"]
        assert [r.id for r in s.find_cases(CaseQuery())] == order

        def ids(**query: Any) -> list[str]:
            return [r.id for r in s.find_cases(CaseQuery(**query))]

        assert ids(after=(same, "a")) == ["b", "ä", "d"]
        assert ids(after=(same, "a"), newest_first=True) == ["Z", "c"]
        assert ids(after=(same, "a"), status=("assigned",), limit=1) == ["ä"]
        assert ids(after=(later, "d")) == []
        for newest_first in (False, True):
            paged: list[str] = []
            key = None
            while True:
                page = s.find_cases(CaseQuery(after=key, limit=2, newest_first=newest_first))
                if not page:
                    break
                paged += [r.id for r in page]
                last = page[-1].id
                key = (dict(cases)[last], last)
            assert paged == (order[::-1] if newest_first else order)

    def test_clock_facts_follow_the_case(self, aftersales_storage: Storage) -> None:
        """A store that keeps clock facts (``clock_facts`` not None) keeps those a write
        gives, keeps them when a later write gives none, replaces them when it gives others,
        tells running clocks from the others, and finds the cases they do not cover with
        ``CaseQuery.unjudged_by``."""
        s = aftersales_storage
        day = "2026-11-2{}T08:00:00+00:00".format
        if s.clock_facts(day(0), day(9), day(9)) is None:
            return  # a store that keeps none: the SLA report reads every case
        met = ClockFact("response", "general", "met", 60.0, 60.0, None)
        late = ClockFact("repair", "general", "breached", None, None, 3600.0)
        closed = attrs.evolve(_index("AS-2026-000001", "closed", day(1)), judged_at=day(3),
                              team="north", customer="Hengli", facts=(met, late))  # fmt: skip
        running = ClockFact("response", "general", "running", due=day(4), excused_until=day(5))
        open_ = attrs.evolve(_index("AS-2026-000002", "assigned", day(2)), judged_at=day(2),
                             customer="Hengli", facts=(running,))  # fmt: skip
        with s.transaction() as tx:
            tx.append("case", "c1", 0, [_event(1)], {"n": 1}, closed)
            tx.append("case", "c2", 0, [_event(1)], {"n": 2}, open_)
            tx.append("case", "c3", 0, [_event(1)], {"n": 3},
                      _index("AS-2026-000003", "assigned", day(2)))  # fmt: skip

        def facts(judged_by: str, running: bool | None = None) -> list[tuple[str, str, str]]:
            found = s.clock_facts(day(0), day(9), judged_by, running=running) or ()
            return sorted((f.number, f.fact.milestone, f.fact.state) for f in found)

        def unjudged(at: str) -> list[str]:
            return [r.id for r in s.find_cases(CaseQuery(unjudged_by=at))]

        assert facts(day(3)) == [("AS-2026-000001", "repair", "breached"),
                                 ("AS-2026-000001", "response", "met"),
                                 ("AS-2026-000002", "response", "running")]  # fmt: skip
        assert facts(day(3), running=True) == [("AS-2026-000002", "response", "running")]
        assert len(facts(day(3), running=False)) == 2
        assert facts(day(2)) == [("AS-2026-000002", "response", "running")]
        assert unjudged(day(2)) == ["c1", "c3"] and unjudged(day(3)) == ["c3"]
        [row] = [f for f in s.clock_facts(day(0), day(9), day(9)) or () if f.fact == late]
        assert (row.reported_at, row.team, row.customer) == (day(1), "north", "Hengli")
        [row] = [f for f in s.clock_facts(day(0), day(9), day(9), running=True) or ()]
        assert row.fact == running  # its deadline and excuse kept
        assert [row.fact.at(day(n)) for n in (3, 4, 5)] == ["running", "excused", "breached"]
        groups = {g.key: g for g in s.clock_fact_groups(day(0), day(9), day(9),
                                                         ("milestone", "team")) or ()}  # fmt: skip
        assert set(groups) == {("response", "north"), ("repair", "north")}  # none running
        response, repair = groups[("response", "north")], groups[("repair", "north")]
        assert (response.states, list(response.working), list(response.clock)) == (
            {"met": 1}, [60.0], [60.0])  # fmt: skip
        assert repair.states == {"breached": 1} and list(repair.working) == []
        assert repair.worst == [(3600.0, day(1), "AS-2026-000001", "repair")]
        assert s.clock_fact_groups(day(0), day(9), day(2), ("priority",)) == []
        with s.transaction() as tx:  # an index row without facts keeps the stored ones
            tx.append("case", "c1", 1, [_event(2)], {"n": 1}, attrs.evolve(closed, facts=None))
        assert len(facts(day(9))) == 3
        with s.transaction() as tx:  # acted on again: judged anew
            reopened = attrs.evolve(closed, status="assigned", judged_at=day(6), facts=(met,))
            tx.append("case", "c1", 2, [_event(3)], {"n": 1}, reopened)
        assert facts(day(9)) == [("AS-2026-000001", "response", "met"),
                                 ("AS-2026-000002", "response", "running")]  # fmt: skip
        assert unjudged(day(5)) == ["c1", "c3"]
        with s.transaction() as tx:  # cancelled: judged, no clock to keep
            tx.append(
                "case",
                "c1",
                3,
                [_event(4)],
                {"n": 1},
                attrs.evolve(closed, status="cancelled", judged_at=day(7), facts=()),
            )
        assert len(facts(day(9))) == 1 and unjudged(day(9)) == ["c3"]

    def test_sent_keys_are_recorded_once(self, aftersales_storage: Storage) -> None:
        stamp = "2026-11-27T08:00:00+00:00"
        with aftersales_storage.transaction() as tx:
            assert tx.record_sent([SentNotification("a", "k1", stamp, {}),
                                   SentNotification("a", "k2", stamp, {})]) == 2  # fmt: skip
        with aftersales_storage.transaction() as tx:
            assert tx.record_sent([SentNotification("a", "k1", stamp, {}),
                                   SentNotification("b", "k1", stamp, {})]) == 1  # fmt: skip
            assert tx.sent_keys(["a", "b", "c"]) == {"a": {"k1", "k2"}, "b": {"k1"}}

    def test_due_cases_are_the_soonest_due(self, aftersales_storage: Storage) -> None:
        """``due_cases`` (where a store has it; None means the tick reads ``find_cases``
        inside its one-writer transaction): due by ``now``, soonest first, at most
        ``limit``, each with its snapshot and version."""
        s = aftersales_storage
        alerts = {"d1": "09:30", "d2": "08:30", "d3": "12:00", "d4": "08:30"}
        for n, (id, at) in enumerate(sorted(alerts.items()), start=1):
            with s.transaction() as tx:
                tx.append("case", id, 0, [_event(1)], {"id": id}, _index(
                    f"AS-2026-{n:06d}", "reported", "2026-11-27T08:00:00+00:00",
                    next_alert_at=f"2026-11-27T{at}:00+00:00"))  # fmt: skip
        with s.transaction() as tx:
            due = tx.due_cases("2026-11-27T10:00:00+00:00", 10)
            if due is None:
                return
            assert [(r.id, r.version, r.data) for r in due] == [
                ("d2", 1, {"id": "d2"}),
                ("d4", 1, {"id": "d4"}),
                ("d1", 1, {"id": "d1"}),
            ]
            assert [r.id for r in tx.due_cases("2026-11-27T10:00:00+00:00", 1) or []] == ["d2"]

    def test_alert_plans_are_kept_with_the_index_row(self, aftersales_storage: Storage) -> None:
        """A store that keeps alert plans (``due_plans`` not None) hands each due case back
        with the plan its latest write gave, as written, and its snapshot only where it has
        none; ``set_alert_plans`` sets the next time and the plan together; a later write
        without a plan clears it."""
        s = aftersales_storage
        at = "2026-11-27T{}:00+00:00".format
        plan = '{"made":"x","alerts":[["漢字", 1]]}'
        with s.transaction() as tx:
            for n, (id, next_at) in enumerate((("p1", "08:30"), ("p2", "09:30"),
                                                ("p3", "10:30")), start=1):  # fmt: skip
                index = attrs.evolve(_index(f"AS-2026-{n:06d}", "reported", at("08:00"),
                                            next_alert_at=at(next_at)),
                                     alert_plan=plan if id != "p2" else None)  # fmt: skip
                tx.append("case", id, 0, [_event(1)], {"id": id}, index)
        with s.transaction() as tx:
            due = tx.due_plans(at("09:45"), 10)
            if due is None:
                return
            assert [(d.id, d.plan) for d in due] == [("p1", plan), ("p2", None)]
            assert due[0].record is None
            assert due[1].record is not None and due[1].record.data == {"id": "p2"}
            assert due[1].record.version == 1
            assert [d.id for d in tx.due_plans(at("09:45"), 1) or []] == ["p1"]
            tx.set_alert_plans([("p1", at("11:00"), None), ("p2", None, '{"b":2}'),
                                ("p3", at("07:00"), '{"c":3}')])  # fmt: skip
        with s.transaction() as tx:
            assert [(d.id, d.plan) for d in tx.due_plans(at("12:00"), 10) or []] == [
                ("p3", '{"c":3}'), ("p1", None)]  # fmt: skip
            tx.append("case", "p3", 1, [_event(2)], {"id": "p3"},
                      _index("AS-2026-000003", "assigned", at("08:00"),
                             next_alert_at=at("07:00")))  # fmt: skip
        with s.transaction() as tx:
            assert [(d.id, d.plan) for d in tx.due_plans(at("07:30"), 10) or []] == [
                ("p3", None)]  # fmt: skip

    def test_schedules_hand_back_what_is_due(self, aftersales_storage: Storage) -> None:
        """A store that keeps schedules (``scheduled`` not None) hands back the ids of a kind
        due by a moment, soonest first then by id (byte order), at most ``limit``; a later
        ``schedule`` moves or (None) drops one; a rolled-back one changes nothing."""
        s = aftersales_storage
        at = "2026-11-27T{}:00+00:00".format
        with s.transaction() as tx:
            tx.schedule("machine", [("m-b", at("09:00")), ("m-a", at("09:00")),
                                    ("M-c", at("08:00")), ("m-d", at("12:00"))])  # fmt: skip
            tx.schedule("tool", [("t1", at("07:00"))])
        due = s.scheduled("machine", at("10:00"), 10)
        if due is None:
            return
        assert due == [("M-c", at("08:00")), ("m-a", at("09:00")), ("m-b", at("09:00"))]
        assert s.scheduled("machine", at("10:00"), 1) == [("M-c", at("08:00"))]
        assert s.scheduled("tool", at("10:00"), 10) == [("t1", at("07:00"))]
        with s.transaction() as tx:
            tx.schedule("machine", [("M-c", None), ("m-a", at("13:00")), ("gone", None)])
        assert s.scheduled("machine", at("12:30"), 10) == [
            ("m-b", at("09:00")), ("m-d", at("12:00"))]  # fmt: skip
        try:
            with s.transaction() as tx:
                tx.schedule("machine", [("m-b", None)])
                raise RuntimeError("rolled back")
        except RuntimeError:
            pass
        assert [id for id, _ in s.scheduled("machine", at("12:30"), 10) or []] == ["m-b", "m-d"]

    def test_a_version_read_before_another_commit_writes_nothing(
        self, aftersales_storage: Storage
    ) -> None:
        """Two writers read version 1; the first commits version 2; the second, naming 1,
        is refused and leaves no trace (exactly one of several writers wins)."""
        s = aftersales_storage
        reported = "2026-11-27T08:00:00+00:00"
        with s.transaction() as tx:
            tx.append("case", "r1", 0, [_event(1)], {"n": 1},
                      _index("AS-2026-000001", "reported", reported))  # fmt: skip
        read = s.get("case", "r1")
        assert read is not None and read.version == 1
        with s.transaction() as tx:
            tx.append("case", "r1", 1, [_event(2)], {"n": 2},
                      _index("AS-2026-000001", "responded", reported))  # fmt: skip
        with pytest.raises(ConflictError, match="version 2, not 1"), s.transaction() as tx:
            tx.append("case", "r1", read.version, [_event(2, "other")], {"n": 99},
                      _index("AS-2026-000001", "closed", reported))  # fmt: skip
        after = s.get("case", "r1")
        assert after is not None and (after.version, after.data) == (2, {"n": 2})
        assert [e["type"] for e in s.events("case", "r1")] == ["noted", "noted"]
        assert [r.id for r in s.find_cases(CaseQuery(status=("closed",)))] == []

    def test_the_outbox_claims_leases_and_settles(self, aftersales_storage: Storage) -> None:
        s = aftersales_storage
        with s.transaction() as tx:
            tx.enqueue([_item("1"), _item("2", plugin="hook"),
                        _item("3", next_try_at="2026-11-27T09:00:00+00:00")])  # fmt: skip
        now, lease = "2026-11-27T08:30:00+00:00", "2026-11-27T08:35:00+00:00"
        with s.transaction() as tx:
            claimed = tx.claim(now, lease, ["mail"], 10)
        assert [i.id for i in claimed] == ["1"] and claimed[0].next_try_at == lease
        with s.transaction() as tx:
            assert tx.claim(now, lease, ["mail"], 10) == []  # leased: nobody else takes it
        done = attrs.evolve(_item("1"), attempts=1, status="delivered", delivered_at=now,
                            next_try_at=lease)  # fmt: skip
        with s.transaction() as tx:
            tx.settle([done])
        assert [i.id for i in s.outbox("delivered")] == ["1"]
        assert [i.id for i in s.outbox("pending")] == ["2", "3"]
        assert s.outbox("delivered")[0] == done
        assert [i.id for i in s.outbox(limit=2)] == ["1", "2"]

    def test_delivered_items_are_pruned_and_the_others_kept(
        self, aftersales_storage: Storage
    ) -> None:
        s = aftersales_storage
        old, new = "2026-10-01T08:00:00+00:00", "2026-11-27T08:00:00+00:00"
        with s.transaction() as tx:
            tx.enqueue([_item("1"), _item("2"), _item("3"), _item("4")])
        with s.transaction() as tx:
            tx.settle([attrs.evolve(_item("1"), status="delivered", delivered_at=old),
                       attrs.evolve(_item("2"), status="delivered", delivered_at=new),
                       attrs.evolve(_item("3"), status="failed", attempts=8)])  # fmt: skip
        with s.transaction() as tx:
            assert tx.prune_outbox("2026-11-01T00:00:00+00:00") == 1
            assert tx.prune_outbox("2026-11-01T00:00:00+00:00") == 0  # seen in the transaction
        assert [i.id for i in s.outbox()] == ["2", "3", "4"]
        with pytest.raises(RuntimeError), s.transaction() as tx:
            tx.prune_outbox("2026-12-01T00:00:00+00:00")
            raise RuntimeError("rolled back")
        assert [i.id for i in s.outbox()] == ["2", "3", "4"]
