"""``desk.complaints``: customers' complaints as records with an owner, deadlines from the
policy, a root cause, a corrective action and a closure the customer confirms.

A complaint is opened by hand (a call, an escalation) or by the policy's ``complaint when``:
a satisfaction score at or below ``satisfaction <= N`` (the follow-up call's or the survey's)
or the ``rejections >= N``-th rejection of a repair. Those open once per case and source
(their id is ``CP-<case number>-<source>``, so a desk that sees the event twice opens one).
The SLA tick reminds the owner and the managers once when a deadline passes unmet.
"""

from __future__ import annotations

import builtins
import logging
from collections.abc import Iterable
from datetime import datetime

import attrs

from aftersales.core import values
from aftersales.core.boundary import public_api
from aftersales.core.errors import ConflictError, NotFound, ValidationError, WorkflowError
from aftersales.core.feedback import COMPLAINT_STATUSES, Complaint
from aftersales.core.model import Case, CaseEvent, Notification
from aftersales.core.permissions import permit
from aftersales.core.values import shown
from aftersales.core.vocabulary import COMPLAINT_SOURCES
from aftersales.ports.storage import utc_text
from aftersales.services.basis import Basis
from aftersales.services.cases import CaseService
from aftersales.services.notifications import NotificationService
from aftersales.services.repository import Repository
from aftersales.services.staff import StaffDirectory

KIND = "complaint"
_DONE = {"respond": "responded to", "resolve": "resolved"}
logger = logging.getLogger("aftersales")


