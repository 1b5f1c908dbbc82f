"""``desk.cases``: the repair workflow, one stored event per action.

Each action reads the case, checks the state machine (:mod:`aftersales.core.workflow`), who
acts and what they pass, folds the new event into the case and writes both in one
transaction naming the version it read. If anything raises, nothing is written.
"""

from __future__ import annotations

import base64
import binascii
import functools
import heapq
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from itertools import islice
from typing import Any, TypeVar

import attrs

from aftersales.core import values
from aftersales.core.boundary import public_api
from aftersales.core.convert import from_dict, to_dict
from aftersales.core.duration import Duration, Unit
from aftersales.core.errors import (
    ConflictError,
    NotFound,
    PermissionDenied,
    ValidationError,
    WorkflowError,
)
from aftersales.core.installed_base import (
    CASE_PARTS,
    ContractFacts,
    Coverage,
    Machine,
    MachineFacts,
    MaintenanceVisit,
    case_parts,
    decide_coverage,
    facts_record,
    maintenance_priority,
)
from aftersales.core.model import Case, CaseEvent, Customer, Notification, PartUse, Product, Staff
from aftersales.core.permissions import not_own, permit
from aftersales.core.sla import Clock
from aftersales.core.values import earlier, shown
from aftersales.core.vocabulary import AUTO_CLOSE_AFTER, REMOTE_WAYS, TOLD_BY
from aftersales.core.workflow import FINAL, REMOTE_FROM, Step, apply, check_allowed, start
from aftersales.policy import Policy
from aftersales.policy.keywords import CHANNELS, COMPLEXITIES, MILESTONE_EVENT
from aftersales.policy.model import MaintenancePlan
from aftersales.ports.storage import CaseIndex, CaseQuery, OutboxItem, event_record, utc_text
from aftersales.services.case_book import KIND, SCAN_PAGE, CaseBook
from aftersales.services.clocks import Clocks
from aftersales.services.coverage import InstalledBase, Sighting
from aftersales.services.customer_messages import CustomerMessenger
from aftersales.services.ids import uuid7
from aftersales.services.notifications import NotificationService, retried
from aftersales.services.parts import PartsService
from aftersales.services.repair_document import (
    FORMATS,
    check_signature,
    document_of,
    to_html,
    to_pdf,
)
from aftersales.services.staff import StaffDirectory
from aftersales.services.training import TrainingService

_ENGINEER_ACTIONS = frozenset(
    {"confirm", "contact", "on_the_way", "arrive", "checklist", "diagnose", "complete"}
)
F = TypeVar("F", bound=Callable[..., Any])
REPORT_TRIES = 3
"""How often a report that crossed another desk's new customer record is made again."""
MAX_SIGNATURE = 512 * 1024
"""The largest signature image an acceptance takes (a drawn signature is a few kB)."""
_PNG = b"\x89PNG\r\n\x1a\n"
_NEEDS_PPE = frozenset({"diagnose", "complete"})


_ENDS_VISIT = ("repaired", "resolved", "cancelled")
"""The events of a maintenance case that end its visit for the machine's plan."""


def _opened(policy: Policy) -> dict[str, tuple[str, ...]]:
    """The states the policy opens actions from: ``callback optional`` lets an accepted case
    close, ``reopen within`` lets a closed one reopen."""
    opened: dict[str, tuple[str, ...]] = {}
    if policy.callback_optional:
        opened["close"] = ("accepted",)
    if policy.reopen_within is not None:
        opened["reopen"] = ("closed",)
    if policy.resolve_remotely:
        opened["resolve"] = REMOTE_FROM
    return opened


# ``close automatically ... after EVENT``: the states a case may be closed from by the rule
_CLOSE_FROM = {
    "repaired": ("repaired", "accepted", "followed_up"),
    "accepted": ("accepted", "followed_up"),
    "followed_up": ("followed_up",),
}
# where a case waits in a team's queue with nobody on it
_QUEUED = ("reported", "responded")


def _in_order(case: Case) -> tuple[datetime, str]:
    """Where ``case`` comes in a search's results: report time, then id (Python compares
    text by code point, which is the stores' byte order of UTF-8)."""
    return case.reported_at, case.id


_ENGINEER_ONLY = _ENGINEER_ACTIONS | {"accept", "reject"}
_ENGINEER_MAY = _ENGINEER_ACTIONS | {
    "accept",
    "reject",
    "hold",
    "release",
    "notify_delay",
    "update",
}


def _text(value: Any, what: str, *, required: bool = True) -> str | None:
    return values.text(value, what, required=required)  # type: ignore[no-any-return]


def _record(cls: type[Any], value: Any, what: str) -> Any:
    """A Customer/Product from a mapping (or the object itself), refusing unknown keys."""
    if isinstance(value, cls):
        return value
    if not isinstance(value, Mapping):
        raise ValidationError(f"{what} must be a mapping such as {{'name': ...}}")
    known = [f.name for f in attrs.fields(cls)]
    unknown = sorted(set(value) - set(known))
    if unknown:
        raise ValidationError(
            f"unknown {what} field {shown(unknown[0])}; known: {', '.join(known)}"
        )
    checked = {key: values.name(item, f"{what}.{key}", required=False)
               for key, item in value.items()}  # fmt: skip
    return from_dict(cls, checked)


