"""``aftersales parts``: stock, the purchase plan, requisitions, stocktakes and movements to
read; the catalog, orders, deliveries, requisitions, transfers and counts to act on."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import click

from aftersales.cli.arguments import done, pairs, part_lines, priced_lines, yes_no
from aftersales.cli.context import AT_OPTION, BY_OPTION, action_time, find_case, open_desk
from aftersales.cli.output import FORMAT, JSON_OPTION, emit
from aftersales.core.errors import ValidationError


@click.group()
def parts() -> None:
    """Spare parts: stock, purchase plan, requisitions, stocktakes, movements; the catalog,
    orders and deliveries, requisitions, issues and returns, transfers and counts."""


@parts.command("stock")
@click.option("--sku", default=None)
@click.option("--location", default=None)
@FORMAT
def parts_stock(sku: str | None, location: str | None, fmt: str) -> None:
    """Quantities on hand per part and location, and the stock's value."""
    with open_desk() as desk:
        rows = [
            (s, where, n, desk.parts.part(s).unit_cost * n)
            for s, where, n in desk.parts.stock(sku=sku, location=location)
        ]
        emit("stock", ("sku", "location", "on_hand", "value"), rows, fmt)
        if fmt == "table":
            total, _ = desk.parts.valuation()
            click.echo(f"valuation: {total} {desk.policy.currency or ''}".rstrip())


@parts.command("plan")
@FORMAT
def parts_plan(fmt: str) -> None:
    """Proposed purchase orders."""
    with open_desk() as desk:
        rows = [
            (p.sku, p.quantity, p.on_hand, p.reorder_point, p.requested, p.on_order,
             round(float(p.monthly_use), 1))
            for p in desk.parts.purchase_plan()
        ]  # fmt: skip
        columns = ("sku", "order", "on_hand", "reorder_point", "requested", "on_order",
                   "monthly_use")  # fmt: skip
        emit("purchase plan", columns, rows, fmt)


@parts.command("requisitions")
@click.option("--status", default=None, help="requested, approved, rejected or issued")
@FORMAT
def parts_requisitions(status: str | None, fmt: str) -> None:
    """Requisitions, oldest first."""
    with open_desk() as desk:
        rows = [
            (r.id, desk.cases.get(r.case_id).number, r.engineer, r.status,
             " ".join(f"{li.sku}x{li.quantity}" for li in r.lines), r.value,
             r.waiting_for or "-")
            for r in desk.parts.requisitions(status=status)
        ]  # fmt: skip
        columns = ("id", "case", "engineer", "status", "lines", "value", "waiting_for")
        emit("requisitions", columns, rows, fmt)


@parts.command("stocktake")
@FORMAT
def parts_stocktake(fmt: str) -> None:
    """Locations whose stocktake is due."""
    with open_desk() as desk:
        rows = [
            (loc, due.astimezone(desk.policy.tz).date()) for loc, due in desk.parts.stocktake_due()
        ]
        emit("stocktakes due", ("location", "due"), rows, fmt)


@parts.command("movements")
@click.argument("sku")
@FORMAT
def parts_movements(sku: str, fmt: str) -> None:
    """A part's movements, oldest first."""
    with open_desk() as desk:
        tz = desk.policy.tz
        numbers: dict[str, str] = {}  # a case's number, read once however often it appears

        def number(case_id: str | None) -> str | None:
            if case_id is None:
                return None
            if case_id not in numbers:
                numbers[case_id] = desk.cases.get(case_id).number
            return numbers[case_id]

        rows = [
            (m.version, m.type, m.at.astimezone(tz).strftime("%Y-%m-%d %H:%M"), m.by,
             m.quantity, m.location, m.to_location, number(m.case_id), m.reason)
            for m in desk.parts.movements(sku)
        ]  # fmt: skip
        columns = ("#", "type", "at", "by", "quantity", "from", "to", "case", "reason")
        emit(f"movements of {sku}", columns, rows, fmt)


# -- actions: the catalog, purchasing, stock, requisitions, stocktakes ------------------------
LINES = click.option("--line", "lines", multiple=True, required=True,
                     help="SKU:QUANTITY, such as SEAL-9:2 (repeatable).")  # fmt: skip


