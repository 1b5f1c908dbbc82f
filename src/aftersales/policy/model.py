"""The compiled policy: frozen attrs objects, every number a company filled in.

Each part remembers where it was written (``location``, ``"file:line"``), so any decision can
say which statement made it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, time, timedelta
from decimal import Decimal
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo

import attrs

from aftersales.core.boundary import public_api
from aftersales.core.calendar import WorkCalendar, add_clock, localize
from aftersales.core.duration import Duration, Unit
from aftersales.core.errors import NotFound, PolicyIssue, ValidationError
from aftersales.core.installed_base import Machine, maintenance_priority
from aftersales.core.money import Money
from aftersales.core.training import AREAS as TRAINING_AREAS
from aftersales.core.vocabulary import SEVERITIES
from aftersales.policy.expressions import Condition, as_record


def _frozen_map(value: Mapping[Any, Any]) -> Mapping[Any, Any]:
    return MappingProxyType(dict(value))


@attrs.frozen
class Target:
    """A deadline for one milestone: ``within DURATION after EVENT on "CALENDAR"``.

    ``by_appointment`` targets (``arrival by appointment``) have no duration: the
    appointment agreed with the customer is the deadline.
    """

    milestone: str
    duration: Duration | None
    after: str
    calendar: str | None = None
    by_appointment: bool = False
    location: str = ""

    def __str__(self) -> str:
        if self.by_appointment:
            return f"{self.milestone} by appointment"
        text = f"{self.milestone} within {self.duration} after {self.after}"
        if self.calendar is not None:
            text += f' on "{self.calendar}"'
        return text


@attrs.frozen
class Sla:
    """The targets of one priority, per milestone, and its own repair targets if any."""

    priority: str
    targets: Mapping[str, Target] = attrs.field(converter=_frozen_map)
    repair: Mapping[str, Target] = attrs.field(converter=_frozen_map)
    location: str = ""

    def target(self, milestone: str) -> Target | None:
        return self.targets.get(milestone)


@attrs.frozen
class PriorityRule:
    name: str
    condition: Condition | None  # None: otherwise (or a row of the priority table)
    location: str
    cell: str | None = None  # a table row, as written: "custom.impact = high, severity = *"

    @property
    def source(self) -> str:
        """The rule as a reader would quote it: its condition, its table row, or otherwise."""
        if self.condition is not None:
            return self.condition.source
        return f"table row: {self.cell}" if self.cell is not None else "otherwise"


@attrs.frozen
class PriorityTable:
    """``priority by FIELD, ... { VALUE, ... -> PRIORITY }``: the decision every combination
    of the fields' declared values gets (checked complete and without overlaps at load)."""

    fields: tuple[str, ...]
    values: tuple[tuple[Any, ...], ...]  # each field's declared values, in order
    cells: Mapping[tuple[Any, ...], Decision] = attrs.field(converter=_frozen_map, repr=False)
    location: str = ""

    def __call__(self, key: tuple[Any, ...]) -> Decision:
        found = self.cells.get(key)
        if found is not None:
            return found
        wrong = [
            f"{name} is {value!r} (the table knows {', '.join(map(str, known))})"
            for name, value, known in zip(self.fields, key, self.values, strict=True)
            if value not in known
        ]
        raise ValidationError(
            f"the priority table ({self.location}) cannot decide this case: {'; '.join(wrong)}"
        )


@attrs.frozen
class Decision:
    """The priority a policy gives a case, and the rule (``file:line``) that gave it."""

    name: str
    location: str
    rule: PriorityRule = attrs.field(repr=False)

    def __str__(self) -> str:
        return f"{self.name} ({self.location})"


@attrs.frozen
class Warranty:
    duration: Duration
    after: str
    location: str


@attrs.frozen
class SalesWarrantyRule:
    """``sales warranty 24 months or 2000 operating hours [for line excavator]``: a new
    machine's warranty, from commissioning, whichever ends first (either may be left out).
    ``line`` None: every line without a rule of its own."""

    months: int | None
    hours: float | None
    line: str | None
    location: str


