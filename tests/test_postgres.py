"""PostgreSQL as the shared store of several application servers: processes writing the
same cases lose nothing, and ticking from two processes sends each alert once."""

from __future__ import annotations

import multiprocessing
import random
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from conftest import REPORT, RULES, T0, add_team

from aftersales import ConflictError, ServiceDesk, ValidationError
from aftersales.core.convert import to_dict
from aftersales.core.errors import StorageError
from aftersales.core.workflow import fold
from aftersales.plugins.postgres import MIGRATIONS, PostgresStorage, parse_url

WRITERS, ACTIONS, CASES = 4, 1000, 25


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


def test_two_processes_ticking_send_each_alert_once(postgres_url: str) -> None:
    with ServiceDesk(RULES / "default.policy", postgres_url) as setup:
        add_team(setup)
        for n in range(40):
            setup.cases.report(**REPORT, by="cs1", at=T0 + timedelta(minutes=n))
    later = T0 + timedelta(days=3)
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(2, mp_context=spawn) as pool:
        counts = list(pool.map(tick, [postgres_url] * 2, [later] * 2))
    with ServiceDesk(RULES / "default.policy", postgres_url) as check:
        items = [i for i in check.storage.outbox() if i.plugin == "aftersales.plugins.log_notifier"]
        alerts = [(i.notification["case_id"], i.notification["data"].get("milestone"),
                   i.notification["data"].get("level")) for i in items
                  if i.notification["kind"].startswith("sla_")]  # fmt: skip
        assert len(alerts) == len(set(alerts)) == sum(counts) > 0


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
