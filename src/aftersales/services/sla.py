"""``desk.sla``: the tick that warns and reports breaches, the reminders it runs, and the SLA
report. The clocks themselves are :mod:`.clocks`, below the case workflow.

A tick looks only at cases whose ``next_alert_at`` has come: every action works out the
instants the case's clocks will cross a warning level or their deadline (its alert plan,
:mod:`.alert_plan`, kept in the index row) and sets it to the first; the tick sends what has
come due from the plan without reading the case, and sets it to the next. A case whose
alerts can move without an action (on hold) has no plan: the tick looks at it at once and
reads it, as it reads every case on a store that keeps no plans. Each alert is recorded
under its case and key (``response:warn:80``, ``arrival:breach``, ``callback:start``) in the
same transaction that decides it, so two desks ticking one store, or a desk restarted, send
it once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any

import attrs

from aftersales.core.boundary import public_api
from aftersales.core.errors import NotFound, ValidationError
from aftersales.core.model import Case, Notification
from aftersales.core.quantiles import median, p90
from aftersales.core.sla import Clock
from aftersales.core.values import shown
from aftersales.policy.keywords import MILESTONES
from aftersales.ports.storage import (
    CaseQuery,
    DueCase,
    FactGroup,
    OutboxItem,
    SentNotification,
    Storage,
    Transaction,
    utc_text,
)
from aftersales.services import alert_plan
from aftersales.services.alert_plan import Addressee, Alert, next_at
from aftersales.services.basis import Basis
from aftersales.services.case_book import KIND, CaseBook
from aftersales.services.clocks import Clocks
from aftersales.services.notifications import (
    CROSSED_RETRIES,
    Crossed,
    NotificationService,
    record_once,
)
from aftersales.services.staff import StaffDirectory

logger = logging.getLogger("aftersales")
GROUPS = ("priority", "milestone", "engineer", "team", "customer")
_BATCH = 2000  # cases per tick transaction


@attrs.frozen
class GroupReport:
    """SLA figures for one group of clocks (one priority, milestone, engineer or customer)."""

    group: str
    clocks: int
    met: int
    breached: int
    excused: int
    open: int  # still pending, running or at risk at the end of the period
    met_rate: float | None  # met / (met + breached + excused)
    breach_rate: float | None
    excused_rate: float | None
    median_working: timedelta | None  # time from start to met, working time
    p90_working: timedelta | None
    median_clock: timedelta | None  # the same in clock time
    p90_clock: timedelta | None
    worst: tuple[tuple[str, str, timedelta], ...]  # (case number, milestone, overrun)
    not_applicable: int = 0  # ended before they were due: neither met nor breached


@attrs.frozen
class SlaReport:
    since: datetime
    until: datetime
    group_by: str
    groups: tuple[GroupReport, ...]
    total: GroupReport
    repair_met_when: str = "accepted"  # the desk's policy: what meets a repair clock
    read_at: datetime | None = None  # when the clocks were read


Reminder = Callable[[datetime], list[Notification]]
"""A job the tick runs after the SLA alerts: a service's reminders due by the given time."""


