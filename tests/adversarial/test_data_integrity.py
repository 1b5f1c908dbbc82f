"""Nothing invalid is ever stored, and a failed action writes nothing (issue 13, contract 2).

Each of these used to store a value that broke every later read, or half-apply an action."""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal

import pytest
from conftest import RULES, T0, add_team, at

from aftersales import AftersalesError, PermissionDenied, ServiceDesk, ValidationError

ALL_PASSED = {"quantity": True, "specification": True, "quality": True}


@pytest.fixture
def desk(storage_url: str) -> ServiceDesk:
    d = ServiceDesk(RULES / "default.policy", storage_url, clock=lambda: at(60))
    add_team(d)
    d.staff.add(id="m2", name="Qian", roles=["manager"], at=T0)
    d.parts.add_location(id="WH", name="Main warehouse", by="sk1", at=at(0))
    d.parts.add_location(id="SHOP", name="Shop", by="sk1", at=at(0))
    d.parts.add_supplier(id="ACME", name="Acme", qualified=True, by="m1", at=at(0))
    for sku in ("AAA", "BBB"):
        d.parts.add_part(sku=sku, name=sku, category="seals", unit_cost="10", by="sk1")
        d.parts.receive(sku, 5, location="WH", supplier="ACME", inspection=ALL_PASSED, by="sk1")
    return d


def reopened(desk: ServiceDesk, url: str) -> ServiceDesk:
    """A fresh desk on the same store: it must read every record."""
    if url.startswith("memory"):
        return desk
    fresh = ServiceDesk(RULES / "default.policy", url)
    fresh.expenses.claims()
    fresh.expenses.report(date(2000, 1, 1), date(2100, 1, 1))
    fresh.parts.valuation()
    fresh.parts.parts()
    return fresh


def test_a_failed_settle_writes_nothing_and_a_retry_applies_once(
    desk: ServiceDesk, storage_url: str
) -> None:
    sheet = desk.parts.count("WH", {"AAA": 8, "BBB": 2}, by="sk1", at=at(10))
    desk.parts.transfer("BBB", 4, from_location="WH", to_location="SHOP", by="sk1", at=at(11))
    with pytest.raises(AftersalesError):  # BBB: 1 on the books, 3 to take away
        desk.parts.settle(sheet.id, reason="count", approved_by="m1", by="sk1", at=at(12))
    assert desk.parts.part("AAA").on_hand["WH"] == 5  # the AAA adjustment was not kept
    desk.parts.transfer("BBB", 4, from_location="SHOP", to_location="WH", by="sk1", at=at(13))
    desk.parts.settle(sheet.id, reason="count", approved_by="m1", by="sk1", at=at(14))
    assert desk.parts.part("AAA").on_hand["WH"] == 8  # was 11: applied twice
    assert desk.parts.part("BBB").on_hand["WH"] == 2
    reopened(desk, storage_url)


def test_the_counter_cannot_approve_their_own_stocktake(desk: ServiceDesk) -> None:
    sheet = desk.parts.count("WH", {"AAA": 4, "BBB": 5}, by="m1", at=at(10))
    with pytest.raises(PermissionDenied, match="counted it"):
        desk.parts.settle(sheet.id, reason="count", approved_by="m1", by="sk1")
    with pytest.raises(PermissionDenied, match="settle it"):
        desk.parts.settle(sheet.id, reason="count", approved_by="m2", by="m2")
    desk.parts.settle(sheet.id, reason="count", approved_by="m2", by="sk1")
    assert desk.parts.part("AAA").on_hand["WH"] == 4


LINE = {"category": "meals", "amount": "85", "date": "2026-11-20"}


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"date": datetime(2026, 11, 20, tzinfo=timezone.utc)}, "must be a date"),
        ({"date": 5}, "must be a date"),
        ({"date": "2026-13-01"}, "not a date"),
        ({"date": date(1, 1, 1)}, "out of range"),
        ({"nights": "two"}, "nights must be a whole number"),
        ({"nights": 1000}, "nights must be from 1 to 31"),
        ({"nights": True}, "nights must be a whole number"),
        ({"amount": "NaN"}, "finite"),
        ({"amount": "Infinity"}, "finite"),
        ({"amount": 10**5000}, "too large"),
        ({"amount": "1e400"}, "too large"),
        ({"currency": "EUR", "rate": 0}, "above 0"),
        ({"currency": "EUR", "rate": -50}, "above 0"),
        ({"currency": "EUR", "rate": "NaN"}, "finite"),
        ({"currency": "EUR", "rate": float("inf")}, "finite"),
        ({"rate": "0.5"}, "no exchange rate other than 1"),
        ({"currency": "XXX1"}, "unknown currency"),
        ({"category": "meals\ud800"}, "lone surrogate"),
        ({"category": "x" * 1_000_000}, "at most 200"),
        ({"invoice": ["INV-1"]}, "must be text"),
        ({"colour": "red"}, "unknown field 'colour'"),
    ],
)
def test_claim_lines_are_checked_before_anything_is_stored(
    desk: ServiceDesk, storage_url: str, change: dict[str, object], says: str
) -> None:
    with pytest.raises(ValidationError, match=says):
        desk.expenses.draft([{**LINE, **change}], by="e7")
    assert desk.expenses.claims() == []
    claim = desk.expenses.draft([LINE], by="e7")
    with pytest.raises(ValidationError, match=says):
        desk.expenses.edit(claim.id, [{**LINE, **change}], by="e7")
    assert reopened(desk, storage_url).expenses.get(claim.id).lines == claim.lines


