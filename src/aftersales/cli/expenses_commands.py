"""``aftersales expenses list|show|report``."""

from __future__ import annotations

from datetime import datetime

import click

from aftersales.cli.context import open_desk
from aftersales.cli.output import FORMAT, emit
from aftersales.core.expenses import REPORT_GROUPS


@click.group()
def expenses() -> None:
    """Expense claims: list, show, and the cost report."""


@expenses.command("list")
@click.option("--status", default=None, help="draft, submitted, approved, paid or rejected")
@FORMAT
def expenses_list(status: str | None, fmt: str) -> None:
    """Claims, oldest first."""
    with open_desk() as desk:
        rows = [
            (c.id, c.staff_id, c.status, c.total, len(c.lines), c.waiting_for or "-",
             len(c.findings))
            for c in desk.expenses.claims(status=status)
        ]  # fmt: skip
        columns = ("claim", "staff", "status", "total", "lines", "waiting_for", "findings")
        emit("expense claims", columns, rows, fmt)


@expenses.command("show")
@click.argument("claim_id")
@FORMAT
def expenses_show(claim_id: str, fmt: str) -> None:
    """A claim's lines and what the checks found."""
    with open_desk() as desk:
        claim = desk.expenses.get(claim_id)
        found = {f.line: f.message for f in claim.findings}
        rows = [
            (n, line.category, line.date, line.amount, line.currency, line.local, line.invoice,
             found.get(n, ""))
            for n, line in enumerate(claim.lines, start=1)
        ]  # fmt: skip
        columns = ("#", "category", "date", "amount", "currency", "local", "invoice", "finding")
        emit(f"claim {claim.id} ({claim.status})", columns, rows, fmt)


@expenses.command("report")
@click.option("--since", required=True, type=click.DateTime(["%Y-%m-%d"]))
@click.option("--until", required=True, type=click.DateTime(["%Y-%m-%d"]))
@click.option("--by", "group_by", type=click.Choice(REPORT_GROUPS),
              default="staff")  # fmt: skip
@FORMAT
def expenses_report(since: datetime, until: datetime, group_by: str, fmt: str) -> None:
    """Approved and paid expenses of a period: totals, cost per case, lines over limits."""
    with open_desk() as desk:
        rows = [
            (r["group"], r["total"], r["lines"], r["claims"], r["cases"], r["per_case"],
             r["over_limit"])
            for r in desk.expenses.report(since.date(), until.date(), by=group_by)
        ]  # fmt: skip
        columns = ("group", "total", "lines", "claims", "cases", "per_case", "over_limit")
        emit(f"expenses by {group_by}", columns, rows, fmt)
