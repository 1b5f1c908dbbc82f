"""``desk.feedback``: the monthly digest of what customers said back, per fault code, model,
customer or engineer: cases, reworks, rejections, reopenings, complaints, satisfaction and
its trend against the month before, and product problems; for the manager and the other
departments (the product team, the trainers) to act on. The SLA tick sends the month just
ended to the managers once (the first tick of a month, whichever desk runs it);
``aftersales feedback digest`` prints any month on demand."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

import attrs

from aftersales.core import values
from aftersales.core.errors import NotFound, ValidationError
from aftersales.core.model import Case, Notification
from aftersales.core.values import shown
from aftersales.ports.storage import CaseQuery, utc_text
from aftersales.services.cases import CaseService
from aftersales.services.complaints import ComplaintService
from aftersales.services.notifications import NotificationService
from aftersales.services.product_problems import ProductProblemService
from aftersales.services.staff import StaffDirectory

DIMENSIONS = ("fault_code", "model", "customer", "engineer")
HOLDER = "feedback"  # the digests sent are recorded under this name, one key a month


@attrs.frozen
class DigestRow:
    """One fault code, model, customer or engineer's month."""

    key: str
    cases: int = 0
    reworks: int = 0
    rejections: int = 0
    reopenings: int = 0
    complaints: int = 0
    satisfaction: Decimal | None = None  # mean of the month's scores, 1..5
    previous: Decimal | None = None  # the month before's
    product_problems: int = 0

    @property
    def trend(self) -> Decimal | None:
        """The change in mean satisfaction from the month before (None: not both known)."""
        if self.satisfaction is None or self.previous is None:
            return None
        return self.satisfaction - self.previous


def _mean(scores: list[int]) -> Decimal | None:
    if not scores:
        return None
    return (Decimal(sum(scores)) / len(scores)).quantize(Decimal("0.01"), ROUND_HALF_UP)


def _keys(case: Case, by: str) -> list[str]:
    if by == "fault_code":
        return [case.fault_code or "(none)"]
    if by == "model":
        return [case.product.model or "(none)"]
    if by == "customer":
        return [case.customer.name]
    return list(dict.fromkeys(h.engineer for h in case.handovers)) or ["(nobody)"]