@pytest.mark.parametrize("lines", [None, "meals", [None], ["meals"], [LINE, 5], {"a": 1}, 7])
def test_claim_lines_of_the_wrong_shape_are_refused(desk: ServiceDesk, lines: object) -> None:
    with pytest.raises(ValidationError):
        desk.expenses.draft(lines, by="e7")  # type: ignore[arg-type]
    assert desk.expenses.claims() == []


def test_a_negative_rate_cannot_pick_a_lighter_approval_chain(desk: ServiceDesk) -> None:
    line = {**LINE, "category": "transport", "amount": "6000", "currency": "EUR"}
    for rate in ("-50", "0", "-0.1"):
        with pytest.raises(ValidationError, match="exchange rate"):
            desk.expenses.draft([{**line, "rate": rate}], by="e7")
    claim = desk.expenses.draft([{**line, "rate": "7.8"}], by="e7")
    assert claim.total == Decimal("46800.0")


@pytest.mark.parametrize(
    "cost",
    ["Infinity", "-Infinity", "NaN", "sNaN", float("nan"), 10**5000, "1e999", None, [], True],
    ids=lambda v: type(v).__name__,
)
def test_a_part_cost_that_breaks_valuation_is_refused(
    desk: ServiceDesk, storage_url: str, cost: object
) -> None:
    with pytest.raises(ValidationError, match="unit_cost"):
        desk.parts.add_part(sku="X", name="x", category="c", unit_cost=cost, by="sk1")
    total, _ = reopened(desk, storage_url).parts.valuation()
    assert total == Decimal(100)


def test_a_delivery_with_one_bad_line_takes_nothing_in(desk: ServiceDesk, storage_url: str) -> None:
    po = desk.parts.order("ACME", [{"sku": "AAA", "quantity": 4, "price": 3},
                                   {"sku": "BBB", "quantity": 4, "price": 3}],
                          promised=date(2027, 1, 15), payment_terms="30 days net",
                          by="sk1")  # fmt: skip
    failed = {**ALL_PASSED, "quality": False}
    with pytest.raises(ValidationError, match="check failed"):  # line 2 says nothing of what
        desk.parts.receive_order(po.id, [{"sku": "AAA", "quantity": 4},  # was kept
                                         {"sku": "BBB", "quantity": 4}],
                                 location="WH", inspection=failed, by="sk1")  # fmt: skip
    assert desk.parts.part("AAA").on_hand["WH"] == 5  # line 1 was not taken in alone
    assert desk.parts.purchase_order(po.id).received == {}
    assert desk.parts.inspections("ACME")[-1]["delivered"] == 5  # only the first receipts
    twice = [{"sku": "AAA", "quantity": 2}, {"sku": " AAA ", "quantity": 2}]
    with pytest.raises(ValidationError, match="AAA has a line already"):
        desk.parts.receive_order(po.id, twice, location="WH", inspection=ALL_PASSED, by="sk1")
    lines = [
        {"sku": "AAA", "quantity": 4, "accepted": 3, "reason": "one cracked"},
        {"sku": "BBB", "quantity": 4, "accepted": 4 - 1, "reason": "one cracked"},
    ]
    desk.parts.receive_order(po.id, lines, location="WH", inspection=failed, by="sk1")
    assert desk.parts.part("AAA").on_hand["WH"] == 8
    assert desk.parts.purchase_order(po.id).received == {"AAA": 4, "BBB": 4}
    assert [i["accepted"] for i in desk.parts.inspections("ACME")[-2:]] == [3, 3]
    reopened(desk, storage_url)