@parts.command("add-part")
@click.argument("sku")
@click.option("--name", required=True)
@click.option("--category", required=True)
@click.option("--unit-cost", required=True, help="In the policy's currency, such as 12.50.")
@click.option("--unit", default="piece", show_default=True)
@click.option("--specification", default=None)
@click.option("--reorder-point", type=int, default=0, show_default=True)
@click.option("--reorder-quantity", type=int, default=0, show_default=True)
@click.option("--shelf-life-days", type=int, default=None)
@BY_OPTION
@AT_OPTION
@JSON_OPTION
def parts_add_part(sku: str, name: str, category: str, unit_cost: str, unit: str,
                   specification: str | None, reorder_point: int, reorder_quantity: int,
                   shelf_life_days: int | None, by: str, at: str | None,
                   as_json: bool) -> None:  # fmt: skip
    """Add a part to the catalog (a storekeeper or manager)."""
    with open_desk() as desk:
        part = desk.parts.add_part(sku=sku, name=name, category=category, unit_cost=unit_cost,
                                   unit=unit, specification=specification,
                                   reorder_point=reorder_point, reorder_quantity=reorder_quantity,
                                   shelf_life_days=shelf_life_days, by=by,
                                   at=action_time(desk, at))  # fmt: skip
        done(as_json, part, f"{part.sku} added ({part.name}, {part.unit_cost} a {part.unit})")


@parts.command("add-location")
@click.argument("location_id", metavar="ID")
@click.option("--name", required=True)
@click.option("--kind", default="warehouse", show_default=True, help="warehouse, bin or van.")
@click.option("--engineer", default=None, help="Whose van it is.")
@BY_OPTION
@AT_OPTION
@JSON_OPTION
def parts_add_location(location_id: str, name: str, kind: str, engineer: str | None, by: str,
                       at: str | None, as_json: bool) -> None:  # fmt: skip
    """Add a stock location: a warehouse, a bin, an engineer's van."""
    with open_desk() as desk:
        where = desk.parts.add_location(id=location_id, name=name, kind=kind, engineer=engineer,
                                        by=by, at=action_time(desk, at))  # fmt: skip
        done(as_json, where, f"location {where.id} added ({where.kind})")


@parts.command("add-supplier")
@click.argument("supplier_id", metavar="ID")
@click.option("--name", required=True)
@BY_OPTION
@AT_OPTION
@JSON_OPTION
def parts_add_supplier(supplier_id: str, name: str, by: str, at: str | None,
                       as_json: bool) -> None:  # fmt: skip
    """Add a supplier (not yet qualified: a manager qualifies it)."""
    with open_desk() as desk:
        found = desk.parts.add_supplier(id=supplier_id, name=name, by=by, at=action_time(desk, at))
        done(as_json, found, f"supplier {found.id} added")


@parts.command("qualify")
@click.argument("supplier_id", metavar="SUPPLIER")
@BY_OPTION
@AT_OPTION
@JSON_OPTION
def parts_qualify(supplier_id: str, by: str, at: str | None, as_json: bool) -> None:
    """Qualify a supplier, so parts can be ordered from it (a manager)."""
    with open_desk() as desk:
        found = desk.parts.qualify(supplier_id, by=by, at=action_time(desk, at))
        done(as_json, found, f"supplier {found.id} qualified")


@parts.command("order")
@click.argument("supplier_id", metavar="SUPPLIER")
@click.option(
    "--line",
    "lines",
    multiple=True,
    required=True,
    help="SKU:QUANTITY@UNIT_PRICE, such as SEAL-9:20@12.50 (repeatable).",
)
@click.option(
    "--promised",
    required=True,
    type=click.DateTime(["%Y-%m-%d"]),
    help="The delivery date the supplier promised.",
)
@click.option("--terms", "payment_terms", required=True, help='Payment terms: "30 days net".')
@click.option("--currency", default=None, help="The prices' currency (default: the policy's).")
@BY_OPTION
@AT_OPTION
@JSON_OPTION
def parts_order(supplier_id: str, lines: Sequence[str], promised: datetime, payment_terms: str,
                currency: str | None, by: str, at: str | None,
                as_json: bool) -> None:  # fmt: skip
    """Order parts from a qualified supplier, at agreed prices, terms and delivery date."""
    with open_desk() as desk:
        po = desk.parts.order(supplier_id, priced_lines(lines), promised=promised.date(),
                              payment_terms=payment_terms, currency=currency, by=by,
                              at=action_time(desk, at))  # fmt: skip
        done(as_json, po, f"order {po.id} to {supplier_id}: {po.total} {po.currency}, "
                          f"promised {po.promised}")  # fmt: skip