class FeedbackService:
    """Compiles the feedback digest."""

    def __init__(
        self,
        *,
        cases: CaseService,
        complaints: ComplaintService,
        problems: ProductProblemService,
        notifications: NotificationService,
        staff: StaffDirectory,
    ) -> None:
        self._cases = cases
        self._basis = cases._basis
        self._complaints = complaints
        self._problems = problems
        self._notifications = notifications
        self._staff = staff
        self._sent: str | None = None  # the month this desk knows was sent

    def digest(self, period: str, *, per: str = "fault_code") -> list[DigestRow]:
        """The rows of month ``period`` (``2026-11``) per ``per`` (fault_code, model,
        customer or engineer), the most troubled first (complaints, rejections, reworks)."""
        values.period(period, "the month")
        if per not in DIMENSIONS:
            raise ValidationError(f"per is one of {', '.join(DIMENSIONS)}, not {shown(per)}")
        by = per
        policy = self._basis.policy
        start, end = policy.month_bounds(period)
        before_start, _ = policy.month_bounds(_previous(period))
        rows: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        scores: dict[str, list[int]] = defaultdict(list)
        earlier: dict[str, list[int]] = defaultdict(list)
        cases_by_id: dict[str, Case] = {}

        def count(case: Case, field: str, amount: int = 1) -> None:
            for key in _keys(case, by):
                rows[key][field] += amount

        for case in self._in(start, end):
            cases_by_id[case.id] = case
            count(case, "cases")
            count(case, "rejections", case.rejection_count)
            count(case, "reopenings", len(case.reopenings))
            if case.rework_of is not None:
                count(case, "reworks")
        for case in self._scored(before_start, end):
            when = _scored_at(case)
            if when is None or case.satisfaction is None:
                continue
            into = scores if when >= start else earlier
            for key in _keys(case, by):
                into[key].append(case.satisfaction)
        for complaint in self._complaints.list(opened_in=period):
            about = None if complaint.case_id is None else self._case(complaint.case_id)
            if about is not None:
                count(about, "complaints")
            elif by == "customer":
                rows[complaint.customer]["complaints"] += 1
        for problem in self._problems.list():
            if start <= problem.at < end:
                found = cases_by_id.get(problem.case_id) or self._case(problem.case_id)
                if found is not None:
                    count(found, "product_problems")
        keys = set(rows) | set(scores)
        made = [
            DigestRow(key, **{f: rows[key].get(f, 0) for f in (
                "cases", "reworks", "rejections", "reopenings", "complaints",
                "product_problems")}, satisfaction=_mean(scores.get(key, [])),
                previous=_mean(earlier.get(key, [])))
            for key in keys
        ]  # fmt: skip
        return sorted(made, key=lambda r: (-r.complaints, -r.rejections, -r.reworks, r.key))

    def _in(self, start: datetime, end: datetime) -> Iterable[Case]:
        return self._cases.matching(CaseQuery(since=utc_text(start), until=utc_text(end)))

    def _scored(self, start: datetime, end: datetime) -> Iterable[Case]:
        """Cases followed up or surveyed in [start, end): touched then, scored then."""
        query = CaseQuery(touched_in=(utc_text(start), utc_text(end)))
        for case in self._cases.matching(query):
            when = _scored_at(case)
            if when is not None and start <= when < end:
                yield case

    def _case(self, case_id: str) -> Case | None:
        try:
            return self._cases.get(case_id)
        except NotFound:
            return None

    def send(self, period: str, now: datetime | None = None) -> list[Notification]:
        """Send month ``period``'s digest (per fault code, with the worst models and
        engineers) to the managers, once a month whoever calls it."""
        when = self._basis.at(now)
        managers = self._staff.with_role("manager")
        if not managers:
            return []
        data = {d: [_row_data(r) for r in self.digest(period, per=d)[:10]] for d in DIMENSIONS}
        complaints = len(self._complaints.list(opened_in=period))
        note = Notification("feedback_digest", None, tuple(managers),
                            f"customer feedback for {period}: {complaints} complaints",
                            {"period": period, **data}, when)  # fmt: skip
        return self._notifications.once([(HOLDER, period, note)], when)

    def send_due(self, now: datetime | None = None) -> list[Notification]:
        """The SLA tick's part: last month's digest, once, once the month has ended (the
        digest is read only when no desk has sent it yet)."""
        when = self._basis.at(now)
        local = when.astimezone(self._basis.policy.tz)
        period = _previous(f"{local.year:04d}-{local.month:02d}")
        if period == self._sent:
            return []
        with self._basis.storage.transaction() as tx:
            done = period in tx.sent_keys([HOLDER]).get(HOLDER, set())
        if done:
            self._sent = period
            return []
        start, end = self._basis.policy.month_bounds(period)
        query = CaseQuery(since=utc_text(start), until=utc_text(end), limit=1)
        quiet = not self._basis.storage.find_cases(query)
        sent = [] if quiet else self.send(period, when)  # a month without cases: no digest
        self._sent = period
        return sent


def _scored_at(case: Case) -> datetime | None:
    if case.follow_up is not None:
        return case.follow_up.at
    return None if case.survey is None else case.survey.at


def _previous(period: str) -> str:
    try:
        year, month = (int(x) for x in period.split("-"))
    except ValueError:
        raise ValidationError(f"a month is written 2026-11, not {shown(period)}") from None
    return f"{year - 1:04d}-12" if month == 1 else f"{year:04d}-{month - 1:02d}"


def _row_data(row: DigestRow) -> dict[str, object]:
    data = attrs.asdict(row)
    data["trend"] = row.trend
    return {k: (str(v) if isinstance(v, Decimal) else v) for k, v in data.items()}


__all__ = ["DIMENSIONS", "DigestRow", "FeedbackService"]