@attrs.frozen
class FaultFamily:
    """``fault family "hydraulics": "HYD-PUMP", "HYD-HOSE"``: fault codes that count as the
    same fault for the repair warranty (a hose failing after a pump repair is a rework)."""

    name: str
    codes: tuple[str, ...]
    location: str


@attrs.frozen
class CustomerMessages:
    """``tell customer when assigned, delayed, completed by email, sms``: the messages the
    case's contact is sent, on the first of ``channels`` they can be reached by (their own
    preferred channel first, where it is listed)."""

    messages: tuple[str, ...]
    channels: tuple[str, ...]
    location: str

    def tells(self, message: str) -> bool:
        return message in self.messages


@attrs.frozen
class ComplaintRules:
    """``complaint respond within ..., resolve within ...`` and ``complaint when
    satisfaction <= 2, rejections >= 2``: a complaint's deadlines, and what opens one."""

    respond: Duration | None = None
    resolve: Duration | None = None
    satisfaction_at_most: int | None = None  # a follow-up or survey score this low
    rejections_at_least: int | None = None  # the customer refused the repair this often
    location: str | None = None  # of the deadlines
    trigger_location: str | None = None


@attrs.frozen
class MaintenancePlan:
    """``maintenance "500-hour service" for line excavator every 500 operating hours or 6
    months { ... }``: a preventive visit each machine of the line is due for every
    ``hours`` on its meter or ``every`` on the calendar (whichever comes first; either may
    be left out), with the visit's ``checklist``, the parts ``kit`` (SKU, quantity) and the
    ``window`` it must be done in once due."""

    name: str
    line: str
    hours: float | None
    every: Duration | None
    window: Duration
    checklist: tuple[str, ...] = ()
    kit: tuple[tuple[str, int], ...] = ()
    location: str = ""


def maintenance_slas(plans: Sequence[MaintenancePlan]) -> dict[str, Sla]:
    """The clocks of maintenance cases: each plan's visit is repaired within its window of
    the case's opening (when the plan fell due), under the plan's own priority name."""
    return {
        maintenance_priority(p.name): Sla(
            maintenance_priority(p.name),
            {"repair": Target("repair", p.window, "reported", None, False, p.location)},
            {},
            p.location,
        )
        for p in plans
    }


@attrs.frozen
class AutoClose:
    """``close automatically DURATION after EVENT``: the tick closes a case that long after
    the event (``repaired``, ``accepted`` or ``followed_up``) when nobody closed it."""

    duration: Duration
    after: str
    location: str


@attrs.frozen
class Weight:
    """A named share of a whole, in percent (``supervisor 50%``)."""

    name: str
    percent: Decimal
    location: str


@attrs.frozen
class MetricTarget:
    """``tasks_completed 40% target 20 per month``: a metric's weight and target."""

    metric: str
    percent: Decimal
    target: Decimal
    per: Unit | None
    target_is_percent: bool
    location: str


@attrs.frozen
class Grade:
    """``grade good when score >= 75``; ``threshold`` None for ``otherwise``."""

    name: str
    threshold: Decimal | None
    inclusive: bool
    location: str

    def admits(self, score: Decimal) -> bool:
        if self.threshold is None:
            return True
        return score >= self.threshold if self.inclusive else score > self.threshold


@attrs.frozen
class FollowUpRule:
    """What follows a grade at the month's close (``reward excellent with bonus 500 CNY``,
    ``improve fail with course "Customer care" and coaching 30 days``): a record made when
    the month is finalized and tracked until it is done. ``kind`` is one of
    :data:`FOLLOW_UP_KINDS`; ``amount`` for a bonus, ``title`` for an award or a course,
    ``within`` for coaching (the review date) and a course (when it should be attended)."""

    kind: str
    location: str
    amount: Money | None = None
    title: str | None = None
    within: Duration | None = None


FOLLOW_UP_KINDS = ("bonus", "award", "course", "coaching", "rotation")
"""What a ``reward``/``improve`` line may follow with: a bonus (money), an award (a title),
enrolment in a course (its title or id), coaching with a review date, a rotation."""


