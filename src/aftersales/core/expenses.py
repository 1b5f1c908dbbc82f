"""Expense claims: lines, the checks against the policy's limits, the approval chain."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

import attrs

from aftersales.core import values
from aftersales.core.approvals import approve_step, reject_step
from aftersales.core.errors import ValidationError, WorkflowError
from aftersales.core.model import Staff
from aftersales.core.money import currency_code
from aftersales.core.permissions import not_own, permit

ClaimStatus = Literal["draft", "submitted", "approved", "paid", "rejected"]
CLAIM_STATES: tuple[ClaimStatus, ...] = ("draft", "submitted", "approved", "paid", "rejected")
CLAIM_MOVES: dict[str, tuple[frozenset[str], str]] = {
    "edit": (frozenset({"draft", "rejected"}), "only a draft or a rejected claim can be edited"),
    "submit": (frozenset({"draft"}), "only a draft is submitted"),
    "pay": (frozenset({"approved"}), "only an approved claim is paid"),
}
"""The claim's state machine beside its model: which statuses each move starts from (approve
and reject start from ``submitted``, at the step the chain waits for). The moves themselves
are the functions at the end of this module; the service only reads, calls and stores."""


def check_claim_move(claim: Claim, move: str) -> None:
    """WorkflowError unless ``claim`` may take ``move`` in its status."""
    allowed, says = CLAIM_MOVES[move]
    if claim.status not in allowed:
        raise WorkflowError(f"claim {claim.id} is {claim.status}; {says}")


REPORT_GROUPS = ("staff", "case", "category", "customer")
"""What the cost-control report groups claim lines by."""

MAX_NIGHTS = 31
"""Nights or days one line may count: a longer stay is claimed month by month, so a large
count cannot hide an over-limit line."""
MAX_RATE = Decimal(1_000_000)


def _category(value: object) -> str:
    return values.name(value, "the category")  # type: ignore[no-any-return]


def _amount(value: object) -> Decimal:
    return values.amount(value, "the amount", positive=True)


def _date(value: object) -> date:
    if isinstance(value, str) and len(value) == 10:
        try:
            value = date.fromisoformat(value)
        except ValueError:
            raise ValidationError(f"the date {value!r} is not a date such as 2026-11-27") from None
    return values.day(value, "the date")


def _invoice(value: object) -> str | None:
    return values.name(value, "the invoice", required=False)  # type: ignore[no-any-return]


def _attachment(value: object) -> str | None:
    return values.name(value, "the attachment", required=False)  # type: ignore[no-any-return]


def _nights(value: object) -> int | None:
    return None if value is None else values.count(value, "nights", minimum=1, maximum=MAX_NIGHTS)


def _days(value: object) -> int | None:
    return None if value is None else values.count(value, "days", minimum=1, maximum=MAX_NIGHTS)


def _rate(value: object) -> Decimal | None:
    if value is None:
        return None
    return values.amount(value, "the exchange rate", positive=True, maximum=MAX_RATE)


@attrs.frozen
class ClaimLine:
    """One expense. ``rate`` converts ``currency`` into the policy's (required when they
    differ); ``nights``/``days`` count what a per-night or per-day limit multiplies (at
    most :data:`MAX_NIGHTS`). Every field is checked when the line is made."""

    category: str = attrs.field(converter=_category)
    amount: Decimal = attrs.field(converter=_amount)
    currency: str = attrs.field(converter=currency_code)
    date: date = attrs.field(converter=_date)
    invoice: str | None = attrs.field(default=None, converter=_invoice)
    attachment: str | None = attrs.field(default=None, converter=_attachment)
    nights: int | None = attrs.field(default=None, converter=_nights)
    days: int | None = attrs.field(default=None, converter=_days)
    rate: Decimal | None = attrs.field(default=None, converter=_rate)

    @property
    def local(self) -> Decimal:
        """The amount in the policy's currency."""
        return self.amount if self.rate is None else self.amount * self.rate


FINDING_ACTIONS = ("flag", "cap", "refuse")


@attrs.frozen
class Finding:
    """Something a check found: which line (None: the whole claim), what, and the rule.
    ``action`` is what the policy does about it: ``flag`` (paid in full, shown to the
    approvers), ``cap`` (``cut`` is not reimbursed) or ``refuse`` (the claim cannot be made
    with it); ``category`` is the expense category it is about."""

    line: int | None
    message: str
    rule: str
    action: str = "flag"
    category: str | None = None
    cut: Decimal = Decimal(0)


@attrs.frozen
class Step:
    role: str
    by: str
    at: datetime