@parts.command("orders")
@click.option("--open", "open_only", is_flag=True, help="Only orders still due.")
@FORMAT
def parts_orders(open_only: bool, fmt: str) -> None:
    """Purchase orders: supplier, total, terms, the promised date, late deliveries."""
    with open_desk() as desk:
        rows = [
            (o.id, o.supplier, o.ordered_at.astimezone(desk.policy.tz).strftime("%Y-%m-%d"),
             o.total, o.currency, o.payment_terms, o.promised, "yes" if o.open else "no",
             o.late_deliveries)
            for o in desk.parts.orders(open_only=open_only)
        ]  # fmt: skip
        columns = ("order", "supplier", "ordered", "total", "currency", "terms", "promised",
                   "open", "late_deliveries")  # fmt: skip
        emit("purchase orders", columns, rows, fmt)


@parts.command("supplier")
@click.argument("supplier_id", metavar="SUPPLIER")
@FORMAT
def parts_supplier(supplier_id: str, fmt: str) -> None:
    """A supplier's record: deliveries, late rate, rejected-at-inspection rate, reviews."""
    with open_desk() as desk:
        emit(f"supplier {supplier_id}", *_supplier_rows([desk.parts.supplier_record(supplier_id)]),
             fmt)  # fmt: skip


@parts.command("suppliers")
@click.option(
    "--to-review",
    is_flag=True,
    help="Only qualified suppliers the policy's review suppliers when flags.",
)
@FORMAT
def parts_suppliers(to_review: bool, fmt: str) -> None:
    """Suppliers with their records."""
    with open_desk() as desk:
        every = desk.parts.suppliers
        found = (desk.parts.suppliers_to_review() if to_review
                 else [desk.parts.supplier_record(s.id) for s in every()])  # fmt: skip
        emit("suppliers", *_supplier_rows(found), fmt)


def _supplier_rows(records: Sequence[Any]) -> tuple[tuple[str, ...], list[tuple[Any, ...]]]:
    columns = ("supplier", "qualified", "orders", "deliveries", "late", "late_rate", "delivered",
               "rejected", "rejected_rate", "review_due", "reviews")  # fmt: skip
    rows = [(r.supplier, "yes" if r.qualified else "no", r.orders, r.deliveries, r.late,
             f"{r.late_rate}%", r.delivered, r.rejected, f"{r.rejected_rate}%",
             f"yes ({r.rule})" if r.review_due else "no", len(r.reviews))
            for r in records]  # fmt: skip
    return columns, rows


@parts.command("review-supplier")
@click.argument("supplier_id", metavar="SUPPLIER")
@click.option("--decision", required=True, type=click.Choice(["keep", "disqualify"]))
@click.option("--reason", required=True)
@BY_OPTION
@AT_OPTION
@JSON_OPTION
def parts_review_supplier(supplier_id: str, decision: str, reason: str, by: str,
                          at: str | None, as_json: bool) -> None:  # fmt: skip
    """Review a supplier's qualification on its record (a manager): keep or disqualify."""
    with open_desk() as desk:
        record = desk.parts.review_supplier(supplier_id, decision=decision, reason=reason,
                                            by=by, at=action_time(desk, at))  # fmt: skip
        state = "qualified" if record.qualified else "not qualified"
        rates = f"late {record.late_rate}%, rejected {record.rejected_rate}%"
        done(as_json, record, f"supplier {supplier_id} reviewed: {decision}, {state} ({rates})")


@parts.command("receive")
@click.argument("sku")
@click.argument("quantity", type=int)
@click.option("--location", required=True)
@click.option("--supplier", required=True)
@click.option("--check", "checks", multiple=True,
              help="An incoming inspection result, NAME=yes|no (repeatable), one for each "
                   "check the policy's inspect incoming names.")  # fmt: skip
@click.option("--accepted", type=int, default=None, help="How many were kept, when fewer.")
@click.option("--reason", default=None, help="Why fewer were kept.")
@click.option("--po", default=None, help="The purchase order it delivers.")
@BY_OPTION
@AT_OPTION
@JSON_OPTION
def parts_receive(sku: str, quantity: int, location: str, supplier: str, checks: Sequence[str],
                  accepted: int | None, reason: str | None, po: str | None, by: str,
                  at: str | None, as_json: bool) -> None:  # fmt: skip
    """Take in a delivery after its incoming inspection."""
    inspection = yes_no(pairs(checks, "--check", "quality=yes"), "--check")
    with open_desk() as desk:
        part = desk.parts.receive(sku, quantity, location=location, supplier=supplier,
                                  inspection=inspection, accepted=accepted, reason=reason, po=po,
                                  by=by, at=action_time(desk, at))  # fmt: skip
        done(as_json, part, f"{sku}: {part.on_hand.get(location, 0)} on hand at {location}")


