"""PostgreSQL as the shared store of several application servers: writers run in parallel
(row locks only), eight processes writing the same cases lose nothing, of eight naming one
version exactly one wins, and eight ticking at once send each alert once."""

from __future__ import annotations

import multiprocessing
import random
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from conftest import REPORT, RULES, T0, add_team

from aftersales import ConflictError, Notification, ServiceDesk, ValidationError
from aftersales.core.convert import to_dict
from aftersales.core.errors import StorageError
from aftersales.core.workflow import fold
from aftersales.plugins.postgres import MIGRATIONS, PostgresStorage, parse_url
from aftersales.ports.storage import CaseIndex

WRITERS, ACTIONS, CASES = 8, 500, 25


def write(url: str, writer: int) -> list[tuple[str, str]]:
    """One application server: ACTIONS corrections on random cases, each naming the version
    it read; returns (case, reason) of every one that succeeded."""
    rng = random.Random(writer)
    done = []
    with ServiceDesk(RULES / "default.policy", url) as desk:
        ids = sorted(c.id for c in desk.cases.find())
        for n in range(ACTIONS):
            case_id = rng.choice(ids)
            case = desk.cases.get(case_id)
            reason = f"w{writer}-{n}"
            try:
                desk.cases.update(case_id, severity=rng.choice(["minor", "major", "critical"]),
                                  reason=reason, by="cs1", version=case.version)  # fmt: skip
            except ConflictError:
                continue  # another server got there first: a real client reads and retries
            done.append((case_id, reason))
    return done


def tick(url: str, now: datetime) -> int:
    with ServiceDesk(RULES / "default.policy", url) as desk:
        return len(desk.sla.tick(now))


def test_four_processes_lose_nothing(postgres_url: str) -> None:
    with ServiceDesk(RULES / "default.policy", postgres_url) as setup:
        add_team(setup)
        for n in range(CASES):
            setup.cases.report(**REPORT, by="cs1", at=T0 + timedelta(minutes=n))
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(WRITERS, mp_context=spawn) as pool:
        results = list(pool.map(write, [postgres_url] * WRITERS, range(WRITERS)))
    succeeded = [pair for result in results for pair in result]
    assert len(succeeded) > ACTIONS  # the writers really overlapped and still made progress
    with ServiceDesk(RULES / "default.policy", postgres_url) as check:
        recorded = []
        for case in check.cases.find():
            events = check.cases.history(case.id)
            assert to_dict(fold(events)) == to_dict(check.cases.get(case.id))
            assert [e.version for e in events] == list(range(1, len(events) + 1))
            recorded += [(case.id, e.data["reason"]) for e in events if e.type == "updated"]
        assert sorted(recorded) == sorted(succeeded)  # every success stored, nothing else


def test_eight_processes_ticking_send_each_alert_once(postgres_url: str) -> None:
    with ServiceDesk(RULES / "default.policy", postgres_url) as setup:
        add_team(setup)
        for n in range(40):
            setup.cases.report(**REPORT, by="cs1", at=T0 + timedelta(minutes=n))
    later = T0 + timedelta(days=3)
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(8, mp_context=spawn) as pool:
        counts = list(pool.map(tick, [postgres_url] * 8, [later] * 8))
    with ServiceDesk(RULES / "default.policy", postgres_url) as check:
        items = [i for i in check.storage.outbox() if i.plugin == "aftersales.plugins.log_notifier"]
        alerts = [(i.notification["case_id"], i.notification["data"].get("milestone"),
                   i.notification["data"].get("level")) for i in items
                  if i.notification["kind"].startswith("sla_")]  # fmt: skip
        assert len(alerts) == len(set(alerts)) == sum(counts) > 0


def respond(url: str, case_id: str, version: int, start: float) -> str:
    with ServiceDesk(RULES / "default.policy", url) as desk:
        time.sleep(max(0.0, start - time.time()))  # all eight warm, then at once
        try:
            desk.cases.respond(case_id, by="cs1", at=T0 + timedelta(minutes=5), version=version)
        except ConflictError:
            return "conflict"
        return "ok"


def test_of_eight_processes_naming_one_version_exactly_one_wins(postgres_url: str) -> None:
    with ServiceDesk(RULES / "default.policy", postgres_url) as setup:
        add_team(setup)
        case = setup.cases.report(**REPORT, by="cs1", at=T0)
    start = time.time() + 8
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(8, mp_context=spawn) as pool:
        outcomes = list(pool.map(respond, [postgres_url] * 8, [case.id] * 8,
                                 [case.version] * 8, [start] * 8))  # fmt: skip
    assert sorted(outcomes) == ["conflict"] * 7 + ["ok"]
    with ServiceDesk(RULES / "default.policy", postgres_url) as check:
        assert [e.type for e in check.cases.history(case.id)] == ["reported", "responded"]


def remind(url: str, start: float) -> int:
    with ServiceDesk(RULES / "default.policy", url) as desk:
        note = Notification("tool_overdue", None, ("m1",), "torque wrench TW-1 is overdue",
                            {}, T0)  # fmt: skip
        time.sleep(max(0.0, start - time.time()))
        return len(desk.notifications.once([("tool:TW-1", "overdue:1", note)], T0))


