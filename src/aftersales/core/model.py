"""The domain's records: staff, cases and the events that make them.

Everything here is an immutable attrs value. A :class:`Case` is the fold of its
:class:`CaseEvent` list (see :mod:`aftersales.core.workflow`); the desk never edits a case,
it appends an event and folds it in. ``aftersales.to_dict`` / ``from_dict`` give the JSON
form (field names as below, datetimes as ISO 8601 with their offset).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import attrs

from aftersales.core.frozen import frozen_dict
from aftersales.core.installed_base import (
    ContractFacts,
    Coverage,
    MachineFacts,
    MaintenanceVisit,
    facts_record,
)
from aftersales.core.messages import Attachment, Recipient
from aftersales.core.vocabulary import ROLES


def _tuple(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(values)


def _frozen_dict(value: Mapping[str, Any] | None) -> dict[str, Any]:
    return frozen_dict(value)


DEFAULT_LEVELS = ("engineer", "senior_engineer", "supervisor", "manager")
"""The career ladder a desk uses unless given its own (``ServiceDesk(levels=...)`` or
``[careers] levels`` in ``aftersales.toml``)."""


@attrs.frozen
class PeriodResult:
    """A finalized month of a member's appraisal: the record behind a promotion."""

    period: str
    score: Decimal | None
    grade: str | None


@attrs.frozen
class Promotion:
    """A step up the career ladder, with the appraisals that supported it."""

    previous: str | None
    level: str
    at: datetime
    by: str
    reason: str
    appraisals: tuple[PeriodResult, ...] = ()
    roles_added: tuple[str, ...] = attrs.field(default=(), converter=_tuple)
    # a promotion the policy's ``promote when`` did not allow, made by a manager anyway:
    # the conditions it did not meet, and the manager's reason
    unmet: tuple[str, ...] = attrs.field(default=(), converter=_tuple)
    override: str | None = None


@attrs.frozen
class Rotation:
    """A spell in another job (parts store, a region, the hotline) from ``start`` to ``end``
    (None: still there)."""

    assignment: str
    start: datetime
    by: str
    end: datetime | None = None
    reason: str | None = None

    def covers(self, when: datetime) -> bool:
        return self.start <= when and (self.end is None or when < self.end)


@attrs.frozen
class Staff:
    """A member of the after-sales team."""

    id: str
    name: str
    roles: tuple[str, ...] = attrs.field(converter=_tuple)
    supervisor: str | None = None
    email: str | None = None
    phone: str | None = None
    active: bool = True
    version: int = 0
    level: str | None = None  # on the desk's career ladder; None: not placed on it
    promotions: tuple[Promotion, ...] = ()
    rotations: tuple[Rotation, ...] = ()
    team: str | None = None  # e.g. a region's crew; webhook notifiers post per team
    language: str | None = None  # a language tag (zh-CN): what the board shows them in
    # the day they reached ``level`` before the desk knew them (a team loaded with its
    # history): what ``promote when ... months in level`` counts from until a promotion
    level_since: date | None = None

    def has_role(self, *roles: str) -> bool:
        return any(role in self.roles for role in roles)


@attrs.frozen
class Customer:
    """Who reported the fault. ``tier`` and ``region`` are what policies usually test."""

    name: str
    tier: str | None = None
    region: str | None = None
    id: str | None = None  # the customer record's id (desk.customers), once matched
    key: str | None = None  # the integrator's key for the record (an ERP number)


@attrs.frozen
class Product:
    """The machine: ``serial`` identifies it across cases (warranty rework is found by it)."""

    model: str | None = None
    line: str | None = None
    serial: str | None = None


@attrs.frozen
class Handover:
    """One assignment of the case to an engineer."""

    engineer: str
    at: datetime
    by: str
    instructions: str | None = None
    reason: str | None = None


@attrs.frozen
class Diagnosis:
    cause: str
    complexity: str
    at: datetime
    by: str


@attrs.frozen
class PartUse:
    """Parts the engineer used in a repair."""

    sku: str
    quantity: int = 1
    serials: tuple[str, ...] = ()  # the parts' own serial numbers, where they have them


@attrs.frozen
class RepairReport:
    """What the engineer did, as presented to the customer for signature."""

    cause: str
    actions: str
    result: str
    engineer: str
    at: datetime
    parts_used: tuple[PartUse, ...] = ()
    remote: str | None = None  # resolved without a visit: phone, remote_session, ...


