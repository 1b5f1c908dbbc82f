"""The case workflow through a real desk, on the memory store and on a SQLite file."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from conftest import REPORT, RULES, T0, add_team, arrive_safely, at, run_to

from aftersales import (
    ConflictError,
    NotFound,
    PermissionDenied,
    PolicyError,
    ServiceDesk,
    ValidationError,
    WorkflowError,
    parse_policy,
)
from aftersales.core.workflow import fold
from aftersales.plugins.metrics import first_time_fix
from aftersales.ports.storage import CaseQuery
from aftersales.testing import Outbox


def test_full_lifecycle_records_one_event_per_action(desk: ServiceDesk) -> None:
    case = run_to(desk, "closed")
    history = desk.cases.history(case.id)
    assert [e.type for e in history] == [
        "reported",
        "responded",
        "assigned",
        "confirmed",
        "contacted",
        "arrived",
        "safety_checked",
        "diagnosed",
        "repaired",
        "accepted",
        "followed_up",
        "closed",
    ]
    assert [e.version for e in history] == list(range(1, 13))
    assert case.version == 12
    assert case.number == "AS-2026-000001"
    assert case.priority == "urgent"  # gold customer, machine down
    assert case.priority_location.endswith("default.policy:21")
    assert case.policy_version == "1.0"
    assert case.milestones["reported"] == at(0)
    assert case.milestones["arrived"] == at(120)
    assert case.appointment == at(120)
    assert case.engineer == "e7"
    assert case.diagnosis is not None and case.diagnosis.complexity == "simple"
    assert case.repair is not None and case.repair.cause == "worn pump seal"
    assert [p.sku for p in case.repair.parts_used] == ["SEAL-9"]
    assert case.acceptance is not None and case.acceptance.signed_by == "Wang"
    assert case.acceptance.presented_by == "e7"
    assert case.satisfaction == 5
    assert case.chargeable and case.rework_of is None
    assert fold(history) == desk.cases.get(case.id) == case


def test_numbers_are_sequential_per_year(desk: ServiceDesk) -> None:
    first = desk.cases.report(**REPORT, by="cs1", at=at(0))
    second = desk.cases.report(**REPORT, by="cs1", at=at(1))
    new_year = desk.cases.report(
        **REPORT, by="cs1", at=datetime.fromisoformat("2027-01-01T08:00+08:00")
    )
    assert [first.number, second.number, new_year.number] == [
        "AS-2026-000001",
        "AS-2026-000002",
        "AS-2027-000001",
    ]
    assert len({first.id, second.id, new_year.id}) == 3


def test_action_out_of_order_names_state_and_allowed_actions(desk: ServiceDesk) -> None:
    case = run_to(desk, "responded")
    with pytest.raises(WorkflowError) as info:
        desk.cases.arrive(case.id, by="e7", at=at(30))
    message = str(info.value)
    assert "it is responded" in message
    assert "allowed now: assign, queue, cancel, notify_delay, hold, update" in message


def test_closed_case_allows_nothing(desk: ServiceDesk) -> None:
    case = run_to(desk, "closed")
    with pytest.raises(WorkflowError, match=r"allowed now: none \(the case is finished\)"):
        desk.cases.cancel(case.id, by="cs1", reason="dup", at=at(4000))


def test_reject_sends_back_to_diagnosed_and_escalates_once(
    desk: ServiceDesk, outbox: Outbox
) -> None:
    case = run_to(desk, "repaired")
    for n in range(3):
        case = desk.cases.reject(
            case.id, signed_by="Wang", by="e7", reason=f"still leaks {n}", at=at(300 + 20 * n)
        )
        assert case.status == "diagnosed"
        assert case.repair is None and "repaired" not in case.milestones
        case = desk.cases.complete(
            case.id, by="e7", actions="again", result="ok", at=at(310 + 20 * n)
        )
    assert case.rejection_count == 3
    escalations = outbox.of("acceptance_escalated")
    assert len(escalations) == 1  # escalate after 2 rejections: once, at the second
    assert escalations[0].recipients == ("m1",)
    assert escalations[0].data["reasons"] == ["still leaks 0", "still leaks 1"]
    case = desk.cases.accept(case.id, signed_by="Wang", by="e7", at=at(400))
    assert case.milestones["repaired"] == at(350)  # the repair the customer accepted


def test_assignment_notifies_engineer(desk: ServiceDesk, outbox: Outbox) -> None:
    case = run_to(desk, "assigned")
    [note] = outbox.of("case_assigned")
    assert note.recipients == ("e7",) and note.case_id == case.id
    assert note.data["number"] == case.number and note.at == at(10)


def test_reassign_hands_over_to_new_engineer(desk: ServiceDesk, outbox: Outbox) -> None:
    case = run_to(desk, "on_site")
    case = desk.cases.reassign(case.id, engineer="e8", by="cs1", reason="needs welder", at=at(150))
    assert case.status == "assigned" and case.engineer == "e8"
    assert [h.engineer for h in case.handovers] == ["e7", "e8"]
    assert case.handovers[-1].reason == "needs welder"
    assert outbox.of("case_assigned")[-1].recipients == ("e8",)
    with pytest.raises(PermissionDenied, match=r"only the assigned engineer \(e8\)"):
        desk.cases.confirm(case.id, by="e7", at=at(160))
    assert desk.cases.confirm(case.id, by="e8", at=at(160)).status == "confirmed"
    assert case.milestones["arrived"] == at(120)  # the first arrival still counts


def test_unassign_puts_the_case_back_in_the_queue(desk: ServiceDesk, outbox: Outbox) -> None:
    case = run_to(desk, "contacted")
    assert case.appointment is not None
    with pytest.raises(PermissionDenied, match="needs a service_agent or manager"):
        desk.cases.unassign(case.id, by="e7", reason="too busy", at=at(30))
    case = desk.cases.unassign(case.id, by="cs1", reason="e7 is off sick", at=at(30))
    assert (case.status, case.engineer, case.appointment) == ("responded", None, None)
    [note] = outbox.of("case_unassigned")
    assert note.recipients == ("e7",) and note.data["reason"] == "e7 is off sick"
    with pytest.raises(WorkflowError, match="it is responded; allowed now: assign"):
        desk.cases.confirm(case.id, by="e7", at=at(31))
    with pytest.raises(WorkflowError, match="cannot unassign"):
        desk.cases.unassign(case.id, by="cs1", reason="again", at=at(31))
    case = desk.cases.assign(case.id, engineer="e8", by="cs1", at=at(32))
    assert (case.status, case.engineer) == ("assigned", "e8")
    assert [h.engineer for h in case.handovers] == ["e7", "e8"]
    assert case.milestones["contacted"] == at(20)  # the first contact still counts
    unassigned = [e for e in desk.cases.history(case.id) if e.type == "unassigned"]
    assert unassigned[0].data == {"engineer": "e7", "reason": "e7 is off sick"}
    assert fold(desk.cases.history(case.id)) == desk.cases.get(case.id)


def test_a_case_is_not_unassigned_before_assignment_or_after_the_repair(
    desk: ServiceDesk,
) -> None:
    case = desk.cases.report(**REPORT, by="cs1", at=at(0))
    with pytest.raises(WorkflowError, match="cannot unassign"):
        desk.cases.unassign(case.id, by="cs1", reason="x", at=at(1))
    repaired = run_to(desk, "repaired")
    with pytest.raises(WorkflowError, match="cannot unassign"):
        desk.cases.unassign(repaired.id, by="cs1", reason="x", at=at(300))
    with pytest.raises(ValidationError):
        desk.cases.unassign(run_to(desk, "assigned").id, by="cs1", reason="  ", at=at(300))


CALLBACK_OPTIONAL = (RULES / "default.policy").read_text("utf-8").replace(
    'version  "1.0"', 'version  "1.0-optional-callback"'
) + "\ncallback optional\n"


def test_callback_optional_closes_an_accepted_case(storage_url: str) -> None:
    """Many customers are never reached: a policy may let an accepted repair close."""
    desk = ServiceDesk(parse_policy(CALLBACK_OPTIONAL, "optional.policy"), storage_url)
    add_team(desk)
    case = run_to(desk, "accepted")
    closed = desk.cases.close(case.id, by="cs1", at=at(300))
    assert (closed.status, closed.follow_up) == ("closed", None)
    assert closed.milestones["closed"] == at(300)
    followed = run_to(desk, "followed_up")  # the call, when it happens, still closes as before
    assert desk.cases.close(followed.id, by="cs1", at=at(3001)).status == "closed"


def test_without_callback_optional_the_follow_up_comes_first(desk: ServiceDesk) -> None:
    case = run_to(desk, "accepted")
    with pytest.raises(WorkflowError, match=r"cannot close .* it is accepted; allowed now: "):
        desk.cases.close(case.id, by="cs1", at=at(300))
    assert not desk.policy.callback_optional


def test_callback_optional_appears_once() -> None:
    with pytest.raises(PolicyError, match="the callback optional section appears twice"):
        parse_policy(CALLBACK_OPTIONAL + "callback optional\n", "twice.policy")


AUTO_CLOSE = (RULES / "default.policy").read_text("utf-8").replace(
    'version  "1.0"', 'version  "1.0-auto-close"'
) + "\nclose automatically 2 days after repaired\n"


def test_the_tick_closes_unanswered_repairs_once(storage_url: str, outbox: Outbox) -> None:
    desk = ServiceDesk(parse_policy(AUTO_CLOSE, "auto.policy"), storage_url, plugins=[outbox])
    add_team(desk)
    silent = run_to(desk, "repaired")  # completed, the customer never signs
    called = run_to(desk, "followed_up")
    also = run_to(desk, "repaired")  # reported at the same minute: due at the same time
    repaired_at = silent.milestones["repaired"]
    desk.sla.tick(repaired_at + timedelta(days=1))
    assert desk.cases.get(silent.id).status == "repaired"  # not yet
    two_days = repaired_at + timedelta(days=2, minutes=1)
    desk.sla.tick(two_days)
    closed = desk.cases.get(silent.id)
    assert (closed.status, closed.milestones["closed"]) == ("closed", two_days)
    assert desk.cases.get(called.id).status == "closed"
    [event] = [e for e in desk.cases.history(silent.id) if e.type == "closed"]
    line = AUTO_CLOSE.rstrip("\n").count("\n") + 1  # the close automatically line, the last
    assert event.by == "" and event.data == {"automatically": f"auto.policy:{line}"}
    notes = [n for n in outbox.of("case_closed_automatically") if n.case_id == silent.id]
    assert len(notes) == 1 and notes[0].recipients == ("cs1",)
    desk.sla.tick(two_days + timedelta(hours=1))  # once: nothing more to close or tell
    assert len(outbox.of("case_closed_automatically")) == 3  # silent, called, also
    assert desk.cases.get(also.id).status == "closed"


def test_no_automatic_closing_without_the_rule(desk: ServiceDesk) -> None:
    case = run_to(desk, "repaired")
    assert desk.cases.close_due(at(100_000)) == []
    assert desk.cases.get(case.id).status == "repaired"


def test_close_automatically_names_an_event_it_can_count_from() -> None:
    with pytest.raises(PolicyError, match='unknown event to close after "arrived"'):
        parse_policy(AUTO_CLOSE.replace("after repaired", "after arrived"), "bad.policy")
    with pytest.raises(PolicyError, match="close automatically section appears twice"):
        parse_policy(AUTO_CLOSE + "close automatically 1 day after accepted\n", "twice.policy")


REOPENING = (RULES / "default.policy").read_text("utf-8").replace(
    'version  "1.0"', 'version  "1.0-reopen"'
) + "\nreopen within 30 days\n"


def test_a_closed_case_is_reopened_within_the_window(storage_url: str, outbox: Outbox) -> None:
    desk = ServiceDesk(parse_policy(REOPENING, "reopen.policy"), storage_url, plugins=[outbox])
    add_team(desk)
    case = run_to(desk, "closed")
    closed_at = case.milestones["closed"]
    with pytest.raises(PermissionDenied, match="needs a service_agent or manager"):
        desk.cases.reopen(case.id, by="e7", reason="leaks", at=closed_at + timedelta(days=1))
    case = desk.cases.reopen(case.id, by="cs1", reason="leaks again",
                             at=closed_at + timedelta(days=2))  # fmt: skip
    assert (case.status, case.engineer) == ("assigned", "e7")
    assert (case.repair, case.acceptance, case.follow_up) == (None, None, None)
    assert "closed" not in case.milestones and "repaired" not in case.milestones
    assert case.milestones["arrived"] == at(120)  # what was met before stays met
    [reopening] = case.reopenings
    assert (reopening.reason, reopening.by) == ("leaks again", "cs1")
    assert fold(desk.cases.history(case.id)) == desk.cases.get(case.id)
    assert [c.id for c in desk.cases.open()] == [case.id]  # open again, in the index too
    assert desk.cases.confirm(case.id, by="e7", at=closed_at + timedelta(days=2, minutes=5))


def test_reopening_needs_the_policys_window(desk: ServiceDesk, storage_url: str) -> None:
    case = run_to(desk, "closed")
    with pytest.raises(WorkflowError, match="sets no 'reopen within' window"):
        desk.cases.reopen(case.id, by="cs1", reason="x", at=at(100_000))
    windowed = ServiceDesk(parse_policy(REOPENING, "reopen.policy"), "memory://")
    add_team(windowed)
    late = run_to(windowed, "closed")
    too_late = late.milestones["closed"] + timedelta(days=31)
    with pytest.raises(WorkflowError, match="more than 30 days ago"):
        windowed.cases.reopen(late.id, by="cs1", reason="x", at=too_late)
    with pytest.raises(WorkflowError, match="cannot reopen"):
        windowed.cases.reopen(run_to(windowed, "accepted").id, by="cs1", reason="x", at=too_late)


def test_a_reopened_repair_is_no_first_time_fix(storage_url: str) -> None:
    desk = ServiceDesk(parse_policy(REOPENING, "reopen.policy"), storage_url)
    add_team(desk)
    case = run_to(desk, "closed")
    when = case.milestones["closed"]
    desk.cases.reopen(case.id, by="cs1", reason="leaks again", at=when + timedelta(hours=1))
    again = desk.cases.get(case.id)
    assert again.reopenings and first_time_fix(desk, "e7", "2026-11") is None  # not accepted
    h = when + timedelta(hours=2)
    desk.cases.confirm(case.id, by="e7", at=h)
    desk.cases.contact(case.id, by="e7", at=h, appointment=h + timedelta(hours=1))
    arrive_safely(desk, case.id, "e7", h + timedelta(hours=1))
    desk.cases.diagnose(case.id, by="e7", cause="seal", complexity="simple",
                        at=h + timedelta(hours=2))  # fmt: skip
    desk.cases.complete(case.id, by="e7", actions="replaced", result="ok",
                        at=h + timedelta(hours=3))  # fmt: skip
    desk.cases.accept(case.id, signed_by="Wang", by="e7", at=h + timedelta(hours=4))
    assert first_time_fix(desk, "e7", "2026-11") == 0


# ---- who may act ------------------------------------------------------------------------------
def test_desk_actions_need_service_agent_or_manager(desk: ServiceDesk) -> None:
    with pytest.raises(PermissionDenied, match="needs a service_agent or manager"):
        desk.cases.report(**REPORT, by="e7", at=at(0))
    case = desk.cases.report(**REPORT, by="m1", at=at(0))
    with pytest.raises(PermissionDenied):
        desk.cases.respond(case.id, by="sk1", at=at(1))


def test_engineer_steps_need_the_assigned_engineer(desk: ServiceDesk) -> None:
    case = run_to(desk, "assigned")
    for who in ("e8", "cs1", "m1"):
        with pytest.raises(PermissionDenied):
            desk.cases.confirm(case.id, by=who, at=at(15))
    case = run_to(desk, "repaired")
    with pytest.raises(PermissionDenied):
        desk.cases.accept(case.id, signed_by="Wang", by="cs1", at=at(300))


def test_assigning_a_non_engineer_is_refused(desk: ServiceDesk) -> None:
    case = run_to(desk, "responded")
    with pytest.raises(PermissionDenied, match="cs1 is not an engineer"):
        desk.cases.assign(case.id, engineer="cs1", by="cs1", at=at(10))


def test_inactive_staff_cannot_act_or_be_assigned(desk: ServiceDesk) -> None:
    case = run_to(desk, "responded")
    desk.staff.deactivate("e8", by="m1", at=at(6))
    with pytest.raises(PermissionDenied, match="inactive"):
        desk.cases.assign(case.id, engineer="e8", by="cs1", at=at(10))
    desk.staff.deactivate("cs1", by="m1", at=at(6))
    with pytest.raises(PermissionDenied, match="inactive"):
        desk.cases.assign(case.id, engineer="e7", by="cs1", at=at(10))
    assert [s.id for s in desk.staff.list(role="engineer")] == ["e7"]
    assert len(desk.staff.list(active=None)) == 5


def test_cancel_needs_desk_role_and_reason(desk: ServiceDesk) -> None:
    case = run_to(desk, "contacted")
    with pytest.raises(PermissionDenied):
        desk.cases.cancel(case.id, by="e7", reason="customer fixed it", at=at(30))
    with pytest.raises(ValidationError, match="reason"):
        desk.cases.cancel(case.id, by="m1", reason=" ", at=at(30))
    case = desk.cases.cancel(case.id, by="m1", reason="customer fixed it", at=at(30))
    assert case.status == "cancelled" and case.cancel_reason == "customer fixed it"
    assert desk.cases.open() == []


# ---- bad input ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"severity": "catastrophic"}, "unknown severity 'catastrophic'"),
        ({"channel": "fax"}, "unknown channel 'fax'"),
        ({"fault": "  "}, "fault must be non-empty text"),
        ({"customer": {"name": "X", "vip": True}}, "unknown customer field 'vip'"),
        ({"product": {"colour": "red"}}, "unknown product field 'colour'"),
        ({"custom": {"contract": "24/7"}}, "custom field 'contract' is not declared"),
        ({"machine_down": "yes"}, "machine_down must be True or False"),
    ],
)
def test_report_refuses_bad_input(
    desk: ServiceDesk, change: dict[str, object], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        desk.cases.report(**{**REPORT, **change}, by="cs1", at=at(0))
    assert desk.cases.find() == []


def test_naive_and_out_of_order_times_are_refused(desk: ServiceDesk) -> None:
    with pytest.raises(ValidationError, match="no time zone"):
        desk.cases.report(**REPORT, by="cs1", at=datetime(2026, 11, 23, 9, 0))
    case = run_to(desk, "responded")
    with pytest.raises(ValidationError, match="before the case's last event"):
        desk.cases.assign(case.id, engineer="e7", by="cs1", at=at(1))


@pytest.mark.parametrize("score", [0, 6, True, 4.5, "5"])
def test_satisfaction_is_one_to_five(desk: ServiceDesk, score: object) -> None:
    case = run_to(desk, "accepted")
    with pytest.raises(ValidationError, match="satisfaction"):
        desk.cases.follow_up(case.id, by="cs1", satisfaction=score, at=at(3000))  # type: ignore[arg-type]


def test_appointment_rules(desk: ServiceDesk) -> None:
    case = run_to(desk, "confirmed")
    with pytest.raises(ValidationError, match="is before the call"):
        desk.cases.contact(case.id, by="e7", at=at(20), appointment=at(19))
    general = desk.cases.report(**{**REPORT, "machine_down": False}, by="cs1", at=at(0))
    assert general.priority == "general"
    desk.cases.respond(general.id, by="cs1", at=at(1))
    desk.cases.assign(general.id, engineer="e8", by="cs1", at=at(2))
    desk.cases.confirm(general.id, by="e8", at=at(3))
    with pytest.raises(ValidationError, match="arrival by appointment"):
        desk.cases.contact(general.id, by="e8", at=at(4))


def test_reject_needs_reason_and_signer(desk: ServiceDesk) -> None:
    case = run_to(desk, "repaired")
    with pytest.raises(ValidationError, match="reason"):
        desk.cases.reject(case.id, signed_by="Wang", by="e7", reason="", at=at(300))
    with pytest.raises(ValidationError, match="signed_by"):
        desk.cases.accept(case.id, signed_by="", by="e7", at=at(300))


def test_unknown_case_and_staff_are_not_found(desk: ServiceDesk) -> None:
    with pytest.raises(NotFound):
        desk.cases.get("nope")
    with pytest.raises(NotFound):
        desk.cases.history("nope")
    with pytest.raises(NotFound):
        desk.cases.respond("nope", by="cs1", at=at(1))
    with pytest.raises(NotFound):
        desk.cases.report(**REPORT, by="ghost", at=at(0))
    with pytest.raises(NotFound):
        desk.staff.get("ghost")


def test_nothing_is_written_when_an_action_raises(desk: ServiceDesk) -> None:
    case = run_to(desk, "diagnosed")
    attempts = [
        lambda: desk.cases.accept(case.id, signed_by="W", by="e7", at=at(300)),
        lambda: desk.cases.complete(case.id, by="e8", actions="x", result="y", at=at(300)),
        lambda: desk.cases.complete(case.id, by="e7", actions="", result="y", at=at(300)),
        lambda: desk.cases.complete(
            case.id, by="e7", actions="x", result="y", parts_used=[{"sku": "A", "quantity": 0}]
        ),
        lambda: desk.cases.complete(case.id, by="e7", actions="x", result="y", at=at(1)),
    ]
    for attempt in attempts:
        with pytest.raises((WorkflowError, PermissionDenied, ValidationError)):
            attempt()
    assert desk.cases.get(case.id) == case
    assert len(desk.cases.history(case.id)) == case.version


def test_stale_version_is_a_conflict(desk: ServiceDesk) -> None:
    case = run_to(desk, "reported")
    desk.cases.respond(case.id, by="cs1", at=at(5), version=case.version)
    with pytest.raises(ConflictError, match="version 2, not 1"):
        desk.cases.assign(case.id, engineer="e7", by="cs1", at=at(6), version=case.version)


# ---- corrections, holds, delays ---------------------------------------------------------------
def test_update_decides_priority_again(desk: ServiceDesk) -> None:
    case = run_to(desk, "assigned", machine_down=False)
    assert case.priority == "general"
    case = desk.cases.update(case.id, by="cs1", machine_down=True, reason="site called", at=at(11))
    assert case.priority == "urgent" and case.machine_down
    [change] = case.priority_changes
    assert (change.previous, change.priority, change.reason) == ("general", "urgent", "site called")
    assert change.location.endswith("default.policy:21")
    assert desk.cases.history(case.id)[-1].type == "updated"
    with pytest.raises(ValidationError, match="update needs"):
        desk.cases.update(case.id, by="cs1", reason="nothing", at=at(12))


def test_update_corrects_the_fault_code_and_decides_priority_again(storage_url: str) -> None:
    """The help desk learns the real fault later: the code is corrected, the case index
    follows it, and a rule on the code decides the priority again."""
    text = (
        (RULES / "default.policy")
        .read_text("utf-8")
        .replace(
            'priority urgent  when severity == "critical"',
            'priority urgent  when fault_code == "HYD-BURST" or severity == "critical"',
        )
    )
    desk = ServiceDesk(parse_policy(text, "codes.policy"), storage_url)
    add_team(desk)
    case = run_to(desk, "assigned", machine_down=False)
    assert (case.priority, case.fault_code) == ("general", "HYD-PUMP")
    case = desk.cases.update(case.id, by="cs1", fault_code="HYD-BURST", reason="hose burst",
                             at=at(11))  # fmt: skip
    assert (case.fault_code, case.priority) == ("HYD-BURST", "urgent")
    assert case.priority_changes[-1].reason == "hose burst"
    assert fold(desk.cases.history(case.id)) == case
    assert [r.id for r in desk.storage.find_cases(CaseQuery(fault_code="HYD-BURST"))] == [case.id]
    assert desk.storage.find_cases(CaseQuery(fault_code="HYD-PUMP")) == []
    with pytest.raises(ValidationError):
        desk.cases.update(case.id, by="cs1", fault_code="bad\ncode", reason="x", at=at(12))


def test_delay_notice_is_recorded_until_the_milestone_is_met(desk: ServiceDesk) -> None:
    case = run_to(desk, "contacted")
    case = desk.cases.notify_delay(
        case.id,
        milestone="arrival",
        reason="road closed",
        new_eta=at(200),
        by="e7",
        at=at(60),
        told="Wang",
        channel="phone",
    )
    [notice] = case.delays
    assert (notice.milestone, notice.new_eta, notice.by) == ("arrival", at(200), "e7")
    assert (notice.told, notice.channel, notice.reached_at) == ("Wang", "phone", at(60))
    with pytest.raises(ValidationError, match="already met"):
        desk.cases.notify_delay(
            case.id,
            milestone="response",
            reason="x",
            new_eta=at(300),
            by="e7",
            at=at(61),
            told="Wang",
            channel="phone",
        )
    with pytest.raises(ValidationError, match="unknown milestone"):
        desk.cases.notify_delay(
            case.id,
            milestone="arival",
            reason="x",
            new_eta=at(300),
            by="e7",
            at=at(61),
            told="Wang",
            channel="phone",
        )


@pytest.fixture
def rhine(storage_url: str) -> ServiceDesk:
    desk = ServiceDesk(RULES / "rhine-pumps.policy", storage_url)
    add_team(desk)
    return desk


def test_hold_only_for_policy_reasons_and_blocks_progress(rhine: ServiceDesk) -> None:
    case = rhine.cases.report(**{**REPORT, "customer": {"name": "Rhein AG"}}, by="cs1", at=at(0))
    rhine.cases.respond(case.id, by="cs1", at=at(1))
    rhine.cases.assign(case.id, engineer="e7", by="cs1", at=at(2))
    with pytest.raises(ValidationError, match="does not allow a hold for 'lunch'"):
        rhine.cases.hold(case.id, reason="lunch", by="e7", at=at(3))
    case = rhine.cases.hold(case.id, reason="parts", by="e7", at=at(3))
    assert case.on_hold and case.holds[-1].reason == "waiting for parts"
    with pytest.raises(WorkflowError, match="on hold \\(waiting for parts\\); release it first"):
        rhine.cases.confirm(case.id, by="e7", at=at(4))
    with pytest.raises(
        WorkflowError, match="allowed now: reassign, unassign, queue, cancel, notify_delay, release"
    ):
        rhine.cases.hold(case.id, reason="customer", by="e7", at=at(4))
    case = rhine.cases.release(case.id, by="e7", at=at(60))
    assert not case.on_hold and case.holds[-1].end == at(60)
    assert rhine.cases.confirm(case.id, by="e7", at=at(61)).status == "confirmed"
    with pytest.raises(WorkflowError, match="is not on hold"):
        rhine.cases.release(case.id, by="e7", at=at(62))


def test_a_held_case_can_still_be_assigned_and_reassigned(rhine: ServiceDesk) -> None:
    """A hold pauses the clocks, not the desk (real queues assign while waiting for parts)."""
    case = rhine.cases.report(**{**REPORT, "customer": {"name": "Rhein AG"}}, by="cs1", at=at(0))
    rhine.cases.respond(case.id, by="cs1", at=at(1))
    rhine.cases.hold(case.id, reason="parts", by="cs1", at=at(2))
    case = rhine.cases.assign(case.id, engineer="e7", by="cs1", at=at(3))
    assert (case.status, case.engineer, case.on_hold) == ("assigned", "e7", True)
    case = rhine.cases.reassign(case.id, engineer="e8", reason="e7 is away", by="cs1", at=at(4))
    assert (case.engineer, case.on_hold) == ("e8", True)
    with pytest.raises(WorkflowError, match="release it first"):
        rhine.cases.confirm(case.id, by="e8", at=at(5))
    rhine.cases.release(case.id, by="e8", at=at(60))
    assert rhine.cases.confirm(case.id, by="e8", at=at(61)).status == "confirmed"
    held = [c for c in rhine.cases.sla(case.id, at(61)) if c.milestone == "response"]
    assert held and held[0].state == "met"


def test_custom_fields_are_checked_against_the_policy(rhine: ServiceDesk) -> None:
    base = {**REPORT, "customer": {"name": "Rhein AG"}}
    with pytest.raises(ValidationError, match="custom field 'flow_m3h' is number"):
        rhine.cases.report(**base, custom={"flow_m3h": "lots"}, by="cs1", at=at(0))
    case = rhine.cases.report(**base, custom={"hazardous": True}, by="cs1", at=at(0))
    assert case.priority == "critical" and case.custom == {"hazardous": True}


# ---- warranty rework ----------------------------------------------------------------------------
WARRANTY_POLICY = (
    (RULES / "default.policy")
    .read_text("utf-8")
    .replace(
        'priority urgent  when severity == "critical"',
        'priority urgent  when under_warranty or severity == "critical"',
    )
)


@pytest.fixture
def warranty_desk(storage_url: str, outbox: Outbox) -> ServiceDesk:
    desk = ServiceDesk(parse_policy(WARRANTY_POLICY, "w.policy"), storage_url, plugins=[outbox])
    add_team(desk)
    return desk


def test_repeat_fault_within_warranty_is_free_rework(
    warranty_desk: ServiceDesk, outbox: Outbox
) -> None:
    desk = warranty_desk
    original = run_to(desk, "closed", machine_down=False)
    again = desk.cases.report(
        **{**REPORT, "machine_down": False}, by="cs1", at=at(210) + timedelta(days=89)
    )
    assert again.rework_of == original.id and not again.chargeable
    assert again.priority == "urgent"  # under_warranty is true for the priority rules
    [note] = outbox.of("warranty_rework")
    assert set(note.recipients) == {"e7", "m1"} and note.data["original"] == original.number
    other_fault = desk.cases.report(
        **{**REPORT, "fault_code": "ELEC"}, by="cs1", at=at(210) + timedelta(days=1)
    )
    assert other_fault.rework_of is None and other_fault.chargeable
    late = desk.cases.report(**REPORT, by="cs1", at=at(210) + timedelta(days=91))
    assert late.rework_of is None and late.chargeable


def test_unaccepted_repair_gives_no_warranty(warranty_desk: ServiceDesk) -> None:
    run_to(warranty_desk, "repaired")
    again = warranty_desk.cases.report(**REPORT, by="cs1", at=at(500))
    assert again.rework_of is None


# ---- finding ------------------------------------------------------------------------------------
def test_find_by_status_engineer_and_time(desk: ServiceDesk) -> None:
    a = run_to(desk, "assigned")
    b = desk.cases.report(**REPORT, by="cs1", at=at(60))
    c = desk.cases.report(**REPORT, by="cs1", at=at(120))
    desk.cases.respond(c.id, by="cs1", at=at(121))
    desk.cases.assign(c.id, engineer="e8", by="cs1", at=at(122))
    assert [x.id for x in desk.cases.find()] == [a.id, b.id, c.id]
    assert [x.id for x in desk.cases.find(status="reported")] == [b.id]
    assert [x.id for x in desk.cases.find(status=["assigned", "reported"])] == [a.id, b.id, c.id]
    assert [x.id for x in desk.cases.find(engineer="e8")] == [c.id]
    assert [x.id for x in desk.cases.find(since=at(60), until=at(120))] == [b.id]
    assert [x.id for x in desk.cases.find(limit=2)] == [a.id, b.id]
    assert [x.id for x in desk.cases.open(engineer="e7")] == [a.id]


def test_find_and_report_by_team(desk: ServiceDesk) -> None:
    """Teams are the staff field: a case belongs to its engineer's team."""
    desk.staff.update("e7", by="m1", team="north", at=at(0))
    desk.staff.update("e8", by="m1", team="south", at=at(0))
    a = run_to(desk, "assigned")  # e7
    b = desk.cases.report(**REPORT, by="cs1", at=at(60))  # nobody yet
    c = desk.cases.report(**REPORT, by="cs1", at=at(120))
    desk.cases.respond(c.id, by="cs1", at=at(121))
    desk.cases.assign(c.id, engineer="e8", by="cs1", at=at(122))
    assert [x.id for x in desk.cases.find(team="north")] == [a.id]
    assert [x.id for x in desk.cases.find(team="south", status="assigned")] == [c.id]
    assert desk.cases.find(team="north", engineer="e8") == []
    assert desk.cases.find(team="west") == []
    report = desk.sla.report(at(0), at(200), group_by="team", now=at(200))
    assert {g.group for g in report.groups} == {"north", "south", "(no team)"}
    assert b.id  # unassigned: in "(no team)"


