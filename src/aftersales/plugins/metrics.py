"""The built-in scoring metrics, computed from the case record of one staff member's month.

Each is ``compute(view, staff_id, period) -> Decimal | None`` (None: nothing to measure), where
``view`` is an :class:`aftersales.ports.MetricView`:

- ``tasks_completed``: repairs the member completed that the customer accepted in the month.
- ``first_time_fix``: of those, the percentage accepted without a rejection, never reopened, and
  not followed by a warranty rework (a later report linked to it) within the policy's warranty
  period.
- ``satisfaction``: the mean follow-up satisfaction (1..5) of the member's cases followed up in
  the month.
- ``sla_met_rate``: of the member's cases reported in the month, the percentage of decided SLA
  clocks (met, breached or excused) that were met, read at the end of the month.
- ``rework_rate``: the percentage of the member's accepted repairs of the month that came back
  as warranty rework.
- ``remote_resolution``: of the repairs the member made that the customer accepted in the
  month (as the case's engineer, or as the service agent who reported and resolved it), the
  percentage resolved without a visit (``resolve remotely``).
- ``complaint_free``: of the repairs the member completed that the customer accepted in the
  month, the percentage no complaint concerning the member was opened about (any time).
- ``response_time``: the median working time, in minutes, from report to response of the cases
  the member (as service agent) reported in the month.
"""

from __future__ import annotations

import statistics
from datetime import timedelta
from decimal import Decimal

from aftersales.core.model import Case
from aftersales.ports.hookspecs import Metric, MetricRegistrar, MetricView, hookimpl
from aftersales.ports.storage import CaseQuery


def _accepted(view: MetricView, staff_id: str, period: str) -> list[Case]:
    return view.appraisals.cases_of(staff_id, period, "accepted")


def _reworked(view: MetricView, case: Case) -> bool:
    """Whether a later report was linked to ``case`` as warranty rework."""
    return bool(view.storage.find_cases(CaseQuery(rework_of=case.id, limit=1)))


def tasks_completed(view: MetricView, staff_id: str, period: str) -> Decimal | None:
    return Decimal(len(_accepted(view, staff_id, period)))


def first_time_fix(view: MetricView, staff_id: str, period: str) -> Decimal | None:
    done = _accepted(view, staff_id, period)
    if not done:
        return None
    clean = [c for c in done if not c.rejections and not c.reopenings and not _reworked(view, c)]
    return Decimal(100) * len(clean) / len(done)


def rework_rate(view: MetricView, staff_id: str, period: str) -> Decimal | None:
    done = _accepted(view, staff_id, period)
    if not done:
        return None
    return Decimal(100) * sum(_reworked(view, c) for c in done) / len(done)


def satisfaction(view: MetricView, staff_id: str, period: str) -> Decimal | None:
    scores = [
        c.follow_up.satisfaction
        for c in view.appraisals.cases_of(staff_id, period, "followed_up")
        if c.follow_up is not None
    ]
    return Decimal(sum(scores)) / len(scores) if scores else None


def sla_met_rate(view: MetricView, staff_id: str, period: str) -> Decimal | None:
    _, end = view.policy.month_bounds(period)
    met = decided = 0
    for case in view.appraisals.cases_of(staff_id, period, "reported"):
        for state in view.sla.states(case, end).values():
            if state in ("met", "breached", "excused"):
                decided += 1
                met += state == "met"
    return Decimal(100) * met / decided if decided else None


def remote_resolution(view: MetricView, staff_id: str, period: str) -> Decimal | None:
    low, high = view.policy.month_bounds(period)
    mine = {c.id: c for c in _accepted(view, staff_id, period)}
    for case in view.appraisals.cases_of(staff_id, period, "reported_by"):
        if case.acceptance is not None and low <= case.acceptance.at < high:
            mine.setdefault(case.id, case)  # a fix on the call, by the agent who took it
    done = [c for c in mine.values() if c.repair is not None and c.repair.engineer == staff_id]
    if not done:
        return None
    return Decimal(100) * sum(c.resolved_remotely for c in done) / len(done)


def response_time(view: MetricView, staff_id: str, period: str) -> Decimal | None:
    minutes: list[float] = []
    for case in view.appraisals.cases_of(staff_id, period, "reported_by"):
        responded = case.milestones.get("responded")
        if responded is None:
            continue
        span: timedelta = view.policy.between(case.reported_at, responded)
        minutes.append(span.total_seconds() / 60)
    return Decimal(str(round(statistics.median(minutes), 2))) if minutes else None


def complaint_free(view: MetricView, staff_id: str, period: str) -> Decimal | None:
    done = _accepted(view, staff_id, period)
    if not done:
        return None
    complained = {
        record.data.get("case_id")
        for record in view.storage.scan("complaint")
        if staff_id in record.data.get("staff", ())
    }
    return Decimal(100) * sum(c.id not in complained for c in done) / len(done)


BUILTIN: dict[str, tuple[Metric, str]] = {
    "tasks_completed": (tasks_completed, "repairs completed and accepted in the month"),
    "first_time_fix": (first_time_fix, "% accepted without rejection or warranty rework"),
    "satisfaction": (satisfaction, "mean follow-up satisfaction, 1 to 5"),
    "sla_met_rate": (sla_met_rate, "% of decided SLA clocks met, of cases reported in the month"),
    "rework_rate": (rework_rate, "% of accepted repairs that came back under warranty"),
    "response_time": (response_time, "median working minutes from report to response"),
    "remote_resolution": (remote_resolution, "% of accepted repairs resolved without a visit"),
    "complaint_free": (complaint_free, "% of accepted repairs no complaint names the member in"),
}


@hookimpl
def aftersales_metrics(register: MetricRegistrar) -> None:
    for name, (compute, description) in BUILTIN.items():
        register(name, compute, description)
