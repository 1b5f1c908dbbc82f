"""``aftersales machines``: the installed base: machines, meter readings, their history, and
importing an existing base from CSV."""

from __future__ import annotations

from datetime import date

import click

from aftersales.cli.arguments import done
from aftersales.cli.context import AT_OPTION, BY_OPTION, action_time, local_time, open_desk
from aftersales.cli.output import FORMAT, JSON_OPTION, emit, print_json
from aftersales.core import values
from aftersales.services.machines import IMPORT_COLUMNS


@click.group()
def machines() -> None:
    """The installed base: list, show, history, add, update, reading, import."""


@machines.command("list")
@click.option("--customer", default=None, help="Only this customer's (its id).")
@FORMAT
def machines_list(customer: str | None, fmt: str) -> None:
    """Machines: model, line, owner, site, commissioning, latest reading, warranty."""
    with open_desk() as desk:
        today = desk.now().date()
        rows = (
            (m.serial, m.model, m.line, m.customer, m.site,
             None if m.commissioned is None else m.commissioned.isoformat(),
             None if m.hours is None else f"{m.hours:g}",
             "yes" if desk.machines.under_warranty(m, today) else "no")
            for m in desk.machines.list(customer=customer)
        )  # fmt: skip
        columns = ("serial", "model", "line", "customer", "site", "commissioned", "hours",
                   "warranty")  # fmt: skip
        emit("machines", columns, rows, fmt)


@machines.command("show")
@click.argument("serial")
@JSON_OPTION
def machines_show(serial: str, as_json: bool) -> None:
    """One machine: its record, its sales warranty now, and the contract covering it."""
    with open_desk() as desk:
        m = desk.machines.get(serial)
        if as_json:
            print_json(m)
            return
        today = desk.now().date()
        warranty = desk.machines.under_warranty(m, today)
        contract = desk.contracts.covering(m.customer, m.serial, today)
        reading = "-"
        if m.reading is not None:
            when = m.reading.at.strftime("%Y-%m-%d %H:%M")
            reading = f"{m.reading.hours:g} h at {when} ({m.readings} readings)"
        for label, value in (
            ("serial", m.serial), ("model", m.model), ("line", m.line),
            ("customer", m.customer), ("site", m.site),
            ("commissioned", m.commissioned and m.commissioned.isoformat()),
            ("meter", reading), ("warranty", warranty or "none now"),
            ("contract", "-" if contract is None else f"{contract.id} ({contract.level}) "
                                                       f"until {contract.ends}"),
        ):  # fmt: skip
            click.echo(f"{label:>13}  {value or '-'}")


@machines.command("history")
@click.argument("serial")
@FORMAT
def machines_history(serial: str, fmt: str) -> None:
    """A machine's life in order: commissioning, cases, repairs, reworks, readings; and the
    parts its repairs fitted."""
    with open_desk() as desk:
        history = desk.machines.history(serial)
        rows = ((e.at.strftime("%Y-%m-%d %H:%M"), e.what, e.case, e.text)
                for e in history.entries)  # fmt: skip
        emit(f"history of {serial}", ("at", "what", "case", "text"), rows, fmt)
        if history.parts and fmt == "table":
            parts = ((p.at.strftime("%Y-%m-%d"), p.case, p.sku, p.quantity,
                      ", ".join(p.serials) or None) for p in history.parts)  # fmt: skip
            emit("parts fitted", ("at", "case", "sku", "quantity", "serials"), parts, fmt)


def _day(text: str | None, option: str) -> date | None:
    return None if text is None else values.day_text(text, option)


