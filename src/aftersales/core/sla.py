"""SLA clocks: one per milestone of a case, read from its history at a moment.

A clock starts with its ``after`` event, falls due after its target's duration (working
time on a calendar, or clock time), or at the appointment for ``arrival by appointment``,
and is met by its milestone's event (``repair``: the completed repair the customer
accepted, or the completion itself under ``repair met when completed``; a rejection reopens
it either way). A clock whose milestone stops applying before it is met and before it is
due (the case closed without a callback; resolved by phone before anyone went on site) ends
``not_applicable``, neither met nor breached. Holds stop it: the time on hold, counted as
the target counts, moves the due time.
A miss is excused when a delay notice reached the customer before the due time (told in
person or by phone, or a message a notifier delivered; the policy's ``excuse`` line) until
the notice's new time; after that it is breached.

Pure: the policy's arithmetic comes in through :class:`Timekeeper`; nothing here reads a
store or a clock.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol

import attrs

from aftersales.core.duration import Duration
from aftersales.core.model import Case, DelayNotice
from aftersales.core.vocabulary import CLOCK_STATES as STATES
from aftersales.core.vocabulary import MILESTONE_EVENT


class Timekeeper(Protocol):
    """The policy's time arithmetic (``Policy`` provides it)."""

    def add(self, start: datetime, duration: Duration, calendar: str | None = None) -> datetime: ...

    def between(self, start: datetime, end: datetime, calendar: str | None = None) -> timedelta: ...

    def add_working(
        self, start: datetime, seconds: float, calendar: str | None = None
    ) -> datetime: ...

    @property
    def repair_restarts_on_reopen(self) -> bool:
        """Whether a reopened case's repair clock starts again at the reopening."""
        ...

    @property
    def repair_met_when(self) -> str:
        """``accepted`` (the customer's signature meets the repair clock) or ``completed``."""
        ...


@attrs.frozen
class Clock:
    """One milestone's deadline for a case, as it stands at ``now``.

    ``remaining`` and ``overrun`` are in the target's own units (working time for working
    targets). ``alerts`` are the instants the clock crosses each warning level and its breach
    (``{"warn:80": t, "breach": t}``), for the desk's ticks.
    """

    milestone: str
    priority: str
    target: Any  # aftersales.Target: the rule as written, with its location
    starts_at: datetime | None
    due: datetime | None
    met_at: datetime | None
    state: str
    remaining: timedelta | None
    overrun: timedelta | None
    excuse: DelayNotice | None
    held: timedelta
    alerts: dict[str, datetime] = attrs.field(factory=dict, eq=False, repr=False)

    @property
    def working(self) -> bool:
        duration = self.target.duration if self.target is not None else None
        return bool(duration is not None and duration.working)


def _measure(tk: Timekeeper, target: Any, start: datetime, end: datetime) -> timedelta:
    """Time from ``start`` to ``end`` as the target counts it."""
    if end <= start:
        return timedelta(0)
    if target.duration is not None and target.duration.working:
        return tk.between(start, end, target.calendar)
    return end - start


def _extend(tk: Timekeeper, target: Any, when: datetime, span: timedelta) -> datetime:
    """``when`` plus ``span`` counted as the target counts."""
    if span <= timedelta(0):
        return when
    if target.duration is not None and target.duration.working:
        return tk.add_working(when, span.total_seconds(), target.calendar)
    return when + span


def _held(tk: Timekeeper, target: Any, case: Case, start: datetime, end: datetime) -> timedelta:
    total = timedelta(0)
    for hold in case.holds:
        a = max(hold.start, start)
        b = min(hold.end or end, end)
        if b > a:
            total += _measure(tk, target, a, b)
    return total


_BASES: dict[tuple[int, datetime, Any, str | None], tuple[Timekeeper, datetime]] = {}