def test_staff_rules(desk: ServiceDesk) -> None:
    with pytest.raises(ConflictError, match="already a staff member 'e7'"):
        desk.staff.add(id="e7", name="Again", roles=["engineer"])
    with pytest.raises(ValidationError, match="unknown role 'wizard'"):
        desk.staff.add(id="x", name="X", roles=["wizard"])
    with pytest.raises(ValidationError, match="at least one role"):
        desk.staff.add(id="x", name="X", roles=[])
    with pytest.raises(NotFound):
        desk.staff.add(id="x", name="X", roles=["engineer"], supervisor="ghost")
    staff = desk.staff.add(
        id="d1", name="Director", roles=["director", "manager"], email="d@x", phone="1"
    )
    assert desk.staff.get("d1") == staff
    assert staff.roles == ("director", "manager")
    with pytest.raises(ValidationError, match="'chen at example' is not an e-mail address"):
        desk.staff.add(id="x", name="X", roles=["engineer"], email="chen at example")


def test_contact_details_and_team_change_by_the_member_or_a_manager(desk: ServiceDesk) -> None:
    desk.staff.add(id="e9", name="Gao", roles=["engineer"], email="gao@pumps.example",
                   team="north", at=at(0))  # fmt: skip
    moved = desk.staff.update("e9", by="m1", team="south", phone="+49 30 1234", at=at(1))
    assert (moved.team, moved.phone, moved.email) == ("south", "+49 30 1234", "gao@pumps.example")
    assert desk.staff.get("e9") == moved and moved.version == 2
    cleared = desk.staff.update("e9", by="e9", email=None, at=at(2))
    assert cleared.email is None and cleared.team == "south"
    assert desk.staff.update("e9", by="e9", team="south") == cleared  # no change, no event
    events = desk.storage.events("staff", "e9")
    assert [e["type"] for e in events] == ["staff_added", "staff_updated", "staff_updated"]
    assert (
        events[1]["data"] == {"phone": "+49 30 1234", "team": "south"} and events[1]["by"] == "m1"
    )
    with pytest.raises(PermissionDenied, match="e7 cannot change staff e9's details"):
        desk.staff.update("e9", by="e7", team="north")
    with pytest.raises(ValidationError, match="not an e-mail address"):
        desk.staff.update("e9", by="m1", email="gao@")
    assert desk.staff.get("e9") == cleared  # refused changes stored nothing


