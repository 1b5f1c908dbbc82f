"""The paths real service takes beside the field visit (issue 15): fixes without a visit, team
queues, and the clocks that stop applying. Through the public API on memory, SQLite and
PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from conftest import REPORT, RULES, T0, add_team, at, run_to

from aftersales import (
    PermissionDenied,
    PolicyError,
    ServiceDesk,
    ValidationError,
    WorkflowError,
    parse_policy,
)
from aftersales.core.workflow import allowed_actions, fold
from aftersales.plugins.metrics import first_time_fix, remote_resolution
from aftersales.testing import Outbox

DEFAULT = (RULES / "default.policy").read_text("utf-8")
URGENT_ARRIVAL = "  arrival  within 8 hours after reported       # the engineer is on site\n"
assert URGENT_ARRIVAL in DEFAULT
PATHS = (
    DEFAULT.replace('version  "1.0"', 'version  "1.0-paths"').replace(
        URGENT_ARRIVAL,
        URGENT_ARRIVAL + "  assignment within 1 hour\n  close within 5 days\n",
    )
    + "\nresolve remotely by service_agent, engineer\ncallback optional\n"
)


@pytest.fixture
def paths(storage_url: str, outbox: Outbox) -> ServiceDesk:
    desk = ServiceDesk(parse_policy(PATHS, "paths.policy"), storage_url, plugins=[outbox])
    add_team(desk)
    desk.staff.add(id="e9", name="Sun", roles=["engineer"], team="north", at=T0)
    desk.staff.add(id="e10", name="He", roles=["engineer"], team="north", at=T0)
    desk.staff.add(id="e11", name="Guo", roles=["engineer"], team="south", at=T0)
    return desk


def states(desk: ServiceDesk, case_id: str, minutes: float) -> dict[str, str]:
    return {c.milestone: c.state for c in desk.cases.sla(case_id, at(minutes))}


# ---- resolution without a visit -------------------------------------------------------------
def test_a_fix_on_the_first_call(paths: ServiceDesk) -> None:
    case = paths.cases.report(**REPORT, by="cs1", at=at(0))
    case = paths.cases.resolve(case.id, by="cs1", way="phone", actions="talked through a reset",
                               result="boom lifts again", at=at(10))  # fmt: skip
    assert (case.status, case.engineer) == ("repaired", None)
    assert case.repair is not None and (case.repair.remote, case.repair.engineer) == (
        "phone",
        "cs1",
    )
    assert case.resolved_remotely and case.milestones["responded"] == at(10)  # answered too
    assert states(paths, case.id, 20) == {
        "response": "met",
        "assignment": "not_applicable",
        "contact": "not_applicable",
        "arrival": "not_applicable",
        "repair": "not_applicable",  # counted from the arrival that never came
        "callback": "pending",  # from the acceptance
        "close": "running",
    }
    # whoever resolved it presents the fix; the customer signs; the desk closes it
    paths.cases.accept(case.id, signed_by="Wang", by="cs1", at=at(30))
    closed = paths.cases.close(case.id, by="cs1", at=at(40))  # callback optional
    assert closed.status == "closed"
    assert states(paths, case.id, 50)["close"] == "met"
    assert fold(paths.cases.history(case.id)) == paths.cases.get(case.id)


def test_the_engineer_resolves_their_own_case_remotely(paths: ServiceDesk) -> None:
    case = run_to(paths, "confirmed")
    with pytest.raises(
        PermissionDenied, match="only a service_agent or the assigned engineer \\(resolve remotely"
    ):
        paths.cases.resolve(case.id, by="e8", way="remote_session", actions="x", result="y",
                            at=at(16))  # fmt: skip
    case = paths.cases.resolve(case.id, by="e7", way="remote_session", actions="new firmware",
                               result="runs", at=at(16))  # fmt: skip
    assert case.repair is not None and case.repair.engineer == "e7"
    got = states(paths, case.id, 17)
    assert got["contact"] == got["arrival"] == got["repair"] == "not_applicable"
    assert got["assignment"] == got["response"] == "met"


def test_a_visit_already_late_stays_late(paths: ServiceDesk) -> None:
    """A deadline missed before the case was resolved remotely is missed, not excused."""
    case = run_to(paths, "confirmed")
    late = 9 * 60  # the urgent arrival (8 hours after the report) has passed
    paths.cases.resolve(case.id, by="e7", way="parts_sent", actions="sent a relay",
                        result="customer fitted it, runs", at=at(late))  # fmt: skip
    clocks = {c.milestone: c for c in paths.cases.sla(case.id, at(late + 600))}
    assert clocks["arrival"].state == "breached"
    assert clocks["arrival"].overrun == timedelta(hours=1)  # up to the resolution, not now
    assert clocks["contact"].state == "breached"  # 2 hours after the assignment


def test_remote_resolution_needs_the_policy_and_an_early_state(paths: ServiceDesk) -> None:
    desk = ServiceDesk(RULES / "default.policy", "memory://")
    add_team(desk)
    case = run_to(desk, "responded")
    with pytest.raises(WorkflowError, match="cannot resolve"):
        desk.cases.resolve(case.id, by="cs1", way="phone", actions="x", result="y", at=at(6))
    on_site = run_to(paths, "on_site")
    with pytest.raises(WorkflowError, match=r"cannot resolve .* it is on_site"):
        paths.cases.resolve(on_site.id, by="e7", way="phone", actions="x", result="y",
                            at=at(121))  # fmt: skip
    fresh = paths.cases.report(**REPORT, by="cs1", at=at(0))
    with pytest.raises(ValidationError, match="unknown way 'telepathy'; use phone"):
        paths.cases.resolve(fresh.id, by="cs1", way="telepathy", actions="x", result="y")
    with pytest.raises(PermissionDenied):
        paths.cases.resolve(fresh.id, by="sk1", way="phone", actions="x", result="y", at=at(1))
    assert paths.cases.get(fresh.id).version == 1  # nothing written


def test_a_rejected_remote_fix_goes_to_an_engineer(paths: ServiceDesk) -> None:
    case = run_to(paths, "assigned")
    paths.cases.resolve(case.id, by="cs1", way="phone", actions="reset", result="ok", at=at(11))
    case = paths.cases.reject(case.id, signed_by="Wang", reason="stopped again", by="cs1",
                              at=at(30))  # fmt: skip
    assert (case.status, case.engineer, case.repair) == ("assigned", "e7", None)
    assert states(paths, case.id, 31)["arrival"] == "running"  # a visit is due again
    assert paths.cases.confirm(case.id, by="e7", at=at(32)).status == "confirmed"


def test_resolve_remotely_names_roles() -> None:
    with pytest.raises(PolicyError, match='unknown role "clerk"'):
        parse_policy(DEFAULT + "\nresolve remotely by clerk\n", "bad.policy")
    with pytest.raises(PolicyError, match="engineer is listed twice"):
        parse_policy(DEFAULT + "\nresolve remotely by engineer, engineer\n", "bad.policy")
    assert parse_policy(PATHS, "p.policy").resolve_remotely == ("service_agent", "engineer")
    assert parse_policy(DEFAULT, "d.policy").resolve_remotely == ()


def test_the_sla_report_counts_inapplicable_clocks_apart(paths: ServiceDesk) -> None:
    case = paths.cases.report(**REPORT, by="cs1", at=at(0))
    paths.cases.resolve(case.id, by="cs1", way="phone", actions="reset", result="ok", at=at(10))
    run_to(paths, "on_site")
    report = paths.sla.report(T0, T0 + timedelta(days=1), "milestone", now=at(200))
    by = {g.group: g for g in report.groups}
    assert (by["arrival"].met, by["arrival"].not_applicable) == (1, 1)
    assert by["arrival"].met_rate == 1.0  # the inapplicable one is not in the rate
    assert by["contact"].not_applicable == 1 and by["contact"].open == 0
    assert report.total.not_applicable == 4  # assignment, contact, arrival, repair


def test_a_callback_never_made_is_not_applicable_once_closed(paths: ServiceDesk) -> None:
    case = run_to(paths, "accepted")
    paths.cases.close(case.id, by="cs1", at=at(300))  # callback optional, 2 days not yet gone
    assert states(paths, case.id, 10_000)["callback"] == "not_applicable"
    late = run_to(paths, "accepted")
    paths.cases.close(late.id, by="cs1", at=at(7 * 24 * 60))  # its callback was long overdue
    assert states(paths, late.id, 8 * 24 * 60)["callback"] == "breached"


def test_remote_resolution_and_first_time_fix_are_metrics(paths: ServiceDesk) -> None:
    remote = run_to(paths, "assigned")
    paths.cases.resolve(remote.id, by="e7", way="phone", actions="reset", result="ok", at=at(11))
    paths.cases.accept(remote.id, signed_by="Wang", by="e7", at=at(12))
    run_to(paths, "accepted")  # a visit
    agent = paths.cases.report(**REPORT, by="cs1", at=at(0))
    paths.cases.resolve(agent.id, by="cs1", way="self_fix", actions="guided", result="ok",
                        at=at(5))  # fmt: skip
    paths.cases.accept(agent.id, signed_by="Wang", by="cs1", at=at(6))
    assert remote_resolution(paths, "e7", "2026-11") == 50
    assert remote_resolution(paths, "cs1", "2026-11") == 100
    assert first_time_fix(paths, "e7", "2026-11") == 100
    assert remote_resolution(paths, "e8", "2026-11") is None


# ---- teams and queues -----------------------------------------------------------------------
def test_a_case_waits_in_a_team_queue_until_a_member_takes_it(
    paths: ServiceDesk, outbox: Outbox
) -> None:
    case = run_to(paths, "responded")
    case = paths.cases.queue(case.id, team="north", by="cs1", at=at(6))
    assert (case.status, case.team, case.engineer) == ("responded", "north", None)
    [note] = outbox.of("case_queued")
    assert set(note.recipients) == {"e9", "e10"} and note.data["team"] == "north"
    assert states(paths, case.id, 7)["assignment"] == "running"  # a team is not a person
    assert [c.id for c in paths.cases.find(team="north")] == [case.id]
    assert paths.cases.find(team="south") == []
    with pytest.raises(PermissionDenied, match="in team north's queue and e11 is on team south"):
        paths.cases.take(case.id, by="e11", at=at(8))
    with pytest.raises(PermissionDenied, match="not an engineer"):
        paths.cases.take(case.id, by="cs1", at=at(8))
    case = paths.cases.take(case.id, by="e9", at=at(9))
    assert (case.status, case.engineer, case.team) == ("assigned", "e9", "north")
    assert states(paths, case.id, 10)["assignment"] == "met"
    assert outbox.of("case_assigned")[-1].recipients == ("e9",)
    assert [c.id for c in paths.cases.find(team="north")] == [case.id]
    assert fold(paths.cases.history(case.id)) == paths.cases.get(case.id)


def test_a_hand_over_between_teams(paths: ServiceDesk, outbox: Outbox) -> None:
    case = run_to(paths, "confirmed")  # e7 has it
    case = paths.cases.queue(case.id, team="south", reason="hydraulics crew", by="cs1",
                             at=at(16))  # fmt: skip
    assert (case.status, case.engineer, case.appointment, case.team) == (
        "responded", None, None, "south")  # fmt: skip
    assert outbox.of("case_unassigned")[-1].recipients == ("e7",)
    assert outbox.of("case_queued")[-1].recipients == ("e11",)
    assert states(paths, case.id, 17)["assignment"] == "met"  # it was met by e7 at 10
    paths.cases.take(case.id, by="e11", at=at(18))
    report = paths.sla.report(T0, T0 + timedelta(days=1), "team", now=at(20))
    assert [g.group for g in report.groups] == ["south"]


def test_queue_and_take_refuse_what_cannot_be(paths: ServiceDesk) -> None:
    case = run_to(paths, "responded")
    with pytest.raises(ValidationError, match="no active member is on team 'west'; teams: north"):
        paths.cases.queue(case.id, team="west", by="cs1", at=at(6))
    with pytest.raises(PermissionDenied, match="in no team's queue"):
        paths.cases.take(case.id, by="e9", at=at(6))
    with pytest.raises(PermissionDenied, match="needs a service_agent or manager"):
        paths.cases.queue(case.id, team="north", by="e9", at=at(6))
    done = run_to(paths, "repaired")
    with pytest.raises(WorkflowError, match="cannot queue"):
        paths.cases.queue(done.id, team="north", by="cs1", at=at(300))
    other = run_to(paths, "responded")
    assert "take" not in allowed_actions(other)  # in no queue
    assert "take" in allowed_actions(paths.cases.queue(other.id, team="north", by="cs1",
                                                       at=at(6)))  # fmt: skip


def test_an_assignment_clock_is_kept_per_priority(paths: ServiceDesk) -> None:
    slow = run_to(paths, "responded")
    paths.cases.assign(slow.id, engineer="e9", by="cs1", at=at(90))
    clocks = {c.milestone: c for c in paths.cases.sla(slow.id, at(100))}
    assert clocks["assignment"].state == "breached"
    assert clocks["assignment"].overrun == timedelta(minutes=30)
    assert paths.cases.get(slow.id).team == "north"  # the engineer's team


def test_a_close_target(paths: ServiceDesk) -> None:
    case = run_to(paths, "accepted")
    assert states(paths, case.id, 300)["close"] == "running"
    assert states(paths, case.id, 6 * 24 * 60)["close"] == "breached"
    paths.cases.close(case.id, by="cs1", at=at(400))
    assert states(paths, case.id, 6 * 24 * 60)["close"] == "met"
    with pytest.raises(PolicyError, match='unknown event "closed"'):
        parse_policy(PATHS.replace("close within 5 days", "close within 5 days after closed"),
                     "bad.policy")  # fmt: skip


def test_the_directory_knows_its_teams_and_sees_changes(storage_url: str) -> None:
    desk = ServiceDesk(parse_policy(PATHS, "paths.policy"), storage_url)
    add_team(desk)
    desk.staff.add(id="e9", name="Sun", roles=["engineer"], team="north", at=T0)
    assert [s.id for s in desk.staff.team("north")] == ["e9"] and desk.staff.teams() == ["north"]
    desk.staff.update("e8", team="north", by="m1")
    assert [s.id for s in desk.staff.team("north")] == ["e8", "e9"]  # its own change
    other = ServiceDesk(parse_policy(PATHS, "paths.policy"), storage_url)
    if storage_url != "memory://":  # another desk on the same store adds a crew
        other.staff.add(id="e20", name="Xu", roles=["engineer"], team="west", at=T0)
        assert [s.id for s in desk.staff.team("west")] == ["e20"]
    desk.staff.deactivate("e9", by="m1")
    assert [s.id for s in desk.staff.team("north")] == ["e8"]


def test_a_reopened_repair_still_anchors_warranty_rework(storage_url: str) -> None:
    text = PATHS + "reopen within 30 days\n"
    desk = ServiceDesk(parse_policy(text, "rework.policy"), storage_url)
    add_team(desk)
    case = run_to(desk, "closed")
    closed = case.milestones["closed"]
    desk.cases.reopen(case.id, by="cs1", reason="leaks again", at=closed + timedelta(hours=1))
    # while it is being repaired again, a new report is no rework of an accepted repair
    during = desk.cases.report(**REPORT, by="cs1", at=closed + timedelta(hours=2))
    assert during.rework_of is None
    h = closed + timedelta(hours=3)
    desk.cases.resolve(case.id, by="e7", way="remote_session", actions="reset valve",
                       result="holds pressure", at=h)  # fmt: skip
    desk.cases.accept(case.id, signed_by="Wang", by="e7", at=h + timedelta(minutes=5))
    again = desk.cases.report(**REPORT, by="cs1", at=h + timedelta(days=30))
    assert again.rework_of == case.id  # 90 days from the second acceptance


def test_a_repaired_case_can_be_handed_to_another_engineer(paths: ServiceDesk) -> None:
    case = run_to(paths, "repaired")  # e7 repaired it and is called away
    case = paths.cases.reassign(case.id, engineer="e8", reason="e7 on leave", by="cs1",
                                at=at(205))  # fmt: skip
    assert (case.status, case.engineer) == ("repaired", "e8")
    assert case.repair is not None and case.repair.engineer == "e7"  # who repaired it stays
    case = paths.cases.accept(case.id, signed_by="Wang", by="e8", at=at(210))
    case = paths.cases.reassign(case.id, engineer="e9", reason="north crew follows up",
                                by="cs1", at=at(211))  # fmt: skip
    assert (case.status, case.engineer, case.team) == ("accepted", "e9", "north")
    assert fold(paths.cases.history(case.id)) == paths.cases.get(case.id)
    closed = paths.cases.close(case.id, by="cs1", at=at(212))
    with pytest.raises(WorkflowError, match="cannot reassign"):
        paths.cases.reassign(closed.id, engineer="e8", reason="x", by="cs1", at=at(213))


def test_a_team_change_reaches_the_queue_at_once(paths: ServiceDesk, outbox: Outbox) -> None:
    """desk.staff and desk.cases read one directory: a member moved to a team is a member
    of its queue for the very next case (the memo of teams is shared, not copied)."""
    first = run_to(paths, "responded")
    paths.cases.queue(first.id, team="north", by="cs1", at=at(6))  # reads the teams
    paths.staff.update("e8", team="west", by="m1")
    second = run_to(paths, "responded")
    paths.cases.queue(second.id, team="west", by="cs1", at=at(7))
    assert outbox.of("case_queued")[-1].recipients == ("e8",)
    paths.staff.deactivate("e8", by="m1")
    third = run_to(paths, "responded")
    with pytest.raises(ValidationError, match="no active member is on team 'west'"):
        paths.cases.queue(third.id, team="west", by="cs1", at=at(8))