def test_eight_processes_sending_one_reminder_send_it_once(postgres_url: str) -> None:
    with ServiceDesk(RULES / "default.policy", postgres_url) as setup:
        add_team(setup)
    start = time.time() + 8
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(8, mp_context=spawn) as pool:
        sent = list(pool.map(remind, [postgres_url] * 8, [start] * 8))
    assert sorted(sent) == [0] * 7 + [1]
    with ServiceDesk(RULES / "default.policy", postgres_url) as check:
        kinds = [i.notification["kind"] for i in check.storage.outbox()]
        assert kinds.count("tool_overdue") == len({i.plugin for i in check.storage.outbox()})


def _index(number: str, next_alert_at: str | None = None) -> CaseIndex:
    return CaseIndex(number=number, status="reported", engineer=None,
                     reported_at="2026-11-23T01:00:00+00:00", serial=None, fault_code=None,
                     accepted_at=None, priority="general", next_alert_at=next_alert_at)  # fmt: skip


def _event(version: int) -> dict[str, object]:
    return {"version": version, "type": "noted", "at": "2026-11-23T01:00:00+00:00",
            "by": "t", "data": {}}  # fmt: skip


def test_writers_of_different_cases_do_not_wait_for_each_other(postgres_url: str) -> None:
    """One transaction stays open on case a; another desk's write of case b commits
    meanwhile (with one lock for every writer it waited until the first ended)."""
    one, two = PostgresStorage(postgres_url), PostgresStorage(postgres_url)
    with one.transaction() as tx:
        tx.append("case", "a", 0, [_event(1)], {}, _index("AS-2026-000001"))
    opened, release = threading.Event(), threading.Event()

    def hold() -> None:
        with one.transaction() as tx:
            tx.append("case", "a", 1, [_event(2)], {}, _index("AS-2026-000001"))
            opened.set()
            release.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert opened.wait(10)
        started = time.perf_counter()
        with two.transaction() as tx:
            tx.append("case", "b", 0, [_event(1)], {}, _index("AS-2026-000002"))
        assert time.perf_counter() - started < 2  # did not wait out the open transaction
        assert two.version("case", "b") == 1 and two.version("case", "a") == 1
    finally:
        release.set()
        holder.join()
    assert two.version("case", "a") == 2
    one.close()
    two.close()


def test_a_tick_skips_the_due_cases_another_tick_holds(postgres_url: str) -> None:
    one, two = PostgresStorage(postgres_url), PostgresStorage(postgres_url)
    for n in range(1, 5):
        with one.transaction() as tx:
            tx.append("case", f"c{n}", 0, [_event(1)], {}, _index(
                f"AS-2026-{n:06d}", f"2026-11-23T0{n}:00:00+00:00"))  # fmt: skip
    now = "2026-11-23T09:00:00+00:00"
    with one.transaction() as first:
        held = [r.id for r in first.due_cases(now, 2) or []]
        with two.transaction() as second:
            assert [r.id for r in second.due_cases(now, 10) or []] == ["c3", "c4"]
    assert held == ["c1", "c2"]
    one.close()
    two.close()


def test_a_deadlock_between_writers_is_a_conflict_to_retry(postgres_url: str) -> None:
    """Two transactions write cases x and y in opposite orders: PostgreSQL ends one of them;
    that one raises ConflictError and writes nothing, the other commits."""
    stores = [PostgresStorage(postgres_url) for _ in range(2)]
    for n, id in enumerate(("x", "y"), start=1):
        with stores[0].transaction() as tx:
            tx.append("case", id, 0, [_event(1)], {}, _index(f"AS-2026-{n:06d}"))
    both = threading.Barrier(2)
    outcomes: list[str] = []

    def write(store: PostgresStorage, first: str, second: str) -> None:
        try:
            with store.transaction() as tx:
                tx.append("case", first, 1, [_event(2)], {}, None)
                both.wait(10)
                tx.append("case", second, 1, [_event(2)], {}, None)
            outcomes.append("ok")
        except ConflictError as exc:
            outcomes.append("deadlock" if "crossed" in str(exc) else f"other: {exc}")

    threads = [threading.Thread(target=write, args=(stores[0], "x", "y")),
               threading.Thread(target=write, args=(stores[1], "y", "x"))]  # fmt: skip
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(outcomes) == ["deadlock", "ok"]
    assert {stores[0].version("case", id) for id in ("x", "y")} == {2}
    for store in stores:
        store.close()


def test_the_schema_is_versioned(postgres_url: str) -> None:
    store = PostgresStorage(postgres_url)
    assert store.schema_version == len(MIGRATIONS)
    again = PostgresStorage(postgres_url)  # a second server: nothing applied twice
    assert again.schema_version == len(MIGRATIONS)
    store.close()
    again.close()


def test_urls_are_checked(tmp_path: Path) -> None:
    assert parse_url("postgresql://u@h/db?schema=shop_1&sslmode=disable") == (
        "postgresql://u@h/db?sslmode=disable", "shop_1")  # fmt: skip
    with pytest.raises(ValidationError, match="lower-case letters"):
        parse_url("postgresql://u@h/db?schema=Robert');DROP")
    with pytest.raises(StorageError, match="cannot connect to postgresql://nobody@127"):
        ServiceDesk(RULES / "default.policy", "postgresql://nobody@127.0.0.1:1/x")