def _base(tk: Timekeeper, starts_at: datetime, duration: Any, calendar: str | None) -> datetime:
    """``tk.add`` remembered: every action of a case judges its clocks again, and a running
    clock's deadline is the same each time (calendar arithmetic was most of that cost)."""
    key = (id(tk), starts_at, duration, calendar)
    found = _BASES.get(key)
    if found is not None and found[0] is tk:
        return found[1]
    if len(_BASES) >= 50_000:
        _BASES.clear()
    base = tk.add(starts_at, duration, calendar)
    _BASES[key] = (tk, base)
    return base


@attrs.frozen
class _Frame:
    """Where a started clock stands: the parts every reading of it needs."""

    starts_at: datetime
    met_at: datetime | None
    due: datetime | None
    total: timedelta | None  # the target's length, in its own units
    held: timedelta
    notice: DelayNotice | None  # a notice that excuses (policy permitting)


def _frame(
    milestone: str,
    target: Any,
    case: Case,
    now: datetime,
    tk: Timekeeper,
    excuse: bool,
    events: dict[str, datetime],
) -> _Frame | None:
    met_at = events.get(MILESTONE_EVENT[milestone])
    signed = case.acceptance is not None and case.acceptance.at <= now
    if milestone == "repair" and tk.repair_met_when != "completed" and not signed:
        met_at = None  # only the repair the customer signs meets the clock
    starts_at = None if target is None else events.get(target.after)
    if target is None or starts_at is None:
        return None
    if milestone == "repair" and case.reopenings and tk.repair_restarts_on_reopen:
        reopened = case.reopenings[-1].at
        if starts_at < reopened <= now:
            starts_at = reopened
    held = timedelta(0)
    if target.by_appointment:
        due = case.appointment if events.get("contacted") is not None else None
        total = None if due is None else due - starts_at
    else:
        held = _held(tk, target, case, starts_at, met_at or now)
        duration = target.duration
        base = _base(tk, starts_at, duration, target.calendar)
        due = _extend(tk, target, base, held)
        seconds = duration.unit.seconds
        if seconds is not None:  # minutes and hours, clock or working: a fixed length
            total = timedelta(seconds=float(duration.amount) * seconds)
        else:
            total = _measure(tk, target, starts_at, base)
    notice = None
    if due is not None and excuse:
        told = (d for d in reversed(case.delays) if d.milestone == milestone)
        notice = next((d for d in told if d.reached_at is not None and d.reached_at < due
                       and d.reached_at <= now), None)  # fmt: skip
    return _Frame(starts_at, met_at, due, total, held, notice)


_BEFORE_REPAIR = frozenset({"response", "assignment", "contact", "arrival"})


def _ended(
    milestone: str, case: Case, events: dict[str, datetime], started: bool
) -> datetime | None:
    """When ``milestone`` stopped applying to the case, if it has: the case was closed before
    it was met (a callback the customer never answered), or resolved without a visit before
    anyone was assigned, called or on site (or before the repair clock started: it counts
    from the arrival that never came)."""
    if milestone != "close" and "closed" in events:
        return events["closed"]
    resolved = events.get("repaired")
    if resolved is None or not case.resolved_remotely:
        return None
    if milestone in _BEFORE_REPAIR or (milestone == "repair" and not started):
        return resolved
    return None


def _judge(f: _Frame | None, end: datetime | None, now: datetime) -> tuple[str | None, datetime]:
    """``not_applicable`` when the milestone stopped applying before it was met and before
    it was due (a deadline missed before the case ended stays missed); otherwise None, and the
    moment to judge the clock at (the end, once it ended)."""
    if end is None or (f is not None and f.met_at is not None):
        return None, now
    if f is None or f.due is None or f.due > end:
        return "not_applicable", end
    return None, end


