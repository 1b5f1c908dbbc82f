"""The case state machine: which action is allowed in which state, and how events fold.

``reported -> responded -> assigned -> confirmed -> contacted -> on_site -> diagnosed ->
repaired -> accepted -> followed_up -> closed``; ``reject`` sends a repaired case back to
``diagnosed`` (repaired again until the customer is satisfied), ``reassign`` sends it back
to ``assigned`` for the new engineer (after the repair it only changes who presents it),
``unassign`` sends a case in the engineer's hands back to ``responded`` with nobody on it
(to be assigned again), ``queue`` puts a case in a team's queue (out of a person's hands, if
it was in them) and ``take`` gives it to a member of that team who takes it, ``resolve``
(where the policy opens it: ``resolve remotely by``) repairs a case before anyone is on
site, ``cancel`` ends any case that is not closed, and ``reopen`` (where the policy opens
it: ``reopen within``) sends a closed case back to its engineer. A policy opens steps from
more states through ``also`` (``callback optional``: ``close`` from ``accepted``).
``notify_delay``, ``hold``/``release``, ``update`` and ``checklist`` (the engineer's safety
checklist) do not move a case.

A case on hold takes no step forward until it is released (``assign``, ``reassign``,
``cancel``, ``update`` and ``notify_delay`` still apply: a hold pauses the clocks, it does not
keep the desk from deciding who takes the case).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import attrs

from aftersales.core.convert import from_dict
from aftersales.core.errors import WorkflowError
from aftersales.core.installed_base import case_parts
from aftersales.core.model import (
    Acceptance,
    Case,
    CaseEvent,
    Customer,
    DelayNotice,
    Diagnosis,
    FollowUp,
    Handover,
    Hold,
    PartUse,
    PolicyChange,
    PriorityChange,
    Product,
    Rejection,
    Reopening,
    RepairReport,
    SafetyCheck,
    SurveyAnswer,
)

STATUSES = (
    "reported",
    "responded",
    "assigned",
    "confirmed",
    "contacted",
    "on_site",
    "diagnosed",
    "repaired",
    "accepted",
    "followed_up",
    "closed",
    "cancelled",
)
FINAL = frozenset({"closed", "cancelled"})
OPEN = tuple(s for s in STATUSES if s not in FINAL)
_WORKING = ("assigned", "confirmed", "contacted", "on_site", "diagnosed")
REMOTE_FROM = ("reported", "responded", "assigned", "confirmed", "contacted")
"""The states a case can be resolved without a visit from (``resolve remotely by``)."""


@attrs.frozen
class Step:
    """One action of the desk: the event it records, where it may start, where it leads."""

    action: str
    event: str
    sources: tuple[str, ...]
    target: str | None  # None: the status does not change
    while_held: bool = False  # allowed while the case is on hold
    listed: bool = True  # named among "allowed now" (operator steps are not)


STEPS: dict[str, Step] = {
    s.action: s
    for s in (
        Step("respond", "responded", ("reported",), "responded"),
        # a hold pauses the clocks, not the desk: who takes the case can still be decided
        Step("assign", "assigned", ("responded",), "assigned", while_held=True),
        # after the repair too: another engineer presents it (the status stays)
        Step(
            "reassign",
            "reassigned",
            (*_WORKING, "repaired", "accepted"),
            "assigned",
            while_held=True,
        ),
        # back to the queue: nobody has the case until it is assigned again
        Step("unassign", "unassigned", _WORKING, "responded", while_held=True),
        # a member of the team the case is queued for takes it: an assignment to oneself
        Step("take", "assigned", ("responded",), "assigned", while_held=True),
        # to a team's queue: from nobody's hands, or out of a person's (hand-over between teams)
        Step("queue", "queued", ("reported", "responded", *_WORKING), None, while_held=True),
        Step("confirm", "confirmed", ("assigned",), "confirmed"),
        Step("contact", "contacted", ("confirmed",), "contacted"),
        Step("arrive", "arrived", ("contacted",), "on_site"),
        Step("checklist", "safety_checked", _WORKING, None),
        Step("diagnose", "diagnosed", ("on_site",), "diagnosed"),
        Step("complete", "repaired", ("diagnosed",), "repaired"),
        # solved without a visit; from no state unless the policy opens it (``resolve
        # remotely by``: from every state before the engineer is on site)
        Step("resolve", "resolved", (), "repaired"),
        Step("accept", "accepted", ("repaired",), "accepted"),
        Step("reject", "rejected", ("repaired",), "diagnosed"),
        Step("follow_up", "followed_up", ("accepted",), "followed_up"),
        Step("close", "closed", ("followed_up",), "closed"),
        Step("cancel", "cancelled", OPEN, "cancelled", while_held=True),
        # back to work: the engineer who had it (or the queue, if nobody had it); from no
        # state unless the policy opens it (``reopen within``: from ``closed``)
        Step("reopen", "reopened", (), None),
        Step("notify_delay", "delay_notified", OPEN, None, while_held=True),
        # a delay notice sent as a message reached the customer (the outbox's receipt)
        Step("notice_delivered", "notice_delivered", STATUSES, None, while_held=True, listed=False),
        # the engineer sets off to the customer's site (the customer may be told)
        Step("on_the_way", "departed", ("contacted",), None),
        # the customer answered the survey link (a signed token, not a person of the desk)
        Step(
            "answer_survey",
            "surveyed",
            ("accepted", "followed_up", "closed"),
            None,
            while_held=True,
            listed=False,
        ),
        Step("hold", "held", OPEN[:8], None),
        Step("release", "released", OPEN[:8], None, while_held=True),
        Step("update", "updated", OPEN, None, while_held=True),
        Step("reapply_policy", "policy_reapplied", OPEN, None, while_held=True, listed=False),
    )
}
"""Every action but ``report`` (which creates the case), by name."""

_EVENT_TARGET = {s.event: s.target for s in STEPS.values() if s.target is not None}


def allowed_actions(case: Case, also: Mapping[str, tuple[str, ...]] | None = None) -> list[str]:
    """The actions the case's state allows, in lifecycle order. ``also`` adds the states a
    policy opens an action from (``callback optional``: ``close`` from ``accepted``)."""
    extra = also or {}
    return [step.action for step in STEPS.values() if _allows(case, step, extra)]


def _allows(case: Case, step: Step, extra: Mapping[str, tuple[str, ...]]) -> bool:
    held = case.on_hold
    return (
        (case.status in step.sources or case.status in extra.get(step.action, ()))
        and step.listed
        and (step.while_held or not held)
        and (step.action != "release" or held)
        and (step.action != "take" or case.team is not None)  # taken from a team's queue
    )


def check_allowed(
    case: Case, action: str, also: Mapping[str, tuple[str, ...]] | None = None
) -> Step:
    """The step for ``action``; WorkflowError naming the state and what it allows if not."""
    step = STEPS[action]
    if _allows(case, step, also or {}) or (not step.listed and case.status in step.sources):
        return step
    allowed = allowed_actions(case, also)
    state = f"{case.status} (on hold)" if case.on_hold else case.status
    if action == "release" and not case.on_hold:
        problem = f"case {case.number} is not on hold"
    elif case.on_hold and case.status in step.sources:
        problem = f"case {case.number} is on hold ({case.holds[-1].reason}); release it first"
    else:
        problem = f"cannot {action.replace('_', ' ')} case {case.number}: it is {state}"
    allowed_text = ", ".join(allowed) if allowed else "none (the case is finished)"
    raise WorkflowError(f"{problem}; allowed now: {allowed_text}")


# ---- folding events into a case ------------------------------------------------------------
def _time(value: Any) -> datetime:
    return from_dict(datetime, value)


def _parts_used(data: Mapping[str, Any]) -> tuple[PartUse, ...]:
    """The parts a repair event says it used."""
    return tuple(
        PartUse(p["sku"], p.get("quantity", 1), tuple(p.get("serials", ())))
        for p in data.get("parts_used", ())
    )


def _first(case: Case, name: str, at: datetime) -> dict[str, datetime]:
    milestones = dict(case.milestones)
    milestones.setdefault(name, at)
    return milestones


def start(event: CaseEvent) -> Case:
    """The case a ``reported`` event creates."""
    d = event.data
    return Case(
        id=event.case_id,
        number=d["number"],
        status="reported",
        priority=d["priority"],
        priority_location=d["priority_location"],
        policy_version=d["policy_version"],
        customer=from_dict(Customer, d["customer"]),
        product=from_dict(Product, d["product"]),
        fault=d["fault"],
        fault_code=d.get("fault_code"),
        severity=d["severity"],
        machine_down=d["machine_down"],
        channel=d["channel"],
        contact=d.get("contact"),
        reported_by=event.by,
        updated_at=event.at,
        custom=d.get("custom") or {},
        version=event.version,
        milestones={"reported": event.at},
        rework_of=d.get("rework_of"),
        chargeable=d.get("chargeable", True),
        **case_parts(d),
    )


def apply(case: Case, event: CaseEvent) -> Case:
    """``case`` after ``event``. Pure: the same events always fold to the same case."""
    if event.version != case.version + 1:
        raise WorkflowError(
            f"event {event.version} of case {case.id} does not follow version {case.version}"
        )
    d, at, by, kind = event.data, event.at, event.by, event.type
    changes: dict[str, Any] = {"version": event.version, "updated_at": at}
    step_target = _EVENT_TARGET.get(kind)
    if step_target is not None:
        changes["status"] = step_target
    if kind in ("responded", "assigned", "confirmed", "contacted", "arrived", "diagnosed"):
        changes["milestones"] = _first(case, kind, at)
    if kind in ("assigned", "reassigned"):
        handover = Handover(d["engineer"], at, by, d.get("instructions"), d.get("reason"))
        changes["engineer"] = d["engineer"]
        changes["handovers"] = (*case.handovers, handover)
        changes["team"] = d.get("team") or case.team
        if kind == "reassigned" and case.status in ("repaired", "accepted"):
            changes["status"] = case.status  # the repair is done: only who answers for it
    elif kind == "queued":
        changes["team"] = d["team"]
        if case.engineer is not None:  # out of a person's hands, into the team's queue
            changes["engineer"] = changes["appointment"] = None
            changes["status"] = "responded"
    elif kind == "resolved":
        changes["repair"] = RepairReport(
            d.get("cause") or "", d["actions"], d["result"], by, at, _parts_used(d), d["way"]
        )
        milestones = _first(case, "responded", at)  # solved on the call: answered too
        milestones["repaired"] = at
        changes["milestones"] = milestones
    elif kind == "reopened":
        changes["status"] = "assigned" if case.engineer else "responded"
        changes["reopenings"] = (*case.reopenings, Reopening(d["reason"], at, by))
        changes["repair"] = changes["acceptance"] = changes["follow_up"] = None
        changes["survey"] = None  # the repair is asked about again at the next close
        gone = ("repaired", "accepted", "followed_up", "closed")
        changes["milestones"] = {k: v for k, v in case.milestones.items() if k not in gone}
    elif kind == "unassigned":
        changes["engineer"] = None
        changes["appointment"] = None  # agreed by the engineer who no longer has the case
    elif kind == "contacted":
        appointment = d.get("appointment")
        changes["appointment"] = None if appointment is None else _time(appointment)
    elif kind == "diagnosed":
        changes["diagnosis"] = Diagnosis(d["cause"], d["complexity"], at, by)
    elif kind == "repaired":
        cause = d.get("cause") or (case.diagnosis.cause if case.diagnosis else "")
        changes["repair"] = RepairReport(cause, d["actions"], d["result"], by, at, _parts_used(d))
        changes["milestones"] = {**case.milestones, "repaired": at}
    elif kind == "accepted":
        changes["acceptance"] = Acceptance(d["signed_by"], at, by, d.get("signature"))
        changes["milestones"] = {**case.milestones, "accepted": at}
    elif kind == "rejected":
        changes["rejections"] = (*case.rejections, Rejection(d["signed_by"], d["reason"], at, by))
        changes["repair"] = None
        if case.resolved_remotely:  # not fixed from afar: someone goes on site after all
            changes["status"] = "assigned" if case.engineer else "responded"
        changes["milestones"] = {k: v for k, v in case.milestones.items() if k != "repaired"}
    elif kind == "followed_up":
        changes["follow_up"] = FollowUp(d["satisfaction"], at, by, d.get("comments"))
        changes["milestones"] = _first(case, kind, at)
    elif kind in ("closed", "cancelled"):
        changes["milestones"] = _first(case, kind, at)
        if kind == "cancelled":
            changes["cancel_reason"] = d["reason"]
    elif kind == "delay_notified":
        notice = DelayNotice(d["milestone"], d["reason"], _time(d["new_eta"]), at, by)
        if "channel" in d:  # recorded since notices have to reach the customer to count
            sent = d["channel"] == "message"
            notice = attrs.evolve(notice, channel=d["channel"], told=d.get("told"),
                                  reached_at=None if sent else at)  # fmt: skip
        changes["delays"] = (*case.delays, notice)
    elif kind == "notice_delivered":
        index = d["notice"]
        notice = case.delays[index]
        if notice.reached_at is None:  # the first receipt is when it reached them
            delays = list(case.delays)
            delays[index] = attrs.evolve(notice, reached_at=_time(d["at"]), via=d["via"])
            changes["delays"] = tuple(delays)
    elif kind == "surveyed":
        changes["survey"] = SurveyAnswer(d["satisfaction"], at, d["nonce"], d.get("comments"))
    elif kind == "safety_checked":
        changes["safety_checks"] = (*case.safety_checks, SafetyCheck(d["items"], at, by))
    elif kind == "held":
        changes["holds"] = (*case.holds, Hold(d["reason"], at, by))
    elif kind == "released":
        last = attrs.evolve(case.holds[-1], end=at, released_by=by)
        changes["holds"] = (*case.holds[:-1], last)
    elif kind == "policy_reapplied":
        reapplied = PolicyChange(case.policy_version, d["policy_version"], at, by, d["reason"])
        changes["policy_version"] = d["policy_version"]
        changes["policy_changes"] = (*case.policy_changes, reapplied)
        if d["priority"] != case.priority:
            changes["priority"] = d["priority"]
            changes["priority_location"] = d["priority_location"]
            changes["priority_changes"] = (
                *case.priority_changes,
                PriorityChange(
                    case.priority, d["priority"], d["priority_location"], at, d["reason"]
                ),
            )
    elif kind == "updated":
        for name in ("severity", "machine_down", "fault_code"):
            if name in d["changes"]:
                changes[name] = d["changes"][name]
        if "product" in d["changes"]:
            changes["product"] = from_dict(Product, d["changes"]["product"])
        if "rework_of" in d:
            changes["rework_of"] = d["rework_of"]
            changes["chargeable"] = d["chargeable"]
        changes.update(case_parts(d))
        if "custom" in d["changes"]:
            changes["custom"] = {**case.custom, **d["changes"]["custom"]}
        if d.get("priority") and d["priority"] != case.priority:
            change = PriorityChange(
                case.priority, d["priority"], d["priority_location"], at, d["reason"]
            )
            changes["priority"] = d["priority"]
            changes["priority_location"] = d["priority_location"]
            changes["priority_changes"] = (*case.priority_changes, change)
    elif kind not in ("responded", "confirmed", "arrived", "closed", "departed"):
        raise WorkflowError(f"unknown event type {kind!r} in case {case.id}")
    return attrs.evolve(case, **changes)


def fold(events: Iterable[CaseEvent]) -> Case:
    """The case its events make, from the ``reported`` one on."""
    iterator = iter(events)
    first = next(iterator, None)
    if first is None or first.type != "reported":
        raise WorkflowError("a case's history must start with its report")
    case = start(first)
    for event in iterator:
        case = apply(case, event)
    return case


__all__ = [
    "FINAL",
    "OPEN",
    "REMOTE_FROM",
    "STATUSES",
    "STEPS",
    "Step",
    "allowed_actions",
    "apply",
    "check_allowed",
    "fold",
    "start",
]
