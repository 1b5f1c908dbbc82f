"""``desk.expenses``: claims checked against the policy's limits, approved along its chain.

A claim is drafted by the staff member who spent the money, submitted (the checks run then,
every finding naming the line and the policy rule), approved step by step by the roles the
policy's ``approve by ... [when ...]`` chain names (nobody approves their own claim or two
steps of one), then paid; or rejected with a reason, edited and submitted again. Every
change is an event of the claim. Invoice numbers are unique across all claims: each is
recorded in the transaction that submits its claim.
"""

from __future__ import annotations

import builtins
import uuid
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import attrs

from aftersales.core import expenses as claims
from aftersales.core import values
from aftersales.core.boundary import public_api
from aftersales.core.errors import (
    ConflictError,
    PolicyError,
    ValidationError,
)
from aftersales.core.expenses import (
    CLAIM_STATES,
    REPORT_GROUPS,
    Claim,
    ClaimLine,
    Finding,
    check_claim_move,
)
from aftersales.core.model import Notification
from aftersales.core.permissions import permit
from aftersales.core.values import shown
from aftersales.ports.storage import event_record
from aftersales.services.basis import Basis
from aftersales.services.case_book import CaseBook
from aftersales.services.notifications import NotificationService
from aftersales.services.repository import Repository
from aftersales.services.staff import StaffDirectory

_PER = {"night": "nights", "day": "days"}


