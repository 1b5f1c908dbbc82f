"""The event stores: SQLite on disk (schema, WAL, conflicts across threads and processes,
crash safety) and what every backend shares."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from conftest import REPORT, ROOT, RULES, add_team, at, run_to

from aftersales import ConflictError, ServiceDesk, ValidationError, WorkflowError
from aftersales.core.workflow import fold
from aftersales.plugins.sqlite import MIGRATIONS, SQLiteStorage, find_sql, parse_url
from aftersales.ports.storage import CaseQuery


def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/desk.db"


def test_url_forms() -> None:
    assert parse_url("sqlite:///service.db") == ("service.db", "NORMAL")
    assert parse_url("sqlite:////var/x/service.db?synchronous=full") == (
        "/var/x/service.db",
        "FULL",
    )
    for bad in ("sqlite://service.db", "sqlite:///", "sqlite:///a.db?journal=off", "pg:///x"):
        with pytest.raises(ValidationError):
            parse_url(bad)


def test_unknown_scheme_names_the_known_ones() -> None:
    with pytest.raises(ValidationError, match=r"memory://, postgres://, postgresql://, sqlite://"):
        ServiceDesk(RULES / "default.policy", "mysql://localhost/db")


def test_schema_is_migrated_once_and_in_wal_mode(tmp_path: Path) -> None:
    store = SQLiteStorage(sqlite_url(tmp_path))
    assert store.schema_version == len(MIGRATIONS)
    store.close()
    again = SQLiteStorage(sqlite_url(tmp_path))  # reopening applies nothing twice
    assert again.schema_version == len(MIGRATIONS)
    again.close()
    conn = sqlite3.connect(tmp_path / "desk.db")
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("SELECT count(*) FROM schema_migrations").fetchone()[0] == len(MIGRATIONS)
    indexes = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='index'")}
    assert {"case_by_status", "case_by_engineer", "case_by_reported", "case_by_machine"} <= indexes


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    SQLiteStorage(sqlite_url(tmp_path)).close()
    conn = sqlite3.connect(tmp_path / "desk.db")
    conn.execute("INSERT INTO schema_migrations VALUES (99, 'later')")
    conn.commit()
    with pytest.raises(ValidationError, match="schema version 99, newer"):
        SQLiteStorage(sqlite_url(tmp_path))


def test_find_uses_the_indexes(tmp_path: Path) -> None:
    SQLiteStorage(sqlite_url(tmp_path)).close()
    conn = sqlite3.connect(tmp_path / "desk.db")
    for query, index in (
        (CaseQuery(status=("reported",)), "case_by_status"),
        (CaseQuery(engineer="e7"), "case_by_engineer"),
        (CaseQuery(since="2026", until="2027"), "case_by_reported"),
        (CaseQuery(serial="S", fault_code="F"), "case_by_machine"),
        (CaseQuery(touched_in=("2026-11", "2026-12")), "MULTI-INDEX OR"),
        (CaseQuery(rework_of="c"), "case_by_rework_of"),
    ):
        sql, args = find_sql(query)
        plan = " ".join(str(row[-1]) for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}", args))
        assert index in plan, plan


def test_two_desks_on_one_file_see_each_other(tmp_path: Path) -> None:
    one = ServiceDesk(RULES / "default.policy", sqlite_url(tmp_path))
    add_team(one)
    two = ServiceDesk(RULES / "default.policy", sqlite_url(tmp_path))
    case = one.cases.report(**REPORT, by="cs1", at=at(0))
    assert two.cases.respond(case.id, by="cs1", at=at(1)).version == 2
    assert one.cases.get(case.id).status == "responded"


def test_racing_threads_exactly_one_wins(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path)
    setup = ServiceDesk(RULES / "default.policy", url)
    add_team(setup)
    case = setup.cases.report(**REPORT, by="cs1", at=at(0))
    desks = [ServiceDesk(RULES / "default.policy", url) for _ in range(8)]
    barrier = threading.Barrier(len(desks))
    outcomes: list[str] = []

    def respond(desk: ServiceDesk) -> None:
        barrier.wait()
        try:
            desk.cases.respond(case.id, by="cs1", at=at(5), version=case.version)
            outcomes.append("ok")
        except ConflictError:
            outcomes.append("conflict")

    threads = [threading.Thread(target=respond, args=(d,)) for d in desks]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["conflict"] * 7 + ["ok"]
    assert [e.type for e in setup.cases.history(case.id)] == ["reported", "responded"]


def test_racing_threads_without_version_lose_by_workflow_or_conflict(tmp_path: Path) -> None:
    """Without a version from the caller, the desk still names the version it read: a loser
    either reads the new state (WorkflowError) or loses the write (ConflictError)."""
    url = sqlite_url(tmp_path)
    setup = ServiceDesk(RULES / "default.policy", url)
    add_team(setup)
    case = setup.cases.report(**REPORT, by="cs1", at=at(0))
    desks = [ServiceDesk(RULES / "default.policy", url) for _ in range(6)]
    barrier = threading.Barrier(len(desks))
    outcomes: list[str] = []

    def respond(desk: ServiceDesk) -> None:
        barrier.wait()
        try:
            desk.cases.respond(case.id, by="cs1", at=at(5))
            outcomes.append("ok")
        except (ConflictError, WorkflowError) as exc:
            outcomes.append(type(exc).__name__)

    threads = [threading.Thread(target=respond, args=(d,)) for d in desks]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("ok") == 1
    assert len(setup.cases.history(case.id)) == 2


RACER = textwrap.dedent(
    """
    import sys
    from datetime import datetime
    from aftersales import ConflictError, ServiceDesk
    url, policy, case_id, version, go = sys.argv[1:]
    desk = ServiceDesk(policy, url)
    desk.cases.get(case_id)
    while not __import__("os").path.exists(go):
        pass
    try:
        desk.cases.respond(case_id, by="cs1", at=datetime.fromisoformat("2026-11-23T09:05+08:00"),
                           version=int(version))
        print("ok")
    except ConflictError:
        print("conflict")
    """
)


def test_racing_processes_exactly_one_wins(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path)
    setup = ServiceDesk(RULES / "default.policy", url)
    add_team(setup)
    case = setup.cases.report(**REPORT, by="cs1", at=at(0))
    go = tmp_path / "go"
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                RACER,
                url,
                str(RULES / "default.policy"),
                case.id,
                "1",
                str(go),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    time.sleep(1.0)
    go.touch()
    results = sorted(p.communicate(timeout=60)[0].strip() for p in procs)
    assert results == ["conflict", "conflict", "ok"]
    assert setup.cases.get(case.id).version == 2


BURST = textwrap.dedent(
    """
    import sys
    from datetime import datetime, timedelta
    from aftersales import ServiceDesk
    sys.path.insert(0, sys.argv[3])
    from conftest import REPORT, add_team
    desk = ServiceDesk(sys.argv[2], sys.argv[1])
    add_team(desk)
    t = datetime.fromisoformat("2026-11-23T09:00+08:00")
    print("ready", flush=True)
    n = 0
    while True:
        n += 1
        case = desk.cases.report(**REPORT, by="cs1", at=t)
        desk.cases.respond(case.id, by="cs1", at=t + timedelta(minutes=1))
        desk.cases.assign(case.id, engineer="e7", by="cs1", at=t + timedelta(minutes=2))
        desk.cases.confirm(case.id, by="e7", at=t + timedelta(minutes=3))
    """
)


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
def test_sigkill_mid_burst_leaves_every_case_consistent(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path)
    proc = subprocess.Popen(
        [sys.executable, "-c", BURST, url, str(RULES / "default.policy"), str(ROOT / "tests")],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    time.sleep(1.5)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    desk = ServiceDesk(RULES / "default.policy", url)
    cases = desk.cases.find()
    assert len(cases) > 5
    for case in cases:
        assert fold(desk.cases.history(case.id)) == case
    numbers = sorted(int(c.number.rsplit("-", 1)[1]) for c in cases)
    assert numbers == list(range(1, len(cases) + 1))  # no gap, no duplicate


def test_named_memory_store_is_shared_in_process() -> None:
    one = ServiceDesk(RULES / "default.policy", "memory://shared-test")
    add_team(one)
    two = ServiceDesk(RULES / "default.policy", "memory://shared-test")
    case = run_to(one, "assigned")
    assert two.cases.get(case.id) == case
    private = ServiceDesk(RULES / "default.policy", "memory://")
    assert private.cases.find() == []


def test_an_older_schema_is_migrated_forward(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import aftersales.plugins.sqlite as sqlite_backend

    monkeypatch.setattr(sqlite_backend, "MIGRATIONS", MIGRATIONS[:1])
    old = ServiceDesk(RULES / "default.policy", sqlite_url(tmp_path))
    assert old.storage.schema_version == 1  # type: ignore[attr-defined]
    conn = sqlite3.connect(tmp_path / "desk.db")
    columns = {row[1] for row in conn.execute("PRAGMA table_info(case_index)")}
    assert "next_alert_at" not in columns
    old.close()
    monkeypatch.setattr(sqlite_backend, "MIGRATIONS", MIGRATIONS)
    new = ServiceDesk(RULES / "default.policy", sqlite_url(tmp_path))
    assert new.storage.schema_version == len(MIGRATIONS) == 9  # type: ignore[attr-defined]
    columns = {row[1] for row in conn.execute("PRAGMA table_info(case_index)")}
    assert {"next_alert_at", "followed_up_at", "judged_at"} <= columns
    add_team(new)
    assert run_to(new, "closed").status == "closed"