def _satisfaction(value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
        raise ValidationError(
            f"satisfaction must be a whole number from 1 to 5, not {shown(value)}"
        )


def _signature(value: Any) -> str:
    """A signature image as base64 PNG, checked: a PNG, at most MAX_SIGNATURE bytes."""
    if isinstance(value, str):
        text = value.strip().removeprefix("data:image/png;base64,")
        try:
            raw = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raise ValidationError("signature is a PNG: its bytes or base64 text") from None
    elif isinstance(value, (bytes, bytearray)):
        raw = bytes(value)
    else:
        raise ValidationError(f"signature is a PNG's bytes or base64, not {type(value).__name__}")
    if not raw.startswith(_PNG):
        raise ValidationError("signature is not a PNG image")
    if len(raw) > MAX_SIGNATURE:
        raise ValidationError(
            f"the signature image is {len(raw):,} bytes; at most {MAX_SIGNATURE:,}"
        )
    check_signature(raw)
    return base64.b64encode(raw).decode("ascii")


def _severity(severity: Any, policy: Policy) -> str:
    """``severity``, if the policy's ``severities`` (or the built-in three) name it."""
    if not isinstance(severity, str) or severity not in policy.severities:
        raise ValidationError(
            f"unknown severity {shown(severity)}; {policy.filename} names "
            f"{', '.join(policy.severities)}"
        )
    return severity


def _at_most(duration: Duration) -> timedelta:
    """A span at least as long as ``duration`` from any start (for narrowing queries)."""
    days_per_unit = {Unit.MINUTE: 1 / 1440, Unit.HOUR: 1 / 24, Unit.DAY: 1, Unit.WEEK: 7,
                     Unit.MONTH: 31, Unit.YEAR: 366}  # fmt: skip
    days = float(duration.amount) * days_per_unit[duration.unit]
    if duration.working:  # holidays stretch working time: a generous bound
        days = days * 7 + 60
    return timedelta(days=days + 2)  # a DST shift or two


def _part(item: PartUse | Mapping[str, Any]) -> PartUse:
    if isinstance(item, Mapping):
        unknown = sorted(set(item) - {"sku", "quantity", "serials"})
        if unknown:
            raise ValidationError(
                f"unknown part field {shown(unknown[0])}; known: sku, quantity, serials"
            )
        item = PartUse(item.get("sku"), item.get("quantity", 1), item.get("serials", ()))  # type: ignore[arg-type]
    if not isinstance(item, PartUse):
        raise ValidationError("parts_used holds {'sku': ..., 'quantity': ...} or PartUse items")
    sku = values.name(item.sku, "a part's sku")
    quantity = values.count(item.quantity, f"part {sku}: the quantity", minimum=1)
    listed = [item.serials] if isinstance(item.serials, str) else item.serials
    serials = tuple(
        values.name(s, f"part {sku}: a serial") for s in values.items(listed, "serials")
    )
    if len(serials) > quantity or len(set(serials)) != len(serials):
        raise ValidationError(
            f"part {sku}: {len(serials)} serials for a quantity of {quantity}; give each "
            "fitted part's serial once, at most one per part"
        )
    return PartUse(sku, quantity, serials)


def _recorded(
    recorded: Mapping[str, Any],
) -> tuple[MachineFacts | None, ContractFacts | None, Coverage | None, MaintenanceVisit | None]:
    """The installed base as a history recorded it (a case's JSON parts), checked."""
    if not isinstance(recorded, Mapping):
        raise ValidationError("recorded maps machine, contract, coverage, visit to their JSON")
    unknown = sorted(set(map(str, recorded)) - set(CASE_PARTS))
    if unknown:
        raise ValidationError(
            f"recorded: unknown part {shown(unknown[0])}; parts: {', '.join(CASE_PARTS)}"
        )
    parts = case_parts(recorded)
    return parts.get("machine"), parts.get("contract"), parts.get("coverage"), parts.get("visit")


def _installed_data(
    machine: MachineFacts | None, contract: ContractFacts | None, coverage: Coverage
) -> dict[str, Any]:
    """What an event records of the installed base as it decided."""
    return {
        "machine": None if machine is None else to_dict(machine),
        "contract": None if contract is None else to_dict(contract),
        "coverage": to_dict(coverage),
    }


def _part_data(use: PartUse) -> dict[str, Any]:
    """A part used, as the repair event holds it (``serials`` only where there are some, so
    events of parts without serials read as they always did)."""
    data: dict[str, Any] = {"sku": use.sku, "quantity": use.quantity}
    if use.serials:
        data["serials"] = list(use.serials)
    return data


def _index(case: Case, last: datetime) -> CaseIndex:
    """The case's index row after its event at ``last``."""
    accepted = case.milestones.get("accepted")
    return CaseIndex(
        number=case.number,
        status=case.status,
        engineer=case.engineer,
        reported_at=utc_text(case.reported_at),
        serial=case.product.serial,
        fault_code=case.fault_code,
        accepted_at=None if accepted is None or case.acceptance is None else utc_text(accepted),
        priority=case.priority,
        # the clocks may have moved: the next SLA tick looks at the case again
        next_alert_at=None if case.status in FINAL else utc_text(last),
        followed_up_at=None if case.follow_up is None else utc_text(case.follow_up.at),
        rework_of=case.rework_of,
        team=case.team,
        customer=case.customer.name,
    )


class _Kept:
    """The cases of a scratch workflow (``keep_in_memory``), as objects."""

    def __init__(self) -> None:
        self.cases: dict[str, Case] = {}
        self.events: dict[str, list[CaseEvent]] = {}
        self.numbers: dict[int, int] = {}

    def report(
        self, case_id: str, year: int, when: datetime, by: str, data: dict[str, Any]
    ) -> Case:
        self.numbers[year] = number = self.numbers.get(year, 0) + 1
        data["number"] = f"AS-{year}-{number:06d}"
        event = CaseEvent(case_id, 1, "reported", when, by, data)
        return self.keep(event, start(event))

    def keep(self, event: CaseEvent, case: Case) -> Case:
        self.cases[case.id] = case
        self.events.setdefault(case.id, []).append(event)
        return case

    def get(self, case_id: str) -> Case:
        found = self.cases.get(case_id)
        if found is None:
            raise NotFound(f"no case {shown(case_id)}")
        return found

    def history(self, case_id: str) -> list[CaseEvent]:
        self.get(case_id)
        return list(self.events[case_id])


def _made_again_on_conflict(report: F) -> F:
    """``report``, made again (up to REPORT_TRIES times in all) when its transaction crossed
    another desk's: nothing was stored, another desk wrote the same new customer record (or
    its name's index) first, and made again the report matches theirs."""

    @functools.wraps(report)
    def again(*args: Any, **kwargs: Any) -> Any:
        return retried(lambda: report(*args, **kwargs), on=ConflictError, tries=REPORT_TRIES)

    return again  # type: ignore[return-value]


@public_api("desk.cases")
class CaseService(CaseBook):
    """The case book (every reading method of :class:`CaseBook`) and the workflow."""

    def __init__(
        self,
        book: CaseBook,
        *,
        clocks: Clocks,
        staff: StaffDirectory,
        notifications: NotificationService,
        parts: PartsService,
        training: TrainingService,
        installed: InstalledBase,
        messenger: CustomerMessenger,
    ) -> None:
        # the same book, not a copy: one cache, so the services below read every change
        super().__init__(book._basis, cache=book._cache)
        self._clocks = clocks
        self._staff = staff
        self._notifications = notifications
        self._parts = parts
        self._training = training
        self._installed = installed
        self.messenger = messenger
        self._observers: list[Callable[[CaseEvent, Case], None]] = []
        notifications.on_receipt(self._receipt)
        # a scratch desk building imported cases links no warranty rework: its store holds
        # only the cases of one batch, not the history
        self.links_rework = True
        self._kept: _Kept | None = None

    def keep_in_memory(self) -> None:
        """Make this a scratch workflow: every action is checked and folded exactly as
        always, but the cases and their events are kept as objects in memory, not encoded,
        stored, announced to plugins or notified. What builds a history's cases to judge or
        import them (``desk.history``) uses; a desk's own store is left as it was."""
        self._kept = _Kept()
        self.links_rework = False

    # -- reading ------------------------------------------------------------------------------
    def get(self, case_id: str) -> Case:
        """The current case; NotFound if there is none with that id."""
        return super().get(case_id) if self._kept is None else self._kept.get(case_id)

    def history(self, case_id: str) -> list[CaseEvent]:
        """Every event of the case, oldest first."""
        return super().history(case_id) if self._kept is None else self._kept.history(case_id)

    def forget(self, case_id: str) -> None:
        """Drop a case a scratch workflow (``keep_in_memory``) has finished with: the import
        stored it, the replay judged it. A desk that stores its cases forgets none."""
        if self._kept is None:
            raise WorkflowError("only a scratch workflow (keep_in_memory) forgets its cases")
        self._kept.get(case_id)
        del self._kept.cases[case_id], self._kept.events[case_id]

    def find(
        self,
        *,
        status: str | Iterable[str] | None = None,
        engineer: str | None = None,
        team: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = None,
        newest_first: bool = False,
        after: str | None = None,
    ) -> list[Case]:
        """Cases by status (one or several), assigned engineer, ``team`` (cases whose
        engineer is on the team, and cases waiting in the team's queue with nobody on them),
        and report time (``since`` inclusive, ``until`` exclusive), oldest report first
        (``newest_first``: latest first, so ``limit`` keeps the latest). ``after`` (a case
        id, say the last of the previous page) starts after that case in this order: a
        cursor that, unlike counting pages, neither skips nor repeats a case when new ones
        are reported. The whole result is a list: to go through more cases than fit in
        memory, :meth:`scan` them."""
        if team is None:
            return super().find(status=status, engineer=engineer, since=since, until=until,
                                limit=limit, newest_first=newest_first, after=after)  # fmt: skip
        if limit is not None:
            limit = values.count(limit, "limit", minimum=1)
        found = self.scan(status=status, engineer=engineer, team=team, since=since,
                          until=until, newest_first=newest_first, after=after)  # fmt: skip
        return list(islice(found, limit))

    def scan(
        self,
        *,
        status: str | Iterable[str] | None = None,
        engineer: str | None = None,
        team: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        newest_first: bool = False,
        after: str | None = None,
        page: int = SCAN_PAGE,
    ) -> Iterator[Case]:
        """The cases :meth:`find` finds, one at a time, in the same order, read from the
        store ``page`` cases at a time, so memory stays that of a page whatever the store
        holds (a team's: a page shared among its members' reads). A case reported while
        the scan runs is met once or not at all; each case is as it was when its page was
        read. The arguments are checked when ``scan`` is called."""
        if team is None:
            return super().scan(status=status, engineer=engineer, since=since, until=until,
                                newest_first=newest_first, after=after, page=page)  # fmt: skip
        # checked once, now, not when first read; each member's read is this query for them
        query = self._query(status, engineer, since, until, newest_first, after)
        page = values.count(page, "page", minimum=1)
        team = values.name(team, "team")
        members = [s.id for s in self._staff.list(active=None) if s.team == team]
        if engineer is not None:
            members = [m for m in members if m == engineer]
        wanted = set(query.status or _QUEUED)
        queued = tuple(s for s in _QUEUED if s in wanted) if engineer is None else ()
        share = max(50, page // (len(members) + 1))
        reads = [self._pages(attrs.evolve(query, engineer=member), share, None)
                 for member in members]  # fmt: skip
        if queued:  # the queue: open cases nobody has yet
            waiting = self._pages(attrs.evolve(query, status=queued), share, None)
            reads.append(c for c in waiting if c.engineer is None and c.team == team)
        return heapq.merge(*reads, key=_in_order, reverse=newest_first)

    def sla(self, case_id: str, now: datetime | None = None) -> list[Clock]:
        """One clock per milestone the case's policy sets for its priority, at ``now``
        (default: the desk's clock)."""
        return self._clocks.clocks(self.get(case_id), self._basis.at(now))

    def reapply_policy(
        self,
        case_id: str,
        *,
        by: str,
        reason: str,
        at: datetime | None = None,
        version: int | None = None,
    ) -> Case:
        """Put an open case under the desk's current policy (a manager's decision, recorded
        on the case); its priority is decided again. Milestones already met keep the policy
        they were met under."""
        case = self.get(case_id)
        actor = self._staff.actor(by)
        permit(actor, "cases.reapply_policy", f"re-apply a policy to case {case.number}")
        policy = self._basis.policy
        if case.policy_version == policy.version:
            raise ValidationError(f"case {case.number} is already under policy {policy.version}")
        if case.visit is not None:  # a maintenance case: its plan's clock, in the new policy
            if case.priority not in policy.slas:
                raise ValidationError(
                    f"case {case.number} is a visit of the maintenance plan "
                    f"{case.visit.plan!r}, which policy {policy.version} ({policy.filename}) "
                    "does not have; finish it under the policy it was opened under"
                )
            priority, location = case.priority, policy.slas[case.priority].location
        else:
            decision = policy.priority_for(case.record())
            priority, location = decision.name, decision.location
        data = {
            "policy_version": policy.version,
            "priority": priority,
            "priority_location": location,
            "reason": _text(reason, "the reason for re-applying the policy"),
        }
        return self._act(case_id, "reapply_policy", by, at, version, data)

    # -- the report ---------------------------------------------------------------------------
    @_made_again_on_conflict
    def report(
        self,
        *,
        product: Mapping[str, Any] | Product,
        fault: str,
        severity: str,
        channel: str,
        by: str,
        customer: Mapping[str, Any] | Customer | None = None,
        fault_code: str | None = None,
        machine_down: bool = False,
        contact: str | None = None,
        custom: Mapping[str, Any] | None = None,
        at: datetime | None = None,
        recorded: Mapping[str, Any] | None = None,
    ) -> Case:
        """Record a customer's fault report; the policy decides its priority.

        A serial the installed base knows fills in the machine's model, line and (when
        ``customer`` is left out) its owner. The customer is matched to its record (by
        ``id``, ``key`` or name) or a record is created; two desks taking a new customer's
        first calls at the same moment both file them under one record (the second is made
        again, matching the first's). What covers the case is decided and recorded: the
        repair warranty of an earlier repair of the same fault (or fault family) on the
        machine, its sales warranty, its service contract, or chargeable.

        ``recorded`` is for histories (``desk.history``): what the installed base said when
        the case was first recorded elsewhere (``machine``, ``contract``, ``coverage``,
        ``visit``, as a case's JSON holds them), taken as given instead of looked up; a
        maintenance visit keeps its plan's priority where this policy has the plan."""
        when = self._basis.at(at)
        actor = self._staff.actor(by)
        permit(actor, "cases.report", "report a case")
        cust = None if customer is None else _record(Customer, customer, "customer")
        prod = _record(Product, product, "product")
        fault_text = _text(fault, "fault")
        _severity(severity, self._basis.policy)
        if channel not in CHANNELS:
            raise ValidationError(f"unknown channel {shown(channel)}; use {', '.join(CHANNELS)}")
        if not isinstance(machine_down, bool):
            raise ValidationError("machine_down must be True or False")
        code = _text(fault_code, "fault_code", required=False)
        fields = self._custom(custom or {})
        given = None if recorded is None else _recorded(recorded)
        if self._kept is not None or given is not None:  # as it was: nothing looked up
            if cust is None:
                raise ValidationError("customer is required")
            sighting = Sighting(cust, prod)
        else:
            sighting = self._installed.sight(cust, prod, when)
        cust, prod = sighting.customer, sighting.product
        original = self._warranty_original(prod.serial, code, when)
        coverage: Coverage | None = sighting.coverage(
            None if original is None else (original.number, self._warranty_location())
        )
        machine_facts, contract_facts = sighting.facts, sighting.contract_facts
        visit = None
        if given is not None:
            machine_facts, contract_facts, coverage, visit = given
        elif self._kept is not None:
            coverage = None  # a history from elsewhere: nobody knows what covered it
        record = {
            "severity": severity,
            "machine_down": machine_down,
            "channel": channel,
            "fault": fault_text,
            "fault_code": code,
            "product": attrs.asdict(prod),
            "customer": attrs.asdict(cust),
            "under_warranty": original is not None,
            "custom": fields,
            **facts_record(machine_facts, contract_facts, coverage),
        }
        plan = None if visit is None else self._basis.policy.slas.get(
            maintenance_priority(visit.plan)
        )  # fmt: skip
        if plan is not None:  # a maintenance visit: its plan's clock, whatever the rules say
            priority, location = plan.priority, plan.location
        else:
            decision = self._basis.policy.priority_for(record)
            priority, location = decision.name, decision.location
        case_id = uuid7()
        year = when.year
        data: dict[str, Any] = {
            "customer": to_dict(cust),
            "product": to_dict(prod),
            "fault": fault_text,
            "fault_code": code,
            "severity": severity,
            "machine_down": machine_down,
            "channel": channel,
            "contact": _text(contact, "contact", required=False),
            "custom": fields,
            "priority": priority,
            "priority_location": location,
            "policy_version": self._basis.policy.version,
            "rework_of": None if original is None else original.id,
            "chargeable": original is None if coverage is None else coverage.chargeable,
        }
        if coverage is not None:
            data.update(_installed_data(machine_facts, contract_facts, coverage))
        if visit is not None:
            data["visit"] = to_dict(visit)
        if self._kept is not None:
            return self._kept.report(case_id, year, when, by, data)
        managers = self._staff.with_role("manager") if original is not None else []
        with self._basis.storage.transaction() as tx:
            data["customer"] = to_dict(self._installed.write(tx, sighting, by, when))
            data["number"] = f"AS-{year}-{tx.next_number(f'case-{year}'):06d}"
            event = CaseEvent(case_id, 1, "reported", when, by, data)
            case = start(event)
            self._append(tx, 0, event, case)
            notes = []
            if original is not None:
                notes.append(
                    self._note(
                        "warranty_rework",
                        case,
                        [original.engineer, *managers],
                        f"{case.number} repeats fault {code} on {prod.serial}, repaired under "
                        f"warranty in {original.number}",
                        when,
                        original=original.number,
                    )
                )
            notes += self.messenger.for_event(None, case, event, self._clocks.clocks)
            items = self._notifications.stage(notes, when)
            tx.enqueue(items)
        self._cache.remember(case)
        self._after(event, case, items)
        return case

    # -- maintenance visits (the tick opens them: desk.maintenance) ----------------------------
    def open_visit(
        self,
        tx: Any,
        machine: Machine,
        owner: Customer,
        plan: MaintenancePlan,
        due: datetime,
        when: datetime,
    ) -> tuple[CaseEvent, Case, list[OutboxItem], Notification]:
        """Write, in ``tx``, the maintenance case of ``plan`` for ``machine`` fallen due at
        ``due``: reported then, by nobody (the desk, on the plan's line), its priority the
        plan's own (its clocks: the plan's window), telling the desk's service agents and
        managers. Returns what :meth:`visit_opened` announces once ``tx`` has committed."""
        policy = self._basis.policy
        visit = MaintenanceVisit(plan.name, due, plan.checklist, plan.kit, machine.hours,
                                 plan.location)  # fmt: skip
        product = Product(machine.model, machine.line, machine.serial)
        # a visit is paid by the contract that covers the machine, else by the customer
        day = due.astimezone(policy.tz).date()
        contract = self._installed.contracts.covering(machine.customer, machine.serial, day)
        coverage = decide_coverage(rework=None, sales=None, contract=contract)
        data: dict[str, Any] = {
            "customer": to_dict(owner),
            "product": to_dict(product),
            "fault": f"{plan.name} due",
            "fault_code": None,
            "severity": policy.severities[-1],
            "machine_down": False,
            "channel": "maintenance",
            "contact": None,
            "custom": {},
            "priority": maintenance_priority(plan.name),
            "priority_location": plan.location,
            "policy_version": policy.version,
            "rework_of": None,
            "chargeable": coverage.chargeable,
            "visit": to_dict(visit),
            "coverage": to_dict(coverage),
        }
        data["number"] = f"AS-{due.year}-{tx.next_number(f'case-{due.year}'):06d}"
        event = CaseEvent(uuid7(), 1, "reported", due, "", data)
        case = start(event)
        self._append(tx, 0, event, case)
        note = self._note("maintenance_due", case,
                          self._staff.with_role("service_agent", "manager"),
                          f"{case.number}: {plan.name} due on {machine.serial}", when,
                          plan=plan.name, serial=machine.serial, rule=plan.location)  # fmt: skip
        items = self._notifications.stage([note], when)
        tx.enqueue(items)
        return event, case, items, note

    def visit_opened(self, event: CaseEvent, case: Case, items: list[OutboxItem]) -> None:
        """After :meth:`open_visit`'s transaction: cache, observers, delivery."""
        self._cache.remember(case)
        self._after(event, case, items)

    def _covered_again(self, case: Case, changes: dict[str, Any]) -> dict[str, Any]:
        """What covers ``case`` with the fault code or serial of ``changes``, decided as at
        its report: the event data of the new machine, contract and coverage (and the new
        product in ``changes``)."""
        code = changes.get("fault_code", case.fault_code)
        product = case.product
        if "serial" in changes:
            product = Product(None, None, changes["serial"])  # the new machine fills them in
        sighting = self._installed.sight(case.customer, product, case.reported_at)
        if "serial" in changes:
            changes["product"] = to_dict(sighting.product)
        original = self._warranty_original(sighting.product.serial, code, case.reported_at,
                                           case.id)  # fmt: skip
        coverage = sighting.coverage(
            None if original is None else (original.number, self._warranty_location())
        )
        return {
            **_installed_data(sighting.facts, sighting.contract_facts, coverage),
            "rework_of": None if original is None else original.id,
            "chargeable": coverage.chargeable,
        }

    @staticmethod
    def _facts(
        data: Mapping[str, Any],
    ) -> tuple[MachineFacts | None, ContractFacts | None, Coverage | None]:
        machine, contract = data["machine"], data["contract"]
        return (
            None if machine is None else from_dict(MachineFacts, machine),
            None if contract is None else from_dict(ContractFacts, contract),
            from_dict(Coverage, data["coverage"]),
        )

    def _warranty_location(self) -> str:
        warranty = self._basis.policy.warranty
        return "" if warranty is None else warranty.location

    def _custom(self, custom: Mapping[str, Any], policy: Policy | None = None) -> dict[str, Any]:
        declared = (policy or self._basis.policy).fields
        out: dict[str, Any] = {}
        if not isinstance(custom, Mapping):
            raise ValidationError("custom maps field names to values: {'hazardous': True}")
        for name, value in custom.items():
            decl = declared.get(f"custom.{name}")
            if decl is None:
                known = ", ".join(n.removeprefix("custom.") for n in declared) or "none"
                raise ValidationError(
                    f"custom field {shown(name)} is not declared in the policy's fields block; "
                    f"declared: {known}"
                )
            if value is None:
                continue
            ok = {
                "text": isinstance(value, str),
                "number": isinstance(value, (int, float)) and not isinstance(value, bool),
                "bool": isinstance(value, bool),
            }[decl.type]
            if not ok:
                raise ValidationError(
                    f"custom field {shown(name)} is {decl.type} in the policy, not {shown(value)}"
                )
            if decl.type == "number":  # finite and in range: what the policy can compare
                values.amount(value, f"custom field {shown(name)}", minimum=None)
            elif decl.type == "text":
                value = values.text(value, f"custom field {shown(name)}", limit=values.MAX_NAME * 5)
                if decl.choices and value not in decl.choices:
                    raise ValidationError(
                        f"custom field {shown(name)} is one of {', '.join(decl.choices)} in the "
                        f"policy, not {shown(value)}"
                    )
            out[name] = value
        return out

    def _warranty_original(
        self, serial: str | None, code: str | None, at: datetime, itself: str | None = None
    ) -> Case | None:
        warranty = self._basis.policy.warranty
        if warranty is None or not serial or not code or not self.links_rework:
            return None
        # Only repairs accepted since this could still be covered; the exact test follows.
        oldest = at - _at_most(warranty.duration)
        # A machine's repeat faults follow each other, so the last few reports hold the one.
        # A fault family matches any of its codes: the machine's recent repairs are read and
        # the family's codes kept.
        family = self._basis.policy.fault_family(code)
        query = CaseQuery(
            serial=serial,
            fault_code=code if family is None else None,
            accepted_since=utc_text(oldest),
            newest_first=True,
            limit=5 if family is None else 50,
        )
        candidates = self._basis.storage.find_cases(query)
        codes = (code,) if family is None else family.codes
        best = None
        for record in candidates:
            case = from_dict(Case, record.data)
            if case.fault_code not in codes or case.id == itself:
                continue
            started = case.milestones.get(warranty.after)
            if case.acceptance is None or started is None or started > at:
                continue
            if self._basis.policy.add(started, warranty.duration) >= at and (
                best is None or started > best.milestones[warranty.after]
            ):
                best = case
        return best

    # -- the workflow steps -------------------------------------------------------------------
    def respond(
        self, case_id: str, *, by: str, at: datetime | None = None, version: int | None = None
    ) -> Case:
        """Customer service has answered the customer."""
        return self._act(case_id, "respond", by, at, version, {})

    def assign(
        self,
        case_id: str,
        *,
        engineer: str,
        by: str,
        at: datetime | None = None,
        instructions: str | None = None,
        override: str | None = None,
        version: int | None = None,
    ) -> Case:
        """Give the case to an engineer (notifies them: ``case_assigned``). An engineer who
        lacks a certificate the policy's ``require certificate`` rules ask for the case is
        refused, unless a manager gives ``override=`` with the reason (recorded)."""
        data = self._assignment(case_id, engineer, by, at, override)
        data["instructions"] = _text(instructions, "the instructions", required=False)
        return self._act(case_id, "assign", by, at, version, data)

    def _assignment(
        self, case_id: str, engineer: str, by: str, at: datetime | None, override: str | None
    ) -> dict[str, Any]:
        staff = self._engineer(engineer)
        data: dict[str, Any] = {"engineer": engineer, "team": staff.team}
        actor = self._staff.actor(by)
        overridden = self._training.check_assignment(
            self.get(case_id), staff, actor, self._basis.at(at), override
        )
        if overridden is not None:
            data["override"] = overridden
        return data

    def reassign(
        self,
        case_id: str,
        *,
        engineer: str,
        by: str,
        reason: str,
        at: datetime | None = None,
        instructions: str | None = None,
        override: str | None = None,
        version: int | None = None,
    ) -> Case:
        """Hand the case to another engineer, who confirms it again (certificates as for
        ``assign``)."""
        data = self._assignment(case_id, engineer, by, at, override)
        data["reason"] = _text(reason, "the reason for a reassignment")
        data["instructions"] = _text(instructions, "the instructions", required=False)
        return self._act(case_id, "reassign", by, at, version, data)

    def unassign(
        self,
        case_id: str,
        *,
        by: str,
        reason: str,
        at: datetime | None = None,
        version: int | None = None,
    ) -> Case:
        """Take the case from its engineer and put it back in the queue (``responded``, no
        engineer) until it is assigned again; a service agent or manager, with a reason. The
        engineer is told. Milestones already met stay met."""
        case = self.get(case_id)
        data = {"engineer": case.engineer, "reason": _text(reason, "the reason")}
        return self._act(case_id, "unassign", by, at, version, data)

    def queue(
        self,
        case_id: str,
        *,
        team: str,
        by: str,
        reason: str | None = None,
        at: datetime | None = None,
        version: int | None = None,
    ) -> Case:
        """Put the case in a team's queue (a service agent or manager): any member of the team
        may ``take`` it, or the desk ``assign`` it to one. A case in a person's hands leaves
        them (the hand-over between teams; the person is told) and waits for the new team.
        ``team`` is a team of the staff directory (``Staff.team``)."""
        name = values.name(team, "team")
        if not self._staff.team(name):
            teams = ", ".join(self._staff.teams()) or "none"
            raise ValidationError(f"no active member is on team {shown(name)}; teams: {teams}")
        case = self.get(case_id)
        data = {
            "team": name,
            "engineer": case.engineer,
            "reason": _text(reason, "the reason", required=False),
        }
        return self._act(case_id, "queue", by, at, version, data)

    def take(
        self,
        case_id: str,
        *,
        by: str,
        at: datetime | None = None,
        override: str | None = None,
        version: int | None = None,
    ) -> Case:
        """An engineer on the team the case is queued for takes it (an assignment to
        themselves, with the same certificate checks as ``assign``)."""
        case = self.get(case_id)
        staff = self._engineer(by)
        if case.team is None or staff.team != case.team:
            where = f"team {case.team}'s queue" if case.team else "no team's queue"
            raise PermissionDenied(
                f"{by} cannot take case {case.number}: it is in {where} and {by} is on "
                f"{'team ' + staff.team if staff.team else 'no team'}; the desk assigns it "
                "(desk.cases.assign) or queues it for their team"
            )
        data = self._assignment(case_id, by, by, at, override)
        return self._act(case_id, "take", by, at, version, data)

    def resolve(
        self,
        case_id: str,
        *,
        by: str,
        way: str,
        actions: str,
        result: str,
        cause: str | None = None,
        parts_used: Sequence[PartUse | Mapping[str, Any]] = (),
        at: datetime | None = None,
        version: int | None = None,
    ) -> Case:
        """Resolve the case without a visit, before anyone is on site: ``way`` is ``phone``,
        ``remote_session``, ``parts_sent`` or ``self_fix`` (the customer, guided by
        service). Only where the policy says ``resolve remotely by ROLES``, by one of those
        roles (an engineer: only on their own case). The case is repaired (and responded, if
        it was solved on the first call); the customer accepts or rejects it as any repair
        (a rejection sends it to an engineer). Clocks of what never happened (contact,
        arrival, a repair clock counted from the arrival) end ``not_applicable``."""
        if way not in REMOTE_WAYS:
            raise ValidationError(f"unknown way {shown(way)}; use {', '.join(REMOTE_WAYS)}")
        data = self._repair_data(actions, result, cause, parts_used)
        data["way"] = way
        return self._repair(case_id, "resolve", by, at, version, data)

    def _repair(
        self,
        case_id: str,
        action: str,
        by: str,
        at: datetime | None,
        version: int | None,
        data: dict[str, Any],
    ) -> Case:
        """A repair (on site or remote): the parts it used leave the stock in its own
        transaction, with the reorder notices they call for."""
        when = self._basis.at(at)
        parts = data["parts_used"] if self._kept is None else None  # history moves no stock
        used = self._parts.consumption(self.get(case_id), parts, by, when) if parts else None
        if used is None:
            return self._act(case_id, action, by, when, version, data)
        return self._act(case_id, action, by, when, version, data, also=used.write,
                         notes=used.notes)  # fmt: skip

    def _repair_data(
        self,
        actions: str,
        result: str,
        cause: str | None,
        parts_used: Sequence[PartUse | Mapping[str, Any]],
    ) -> dict[str, Any]:
        merged: dict[str, PartUse] = {}  # two lines of one part are one use: added together
        for item in values.items(parts_used, "parts_used"):
            use = _part(item)
            if use.sku in merged:
                before = merged[use.sku]
                use = _part(
                    PartUse(use.sku, before.quantity + use.quantity, before.serials + use.serials)
                )
            merged[use.sku] = use
        return {
            "actions": _text(actions, "actions"),
            "result": _text(result, "the result of the tests"),
            "cause": _text(cause, "cause", required=False),
            "parts_used": [_part_data(use) for use in merged.values()],
        }

    def confirm(
        self, case_id: str, *, by: str, at: datetime | None = None, version: int | None = None
    ) -> Case:
        """The assigned engineer accepts the job."""
        return self._act(case_id, "confirm", by, at, version, {})

    def contact(
        self,
        case_id: str,
        *,
        by: str,
        at: datetime | None = None,
        appointment: datetime | None = None,
        version: int | None = None,
    ) -> Case:
        """The engineer has called the customer and, usually, agreed a time on site."""
        when = self._basis.at(at)
        if appointment is not None:
            appointment = self._basis.at(appointment)
            if appointment < when:
                raise ValidationError(
                    f"the appointment {appointment.isoformat()} is before the call "
                    f"({when.isoformat()})"
                )
        else:
            case = self.get(case_id)
            target = self.rules(case).sla(case.priority).target("arrival")
            if target is not None and target.by_appointment:
                raise ValidationError(
                    f"priority {case.priority} sets arrival by appointment "
                    f"({target.location}); pass appointment="
                )
        data = {"appointment": None if appointment is None else appointment.isoformat()}
        return self._act(case_id, "contact", by, when, version, data)

    def arrive(
        self, case_id: str, *, by: str, at: datetime | None = None, version: int | None = None
    ) -> Case:
        """The engineer is on site."""
        return self._act(case_id, "arrive", by, at, version, {})

    def checklist(
        self,
        case_id: str,
        items: Iterable[str],
        *,
        by: str,
        at: datetime | None = None,
        version: int | None = None,
    ) -> Case:
        """The assigned engineer records the safety gear they checked before work (the
        policy's ``require ppe``); ``desk.safety.checklist`` is the same call."""
        listed = [items] if isinstance(items, str) else list(items)
        if not listed or not all(isinstance(i, str) and i.strip() for i in listed):
            raise ValidationError("a safety checklist needs at least one item, as text")
        case = self.get(case_id)
        rules = self.rules(case).safety
        known = rules.ppe if rules is not None else ()
        unknown = [i for i in listed if known and i not in known]
        if unknown:
            raise ValidationError(
                f"{', '.join(map(repr, unknown))} is not safety gear the policy names "
                f"({rules.ppe_location if rules else ''}); the items are {', '.join(known)}"
            )
        data = {"items": list(dict.fromkeys(listed))}
        return self._act(case_id, "checklist", by, at, version, data)

    def diagnose(
        self,
        case_id: str,
        *,
        by: str,
        cause: str,
        complexity: str,
        at: datetime | None = None,
        version: int | None = None,
    ) -> Case:
        """The cause is found; ``complexity`` (``simple`` or ``complex``) picks the repair
        target."""
        if complexity not in COMPLEXITIES:
            raise ValidationError(
                f"unknown complexity {shown(complexity)}; use {', '.join(COMPLEXITIES)}"
            )
        data = {"cause": _text(cause, "cause"), "complexity": complexity}
        return self._act(case_id, "diagnose", by, at, version, data)

    def complete(
        self,
        case_id: str,
        *,
        by: str,
        actions: str,
        result: str,
        parts_used: Sequence[PartUse | Mapping[str, Any]] = (),
        cause: str | None = None,
        at: datetime | None = None,
        version: int | None = None,
    ) -> Case:
        """The repair is done and tested; the report goes to the customer to sign."""
        data = self._repair_data(actions, result, cause, parts_used)
        return self._repair(case_id, "complete", by, at, version, data)

    def accept(
        self,
        case_id: str,
        *,
        signed_by: str,
        by: str,
        at: datetime | None = None,
        version: int | None = None,
        signature: bytes | str | None = None,
    ) -> Case:
        """The customer signs the repair report. ``signed_by`` is the customer's signer,
        ``by`` the engineer presenting the report; ``signature`` the signature drawn on the
        screen, a PNG (its bytes, base64, or a ``data:image/png;base64,`` URL), kept with
        the acceptance and printed on the repair report."""
        data: dict[str, Any] = {"signed_by": _text(signed_by, "signed_by (the customer's signer)")}
        if signature is not None:
            data["signature"] = _signature(signature)
        return self._act(case_id, "accept", by, at, version, data)

    def reject(
        self,
        case_id: str,
        *,
        signed_by: str,
        by: str,
        reason: str,
        at: datetime | None = None,
        version: int | None = None,
    ) -> Case:
        """The customer refuses the repair: it goes back to ``diagnosed`` to be repaired
        again. The manager is told once the policy's ``escalate after`` count is reached."""
        data = {
            "signed_by": _text(signed_by, "signed_by (the customer's signer)"),
            "reason": _text(reason, "the reason for the rejection"),
        }
        return self._act(case_id, "reject", by, at, version, data)

    def notify_delay(
        self,
        case_id: str,
        *,
        milestone: str,
        reason: str,
        new_eta: datetime,
        by: str,
        told: str | None = None,
        channel: str | None = None,
        at: datetime | None = None,
        version: int | None = None,
    ) -> Case:
        """Tell the customer a milestone will be late, why, and when to expect it instead.

        Either staff told them themselves: ``told`` is the person and ``channel`` how
        (``phone``, ``visit``, ...); the notice counts from now. Or the desk sends the
        policy's delay message (``tell customer when delayed``) to the case's contact: the
        notice counts from when a notifier delivered it. Only a notice that reached the
        customer before the deadline excuses a miss (``excuse when notified before due``)."""
        when = self._basis.at(at)
        if not isinstance(milestone, str) or milestone not in MILESTONE_EVENT:
            raise ValidationError(
                f"unknown milestone {shown(milestone)}; use {', '.join(MILESTONE_EVENT)}"
            )
        eta = self._basis.at(new_eta)
        if eta <= when:
            raise ValidationError("new_eta must be later than the notice")
        case = self.get(case_id)
        if MILESTONE_EVENT[milestone] in case.milestones:
            raise ValidationError(f"case {case.number}: the {milestone} milestone is already met")
        data = {
            "milestone": milestone,
            "reason": _text(reason, "the reason for the delay"),
            "new_eta": eta.isoformat(),
        }
        if told is not None or channel is not None:
            if channel not in TOLD_BY:
                raise ValidationError(
                    f"channel is how the customer was told: {', '.join(TOLD_BY)}, not "
                    f"{shown(channel)}"
                )
            data["told"] = values.name(told, "told (who at the customer was told)")
            data["channel"] = channel
        else:
            to, why = self.messenger.reach(case, "delayed")
            if to is None:
                raise ValidationError(
                    f"case {case.number}: the delay cannot be sent as a message ({why}); "
                    "tell the customer yourself and record it: told='the person', "
                    "channel='phone'"
                )
            data["channel"] = "message"
        return self._act(case_id, "notify_delay", by, when, version, data)

    def on_the_way(
        self,
        case_id: str,
        *,
        by: str,
        eta: datetime | None = None,
        at: datetime | None = None,
        version: int | None = None,
    ) -> Case:
        """The engineer sets off to the customer (after the appointment is agreed), and
        expects to arrive at ``eta``; the customer is told where the policy says
        (``tell customer when departed``)."""
        when = self._basis.at(at)
        data: dict[str, Any] = {"eta": None}
        if eta is not None:
            arrival = self._basis.at(values.moment(eta, "eta"))
            if arrival <= when:
                raise ValidationError("eta must be later than setting off")
            data["eta"] = arrival.isoformat()
        return self._act(case_id, "on_the_way", by, when, version, data)

    def answer_survey(
        self,
        token: str,
        *,
        satisfaction: int,
        comments: str | None = None,
        at: datetime | None = None,
    ) -> Case:
        """Record the customer's answer to a survey link: ``token`` is the link's, signed
        by the desk, so it names the case and nobody acts in person. A token is answered
        once (a case takes one answer); one altered, signed elsewhere (PermissionDenied) or
        expired (ValidationError) is refused and records nothing."""
        when = self._basis.at(at)
        found = self.messenger.tokens.read(token, when)
        _satisfaction(satisfaction)
        case = self.get(found.case_id)
        if found.round != len(case.reopenings):
            raise ConflictError(
                f"this survey link of case {case.number} was sent before the case was "
                "reopened; the link sent at its latest close asks about the repair now"
            )
        if case.survey is not None:
            raise ConflictError(
                f"case {case.number}'s survey was answered at {case.survey.at.isoformat()}; "
                "a survey link is answered once"
            )
        data = {"satisfaction": satisfaction, "nonce": found.nonce,
                "comments": values.text(comments, "the comments", required=False)}  # fmt: skip
        return self._act(case.id, "answer_survey", "", max(when, case.updated_at), None, data,
                         by_rule={})  # fmt: skip

    def report_document(
        self, case_id: str, *, format: str = "pdf", language: str | None = None
    ) -> bytes:
        """The case's repair report as a document the customer keeps: ``pdf`` or ``html``
        (UTF-8 bytes), in ``language`` (default: the contact's, else English)."""
        if format not in FORMATS:
            raise ValidationError(f"format is {' or '.join(FORMATS)}, not {shown(format)}")
        case = self.get(case_id)
        policy = self.rules(case)
        templates = self.messenger.templates
        if language is None:
            to, _ = self.messenger.reach(case, "completed")
            language = templates.languages[0] if to is None else to.language
        elif language not in templates.languages:
            raise ValidationError(
                f"language is one of {', '.join(templates.languages)}, not {shown(language)}"
            )
        engineer = case.repair.engineer if case.repair else case.engineer
        doc = document_of(case, policy, self.messenger.name_of(engineer))
        if format == "html":
            return to_html(doc, templates, language, policy.name).encode("utf-8")
        return to_pdf(doc, templates, language, policy.name)

    def _receipt(self, note: Notification, plugin: str, receipt: str, at: datetime) -> None:
        """A notifier delivered a customer's message: a delay notice now counts from here."""
        if note.kind != "customer_delayed" or note.case_id is None or self._kept is not None:
            return
        index = note.data.get("notice")
        data = {"notice": index, "at": at.isoformat(), "via": f"{plugin}:{receipt}"}
        for _ in range(3):
            case = self.get(note.case_id)
            if not isinstance(index, int) or not 0 <= index < len(case.delays):
                return
            if case.delays[index].reached_at is not None:
                return
            try:
                self._act(case.id, "notice_delivered", "", max(at, case.updated_at),
                          case.version, data, by_rule={})  # fmt: skip
                return
            except ConflictError:
                continue  # the case moved on meanwhile: read it again

    def hold(
        self,
        case_id: str,
        *,
        reason: str,
        by: str,
        at: datetime | None = None,
        version: int | None = None,
    ) -> Case:
        """Put the case on hold for a reason the policy's ``hold`` line allows
        (``"waiting for parts"``, or just ``"parts"``)."""
        allowed = self.rules(self.get(case_id)).hold
        wanted = reason.strip() if isinstance(reason, str) else reason
        full = next((r for r in allowed if wanted in (r, r.removeprefix("waiting for "))), None)
        if full is None:
            choices = ", ".join(repr(r) for r in allowed)
            raise ValidationError(
                f"the policy does not allow a hold for {shown(reason)}; "
                + (f"it allows {choices}" if allowed else "it has no hold line")
            )
        return self._act(case_id, "hold", by, at, version, {"reason": full})

    def release(
        self, case_id: str, *, by: str, at: datetime | None = None, version: int | None = None
    ) -> Case:
        """Take the case off hold."""
        return self._act(case_id, "release", by, at, version, {})

    def follow_up(
        self,
        case_id: str,
        *,
        by: str,
        satisfaction: int,
        comments: str | None = None,
        at: datetime | None = None,
        version: int | None = None,
    ) -> Case:
        """Customer service called the customer back: satisfaction from 1 to 5."""
        _satisfaction(satisfaction)
        case = self.get(case_id)
        actor = self._staff.actor(by)
        for handover in case.handovers:
            not_own(actor, handover.engineer,
                    f"record the satisfaction of case {case.number}, which they worked on",
                    "another service agent or a manager calls back")  # fmt: skip
        comments = values.text(comments, "the comments", required=False)
        data = {"satisfaction": satisfaction, "comments": comments}
        return self._act(case_id, "follow_up", by, at, version, data)

    def close(
        self, case_id: str, *, by: str, at: datetime | None = None, version: int | None = None
    ) -> Case:
        """Close a followed-up case (or an accepted one, if the policy says ``callback
        optional``)."""
        return self._act(case_id, "close", by, at, version, {})

    def close_due(self, now: datetime | None = None) -> list[Notification]:
        """Close every case its policy's ``close automatically DURATION after EVENT`` says is
        due by ``now`` (default: the desk's clock), as a recorded ``closed`` event with no
        person behind it, and tell whoever reported it. The SLA tick calls this. A case is
        closed once: a case closed (or changed) meanwhile is left alone. Runs when the desk's
        own policy has the rule; each case is judged by the rule of the policy it is under."""
        if self._basis.policy.close_automatically is None:
            return []  # the idle tick's usual case: nothing read
        when = self._basis.at(now)
        sent: list[Notification] = []
        for case in self.matching(CaseQuery(status=AUTO_CLOSE_AFTER)):
            policy = self.rules(case)
            rule = policy.close_automatically
            start = None if rule is None else case.milestones.get(rule.after)
            if rule is None or start is None or case.status not in _CLOSE_FROM[rule.after]:
                continue
            if earlier(when, policy.add(start, rule.duration)) or earlier(when, case.updated_at):
                continue
            note = self._note("case_closed_automatically", case, [case.reported_by],
                              f"{case.number} closed: {rule.duration} after {rule.after}",
                              when, rule=rule.location)  # fmt: skip
            data = {"automatically": rule.location}
            try:
                self._act(case.id, "close", "", when, case.version, data, notes=[note],
                          by_rule={"close": _CLOSE_FROM[rule.after]})  # fmt: skip
            except ConflictError:
                continue  # another desk closed or changed it just now
            sent.append(note)
        return sent

    def reopen(
        self,
        case_id: str,
        *,
        by: str,
        reason: str,
        at: datetime | None = None,
        version: int | None = None,
    ) -> Case:
        """Open a closed case again, with the reason (the repair did not hold): back to its
        engineer, who confirms again (or to the queue if it had none). Only within the
        ``reopen within`` window of the case's policy; a service agent or manager. The
        reopening counts against the repair: the case is no first-time fix. The milestones met
        before the repair stay met; the repair clock resumes or restarts as the policy says."""
        case = self.get(case_id)
        permit(self._staff.actor(by), "cases.reopen", f"reopen case {case.number}")
        policy = self.rules(case)
        when = self._basis.at(at)
        closed = case.milestones.get("closed")
        if case.status != "closed":  # WorkflowError naming its state and what it allows
            check_allowed(case, "reopen", _opened(policy))
        if policy.reopen_within is None or closed is None:
            raise WorkflowError(
                f"case {case.number} cannot be reopened: its policy ({policy.filename}) sets no "
                "'reopen within' window; report the fault again as a new case"
            )
        if when > policy.add(closed, policy.reopen_within):
            raise WorkflowError(
                f"case {case.number} closed {closed:%Y-%m-%d %H:%M}, more than "
                f"{policy.reopen_within} ago (reopen within, {policy.filename}); report the "
                "fault again as a new case"
            )
        data = {"reason": _text(reason, "the reason for reopening")}
        return self._act(case_id, "reopen", by, at, version, data)

    def cancel(
        self,
        case_id: str,
        *,
        by: str,
        reason: str,
        at: datetime | None = None,
        version: int | None = None,
    ) -> Case:
        """Cancel a case that is not closed (a manager or service agent, with a reason)."""
        data = {"reason": _text(reason, "the reason for cancelling")}
        return self._act(case_id, "cancel", by, at, version, data)

    def update(
        self,
        case_id: str,
        *,
        by: str,
        reason: str,
        severity: str | None = None,
        machine_down: bool | None = None,
        fault_code: str | None = None,
        serial: str | None = None,
        custom: Mapping[str, Any] | None = None,
        at: datetime | None = None,
        version: int | None = None,
    ) -> Case:
        """Correct severity, machine_down, the fault code, the machine's serial or custom
        fields; the priority is decided again and a change is recorded on the case (and in
        its clocks). A new fault code or serial also decides again what covers the case, as
        at its report (the machine's warranty, contract and repairs as they stood then)."""
        case = self.get(case_id)
        changes: dict[str, Any] = {}
        if fault_code is not None:
            changes["fault_code"] = values.name(fault_code, "the fault code")
        if serial is not None:
            changes["serial"] = values.name(serial, "the serial")
        if severity is not None:
            changes["severity"] = _severity(severity, self.rules(case))
        if machine_down is not None:
            if not isinstance(machine_down, bool):
                raise ValidationError("machine_down must be True or False")
            changes["machine_down"] = machine_down
        if custom:
            changes["custom"] = self._custom(custom, self.rules(case))
        if not changes:
            raise ValidationError(
                "update needs severity=, machine_down=, fault_code=, serial= or custom="
            )
        record = case.record()
        record.update({k: v for k, v in changes.items() if k not in ("custom", "serial")})
        record["custom"] = {**case.custom, **changes.get("custom", {})}
        data: dict[str, Any] = {"changes": changes}
        if ("fault_code" in changes or "serial" in changes) and self._kept is None:
            data.update(self._covered_again(case, changes))
            changes.pop("serial", None)
            record.update(
                product=data["changes"].get("product", record["product"]),
                under_warranty=data["rework_of"] is not None,
            )
            for part in ("machine", "contract", "coverage"):
                record.pop(part, None)
            record.update(facts_record(*self._facts(data)))
        elif "serial" in changes:  # a history's case: the machine as given, no coverage
            product = attrs.evolve(case.product, serial=changes.pop("serial"))
            changes["product"] = to_dict(product)
            record["product"] = attrs.asdict(product)
        if case.visit is not None:  # a maintenance case keeps its plan's priority
            priority, location = case.priority, case.priority_location
        else:
            decision = self.rules(case).priority_for(record)
            priority, location = decision.name, decision.location
        data.update(
            reason=_text(reason, "the reason for the correction"),
            priority=priority,
            priority_location=location,
        )
        return self._act(case_id, "update", by, at, version, data)

    # -- the common path ----------------------------------------------------------------------
    def _act(
        self,
        case_id: str,
        action: str,
        by: str,
        at: datetime | None,
        version: int | None,
        data: dict[str, Any],
        also: Callable[[Any], None] | None = None,
        notes: Sequence[Notification] = (),
        by_rule: Mapping[str, tuple[str, ...]] | None = None,
    ) -> Case:
        """Check, fold and store one action; ``also`` writes more in the same transaction
        (the parts a repair used), and ``notes`` go to the outbox with it. ``by_rule``: the
        desk acts on a policy rule, nobody in person (``by`` is empty), from the states the
        rule opens the action from."""
        when = self._basis.at(at)
        case = self.get(case_id)
        if version is not None and version != case.version:
            raise ConflictError(
                f"case {case.number} is at version {case.version}, not {version}: "
                "someone else changed it; read it again and retry"
            )
        rules = self.rules(case)
        if by_rule is not None:
            step = check_allowed(case, action, by_rule)
        else:
            actor = self._staff.actor(by)
            step = check_allowed(case, action, _opened(rules))
            self._permit(case, actor, step, rules)
        if action in _NEEDS_PPE:
            self._check_ppe(case, action)
        if earlier(when, case.updated_at):
            raise ValidationError(
                f"{action} at {when.isoformat()} is before the case's last event "
                f"({case.updated_at.isoformat()}); actions are recorded in order"
            )
        event = CaseEvent(case.id, case.version + 1, step.event, when, by, data)
        after = apply(case, event)
        if self._kept is not None:
            return self._kept.keep(event, after)
        # the notifications go to the outbox in the event's own transaction
        told = self.messenger.for_event(case, after, event, self._clocks.clocks)
        items = self._notifications.stage([*self._notes(case, after, event), *notes, *told],
                                          when)  # fmt: skip
        with self._basis.storage.transaction() as tx:
            self._append(tx, case.version, event, after)
            if also is not None:
                also(tx)
            if after.visit is not None and event.type in _ENDS_VISIT:
                # the machine's plan starts again from a visit done, or is due again at once
                # when its visit was cancelled
                self._installed.machines.visit_ended(
                    tx, after, done=event.type != "cancelled", at=when, who=by
                )
            if items:
                tx.enqueue(items)
        self._cache.remember(after)
        self._after(event, after, items)
        return after

    def _permit(self, case: Case, actor: Staff, step: Step, rules: Policy) -> None:
        # the relation in the table's rows of these actions is "the case's engineer"
        engineer = case.engineer is not None and actor.id == case.engineer
        verb = step.action.replace("_", " ")
        assigned = f"the assigned engineer ({case.engineer})" if case.engineer else "an engineer"
        who = assigned if step.action in _ENGINEER_ONLY else None
        related = engineer and step.action in _ENGINEER_MAY
        if step.action in ("accept", "reject") and case.repair is not None:
            # a fix on the call: whoever resolved it presents it, engineer or not
            related = engineer or (case.resolved_remotely and actor.id == case.repair.engineer)
        if step.action == "take":
            related = actor.team is not None and actor.team == case.team
        elif step.action == "resolve":
            # the policy's roles; an engineer's role reaches only their own cases
            allowed = [r for r in rules.resolve_remotely if r != "engineer" or engineer]
            related = actor.has_role(*allowed)
            who = (
                " or ".join(
                    "the assigned engineer" if r == "engineer" else f"a {r}"
                    for r in rules.resolve_remotely
                )
                + f" (resolve remotely, {rules.filename})"
            )
        permit(actor, f"cases.{step.action}", f"{verb} case {case.number}",
               related=related, who=who)  # fmt: skip

    def _check_ppe(self, case: Case, action: str) -> None:
        rules = self.rules(case).safety
        missing = case.ppe_missing(rules.ppe) if rules is not None else ()
        if rules is not None and missing:
            raise WorkflowError(
                f"cannot {action} case {case.number}: {case.engineer} has not checked "
                f"{', '.join(missing)} (require ppe, {rules.ppe_location}); record the "
                "safety checklist first (desk.safety.checklist)"
            )

    def _engineer(self, staff_id: str) -> Staff:
        staff = self._staff.actor(staff_id)
        if not staff.has_role("engineer"):
            raise PermissionDenied(f"{staff_id} is not an engineer and cannot be assigned a case")
        return staff

    def _append(self, tx: Any, expected: int, event: CaseEvent, case: Case) -> None:
        stored = event_record(event.version, event.type, event.by, event.at, event.data)
        tx.append(KIND, case.id, expected, [stored], to_dict(case), self._judged(case, event.at))

    def _judged(self, case: Case, last: datetime) -> CaseIndex:
        """The case's index row, with its clocks judged as they stand after its latest
        action (the SLA report reads those instead of the case) and the alerts they will
        raise (the tick sends those without reading the case)."""
        facts, next_alert_at, plan = self._clocks.judgement(case)
        return attrs.evolve(_index(case, last), judged_at=utc_text(case.updated_at),
                            facts=facts, next_alert_at=next_alert_at, alert_plan=plan)  # fmt: skip

    def judge_stored(self, *, batch: int = 1000) -> int:
        """Write the clock facts of the cases stored before this store kept them (a store
        upgraded from an older version): until then the SLA report reads those cases one by
        one. Each case in its own version-checked transaction, ``batch`` read at a time, so
        it is safe beside a working desk and can be stopped and run again. Returns how many
        cases were judged (0 when none is left, or the store keeps no facts)."""
        batch = values.count(batch, "batch", minimum=1)
        storage = self._basis.storage
        if storage.clock_facts("", "", "") is None:
            return 0
        # never judged: judged_at is empty, so "unjudged at the end of time"; read by key,
        # so each case comes once even from a store that kept no judged_at
        judged = 0
        for case in self.matching(CaseQuery(unjudged_by="9999"), page=batch):
            with storage.transaction() as tx:
                tx.append(KIND, case.id, case.version, [], to_dict(case),
                          self._judged(case, case.updated_at))  # fmt: skip
            judged += 1
        return judged

    def adopt(self, events: Sequence[CaseEvent], also: Callable[[Any], None] | None = None) -> Case:
        """Store a case whose events were recorded elsewhere (an imported history, built and
        checked on a scratch desk), in one transaction: it gets this desk's next number for
        its year and its index row; it sends no notifications, and the SLA tick leaves it
        alone until its next action (so it does not announce a history's old breaches).
        ``also`` writes more in the same transaction (the import's marker). The events must
        fold: the fold is the check."""
        first = events[0]
        year = first.data["number"].split("-")[1]
        with self._basis.storage.transaction() as tx:
            number = f"AS-{year}-{tx.next_number(f'case-{year}'):06d}"
            renumbered = [
                attrs.evolve(first, data={**first.data, "number": number}),
                *events[1:],
            ]
            case = start(renumbered[0])
            for event in renumbered[1:]:
                case = apply(case, event)
            stored = [event_record(e.version, e.type, e.by, e.at, e.data) for e in renumbered]
            # not watched by the tick until its next action: a history's breaches are old news
            index = attrs.evolve(self._judged(case, events[-1].at), next_alert_at=None,
                                 alert_plan=None)  # fmt: skip
            tx.append(KIND, case.id, 0, stored, to_dict(case), index)
            if also is not None:
                also(tx)
        self._cache.remember(case)
        return case

    def _notes(self, before: Case, after: Case, event: CaseEvent) -> list[Notification]:
        notes = []
        if event.type in ("assigned", "reassigned") and after.engineer:
            notes.append(
                self._note(
                    "case_assigned",
                    after,
                    [after.engineer],
                    f"{after.number} ({after.priority}): {after.fault}",
                    event.at,
                    instructions=event.data.get("instructions"),
                    **self._requirements(after, event.at),
                )
            )
        if event.type == "queued":
            members = [s.id for s in self._staff.team(event.data["team"])
                       if s.has_role("engineer") and s.id != before.engineer]  # fmt: skip
            notes.append(self._note("case_queued", after, members,
                                    f"{after.number} ({after.priority}) waits in team "
                                    f"{event.data['team']}'s queue: {after.fault}", event.at,
                                    team=event.data["team"]))  # fmt: skip
        if event.type in ("unassigned", "queued") and before.engineer:
            notes.append(
                self._note(
                    "case_unassigned",
                    after,
                    [before.engineer],
                    f"{after.number} was taken off you: "
                    + (event.data.get("reason") or f"queued for team {after.team}"),
                    event.at,
                    reason=event.data.get("reason"),
                )
            )
        escalate = self.rules(after).escalate_after
        if event.type == "rejected" and escalate and after.rejection_count == escalate:
            notes.append(
                self._note(
                    "acceptance_escalated",
                    after,
                    self._staff.with_role("manager"),
                    f"{after.number} rejected {after.rejection_count} times by the customer",
                    event.at,
                    reasons=[r.reason for r in after.rejections],
                )
            )
        return notes

    def _requirements(self, case: Case, at: datetime) -> dict[str, Any]:
        """What the rules require of the engineer a case is given to, as the management
        system asks an assignment to state them: each deadline still to meet (its time, or
        the target when it starts later: a repair's from the arrival), the certificates and
        the safety gear."""
        deadlines: dict[str, str] = {}
        for clock in self._clocks.clocks(case, at):
            if clock.met_at is not None or clock.state == "not_applicable":
                continue
            if clock.due is not None:
                deadlines[clock.milestone] = clock.due.isoformat()
            elif clock.target is not None:
                deadlines[clock.milestone] = str(clock.target)
        rules = self.rules(case)
        if "repair" not in deadlines:  # its clock starts once the fault's complexity is known
            for complexity in COMPLEXITIES:
                target = rules.repair_target(case.priority, complexity)
                if target is not None:
                    deadlines[f"repair ({complexity})"] = str(target)
        return {
            "deadlines": deadlines,
            "appointment": None if case.appointment is None else case.appointment.isoformat(),
            "certificates": [name for name, _ in self._training.required_for(case)],
            "safety_gear": list(rules.safety.ppe) if rules.safety else [],
        }

    def _note(
        self,
        kind: str,
        case: Case,
        recipients: Iterable[str | None],
        subject: str,
        at: datetime,
        **data: Any,
    ) -> Notification:
        unique = tuple(dict.fromkeys(r for r in recipients if r))
        payload = {"number": case.number, "priority": case.priority, **data}
        return Notification(kind, case.id, unique, subject, payload, at)

    def observe(self, observer: Callable[[CaseEvent, Case], None]) -> None:
        """Call ``observer(event, case)`` after each stored event (the services above the
        workflow that act on cases' events: complaints)."""
        self._observers.append(observer)

    def _after(self, event: CaseEvent, case: Case, items: list[OutboxItem]) -> None:
        self._basis.hooks.case_event(event, case)
        self._notifications.deliver(items, event.at)
        for observer in self._observers:
            observer(event, case)
