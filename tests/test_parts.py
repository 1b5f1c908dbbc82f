"""desk.parts: catalog, suppliers, locations and the stock ledger (issue 6, first part)."""

from __future__ import annotations

import threading
from datetime import date, timedelta
from decimal import Decimal as D
from pathlib import Path

import pytest
from conftest import RULES, T0, add_team, at, certify
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aftersales import (
    ConflictError,
    NotFound,
    PermissionDenied,
    ServiceDesk,
    ValidationError,
    WorkflowError,
)
from aftersales.testing import Outbox

TERMS = {"promised": date(2027, 12, 31), "payment_terms": "30 days net"}

ALL_PASSED = {"quantity": True, "specification": True, "quality": True}


def stocked(desk: ServiceDesk) -> ServiceDesk:
    desk.staff.add(id="m2", name="Qian", roles=["manager"], at=at(0))
    desk.parts.add_location(id="WH", name="Main warehouse", by="sk1", at=at(0))
    desk.parts.add_location(
        id="VAN7", name="Chen's van", kind="van", engineer="e7", by="sk1", at=at(0)
    )
    desk.parts.add_supplier(id="ACME", name="Acme Seals", qualified=True, by="m1", at=at(0))
    desk.parts.add_part(sku="SEAL-9", name="Pump seal", category="seals", unit_cost="12.50",
                        reorder_point=5, reorder_quantity=20, by="sk1", at=at(0))  # fmt: skip
    return desk


@pytest.fixture
def desk(storage_url: str, outbox: Outbox) -> ServiceDesk:
    d = ServiceDesk(RULES / "default.policy", storage_url, plugins=[outbox])
    add_team(d)
    return stocked(d)


def test_catalog_rules(desk: ServiceDesk) -> None:
    with pytest.raises(ConflictError, match="already a part 'SEAL-9'"):
        desk.parts.add_part(sku="SEAL-9", name="x", category="c", unit_cost=1, by="sk1")
    with pytest.raises(PermissionDenied, match="storekeeper or manager"):
        desk.parts.add_part(sku="X", name="x", category="c", unit_cost=1, by="e7")
    with pytest.raises(ValidationError, match="unit_cost"):
        desk.parts.add_part(sku="X", name="x", category="c", unit_cost="cheap", by="sk1")
    with pytest.raises(ValidationError, match="reorder_point"):
        desk.parts.add_part(
            sku="X", name="x", category="c", unit_cost=1, reorder_point=-1, by="sk1"
        )
    with pytest.raises(ValidationError, match="a van names its engineer"):
        desk.parts.add_location(id="V", name="v", kind="van", by="sk1")
    with pytest.raises(ValidationError, match="not an engineer"):
        desk.parts.add_location(id="V", name="v", kind="van", engineer="cs1", by="sk1")
    with pytest.raises(PermissionDenied, match="qualify suppliers"):
        desk.parts.add_supplier(id="S", name="s", qualified=True, by="sk1")
    with pytest.raises(NotFound):
        desk.parts.part("NOPE")
    assert desk.parts.part("SEAL-9").unit_cost == D("12.50")


def test_receiving_checks_supplier_and_inspection(desk: ServiceDesk) -> None:
    desk.parts.add_supplier(id="NEW", name="New Co", by="sk1")
    with pytest.raises(PermissionDenied, match="not qualified"):
        desk.parts.receive(
            "SEAL-9", 10, location="WH", supplier="NEW", inspection=ALL_PASSED, by="sk1"
        )
    desk.parts.qualify("NEW", by="m1")
    with pytest.raises(ValidationError, match="says nothing of quality"):
        partial = {"quantity": True, "specification": True}
        desk.parts.receive(
            "SEAL-9", 10, location="WH", supplier="NEW", inspection=partial, by="sk1"
        )
    failed = {**ALL_PASSED, "quality": False}
    with pytest.raises(ValidationError, match="quality check failed"):
        desk.parts.receive("SEAL-9", 10, location="WH", supplier="NEW", inspection=failed, by="sk1")
    part = desk.parts.receive("SEAL-9", 10, location="WH", supplier="NEW", inspection=failed,
                              accepted=7, reason="3 cracked", by="sk1")  # fmt: skip
    assert part.on_hand == {"WH": 7}
    [record] = desk.parts.inspections("NEW")
    assert (record["delivered"], record["accepted"], record["rejected"]) == (10, 7, 3)
    assert record["reason"] == "3 cracked" and record["inspection"]["quality"] is False