@attrs.frozen
class Acceptance:
    signed_by: str
    at: datetime
    presented_by: str
    signature: str | None = None  # the signature drawn on the screen: a PNG, base64


@attrs.frozen
class Rejection:
    signed_by: str
    reason: str
    at: datetime
    presented_by: str


@attrs.frozen
class DelayNotice:
    """The customer was told of a delay: excuses a miss if it reached them before the
    deadline. ``reached_at`` is when it did: when it was recorded, for a notice given by
    ``channel`` (``phone``, ``visit``) to the person ``told``; when a notifier delivered
    it, for one sent as a message (``channel`` ``message``, ``via`` the notifier); None
    while a message is undelivered. Notices recorded before messages existed have neither
    ``channel`` nor ``told`` and count from when they were recorded, as they always did."""

    milestone: str
    reason: str
    new_eta: datetime
    at: datetime
    by: str
    channel: str | None = None
    told: str | None = None
    reached_at: datetime | None = attrs.field(
        default=attrs.Factory(lambda self: self.at, takes_self=True)
    )
    via: str | None = None


@attrs.frozen
class Reopening:
    """A closed case opened again within the policy's ``reopen within`` window: the repair
    did not hold. Counted against the repair (first-time fix)."""

    reason: str
    at: datetime
    by: str


@attrs.frozen
class Hold:
    """A stretch of time the case waited (for the customer, for parts); ``end`` is None
    while the case is still on hold."""

    reason: str
    start: datetime
    by: str
    end: datetime | None = None
    released_by: str | None = None


@attrs.frozen
class SafetyCheck:
    """A safety checklist the engineer recorded on the case: the protective equipment
    (``require ppe ... before work``) they confirmed wearing."""

    items: tuple[str, ...] = attrs.field(converter=tuple)
    at: datetime
    by: str


@attrs.frozen
class FollowUp:
    satisfaction: int
    at: datetime
    by: str
    comments: str | None = None


@attrs.frozen
class SurveyAnswer:
    """The customer's answer to the survey link of a closed case: recorded once, from the
    signed token's ``nonce``; it is the case's follow-up where nobody called back."""

    satisfaction: int
    at: datetime
    nonce: str
    comments: str | None = None


@attrs.frozen
class PriorityChange:
    """A priority decided again after a correction (``update``)."""

    previous: str
    priority: str
    location: str
    at: datetime
    reason: str


@attrs.frozen
class PolicyChange:
    """An operator re-applied a newer policy to the case (``desk.reapply_policy``)."""

    previous: str
    version: str
    at: datetime
    by: str
    reason: str


