"""The claim and requisition state machines, as the pure functions of ``core`` they are:
each move checks where the record stands and who moves it, and returns it after. The
services only read, call and store, so these rules hold whatever calls them."""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal

import pytest

from aftersales import PermissionDenied, Staff, ValidationError, WorkflowError
from aftersales.core import expenses as claims
from aftersales.core.parts import (
    Requisition,
    RequisitionLine,
    approved_requisition,
    check_requisition_move,
    issued_requisition,
    rejected_requisition,
)

T0 = datetime(2026, 11, 2, 8, 0, tzinfo=timezone.utc)
ENGINEER = Staff("e7", "Engineer", ("engineer",))
SUPERVISOR = Staff("s1", "Supervisor", ("supervisor",))
MANAGER = Staff("m1", "Manager", ("manager", "supervisor"))
FINANCE = Staff("f1", "Finance", ("finance",))
MANAGING_ENGINEER = Staff("e7", "Engineer who manages", ("engineer", "manager", "finance"))


def draft() -> claims.Claim:
    line = claims.ClaimLine("meals", Decimal("80"), "CNY", date(2026, 11, 1))
    return claims.Claim("EX-1", "e7", (line,), (), "draft", T0, version=1)


def waiting(chain: tuple[str, ...] = ("supervisor", "manager")) -> claims.Claim:
    return claims.submitted(draft(), chain, "p:1", (), T0)


def test_a_claim_walks_its_chain_to_paid() -> None:
    claim = waiting()
    assert (claim.status, claim.waiting_for, claim.version) == ("submitted", "supervisor", 2)
    claim = claims.approved(claim, SUPERVISOR, T0)
    assert (claim.status, claim.waiting_for) == ("submitted", "manager")
    claim = claims.approved(claim, MANAGER, T0)
    assert (claim.status, claim.waiting_for) == ("approved", None)
    claim = claims.paid(claim, FINANCE)
    assert (claim.status, claim.paid_by, claim.version) == ("paid", "f1", 5)


def test_a_claim_with_no_chain_is_approved_on_submission() -> None:
    assert waiting(()).status == "approved"


def test_nobody_approves_their_own_claim_or_two_steps() -> None:
    with pytest.raises(PermissionDenied, match="their own claim"):
        claims.approved(waiting(("manager",)), MANAGING_ENGINEER, T0)
    once = claims.approved(waiting(("supervisor", "manager")), MANAGER, T0)
    with pytest.raises(PermissionDenied, match="already approved"):
        claims.approved(once, MANAGER, T0)
    with pytest.raises(PermissionDenied, match="needs the role supervisor"):
        claims.approved(waiting(), FINANCE, T0)


def test_claims_move_only_from_where_they_stand() -> None:
    with pytest.raises(WorkflowError, match="only an approved claim is paid"):
        claims.paid(waiting(), FINANCE)
    with pytest.raises(WorkflowError, match="only a draft or a rejected claim can be edited"):
        claims.edited(waiting(), draft().lines, ())
    with pytest.raises(WorkflowError, match="only a draft is submitted"):
        claims.submitted(waiting(), (), None, (), T0)
    with pytest.raises(WorkflowError, match="not waiting for approval"):
        claims.approved(draft(), MANAGER, T0)


def test_a_rejected_claim_is_edited_back_to_a_draft() -> None:
    with pytest.raises(PermissionDenied, match="reject their own claim"):
        claims.rejected(waiting(("manager",)), MANAGING_ENGINEER, "no")
    with pytest.raises(ValidationError, match="needs a reason"):
        claims.rejected(waiting(), SUPERVISOR, "  ")
    back = claims.rejected(waiting(), SUPERVISOR, "receipt missing")
    assert (back.status, back.reason) == ("rejected", "receipt missing")
    again = claims.edited(back, back.lines, ("case-1",))
    assert (again.status, again.approvals, again.cases) == ("draft", (), ("case-1",))


def test_nobody_pays_their_own_claim() -> None:
    approved = claims.submitted(
        claims.Claim("EX-2", "f1", draft().lines, (), "draft", T0, version=1), (), None, (), T0
    )
    with pytest.raises(PermissionDenied, match="pay their own claim"):
        claims.paid(approved, FINANCE)
    with pytest.raises(PermissionDenied, match="needs a finance"):
        claims.paid(approved, MANAGER)


def requested(chain: tuple[str, ...] = ("supervisor",)) -> Requisition:
    line = RequisitionLine("PUMP-1", 2)
    return Requisition("RQ-1", "case-1", "e7", (line,), Decimal(900), chain, "p:2",
                       "requested" if chain else "approved", T0, version=1)  # fmt: skip


def test_a_requisition_is_approved_then_issued() -> None:
    req = approved_requisition(requested(), SUPERVISOR, T0)
    assert (req.status, req.version) == ("approved", 2)
    req = issued_requisition(req, "VAN-e7")
    assert (req.status, req.issued_to, req.version) == ("issued", "VAN-e7", 3)


def test_requisitions_move_only_from_where_they_stand() -> None:
    with pytest.raises(WorkflowError, match="only an approved one is issued"):
        issued_requisition(requested(), "VAN-e7")
    with pytest.raises(WorkflowError, match="not waiting for approval"):
        approved_requisition(requested(()), SUPERVISOR, T0)
    with pytest.raises(WorkflowError, match="only a requested one"):
        check_requisition_move(requested(()), "reject")


def test_nobody_approves_or_rejects_their_own_requisition() -> None:
    with pytest.raises(PermissionDenied, match="their own requisition"):
        approved_requisition(requested(("manager",)), MANAGING_ENGINEER, T0)
    with pytest.raises(PermissionDenied, match="reject their own requisition"):
        rejected_requisition(requested(("manager",)), MANAGING_ENGINEER, "no")
    rejected = rejected_requisition(requested(), SUPERVISOR, "one is enough")
    assert (rejected.status, rejected.reason) == ("rejected", "one is enough")