@attrs.frozen
class PromotionRule:
    """One condition of ``promote when ...``: ``graded`` (the last ``months`` finalized
    months graded at least ``grade``), ``level`` (``months`` in the current level) or
    ``certificate`` (a valid certificate called ``certificate``)."""

    kind: str
    location: str
    months: int | None = None
    grade: str | None = None
    certificate: str | None = None

    @property
    def text(self) -> str:
        if self.kind == "graded":
            return f"the last {self.months} finalized months graded at least {self.grade}"
        if self.kind == "level":
            return f"{self.months} months in the current level"
        return f'a valid certificate "{self.certificate}"'


@attrs.frozen
class IncidentRule:
    """``incident serious, fatal to manager, safety_officer, investigate within 5 working
    days``: who is told at once of an incident of these severities, and the deadline for its
    investigation and corrective actions."""

    severities: tuple[str, ...]
    roles: tuple[str, ...]
    location: str
    investigate_within: Duration | None = None


@attrs.frozen
class Appraisal:
    cycle: Duration | None
    evaluate: str
    sources: tuple[Weight, ...]
    indicators: tuple[Weight, ...]
    measures: Mapping[str, tuple[MetricTarget, ...]] = attrs.field(converter=_frozen_map)
    grades: tuple[Grade, ...] = ()
    reward: tuple[str, ...] = ()
    improve: tuple[str, ...] = ()
    dismiss_after: int | None = None
    dismiss_grade: str | None = None
    location: str = ""
    reward_follow_ups: tuple[FollowUpRule, ...] = ()
    improve_follow_ups: tuple[FollowUpRule, ...] = ()

    def rank(self, grade: str) -> int:
        """The grade's place from the top (0: the best), as the grade lines are written."""
        return [g.name for g in self.grades].index(grade)

    def grade_for(self, score: Decimal | float | int) -> Grade:
        """The first grade, from the top, whose threshold ``score`` reaches."""
        value = Decimal(str(score))
        for grade in self.grades:
            if grade.admits(value):
                return grade
        raise AssertionError("grades end in otherwise")  # pragma: no cover - load-time check

    def score(self, indicator_scores: Mapping[str, Decimal | float | int]) -> Decimal:
        """The weighted total of per-indicator scores (each 0..100)."""
        total = Decimal(0)
        for indicator in self.indicators:
            total += Decimal(str(indicator_scores[indicator.name])) * indicator.percent / 100
        return total


@attrs.frozen
class ExpenseLimit:
    category: str
    amount: Money
    per: str  # night | day | trip | claim
    location: str
    action: str | None = None  # flag | cap | refuse; None: the block's ``over limit``


@attrs.frozen
class ApprovalRule:
    """An approval chain (roles in order) and the condition that selects it."""

    chain: tuple[str, ...]
    condition: Condition | None
    location: str


def _select_chain(rules: tuple[ApprovalRule, ...], record: Any) -> ApprovalRule | None:
    default = None
    view = as_record(record)
    for rule in rules:
        if rule.condition is None:
            default = default or rule
        elif rule.condition(view):
            return rule
    return default


@attrs.frozen
class Expenses:
    invoice_required: bool
    limits: Mapping[str, ExpenseLimit] = attrs.field(converter=_frozen_map)
    approvals: tuple[ApprovalRule, ...] = ()
    location: str = ""
    # ``over limit cap``: what an over-limit line gets when its limit says nothing
    over_limit: str = "flag"
    over_limit_location: str = ""
    # ``categories tolls, parking``: claimable at cost, with no limit
    categories: tuple[str, ...] = ()
    # ``unlisted categories flag``: a category neither limited nor listed (default: refused)
    unlisted: str = "refuse"
    unlisted_location: str = ""

    def action_for(self, limit: ExpenseLimit) -> tuple[str, str]:
        """What an over-limit line of ``limit`` gets, and the policy line that says so."""
        if limit.action is not None:
            return limit.action, limit.location
        return self.over_limit, self.over_limit_location or limit.location

    def listed(self, category: str) -> bool:
        return category in self.limits or category in self.categories

    def approval_for(self, claim: Any) -> ApprovalRule | None:
        """The chain for ``claim`` (fields ``amount``, ...): the first matching ``when``,
        else the rule without one."""
        return _select_chain(self.approvals, claim)