def _alerts(
    f: _Frame, target: Any, tk: Timekeeper, warn_at: Sequence[Decimal]
) -> dict[str, datetime]:
    alerts: dict[str, datetime] = {}
    if f.met_at is not None or f.due is None or f.total is None:
        return alerts
    for level in warn_at:
        share = f.total * float(level / 100)
        if target.by_appointment:
            alerts[f"warn:{level.normalize():f}"] = f.starts_at + share
        else:
            alerts[f"warn:{level.normalize():f}"] = _extend(
                tk, target, _extend(tk, target, f.starts_at, share), f.held
            )
    alerts["breach"] = f.notice.new_eta if f.notice else f.due
    return alerts


def _warnings(
    f: _Frame, end: datetime | None, target: Any, tk: Timekeeper, warn_at: Sequence[Decimal]
) -> dict[str, datetime]:
    """The alert times of a started clock: none once it ended unmet (nothing more to warn
    of)."""
    return {} if f.met_at is None and end is not None else _alerts(f, target, tk, warn_at)


def _events(case: Case, now: datetime, happened: dict[str, datetime] | None) -> dict[str, datetime]:
    if happened is not None:
        return happened
    return {k: v for k, v in case.milestones.items() if v <= now}


def alert_times(
    milestone: str,
    target: Any,
    case: Case,
    now: datetime,
    tk: Timekeeper,
    *,
    excuse: bool,
    warn_at: Sequence[Decimal] = (),
    happened: dict[str, datetime] | None = None,
) -> tuple[datetime | None, datetime | None, dict[str, datetime]]:
    """When the clock started and falls due (None while unknown), and when it crosses each
    warning level and its breach (``{"warn:80": t, "breach": t}``; empty once met): what a
    tick needs of :func:`clock`, without the rest."""
    events = _events(case, now, happened)
    f = _frame(milestone, target, case, now, tk, excuse, events)
    if f is None:
        return None, None, {}
    end = _ended(milestone, case, events, True)
    return f.starts_at, f.due, _warnings(f, end, target, tk, warn_at)


def clock_state(
    milestone: str,
    target: Any,
    case: Case,
    now: datetime,
    tk: Timekeeper,
    *,
    excuse: bool,
    happened: dict[str, datetime] | None = None,
) -> str:
    """Only the ``state`` of :func:`clock` (``met``, ``breached``, ``excused`` once decided;
    ``pending`` or ``running`` otherwise; no ``at_risk``): what rates over many cases need,
    without measuring what remains or how late."""
    events = _events(case, now, happened)
    f = _frame(milestone, target, case, now, tk, excuse, events)
    ended, at = _judge(f, _ended(milestone, case, events, f is not None), now)
    if ended is not None:
        return ended
    if f is None or f.due is None:
        return "met" if f is not None and f.met_at is not None else "pending"
    return _decided(f, at) or "running"


def _decided(f: _Frame, now: datetime) -> str | None:
    """``met``, ``excused`` or ``breached`` once the clock is decided (met, or past due);
    None while it runs."""
    assert f.due is not None
    if f.met_at is not None:
        if f.met_at <= f.due:
            return "met"
        excused = f.notice is not None and f.met_at <= f.notice.new_eta
    elif now >= f.due:
        excused = f.notice is not None and now < f.notice.new_eta
    else:
        return None
    return "excused" if excused else "breached"


Verdict = tuple[str, datetime | None, datetime | None, datetime | None, timedelta | None,
                datetime | None, bool]  # fmt: skip
"""``(state, starts_at, met_at, due, overrun, excused_until, moving)``: see :func:`verdict`."""


def verdict(
    milestone: str,
    target: Any,
    case: Case,
    now: datetime,
    tk: Timekeeper,
    *,
    excuse: bool,
    happened: dict[str, datetime] | None = None,
) -> Verdict:
    """What the SLA report keeps of the clock :func:`clock` reads at ``now``, without what
    remains, the warning times or the :class:`Clock` (every action asks it, for each
    milestone). A ``moving`` clock (due, not met, not ended) has state ``running`` whether
    or not it is past due at ``now``, with its ``due`` and the new time of a delay notice
    that excuses it (``excused_until``); ``overrun`` is set for a clock breached for good."""
    events = _events(case, now, happened)
    f = _frame(milestone, target, case, now, tk, excuse, events)
    return _verdict(f, _ended(milestone, case, events, f is not None), target, now, tk)