@attrs.frozen
class Claim:
    id: str
    staff_id: str
    lines: tuple[ClaimLine, ...]
    cases: tuple[str, ...]
    status: ClaimStatus
    created_at: datetime
    chain: tuple[str, ...] = ()
    rule: str | None = None
    approvals: tuple[Step, ...] = ()
    findings: tuple[Finding, ...] = ()
    reason: str | None = None  # why it was rejected
    paid_by: str | None = None
    submitted_at: datetime | None = None
    version: int = 0

    @property
    def total(self) -> Decimal:
        """What was claimed, in the policy's currency."""
        return sum((line.local for line in self.lines), Decimal(0))

    @property
    def claimed(self) -> Decimal:
        return self.total

    @property
    def capped(self) -> Decimal:
        """What the policy's caps keep from being reimbursed."""
        return sum((f.cut for f in self.findings), Decimal(0))

    @property
    def reimbursed(self) -> Decimal:
        """What is paid back: the claimed total less what the caps cut."""
        return self.total - self.capped

    def reimbursed_lines(self) -> tuple[Decimal, ...]:
        """Each line's reimbursed amount: its own cut taken off, and a per-claim cap's cut
        shared among its category's lines by their amounts."""
        amounts = [line.local for line in self.lines]
        for f in self.findings:
            if not f.cut:
                continue
            if f.line is not None:
                amounts[f.line - 1] -= f.cut
                continue
            mine = [n for n, line in enumerate(self.lines) if line.category == f.category]
            whole = sum((self.lines[n].local for n in mine), Decimal(0))
            for n in mine:
                amounts[n] -= f.cut * self.lines[n].local / whole if whole else 0
        return tuple(amounts)

    @property
    def waiting_for(self) -> str | None:
        if self.status != "submitted" or len(self.approvals) >= len(self.chain):
            return None
        return self.chain[len(self.approvals)]


# -- the claim's moves: each checks where the claim stands and returns it after ----------------
def edited(claim: Claim, lines: tuple[ClaimLine, ...], cases: tuple[str, ...]) -> Claim:
    """A draft or rejected claim with new lines: a draft again, its findings and approvals
    cleared."""
    check_claim_move(claim, "edit")
    return attrs.evolve(claim, lines=lines, status="draft", findings=(), approvals=(),
                        cases=cases, version=claim.version + 1)  # fmt: skip


def submitted(
    claim: Claim,
    chain: tuple[str, ...],
    rule: str | None,
    findings: tuple[Finding, ...],
    at: datetime,
) -> Claim:
    """A draft submitted: waiting for ``chain`` (approved at once when it is empty)."""
    check_claim_move(claim, "submit")
    return attrs.evolve(claim, status="submitted" if chain else "approved", chain=chain,
                        rule=rule, findings=findings, submitted_at=at,
                        version=claim.version + 1)  # fmt: skip


def approved(claim: Claim, approver: Staff, at: datetime) -> Claim:
    """The step the claim waits for approved by ``approver``: the role it needs, not the
    claimant's own, no member twice; approved once the last step is."""
    role, last = approve_step(claim.chain, tuple(s.by for s in claim.approvals),
                              claim.status == "submitted", approver, claim.staff_id,
                              f"claim {claim.id}", claim.status, "claim")  # fmt: skip
    steps = (*claim.approvals, Step(role, approver.id, at))
    status: ClaimStatus = "approved" if last else "submitted"
    return attrs.evolve(claim, approvals=steps, status=status, version=claim.version + 1)


def rejected(claim: Claim, rejecter: Staff, reason: str) -> Claim:
    """The claim sent back by the role it waits for (not by its claimant), with a reason."""
    reject_step(claim.waiting_for, rejecter, claim.staff_id, f"claim {claim.id}",
                claim.status, "claim")  # fmt: skip
    if not isinstance(reason, str) or not reason.strip():
        raise ValidationError("a rejection needs a reason")
    return attrs.evolve(claim, status="rejected", reason=reason.strip(),
                        version=claim.version + 1)  # fmt: skip


def paid(claim: Claim, payer: Staff) -> Claim:
    """An approved claim paid, by finance and not by its claimant."""
    check_claim_move(claim, "pay")
    permit(payer, "expenses.pay", "pay claims")
    not_own(payer, claim.staff_id, "pay their own claim", "another member of finance pays it")
    return attrs.evolve(claim, status="paid", paid_by=payer.id, version=claim.version + 1)


__all__ = [
    "CLAIM_MOVES",
    "CLAIM_STATES",
    "FINDING_ACTIONS",
    "MAX_NIGHTS",
    "REPORT_GROUPS",
    "Claim",
    "ClaimLine",
    "ClaimStatus",
    "Finding",
    "Step",
    "approved",
    "check_claim_move",
    "edited",
    "paid",
    "rejected",
    "submitted",
]
