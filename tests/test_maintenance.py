"""Issue 19: preventive maintenance. The tick opens a maintenance case when a plan falls due
(by date or by a reading past its hours), exactly once, even with two desks ticking; the
case's clock is the plan's window; a visit done resets the plan, a cancelled one makes it
due again; overdue visits warn and breach like any clock."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from conftest import RULES, T0, add_team, arrive_safely

from aftersales import PermissionDenied, ServiceDesk, ValidationError, parse_policy
from aftersales.core.installed_base import maintenance_priority
from aftersales.ports.storage import CaseQuery, utc_text
from aftersales.testing import Outbox

TZ = ZoneInfo("Asia/Shanghai")
PLAN = "500-hour service"
POLICY = (
    (RULES / "default.policy").read_text("utf-8")
    + f"""
maintenance "{PLAN}" for line excavator every 500 operating hours or 6 months {{
  checklist "engine oil", "filters", "track tension"
  parts kit "OIL-15W40" 20, "FILTER-9"
  window 10 working days
}}
"""
)
DEC1 = datetime(2026, 12, 1, tzinfo=TZ)
_PLAN_LINE = next(
    n for n, text in enumerate(POLICY.splitlines(), start=1) if text.startswith("maintenance ")
)
LINE = f"m.policy:{_PLAN_LINE}"
DEC1_WINDOW = datetime(2026, 12, 15, 8, 30, tzinfo=TZ)  # 10 working days from its opening


def make(url: str, outbox: Outbox | None = None, now: list[datetime] | None = None) -> ServiceDesk:
    clock = now if now is not None else [T0]
    return ServiceDesk(parse_policy(POLICY, "m.policy"), url, plugins=[outbox or Outbox()],
                       clock=lambda: clock[0])  # fmt: skip


@pytest.fixture
def base(storage_url: str) -> Iterator[tuple[ServiceDesk, Outbox, list[datetime]]]:
    outbox, now = Outbox(), [T0]
    with make(storage_url, outbox, now) as desk:
        add_team(desk)
        desk.customers.add(id="HL", name="Hengli Mining", by="cs1", at=T0)
        # due by date on 2026-12-01 (commissioned six months before)
        desk.machines.add(serial="EX-1", line="excavator", customer="HL",
                          commissioned=date(2026, 6, 1), hours=300, by="cs1", at=T0)  # fmt: skip
        # young, due by hours once a reading passes 500
        desk.machines.add(serial="EX-2", line="excavator", customer="HL",
                          commissioned=date(2026, 10, 1), hours=100, by="cs1", at=T0)  # fmt: skip
        desk.machines.add(serial="CR-1", line="crane", customer="HL",
                          commissioned=date(2020, 1, 1), by="cs1", at=T0)  # fmt: skip
        yield desk, outbox, now


def visits(desk: ServiceDesk) -> list[Any]:
    return [c for c in desk.cases.find() if c.visit is not None]


def test_each_machine_is_scheduled_when_its_plan_falls_due(base: Any) -> None:
    desk, _, _ = base
    scheduled = desk.storage.scheduled("machine", "9999", 100)
    april = datetime(2027, 4, 1, tzinfo=TZ)  # EX-2: six months, unless 500 h come first
    assert scheduled == [("EX-1", utc_text(DEC1)), ("EX-2", utc_text(april))]  # no crane plan
    (state,) = desk.maintenance.plan("EX-1")
    assert (state.plan, state.due, state.case, state.last_at) == (PLAN, DEC1, None, None)
    assert desk.maintenance.plan("CR-1") == []


def test_the_tick_opens_a_visit_once_when_the_date_comes(base: Any) -> None:
    desk, outbox, _ = base
    assert desk.sla.tick(T0) == [] and visits(desk) == []
    sent = desk.sla.tick(DEC1 + timedelta(hours=9))
    (case,) = visits(desk)
    assert [n.kind for n in sent] == ["maintenance_due"]
    assert set(sent[0].recipients) == {"cs1", "m1"}
    assert case.reported_at == DEC1 and case.reported_by == "" and case.channel == "maintenance"
    assert case.priority == maintenance_priority(PLAN) and case.priority_location == LINE
    assert case.product.serial == "EX-1" and case.customer.id == "HL"
    assert case.visit.checklist == ("engine oil", "filters", "track tension")
    assert case.visit.kit == (("OIL-15W40", 20), ("FILTER-9", 1)) and case.visit.hours == 300
    assert case.coverage.kind == "chargeable"  # no contract pays for it
    (clock,) = [c for c in desk.cases.sla(case.id, DEC1 + timedelta(hours=9))
                if c.milestone == "repair"]  # fmt: skip
    assert clock.due == DEC1_WINDOW and clock.target.location == LINE
    assert desk.sla.tick(DEC1 + timedelta(hours=10)) == []  # open: not again
    assert len(visits(desk)) == 1
    assert desk.maintenance.plan("EX-1")[0].case == case.id
    # the open visit is listed, found through the schedule of open visits
    assert desk.storage.scheduled("machine-visit", "9999", 10) == [("EX-1", utc_text(DEC1))]
    listed = desk.maintenance.due(DEC1 + timedelta(hours=10))
    assert [(s.serial, s.case) for s in listed] == [("EX-1", case.id)]
    assert [n.case_id for n in outbox.of("maintenance_due")] == [case.id]  # delivered


def test_a_reading_past_the_hours_makes_the_plan_due(base: Any) -> None:
    desk, _, _ = base
    desk.machines.reading("EX-2", 450, by="e7", at=T0 + timedelta(hours=1))
    assert desk.sla.tick(T0 + timedelta(hours=2)) == []
    desk.machines.reading("EX-2", 512, by="e7", at=T0 + timedelta(hours=3))
    assert desk.storage.scheduled("machine", utc_text(T0 + timedelta(hours=3)), 10) == [
        ("EX-2", utc_text(T0 + timedelta(hours=3)))]  # fmt: skip
    desk.sla.tick(T0 + timedelta(hours=4))
    (case,) = visits(desk)
    assert case.product.serial == "EX-2" and case.reported_at == T0 + timedelta(hours=3)


def test_a_visit_done_resets_the_plan_and_a_cancelled_one_is_due_again(base: Any) -> None:
    desk, _, now = base
    when = DEC1 + timedelta(hours=9)
    now[0] = when
    desk.sla.tick(when)
    (case,) = visits(desk)
    desk.cases.cancel(case.id, reason="customer away", by="cs1", at=when + timedelta(hours=1))
    assert desk.maintenance.plan("EX-1")[0].case is None
    assert desk.storage.scheduled("machine-visit", "9999", 10) == []
    desk.sla.tick(when + timedelta(hours=2))
    second = next(c for c in visits(desk) if c.id != case.id)
    t = when + timedelta(hours=3)
    desk.cases.respond(second.id, by="cs1", at=t)
    desk.cases.assign(second.id, engineer="e7", by="cs1", at=t)
    desk.cases.confirm(second.id, by="e7", at=t)
    desk.cases.contact(second.id, by="e7", at=t, appointment=t + timedelta(hours=1))
    arrive_safely(desk, second.id, "e7", t + timedelta(hours=1))
    desk.machines.reading("EX-1", 610, by="e7", at=t + timedelta(hours=1))
    desk.cases.diagnose(second.id, by="e7", at=t + timedelta(hours=2), cause="service",
                        complexity="simple")  # fmt: skip
    done_at = t + timedelta(hours=3)
    desk.cases.complete(second.id, by="e7", at=done_at, actions="oil, filters, tension",
                        result="runs clean")  # fmt: skip
    (state,) = desk.maintenance.plan("EX-1")
    assert (state.case, state.last_at, state.last_hours) == (None, done_at, 610)
    assert state.due == datetime(2027, 6, 1, 15, 0, tzinfo=TZ)  # six months on
    desk.machines.reading("EX-1", 1105, by="e7", at=done_at + timedelta(days=2))
    assert desk.maintenance.plan("EX-1")[0].due == state.due  # 495 h since the visit
    desk.machines.reading("EX-1", 1110, by="e7", at=done_at + timedelta(days=3))
    assert desk.maintenance.plan("EX-1")[0].due == done_at + timedelta(days=3)  # 500 h


def test_overdue_visits_are_listed_and_machines_without_an_owner_get_none(base: Any) -> None:
    desk, _, _ = base
    desk.machines.add(serial="EX-9", line="excavator", commissioned=date(2025, 1, 1), by="cs1",
                      at=T0)  # fmt: skip
    listed = desk.maintenance.due(T0)
    assert [(s.serial, s.due) for s in listed] == [("EX-9", datetime(2025, 7, 1, tzinfo=TZ))]
    assert desk.sla.tick(T0) == [] and visits(desk) == []  # no owner: no case
    coming = desk.maintenance.due(T0, within=timedelta(days=10))
    assert [s.serial for s in coming] == ["EX-9", "EX-1"]


def test_two_desks_ticking_at_once_open_each_visit_once(storage_url: str, tmp_path: Path) -> None:
    if storage_url == "memory://":
        storage_url = "memory://shared-maintenance"
    with make(storage_url) as first, make(storage_url) as second:
        add_team(first)
        first.customers.add(id="HL", name="Hengli Mining", by="cs1", at=T0)
        for n in range(20):
            first.machines.add(serial=f"EX-{n:02d}", line="excavator", customer="HL",
                               commissioned=date(2026, 6, 1), by="cs1", at=T0)  # fmt: skip
        barrier = threading.Barrier(2)
        errors: list[BaseException] = []

        def tick(desk: ServiceDesk) -> None:
            try:
                barrier.wait()
                desk.sla.tick(DEC1 + timedelta(hours=9))
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=tick, args=(d,)) for d in (first, second)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        opened = [c for c in first.cases.find() if c.visit is not None]
        assert sorted(c.product.serial for c in opened) == [f"EX-{n:02d}" for n in range(20)]
        notes = [r for r in first.storage.outbox() if r.notification["kind"] == "maintenance_due"]
        assert len({n.notification["case_id"] for n in notes}) == 20


def test_a_policy_without_plans_ticks_without_reading_machines(storage_url: str) -> None:
    with ServiceDesk(RULES / "default.policy", storage_url) as desk:
        add_team(desk)
        desk.customers.add(id="HL", name="Hengli Mining", by="cs1", at=T0)
        desk.machines.add(serial="EX-1", line="excavator", customer="HL",
                          commissioned=date(2020, 1, 1), by="cs1", at=T0)  # fmt: skip
        assert desk.storage.scheduled("machine", "9999", 10) in ([], None)
        assert desk.sla.tick(T0) == []
        assert desk.storage.find_cases(CaseQuery()) == []


def test_a_visit_keeps_its_plans_priority_through_corrections(base: Any) -> None:
    desk, _, _ = base
    desk.sla.tick(DEC1 + timedelta(hours=9))
    (case,) = visits(desk)
    updated = desk.cases.update(case.id, severity="critical", machine_down=True,
                                reason="found leaking", by="cs1",
                                at=DEC1 + timedelta(hours=10))  # fmt: skip
    assert updated.priority == maintenance_priority(PLAN) and updated.severity == "critical"
    moves = desk.policy_moves([case.id])
    assert moves[0].new_priority == maintenance_priority(PLAN)


def test_a_visit_done_outside_the_desk_is_recorded_and_checked(base: Any) -> None:
    desk, _, _ = base
    done = desk.machines.maintained("EX-1", plan=PLAN, at=T0 - timedelta(days=10), hours=280,
                                    by="cs1")  # fmt: skip
    (state,) = desk.maintenance.plan("EX-1")
    assert (state.last_at, state.last_hours) == (T0 - timedelta(days=10), 280)
    assert state.due == desk.policy.add(T0 - timedelta(days=10), desk.policy.maintenance[0].every)
    assert done.done(PLAN).at == T0 - timedelta(days=10)  # type: ignore[union-attr]
    for bad, message in (
        ({"plan": "oil change"}, "has no maintenance plan 'oil change'; its plans: " + PLAN),
        ({"at": T0 + timedelta(days=2)}, "lies in the future"),
        ({"at": T0 - timedelta(days=20)}, "was last done"),
        ({"hours": -5}, "hours"),
    ):
        with pytest.raises(ValidationError, match=message):
            desk.machines.maintained("EX-1", **{"plan": PLAN, "at": T0, "by": "cs1", **bad})
    with pytest.raises(PermissionDenied):
        desk.machines.maintained("EX-1", plan=PLAN, at=T0, by="e7")


def test_a_tick_opens_every_visit_due_past_its_batches_and_machines_it_skips(
    base: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    desk, _, _ = base
    monkeypatch.setattr("aftersales.services.maintenance.BATCH", 3)
    for n in range(4):  # due long ago, and no owner on record: skipped, tick after tick
        desk.machines.add(serial=f"A-{n}", line="excavator", commissioned=date(2024, 1, 1),
                          by="cs1", at=T0)  # fmt: skip
    for n in range(7):
        desk.machines.add(serial=f"B-{n}", line="excavator", customer="HL",
                          commissioned=date(2025, 1, 1), by="cs1", at=T0)  # fmt: skip
    sent = desk.sla.tick(T0)
    assert sorted(c.product.serial for c in visits(desk)) == [f"B-{n}" for n in range(7)]
    assert len(sent) == 7
