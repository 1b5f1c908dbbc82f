"""``aftersales contracts``: service contracts (entitlements)."""

from __future__ import annotations

from collections.abc import Sequence

import click

from aftersales.cli.arguments import done
from aftersales.cli.context import AT_OPTION, BY_OPTION, action_time, open_desk
from aftersales.cli.output import FORMAT, JSON_OPTION, emit
from aftersales.core import values
from aftersales.core.installed_base import COVERED_ITEMS


@click.group()
def contracts() -> None:
    """Service contracts: list, add, cancel."""


@contracts.command("list")
@click.option("--customer", default=None, help="Only this customer's (its id).")
@FORMAT
def contracts_list(customer: str | None, fmt: str) -> None:
    """Contracts: customer, level, period, what they cover, machines, response."""
    with open_desk() as desk:
        rows = (
            (c.id, c.customer, c.level, c.starts.isoformat(), c.ends.isoformat(),
             None if c.cancelled is None else c.cancelled.isoformat(), ", ".join(c.covers),
             ", ".join(c.machines) or "all", c.response)
            for c in desk.contracts.list(customer=customer)
        )  # fmt: skip
        columns = ("id", "customer", "level", "starts", "ends", "cancelled", "covers",
                   "machines", "response")  # fmt: skip
        emit("contracts", columns, rows, fmt)


@contracts.command("add")
@click.option("--customer", required=True, help="The customer's id.")
@click.option("--level", required=True, help="basic, premium, ... (what rules read).")
@click.option("--starts", required=True, help="First day covered (2026-01-01).")
@click.option("--ends", required=True, help="Last day covered.")
@click.option(
    "--covers",
    "covers",
    multiple=True,
    type=click.Choice(COVERED_ITEMS),
    help="What it pays for (repeatable; default: all three).",
)
@click.option(
    "--machine",
    "machines",
    multiple=True,
    help="A serial it covers (repeatable; default: all the customer's machines).",
)
@click.option("--response", default=None, help="The response it promises (a name rules read).")
@click.option("--id", "contract_id", default=None, help="Default: SC-000001, ...")
@BY_OPTION
@AT_OPTION
@JSON_OPTION
def contracts_add(customer: str, level: str, starts: str, ends: str, covers: Sequence[str],
                  machines: Sequence[str], response: str | None, contract_id: str | None,
                  by: str, at: str | None, as_json: bool) -> None:  # fmt: skip
    """Record a service contract."""
    with open_desk() as desk:
        contract = desk.contracts.add(
            customer=customer,
            level=level,
            starts=values.day_text(starts, "--starts"),
            ends=values.day_text(ends, "--ends"),
            covers=covers or COVERED_ITEMS,
            machines=machines,
            response=response,
            id=contract_id,
            by=by,
            at=action_time(desk, at),
        )
        done(as_json, contract, f"contract {contract.id} recorded for {contract.customer}")


@contracts.command("cancel")
@click.argument("contract_id", metavar="ID")
@click.option("--on", "on", required=True, help="The first day it no longer covers.")
@click.option("--reason", required=True)
@BY_OPTION
@AT_OPTION
@JSON_OPTION
def contracts_cancel(contract_id: str, on: str, reason: str, by: str, at: str | None,
                     as_json: bool) -> None:  # fmt: skip
    """End a contract early (a manager)."""
    with open_desk() as desk:
        contract = desk.contracts.cancel(
            contract_id,
            on=values.day_text(on, "--on"),
            reason=reason,
            by=by,
            at=action_time(desk, at),
        )
        done(as_json, contract, f"contract {contract.id} cancelled from {contract.cancelled}")