@public_api("desk.sla")
class SlaService(Clocks):
    """The clocks of :class:`Clocks`, the tick that sends their alerts and the reminders of
    the services below it, and the SLA report."""

    def __init__(
        self,
        basis: Basis,
        *,
        cases: CaseBook,
        notifications: NotificationService,
        staff: StaffDirectory,
        reminders: Sequence[Reminder] = (),
    ) -> None:
        super().__init__(basis)
        self._cases = cases
        self._notifications = notifications
        self._staff = staff
        self._reminders = tuple(reminders)
        self._manager_ids: list[str] | None = None

    # -- the tick -----------------------------------------------------------------------------
    def tick(self, now: datetime | None = None) -> list[Notification]:
        """Send every SLA warning and breach due by ``now`` that was not sent before, and
        ``callback_due`` when a callback clock starts; retry outbox deliveries that are due.
        Returns the notifications this call decided."""
        when = self._basis.at(now)
        sent: list[Notification] = []
        self._manager_ids = None
        self._notifications.deliver_due(when)  # retries first: they waited longest
        storage = self._basis.storage
        stamp = utc_text(when)
        crossed = 0
        while True:
            try:
                due, batch, items = self._decide_batch(storage, when, stamp)
            except Crossed:
                crossed += 1
                if crossed > CROSSED_RETRIES:
                    raise
                continue
            self._notifications.deliver(items, when)
            sent += batch
            if due < _BATCH:
                break
        # the cron job that ticks also sends the reminders: stocktakes, certificates, tools
        for remind in self._reminders:
            sent += remind(when)
        return sent

    def _decide_batch(
        self, storage: Storage, when: datetime, stamp: str
    ) -> tuple[int, list[Notification], list[OutboxItem]]:
        """Decide, record and queue the alerts of one batch of due cases, in one transaction:
        how many cases were due, the notifications, and their outbox items."""
        batch: list[Notification] = []
        with storage.transaction() as tx:
            # the due cases are this transaction's: another desk ticking now skips them (or,
            # on a store with one writer at a time, waits for this one to end)
            due = self._due(tx, storage, stamp)
            sent_keys = tx.sent_keys([d.id for d in due])
            records: list[SentNotification] = []
            moments: list[tuple[str, str | None]] = []  # the plan kept as stored
            planned: list[tuple[str, str | None, str | None]] = []  # a plan made or dropped
            for one in due:
                sent = sent_keys.get(one.id, set())
                to, alerts, plan = self._planned(tx, one, when, stamp)
                for alert in alerts:
                    if alert.at <= when and alert.key not in sent:
                        records.append(SentNotification(to.case_id, alert.key, stamp, {}))
                        batch.append(self._note(alert, to))
                upcoming = next_at(alerts, when, sent)
                look = None if upcoming is None else utc_text(upcoming)
                if plan is not None and plan is one.plan:
                    moments.append((to.case_id, look))
                else:
                    planned.append((to.case_id, look, plan))
            record_once(tx, records)  # or undone, if another desk recorded some meanwhile
            tx.set_next_alert(moments)
            if planned:
                tx.set_alert_plans(planned)
            items = self._notifications.stage(batch, when)
            tx.enqueue(items)
        return len(due), batch, items

    def _due(self, tx: Transaction, storage: Storage, stamp: str) -> list[DueCase]:
        """The cases whose next alert has come, a batch, held for this transaction: each
        with its alert plan or, where it has none, its snapshot."""
        due = tx.due_plans(stamp, _BATCH)
        if due is not None:
            return due
        records = tx.due_cases(stamp, _BATCH)
        if records is None:
            records = storage.find_cases(CaseQuery(alert_due=stamp, limit=_BATCH))
        return [DueCase(r.id, None, r) for r in records]

    def _planned(
        self, tx: Transaction, due: DueCase, when: datetime, stamp: str
    ) -> tuple[Addressee, list[Alert], str | None]:
        """Whom the case's notifications name, its alerts, and the plan to keep for the next
        tick: the stored plan when it was made by ``when`` (the case is not read), else the
        alerts worked out from the case (and a new plan, when they cannot move before its
        next action)."""
        if due.plan is not None:
            made, to, alerts = alert_plan.decode(due.id, due.plan)
            if made <= stamp:
                return to, alerts, due.plan
        record = due.record or tx.get(KIND, due.id)
        if record is None:  # pragma: no cover - a store never drops a case it indexes
            raise NotFound(f"no case {shown(due.id)}")
        case = self._cases.decode(record)
        alerts = self.alerts(case, when)
        plan = alert_plan.encode(case, when, alerts) if alert_plan.plannable(case, when) else None
        return Addressee.of(case), alerts, plan

    def _note(self, alert: Alert, to: Addressee) -> Notification:
        """The notification of one alert of a case."""
        kind, milestone = alert.kind, alert.milestone
        recipients = [to.engineer, to.reported_by]
        if kind == "sla_breach":
            recipients += self._managers()
        if kind == "callback_due":
            recipients = [to.reported_by]
        if kind == "sla_warning":
            level = str(alert.level).removeprefix("warn:")
            what = f"{milestone} of {to.number} is {level}% through its time"
        elif kind == "sla_breach":
            what = f"{milestone} of {to.number} missed its deadline"
        else:
            what = f"call {to.customer} back about {to.number}"
        data = {
            "number": to.number,
            "priority": alert.priority,
            "milestone": milestone,
            "level": alert.level,
            "due": alert.due,
            "target": alert.target,
            "rule": alert.rule,
        }
        unique = tuple(dict.fromkeys(r for r in recipients if r))
        return Notification(kind, to.case_id, unique, f"{what} (due {alert.due})", data, alert.at)

    def _managers(self) -> list[str]:
        """The active managers, read once per tick."""
        if self._manager_ids is None:
            self._manager_ids = self._staff.with_role("manager")
        return self._manager_ids

    # -- reports ------------------------------------------------------------------------------
    def report(
        self,
        since: datetime,
        until: datetime,
        group_by: str = "priority",
        *,
        now: datetime | None = None,
    ) -> SlaReport:
        """SLA figures for the cases reported in ``[since, until)``, their clocks read at
        ``now`` (default: ``until`` once it has passed, else the desk's clock: a period not
        over yet is read as it stands, not at a future moment that would call deadlines
        still ahead missed), grouped by priority, milestone, engineer, team or customer.
        ``read_at`` on the report says when the clocks were read."""
        if group_by not in GROUPS:
            raise ValidationError(
                f"group_by must be one of {', '.join(GROUPS)}, not {shown(group_by)}"
            )
        start, end = self._basis.at(since), self._basis.at(until)
        when = self._basis.at(now) if now is not None else min(end, self._basis.now())
        if end <= start:
            raise ValidationError("until must be later than since")
        teams = {s.id: s.team for s in self._staff.list(active=None)} if group_by == "team" else {}

        def key_of(values: dict[str, Any]) -> str:
            """The group of a clock with these ``priority``, ``milestone``, ``engineer``,
            ``team``, ``customer`` (only the ones the grouping reads need be there)."""
            if group_by == "engineer":
                return str(values["engineer"] or "(unassigned)")
            if group_by == "team":
                engineer = values["engineer"]
                found = teams.get(engineer) if engineer else None
                return str(found or values["team"] or "(no team)")
            return str(values[group_by])

        # each group's figures, summed as read (counts, times taken: 8 bytes a clock, five
        # worst overruns), whether the store summed them or the clocks were read here
        groups: dict[str, FactGroup] = {}
        total = FactGroup(())
        storage = self._basis.storage

        def tally(key: str) -> FactGroup:
            return groups.get(key) or groups.setdefault(key, FactGroup((key,)))

        def count(case: Case, c: Clock) -> None:
            """A clock read from its case."""
            key = key_of({"priority": c.priority, "milestone": c.milestone,
                          "engineer": case.engineer, "team": case.team,
                          "customer": case.customer.name})  # fmt: skip
            taken = self.taken(case, c)
            working, clock = (None, None) if taken is None else (
                taken[0].total_seconds(), taken[1].total_seconds())  # fmt: skip
            late = c.overrun.total_seconds() if c.state == "breached" and c.overrun else None
            reported = utc_text(case.reported_at)
            for t in (tally(key), total):
                t.count(c.state, working, clock, late, reported, case.number, c.milestone)

        # the cases judged by `now` (their latest action came before it): their clocks'
        # verdicts, kept by the store with each action; the final ones summed by the store
        # per group (no case decoded)
        since_text, until_text, now_text = utc_text(start), utc_text(end), utc_text(when)
        columns = ("engineer", "team") if group_by == "team" else (group_by,)
        facts = storage.clock_fact_groups(since_text, until_text, now_text, columns)
        for fact_group in facts or ():
            key = key_of(dict(zip(columns, fact_group.key, strict=True)))
            tally(key).merge(fact_group)
            total.merge(fact_group)
        # their running clocks, read at `now` from their deadlines; one past its deadline
        # and not excused is judged from its case (how late it is is measured on the
        # target's calendar)
        late: dict[str, set[str]] = {}
        running = storage.clock_facts(since_text, until_text, now_text, running=True)
        for row in running or ():
            state = row.fact.at(now_text)
            if state == "breached":
                late.setdefault(row.number, set()).add(row.fact.milestone)
                continue
            key = key_of({"priority": row.fact.priority, "milestone": row.fact.milestone,
                          "engineer": row.engineer, "team": row.team,
                          "customer": row.customer})  # fmt: skip
            for t in (tally(key), total):
                t.count(state, None, None, None, row.reported_at, row.number,
                        row.fact.milestone)  # fmt: skip
        for number, milestones in late.items():
            for record in storage.find_cases(CaseQuery(number=number)):
                case = self._cases.decode(record, keep=False)
                for c in self.clocks(case, when):
                    if c.milestone in milestones:
                        count(case, c)
        # the others (acted on after `now`, or stored before the store kept facts): read and
        # judged, a slice of report time at a time, tallied as read
        unjudged = None if facts is None else now_text
        for case in self._cases_reported(start, end, unjudged):
            if case.status == "cancelled":
                continue
            for c in self.clocks(case, when):
                count(case, c)
        order = list(MILESTONES) if group_by == "milestone" else sorted(groups)
        reports = tuple(_report(key, groups[key]) for key in order if key in groups)
        met_when = self._basis.policy.repair_met_when
        return SlaReport(start, end, group_by, reports, _report("all", total), met_when, when)

    def _cases_reported(
        self, start: datetime, end: datetime, unjudged_by: str | None
    ) -> Iterator[Case]:
        """The cases reported in ``[start, end)`` (only those the clock facts do not cover
        at ``unjudged_by``, if given), oldest first, read a page at a time (memory holds a
        page of cases, not the period's)."""
        query = CaseQuery(since=utc_text(start), until=utc_text(end), unjudged_by=unjudged_by)
        return self._cases.matching(query)


def _report(name: str, group: FactGroup) -> GroupReport:
    """One group's figures: counts, rates, the median and 90th percentile times taken, and
    the five worst overruns."""
    states = group.states
    met, breached = states.get("met", 0), states.get("breached", 0)
    excused, inapplicable = states.get("excused", 0), states.get("not_applicable", 0)
    decided = met + breached + excused
    clocks = sum(states.values())

    def rate(n: int) -> float | None:
        return None if decided == 0 else n / decided

    def seconds(value: float | None) -> timedelta | None:
        return None if value is None else timedelta(seconds=value)

    working, clock = group.working, group.clock
    worst = tuple((n, m, timedelta(seconds=o)) for o, _, n, m in group.worst)
    return GroupReport(
        name, clocks, met, breached, excused, clocks - decided - inapplicable,
        rate(met), rate(breached), rate(excused), seconds(median(working)),
        seconds(p90(working)), seconds(median(clock)), seconds(p90(clock)), worst,
        inapplicable,
    )  # fmt: skip


__all__ = ["GROUPS", "GroupReport", "Reminder", "SlaReport", "SlaService"]