@attrs.frozen
class Parts:
    stocktake_every: Duration | None
    reorder: Condition | None
    requisition_approvals: tuple[ApprovalRule, ...]
    inspect_incoming: tuple[str, ...]
    location: str = ""
    # ``review suppliers when late_rate > 10% or rejected_rate > 5%``
    supplier_review: Condition | None = None
    supplier_review_location: str = ""

    def requisition_approval_for(self, requisition: Any) -> ApprovalRule | None:
        return _select_chain(self.requisition_approvals, requisition)


@attrs.frozen
class CertificateRule:
    certificate: str
    condition: Condition | None
    location: str


@attrs.frozen
class Training:
    assessment: tuple[Weight, ...]
    pass_mark: Decimal | None
    retake_until_passed: bool
    retake_limit: int | None
    certificate_valid: Duration | None
    certificates: tuple[CertificateRule, ...]
    location: str = ""
    # ``plan covers ...``: the areas every year's plan must have a course in
    covers: tuple[str, ...] = TRAINING_AREAS
    covers_location: str = ""


@attrs.frozen
class Safety:
    ppe: tuple[str, ...]
    tools_every: Duration | None
    incidents_within: Duration | None
    location: str = ""
    ppe_location: str = ""  # the "require ppe" line
    incident_rules: tuple[IncidentRule, ...] = ()

    def incident_rule(self, severity: str) -> IncidentRule | None:
        """The ``incident ...`` line for ``severity`` (None: nobody is told at once)."""
        return next((r for r in self.incident_rules if severity in r.severities), None)


@attrs.frozen
class Expectation:
    kind: str  # priority | grade | due | approval
    value: Any
    location: str
    milestone: str | None = None


@attrs.frozen
class Example:
    """A policy test: what is given, and what the policy must decide."""

    name: str
    location: str
    case: Mapping[str, Any] | None = None
    ratings: Mapping[str, Decimal] | None = None
    claim: Mapping[str, Any] | None = None
    events: Mapping[str, datetime] = attrs.field(factory=dict, converter=_frozen_map)
    complexity: str | None = None
    expectations: tuple[Expectation, ...] = ()


@attrs.frozen
class FieldDecl:
    name: str
    type: str
    location: str
    choices: tuple[str, ...] = ()  # ``custom.impact one of high, medium, low``


