"""``aftersales expenses``: list, show and the cost report to read; draft, submit, approve,
reject and pay to act."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import click

from aftersales.cli.arguments import done, pairs
from aftersales.cli.context import AT_OPTION, BY_OPTION, action_time, find_case, open_desk
from aftersales.cli.output import FORMAT, JSON_OPTION, emit
from aftersales.core.expenses import REPORT_GROUPS


@click.group()
def expenses() -> None:
    """Expense claims: list, show, the cost report; draft, submit, approve, reject, pay."""


@expenses.command("list")
@click.option("--status", default=None, help="draft, submitted, approved, paid or rejected")
@FORMAT
def expenses_list(status: str | None, fmt: str) -> None:
    """Claims, oldest first."""
    with open_desk() as desk:
        rows = [
            (c.id, c.staff_id, c.status, c.total, c.reimbursed, len(c.lines),
             c.waiting_for or "-", len(c.findings))
            for c in desk.expenses.claims(status=status)
        ]  # fmt: skip
        columns = ("claim", "staff", "status", "claimed", "reimbursed", "lines", "waiting_for",
                   "findings")  # fmt: skip
        emit("expense claims", columns, rows, fmt)


@expenses.command("show")
@click.argument("claim_id")
@FORMAT
def expenses_show(claim_id: str, fmt: str) -> None:
    """A claim's lines and what the checks found."""
    with open_desk() as desk:
        claim = desk.expenses.get(claim_id)
        found = {f.line: f"{f.message} [{f.action}: {f.rule}]" for f in claim.findings}
        paid_back = claim.reimbursed_lines()
        rows: list[tuple[object, ...]] = [
            (n, line.category, line.date, line.amount, line.currency, line.local,
             paid_back[n - 1], line.invoice, found.get(n, ""))
            for n, line in enumerate(claim.lines, start=1)
        ]  # fmt: skip
        rows += [("-", f.category, "", "", "", "", "", "", f"{f.message} [{f.action}: {f.rule}]")
                 for f in claim.findings if f.line is None]  # fmt: skip
        columns = ("#", "category", "date", "amount", "currency", "local", "reimbursed",
                   "invoice", "finding")  # fmt: skip
        emit(f"claim {claim.id} ({claim.status})", columns, rows, fmt)


@expenses.command("report")
@click.option("--since", required=True, type=click.DateTime(["%Y-%m-%d"]))
@click.option("--until", required=True, type=click.DateTime(["%Y-%m-%d"]))
@click.option("--by", "group_by", type=click.Choice(REPORT_GROUPS),
              default="staff")  # fmt: skip
@FORMAT
def expenses_report(since: datetime, until: datetime, group_by: str, fmt: str) -> None:
    """Approved and paid expenses of a period: claimed, reimbursed and capped, cost per case
    (reimbursed), lines over limits."""
    with open_desk() as desk:
        rows = [
            (r["group"], r["claimed"], r["total"], r["capped"], r["lines"], r["claims"],
             r["cases"], r["per_case"], r["over_limit"])
            for r in desk.expenses.report(since.date(), until.date(), by=group_by)
        ]  # fmt: skip
        columns = ("group", "claimed", "reimbursed", "capped", "lines", "claims", "cases",
                   "per_case", "over_limit")  # fmt: skip
        emit(f"expenses by {group_by}", columns, rows, fmt)


# -- actions: draft, submit, approve, reject, pay -------------------------------------------


def _claim_lines(values: Sequence[str]) -> list[dict[str, Any]]:
    """``--line category=lodging,amount=900,date=2026-11-24,nights=2,invoice=HZ-17`` options
    as the SDK's lines."""
    lines = []
    for value in values:
        line: dict[str, Any] = dict(pairs(value.split(","), "--line",
                                          "category=meals,amount=85,date=2026-11-27"))  # fmt: skip
        for count in ("nights", "days"):
            if str(line.get(count, "")).isdigit():
                line[count] = int(line[count])
        lines.append(line)
    return lines


def _claim(as_json: bool, claim: Any) -> None:
    waiting = f", waiting for {claim.waiting_for}" if claim.waiting_for else ""
    paid = f" ({claim.reimbursed} reimbursed)" if claim.capped else ""
    done(as_json, claim, f"claim {claim.id}: {claim.status}, {claim.total}{paid}{waiting}")


@expenses.command("draft")
@click.option("--line", "lines", multiple=True, required=True,
              help="One expense: category=...,amount=...,date=YYYY-MM-DD and, as needed, "
                   "currency=, rate=, nights=, days=, invoice=, attachment= "
                   "(repeatable).")  # fmt: skip
@click.option("--case", "cases", multiple=True, help="A case the trip was for (repeatable).")
@BY_OPTION
@AT_OPTION
@JSON_OPTION
def expenses_draft(lines: Sequence[str], cases: Sequence[str], by: str, at: str | None,
                   as_json: bool) -> None:  # fmt: skip
    """Write a claim (a draft: submit sends it to its approvers)."""
    with open_desk() as desk:
        linked = [find_case(desk, ref) for ref in cases]
        claim = desk.expenses.draft(_claim_lines(lines), by=by, cases=linked,
                                    at=action_time(desk, at))  # fmt: skip
        _claim(as_json, claim)


def _step(name: str, help_text: str, reason: bool = False) -> None:
    """``aftersales expenses NAME CLAIM --by [--reason]``: one step of a claim's approval."""

    @click.argument("claim_id", metavar="CLAIM")
    @BY_OPTION
    @AT_OPTION
    @JSON_OPTION
    def command(claim_id: str, by: str, at: str | None, as_json: bool, **more: Any) -> None:
        with open_desk() as desk:
            act = getattr(desk.expenses, name)
            _claim(as_json, act(claim_id, by=by, at=action_time(desk, at), **more))

    if reason:
        command = click.option("--reason", required=True)(command)
    expenses.command(name, help=help_text)(command)


_step("submit", "Send a draft claim to its first approver (its findings are checked).")
_step("approve", "Approve a claim's next step (the roles of the policy's chain, in order).")
_step("reject", "Send a claim back to its owner, with the reason.", reason=True)
_step("pay", "Record the payment of an approved claim (finance).")


@expenses.command("edit")
@click.argument("claim_id", metavar="CLAIM")
@click.option("--line", "lines", multiple=True, required=True,
              help="The claim's lines anew, as for draft (repeatable).")  # fmt: skip
@click.option("--case", "cases", multiple=True, help="A case the trip was for (repeatable).")
@BY_OPTION
@AT_OPTION
@JSON_OPTION
def expenses_edit(claim_id: str, lines: Sequence[str], cases: Sequence[str], by: str,
                  at: str | None, as_json: bool) -> None:  # fmt: skip
    """Rewrite a draft or rejected claim's lines (its owner), to submit again."""
    with open_desk() as desk:
        linked = [find_case(desk, ref) for ref in cases] if cases else None
        claim = desk.expenses.edit(claim_id, _claim_lines(lines), by=by, cases=linked,
                                   at=action_time(desk, at))  # fmt: skip
        _claim(as_json, claim)