@public_api("desk.complaints")
class ComplaintService:
    """Open, answer, resolve and close customers' complaints."""

    def __init__(
        self,
        basis: Basis,
        *,
        staff: StaffDirectory,
        notifications: NotificationService,
        cases: CaseService,
    ) -> None:
        self._basis = basis
        self._staff = staff
        self._notifications = notifications
        self._cases = cases
        self._records = Repository(basis.storage, KIND, Complaint, "complaint")
        cases.observe(self._case_event)

    # -- reading -------------------------------------------------------------------------------
    def get(self, id: str) -> Complaint:
        return self._records.get(id)

    def list(
        self,
        *,
        status: str | Iterable[str] | None = None,
        case: str | None = None,
        staff: str | None = None,
        opened_in: str | None = None,
    ) -> builtins.list[Complaint]:
        """Complaints by status, case id, staff concerned or month opened (``2026-11``),
        oldest first."""
        wanted: tuple[str, ...] | None = None
        if status is not None:
            wanted = (status,) if isinstance(status, str) else tuple(status)
            unknown = [s for s in wanted if s not in COMPLAINT_STATUSES]
            if unknown:
                raise ValidationError(f"status is one of {', '.join(COMPLAINT_STATUSES)}, "
                                      f"not {shown(unknown[0])}")  # fmt: skip
        bounds = (
            None
            if opened_in is None
            else self._basis.policy.month_bounds(values.period(opened_in, "opened_in"))
        )
        found = [
            c
            for c in self._records.all()
            if (wanted is None or c.status in wanted)
            and (case is None or c.case_id == case)
            and (staff is None or staff in c.staff)
            and (bounds is None or bounds[0] <= c.opened_at < bounds[1])
        ]
        return sorted(found, key=lambda c: (c.opened_at, c.id))

    def overdue(self, now: datetime | None = None) -> builtins.list[Complaint]:
        """Open complaints past a deadline, at ``now``."""
        when = self._basis.at(now)
        return [c for c in self.list(status=("open", "responded")) if c.overdue(when)]

    # -- writing -------------------------------------------------------------------------------
    def open(
        self,
        *,
        source: str,
        summary: str,
        by: str,
        case: str | None = None,
        customer: str | None = None,
        owner: str | None = None,
        staff: Iterable[str] | None = None,
        at: datetime | None = None,
    ) -> Complaint:
        """Record a complaint (a service agent, supervisor or manager). ``case``: the case
        it is about (its customer and engineers are taken from it); without one, name the
        ``customer``. ``owner`` defaults to the supervisor of the case's engineer, else a
        manager. Its deadlines are the policy's ``complaint respond/resolve within``."""
        actor = self._staff.actor(by)
        permit(actor, "complaints.open", "record complaints")
        if source not in COMPLAINT_SOURCES:
            raise ValidationError(
                f"source is one of {', '.join(COMPLAINT_SOURCES)}, not {shown(source)}"
            )
        the_case = None if case is None else self._cases.get(values.key(case, "case"))
        if the_case is None and customer is None:
            raise ValidationError("name the case the complaint is about, or the customer")
        listed = [staff] if isinstance(staff, str) else values.items(staff, "staff") if (
            staff is not None) else None  # fmt: skip
        concerned = (
            tuple(dict.fromkeys(self._staff.get(values.key(s, "staff")).id for s in listed))
            if listed is not None
            else _engineers(the_case)
        )
        return self._open(
            source=source,
            summary=values.text(values.name(summary, "summary"), "summary"),
            by=actor.id,
            case=the_case,
            customer=customer,
            owner=None if owner is None else self._staff.actor(owner).id,
            staff=concerned,
            when=self._basis.at(at),
        )

    def _open(
        self,
        *,
        source: str,
        summary: str,
        by: str,
        case: Case | None,
        customer: str | None,
        owner: str | None,
        staff: tuple[str, ...],
        when: datetime,
        id: str | None = None,
        trigger: str | None = None,
    ) -> Complaint:
        rules = self._basis.policy.complaints
        respond_by = resolve_by = None
        if rules is not None and rules.respond is not None and rules.resolve is not None:
            respond_by = self._basis.policy.add(when, rules.respond)
            resolve_by = self._basis.policy.add(when, rules.resolve)
        who = owner or self._owner_for(staff)
        name = customer if case is None else case.customer.name
        with self._basis.storage.transaction() as tx:
            cid = id or f"CP-{tx.next_number('complaint'):06d}"
            complaint = Complaint(
                cid, source, summary, values.name(name, "customer"), who, when, by,
                case_id=None if case is None else case.id,
                case_number=None if case is None else case.number,
                customer_id=None if case is None else case.customer.id,
                staff=staff, respond_by=respond_by, resolve_by=resolve_by,
                rule=None if rules is None else rules.location, trigger=trigger, version=1,
            )  # fmt: skip
            self._records.create(complaint, "opened", by, when, {"source": source}, tx=tx)
            tx.schedule(KIND, [(cid, _next_due(complaint))])
            items = self._notifications.stage([self._note(complaint, "complaint_opened",
                                                          f"complaint {cid} ({source}): "
                                                          f"{summary[:80]}")], when)  # fmt: skip
            tx.enqueue(items)
        self._notifications.deliver(items, when)
        return complaint

    def respond(self, id: str, *, response: str, by: str, at: datetime | None = None) -> Complaint:
        """The owner (or a manager) answered the customer: what they were told."""
        return self._step(id, by, at, "respond", ("open",), "responded",
                          response=values.text(response, "response"))  # fmt: skip

    def resolve(
        self,
        id: str,
        *,
        root_cause: str,
        corrective_action: str,
        by: str,
        at: datetime | None = None,
    ) -> Complaint:
        """The cause is found and the corrective action taken: the customer is asked to
        confirm (``confirm``)."""
        return self._step(id, by, at, "resolve", ("open", "responded"), "resolved",
                          root_cause=values.text(root_cause, "root_cause"),
                          corrective_action=values.text(corrective_action,
                                                        "corrective_action"))  # fmt: skip

    def confirm(
        self,
        id: str,
        *,
        confirmed_by: str,
        satisfied: bool = True,
        by: str,
        at: datetime | None = None,
    ) -> Complaint:
        """The customer's person ``confirmed_by`` says whether the resolution satisfies
        them: closed, or (not satisfied) back to ``responded`` to be resolved again."""
        person = values.name(confirmed_by, "confirmed_by (the customer's person)")
        if values.flag(satisfied, "satisfied"):
            return self._step(id, by, at, "confirm", ("resolved",), "closed",
                              confirmed_by=person)  # fmt: skip
        before = self.get(id)
        return self._step(id, by, at, "confirm", ("resolved",), "responded",
                          confirmed_by=None, returned=before.returned + 1)  # fmt: skip

    def reassign(self, id: str, *, owner: str, by: str, at: datetime | None = None) -> Complaint:
        """Give the complaint to another owner (a manager)."""
        new = self._staff.actor(owner).id
        return self._step(id, by, at, "reassign", ("open", "responded", "resolved"), None,
                          owner=new)  # fmt: skip

    def remind_overdue(self, now: datetime | None = None) -> builtins.list[Notification]:
        """Tell the owner and the managers once of each deadline a complaint missed (the
        SLA tick calls this)."""
        if self._basis.policy.complaints is None:
            return []
        when = self._basis.at(now)
        storage = self._basis.storage
        due = storage.scheduled(KIND, utc_text(when), 10_000)
        found = self.overdue(when) if due is None else [self.get(i) for i, _ in due]
        late = [(c, step) for c in found if (step := c.overdue(when)) is not None]
        if due is not None:  # each looked at once: next at its next deadline still to come
            with storage.transaction() as tx:
                tx.schedule(KIND, [(c.id, _next_due(c, after=when)) for c in found])
        if not late:
            return []
        managers = self._staff.with_role("manager")
        entries = []
        for complaint, step in late:
            note = Notification(
                f"complaint_{step}_overdue", complaint.case_id,
                tuple(dict.fromkeys([complaint.owner, *managers])),
                f"complaint {complaint.id} was not {_DONE[step]} in time "
                f"({complaint.customer}: {complaint.summary[:60]})",
                {"complaint": complaint.id, "owner": complaint.owner, "rule": complaint.rule},
                when,
            )  # fmt: skip
            entries.append((f"complaint:{complaint.id}", f"{step}_overdue", note))
        return self._notifications.once(entries, when)

    # -- inside --------------------------------------------------------------------------------
    def _step(
        self,
        id: str,
        by: str,
        at: datetime | None,
        action: str,
        sources: tuple[str, ...],
        target: str | None,
        **changes: object,
    ) -> Complaint:
        actor = self._staff.actor(by)
        when = self._basis.at(at)
        before = self.get(id)
        permit(actor, f"complaints.{action}", f"{action} complaints",
               related=actor.id == before.owner)  # fmt: skip
        if before.status not in sources:
            raise WorkflowError(
                f"cannot {action} complaint {before.id}: it is {before.status} (it can "
                f"{action} when {' or '.join(sources)})"
            )
        stamp = {"respond": "responded_at", "resolve": "resolved_at"}.get(action)
        if stamp:
            changes[stamp] = when
        if target == "closed":
            changes["closed_at"] = when
        after = attrs.evolve(before, status=target or before.status, version=before.version + 1,
                             **changes)  # type: ignore[arg-type]  # fmt: skip
        data = {k: v if not isinstance(v, datetime) else v.isoformat() for k, v in changes.items()}
        try:
            with self._basis.storage.transaction() as tx:
                self._records.save(before, after, action, actor.id, when, data, tx=tx)
                tx.schedule(KIND, [(after.id, _next_due(after))])
            return after
        except ConflictError:
            raise ConflictError(
                f"complaint {before.id} changed meanwhile; read it again and retry"
            ) from None

    def _owner_for(self, staff: tuple[str, ...]) -> str:
        for member in staff:
            try:
                supervisor = self._staff.get(member).supervisor
            except NotFound:
                continue
            if supervisor:
                return supervisor
        managers = self._staff.with_role("manager")
        if not managers:
            raise ValidationError("nobody to own the complaint: the desk has no manager")
        return managers[0]

    def _note(self, complaint: Complaint, kind: str, subject: str) -> Notification:
        managers = self._staff.with_role("manager")
        return Notification(kind, complaint.case_id,
                            tuple(dict.fromkeys([complaint.owner, *managers])), subject,
                            {"complaint": complaint.id, "source": complaint.source,
                             "respond_by": _iso(complaint.respond_by),
                             "resolve_by": _iso(complaint.resolve_by)},
                            complaint.opened_at)  # fmt: skip

    def _case_event(self, event: CaseEvent, case: Case) -> None:
        """Open the complaints the policy's ``complaint when`` calls for."""
        rules = self._basis.policy_for(case.policy_version).complaints
        if rules is None:
            return
        source = None
        if event.type in ("followed_up", "surveyed") and rules.satisfaction_at_most is not None:
            score = event.data.get("satisfaction")
            if isinstance(score, int) and score <= rules.satisfaction_at_most:
                source = "survey"
                summary = f"satisfaction {score} of 5" + (
                    f": {event.data['comments']}" if event.data.get("comments") else ""
                )
        elif event.type == "rejected" and case.rejection_count == rules.rejections_at_least:
            source = "rejection"
            summary = f"repair rejected {case.rejection_count} times: {event.data['reason']}"
        if source is None:
            return
        try:
            self._open(source=source, summary=summary, by=event.by or "", case=case,
                       customer=None, owner=None, staff=_engineers(case), when=event.at,
                       id=f"CP-{case.number}-{source}",
                       trigger=rules.trigger_location)  # fmt: skip
        except ConflictError:
            pass  # opened already (the same event seen twice)
        except Exception:  # a complaint never undoes the case's action
            logger.exception("case %s: the complaint could not be opened", case.number)


def _next_due(complaint: Complaint, after: datetime | None = None) -> str | None:
    """When the tick should next look at ``complaint`` (UTC text; None: never again): its
    next deadline not yet passed (``after``), while the step it is for is not done."""
    steps = []
    if complaint.status == "open":
        steps.append(complaint.respond_by)
    if complaint.status in ("open", "responded"):
        steps.append(complaint.resolve_by)
    coming = [d for d in steps if d is not None and (after is None or d > after)]
    return utc_text(min(coming)) if coming else None


def _engineers(case: Case | None) -> tuple[str, ...]:
    if case is None:
        return ()
    return tuple(dict.fromkeys(h.engineer for h in case.handovers))


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


__all__ = ["ComplaintService"]