@machines.command("add")
@click.argument("serial")
@click.option("--model", default=None)
@click.option("--line", default=None, help="Product line (what the policy's rules name).")
@click.option("--customer", default=None, help="The owner's customer id.")
@click.option("--site", default=None, help="One of the owner's sites.")
@click.option("--commissioned", default=None, help="Commissioning date (2024-05-31).")
@click.option(
    "--warranty-months",
    type=int,
    default=None,
    help="Its own sales warranty (default: the policy's for its line).",
)
@click.option("--warranty-hours", type=float, default=None)
@click.option("--hours", type=float, default=None, help="A first meter reading.")
@BY_OPTION
@AT_OPTION
@JSON_OPTION
def machines_add(serial: str, model: str | None, line: str | None, customer: str | None,
                 site: str | None, commissioned: str | None, warranty_months: int | None,
                 warranty_hours: float | None, hours: float | None, by: str, at: str | None,
                 as_json: bool) -> None:  # fmt: skip
    """Add a machine to the installed base."""
    with open_desk() as desk:
        machine = desk.machines.add(serial=serial, model=model, line=line, customer=customer,
                                    site=site, commissioned=_day(commissioned, "--commissioned"),
                                    warranty_months=warranty_months,
                                    warranty_hours=warranty_hours, hours=hours, by=by,
                                    at=action_time(desk, at))  # fmt: skip
        done(as_json, machine, f"machine {machine.serial} added")


@machines.command("update")
@click.argument("serial")
@click.option("--reason", required=True)
@click.option("--model", default=None)
@click.option("--line", default=None)
@click.option("--customer", default=None, help="A new owner (its site is cleared).")
@click.option("--site", default=None)
@click.option("--commissioned", default=None)
@click.option("--warranty-months", type=int, default=None)
@click.option("--warranty-hours", type=float, default=None)
@BY_OPTION
@AT_OPTION
@JSON_OPTION
def machines_update(serial: str, reason: str, model: str | None, line: str | None,
                    customer: str | None, site: str | None, commissioned: str | None,
                    warranty_months: int | None, warranty_hours: float | None, by: str,
                    at: str | None, as_json: bool) -> None:  # fmt: skip
    """Correct or change a machine's record (the options given)."""
    given = {"model": model, "line": line, "customer": customer, "site": site,
             "commissioned": _day(commissioned, "--commissioned"),
             "warranty_months": warranty_months, "warranty_hours": warranty_hours}  # fmt: skip
    changes = {k: v for k, v in given.items() if v is not None}
    with open_desk() as desk:
        machine = desk.machines.update(serial, reason=reason, by=by, at=action_time(desk, at),
                                       **changes)  # fmt: skip
        done(as_json, machine, f"machine {machine.serial} updated")


@machines.command("reading")
@click.argument("serial")
@click.argument("hours", type=float)
@BY_OPTION
@click.option("--at", "at", default=None, help="When the meter was read (ISO time). Default: now.")
@JSON_OPTION
def machines_reading(serial: str, hours: float, by: str, at: str | None, as_json: bool) -> None:
    """Record an operating-hour meter reading."""
    with open_desk() as desk:
        machine = desk.machines.reading(serial, hours, by=by, at=local_time(desk, at))
        done(as_json, machine, f"machine {machine.serial}: {hours:g} h")


@machines.command("import")
@click.argument("path", type=click.Path(dir_okay=False))
@BY_OPTION
@AT_OPTION
@JSON_OPTION
def machines_import(path: str, by: str, at: str | None, as_json: bool) -> None:
    """Import an installed base from CSV. Columns: serial (required), model, line, customer,
    customer_key, tier, region, site, commissioned, warranty_months, warranty_hours, hours.
    A row with a mistake is left out and listed with its line; the others are written."""
    with open_desk() as desk:
        result = desk.machines.import_csv(path, by=by, at=action_time(desk, at))
        if as_json:
            print_json(result)
            return
        click.echo(
            f"{result.added} machines added, {result.updated} updated, "
            f"{result.customers} customers created, {len(result.rejected)} rows left out"
        )
        for row in result.rejected:
            click.echo(f"  line {row.line} ({row.serial or 'no serial'}): {row.reason}")


__all__ = ["IMPORT_COLUMNS", "machines"]