@parts.command("request")
@click.argument("case_ref", metavar="CASE")
@LINES
@BY_OPTION
@AT_OPTION
@JSON_OPTION
def parts_request(case_ref: str, lines: Sequence[str], by: str, at: str | None,
                  as_json: bool) -> None:  # fmt: skip
    """Ask for parts for a case (its engineer)."""
    with open_desk() as desk:
        req = desk.parts.request(find_case(desk, case_ref), part_lines(lines), by=by,
                                 at=action_time(desk, at))  # fmt: skip
        waiting = f", waiting for {req.waiting_for}" if req.waiting_for else ""
        done(as_json, req, f"requisition {req.id}: {req.status}{waiting}")


@parts.command("approve")
@click.argument("requisition_id", metavar="REQUISITION")
@BY_OPTION
@AT_OPTION
@JSON_OPTION
def parts_approve(requisition_id: str, by: str, at: str | None, as_json: bool) -> None:
    """Approve a requisition's next step."""
    with open_desk() as desk:
        req = desk.parts.approve(requisition_id, by=by, at=action_time(desk, at))
        waiting = f", waiting for {req.waiting_for}" if req.waiting_for else ""
        done(as_json, req, f"requisition {req.id}: {req.status}{waiting}")


@parts.command("reject")
@click.argument("requisition_id", metavar="REQUISITION")
@click.option("--reason", required=True)
@BY_OPTION
@AT_OPTION
@JSON_OPTION
def parts_reject(requisition_id: str, reason: str, by: str, at: str | None,
                 as_json: bool) -> None:  # fmt: skip
    """Refuse a requisition."""
    with open_desk() as desk:
        req = desk.parts.reject(requisition_id, by=by, reason=reason, at=action_time(desk, at))
        done(as_json, req, f"requisition {req.id}: {req.status}")


@parts.command("issue")
@click.argument("requisition_id", metavar="REQUISITION")
@click.option("--from", "from_location", required=True, help="The location it leaves.")
@click.option("--to", "to_location", default=None, help="Default: the engineer's van.")
@BY_OPTION
@AT_OPTION
@JSON_OPTION
def parts_issue(requisition_id: str, from_location: str, to_location: str | None, by: str,
                at: str | None, as_json: bool) -> None:  # fmt: skip
    """Issue an approved requisition (a storekeeper)."""
    with open_desk() as desk:
        req = desk.parts.issue(requisition_id, from_location=from_location, by=by,
                               to_location=to_location, at=action_time(desk, at))  # fmt: skip
        done(as_json, req, f"requisition {req.id}: {req.status}")


@parts.command("return")
@click.argument("case_ref", metavar="CASE")
@LINES
@click.option("--to", "to_location", required=True)
@BY_OPTION
@AT_OPTION
@JSON_OPTION
def parts_return(case_ref: str, lines: Sequence[str], to_location: str, by: str,
                 at: str | None, as_json: bool) -> None:  # fmt: skip
    """Return parts a case was issued and did not use."""
    with open_desk() as desk:
        moved = desk.parts.return_parts(find_case(desk, case_ref), part_lines(lines),
                                        to_location=to_location, by=by,
                                        at=action_time(desk, at))  # fmt: skip
        done(as_json, moved, f"returned to {to_location}")


@parts.command("transfer")
@click.argument("sku")
@click.argument("quantity", type=int)
@click.option("--from", "from_location", required=True)
@click.option("--to", "to_location", required=True)
@BY_OPTION
@AT_OPTION
@JSON_OPTION
def parts_transfer(sku: str, quantity: int, from_location: str, to_location: str, by: str,
                   at: str | None, as_json: bool) -> None:  # fmt: skip
    """Move stock between locations."""
    with open_desk() as desk:
        part = desk.parts.transfer(sku, quantity, from_location=from_location,
                                   to_location=to_location, by=by,
                                   at=action_time(desk, at))  # fmt: skip
        done(as_json, part, f"{sku}: {quantity} moved from {from_location} to {to_location}")


@parts.command("scrap")
@click.argument("sku")
@click.argument("quantity", type=int)
@click.option("--location", required=True)
@click.option("--reason", required=True)
@BY_OPTION
@AT_OPTION
@JSON_OPTION
def parts_scrap(sku: str, quantity: int, location: str, reason: str, by: str, at: str | None,
                as_json: bool) -> None:  # fmt: skip
    """Write off damaged or expired stock."""
    with open_desk() as desk:
        part = desk.parts.scrap(sku, quantity, location=location, reason=reason, by=by,
                                at=action_time(desk, at))  # fmt: skip
        done(as_json, part, f"{sku}: {quantity} scrapped at {location}")


