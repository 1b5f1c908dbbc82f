"""Who may do what: every action that names its actor, in one table.

``roles`` are the roles that may take the action on a record they have nothing to do with;
``relation`` names who else may (or who alone may: then ``roles`` is empty), and ``never``
the self-dealing the action refuses whatever the roles. The services enforce these rules
through :func:`permit` (roles and relation) and :func:`not_own` (self-dealing), the one
place a refusal is worded;
``tests/adversarial/test_permissions.py`` calls every action as a member of each role and
fails when a service and this table disagree, or when an action that takes ``by=`` has no
row here (docs/limits.md, promise 4).
"""

from __future__ import annotations

import attrs

from aftersales.core.errors import PermissionDenied
from aftersales.core.model import ROLES, Staff

DESK = ("service_agent", "manager")
STORE = ("storekeeper", "manager")
PLANNERS = ("supervisor", "manager")
MANAGER = ("manager",)
LEADERS = ("manager", "director")
FIELD = ("service_agent", "engineer", "manager")  # who reads a machine's meter
NOBODY: tuple[str, ...] = ()
ANYONE = ROLES


@attrs.frozen
class Rule:
    """Who may take one action."""

    roles: tuple[str, ...]
    relation: str | None = None
    never: tuple[str, ...] = ()

    def describe(self) -> str:
        who = " or ".join(self.roles) if self.roles != ANYONE else "any active member"
        if not self.roles:
            who = ""
        parts = [p for p in (who, self.relation) if p]
        text = "; ".join(parts) if parts else "nobody"
        if self.never:
            text += " (never: " + "; ".join(self.never) + ")"
        return text


CASE_ENGINEER = "only the case's assigned engineer"
PRESENTER = (
    "only the case's assigned engineer, presenting the report (a case resolved remotely: "
    "also whoever resolved it)"
)

PERMISSIONS: dict[str, Rule] = {
    # the repair workflow
    "cases.report": Rule(DESK),
    "cases.respond": Rule(DESK),
    "cases.assign": Rule(DESK, never=("a certificate override by anyone but a manager",)),
    "cases.reassign": Rule(DESK),
    "cases.unassign": Rule(DESK),
    "cases.reopen": Rule(DESK),
    "cases.queue": Rule(DESK),
    "cases.take": Rule(NOBODY, "an engineer on the team the case is queued for"),
    "cases.resolve": Rule(
        NOBODY,
        "the roles the policy's 'resolve remotely by' names (an engineer: on their own case)",
    ),
    "cases.confirm": Rule(NOBODY, CASE_ENGINEER),
    "cases.contact": Rule(NOBODY, CASE_ENGINEER),
    "cases.on_the_way": Rule(NOBODY, CASE_ENGINEER),
    "cases.arrive": Rule(NOBODY, CASE_ENGINEER),
    "cases.checklist": Rule(NOBODY, CASE_ENGINEER),
    "cases.diagnose": Rule(NOBODY, CASE_ENGINEER),
    "cases.complete": Rule(NOBODY, CASE_ENGINEER),
    "cases.accept": Rule(NOBODY, PRESENTER),
    "cases.reject": Rule(NOBODY, PRESENTER),
    "cases.hold": Rule(DESK, "and the case's assigned engineer"),
    "cases.release": Rule(DESK, "and the case's assigned engineer"),
    "cases.notify_delay": Rule(DESK, "and the case's assigned engineer"),
    "cases.update": Rule(DESK, "and the case's assigned engineer"),
    "cases.follow_up": Rule(DESK, never=("recording the satisfaction of a case one worked on",)),
    "cases.close": Rule(DESK),
    "cases.cancel": Rule(DESK),
    "cases.reapply_policy": Rule(MANAGER),
    # staff and careers
    "staff.update": Rule(PLANNERS, "and the member themselves"),
    "staff.deactivate": Rule(MANAGER, never=("deactivating the last active manager",)),
    "staff.reactivate": Rule(MANAGER),
    "staff.promote": Rule(
        LEADERS, never=("promoting oneself", "an override of promote when by anyone but a manager")
    ),
    "staff.rotate": Rule(LEADERS),
    "staff.end_rotation": Rule(LEADERS),
    # appraisals
    "appraisals.rate": Rule(
        MANAGER,
        "supervisor ratings: the member's supervisor too; self ratings: only the member; "
        "customer ratings: a service agent or manager, naming a case of the member",
        never=("a supervisor rating of oneself", "a customer rating of one's own work"),
    ),
    "appraisals.finalize": Rule(MANAGER),
    "appraisals.complete_follow_up": Rule(MANAGER, "and the follow-up's owner"),
    "appraisals.decide_review": Rule(MANAGER, never=("deciding one's own dismissal review",)),
    # spare parts
    "parts.add_part": Rule(STORE),
    "parts.add_location": Rule(STORE),
    "parts.add_supplier": Rule(STORE, "a qualified supplier: only a manager"),
    "parts.qualify": Rule(MANAGER),
    "parts.receive": Rule(STORE),
    "parts.receive_order": Rule(STORE),
    "parts.transfer": Rule(STORE),
    "parts.scrap": Rule(STORE),
    "parts.adjust": Rule(STORE, "approved_by: a manager", never=("approving one's own",)),
    "parts.order": Rule(STORE),
    "parts.count": Rule(STORE),
    "parts.settle": Rule(
        STORE, "approved_by: a manager", never=("approving a sheet one counted or settles",)
    ),
    "parts.request": Rule(NOBODY, CASE_ENGINEER),
    "parts.approve": Rule(
        NOBODY, "the role the requisition's chain waits for", never=("approving one's own",)
    ),
    "parts.reject": Rule(
        NOBODY, "the role the requisition's chain waits for", never=("rejecting one's own",)
    ),
    "parts.issue": Rule(STORE),
    "parts.return_parts": Rule(STORE, "and the case's assigned engineer"),
    # expenses
    "expenses.draft": Rule(ANYONE, "for one's own expenses"),
    "expenses.edit": Rule(NOBODY, "only the claim's owner"),
    "expenses.submit": Rule(NOBODY, "only the claim's owner"),
    "expenses.approve": Rule(
        NOBODY,
        "the role the claim's chain waits for",
        never=("approving one's own claim", "approving one claim twice"),
    ),
    "expenses.reject": Rule(
        NOBODY, "the role the claim's chain waits for", never=("rejecting one's own claim",)
    ),
    "expenses.pay": Rule(("finance",), never=("paying one's own claim",)),
    # the installed base
    "customers.add": Rule(DESK),
    "customers.update": Rule(DESK),
    "machines.add": Rule(DESK),
    "machines.update": Rule(DESK),
    "machines.import_csv": Rule(DESK),
    "machines.reading": Rule(FIELD),
    "machines.maintained": Rule(DESK),
    "contracts.add": Rule(DESK),
    "contracts.cancel": Rule(MANAGER),
    # the HTTP API's tokens
    "tokens.issue": Rule(MANAGER, "and the member themselves"),
    "tokens.revoke": Rule(MANAGER, "and the member the token acts as"),
    # what customers say back
    "complaints.open": Rule((*DESK, "supervisor")),
    "complaints.respond": Rule(MANAGER, "and the complaint's owner"),
    "complaints.resolve": Rule(MANAGER, "and the complaint's owner"),
    "complaints.confirm": Rule(DESK, "and the complaint's owner"),
    "complaints.reassign": Rule(MANAGER),
    "product_problems.record": Rule(("manager", "supervisor"), "and the case's engineers"),
    # safety
    "safety.checklist": Rule(NOBODY, CASE_ENGINEER),
    "safety.add_tool": Rule(STORE),
    "safety.inspect": Rule(STORE),
    "safety.check_out": Rule(STORE),
    "safety.check_in": Rule(STORE),
    "safety.report_incident": Rule(ANYONE),
    "safety.add_action": Rule(MANAGER),
    "safety.complete_action": Rule(MANAGER, "and the action's owner"),
    "safety.investigate": Rule(("manager", "safety_officer")),
    "parts.review_supplier": Rule(MANAGER),
    # training
    "training.assess": Rule(PLANNERS, never=("assessing oneself",)),
    "training.add_course": Rule(PLANNERS),
    "training.schedule": Rule(PLANNERS),
    "training.enroll": Rule(PLANNERS),
    "training.attend": Rule(PLANNERS),
}
"""Every action that names its actor (``by=``), by ``service.method``."""


