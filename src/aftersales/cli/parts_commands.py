"""``aftersales parts stock|plan|requisitions|stocktake|movements``."""

from __future__ import annotations

import click

from aftersales.cli.context import open_desk
from aftersales.cli.output import FORMAT, emit


@click.group()
def parts() -> None:
    """Spare parts: stock, purchase plan, requisitions, stocktakes, movements."""


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
        rows = [
            (m.version, m.type, m.at.astimezone(tz).strftime("%Y-%m-%d %H:%M"), m.by,
             m.quantity, m.location, m.to_location, m.case_id, m.reason)
            for m in desk.parts.movements(sku)
        ]  # fmt: skip
        columns = ("#", "type", "at", "by", "quantity", "from", "to", "case", "reason")
        emit(f"movements of {sku}", columns, rows, fmt)