@parts.command("count")
@click.argument("location")
@click.option("--item", "items", multiple=True, required=True,
              help="SKU=COUNTED, each part the books hold there (repeatable).")  # fmt: skip
@BY_OPTION
@AT_OPTION
@JSON_OPTION
def parts_count(location: str, items: Sequence[str], by: str, at: str | None,
                as_json: bool) -> None:  # fmt: skip
    """Record a stocktake count sheet against the books."""
    counted = pairs(items, "--item", "SEAL-9=17")
    if not all(v.isdigit() for v in counted.values()):
        raise ValidationError("--item SKU=COUNTED: the count is a whole number, such as SEAL-9=17")
    with open_desk() as desk:
        sheet = desk.parts.count(location, {k: int(v) for k, v in counted.items()}, by=by,
                                 at=action_time(desk, at))  # fmt: skip
        done(as_json, sheet, f"count sheet {sheet.id}: {len(sheet.variances)} variance(s)")


@parts.command("settle")
@click.argument("sheet_id", metavar="SHEET")
@click.option("--reason", required=True)
@click.option("--approved-by", required=True, help="The manager approving the adjustments.")
@BY_OPTION
@AT_OPTION
@JSON_OPTION
def parts_settle(sheet_id: str, reason: str, approved_by: str, by: str, at: str | None,
                 as_json: bool) -> None:  # fmt: skip
    """Adjust the books to a count sheet, one adjustment per variance."""
    with open_desk() as desk:
        sheet = desk.parts.settle(sheet_id, reason=reason, approved_by=approved_by, by=by,
                                  at=action_time(desk, at))  # fmt: skip
        done(as_json, sheet, f"count sheet {sheet.id} settled")


@parts.command("receive-order")
@click.argument("po")
@click.option("--line", "lines", multiple=True, required=True,
              help="SKU:QUANTITY delivered (repeatable); every line is checked first.")  # fmt: skip
@click.option("--location", required=True)
@click.option("--check", "checks", multiple=True,
              help="An incoming inspection result, NAME=yes|no (repeatable).")  # fmt: skip
@click.option(
    "--accepted",
    "kept",
    multiple=True,
    help="SKU:QUANTITY kept of a line whose inspection failed (repeatable).",
)
@click.option("--reason", default=None, help="Why the rest is sent back.")
@BY_OPTION
@AT_OPTION
@JSON_OPTION
def parts_receive_order(po: str, lines: Sequence[str], location: str, checks: Sequence[str],
                        kept: Sequence[str], reason: str | None, by: str, at: str | None,
                        as_json: bool) -> None:  # fmt: skip
    """Take in a whole delivery against its purchase order (with what inspection kept)."""
    inspection = yes_no(pairs(checks, "--check", "quality=yes"), "--check")
    accepted = {line["sku"]: line["quantity"] for line in part_lines(kept, "--accepted")}
    delivery = part_lines(lines)
    unknown = sorted(set(accepted) - {line["sku"] for line in delivery})
    if unknown:
        raise ValidationError(f"--accepted {unknown[0]}: the delivery has no line of it")
    for line in delivery:
        if line["sku"] in accepted:
            line.update(accepted=accepted[line["sku"]], reason=reason)
    with open_desk() as desk:
        received = desk.parts.receive_order(po, delivery, location=location,
                                            inspection=inspection, by=by,
                                            at=action_time(desk, at))  # fmt: skip
        done(as_json, received, f"order {po}: {len(received)} part(s) received at {location}")


@parts.command("adjust")
@click.argument("sku")
@click.argument("quantity", type=int)
@click.option("--location", required=True)
@click.option("--increase/--decrease", required=True, help="Which way the books move.")
@click.option("--reason", required=True)
@click.option("--approved-by", required=True, help="The manager approving (not the actor).")
@BY_OPTION
@AT_OPTION
@JSON_OPTION
def parts_adjust(sku: str, quantity: int, location: str, increase: bool, reason: str,
                 approved_by: str, by: str, at: str | None, as_json: bool) -> None:  # fmt: skip
    """Correct the books to the shelf, with a reason and a manager's approval."""
    with open_desk() as desk:
        part = desk.parts.adjust(sku, quantity, location=location, increase=increase,
                                 reason=reason, by=by, approved_by=approved_by,
                                 at=action_time(desk, at))  # fmt: skip
        done(as_json, part, f"{sku}: {part.on_hand.get(location, 0)} on hand at {location}")
