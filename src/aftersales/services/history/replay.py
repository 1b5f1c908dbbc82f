"""``aftersales replay``: a service history judged under a policy, and two policies compared
case by case, without a database.

Each case of the history is built by the desk's own actions on a scratch desk in memory under
the policy (the same leniency as the import: :mod:`.importer`), its clocks are read at the
end of the history, and only the outcomes are kept: the verdict of every clock, and the time
each met milestone took. Under ``--compare`` the same history is built again under the second
policy and the cases are paired by their key.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta

import attrs

from aftersales.core.quantiles import median, p90
from aftersales.core.sla import Clock
from aftersales.policy import Policy
from aftersales.services.history.importer import HistoryService, ImportResult
from aftersales.services.history.timeline import Skipped, TimelineRow

OUTCOMES = ("met", "breached", "excused", "not_applicable", "open")
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

    def by_milestone(self) -> dict[str, ClockOutcome]:
        return {c.milestone: c for c in self.clocks}


@attrs.define
class Tally:
    """The verdicts of one group of clocks (a priority, a milestone, or all)."""

    outcomes: Counter[str] = attrs.Factory(Counter)
    working: list[float] = attrs.Factory(list)  # minutes, of the met clocks

    def add(self, clock: ClockOutcome) -> None:
        self.outcomes[clock.outcome] += 1
        if clock.working is not None:
            self.working.append(clock.working.total_seconds() / 60)

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
    """A history judged under one policy."""

    policy: str
    now: datetime | None
    cases: dict[str, CaseOutcome] = attrs.Factory(dict)
    by_priority: dict[str, Tally] = attrs.Factory(dict)
    by_milestone: dict[str, Tally] = attrs.Factory(dict)
    total: Tally = attrs.Factory(Tally)
    result: ImportResult = attrs.Factory(ImportResult)  # how the rows applied

    def add(self, case: CaseOutcome) -> None:
        self.cases[case.key] = case
        for clock in case.clocks:
            self.by_priority.setdefault(clock.priority, Tally()).add(clock)
            self.by_milestone.setdefault(clock.milestone, Tally()).add(clock)
            self.total.add(clock)


def _outcome(clock: Clock, policy: Policy) -> ClockOutcome:
    state = "open" if clock.state in _OPEN else clock.state
    working = None
    if clock.met_at is not None and clock.starts_at is not None:
        calendar = clock.target.calendar if clock.target is not None else None
        working = policy.between(clock.starts_at, clock.met_at, calendar)
    rule = clock.target.location if clock.target is not None else ""
    return ClockOutcome(clock.milestone, clock.priority, state, clock.due, clock.met_at,
                        working, rule)  # fmt: skip


def judge(
    history: HistoryService,
    rows: list[TimelineRow | Skipped],
    policy: Policy,
    now: datetime | None = None,
    progress: Callable[[int], None] | None = None,
) -> Judgement:
    """Every case of ``rows`` built under ``policy`` (the desk ``history`` belongs to) and
    its clocks read at ``now`` (default: the last moment of the history)."""
    if now is None:
        times = [r.at for r in rows if isinstance(r, TimelineRow)]
        now = max(times) if times else None
    judged = Judgement(f"{policy.name} (version {policy.version})", now)
    for n, (key, case, desk) in enumerate(history.build(rows, judged.result)):
        at = now or case.updated_at
        read = desk.sla.clocks(case, max(at, case.updated_at))
        clocks = tuple(_outcome(c, policy) for c in read)
        judged.add(CaseOutcome(key, case.priority, case.priority_location, clocks))
        if progress is not None:
            progress(n + 1)
    return judged


@attrs.frozen
class Change:
    """A clock whose verdict differs between the two policies."""

    key: str
    milestone: str
    a: ClockOutcome | None
    b: ClockOutcome | None
    priority_a: str
    priority_b: str

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


def compare(a: Judgement, b: Judgement) -> list[Change]:
    """Every clock whose verdict differs, by case key and milestone."""
    changes = []
    for key, case_a in a.cases.items():
        case_b = b.cases.get(key)
        if case_b is None:
            continue
        clocks_a, clocks_b = case_a.by_milestone(), case_b.by_milestone()
        for milestone in dict.fromkeys([*clocks_a, *clocks_b]):
            ca, cb = clocks_a.get(milestone), clocks_b.get(milestone)
            if (ca.outcome if ca else None) != (cb.outcome if cb else None):
                changes.append(Change(key, milestone, ca, cb, case_a.priority, case_b.priority))
    return changes


__all__ = [
    "OUTCOMES",
    "CaseOutcome",
    "Change",
    "ClockOutcome",
    "Judgement",
    "Tally",
    "compare",
    "judge",
]