def judged(
    milestone: str,
    target: Any,
    case: Case,
    now: datetime,
    tk: Timekeeper,
    *,
    excuse: bool,
    warn_at: Sequence[Decimal],
    happened: dict[str, datetime],
) -> tuple[Verdict, datetime | None, dict[str, datetime]]:
    """:func:`verdict` and what :func:`alert_times` adds (the deadline and the alert times)
    from one reading of the clock: every action asks both, for each milestone."""
    f = _frame(milestone, target, case, now, tk, excuse, happened)
    end = _ended(milestone, case, happened, f is not None)
    found = _verdict(f, end, target, now, tk)
    if f is None:
        return found, None, {}
    return found, f.due, _warnings(f, end, target, tk, warn_at)


def _verdict(
    f: _Frame | None, end: datetime | None, target: Any, now: datetime, tk: Timekeeper
) -> Verdict:
    ended, at = _judge(f, end, now)
    if f is None:
        return ended or "pending", None, None, None, None, None, False
    if ended is not None or f.due is None:
        state = ended or ("met" if f.met_at else "pending")
        return state, f.starts_at, f.met_at, f.due, None, None, False
    if f.met_at is None and end is None:
        excused = f.notice.new_eta if f.notice is not None else None
        return "running", f.starts_at, None, f.due, None, excused, True
    state = _decided(f, at) or "running"
    overrun = _measure(tk, target, f.due, f.met_at or at) if state == "breached" else None
    return state, f.starts_at, f.met_at, f.due, overrun, None, False


def clock(
    milestone: str,
    priority: str,
    target: Any,
    case: Case,
    now: datetime,
    tk: Timekeeper,
    *,
    excuse: bool,
    warn_at: Sequence[Decimal] = (),
    happened: dict[str, datetime] | None = None,
) -> Clock:
    """The clock of ``milestone`` under ``target`` for ``case`` as it stands at ``now``.

    ``target`` None (a repair not yet diagnosed) gives a pending clock. Events after ``now``
    are treated as not yet happened (``happened``: the case's milestones up to ``now``, when
    the caller has them already).
    """
    events = _events(case, now, happened)
    f = _frame(milestone, target, case, now, tk, excuse, events)
    end = _ended(milestone, case, events, f is not None)
    ended, now = _judge(f, end, now)
    if f is None:
        starts_at = None if target is None else events.get(target.after)
        return Clock(milestone, priority, target, starts_at, None, None, ended or "pending",
                     None, None, None, timedelta(0))  # fmt: skip
    due, met_at, total = f.due, f.met_at, f.total
    if ended is not None or due is None:
        state = ended or ("met" if met_at else "pending")
        return Clock(milestone, priority, target, f.starts_at, due, met_at, state, None, None,
                     None, f.held)  # fmt: skip
    remaining = overrun = None
    decided = _decided(f, now)
    if decided is None:
        remaining = _measure(tk, target, now, due)
        first = min(warn_at, default=None)
        risky = first is not None and total is not None and total > timedelta(0)
        at_risk = risky and total - remaining >= total * float(first / 100)  # type: ignore[operator]
        state = "at_risk" if at_risk else "running"
    else:
        state = decided
        if state != "met":  # late: by how much, as the target counts
            overrun = _measure(tk, target, due, met_at or now)
    alerts = _alerts(f, target, tk, warn_at) if met_at or end is None else {}
    return Clock(milestone, priority, target, f.starts_at, due, met_at, state, remaining, overrun,
                 f.notice, f.held, alerts)  # fmt: skip


__all__ = [
    "MILESTONE_EVENT",
    "STATES",
    "Clock",
    "Timekeeper",
    "Verdict",
    "alert_times",
    "clock",
    "clock_state",
    "judged",
    "verdict",
]