@public_api("desk.expenses")
class ExpenseService:
    def __init__(
        self,
        basis: Basis,
        *,
        staff: StaffDirectory,
        notifications: NotificationService,
        cases: CaseBook,
    ) -> None:
        self._basis = basis
        self._staff = staff
        self._notifications = notifications
        self._cases = cases
        self._claims = Repository(basis.storage, "claim", Claim, "expense claim")

    @property
    def rules(self) -> Any:
        rules = self._basis.policy.expenses
        if rules is None:
            raise PolicyError(
                f"{self._basis.policy.filename} has no expenses section",
                hint="add an expenses block to the policy",
            )
        return rules

    # -- drafting -----------------------------------------------------------------------------
    def _lines(self, lines: Iterable[Mapping[str, Any] | ClaimLine]) -> tuple[ClaimLine, ...]:
        currency = self._basis.policy.currency
        known = [f.name for f in attrs.fields(ClaimLine)]
        out = []
        for n, item in enumerate(values.items(lines, "a claim's lines"), start=1):
            if isinstance(item, ClaimLine):
                line = item
            elif isinstance(item, Mapping):
                data = dict(item)
                unknown = sorted(str(k) for k in set(data) - set(known))
                if unknown:
                    raise ValidationError(
                        f"line {n}: unknown field {unknown[0]!r:.40}; known: {', '.join(known)}"
                    )
                data.setdefault("currency", currency)
                missing = [k for k in ("category", "amount", "date") if k not in data]
                if missing:
                    raise ValidationError(f"line {n}: {missing[0]} is missing")
                try:
                    line = ClaimLine(**data)
                except ValidationError as exc:
                    raise ValidationError(f"line {n}: {exc}") from None
            else:
                raise ValidationError(
                    f"line {n} is a {type(item).__name__}; a line is a mapping such as "
                    "{'category': 'meals', 'amount': '85', 'date': '2026-11-27'}"
                )
            if line.currency != currency and line.rate is None:
                raise ValidationError(
                    f"line {n}: {line.currency} is not the policy's currency ({currency}); "
                    "record the exchange rate on the line (rate=)"
                )
            if line.currency == currency and line.rate not in (None, 1):
                raise ValidationError(
                    f"line {n}: a line in {currency}, the policy's currency, has no exchange "
                    f"rate other than 1 (not {line.rate})"
                )
            out.append(line)
        if not out:
            raise ValidationError("a claim needs at least one line")
        return tuple(out)

    def draft(
        self,
        lines: Iterable[Mapping[str, Any] | ClaimLine],
        *,
        by: str,
        cases: Iterable[str] = (),
        at: datetime | None = None,
    ) -> Claim:
        """Start a claim for ``by``'s own expenses, linked to the case(s) they served."""
        self.rules  # noqa: B018 - refuses at once when the policy has no expenses section
        self._staff.actor(by)
        linked = tuple(dict.fromkeys(cases))
        for case_id in linked:
            self._cases.get(case_id)
        when = self._basis.at(at)
        claim = Claim(f"EX-{uuid.uuid4().hex[:10]}", by, self._lines(lines), linked, "draft",
                      when, version=1)  # fmt: skip
        self.refusals(claim)
        return self._claims.create(claim, "drafted", by, when)

    def get(self, claim_id: str) -> Claim:
        return self._claims.get(claim_id)

    def claims(self, *, status: str | None = None) -> builtins.list[Claim]:
        if status is not None and status not in CLAIM_STATES:
            raise ValidationError(
                f"unknown claim status {shown(status)}; statuses: {', '.join(CLAIM_STATES)}"
            )
        found = self._claims.all()
        return sorted((c for c in found if status in (None, c.status)), key=lambda c: c.created_at)

    def edit(
        self,
        claim_id: str,
        lines: Iterable[Mapping[str, Any] | ClaimLine],
        *,
        by: str,
        cases: Iterable[str] | None = None,
        at: datetime | None = None,
    ) -> Claim:
        """Change a draft or a rejected claim (its owner)."""
        claim = self._own(claim_id, by, "edit")
        linked = claim.cases if cases is None else tuple(dict.fromkeys(cases))
        after = claims.edited(claim, self._lines(lines), linked)
        self.refusals(after)
        return self._save(claim, after, "edited", by, self._basis.at(at))

    # -- checks -------------------------------------------------------------------------------
    def check(self, claim: Claim) -> tuple[Finding, ...]:
        """What the policy finds in a claim, each with what it does about it: an over-limit
        line is flagged, capped at the limit or refused as its limit (or ``over limit``)
        says; a category neither limited nor listed (``categories``) is refused unless
        ``unlisted categories flag``. Nothing is refused here: see :meth:`refusals`."""
        rules = self.rules
        findings = []
        totals: dict[str, Decimal] = {}
        for n, line in enumerate(claim.lines, start=1):
            totals[line.category] = totals.get(line.category, Decimal(0)) + line.local
            if not rules.listed(line.category):
                known = ", ".join([*rules.limits, *rules.categories]) or "none"
                where = rules.unlisted_location or rules.location
                findings.append(Finding(n, f"{line.category} is not an expense category of the "
                                           f"policy (categories: {known})", where,
                                        rules.unlisted, line.category))  # fmt: skip
                continue
            limit = rules.limits.get(line.category)
            if limit is None or limit.per == "claim":
                continue
            count = 1
            if limit.per in _PER:
                count = getattr(line, _PER[limit.per]) or 1
            allowed = limit.amount.amount * count
            if line.local > allowed:
                action, where = rules.action_for(limit)
                cut = line.local - allowed if action == "cap" else Decimal(0)
                findings.append(Finding(n, f"{line.category} {line.local} is over the limit "
                                           f"of {limit.amount} per {limit.per}"
                                           + (f" x {count}" if count > 1 else ""),
                                        where, action, line.category, cut))  # fmt: skip
        for category, total in totals.items():
            limit = rules.limits.get(category)
            if limit is not None and limit.per == "claim" and total > limit.amount.amount:
                action, where = rules.action_for(limit)
                what = f"{category} {total} is over the limit of {limit.amount} per claim"
                cut = total - limit.amount.amount if action == "cap" else Decimal(0)
                findings.append(Finding(None, what, where, action, category, cut))
        return tuple(findings)

    def refusals(self, claim: Claim) -> None:
        """ValidationError naming every finding the policy refuses (an unlisted category, a
        line over a ``refuse`` limit), each with its line and the policy's."""
        refused = [f for f in self.check(claim) if f.action == "refuse"]
        if refused:
            said = "; ".join(
                ("" if f.line is None else f"line {f.line}: ") + f"{f.message} ({f.rule})"
                for f in refused
            )
            raise ValidationError(
                f"the policy refuses this claim: {said}; claim within the limit, or a category "
                "the policy lists"
            )

    # -- the chain ----------------------------------------------------------------------------
    def submit(self, claim_id: str, *, by: str, at: datetime | None = None) -> Claim:
        """Submit a draft: every line needs an invoice if the policy says so, no invoice
        number may be on another claim; the limits' findings are recorded on the claim; the
        chain is chosen and its first approver notified."""
        claim = self._own(claim_id, by, "submit")
        check_claim_move(claim, "submit")
        rules = self.rules
        if rules.invoice_required:
            missing = [n for n, line in enumerate(claim.lines, start=1) if not line.invoice]
            if missing:
                raise ValidationError(
                    f"the policy requires an invoice ({rules.location}); line(s) "
                    f"{', '.join(map(str, missing))} have none"
                )
        invoices = [line.invoice for line in claim.lines if line.invoice]
        if len(set(invoices)) != len(invoices):
            raise ValidationError("the same invoice number appears twice in the claim")
        for number in invoices:
            record = self._basis.storage.get("invoice", number)
            if record is not None and record.data["claim"] != claim.id:
                raise ValidationError(
                    f"invoice {number} is already used on claim {record.data['claim']}"
                )
        self.refusals(claim)  # the policy may have changed since the draft
        findings = self.check(claim)
        # the chain is chosen by what would be paid: a capped claim by its reimbursed amount
        payable = attrs.evolve(claim, findings=findings).reimbursed
        facts = {"amount": payable, "lines": len(claim.lines), "cases": len(claim.cases)}
        rule = rules.approval_for(facts)
        chain = tuple(rule.chain) if rule is not None else ()
        when = self._basis.at(at)
        location = None if rule is None else rule.location
        after = claims.submitted(claim, chain, location, findings, when)
        try:
            with self._notifications.transaction(self._next_approvers(after, when), when) as tx:
                for number in invoices:
                    if tx.get("invoice", number) is None:
                        tx.append("invoice", number, 0,
                                  [event_record(1, "used", by, when, {"claim": claim.id})],
                                  {"claim": claim.id})  # fmt: skip
                self._claims.save(claim, after, "submitted", by, when, tx=tx)
        except ConflictError:
            raise ValidationError(
                "an invoice of this claim was just used on another claim"
            ) from None
        return after

    def approve(self, claim_id: str, *, by: str, at: datetime | None = None) -> Claim:
        """Approve the step the claim waits for (``by`` holds that role, is not the claimant
        and approved no earlier step)."""
        claim = self.get(claim_id)
        when = self._basis.at(at)
        after = claims.approved(claim, self._staff.actor(by), when)
        return self._save(claim, after, "approved", by, when)

    def reject(self, claim_id: str, *, by: str, reason: str, at: datetime | None = None) -> Claim:
        """Send a claim back with a reason; its owner may edit and submit it again."""
        claim = self.get(claim_id)
        after = claims.rejected(claim, self._staff.actor(by), reason)
        return self._save(claim, after, "rejected", by, self._basis.at(at))

    def pay(self, claim_id: str, *, by: str, at: datetime | None = None) -> Claim:
        """Record the payment of an approved claim (finance)."""
        claim = self.get(claim_id)
        after = claims.paid(claim, self._staff.actor(by))
        return self._save(claim, after, "paid", by, self._basis.at(at))

    def history(self, claim_id: str) -> builtins.list[dict[str, Any]]:
        """The claim's events, oldest first."""
        self.get(claim_id)
        return self._basis.storage.events("claim", claim_id)

    # -- cost control -------------------------------------------------------------------------
    def report(
        self, since: date, until: date, *, by: str = "staff"
    ) -> builtins.list[dict[str, Any]]:
        """Approved and paid claim lines dated in ``[since, until)``, grouped ``by`` staff,
        case, category or customer: what was claimed, reimbursed (``total``) and capped,
        lines, claims, cost per case (reimbursed), lines over limits."""
        if by not in REPORT_GROUPS:
            raise ValidationError(f"by must be one of {', '.join(REPORT_GROUPS)}, not {shown(by)}")
        groups: dict[str, dict[str, Any]] = {}
        for claim in self.claims():
            if claim.status not in ("approved", "paid"):
                continue
            over = {f.line for f in claim.findings}
            paid_back = claim.reimbursed_lines()
            for n, line in enumerate(claim.lines, start=1):
                if not since <= line.date < until:
                    continue
                spread = Decimal(len(claim.cases) if by in ("case", "customer") else 1) or 1
                share = paid_back[n - 1] / spread
                keys: list[str]
                if by == "staff":
                    keys = [claim.staff_id]
                elif by == "category":
                    keys = [line.category]
                elif by == "case":
                    keys = list(claim.cases) or ["(no case)"]
                else:
                    keys = [self._cases.get(c).customer.name for c in claim.cases] or ["(none)"]
                for key in keys:
                    fresh = {"group": key, "total": Decimal(0), "claimed": Decimal(0),
                             "lines": 0, "claims": set(), "cases": set(),
                             "over_limit": 0}  # fmt: skip
                    g = groups.setdefault(key, fresh)
                    g["total"] += share
                    g["claimed"] += line.local / spread
                    g["lines"] += 1
                    g["claims"].add(claim.id)
                    g["cases"].update(claim.cases)
                    g["over_limit"] += n in over or None in over
        rows = []
        for g in sorted(groups.values(), key=lambda g: g["group"]):
            cases = len(g["cases"])
            rows.append({
                "group": g["group"], "total": g["total"], "claimed": g["claimed"],
                "capped": g["claimed"] - g["total"], "lines": g["lines"],
                "claims": len(g["claims"]), "cases": cases,
                "per_case": g["total"] / cases if cases else None,
                "over_limit": g["over_limit"],
            })  # fmt: skip
        return rows

    # -- helpers ------------------------------------------------------------------------------
    def _own(self, claim_id: str, by: str, what: str) -> Claim:
        claim = self.get(claim_id)
        permit(self._staff.actor(by), f"expenses.{what}", f"{what} {claim.staff_id}'s claim",
               related=by == claim.staff_id)  # fmt: skip
        return claim

    def _save(self, before: Claim, after: Claim, kind: str, by: str, at: datetime) -> Claim:
        """Store ``after``, and tell the next approvers, if any, in the same transaction."""
        with self._notifications.transaction(self._next_approvers(after, at), at) as tx:
            self._claims.save(before, after, kind, by, at, {"reason": after.reason}, tx=tx)
        return after

    def _next_approvers(self, claim: Claim, at: datetime) -> list[Notification]:
        role = claim.waiting_for
        if role is None:
            return []
        people = tuple(s for s in self._staff.with_role(role) if s != claim.staff_id)
        return [Notification(
            "expense_awaiting_approval", None, people,
            f"claim {claim.id} of {claim.staff_id}, {claim.total} "
            f"{self._basis.policy.currency or ''}, waits for {role} approval".replace("  ", " "),
            {"claim": claim.id, "role": role, "total": str(claim.total),
             "reimbursed": str(claim.reimbursed),
             "findings": [f.message for f in claim.findings]}, at,
        )]  # fmt: skip


__all__ = ["ExpenseService"]