def roles(action: str) -> tuple[str, ...]:
    """The roles that may take ``action`` (``"parts.add_part"``): what the services check."""
    return PERMISSIONS[action].roles


def _needs(roles: tuple[str, ...]) -> str:
    return "a " + " or ".join(roles)


def permit(
    actor: Staff, action: str, what: str, *, related: bool = False, who: str | None = None
) -> Staff:
    """``actor``, if the table lets them take ``action``: by one of its roles, or by
    ``related``, the relation its row names (the case's engineer, the claim's owner, the
    member themselves). Otherwise PermissionDenied saying who may ``what``; ``who`` names
    them when the caller knows better than the table (``the assigned engineer (e7)``)."""
    rule = PERMISSIONS[action]
    if related or actor.has_role(*rule.roles):
        return actor
    if who is not None:
        because = f"only {who} can"
    elif not rule.roles:
        because = rule.relation or "nobody can"
    else:
        because = f"that needs {_needs(rule.roles)}"
        if rule.relation and rule.relation.startswith("and "):
            because += f", or {rule.relation.removeprefix('and ')}"
    raise PermissionDenied(f"{actor.id} cannot {what}: {because}")


def permit_role(actor: Staff, roles: tuple[str, ...], what: str) -> Staff:
    """``actor``, if they hold one of ``roles`` (a role the policy names: the step of an
    approval chain, the approver of an adjustment); PermissionDenied otherwise."""
    if actor.has_role(*roles):
        return actor
    raise PermissionDenied(f"{actor.id} cannot {what}: that needs the role {' or '.join(roles)}")


def only_by(actor: Staff, who: str | None, what: str) -> None:
    """What one member alone may do whatever anyone's roles (their own self rating)."""
    if who is None or actor.id != who:
        raise PermissionDenied(f"{actor.id} cannot {what}: only {who or 'nobody'} can")


def not_own(actor: Staff, owner: str | None, what: str, instead: str = "") -> None:
    """Self-dealing, refused whatever the roles: ``actor`` doing ``what`` to their own record
    (approving their claim, promoting themselves, deciding their own review). ``instead``
    says who does it."""
    if owner is not None and actor.id == owner:
        raise PermissionDenied(f"{actor.id} cannot {what}" + (f"; {instead}" if instead else ""))


NOT_ACTORS = frozenset({"expenses.report", "parts.consumption"})
"""Methods whose ``by`` is not checked here: ``expenses.report(by="category")`` groups, and
``parts.consumption`` runs inside ``cases.complete``, whose rule applies."""


__all__ = [
    "NOT_ACTORS",
    "PERMISSIONS",
    "Rule",
    "not_own",
    "only_by",
    "permit",
    "permit_role",
    "roles",
]
