"""``desk.product_problems``: suspected design or quality problems engineers find on site,
recorded on a case, grouped by model and fault, and routed to the product team (the roles
the policy's ``product problems to`` names) with how often the group has been seen."""

from __future__ import annotations

import builtins
from collections import Counter, defaultdict
from datetime import datetime

import attrs

from aftersales.core import values
from aftersales.core.boundary import public_api
from aftersales.core.feedback import ProductProblem
from aftersales.core.model import Notification
from aftersales.core.permissions import permit
from aftersales.services.basis import Basis
from aftersales.services.cases import CaseService
from aftersales.services.notifications import NotificationService
from aftersales.services.repository import Repository
from aftersales.services.staff import StaffDirectory

KIND = "product_problem"


@attrs.frozen
class ProblemGroup:
    """The problems of one model and fault: how many, on which cases, which parts."""

    model: str
    fault: str
    count: int
    cases: tuple[str, ...]
    parts: tuple[tuple[str, int], ...]  # (part, times named), most named first
    first: datetime
    last: datetime


@public_api("desk.product_problems")
class ProductProblemService:
    """Record product problems and read them grouped."""

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
        self._records = Repository(basis.storage, KIND, ProductProblem, "product problem")

    def get(self, id: str) -> ProductProblem:
        return self._records.get(id)

    def list(
        self, *, model: str | None = None, fault: str | None = None
    ) -> builtins.list[ProductProblem]:
        found = [
            p
            for p in self._records.all()
            if (model is None or p.model == model) and (fault is None or p.fault == fault)
        ]
        return sorted(found, key=lambda p: (p.at, p.id))  # fmt: skip

    def groups(self, *, since: datetime | None = None) -> builtins.list[ProblemGroup]:
        """The problems grouped by model and fault, the most reported first."""
        by_key: dict[tuple[str, str], list[ProductProblem]] = defaultdict(list)
        for problem in self.list():
            if since is None or problem.at >= since:
                by_key[(problem.model, problem.fault)].append(problem)
        groups = []
        for (model, fault), problems in by_key.items():
            parts = Counter(p.part for p in problems if p.part)
            groups.append(ProblemGroup(
                model, fault, len(problems),
                tuple(dict.fromkeys(p.case_number for p in problems)),
                tuple(parts.most_common()), problems[0].at, problems[-1].at,
            ))  # fmt: skip
        return sorted(groups, key=lambda g: (-g.count, g.model, g.fault))

    def record(
        self,
        case: str,
        *,
        evidence: str,
        by: str,
        fault: str | None = None,
        part: str | None = None,
        model: str | None = None,
        at: datetime | None = None,
    ) -> ProductProblem:
        """An engineer of ``case`` (or a supervisor or manager) records a suspected design
        or quality problem: the ``evidence``, the ``part`` concerned, the ``fault`` (default:
        the case's fault code, else its description) and the ``model`` (default: the
        case's). The product team hears of it with the count of its group."""
        actor = self._staff.actor(by)
        the_case = self._cases.get(values.key(case, "case"))
        engineers = {h.engineer for h in the_case.handovers}
        permit(actor, "product_problems.record", "record product problems",
               related=actor.id in engineers)  # fmt: skip
        when = self._basis.at(at)
        name = values.name(
            model if model is not None else the_case.product.model, "model (the case names none)"
        )
        fault_text = values.name(
            fault if fault is not None else (the_case.fault_code or the_case.fault), "fault"
        )
        # the group's count as this one makes it (told in the record's own transaction)
        count = len(self.list(model=name, fault=fault_text)) + 1
        roles = self._basis.policy.product_problems_to
        recipients = tuple(dict.fromkeys(s for role in roles for s in self._staff.with_role(role)))
        with self._basis.storage.transaction() as tx:
            problem = ProductProblem(
                f"PP-{tx.next_number('product_problem'):06d}",
                the_case.id,
                the_case.number,
                name,
                fault_text,
                values.text(values.name(evidence, "evidence"), "evidence"),
                actor.id,
                when,
                values.name(part, "part", required=False),
                the_case.product.line,
                the_case.product.serial,
            )
            self._records.create(problem, "recorded", actor.id, when, tx=tx)
            note = Notification(
                "product_problem", the_case.id, recipients,
                f"product problem on {problem.model}: {problem.fault} "
                f"({count} reported{'' if count == 1 else ' so far'})",
                {"problem": problem.id, "model": problem.model, "fault": problem.fault,
                 "part": problem.part, "count": count, "evidence": problem.evidence,
                 "case": the_case.number}, when)  # fmt: skip
            items = self._notifications.stage([note] if recipients else [], when)
            tx.enqueue(items)
        self._notifications.deliver(items, when)
        return problem


__all__ = ["ProblemGroup", "ProductProblemService"]