def test_stock_never_goes_negative_and_nothing_is_written(desk: ServiceDesk) -> None:
    desk.parts.receive("SEAL-9", 4, location="WH", supplier="ACME", inspection=ALL_PASSED, by="sk1")
    before = desk.parts.part("SEAL-9")
    with pytest.raises(ValidationError, match="only 4 of SEAL-9 on hand at WH; cannot take 5"):
        desk.parts.transfer("SEAL-9", 5, from_location="WH", to_location="VAN7", by="sk1")
    with pytest.raises(ValidationError, match="only 0 of SEAL-9 on hand at VAN7"):
        desk.parts.scrap("SEAL-9", 1, location="VAN7", reason="dropped", by="sk1")
    assert desk.parts.part("SEAL-9") == before
    assert len(desk.parts.movements("SEAL-9")) == 1
    desk.parts.transfer("SEAL-9", 3, from_location="WH", to_location="VAN7", by="sk1")
    assert desk.parts.stock() == [("SEAL-9", "VAN7", 3), ("SEAL-9", "WH", 1)]
    assert desk.parts.stock(location="VAN7") == [("SEAL-9", "VAN7", 3)]


def test_adjustments_need_a_managers_approval(desk: ServiceDesk) -> None:
    desk.parts.receive("SEAL-9", 6, location="WH", supplier="ACME", inspection=ALL_PASSED, by="sk1")
    with pytest.raises(PermissionDenied, match="approve stock adjustments"):
        desk.parts.adjust("SEAL-9", 1, location="WH", increase=False, reason="count", by="sk1",
                          approved_by="e7")  # fmt: skip
    with pytest.raises(PermissionDenied, match="their own adjustment"):
        desk.parts.adjust("SEAL-9", 1, location="WH", increase=False, reason="count", by="m1",
                          approved_by="m1")  # fmt: skip
    part = desk.parts.adjust("SEAL-9", 2, location="WH", increase=True, reason="found a box",
                             by="sk1", approved_by="m1")  # fmt: skip
    assert part.on_hand == {"WH": 8}
    last = desk.parts.movements("SEAL-9")[-1]
    assert (last.type, last.approved_by, last.increase) == ("adjusted", "m1", True)


def test_reorder_point_notifies_once_per_crossing(desk: ServiceDesk, outbox: Outbox) -> None:
    desk.parts.receive(
        "SEAL-9", 10, location="WH", supplier="ACME", inspection=ALL_PASSED, by="sk1"
    )
    scrap = desk.parts.scrap
    scrap("SEAL-9", 4, location="WH", reason="rust", by="sk1")  # 6: above 5
    scrap("SEAL-9", 1, location="WH", reason="rust", by="sk1")  # 5: crosses (on_hand <= 5)
    scrap("SEAL-9", 1, location="WH", reason="rust", by="sk1")  # 4: still below, no repeat
    notes = outbox.of("stock_below_reorder_point")
    assert len(notes) == 1 and notes[0].data["on_hand"] == 5
    assert set(notes[0].recipients) == {"sk1", "m1", "m2"}
    desk.parts.receive(
        "SEAL-9", 20, location="WH", supplier="ACME", inspection=ALL_PASSED, by="sk1"
    )
    scrap("SEAL-9", 19, location="WH", reason="flood", by="sk1")  # 5 again: a new crossing
    assert len(outbox.of("stock_below_reorder_point")) == 2