@public_api("policy")
@attrs.frozen(eq=False)
class Policy:
    """A loaded, checked, compiled policy. Build one with ``load_policy`` or ``parse_policy``."""

    name: str
    version: str
    timezone: str
    currency: str | None
    filename: str
    calendars: Mapping[str | None, WorkCalendar] = attrs.field(converter=_frozen_map)
    fields: Mapping[str, FieldDecl] = attrs.field(converter=_frozen_map)
    priorities: tuple[PriorityRule, ...]
    slas: Mapping[str, Sla] = attrs.field(converter=_frozen_map)
    repair: Mapping[str, Target] = attrs.field(converter=_frozen_map)
    warn_at: tuple[Decimal, ...] = ()
    excuse: str | None = None
    hold: tuple[str, ...] = ()
    callback: Target | None = None
    # ``callback optional``: a case may close once accepted, without the follow-up call
    callback_optional: bool = False
    # ``repair met when completed``: the completed repair meets the repair clock, not the
    # customer's signature (``accepted``, the default)
    repair_met_when: str = "accepted"
    close_automatically: AutoClose | None = None
    reopen_within: Duration | None = None  # how long after closing a case may be reopened
    # ``reopen within ... restarting repair``: a reopened case's repair clock starts again
    # at the reopening (the default, ``resuming``, keeps its first start)
    repair_restarts_on_reopen: bool = False
    # ``resolve remotely by ROLES``: who may resolve a case without a visit (none: nobody)
    resolve_remotely: tuple[str, ...] = ()
    # ``severities a, b, c``: the words a report's severity is one of
    severities: tuple[str, ...] = SEVERITIES
    priority_table: PriorityTable | None = None
    warranty: Warranty | None = None
    sales_warranties: tuple[SalesWarrantyRule, ...] = ()
    fault_families: tuple[FaultFamily, ...] = ()
    maintenance: tuple[MaintenancePlan, ...] = ()
    escalate_after: int | None = None
    tell_customer: CustomerMessages | None = None
    survey_valid: Duration | None = None  # how long a survey link can be answered
    complaints: ComplaintRules | None = None
    product_problems_to: tuple[str, ...] = ()  # roles told of product problems
    appraisal: Appraisal | None = None
    promotion: tuple[PromotionRule, ...] = ()  # ``promote when ...``: every one must hold
    expenses: Expenses | None = None
    parts: Parts | None = None
    training: Training | None = None
    safety: Safety | None = None
    examples: tuple[Example, ...] = ()
    decide: Callable[[Any], Decision] = attrs.field(repr=False, default=None)
    source: str = attrs.field(default="", repr=False)
    """The policy's text as written (a desk stores it, so old cases keep their rules)."""
    # what loads but is likely a mistake (a calendar nothing uses); `aftersales policy check`
    # prints them
    warnings: tuple[PolicyIssue, ...] = attrs.field(default=(), repr=False, eq=False)
    tz: ZoneInfo = attrs.field(init=False, repr=False)

    @tz.default
    def _tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    # -- decisions ------------------------------------------------------------------------------
    @property
    def priority_for(self) -> Callable[[Any], Decision]:
        """Decides the priority of a case: ``policy.priority_for(case)`` -> :class:`Decision`.

        ``case`` is a mapping shaped like ``desk.cases.report``'s arguments
        (``{"severity": ..., "customer": {"tier": ...}, "custom": {...}}``) or any object
        with those attributes. The first rule whose condition holds decides. The function
        is the policy's compiled rules themselves, so keeping it costs one call per case.
        """
        return self.decide

    @property
    def priority_names(self) -> tuple[str, ...]:
        """Every priority, in the order the rules first name them."""
        return tuple(dict.fromkeys(rule.name for rule in self.priorities))

    def calendar(self, name: str | None = None) -> WorkCalendar:
        """The calendar called ``name`` (``None``: the unnamed one)."""
        try:
            return self.calendars[name]
        except KeyError:
            what = "no unnamed calendar" if name is None else f"no calendar named {name!r}"
            raise NotFound(f"{self.filename} has {what}") from None

    def sla(self, priority: str) -> Sla:
        try:
            return self.slas[priority]
        except KeyError:
            raise NotFound(
                f"no priority {priority!r} in {self.filename}; priorities: {', '.join(self.slas)}"
            ) from None

    def repair_target(self, priority: str, complexity: str) -> Target | None:
        """The repair target for a diagnosed complexity: the priority's own, else the
        ``repair`` section's."""
        own = self.sla(priority).repair.get(complexity)
        return own if own is not None else self.repair.get(complexity)

    def targets_for(self, priority: str, complexity: str | None = None) -> dict[str, Target]:
        """Every milestone's target for a priority (repair only once complexity is known)."""
        sla = self.sla(priority)
        targets = dict(sla.targets)
        same_for_all = (
            set(sla.repair) == {"simple", "complex"} and len(set(sla.repair.values())) == 1
        )
        if complexity is None and same_for_all:
            targets["repair"] = sla.repair["simple"]
        elif complexity is not None and "repair" not in targets:
            repair = self.repair_target(priority, complexity)
            if repair is not None:
                targets["repair"] = repair
        if "callback" not in targets and self.callback is not None:
            targets["callback"] = self.callback
        return targets

    def sales_warranty(self, line: str | None) -> SalesWarrantyRule | None:
        """The ``sales warranty`` rule for a machine of ``line``: its line's, else the one
        for every line (None: the policy gives no sales warranty)."""
        general = None
        for rule in self.sales_warranties:
            if rule.line is None:
                general = rule
            elif line is not None and rule.line == line:
                return rule
        return general

    def fault_family(self, code: str | None) -> FaultFamily | None:
        """The ``fault family`` a fault code belongs to (None: none, or no code)."""
        if code is None:
            return None
        return next((f for f in self.fault_families if code in f.codes), None)

    def maintenance_plans(self, line: str | None) -> tuple[MaintenancePlan, ...]:
        """The maintenance plans machines of ``line`` are due for."""
        return tuple(p for p in self.maintenance if line is not None and p.line == line)

    def maintenance_due(self, machine: Machine) -> list[tuple[MaintenancePlan, datetime]]:
        """Each maintenance plan of ``machine``'s line with when its next visit falls due:
        its period after the last visit (or the commissioning date), or the meter reading
        that ran past its hours since the last visit (the hours read then; from zero before
        any), whichever comes first. A plan with a visit open, or that nothing dates yet (a
        period without a commissioning date, hours not yet run), is left out."""
        out = []
        for plan in self.maintenance_plans(machine.line):
            done = machine.done(plan.name)
            if done is not None and done.case is not None:
                continue  # a visit is open: the plan waits for it
            since = None if done is None else done.at
            if since is None and machine.commissioned is not None:
                since = self.local(datetime.combine(machine.commissioned, time()))
            hours_since = 0.0 if done is None or done.hours is None else done.hours
            dates = []
            if plan.every is not None and since is not None:
                dates.append(self.add(since, plan.every))
            reading = machine.reading
            if (
                plan.hours is not None
                and reading is not None
                and reading.hours >= hours_since + plan.hours
            ):
                dates.append(reading.at if since is None else max(reading.at, since))
            if dates:
                out.append((plan, min(dates)))
        return out

    def next_maintenance(self, machine: Machine) -> datetime | None:
        """When the machine's next maintenance visit falls due (None: none is dated)."""
        due = [when for _, when in self.maintenance_due(machine)]
        return min(due) if due else None

    def add(self, start: datetime, duration: Duration, calendar: str | None = None) -> datetime:
        """``start`` plus ``duration``: clock time in the policy's zone, or working time on
        the named calendar."""
        if duration.working:
            return self.calendar(calendar).add(start, duration)
        return add_clock(start, duration, self.tz)

    def add_working(self, start: datetime, seconds: float, calendar: str | None = None) -> datetime:
        """``start`` plus ``seconds`` of working time on the named calendar."""
        return self.calendar(calendar).add_working_seconds(start, seconds)

    def between(self, start: datetime, end: datetime, calendar: str | None = None) -> timedelta:
        """Working time from ``start`` to ``end`` on the named calendar."""
        return self.calendar(calendar).between(start, end)

    def due(
        self, target: Target, start: datetime | None = None, appointment: datetime | None = None
    ) -> datetime | None:
        """When ``target`` falls due for a clock started at ``start`` (None if not started)."""
        if target.by_appointment:
            return appointment
        if start is None or target.duration is None:
            return None
        return self.add(start, target.duration, target.calendar)

    def month_bounds(self, period: str) -> tuple[datetime, datetime]:
        """Local midnight of the first day of ``period`` (``"2026-11"``) and of the month
        after: an appraisal month in this policy's zone."""
        year, month = (int(p) for p in period.split("-"))
        start = self.local(datetime(year, month, 1))
        end = self.local(datetime(year + month // 12, month % 12 + 1, 1))
        return start, end

    def local(self, naive: datetime) -> datetime:
        """A wall-clock time in the policy's zone as an aware datetime."""
        if naive.tzinfo is not None:
            raise ValidationError("local() takes a naive wall-clock time")
        return localize(naive, self.tz)


__all__ = [
    "FOLLOW_UP_KINDS",
    "Appraisal",
    "ApprovalRule",
    "CertificateRule",
    "ComplaintRules",
    "CustomerMessages",
    "Decision",
    "Example",
    "Expectation",
    "ExpenseLimit",
    "Expenses",
    "FaultFamily",
    "FieldDecl",
    "FollowUpRule",
    "Grade",
    "IncidentRule",
    "MaintenancePlan",
    "MetricTarget",
    "Parts",
    "Policy",
    "PriorityRule",
    "PromotionRule",
    "Safety",
    "SalesWarrantyRule",
    "Sla",
    "Target",
    "Training",
    "Warranty",
    "Weight",
]
