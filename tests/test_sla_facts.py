"""The SLA report from stored clock facts (issue 16): a case's clocks are judged with each
action, and the report tallies those verdicts without reading the case (a running clock by its
deadline); a case acted on after the report's moment, one whose running clock is past due (to
measure how late), or one stored before the store kept facts is read and judged as before.
The report must be the same either way."""

from __future__ import annotations

import random
import sqlite3
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from conftest import RULES
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aftersales import ServiceDesk
from aftersales.core.workflow import FINAL
from aftersales.ports.storage import CaseQuery, FactRow, utc_text
from aftersales.services.sla import GROUPS, SlaReport
from aftersales.simulation import Rates, SimulationResult, simulate

TRUCKS = RULES / "lift-trucks.policy"


def _by_reading(desk: ServiceDesk, since: datetime, until: datetime, by: str,
                now: datetime) -> SlaReport:  # fmt: skip
    """The report as over a store that keeps no facts (a storage plugin may not)."""
    desk.storage.clock_facts = lambda *a, **k: None  # type: ignore[method-assign]
    desk.storage.clock_fact_groups = lambda *a, **k: None  # type: ignore[method-assign]
    try:
        return desk.sla.report(since, until, by, now=now)
    finally:
        del desk.storage.clock_facts, desk.storage.clock_fact_groups


def _same_reports(desk: ServiceDesk, since: datetime, until: datetime) -> int:
    """Every grouping, read at several moments, from facts and by reading each case; the
    number of facts the store holds for the period."""
    facts = desk.storage.clock_facts(utc_text(since), utc_text(until),
                                     utc_text(until + timedelta(days=400)))  # fmt: skip
    held = len(list(facts or ()))
    span = until - since
    moments = [since + span * k / 7 for k in range(1, 7)]
    for now in (*moments, until, until + timedelta(hours=5), until + timedelta(days=60)):
        for by in GROUPS:
            fast = desk.sla.report(since, until, by, now=now)
            slow = _by_reading(desk, since, until, by, now)
            assert fast == slow, (by, now)
    return held


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, SimulationResult]:
    tmp = tmp_path_factory.mktemp("facts")
    rates = Rates(remote=0.3, queued=0.4, reopened=0.25, unanswered=0.3)
    result = simulate(TRUCKS, db=tmp / "sim.db", days=6, cases_per_day=9, seed=11, rates=rates)
    return tmp / "sim.db", result


def test_the_report_from_facts_is_the_report_from_the_cases(
    simulated: tuple[Path, SimulationResult],
) -> None:
    db, result = simulated
    with ServiceDesk(TRUCKS, f"sqlite:///{db}") as desk:
        since, until = result.start, result.end
        assert _same_reports(desk, since, until) > 0  # finished cases were judged once
        cases = desk.cases.find()
        assert any(c.status == "closed" for c in cases) and any(c.reopenings for c in cases)


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(1, 10_000))
def test_facts_agree_for_any_simulated_history(
    tmp_path_factory: pytest.TempPathFactory, seed: int
) -> None:
    tmp = tmp_path_factory.mktemp("facts-any")
    rng = random.Random(seed)
    rates = Rates(remote=rng.random() * 0.5, queued=rng.random(), reopened=rng.random() * 0.4,
                  unanswered=rng.random() * 0.5)  # fmt: skip
    policy = rng.choice([TRUCKS, RULES / "default.policy"])
    result = simulate(policy, db=tmp / "s.db", days=3, cases_per_day=6, seed=seed, engineers=4,
                      agents=2, rates=rates)  # fmt: skip
    with ServiceDesk(policy, f"sqlite:///{tmp / 's.db'}") as desk:
        _same_reports(desk, result.start, result.end)


def test_facts_on_every_store_and_for_imported_cases(
    storage_url: str, simulated: tuple[Path, SimulationResult], tmp_path: Path
) -> None:
    """The same history imported into memory, SQLite and PostgreSQL: the cases it finishes
    get their facts in the transaction that stores them."""
    db, result = simulated
    history = tmp_path / "history.csv"
    with ServiceDesk(TRUCKS, f"sqlite:///{db}") as recorded:
        recorded.history.export(history)
    with ServiceDesk(TRUCKS, storage_url) as desk:
        imported = desk.history.import_file(history)
        assert imported.rejects == []
        assert _same_reports(desk, result.start, result.end) > 0