def test_valuation(desk: ServiceDesk) -> None:
    desk.parts.add_part(sku="BRG-2", name="Bearing", category="bearings", unit_cost="80", by="sk1")
    desk.parts.receive(
        "SEAL-9", 10, location="WH", supplier="ACME", inspection=ALL_PASSED, by="sk1"
    )
    desk.parts.receive("BRG-2", 3, location="WH", supplier="ACME", inspection=ALL_PASSED, by="sk1")
    total, by_category = desk.parts.valuation()
    assert total == D("365.00") and by_category == {"bearings": D(240), "seals": D("125.00")}


def test_racing_for_the_last_unit_exactly_one_wins(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/p.db"
    setup = ServiceDesk(RULES / "default.policy", url)
    add_team(setup)
    stocked(setup)
    desks = [ServiceDesk(RULES / "default.policy", url) for _ in range(6)]
    barrier = threading.Barrier(len(desks))
    outcomes: list[str] = []

    def take(desk: ServiceDesk) -> None:
        barrier.wait()
        try:
            desk.parts.scrap("SEAL-9", 1, location="WH", reason="last one", by="sk1")
            outcomes.append("ok")
        except (ConflictError, ValidationError) as exc:
            outcomes.append(type(exc).__name__)

    setup.parts.receive(
        "SEAL-9", 1, location="WH", supplier="ACME", inspection=ALL_PASSED, by="sk1"
    )
    threads = [threading.Thread(target=take, args=(d,)) for d in desks]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert outcomes.count("ok") == 1
    assert setup.parts.part("SEAL-9").on_hand == {}


operations = st.lists(
    st.tuples(
        st.sampled_from(["receive", "transfer", "back", "scrap", "adjust_up", "adjust_down"]),
        st.integers(1, 6),
    ),
    max_size=25,
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(operations)
def test_on_hand_is_the_sum_of_movements(ops: list[tuple[str, int]]) -> None:
    desk = ServiceDesk(RULES / "default.policy", "memory://")
    add_team(desk)
    stocked(desk)
    p = desk.parts
    for op, n in ops:
        try:
            if op == "receive":
                p.receive(
                    "SEAL-9", n, location="WH", supplier="ACME", inspection=ALL_PASSED, by="sk1"
                )
            elif op == "transfer":
                p.transfer("SEAL-9", n, from_location="WH", to_location="VAN7", by="sk1")
            elif op == "back":
                p.transfer("SEAL-9", n, from_location="VAN7", to_location="WH", by="sk1")
            elif op == "scrap":
                p.scrap("SEAL-9", n, location="WH", reason="r", by="sk1")
            else:
                p.adjust("SEAL-9", n, location="VAN7", increase=op == "adjust_up", reason="r",
                         by="sk1", approved_by="m1")  # fmt: skip
        except ValidationError:
            pass  # refused: would go below zero
    totals: dict[str, int] = {}
    for m in p.movements("SEAL-9"):
        sign_out = -m.quantity
        if m.type == "received" or (m.type == "adjusted" and m.increase):
            totals[m.location] = totals.get(m.location, 0) + m.quantity  # type: ignore[index]
            continue
        totals[m.location] = totals.get(m.location, 0) + sign_out  # type: ignore[index]
        if m.to_location is not None:
            totals[m.to_location] = totals.get(m.to_location, 0) + m.quantity
    part = p.part("SEAL-9")
    assert part.on_hand == {k: v for k, v in totals.items() if v}
    assert all(v >= 0 for v in totals.values())


# ---- requisitions, issue, use on a case, returns -----------------------------------------
def diagnosed_case(desk: ServiceDesk) -> str:
    from conftest import run_to

    return run_to(desk, "diagnosed").id


def test_requisition_to_consumption(desk: ServiceDesk) -> None:
    desk.parts.receive(
        "SEAL-9", 10, location="WH", supplier="ACME", inspection=ALL_PASSED, by="sk1"
    )
    case_id = diagnosed_case(desk)
    with pytest.raises(PermissionDenied, match="only its engineer"):
        desk.parts.request(case_id, [{"sku": "SEAL-9", "quantity": 3}], by="e8")
    req = desk.parts.request(case_id, [{"sku": "SEAL-9", "quantity": 3}], by="e7", at=at(140))
    assert req.status == "approved" and req.chain == ()  # 37.50 CNY: no approval rule applies
    issued = desk.parts.issue(req.id, from_location="WH", by="sk1", at=at(150))
    assert issued.status == "issued" and issued.issued_to == "VAN7"
    assert desk.parts.stock() == [("SEAL-9", "VAN7", 3), ("SEAL-9", "WH", 7)]
    with pytest.raises(ValidationError, match="only 3 were issued"):
        desk.cases.complete(case_id, by="e7", actions="a", result="r", at=at(200),
                            parts_used=[{"sku": "SEAL-9", "quantity": 4}])  # fmt: skip
    assert desk.cases.get(case_id).status == "diagnosed"  # nothing written
    desk.cases.complete(case_id, by="e7", actions="a", result="r", at=at(200),
                        parts_used=[{"sku": "SEAL-9", "quantity": 2}])  # fmt: skip
    ledger = desk.parts.case_parts(case_id)
    assert (ledger.issued, ledger.consumed, ledger.outstanding("SEAL-9")) == (
        {"SEAL-9": 3},
        {"SEAL-9": 2},
        1,
    )
    assert desk.parts.stock() == [("SEAL-9", "VAN7", 1), ("SEAL-9", "WH", 7)]
    late = at(150) + timedelta(days=8)
    assert desk.parts.unaccounted(now=late) == [("e7", case_id, "SEAL-9", 1)]
    desk.parts.return_parts(case_id, [{"sku": "SEAL-9", "quantity": 1}], to_location="WH",
                            by="e7", at=at(220))  # fmt: skip
    assert desk.parts.unaccounted(now=late) == []
    assert desk.parts.stock() == [("SEAL-9", "WH", 8)]
    kinds = [m.type for m in desk.parts.movements("SEAL-9")]
    assert kinds == ["received", "issued", "consumed", "returned"]


def test_expensive_requisitions_need_approval_from_someone_else(desk: ServiceDesk) -> None:
    desk.parts.add_part(sku="PUMP-1", name="Pump", category="pumps", unit_cost="1500", by="sk1")
    desk.parts.receive("PUMP-1", 3, location="WH", supplier="ACME", inspection=ALL_PASSED, by="sk1")
    case_id = diagnosed_case(desk)
    req = desk.parts.request(case_id, [{"sku": "PUMP-1", "quantity": 2}], by="e7", at=at(140))
    assert req.status == "requested" and req.chain == ("manager",) and req.waiting_for == "manager"
    assert req.rule is not None and req.rule.endswith("default.policy:84")
    with pytest.raises(WorkflowError, match="only an approved one is issued"):
        desk.parts.issue(req.id, from_location="WH", by="sk1")
    with pytest.raises(PermissionDenied, match="needs the role manager"):
        desk.parts.approve(req.id, by="sk1")
    approved = desk.parts.approve(req.id, by="m1", at=at(141))
    assert approved.status == "approved" and approved.approvals[0].by == "m1"
    with pytest.raises(WorkflowError, match="not waiting for approval"):
        desk.parts.approve(req.id, by="m2")
    other = desk.parts.request(case_id, [{"sku": "PUMP-1", "quantity": 2}], by="e7", at=at(142))
    assert desk.parts.reject(other.id, by="m2", reason="one is enough").status == "rejected"
    assert [r.status for r in desk.parts.requisitions()] == ["approved", "rejected"]


def test_nobody_approves_their_own_requisition(storage_url: str) -> None:
    text = (RULES / "rhine-pumps.policy").read_text("utf-8")
    desk = ServiceDesk(RULES / "rhine-pumps.policy", storage_url)
    add_team(desk)
    desk.staff.add(id="e9", name="Boss engineer", roles=["engineer", "supervisor"], at=at(0))
    desk.staff.add(id="d1", name="Director", roles=["director"], at=at(0))
    certify(desk, "e9")
    stocked(desk)
    desk.parts.add_part(sku="BIG", name="Big pump", category="pumps", unit_cost="30000", by="sk1")
    from conftest import REPORT

    case = desk.cases.report(**{**REPORT, "customer": {"name": "R"}}, by="cs1", at=at(0))
    desk.cases.respond(case.id, by="cs1", at=at(1))
    desk.cases.assign(case.id, engineer="e9", by="cs1", at=at(2))
    req = desk.parts.request(case.id, [{"sku": "BIG", "quantity": 1}], by="e9", at=at(3))
    assert req.chain == ("manager", "director")  # "by manager then director when value >= 20000"
    assert "rhine-pumps.policy" in str(req.rule) and "manager then director" in text
    desk.parts.approve(req.id, by="m1", at=at(4))
    with pytest.raises(PermissionDenied, match="needs the role director"):
        desk.parts.approve(req.id, by="m2", at=at(5))
    assert desk.parts.approve(req.id, by="d1", at=at(5)).status == "approved"
    small = desk.parts.request(case.id, [{"sku": "SEAL-9", "quantity": 60}], by="e9", at=at(6))
    assert small.chain == ("supervisor",)  # quantity > 50
    with pytest.raises(PermissionDenied, match="their own requisition"):
        desk.parts.approve(small.id, by="e9", at=at(7))


def test_purchasing_and_the_plan(desk: ServiceDesk) -> None:
    desk.parts.add_supplier(id="NEW", name="New Co", by="sk1")
    with pytest.raises(PermissionDenied, match="not qualified"):
        desk.parts.order("NEW", [{"sku": "SEAL-9", "quantity": 20, "price": 9}], **TERMS,
                         by="sk1")  # fmt: skip
    # SEAL-9: nothing on hand, reorder point 5, reorder quantity 20
    [line] = desk.parts.purchase_plan(at=at(0))
    assert (line.sku, line.quantity, line.on_hand, line.on_order) == ("SEAL-9", 20, 0, 0)
    po = desk.parts.order("ACME", [{"sku": "SEAL-9", "quantity": 20, "price": 9}], **TERMS,
                          by="sk1", at=at(1))  # fmt: skip
    assert desk.parts.purchase_plan(at=at(2)) == []  # on order already
    with pytest.raises(ValidationError, match="expects 20 more of SEAL-9, not 25"):
        desk.parts.receive("SEAL-9", 25, location="WH", supplier="ACME", inspection=ALL_PASSED,
                           by="sk1", po=po.id)  # fmt: skip
    desk.parts.receive("SEAL-9", 12, location="WH", supplier="ACME", inspection=ALL_PASSED,
                       by="sk1", po=po.id, at=at(3))  # fmt: skip
    assert desk.parts.purchase_order(po.id).still_due("SEAL-9") == 8
    assert [o.id for o in desk.parts.orders(open_only=True)] == [po.id]
    desk.parts.receive("SEAL-9", 8, location="WH", supplier="ACME", inspection=ALL_PASSED,
                       by="sk1", po=po.id, at=at(4))  # fmt: skip
    assert desk.parts.orders(open_only=True) == []
    assert desk.parts.purchase_plan(at=at(5)) == []  # 20 on hand, above the reorder point


def test_stocktake_counts_variances_and_settles_with_approval(
    desk: ServiceDesk, outbox: Outbox
) -> None:
    desk.parts.add_part(sku="BRG-2", name="Bearing", category="bearings", unit_cost="80", by="sk1")
    desk.parts.receive(
        "SEAL-9", 10, location="WH", supplier="ACME", inspection=ALL_PASSED, by="sk1"
    )
    with pytest.raises(ValidationError, match="the books hold SEAL-9 at WH: count them too"):
        desk.parts.count("WH", {"BRG-2": 0}, by="sk1")
    sheet = desk.parts.count("WH", {"SEAL-9": 8, "BRG-2": 1}, by="sk1", at=at(10))
    assert [(v.sku, v.book, v.counted, v.variance) for v in sheet.variances] == [
        ("BRG-2", 0, 1, 1),
        ("SEAL-9", 10, 8, -2),
    ]
    with pytest.raises(PermissionDenied, match="approve stock adjustments"):
        desk.parts.settle(sheet.id, reason="shelf count", approved_by="sk1", by="sk1")
    settled = desk.parts.settle(
        sheet.id, reason="shelf count", approved_by="m1", by="sk1", at=at(11)
    )
    assert settled.settled_by == "m1"
    assert desk.parts.stock(location="WH") == [("BRG-2", "WH", 1), ("SEAL-9", "WH", 8)]
    with pytest.raises(WorkflowError, match="settled already"):
        desk.parts.settle(sheet.id, reason="again", approved_by="m1", by="sk1")


def test_overdue_stocktakes_are_reminded_once(desk: ServiceDesk, outbox: Outbox) -> None:
    # default.policy: stocktake every 1 month; the locations were added at T0 (2026-11-23)
    assert desk.parts.stocktake_due(at(60 * 24 * 29)) == []
    month_later = at(0) + timedelta(days=31)
    assert [loc for loc, _ in desk.parts.stocktake_due(month_later)] == ["VAN7", "WH"]
    sent = desk.sla.tick(month_later)
    assert sorted(n.data["location"] for n in sent if n.kind == "stocktake_due") == ["VAN7", "WH"]
    assert [
        n for n in desk.sla.tick(month_later + timedelta(hours=1)) if n.kind == "stocktake_due"
    ] == []
    desk.parts.count("WH", {}, by="sk1", at=month_later)
    assert [loc for loc, _ in desk.parts.stocktake_due(month_later)] == ["VAN7"]


def test_approved_requisitions_reserve_stock_until_issued(desk: ServiceDesk) -> None:
    desk.parts.add_part(sku="PUMP-1", name="Pump", category="pumps", unit_cost="1500", by="sk1")
    desk.parts.receive("PUMP-1", 3, location="WH", supplier="ACME", inspection=ALL_PASSED, by="sk1")
    case_id = diagnosed_case(desk)
    req = desk.parts.request(case_id, [{"sku": "PUMP-1", "quantity": 2}], by="e7", at=at(140))
    assert desk.parts.part("PUMP-1").reserved == 0  # waiting for the manager: nothing held
    desk.parts.approve(req.id, by="m1", at=at(141))
    part = desk.parts.part("PUMP-1")
    assert (part.total, part.reserved, part.available) == (3, 2, 1)
    assert part.record()["available"] == 1
    desk.parts.issue(req.id, from_location="WH", by="sk1", at=at(142))
    part = desk.parts.part("PUMP-1")
    assert (part.total, part.reserved, part.available) == (3, 0, 3)
    assert [m.type for m in desk.parts.movements("PUMP-1")] == ["received", "issued"]


def test_shelf_life_expiry_is_flagged_oldest_first(desk: ServiceDesk) -> None:
    desk.parts.add_part(sku="GLUE", name="Sealant", category="consumables", unit_cost="9",
                        shelf_life_days=180, by="sk1")  # fmt: skip
    receive = desk.parts.receive
    receive("GLUE", 5, location="WH", supplier="ACME", inspection=ALL_PASSED, by="sk1", at=at(0))
    later = at(0) + timedelta(days=100)
    receive("GLUE", 5, location="WH", supplier="ACME", inspection=ALL_PASSED, by="sk1", at=later)
    desk.parts.scrap("GLUE", 3, location="WH", reason="dried", by="sk1", at=later)  # oldest first
    assert desk.parts.expiring(now=at(0) + timedelta(days=120)) == []
    soon = at(0) + timedelta(days=160)
    assert desk.parts.expiring(now=soon) == [("GLUE", 0, at(0) + timedelta(days=180))]
    gone = at(0) + timedelta(days=181)
    assert desk.parts.expiring(now=gone) == [("GLUE", 2, at(0) + timedelta(days=180))]


def test_receiving_a_whole_order(desk: ServiceDesk) -> None:
    desk.parts.add_part(sku="BRG-2", name="Bearing", category="bearings", unit_cost="80", by="sk1")
    both = [{"sku": "SEAL-9", "quantity": 10, "price": 9}, {"sku": "BRG-2", "quantity": 4,
                                                            "price": 80}]  # fmt: skip
    po = desk.parts.order("ACME", both, **TERMS, by="sk1", at=at(1))
    with pytest.raises(ValidationError, match="expects 4 more of BRG-2, not 5"):
        desk.parts.receive_order(po.id, [{"sku": "SEAL-9", "quantity": 10},
                                         {"sku": "BRG-2", "quantity": 5}],
                                 location="WH", inspection=ALL_PASSED, by="sk1")  # fmt: skip
    assert desk.parts.stock() == []  # the first line was not taken in either
    delivered = [{"sku": line["sku"], "quantity": line["quantity"]} for line in both]
    desk.parts.receive_order(po.id, delivered, location="WH", inspection=ALL_PASSED, by="sk1",
                             at=at(2))  # fmt: skip
    assert desk.parts.stock() == [("BRG-2", "WH", 4), ("SEAL-9", "WH", 10)]
    assert not desk.parts.purchase_order(po.id).open


def test_the_reorder_notice_is_written_with_the_move(desk: ServiceDesk) -> None:
    """A desk that dies right after the move commits still has the notification queued."""

    def crash(*args: object, **kwargs: object) -> list[object]:
        raise SystemExit("killed after the commit")

    desk.parts.receive("SEAL-9", 6, location="WH", supplier="ACME", inspection=ALL_PASSED, by="sk1")
    # dies at whatever runs after the commit: a delivery, or a notification's own transaction
    desk.notifications.deliver = crash  # type: ignore[method-assign]
    desk.notifications.send = crash  # type: ignore[method-assign]
    with pytest.raises(SystemExit):
        desk.parts.scrap("SEAL-9", 1, location="WH", reason="rust", by="sk1")
    assert desk.parts.part("SEAL-9").total == 5
    kinds = {i.notification["kind"] for i in desk.notifications.pending()}
    assert kinds == {"stock_below_reorder_point"}


def test_parts_used_on_a_repair_send_the_reorder_notice(desk: ServiceDesk, outbox: Outbox) -> None:
    """Issue 14, defect 2: consumption wrote inside the repair's transaction without the
    reorder check every other movement makes, so the notice was lost for good."""
    from conftest import run_to

    desk.parts.receive("SEAL-9", 7, location="WH", supplier="ACME", inspection=ALL_PASSED,
                       by="sk1", at=at(1))  # fmt: skip
    case = run_to(desk, "diagnosed")
    req = desk.parts.request(case.id, [{"sku": "SEAL-9", "quantity": 3}], by="e7", at=at(140))
    desk.parts.issue(req.id, from_location="WH", by="sk1", at=at(141))  # to the van: still 7
    assert outbox.of("stock_below_reorder_point") == []
    desk.cases.complete(case.id, by="e7", at=at(200), actions="replaced", result="ok",
                        parts_used=[{"sku": "SEAL-9", "quantity": 3}])  # fmt: skip
    [note] = outbox.of("stock_below_reorder_point")  # 4 left, reorder point 5
    assert note.data["on_hand"] == 4 and note.at == at(200)
    desk.parts.scrap("SEAL-9", 1, location="WH", reason="rust", by="sk1", at=at(210))
    assert len(outbox.of("stock_below_reorder_point")) == 1  # still below: no repeat


def test_orders_carry_prices_terms_and_a_promised_date(desk: ServiceDesk) -> None:
    line = {"sku": "SEAL-9", "quantity": 20, "price": "12.50"}
    for bad, said in (
        ({**line, "price": "-1"}, "above 0"),
        ({"sku": "SEAL-9", "quantity": 20}, "no unit price"),
        ({**line, "colour": "red"}, "unknown field 'colour'"),
    ):
        with pytest.raises(ValidationError, match=said):
            desk.parts.order("ACME", [bad], **TERMS, by="sk1", at=at(1))
    with pytest.raises(ValidationError, match="has a line already"):
        desk.parts.order("ACME", [line, line], **TERMS, by="sk1", at=at(1))
    with pytest.raises(ValidationError, match="before the order"):
        desk.parts.order("ACME", [line], promised=date(2026, 11, 1), payment_terms="30 days",
                         by="sk1", at=at(1))  # fmt: skip
    with pytest.raises(ValidationError, match="unknown currency 'XXX'"):
        desk.parts.order("ACME", [line], **TERMS, currency="XXX", by="sk1", at=at(1))
    po = desk.parts.order("ACME", [line], promised=date(2026, 11, 30), payment_terms="30 days net",
                          currency="EUR", by="sk1", at=at(1))  # fmt: skip
    again = desk.parts.purchase_order(po.id)
    assert (again.total, again.currency, again.payment_terms, again.promised) == (
        D("250.00"), "EUR", "30 days net", date(2026, 11, 30))  # fmt: skip
    assert again.lines[0].price == D("12.50")


def test_late_deliveries_and_rejections_make_the_suppliers_record(desk: ServiceDesk) -> None:
    desk.parts.add_part(sku="BRG-2", name="Bearing", category="bearings", unit_cost="80", by="sk1")
    on_time = desk.parts.order("ACME", [{"sku": "SEAL-9", "quantity": 10, "price": 9}],
                               promised=date(2026, 11, 30), payment_terms="30 days net",
                               by="sk1", at=at(1))  # fmt: skip
    late = desk.parts.order("ACME", [{"sku": "BRG-2", "quantity": 10, "price": 80}],
                            promised=date(2026, 11, 24), payment_terms="60 days net",
                            by="sk1", at=at(1))  # fmt: skip
    # received on the promised day itself (23:30 local): on time
    desk.parts.receive_order(on_time.id, [{"sku": "SEAL-9", "quantity": 10}], location="WH",
                             inspection=ALL_PASSED, by="sk1",
                             at=T0.replace(day=30, hour=23, minute=30))  # fmt: skip
    failed = {**ALL_PASSED, "quality": False}
    desk.parts.receive_order(late.id, [{"sku": "BRG-2", "quantity": 10, "accepted": 7,
                                        "reason": "pitted races"}],
                             location="WH", inspection=failed, by="sk1",
                             at=T0.replace(day=25))  # fmt: skip
    assert desk.parts.purchase_order(late.id).late_deliveries == 1
    assert desk.parts.purchase_order(on_time.id).late_deliveries == 0
    record = desk.parts.supplier_record("ACME")
    assert (record.orders, record.deliveries, record.late, record.delivered, record.rejected) == (
        2, 2, 1, 20, 3)  # fmt: skip
    assert (record.late_rate, record.rejected_rate) == (D("50.0"), D("15.0"))
    # default.policy: review suppliers when late_rate > 10% or rejected_rate > 5%
    assert record.review_due and record.rule is not None
    assert [r.supplier for r in desk.parts.suppliers_to_review()] == ["ACME"]
    with pytest.raises(PermissionDenied, match="manager"):
        desk.parts.review_supplier("ACME", decision="disqualify", reason="late", by="sk1")
    with pytest.raises(ValidationError, match="decision must be one of keep, disqualify"):
        desk.parts.review_supplier("ACME", decision="fire", reason="late", by="m1")
    reviewed = desk.parts.review_supplier("ACME", decision="disqualify",
                                          reason="half the deliveries late", by="m1")  # fmt: skip
    assert not reviewed.qualified and reviewed.reviews[0]["record"]["late_rate"] == "50.0"
    with pytest.raises(PermissionDenied, match="not qualified"):
        desk.parts.order("ACME", [{"sku": "SEAL-9", "quantity": 1, "price": 9}], **TERMS,
                         by="sk1")  # fmt: skip
    assert desk.parts.suppliers_to_review() == []  # only qualified suppliers are reviewed
