"""``desk.safety``: the safety checklist on a case, the tool register (inspections as the
policy says) and incidents.

Tools are inspected every ``inspect tools every`` period: an overdue tool cannot be checked
out to an engineer, and the SLA tick sends ``tool_inspection_due`` once per tool and due date.
Incidents are reported within ``report incidents within`` of the event; a later report is
recorded as late. Corrective actions are tracked until each is done.
"""

from __future__ import annotations

import builtins
import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta

import attrs

from aftersales.core import values
from aftersales.core.boundary import public_api
from aftersales.core.errors import NotFound, PermissionDenied, ValidationError, WorkflowError
from aftersales.core.model import Case, Notification
from aftersales.core.permissions import permit
from aftersales.core.safety import SEVERITIES, Action, Incident, Tool
from aftersales.ports.storage import utc_text
from aftersales.services.basis import Basis
from aftersales.services.cases import CaseService
from aftersales.services.notifications import NotificationService
from aftersales.services.repair_document import local_text
from aftersales.services.repository import Repository
from aftersales.services.staff import StaffDirectory

_CLOCK_SKEW = timedelta(minutes=5)  # clocks of the machines a desk runs on differ a little


@public_api("desk.safety")
class SafetyService:
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
        self._tools = Repository(basis.storage, "tool", Tool, "tool")
        self._incidents = Repository(basis.storage, "incident", Incident, "incident")

    # -- the safety checklist of a case -------------------------------------------------------
    def checklist(
        self,
        case_id: str,
        items: Iterable[str],
        *,
        by: str,
        at: datetime | None = None,
        version: int | None = None,
    ) -> Case:
        """The assigned engineer records the safety gear checked before work. With a
        ``require ppe ... before work`` line, ``diagnose`` and ``complete`` are refused
        (WorkflowError naming what is missing) until the engineer has checked every item;
        after a handover the new engineer records their own."""
        return self._cases.checklist(case_id, items, by=by, at=at, version=version)

    # -- tools --------------------------------------------------------------------------------
    def add_tool(
        self, *, id: str, name: str, inspected: datetime, by: str, at: datetime | None = None
    ) -> Tool:
        """Register a tool with the date of its last inspection (a storekeeper or manager)."""
        self._keeper(by, "safety.add_tool", "register tools")
        when = self._basis.at(at)
        last = self._not_ahead(self._basis.at(inspected), "the last inspection")
        tool = Tool(values.name(id, "a tool id"), values.name(name, "the tool's name"), last,
                    version=1)  # fmt: skip
        return self._tools.create(tool, "registered", by, when)

    def _not_ahead(self, when: datetime, what: str) -> datetime:
        """``when``, unless it lies ahead of the desk's clock: an inspection dated in the
        future would keep a tool from ever falling due."""
        if when > self._basis.now() + _CLOCK_SKEW:
            raise ValidationError(
                f"{what} at {when:%Y-%m-%d %H:%M} lies in the future; record it when it is done"
            )
        return when

    def tool(self, id: str) -> Tool:
        return self._tools.get(id)

    def tools(self) -> builtins.list[Tool]:
        """Every registered tool, by id."""
        return self._tools.all()

    def inspection_due(self, tool: Tool) -> datetime | None:
        """When the tool's next inspection is due (None: the policy sets no period)."""
        rules = self._basis.policy.safety
        if rules is None or rules.tools_every is None:
            return None
        return self._basis.policy.add(tool.last_inspected, rules.tools_every)

    def inspect(self, id: str, *, by: str, at: datetime | None = None) -> Tool:
        self._keeper(by, "safety.inspect", "inspect tools")
        tool = self.tool(id)
        when = self._not_ahead(self._basis.at(at), "an inspection")
        return self._save(tool, attrs.evolve(tool, last_inspected=when, version=tool.version + 1),
                          "inspected", by, when)  # fmt: skip

    def check_out(self, id: str, *, engineer: str, by: str, at: datetime | None = None) -> Tool:
        """Hand a tool to an engineer; refused while it is overdue for inspection."""
        self._keeper(by, "safety.check_out", "check tools out")
        if not self._staff.actor(engineer).has_role("engineer"):
            raise ValidationError(f"{engineer} is not an engineer")
        tool = self.tool(id)
        when = self._basis.at(at)
        due = self.inspection_due(tool)
        if due is not None and due <= when:
            rules = self._basis.policy.safety
            raise PermissionDenied(
                f"tool {id} was due for inspection on {due:%Y-%m-%d} "
                f"({rules.location if rules else ''}); inspect it before checking it out"
            )
        if tool.holder is not None:
            raise ValidationError(f"tool {id} is checked out to {tool.holder}")
        return self._save(tool, attrs.evolve(tool, holder=engineer, version=tool.version + 1),
                          "checked_out", by, when)  # fmt: skip

    def check_in(self, id: str, *, by: str, at: datetime | None = None) -> Tool:
        self._keeper(by, "safety.check_in", "check tools in")
        tool = self.tool(id)
        when = self._basis.at(at)
        return self._save(tool, attrs.evolve(tool, holder=None, version=tool.version + 1),
                          "checked_in", by, when)  # fmt: skip

    def overdue_tools(self, now: datetime | None = None) -> builtins.list[tuple[str, datetime]]:
        """``(tool, due)`` of every tool past its inspection date."""
        when = self._basis.at(now)
        rows = []
        for tool in self._tools.all():
            due = self.inspection_due(tool)
            if due is not None and due <= when:
                rows.append((tool.id, due))
        return rows

    def remind_tools(self, now: datetime | None = None) -> builtins.list[Notification]:
        """``tool_inspection_due`` once per overdue tool and due date (the tick calls this)."""
        when = self._basis.at(now)
        overdue = self.overdue_tools(when)
        if not overdue:  # the tick's usual case: no staff lookup
            return []
        people = tuple(self._staff.with_role("storekeeper", "manager"))
        return self._notifications.once([
            (f"tool:{tool_id}", utc_text(due),
             Notification("tool_inspection_due", None, people,
                          f"tool {tool_id} was due for inspection {due:%Y-%m-%d}",
                          {"tool": tool_id, "due": due.isoformat()}, when))
            for tool_id, due in overdue
        ], when)  # fmt: skip

    # -- incidents ----------------------------------------------------------------------------
    def report_incident(
        self,
        *,
        happened_at: datetime,
        severity: str,
        description: str,
        by: str,
        people: Iterable[str] = (),
        case_id: str | None = None,
        at: datetime | None = None,
    ) -> Incident:
        """Record an incident; one reported later than the policy's ``report incidents
        within`` after it happened is marked late."""
        self._staff.actor(by)
        if severity not in SEVERITIES:
            raise ValidationError(f"severity must be one of {', '.join(SEVERITIES)}")
        description = values.text(description, "an incident's description")
        if case_id is not None:
            self._cases.get(case_id)
        listed = values.items(people, "people (staff ids)")
        involved = tuple(dict.fromkeys(values.key(p, "staff id") for p in listed))
        for person in involved:
            self._staff.get(person)
        when = self._basis.at(at)
        happened = self._basis.at(happened_at)
        if happened > when:
            raise ValidationError("an incident cannot happen after it is reported")
        policy = self._basis.policy
        rules = policy.safety
        late = bool(rules and rules.incidents_within
                    and policy.add(happened, rules.incidents_within) < when)  # fmt: skip
        rule = None if rules is None else rules.incident_rule(severity)
        incident = Incident(f"INC-{uuid.uuid4().hex[:8]}", happened, when, by, severity,
                            description.strip(), involved, case_id, late, version=1)  # fmt: skip
        notes: builtins.list[Notification] = []
        if rule is not None:
            due = (None if rule.investigate_within is None
                   else policy.add(when, rule.investigate_within))  # fmt: skip
            incident = attrs.evolve(incident, rule=rule.location, told=rule.roles, due=due)
            people = tuple(self._staff.with_role(*rule.roles))
            by_when = "" if due is None else f"; investigate by {local_text(due, policy)}"
            notes.append(Notification(
                "incident_reported", case_id, people,
                f"{severity} incident {incident.id} reported by {by}: {incident.description}"
                f"{by_when} ({rule.location})",
                {"incident": incident.id, "severity": severity, "due": due and due.isoformat(),
                 "rule": rule.location, "case": case_id}, when,
            ))  # fmt: skip
        with self._notifications.transaction(notes, when) as tx:
            self._incidents.create(incident, "reported", by, when, tx=tx)
            if incident.due is not None:  # the tick finds it by the schedule, not by a scan
                tx.schedule("incident", [(incident.id, utc_text(incident.due))])
        return incident

    def investigate(
        self, id: str, *, findings: str, by: str, at: datetime | None = None
    ) -> Incident:
        """Record the investigation of an incident (a manager or the safety officer): what
        happened and why. It is closed once its corrective actions are done too."""
        permit(self._staff.actor(by), "safety.investigate", "investigate incidents")
        text = values.text(findings, "the investigation's findings").strip()
        incident = self.incident(id)
        if incident.findings is not None:
            raise WorkflowError(
                f"incident {id} was investigated by {incident.investigated_by}; "
                "add a corrective action for what was found since"
            )
        when = self._basis.at(at)
        after = attrs.evolve(incident, findings=text, investigated_by=by, investigated_at=when,
                             version=incident.version + 1)  # fmt: skip
        return self._save_incident(incident, after, "investigated", by, when)

    def overdue_incidents(self, now: datetime | None = None) -> builtins.list[Incident]:
        """Incidents past their investigation deadline and not closed (investigated, every
        corrective action done)."""
        when = self._basis.at(now)
        return [i for i in self.incidents() if i.overdue(when)]

    def remind_incidents(self, now: datetime | None = None) -> builtins.list[Notification]:
        """``incident_overdue`` once per incident past its deadline and not closed, to the
        roles its policy line tells and the owners of its open actions (the tick calls
        this)."""
        when = self._basis.at(now)
        looked = self._incidents.take_due(when)  # one deadline each: looked at once
        overdue = (self.overdue_incidents(when) if looked is None
                   else [i for i in looked if i.overdue(when)])  # fmt: skip
        if not overdue:
            return []
        found = []
        for incident in overdue:
            assert incident.due is not None
            people = tuple(dict.fromkeys([*self._staff.with_role(*incident.told),
                                          *(a.owner for a in incident.open_actions)]))  # fmt: skip
            missing = "the investigation" if incident.findings is None else (
                f"{len(incident.open_actions)} corrective action(s)")  # fmt: skip
            found.append((f"incident:{incident.id}", utc_text(incident.due), Notification(
                "incident_overdue", incident.case_id, people,
                f"{incident.severity} incident {incident.id} was due "
                f"{local_text(incident.due, self._basis.policy)}:"
                f" {missing} still open ({incident.rule})",
                {"incident": incident.id, "due": incident.due.isoformat(), "rule": incident.rule},
                when)))  # fmt: skip
        return self._notifications.once(found, when)

    def incident(self, id: str) -> Incident:
        return self._incidents.get(id)

    def incidents(self, *, open_only: bool = False) -> builtins.list[Incident]:
        """Incidents by report time; ``open_only``: those not closed (under a policy line
        with a deadline: not investigated, or with corrective actions not done; else with
        corrective actions not done)."""
        found = self._incidents.all()
        return sorted((i for i in found if not open_only or i.open_actions
                       or (i.rule is not None and not i.closed)),
                      key=lambda i: i.reported_at)  # fmt: skip

    def add_action(
        self, id: str, *, description: str, owner: str, by: str, at: datetime | None = None
    ) -> Incident:
        """A corrective action for an incident (a manager), owned by a staff member."""
        permit(self._staff.actor(by), "safety.add_action", "set corrective actions")
        self._staff.get(owner)
        incident = self.incident(id)
        when = self._basis.at(at)
        after = attrs.evolve(incident, actions=(*incident.actions, Action(description, owner)),
                             version=incident.version + 1)  # fmt: skip
        return self._save_incident(incident, after, "action_added", by, when)

    def complete_action(
        self, id: str, index: int, *, by: str, at: datetime | None = None
    ) -> Incident:
        """Mark corrective action ``index`` (from 0) done, by its owner or a manager."""
        incident = self.incident(id)
        if not 0 <= index < len(incident.actions):
            raise NotFound(f"incident {id} has no action {index}")
        action = incident.actions[index]
        actor = self._staff.actor(by)
        permit(actor, "safety.complete_action", f"complete {action.owner}'s action",
               related=actor.id == action.owner)  # fmt: skip
        when = self._basis.at(at)
        actions = list(incident.actions)
        actions[index] = attrs.evolve(action, done_at=when)
        after = attrs.evolve(incident, actions=tuple(actions), version=incident.version + 1)
        return self._save_incident(incident, after, "action_done", by, when)

    # -- helpers ------------------------------------------------------------------------------
    def _keeper(self, by: str, action: str, what: str) -> None:
        permit(self._staff.actor(by), action, what)

    def _save(self, before: Tool, after: Tool, kind: str, by: str, at: datetime) -> Tool:
        return self._tools.save(before, after, kind, by, at, {"holder": after.holder})

    def _save_incident(
        self, before: Incident, after: Incident, kind: str, by: str, at: datetime
    ) -> Incident:
        return self._incidents.save(before, after, kind, by, at)


__all__ = ["SafetyService"]