def _copy(db: Path, to: Path, *, before_facts: bool = False) -> Path:
    """A copy of the store ``db``; ``before_facts``: as a store from before clock facts
    would be after its upgrade (no facts, never judged)."""
    to.write_bytes(db.read_bytes())
    if before_facts:
        with sqlite3.connect(to) as conn:
            conn.execute("DELETE FROM clock_facts")
            conn.execute("UPDATE case_index SET judged_at = NULL")
    return to


def test_each_action_judges_the_clocks_again(
    simulated: tuple[Path, SimulationResult], tmp_path: Path
) -> None:
    db, result = simulated
    copy = _copy(db, tmp_path / "copy.db")
    with ServiceDesk(TRUCKS, f"sqlite:///{copy}") as desk:
        case = desk.cases.find(status="closed")[0]
        since, until = case.reported_at, case.reported_at + timedelta(seconds=1)
        later = result.end + timedelta(days=1)

        def facts() -> list[FactRow]:
            found = desk.storage.clock_facts(utc_text(since), utc_text(until),
                                             utc_text(later + timedelta(days=9)))  # fmt: skip
            return [f for f in found or () if f.number == case.number]

        before = facts()
        assert before and {f.fact.state for f in before} <= {
            "met",
            "breached",
            "excused",
            "not_applicable",
            "pending",
        }
        manager = next(s.id for s in desk.staff.list() if s.has_role("manager"))
        desk.cases.reopen(case.id, by=manager, reason="leaks again", at=later)
        reopened = facts()
        assert reopened and reopened != before  # the repair clock runs again
        assert {f.fact.milestone: f.fact.state for f in reopened}["repair"] == "running"
        _same_reports(desk, since, until)
        engineer = desk.cases.get(case.id).engineer or next(
            s.id for s in desk.staff.list() if s.has_role("engineer"))  # fmt: skip
        desk.cases.cancel(case.id, by=manager, reason="replaced the truck",
                          at=later + timedelta(hours=1))  # fmt: skip
        assert facts() == [] and engineer  # cancelled cases are left out of the report
        _same_reports(desk, since, until)


def test_a_store_from_before_the_facts_reads_its_old_cases(
    simulated: tuple[Path, SimulationResult], tmp_path: Path
) -> None:
    """A store whose cases were finished before it kept facts (schema 5): after the upgrade
    the report reads those cases as before, and counts them once."""
    db, result = simulated
    copy = _copy(db, tmp_path / "old.db", before_facts=True)
    with ServiceDesk(TRUCKS, f"sqlite:///{copy}") as desk:
        assert _same_reports(desk, result.start, result.end) == 0
    with ServiceDesk(TRUCKS, f"sqlite:///{db}") as fresh, ServiceDesk(
        TRUCKS, f"sqlite:///{copy}"
    ) as old:  # fmt: skip
        for by in GROUPS:
            assert old.sla.report(result.start, result.end, by) == fresh.sla.report(
                result.start, result.end, by
            )
        # judged after the upgrade: the report reads the facts, and says the same
        versions = {c.id: c.version for c in old.cases.find()}
        assert old.cases.judge_stored(batch=7) == len(versions) > 7
        assert old.cases.judge_stored() == 0
        assert {c.id: c.version for c in old.cases.find()} == versions  # no event added
        assert (
            _same_reports(old, result.start, result.end)
            == _same_reports(fresh, result.start, result.end)
            > 0
        )


def test_a_store_of_schema_6_keeps_the_verdicts_of_its_closed_cases(
    simulated: tuple[Path, SimulationResult], tmp_path: Path
) -> None:
    """Schema 6 kept the verdicts of finished cases only (``finished_at``); upgraded, those
    still answer the report, and the open cases are read until judged."""
    db, result = simulated
    copy = _copy(db, tmp_path / "six.db")
    unfinished = "status NOT IN ('closed', 'cancelled')"
    with sqlite3.connect(copy) as conn:  # the file as schema 6 left it
        conn.executescript(f"""
            DELETE FROM clock_facts WHERE case_id IN (SELECT id FROM case_index
                WHERE {unfinished});
            UPDATE case_index SET judged_at = NULL WHERE {unfinished};
            ALTER TABLE case_index RENAME COLUMN judged_at TO finished_at;
            DROP INDEX case_unjudged;
            CREATE INDEX case_unfinished ON case_index (reported_at, id, finished_at);
            ALTER TABLE clock_facts RENAME COLUMN judged_at TO finished_at;
            ALTER TABLE clock_facts DROP COLUMN due;
            ALTER TABLE clock_facts DROP COLUMN excused_until;
            ALTER TABLE case_index DROP COLUMN alert_plan;
            DROP TABLE schedule;
            DELETE FROM schema_migrations WHERE version >= 7;
        """)
        kept = conn.execute("SELECT count(*) FROM clock_facts").fetchone()[0]
    with ServiceDesk(TRUCKS, f"sqlite:///{copy}") as desk:
        assert desk.storage.schema_version == 9  # type: ignore[attr-defined]
        assert _same_reports(desk, result.start, result.end) == kept > 0
        open_ids = sorted(c.id for c in desk.cases.find() if c.status not in FINAL)
        assert sorted(r.id for r in desk.storage.find_cases(CaseQuery(unjudged_by="9999"))) == (
            open_ids)  # fmt: skip
        assert desk.cases.judge_stored() == len(open_ids) > 0
        _same_reports(desk, result.start, result.end)


