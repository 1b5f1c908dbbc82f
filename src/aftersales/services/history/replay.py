"""``aftersales replay``: a service history judged under a policy, and two policies compared
case by case, without a database.

Each case of the history is built by the desk's own actions on a scratch desk in memory under
the policy (the same leniency as the import: :mod:`.importer`; the workflow keeps its cases
as objects, nothing is encoded or stored), its clocks are read at the end of the history, and
only the outcomes are kept: the verdict of every clock, and the time each met milestone took.
Under ``--compare`` each case is built again under the second policy right after the first,
and the two are compared then: one case is held at a time, whatever the history's length.
"""

from __future__ import annotations

from array import array
from collections import Counter
from datetime import datetime, timedelta

import attrs

from aftersales.core.quantiles import median, p90
from aftersales.core.sla import Clock
from aftersales.policy import Policy
from aftersales.services.history.importer import HistoryService, ImportResult
from aftersales.services.history.timeline import TimelineRow

OUTCOMES = ("met", "breached", "excused", "not_applicable", "open")
KEPT_REJECTS = 1_000
"""Rejects a replay holds (it counts them all, by reason): a policy that refuses a kind of
row refuses it in every case, and a million such rows would fill the memory."""
_OPEN = ("pending", "running", "at_risk")


@attrs.frozen
class ClockOutcome:
    """One clock of one case as the policy judged it at the end of the history."""

    milestone: str
    priority: str
    outcome: str  # met, breached, excused, not_applicable, open
    due: datetime | None
    met_at: datetime | None
    working: timedelta | None  # start to met, in working time
    rule: str  # the target's policy line


@attrs.frozen
class CaseOutcome:
    key: str
    priority: str
    priority_rule: str  # the rule (policy line) that decided the priority
    clocks: tuple[ClockOutcome, ...]
    line: int = attrs.field(default=0, eq=False)  # where the case's first row is in the file

    def by_milestone(self) -> dict[str, ClockOutcome]:
        return {c.milestone: c for c in self.clocks}


@attrs.define
class Tally:
    """The verdicts of one group of clocks (a priority, a milestone, or all)."""

    outcomes: Counter[str] = attrs.Factory(Counter)
    # minutes of the met clocks, for the exact median and 90th percentile: 8 bytes a clock
    working: array[float] = attrs.Factory(lambda: array("d"))

    def add(self, clock: ClockOutcome) -> None:
        self.outcomes[clock.outcome] += 1
        if clock.working is not None:
            self.working.append(clock.working.total_seconds() / 60)

    def merge(self, other: Tally) -> None:
        self.outcomes.update(other.outcomes)
        self.working.extend(other.working)

    @property
    def met_rate(self) -> float | None:
        decided = sum(self.outcomes[k] for k in ("met", "breached", "excused"))
        return None if not decided else self.outcomes["met"] / decided

    @property
    def median(self) -> float | None:
        return median(self.working)

    @property
    def p90(self) -> float | None:
        return p90(self.working)


@attrs.define
class Judgement:
    """A history judged under one policy: the tallies, and each case's outcome where they
    are kept (``keep``: for a history small enough to hold; the tallies never need them)."""

    policy: str
    now: datetime | None
    keep: bool = True
    count: int = 0  # cases judged
    cases: dict[str, CaseOutcome] = attrs.Factory(dict)
    by_priority: dict[str, Tally] = attrs.Factory(dict)
    by_milestone: dict[str, Tally] = attrs.Factory(dict)
    total: Tally = attrs.Factory(Tally)
    result: ImportResult = attrs.Factory(ImportResult)  # how the rows applied

    def add(self, case: CaseOutcome) -> None:
        self.count += 1
        if self.keep:
            self.cases[case.key] = case
        for clock in case.clocks:
            self.by_priority.setdefault(clock.priority, Tally()).add(clock)
            self.by_milestone.setdefault(clock.milestone, Tally()).add(clock)
            self.total.add(clock)

    def merge(self, other: Judgement) -> None:
        """Add another share of the same history judged under the same policy."""
        self.count += other.count
        self.cases.update(other.cases)
        for mine, theirs in ((self.by_priority, other.by_priority),
                             (self.by_milestone, other.by_milestone)):  # fmt: skip
            for name, tally in theirs.items():
                mine.setdefault(name, Tally()).merge(tally)
        self.total.merge(other.total)
        self.result.merge(other.result)


def _outcome(clock: Clock, policy: Policy) -> ClockOutcome:
    state = "open" if clock.state in _OPEN else clock.state
    working = None
    if clock.met_at is not None and clock.starts_at is not None:
        calendar = clock.target.calendar if clock.target is not None else None
        working = policy.between(clock.starts_at, clock.met_at, calendar)
    rule = clock.target.location if clock.target is not None else ""
    return ClockOutcome(clock.milestone, clock.priority, state, clock.due, clock.met_at,
                        working, rule)  # fmt: skip


class Judge:
    """Judges a history's cases under the policy of ``history``'s desk, one at a time, and
    tallies them in :attr:`judged`; the clocks are read at ``now`` (None: each case's
    last moment)."""

    def __init__(
        self, history: HistoryService, policy: Policy, now: datetime | None, keep: bool = True
    ) -> None:
        self.policy = policy
        self.now = now
        self.builder = history.builder()
        self.judged = Judgement(f"{policy.name} (version {policy.version})", now, keep)
        self.judged.result.keep = None if keep else KEPT_REJECTS

    def case(self, key: str, rows: list[TimelineRow]) -> CaseOutcome | None:
        """The case ``rows`` make, judged and tallied (None if no row could open it)."""
        case = self.builder.case(key, rows, self.judged.result)
        if case is None:
            return None
        desk = self.builder.desk
        at = max(self.now or case.updated_at, case.updated_at, key=datetime.timestamp)
        clocks = tuple(_outcome(c, self.policy) for c in desk.sla.clocks(case, at))
        desk.cases.forget(case.id)
        first = min(r.line for r in rows)
        outcome = CaseOutcome(key, case.priority, case.priority_location, clocks, first)
        self.judged.add(outcome)
        return outcome


@attrs.frozen
class Change:
    """A clock whose verdict differs between the two policies."""

    key: str
    milestone: str
    a: ClockOutcome | None
    b: ClockOutcome | None
    priority_a: str
    priority_b: str
    line: int = attrs.field(default=0, eq=False)  # where the case's first row is in the file

    @property
    def direction(self) -> str:
        """``better`` (B meets what A did not), ``worse`` (A met what B does not), or
        ``other`` (a clock only one policy sets, or an excuse for a breach)."""
        a = self.a.outcome if self.a else None
        b = self.b.outcome if self.b else None
        if a != "met" and b == "met":
            return "better"
        if a == "met" and b != "met":
            return "worse"
        return "other"


def compare_case(a: CaseOutcome, b: CaseOutcome) -> list[Change]:
    """The clocks of one case whose verdicts differ between the two policies."""
    changes = []
    clocks_a, clocks_b = a.by_milestone(), b.by_milestone()
    for milestone in dict.fromkeys([*clocks_a, *clocks_b]):
        ca, cb = clocks_a.get(milestone), clocks_b.get(milestone)
        if (ca.outcome if ca else None) != (cb.outcome if cb else None):
            changes.append(Change(a.key, milestone, ca, cb, a.priority, b.priority, a.line))
    return changes


__all__ = [
    "KEPT_REJECTS",
    "OUTCOMES",
    "CaseOutcome",
    "Change",
    "ClockOutcome",
    "Judge",
    "Judgement",
    "Tally",
    "compare_case",
]
