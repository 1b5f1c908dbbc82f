"""What customers say back, as records: complaints and the product problems engineers find
on site. Pure values; ``desk.complaints`` and ``desk.product_problems`` store and move them."""

from __future__ import annotations

from datetime import datetime

import attrs

COMPLAINT_STATUSES = ("open", "responded", "resolved", "closed")
"""A complaint is ``open`` until its owner answers the customer (``responded``), then
``resolved`` once the root cause and the corrective action are recorded, and ``closed`` when
the customer confirms they are satisfied (an unsatisfied customer sends it back to
``responded``)."""


@attrs.frozen
class Complaint:
    """A customer's complaint: where it came from, the case and staff it concerns, who owns
    it, its deadlines (the policy's ``complaint respond within ..., resolve within ...``) and
    what was done."""

    id: str
    source: str  # COMPLAINT_SOURCES
    summary: str
    customer: str
    owner: str
    opened_at: datetime
    opened_by: str
    status: str = "open"
    case_id: str | None = None
    case_number: str | None = None
    customer_id: str | None = None
    staff: tuple[str, ...] = ()  # the staff it concerns (the case's engineers)
    respond_by: datetime | None = None
    resolve_by: datetime | None = None
    rule: str | None = None  # the policy line that set the deadlines
    trigger: str | None = None  # the policy line that opened it, when one did
    responded_at: datetime | None = None
    response: str | None = None
    resolved_at: datetime | None = None
    root_cause: str | None = None
    corrective_action: str | None = None
    closed_at: datetime | None = None
    confirmed_by: str | None = None  # the customer's person who confirmed the closure
    returned: int = 0  # times the customer was not satisfied with the resolution
    version: int = 0

    @property
    def is_open(self) -> bool:
        return self.status != "closed"

    def overdue(self, now: datetime) -> str | None:
        """``respond`` or ``resolve`` when that deadline passed with the step not done."""
        if self.status == "open" and self.respond_by is not None and now >= self.respond_by:
            return "respond"
        if (
            self.status in ("open", "responded")
            and self.resolve_by is not None
            and now >= self.resolve_by
        ):
            return "resolve"
        return None


@attrs.frozen
class ProductProblem:
    """A suspected design or quality problem an engineer found on a case: the machine's
    model, the part, the fault, and the evidence (what they saw, measured, photographed)."""

    id: str
    case_id: str
    case_number: str
    model: str
    fault: str
    evidence: str
    by: str
    at: datetime
    part: str | None = None
    line: str | None = None
    serial: str | None = None
    version: int = 1


__all__ = ["COMPLAINT_STATUSES", "Complaint", "ProductProblem"]