def test_backfill_from_the_command_line(
    simulated: tuple[Path, SimulationResult], tmp_path: Path
) -> None:
    from click.testing import CliRunner

    from aftersales.cli import main

    db, _ = simulated
    copy = _copy(db, tmp_path / "old.db", before_facts=True)
    config = tmp_path / "aftersales.toml"
    config.write_text(f'policy = "{TRUCKS}"\nstorage = "sqlite:///{copy}"\n', "utf-8")
    runner = CliRunner()
    first = runner.invoke(main, ["--config", str(config), "sla", "backfill"])
    assert first.exit_code == 0, first.output
    assert int(first.stdout.split()[0]) > 0 and "case(s) judged" in first.stdout
    again = runner.invoke(main, ["--config", str(config), "sla", "backfill"])
    assert again.stdout.startswith("0 case(s)")


def test_judging_needs_a_store_that_keeps_facts() -> None:
    with ServiceDesk(TRUCKS) as desk:
        desk.storage.clock_facts = lambda *a, **k: None  # type: ignore[method-assign]
        assert desk.cases.judge_stored() == 0


def test_the_report_over_a_store_that_keeps_no_facts_reads_every_case(
    simulated: tuple[Path, SimulationResult],
) -> None:
    """A storage plugin that implements neither ``clock_facts`` nor ``clock_fact_groups``:
    the base class's defaults say so, and the report reads every case."""
    from aftersales.ports.storage import Storage

    db, result = simulated
    with ServiceDesk(TRUCKS, f"sqlite:///{db}") as desk:
        storage = desk.storage
        plain = Storage.clock_fact_groups.__get__(storage)
        assert plain("", "", "", ("priority",)) is not None  # via clock_facts: the rows
        storage.clock_facts = lambda *a, **k: None  # type: ignore[method-assign]
        assert plain("", "", "", ("priority",)) is None
        calls: list[object] = []
        decode = desk.cases.decode
        desk.sla._cases.decode = lambda r, **k: calls.append(r) or decode(r, **k)  # type: ignore[method-assign]
        storage.clock_fact_groups = plain  # type: ignore[method-assign]
        desk.sla.report(result.start, result.end, "priority")
        assert len(calls) == len(desk.cases.find())


def test_a_report_read_now_decodes_only_the_cases_late_on_a_running_clock(
    simulated: tuple[Path, SimulationResult],
) -> None:
    """Read at the desk's present, every case was judged by then: the report reads a case
    only to measure how late its running clock is; running clocks not yet due, excused or
    waiting for their start are counted from their facts."""
    db, result = simulated
    with ServiceDesk(TRUCKS, f"sqlite:///{db}") as desk:
        now = max(c.updated_at for c in desk.cases.find())
        since, until = result.start, result.end
        running = list(desk.storage.clock_facts(utc_text(since), utc_text(until),
                                                utc_text(now), running=True) or ())  # fmt: skip
        late = {r.number for r in running if r.fact.at(utc_text(now)) == "breached"}
        open_cases = [c for c in desk.cases.find() if c.status not in ("closed", "cancelled")]
        assert running and open_cases and late  # some late, some not
        read: list[str] = []
        decode = desk.cases.decode
        desk.sla._cases.decode = lambda r, **k: read.append(r.id) or decode(r, **k)  # type: ignore[method-assign]
        fast = desk.sla.report(since, until, "milestone", now=now)
        assert sorted(desk.cases.get(i).number for i in read) == sorted(late)
        del desk.sla._cases.decode
        assert fast == _by_reading(desk, since, until, "milestone", now)
