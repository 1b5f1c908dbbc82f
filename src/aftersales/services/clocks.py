"""The SLA clocks of a case: one per milestone its policy sets, judged by the priority and
the policy version each milestone was (or is being) met under. Pure reading; the case
workflow, the tick and the appraisal metrics all ask it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from aftersales.core.boundary import public_api
from aftersales.core.model import Case
from aftersales.core.sla import (
    Clock,
    Verdict,
    alert_times,
    clock,
    clock_state,
    judged,
    verdict,
)
from aftersales.core.workflow import FINAL
from aftersales.policy import Policy
from aftersales.policy.keywords import MILESTONES
from aftersales.ports.storage import ClockFact, utc_text
from aftersales.services.alert_plan import Alert, encode, plannable
from aftersales.services.basis import Basis


@public_api("desk.sla")
class Clocks:
    def __init__(self, basis: Basis) -> None:
        self._basis = basis

    # -- clocks -------------------------------------------------------------------------------
    def clocks(self, case: Case, now: datetime) -> list[Clock]:
        """Every milestone clock the case's policy sets for it, as it stands at ``now``.

        A milestone already met keeps the priority and policy it was met under; the others
        follow the case's current priority and policy version.
        """
        happened = {k: v for k, v in case.milestones.items() if v <= now}
        return [
            clock(
                milestone,
                priority,
                target,
                case,
                now,
                policy,
                excuse=policy.excuse is not None,
                warn_at=policy.warn_at,
                happened=happened,
            )
            for milestone, priority, target, policy in self._specs(case, happened, now)
        ]

    def taken(self, case: Case, c: Clock) -> tuple[timedelta, timedelta] | None:
        """How long a met clock took: working time (as its target counts it, under the
        policy it was met under) and clock time."""
        return self._took(case, c.starts_at, c.met_at, c.target)

    def _took(
        self, case: Case, starts_at: datetime | None, met_at: datetime | None, target: Any
    ) -> tuple[timedelta, timedelta] | None:
        if met_at is None or starts_at is None:
            return None
        policy = self._basis.policy_for(case.policy_version_at(met_at))
        calendar = target.calendar if target is not None else None
        key = (id(policy), starts_at, met_at, calendar)
        found = _TAKEN.get(key)
        if found is None or found[0] is not policy:
            if len(_TAKEN) >= 50_000:
                _TAKEN.clear()
            found = _TAKEN[key] = (policy, policy.between(starts_at, met_at, calendar))
        return found[1], met_at - starts_at

    def facts(self, case: Case) -> tuple[ClockFact, ...]:
        """The case's clocks judged at its latest action, for the SLA report (none for a
        cancelled case: the report leaves those out). Until the case's next action each
        verdict stands, or moves with time alone as :meth:`ClockFact.at` reads it."""
        if case.status == "cancelled":
            return ()
        now = case.updated_at
        happened = {k: v for k, v in case.milestones.items() if v <= now}
        return tuple(
            self._fact(case, milestone, priority, target, verdict(
                milestone, target, case, now, policy, excuse=policy.excuse is not None,
                happened=happened))
            for milestone, priority, target, policy in self._specs(case, happened, now)
        )  # fmt: skip

    def _fact(
        self, case: Case, milestone: str, priority: str, target: Any, read: Verdict
    ) -> ClockFact:
        """The fact the store keeps of one clock's verdict."""
        state, starts_at, met_at, due, overrun, excused, moving = read
        if moving and due is not None:
            until = None if excused is None else utc_text(excused)
            return ClockFact(milestone, priority, "running", due=utc_text(due), excused_until=until)
        taken = self._took(case, starts_at, met_at, target)
        return ClockFact(
            milestone, priority, state,
            None if taken is None else taken[0].total_seconds(),
            None if taken is None else taken[1].total_seconds(),
            overrun.total_seconds() if overrun else None,
        )  # fmt: skip

    def alerts(self, case: Case, now: datetime) -> list[Alert]:
        """Every alert the case's started clocks raise as they stand at ``now``, sent or not,
        in the order a tick raises them: a callback clock's start, then each clock's warning
        levels and its breach (none once met or ended; none for a finished case)."""
        if case.status in FINAL:
            return []
        found: list[Alert] = []
        happened = {k: v for k, v in case.milestones.items() if v <= now}
        for milestone, priority, target, policy in self._specs(case, happened, now):
            if target is None or target.after not in happened:
                continue  # not started: the action that starts it plans the case again
            starts_at, deadline, times = alert_times(
                milestone, target, case, now, policy, excuse=policy.excuse is not None,
                warn_at=policy.warn_at, happened=happened,
            )  # fmt: skip
            found += _alerts_of(milestone, priority, target, starts_at, deadline, times)
        return found

    def alert_plan(self, case: Case) -> tuple[str | None, str | None]:
        """When a tick should first look at the case after its latest action, and its alert
        plan (:mod:`.alert_plan`); no plan where its alerts may still move without an action
        (a case on hold): the tick looks at once and reads the case."""
        now = case.updated_at
        if case.status in FINAL:
            return None, None
        if not plannable(case, now):
            return utc_text(now), None
        return _planned(case, now, self.alerts(case, now))

    def judgement(self, case: Case) -> tuple[tuple[ClockFact, ...], str | None, str | None]:
        """:meth:`facts` and :meth:`alert_plan` from one reading of each clock: what the
        workflow writes with every action."""
        now = case.updated_at
        if not plannable(case, now):  # finished or on hold: no alerts to work out
            return (self.facts(case), *self.alert_plan(case))
        happened = {k: v for k, v in case.milestones.items() if v <= now}
        facts: list[ClockFact] = []
        alerts: list[Alert] = []
        for milestone, priority, target, policy in self._specs(case, happened, now):
            found, deadline, times = judged(
                milestone, target, case, now, policy, excuse=policy.excuse is not None,
                warn_at=policy.warn_at, happened=happened)  # fmt: skip
            facts.append(self._fact(case, milestone, priority, target, found))
            if target is not None and target.after in happened:
                alerts += _alerts_of(milestone, priority, target, found[1], deadline, times)
        return (tuple(facts), *_planned(case, now, alerts))

    def states(self, case: Case, now: datetime) -> dict[str, str]:
        """Each milestone's clock state at ``now`` (see ``core.sla.clock_state``)."""
        happened = {k: v for k, v in case.milestones.items() if v <= now}
        return {
            milestone: clock_state(milestone, target, case, now, policy,
                                   excuse=policy.excuse is not None, happened=happened)
            for milestone, _, target, policy in self._specs(case, happened, now)
        }  # fmt: skip

    def _specs(
        self, case: Case, happened: dict[str, datetime], now: datetime
    ) -> Iterator[tuple[str, str, Any, Policy]]:
        """Each milestone the case's policy sets, with the priority, target and policy that
        judge it."""
        complexity = case.diagnosis.complexity if case.diagnosis else None
        changes = case.priority_changes or case.policy_changes
        if not changes:  # the common case: one policy and priority for every milestone
            policy = self._basis.policies.rules(case)
            yield from _plain_specs(policy, case.priority, complexity)
            return
        current = self._basis.policies.rules(case)
        for milestone in MILESTONES:
            event = _MET_EVENT[milestone]
            if milestone == "repair" and current.repair_met_when == "completed":
                event = "repaired"
            met = happened.get(event)
            when = met if met is not None else now
            policy = self._basis.policy_for(case.policy_version_at(when))
            priority = case.priority_at(when)
            target = _targets(policy, priority, complexity).get(milestone)
            if target is None and not (milestone == "repair" and _has_repair(policy, priority)):
                continue
            yield milestone, priority, target, policy


