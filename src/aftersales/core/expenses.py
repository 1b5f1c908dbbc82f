"""Expense claims: lines, the checks against the policy's limits, the approval chain."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import attrs

CLAIM_STATES = ("draft", "submitted", "approved", "paid", "rejected")


@attrs.frozen
class ClaimLine:
    """One expense. ``rate`` converts ``currency`` into the policy's (required when they
    differ); ``nights``/``days`` count what a per-night or per-day limit multiplies."""

    category: str
    amount: Decimal
    currency: str
    date: date
    invoice: str | None = None
    attachment: str | None = None
    nights: int | None = None
    days: int | None = None
    rate: Decimal | None = None

    @property
    def local(self) -> Decimal:
        """The amount in the policy's currency."""
        return self.amount if self.rate is None else self.amount * self.rate


@attrs.frozen
class Finding:
    """Something a check found: which line (None: the whole claim), what, and the rule."""

    line: int | None
    message: str
    rule: str


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
    status: str
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
        return sum((line.local for line in self.lines), Decimal(0))

    @property
    def waiting_for(self) -> str | None:
        if self.status != "submitted" or len(self.approvals) >= len(self.chain):
            return None
        return self.chain[len(self.approvals)]


__all__ = ["CLAIM_STATES", "Claim", "ClaimLine", "Finding", "Step"]