def test_desk_clock_is_the_default_time(storage_url: str) -> None:
    times = iter([T0 + timedelta(minutes=m) for m in range(100)])
    desk = ServiceDesk(RULES / "default.policy", storage_url, clock=lambda: next(times))
    add_team(desk)
    case = desk.cases.report(**REPORT, by="cs1")
    assert case.reported_at == T0  # the first tick of the clock
    naive_clock = ServiceDesk(RULES / "default.policy", clock=lambda: datetime(2026, 1, 1))
    with pytest.raises(ValidationError, match="clock"):
        naive_clock.now()


def test_the_assignment_tells_the_engineer_what_the_rules_require(storage_url: str) -> None:
    """The management system asks an assignment to state requirements, time points and
    precautions (issue 22): the deadlines still to meet, the repair's targets (its clock
    starts at the arrival), the certificates the case needs and the safety gear."""
    outbox = Outbox()
    desk = ServiceDesk(RULES / "rhine-pumps.policy", storage_url, plugins=[outbox])
    add_team(desk)
    case = desk.cases.report(**{**REPORT, "customer": {"name": "Rhein AG"}}, by="cs1", at=at(0))
    desk.cases.respond(case.id, by="cs1", at=at(1))
    desk.cases.assign(case.id, engineer="e7", by="cs1", instructions="bring the seal kit",
                      at=at(2))  # fmt: skip
    [note] = outbox.of("case_assigned")
    data = note.data
    assert data["instructions"] == "bring the seal kit"
    assert {"contact", "arrival"} <= set(data["deadlines"])
    assert all(k in data["deadlines"] for k in ("repair (simple)", "repair (complex)"))
    assert "within" in data["deadlines"]["repair (simple)"]
    # a clock that runs has its time; one that starts later (contact: after confirmed) its rule
    assert data["deadlines"]["contact"] == "contact within 4 working hours after confirmed"
    assert datetime.fromisoformat(data["deadlines"]["arrival"]) > at(2)
    assert "first aid" in data["certificates"]  # the rule without a condition
    assert "ATEX" not in data["certificates"]  # not a hazardous site
    assert desk.policy.safety is not None
    assert data["safety_gear"] == list(desk.policy.safety.ppe) != []
    assert "response" not in data["deadlines"]  # met: nothing left to do