def _alerts_of(
    milestone: str,
    priority: str,
    target: Any,
    starts_at: datetime | None,
    deadline: datetime | None,
    times: dict[str, datetime],
) -> list[Alert]:
    """The alerts of one started clock: a callback clock's start, its warning levels and
    its breach, in that order."""
    due = None if deadline is None else deadline.isoformat()
    where = (milestone, priority, str(target), target.location, due)
    found = []
    if milestone == "callback" and starts_at is not None:
        found.append(Alert(starts_at, "callback:start", "callback_due", None, *where))
    for level, at in times.items():
        kind = "sla_breach" if level == "breach" else "sla_warning"
        found.append(Alert(at, f"{milestone}:{level}", kind, level, *where))
    return found


def _planned(case: Case, now: datetime, alerts: list[Alert]) -> tuple[str | None, str]:
    """The first alert's time (UTC text; None when there is none) and the plan."""
    first = min((a.at for a in alerts), default=None)
    return (None if first is None else utc_text(first)), encode(case, now, alerts)


_MET_EVENT = {
    "response": "responded",
    "assignment": "assigned",
    "contact": "contacted",
    "arrival": "arrived",
    "repair": "accepted",  # the repair the customer signs
    "callback": "followed_up",
    "close": "closed",
}


_TARGETS: dict[tuple[int, str, str | None], dict[str, Any]] = {}

# the working time a met clock took, remembered: each later action of the case asks again
_TAKEN: dict[tuple[int, datetime, datetime, str | None], tuple[Policy, timedelta]] = {}


def _targets(policy: Policy, priority: str, complexity: str | None) -> dict[str, Any]:
    """``policy.targets_for`` memoised: a tick asks it five times per case."""
    key = (id(policy), priority, complexity)
    found = _TARGETS.get(key)
    if found is None or found.get("__policy__") is not policy:
        found = {**policy.targets_for(priority, complexity), "__policy__": policy}
        _TARGETS[key] = found
    return found


_SPECS: dict[tuple[int, str, str | None], tuple[Policy, list[tuple[str, str, Any, Policy]]]] = {}


def _plain_specs(
    policy: Policy, priority: str, complexity: str | None
) -> list[tuple[str, str, Any, Policy]]:
    """The milestone specs of a case whose priority and policy never changed, memoised."""
    key = (id(policy), priority, complexity)
    found = _SPECS.get(key)
    if found is not None and found[0] is policy:
        return found[1]
    targets = policy.targets_for(priority, complexity)
    specs = [
        (milestone, priority, targets.get(milestone), policy)
        for milestone in MILESTONES
        if targets.get(milestone) is not None
        or (milestone == "repair" and _has_repair(policy, priority))
    ]
    _SPECS[key] = (policy, specs)
    return specs


def _has_repair(policy: Policy, priority: str) -> bool:
    return bool(policy.sla(priority).repair or policy.repair)


__all__ = ["Clocks"]
