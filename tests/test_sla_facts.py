"""The SLA report from stored clock facts (issue 16): a finished case's clocks are judged once,
with the action that finished it, and the report tallies those verdicts without reading the
case; whatever is not finished at the report's moment (or was finished before the store kept
facts) is read and judged as before. The report must be the same either way."""

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
from aftersales.ports.storage import FactRow, utc_text
from aftersales.services.sla import GROUPS, SlaReport
from aftersales.simulation import Rates, SimulationResult, simulate

TRUCKS = RULES / "lift-trucks.policy"


def _by_reading(desk: ServiceDesk, since: datetime, until: datetime, by: str,
                now: datetime) -> SlaReport:  # fmt: skip
    """The report as over a store that keeps no facts (a storage plugin may not)."""
    desk.storage.clock_facts = lambda *args: None  # type: ignore[method-assign]
    desk.storage.clock_fact_groups = lambda *args: None  # type: ignore[method-assign]
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
    for now in (since + (until - since) / 2, until, until + timedelta(days=60)):
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
    would be after its upgrade (no facts, no finished_at)."""
    to.write_bytes(db.read_bytes())
    if before_facts:
        with sqlite3.connect(to) as conn:
            conn.execute("DELETE FROM clock_facts")
            conn.execute("UPDATE case_index SET finished_at = NULL")
    return to


def test_reopening_takes_the_facts_back_and_closing_writes_them_again(
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
        assert facts() == []
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
        finished = len(old.cases.find(status=("closed", "cancelled")))
        versions = {c.id: c.version for c in old.cases.find()}
        assert old.cases.judge_finished(batch=7) == finished > 7
        assert old.cases.judge_finished() == 0
        assert {c.id: c.version for c in old.cases.find()} == versions  # no event added
        assert (
            _same_reports(old, result.start, result.end)
            == _same_reports(fresh, result.start, result.end)
            > 0
        )


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
    assert int(first.stdout.split()[0]) > 0 and "finished case(s) judged" in first.stdout
    again = runner.invoke(main, ["--config", str(config), "sla", "backfill"])
    assert again.stdout.startswith("0 finished")


def test_judging_needs_a_store_that_keeps_facts() -> None:
    with ServiceDesk(TRUCKS) as desk:
        desk.storage.clock_facts = lambda *args: None  # type: ignore[method-assign]
        assert desk.cases.judge_finished() == 0


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
        storage.clock_facts = lambda *args: None  # type: ignore[method-assign]
        assert plain("", "", "", ("priority",)) is None
        calls: list[object] = []
        decode = desk.cases.decode
        desk.sla._cases.decode = lambda r, **k: calls.append(r) or decode(r, **k)  # type: ignore[method-assign]
        storage.clock_fact_groups = plain  # type: ignore[method-assign]
        desk.sla.report(result.start, result.end, "priority")
        assert len(calls) == len(desk.cases.find())
