"""desk.expenses: claims, checks against the policy's limits, the approval chain, cost
control (issue 7, first part)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest
from conftest import RULES, add_team, at, run_to

from aftersales import (
    PermissionDenied,
    ServiceDesk,
    ValidationError,
    WorkflowError,
)
from aftersales.testing import Outbox

DAY = date(2026, 11, 23)


@pytest.fixture
def desk(storage_url: str, outbox: Outbox) -> ServiceDesk:
    d = ServiceDesk(RULES / "default.policy", storage_url, plugins=[outbox])
    add_team(d)
    d.staff.add(id="f1", name="Sun", roles=["finance"], at=at(0))
    return d


def line(category: str, amount: str, invoice: str | None, **extra: object) -> dict[str, object]:
    return {"category": category, "amount": amount, "date": DAY, "invoice": invoice, **extra}


def test_lines_are_checked_when_drafted(desk: ServiceDesk) -> None:
    with pytest.raises(ValidationError, match="above 0"):
        desk.expenses.draft([line("meals", "0", "A1")], by="e7")
    with pytest.raises(ValidationError, match="record the exchange rate"):
        desk.expenses.draft([line("meals", "20", "A1", currency="USD")], by="e7")
    claim = desk.expenses.draft([line("meals", "20", "A1", currency="USD", rate="7.1")], by="e7")
    assert claim.total == D("142.0") and claim.status == "draft"


def test_submit_checks_invoices_and_limits(desk: ServiceDesk, outbox: Outbox) -> None:
    case = run_to(desk, "on_site")
    no_invoice = desk.expenses.draft([line("meals", "100", None)], by="e7")
    with pytest.raises(
        ValidationError, match=r"requires an invoice \(.*default.policy:73\); line\(s\) 1"
    ):
        desk.expenses.submit(no_invoice.id, by="e7")
    claim = desk.expenses.draft(
        [
            line("lodging", "900", "INV-1", nights=2),  # limit 400 per night: 800
            line("meals", "100", "INV-2", days=1),  # within 120 per day
            line("transport", "2500", "INV-3"),  # limit 2000 per trip
        ],
        by="e7",
        cases=[case.id],
    )
    with pytest.raises(PermissionDenied, match="cannot submit e7's claim"):
        desk.expenses.submit(claim.id, by="e8")
    submitted = desk.expenses.submit(claim.id, by="e7", at=at(300))
    assert submitted.status == "submitted" and submitted.chain == ("manager", "finance")
    assert [
        (f.line, f.rule.endswith(str(n))) for f, n in zip(submitted.findings, (75, 77), strict=True)
    ] == [
        (1, True),
        (3, True),
    ]
    assert "over the limit of 400" in submitted.findings[0].message
    [note] = outbox.of("expense_awaiting_approval")
    assert note.recipients == ("m1",) and note.data["role"] == "manager"
    reused = desk.expenses.draft([line("meals", "50", "INV-2")], by="e8")
    with pytest.raises(ValidationError, match=f"invoice INV-2 is already used on claim {claim.id}"):
        desk.expenses.submit(reused.id, by="e8")


def test_the_chain_rejection_and_payment(desk: ServiceDesk, outbox: Outbox) -> None:
    claim = desk.expenses.draft([line("meals", "100", "B1")], by="e7")
    claim = desk.expenses.submit(claim.id, by="e7")
    with pytest.raises(PermissionDenied, match="as manager"):
        desk.expenses.approve(claim.id, by="f1")
    rejected = desk.expenses.reject(claim.id, by="m1", reason="no receipt photo", at=at(10))
    assert rejected.status == "rejected" and rejected.reason == "no receipt photo"
    with pytest.raises(WorkflowError, match="not waiting for approval"):
        desk.expenses.approve(claim.id, by="m1")
    edited = desk.expenses.edit(claim.id, [line("meals", "100", "B1", attachment="photo.jpg")],
                                by="e7", at=at(11))  # fmt: skip
    assert edited.status == "draft"
    desk.expenses.submit(claim.id, by="e7", at=at(12))  # the same invoice, the same claim: fine
    desk.expenses.approve(claim.id, by="m1", at=at(13))
    assert outbox.of("expense_awaiting_approval")[-1].recipients == ("f1",)
    with pytest.raises(WorkflowError, match="only an approved claim is paid"):
        desk.expenses.pay(claim.id, by="f1")
    approved = desk.expenses.approve(claim.id, by="f1", at=at(14))
    assert approved.status == "approved" and [s.role for s in approved.approvals] == [
        "manager",
        "finance",
    ]
    paid = desk.expenses.pay(claim.id, by="f1", at=at(15))
    assert paid.status == "paid" and paid.paid_by == "f1"
    kinds = [e["type"] for e in desk.expenses.history(claim.id)]
    assert kinds == ["drafted", "submitted", "rejected", "edited", "submitted", "approved",
                     "approved", "paid"]  # fmt: skip


def test_no_one_approves_two_steps(desk: ServiceDesk) -> None:
    desk.staff.add(id="mf", name="Both", roles=["manager", "finance"], at=at(0))
    claim = desk.expenses.draft([line("meals", "10", "B2")], by="e8")
    desk.expenses.submit(claim.id, by="e8")
    desk.expenses.approve(claim.id, by="mf")
    with pytest.raises(PermissionDenied, match="already approved claim"):
        desk.expenses.approve(claim.id, by="mf")


def test_nobody_approves_their_own_claim(desk: ServiceDesk) -> None:
    claim = desk.expenses.draft([line("meals", "100", "C1")], by="m1")
    desk.expenses.submit(claim.id, by="m1")
    with pytest.raises(PermissionDenied, match="their own claim"):
        desk.expenses.approve(claim.id, by="m1")


def test_chains_follow_the_policy_conditions(storage_url: str) -> None:
    desk = ServiceDesk(RULES / "rhine-pumps.policy", storage_url)
    add_team(desk)
    # the chain goes by what would be paid: rhine-pumps caps over-limit lines (600 a trip)
    big = desk.expenses.draft([{"category": "transport", "amount": "550", "date": DAY,
                                "invoice": f"R1-{n}"} for n in range(10)], by="e7")  # fmt: skip
    assert desk.expenses.submit(big.id, by="e7").chain == (
        "supervisor",
        "manager",
        "director",
        "finance",
    )
    mid = desk.expenses.draft([{"category": "transport", "amount": "600", "date": DAY,
                                "invoice": f"R2-{n}"} for n in range(2)], by="e7")  # fmt: skip
    assert desk.expenses.submit(mid.id, by="e7").chain == ("manager", "finance")
    small = desk.expenses.draft([{"category": "meals", "amount": "30", "date": DAY,
                                  "invoice": "R3", "days": 1}], by="e7")  # fmt: skip
    assert desk.expenses.submit(small.id, by="e7").chain == ("supervisor", "finance")


def test_cost_report(desk: ServiceDesk) -> None:
    case = run_to(desk, "on_site")
    for staff, inv, amount in (("e7", "D1", "300"), ("e7", "D2", "100"), ("e8", "D3", "50")):
        claim = desk.expenses.draft([line("meals", amount, inv)], by=staff,
                                    cases=[case.id] if staff == "e7" else [])  # fmt: skip
        desk.expenses.submit(claim.id, by=staff)
        desk.expenses.approve(claim.id, by="m1")
        desk.expenses.approve(claim.id, by="f1")
    rows = {r["group"]: r for r in desk.expenses.report(date(2026, 11, 1), date(2026, 12, 1))}
    # meals are capped at 120 a day: 300 claimed, 120 reimbursed
    assert rows["e7"]["total"] == D(220) and rows["e7"]["claimed"] == D(400)
    assert rows["e7"]["claims"] == 2
    assert rows["e7"]["per_case"] == D(220) and rows["e8"]["per_case"] is None
    assert rows["e7"]["over_limit"] == 1  # 300 of meals over 120 per day
    by_case = desk.expenses.report(date(2026, 11, 1), date(2026, 12, 1), by="case")
    assert [(r["group"], r["total"]) for r in by_case] == [("(no case)", D(50)), (case.id, D(220))]
    with pytest.raises(ValidationError, match="by must be"):
        desk.expenses.report(date(2026, 11, 1), date(2026, 12, 1), by="colour")


def test_the_approvers_are_told_in_the_claims_own_transaction(desk: ServiceDesk) -> None:
    """A desk that dies right after the submit commits still has the notification queued."""

    def crash(*args: object, **kwargs: object) -> list[object]:
        raise SystemExit("killed after the commit")

    claim = desk.expenses.draft([line("meals", "100", "C1")], by="e7")
    # dies at whatever runs after the commit: a delivery, or a notification's own transaction
    desk.notifications.deliver = crash  # type: ignore[method-assign]
    desk.notifications.send = crash  # type: ignore[method-assign]
    with pytest.raises(SystemExit):
        desk.expenses.submit(claim.id, by="e7", at=at(5))
    assert desk.expenses.get(claim.id).status == "submitted"
    kinds = {i.notification["kind"] for i in desk.notifications.pending()}
    assert kinds == {"expense_awaiting_approval"}


def test_the_claim_state_machine_lives_beside_the_model() -> None:
    """Issue 14: statuses are a Literal and the moves a table in core, not strings scattered
    over the service; an unknown status asked for is an error, not an empty list."""
    import typing

    from aftersales.core.expenses import CLAIM_MOVES, CLAIM_STATES, Claim, ClaimStatus
    from aftersales.core.parts import REQUISITION_STATES, Requisition, RequisitionStatus

    assert typing.get_args(ClaimStatus) == CLAIM_STATES
    assert typing.get_args(RequisitionStatus) == REQUISITION_STATES
    assert typing.get_type_hints(Claim)["status"] == ClaimStatus
    assert typing.get_type_hints(Requisition)["status"] == RequisitionStatus
    assert all(start <= set(CLAIM_STATES) for start, _ in CLAIM_MOVES.values())
    desk = ServiceDesk(RULES / "default.policy")
    add_team(desk)
    with pytest.raises(ValidationError, match="unknown claim status 'aproved'"):
        desk.expenses.claims(status="aproved")
    with pytest.raises(ValidationError, match="unknown requisition status"):
        desk.parts.requisitions(status="done")