@attrs.frozen
class Case:
    """A repair request from report to close: the fold of its events.

    ``milestones`` maps each lifecycle event (``reported``, ``responded``, ``assigned``,
    ``confirmed``, ``contacted``, ``arrived``, ``diagnosed``, ``repaired``, ``accepted``,
    ``followed_up``, ``closed``, ``cancelled``) to when it *first* happened; ``repaired``
    and ``accepted`` follow the latest repair, since a rejection reopens it.
    """

    id: str
    number: str
    status: str
    priority: str
    priority_location: str
    policy_version: str
    customer: Customer
    product: Product
    fault: str
    fault_code: str | None
    severity: str
    machine_down: bool
    channel: str
    contact: str | None
    reported_by: str
    updated_at: datetime
    custom: dict[str, Any] = attrs.field(factory=dict, converter=_frozen_dict)
    version: int = 0
    milestones: dict[str, datetime] = attrs.field(factory=dict, converter=_frozen_dict)
    engineer: str | None = None
    handovers: tuple[Handover, ...] = ()
    appointment: datetime | None = None
    diagnosis: Diagnosis | None = None
    repair: RepairReport | None = None
    acceptance: Acceptance | None = None
    rejections: tuple[Rejection, ...] = ()
    delays: tuple[DelayNotice, ...] = ()
    holds: tuple[Hold, ...] = ()
    follow_up: FollowUp | None = None
    priority_changes: tuple[PriorityChange, ...] = ()
    policy_changes: tuple[PolicyChange, ...] = ()
    rework_of: str | None = None
    chargeable: bool = True
    cancel_reason: str | None = None
    safety_checks: tuple[SafetyCheck, ...] = ()
    reopenings: tuple[Reopening, ...] = ()
    team: str | None = None  # the queue the case is in (a staff team), with or without a person
    # the installed base as the case was reported (None: the store had no record of them)
    machine: MachineFacts | None = None
    contract: ContractFacts | None = None
    coverage: Coverage | None = None  # what covers it; None for cases stored before coverage
    visit: MaintenanceVisit | None = None  # a maintenance case: the plan it serves
    survey: SurveyAnswer | None = None  # the customer's answer to the survey link

    @property
    def reported_at(self) -> datetime:
        return self.milestones["reported"]

    @property
    def resolved_remotely(self) -> bool:
        """Whether the current repair was done without a visit."""
        return self.repair is not None and self.repair.remote is not None

    @property
    def on_hold(self) -> bool:
        return bool(self.holds) and self.holds[-1].end is None

    @property
    def rejection_count(self) -> int:
        return len(self.rejections)

    @property
    def satisfaction(self) -> int | None:
        """The follow-up call's satisfaction, else the survey's (None: neither yet)."""
        if self.follow_up is not None:
            return self.follow_up.satisfaction
        return None if self.survey is None else self.survey.satisfaction

    def ppe_missing(self, required: Iterable[str]) -> tuple[str, ...]:
        """The ``required`` items the current engineer has not checked on this case (a new
        engineer after a handover checks their own equipment)."""
        checked = {i for c in self.safety_checks if c.by == self.engineer for i in c.items}
        return tuple(i for i in required if i not in checked)

    def priority_at(self, when: datetime) -> str:
        """The priority the case had at ``when`` (changes by ``update`` or a new policy)."""
        priority = self.priority_changes[0].previous if self.priority_changes else self.priority
        for change in self.priority_changes:
            if change.at <= when:
                priority = change.priority
        return priority

    def policy_version_at(self, when: datetime) -> str:
        """The policy version the case was under at ``when``."""
        version = self.policy_changes[0].previous if self.policy_changes else self.policy_version
        for change in self.policy_changes:
            if change.at <= when:
                version = change.version
        return version

    def record(self) -> dict[str, Any]:
        """The case as policy expressions see it (``severity``, ``customer.tier``, ...)."""
        return {
            "severity": self.severity,
            "machine_down": self.machine_down,
            "channel": self.channel,
            "fault": self.fault,
            "fault_code": self.fault_code,
            "product": attrs.asdict(self.product),
            "customer": attrs.asdict(self.customer),
            "under_warranty": self.rework_of is not None,
            "custom": dict(self.custom),
            **facts_record(self.machine, self.contract, self.coverage),
        }


@attrs.frozen
class CaseEvent:
    """One thing that happened to a case. ``data`` is JSON-ready (datetimes as ISO text).

    ``version`` numbers a case's events from 1; the case's ``version`` is its last event's.
    """

    case_id: str
    version: int
    type: str
    at: datetime
    by: str
    data: dict[str, Any] = attrs.field(factory=dict, converter=_frozen_dict)


@attrs.frozen
class Notification:
    """A message the desk sends through the ``aftersales_notify`` hook.

    ``kind`` is one of ``case_assigned``, ``warranty_rework``, ``acceptance_escalated`` (and,
    from the SLA clocks, warnings and breaches); ``recipients`` are staff ids. A message to
    a customer has kind ``customer_<message>`` (``customer_delayed``), no staff recipients,
    and ``to``: the contact, the channel and the address; ``text`` is what they read (its
    first line the subject).
    """

    kind: str
    case_id: str | None
    recipients: tuple[str, ...]
    subject: str
    data: dict[str, Any] = attrs.field(factory=dict, converter=_frozen_dict)
    at: datetime | None = None
    # a message to a customer (kinds ``customer_*``): the person, the text as rendered from
    # the company's templates, and files (the repair report)
    to: Recipient | None = None
    text: str | None = None
    attachments: tuple[Attachment, ...] = ()


__all__ = [
    "DEFAULT_LEVELS",
    "ROLES",
    "Acceptance",
    "Case",
    "CaseEvent",
    "Customer",
    "DelayNotice",
    "Diagnosis",
    "FollowUp",
    "Handover",
    "Hold",
    "Notification",
    "PartUse",
    "PeriodResult",
    "PolicyChange",
    "PriorityChange",
    "Promotion",
    "Rejection",
    "Reopening",
    "RepairReport",
    "Rotation",
    "SafetyCheck",
    "Staff",
    "SurveyAnswer",
]
